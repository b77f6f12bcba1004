"""CUDA conv2d and pooling, forward + backward through the Tensor API (F.conv2d / F.max_pool2d /
F.avg_pool2d, then .backward(g)), float32, on the CNN's layers and a ResNet-style 3x3 64->64
layer: fastnn on the GPU against fastnn on the CPU and against torch on the same GPU (when torch
has CUDA; cuDNN, TF32 off). The GPU results are checked against the CPU's before timing; GPU
times are medians of CUDA-event (or synchronize + clock) timings, CPU times medians of a few runs.
Returns [] (with a note on stderr) where there is no GPU."""

import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))

import fastnn
import fastnn.nn.functional as F
from _harness import Table, check_close, timeit
from bench_cuda import _time, _torch_cuda
from fastnn import cuda

# (N, C_in, H, W), C_out, kernel, padding: the two conv layers of the Fashion-MNIST CNN and a
# ResNet-style layer (batch 64; 8 under --quick).
CONVS = [
    ((256, 1, 28, 28), 32, 3, 1),
    ((256, 32, 14, 14), 64, 3, 1),
    ((64, 64, 56, 56), 64, 3, 1),
]
# (N, C, H, W), op, kernel, stride, padding: the CNN's 2x2 pools, and a 3x3 stride-2 max pool.
POOLS = [
    ((256, 32, 28, 28), "max", 2, 2, 0),
    ((256, 64, 14, 14), "max", 2, 2, 0),
    ((256, 32, 28, 28), "avg", 2, 2, 0),
    ((64, 64, 112, 112), "max", 3, 2, 1),
]


def _conv_case(shape, cout, k, p, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    w = (rng.standard_normal((cout, shape[1], k, k)) * 0.1).astype(np.float32)
    b = rng.standard_normal(cout).astype(np.float32)
    g = rng.standard_normal((shape[0], cout, shape[2], shape[3])).astype(np.float32)

    def make(device):
        leaves = [fastnn.tensor(a, device=device, requires_grad=True) for a in (x, w, b)]
        grad = fastnn.tensor(g, device=device)

        def step():
            for t in leaves:
                t.grad = None
            out = F.conv2d(*leaves, padding=p)
            out.backward(grad)
            return out, leaves

        return step

    return make, (x, w, b, g)


def _pool_case(shape, op, k, s, p, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    fn = F.max_pool2d if op == "max" else F.avg_pool2d

    def make(device):
        leaf = fastnn.tensor(x, device=device, requires_grad=True)
        probe = fn(leaf.detach(), k, s, p)
        grad = fastnn.tensor(np.ones(probe.shape, np.float32), device=device)

        def step():
            leaf.grad = None
            out = fn(leaf, k, s, p)
            out.backward(grad)
            return out, [leaf]

        return step

    return make


def _torch_conv(torch, data, p):
    x, w, b, g = (torch.from_numpy(a).cuda() for a in data)
    for t in (x, w, b):
        t.requires_grad_(True)

    def step():
        for t in (x, w, b):
            t.grad = None
        torch.nn.functional.conv2d(x, w, b, padding=p).backward(g)

    return step


def _torch_pool(torch, shape, op, k, s, p, rng):
    x = torch.from_numpy(rng.standard_normal(shape).astype(np.float32)).cuda().requires_grad_(True)
    fn = torch.nn.functional.max_pool2d if op == "max" else torch.nn.functional.avg_pool2d

    def step():
        x.grad = None
        out = fn(x, k, s, p)
        out.backward(torch.ones_like(out))

    return step


def _check(name, gpu_step, cpu_step):
    out_g, leaves_g = gpu_step()
    out_c, leaves_c = cpu_step()
    check_close(name, out_g.cpu().numpy(), out_c.numpy(), rtol=1e-3, atol=1e-3)
    for tg, tc in zip(leaves_g, leaves_c):
        check_close(name + " grad", tg.grad.cpu().numpy(), tc.grad.numpy(), rtol=1e-3, atol=1e-2)


def run(quick: bool):
    if not cuda.is_available():
        why = "fastnn built without CUDA" if not cuda.is_built() else "no CUDA GPU on this machine"
        print(f"bench_cuda_conv: skipped ({why})", file=sys.stderr)
        return []
    torch = _torch_cuda()
    if torch is not None:
        torch.backends.cudnn.allow_tf32 = False
    rng = np.random.default_rng(0)
    repeats = 10 if quick else 30
    table = Table(
        "CUDA conv2d and pooling, forward + backward, float32 (Tensor API)",
        ["layer", "GPU ms", "CPU ms", "CPU / GPU", "torch GPU ms", "torch / fastnn"],
        note="GPU: fastnn's CUDA kernels; CPU: fastnn's CPU kernels (all threads); torch: the "
        "same step on the same GPU (cuDNN, TF32 off).",
        readme={"what": "CUDA conv2d / pooling fwd+bwd", "torch": "torch / fastnn"},
    )
    cases = []
    for shape, cout, k, p in CONVS:
        if quick and shape[2] > 28:
            shape = (8, *shape[1:])
        make, data = _conv_case(shape, cout, k, p, rng)
        label = f"conv {shape} -> {cout}, {k}x{k} pad {p}"
        cases.append((label, make, (lambda d=data, p=p: _torch_conv(torch, d, p))))
    for shape, op, k, s, p in POOLS:
        if quick and shape[2] > 28:
            shape = (8, *shape[1:])
        make = _pool_case(shape, op, k, s, p, rng)
        label = f"{op}_pool {shape}, {k}x{k} stride {s} pad {p}"
        cases.append((label, make, (lambda a=(shape, op, k, s, p): _torch_pool(torch, *a, rng))))
    for label, make, torch_make in cases:
        gpu_step, cpu_step = make("cuda"), make("cpu")
        _check(label, gpu_step, cpu_step)
        gpu_ms, _ = _time(gpu_step, repeats, torch)
        cpu_s, _ = timeit(cpu_step, repeats=3 if quick else 5, warmup=1)
        cpu_ms = 1e3 * cpu_s
        row = {"layer": label, "GPU ms": gpu_ms, "CPU ms": cpu_ms, "CPU / GPU": cpu_ms / gpu_ms}
        if torch is not None:
            torch_ms, _ = _time(torch_make(), repeats, torch)
            row.update({"torch GPU ms": torch_ms, "torch / fastnn": torch_ms / gpu_ms})
        table.add(**row)
    return [table]


if __name__ == "__main__":
    for t in run(quick="--quick" in sys.argv):
        print(t.markdown())
