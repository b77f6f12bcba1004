"""The standard normal distribution: its CDF ndtr, log_ndtr (accurate far into both tails), and
the inverse CDF ndtri. All are compositions of differentiable ops evaluated in float64."""

import math

from .._tensor import creation as _creation
from .._tensor import functions as _fns
from .._tensor import functions_api as _api
from ._common import as_float_tensor, in_float64

_SQRT2 = math.sqrt(2.0)
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
# below this x, Phi(x) is near the float64 underflow and the asymptotic expansion takes over
_FAR_TAIL = -30.0
# the expansion's coefficients (-1)^k (2k-1)!!; its next term at x = -30 is below 1e-18
_TAIL_TERMS = [(-1) ** k * math.prod(range(1, 2 * k, 2)) for k in range(9)]


def _ndtr(x):
    return 0.5 * _api.erfc(-x / _SQRT2)


def ndtr(input):
    """Phi(x) = (1 + erf(x / sqrt 2)) / 2, through erfc so the lower tail keeps its digits."""
    return _ndtr(as_float_tensor(input, "ndtr"))


def _log_ndtr(x):
    zero = _creation.zeros_like(x)
    # each branch sees only the inputs it serves, so no branch makes inf/NaN gradients
    upper = _fns.where(x > 0, x, zero)
    from_upper = _fns.log1p(-_ndtr(-upper))  # Phi(x) = 1 - Phi(-x), near 1
    middle = _fns.clamp(x, _FAR_TAIL, 0.0)
    from_middle = _fns.log(_ndtr(middle))
    far = _fns.where(x < _FAR_TAIL, x, _creation.full_like(x, 2 * _FAR_TAIL))
    inv_sq = 1.0 / (far * far)
    series = sum(c * inv_sq**k for k, c in enumerate(_TAIL_TERMS))
    from_far = -0.5 * far * far - _fns.log(-far) - _HALF_LOG_2PI + _fns.log(series)
    out = _fns.where(x > 0, from_upper, from_middle)
    return _fns.where(x < _FAR_TAIL, from_far, out)


def log_ndtr(input):
    """log Phi(x): log1p(-Phi(-x)) above 0, log Phi(x) down to -30, and below that the
    asymptotic series of the Mills ratio (relative error < 1e-15)."""
    return in_float64(_log_ndtr, as_float_tensor(input, "log_ndtr"))


def _ndtri(p):
    # by symmetry solve only the lower half: q <= 1/2, where 1 - p is exact for p > 1/2
    upper = p > 0.5
    q = _fns.where(upper, 1.0 - p, p)
    usable = (q > 0) & (q <= 0.5)
    q = _fns.where(usable, q, _creation.full_like(q, 0.25))
    log_q = _fns.log(q)
    # first guess: erfinv where 2q - 1 still resolves q; the tail's fixed point of
    # log q = -y^2/2 - log(-y) - log(2 pi)/2 below that
    central = _SQRT2 * _api.erfinv(_fns.clamp(2.0 * q - 1.0, -1.0 + 1e-10, 0.0))
    tail = -_fns.sqrt(-2.0 * log_q)
    for _ in range(3):
        tail = -_fns.sqrt(_fns.clamp(-2.0 * log_q - 2.0 * _fns.log(-tail) - 2 * _HALF_LOG_2PI, 1.0))
    y = _fns.where(q > 1e-10, central, tail)
    # Newton on log Phi(y) = log q: quadratic convergence, and the gradient it carries tends to
    # the derivative of the inverse, sqrt(2 pi) exp(y^2 / 2)
    for _ in range(3):
        log_phi = _log_ndtr(y)
        log_pdf = -0.5 * y * y - _HALF_LOG_2PI
        y = y - (log_phi - log_q) * _fns.exp(log_phi - log_pdf)
    y = _fns.where(upper, -y, y)
    inf = _creation.full_like(y, math.inf)
    y = _fns.where(p == 0, -inf, _fns.where(p == 1, inf, y))
    outside = (p < 0) | (p > 1) | _fns.isnan(p)
    return _fns.where(outside, _creation.full_like(y, math.nan), y)


def ndtri(input):
    """The inverse of ndtr: the x with Phi(x) = p; -inf at 0, inf at 1, NaN outside [0, 1].
    Newton-refined in float64 to full precision, also for p as small as 1e-300."""
    return in_float64(_ndtri, as_float_tensor(input, "ndtri"))
