"""Tensor methods older or lower-level torch programs call (a mixin of ``Tensor``): the legacy
constructor ``new``, ``resize_``, the storage-kind flags a dense CPU/CUDA tensor answers False
to, the complex views of a real tensor, and small conveniences (``sum_to_size``, ``frexp``,
``nonzero_static``, ``apply_`` / ``map_`` ...), each as torch defines it."""

import math
import numbers
import sys

import numpy as np

from .._core import dtype as _dtype
from .._core.memory_format import strided
from .._core.size import Size as _Size
from ..autograd.grad_mode import no_grad
from ..autograd.grad_mode import state as _grad_state
from . import creation as _creation


def _storage_private(a, holders):
    """Whether no other array refers to the memory of the host array ``a``: only the caller's
    ``holders`` references hold ``a``, and each base down the chain of views is held only by
    the view above it (a numpy view keeps its base alive through ``.base``)."""
    # getrefcount also counts this function's parameter and its own argument
    if not isinstance(a, np.ndarray) or sys.getrefcount(a) > holders + 2:
        return False
    base = a.base
    while base is not None:
        if not isinstance(base, np.ndarray) or sys.getrefcount(base) > 3:
            return False
        base = base.base
    return True


class LegacyMixin:
    __slots__ = ()

    # ---- construction and storage -----------------------------------------------------------

    def new(self, *args, **kwargs):
        """torch's legacy constructor in this tensor's dtype and device: ``new()`` (empty),
        ``new(2, 3)`` or ``new(Size)`` (a zero-filled tensor of that shape), ``new(data)``
        (data cast to this dtype)."""
        dtype = kwargs.pop("dtype", self.dtype)
        device = kwargs.pop("device", self.device)
        if kwargs:
            raise TypeError(f"new() got unexpected keyword arguments {sorted(kwargs)}")
        if not args:
            return _creation.empty(0, dtype=dtype, device=device)
        shape_form = len(args) > 1 or isinstance(args[0], (_Size, numbers.Integral))
        if shape_form and not isinstance(args[0], bool):
            shape = tuple(args[0]) if isinstance(args[0], _Size) else args
            return _creation.zeros(*shape, dtype=dtype, device=device)
        data = args[0]
        if isinstance(data, LegacyMixin):
            data = data.detach()
        return _creation.tensor(data, dtype=dtype, device=device)

    def resize_(self, *sizes, memory_format=None):
        """Give the tensor the shape ``sizes``: its first elements (in row-major order) stay,
        new ones are zero. A tensor that requires grad refuses, as in torch; so does one whose
        storage views share when its element count changes (torch's views would follow the
        reallocated storage, numpy's cannot)."""
        shape = tuple(sizes[0]) if len(sizes) == 1 and not isinstance(sizes[0], int) else sizes
        for n in shape:
            if not isinstance(n, numbers.Integral) or n < 0:
                raise RuntimeError(f"resize_: invalid size {list(shape)}")
        if self.requires_grad:
            raise RuntimeError("cannot resize variables that require grad")
        count = math.prod(shape)
        old = self._data
        if count == old.size and isinstance(old, np.ndarray) and old.flags.c_contiguous:
            self._data = old.reshape(shape)  # the same storage
        elif len(self._vc) > 1 and not _storage_private(old, 2):  # self._data and old
            raise RuntimeError(
                "resize_: changing the element count of a tensor that shares its storage with "
                "views is not supported; clone() it first"
            )
        else:
            be = self._backend()
            flat = be.zeros((count,), old.dtype)
            keep = min(count, old.size)
            if keep:
                flat[:keep] = old.reshape(-1)[:keep]
            self._data = flat.reshape(shape)
        self._vc[0] += 1
        return self

    def resize_as_(self, other, memory_format=None):
        return self.resize_(tuple(other.shape))

    @property
    def layout(self):
        return strided

    def is_set_to(self, other):
        """Whether both tensors view the same elements the same way."""
        a, b = self._data, other._data
        return (
            a.__class__ is b.__class__
            and a.shape == b.shape
            and a.strides == b.strides
            and self.data_ptr() == other.data_ptr()
        )

    def const_data_ptr(self):
        return self.data_ptr()

    def to_dense(self, dtype=None, *, masked_grad=None):
        """A dense tensor is its own dense form."""
        return self if dtype is None else self.to(dtype)

    def record_stream(self, stream):
        """Nothing to do: fastnn's allocator does not hand a block to another stream while a
        tensor on it is alive."""

    def is_distributed(self):
        return False

    # fastnn has dense tensors only, on the CPU or a CUDA device: torch's other kinds read False
    is_sparse = property(lambda self: False)
    is_sparse_csr = property(lambda self: False)
    is_quantized = property(lambda self: False)
    is_mkldnn = property(lambda self: False)
    is_nested = property(lambda self: False)
    is_vulkan = property(lambda self: False)
    is_ipu = property(lambda self: False)
    is_mtia = property(lambda self: False)
    is_maia = property(lambda self: False)
    volatile = property(lambda self: False)  # the pre-0.4 flag, always False since

    # ---- splitting under other names ------------------------------------------------------

    def split_with_sizes(self, split_sizes, dim=0):
        return self.split(list(split_sizes), dim)

    def unsafe_split(self, split_size, dim=0):
        return self.split(split_size, dim)

    def unsafe_split_with_sizes(self, split_sizes, dim=0):
        return self.split(list(split_sizes), dim)

    def unsafe_chunk(self, chunks, dim=0):
        return self.chunk(chunks, dim)

    def narrow_copy(self, dim, start, length):
        return self.narrow(dim, start, length).clone()

    # ---- sums and elements ------------------------------------------------------------------

    def sum_to_size(self, *size):
        """The sum over the dimensions this tensor was broadcast along from ``size``."""
        shape = tuple(size[0]) if len(size) == 1 and not isinstance(size[0], int) else size
        own = tuple(self.shape)
        lead = len(own) - len(shape)
        fits = lead >= 0 and all(s in (1, o) for s, o in zip(shape, own[lead:]))
        if not fits:
            raise RuntimeError(f"size {{{list(shape)}}} is not expandable to size {{{list(own)}}}.")
        out = self.sum(tuple(range(lead))) if lead else self
        dims = tuple(i for i, (s, o) in enumerate(zip(shape, own[lead:])) if s == 1 and o != 1)
        return out.sum(dims, keepdim=True) if dims else out

    @property
    def real(self):
        """A real tensor is its own real part."""
        return self

    @property
    def imag(self):
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")

    def isreal(self):
        return _creation.ones(tuple(self.shape), dtype=_dtype.PUBLIC["bool"], device=self.device)

    def angle(self):
        """The argument of each element: pi for negatives, 0 otherwise (NaN stays NaN)."""
        x = self if self.is_floating_point() else self.to(_dtype.default())
        return x.lt(0).to(x.dtype) * math.pi + x * 0

    def frexp(self):
        """(mantissa, exponent) with self = mantissa * 2 ** exponent, 0.5 <= |mantissa| < 1."""
        if not self.is_floating_point():
            raise RuntimeError("torch.frexp() only supports floating-point dtypes")
        a = self._backend().to_numpy(self._data)
        m, e = np.frexp(a)
        mant = _creation.tensor(m, dtype=self.dtype, device=self.device)
        return mant, _creation.tensor(e.astype(np.int32), device=self.device)

    def nonzero_static(self, *, size, fill_value=-1):
        """``nonzero()`` with exactly ``size`` rows: cut short, or padded with ``fill_value``."""
        a = self._backend().to_numpy(self._data)
        found = np.argwhere(a).astype(np.int64)[:size]
        rows = np.full((size, a.ndim), fill_value, np.int64)
        rows[: len(found)] = found
        return _creation.tensor(rows, device=self.device)

    # ---- Python callbacks, element by element (CPU, outside autograd) ------------------------

    def apply_(self, callable):
        """Replace each element by ``callable(element)``, in place."""
        return self._each_in_place(callable, ())

    def map_(self, tensor, callable):
        """Replace each element by ``callable(element, the matching element of tensor)``."""
        return self._each_in_place(callable, (tensor,))

    def map2_(self, x, y, callable):
        return self._each_in_place(callable, (x, y))

    def _each_in_place(self, fn, others):
        if not isinstance(self._data, np.ndarray):
            raise TypeError("apply_/map_ are only implemented on CPU tensors")
        if _grad_state.enabled and self.requires_grad:
            raise RuntimeError(
                "a leaf Variable that requires grad is being used in an in-place operation."
            )
        a = self._data
        with no_grad():
            args = [np.broadcast_to(o._data, a.shape) for o in others]
            for idx in np.ndindex(a.shape):  # by index: a strided view is written in place
                a[idx] = fn(a[idx].item(), *(b[idx].item() for b in args))
        self._vc[0] += 1
        return self
