"""In-place Tensor methods (a mixin of ``Tensor``): each bumps the version counter.

Without grad recording (``no_grad``, or nothing requires grad) they write the storage in place.
When recording, a leaf that requires grad refuses (like torch); any other tensor gets the
out-of-place result and takes over its history: the old storage and history stay with the ops
that saved them, so their gradients stay exact, and ops that saved this tensor see its new
version and raise at backward. A tensor whose storage views share is written in place instead,
so they all see the change (``views.py``).
"""

import numpy as np

from .. import _C, _devices
from .._core import dtype as _dtype
from .._core import random as _random
from .._core import random_fill as _random_fill
from ..autograd import function as _function
from ..autograd.grad_mode import state as _grad_state
from . import views as _views
from .math import _fused_host
from .ops import mathfns as M
from .ops import shape as S

_LEAF_MSG = "a leaf Variable that requires grad is being used in an in-place operation."


def _needs_record(t, other=None):
    if not _grad_state.enabled:
        return False
    return t.requires_grad or (isinstance(other, _function.Tensor) and other.requires_grad)


def _stand_in(t):
    """A new tensor object with t's storage, history and version: what t was before an in-place
    op that is about to give t a new history."""
    return _views.stand_in(t, t._data, t._vc[0])


def _take_over(t, old, r):
    """t becomes r (storage and history), ``old`` its stand-in for the ops recorded before."""
    if r._ctx is not None:
        _function.remember_prior(t, old)
    t._data, t._ctx, t.requires_grad = r._data, r._ctx, r.requires_grad
    t._vc[0] += 1
    return t


def _inplace_record(t, op):
    """Record ``t <- op(t)`` in the graph (see the module docstring; a tensor that shares its
    storage with views goes through ``views.record``)."""
    if t.requires_grad and t._ctx is None:
        raise RuntimeError(_LEAF_MSG)
    if _views.shares_storage(t):
        return _views.record(t, op, _result_like)
    old = _stand_in(t)
    return _take_over(t, old, _result_like(t, op(old)))


def _result_like(t, r):
    """The in-place op's out-of-place result ``r``, checked against t and in t's dtype."""
    if r._data.shape != t._data.shape:
        raise RuntimeError(
            f"output with shape {list(t.shape)} doesn't match the broadcast shape {list(r.shape)}"
        )
    if r._data.dtype != t._data.dtype:
        r = r.to(t._data.dtype)
    return r


def _refuse_read_only(t):
    """An expanded or overlapping view (numpy marks it read-only) cannot be written: torch's
    error."""
    d = t._data
    if d.__class__ is np.ndarray and not d.flags.writeable:
        raise RuntimeError(_views.OVERLAP_MSG)


def _check_unrecorded(t, what):
    if _grad_state.enabled and t.requires_grad:
        if t._ctx is None:
            raise RuntimeError(_LEAF_MSG)
        raise RuntimeError(
            f"fastnn: {what} on a tensor that is part of a graph is not "
            "supported; call it under no_grad() or on a detached tensor"
        )


def _binary_inplace(t, other, ufunc, fallback):
    """t (op)= other: in place, or recorded through ``fallback`` (the out-of-place op)."""
    if _needs_record(t, other):
        return _inplace_record(t, lambda a: fallback(a, other))
    T = _function.Tensor
    o = other._data if isinstance(other, T) else other
    d = t._data
    if isinstance(other, T) and o.__class__ is not d.__class__:
        _function.device_mismatch((t, other))
    # (the CPU backend's ops take its threaded kernels for large arrays themselves)
    op = getattr(_devices.of(d), ufunc)
    try:
        op(d, o, out=d)
    except ValueError as e:
        _refuse_read_only(t)
        raise RuntimeError(
            f"{ufunc}_: {e} (shapes {t.shape} and {getattr(other, 'shape', ())})"
        ) from None
    except TypeError as e:  # numpy casting: float into an int tensor
        raise RuntimeError(
            f"{ufunc}_: result type can't be cast to the desired output type {t.dtype}: {e}"
        ) from None
    t._vc[0] += 1
    return t


