"""The special functions that are fastnn functions under torch.special's names, and the short
compositions: expit, xlog1py, entr, multigammaln."""

import math

from .. import _tensor as _t
from .._tensor import creation as _creation
from .._tensor import functions as _fns
from .._tensor import functions_api as _api
from ._common import as_float_tensor

erf = _fns.erf
erfc = _api.erfc
erfinv = _api.erfinv
expm1 = _fns.expm1
exp2 = _fns.exp2
log1p = _fns.log1p
sinc = _api.sinc
digamma = psi = _api.digamma
gammaln = _api.lgamma
i0 = _api.i0
logit = _api.logit
xlogy = _api.xlogy
round = _fns.round
logsumexp = _fns.logsumexp


def expit(input):
    """The logistic sigmoid 1 / (1 + exp(-x))."""
    return _fns.sigmoid(as_float_tensor(input, "expit"))


def softmax(input, dim, *, dtype=None):
    """Softmax along dim; with dtype the input is cast first (to avoid float32 overflow)."""
    return _fns.softmax(input if dtype is None else input.to(dtype), dim)


def log_softmax(input, dim, *, dtype=None):
    """Log-softmax along dim; with dtype the input is cast first."""
    return _fns.log_softmax(input if dtype is None else input.to(dtype), dim)


def xlog1py(input, other):
    """x * log1p(y), and 0 where x == 0 unless y is NaN."""
    if not isinstance(input, _t.Tensor) and not isinstance(other, _t.Tensor):
        raise TypeError("xlog1py(): at least one of 'input' and 'other' must be a Tensor")
    x = input if isinstance(input, _t.Tensor) else _t.tensor(float(input))
    y = other if isinstance(other, _t.Tensor) else _t.tensor(float(other))
    x, y = as_float_tensor(x, "xlog1py"), as_float_tensor(y, "xlog1py", "other")
    zero = (x == 0) & ~_fns.isnan(y)
    # where x == 0 the logarithm is not needed: keep y = -1 there from making -inf (and warnings)
    product = x * _fns.log1p(_fns.where(zero, _creation.zeros_like(y), y))
    return _fns.where(zero, _creation.zeros_like(product), product)


def entr(input):
    """-x ln(x) for x > 0, 0 at 0, -inf below 0 (NaN stays NaN)."""
    x = as_float_tensor(input, "entr")
    positive = x > 0
    # log sees only positive values, so no NaN reaches the gradient of the unused branch
    safe = _fns.where(positive, x, _creation.ones_like(x))
    value = -safe * _fns.log(safe)
    rest = _fns.where(x == 0, _creation.zeros_like(x), _creation.full_like(x, -math.inf))
    rest = _fns.where(_fns.isnan(x), x, rest)
    return _fns.where(positive, value, rest)


def multigammaln(input, p):
    """The log of the multivariate gamma function of dimension p:
    p(p-1)/4 ln(pi) + sum over j < p of lgamma(a - j/2). It is defined for a > (p-1)/2; like
    torch, other values are computed by the same sum, not refused."""
    if not isinstance(p, int) or isinstance(p, bool):
        raise TypeError(f"multigammaln(): argument 'p' must be int, not {type(p).__name__}")
    if p < 1:
        raise RuntimeError(f"multigammaln(): p has to be greater than or equal to 1, got {p}")
    a = as_float_tensor(input, "multigammaln")
    total = sum(_api.lgamma(a - j / 2) for j in range(p))
    return total + p * (p - 1) / 4 * math.log(math.pi)
