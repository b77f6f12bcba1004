"""``Tensor.share_memory_`` / ``is_shared`` (a mixin of ``Tensor``): host storage other processes
map too.

``share_memory_`` copies the tensor's values into a file mapping (a file in ``/dev/shm`` where
there is one, mapped ``MAP_SHARED``) and makes that mapping the tensor's storage. Processes forked
afterwards inherit the mapping; ``fastnn.multiprocessing`` (its ``Process`` arguments under
'spawn', its queues and pipes, which pickle with ``multiprocessing``'s ForkingPickler) sends a
shared tensor as the file's name and its view of it, and the receiving process maps the same
file, so writes on either side are seen by the other. The creating process removes the file's
name when its last array on the mapping is freed (or at exit); a process that has mapped it keeps
its mapping. A tensor must therefore stay alive in the sender until it has been received.

Only the tensor itself moves to the mapping: other views of its old storage keep the old memory
(torch moves the whole storage). CUDA tensors cannot be shared this way and raise.
"""

import contextlib
import mmap
import os
import tempfile
import weakref
from multiprocessing import reduction

import numpy as np

_SHM_DIR = "/dev/shm" if os.path.isdir("/dev/shm") else None
_attached = weakref.WeakValueDictionary()  # path -> the mapping this process opened


class SharedMap(mmap.mmap):
    """A MAP_SHARED mapping of the file ``path`` (the base of a shared tensor's array)."""

    path = None


def _unlink(path, pid):
    if os.getpid() == pid:  # only the creating process; forked children inherit finalizers
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def _create(nbytes):
    fd, path = tempfile.mkstemp(prefix="fastnn_shm_", dir=_SHM_DIR)
    try:
        os.ftruncate(fd, max(nbytes, 1))
        mm = SharedMap(fd, max(nbytes, 1))
    except BaseException:
        os.close(fd)
        os.unlink(path)
        raise
    os.close(fd)
    mm.path = path
    weakref.finalize(mm, _unlink, path, os.getpid())
    return mm


def _attach(path):
    mm = _attached.get(path)
    if mm is None:
        fd = os.open(path, os.O_RDWR)
        try:
            mm = SharedMap(fd, os.fstat(fd).st_size)
        finally:
            os.close(fd)
        mm.path = path
        _attached[path] = mm
    return mm


def _map_of(a):
    """The SharedMap under the host array ``a``, or None."""
    while isinstance(a, np.ndarray):
        a = a.base
    return a if isinstance(a, SharedMap) else None


class SharedMemoryMixin:
    __slots__ = ()

    def is_shared(self):
        """Whether the storage lives in memory that other processes can map (``share_memory_``)."""
        return isinstance(self._data, np.ndarray) and _map_of(self._data) is not None

    def share_memory_(self):
        """Move the storage into shared memory (see the module docstring); returns self. A no-op
        for a tensor already shared."""
        if self.device.type != "cpu":
            raise RuntimeError(
                f"share_memory_: fastnn shares host tensors only; this one is on {self.device}"
            )
        a = np.asarray(self._data)
        if _map_of(a) is not None:
            return self
        mm = _create(a.nbytes)
        shared = np.ndarray(a.shape, a.dtype, buffer=mm)
        shared[...] = a
        self._data = shared
        return self


def _rebuild(cls, path, offset, shape, strides, dtype, requires_grad, state):
    mm = _attach(path)
    t = object.__new__(cls)  # a Tensor (sub)class; its slots set as Tensor._make sets them
    t._data = np.ndarray(shape, np.dtype(dtype), buffer=mm, offset=offset, strides=strides)
    t.grad, t._ctx, t._vc, t._retains_grad, t._hooks = None, None, [0], False, None
    t.requires_grad = False
    if state:
        t.__dict__.update(state)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _reduce(t):
    """How ForkingPickler sends a tensor: shared ones by their file, others by value."""
    a = t._data
    mm = _map_of(a) if isinstance(a, np.ndarray) else None
    if mm is None:
        return t.__reduce_ex__(4)
    if t._ctx is not None and t.requires_grad:
        raise RuntimeError(
            "a non-leaf tensor that requires grad cannot be sent to another process: its "
            "graph stays behind; send tensor.detach() to share only the values"
        )
    offset = a.__array_interface__["data"][0] - np.frombuffer(mm, np.uint8).ctypes.data
    state = getattr(t, "__dict__", None) or None
    args = (type(t), mm.path, offset, a.shape, a.strides, a.dtype.str, t.requires_grad, state)
    return _rebuild, args


def register(classes):
    """Send these Tensor classes through ``multiprocessing`` with ``_reduce``."""
    for cls in classes:
        reduction.ForkingPickler.register(cls, _reduce)
