"""Benchmark discipline: check first, warm up, time many repeats, report medians.

Every bench_*.py module exposes ``run(quick: bool) -> list[Table]``; bench/run.py collects them
into one markdown report, so all ratios in it come from one run on one (noisy, shared) machine.
"""

import json
import os
import platform
import statistics
import textwrap
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


# ---- the machine's limits, measured in this run -------------------------------------------------
# Fractions of a limit are only honest against limits measured here and now: the clock under load,
# the FMA pipes and the memory system differ between CPU models and between runs on a shared VM.
# Both limits are the best of several repeats (a limit is what the machine can do when nothing
# interferes), so the fractions quoted against them are, if anything, low. Both run on the calling
# thread alone and are timed with its CPU clock (time.thread_time), which stops while the thread
# waits for a core: on a shared machine wall time would make the limit depend on the neighbours.

_LIMITS = {}


def _l3_bytes():
    try:
        with open("/sys/devices/system/cpu/cpu0/cache/index3/size") as f:
            text = f.read().strip()
        scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1], 1)
        return int(text.rstrip("KMG")) * scale
    except (OSError, ValueError):
        return 32 << 20


def fma_peak_gflops(seconds=0.15):
    """GFLOP/s one core sustains in fastnn's FMA loop on the active ISA path (float32)."""
    from fastnn import _C

    return _C.fma_peak_gflops("float32", seconds)


def peak_gflops(threads, seconds=0.2):
    """GFLOP/s peak of `threads` cores: one core's FMA loop timed now, times the threads."""
    return threads * fma_peak_gflops(seconds)


def gemm_gflops(n=1024, repeats=5):
    """fp32 GFLOP/s of one fastnn n x n x n matmul at the current thread count: the rate the
    micro-kernel sustains in this run (on this shared machine, next to the other timings)."""
    from fastnn import kernels

    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(np.float32)
    b = rng.standard_normal((n, n)).astype(np.float32)
    med, _ = timeit(lambda: kernels.matmul(a, b), repeats=repeats, warmup=1)
    return 2 * n**3 / med / 1e9