class InplaceMixin:
    __slots__ = ()

    def add_(self, other, alpha=1):
        if alpha != 1:
            other = other * alpha
        return _binary_inplace(self, other, "add", lambda a, b: a + b)

    def sub_(self, other, alpha=1):
        if alpha != 1:
            other = other * alpha
        return _binary_inplace(self, other, "sub", lambda a, b: a - b)

    def mul_(self, other):
        return _binary_inplace(self, other, "mul", lambda a, b: a * b)

    def div_(self, other):
        return _binary_inplace(self, other, "div", lambda a, b: a / b)

    def pow_(self, exponent):
        return _binary_inplace(self, exponent, "pow", lambda a, b: a**b)

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def clamp_(self, min=None, max=None):
        if _needs_record(self):
            return _inplace_record(self, lambda a: a.clamp(min, max))
        _refuse_read_only(self)
        _devices.of(self._data).clip(self._data, min, max, out=self._data)
        self._vc[0] += 1
        return self

    def zero_(self):
        return self.fill_(0)

    def fill_(self, value):
        T = _function.Tensor
        if isinstance(value, T) and value.requires_grad and _grad_state.enabled:
            number = value.item()
            if not _dtype.is_floating(self._data.dtype):
                raise RuntimeError(f"fill_: {self.dtype} cannot take a value that requires grad")
            return _inplace_record(self, lambda a: S.Fill.apply(a, value, value=number))
        if _needs_record(self):
            number = value.item() if isinstance(value, T) else value
            return _inplace_record(self, lambda a: S.Fill.apply(a, value=number))
        if isinstance(value, T):
            value = value.item()
        _refuse_read_only(self)
        _devices.of(self._data).fill(self._data, value)
        self._vc[0] += 1
        return self

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        _check_unrecorded(self, "normal_")
        if generator is None:
            _devices.of(self._data).normal_(self._data, mean, std)
        else:
            rng = _random.rng_of(generator, "normal_")
            _fill_drawn(self, lambda n: rng.normal(mean, std, n))
        self._vc[0] += 1
        return self

    def uniform_(self, a=0.0, b=1.0, *, generator=None):
        _check_unrecorded(self, "uniform_")
        if generator is None:
            _devices.of(self._data).uniform_(self._data, a, b)
        else:
            rng = _random.rng_of(generator, "uniform_")
            _fill_drawn(self, lambda n: rng.uniform(a, b, n))
        self._vc[0] += 1
        return self

    def copy_(self, src, non_blocking=False):
        # non_blocking: a hint torch takes for host/device copies; every copy here completes
        # before copy_ returns, which the hint allows
        T = _function.Tensor
        be = _devices.of(self._data)
        if _needs_record(self, src):
            if not isinstance(src, T):
                src = T._make(be.asarray(src))
            elif src._data.__class__ is not self._data.__class__:
                src = src.to(self.device)
            try:
                np.broadcast_shapes(tuple(src.shape), tuple(self.shape))
            except ValueError:
                raise RuntimeError(
                    f"copy_: source shape {tuple(src.shape)} does not broadcast to the "
                    f"destination shape {tuple(self.shape)}"
                ) from None
            return _inplace_record(self, lambda a: S.CopyFrom.apply(a, src))
        if isinstance(src, T):
            s = src._data
            if s.__class__ is not self._data.__class__:  # across devices: via the host
                s = be.from_numpy(_devices.of(s).to_numpy(s))
        else:
            s = be.asarray(src)
        try:
            be.copyto(self._data, s)
        except ValueError as e:
            _refuse_read_only(self)
            raise RuntimeError(
                f"copy_: {e} (destination shape {self.shape}, source shape {tuple(s.shape)})"
            ) from None
        self._vc[0] += 1
        return self

    def masked_fill_(self, mask, value):
        from .math import bool_mask

        bool_mask(mask)
        T = _function.Tensor
        m = mask._data if isinstance(mask, T) else mask
        m = T._make(_devices.of(self._data).asarray(m))
        # the mask broadcasts to self's shape (a (C,) mask on (R, C) picks columns in every
        # row); as an index alone it would pick rows
        self[m.expand(self.shape) if tuple(m.shape) != tuple(self.shape) else m] = value
        return self

    # ---- the tutorials' math surface: more in-place variants --------------------------------

    def sqrt_(self):
        return _inplace_via(self, lambda a: a.sqrt(), "sqrt_", record=M.SqrtIn.apply)

    def exp_(self):
        return _inplace_via(self, lambda a: a.exp(), "exp_", record=M.ExpIn.apply)

    def neg_(self):
        return _inplace_via(self, lambda a: -a, "neg_")

    def abs_(self):
        return _inplace_via(self, lambda a: a.abs(), "abs_")

    def lerp_(self, end, weight):
        if weight.__class__ in (int, float) and _fused_host(self, end):
            return _fused_inplace(self, _C.lerp, end._data, weight)
        return _inplace_via(self, lambda a: a.lerp(end, weight), "lerp_", end, weight)

    def addcmul_(self, tensor1, tensor2, value=1):
        if value.__class__ in (int, float) and _fused_host(self, tensor1, tensor2):
            return _fused_inplace(self, _C.addcmul, tensor1._data, tensor2._data, value)
        return _inplace_via(
            self, lambda a: a.addcmul(tensor1, tensor2, value), "addcmul_", tensor1, tensor2
        )

    def addcdiv_(self, tensor1, tensor2, value=1):
        if value.__class__ in (int, float) and _fused_host(self, tensor1, tensor2):
            return _fused_inplace(self, _C.addcdiv, tensor1._data, tensor2._data, value)
        return _inplace_via(
            self, lambda a: a.addcdiv(tensor1, tensor2, value), "addcdiv_", tensor1, tensor2
        )

    def scatter_(self, dim, index, src=None, value=None, reduce=None):
        return _inplace_via(
            self, lambda a: a.scatter(dim, index, src, value, reduce), "scatter_", src
        )

    def scatter_add_(self, dim, index, src):
        return _inplace_via(self, lambda a: a.scatter_add(dim, index, src), "scatter_add_", src)


