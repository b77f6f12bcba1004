"""Tensor arithmetic, comparisons, element-wise math, reductions and matrix products (a mixin of
``Tensor``). Python scalars follow torch's promotion: ``int_tensor * 0.5`` is float32, a float
scalar keeps a float tensor's dtype."""

import collections

import numpy as np

from .. import _devices
from .._core import dtype as _dtype
from ..autograd import function as _function
from .ops import activation as A
from .ops import elementwise as E
from .ops import reduce as R
from .ops.shape import Reshape

_NUMBER = (int, float, bool)

max_result = collections.namedtuple("max", ["values", "indices"])
min_result = collections.namedtuple("min", ["values", "indices"])


def _operands(a, b):
    """(a, b) as tensors of a common backend, with torch's scalar and division promotion."""
    T = _function.Tensor
    if b.__class__ is T or isinstance(b, T):
        return a, b
    dt = a._data.dtype
    if isinstance(b, np.generic):
        b = b.item()
    if isinstance(b, _NUMBER):
        if isinstance(b, float) and dt.kind in "biu":
            dt = _dtype.get_default_dtype()
            a = a.to(dt)
        elif not isinstance(b, bool) and dt.kind == "b":
            dt = _dtype.int64 if isinstance(b, int) else _dtype.get_default_dtype()
            a = a.to(dt)
        return a, T._make(_devices.of(a._data).asarray(b, dt))
    if isinstance(b, np.ndarray):
        from .creation import tensor

        return a, tensor(b, device=a.device)
    return a, None


def _axes(dim, axis=None):
    """``dim`` (int, tuple, list or None; ``axis`` is numpy's alias) as a tuple or None."""
    if dim is None:
        dim = axis
    if dim is None:
        return None
    if isinstance(dim, (tuple, list)):
        return tuple(dim) if len(dim) else None
    return (dim,)


