"""The regularized incomplete gamma functions P(a, x) (igamma) and Q(a, x) = 1 - P (igammac),
on the host in float64.

Below x = a + 1 the power series P = x^a e^-x / Gamma(a + 1) * (1 + x/(a+1) + x^2/((a+1)(a+2))
+ ...) converges fast; above, Q's continued fraction (evaluated by the modified Lentz method)
does, and the other function is 1 minus it, so each is computed where it is not a difference
of nearly equal numbers. Edge values follow torch: P(0, x > 0) = 1, P(a, 0) = 0, P(a, inf) = 1,
P(inf, x) = 0, NaN for a < 0, x < 0 or a = x = 0. Only x has a gradient:
dP/dx = x^(a-1) e^-x / Gamma(a) (torch has none in a and raises for it).
"""

import math

import numpy as np

from ...autograd.function import Function

_lgamma = np.vectorize(math.lgamma, otypes=[np.float64])
_EPS = 1e-16
_TINY = 1e-300
_STEPS = 2000  # enough for a up to ~1e6 near x = a (terms needed grow like sqrt(a))


def _log_prefactor(a, x):
    """log(x^a e^-x / Gamma(a)), the factor both expansions share."""
    return a * np.log(x) - x - _lgamma(a)


def _series_p(a, x):
    term = 1.0 / a
    total = term.copy()
    ap = a.copy()
    for _ in range(_STEPS):
        ap = ap + 1.0
        term = term * x / ap
        total = total + term
        if np.all(np.abs(term) <= np.abs(total) * _EPS):
            break
    return total * np.exp(_log_prefactor(a, x))


def _fraction_q(a, x):
    b = x + 1.0 - a
    c = np.full_like(x, 1.0 / _TINY)
    d = 1.0 / b
    h = d.copy()
    for i in range(1, _STEPS):
        an = -i * (i - a)
        b = b + 2.0
        d = an * d + b
        d = np.where(np.abs(d) < _TINY, _TINY, d)
        c = b + an / c
        c = np.where(np.abs(c) < _TINY, _TINY, c)
        d = 1.0 / d
        step = d * c
        h = h * step
        if np.all(np.abs(step - 1.0) <= _EPS):
            break
    return np.exp(_log_prefactor(a, x)) * h


def lower64(a, x, upper=False):
    """P(a, x), or Q(a, x) with ``upper``, of broadcast float64 arrays."""
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    out = np.full(a.shape, np.nan)
    with np.errstate(all="ignore"):
        regular = (a > 0) & (x > 0) & np.isfinite(a) & np.isfinite(x)
        by_series = regular & (x < a + 1)
        by_fraction = regular & ~(x < a + 1)
        p_series = _series_p(a[by_series], x[by_series])
        q_fraction = _fraction_q(a[by_fraction], x[by_fraction])
        out[by_series] = 1.0 - p_series if upper else p_series
        out[by_fraction] = q_fraction if upper else 1.0 - q_fraction
    # edges, written as P; Q is 1 - P there
    p_one = ((a == 0) & (x > 0)) | ((x == np.inf) & (a >= 0) & (a < np.inf))
    p_zero = ((x == 0) & (a > 0)) | ((a == np.inf) & (x >= 0) & (x < np.inf))
    out[p_one] = 0.0 if upper else 1.0
    out[p_zero] = 1.0 if upper else 0.0
    return out


def density64(a, x):
    """dP/dx = x^(a-1) e^-x / Gamma(a)."""
    with np.errstate(all="ignore"):
        return np.exp((a - 1.0) * np.log(x) - x - _lgamma(a))


class Igamma(Function):
    """P(a, x) (or Q with upper=True) of two float arrays of one shape and dtype."""

    save_inputs = True

    def forward(self, a, x, upper=False):
        be = self.be
        self.a, self.x, self.upper = a, x, upper
        a64 = np.asarray(be.to_numpy(a), np.float64)
        x64 = np.asarray(be.to_numpy(x), np.float64)
        return be.from_numpy(np.ascontiguousarray(lower64(a64, x64, upper), dtype=a.dtype))

    def backward(self, g):
        name = "igammac" if self.upper else "igamma"
        if self.needs_input_grad[0]:
            raise NotImplementedError(f"the derivative of {name} in 'input' is not implemented")
        be = self.be
        a64 = np.asarray(be.to_numpy(self.a), np.float64)
        x64 = np.asarray(be.to_numpy(self.x), np.float64)
        slope = density64(a64, x64)
        grad = np.asarray(be.to_numpy(g), np.float64) * (-slope if self.upper else slope)
        return None, be.from_numpy(np.ascontiguousarray(grad, dtype=g.dtype))
