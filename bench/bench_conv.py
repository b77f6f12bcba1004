"""conv2d and max_pool2d, forward + backward through autograd, float32: fastnn vs torch.

fastnn: F.conv2d = kernels.conv2d / conv2d_backward: the batch in chunks whose im2col patches fit
in L2, one wide GEMM per chunk and pass (forward, dx, dW), bias added in the copy-out, patches
regathered in backward (see csrc/cpu/conv.cpp [note: conv2d chunks]). torch: its CPU conv2d
(oneDNN where available) and .backward(). Both compute dx, dW and db. GFLOP/s counts the three
GEMMs (forward, dx, dW): 3 * 2 * N * C_out * H_out * W_out * C_in * kh * kw.
"""

import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))
sys.path.insert(0, str(pathlib.Path(__file__).parent.parent / "tests"))

import fastnn
import fastnn.nn.functional as F
import reference as ref
from _harness import Table, check_close, timeit, try_torch

# (N, C_in, H, W), C_out, kernel, padding: the two conv layers of the Fashion-MNIST CNN.
CONVS = [((256, 1, 28, 28), 32, 3, 1), ((256, 32, 14, 14), 64, 3, 1)]
POOLS = [((256, 32, 28, 28), 2), ((256, 64, 14, 14), 2)]


def run(quick=False):
    rng = np.random.default_rng(0)
    torch = try_torch()
    repeats = 5 if quick else 20
    table = Table(
        "conv2d / max_pool2d, forward + backward, float32 (ms, median)",
        ["op", "shape", "fastnn ms", "torch ms", "fastnn GFLOP/s", "vs torch"],
        note="vs torch: torch's time / fastnn's (higher is better for fastnn)",
        readme={
            "what": "conv2d (the CNN's two layers) fwd+bwd",
            "torch": "vs torch",
            "where": lambda r: r["op"].startswith("conv2d"),
        },
    )
    for shape, cout, k, p in CONVS:
        x = rng.standard_normal(shape).astype(np.float32)
        w = (rng.standard_normal((cout, shape[1], k, k)) * 0.1).astype(np.float32)
        b = rng.standard_normal(cout).astype(np.float32)
        fx, fw, fb = (fastnn.tensor(a, requires_grad=True) for a in (x, w, b))
        out = F.conv2d(fx, fw, fb, padding=p)
        check_close(
            "conv2d",
            out.detach().numpy()[:4],
            ref.conv2d(x[:4], w, b, (1, 1), (p, p), (1, 1)),
            rtol=1e-4,
            atol=1e-4,
        )
        g = fastnn.tensor(rng.standard_normal(out.shape).astype(np.float32))

        def step():
            fx.grad = fw.grad = fb.grad = None
            F.conv2d(fx, fw, fb, padding=p).backward(g)

        t_f, _ = timeit(step, repeats=repeats, min_time=0.5)
        n, _, h, wd = shape
        flops = 3 * 2 * n * cout * h * wd * shape[1] * k * k  # stride 1, 'same'-size output
        row = dict(
            op=f"conv2d {shape[1]}->{cout} {k}x{k} pad {p}",
            shape="x".join(map(str, shape)),
            **{"fastnn ms": t_f * 1e3, "fastnn GFLOP/s": flops / t_f / 1e9},
        )
        if torch is not None:
            tx, tw, tb = (torch.from_numpy(a).clone().requires_grad_(True) for a in (x, w, b))
            tg = torch.from_numpy(g.numpy())

            def torch_step():
                tx.grad = tw.grad = tb.grad = None
                torch.nn.functional.conv2d(tx, tw, tb, padding=p).backward(tg)

            torch_step()
            step()
            check_close(
                "conv2d dW vs torch", fw.grad.numpy(), tw.grad.numpy(), rtol=1e-3, atol=1e-2
            )
            check_close(
                "conv2d dx vs torch", fx.grad.numpy(), tx.grad.numpy(), rtol=1e-3, atol=1e-3
            )
            t_t, _ = timeit(torch_step, repeats=repeats, min_time=0.5)
            row.update({"torch ms": t_t * 1e3, "vs torch": t_t / t_f})
        table.add(**row)

    for shape, k in POOLS:
        x = rng.standard_normal(shape).astype(np.float32)
        fx = fastnn.tensor(x, requires_grad=True)
        out = F.max_pool2d(fx, k)
        check_close(
            "max_pool2d",
            out.detach().numpy()[:1],
            ref.max_pool2d(x[:1], (k, k), (k, k), (0, 0))[0],
            rtol=0,
            atol=0,
        )
        g = fastnn.tensor(rng.standard_normal(out.shape).astype(np.float32))

        def pool_step():
            fx.grad = None
            F.max_pool2d(fx, k).backward(g)

        t_f, _ = timeit(pool_step, repeats=repeats, min_time=0.5)
        row = dict(
            op=f"max_pool2d {k}x{k}", shape="x".join(map(str, shape)), **{"fastnn ms": t_f * 1e3}
        )
        if torch is not None:
            tx = torch.from_numpy(x).clone().requires_grad_(True)
            tg = torch.from_numpy(g.numpy())

            def torch_pool():
                tx.grad = None
                torch.nn.functional.max_pool2d(tx, k).backward(tg)

            t_t, _ = timeit(torch_pool, repeats=repeats, min_time=0.5)
            row.update({"torch ms": t_t * 1e3, "vs torch": t_t / t_f})
        table.add(**row)
    return [table]
