"""Storage objects and the Tensor methods that reach past the view to its storage (a mixin of
``Tensor``): ``storage()`` / ``untyped_storage()``, ``set_``, ``as_strided_``, the deprecated
``resize``, ``dim_order``, ``as_subclass``, and the autograd metadata torch programs read
(``output_nr``, ``name``).

A host tensor's storage is the numpy array at the root of its chain of views (``.base``), as
``as_strided`` reads it; a storage object is a thin handle on that array, so two tensors that
view the same memory report the same ``data_ptr()``. A device tensor's storage is its own array.
"""

import math
import numbers
import warnings

import numpy as np

from .._core import dtype as _dtype
from ..autograd import function as _function
from ..autograd.grad_mode import state as _grad_state


def _root(a):
    """The array owning ``a``'s memory (itself for a device array or a fresh host array)."""
    if not isinstance(a, np.ndarray):
        return a
    owner = a
    while isinstance(owner.base, np.ndarray):
        owner = owner.base
    return owner


def _address(a):
    if isinstance(a, np.ndarray):
        return a.__array_interface__["data"][0] if a.size else 0
    return a.__cuda_array_interface__["data"][0]


class UntypedStorage:
    """The bytes of a tensor's storage: ``size()`` / ``nbytes()`` count bytes."""

    def __init__(self, array):
        self._array = array

    def data_ptr(self):
        return _address(self._array)

    def nbytes(self):
        return int(self._array.size * self._array.dtype.itemsize)

    def size(self):
        return self.nbytes()

    __len__ = size

    def element_size(self):
        return 1

    @property
    def device(self):
        return _function.Tensor._make(self._array).device  # a handle on the array, no copy

    def tolist(self):
        host = _function.Tensor._make(self._array).cpu()._data
        return list(np.ascontiguousarray(host).reshape(-1).view(np.uint8).tolist())

    def untyped(self):
        return self

    def __repr__(self):
        return f"UntypedStorage of {self.nbytes()} bytes at {self.data_ptr():#x}"


class TypedStorage(UntypedStorage):
    """The elements of a tensor's storage in its dtype: ``size()`` counts elements."""

    @property
    def dtype(self):
        return _dtype.of(self._array.dtype)

    def size(self):
        return int(self._array.size)

    __len__ = size

    def element_size(self):
        return int(self._array.dtype.itemsize)

    def tolist(self):
        host = _function.Tensor._make(self._array).cpu()._data
        return np.ascontiguousarray(host).reshape(-1).tolist()

    def untyped(self):
        return UntypedStorage(self._array)

    def __getitem__(self, i):
        return self.tolist()[i]

    def __repr__(self):
        return f"TypedStorage of {self.size()} {self.dtype} at {self.data_ptr():#x}"


def _refuse_when_recorded(t, fn):
    if _grad_state.enabled and t.requires_grad:
        raise RuntimeError(
            f"{fn}: not supported on a tensor that requires grad while grad mode is enabled "
            "(its history cannot follow the new storage); use it under no_grad() or on a "
            "detached tensor"
        )


