"""The LU factorization with partial pivoting: lu_factor / lu_factor_ex (LU packed in one matrix
and LAPACK's 1-based int32 pivots), lu (P, L, U) and lu_unpack, beside the primitive.

numpy.linalg does not return its LU factors, so ``lu_host`` is LAPACK's getrf written in numpy:
column by column, the largest |entry| on or below the diagonal is the pivot (the first of equal
ones), its row is swapped up, the column below is divided by it and a rank-1 update removes it
from the rest; every step runs on the whole batch at once. A zero pivot is left in place (its
column below is then zero too) and the first one is reported, 1-based, as info, as LAPACK does.
A (*, m, n) gives L (*, m, k) unit lower triangular and U (*, k, n), k = min(m, n).

Gradient, for P^T A = L U of a square A: with phi = tril(L^T gL, -1) + triu(gU U^T), the
gradient of P^T A is L^{-T} phi U^{-T} (two triangular solves). A wide A = P L [U1 U2] is the
square case on its first m columns, with U2 = L^{-1} P^T A2 adding -L^{-T} gU2 U2^T to gL; a tall
A is its transpose's case. The gradient goes through P back to A's rows.
"""

import math

import numpy as np

from ..._core import dtype as _dtype
from ..._core.return_types import return_type as _return_type
from ...autograd.function import Function
from .common import (
    LinAlgError,
    batch_prefix,
    describe,
    lapack,
    like,
    matrix_input,
    swap,
    tensor_arg,
    to_device,
    to_host,
)
from .triangular import triangular_solve_host

lu_factor_result = _return_type("linalg_lu_factor", ["LU", "pivots"])
lu_factor_ex_result = _return_type("linalg_lu_factor_ex", ["LU", "pivots", "info"])
lu_result = _return_type("linalg_lu", ["P", "L", "U"])
lu_unpack_result = _return_type("lu_unpack", ["P", "L", "U"])


def lu_host(h):
    """[host] (LU, pivots, info) of ``h`` (..., m, n): LU packs L below the diagonal (its unit
    diagonal implied) and U on and above it; pivots (..., k) and info (...) are int32."""
    batch, (m, n) = h.shape[:-2], h.shape[-2:]
    k = min(m, n)
    count = math.prod(batch)  # not -1: the matrices may be empty
    a = np.array(h, copy=True).reshape(count, m, n)
    rows = np.arange(count)
    piv = np.empty((count, k), np.int32)
    info = np.zeros(count, np.int32)
    for j in range(k):
        p = j + np.argmax(np.abs(a[:, j:, j]), axis=1)
        piv[:, j] = p + 1
        top = a[rows, p].copy()
        a[rows, p] = a[:, j]
        a[:, j] = top
        pivot = a[:, j, j]
        zero = pivot == 0
        info[(info == 0) & zero] = j + 1
        # a zero pivot is the column's largest |entry|, so the column below is zero already
        a[:, j + 1 :, j] /= np.where(zero, 1, pivot)[:, None]
        a[:, j + 1 :, j + 1 :] -= a[:, j + 1 :, j, None] * a[:, j, None, j + 1 :]
    return a.reshape(h.shape), piv.reshape(*batch, k), info.reshape(batch)


def permutation(piv, m):
    """[host] perm (..., m) with (P^T A)[i] = A[perm[i]] for LAPACK's pivots (..., k)."""
    batch, k = piv.shape[:-1], piv.shape[-1]
    flat = piv.reshape(math.prod(batch), k).astype(np.int64) - 1
    perm = np.tile(np.arange(m), (flat.shape[0], 1))
    rows = np.arange(flat.shape[0])
    for j in range(k):
        p = flat[:, j]
        top = perm[rows, p]
        perm[rows, p] = perm[:, j]
        perm[:, j] = top
    return perm.reshape(*batch, m)


def _unit_lower(lu, k):
    return np.tril(lu[..., :, :k], -1) + np.eye(lu.shape[-2], k, dtype=lu.dtype)


def _square_backward(low, up, gl, gu):
    """The gradient of A = L U from those of L and U (only their triangles are read)."""
    phi = np.tril(swap(low) @ gl, -1) + np.triu(gu @ swap(up))
    left = triangular_solve_host(swap(low), phi, upper=True, unit=True)  # L^{-T} phi
    return swap(triangular_solve_host(up, swap(left), upper=True))  # ... U^{-T}


def lu_backward(lu, perm, g):
    """[host] The gradient of A from the gradient ``g`` of its packed LU."""
    m, n = lu.shape[-2:]
    k = min(m, n)
    low, up = _unit_lower(lu, k), np.triu(lu[..., :k, :])
    gl, gu = np.tril(g[..., :, :k], -1), np.triu(g[..., :k, :])
    if m == n:
        gbar = _square_backward(low, up, gl, gu)
    elif m < n:  # P^T A = L [U1 U2]
        u2, gu2 = up[..., :, m:], gu[..., :, m:]
        g2 = triangular_solve_host(swap(low), gu2, upper=True, unit=True)  # L^{-T} gU2
        g1 = _square_backward(low, up[..., :, :m], gl - g2 @ swap(u2), gu[..., :, :m])
        gbar = np.concatenate([g1, g2], -1)
    else:  # P^T A = [L1; L2] U
        low2, gl2 = low[..., n:, :], gl[..., n:, :]
        g2 = swap(triangular_solve_host(up, swap(gl2), upper=True))  # gL2 U^{-T}
        g1 = _square_backward(low[..., :n, :], up, gl[..., :n, :], gu - swap(low2) @ g2)
        gbar = np.concatenate([g1, g2], -2)
    ga = np.empty_like(gbar)
    np.put_along_axis(ga, np.broadcast_to(perm[..., None], gbar.shape), gbar, axis=-2)
    return ga


