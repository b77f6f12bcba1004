"""Per-op overhead of the Tensor API on tiny tensors, fastnn vs torch, one thread each.

On 4x4 float32 tensors the arithmetic is a few nanoseconds; what is timed is the framework:
dispatch, dtype checks, allocation, graph recording and the backward engine. Rows: add, mul,
matmul, x ** 3 and sum without and with graph recording; tanh, division, three views, a
comparison, clamp and cat without; max along a dim and var while recording; max(logits, 1) of
a 256 x 10 batch (an accuracy's predictions) and the d2l softmax by hand on it; softmax along
the first dim; a 20-op chain without grad and forward + backward; and a polynomial fit (y = a +
b x + c x^2 + d x^3 to sin(x) on 2000 points, the loss's backward, then plain SGD updates of a,
b, c, d under no_grad), timed per training step.

The two libraries run interleaved (a short batch of calls of one, then of the other, round after
round), so load from other jobs on the shared machine hits both alike; the ratio is the median
over rounds of each round's ratio, beside the median and min per-call times. Results are checked
against torch before timing.
"""

import math
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))

import fastnn
from _harness import Table, check_close, interleaved_batches, try_torch


def _chain(x, y):
    """20 element-wise ops on 4x4 tensors (the shape of a small hand-written model)."""
    for _ in range(5):
        x = x * y
        x = x + y
        x = x - 0.5
        x = x.tanh()
    return x


def _chain_backward(lib, x, y):
    def step():
        x.grad = None
        _chain(x, y).sum().backward()
        return x.grad

    return step


def _poly_fit(lib, steps=1, lr=1e-6):
    """The tutorial fit: returns a closure running ``steps`` SGD steps and the coefficients."""
    x = lib.linspace(-math.pi, math.pi, 2000, dtype=lib.float32)
    y = lib.sin(x)
    coef = [lib.zeros((), dtype=lib.float32, requires_grad=True) for _ in range(4)]
    with lib.no_grad():
        for c, v in zip(coef, (0.1, 0.8, -0.05, -0.09)):
            c.fill_(v)

    def step():
        for _ in range(steps):
            a, b, c, d = coef
            y_pred = a + b * x + c * x**2 + d * x**3
            loss = (y_pred - y).pow(2).sum()
            loss.backward()
            with lib.no_grad():
                for p in coef:
                    p -= lr * p.grad
                    p.grad = None
        return loss

    return step, coef


def _softmax_by_hand(x):
    """The d2l book's softmax from scratch: exp, the row sums kept as a column, a division."""
    e = x.exp()
    return e / e.sum(1, keepdim=True)


def _cases(lib, a, b):
    ta, tb = lib.tensor(a), lib.tensor(b)
    t256 = lib.tensor(np.random.default_rng(2).standard_normal((256, 10)).astype(np.float32))
    tg = lib.tensor(a, requires_grad=True)
    return [
        ("add 4x4, no grad", lambda: ta + tb),
        ("add 4x4, recording", lambda: tg + tb),
        ("mul 4x4, no grad", lambda: ta * tb),
        ("mul 4x4, recording", lambda: tg * tb),
        ("matmul 4x4, no grad", lambda: ta @ tb),
        ("matmul 4x4, recording", lambda: tg @ tb),
        ("x ** 3 4x4, no grad", lambda: ta**3),
        ("x ** 3 4x4, recording", lambda: tg**3),
        ("tanh 4x4, no grad", ta.tanh),
        ("x / y 4x4, no grad", lambda: ta / tb),
        ("sum 4x4, no grad", ta.sum),
        ("sum 4x4, recording", tg.sum),
        ("view, t, x[1] 4x4, no grad", lambda: ta.view(2, 8).t()[1]),
        ("x > 0 4x4, no grad", lambda: ta > 0),
        ("clamp 4x4, no grad", lambda: ta.clamp(-0.5, 0.5)),
        ("cat of two 4x4, no grad", lambda: lib.cat([ta, tb])),
        ("max along dim 4x4, recording", lambda: tg.max(1)[0]),
        ("max(logits, 1) 256x10 (an accuracy), no grad", lambda: lib.max(t256, 1).indices),
        ("var 4x4, recording", tg.var),
        ("softmax by hand 256x10, no grad", lambda: _softmax_by_hand(t256)),
        ("softmax(x, 0) 4x4, no grad", lambda: ta.softmax(0)),
        ("20-op chain 4x4, no grad", lambda: _chain(ta, tb)),
        ("20-op chain 4x4, fwd+bwd", _chain_backward(lib, lib.tensor(a, requires_grad=True), tb)),
        ("polynomial fit step (2000 points)", _poly_fit(lib)[0]),
    ]


