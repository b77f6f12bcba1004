"""Categorical: one draw from K classes, given by (unnormalized) probabilities or logits."""

import math
from typing import ClassVar

from .._core.dtype import finfo, get_default_dtype
from .._tensor.creation import arange, full
from .._tensor.functions_more import broadcast_tensors, multinomial
from . import constraints
from .distribution import Distribution


class Categorical(Distribution):
    """``Categorical(probs=None, logits=None, validate_args=None)``: class indices 0..K-1.

    The last axis of ``probs`` (non-negative, any positive sum) or ``logits`` (any reals) holds
    the K classes; the leading axes are the batch. Samples are int64 class indices.
    """

    _param_names = ("probs", "logits")
    arg_constraints: ClassVar[dict] = {
        "probs": constraints.simplex,
        "logits": constraints.independent(constraints.real, 1),
    }
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        given = self._as_tensor(probs if logits is None else logits)
        if given.ndim < 1:
            name = "probs" if logits is None else "logits"
            raise ValueError(f"`{name}` parameter must be at least one-dimensional.")
        if not given.is_floating_point():
            given = given.to(get_default_dtype())
        if logits is None:
            self.probs = given / given.sum(-1, keepdim=True)
        else:
            self.logits = given - given.logsumexp(-1, keepdim=True)
        self._num_events = given.shape[-1]
        super().__init__(given.shape[:-1], (), validate_args)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    def __getattr__(self, name):
        # the parameter not given is derived on first use, like torch's lazy properties
        if name == "probs" and "logits" in self.__dict__:
            self.probs = self.logits.softmax(-1)
            return self.probs
        if name == "logits" and "probs" in self.__dict__:
            eps = finfo(self.probs.dtype).eps
            self.logits = self.probs.clamp(eps, 1 - eps).log()
            return self.logits
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    @property
    def param_shape(self):
        return (self.probs if "probs" in self.__dict__ else self.logits).shape

    @property
    def mean(self):
        return full(
            self._extended_shape(), math.nan, dtype=self.probs.dtype, device=self.probs.device
        )

    @property
    def variance(self):
        return full(
            self._extended_shape(), math.nan, dtype=self.probs.dtype, device=self.probs.device
        )

    @property
    def mode(self):
        return self.probs.argmax(-1)

    def sample(self, sample_shape=()):
        sample_shape = tuple(sample_shape)
        n = math.prod(sample_shape)
        rows = self.probs.detach().reshape(-1, self._num_events)
        drawn = multinomial(rows, n, replacement=True) if n else rows.new_zeros((len(rows), 0))
        return drawn.long().t().reshape(self._extended_shape(sample_shape))

    def log_prob(self, value):
        value = self._value(value)
        index = value.long().unsqueeze(-1)
        index, log_pmf = broadcast_tensors(index, self.logits)
        return log_pmf.gather(-1, index[..., :1]).squeeze(-1)

    def entropy(self):
        logits = self.logits.clamp(min=finfo(self.logits.dtype).min)
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        values = arange(self._num_events, device=self.probs.device).reshape(
            (-1,) + (1,) * len(self._batch_shape)
        )
        return values.expand((-1, *self._batch_shape)) if expand else values
