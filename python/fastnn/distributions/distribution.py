"""The base class of fastnn's probability distributions: shapes, argument checks and the
sample / rsample / log_prob interface every distribution fills in."""

from typing import ClassVar

from .._core.size import Size
from .._tensor import Tensor, as_tensor
from ..autograd import no_grad
from . import constraints


class Distribution:
    """A batch of distributions of one family.

    ``batch_shape`` indexes independent distributions, ``event_shape`` is the shape of one draw;
    ``sample(sample_shape)`` returns ``sample_shape + batch_shape + event_shape``.
    """

    has_rsample = False
    has_enumerate_support = False
    _param_names: tuple = ()  # the parameters repr shows
    _validate_default = True
    # parameter name -> the constraint it must satisfy (checked at construction)
    arg_constraints: ClassVar[dict] = {}
    support = None  # the constraint every value of log_prob must satisfy

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self._batch_shape = Size(batch_shape)
        self._event_shape = Size(event_shape)
        self._validate_args = (
            Distribution._validate_default if validate_args is None else validate_args
        )
        if self._validate_args:
            self._validate_params()

    def _validate_params(self):
        for name, constraint in self.arg_constraints.items():
            if constraints.is_dependent(constraint) or name not in self.__dict__:
                continue  # a parameter derived on demand (probs of logits) is not checked
            value = self.__dict__[name]
            if not isinstance(value, Tensor):
                continue
            if not bool(constraint.check(value).all()):
                raise ValueError(
                    f"Expected parameter {name} (Tensor of shape {tuple(value.shape)}) of "
                    f"distribution {self!r} to satisfy the constraint {constraint!r}, "
                    f"but found invalid values:\n{value}"
                )

    def _validate_sample(self, value):
        """The checks log_prob / cdf make on ``value``: its trailing shape is the event shape,
        it broadcasts with the batch, and it lies in the support."""
        n = len(self._event_shape)
        if value.ndim < n or tuple(value.shape[value.ndim - n :]) != tuple(self._event_shape):
            raise ValueError(
                f"The right-most size of value must match event_shape: {tuple(value.shape)} vs "
                f"{tuple(self._event_shape)}."
            )
        batch = tuple(value.shape[: value.ndim - n])
        for i, j in zip(reversed(batch), reversed(tuple(self._batch_shape))):
            if i != 1 and j not in (1, i):
                raise ValueError(
                    f"Value is not broadcastable with batch_shape+event_shape: "
                    f"{tuple(value.shape)} vs {tuple(self._extended_shape())}."
                )
        support = self.support  # a dependent_property reads as this instance's constraint
        if support is None or constraints.is_dependent(support):
            return
        if not bool(support.check(value).all()):
            raise ValueError(
                f"Expected value argument (Tensor of shape {tuple(value.shape)}) to be within "
                f"the support ({support!r}) of the distribution {self!r}, but found invalid "
                f"values:\n{value}"
            )

    def _value(self, value):
        """``value`` as a tensor, checked against shapes and support unless validation is off."""
        value = self._as_tensor(value)
        if self._validate_args:
            self._validate_sample(value)
        return value

    def expand(self, batch_shape, _instance=None):
        """The same distribution repeated over a larger ``batch_shape`` (parameters are
        expanded views, not copies)."""
        batch_shape = Size(batch_shape)
        new = _instance if _instance is not None else object.__new__(type(self))
        n = len(self._batch_shape)
        for key, value in self.__dict__.items():
            if isinstance(value, Tensor) and value.shape[:n] == self._batch_shape:
                # a parameter: batch axes first, then its own (event or class) axes
                value = value.expand(tuple(batch_shape) + tuple(value.shape[n:]))
            new.__dict__[key] = value
        new._batch_shape = batch_shape
        return new

    @staticmethod
    def set_default_validate_args(value):
        """Turn argument checks on or off for distributions built without ``validate_args``."""
        if value not in (True, False):
            raise ValueError(f"validate_args must be True or False, got {value!r}")
        Distribution._validate_default = value

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def event_shape(self):
        return self._event_shape

    def _extended_shape(self, sample_shape=()):
        return Size(tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape))

    def sample(self, sample_shape=()):
        """Draws without a gradient path to the parameters."""
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=()):
        raise NotImplementedError(f"{type(self).__name__} has no reparameterized sample (rsample)")

    def sample_n(self, n):
        return self.sample((n,))

    def log_prob(self, value):
        raise NotImplementedError

    def cdf(self, value):
        raise NotImplementedError(f"{type(self).__name__} does not implement cdf")

    def icdf(self, value):
        raise NotImplementedError(f"{type(self).__name__} does not implement icdf")

    def enumerate_support(self, expand=True):
        raise NotImplementedError(f"{type(self).__name__} does not implement enumerate_support")

    def entropy(self):
        raise NotImplementedError

    def perplexity(self):
        return self.entropy().exp()

    @property
    def mean(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement mean")

    @property
    def mode(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement mode")

    @property
    def variance(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement variance")

    @property
    def stddev(self):
        return self.variance.sqrt()

    def _as_tensor(self, value):
        return value if isinstance(value, Tensor) else as_tensor(value)

    def __repr__(self):
        params = ", ".join(
            f"{k}: {getattr(self, k).size() if getattr(self, k).numel() != 1 else getattr(self, k)}"
            for k in self._param_names
            if k in self.__dict__
        )
        return f"{type(self).__name__}({params})"
