"""RelaxedBernoulli: a continuous, reparameterizable stand-in for Bernoulli draws on (0, 1),
sharper as ``temperature`` falls (the binary Concrete / Gumbel-softmax distribution)."""

from typing import ClassVar

from . import constraints
from .distribution import Distribution
from .transformed_distribution import TransformedDistribution
from .transforms import SigmoidTransform
from .utils import (
    broadcast_all,
    clamp_probs,
    lazy_property,
    logits_to_probs,
    probs_to_logits,
    softplus,
)


class LogitRelaxedBernoulli(Distribution):
    """The relaxed draw before its sigmoid: (logits + log u - log(1 - u)) / temperature."""

    _param_names = ("probs", "logits")
    arg_constraints: ClassVar[dict] = {
        "probs": constraints.unit_interval,
        "logits": constraints.real,
    }
    support = constraints.real
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            self.probs, temperature = broadcast_all(probs, temperature)
            shape = self.probs.shape
        else:
            self.logits, temperature = broadcast_all(logits, temperature)
            shape = self.logits.shape
        self.temperature = temperature
        super().__init__(shape, (), validate_args)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        u = clamp_probs(self.logits.new_empty(shape).uniform_())
        return (self.logits + u.log() - (-u).log1p()) / self.temperature

    def log_prob(self, value):
        value = self._value(value)
        t = self.temperature
        diff = self.logits - value * t
        return t.log() + diff - 2 * softplus(diff)


class RelaxedBernoulli(TransformedDistribution):
    """``RelaxedBernoulli(temperature, probs=None, logits=None, validate_args=None)``."""

    arg_constraints: ClassVar[dict] = {
        "probs": constraints.unit_interval,
        "logits": constraints.real,
    }
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        base = LogitRelaxedBernoulli(temperature, probs, logits, validate_args)
        super().__init__(base, SigmoidTransform(), validate_args=validate_args)

    @property
    def temperature(self):
        return self.base_dist.temperature

    @property
    def probs(self):
        return self.base_dist.probs

    @property
    def logits(self):
        return self.base_dist.logits
