"""Geometric: the number of failures before the first success of Bernoulli(probs) trials."""

from typing import ClassVar

from .._core.dtype import finfo
from ..autograd import no_grad
from . import constraints
from .distribution import Distribution
from .utils import (
    broadcast_all,
    lazy_property,
    logits_to_probs,
    probs_to_logits,
    softplus,
    uniform_open,
)


class Geometric(Distribution):
    """``Geometric(probs=None, logits=None, validate_args=None)``: support 0, 1, 2, ..."""

    _param_names = ("probs", "logits")
    arg_constraints: ClassVar[dict] = {
        "probs": constraints.interval(0.0, 1.0),
        "logits": constraints.real,
    }
    support = constraints.nonnegative_integer

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
        if self._validate_args and probs is not None and not bool((self.probs > 0).all()):
            raise ValueError(
                f"Expected parameter probs (Tensor of shape {tuple(shape)}) of distribution "
                f"{self!r} to satisfy the constraint probs > 0, but found invalid values:\n"
                f"{self.probs}"
            )

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @property
    def mean(self):
        return 1.0 / self.probs - 1.0

    @property
    def mode(self):
        return self.probs.new_zeros(self.probs.shape)

    @property
    def variance(self):
        return (1.0 / self.probs - 1.0) / self.probs

    def sample(self, sample_shape=()):
        with no_grad():
            u = uniform_open(self._extended_shape(sample_shape), self.probs)
            # inverse CDF: floor(log u / log(1 - p)), p clamped below 1 so the log is finite
            p = self.probs.clamp(max=1 - finfo(self.probs.dtype).eps)
            return (u.log() / (-p).log1p()).floor()

    def log_prob(self, value):
        value = self._value(value)
        p = self.probs
        # p == 1 has only the value 0, whose log-probability is log 1 = 0 (not 0 * -inf)
        q = p.where(~((p == 1) & (value == 0)), 0.0)
        return value * (-q).log1p() + p.log()

    def entropy(self):
        return (softplus(self.logits) - self.logits * self.probs) / self.probs
