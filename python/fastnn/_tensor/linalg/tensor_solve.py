"""tensorinv, tensorsolve and householder_product: reshapes and loops over the differentiable
functions and Tensor ops, so their gradients are those of inv, solve and the products.

tensorinv(A, ind) is inv of A seen as a (prod(shape[:ind]), prod(shape[ind:])) matrix, reshaped
to shape[ind:] + shape[:ind]; tensorsolve(A, B) solves A seen as a (B.numel(), rest) matrix.
householder_product(A, tau) multiplies the reflectors H_i = I - tau_i v_i v_i^T that LAPACK's
geqrf leaves below A's diagonal (v_i: 1 at i, A[i+1:, i] below it, 0 above), one rank-1 update
of the running product per reflector, and keeps the first n columns.
"""

import math

import numpy as np

from ..._core.dims import wrap_dim
from .common import describe, floating, like, matrix_input, same_dtype, tensor_arg, with_out
from .lu import inv, solve


def tensorinv(A, ind=2, *, out=None):
    """X with tensordot(X, A, ind) the identity: A's first ``ind`` dims form the rows."""
    fn = "linalg.tensorinv"
    floating(tensor_arg(A, fn, "A"), fn, "A")
    if not isinstance(ind, (int, np.integer)) or isinstance(ind, bool) or ind <= 0:
        raise RuntimeError(f"{fn}: expected a strictly positive integer for 'ind', got {ind}")
    rows, cols = tuple(A.shape[:ind]), tuple(A.shape[ind:])
    if math.prod(rows) != math.prod(cols):
        raise RuntimeError(
            f"{fn}: expected prod(A.shape[ind:]) == prod(A.shape[:ind]), got "
            f"{math.prod(cols)} != {math.prod(rows)} (ind={ind}, A: {describe(A)})"
        )
    res = inv(A.reshape(math.prod(rows), math.prod(cols))).reshape(*cols, *rows)
    return with_out(out, fn, res, A)


def tensorsolve(A, B, dims=None, *, out=None):
    """X with tensordot(A, X, X.ndim) = B; ``dims``: dims of A moved to its end first."""
    fn = "linalg.tensorsolve"
    floating(tensor_arg(A, fn, "A"), fn, "A")
    floating(tensor_arg(B, fn, "B"), fn, "B")
    same_dtype(A, B, fn)
    if dims is not None:
        dims = [wrap_dim(d, A.ndim, fn=fn) for d in dims]
        A = A.movedim(dims, list(range(A.ndim - len(dims), A.ndim)))
    rest = tuple(A.shape[B.ndim :])
    if math.prod(A.shape[: B.ndim]) != math.prod(rest):
        raise RuntimeError(
            f"{fn}: expected prod(A.shape[B.ndim:]) == prod(A.shape[:B.ndim]), got "
            f"{math.prod(rest)} != {math.prod(A.shape[: B.ndim])} (A: {describe(A)}, "
            f"B: {describe(B)})"
        )
    n = math.prod(rest)
    res = solve(A.reshape(n, n), B.reshape(n)).reshape(rest)
    return with_out(out, fn, res, A, B)


def householder_product(A, tau, *, out=None):
    """The first n columns of H_1 ... H_k for A (*, m, n) holding the reflectors' vectors below
    its diagonal and tau (*, k) their scales, k <= n <= m."""
    fn = "linalg.householder_product"
    matrix_input(A, fn, "input")
    floating(tensor_arg(tau, fn, "tau"), fn, "tau")
    m, n = A.shape[-2:]
    if m < n:
        raise RuntimeError(
            f"{fn}: input.shape[-2] must be at least input.shape[-1], got {describe(A)}"
        )
    k = tau.shape[-1] if tau.ndim else 0
    if tau.ndim == 0 or k > n:
        raise RuntimeError(
            f"{fn}: input.shape[-1] must be at least tau.shape[-1], got input of {describe(A)} "
            f"and tau of {describe(tau)}"
        )
    if tuple(tau.shape[:-1]) != tuple(A.shape[:-2]):
        raise RuntimeError(
            f"{fn}: expected the batch dimensions of tau to be input.shape[:-2] = "
            f"{list(A.shape[:-2])}, got tau of {describe(tau)}"
        )
    same_dtype(A, tau, fn, ("input", "tau"))
    vectors = A[..., :, :k].tril(-1) + like(A, np.eye(m, k, dtype=A._data.dtype))
    q = like(A, np.broadcast_to(np.eye(m, n, dtype=A._data.dtype), (*A.shape[:-2], m, n)))
    for i in reversed(range(k)):  # Q = H_1 (H_2 (... (H_k I)))
        v = vectors[..., :, i : i + 1]
        q = q - tau[..., i, None, None] * (v @ (v.mT @ q))
    return with_out(out, fn, q, A, tau)


__all__ = ["householder_product", "tensorinv", "tensorsolve"]
