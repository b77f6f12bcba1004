"""The Hurwitz zeta function and polygamma, composed of differentiable ops: the derivative of
polygamma(n, x) in x is polygamma(n + 1, x), and autograd finds it term by term."""

import math
from fractions import Fraction

from .._tensor import Tensor, tensor
from .._tensor import creation as _creation
from .._tensor import functions as _fns
from .._tensor import functions_api as _api
from .._tensor import functions_more as _more
from ._common import as_float_tensor, in_float64


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


def zeta(input, other):
    """The Hurwitz zeta function sum_k (q + k)^-x, for x = input and q = other: inf at x = 1 and
    at non-positive integer q, NaN for x < 1 or for q <= 0 with non-integer x. Float64 values
    agree with torch to ~1e-14 relative."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError("zeta(): at least one of 'input' and 'other' must be a Tensor")
    x = as_float_tensor(input, "zeta")
    q = as_float_tensor(other, "zeta", "other")
    if x.dtype != q.dtype:  # the wider float, as torch's promotion gives
        wide = x.dtype if x.dtype.itemsize >= q.dtype.itemsize else q.dtype
        x, q = x.to(wide), q.to(wide)
    return in_float64(_zeta, x, q)


def polygamma(n, input):
    """The n-th derivative of digamma: digamma for n = 0, else (-1)^(n+1) n! zeta(n+1, x)."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ValueError(f"polygamma(): n must be a non-negative int, got {n!r}")
    x = as_float_tensor(input, "polygamma")
    if n == 0:
        return _api.digamma(x)
    scale = (-1) ** (n + 1) * math.factorial(n)

    def compute(x64):
        return scale * _zeta(tensor(float(n + 1), dtype=x64.dtype), x64)

    return in_float64(compute, x)