def _fused_inplace(t, kernel, *args):
    """t <- kernel(t, *args) in one pass over t's storage (the hand-written optimizer's
    addcmul_ / addcdiv_ / lerp_ on host tensors that need no gradient)."""
    d = t._data
    kernel(d, *args, out=d)
    t._vc[0] += 1
    return t


def _inplace_via(t, op, name, *others, record=None):
    """t <- op(t): recorded (see the module docstring) when grad is recorded for t or any of
    ``others`` (through ``record`` when given: a form that saves no output); else computed out of
    place and copied into t's storage (same shape, and a dtype t can hold: torch's same-kind
    rule)."""
    T = _function.Tensor
    if _grad_state.enabled and (
        t.requires_grad or any(isinstance(o, T) and o.requires_grad for o in others)
    ):
        return _inplace_record(t, record or op)
    r = op(t)
    if r._data.shape != t._data.shape:
        raise RuntimeError(
            f"{name}: output with shape {list(t.shape)} doesn't match the broadcast shape "
            f"{list(r.shape)}"
        )
    if r._data.dtype != t._data.dtype and not np.can_cast(
        r._data.dtype, t._data.dtype, "same_kind"
    ):
        raise RuntimeError(
            f"{name}: result type {r._data.dtype} can't be cast to the desired output type "
            f"{t._data.dtype}"
        )
    _refuse_read_only(t)
    _devices.of(t._data).copyto(t._data, r._data)
    t._vc[0] += 1
    return t


def _fill_drawn(t, draw):
    """Fill ``t`` with ``draw(n)`` (host float64 draws): in place, a chunk at a time, on the CPU;
    through one host array on other devices."""
    if isinstance(t._data, np.ndarray):
        _random_fill.fill_(t._data, draw)
    else:
        _fill_host(t, draw(tuple(t._data.shape)))


def _fill_host(t, values):
    """Write host-drawn ``values`` (float64 numpy) into ``t``'s storage, on whatever device."""
    be = _devices.of(t._data)
    be.copyto(t._data, be.from_numpy(np.array(values, dtype=t._data.dtype, order="C")))
