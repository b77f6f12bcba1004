"""Element-wise Tensor arithmetic and whole sums at the sizes of a hidden layer, fastnn vs torch
vs numpy, each at its default thread count.

The d2l programs written from scratch update their weights by hand (``w -= lr * w.grad /
batch_size`` on a 784 x 256 weight), compute ``1 - x`` or ``x / y`` on activations, relu as
``max(x, zeros)``, squares and logs of a loss by hand, and sum whole tensors for a penalty; at 50k
to 1M elements such an op takes microseconds to a tenth of a millisecond. torch splits them over
its threads; numpy runs them on one core. Rows: x + y, x * 0.5, 1 - x, x / y, x -= y (in place),
x.sum(), x.exp(), x.sin(), max(x, zeros), -x, x ** 2, y.log(), where(x > 0, x, y) (the mask made
beforehand), cat([x, y], 1), stack([x, y]) and x.cumsum(1) on (256, 784) and (1024, 1024)
float32.
Each library is timed in its own stretches, taking turns (``_harness.compare``); results are
checked against numpy first.
"""

import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))

import fastnn
from _harness import Table, check_close, compare, try_torch

SHAPES = [(256, 784), (1024, 1024)]


def _ops(x, y, zeros, where, cat, stack):
    """(name, fn) per row; the in-place row writes a scratch copy of x, so x never changes.
    ``where``, ``cat``, ``stack``: the library's functions of those names (numpy's concatenate)."""
    scratch = x.clone() if hasattr(x, "clone") else x.copy()
    on_numpy = isinstance(x, np.ndarray)
    mask = x > 0  # random: a where that branches mispredicts half the time
    return [
        ("x + y", lambda: x + y),
        ("x * 0.5", lambda: x * 0.5),
        ("1 - x", lambda: 1.0 - x),
        ("x / y", lambda: x / y),
        ("x -= y", lambda: scratch.__isub__(y)),
        ("x.sum()", x.sum),
        ("x.exp()", (lambda: np.exp(x)) if on_numpy else x.exp),
        ("x.sin()", (lambda: np.sin(x)) if on_numpy else x.sin),
        ("max(x, zeros)", (lambda: np.maximum(x, zeros)) if on_numpy else lambda: x.maximum(zeros)),
        ("-x", lambda: -x),
        ("x ** 2", lambda: x**2),
        ("y.log()", (lambda: np.log(y)) if on_numpy else y.log),
        ("where(x > 0, x, y)", lambda: where(mask, x, y)),
        ("cat([x, y], 1)", lambda: cat([x, y], 1)),
        ("stack([x, y])", lambda: stack([x, y])),
        ("x.cumsum(1)", (lambda: np.cumsum(x, 1)) if on_numpy else lambda: x.cumsum(1)),
    ]


def run(quick=False):
    rng = np.random.default_rng(0)
    torch = try_torch()
    threads = fastnn.get_num_threads()
    table = Table(
        f"element-wise arithmetic and whole sums, float32, default threads (fastnn {threads}"
        + (f", torch {torch.get_num_threads()})" if torch is not None else ")")
        + ": us per call",
        ["op", "shape", "fastnn us", "numpy us", "torch us", "vs numpy", "vs torch"],
        note="vs X: X's time / fastnn's (higher is better for fastnn); medians over turns",
        readme={
            "what": "element-wise + - * /, sum, exp, sin, max, neg, square, log, where, cat, cumsum, 200k-1M floats",
            "torch": "vs torch",
            "numpy": "vs numpy",
        },
    )
    rounds, calls = (3, 5) if quick else (9, 15)
    warm = 0.01 if quick else 0.03  # seconds of calls that wake each library's threads first
    for shape in SHAPES[:1] if quick else SHAPES:
        a = rng.standard_normal(shape).astype(np.float32)
        b = np.abs(rng.standard_normal(shape) + 4.0).astype(np.float32)  # no division by ~0
        z = np.zeros(shape, np.float32)
        libs = {
            "fastnn": _ops(
                *(fastnn.from_numpy(v) for v in (a.copy(), b, z)),
                fastnn.where,
                fastnn.cat,
                fastnn.stack,
            ),
            "numpy": _ops(a.copy(), b, z, np.where, np.concatenate, np.stack),
        }
        if torch is not None:
            libs["torch"] = _ops(
                *(torch.from_numpy(v) for v in (a.copy(), b, z)),
                torch.where,
                torch.cat,
                torch.stack,
            )
        for i, (name, _) in enumerate(libs["fastnn"]):
            if name != "x -= y":  # (the in-place rows drift with every call)
                want = libs["numpy"][i][1]()
                for lib in ("fastnn", "torch"):
                    if lib in libs:
                        got = np.asarray(libs[lib][i][1]())
                        check_close(f"{name} {lib}", got, want, rtol=1e-5, atol=1e-3)
            times = compare(
                {lib: ops[i][1] for lib, ops in libs.items()},
                rounds=rounds,
                calls=calls,
                warm_s=warm,
            )
            t = {lib: times[lib][0] * 1e6 for lib in times}
            table.add(
                op=name,
                shape=f"{shape[0]}x{shape[1]}",
                **{
                    "fastnn us": t["fastnn"],
                    "numpy us": t["numpy"],
                    "torch us": t.get("torch"),
                    "vs numpy": t["numpy"] / t["fastnn"],
                    "vs torch": t["torch"] / t["fastnn"] if "torch" in t else None,
                },
            )
    return [table]


if __name__ == "__main__":
    for t in run(quick="--quick" in sys.argv):
        print(t.markdown())
