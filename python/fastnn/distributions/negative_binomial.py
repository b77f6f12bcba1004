"""NegativeBinomial: successes before ``total_count`` failures of Bernoulli(probs) trials."""

from typing import ClassVar

from .._core import random as _random
from .._tensor import as_tensor
from ..autograd import no_grad
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all, lazy_property, logits_to_probs, probs_to_logits, softplus


class NegativeBinomial(Distribution):
    """``NegativeBinomial(total_count, probs=None, logits=None, validate_args=None)``: ``probs``
    is the success probability, ``total_count`` (> 0, need not be whole) the failures."""

    _param_names = ("total_count", "probs", "logits")
    arg_constraints: ClassVar[dict] = {
        "total_count": constraints.greater_than_eq(0),
        "probs": constraints.half_open_interval(0.0, 1.0),
        "logits": constraints.real,
    }
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args=None):
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

    @property
    def mean(self):
        return self.total_count * self.logits.exp()

    @property
    def mode(self):
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self):
        return self.mean / (1 - self.probs)

    def sample(self, sample_shape=()):
        with no_grad():
            # a Poisson whose rate is Gamma(total_count, rate = (1 - p) / p)
            shape = tuple(self._extended_shape(sample_shape))
            rng = _random.generator()
            n = self.total_count.detach().cpu().numpy().astype("float64")
            odds = self.logits.exp().detach().cpu().numpy().astype("float64")
            rate = rng.standard_gamma(n, size=shape) * odds
            drawn = rng.poisson(rate)
            return as_tensor(drawn, dtype=self.probs.dtype, device=self.probs.device)

    def log_prob(self, value):
        value = self._value(value)
        n, logits = self.total_count, self.logits
        # log C(k + n - 1, k) + k log p + n log(1 - p), with the logs taken from the logits
        log_choose = (value + n).lgamma() - (value + 1).lgamma() - n.lgamma()
        log_choose = log_choose.where(~((n + value) == 0), 0.0)  # n = k = 0: probability 1
        return log_choose - value * softplus(-logits) - n * softplus(logits)
