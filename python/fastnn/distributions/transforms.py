"""Transforms: invertible maps y = f(x) with the log |det J| a density needs to follow a value
through them (TransformedDistribution, LogNormal, the relaxed distributions).

A transform acts elementwise on the last ``event_dim`` axes (0: each element alone) and keeps
shapes. ``cache_size=1`` remembers the last (x, y) pair, so ``log_prob`` of a value just drawn
inverts nothing (tanh's inverse loses precision near +-1).
"""

import math
import numbers

import numpy as np

from .._core.dtype import finfo
from .._tensor import Tensor
from . import constraints
from .utils import softplus

__all__ = [
    "AbsTransform",
    "AffineTransform",
    "ComposeTransform",
    "ExpTransform",
    "SigmoidTransform",
    "TanhTransform",
    "Transform",
    "identity_transform",
]


def _sum_rightmost(t, n):
    return t.sum(tuple(range(-n, 0))) if n > 0 else t


class Transform:
    """The base: subclasses give ``_call``, ``_inverse``, ``log_abs_det_jacobian``, ``domain``,
    ``codomain``, ``bijective`` and ``sign``."""

    bijective = False
    domain = constraints.real
    codomain = constraints.real

    def __init__(self, cache_size=0):
        if cache_size not in (0, 1):
            raise ValueError(f"cache_size must be 0 or 1, got {cache_size!r}")
        self._cache_size = cache_size
        self._cached = None  # (x, y) of the last call, when cache_size == 1

    @property
    def event_dim(self):
        return self.domain.event_dim

    @property
    def sign(self):
        raise NotImplementedError(f"{type(self).__name__} has no constant sign")

    @property
    def inv(self):
        """The inverse transform, x = f^-1(y)."""
        return _InverseTransform(self)

    def with_cache(self, cache_size=1):
        if self._cache_size == cache_size:
            return self
        raise NotImplementedError(f"{type(self).__name__}.with_cache is not implemented")

    def __call__(self, x):
        if self._cache_size == 0:
            return self._call(x)
        if self._cached is not None and self._cached[0] is x:
            return self._cached[1]
        y = self._call(x)
        self._cached = (x, y)
        return y

    def _inv_call(self, y):
        if self._cache_size and self._cached is not None and self._cached[1] is y:
            return self._cached[0]
        x = self._inverse(y)
        if self._cache_size:
            self._cached = (x, y)
        return x

    def _call(self, x):
        raise NotImplementedError

    def _inverse(self, y):
        raise NotImplementedError(f"{type(self).__name__} has no inverse")

    def log_abs_det_jacobian(self, x, y):
        raise NotImplementedError

    def forward_shape(self, shape):
        return shape

    def inverse_shape(self, shape):
        return shape

    def __repr__(self):
        return type(self).__name__ + "()"


class _InverseTransform(Transform):
    """f^-1 of a transform f, sharing its cache."""

    def __init__(self, transform):
        super().__init__(transform._cache_size)
        self._inv = transform

    @property
    def domain(self):
        return self._inv.codomain

    @property
    def codomain(self):
        return self._inv.domain

    @property
    def bijective(self):
        return self._inv.bijective

    @property
    def sign(self):
        return self._inv.sign

    @property
    def inv(self):
        return self._inv

    def __call__(self, x):
        return self._inv._inv_call(x)

    def log_abs_det_jacobian(self, x, y):
        return -self._inv.log_abs_det_jacobian(y, x)

    def __repr__(self):
        return f"_InverseTransform({self._inv!r})"


class ComposeTransform(Transform):
    """``ComposeTransform(parts)``: applies ``parts`` in order; an empty list is the identity."""

    def __init__(self, parts, cache_size=0):
        parts = list(parts)
        for i, p in enumerate(parts):
            if not isinstance(p, Transform):
                raise TypeError(f"ComposeTransform: parts[{i}] must be a Transform, got {p!r}")
        super().__init__(cache_size)
        self.parts = parts

    @property
    def domain(self):
        if not self.parts:
            return constraints.real
        dim = max(p.domain.event_dim for p in self.parts)
        first = self.parts[0].domain
        extra = dim - first.event_dim
        return constraints.independent(first, extra) if extra > 0 else first

    @property
    def codomain(self):
        if not self.parts:
            return constraints.real
        dim = max(p.codomain.event_dim for p in self.parts)
        last = self.parts[-1].codomain
        extra = dim - last.event_dim
        return constraints.independent(last, extra) if extra > 0 else last

    @property
    def bijective(self):
        return all(p.bijective for p in self.parts)

    @property
    def sign(self):
        s = 1
        for p in self.parts:
            s = s * p.sign
        return s

    @property
    def inv(self):
        return ComposeTransform([p.inv for p in reversed(self.parts)])

    def _call(self, x):
        for p in self.parts:
            x = p(x)
        return x

    def _inverse(self, y):
        for p in reversed(self.parts):
            y = p.inv(y)
        return y

    def log_abs_det_jacobian(self, x, y):
        if not self.parts:
            return x.new_zeros(x.shape)
        dim = self.domain.event_dim
        total = 0
        for p in self.parts:
            y_p = p(x)
            total = total + _sum_rightmost(p.log_abs_det_jacobian(x, y_p), dim - p.domain.event_dim)
            x = y_p
        return total

    def __repr__(self):
        return "ComposeTransform(" + ", ".join(repr(p) for p in self.parts) + ")"


