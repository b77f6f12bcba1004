"""A sweep of the Tensor math surface at a hidden layer's size, fastnn vs torch, each at its
default thread count: the element-wise functions (sin, cos, erf, tanh, sqrt, ...), reductions
along a dimension (amax, norm, std, prod, ...), and the three-operand updates of an optimizer or
EMA written by hand (addcmul_, addcdiv_, lerp_), on a (256, 784) float32 tensor.

Its job is breadth: one op that falls back to a slow path (erf through Python once cost 260x
torch's time) shows here as a ratio far below 1. The in-place rows time a clone of x and the
update together (both libraries alike). Each library is timed in its own stretches, taking turns
(``_harness.compare``); every result is checked against torch's first.
"""

import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))

import fastnn
from _harness import Table, check_close, compare, try_torch

SHAPE = (256, 784)


def _ops(m):
    """(name, fn(x, y)) per row; ``m`` is the library's module (fastnn or torch)."""
    F = m.nn.functional
    return [
        ("x.sin()", lambda x, y: x.sin()),
        ("x.cos()", lambda x, y: x.cos()),
        ("x.erf()", lambda x, y: x.erf()),
        ("x.tanh()", lambda x, y: x.tanh()),
        ("x.sigmoid()", lambda x, y: x.sigmoid()),
        ("F.gelu(x)", lambda x, y: F.gelu(x)),
        ("F.silu(x)", lambda x, y: F.silu(x)),
        ("y.sqrt()", lambda x, y: y.sqrt()),
        ("y.rsqrt()", lambda x, y: y.rsqrt()),
        ("y.log1p()", lambda x, y: y.log1p()),
        ("x.expm1()", lambda x, y: x.expm1()),
        ("x.atan()", lambda x, y: x.atan()),
        ("x.abs()", lambda x, y: x.abs()),
        ("x.clamp(-1, 1)", lambda x, y: x.clamp(-1, 1)),
        ("x ** 3", lambda x, y: x**3),
        ("y ** 1.5", lambda x, y: y**1.5),
        ("x.amax(1)", lambda x, y: x.amax(1)),
        ("x.max(1)", lambda x, y: x.max(1)[0]),
        ("x.argmax(1)", lambda x, y: x.argmax(1)),
        ("x.norm()", lambda x, y: x.norm()),
        ("x.norm(dim=1)", lambda x, y: x.norm(dim=1)),
        ("x.mean(1)", lambda x, y: x.mean(1)),
        ("x.std(1)", lambda x, y: x.std(1)),
        ("x.var()", lambda x, y: x.var()),
        ("y.prod(1)", lambda x, y: y.prod(1)),
        ("x.softmax(1)", lambda x, y: x.softmax(1)),
        ("x.log_softmax(1)", lambda x, y: x.log_softmax(1)),
        ("x.addcmul(x, y)", lambda x, y: x.addcmul(x, y, value=0.5)),
        ("x.lerp(y, 0.3)", lambda x, y: x.lerp(y, 0.3)),
        ("clone.addcmul_(y, y)", lambda x, y: x.clone().addcmul_(y, y, value=0.1)),
        ("clone.addcdiv_(x, y)", lambda x, y: x.clone().addcdiv_(x, y, value=-0.1)),
        ("clone.lerp_(y, 0.1)", lambda x, y: x.clone().lerp_(y, 0.1)),
    ]


def run(quick=False):
    torch = try_torch()
    threads = fastnn.get_num_threads()
    table = Table(
        f"Tensor math on {SHAPE[0]} x {SHAPE[1]} float32, default threads (fastnn {threads}"
        + (f", torch {torch.get_num_threads()})" if torch is not None else ")")
        + ": us per call",
        ["op", "fastnn us", "torch us", "vs torch"],
        note="vs torch: torch's time / fastnn's (higher is better for fastnn); medians over turns",
        readme={
            "what": "Tensor math sweep: sin, erf, amax, norm, addcmul_, ... (200k floats)",
            "torch": "vs torch",
        },
    )
    if torch is None:
        return [table]
    rng = np.random.default_rng(0)
    x = rng.standard_normal(SHAPE).astype(np.float32)
    y = (rng.random(SHAPE, dtype=np.float32) + 0.5).astype(np.float32)  # positive, near 1
    fx, fy = fastnn.from_numpy(x.copy()), fastnn.from_numpy(y.copy())
    tx, ty = torch.from_numpy(x.copy()), torch.from_numpy(y.copy())
    rounds, calls = (3, 5) if quick else (7, 11)
    rows = list(zip(_ops(fastnn), _ops(torch)))
    for (name, ff), (_, tf) in rows[::4] if quick else rows:
        check_close(name, np.asarray(ff(fx, fy)), tf(tx, ty).numpy(), rtol=2e-5, atol=2e-5)
        times = compare(
            {"fastnn": lambda: ff(fx, fy), "torch": lambda: tf(tx, ty)},
            rounds=rounds,
            calls=calls,
            warm_s=0.01 if quick else 0.03,
        )
        f_us, t_us = times["fastnn"][0] * 1e6, times["torch"][0] * 1e6
        table.add(op=name, **{"fastnn us": f_us, "torch us": t_us, "vs torch": t_us / f_us})
    return [table]


if __name__ == "__main__":
    for t in run(quick="--quick" in sys.argv):
        print(t.markdown())
