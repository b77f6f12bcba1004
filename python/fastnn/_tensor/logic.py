"""Logical and bitwise operators, infinity tests, ``isclose``, ``count_nonzero``, ``nan_to_num``
and the ``new_*`` constructors (a mixin of ``Tensor``).

None of the logical, bitwise or test results has a gradient (they are bool or integer), so they
are computed by numpy ufuncs on the host copy of the operands; on the CPU that copy is the
storage itself. ``nan_to_num`` is differentiable: it is built from ``masked_fill``.
"""

import numpy as np

from .. import _devices
from .._core import dtype as _dtype
from ..autograd import function as _function
from . import creation as _creation
from . import math as _math
from .shape import _shape_args

_INT_OR_BOOL = "biu"


def _host(t):
    return _devices.of(t._data).to_numpy(t._data)


def _wrap_like(t, array):
    """A new tensor on ``t``'s device holding the numpy ``array``."""
    if isinstance(t._data, np.ndarray):
        return _function.Tensor._make(np.asarray(array))
    return _function.Tensor._make(_devices.of(t._data).from_numpy(np.ascontiguousarray(array)))


def _other(t, other, name):
    """``other`` as a tensor on ``t``'s device, or None for an operand torch does not take."""
    T = _function.Tensor
    if isinstance(other, T):
        if other._data.__class__ is not t._data.__class__:
            _function.device_mismatch((t, other))
        return other
    if isinstance(other, np.generic):
        other = other.item()
    if isinstance(other, (bool, int, float)):
        dt = _dtype.binary(t._data.dtype, 2 if t._data.ndim else 1, _dtype.scalar_dtype(other), 0)
        return _wrap_like(t, np.asarray(other, dtype=dt))
    return None


def _broadcast_error(name, a, b):
    return RuntimeError(
        f"{name}: the shapes {list(a.shape)} and {list(b.shape)} cannot be broadcast together"
    )


def _logical(a, other, ufunc, name):
    b = _other(a, other, name)
    if b is None:
        return NotImplemented
    try:
        return _wrap_like(a, ufunc(_host(a), _host(b)))
    except ValueError:
        raise _broadcast_error(name, a, b) from None


def _bitwise(a, other, ufunc, name):
    """``a (op) other`` on integer and bool tensors, in torch's result dtype (bool with bool
    stays bool). The three operators are commutative, so the reflected forms share this."""
    if isinstance(other, np.generic):
        other = other.item()
    if not isinstance(other, (_function.Tensor, bool, int)):
        if isinstance(other, float):
            raise TypeError(f"{name} is only implemented on integer and Boolean-type operands")
        return NotImplemented
    for t in (a, other):
        if isinstance(t, _function.Tensor) and t._data.dtype.kind not in _INT_OR_BOOL:
            raise TypeError(
                f"{name} is only implemented on integer and Boolean-type tensors, got "
                f"{_dtype.name(t._data.dtype)}"
            )
    x, y = _math._operands(a, other)
    if x._data.__class__ is not y._data.__class__:
        _function.device_mismatch((x, y))
    try:
        return _wrap_like(x, ufunc(_host(x), _host(y)))
    except ValueError:
        raise _broadcast_error(name, x, y) from None


def _shift(a, b, left, name):
    """``a << b`` or ``a >> b`` in torch's promoted integer dtype. A shift by a negative amount
    or by the type's width or more gives 0 (a right shift of a negative value gives -1), where
    numpy's own shifts wrap the amount around the width."""
    if isinstance(b, np.generic):
        b = b.item()
    if not isinstance(b, (_function.Tensor, bool, int, float)):
        return NotImplemented
    x, y = _math._operands(a, b)
    if x._data.dtype.kind not in "iu":
        raise NotImplementedError(
            f"{name} is only implemented on integer tensors, got {_dtype.name(x._data.dtype)}"
        )
    if x._data.__class__ is not y._data.__class__:
        _function.device_mismatch((x, y))
    hx, hy = _host(x), _host(y)
    bits = hx.dtype.itemsize * 8
    try:
        hx, hy = np.broadcast_arrays(hx, hy)
    except ValueError:
        raise _broadcast_error(name, x, y) from None
    wide = (hy < 0) | (hy >= bits)
    amount = np.where(wide, 0, hy)
    if left:
        out = np.where(wide, 0, np.left_shift(hx, amount))
    else:
        out = np.where(wide, np.where(hx < 0, -1, 0), np.right_shift(hx, amount))
    return _wrap_like(x, out.astype(hx.dtype))


def _scalar_first(t, other, name):
    """``other`` (a number) as a 0-d tensor beside ``t``, for the reflected shifts."""
    if isinstance(other, np.generic):
        other = other.item()
    if not isinstance(other, (bool, int, float)):
        return None
    return _wrap_like(t, np.asarray(other, dtype=_dtype.scalar_dtype(other)))


def _float_test(t, fn):
    """A bool test that is False everywhere for integer and bool tensors (they hold no inf)."""
    h = _host(t)
    if not _dtype.is_floating(h.dtype):
        return _wrap_like(t, np.zeros(h.shape, np.bool_))
    return _wrap_like(t, fn(h))


