"""OneHotCategorical: a Categorical whose draws are one-hot vectors instead of indices."""

from typing import ClassVar

from .._tensor import eye
from . import constraints
from .categorical import Categorical
from .distribution import Distribution


class OneHotCategorical(Distribution):
    """``OneHotCategorical(probs=None, logits=None, validate_args=None)``: event shape (K,)."""

    _param_names = ("probs", "logits")
    arg_constraints: ClassVar[dict] = {
        "probs": constraints.simplex,
        "logits": constraints.real_vector,
    }
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits, validate_args)
        shape = self._categorical.param_shape
        super().__init__(shape[:-1], shape[-1:], validate_args=False)
        self._validate_args = self._categorical._validate_args

    def expand(self, batch_shape, _instance=None):
        new = object.__new__(type(self)) if _instance is None else _instance
        new._categorical = self._categorical.expand(batch_shape)
        Distribution.__init__(new, batch_shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def param_shape(self):
        return self._categorical.param_shape

    def _one_hot(self, index):
        return eye(self._event_shape[0], dtype=self.probs.dtype, device=self.probs.device)[index]

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        return self._one_hot(self.probs.argmax(-1))

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        return self._one_hot(self._categorical.sample(sample_shape))

    def log_prob(self, value):
        value = self._value(value)
        return self._categorical.log_prob(value.argmax(-1))

    def entropy(self):
        return self._categorical.entropy()

    def enumerate_support(self, expand=True):
        k = self._event_shape[0]
        values = eye(k, dtype=self.probs.dtype, device=self.probs.device).reshape(
            (k,) + (1,) * len(self._batch_shape) + (k,)
        )
        return values.expand((k, *self._batch_shape, k)) if expand else values

    def __repr__(self):
        return "OneHotCategorical(" + repr(self._categorical).split("(", 1)[1]
