"""GEMM throughput: fastnn.kernels.matmul vs NumPy (its BLAS) vs torch, float32, GFLOP/s.

Square sizes and the MLP training shapes (batch x in x out) with their backward GEMMs, for both
weight layouts: W as (in, out) (X@W+b, dX=dY@W^T, dW=X^T@dY) and nn.Linear's (out, in)
(X@W^T+b and the "Linear" backward rows). Each result is checked against the float64 reference
before it is timed. The libraries take turns for each shape, in rounds (_harness.compare), each
turn starting with >= 0.15 s of warm-up calls: BLAS worker threads keep spinning for a while after
a call, and on a 2-core machine a foreign spinner next to our own worker makes the first calls
after a switch meaningless (hundreds of microseconds of scheduler delay), so the warm-up lets the
other library's threads go to sleep first. Taking turns spreads the shared machine's slow
stretches over all three libraries instead of one library's single stretch of calls.
"""

import os
import sys

import numpy as np

import fastnn
from _harness import Table, check_close, compare, copy_bandwidth, peak_gflops, try_torch
from fastnn import _C, kernels

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
import reference


def arithmetic_intensity(m, k, n):
    """FLOPs per byte of float32 operand traffic if each of A, B and C crosses memory once."""
    return 2.0 * m * n * k / (4.0 * (m * k + k * n + m * n))


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
    # the MLP 784-256-10 of bench_train.py at batch 256 and 32, and the softmax regression 784-10
    layers = [(256, 784, 256), (256, 256, 10), (256, 784, 10), (32, 784, 256), (32, 256, 10)]
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
    peak = peak_gflops(threads)
    bandwidth = copy_bandwidth(nbytes=4 << 20, repeats=50)  # L2-sized: the MLP operands fit there
    cfg = _C.gemm_config()
    rows = []
    warm = 0.05 if quick else 0.15  # seconds of warm-up per turn
    rounds, calls = (2, 5) if quick else (3, 7)
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
        fns = {"fastnn": f_fastnn, "numpy": f_numpy}
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

            fns["torch"] = f_torch
        times = compare(fns, rounds=rounds, calls=calls, warmup=0, warm_s=warm)
        t_f, t_n = times["fastnn"][0], times["numpy"][0]
        t_t = times["torch"][0] if torch is not None else None
        g = [None if t is None else flops / t / 1e9 for t in (t_f, t_n, t_t)]
        ai = arithmetic_intensity(m, k, n)
        rows.append(
            {
                "shape (M x K x N)": f"{m}x{k}x{n}",
                "op": label,
                "fastnn": g[0],
                "numpy": g[1],
                "torch": g[2],
                "vs numpy": t_n / t_f,
                "vs torch": None if t_t is None else t_t / t_f,
                "flop/B": ai,
                "bound": "FMA" if ai * bandwidth >= peak else "bandwidth",
                "% of bound": 0.0,
            }
        )
    peak = max(peak, peak_gflops(threads))
    k32 = cfg["float32"]
    table = Table(
        f"matmul float32, {threads} threads: GFLOP/s (median of {rounds * calls} calls in {rounds} turns)",
        [
            *("shape (M x K x N)", "op", "fastnn", "numpy", "torch", "vs numpy", "vs torch"),
            *("% peak", "flop/B", "bound", "% of bound"),
        ],
        note=(
            f"% peak = fastnn GFLOP/s / {peak:.0f} GFLOP/s, the FMA peak measured in this run "
            f"({threads} threads x an FMA loop's throughput). flop/B = 2MNK / (4(MK + KN + MN)); "
            f"'bound' = the lower of the peak and flop/B x {bandwidth:.0f} GB/s (a 4 MiB copy, "
            "read + write: the operands here are cache-resident), '% of bound' = fastnn against "
            "that limit. 'op' names the operand layouts: W^T / X^T are transposed views, never "
            "copies. numpy adds the bias in a second pass (X@W + b). Blocking from the caches "
            f"({cfg['cache_source']}: L1d {cfg['l1d'] >> 10} KiB, L2 {cfg['l2'] >> 10} KiB, L3 "
            f"{cfg['l3_per_core'] >> 10} KiB/core): MR x NR {k32['MR']}x{k32['NR']}, "
            f"KC {k32['KC']}, MC {k32['MC']}, NC {k32['NC']}; where C outgrows the L2 KC "
            f"{k32['deep_KC']}, MC {k32['deep_MC']}."
        ),
        readme=[
            {
                "what": "matmul float32, square 256^3 and up",
                "where": lambda r: r["op"].endswith("^3") and int(r["op"][:-2]) >= 256,
                **_README_COLUMNS,
            },
            {
                "what": "matmul float32 at nn.Linear's shapes (MLP 784-256-10), fwd and bwd GEMMs",
                "where": lambda r: not r["op"].endswith("^3"),
                **_README_COLUMNS,
            },
        ],
    )
    for row in rows:
        limit = min(peak, row["flop/B"] * bandwidth)
        row["bound"] = "FMA" if row["flop/B"] * bandwidth >= peak else "bandwidth"
        row["% peak"] = 100.0 * row["fastnn"] / peak
        row["% of bound"] = 100.0 * row["fastnn"] / limit
        table.add(**row)
    return [table]
