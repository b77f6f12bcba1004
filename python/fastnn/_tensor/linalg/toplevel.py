"""torch's top-level linear-algebra functions (torch.det, inverse, logdet, slogdet, pinverse,
kron, matrix_power) and the Tensor methods of the same names (a mixin of ``Tensor``, with
``cholesky``), each the torch.linalg function it stands for."""

from .factor import checked_cholesky
from .lstsq import pinv as _pinv
from .lu import det as _det
from .lu import inv as _inv
from .lu import legacy_slogdet
from .lu import logdet as _logdet
from .products import kron as _kron
from .products import matrix_power as _matrix_power


def det(input):
    """linalg.det: the determinants of the square matrices of ``input`` (*, n, n)."""
    return _det(input)


def inverse(input, *, out=None):
    """linalg.inv."""
    return _inv(input, out=out)


def logdet(input):
    """log det(input): NaN where the determinant is negative, -inf where it is 0."""
    return _logdet(input)


def slogdet(input):
    """linalg.slogdet, as the (sign, logabsdet) tuple torch names ``slogdet``."""
    return legacy_slogdet(input)


def pinverse(input, rcond=1e-15):
    """linalg.pinv with singular values at most ``rcond`` times the largest counted as zero."""
    return _pinv(input, rtol=rcond)


def kron(input, other, *, out=None):
    """The Kronecker product: block (i, j, ...) is input[i, j, ...] * other."""
    return _kron(input, other, out=out)


def matrix_power(input, n, *, out=None):
    """linalg.matrix_power."""
    return _matrix_power(input, n, out=out)


class LinalgMixin:
    def det(self):
        return _det(self)

    def inverse(self):
        return _inv(self)

    def logdet(self):
        return _logdet(self)

    def slogdet(self):
        return legacy_slogdet(self)

    def pinverse(self, rcond=1e-15):
        return _pinv(self, rtol=rcond)

    def kron(self, other):
        return _kron(self, other)

    def matrix_power(self, n):
        return _matrix_power(self, n)

    def cholesky(self, upper=False):
        """torch's older Tensor.cholesky: linalg.cholesky (int inputs raise NotImplementedError,
        as torch's do)."""
        return checked_cholesky(self, upper, "cholesky", NotImplementedError)


__all__ = ["det", "inverse", "kron", "logdet", "matrix_power", "pinverse", "slogdet"]
