"""More in-place Tensor methods (a mixin of ``Tensor``), each the out-of-place op written back.

They follow ``inplace.py``'s rules through its ``_inplace_via``: the version counter bumps, a leaf
that requires grad refuses while grad is recorded, any other tensor recorded in the graph takes
over the out-of-place result's history (so gradients stay exact), and a result the tensor's dtype
cannot hold (``sin_`` of an int tensor) raises as in torch. Shape methods (``t_``, ``squeeze_``)
rebind the tensor to the reshaped view. The random fillers draw from fastnn's generator, so
``manual_seed`` makes them repeat.
"""

import numpy as np

from .._core import dtype as _dtype
from .._core import random as _random
from ..autograd import function as _function
from ..autograd.grad_mode import state as _grad_state
from . import views as _views
from .inplace import (
    _LEAF_MSG,
    _check_unrecorded,
    _fill_drawn,
    _inplace_via,
    _stand_in,
    _take_over,
)

# x.<name>_(*args) is x.<name>(*args) written back into x.
_UNARY = (
    "acos asin atan acosh asinh atanh arccos arcsin arctan arccosh arcsinh arctanh cos cosh sin "
    "sinh tan tanh log log10 log1p log2 exp2 expm1 erf erfc erfinv floor ceil round trunc frac "
    "fix sign sgn square rsqrt reciprocal nan_to_num deg2rad rad2deg logit lgamma digamma sinc "
    "i0 negative absolute logical_not bitwise_not tril triu cumsum cumprod clamp_min clamp_max "
    "clip renorm"
)
_BINARY = (
    "fmod remainder floor_divide hypot atan2 arctan2 true_divide multiply subtract divide "
    "copysign xlogy float_power ldexp eq ne lt le gt ge greater less greater_equal less_equal "
    "not_equal logical_and logical_or logical_xor bitwise_and bitwise_or bitwise_xor heaviside "
    "bitwise_left_shift bitwise_right_shift polygamma mvlgamma igamma igammac "
    "gcd lcm nextafter addmv addr addbmm addmm baddbmm index_fill index_copy index_reduce "
    "masked_scatter put index_put scatter_reduce"
)


def _written_back(name):
    def method(self, *args, **kwargs):
        T = _function.Tensor
        others = [a for a in (*args, *kwargs.values()) if isinstance(a, T)]
        for a in (*args, *kwargs.values()):  # index_put's indices come as a tuple of tensors
            if isinstance(a, (tuple, list)):
                others.extend(b for b in a if isinstance(b, T))

        def op(x):
            return getattr(x, name)(*args, **kwargs)

        def record(x):  # an op that saves its output (tanh) must not save the tensor we rebind
            r = op(x)
            return r.clone() if getattr(r._ctx, "save_output", False) else r

        return _inplace_via(self, op, name + "_", *others, record=record)

    method.__name__ = method.__qualname__ = name + "_"
    method.__doc__ = f"In-place ``{name}``: ``x.{name}_(...)`` writes ``x.{name}(...)`` into x."
    return method


def _rebound(t, op):
    """t <- op(t) where op changes only the shape: t becomes that view, history included."""
    if _grad_state.enabled and t.requires_grad and t._ctx is None:
        raise RuntimeError(_LEAF_MSG)
    old = _stand_in(t)
    _views.unlink(t)
    return _take_over(t, old, op(old))  # a version bump: torch counts a metadata change as a write


def _draw_into(t, name, generator, draw):
    _check_unrecorded(t, name)
    rng = _random.rng_of(generator, name)
    _fill_drawn(t, lambda n: draw(rng, n))
    t._vc[0] += 1
    return t


def _positive(value, what, fn):
    if not value > 0:
        raise RuntimeError(f"{fn} expects {what} > 0.0, but found {what}={value}")


class InplaceMoreMixin:
    __slots__ = ()

    # ---- shape, in place --------------------------------------------------------------------

    def squeeze_(self, dim=None):
        return _rebound(self, lambda a: a.squeeze(dim))

    def unsqueeze_(self, dim):
        return _rebound(self, lambda a: a.unsqueeze(dim))

    def t_(self):
        return _rebound(self, lambda a: a.t())

    def transpose_(self, dim0, dim1):
        return _rebound(self, lambda a: a.transpose(dim0, dim1))

    swapaxes_ = swapdims_ = transpose_

    def fill_diagonal_(self, fill_value, wrap=False):
        """Write ``fill_value`` on the main diagonal (all dims equal, or a 2-D matrix; ``wrap``
        restarts it every ncols + 1 rows of a tall matrix)."""
        if self.ndim < 2:
            raise RuntimeError("dimensions must larger than 1")
        shape = self.shape
        if self.ndim > 2 and len(set(shape)) != 1:
            raise RuntimeError("all dimensions of input must be of equal length")
        mask = np.zeros(shape, dtype=bool)
        if self.ndim == 2:
            rows, cols = shape
            flat = mask.reshape(-1)
            stop = rows * cols if wrap else min(rows, cols) * cols
            flat[0 : stop : cols + 1] = True
        else:
            k = np.arange(shape[0])
            mask[(k,) * self.ndim] = True
        m = _function.Tensor._make(np.asarray(mask))
        if not isinstance(self._data, np.ndarray):
            m = m.to(self.device)
        return _inplace_via(self, lambda a: a.masked_fill(m, fill_value), "fill_diagonal_")

    # ---- random fillers from fastnn's generator -----------------------------------------------

    def random_(self, from_=0, to=None, *, generator=None):
        """Integers drawn uniformly from [from, to - 1]; ``random_(to)`` is [0, to - 1]; without
        ``to``, up to the largest integer the dtype holds exactly."""
        if to is None and from_ != 0:
            from_, to = 0, from_
        dt = self._data.dtype
        if to is None:
            if _dtype.is_floating(dt):
                to = 2 ** (np.finfo(dt).nmant + 1) + 1  # every integer the dtype holds exactly
            elif dt.kind == "b":
                to = 2
            else:
                to = int(np.iinfo(dt).max) + (0 if dt.itemsize == 8 else 1)
        if from_ >= to:
            raise RuntimeError(
                f"random_ expects 'from' to be less than 'to', but got from={from_} >= to={to}"
            )
        return _draw_into(
            self, "random_", generator, lambda r, n: r.integers(from_, to, n, dtype=np.int64)
        )

    def exponential_(self, lambd=1.0, *, generator=None):
        _positive(lambd, "lambd", "exponential_")
        return _draw_into(
            self, "exponential_", generator, lambda r, n: r.exponential(1.0 / lambd, n)
        )

    def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
        _positive(std, "std", "log_normal_")
        return _draw_into(self, "log_normal_", generator, lambda r, n: r.lognormal(mean, std, n))

    def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
        _positive(sigma, "sigma", "cauchy_")
        return _draw_into(
            self, "cauchy_", generator, lambda r, n: median + sigma * r.standard_cauchy(n)
        )

    def geometric_(self, p, *, generator=None):
        if not 0 < p < 1:
            raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
        return _draw_into(self, "geometric_", generator, lambda r, n: r.geometric(p, n))


for _name in (_UNARY + " " + _BINARY).split():
    setattr(InplaceMoreMixin, _name + "_", _written_back(_name))
del _name
# x <<= n shifts x itself, as torch's operators do
InplaceMoreMixin.__ilshift__ = InplaceMoreMixin.bitwise_left_shift_
InplaceMoreMixin.__irshift__ = InplaceMoreMixin.bitwise_right_shift_
