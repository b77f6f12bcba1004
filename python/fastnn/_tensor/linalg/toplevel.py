"""torch's top-level linear-algebra functions (torch.det, inverse, logdet, slogdet, pinverse,
kron, matrix_power, matrix_exp, orgqr, and the older svd, qr, cholesky, chain_matmul, lu,
lu_solve, lu_unpack, triangular_solve) and the Tensor methods of
the same names (a mixin of ``Tensor``), each the torch.linalg function it stands for; the older
ones return what they always returned (svd's V, not Vh) and warn as torch does."""

import warnings

from ..._core.return_types import return_type as _return_type
from .factor import checked_cholesky
from .factor import qr as _qr
from .lstsq import pinv as _pinv
from .lu import det as _det
from .lu import inv as _inv
from .lu import legacy_slogdet
from .lu import logdet as _logdet
from .lu_factor import lu_factor_ex as _lu_factor_ex
from .lu_factor import lu_unpack
from .lu_solve import lu_solve as _lu_solve
from .matrix_exp import matrix_exp as _matrix_exp
from .products import kron as _kron
from .products import matrix_power as _matrix_power
from .products import multi_dot as _multi_dot
from .spectral import svd as _svd
from .tensor_solve import householder_product as _householder_product
from .triangular import solve_triangular as _solve_triangular

lu_with_info_result = _return_type("_lu_with_info", ["LU", "pivots", "info"])
triangular_solve_result = _return_type("triangular_solve", ["solution", "cloned_coefficient"])


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


def svd(input, some=True, compute_uv=True, *, out=None):
    """(U, S, V) with input = U diag(S) V^T: linalg.svd with V rather than Vh; ``some``: the
    reduced factors; without ``compute_uv``, U and V are zeros of the full factors' shapes."""
    if out is not None:
        raise TypeError("svd: out= is not supported; assign the results instead")
    U, S, Vh = _svd(input, full_matrices=not some or not compute_uv)
    if not compute_uv:
        return U.detach() * 0, S, Vh.detach().mT * 0
    return U, S, Vh.mT


def qr(input, some=True, *, out=None):
    """(Q, R): linalg.qr, reduced unless ``some=False``."""
    warnings.warn(
        "torch.qr is deprecated in favor of torch.linalg.qr: Q, R = linalg.qr(A, 'reduced' if "
        "some else 'complete')",
        UserWarning,
        stacklevel=2,
    )
    if out is not None:
        raise TypeError("qr: out= is not supported; assign the results instead")
    return _qr(input, "reduced" if some else "complete")


def cholesky(input, upper=False, *, out=None):
    """linalg.cholesky (its upper factor with ``upper``)."""
    warnings.warn(
        "torch.cholesky is deprecated in favor of torch.linalg.cholesky (with .mH for upper=True)",
        UserWarning,
        stacklevel=2,
    )
    if out is not None:
        raise TypeError("cholesky: out= is not supported; assign the result instead")
    return checked_cholesky(input, upper, "cholesky", NotImplementedError)


def chain_matmul(*matrices, out=None):
    """The product of the matrices, in the cheapest order: linalg.multi_dot."""
    warnings.warn(
        "torch.chain_matmul is deprecated; use linalg.multi_dot, which takes a list of two or "
        "more tensors",
        UserWarning,
        stacklevel=2,
    )
    if len(matrices) == 1:
        return matrices[0].clone() if out is None else out.copy_(matrices[0])
    return _multi_dot(list(matrices), out=out)


def matrix_exp(A):
    """linalg.matrix_exp."""
    return _matrix_exp(A)


def orgqr(input, tau):
    """linalg.householder_product."""
    return _householder_product(input, tau)


def lu(A, pivot=True, get_infos=False, out=None):
    """(LU, pivots) of linalg.lu_factor_ex, and its info with ``get_infos``; a singular matrix
    factors without error, as in torch."""
    warnings.warn(
        "torch.lu is deprecated in favor of torch.linalg.lu_factor (LU, pivots) and "
        "torch.linalg.lu_factor_ex (LU, pivots, info)",
        UserWarning,
        stacklevel=2,
    )
    if out is not None:
        raise TypeError("lu: out= is not supported; assign the results instead")
    LU, pivots, info = _lu_factor_ex(A, pivot=pivot)
    return lu_with_info_result(LU, pivots, info) if get_infos else (LU, pivots)


def lu_solve(b, LU_data, LU_pivots, *, out=None):
    """linalg.lu_solve(LU_data, LU_pivots, b): note the right-hand side comes first."""
    warnings.warn(
        "torch.lu_solve is deprecated in favor of torch.linalg.lu_solve, which takes its "
        "arguments as (LU, pivots, B)",
        UserWarning,
        stacklevel=2,
    )
    return _lu_solve(LU_data, LU_pivots, b, out=out)


def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False, *, out=None):
    """(solution, cloned_coefficient): X with op(A) X = b, op(A) = A^T with ``transpose``, A's
    upper triangle by default, and a copy of A (broadcast to b's batch). linalg.solve_triangular
    takes (A, B) in the other order."""
    warnings.warn(
        "torch.triangular_solve is deprecated in favor of torch.linalg.solve_triangular, which "
        "takes its arguments as (A, B) and returns only the solution",
        UserWarning,
        stacklevel=2,
    )
    if out is not None:
        raise TypeError("triangular_solve: out= is not supported; assign the results instead")
    a = A.mT if transpose else A
    X = _solve_triangular(a, b, upper=bool(upper) != bool(transpose), unitriangular=unitriangular)
    return triangular_solve_result(X, A.expand(*X.shape[:-2], *A.shape[-2:]).clone())


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

    def matrix_exp(self):
        return _matrix_exp(self)

    def orgqr(self, input2):
        return _householder_product(self, input2)

    def lu(self, pivot=True, get_infos=False):
        LU, pivots, info = _lu_factor_ex(self, pivot=pivot)
        return lu_with_info_result(LU, pivots, info) if get_infos else (LU, pivots)

    def lu_solve(self, LU_data, LU_pivots):
        return _lu_solve(LU_data, LU_pivots, self)

    def triangular_solve(self, A, upper=True, transpose=False, unitriangular=False):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the method is not deprecated separately
            return triangular_solve(self, A, upper, transpose, unitriangular)

    def svd(self, some=True, compute_uv=True):
        return svd(self, some, compute_uv)

    def qr(self, some=True):
        return _qr(self, "reduced" if some else "complete")

    def cholesky(self, upper=False):
        """torch's older Tensor.cholesky: linalg.cholesky (int inputs raise NotImplementedError,
        as torch's do)."""
        return checked_cholesky(self, upper, "cholesky", NotImplementedError)


__all__ = [
    "chain_matmul",
    "cholesky",
    "det",
    "inverse",
    "kron",
    "logdet",
    "lu",
    "lu_solve",
    "lu_unpack",
    "matrix_exp",
    "matrix_power",
    "orgqr",
    "pinverse",
    "qr",
    "slogdet",
    "svd",
    "triangular_solve",
]
