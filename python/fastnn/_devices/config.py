"""Threads, the SIMD path and a summary of the build (``fastnn.show_config()``)."""

import platform
import sys

from .. import _C


def get_num_threads() -> int:
    """Threads the CPU kernels use (default: the cores this process may run on)."""
    return _C.get_num_threads()


def set_num_threads(n: int) -> None:
    """Set the threads the CPU kernels use (``n >= 1``)."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"set_num_threads: n must be an int, got {type(n).__name__}")
    _C.set_num_threads(n)


def config() -> dict:
    """The facts ``show_config`` prints, as a dict."""
    from .. import cuda

    return {
        "fastnn": _C.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "compiler": _C.compiler,
        "isa": _C.get_isa(),
        "isa_detected": _C.detected_isa(),
        "num_threads": _C.get_num_threads(),
        "caches": _caches(),
        "gemm_blocking": _gemm_blocking(),
        "freed_memory": _heap(),
        "cuda_built": cuda.is_built(),
        "cuda_available": cuda.is_available(),
    }


def _caches() -> str:
    c = _C.gemm_config()
    if c["cache_source"] == "none":
        return "unknown (the GEMM uses its built-in blocking)"
    return (
        f"L1d {c['l1d'] >> 10} KiB, L2 {c['l2'] >> 10} KiB, L3 {c['l3_per_core'] >> 10} KiB "
        f"per core (from {c['cache_source']})"
    )


def _heap() -> str:
    h = _C.heap_policy()
    if not h["keeps_freed"]:
        return f"left to the C library ({h['reason']})"
    return (
        f"kept for reuse: blocks under {h['mmap_threshold'] >> 20} MiB, "
        f"up to {h['trim_threshold'] >> 20} MiB free at the heap's top"
    )


def _gemm_blocking() -> str:
    """The packed GEMM's register tile and cache blocks on the active SIMD path, per dtype."""
    c = _C.gemm_config()
    return "; ".join(
        f"{dt} MRxNR {k['MR']}x{k['NR']} KC {k['KC']} MC {k['MC']} NC {k['NC']}"
        f" (C past L2: KC {k['deep_KC']} MC {k['deep_MC']})"
        for dt, k in ((dt, c[dt]) for dt in ("float32", "float64"))
    )


def show_config() -> None:
    """Print the version, compiler, SIMD path, threads, caches, GEMM blocking, what happens to
    freed tensor memory, and CUDA build / GPU status."""
    for key, value in config().items():
        print(f"{key:>15}: {value}")
