"""Gumbel: the law of the maximum of many draws, location ``loc`` and scale ``scale``."""

import math
from typing import ClassVar

from .._core.dtype import finfo
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all, uniform_open

_EULER = 0.57721566490153286061  # the Euler-Mascheroni constant: the standard Gumbel's mean


class Gumbel(Distribution):
    """``Gumbel(loc, scale, validate_args=None)``; ``rsample`` is ``loc - scale log(-log u)``."""

    _param_names = ("loc", "scale")
    arg_constraints: ClassVar[dict] = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(self.loc.shape, (), validate_args)

    @property
    def mean(self):
        return self.loc + self.scale * _EULER

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return (math.pi / math.sqrt(6)) * self.scale

    @property
    def variance(self):
        return self.stddev.pow(2)

    def rsample(self, sample_shape=()):
        u = uniform_open(self._extended_shape(sample_shape), self.loc)
        u = u.clamp(max=1 - finfo(self.loc.dtype).eps)  # -log(u) > 0, so its log is finite
        return self.loc - self.scale * (-u.log()).log()

    def log_prob(self, value):
        value = self._value(value)
        z = (value - self.loc) / self.scale
        return -(z + (-z).exp()) - self.scale.log()

    def cdf(self, value):
        value = self._value(value)
        return (-(-(value - self.loc) / self.scale).exp()).exp()

    def icdf(self, value):
        value = self._as_tensor(value)
        return self.loc - self.scale * (-value.log()).log()

    def entropy(self):
        return self.scale.log() + (1 + _EULER)
