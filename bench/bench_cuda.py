"""CUDA benchmarks: SGEMM GFLOP/s vs torch.matmul (TF32 off), Adam over ~100M parameters
in GB/s vs the device copy bandwidth and torch.optim.Adam(fused=True), softmax cross-entropy vs
torch. Results are checked against the CPU kernels / torch before timing; medians of >= 20
repeats, each timed with CUDA events (torch's, when torch has CUDA) or synchronize + clock.
Returns [] (with a note on stderr) where there is no GPU."""

import functools
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


def _time(fn, repeats, torch):
    """Median and min milliseconds of fn() on the GPU."""
    for _ in range(3):
        fn()
    cuda.synchronize()
    times = []
    for _ in range(repeats):
        if torch is not None:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end))
        else:
            t0 = time.perf_counter()
            fn()
            cuda.synchronize()
            times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), min(times)


def _sgemm(quick, torch, ck, repeats):
    table = Table(
        "CUDA SGEMM, float32 (C = A @ B)",
        ["n", "fastnn ms", "fastnn GFLOP/s", "torch ms", "torch GFLOP/s", "fastnn / torch"],
        note="torch.backends.cuda.matmul.allow_tf32 = False (full fp32 on both sides)",
    )
    if torch is not None:
        torch.backends.cuda.matmul.allow_tf32 = False
    rng = np.random.default_rng(0)
    for n in [1024, 2048] if quick else [1024, 2048, 4096, 8192]:
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        da, db = cuda.from_numpy(a), cuda.from_numpy(b)
        out = cuda.empty((n, n))
        if n <= 2048:
            check_close(
                "sgemm", ck.matmul(da, db).numpy(), a.astype(np.float64) @ b, rtol=1e-3, atol=1e-2
            )
        ms, _ = _time(lambda: ck.matmul(da, db, out=out), repeats, torch)
        row = {"n": n, "fastnn ms": ms, "fastnn GFLOP/s": 2 * n**3 / ms / 1e6}
        if torch is not None:
            ta, tb = torch.from_dlpack(da), torch.from_dlpack(db)
            tms, _ = _time(lambda: torch.matmul(ta, tb), repeats, torch)
            row.update(
                {"torch ms": tms, "torch GFLOP/s": 2 * n**3 / tms / 1e6, "fastnn / torch": tms / ms}
            )
        table.add(**row)
    return table


def _adam(quick, torch, ck, repeats):
    n_total = 10_000_000 if quick else 100_000_000
    table = Table(
        f"CUDA Adam step, float32, {n_total / 1e6:.0f}M parameters",
        ["tensors", "fastnn ms", "fastnn GB/s", "copy GB/s", "torch fused ms", "fastnn / torch"],
        note="GB/s counts 4 arrays read + 3 written (param, grad, exp_avg, exp_avg_sq); "
        "copy GB/s is a device-to-device copy (read + write) of the same bytes",
    )
    mod = cuda._require()
    for n_tensors in [1, 100]:
        size = n_total // n_tensors
        params = [cuda.zeros((size,)).fill_(1.0) for _ in range(n_tensors)]
        grads = [cuda.zeros((size,)).fill_(0.01) for _ in range(n_tensors)]
        m = [cuda.zeros((size,)) for _ in range(n_tensors)]
        v = [cuda.zeros((size,)) for _ in range(n_tensors)]
        ck.adam_step(params, grads, m, v, lr=1e-3, step=1)
        check_close("adam", params[0].numpy()[:10], np.full(10, 1.0 - 1e-3), rtol=1e-5, atol=1e-6)
        ms, _ = _time(
            functools.partial(ck.adam_step, params, grads, m, v, lr=1e-3, step=2), repeats, torch
        )
        nbytes = 7 * 4 * size * n_tensors
        src, dst = params[0], grads[0]
        cms, _ = _time(lambda: dst.copy_(src), repeats, torch)
        row = {
            "tensors": n_tensors,
            "fastnn ms": ms,
            "fastnn GB/s": nbytes / ms / 1e6,
            "copy GB/s": 2 * 4 * size / cms / 1e6,
        }
        if torch is not None:
            tp = [torch.ones(size, device="cuda", requires_grad=True) for _ in range(n_tensors)]
            for p in tp:
                p.grad = torch.full_like(p, 0.01)
            opt = torch.optim.Adam(tp, lr=1e-3, fused=True)
            tms, _ = _time(opt.step, repeats, torch)
            row.update({"torch fused ms": tms, "fastnn / torch": tms / ms})
            del tp, opt
        table.add(**row)
        del params, grads, m, v
        mod.empty_cache()
    return table


def _xent(quick, torch, ck, repeats):
    table = Table(
        "CUDA softmax cross-entropy forward + backward (fused), float32",
        ["N x C", "fastnn ms", "fastnn GB/s", "torch ms", "fastnn / torch"],
        note="GB/s counts logits read twice + dlogits written once",
    )
    rng = np.random.default_rng(0)
    shapes = [(4096, 1000)] if quick else [(4096, 1000), (8192, 32000), (65536, 10)]
    for N, C in shapes:
        z = rng.standard_normal((N, C), dtype=np.float32)
        y = rng.integers(0, C, N)
        dz, dy = cuda.from_numpy(z), cuda.from_numpy(y)
        loss, _ = ck.softmax_cross_entropy(dz, dy, grad=True)
        zz = z.astype(np.float64)
        lse = np.log(np.exp(zz - zz.max(1, keepdims=True)).sum(1)) + zz.max(1)
        check_close("xent", loss.numpy(), np.mean(lse - zz[np.arange(N), y]), rtol=1e-4, atol=1e-5)
        ms, _ = _time(lambda: ck.softmax_cross_entropy(dz, dy, grad=True), repeats, torch)
        row = {"N x C": f"{N} x {C}", "fastnn ms": ms, "fastnn GB/s": 3 * z.nbytes / ms / 1e6}
        if torch is not None:
            tz = torch.from_dlpack(dz).clone().requires_grad_(True)
            ty = torch.from_dlpack(dy)

            def step():
                tz.grad = None
                torch.nn.functional.cross_entropy(tz, ty).backward()

            tms, _ = _time(step, repeats, torch)
            row.update({"torch ms": tms, "fastnn / torch": tms / ms})
        table.add(**row)
    return table


def run(quick: bool):
    if not cuda.is_available():
        why = "fastnn built without CUDA" if not cuda.is_built() else "no CUDA GPU on this machine"
        print(f"bench_cuda: skipped ({why})", file=sys.stderr)
        return []
    from fastnn.cuda import kernels as ck

    torch = _torch_cuda()
    repeats = 20 if quick else 30
    return [
        _sgemm(quick, torch, ck, repeats),
        _adam(quick, torch, ck, repeats),
        _xent(quick, torch, ck, repeats),
    ]
