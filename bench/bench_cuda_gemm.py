"""CUDA float32 GEMM: GFLOP/s of fastnn's kernel at 4096^3 (every transpose) and at the MLP's
shapes (batch 256, 784 -> 256 -> 256 -> 10: forward, dX and dW of each layer) against
torch.matmul with TF32 off (cuBLAS, full fp32) when torch has CUDA here, as a fraction of it.
Each result is checked against a float64 NumPy product before it is timed; every sample times a
run of back-to-back calls (small GEMMs take microseconds), with CUDA events when torch has CUDA,
else synchronize + clock. Returns [] (with a note on stderr) where there is no GPU.

    python bench/bench_cuda_gemm.py [--quick]
"""

import statistics
import sys
import time

import numpy as np

from _harness import Table, check_close
from fastnn import cuda


def _torch_cuda():
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


def _time_ms(fn, torch, *, samples, inner):
    """Median milliseconds per call of fn(), from `samples` runs of `inner` calls each."""
    for _ in range(3):
        fn()
    cuda.synchronize()
    if torch is not None:
        torch.cuda.synchronize()
    times = []
    for _ in range(samples):
        if torch is not None:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(inner):
                fn()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end) / inner)
        else:
            t0 = time.perf_counter()
            for _ in range(inner):
                fn()
            cuda.synchronize()
            times.append((time.perf_counter() - t0) * 1e3 / inner)
    return statistics.median(times)


def _op(x, t):
    return x.T if t else x


# (label, M, N, K, trans_a, trans_b, bias) with op(A) (M, K), op(B) (K, N).
def _mlp_shapes():
    rows = []
    for fan_in, fan_out in [(784, 256), (256, 256), (256, 10)]:
        tag = f"{fan_in}->{fan_out}"
        # y = x @ W^T + b;  dX = dY @ W;  dW = dY^T @ x  (x: (256, in), W: (out, in)).
        rows.append((f"{tag} forward", 256, fan_out, fan_in, False, True, True))
        rows.append((f"{tag} dX", 256, fan_in, fan_out, False, False, False))
        rows.append((f"{tag} dW", fan_out, fan_in, 256, True, False, False))
    return rows


def _gemm_table(title, shapes, torch, ck, samples):
    from fastnn import _cuda

    table = Table(
        title,
        [
            "shape",
            "M x N x K",
            "plan",
            "fastnn ms",
            "fastnn GFLOP/s",
            "cuBLAS ms",
            "cuBLAS GFLOP/s",
            "fraction of cuBLAS",
        ],
        note="torch.backends.cuda.matmul.allow_tf32 = False: both sides exact fp32 FMA",
    )
    rng = np.random.default_rng(0)
    for label, m, n, k, ta, tb, with_bias in shapes:
        a = rng.standard_normal((k, m) if ta else (m, k), dtype=np.float32)
        b = rng.standard_normal((n, k) if tb else (k, n), dtype=np.float32)
        bias = rng.standard_normal(n, dtype=np.float32) if with_bias else None
        da, db = cuda.from_numpy(a), cuda.from_numpy(b)
        dbias = None if bias is None else cuda.from_numpy(bias)
        out = cuda.empty((m, n))
        got = ck.matmul(da, db, trans_a=ta, trans_b=tb, bias=dbias).numpy()
        want = _op(a.astype(np.float64), ta) @ _op(b.astype(np.float64), tb)
        if bias is not None:
            want = want + bias
        check_close(label, got, want, rtol=1e-3, atol=1e-3 * np.sqrt(k))
        flop = 2.0 * m * n * k
        inner = max(1, min(200, int(2e10 / flop)))
        ms = _time_ms(
            lambda: ck.matmul(da, db, trans_a=ta, trans_b=tb, out=out, bias=dbias),
            torch,
            samples=samples,
            inner=inner,
        )
        p = _cuda._gemm_plan(1, m, n, k)
        plan = f"{p['tile_m']}x{p['tile_n']}" + (f" split {p['splits']}" if p["splits"] > 1 else "")
        row = {
            "shape": label,
            "M x N x K": f"{m} x {n} x {k}",
            "plan": plan,
            "fastnn ms": ms,
            "fastnn GFLOP/s": flop / ms / 1e6,
        }
        if torch is not None:
            ta_t, tb_t = torch.from_dlpack(da), torch.from_dlpack(db)
            tbias = None if dbias is None else torch.from_dlpack(dbias)
            lhs, rhs = (ta_t.T if ta else ta_t), (tb_t.T if tb else tb_t)

            def ref():
                return torch.addmm(tbias, lhs, rhs) if tbias is not None else lhs @ rhs

            check_close(label + " (torch)", ref().cpu().numpy(), want, rtol=1e-3, atol=1e-2)
            tms = _time_ms(ref, torch, samples=samples, inner=inner)
            row.update(
                {
                    "cuBLAS ms": tms,
                    "cuBLAS GFLOP/s": flop / tms / 1e6,
                    "fraction of cuBLAS": tms / ms,
                }
            )
        table.add(**row)
    return table


def run(quick: bool):
    if not cuda.is_available():
        why = "fastnn built without CUDA" if not cuda.is_built() else "no CUDA GPU on this machine"
        print(f"bench_cuda_gemm: skipped ({why})", file=sys.stderr)
        return []
    from fastnn.cuda import kernels as ck

    torch = _torch_cuda()
    if torch is not None:
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    else:
        print("bench_cuda_gemm: torch without CUDA here, no cuBLAS column", file=sys.stderr)
    samples = 10 if quick else 25
    n = 2048 if quick else 4096
    square = [
        (f"{n}^3 {'T' if ta else 'N'}{'T' if tb else 'N'}", n, n, n, ta, tb, False)
        for ta, tb in (
            [(False, False)]
            if quick
            else [(False, False), (False, True), (True, False), (True, True)]
        )
    ]
    return [
        _gemm_table(f"CUDA SGEMM {n}^3, float32", square, torch, ck, samples),
        _gemm_table(
            "CUDA SGEMM at the MLP's shapes (batch 256)", _mlp_shapes(), torch, ck, samples
        ),
    ]


if __name__ == "__main__":
    for t in run(quick="--quick" in sys.argv):
        print(t.markdown())
