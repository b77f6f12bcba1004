"""MixtureSameFamily: a Categorical choice among K components of one family (a Gaussian
mixture is a Categorical over a batch of Normals)."""

from typing import ClassVar

from .._tensor.functions_more import broadcast_tensors
from . import constraints
from .categorical import Categorical
from .distribution import Distribution


class MixtureSameFamily(Distribution):
    """``MixtureSameFamily(mixture_distribution, component_distribution, validate_args=None)``:
    the components' rightmost batch axis (size K) holds the choices the Categorical weighs."""

    arg_constraints: ClassVar[dict] = {}  # the parts check their own
    has_rsample = False

    def __init__(self, mixture_distribution, component_distribution, validate_args=None):
        if not isinstance(mixture_distribution, Categorical):
            raise ValueError(  # noqa: TRY004 (torch raises ValueError)
                "The Mixture distribution needs to be an instance of "
                "fastnn.distributions.Categorical"
            )
        if not isinstance(component_distribution, Distribution):
            raise ValueError(  # noqa: TRY004 (torch raises ValueError)
                "The Component distribution needs to be an instance of "
                "fastnn.distributions.Distribution"
            )
        mix_batch = tuple(mixture_distribution.batch_shape)
        comp_batch = tuple(component_distribution.batch_shape)[:-1]
        for m, c in zip(reversed(mix_batch), reversed(comp_batch)):
            if m != 1 and c not in (1, m):
                raise ValueError(
                    f"`mixture_distribution.batch_shape` ({mix_batch}) is not compatible with "
                    f"`component_distribution.batch_shape`({comp_batch})"
                )
        k_mix = mixture_distribution.logits.shape[-1]
        k_comp = component_distribution.batch_shape[-1]
        if k_mix != k_comp:
            raise ValueError(
                f"`mixture_distribution component` ({k_mix}) does not equal "
                f"`component_distribution.batch_shape[-1]` ({k_comp})"
            )
        self._mixture_distribution = mixture_distribution
        self._component_distribution = component_distribution
        self._event_ndims = len(component_distribution.event_shape)
        super().__init__(comp_batch, component_distribution.event_shape, validate_args)

    def expand(self, batch_shape, _instance=None):
        new = object.__new__(type(self)) if _instance is None else _instance
        k = self._component_distribution.batch_shape[-1]
        new._component_distribution = self._component_distribution.expand((*batch_shape, k))
        new._mixture_distribution = self._mixture_distribution.expand(batch_shape)
        new._event_ndims = self._event_ndims
        Distribution.__init__(new, batch_shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mixture_distribution(self):
        return self._mixture_distribution

    @property
    def component_distribution(self):
        return self._component_distribution

    @constraints.dependent_property
    def support(self):
        return self._component_distribution.support

    def _weights(self):
        """The mixture probabilities shaped to multiply the components' (..., K, event) values."""
        return self._mixture_distribution.probs.reshape(
            tuple(self._mixture_distribution.probs.shape) + (1,) * self._event_ndims
        )

    @property
    def mean(self):
        w = self._weights()
        return (w * self._component_distribution.mean).sum(-1 - self._event_ndims)

    @property
    def variance(self):
        # total variance: the mean of the variances plus the variance of the means
        w = self._weights()
        axis = -1 - self._event_ndims
        comp = self._component_distribution
        within = (w * comp.variance).sum(axis)
        between = (w * (comp.mean - self.mean.unsqueeze(axis)).pow(2)).sum(axis)
        return within + between

    def _pad(self, x):
        return x.unsqueeze(-1 - self._event_ndims)

    def log_prob(self, value):
        value = self._value(value)
        comp_lp = self._component_distribution.log_prob(self._pad(value))
        mix_lp = self._mixture_distribution.logits.log_softmax(-1)
        comp_lp, mix_lp = broadcast_tensors(comp_lp, mix_lp)
        return (comp_lp + mix_lp).logsumexp(-1)

    def cdf(self, value):
        value = self._value(value)
        comp_cdf = self._component_distribution.cdf(self._pad(value))
        return (comp_cdf * self._mixture_distribution.probs).sum(-1)

    def sample(self, sample_shape=()):
        sample_shape = tuple(sample_shape)
        pick = self._mixture_distribution.sample(sample_shape)  # sample + mixture batch
        comp = self._component_distribution.sample(sample_shape)  # sample + batch + K + event
        pick = pick.expand(sample_shape + tuple(self._batch_shape))
        index = pick.reshape(tuple(pick.shape) + (1,) * (self._event_ndims + 1))
        index = index.expand(
            sample_shape + tuple(self._batch_shape) + (1,) + tuple(self._event_shape)
        )
        return comp.gather(len(sample_shape) + len(self._batch_shape), index).squeeze(
            len(sample_shape) + len(self._batch_shape)
        )

    def __repr__(self):
        return (
            f"MixtureSameFamily(\n  {self._mixture_distribution!r},\n  "
            f"{self._component_distribution!r})"
        )
