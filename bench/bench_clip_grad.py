"""Gradient clipping: fastnn's nn.utils.clip_grad_norm_ vs a per-tensor NumPy loop vs torch's.

Layouts: many small gradients (where per-tensor call overhead dominates), a few large ones (where
memory bandwidth does), and a ResNet-18-like mix of conv weights, BatchNorm scales and biases.
fastnn's path is one fused C++ call for the norm and one for the scaling; 'numpy loop' is what
the Python code does without the kernel (one np.vdot and one in-place multiply per gradient);
torch runs its default and its foreach=True path. Every implementation is checked against a
float64 reference first; timed rounds interleave the implementations (medians).
"""

import statistics
import sys
import time

import numpy as np

import fastnn
from _harness import Table, check_close, try_torch
from fastnn.nn import utils

MAX_NORM = 1.0


def _resnet18_like():
    shapes = [(64, 3, 7, 7), (64,), (64,)]
    for c_in, c_out, blocks in ((64, 64, 2), (64, 128, 2), (128, 256, 2), (256, 512, 2)):
        for b in range(blocks):
            cin = c_in if b == 0 else c_out
            shapes += [(c_out, cin, 3, 3), (c_out,), (c_out,), (c_out, c_out, 3, 3), (c_out,)]
            shapes += [(c_out,)]
            if b == 0 and c_in != c_out:
                shapes += [(c_out, c_in, 1, 1), (c_out,), (c_out,)]
    return [*shapes, (1000, 512), (1000,)]


def layouts(quick):
    out = [("200 x 64", [(64,)] * 200), ("1000 x 16", [(16,)] * 1000)]
    out.append(("resnet18-like", _resnet18_like()))
    if not quick:
        out.append(("4 x 1,000,000", [(1_000_000,)] * 4))
    return out


def _grads(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s, dtype=np.float32) for s in shapes]


def fastnn_impl(grads):
    params = []
    for g in grads:
        p = fastnn.nn.Parameter(fastnn.zeros(*g.shape))
        p.grad = fastnn.from_numpy(g)  # shares memory: results checkable
        params.append(p)
    return lambda: float(utils.clip_grad_norm_(params, MAX_NORM).item())


def numpy_impl(grads):
    def step():
        total = np.sqrt(sum(np.vdot(g, g) for g in grads))
        coef = np.float32(MAX_NORM) / (np.float32(total) + np.float32(1e-6))
        if coef < 1:
            for g in grads:
                np.multiply(g, coef, out=g)
        return float(total)

    return step


def torch_impl(torch, foreach):
    def make(grads):
        params = []
        for g in grads:
            p = torch.zeros(g.shape, requires_grad=True)
            p.grad = torch.from_numpy(g)
            params.append(p)
        return lambda: float(torch.nn.utils.clip_grad_norm_(params, MAX_NORM, foreach=foreach))

    return make


def check(label, make, shapes):
    grads = _grads(shapes, seed=3)
    g64 = [g.astype(np.float64) for g in grads]
    norm = np.sqrt(sum(float(np.sum(g * g)) for g in g64))
    got = make(grads)()
    # torch sums 11M float32 squares in float32 (relative error ~3e-5 on the ResNet layout);
    # fastnn accumulates in double.
    check_close(f"clip_grad_norm_ {label} (norm)", got, norm, rtol=1e-4, atol=0)
    for g, r in zip(grads, g64):
        check_close(
            f"clip_grad_norm_ {label} (grads)", g, r * MAX_NORM / norm, rtol=1e-4, atol=1e-7
        )


def run(quick=False):
    torch = try_torch()
    repeats = 10 if quick else 50
    impls = [("fastnn", fastnn_impl), ("numpy loop", numpy_impl)]
    if torch is not None:
        impls += [("torch", torch_impl(torch, None)), ("torch foreach", torch_impl(torch, True))]
    table = Table(
        "nn.utils.clip_grad_norm_ (2-norm, clipping active), float32",
        ["layout", "tensors", "elements", "impl", "us", "min us", "fastnn speedup"],
        note="'fastnn speedup' = this row's time / fastnn's time (above 1: fastnn is faster).",
    )
    for name, shapes in layouts(quick):
        for label, make in impls:
            check(label, make, shapes)
        steps = [make(_grads(shapes)) for _, make in impls]
        times = [[] for _ in steps]
        for r in range(repeats + 3):
            for k, step in enumerate(steps):
                t0 = time.perf_counter()
                step()
                if r >= 3:
                    times[k].append(time.perf_counter() - t0)
        fast = statistics.median(times[0])
        for (label, _), ts in zip(impls, times):
            med = statistics.median(ts)
            table.add(
                layout=name,
                tensors=len(shapes),
                elements=sum(int(np.prod(s)) for s in shapes),
                impl=label,
                us=med * 1e6,
                **{"min us": min(ts) * 1e6, "fastnn speedup": med / fast},
            )
    return [table]


if __name__ == "__main__":
    from _harness import cpu_summary

    print(cpu_summary() + "\n")
    for t in run(quick="--quick" in sys.argv):
        print(t.markdown())