def _check(torch, a, b):
    """fastnn equals torch on every timed case (values, and gradients of the backward rows)."""
    for (name, f), (_, t) in zip(_cases(fastnn, a, b), _cases(torch, a, b)):
        fr, tr = f(), t()
        check_close(name, fr.detach().numpy(), tr.detach().numpy(), rtol=1e-4, atol=1e-5)
    fstep, fcoef = _poly_fit(fastnn, steps=50)
    tstep, tcoef = _poly_fit(torch, steps=50)
    check_close("poly fit loss", fstep().item(), tstep().item(), rtol=1e-3, atol=1e-3)
    for fc, tc in zip(fcoef, tcoef):
        check_close("poly fit coefficient", fc.item(), tc.item(), rtol=1e-4, atol=1e-6)


def _matmul_sizes(quick):
    """Where numpy's matmul would beat the GEMM kernel's call overhead: the kernel (called as
    the CPU backend calls it) against np.matmul on n x n float32, 1 thread."""
    from fastnn import _C

    table = Table(
        "small GEMMs: fastnn's kernel vs np.matmul, float32, 1 thread (us per call)",
        ["n", "kernel vs numpy", "kernel us", "numpy us"],
        note="kernel vs numpy: numpy time / kernel time, median of per-round ratios",
    )
    rng = np.random.default_rng(1)
    for n in (2, 4, 8, 16) if quick else (2, 4, 8, 16, 24, 32, 48, 64):
        a, b = (rng.standard_normal((n, n)).astype(np.float32) for _ in range(2))
        check_close(
            f"kernel matmul {n}", _C.matmul(a, b), a.astype(np.float64) @ b, rtol=1e-4, atol=1e-4
        )
        stats, ratios = interleaved_batches(
            [lambda: _C.matmul(a, b), lambda: np.matmul(a, b)], 50, 15 if quick else 41
        )
        table.add(
            n=n,
            **{
                "kernel vs numpy": ratios[1],
                "kernel us": stats[0][0] * 1e6,
                "numpy us": stats[1][0] * 1e6,
            },
        )
    return table


def run(quick=False):
    rng = np.random.default_rng(0)
    torch = try_torch()
    a, b = (rng.uniform(0.5, 1.0, (4, 4)).astype(np.float32) for _ in range(2))
    threads = fastnn.get_num_threads()
    fastnn.set_num_threads(1)
    if torch is not None:
        torch_threads = torch.get_num_threads()
        torch.set_num_threads(1)
        _check(torch, a, b)
    table = Table(
        "Tensor-API overhead on tiny tensors, float32, 1 thread (us per call)",
        ["case", "vs torch", "vs torch (min)", "fastnn us", "torch us", "fastnn min", "torch min"],
        note="vs torch: torch time / fastnn time (higher is better for fastnn), the median over "
        "rounds of the two libraries' batches run back to back; (min): of the best rounds; "
        "us: median and min per call",
        readme={"what": "Tensor-API overhead on tiny tensors (1 thread)", "torch": "vs torch"},
    )
    rounds = 15 if quick else 101
    fcases = _cases(fastnn, a, b)
    tcases = _cases(torch, a, b) if torch is not None else [(n, None) for n, _ in fcases]
    try:
        for (name, f), (_, t) in zip(fcases, tcases):
            heavy = name.startswith(("20-op", "poly"))
            calls = (5 if heavy else 100) if quick else (10 if heavy else 200)
            stats, ratios = interleaved_batches([f] if t is None else [f, t], calls, rounds)
            (fmed, fmin), (tmed, tmin) = stats[0], (stats[1] if t is not None else (None, None))
            table.add(
                case=name,
                **{
                    "vs torch": ratios[1] if t is not None else None,
                    "vs torch (min)": tmin / fmin if t is not None else None,
                    "fastnn us": fmed * 1e6,
                    "torch us": tmed * 1e6 if tmed else None,
                    "fastnn min": fmin * 1e6,
                    "torch min": tmin * 1e6 if tmin else None,
                },
            )
        sizes = _matmul_sizes(quick)
    finally:
        fastnn.set_num_threads(threads)
        if torch is not None:
            torch.set_num_threads(torch_threads)
    return [table, sizes]


if __name__ == "__main__":
    for t in run(quick="--quick" in sys.argv):
        print(t.markdown())
