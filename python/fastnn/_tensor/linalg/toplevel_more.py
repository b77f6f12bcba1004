"""More of torch's top-level linear algebra: the Cholesky-based inverse and solve, the deprecated
frobenius_norm / nuclear_norm (thin forms of linalg's norms, warning as torch does), the removed
matrix_rank (raises, pointing to linalg.matrix_rank), geqrf / ormqr (LAPACK's compact QR, from
numpy's raw QR), and the randomized low-rank SVD / PCA.

cholesky_inverse and cholesky_solve invert or solve with A = L L^T formed from the factor, so
their gradients are torch's (in every entry of L). svd_lowrank follows the randomized range finder: Q spans A's columns sampled by a
Gaussian sketch, refined by ``niter`` power iterations (QR after each product, which keeps
the basis well conditioned), then the SVD of the small Q^T A gives A's leading singular triplets.
"""

import warnings

import numpy as np

from ...autograd import function as _function
from .. import creation as _creation
from .. import functions as _fns
from .factor import qr as _qr
from .lu import inv as _inv
from .lu import solve as _solve
from .norms import matrix_norm, vector_norm
from .spectral import svd as _svd
from .tensor_solve import householder_product


def _matrices(x, fn, arg):
    if not isinstance(x, _function.Tensor):
        raise TypeError(f"{fn}(): argument '{arg}' must be Tensor, not {type(x).__name__}")
    if x.dim() < 2:
        raise RuntimeError(
            f"{fn}(): '{arg}' must have at least 2 dimensions, got shape {list(x.shape)}"
        )
    if not x.is_floating_point():
        raise RuntimeError(f"{fn}(): '{arg}' must be a float tensor, got {x.dtype}")
    return x


def _square(x, fn, arg):
    _matrices(x, fn, arg)
    if x.shape[-1] != x.shape[-2]:
        raise RuntimeError(
            f"{fn}(): '{arg}' must be batches of square matrices, got shape {list(x.shape)}"
        )
    return x


def _gram(L, upper):
    """A = L L^T (U^T U) from the factor's triangle. torch differentiates these ops as functions
    of the whole A = L L^T, so every entry of L gets a gradient, the other triangle included:
    the values come from the triangle, the gradient passes to all of L unchanged."""
    tri = L.triu() if upper else L.tril()
    full = tri.detach() + (L - L.detach())
    return full.mT @ full if upper else full @ full.mT


def cholesky_solve(B, L, upper=False):
    """X with A X = B, for A = L L^T (or U^T U with ``upper``) given its Cholesky factor."""
    _matrices(B, "cholesky_solve", "input")
    _square(L, "cholesky_solve", "input2")
    if B.dtype != L.dtype:
        raise RuntimeError(
            f"cholesky_solve(): expected 'input' and 'input2' to have the same dtype, got "
            f"{B.dtype} and {L.dtype}"
        )
    if B.shape[-2] != L.shape[-1]:
        raise RuntimeError(
            f"cholesky_solve(): incompatible shapes: 'input2' {list(L.shape)} and 'input' "
            f"{list(B.shape)} (their rows must match)"
        )
    return _solve(_gram(L, upper), B)


def cholesky_inverse(L, upper=False):
    """A^-1 for A = L L^T (or U^T U with ``upper``) given its Cholesky factor."""
    _square(L, "cholesky_inverse", "input")
    return _inv(_gram(L, upper))


def _norm_dims(dim):
    return dim if isinstance(dim, int) else tuple(dim)


def frobenius_norm(input, dim, keepdim=False):
    """Deprecated: the 2-norm over ``dim`` (all dims for an empty dim)."""
    warnings.warn(
        "fastnn.frobenius_norm is deprecated; use fastnn.linalg.vector_norm(A, 2, dim, keepdim)",
        UserWarning,
        stacklevel=2,
    )
    dims = _norm_dims(dim)
    return vector_norm(input, 2, dims if dims != () else None, keepdim)


def nuclear_norm(input, dim=(-2, -1), keepdim=False):
    """Deprecated: the sum of singular values of the matrices over ``dim``."""
    warnings.warn(
        "fastnn.nuclear_norm is deprecated; use fastnn.linalg.matrix_norm(A, 'nuc', dim, keepdim)",
        UserWarning,
        stacklevel=2,
    )
    if isinstance(dim, bool):  # nuclear_norm(A, keepdim) positionally, as torch allows
        dim, keepdim = (-2, -1), dim
    if isinstance(input, _function.Tensor) and input.dim() != 2 and tuple(dim) == (-2, -1):
        raise RuntimeError(
            f"nuclear_norm(): expected a 2-d tensor without dim, got {input.dim()} dimensions"
        )
    return matrix_norm(input, "nuc", tuple(dim), keepdim)


def matrix_rank(input, tol=None, symmetric=False, *, out=None):
    """Removed from torch: raises, as torch does, naming its replacement."""
    raise RuntimeError(
        "matrix_rank was removed; use fastnn.linalg.matrix_rank (its 'symmetric' argument is "
        "called 'hermitian' there)"
    )


