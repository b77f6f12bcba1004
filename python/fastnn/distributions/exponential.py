"""Exponential: waiting times with ``rate`` events per unit time."""

from typing import ClassVar

from .._tensor import rand
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all


class Exponential(Distribution):
    """``Exponential(rate, validate_args=None)``; ``rsample`` inverts the CDF of a uniform draw."""

    _param_names = ("rate",)
    arg_constraints: ClassVar[dict] = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(self.rate.shape, (), validate_args)

    @property
    def mean(self):
        return self.rate.reciprocal()

    @property
    def mode(self):
        return self.rate.new_zeros(self.rate.shape)

    @property
    def stddev(self):
        return self.rate.reciprocal()

    @property
    def variance(self):
        return self.rate.pow(-2)

    def rsample(self, sample_shape=()):
        u = rand(self._extended_shape(sample_shape), dtype=self.rate.dtype, device=self.rate.device)
        return -(-u).log1p() / self.rate

    def log_prob(self, value):
        value = self._value(value)
        return self.rate.log() - self.rate * value

    def cdf(self, value):
        value = self._value(value)
        return 1 - (-self.rate * value).exp()

    def icdf(self, value):
        value = self._as_tensor(value)
        return -(-value).log1p() / self.rate

    def entropy(self):
        return 1.0 - self.rate.log()
