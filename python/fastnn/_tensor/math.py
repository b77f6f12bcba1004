"""Tensor arithmetic, comparisons, element-wise math, reductions and matrix products (a mixin of
``Tensor``). Operands of different dtypes meet at torch's result type (``_core.dtype.binary``):
``int_tensor * 0.5`` is float32, a float scalar or 0-d tensor keeps a float tensor's dtype; each
input is cast before the op, so its gradient comes back in its own dtype. The float-only
functions (exp, log, sigmoid...) compute integer and bool inputs in the default float dtype."""

import numpy as np

from .. import _C as _kernels
from .. import _devices
from .._core import dtype as _dtype
from .._core.dims import wrap_dim, wrap_dims
from .._core.return_types import return_type as _return_type
from .._devices import cpu as _cpu
from ..autograd import function as _function
from ..autograd.grad_mode import state as _grad_state
from . import creation as _creation
from . import functions as _fns
from .ops import activation as A
from .ops import elementwise as E
from .ops import mathfns as M
from .ops import reduce as R
from .ops.shape import Reshape

_NUMBER = (int, float, bool, complex)
_ndarray = np.ndarray
_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
_FLOAT_KERNEL = (_F32, _F64)  # the dtypes the C++ kernels take
_F32_MAX = float(np.finfo(np.float32).max)
_INT64 = np.dtype(np.int64)
_asarray = np.asarray

max_result = _return_type("max", ["values", "indices"])
_pair = tuple.__new__  # _pair(max_result, (values, indices)): a max_result, made directly
min_result = _return_type("min", ["values", "indices"])
sort_result = _return_type("sort", ["values", "indices"])
topk_result = _return_type("topk", ["values", "indices"])
kthvalue_result = _return_type("kthvalue", ["values", "indices"])
median_result = _return_type("median", ["values", "indices"])


def _operands(a, b):
    """(a, b) as tensors of a common backend and of torch's result dtype."""
    T = _function.Tensor
    da = a._data.dtype
    if b.__class__ is T or isinstance(b, T):
        db = b._data.dtype
        if da is db:
            return a, b
        dt = _dtype.binary(da, 2 if a._data.ndim else 1, db, 2 if b._data.ndim else 1)
        return (a if da == dt else a.to(dt)), (b if db == dt else b.to(dt))
    if isinstance(b, np.generic):
        b = b.item()
    if isinstance(b, _NUMBER):
        dt = _dtype.binary(da, 2 if a._data.ndim else 1, _dtype.scalar_dtype(b), 0)
        if dt != da:
            a = a.to(dt)
        return a, T._make(_devices.of(a._data).asarray(b, dt))
    if isinstance(b, np.ndarray):
        return _operands(a, _creation.tensor(b, device=a.device))
    return a, None


def _arithmetic(fn, name, reflected=False, no_bool=False, true_div=False, commutative=False):
    """The operator method ``self (op) other`` of the primitive ``fn`` (``other (op) self`` when
    ``reflected``; ``no_bool`` refuses bool operands, as subtraction does; ``true_div`` divides
    integers and bools in the default float dtype).

    Host tensors outside autograd with an operand of the same dtype, or a Python number that
    keeps a float tensor's dtype (most calls), go straight to the host kernel ``fn.apply`` would
    call: on tiny tensors the generic path's argument handling is half of the op's time."""
    apply = fn.apply
    host = getattr(_cpu, fn.plain_op)  # (threaded from ARITH_MIN elements: _devices/cpu.py)

    def method(self, other):
        a = self._data
        kind = other.__class__
        if kind is self.__class__:
            b = other._data
            plain = b.dtype is a.dtype and (
                _dtype.is_floating(a.dtype) or not (true_div or (no_bool and a.dtype.kind == "b"))
            )
            if plain and (self.requires_grad or other.requires_grad or b.__class__ is not _ndarray):
                return apply(other, self) if reflected else apply(self, other)
        else:
            plain = (
                (kind is float or kind is int)
                and a.__class__ is _ndarray
                and _dtype.is_floating(a.dtype)
                and not self.requires_grad
            )
            if plain:
                b = _asarray(other, a.dtype)
        if plain and a.__class__ is _ndarray:
            try:
                out = host(b, a) if reflected else host(a, b)
            except ValueError:
                pass  # apply below raises the error, with the op's name and the shapes
            else:  # a numpy scalar from 0-d operands becomes a 0-d array, as apply does
                return _function._make(_cpu.wrap(out), False, None)
        if no_bool:
            _no_bool_sub(self, other)
        x, y = _operands(self, other)
        if y is None:
            return NotImplemented
        if true_div:
            x, y = _true_div_dtypes(x, y)
        if reflected and not (commutative and not isinstance(other, _function.Tensor)):
            return apply(y, x)
        return apply(x, y)

    method.__name__, method.__qualname__ = name, f"OpsMixin.{name}"
    return method


def _elementwise(fn, name, floating=True):
    """The method ``self.name()`` of the one-input primitive ``fn``; ``floating``: integer and
    bool inputs are computed in the default float dtype. A host tensor outside autograd of a
    dtype the op keeps goes straight to the host kernel ``fn.apply`` would call, as in
    ``_arithmetic``."""
    apply = fn.apply
    host = getattr(_cpu, fn.plain_op)

    def method(self):
        a = self._data
        if (
            a.__class__ is _ndarray
            and not self.requires_grad
            and (_dtype.is_floating(a.dtype) or not floating)
        ):
            return _function._make(_cpu.wrap(host(a)), False, None)
        return apply(_floating(self) if floating else self)

    method.__name__, method.__qualname__ = name, f"OpsMixin.{name}"
    return method


def _no_bool_sub(a, other):
    """torch refuses subtraction with a bool operand (a bool tensor or a Python bool): it
    would read as a mask inversion, which is ``~`` / ``logical_not``."""
    T = _function.Tensor
    if (
        a._data.dtype.kind == "b"
        or other.__class__ is bool
        or (isinstance(other, T) and other._data.dtype.kind == "b")
    ):
        both = (
            a._data.dtype.kind == "b"
            and isinstance(other, (T, bool))
            and (other.__class__ is bool or other._data.dtype.kind == "b")
        )
        raise RuntimeError(
            "Subtraction, the `-` operator, with "
            + ("two bool tensors" if both else "a bool tensor")
            + " is not supported. If you are trying to invert a mask, use the `~` or "
            "`logical_not()` operator instead."
        )