def copy_bandwidth(nbytes=None, repeats=8):
    """GB/s of a numpy copy between two arrays each twice the L3 (at least 64 MB), counting bytes
    read plus bytes written: the memory roofline of a streaming kernel. Best of `repeats`."""
    nbytes = nbytes or max(64 << 20, 2 * _l3_bytes())
    src = np.ones(nbytes // 4, dtype=np.float32)
    dst = np.ones_like(src)  # pages touched before timing
    np.copyto(dst, src)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.thread_time()
        np.copyto(dst, src)
        best = min(best, time.thread_time() - t0)
    return 2 * src.nbytes / best / 1e9


def limits():
    """The measured limits of this run, measured once (the first call) and shared by all suites:
    fma_gflops (one core), fma_gflops_all (x fastnn's threads), copy_gbs (read + write)."""
    if not _LIMITS:
        import fastnn

        threads = fastnn.get_num_threads()
        core = fma_peak_gflops()
        _LIMITS.update(
            fma_gflops=core,
            fma_gflops_all=core * threads,
            copy_gbs=copy_bandwidth(),
            threads=threads,
        )
    return dict(_LIMITS)


def limits_summary():
    lim = limits()
    return (
        f"measured limits: FMA {lim['fma_gflops']:.0f} GFLOP/s per core float32 (fastnn's FMA "
        f"probe on this path; x {lim['threads']} threads = {lim['fma_gflops_all']:.0f}), copy "
        f"{lim['copy_gbs']:.1f} GB/s (read + write, arrays twice the L3)"
    )


def cpu_model():
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            fields = dict(
                line.split(":", 1) for line in f if ":" in line and not line.startswith("flags")
            )
    except OSError:
        return model
    name = fields.get("model name\t", model).strip()
    fam, mod = fields.get("cpu family\t", "").strip(), fields.get("model\t\t", "").strip()
    return f"{name} (family {fam} model {mod})" if fam else name


def cpu_summary():
    """One line: CPU model, SIMD path fastnn chose, each library's threads, versions."""
    import fastnn
    from fastnn import kernels

    parts = [
        cpu_model(),
        (
            f"fastnn {fastnn.__version__} ISA path '{kernels.get_isa()}' (detected "
            f"'{kernels.detected_isa()}'), {fastnn.get_num_threads()} threads of "
            f"{len(os.sched_getaffinity(0))} cores"
        ),
        f"numpy {np.__version__}",
    ]
    torch = try_torch()
    if torch is not None:
        parts.append(f"torch {torch.__version__} ({torch.get_num_threads()} threads)")
    return "; ".join(parts)


# ---- timing several libraries in one run ---------------------------------------------------------
# Each library has its own worker threads (fastnn's pool, torch's OpenMP team, NumPy's BLAS), and
# they spin for a while after a call before sleeping. On a machine with few cores a foreign spinner
# next to our own workers delays the first calls after a switch by hundreds of microseconds. So each
# library is timed in its own stretch: a pause for the others' workers to go to sleep, untimed calls
# that wake its own, then the timed calls; the libraries take turns, round after round, and the
# medians over all rounds are reported (the machine is shared, so interleaving spreads its noise).
# The warm-up is measured in time, not in calls: after even a short idle this VM runs the next few
# milliseconds of work up to 2x slower (the host's power state, most likely), so one untimed call
# of 100 us leaves the timed ones in that slow stretch, and one of a millisecond does too (the
# CNN's first convolution on two threads, one untimed call before each: fastnn 1.62-1.70 ms,
# torch 2.84-3.16; after 20 ms of untimed calls 0.97 and 1.99). compare warms each stretch for
# WARM_AFTER_SETTLE_S unless told otherwise; calls longer than that get their one untimed call.

SETTLE_S = 0.005
WARM_AFTER_SETTLE_S = 0.02


def compare(fns, rounds=5, calls=3, warmup=1, settle=SETTLE_S, warm_s=WARM_AFTER_SETTLE_S):
    """{name: (median s, min s)} of each fn in `fns` (a dict), timed as described above; each
    stretch starts with `warmup` untimed calls and goes on with more until `warm_s` seconds
    have passed."""
    times = {name: [] for name in fns}
    for r in range(rounds):
        names = list(fns)
        names = names[r % len(names) :] + names[: r % len(names)]  # rotate who goes first
        for name in names:
            fn = fns[name]
            time.sleep(settle)
            start = time.perf_counter()
            for _ in range(warmup):
                fn()
            while time.perf_counter() - start < warm_s:
                fn()
            for _ in range(calls):
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
    return {name: (statistics.median(t), min(t)) for name, t in times.items()}


def interleaved_batches(fns, calls, rounds, settle=0.0):
    """Per-call seconds of each fn over ``rounds`` rounds of ``calls`` calls each, the fns'
    batches alternating within a round: (median, min) per fn, and the median over the rounds of
    each fn's time divided by the first fn's in the same round (a load spike on the shared
    machine then spoils one round's ratio, not a whole column). For calls of microseconds, where
    a timer read per call would weigh on the figure. ``settle`` > 0: that pause, then untimed
    calls for WARM_AFTER_SETTLE_S, before each batch, so that one library's spinning workers
    (torch's OpenMP threads at their default wait policy) are asleep when the next library runs
    and the VM is past its slow start after the idle; needed where the fns use more than one
    thread."""
    for fn in fns:  # warm up
        for _ in range(max(calls // 4, 2)):
            fn()
    times = [[] for _ in fns]
    for _ in range(rounds):
        for fn, ts in zip(fns, times):
            if settle > 0:
                time.sleep(settle)
                start = time.perf_counter()
                while time.perf_counter() - start < WARM_AFTER_SETTLE_S:
                    fn()
            t0 = time.perf_counter()
            for _ in range(calls):
                fn()
            ts.append((time.perf_counter() - t0) / calls)
    stats = [(statistics.median(ts), min(ts)) for ts in times]
    ratios = [statistics.median(t / f for t, f in zip(ts, times[0])) for ts in times]
    return stats, ratios


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
    """A titled markdown table; rows are dicts with the same keys as `columns`.

    readme: how the table enters the README's summary (``run.py --markdown``): a dict, or a list
    of them, with "what" (the row's label) and the column names holding "torch" (torch's time /
    fastnn's), "numpy" (the same for NumPy) and "limit" (a fraction of a measured limit; with
    "limit_scale" to turn a percentage into a fraction and "limit_name" to say which limit), and
    optionally "where" (row -> bool) to summarize only some rows."""

    def __init__(self, title, columns, note="", readme=None):
        self.title, self.columns, self.note, self.rows = title, list(columns), note, []
        self.readme = [readme] if isinstance(readme, dict) else list(readme or [])

    def add(self, **row):
        self.rows.append(row)
        return row

    def markdown(self):
        lines = [f"### {self.title}", ""]
        if self.note:
            lines += [self.note, ""]
        lines.append("| " + " | ".join(self.columns) + " |")
        lines.append("|" + "|".join("---" for _ in self.columns) + "|")
        for row in self.rows:
            lines.append("| " + " | ".join(_fmt(row.get(c)) for c in self.columns) + " |")
        return "\n".join(lines) + "\n"

    def summary_rows(self):
        """The README rows of this table: ranges over its rows (see `readme`)."""
        out = []
        for spec in self.readme:
            rows = [r for r in self.rows if spec.get("where", lambda r: True)(r)]
            if not rows:
                continue
            scale = spec.get("limit_scale", 1.0)
            out.append(
                {
                    "what": spec["what"],
                    "vs PyTorch": _span([r.get(spec.get("torch")) for r in rows], "x"),
                    "vs NumPy": _span([r.get(spec.get("numpy")) for r in rows], "x"),
                    "of the measured limit": _span(
                        [
                            None if r.get(spec.get("limit")) is None else r[spec["limit"]] * scale
                            for r in rows
                        ],
                        " of " + spec.get("limit_name", ""),
                    ),
                }
            )
        return out

    def as_json(self):
        return {"title": self.title, "note": self.note, "rows": self.rows}


def _fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"
    return str(v)


def _span(values, unit):
    """'a-b<unit>' over the values that are there ('-' when none is)."""
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    lo, hi = (_num(v) for v in (min(values), max(values)))
    return ((lo if lo == hi else f"{lo}-{hi}") + unit).rstrip()


def _num(v):
    """Two significant digits, without exponents: 0.042, 1.5, 37, 1200."""
    return f"{v:.2g}" if abs(v) < 9.95 else f"{v:.0f}"


def readme_markdown(tables, header):
    """The README's "How fast" table from this run's tables (those with a `readme` spec)."""
    cols = ["what", "vs PyTorch", "vs NumPy", "of the measured limit"]
    lines = [textwrap.fill(header, 100), ""]
    lines += ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for table in tables:
        for row in table.summary_rows():
            lines.append("| " + " | ".join(row[c] for c in cols) + " |")
    return "\n".join(lines) + "\n"


def write_json(path, tables):
    with open(path, "w") as f:
        json.dump([t.as_json() for t in tables], f, indent=1)
