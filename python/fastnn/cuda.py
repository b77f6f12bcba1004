"""The optional CUDA backend. Importing fastnn never loads it; the first call here does."""

import functools


@functools.lru_cache(maxsize=None)
def _module():
    """fastnn._cuda, or None when it was not built or cannot load (no driver, wrong libc...)."""
    try:
        from . import _cuda
    except ImportError:
        return None
    return _cuda


def is_built() -> bool:
    """True when this fastnn was compiled with its CUDA module."""
    from . import _C

    return bool(_C.built_with_cuda)


def device_count() -> int:
    """Number of visible CUDA devices; 0 without the module, a driver or a GPU (never raises)."""
    mod = _module()
    if mod is None:
        return 0
    try:
        return int(mod.device_count())
    except Exception:
        return 0


def is_available() -> bool:
    """True when fastnn can run on a GPU here. Never raises."""
    return device_count() > 0