class LUFactor(Function):
    """The packed LU of A (*, m, n); ``report`` (a list) receives the pivots and info."""

    @lapack("linalg.lu_factor")
    def forward(self, a, *, fn, check, report):
        h = to_host(self.be, a)
        lu, piv, info = lu_host(h)
        if check and info.any():
            i = int(np.flatnonzero(info.reshape(-1))[0])
            j = int(info.reshape(-1)[i])
            raise LinAlgError(
                f"{fn}: {batch_prefix(h, i)}U[{j},{j}] is zero, so solving with this "
                "factorization (lu_solve) would divide by zero; linalg.lu_factor_ex or linalg.lu "
                f"factor such a matrix without raising (A: shape {list(h.shape)}, "
                f"{_dtype.name(h.dtype)})"
            )
        report.extend([piv, info])
        if self.requires_grad:
            self.lu, self.perm = lu, permutation(piv, h.shape[-2])
        return to_device(self.be, lu, h.dtype)

    @lapack("linalg.lu_factor")
    def backward(self, g):
        return to_device(self.be, lu_backward(self.lu, self.perm, to_host(self.be, g)), g.dtype)


# ---- the functions -------------------------------------------------------------------------------


def _factor(A, pivot, fn, check):
    matrix_input(A, fn, int_error=NotImplementedError)
    if not pivot:
        raise RuntimeError(f"{fn}: LU without pivoting is not implemented on the CPU")
    report = []
    lu = LUFactor.apply(A, fn=fn, check=check, report=report)
    return lu, like(A, report[0]), like(A, report[1])


def lu_factor(A, *, pivot=True, out=None):
    """(LU, pivots) of A (*, m, n) = P L U: L below LU's diagonal (unit diagonal implied), U on
    and above it; pivots (*, min(m, n)) int32, 1-based: step i swapped rows i and pivots[i].
    A zero pivot (a singular square matrix) raises LinAlgError."""
    if out is not None:
        raise TypeError("linalg.lu_factor: out= is not supported; assign the results instead")
    lu, piv, _ = _factor(A, pivot, "linalg.lu_factor", True)
    return lu_factor_result(lu, piv)


def lu_factor_ex(A, *, pivot=True, check_errors=False, out=None):
    """(LU, pivots, info): lu_factor that reports the first zero pivot (1-based, 0 if none) in
    info (int32, shape (*)) instead of raising, unless ``check_errors``."""
    if out is not None:
        raise TypeError("linalg.lu_factor_ex: out= is not supported; assign the results instead")
    return lu_factor_ex_result(*_factor(A, pivot, "linalg.lu_factor_ex", bool(check_errors)))


def _permutation_matrix(like_t, piv, m):
    """P (*, m, m) with P^T A = A[perm] (a constant tensor of ``like_t``'s dtype and device)."""
    perm = permutation(piv, m)
    eye = np.eye(m, dtype=like_t._data.dtype)
    return like(like_t, np.swapaxes(eye[perm], -1, -2))


def _unpack(LU, piv, unpack_data, unpack_pivots):
    m, n = LU.shape[-2:]
    k = min(m, n)
    empty = like(LU, np.empty((0,), LU._data.dtype))
    P = _permutation_matrix(LU, piv, m) if unpack_pivots else empty
    if not unpack_data:
        return P, empty, empty
    eye = like(LU, np.eye(m, k, dtype=LU._data.dtype))
    return P, LU[..., :, :k].tril(-1) + eye, LU[..., :k, :].triu()


def lu(A, *, pivot=True, out=None):
    """(P, L, U) with A = P L U: P (*, m, m) a permutation, L (*, m, k) unit lower triangular,
    U (*, k, n) upper triangular, k = min(m, n). Singular matrices factor without error."""
    if out is not None:
        raise TypeError("linalg.lu: out= is not supported; assign the results instead")
    LU, piv, _ = _factor(A, pivot, "linalg.lu", False)
    return lu_result(*_unpack(LU, _host_pivots(piv), True, True))


def _host_pivots(piv):
    """[host] A pivots tensor as numpy."""
    return np.asarray(piv._backend().to_numpy(piv._data))


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True, *, out=None):
    """(P, L, U) of a packed LU and its pivots (lu_factor's results); ``unpack_data=False``
    leaves L and U empty, ``unpack_pivots=False`` P."""
    fn = "lu_unpack"
    if out is not None:
        raise TypeError(f"{fn}: out= is not supported; assign the results instead")
    matrix_input(LU_data, fn, "LU_data", int_error=NotImplementedError)
    piv = pivots_input(LU_pivots, LU_data, fn)
    return lu_unpack_result(*_unpack(LU_data, piv, bool(unpack_data), bool(unpack_pivots)))


def pivots_input(pivots, LU, fn):
    """[host] LU's pivots as an int32 numpy array, checked as torch does."""
    tensor_arg(pivots, fn, "pivots")
    if pivots._data.dtype != np.int32:
        raise RuntimeError(
            f"{fn}: pivots should be a Tensor of scalar type int32, got {describe(pivots)}"
        )
    k = min(LU.shape[-2:])
    if tuple(pivots.shape) != (*LU.shape[:-2], k):
        raise RuntimeError(
            f"{fn}: the pivots should have shape {[*LU.shape[:-2], k]} (LU's batch and "
            f"min(m, n) = {k}), got {describe(pivots)}"
        )
    piv = _host_pivots(pivots)
    if piv.size and (piv.min() < 1 or piv.max() > LU.shape[-2]):
        raise RuntimeError(f"{fn}: the pivots must lie in [1, {LU.shape[-2]}] (LU: {describe(LU)})")
    return piv


__all__ = ["lu", "lu_factor", "lu_factor_ex", "lu_unpack"]
