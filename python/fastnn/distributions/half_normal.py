"""HalfNormal: |X| for X ~ Normal(0, scale)."""

import math
from typing import ClassVar

from . import constraints
from .distribution import Distribution
from .normal import Normal
from .utils import broadcast_all


class HalfNormal(Distribution):
    """``HalfNormal(scale, validate_args=None)``; ``rsample`` is ``|scale * eps|``."""

    _param_names = ("scale",)
    arg_constraints: ClassVar[dict] = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, scale, validate_args=None):
        (self.scale,) = broadcast_all(scale)
        super().__init__(self.scale.shape, (), validate_args)

    @property
    def _normal(self):
        return Normal(0.0, self.scale, validate_args=False)

    @property
    def mean(self):
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def mode(self):
        return self.scale.new_zeros(self.scale.shape)

    @property
    def variance(self):
        return self.scale.pow(2) * (1 - 2 / math.pi)

    def rsample(self, sample_shape=()):
        return self._normal.rsample(sample_shape).abs()

    def log_prob(self, value):
        value = self._value(value)
        lp = self._normal.log_prob(value) + math.log(2)
        return lp.where(value >= 0, -math.inf)

    def cdf(self, value):
        value = self._value(value)
        return 2 * self._normal.cdf(value) - 1

    def icdf(self, value):
        value = self._as_tensor(value)
        return self._normal.icdf((value + 1) / 2)

    def entropy(self):
        return self._normal.entropy() - math.log(2)