def _floating(x):
    """``x`` itself when floating, else cast to the default dtype (torch's int -> float ops)."""
    d = x._data.dtype
    if _dtype.is_floating(d) or d.kind == "c":
        return x
    return x.to(_dtype.default())


def _keep(keepdim, keepdims):
    """torch accepts numpy's spelling ``keepdims`` beside ``keepdim`` on its reductions."""
    keepdim = keepdim if keepdims is None else keepdims
    if not isinstance(keepdim, (bool, np.bool_)):
        # a str went on to numpy as a dtype-like argument, or was taken as true
        raise TypeError(f"argument 'keepdim' must be bool, not {type(keepdim).__name__}")
    return bool(keepdim)


def _axes(x, dim, axis=None, fn=None):
    """``dim`` (int, tuple, list or None; ``axis`` is numpy's alias) as wrapped axes or None."""
    return wrap_dims(axis if dim is None else dim, x._data.ndim, fn=fn)


def bool_mask(mask):
    """masked_fill's mask must be a bool tensor, as in torch: a 0/1 int or float mask is most
    often a mistake (an index list read as a mask), not a request to cast."""
    if isinstance(mask, _function.Tensor) and mask._data.dtype != np.bool_:
        raise RuntimeError(
            f"masked_fill_ only supports boolean masks, but got mask with dtype {mask.dtype}"
        )


