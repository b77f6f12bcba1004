"""Softmax cross-entropy, forward + backward (dlogits), float32: fastnn vs NumPy vs torch.

fastnn: one fused call, softmax_cross_entropy(..., grad=True). NumPy: log-softmax, gather, and
the gradient softmax - onehot as array expressions. torch: F.cross_entropy forward and
.backward() through autograd (what a training step does). Also BCE-with-logits at 4096x1000.
The second table runs both through the Tensor API (F.cross_entropy(...).backward()) against a
copy of the logits timed in the same rounds: reading the logits and writing dlogits is the
least any implementation moves, which is exactly what the copy moves.
"""

import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))
sys.path.insert(0, str(pathlib.Path(__file__).parent.parent / "tests"))

import reference as ref
from _harness import Table, check_close, timeit, try_torch
from fastnn import kernels as K

SHAPES = [(256, 10), (4096, 1000), (32, 50000)]


def numpy_xent(z, t):
    n = z.shape[0]
    s = z - z.max(axis=1, keepdims=True)
    e = np.exp(s)
    se = e.sum(axis=1, keepdims=True)
    loss = (np.log(se[:, 0]) - s[np.arange(n), t]).mean()
    g = e / se
    g[np.arange(n), t] -= 1
    g /= n
    return loss, g


def numpy_bce(x, t):
    loss = np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))
    g = (1 / (1 + np.exp(-x)) - t) / x.size
    return loss.mean(), g


def run(quick=False):
    rng = np.random.default_rng(0)
    torch = try_torch()
    repeats = 10 if quick else 30
    table = Table(
        "softmax cross-entropy, forward + backward, float32 (ms, median)",
        ["op", "shape", "fastnn ms", "numpy ms", "torch ms", "vs numpy", "vs torch"],
        note="ratios: time of the other library / fastnn's (higher is better for fastnn)",
        readme={
            "what": "softmax cross-entropy kernel fwd+bwd",
            "torch": "vs torch",
            "numpy": "vs numpy",
        },
    )
    cases = [("cross_entropy", s) for s in SHAPES] + [("bce_with_logits", (4096, 1000))]
    for op, (n, c) in cases:
        z = (rng.standard_normal((n, c)) * 3).astype(np.float32)
        if op == "cross_entropy":
            t = rng.integers(0, c, n)
            fn = lambda: K.softmax_cross_entropy(z, t, grad=True)
            npfn = lambda: numpy_xent(z, t)
            rl, rg = ref.softmax_cross_entropy(z, t)
        else:
            t = rng.random((n, c)).astype(np.float32)
            fn = lambda: K.binary_cross_entropy_with_logits(z, t, grad=True)
            npfn = lambda: numpy_bce(z, t)
            rl, rg = ref.binary_cross_entropy_with_logits(z, t)
        loss, g = fn()
        check_close(op, loss, rl, rtol=1e-5, atol=1e-6)
        check_close(op + " grad", g, rg, rtol=1e-4, atol=1e-8)
        _, ng = npfn()
        check_close(op + " numpy", ng, rg, rtol=1e-4, atol=1e-8)
        t_f, _ = timeit(fn, repeats=repeats, min_time=0.2)
        t_n, _ = timeit(npfn, repeats=max(5, repeats // 3))
        row = dict(
            op=op,
            shape=f"{n}x{c}",
            **{"fastnn ms": t_f * 1e3, "numpy ms": t_n * 1e3, "vs numpy": t_n / t_f},
        )
        if torch is not None:
            F = torch.nn.functional
            zt = torch.from_numpy(z).clone().requires_grad_(True)
            tt = torch.from_numpy(t)

            def torch_step():
                zt.grad = None
                if op == "cross_entropy":
                    F.cross_entropy(zt, tt).backward()
                else:
                    F.binary_cross_entropy_with_logits(zt, tt).backward()

            torch_step()
            check_close(op + " torch", zt.grad.numpy(), rg, rtol=1e-4, atol=1e-8)
            t_t, _ = timeit(torch_step, repeats=repeats, min_time=0.2)
            row["torch ms"] = t_t * 1e3
            row["vs torch"] = t_t / t_f
        table.add(**row)
    return [table, tensor_api_table(rng, torch, 2 if quick else 5)]


def tensor_api_table(rng, torch, rounds):
    import fastnn
    import fastnn.nn.functional as F
    from _harness import compare

    table = Table(
        "cross_entropy through the Tensor API, forward + backward, float32 (ms, median)",
        ["shape", "fastnn ms", "torch ms", "vs torch", "fastnn of copy", "torch of copy"],
        note="of copy: time of a copy of the logits / the op's time (1.0 = the memory bound)",
        readme={
            "what": "F.cross_entropy fwd+bwd through the Tensor API",
            "torch": "vs torch",
            "limit": "fastnn of copy",
            "limit_name": "a copy of the logits",
        },
    )
    for n, c in SHAPES:
        z = (rng.standard_normal((n, c)) * 3).astype(np.float32)
        t = rng.integers(0, c, n)
        dst = np.empty_like(z)
        fz, ft = fastnn.tensor(z, requires_grad=True), fastnn.tensor(t)

        def step():
            fz.grad = None
            F.cross_entropy(fz, ft).backward()

        step()
        fns = {"copy": lambda: np.copyto(dst, z), "fastnn": step}
        if torch is not None:
            zt = torch.from_numpy(z).clone().requires_grad_(True)
            tt = torch.from_numpy(t)

            def torch_step():
                zt.grad = None
                torch.nn.functional.cross_entropy(zt, tt).backward()

            torch_step()
            check_close("Tensor API xent", fz.grad.numpy(), zt.grad.numpy(), rtol=1e-4, atol=1e-8)
            fns["torch"] = torch_step
        # each in its own warmed stretch (compare): torch's spinning threads slowed the call
        # after them when the libraries alternated call by call
        times = {k: med for k, (med, _) in compare(fns, rounds=rounds, calls=4).items()}
        row = {
            "shape": f"{n}x{c}",
            "fastnn ms": times["fastnn"] * 1e3,
            "fastnn of copy": times["copy"] / times["fastnn"],
        }
        if torch is not None:
            row.update(
                {
                    "torch ms": times["torch"] * 1e3,
                    "vs torch": times["torch"] / times["fastnn"],
                    "torch of copy": times["copy"] / times["torch"],
                }
            )
        table.add(**row)
    return table