class LogicMixin:
    # ---- logical: any non-zero is true; the result is bool --------------------------------

    def logical_and(self, other):
        return _logical(self, other, np.logical_and, "logical_and")

    def logical_or(self, other):
        return _logical(self, other, np.logical_or, "logical_or")

    def logical_xor(self, other):
        return _logical(self, other, np.logical_xor, "logical_xor")

    # ---- bitwise on integer / bool tensors: &, |, ^ ---------------------------------------

    def bitwise_and(self, other):
        return _bitwise(self, other, np.bitwise_and, "bitwise_and")

    def bitwise_or(self, other):
        return _bitwise(self, other, np.bitwise_or, "bitwise_or")

    def bitwise_xor(self, other):
        return _bitwise(self, other, np.bitwise_xor, "bitwise_xor")

    def bitwise_not(self):
        return ~self

    __and__, __or__, __xor__ = bitwise_and, bitwise_or, bitwise_xor

    __rand__, __ror__, __rxor__ = bitwise_and, bitwise_or, bitwise_xor

    def bitwise_left_shift(self, other):
        return _shift(self, other, True, "bitwise_left_shift")

    def bitwise_right_shift(self, other):
        return _shift(self, other, False, "bitwise_right_shift")

    __lshift__, __rshift__ = bitwise_left_shift, bitwise_right_shift

    def __rlshift__(self, other):
        first = _scalar_first(self, other, "bitwise_left_shift")
        return NotImplemented if first is None else _shift(first, self, True, "__rlshift__")

    def __rrshift__(self, other):
        first = _scalar_first(self, other, "bitwise_right_shift")
        return NotImplemented if first is None else _shift(first, self, False, "__rrshift__")

    # ---- tests on values -----------------------------------------------------------------

    def isinf(self):
        return _float_test(self, np.isinf)

    def isposinf(self):
        return _float_test(self, np.isposinf)

    def isneginf(self):
        return _float_test(self, np.isneginf)

    def isfinite(self):
        h = _host(self)
        return _wrap_like(
            self, np.isfinite(h) if _dtype.is_floating(h.dtype) else np.ones(h.shape, bool)
        )

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        """|self - other| <= atol + rtol * |other|, elementwise (infinities equal when of the
        same sign; NaN equal to NaN only with ``equal_nan``)."""
        if not isinstance(other, _function.Tensor):
            raise TypeError(
                f"isclose(): argument 'other' must be Tensor, not {type(other).__name__}"
            )
        if self._data.dtype != other._data.dtype:
            raise RuntimeError(
                f"isclose(): {_dtype.name(self._data.dtype)} did not match "
                f"{_dtype.name(other._data.dtype)}"
            )
        b = _other(self, other, "isclose")
        try:
            r = np.isclose(_host(self), _host(b), rtol=rtol, atol=atol, equal_nan=equal_nan)
        except ValueError:
            raise _broadcast_error("isclose", self, other) from None
        return _wrap_like(self, r)

    def count_nonzero(self, dim=None):
        """The number of non-zero entries (int64), over all or over ``dim`` (an int or tuple)."""
        h = _host(self)
        if dim is not None:
            dims = (dim,) if isinstance(dim, int) else tuple(dim)
            dim = tuple(d + h.ndim if d < 0 else d for d in dims)
            for d in dim:
                if not 0 <= d < max(h.ndim, 1):
                    raise IndexError(
                        f"count_nonzero(): dim {d} out of range for a {h.ndim}-d tensor"
                    )
        r = np.count_nonzero(h, axis=dim) if h.ndim else np.int64(h != 0)
        return _wrap_like(self, np.asarray(r, dtype=np.int64))

    def nan_to_num(self, nan=0.0, posinf=None, neginf=None):
        """NaN -> ``nan``, +inf -> ``posinf``, -inf -> ``neginf`` (defaults: 0 and the dtype's
        largest / lowest finite value). The gradient passes where the input was finite."""
        if not _dtype.is_floating(self._data.dtype):
            return self.clone()
        info = np.finfo(self._data.dtype)
        hi = float(info.max) if posinf is None else posinf
        lo = float(info.min) if neginf is None else neginf
        return (
            self.masked_fill(self.isnan(), nan)
            .masked_fill(self.isposinf(), hi)
            .masked_fill(self.isneginf(), lo)
        )

    # ---- new tensors with this one's dtype and device -------------------------------------
    # new_zeros(2, 3), new_zeros((2, 3)) and new_zeros(size=(2, 3)) all name the same shape

    def _new_kw(self, dtype, device):
        return {
            "dtype": self.dtype if dtype is None else dtype,
            "device": self.device if device is None else device,
        }

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False, **kwargs):
        if kwargs:
            size = _shape_args(size, "new_zeros", "size", kwargs)
        return _creation.new_zeros(self, size, dtype, device, requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False, **kwargs):
        if kwargs:
            size = _shape_args(size, "new_ones", "size", kwargs)
        return _creation.new_ones(self, size, dtype, device, requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False, **kwargs):
        if kwargs:
            size = _shape_args(size, "new_empty", "size", kwargs)
        return _creation.new_empty(self, size, dtype, device, requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        return _creation.new_full(self, size, fill_value, dtype, device, requires_grad)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        if isinstance(data, _function.Tensor):
            data = data.detach()
        return _creation.tensor(data, **self._new_kw(dtype, device), requires_grad=requires_grad)

    def type_as(self, other):
        """This tensor in ``other``'s dtype and on its device."""
        if not isinstance(other, _function.Tensor):
            raise TypeError(
                f"type_as(): argument 'other' must be Tensor, not {type(other).__name__}"
            )
        return self.to(device=other.device, dtype=other.dtype)
