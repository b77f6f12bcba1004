"""HalfCauchy: |X| for X ~ Cauchy(0, scale)."""

import math
from typing import ClassVar

from . import constraints
from .cauchy import Cauchy
from .distribution import Distribution
from .utils import broadcast_all


class HalfCauchy(Distribution):
    """``HalfCauchy(scale, validate_args=None)``; ``rsample`` is ``|scale tan(pi (u - 1/2))|``."""

    _param_names = ("scale",)
    arg_constraints: ClassVar[dict] = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, scale, validate_args=None):
        (self.scale,) = broadcast_all(scale)
        super().__init__(self.scale.shape, (), validate_args)

    @property
    def _cauchy(self):
        return Cauchy(0.0, self.scale, validate_args=False)

    @property
    def mean(self):
        return self.scale.new_full(self.scale.shape, math.inf)

    @property
    def mode(self):
        return self.scale.new_zeros(self.scale.shape)

    @property
    def variance(self):
        return self.scale.new_full(self.scale.shape, math.inf)

    def rsample(self, sample_shape=()):
        return self._cauchy.rsample(sample_shape).abs()

    def log_prob(self, value):
        value = self._value(value)
        lp = self._cauchy.log_prob(value) + math.log(2)
        return lp.where(value >= 0, -math.inf)

    def cdf(self, value):
        value = self._value(value)
        return 2 * self._cauchy.cdf(value) - 1

    def icdf(self, value):
        value = self._as_tensor(value)
        return self._cauchy.icdf((value + 1) / 2)

    def entropy(self):
        return self._cauchy.entropy() - math.log(2)
