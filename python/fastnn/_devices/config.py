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
        "cuda_built": cuda.is_built(),
        "cuda_available": cuda.is_available(),
    }


def show_config() -> None:
    """Print the version, compiler, SIMD path, threads, and CUDA build / GPU status."""
    for key, value in config().items():
        print(f"{key:>15}: {value}")
