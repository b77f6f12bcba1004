"""CUDA memory-bound kernels against the device's copy bandwidth, measured in the same run: relu
on 1G float32 elements, add with a broadcast operand, and Adam over 100M parameters in 1 and 400
tensors, each as GB/s and as a fraction of a device-to-device copy of the same bytes, and against
torch on the same GPU when torch has CUDA. Results are checked before timing; medians of >= 20
repeats timed with CUDA events (torch's) or synchronize + clock.

python bench/bench_cuda_memory.py [--quick]   (or: python bench/run.py cuda_memory)
Returns [] (with a note on stderr) where there is no GPU."""

import functools
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))

from _harness import Table, check_close
from bench_cuda import _time, _torch_cuda
from fastnn import cuda

SEED = 1234


def _copy_gbps(n_bytes, repeats, torch):
    """Device-to-device copy bandwidth (bytes read + written per second) over n_bytes."""
    n = n_bytes // 4
    src, dst = cuda.empty((n,)), cuda.empty((n,))
    src.fill_(1.0)
    ms, _ = _time(functools.partial(dst.copy_, src), repeats, torch)
    return 2 * n * 4 / ms / 1e6


def _fraction_row(label, nbytes, ms, copy, tms=None):
    row = {"kernel": label, "ms": ms, "GB/s": nbytes / ms / 1e6}
    row["of copy"] = row["GB/s"] / copy
    if tms is not None:
        row.update({"torch ms": tms, "fastnn / torch": tms / ms})
    return row


def _relu(n, copy, repeats, torch, ck):
    mod = cuda._require()
    x = cuda.empty((n,))
    mod.uniform_(x, -1.0, 1.0, SEED, 0)
    y = cuda.empty((n,))
    ck.relu(x, out=y)
    head = x.narrow0(0, 4097).numpy()
    check_close("relu", y.narrow0(0, 4097).numpy(), np.maximum(head, 0), rtol=0, atol=0)
    ms, _ = _time(lambda: ck.relu(x, out=y), repeats, torch)
    tms = None
    if torch is not None:
        tx, ty = torch.from_dlpack(x), torch.from_dlpack(y)
        tms, _ = _time(lambda: torch.clamp_min(tx, 0, out=ty), repeats, torch)
    return _fraction_row(f"relu, {n / 2**30:.2f}G elements", 8 * n, ms, copy, tms)


def _add_broadcast(n, bshape, copy, repeats, torch):
    mod = cuda._require()
    cols = 1024
    a = cuda.empty((n // cols, cols))
    b = cuda.empty(bshape)
    mod.uniform_(a, -1.0, 1.0, SEED, 0)
    mod.uniform_(b, -1.0, 1.0, SEED + 1, 0)
    out = cuda.empty((n // cols, cols))
    mod.binary("add", a, b, out=out)
    ha, hb = a.narrow0(0, 5).numpy(), b.numpy()
    want = ha + (hb if len(bshape) == 1 else hb[:5])
    check_close("add", out.narrow0(0, 5).numpy(), want, rtol=0, atol=0)
    ms, _ = _time(functools.partial(mod.binary, "add", a, b, out=out), repeats, torch)
    tms = None
    if torch is not None:
        ta, tb, to = torch.from_dlpack(a), torch.from_dlpack(b), torch.from_dlpack(out)
        tms, _ = _time(functools.partial(torch.add, ta, tb, out=to), repeats, torch)
    label = "(N, C) + (C,)" if len(bshape) == 1 else "(N, C) + (N, 1)"
    return _fraction_row(f"add {label}, C={cols}", 8 * n, ms, copy, tms)


def _adam(n_total, n_tensors, copy, repeats, torch, ck):
    rng = np.random.default_rng(SEED)
    # mixed sizes around n_total / n_tensors, summing to n_total
    weights = rng.uniform(0.5, 1.5, n_tensors)
    sizes = np.maximum((weights / weights.sum() * n_total).astype(np.int64), 1)
    sizes[-1] += n_total - sizes.sum()
    params = [cuda.empty((int(s),)).fill_(1.0) for s in sizes]
    grads = [cuda.empty((int(s),)).fill_(0.01) for s in sizes]
    m = [cuda.zeros((int(s),)) for s in sizes]
    v = [cuda.zeros((int(s),)) for s in sizes]
    ck.adam_step(params, grads, m, v, lr=1e-3, step=1)
    check_close("adam", params[0].numpy()[:10], np.full(10, 1.0 - 1e-3), rtol=1e-5, atol=1e-6)
    step = functools.partial(ck.adam_step, params, grads, m, v, lr=1e-3, step=2)
    ms, _ = _time(step, repeats, torch)
    tms = None
    if torch is not None:
        tp = [torch.from_dlpack(p).clone().requires_grad_(True) for p in params]
        for p, g in zip(tp, grads):
            p.grad = torch.from_dlpack(g).clone()
        opt = torch.optim.Adam(tp, lr=1e-3, fused=True)
        tms, _ = _time(opt.step, repeats, torch)
    label = f"Adam, {n_total / 1e6:.0f}M params in {n_tensors} tensor{'s' * (n_tensors > 1)}"
    return _fraction_row(label, 7 * 4 * n_total, ms, copy, tms)


def run(quick: bool):
    if not cuda.is_available():
        why = "fastnn built without CUDA" if not cuda.is_built() else "no CUDA GPU on this machine"
        print(f"bench_cuda_memory: skipped ({why})", file=sys.stderr)
        return []
    from fastnn.cuda import kernels as ck

    torch = _torch_cuda()
    repeats = 20 if quick else 30
    n_relu = (1 << 26) if quick else (1 << 30)
    n_add = (1 << 26) if quick else (1 << 28)
    n_adam = 10_000_000 if quick else 100_000_000
    copy = _copy_gbps(1 << 30, repeats, torch)  # 1 GiB: far beyond any L2
    table = Table(
        "CUDA memory-bound kernels vs the device copy bandwidth, float32",
        ["kernel", "ms", "GB/s", "of copy", "torch ms", "fastnn / torch"],
        note=f"copy: a device-to-device copy of 1 GiB measured in this run, {copy:.0f} GB/s "
        "(bytes read + written); GB/s counts each kernel's compulsory traffic: relu and add "
        "read one array and write one (the broadcast operand is small), Adam reads param, "
        "grad, exp_avg, exp_avg_sq and writes three. Target: >= 0.9 of copy.",
    )
    table.add(**_relu(n_relu, copy, repeats, torch, ck))
    cuda.empty_cache()
    for bshape in [(1024,), (n_add // 1024, 1)]:
        table.add(**_add_broadcast(n_add, bshape, copy, repeats, torch))
    cuda.empty_cache()
    for n_tensors in (1, 400):
        table.add(**_adam(n_adam, n_tensors, copy, repeats, torch, ck))
        cuda.empty_cache()
    return [table]


if __name__ == "__main__":
    for t in run(quick="--quick" in sys.argv[1:]):
        print(t.markdown())
