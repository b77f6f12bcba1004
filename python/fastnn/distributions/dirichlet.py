"""Dirichlet: probability vectors on the simplex, with concentrations along the last axis."""

from typing import ClassVar

from .._core.dtype import finfo
from .._tensor import eye
from . import constraints
from .distribution import Distribution
from .standard_gamma import standard_gamma
from .utils import broadcast_all


class Dirichlet(Distribution):
    """``Dirichlet(concentration, validate_args=None)``; ``rsample`` normalizes Gamma draws, so
    the gradient reaches ``concentration`` through theirs."""

    _param_names = ("concentration",)
    arg_constraints: ClassVar[dict] = {
        "concentration": constraints.independent(constraints.positive, 1)
    }
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        (concentration,) = broadcast_all(concentration)
        if concentration.ndim < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        super().__init__(concentration.shape[:-1], concentration.shape[-1:], validate_args)

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self):
        c = self.concentration
        excess = (c - 1).clamp(min=0)
        # a zero total (all below 1) is replaced by the corner below; tiny keeps 0 / 0 out
        mode = excess / excess.sum(-1, keepdim=True).clamp(min=finfo(c.dtype).tiny)
        # all concentrations below 1: the density peaks at a corner, the first largest one's
        corner = eye(c.shape[-1], dtype=c.dtype, device=c.device)[excess.argmax(-1)]
        return mode.where(~(c < 1).all(-1, keepdim=True), corner)

    @property
    def variance(self):
        c = self.concentration
        total = c.sum(-1, keepdim=True)
        return c * (total - c) / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        g = standard_gamma(self.concentration.expand(shape))
        return g / g.sum(-1, keepdim=True)

    def log_prob(self, value):
        value = self._value(value)
        c = self.concentration
        return (c - 1).xlogy(value).sum(-1) + c.sum(-1).lgamma() - c.lgamma().sum(-1)

    def entropy(self):
        c = self.concentration
        k = c.shape[-1]
        total = c.sum(-1)
        return (
            c.lgamma().sum(-1)
            - total.lgamma()
            - (k - total) * total.digamma()
            - ((c - 1) * c.digamma()).sum(-1)
        )
