"""torch.special's names: error and gamma functions, the normal distribution's CDF and its
inverse, Hurwitz zeta and polygamma, entropy terms and the softmax family. Each is composed from
fastnn's differentiable ops, so gradients come from autograd; see each function for accuracy."""

from ._basic import (
    digamma,
    entr,
    erf,
    erfc,
    erfinv,
    exp2,
    expit,
    expm1,
    gammaln,
    i0,
    log1p,
    log_softmax,
    logit,
    logsumexp,
    multigammaln,
    psi,
    round,
    sinc,
    softmax,
    xlog1py,
    xlogy,
)
from ._bessel import i0e, i1, i1e
from ._normal import log_ndtr, ndtr, ndtri
from ._zeta import polygamma, zeta

__all__ = [
    "digamma",
    "entr",
    "erf",
    "erfc",
    "erfinv",
    "exp2",
    "expit",
    "expm1",
    "gammaln",
    "i0",
    "i0e",
    "i1",
    "i1e",
    "log1p",
    "log_ndtr",
    "log_softmax",
    "logit",
    "logsumexp",
    "multigammaln",
    "ndtr",
    "ndtri",
    "polygamma",
    "psi",
    "round",
    "sinc",
    "softmax",
    "xlog1py",
    "xlogy",
    "zeta",
]
