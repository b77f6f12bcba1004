"""Bernoulli: 0 / 1 draws with probability ``probs`` of a 1 (or log-odds ``logits``)."""

import math
from typing import ClassVar

from .._tensor import tensor
from ..autograd import no_grad
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all, lazy_property, logits_to_probs, probs_to_logits, softplus


class Bernoulli(Distribution):
    """``Bernoulli(probs=None, logits=None, validate_args=None)``: exactly one of the two."""

    _param_names = ("probs", "logits")
    arg_constraints: ClassVar[dict] = {
        "probs": constraints.unit_interval,
        "logits": constraints.real,
    }
    support = constraints.boolean
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            (self.probs,) = broadcast_all(probs)
            shape = self.probs.shape
        else:
            (self.logits,) = broadcast_all(logits)
            shape = self.logits.shape
        super().__init__(shape, (), validate_args)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @property
    def param_shape(self):
        return (self.probs if "probs" in self.__dict__ else self.logits).shape

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        p = self.probs
        return (p >= 0.5).to(p.dtype).where(p != 0.5, math.nan)

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        with no_grad():
            return self.probs.expand(self._extended_shape(sample_shape)).bernoulli()

    def log_prob(self, value):
        value = self._value(value)
        logits = self.logits
        # -BCE with logits: value * logits - log(1 + exp(logits))
        return value * logits - softplus(logits)

    def entropy(self):
        return softplus(self.logits) - self.logits * self.probs

    def enumerate_support(self, expand=True):
        like = self.probs if "probs" in self.__dict__ else self.logits
        values = tensor([0.0, 1.0], dtype=like.dtype, device=like.device).reshape(
            (-1,) + (1,) * len(self._batch_shape)
        )
        return values.expand((-1, *self._batch_shape)) if expand else values
