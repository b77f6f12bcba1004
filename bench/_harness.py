"""Benchmark discipline: check first, warm up, time many repeats, report medians.

Every bench_*.py module exposes ``run(quick: bool) -> list[Table]``; bench/run.py collects them
into one markdown report, so all ratios in it come from one run on one (noisy, shared) machine.
"""

import json
import os
import platform
import statistics
import time

import numpy as np


def timeit(fn, *, repeats=20, warmup=3, min_time=0.0):
    """Median and min seconds of fn() over `repeats` runs (at least min_time seconds in all)."""
    for _ in range(warmup):
        fn()
    times = []
    start = time.perf_counter()
    while len(times) < repeats or time.perf_counter() - start < min_time:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times)


def peak_gflops(threads, seconds=0.2):
    """GFLOP/s peak of `threads` cores: one core's float32 FMA throughput, measured now by
    timing a loop of independent vector FMAs on fastnn's active SIMD path (no assumed clock or
    pipe count), times the threads. A busy machine only lowers it."""
    from fastnn import _C

    return threads * _C.fma_peak_gflops("float32", seconds)


def gemm_gflops(n=1024, repeats=5):
    """fp32 GFLOP/s of one fastnn n x n x n matmul at the current thread count: the rate the
    micro-kernel sustains in this run (on this shared machine, next to the other timings)."""
    from fastnn import kernels

    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(np.float32)
    b = rng.standard_normal((n, n)).astype(np.float32)
    med, _ = timeit(lambda: kernels.matmul(a, b), repeats=repeats, warmup=1)
    return 2 * n**3 / med / 1e9


def copy_bandwidth(nbytes=400_000_000, repeats=10):
    """GB/s of a large numpy copy, counting bytes read plus bytes written (the memory roofline)."""
    src = np.ones(nbytes // 4, dtype=np.float32)
    dst = np.empty_like(src)
    med, _ = timeit(lambda: np.copyto(dst, src), repeats=repeats, warmup=2)
    return 2 * src.nbytes / med / 1e9


def cpu_summary():
    """One line: CPU model, SIMD features used, threads, library versions."""
    import fastnn
    from fastnn import kernels

    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    parts = [
        model,
        f"fastnn {fastnn.__version__} ISA path '{kernels.get_isa()}' (detected '{kernels.detected_isa()}')",
        f"threads {fastnn.get_num_threads()} of {len(os.sched_getaffinity(0))} cores",
        f"numpy {np.__version__}",
    ]
    torch = try_torch()
    if torch is not None:
        parts.append(f"torch {torch.__version__} ({torch.get_num_threads()} threads)")
    return "; ".join(parts)


def try_torch():
    try:
        import torch
    except ImportError:
        return None
    import fastnn

    torch.set_num_threads(fastnn.get_num_threads())
    return torch


def check_close(name, actual, expected, *, rtol, atol):
    """Refuse to time wrong code: raise if actual differs from the float64 reference."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if not np.allclose(actual, expected, rtol=rtol, atol=atol):
        err = np.max(np.abs(actual - expected))
        raise AssertionError(f"{name}: result differs from the reference (max abs err {err:.3g})")


class Table:
    """A titled markdown table; rows are dicts with the same keys as `columns`."""

    def __init__(self, title, columns, note=""):
        self.title, self.columns, self.note, self.rows = title, list(columns), note, []

    def add(self, **row):
        self.rows.append(row)
        return row

    def markdown(self):
        def fmt(v):
            if v is None:
                return "-"
            if isinstance(v, float):
                return f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"
            return str(v)

        lines = [f"### {self.title}", ""]
        if self.note:
            lines += [self.note, ""]
        lines.append("| " + " | ".join(self.columns) + " |")
        lines.append("|" + "|".join("---" for _ in self.columns) + "|")
        for row in self.rows:
            lines.append("| " + " | ".join(fmt(row.get(c)) for c in self.columns) + " |")
        return "\n".join(lines) + "\n"

    def as_json(self):
        return {"title": self.title, "note": self.note, "rows": self.rows}


def write_json(path, tables):
    with open(path, "w") as f:
        json.dump([t.as_json() for t in tables], f, indent=1)
