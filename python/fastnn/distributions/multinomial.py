"""Multinomial: counts per class of ``total_count`` independent Categorical draws."""

import math
import numbers
from typing import ClassVar

from .._core import random as _random
from .._tensor import arange, as_tensor
from ..autograd import no_grad
from . import constraints
from .binomial import Binomial
from .categorical import Categorical
from .distribution import Distribution


class Multinomial(Distribution):
    """``Multinomial(total_count=1, probs=None, logits=None, validate_args=None)``: event shape
    (K,); ``total_count`` is one int for the whole batch, as in torch."""

    _param_names = ("probs", "logits")
    arg_constraints: ClassVar[dict] = {
        "probs": constraints.simplex,
        "logits": constraints.real_vector,
    }

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if isinstance(total_count, bool) or not isinstance(total_count, numbers.Integral):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = int(total_count)
        self._categorical = Categorical(probs, logits, validate_args)
        shape = self._categorical.param_shape
        super().__init__(shape[:-1], shape[-1:], validate_args=False)
        self._validate_args = self._categorical._validate_args

    def expand(self, batch_shape, _instance=None):
        new = object.__new__(type(self)) if _instance is None else _instance
        new.total_count = self.total_count
        new._categorical = self._categorical.expand(batch_shape)
        Distribution.__init__(new, batch_shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self):
        return constraints.multinomial(self.total_count)

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def param_shape(self):
        return self._categorical.param_shape

    @property
    def mean(self):
        return self.probs * self.total_count

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        with no_grad():
            k = self._event_shape[0]
            shape = tuple(sample_shape) + tuple(self._batch_shape)
            p = self.probs.detach().cpu().numpy().astype("float64")
            p = p / p.sum(-1, keepdims=True)  # numpy checks the sum in float64
            rows = p.reshape(-1, k)
            per_row = math.prod(sample_shape)
            drawn = _random.generator().multinomial(
                self.total_count, rows, size=(per_row, len(rows))
            )
            drawn = drawn.reshape((*shape, k))
            return as_tensor(drawn, dtype=self.probs.dtype, device=self.probs.device)

    def log_prob(self, value):
        value = self._value(value)
        logits = self.logits
        # a class of probability 0 observed 0 times adds nothing (not 0 * -inf)
        logits = logits.where(~((value == 0) & (logits == -math.inf)), 0.0)
        log_norm = (value.sum(-1) + 1).lgamma() - (value + 1).lgamma().sum(-1)
        return log_norm + (logits * value).sum(-1)

    def entropy(self):
        n = self.total_count
        # H = n H(categorical) - log n! + sum_i E[log x_i!], each count x_i ~ Binomial(n, p_i)
        counts = Binomial(n, self.probs, validate_args=False)
        support = arange(1, n + 1, dtype=self.probs.dtype, device=self.probs.device).reshape(
            (-1,) + (1,) * (len(self._batch_shape) + 1)
        )
        log_factorials = (support + 1).lgamma()
        expected = (counts.log_prob(support).exp() * log_factorials).sum([0, -1])
        return n * self._categorical.entropy() - math.lgamma(n + 1) + expected
