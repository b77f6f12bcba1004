"""The Hurwitz zeta function and polygamma on float tensors, composed of differentiable ops: the
derivative of polygamma(n, x) in x is polygamma(n + 1, x), and autograd finds it term by term.
``Tensor.polygamma`` and ``fastnn.special`` (zeta, polygamma) share them."""

import math
from fractions import Fraction

import numpy as np

from .._core import dtype as _dtype
from . import creation as _creation
from . import functions as _fns
from . import functions_more as _more


def _bernoulli(count):
    """B_0 .. B_count as exact fractions, from sum_{k<=m} C(m+1, k) B_k = 0."""
    b = [Fraction(1)]
    for m in range(1, count + 1):
        b.append(-sum(math.comb(m + 1, k) * b[k] for k in range(m)) / (m + 1))
    return b


# Euler-Maclaurin: zeta(s, q) = sum_{k<N} (q+k)^-s + b^(1-s)/(s-1) + b^-s/2
#   + sum_j B_2j / (2j)! * s (s+1) ... (s+2j-2) * b^(-s-2j+1), with b = q + N
_TERMS = 12
_B = _bernoulli(2 * _TERMS)
_COEFFS = [float(_B[2 * j] / math.factorial(2 * j)) for j in range(1, _TERMS + 1)]
_DIRECT = 9  # terms summed directly: b >= 9 makes the correction series converge fast


def _zeta(s, q):
    s, q = _more.broadcast_tensors(s, q)
    integer_s = s == _fns.floor(s)
    pole = (s == 1) | ((q <= 0) & (q == _fns.floor(q)))
    invalid = (s < 1) | ((q <= 0) & ~integer_s) | _fns.isnan(s) | _fns.isnan(q)
    ok = ~(pole | invalid)
    s = _fns.where(ok, s, _creation.full_like(s, 2.0))
    q = _fns.where(ok, q, _creation.ones_like(q))
    # a negative q needs enough direct terms that q + N is again >= 9
    lowest = float(q.min().item()) if q.numel() else 1.0
    n_direct = _DIRECT + max(0, math.ceil(-lowest))
    total = sum(_fns.pow(q + k, -s) for k in range(n_direct))
    b = q + n_direct
    total = total + _fns.pow(b, 1.0 - s) / (s - 1.0) + 0.5 * _fns.pow(b, -s)
    rising = s  # s (s+1) ... (s+2j-2), grown two factors per term
    for j, c in enumerate(_COEFFS, start=1):
        total = total + c * rising * _fns.pow(b, -s - (2 * j - 1))
        rising = rising * (s + 2 * j - 1) * (s + 2 * j)
    total = _fns.where(pole, _creation.full_like(total, math.inf), total)
    return _fns.where(invalid, _creation.full_like(total, math.nan), total)


def in_float64(fn, x, *rest):
    """fn(x, *rest) evaluated in float64 and cast back to x's dtype: the series' large powers
    overflow a float32. Tensors in rest are widened too."""
    target = x.dtype
    wide = _dtype.PUBLIC["float64"]
    if target == wide and all(r.dtype == wide for r in rest):
        return fn(x, *rest)
    result = fn(x.to(wide), *(r.to(wide) for r in rest))
    with np.errstate(over="ignore"):  # values past the narrow type's range become inf, silently
        return result.to(target)


def hurwitz_zeta(s, q):
    """zeta(s, q) of two float tensors of one dtype, in float64 inside."""
    return in_float64(_zeta, s, q)


def polygamma(n, x):
    """The n-th derivative of digamma for an int n >= 1 and a float tensor x:
    (-1)^(n+1) n! zeta(n+1, x)."""
    scale = (-1) ** (n + 1) * math.factorial(n)

    def compute(x64):
        order = _creation.tensor(float(n + 1), dtype=x64.dtype, device=x64.device)
        return scale * _zeta(order, x64)

    return in_float64(compute, x)
