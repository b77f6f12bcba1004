"""Modified Bessel functions of the first kind, orders 0 and 1, and their exponentially scaled
forms. Near 0 the power series (all terms positive, so no cancellation); far out the asymptotic
series of exp(-|x|) I_n(x) sqrt(2 pi |x|). Both are compositions of differentiable ops."""

import math

from .._tensor import creation as _creation
from .._tensor import functions as _fns
from .._tensor import functions_api as _api
from ._common import as_float_tensor, in_float64

_SWITCH = 30.0  # beyond it the asymptotic series' smallest term is ~exp(-2 * 30), far below 1e-16
_SERIES_TERMS = 64  # at |x| = 30 the power series' term 64 is below 1e-35 of the sum
_ASYMPTOTIC_TERMS = 24


def _asymptotic_coefficients(order):
    """c_k of exp(-x) I_n(x) sqrt(2 pi x) = sum_k c_k / x^k, from mu = 4 n^2:
    c_k = (-1)^k prod_{j<=k} (mu - (2j-1)^2) / (k! 8^k)."""
    mu = 4 * order * order
    coefficients, c = [1.0], 1.0
    for k in range(1, _ASYMPTOTIC_TERMS):
        c *= -(mu - (2 * k - 1) ** 2) / (8 * k)
        coefficients.append(c)
    return coefficients


_ASYMPTOTIC = {0: _asymptotic_coefficients(0), 1: _asymptotic_coefficients(1)}


def _far_scaled(ax, order):
    """exp(-|x|) I_n(|x|) for |x| > _SWITCH (other entries are placeholders)."""
    far = _fns.where(ax > _SWITCH, ax, _creation.full_like(ax, 2 * _SWITCH))
    inv = 1.0 / far
    total = _creation.zeros_like(far)
    for c in reversed(_ASYMPTOTIC[order]):  # Horner in 1/x
        total = total * inv + c
    return total / _fns.sqrt(2 * math.pi * far)


def _i1_series(x):
    """I1(x) = (x/2) sum_k (x^2/4)^k / (k! (k+1)!), for |x| <= _SWITCH (clamped beyond)."""
    near = _fns.clamp(x, -_SWITCH, _SWITCH)
    y = near * near / 4
    total = _creation.zeros_like(near)
    for k in reversed(range(_SERIES_TERMS)):  # Horner: term k+1 = term k * y / ((k+1)(k+2))
        total = 1.0 + total * y / ((k + 1) * (k + 2))
    return near / 2 * total


def _i1(x):
    ax = _fns.abs(x)
    far = _far_scaled(ax, 1) * _fns.exp(_fns.where(ax > _SWITCH, ax, _creation.zeros_like(ax)))
    return _fns.where(ax <= _SWITCH, _i1_series(x), _fns.sign(x) * far)


def _i1e(x):
    ax = _fns.abs(x)
    near = _fns.exp(-_fns.clamp(ax, 0.0, _SWITCH)) * _i1_series(x)
    return _fns.where(ax <= _SWITCH, near, _fns.sign(x) * _far_scaled(ax, 1))


def _i0e(x):
    ax = _fns.abs(x)
    near = _fns.clamp(ax, 0.0, _SWITCH)
    direct = _fns.exp(-near) * _api.i0(near)
    return _fns.where(ax <= _SWITCH, direct, _far_scaled(ax, 0))


def i0e(input):
    """exp(-|x|) I0(x), finite for every x: fastnn's i0 up to |x| = 30, the asymptotic series
    beyond; ~1e-15 relative."""
    return in_float64(_i0e, as_float_tensor(input, "i0e"))


def i1(input):
    """The modified Bessel function I1 (odd in x): the power series up to |x| = 30, the
    asymptotic series beyond; ~1e-15 relative, inf past float64's range (|x| > ~713)."""
    return in_float64(_i1, as_float_tensor(input, "i1"))


def i1e(input):
    """exp(-|x|) I1(x), finite for every x; ~1e-15 relative."""
    return in_float64(_i1e, as_float_tensor(input, "i1e"))
