"""GEMM throughput: fastnn.kernels.matmul vs NumPy (its BLAS) vs torch, float32, GFLOP/s.

Square sizes and the MLP training shapes (batch x in x out) with their backward GEMMs, for both
weight layouts: W as (in, out) (X@W+b, dX=dY@W^T, dW=X^T@dY) and nn.Linear's (out, in)
(X@W^T+b and the "Linear" backward rows). Each result is checked against the float64 reference
before it is timed. The libraries are timed one after another for each shape, each after >= 0.2 s
of warm-up calls: BLAS worker threads keep spinning for a while after a call, and on a 2-core
machine a foreign spinner next to our own worker makes the first calls after a switch meaningless
(hundreds of microseconds of scheduler delay), so the warm-up lets the other library's threads go
to sleep first.
"""

import os
import sys
import time

import numpy as np

import fastnn
from _harness import Table, check_close, limits, timeit, try_torch
from fastnn import kernels

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
import reference

_README_COLUMNS = {
    "torch": "vs torch",
    "numpy": "vs numpy",
    "limit": "% peak",
    "limit_scale": 0.01,
    "limit_name": "FMA peak",
}


def configs(quick):
    squares = [64, 256, 1024] if quick else [64, 128, 256, 512, 1024, 2048]
    rows = [(f"{n}^3", n, n, n, False, False, False) for n in squares]
    layers = [(256, 784, 256), (256, 256, 10), (256, 784, 10)]
    if quick:
        layers = layers[:2]
    for batch, fin, fout in layers:
        tag = f"{batch}x{fin}x{fout}"
        rows += [
            (f"{tag} fwd X@W+b", batch, fin, fout, False, False, True),
            (f"{tag} fwd X@W^T+b", batch, fin, fout, False, True, True),
            (f"{tag} dX=dY@W^T", batch, fout, fin, False, True, False),
            (f"{tag} dW=X^T@dY", fin, batch, fout, True, False, False),
            # nn.Linear's backward with its (out, in) weight: dX = dY @ W, dW = dY^T @ X.
            (f"{tag} Linear dX=dY@W", batch, fout, fin, False, False, False),
            (f"{tag} Linear dW=dY^T@X", fout, batch, fin, True, False, False),
        ]
    return rows


def run(quick=False):
    torch = try_torch()
    threads = fastnn.get_num_threads()
    rng = np.random.default_rng(0)
    # The compute limit, measured in this run: one core's FMA probe x the threads (no clock or
    # pipe count assumed).
    peak = limits()["fma_gflops_all"]
    table = Table(
        f"matmul float32, {threads} threads: GFLOP/s (median of >= 20 calls)",
        ["shape (M x K x N)", "op", "fastnn", "numpy", "torch", "vs numpy", "vs torch", "% peak"],
        note=(
            f"% peak = fastnn GFLOP/s / the FMA limit measured in this run ({threads} threads x "
            f"one core's FMA probe = {peak:.0f} GFLOP/s). "
            "'op' names the operand layouts: W^T / X^T are transposed views, never copies. "
            "numpy adds the bias in a second pass (X@W + b)."
        ),
        readme=[
            {
                "what": "matmul float32, square 256^3 and up",
                "where": lambda r: r["op"].endswith("^3") and r["op"] != "64^3",
                **_README_COLUMNS,
            },
            {
                "what": "matmul float32 at nn.Linear's shapes (batch 256), fwd and bwd GEMMs",
                "where": lambda r: not r["op"].endswith("^3"),
                **_README_COLUMNS,
            },
        ],
    )
    warm = 0.05 if quick else 0.2
    repeats = 10 if quick else 20
    for label, m, k, n, ta, tb, with_bias in configs(quick):
        a = rng.standard_normal((k, m) if ta else (m, k)).astype(np.float32)
        b = rng.standard_normal((n, k) if tb else (k, n)).astype(np.float32)
        bias = rng.standard_normal(n).astype(np.float32) if with_bias else None
        av, bv = (a.T if ta else a), (b.T if tb else b)
        out = np.empty((m, n), np.float32)

        def f_fastnn():
            kernels.matmul(a, b, trans_a=ta, trans_b=tb, bias=bias, out=out)

        def f_numpy():
            r = np.matmul(av, bv)
            if bias is not None:
                r += bias

        f_fastnn()
        expected = reference.matmul(a, b, trans_a=ta, trans_b=tb, bias=bias)
        scale = np.sqrt(k) * np.abs(a).max() * np.abs(b).max()
        check_close(f"matmul {label}", out, expected, rtol=0, atol=3e-6 * scale)

        flops = 2.0 * m * n * k
        t_f = _timed(f_fastnn, repeats, warm)
        t_n = _timed(f_numpy, repeats, warm)
        t_t = None
        if torch is not None:
            ta_t = torch.from_numpy(a).T if ta else torch.from_numpy(a)
            tb_t = torch.from_numpy(b).T if tb else torch.from_numpy(b)
            out_t = torch.from_numpy(out)
            bias_t = torch.from_numpy(bias) if bias is not None else None

            def f_torch():
                with torch.no_grad():
                    if bias_t is not None:
                        torch.addmm(bias_t, ta_t, tb_t, out=out_t)
                    else:
                        torch.mm(ta_t, tb_t, out=out_t)

            t_t = _timed(f_torch, repeats, warm)
        g = [None if t is None else flops / t / 1e9 for t in (t_f, t_n, t_t)]
        table.add(
            **{
                "shape (M x K x N)": f"{m}x{k}x{n}",
                "op": label,
                "fastnn": g[0],
                "numpy": g[1],
                "torch": g[2],
                "vs numpy": t_n / t_f,
                "vs torch": None if t_t is None else t_t / t_f,
                "% peak": 100.0 * g[0] / peak,
            }
        )
    return [table]


def _timed(fn, repeats, warm):
    """Median seconds per call after `warm` seconds of warm-up calls (see the module docstring)."""
    start = time.perf_counter()
    while time.perf_counter() - start < warm:
        fn()
    med, _ = timeit(fn, repeats=repeats, warmup=1)
    return med