class OpsMixin:
    __slots__ = ()
    __hash__ = None  # == is element-wise; Tensor hashes by identity (object.__hash__)

    # ---- arithmetic ------------------------------------------------------------------------

    __add__ = _arithmetic(E.Add, "__add__")
    # 2 + t and 2 * t are t + 2 and t * 2 to the bit, and recording them so (the tensor as the
    # first input) gives the graph torch shows: next_functions[0] is the tensor's node. A
    # tensor on the left (t + p, p a Parameter, reaches p.__radd__) keeps its place.
    __radd__ = _arithmetic(E.Add, "__radd__", reflected=True, commutative=True)
    __sub__ = _arithmetic(E.Sub, "__sub__", no_bool=True)
    __rsub__ = _arithmetic(E.Sub, "__rsub__", reflected=True, no_bool=True)
    __mul__ = _arithmetic(E.Mul, "__mul__")
    __rmul__ = _arithmetic(E.Mul, "__rmul__", reflected=True, commutative=True)
    __truediv__ = _arithmetic(E.Div, "__truediv__", true_div=True)
    __rtruediv__ = _arithmetic(E.Div, "__rtruediv__", reflected=True, true_div=True)

    def __pow__(self, exponent):  # named as torch's pow() names it: x.pow(exponent=2)
        if exponent.__class__ is int or exponent.__class__ is float:
            r = _pow_scalar(self, exponent)
            if r is not None:
                return r
        a, b = _operands(self, exponent)
        return NotImplemented if b is None else _bool_pow(E.Pow.apply(a, b), a)

    def __rpow__(self, other):
        a, b = _operands(self, other)
        return NotImplemented if b is None else _bool_pow(E.Pow.apply(b, a), a)

    def __neg__(self):
        a = self._data
        if a.dtype.kind == "b":
            raise RuntimeError(
                "Negation, the `-` operator, on a bool tensor is not supported. If you are "
                "trying to invert a mask, use the `~` or `logical_not()` operator instead."
            )
        if a.__class__ is _ndarray and not self.requires_grad:  # _elementwise's host shortcut
            return _function._make(_cpu.wrap(_cpu.neg(a)), False, None)
        return E.Neg.apply(self)

    def __pos__(self):
        return self

    __abs__ = _elementwise(E.Abs, "__abs__", floating=False)

    def __matmul__(self, other):
        return _fns.matmul(self, other)

    def __rmatmul__(self, other):
        return _creation.tensor(other, device=self.device).matmul(self)

    def __floordiv__(self, other):
        a, b = _operands(self, other)
        return NotImplemented if b is None else _nograd(a, b, "floor_divide")

    def __rfloordiv__(self, other):
        a, b = _operands(self, other)
        return NotImplemented if b is None else _nograd(b, a, "floor_divide")

    def __mod__(self, other):
        a, b = _operands(self, other)
        return NotImplemented if b is None else _nograd(a, b, "remainder")

    def __rmod__(self, other):
        a, b = _operands(self, other)
        return NotImplemented if b is None else _nograd(b, a, "remainder")

    mul = multiply = __mul__
    true_divide = __truediv__
    pow = __pow__
    neg = negative = __neg__
    abs = __abs__

    def add(self, other, *, alpha=1):
        """self + alpha * other, torch's add."""
        return self + (other * alpha if alpha != 1 else other)

    def div(self, other, *, rounding_mode=None):
        """self / other; rounding_mode 'floor' or 'trunc' rounds the quotient (no gradient) and
        keeps integer inputs integer, as torch does."""
        if rounding_mode is None:
            return self / other
        if rounding_mode == "floor":
            return self // other
        if rounding_mode == "trunc":
            q = (self / other).detach().trunc()
            want = (self // other).dtype
            return q if q.dtype == want else q.to(want)
        raise ValueError(
            f"div(): rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}"
        )

    divide = div

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
        kind = self._data.dtype.kind
        if kind == "b":
            return self.logical_not()
        if kind not in "iu":
            raise TypeError(
                "~ (operator.invert) is only implemented on integer and Boolean-type tensors, "
                f"got {_dtype.name(self._data.dtype)}"
            )
        be = _devices.of(self._data)  # no device kernel for bitwise not (not hot): on the host
        return _function.Tensor._make(be.from_numpy(np.invert(be.to_numpy(self._data))))

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

    def allclose(self, other, rtol=1e-5, atol=1e-8, equal_nan=False):
        a, b = self.__array__(), other.__array__()
        return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))

    # ---- element-wise math -----------------------------------------------------------------

    exp = _elementwise(E.Exp, "exp")

    log = _elementwise(E.Log, "log")

    sqrt = _elementwise(E.Sqrt, "sqrt")

    rsqrt = _elementwise(E.Rsqrt, "rsqrt")

    def square(self):
        return E.Mul.apply(self, self)

    sin = _elementwise(E.Sin, "sin")

    cos = _elementwise(E.Cos, "cos")

    def clamp(self, min=None, max=None):  # torch's argument names
        if min is None and max is None:
            raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
        T = _function.Tensor
        if isinstance(min, T) or isinstance(max, T):
            return _clamp_tensor(self, min, max)
        a = self._data
        if a.__class__ is _ndarray and not self.requires_grad and _dtype.is_floating(a.dtype):
            return _function._make(_cpu.wrap(_cpu.clip(a, min, max)), False, None)  # host shortcut
        return E.Clamp.apply(_clamp_input(self, min, max), lo=min, hi=max)

    clip = clamp

    def clamp_min(self, min):
        return E.Clamp.apply(_clamp_input(self, min, None), lo=min)

    def clamp_max(self, max):
        return E.Clamp.apply(_clamp_input(self, None, max), hi=max)

    maximum = _arithmetic(E.Maximum, "maximum")
    minimum = _arithmetic(E.Minimum, "minimum")

    def where(self, condition, other):
        return _fns.where(condition, self, other)

    def masked_fill(self, mask, value):
        # the result keeps self's dtype (an int tensor filled with 2.5 holds 2), unlike where
        bool_mask(mask)
        dt = self._data.dtype
        if isinstance(value, _function.Tensor):
            value = value if value._data.dtype == dt else value.to(dt)
        elif isinstance(value, (*_NUMBER, np.generic)):
            value = _function.Tensor._make(_devices.of(self._data).asarray(value, dt))
        return _function.printed_as(_fns.where(mask, value, self), "MaskedFill")

    relu = _elementwise(A.ReLU, "relu", floating=False)

    sigmoid = _elementwise(A.Sigmoid, "sigmoid")

    tanh = _elementwise(A.Tanh, "tanh")

    def softmax(self, dim):  # no default: torch's method has none (F.softmax guesses one)
        return _softmax_like(A.Softmax, self, dim, _kernels.softmax)

    def log_softmax(self, dim):
        return _softmax_like(A.LogSoftmax, self, dim, _kernels.log_softmax)

    # ---- reductions --------------------------------------------------------------------------

    def sum(self, dim=None, keepdim=False, dtype=None, axis=None, keepdims=None):
        a = self._data
        if (
            dim is axis is dtype is keepdims is None
            and keepdim is False
            and _dtype.is_floating(a.dtype)
        ):
            # the whole tensor (a loss: most calls), nothing to sort out
            if a.__class__ is _ndarray and not self.requires_grad:  # the host shortcut
                return _function._make(_cpu.sum(a), False, None)
            return R.Sum.apply(self)
        if (
            dim.__class__ is int
            and dtype is axis is keepdims is None
            and keepdim.__class__ is bool
            and a.__class__ is _ndarray
            and _dtype.is_floating(a.dtype)
            and not self.requires_grad
            and (dim == -1 or dim == a.ndim - 1)
            and a.ndim
        ):  # along the last dim outside autograd (a softmax's denominator): a third of the time
            return _function._make(_cpu.sum_last(a, keepdim), False, None)
        keepdim = _keep(keepdim, keepdims)
        if dtype is None and a.__class__ is _ndarray and a.dtype.kind in "biu":
            # torch sums every integer type (and bool) in int64: numpy's reduction accumulates
            # in it directly, without a cast copy first (a count of correct predictions)
            axes = _axes(self, dim, axis, "sum")
            return _function._make(_cpu.sum(a, axes, keepdim, _INT64), False, None)
        t = _scan_input(self, dtype)  # torch sums every integer type (and bool) in int64
        axes, b = _axes(t, dim, axis, "sum"), t._data
        if b.__class__ is _ndarray and not t.requires_grad:  # the host shortcut
            return _function._make(_cpu.sum(b, axis=axes, keepdims=keepdim), False, None)
        return R.Sum.apply(t, axis=axes, keepdims=keepdim)

    def mean(self, dim=None, keepdim=False, dtype=None, axis=None, keepdims=None):
        a = self._data
        if (
            dim is axis is dtype is keepdims is None
            and keepdim is False
            and _dtype.is_floating(a.dtype)
        ):
            if a.__class__ is _ndarray and not self.requires_grad:  # as in sum
                return _function._make(_cpu.mean(a), False, None)
            return R.Mean.apply(self)
        keepdim = _keep(keepdim, keepdims)
        t = self if dtype is None else self.to(dtype)
        if not (_dtype.is_floating(t._data.dtype) or t._data.dtype.kind == "c"):
            raise RuntimeError(
                "mean(): could not infer output dtype. Input dtype must be either "
                f"a floating point or complex dtype. Got: {_dtype.name(t.dtype)}"
            )
        axes, b = _axes(t, dim, axis, "mean"), t._data
        if b.__class__ is _ndarray and not t.requires_grad:  # the host shortcut
            return _function._make(_cpu.mean(b, axis=axes, keepdims=keepdim), False, None)
        return R.Mean.apply(t, axis=axes, keepdims=keepdim)

    def var(
        self, dim=None, unbiased=True, keepdim=False, correction=None, axis=None, keepdims=None
    ):
        keepdim = _keep(keepdim, keepdims)
        axes = _axes(self, dim, axis, "var")
        a = self._data
        n = a.size if axes is None else _prod(a.shape[i] for i in axes)
        c = (1 if unbiased else 0) if correction is None else correction
        if a.dtype.kind == "c":  # the mean squared distance: the parts' variances add up
            re, im = self.real, self.imag
            return re.var(dim, keepdim=keepdim, correction=c, axis=axis) + im.var(
                dim, keepdim=keepdim, correction=c, axis=axis
            )
        if not _dtype.is_floating(a.dtype):
            raise RuntimeError(
                "std and var only support floating point and complex dtypes, got "
                f"{_dtype.name(a.dtype)}"
            )
        # CPU float32/64 over all elements or one dim: the var_mean kernel, in one pass of calls
        fused = (
            a.__class__ is _ndarray
            and a.dtype in _FLOAT_KERNEL
            and (axes is None or len(axes) == 1)
        )
        if fused and not self.requires_grad:  # the host shortcut
            out = _cpu.var_mean(a, None if axes is None else axes[0], c, keepdim)[0]
            return _function._make(out, False, None)
        if a.__class__ is _ndarray and not self.requires_grad:
            out = R.var_kept(_cpu, a, axes, keepdim, max(n - c, 0))[0]
            return _function._make(_cpu.wrap(out), False, None)
        return R.Var.apply(
            self, axis=axes, keepdim=keepdim, denom=max(n - c, 0), correction=c, fused=fused
        )

    def std(
        self, dim=None, unbiased=True, keepdim=False, correction=None, axis=None, keepdims=None
    ):
        keepdim = _keep(keepdim, keepdims)
        return _function.printed_as(
            self.var(dim, unbiased, keepdim, correction, axis).sqrt(), "Std"
        )

    def norm(self, p=2, dim=None, keepdim=False):
        axes = _axes(self, dim, fn="norm")
        if p in (2, "fro"):
            a = self._data
            if a.__class__ is _ndarray and not self.requires_grad and _dtype.is_floating(a.dtype):
                if axes is not None and _cpu._rows_along_last(a, axes):  # along rows: one call
                    return _function._make(_kernels.norm_last(a, 2.0, bool(keepdim)))
                out = R.norm2_kept(_cpu, a, axes)  # the host shortcut: Norm2's forward steps
                return _function._make(out if keepdim else R.drop_kept(_cpu, out, a, axes))
            if a.dtype.kind == "c":  # the norm of the moduli, a real tensor as torch's
                return self.abs().norm(p, dim, keepdim)
            return R.Norm2.apply(self, axis=axes, keepdim=keepdim)
        if p == 1:
            return self.abs().sum(axes, keepdim=keepdim)
        if p == float("inf"):
            return self.abs().amax(axes, keepdim=keepdim)
        return (self.abs() ** p).sum(axes, keepdim=keepdim) ** (1.0 / p)

    def amax(self, dim=None, keepdim=False, keepdims=None):
        keepdim = _keep(keepdim, keepdims)
        axes = _axes(self, dim, fn="amax")
        a = self._data
        if a.__class__ is _ndarray and not self.requires_grad and a.size:  # host shortcut
            return _function._make(_cpu.amax(a, axes, keepdim), False, None)
        return R.Amax.apply(self, axis=axes, keepdim=keepdim)

    def amin(self, dim=None, keepdim=False, keepdims=None):
        keepdim = _keep(keepdim, keepdims)
        axes = _axes(self, dim, fn="amin")
        a = self._data
        if a.__class__ is _ndarray and not self.requires_grad and a.size:  # host shortcut
            return _function._make(_cpu.amin(a, axes, keepdim), False, None)
        return R.Amin.apply(self, axis=axes, keepdim=keepdim)

    def max(self, dim=None, keepdim=False, axis=None, keepdims=None):
        """max() -> the largest value; max(dim) -> (values, indices); max(tensor) -> maximum."""
        keepdim = _keep(keepdim, keepdims)
        if isinstance(dim, _function.Tensor):
            return self.maximum(dim)
        if dim is None and axis is None:
            a = self._data
            if a.__class__ is _ndarray and not self.requires_grad and a.size:  # host shortcut
                return _function._make(_cpu.amax(a), False, None)
            return R.Max.apply(self, axis=None, keepdim=False)
        # tuple.__new__ with the pair: half the time of the namedtuple's own constructor
        return _pair(max_result, _select(self, dim if dim is not None else axis, keepdim, "argmax"))

    def min(self, dim=None, keepdim=False, axis=None, keepdims=None):
        keepdim = _keep(keepdim, keepdims)
        if isinstance(dim, _function.Tensor):
            return self.minimum(dim)
        if dim is None and axis is None:
            a = self._data
            if a.__class__ is _ndarray and not self.requires_grad and a.size:  # host shortcut
                return _function._make(_cpu.amin(a), False, None)
            return R.Min.apply(self, axis=None, keepdim=False)
        return _pair(min_result, _select(self, dim if dim is not None else axis, keepdim, "argmin"))

    def argmax(self, dim=None, keepdim=False, axis=None, keepdims=None):
        keepdim = _keep(keepdim, keepdims)
        return _arg(self, dim if dim is not None else axis, keepdim, "argmax")

    def argmin(self, dim=None, keepdim=False, axis=None, keepdims=None):
        keepdim = _keep(keepdim, keepdims)
        return _arg(self, dim if dim is not None else axis, keepdim, "argmin")

    def any(self, dim=None, keepdim=False):
        return _any_all(self, dim, keepdim, "any")

    def all(self, dim=None, keepdim=False):
        return _any_all(self, dim, keepdim, "all")

    def gather(self, dim, index):
        idx = index._data if isinstance(index, _function.Tensor) else index
        dim = wrap_dim(dim, self._data.ndim, fn="gather")
        x = self
        if getattr(idx, "ndim", 0) == x._data.ndim and x._data.ndim:
            d = dim
            # torch reads only the leading index.size(i) entries of the other dims
            cut = tuple(
                slice(None) if i == d or n == m else slice(0, n)
                for i, (n, m) in enumerate(zip(idx.shape, x._data.shape))
            )
            if any(c != slice(None) for c in cut):
                x = x[cut]
        return R.Gather.apply(x, idx=idx, axis=dim)

    # ---- matrix products -----------------------------------------------------------------

    def matmul(self, other):
        return _fns.matmul(self, other)

    def mm(self, mat2):
        if self.ndim != 2 or mat2.ndim != 2:
            raise RuntimeError(f"mm: expected 2-D tensors, got {self.ndim}-D and {mat2.ndim}-D")
        return _fns.matmul(self, mat2)

    def bmm(self, mat2):
        if self.ndim != 3 or mat2.ndim != 3:
            raise RuntimeError(f"bmm: expected 3-D tensors, got {self.ndim}-D and {mat2.ndim}-D")
        return _fns.matmul(self, mat2)

    def dot(self, tensor):
        return _fns.dot(self, tensor)

    def mv(self, other):
        if self.ndim != 2 or other.ndim != 1:
            raise RuntimeError(
                f"mv: expected a 2-D and a 1-D tensor, got {self.ndim}-D and {other.ndim}-D"
            )
        return _fns.matmul(self, other)

    # ---- the tutorials' math surface: more element-wise math ------------------------------------

    tan = _elementwise(M.Tan, "tan")

    sinh = _elementwise(M.Sinh, "sinh")

    cosh = _elementwise(M.Cosh, "cosh")

    asin = _elementwise(M.Asin, "asin")

    acos = _elementwise(M.Acos, "acos")

    atan = _elementwise(M.Atan, "atan")

    asinh = _elementwise(M.Asinh, "asinh")

    acosh = _elementwise(M.Acosh, "acosh")

    atanh = _elementwise(M.Atanh, "atanh")

    arcsin, arccos, arctan = asin, acos, atan
    arcsinh, arccosh, arctanh = asinh, acosh, atanh

    exp2 = _elementwise(M.Exp2, "exp2")

    log2 = _elementwise(M.Log2, "log2")

    log10 = _elementwise(M.Log10, "log10")

    erf = _elementwise(M.Erf, "erf")

    def reciprocal(self):
        return 1 / _floating(self)

    def floor(self):
        return _rounding(self, M.Floor)

    def ceil(self):
        return _rounding(self, M.Ceil)

    def trunc(self):
        return _rounding(self, M.Trunc)

    fix = trunc

    def round(self, decimals=0):
        if not isinstance(decimals, int):
            raise TypeError(
                f"round(): argument 'decimals' must be int, not {type(decimals).__name__}"
            )
        if self._data.dtype.kind in "biu" and decimals >= 0:
            return self.clone()
        return M.Round.apply(self, decimals=decimals)

    def frac(self):
        if not _dtype.is_floating(self._data.dtype):
            raise RuntimeError(
                f"frac(): expected a floating point tensor, got {_dtype.name(self._data.dtype)}"
            )
        return self - M.Trunc.apply(self)

    def atan2(self, other):
        a, b = _float_pair(self, other, "atan2")
        return M.Atan2.apply(a, b)

    arctan2 = atan2

    def hypot(self, other):
        a, b = _float_pair(self, other, "hypot")
        return M.Hypot.apply(a, b)

    def logaddexp(self, other):
        a, b = _float_pair(self, other, "logaddexp")
        return M.LogAddExp.apply(a, b)

    def lerp(self, end, weight):
        """self + weight * (end - self); ``weight`` a number or a tensor (broadcast)."""
        T = _function.Tensor
        if not isinstance(end, T):
            raise TypeError(f"lerp(): argument 'end' must be Tensor, not {type(end).__name__}")
        if not _dtype.is_floating(self._data.dtype) or end._data.dtype != self._data.dtype:
            raise RuntimeError(
                f"lerp(): expected self and end to have the same floating point dtype, got "
                f"{_dtype.name(self._data.dtype)} and {_dtype.name(end._data.dtype)}"
            )
        if weight.__class__ in (int, float) and _fused_host(self, end):
            return _function._make(_kernels.lerp(self._data, end._data, weight))
        # torch's two forms: from self for a small weight, from end otherwise (exact at 1)
        if isinstance(weight, T):
            small = weight.abs() < 0.5
            return _fns.where(
                small, self + weight * (end - self), end - (end - self) * (1 - weight)
            )
        if abs(weight) < 0.5:
            return self + weight * (end - self)
        return end - (end - self) * (1 - weight)

    # ---- the tutorials' math surface: scans, products, sorting --------------------------------

    def cumsum(self, dim, dtype=None):
        t = _scan_input(self, dtype)
        if t._data.ndim == 0:
            wrap_dim(dim, 0, fn="cumsum")
            return t.clone()
        return M.Cumsum.apply(t, axis=wrap_dim(dim, t._data.ndim, fn="cumsum"))

    def cumprod(self, dim, dtype=None):
        t = _scan_input(self, dtype)
        if t._data.ndim == 0:
            wrap_dim(dim, 0, fn="cumprod")
            return t.clone()
        return M.Cumprod.apply(t, axis=wrap_dim(dim, t._data.ndim, fn="cumprod"))

    def prod(self, dim=None, keepdim=False, dtype=None, keepdims=None):
        keepdim = _keep(keepdim, keepdims)
        t = _scan_input(self, dtype)
        a = t._data
        if dim is None:
            axis = None
            keepdim = False
        elif a.ndim == 0:
            wrap_dim(dim, 0, fn="prod")
            return t.clone()
        else:
            axis = wrap_dim(dim, a.ndim, fn="prod")
        if a.__class__ is _ndarray and not t.requires_grad:  # host shortcut
            return _function._make(_cpu.wrap(_cpu.prod(a, axis, keepdim)), False, None)
        return M.Prod.apply(t, axis=axis, keepdims=keepdim)

    def logsumexp(self, dim=None, keepdim=False, keepdims=None):
        """log(sum(exp(x))) over ``dim``, shifted by the (detached) maximum: finite for large
        inputs; an all -inf slice gives -inf."""
        keepdim = _keep(keepdim, keepdims)
        x = _floating(self)
        axes = _axes(x, dim, fn="logsumexp")
        be = _devices.of(x._data)
        # complex: shifted by the largest real part, so that the imaginary parts keep the
        # principal branch of the final log, as torch's
        a = x._data.real if x._data.dtype.kind == "c" else x._data
        m = be.amax(a, axis=axes, keepdims=True) if x._data.size else None
        if m is None:
            return x.exp().sum(axes, keepdim=keepdim).log()
        m = be.where(be.eq(be.abs(m), float("inf")), 0, m)
        mt = _function.Tensor._make(be.astype(m, x._data.dtype))
        with np.errstate(divide="ignore"):  # an all -inf slice: log(0) = -inf, as torch
            out = (x - mt).exp().sum(axes, keepdim=True).log() + mt
        if keepdim:
            return out
        shape = tuple(n for i, n in enumerate(out.shape) if axes is not None and i not in axes)
        return out.reshape(shape)

    def sort(self, dim=-1, descending=False, stable=False):
        values, indices = _sorted(self, dim, descending, stable)
        return sort_result(values, indices)

    def argsort(self, dim=-1, descending=False, stable=False):
        return _sorted(self, dim, descending, stable)[1]

    def topk(self, k, dim=-1, largest=True, sorted=True):
        nd = self._data.ndim
        d = wrap_dim(dim, nd, fn="topk")
        n = self._data.shape[d] if nd else 1
        if not isinstance(k, int) or not 0 <= k <= n:
            raise RuntimeError(
                f"topk(): selected index k={k} out of range for dimension {d} of size {n}"
            )
        values, indices = _sorted(self, dim, largest, True, k)
        return topk_result(values, indices)

    def kthvalue(self, k, dim=-1, keepdim=False, keepdims=None):
        keepdim = _keep(keepdim, keepdims)
        nd = self._data.ndim
        d = wrap_dim(dim, nd, fn="kthvalue")
        n = self._data.shape[d] if nd else 1
        if not isinstance(k, int) or not 1 <= k <= n:
            raise RuntimeError(
                f"kthvalue(): selected number k={k} out of range for dimension {d} of size {n}"
            )
        return kthvalue_result(*_pick_sorted(self, d, k - 1, keepdim))

    def median(self, dim=None, keepdim=False, keepdims=None):
        """The lower median (the ((n - 1) // 2)-th smallest); over all elements without ``dim``."""
        keepdim = _keep(keepdim, keepdims)
        if dim is None:
            flat = self.reshape(-1)
            if flat._data.size == 0:
                raise RuntimeError("median() input tensor cannot be empty")
            return _pick_sorted(flat, 0, (flat._data.size - 1) // 2, False)[0]
        nd = self._data.ndim
        d = wrap_dim(dim, nd, fn="median")
        n = self._data.shape[d] if nd else 1
        if n == 0:
            raise RuntimeError(f"median(): dimension {d} of the input is empty")
        return median_result(*_pick_sorted(self, d, (n - 1) // 2, keepdim))

    # ---- the tutorials' math surface: products and bounded ops ---------------------------------

    def addmm(self, mat1, mat2, *, beta=1, alpha=1):
        """beta * self + alpha * (mat1 @ mat2); beta=0 ignores self (NaN in it too)."""
        if mat1.ndim != 2 or mat2.ndim != 2:
            raise RuntimeError(f"addmm: expected 2-D matrices, got {mat1.ndim}-D and {mat2.ndim}-D")
        p = _fns.matmul(mat1, mat2)
        if alpha != 1:
            p = p * alpha
        if beta == 0:  # torch ignores self then, NaN and inf included
            return p
        return p + (self if beta == 1 else self * beta)

    def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
        """beta * self + alpha * (batch1 @ batch2) for (b, n, m) @ (b, m, p) batches, self
        broadcasting to (b, n, p); beta=0 ignores self (NaN in it too). Attention code adds its
        mask to the scores this way."""
        if batch1.ndim != 3 or batch2.ndim != 3:
            raise RuntimeError(
                f"batch1 must be a 3D tensor and batch2 must be a 3D tensor, got {batch1.ndim}-D "
                f"and {batch2.ndim}-D"
            )
        p = _fns.bmm(batch1, batch2)
        if alpha != 1:
            p = p * alpha
        if beta == 0:
            return p
        return p + (self if beta == 1 else self * beta)

    def outer(self, vec2):
        if self.ndim != 1 or vec2.ndim != 1:
            raise RuntimeError(f"outer: expected 1-D tensors, got {self.ndim}-D and {vec2.ndim}-D")
        return self.reshape(-1, 1) * vec2.reshape(1, -1)

    ger = outer

    def addcmul(self, tensor1, tensor2, value=1):
        """self + value * tensor1 * tensor2, in torch's order (value * tensor1 first)."""
        if value.__class__ in (int, float) and _fused_host(self, tensor1, tensor2):
            return _function._make(
                _kernels.addcmul(self._data, tensor1._data, tensor2._data, value)
            )
        return self + (tensor1 * tensor2 if value == 1 else tensor1 * value * tensor2)

    def addcdiv(self, tensor1, tensor2, value=1):
        """self + value * tensor1 / tensor2, in torch's order (value * tensor1 first)."""
        if value.__class__ in (int, float) and _fused_host(self, tensor1, tensor2):
            return _function._make(
                _kernels.addcdiv(self._data, tensor1._data, tensor2._data, value)
            )
        return self + (tensor1 / tensor2 if value == 1 else tensor1 * value / tensor2)


def _fused_host(*tensors):
    """Whether the one-pass kernels (addcmul, addcdiv, lerp) take these tensors: host arrays of
    one shape and float dtype, C-contiguous, none needing a gradient."""
    first = tensors[0]._data
    for t in tensors:
        if not isinstance(t, _function.Tensor) or t.requires_grad:
            return False
        a = t._data
        if (
            a.__class__ is not _ndarray
            or a.dtype not in _FLOAT_KERNEL
            or a.dtype != first.dtype
            or a.shape != first.shape
            or not a.flags.c_contiguous
        ):
            return False
    return True


def _prod(xs):
    p = 1
    for x in xs:
        p *= x
    return p


def _bool_pow(out, a):
    """bool ** bool stays bool in torch (numpy's power gives int8)."""
    if a._data.dtype.kind == "b" and out._data.dtype.kind != "b":
        return out.to(_dtype.bool_)
    return out


def _true_div_dtypes(a, b):
    """Division of integers (or bools) is a float division in torch (default dtype result);
    ``a`` and ``b`` already have one dtype (``_operands``)."""
    if a._data.dtype.kind in "biu":
        f = _dtype.default()
        return a.to(f), b.to(f)
    return a, b


def _clamp_input(x, lo, hi):
    """``x`` cast to the result type of clamping it by number bounds (an int tensor clamped
    by 1.5 is a float tensor)."""
    dt = da = x._data.dtype
    if _dtype.is_floating(da):
        return x
    level = 2 if x._data.ndim else 1
    for v in (lo, hi):
        if isinstance(v, _NUMBER):
            dt = _dtype.binary(dt, level, _dtype.scalar_dtype(v), 0)
    return x if dt == da else x.to(dt)


def _compare(a, other, op):
    x = a._data
    kind = other.__class__
    if x.__class__ is _ndarray and (x.dtype is _F32 or x.dtype is _F64):
        # the host shortcut for a float tensor against a number that its dtype holds exactly
        # (or, for a float, rounds to as the general path would) or a tensor of its dtype
        if (kind is float and abs(other) <= _F32_MAX) or (kind is int and abs(other) <= 2**24):
            return _function._make(_cpu.wrap(getattr(_cpu, op)(x, other)), False, None)
        if (
            kind is a.__class__
            and other._data.__class__ is _ndarray
            and other._data.dtype is x.dtype
        ):
            try:
                out = getattr(_cpu, op)(x, other._data)
            except ValueError:
                pass  # shapes that do not broadcast: the error below
            else:
                return _function._make(_cpu.wrap(out), False, None)
    a, b = _operands(a, other)
    if b is None:
        return NotImplemented
    if op not in ("eq", "ne") and a._data.dtype.kind == "c":  # complex numbers have no order
        name = "ComplexDouble" if a._data.dtype.itemsize == 16 else "ComplexFloat"
        raise NotImplementedError(f"\"{op}_cpu\" not implemented for '{name}'")
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
        ha, hb = be.to_numpy(da), be.to_numpy(db)
        _int_zero_divisor(ha, hb, op)
        with np.errstate(divide="ignore", invalid="ignore"):  # x // 0.0 is inf, as in torch
            r = np.asarray(getattr(np, op)(ha, hb))
        return _function.Tensor._make(be.from_numpy(r))
    _int_zero_divisor(da, db, op)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _function.Tensor._make(np.asarray(getattr(np, op)(a._data, b._data)))


def division_rest(x, other, op):
    """``op`` ("remainder" or "fmod") of x by other, exact (numpy's ufunc), with torch's
    gradients: 1 for x, -floor(x / other) (remainder) or -trunc(x / other) (fmod) for other."""
    a, b = _operands(x, other)
    if b is None:
        raise TypeError(f"{op}(): other must be a Tensor or a number, not {type(other).__name__}")
    exact = _nograd(a, b, op)
    if not (_grad_state.enabled and (a.requires_grad or b.requires_grad)):
        return exact
    q = (a / b).detach()
    q = q.floor() if op == "remainder" else q.trunc()
    approx = a - q * b
    return approx + (exact - approx).detach()


def _int_zero_divisor(a, b, op):
    """Integer floor division and remainder by zero raise, as in torch (numpy gives 0 and a
    RuntimeWarning)."""
    if a.dtype.kind in "biu" and b.dtype.kind in "biu" and not b.all():
        raise RuntimeError(f"ZeroDivisionError: integer {op} by zero")


def _softmax_like(cls, x, dim, kernel):
    a = x._data
    if not _dtype.is_floating(a.dtype):
        name = "softmax" if cls is A.Softmax else "log_softmax"
        raise NotImplementedError(
            f"{name}: not implemented for {_dtype.name(a.dtype)} (a floating point tensor is needed)"
        )
    if dim.__class__ is not int or not -a.ndim <= dim < a.ndim:  # (a valid int: most calls)
        dim = wrap_dim(dim, a.ndim, fn=cls.__name__.lower())
        if a.ndim == 0:
            return cls.apply(Reshape.apply(x, shape=(1,)), dim=0).reshape(())
    if a.__class__ is _ndarray and not x.requires_grad:  # the host shortcut, as forward runs
        try:  # a contiguous float32/64 array (most calls): the kernel, without the backend's checks
            return _function._make(kernel(a, dim), False, None)
        except (TypeError, ValueError):
            pass  # another dtype or a strided view: the backend converts it (or words the error)
        return _function._make(getattr(_cpu, cls._fwd)(a, dim), False, None)
    return cls.apply(x, dim=dim)


def _arg(x, dim, keepdim, op):
    if dim is not None:
        dim = wrap_dim(dim, x._data.ndim, fn=op)
        if x._data.ndim == 0:
            dim = None
    be = _devices.of(x._data)
    return _function.Tensor._make(
        getattr(be, op)(x._data, axis=dim, keepdims=keepdim if dim is not None else False)
    )


def _select(x, dim, keepdim, op):
    """(values, indices) of max/min along ``dim``: the values gather at the indices, so the
    gradient goes to the selected element only (torch's max(dim) semantics)."""
    a = x._data
    dim = wrap_dim(dim, a.ndim, fn=op[3:])
    if a.__class__ is _ndarray and a.ndim:  # one kernel pass along the last dim (see extreme)
        if not x.requires_grad:  # the host shortcut
            values, idx = _cpu.extreme(a, dim, keepdim, op)
            return _function._make(values, False, None), _function._make(idx, False, None)
        values, idx = _cpu.extreme(a, dim, keepdim, op)
        extreme = "amax" if op == "argmax" else "amin"
        values = R.Select.apply(
            x, idx=idx, axis=dim, keepdim=keepdim, reduce=extreme, values=values
        )
        return values, _function.Tensor._make(idx)
    be = _devices.of(a)
    if a.ndim == 0:
        return x, _function.Tensor._make(be.zeros((), _dtype.int64))
    idx = getattr(be, op)(a, axis=dim, keepdims=True)
    # the extreme values by a reduction: the numbers at the indices (a tie between -0.0 and 0.0
    # may give the other zero)
    extreme = "amax" if op == "argmax" else "amin"
    values = R.Select.apply(x, idx=idx, axis=dim, keepdim=keepdim, reduce=extreme)
    if not keepdim:
        idx = be.reshape(idx, values._data.shape)
    return values, _function.Tensor._make(idx)


# ---- helpers of the tutorials' math surface ---------------------------------------------------


def _rounding(x, cls):
    a = x._data
    if a.dtype.kind in "biu":  # already integral: a copy, like torch
        return x.clone()
    if a.__class__ is _ndarray and not x.requires_grad:  # the host shortcut of _elementwise
        return _function._make(_cpu.wrap(getattr(_cpu, cls.op)(a)), False, None)
    return cls.apply(x)


def _float_pair(a, other, name):
    T = _function.Tensor
    if not isinstance(other, T):
        raise TypeError(f"{name}(): argument 'other' must be Tensor, not {type(other).__name__}")
    if a._data.__class__ is not other._data.__class__:
        _function.device_mismatch((a, other))
    a, b = _floating(a), _floating(other)
    if a._data.dtype != b._data.dtype:
        dt = np.result_type(a._data.dtype, b._data.dtype)
        a, b = a.to(dt), b.to(dt)
    return a, b


def _any_all(x, dim, keepdim, fn):
    """any / all over ``dim`` (an int, a tuple of them, or None: every dim), the reduced dims
    kept as 1s with ``keepdim``."""
    a = x._data
    be = _devices.of(a)
    nd = a.ndim
    if dim is None:
        axes = tuple(range(nd))
    else:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        axes = tuple(sorted({wrap_dim(d, nd, fn=fn) for d in dims}))
    out = getattr(be, fn)(a, axis=(axes if dim is not None else None) if nd else None)
    if keepdim and nd:
        out = be.reshape(out, tuple(1 if i in axes else n for i, n in enumerate(a.shape)))
    return _function.Tensor._make(out)


def _scan_input(x, dtype):
    """sum / cumsum / cumprod / prod: ``dtype`` casts first; integers and bool accumulate in
    int64."""
    if dtype is not None:
        return x.to(dtype)
    if x._data.dtype.kind in "biu" and x._data.dtype != _dtype.int64:
        return x.to(_dtype.int64)
    return x


# topk_last's cost grows with k on rows already in order (cols * k); past this a sort is cheaper
_TOPK_KERNEL_MAX = 64


def _sorted(x, dim, descending, stable, k=None):
    """(values, indices) of x sorted along ``dim`` (the first ``k`` only when given); the
    values gather at the indices, so the gradient flows back to the chosen elements."""
    if x._data.ndim == 0:
        wrap_dim(dim, 0, fn="sort")
        be = _devices.of(x._data)
        idx = _function.Tensor._make(be.zeros((), _dtype.int64))
        return (x.clone(), idx) if k != 0 else (x.reshape(1)[:0], idx.reshape(1)[:0])
    d = wrap_dim(dim, x._data.ndim, fn="sort")
    a = x._data
    if (  # topk of a few along a host array's rows: the kernel keeps the k best of each row
        k is not None
        and k <= _TOPK_KERNEL_MAX
        and a.__class__ is _ndarray
        and d == a.ndim - 1
        and a.dtype in _FLOAT_KERNEL
        and a.flags.c_contiguous
    ):
        idx = _kernels.topk_last(a, k, descending)
        return R.Gather.apply(x, idx=idx, axis=d), _function.Tensor._make(idx)
    be = _devices.of(a)
    idx = be.argsort(a, d, descending, stable)
    if k is not None:
        idx = be.ascontiguous(be.getitem(idx, (slice(None),) * d + (slice(0, k),)))
    if idx.dtype != _dtype.int64:
        idx = be.astype(idx, _dtype.int64)
    return R.Gather.apply(x, idx=idx, axis=d), _function.Tensor._make(idx)


def _pick_sorted(x, d, pos, keepdim):
    """(values, indices) of the ``pos``-th smallest along ``d`` (kthvalue, median)."""
    if x._data.ndim == 0:
        return x.clone(), _function.Tensor._make(_devices.of(x._data).zeros((), _dtype.int64))
    be = _devices.of(x._data)
    order = be.argsort(x._data, d, False, True)
    idx = be.ascontiguous(be.getitem(order, (slice(None),) * d + (slice(pos, pos + 1),)))
    values = R.Gather.apply(x, idx=idx, axis=d)
    if not keepdim:
        shape = tuple(n for i, n in enumerate(x._data.shape) if i != d)
        values = Reshape.apply(values, shape=shape)
        idx = be.reshape(idx, shape)
    return values, _function.Tensor._make(idx)


def _clamp_tensor(x, lo, hi):
    """clamp with tensor (or number) bounds, broadcast together, in their promoted dtype."""
    T = _function.Tensor
    be = _devices.of(x._data)
    bounds = []
    for b in (lo, hi):
        if b is None or isinstance(b, T):
            bounds.append(b)
        else:
            bounds.append(
                T._make(
                    be.asarray(
                        b,
                        x._data.dtype
                        if isinstance(b, int) or _dtype.is_floating(x._data.dtype)
                        else _dtype.get_default_dtype(),
                    )
                )
            )
    arrays = [t._data for t in (x, *bounds) if t is not None]
    for a in arrays:
        if a.__class__ is not x._data.__class__:
            _function.device_mismatch(tuple(t for t in (x, *bounds) if t is not None))
    floats = [a.dtype for a in arrays if _dtype.is_floating(a.dtype)]
    dt = np.result_type(*(floats or [a.dtype for a in arrays]))  # an integer bound keeps x's float
    x = x if x._data.dtype == dt else x.to(dt)
    given = [b if b._data.dtype == dt else b.to(dt) for b in bounds if b is not None]
    return M.ClampTensor.apply(x, *given, has=(lo is not None, hi is not None))


def _pow_scalar(x, p):
    """x ** p for the exponents with a faster exact form: 1..4 as a multiply chain, 0.5 as
    sqrt; None for the others (the general pow)."""
    kind = x._data.dtype.kind
    n = _SMALL_POWERS.get(p)
    if n is not None and (kind == "f" or (kind in "iu" and p.__class__ is int)):
        a = x._data
        if a.__class__ is _ndarray and not x.requires_grad:  # the host shortcut of _arithmetic
            return _function._make(_cpu.wrap(M.power_chain(_cpu, a, n)), False, None)
        return M.PowInt.apply(x, n=n)
    if kind == "f" and p == 0.5:
        return E.Sqrt.apply(x)
    return None


# 1..4 and 1.0..4.0 (equal numbers hash alike): one lookup instead of comparisons and int(p)
_SMALL_POWERS = {n: n for n in (1, 2, 3, 4)}