class OpsMixin:
    __slots__ = ()
    __hash__ = None  # == is element-wise; Tensor hashes by identity (object.__hash__)

    # ---- arithmetic ------------------------------------------------------------------------

    def __add__(self, other):
        a, b = _operands(self, other)
        return NotImplemented if b is None else E.Add.apply(a, b)

    def __radd__(self, other):
        a, b = _operands(self, other)
        return NotImplemented if b is None else E.Add.apply(b, a)

    def __sub__(self, other):
        a, b = _operands(self, other)
        return NotImplemented if b is None else E.Sub.apply(a, b)

    def __rsub__(self, other):
        a, b = _operands(self, other)
        return NotImplemented if b is None else E.Sub.apply(b, a)

    def __mul__(self, other):
        a, b = _operands(self, other)
        return NotImplemented if b is None else E.Mul.apply(a, b)

    def __rmul__(self, other):
        a, b = _operands(self, other)
        return NotImplemented if b is None else E.Mul.apply(b, a)

    def __truediv__(self, other):
        a, b = _operands(self, other)
        if b is None:
            return NotImplemented
        a, b = _true_div_dtypes(a, b)
        return E.Div.apply(a, b)

    def __rtruediv__(self, other):
        a, b = _operands(self, other)
        if b is None:
            return NotImplemented
        b, a = _true_div_dtypes(b, a)
        return E.Div.apply(b, a)

    def __pow__(self, other):
        a, b = _operands(self, other)
        return NotImplemented if b is None else E.Pow.apply(a, b)

    def __rpow__(self, other):
        a, b = _operands(self, other)
        return NotImplemented if b is None else E.Pow.apply(b, a)

    def __neg__(self):
        return E.Neg.apply(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return E.Abs.apply(self)

    def __matmul__(self, other):
        return self.matmul(other)

    def __rmatmul__(self, other):
        from .creation import tensor

        return tensor(other, device=self.device).matmul(self)

    def __floordiv__(self, other):
        a, b = _operands(self, other)
        return _nograd(a, b, "floor_divide")

    def __mod__(self, other):
        a, b = _operands(self, other)
        return _nograd(a, b, "remainder")

    add = __add__
    mul = multiply = __mul__
    div = divide = true_divide = __truediv__
    pow = __pow__
    neg = negative = __neg__
    abs = __abs__

    def sub(self, other, alpha=1):
        return self - (other * alpha if alpha != 1 else other)

    subtract = sub

    # ---- comparisons (bool tensors, no grad) -------------------------------------------------

    def __eq__(self, other):
        return _compare(self, other, "eq")

    def __ne__(self, other):
        return _compare(self, other, "ne")

    def __lt__(self, other):
        return _compare(self, other, "lt")

    def __le__(self, other):
        return _compare(self, other, "le")

    def __gt__(self, other):
        return _compare(self, other, "gt")

    def __ge__(self, other):
        return _compare(self, other, "ge")

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    def __invert__(self):
        return self.logical_not()

    def logical_not(self):
        be = _devices.of(self._data)
        return _function.Tensor._make(be.wrap(be.logical_not(self._data)))

    def isnan(self):
        be = _devices.of(self._data)
        return _function.Tensor._make(be.wrap(be.isnan(self._data)))

    def sign(self):
        be = _devices.of(self._data)
        return _function.Tensor._make(be.wrap(be.sign(self._data)))

    def equal(self, other):
        return self.shape == other.shape and bool((self == other).all())

    def allclose(self, other, rtol=1e-5, atol=1e-8):
        return bool(np.allclose(self.__array__(), other.__array__(), rtol=rtol, atol=atol))

    # ---- element-wise math -----------------------------------------------------------------

    def exp(self):
        return E.Exp.apply(self)

    def log(self):
        return E.Log.apply(self)

    def sqrt(self):
        return E.Sqrt.apply(self)

    def rsqrt(self):
        return 1 / E.Sqrt.apply(self)

    def square(self):
        return E.Mul.apply(self, self)

    def sin(self):
        return E.Sin.apply(self)

    def cos(self):
        return E.Cos.apply(self)

    def clamp(self, min=None, max=None):  # torch's argument names
        if min is None and max is None:
            raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
        return E.Clamp.apply(self, lo=min, hi=max)

    clip = clamp

    def clamp_min(self, min):
        return E.Clamp.apply(self, lo=min)

    def clamp_max(self, max):
        return E.Clamp.apply(self, hi=max)

    def maximum(self, other):
        a, b = _operands(self, other)
        return E.Maximum.apply(a, b)

    def minimum(self, other):
        a, b = _operands(self, other)
        return E.Minimum.apply(a, b)

    def where(self, condition, other):
        from .functions import where

        return where(condition, self, other)

    def masked_fill(self, mask, value):
        from .functions import where

        return where(mask, value, self)

    def relu(self):
        return A.ReLU.apply(self)

    def sigmoid(self):
        return A.Sigmoid.apply(self)

    def tanh(self):
        return A.Tanh.apply(self)

    def softmax(self, dim=-1):
        return _softmax_like(A.Softmax, self, dim)

    def log_softmax(self, dim=-1):
        return _softmax_like(A.LogSoftmax, self, dim)

    # ---- reductions --------------------------------------------------------------------------

    def sum(self, dim=None, keepdim=False, dtype=None, axis=None):
        t = self if dtype is None else self.to(dtype)
        return R.Sum.apply(t, axis=_axes(dim, axis), keepdim=keepdim)

    def mean(self, dim=None, keepdim=False, dtype=None, axis=None):
        t = self if dtype is None else self.to(dtype)
        if t._data.dtype.kind != "f":
            raise RuntimeError(
                "mean(): could not infer output dtype. Input dtype must be either "
                f"a floating point or complex dtype. Got: {_dtype.name(t.dtype)}"
            )
        return R.Mean.apply(t, axis=_axes(dim, axis), keepdim=keepdim)

    def var(self, dim=None, unbiased=True, keepdim=False, correction=None, axis=None):
        axes = _axes(dim, axis)
        d = self - self.mean(axes, keepdim=True)
        n = self.numel() if axes is None else _prod(self.shape[a] for a in axes)
        c = (1 if unbiased else 0) if correction is None else correction
        return (d * d).sum(axes, keepdim=keepdim) / max(n - c, 0)

    def std(self, dim=None, unbiased=True, keepdim=False, correction=None, axis=None):
        return self.var(dim, unbiased, keepdim, correction, axis).sqrt()

    def norm(self, p=2, dim=None, keepdim=False):
        axes = _axes(dim)
        if p in (2, "fro"):
            return R.Norm2.apply(self, axis=axes, keepdim=keepdim)
        if p == 1:
            return self.abs().sum(axes, keepdim=keepdim)
        if p == float("inf"):
            return self.abs().amax(axes, keepdim=keepdim)
        return (self.abs() ** p).sum(axes, keepdim=keepdim) ** (1.0 / p)

    def amax(self, dim=None, keepdim=False):
        return R.Amax.apply(self, axis=_axes(dim), keepdim=keepdim)

    def amin(self, dim=None, keepdim=False):
        return R.Amin.apply(self, axis=_axes(dim), keepdim=keepdim)

    def max(self, dim=None, keepdim=False, axis=None):
        """max() -> the largest value; max(dim) -> (values, indices); max(tensor) -> maximum."""
        if isinstance(dim, _function.Tensor):
            return self.maximum(dim)
        if dim is None and axis is None:
            return R.Max.apply(self, axis=None, keepdim=False)
        return max_result(*_select(self, dim if dim is not None else axis, keepdim, "argmax"))

    def min(self, dim=None, keepdim=False, axis=None):
        if isinstance(dim, _function.Tensor):
            return self.minimum(dim)
        if dim is None and axis is None:
            return R.Min.apply(self, axis=None, keepdim=False)
        return min_result(*_select(self, dim if dim is not None else axis, keepdim, "argmin"))

    def argmax(self, dim=None, keepdim=False, axis=None):
        return _arg(self, dim if dim is not None else axis, keepdim, "argmax")

    def argmin(self, dim=None, keepdim=False, axis=None):
        return _arg(self, dim if dim is not None else axis, keepdim, "argmin")

    def any(self, dim=None):
        be = _devices.of(self._data)
        return _function.Tensor._make(be.any(self._data, axis=dim))

    def all(self, dim=None):
        be = _devices.of(self._data)
        return _function.Tensor._make(be.all(self._data, axis=dim))

    def gather(self, dim, index):
        idx = index._data if isinstance(index, _function.Tensor) else index
        return R.Gather.apply(self, idx=idx, axis=dim)

    # ---- matrix products -----------------------------------------------------------------

    def matmul(self, other):
        from .functions import matmul

        return matmul(self, other)

    def mm(self, other):
        if self.ndim != 2 or other.ndim != 2:
            raise RuntimeError(f"mm: expected 2-D tensors, got {self.ndim}-D and {other.ndim}-D")
        from .functions import matmul

        return matmul(self, other)

    def bmm(self, other):
        if self.ndim != 3 or other.ndim != 3:
            raise RuntimeError(f"bmm: expected 3-D tensors, got {self.ndim}-D and {other.ndim}-D")
        from .functions import matmul

        return matmul(self, other)

    def dot(self, other):
        from .functions import dot

        return dot(self, other)

    def mv(self, other):
        if self.ndim != 2 or other.ndim != 1:
            raise RuntimeError(
                f"mv: expected a 2-D and a 1-D tensor, got {self.ndim}-D and {other.ndim}-D"
            )
        from .functions import matmul

        return matmul(self, other)


def _prod(xs):
    p = 1
    for x in xs:
        p *= x
    return p


def _true_div_dtypes(a, b):
    """int / int is a float division in torch (float32 result)."""
    if a._data.dtype.kind in "biu" and b._data.dtype.kind in "biu":
        f = _dtype.get_default_dtype()
        return a.to(f), b.to(f)
    return a, b


def _compare(a, other, op):
    a, b = _operands(a, other)
    if b is None:
        return NotImplemented
    if a._data.__class__ is not b._data.__class__:
        _function.device_mismatch((a, b))
    be = _devices.of(a._data)
    try:
        return _function.Tensor._make(be.wrap(getattr(be, op)(a._data, b._data)))
    except ValueError as e:
        raise RuntimeError(f"{op}: {e} (shapes {a.shape} and {b.shape})") from None


def _nograd(a, b, op):
    if b is None:
        return NotImplemented
    da, db = a._data, b._data
    if da.__class__ is not np.ndarray or db.__class__ is not np.ndarray:
        if da.__class__ is not db.__class__:
            _function.device_mismatch((a, b))
        # no device kernel for floor_divide / remainder (not hot): compute on host copies
        be = _devices.of(da)
        r = np.asarray(getattr(np, op)(be.to_numpy(da), be.to_numpy(db)))
        return _function.Tensor._make(be.from_numpy(r))
    return _function.Tensor._make(np.asarray(getattr(np, op)(a._data, b._data)))


def _softmax_like(cls, x, dim):
    if x._data.ndim == 0:
        return cls.apply(Reshape.apply(x, shape=(1,)), dim=0).reshape(())
    return cls.apply(x, dim=dim)


def _arg(x, dim, keepdim, op):
    be = _devices.of(x._data)
    return _function.Tensor._make(
        getattr(be, op)(x._data, axis=dim, keepdims=keepdim if dim is not None else False)
    )


def _select(x, dim, keepdim, op):
    """(values, indices) of max/min along ``dim``: the values gather at the indices, so the
    gradient goes to the selected element only (torch's max(dim) semantics)."""
    be = _devices.of(x._data)
    if x._data.ndim == 0:
        idx = be.zeros((), _dtype.int64)
        return x, _function.Tensor._make(idx)
    idx = getattr(be, op)(x._data, axis=dim, keepdims=True)
    values = R.Gather.apply(x, idx=idx, axis=dim)
    T = _function.Tensor
    if not keepdim:
        shape = tuple(n for i, n in enumerate(x._data.shape) if i != dim % x._data.ndim)
        values = Reshape.apply(values, shape=shape)
        idx = be.reshape(idx, shape)
    return values, T._make(idx)
