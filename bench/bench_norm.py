"""Normalization layers, forward + backward through autograd, float32: fastnn vs torch.

fastnn: nn.BatchNorm2d / nn.LayerNorm = one fused kernel each way (kernels.batch_norm /
layer_norm and their _backward; csrc/cpu/batch_norm.cpp, csrc/cpu/layer_norm.cpp): statistics and
normalisation in one call, dx / dweight / dbias in one call from the saved mean and rstd. torch: its
CPU batch_norm / layer_norm and .backward(). Both train mode (batch statistics, running buffers
updated), weight and bias gradients included. The two are timed in alternating rounds, so drift in
the shared machine's load hits both; the reported time is the median over rounds.
"""

import pathlib
import statistics
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))
sys.path.insert(0, str(pathlib.Path(__file__).parent.parent / "tests"))

import fastnn
import reference_norm as ref
from _harness import Table, check_close, timeit, try_torch

CASES = [("BatchNorm2d", (256, 64, 14, 14)), ("LayerNorm", (256, 512)), ("BatchNorm1d", (256, 512))]


def _module(lib, name, shape):
    return getattr(lib.nn, name)(shape[1] if name.startswith("Batch") else shape[-1])


def _check(name, x, y, mod):
    if name.startswith("Batch"):
        want = ref.batch_norm(x, None, None, None, None, True, 0.1, mod.eps)[0]
    else:
        want = ref.layer_norm(x, (x.shape[-1],), None, None, mod.eps)[0]
    check_close(name, y, want, rtol=1e-4, atol=1e-4)


def run(quick=False):
    rng = np.random.default_rng(0)
    torch = try_torch()
    repeats, rounds = (3, 2) if quick else (10, 5)
    table = Table(
        "normalization layers, forward + backward, train mode, float32 (ms, median)",
        ["op", "shape", "fastnn ms", "torch ms", "fastnn GB/s", "vs torch"],
        note="vs torch: torch's time / fastnn's (higher is better for fastnn); GB/s counts x read "
        "twice, y and dx written, dy read twice (the minimum two-pass traffic)",
        readme={
            "what": "BatchNorm / LayerNorm / GroupNorm fwd+bwd, train mode",
            "torch": "vs torch",
        },
    )
    for name, shape in CASES:
        x = rng.standard_normal(shape).astype(np.float32) * 2 + 1
        g = rng.standard_normal(shape).astype(np.float32)
        mod = _module(fastnn, name, shape)
        fx, fg = fastnn.tensor(x, requires_grad=True), fastnn.tensor(g)
        _check(name, x, mod(fx).detach().numpy(), mod)

        def step(mod=mod, fx=fx, fg=fg):
            fx.grad = None
            mod.zero_grad()
            mod(fx).backward(fg)

        steps = [step]
        if torch is not None:
            tmod = _module(torch, name, shape)
            tx, tg = torch.from_numpy(x).clone().requires_grad_(True), torch.from_numpy(g)

            def torch_step(tmod=tmod, tx=tx, tg=tg):
                tx.grad = None
                tmod.zero_grad()
                tmod(tx).backward(tg)

            step()
            torch_step()
            check_close(
                f"{name} dx vs torch", fx.grad.numpy(), tx.grad.numpy(), rtol=1e-3, atol=1e-4
            )
            steps.append(torch_step)
        times = [[] for _ in steps]
        for _ in range(rounds):
            for fn, t in zip(steps, times):
                t.append(timeit(fn, repeats=repeats, min_time=0.2)[0])
        t_f = statistics.median(times[0])
        nbytes = 6 * x.nbytes
        row = dict(op=name, shape="x".join(map(str, shape)))
        row.update({"fastnn ms": t_f * 1e3, "fastnn GB/s": nbytes / t_f / 1e9})
        if torch is not None:
            t_t = statistics.median(times[1])
            row.update({"torch ms": t_t * 1e3, "vs torch": t_t / t_f})
        table.add(**row)
    return [table]
