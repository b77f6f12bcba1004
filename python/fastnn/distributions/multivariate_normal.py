"""MultivariateNormal: the Gaussian on vectors, given by its covariance, its precision or the
Cholesky factor of its covariance (``scale_tril``)."""

import math
from typing import ClassVar

from .._tensor import randn
from .._tensor.functions_more import broadcast_tensors
from .._tensor.linalg import cholesky, inv, solve
from . import constraints
from .distribution import Distribution
from .utils import lazy_property


def _batch_mahalanobis(scale_tril, diff):
    """|| L^-1 diff ||^2 over the last axis, L broadcast over diff's leading axes."""
    shape = tuple(diff.shape[:-1])
    n = diff.shape[-1]
    scale_tril = scale_tril.expand((*shape, n, n))
    return solve(scale_tril, diff.unsqueeze(-1)).squeeze(-1).pow(2).sum(-1)


class MultivariateNormal(Distribution):
    """``MultivariateNormal(loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
    validate_args=None)``: exactly one of the three matrices. ``rsample`` is
    ``loc + scale_tril @ eps``, so gradients reach ``loc`` and the matrix given."""

    _param_names = ("loc", "covariance_matrix", "precision_matrix", "scale_tril")
    arg_constraints: ClassVar[dict] = {
        "loc": constraints.real_vector,
        "covariance_matrix": constraints.positive_definite,
        "precision_matrix": constraints.positive_definite,
        "scale_tril": constraints.lower_cholesky,
    }
    support = constraints.real_vector
    has_rsample = True

    def __init__(
        self,
        loc,
        covariance_matrix=None,
        precision_matrix=None,
        scale_tril=None,
        validate_args=None,
    ):
        loc = self._as_tensor(loc)
        if loc.ndim < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = [
            (k, m)
            for k, m in (
                ("covariance_matrix", covariance_matrix),
                ("precision_matrix", precision_matrix),
                ("scale_tril", scale_tril),
            )
            if m is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "Exactly one of covariance_matrix or precision_matrix or scale_tril may be "
                "specified."
            )
        name, matrix = given[0]
        matrix = self._as_tensor(matrix)
        if matrix.ndim < 2:
            what = "scale_tril" if name == "scale_tril" else name.replace("_", " ")
            raise ValueError(
                f"{what} matrix must be at least two-dimensional, with optional leading batch "
                "dimensions"
            )
        n = loc.shape[-1]
        if matrix.shape[-1] != n or matrix.shape[-2] != n:
            raise ValueError(
                f"MultivariateNormal: {name} of shape {tuple(matrix.shape)} does not match loc "
                f"of shape {tuple(loc.shape)}: expected (..., {n}, {n})"
            )
        if loc.dtype != matrix.dtype:
            raise TypeError(
                f"MultivariateNormal: loc ({loc.dtype}) and {name} ({matrix.dtype}) must have "
                "the same dtype"
            )
        loc_b = loc.unsqueeze(-1)  # (..., n, 1) broadcasts against (..., n, n)
        loc_b, matrix = broadcast_tensors(loc_b, matrix)
        self.loc = loc_b[..., 0]
        setattr(self, name, matrix)
        super().__init__(self.loc.shape[:-1], self.loc.shape[-1:], validate_args)

    @lazy_property
    def scale_tril(self):
        if "covariance_matrix" in self.__dict__:
            return cholesky(self.covariance_matrix)
        return cholesky(inv(self.precision_matrix))

    @lazy_property
    def covariance_matrix(self):
        tril = self.scale_tril
        return tril @ tril.mT

    @lazy_property
    def precision_matrix(self):
        return inv(self.covariance_matrix)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return self.scale_tril.pow(2).sum(-1)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        eps = randn(shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + (self.scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def _half_log_det(self):
        return self.scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def log_prob(self, value):
        value = self._value(value)
        diff, loc = broadcast_tensors(value, self.loc)
        diff = diff - loc
        m = _batch_mahalanobis(self.scale_tril, diff)
        n = self._event_shape[0]
        return -0.5 * (n * math.log(2 * math.pi) + m) - self._half_log_det()

    def entropy(self):
        n = self._event_shape[0]
        return 0.5 * n * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
