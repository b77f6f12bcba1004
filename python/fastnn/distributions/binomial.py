"""Binomial: successes in ``total_count`` Bernoulli(probs) trials."""

from typing import ClassVar

from .._core import random as _random
from .._tensor import arange, as_tensor
from ..autograd import no_grad
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all, lazy_property, logits_to_probs, probs_to_logits, softplus


class Binomial(Distribution):
    """``Binomial(total_count=1, probs=None, logits=None, validate_args=None)``."""

    _param_names = ("total_count", "probs", "logits")
    arg_constraints: ClassVar[dict] = {
        "total_count": constraints.nonnegative_integer,
        "probs": constraints.unit_interval,
        "logits": constraints.real,
    }
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            self.total_count, self.probs = broadcast_all(total_count, probs)
            shape = self.probs.shape
        else:
            self.total_count, self.logits = broadcast_all(total_count, logits)
            shape = self.logits.shape
        super().__init__(shape, (), validate_args)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self):
        return self.total_count * self.probs

    @property
    def mode(self):
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        with no_grad():
            shape = tuple(self._extended_shape(sample_shape))
            n = self.total_count.detach().cpu().numpy().astype("int64")
            p = self.probs.detach().cpu().numpy()
            drawn = _random.generator().binomial(n, p, size=shape)
            return as_tensor(drawn, dtype=self.probs.dtype, device=self.probs.device)

    def log_prob(self, value):
        value = self._value(value)
        n, logits = self.total_count, self.logits
        log_choose = (n + 1).lgamma() - (value + 1).lgamma() - (n - value + 1).lgamma()
        return log_choose + value * logits - n * softplus(logits)

    def entropy(self):
        values = self.enumerate_support(expand=False)
        log_pmf = self.log_prob(values)
        return -(log_pmf.exp() * log_pmf).sum(0)

    def enumerate_support(self, expand=True):
        n = self.total_count
        top = int(n.max().item()) if n.numel() else 0
        if n.numel() and not bool((n == top).all()):
            raise NotImplementedError(
                "Inhomogeneous total count not supported by `enumerate_support`."
            )
        values = arange(1 + top, dtype=n.dtype, device=n.device)
        values = values.reshape((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1, *self._batch_shape)) if expand else values
