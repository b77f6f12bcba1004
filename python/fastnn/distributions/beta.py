"""Beta: a probability in [0, 1], with ``concentration1`` pulling towards 1 and
``concentration0`` towards 0 (the two-class Dirichlet)."""

from typing import ClassVar

from .._tensor.functions import stack
from .._tensor.functions_more import broadcast_tensors
from . import constraints
from .dirichlet import Dirichlet
from .distribution import Distribution
from .utils import broadcast_all


class Beta(Distribution):
    """``Beta(concentration1, concentration0, validate_args=None)``."""

    _param_names = ("concentration1", "concentration0")
    arg_constraints: ClassVar[dict] = {
        "concentration1": constraints.positive,
        "concentration0": constraints.positive,
    }
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        super().__init__(self.concentration1.shape, (), validate_args)

    @property
    def _dirichlet(self):
        pair = stack([self.concentration1, self.concentration0], -1)
        return Dirichlet(pair, validate_args=False)

    @property
    def mean(self):
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self):
        return self._dirichlet.mode[..., 0]

    @property
    def variance(self):
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape=()):
        return self._dirichlet.rsample(sample_shape)[..., 0]

    def log_prob(self, value):
        value = self._value(value)
        a, b = self.concentration1, self.concentration0
        value, a, b = broadcast_tensors(value, a, b)
        log_beta = a.lgamma() + b.lgamma() - (a + b).lgamma()
        return (a - 1).xlogy(value) + (b - 1).xlogy(1 - value) - log_beta

    def entropy(self):
        return self._dirichlet.entropy()
