"""The base class of fastnn's probability distributions: shapes, argument checks and the
sample / rsample / log_prob interface every distribution fills in."""

from .._core.size import Size
from .._tensor import Tensor, as_tensor


class Distribution:
    """A batch of distributions of one family.

    ``batch_shape`` indexes independent distributions, ``event_shape`` is the shape of one draw;
    ``sample(sample_shape)`` returns ``sample_shape + batch_shape + event_shape``.
    """

    has_rsample = False
    _param_names: tuple = ()  # the parameters repr shows
    _validate_default = True

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self._batch_shape = Size(batch_shape)
        self._event_shape = Size(event_shape)
        self._validate_args = (
            Distribution._validate_default if validate_args is None else validate_args
        )

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

    def _check(self, ok, what, value):
        """Raise ValueError when the boolean tensor ``ok`` is not all true."""
        if self._validate_args and not bool(ok.all()):
            raise ValueError(
                f"Expected {what} (Tensor of shape {tuple(value.shape)}) of distribution "
                f"{self!r} to satisfy its constraint, but found invalid values:\n{value}"
            )

    def sample(self, sample_shape=()):
        """Draws without a gradient path to the parameters."""
        from ..autograd import no_grad

        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=()):
        raise NotImplementedError(f"{type(self).__name__} has no reparameterized sample (rsample)")

    def sample_n(self, n):
        return self.sample((n,))

    def log_prob(self, value):
        raise NotImplementedError

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
