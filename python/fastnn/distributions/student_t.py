"""StudentT: the heavy-tailed law of a mean estimated from ``df`` degrees of freedom."""

import math
from typing import ClassVar

from .._tensor import full, randn
from . import constraints
from .distribution import Distribution
from .standard_gamma import standard_gamma
from .utils import broadcast_all


class StudentT(Distribution):
    """``StudentT(df, loc=0.0, scale=1.0, validate_args=None)``; ``rsample`` is
    ``loc + scale * z / sqrt(chi2 / df)`` with the chi-square a Gamma(df / 2, 1/2) draw."""

    _param_names = ("df", "loc", "scale")
    arg_constraints: ClassVar[dict] = {
        "df": constraints.positive,
        "loc": constraints.real,
        "scale": constraints.positive,
    }
    support = constraints.real
    has_rsample = True

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None):
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        super().__init__(self.df.shape, (), validate_args)

    @property
    def mean(self):
        return self.loc.where(self.df > 1, math.nan)

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        df = self.df
        finite = self.scale.pow(2) * df / (df - 2)
        heavy = full(self._extended_shape(), math.inf, dtype=df.dtype, device=df.device).where(
            df > 1, math.nan
        )
        return finite.where(df > 2, heavy)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        z = randn(shape, dtype=self.df.dtype, device=self.df.device)
        chi2 = 2 * standard_gamma(0.5 * self.df.expand(shape))
        return self.loc + self.scale * z * (self.df / chi2).sqrt()

    def log_prob(self, value):
        value = self._value(value)
        y = (value - self.loc) / self.scale
        df = self.df
        norm = (
            self.scale.log()
            + 0.5 * df.log()
            + 0.5 * math.log(math.pi)
            + (0.5 * df).lgamma()
            - (0.5 * (df + 1)).lgamma()
        )
        return -0.5 * (df + 1) * (y.pow(2) / df).log1p() - norm

    def entropy(self):
        df = self.df
        log_beta = (0.5 * df).lgamma() + math.lgamma(0.5) - (0.5 * (df + 1)).lgamma()
        return (
            self.scale.log()
            + 0.5 * (df + 1) * ((0.5 * (df + 1)).digamma() - (0.5 * df).digamma())
            + 0.5 * df.log()
            + log_beta
        )
