"""Pinned (page-locked) host memory: numpy arrays whose copies to the GPU are DMAs queued on the
current stream, so the host does not wait for them (``Tensor.pin_memory``,
``DataLoader(pin_memory=True)``, ``Tensor.to('cuda', non_blocking=True)``).

Pinned blocks come from a cache (``memory_stats``, ``empty_cache``); a block whose array is gone
is reused only after the copies queued from it have finished. Without a CUDA device nothing can
be pinned: ``pin`` raises torch's RuntimeError and ``is_pinned`` answers False.
"""

import numpy as np

from . import _module, _require, is_available

# torch's message when pinning without an accelerator
NO_ACCELERATOR = "Cannot access accelerator device when none is available."


def is_pinned(array) -> bool:
    """Whether a numpy array's memory is page-locked (by fastnn or another library); False
    without a CUDA device. Never raises for a missing GPU."""
    if not isinstance(array, np.ndarray) or not is_available():
        return False
    return bool(_module().is_pinned(array))


def pin(array):
    """A C-contiguous copy of a numpy array in pinned memory, or the array itself when it is
    already pinned and C-contiguous. RuntimeError without a CUDA device (as torch)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"pin_memory: expected a numpy.ndarray, got {type(array).__name__}")
    if not is_available():
        raise RuntimeError(NO_ACCELERATOR)
    mod = _module()
    if array.flags.c_contiguous and mod.is_pinned(array):
        return array
    return mod.pin_numpy(array)


def memory_stats() -> dict:
    """The pinned cache's figures: allocated / reserved bytes, cudaHostAlloc calls (host_allocs),
    cache hits, blocks waiting for queued copies (pending), staged pageable copies."""
    return _require().pinned_memory_stats()


def empty_cache() -> None:
    """Free the cached pinned blocks that no queued copy still reads."""
    _require().pinned_empty_cache()
