"""TransformedDistribution: a base distribution pushed through a list of transforms, its density
corrected by each transform's log |det J|."""

from typing import ClassVar

from .._core.size import Size
from . import constraints
from .distribution import Distribution
from .independent import Independent
from .transforms import Transform


def _sum_rightmost(t, n):
    return t.sum(tuple(range(-n, 0))) if n > 0 else t


class TransformedDistribution(Distribution):
    """``TransformedDistribution(base_distribution, transforms, validate_args=None)``:
    ``sample`` draws from the base and applies ``transforms`` in order; ``log_prob`` inverts
    them. A transform acting on more axes than the base's event turns those batch axes into
    event axes (the base is wrapped in Independent)."""

    arg_constraints: ClassVar[dict] = {}

    def __init__(self, base_distribution, transforms, validate_args=None):
        if isinstance(transforms, Transform):
            transforms = [transforms]
        elif isinstance(transforms, list):
            for i, t in enumerate(transforms):
                if not isinstance(t, Transform):
                    raise ValueError(  # noqa: TRY004 (torch raises ValueError)
                        f"transforms must be a Transform or a list of Transforms, got "
                        f"{type(t).__name__} at position {i}"
                    )
        else:
            raise ValueError(  # noqa: TRY004 (torch raises ValueError)
                f"transforms must be a Transform or a list of Transforms, got {transforms!r}"
            )
        self.transforms = transforms
        shape = tuple(base_distribution.batch_shape) + tuple(base_distribution.event_shape)
        event_dim = max(
            [len(base_distribution.event_shape)] + [t.codomain.event_dim for t in transforms]
        )
        if event_dim > len(shape):
            raise ValueError(
                f"base_distribution needs at least {event_dim} dimensions, but got shape {shape}"
            )
        extra = event_dim - len(base_distribution.event_shape)
        if extra > 0:
            base_distribution = Independent(base_distribution, extra)
        self.base_dist = base_distribution
        cut = len(shape) - event_dim
        super().__init__(shape[:cut], shape[cut:], validate_args)

    def expand(self, batch_shape, _instance=None):
        new = object.__new__(type(self)) if _instance is None else _instance
        batch_shape = Size(batch_shape)
        base_event = len(self.base_dist.event_shape)
        keep = tuple(self._event_shape)[: len(self._event_shape) - base_event]
        new.base_dist = self.base_dist.expand(tuple(batch_shape) + keep)
        new.transforms = self.transforms
        for key, value in self.__dict__.items():
            if key not in ("base_dist", "transforms", "_batch_shape") and key not in new.__dict__:
                new.__dict__[key] = value
        Distribution.__init__(new, batch_shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def has_rsample(self):
        return self.base_dist.has_rsample

    @constraints.dependent_property
    def support(self):
        if not self.transforms:
            return self.base_dist.support
        last = self.transforms[-1].codomain
        extra = len(self._event_shape) - last.event_dim
        return constraints.independent(last, extra) if extra > 0 else last

    def sample(self, sample_shape=()):
        x = self.base_dist.sample(sample_shape)
        for t in self.transforms:
            x = t(x)
        return x

    def rsample(self, sample_shape=()):
        x = self.base_dist.rsample(sample_shape)
        for t in self.transforms:
            x = t(x)
        return x

    def log_prob(self, value):
        y = self._value(value)
        event_dim = len(self._event_shape)
        log_prob = 0.0
        for t in reversed(self.transforms):
            x = t.inv(y)
            jac = t.log_abs_det_jacobian(x, y)
            log_prob = log_prob - _sum_rightmost(jac, event_dim - t.domain.event_dim)
            y = x
        base = self.base_dist.log_prob(y)
        return log_prob + _sum_rightmost(base, event_dim - len(self.base_dist.event_shape))

    def _sign(self):
        sign = 1
        for t in self.transforms:
            sign = sign * t.sign
        return sign

    def _monotone(self, value):
        """A CDF of the base read through decreasing transforms is 1 - the CDF."""
        sign = self._sign()
        if isinstance(sign, int) and sign == 1:
            return value
        return sign * (value - 0.5) + 0.5

    def cdf(self, value):
        value = self._value(value)
        for t in reversed(self.transforms):
            value = t.inv(value)
        return self._monotone(self.base_dist.cdf(value))

    def icdf(self, value):
        x = self.base_dist.icdf(self._monotone(self._as_tensor(value)))
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self):
        return f"{type(self).__name__}({self.base_dist!r}, {self.transforms!r})"