def geqrf(input):
    """(a, tau): LAPACK's compact QR, R on and above a's diagonal, the Householder vectors
    below it, and their scales tau. No gradient (torch has none)."""
    A = _matrices(input, "geqrf", "input")
    a = np.asarray(A.detach().numpy(), np.float64)
    shape = a.shape
    flat = a.reshape(-1, *shape[-2:])
    hs, taus = [], []
    for m in flat:  # numpy's raw QR is LAPACK's geqrf, its matrix in column-major order
        h, tau = np.linalg.qr(m, mode="raw")
        hs.append(h.T)
        taus.append(tau)
    k = min(shape[-2:])
    h = np.stack(hs).reshape(shape) if hs else np.zeros(shape)
    tau = np.stack(taus).reshape(*shape[:-2], k) if taus else np.zeros((*shape[:-2], k))
    dt = A.dtype
    return (
        _creation.tensor(h, dtype=dt, device=A.device),
        _creation.tensor(tau, dtype=dt, device=A.device),
    )


def ormqr(input, tau, other, left=True, transpose=False):
    """op(Q) @ other (``left``) or other @ op(Q), Q the full m x m orthogonal matrix of geqrf's
    (input, tau) and op the transpose with ``transpose``."""
    A = _matrices(input, "ormqr", "input")
    C = _matrices(other, "ormqr", "other")
    m, k = A.shape[-2], tau.shape[-1]
    if k > m or k > A.shape[-1]:
        raise RuntimeError(
            f"ormqr(): tau has {k} reflectors but 'input' of shape {list(A.shape)} holds at most "
            f"{min(A.shape[-2:])}"
        )
    need = C.shape[-2] if left else C.shape[-1]
    if need != m:
        side = "rows" if left else "columns"
        raise RuntimeError(
            f"ormqr(): 'other' of shape {list(C.shape)} must have {m} {side}, as 'input' "
            f"{list(A.shape)} has rows"
        )
    # the reflectors padded to m of them (the extra ones with scale 0 are identities) give the
    # full Q through householder_product
    vs = A[..., :k]
    if k < m:
        zeros = _creation.zeros(*A.shape[:-1], m - k, dtype=A.dtype, device=A.device)
        vs = _fns.cat([vs, zeros], -1)
        pad = _creation.zeros(*tau.shape[:-1], m - k, dtype=A.dtype, device=A.device)
        tau = _fns.cat([tau, pad], -1)
    Q = householder_product(vs, tau)
    op = Q.mT if transpose else Q
    return op @ C if left else C @ op


def _approximate_basis(A, q, niter, M):
    """An m x q orthonormal Q whose span nearly holds A's (or A - M's) leading columns."""
    sketch = _creation.randn(*A.shape[:-2], A.shape[-1], q, dtype=A.dtype, device=A.device)

    def times(X):  # (A - M) X without forming A - M
        return A @ X if M is None else A @ X - M @ X

    def times_t(X):
        return A.mT @ X if M is None else A.mT @ X - M.mT @ X

    Q = _qr(times(sketch))[0]
    for _ in range(niter):
        Q = _qr(times_t(Q))[0]
        Q = _qr(times(Q))[0]
    return Q


def svd_lowrank(A, q=6, niter=2, M=None):
    """(U, S, V) of a rank-q approximation of A (or A - M): A ~ U diag(S) V^T, found by a
    randomized range finder with ``niter`` power iterations; draws from fastnn's generator."""
    _matrices(A, "svd_lowrank", "A")
    q = 6 if q is None else q
    niter = 2 if niter is None else niter
    m, n = A.shape[-2:]
    if not isinstance(q, int) or not 0 < q <= min(m, n):
        raise ValueError(
            f"svd_lowrank(): q must be an int in [1, {min(m, n)}] for A of shape "
            f"{list(A.shape)}, got {q!r}"
        )
    if M is not None:
        M = M.expand(*A.shape) if tuple(M.shape) != tuple(A.shape) else M
    if m < n:  # work on the tall transpose: the sketch is then the smaller side
        U, S, V = svd_lowrank(A.mT, q, niter, None if M is None else M.mT)
        return V, S, U
    Q = _approximate_basis(A, q, niter, M)
    B = Q.mT @ A if M is None else Q.mT @ A - Q.mT @ M
    U, S, Vh = _svd(B, full_matrices=False)
    return Q @ U, S, Vh.mT


def pca_lowrank(A, q=None, center=True, niter=2):
    """(U, S, V) of svd_lowrank on A with each column's mean removed (``center``): the
    principal directions are V's columns, the variances S^2 / (m - 1)."""
    _matrices(A, "pca_lowrank", "A")
    m, n = A.shape[-2:]
    q = min(6, m, n) if q is None else q
    if not isinstance(q, int) or not 0 < q <= min(m, n):
        raise ValueError(
            f"pca_lowrank(): q must be an int in [1, {min(m, n)}] for A of shape "
            f"{list(A.shape)}, got {q!r}"
        )
    if not center:
        return svd_lowrank(A, q, niter)
    return svd_lowrank(A - A.mean(-2, keepdim=True), q, niter)


class LinalgMoreMixin:
    __slots__ = ()

    def cholesky_solve(self, input2, upper=False):
        return cholesky_solve(self, input2, upper)

    def cholesky_inverse(self, upper=False):
        return cholesky_inverse(self, upper)

    def geqrf(self):
        return geqrf(self)

    def ormqr(self, input2, input3, left=True, transpose=False):
        return ormqr(self, input2, input3, left, transpose)


__all__ = [
    "cholesky_inverse",
    "cholesky_solve",
    "frobenius_norm",
    "geqrf",
    "matrix_rank",
    "nuclear_norm",
    "ormqr",
    "pca_lowrank",
    "svd_lowrank",
]
