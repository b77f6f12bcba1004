"""Gamma(concentration, 1) draws with a reparameterized gradient, which Gamma, Beta, Dirichlet
and StudentT build their ``rsample`` on.

Draws come from numpy's gamma sampler on fastnn's seeded generator. The gradient is the implicit
one: with the draw x held at a fixed quantile u = P(a, x) (P the regularized lower incomplete
gamma function), dx/da = -(dP/da) / (dP/dx). Written with the series
P(a, x) = x^a e^-x sum_n x^n / Gamma(a + n + 1), that ratio is

    dx/da = -(x / a) * sum_n c_n (log x - digamma(a + n + 1)),   c_0 = 1, c_n = c_(n-1) x / (a + n)

(the common factor x^a e^-x / Gamma(a + 1) cancels against the density). Its terms grow while
a + n < x and then fall faster than geometrically; x sits within a few sqrt(a) of a, so the sum
stops after about x - a + 10 sqrt(x) terms. It is computed in float64 on the host.
"""

import numpy as np

from .._core import random as _random
from .._tensor import as_tensor
from .._tensor.ops.special import digamma64


def _draw(concentration):
    """Host draws of Gamma(concentration, 1), kept above the smallest normal float (a draw
    of 0 would give log-densities of -inf and a gradient of 0 / 0)."""
    a = concentration.detach().cpu().numpy()
    x = _random.generator().standard_gamma(a.astype(np.float64))
    return np.maximum(x, np.finfo(a.dtype).tiny)


def gamma_sample_grad(a, x):
    """dx/da of Gamma(a, 1) draws x at fixed quantile, in float64 (arrays of one shape)."""
    a = np.asarray(a, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    log_x = np.log(x)
    psi = digamma64(a + 1.0)
    c = np.ones_like(x)
    total = log_x - psi
    done = np.zeros(x.shape, dtype=bool)
    n = 0
    limit = int(np.max(x - a, initial=0.0) + 10 * np.sqrt(np.max(x, initial=1.0)) + 50)
    while not done.all() and n < limit + 1000:
        n += 1
        psi = psi + 1.0 / (a + n)  # digamma(a + n + 1) by the recurrence
        c = c * x / (a + n)
        term = c * (log_x - psi)
        total = total + np.where(done, 0.0, term)
        # past the peak (a + n > x) terms only shrink; stop once they are below rounding
        done |= (a + n > x) & (np.abs(term) <= 1e-17 * np.abs(total))
    return -(x / a) * total


def standard_gamma(concentration, sample_shape=()):
    """Draws of shape ``sample_shape + concentration.shape`` whose gradient with respect to
    ``concentration`` is the implicit reparameterization gradient."""
    conc = concentration.expand(tuple(sample_shape) + tuple(concentration.shape))
    x = _draw(conc)
    drawn = as_tensor(x, dtype=concentration.dtype, device=concentration.device)
    if not conc.requires_grad:
        return drawn
    slope = gamma_sample_grad(conc.detach().cpu().numpy(), x)
    slope = as_tensor(slope, dtype=concentration.dtype, device=concentration.device)
    # value: the draw (the second term is exactly 0); gradient: slope * d concentration
    return drawn + slope * (conc - conc.detach())
