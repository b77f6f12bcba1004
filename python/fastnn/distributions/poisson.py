"""Poisson: counts of events arriving at ``rate`` per interval."""

from typing import ClassVar

from .._core import random as _random
from .._tensor import as_tensor
from ..autograd import no_grad
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all


class Poisson(Distribution):
    """``Poisson(rate, validate_args=None)``; draws come from fastnn's seeded generator."""

    _param_names = ("rate",)
    arg_constraints: ClassVar[dict] = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(self.rate.shape, (), validate_args)

    @property
    def mean(self):
        return self.rate

    @property
    def mode(self):
        return self.rate.floor()

    @property
    def variance(self):
        return self.rate

    def sample(self, sample_shape=()):
        with no_grad():
            shape = tuple(self._extended_shape(sample_shape))
            drawn = _random.generator().poisson(self.rate.detach().cpu().numpy(), size=shape)
            return as_tensor(drawn, dtype=self.rate.dtype, device=self.rate.device)

    def log_prob(self, value):
        value = self._value(value)
        return value.xlogy(self.rate) - self.rate - (value + 1).lgamma()