identity_transform = ComposeTransform([])


class ExpTransform(Transform):
    """y = exp(x)."""

    domain = constraints.real
    codomain = constraints.positive
    bijective = True
    sign = 1

    def _call(self, x):
        return x.exp()

    def _inverse(self, y):
        return y.log()

    def log_abs_det_jacobian(self, x, y):
        return x


class SigmoidTransform(Transform):
    """y = 1 / (1 + exp(-x)), kept inside (0, 1) so its inverse stays finite."""

    domain = constraints.real
    codomain = constraints.unit_interval
    bijective = True
    sign = 1

    def _call(self, x):
        info = finfo(x.dtype)
        return x.sigmoid().clamp(info.tiny, 1 - info.eps)

    def _inverse(self, y):
        info = finfo(y.dtype)
        y = y.clamp(info.tiny, 1 - info.eps)
        return y.log() - (-y).log1p()

    def log_abs_det_jacobian(self, x, y):
        # log(sigmoid(x) (1 - sigmoid(x))) = -softplus(-x) - softplus(x)
        return -softplus(-x) - softplus(x)


class TanhTransform(Transform):
    """y = tanh(x); use ``cache_size=1`` to score the draws it made (atanh near +-1 loses
    them)."""

    domain = constraints.real
    codomain = constraints.interval(-1.0, 1.0)
    bijective = True
    sign = 1

    def _call(self, x):
        return x.tanh()

    def _inverse(self, y):
        with np.errstate(divide="ignore"):  # atanh(+-1) is +-inf, as in torch
            return 0.5 * (y.log1p() - (-y).log1p())

    def log_abs_det_jacobian(self, x, y):
        # log(1 - tanh(x)^2) = 2 (log 2 - x - softplus(-2x)), finite for any x
        return 2.0 * (math.log(2.0) - x - softplus(-2.0 * x))


class AbsTransform(Transform):
    """y = |x| (not injective: its inverse picks the non-negative root)."""

    domain = constraints.real
    codomain = constraints.nonnegative

    def _call(self, x):
        return x.abs()

    def _inverse(self, y):
        return y


class AffineTransform(Transform):
    """``AffineTransform(loc, scale, event_dim=0, cache_size=0)``: y = loc + scale * x."""

    bijective = True

    def __init__(self, loc, scale, event_dim=0, cache_size=0):
        for name, v in (("loc", loc), ("scale", scale)):
            if not isinstance(v, (Tensor, numbers.Number)):
                raise TypeError(
                    f"AffineTransform: {name} must be a Tensor or a number, got {type(v).__name__}"
                )
        super().__init__(cache_size)
        self.loc, self.scale = loc, scale
        self._event_dim = event_dim

    @property
    def event_dim(self):
        return self._event_dim

    @property
    def domain(self):
        if self._event_dim == 0:
            return constraints.real
        return constraints.independent(constraints.real, self._event_dim)

    @property
    def codomain(self):
        return self.domain

    @property
    def sign(self):
        if isinstance(self.scale, numbers.Number):
            return 1 if self.scale > 0 else -1 if self.scale < 0 else 0
        return self.scale.sign()

    def _call(self, x):
        return self.loc + self.scale * x

    def _inverse(self, y):
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x, y):
        scale = self.scale
        if isinstance(scale, numbers.Number):
            out = x.new_full(x.shape, math.log(abs(scale)))
        else:
            shape = np.broadcast_shapes(tuple(x.shape), tuple(scale.shape))
            out = scale.abs().log().expand(shape)
        return _sum_rightmost(out, self._event_dim)

    def __repr__(self):
        return f"AffineTransform(loc={self.loc}, scale={self.scale})"
