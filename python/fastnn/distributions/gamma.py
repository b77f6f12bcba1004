"""Gamma: the density x^(a-1) e^(-rate x) with shape ``concentration`` (a) and ``rate``."""

from typing import ClassVar

from .._core.dtype import finfo
from .._tensor.functions_more import broadcast_tensors
from . import constraints
from .distribution import Distribution
from .incomplete_gamma import GammaP
from .standard_gamma import standard_gamma
from .utils import broadcast_all


class Gamma(Distribution):
    """``Gamma(concentration, rate, validate_args=None)``; ``rsample`` carries the implicit
    reparameterization gradient to ``concentration`` (see standard_gamma.py) and the plain one
    to ``rate``."""

    _param_names = ("concentration", "rate")
    arg_constraints: ClassVar[dict] = {
        "concentration": constraints.positive,
        "rate": constraints.positive,
    }
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        super().__init__(self.concentration.shape, (), validate_args)

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        x = standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        return x.clamp(min=finfo(x.dtype).tiny)

    def log_prob(self, value):
        value = self._value(value)
        a, rate = self.concentration, self.rate
        return a.xlogy(rate) + (a - 1).xlogy(value) - rate * value - a.lgamma()

    def cdf(self, value):
        value = self._value(value)
        a, x = broadcast_tensors(self.concentration, self.rate * value)
        return GammaP.apply(a.contiguous(), x.contiguous())

    def entropy(self):
        a = self.concentration
        return a - self.rate.log() + a.lgamma() + (1 - a) * a.digamma()
