"""The regularized lower incomplete gamma function P(a, x), the Gamma distribution's CDF, as an
autograd primitive computed in float64 on the host.

P comes from its power series while x < a + 1 and from the continued fraction of the upper
function Q = 1 - P beyond (Lentz's evaluation), each stopped at float64 rounding. The gradient
in x is the density x^(a-1) e^-x / Gamma(a); the gradient in a is -density * dx/da, the
quantity standard_gamma.py already sums for the reparameterized draw.
"""

import math

import numpy as np

from ..autograd.function import Function
from .standard_gamma import gamma_sample_grad

_lgamma = np.vectorize(math.lgamma, otypes=[np.float64])
_TINY = 1e-300


def _log_prefactor(a, x):
    """log(x^a e^-x / Gamma(a))."""
    return a * np.log(x) - x - _lgamma(a)


def _series_p(a, x):
    """P by sum_n x^n / (a (a+1) ... (a+n)), for x < a + 1 (terms fall from the start)."""
    term = 1.0 / a
    total = term.copy()
    for n in range(1, 10000):
        term = term * x / (a + n)
        total = total + term
        if np.all(np.abs(term) <= 1e-17 * np.abs(total)):
            break
    return np.exp(_log_prefactor(a, x)) * total


def _fraction_q(a, x):
    """Q by its continued fraction 1 / (x + 1 - a - 1 (1 - a) / (x + 3 - a - ...)), x >= a + 1."""
    b = x + 1.0 - a
    c = np.full_like(x, 1.0 / _TINY)
    d = 1.0 / b
    h = d.copy()
    for i in range(1, 10000):
        an = -i * (i - a)
        b = b + 2.0
        d = an * d + b
        d = np.where(np.abs(d) < _TINY, _TINY, d)
        c = b + an / c
        c = np.where(np.abs(c) < _TINY, _TINY, c)
        d = 1.0 / d
        step = d * c
        h = h * step
        if np.all(np.abs(step - 1.0) <= 1e-16):
            break
    return np.exp(_log_prefactor(a, x)) * h


def gamma_p(a, x):
    """P(a, x) for a > 0, x >= 0 (float64 arrays of one shape); NaN outside."""
    a = np.asarray(a, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    out = np.full(x.shape, np.nan)
    ok = (a > 0) & (x >= 0)
    out[ok & (x == 0)] = 0.0
    out[ok & np.isposinf(x)] = 1.0
    low = ok & (x > 0) & (x < a + 1)
    high = ok & (x >= a + 1) & np.isfinite(x)
    if low.any():
        out[low] = _series_p(a[low], x[low])
    if high.any():
        out[high] = 1.0 - _fraction_q(a[high], x[high])
    return out


def _density(a, x):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > 0, np.exp((a - 1) * np.log(x) - x - _lgamma(a)), 0.0)


class GammaP(Function):
    """P(a, x) of two tensors of one shape and float dtype."""

    save_inputs = True

    def forward(self, a, x):
        self.a, self.x = a, x
        be = self.be
        p = gamma_p(be.to_numpy(a), be.to_numpy(x))
        return be.from_numpy(np.ascontiguousarray(p, dtype=a.dtype))

    def backward(self, g):
        be = self.be
        a = np.asarray(be.to_numpy(self.a), dtype=np.float64)
        x = np.asarray(be.to_numpy(self.x), dtype=np.float64)
        g64 = np.asarray(be.to_numpy(g), dtype=np.float64)
        dens = _density(a, x)
        grad_a = grad_x = None
        if self.needs_input_grad[0]:
            inside = x > 0
            slope = np.zeros_like(x)
            if inside.any():
                slope[inside] = gamma_sample_grad(a[inside], x[inside])
            grad_a = be.from_numpy(np.ascontiguousarray(-g64 * dens * slope, dtype=g.dtype))
        if self.needs_input_grad[1]:
            grad_x = be.from_numpy(np.ascontiguousarray(g64 * dens, dtype=g.dtype))
        return grad_a, grad_x