class StorageMixin:
    __slots__ = ()

    def storage(self):
        """The typed storage (the elements of this dtype the tensor's memory holds)."""
        return TypedStorage(_root(self._data))

    def untyped_storage(self):
        """The storage as bytes."""
        return UntypedStorage(_root(self._data))

    @property
    def output_nr(self):
        """Which output of its grad_fn the tensor is: fastnn's recorded ops have one output
        each (a split records one node per piece), so 0."""
        return 0

    @property
    def name(self):
        """Tensors have no names in fastnn (torch's named tensors), so None."""
        return None

    def dim_order(self, *, ambiguity_check=False):
        """The dims from outermost to innermost in memory: by stride, largest first (ties
        keep their order)."""
        strides = self.stride()
        return tuple(sorted(range(self.ndim), key=lambda d: -strides[d]))

    def as_strided_(self, size, stride, storage_offset=None):
        """Make this tensor the view ``as_strided(size, stride, storage_offset)`` of its own
        storage."""
        _refuse_when_recorded(self, "as_strided_")
        view = self.detach().as_strided(size, stride, storage_offset)
        self._data = view._data
        return self

    def set_(self, source=None, storage_offset=0, size=None, stride=None):
        """Make this tensor share memory: ``set_()`` empties it, ``set_(tensor)`` makes it
        view the same elements as ``tensor`` (writes through either are seen by both),
        ``set_(storage, offset, size, stride)`` views that storage."""
        _refuse_when_recorded(self, "set_")
        T = _function.Tensor
        if source is None:
            self._data = self._backend().zeros((0,), self._data.dtype)
            self._vc[0] += 1
            return self
        if isinstance(source, T):
            if source._data.dtype != self._data.dtype:
                raise RuntimeError(
                    f"set_(): expected the source to have this tensor's dtype "
                    f"{_dtype.name(self._data.dtype)}, got {_dtype.name(source._data.dtype)}"
                )
            if size is None and storage_offset == 0 and stride is None:
                self._data = source._data
                self._vc = source._vc  # one storage, one version counter (as views share)
                if len(self._vc) == 1:
                    self._vc.append(None)
                self._vc[0] += 1
                return self
            source = source.untyped_storage()
        if not isinstance(source, UntypedStorage):
            raise TypeError(
                f"set_(): argument 'source' must be Tensor or a storage, not "
                f"{type(source).__name__}"
            )
        array = source._array
        if not isinstance(array, np.ndarray):
            raise TypeError("set_(storage, ...): fastnn takes host (CPU) storages only")
        if array.dtype != self._data.dtype:
            raise RuntimeError(
                f"set_(): expected a storage of dtype {_dtype.name(self._data.dtype)}, got "
                f"{_dtype.name(array.dtype)}"
            )
        if size is None:
            raise TypeError("set_(storage, storage_offset, size, stride): size is required")
        size = tuple(int(n) for n in size)
        if stride is None:  # contiguous
            stride = tuple(math.prod(size[k + 1 :]) for k in range(len(size)))
        holder = T._make(array.reshape(-1) if array.flags.c_contiguous else array)
        view = holder.as_strided(size, stride, storage_offset)
        self._data = view._data
        self._vc[0] += 1
        return self

    def resize(self, *sizes):
        """Deprecated: a tensor of shape ``sizes`` over this one's first elements (a view when
        the element count is unchanged and the tensor is contiguous, else a resized copy)."""
        warnings.warn(
            "Tensor.resize is deprecated; use reshape (or resize_ for in-place resizing)",
            UserWarning,
            stacklevel=2,
        )
        shape = tuple(sizes[0]) if len(sizes) == 1 and not isinstance(sizes[0], int) else sizes
        for n in shape:
            if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 0:
                raise RuntimeError(f"resize: invalid size {list(shape)}")
        if math.prod(shape) == self.numel() and self.is_contiguous():
            return self.view(*shape)
        out = self.detach().clone()
        return out.resize_(*shape)

    def resize_as(self, tensor):
        """Deprecated: ``resize`` to ``tensor``'s shape."""
        return self.resize(*tensor.shape)

    def as_subclass(self, cls):
        """This tensor as an instance of ``cls`` (a subclass of Tensor): the same storage,
        version counter and autograd history; ``cls.__init__`` is not called."""
        T = _function.Tensor
        if not (isinstance(cls, type) and issubclass(cls, T)):
            raise TypeError(
                f"as_subclass(): argument 'cls' must be a subclass of Tensor, got {cls!r}"
            )
        out = T.__new__(cls)
        out._data = self._data
        out.grad = None
        out.requires_grad = self.requires_grad
        out._ctx = self._ctx
        out._vc = self._vc
        out._retains_grad = False
        out._hooks = None
        return out
