"""What MPI reads and writes: a Tensor's or an ndarray's own memory, without a copy.

Host arrays go to MPI through the buffer protocol. Device arrays go through
``__cuda_array_interface__`` when the MPI library is CUDA-aware (it reads device memory
itself); else through a host copy that is written back after the collective, the only path that
works with every MPI. The choice is made once per group (see ``_group._cuda_aware``)."""

import numpy as np

from . import _group


class Buf:
    """One buffer handed to MPI: ``mem`` is what mpi4py sees; ``finish()`` writes a host
    copy back to the device array it came from and bumps the tensor's version counter."""

    __slots__ = ("dev", "mem", "tensor")

    def __init__(self, mem, dev=None, tensor=None):
        self.mem = mem
        self.dev = dev
        self.tensor = tensor

    def finish(self, written=True):
        if written:
            if self.dev is not None:
                self.dev.copy_(self.mem)
            if self.tensor is not None:
                self.tensor._vc[0] += 1


def _storage(x, what):
    from .._tensor.core import Tensor

    if isinstance(x, Tensor):
        return x._data, x
    if isinstance(x, np.ndarray) or hasattr(x, "__cuda_array_interface__"):
        return x, None  # a host array, or a device array (fastnn's DeviceArray and the like)
    raise TypeError(
        f"{what} must be a fastnn Tensor or a numpy.ndarray (or a device array), got {type(x).__name__}"
    )


def buffer(x, what, *, writable=True):
    arr, tensor = _storage(x, what)
    if isinstance(arr, np.ndarray):
        if not arr.flags.c_contiguous:
            raise ValueError(
                f"{what} must be contiguous (MPI reads its memory in place); call .contiguous() "
                f"first (shape {tuple(arr.shape)}, strides {arr.strides})"
            )
        if writable and not arr.flags.writeable:
            raise ValueError(f"{what} is read-only; a collective writes into it")
        return Buf(arr, None, tensor)
    if _group.state.cuda_aware:
        return Buf(arr, None, tensor)
    host = np.ascontiguousarray(arr.numpy())
    return Buf(host, arr, tensor)


def dtype_of(x):
    arr, _ = _storage(x, "tensor")
    return np.dtype(arr.dtype)


def shape_of(x):
    arr, _ = _storage(x, "tensor")
    return tuple(arr.shape)
