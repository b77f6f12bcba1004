"""The LDL^T factorization of symmetric matrices: ldl_factor / ldl_factor_ex and ldl_solve.

numpy.linalg does not expose LAPACK's sytrf, so ``ldl_host`` is its Bunch-Kaufman pivoting on
the lower triangle written in numpy, one matrix at a time (each matrix picks its own pivots):
column k is eliminated alone (a 1 x 1 pivot) unless its diagonal is small against the column's
largest entry, in which case a 1 x 1 pivot at that entry's row, or a 2 x 2 block with it, is
swapped in. The result is LAPACK's: LD holds L below the diagonal (unit diagonal implied) and
D's blocks on and next to it, the upper triangle zero; pivots are 1-based, kp + 1 for a 1 x 1
pivot that swapped k with kp, and -(kp + 1) on both columns of a 2 x 2 block. ``hermitian``
makes no difference for real matrices. As in torch, neither function has a derivative.
"""

import math

import numpy as np

from ..._core.return_types import return_type as _return_type
from ...autograd.function import Function
from .common import (
    LinAlgError,
    batch_prefix,
    batch_shape,
    describe,
    lapack,
    like,
    matrix_input,
    per_matrix,
    tensor_arg,
    to_device,
    to_host,
    with_out,
)

ldl_factor_result = _return_type("linalg_ldl_factor", ["LD", "pivots"])
ldl_factor_ex_result = _return_type("linalg_ldl_factor_ex", ["LD", "pivots", "info"])

_ALPHA = (1 + math.sqrt(17)) / 8  # Bunch-Kaufman's threshold: bounds the growth of L


def _swap_symmetric(a, k, kk, kp, two):
    """Interchange rows and columns kk and kp of the lower triangle of a[k:, k:] (kp > kk)."""
    a[kp + 1 :, [kk, kp]] = a[kp + 1 :, [kp, kk]]
    between = np.arange(kk + 1, kp)
    a[between, kk], a[kp, between] = a[kp, between].copy(), a[between, kk].copy()
    a[kk, kk], a[kp, kp] = a[kp, kp], a[kk, kk]
    if two:
        a[k + 1, k], a[kp, k] = a[kp, k], a[k + 1, k]


def _ldl_one(a):
    """[host] Factor one matrix in place (its lower triangle); returns (pivots, info)."""
    n = a.shape[-1]
    piv = np.zeros(n, np.int32)
    info, k = 0, 0
    while k < n:
        step = 1
        absakk = abs(a[k, k])
        imax = k + 1 + int(np.argmax(np.abs(a[k + 1 :, k]))) if k < n - 1 else k
        colmax = abs(a[imax, k]) if k < n - 1 else 0.0
        if max(absakk, colmax) == 0:  # a zero column: D[k, k] = 0, nothing to eliminate
            info = info or k + 1
            piv[k] = k + 1
            k += 1
            continue
        kp = k
        if absakk < _ALPHA * colmax:
            rowmax = np.abs(a[imax, k:imax]).max()
            if imax < n - 1:
                rowmax = max(rowmax, np.abs(a[imax + 1 :, imax]).max())
            if absakk >= _ALPHA * colmax * (colmax / rowmax):
                kp = k
            elif abs(a[imax, imax]) >= _ALPHA * rowmax:
                kp = imax
            else:
                kp, step = imax, 2
        kk = k + step - 1
        if kp != kk:
            _swap_symmetric(a, k, kk, kp, step == 2)
        if step == 1:
            r = 1 / a[k, k]
            col = a[k + 1 :, k].copy()
            a[k + 1 :, k + 1 :] -= np.tril(r * np.outer(col, col))
            a[k + 1 :, k] *= r
            piv[k] = kp + 1
        else:
            if k < n - 2:
                d21 = a[k + 1, k]
                d11 = a[k + 1, k + 1] / d21
                d22 = a[k, k] / d21
                t = 1 / (d11 * d22 - 1)
                d21 = t / d21
                c0, c1 = a[k + 2 :, k].copy(), a[k + 2 :, k + 1].copy()
                wk = d21 * (d11 * c0 - c1)
                wkp1 = d21 * (d22 * c1 - c0)
                a[k + 2 :, k + 2 :] -= np.tril(np.outer(c0, wk) + np.outer(c1, wkp1))
                a[k + 2 :, k], a[k + 2 :, k + 1] = wk, wkp1
            piv[k] = piv[k + 1] = -(kp + 1)
        k += step
    return piv, info


def ldl_host(h):
    """[host] (LD, pivots, info) of the lower triangles of ``h`` (..., n, n)."""
    flat = per_matrix(np.array(h, copy=True))
    piv = np.zeros(flat.shape[:-1], np.int32)
    info = np.zeros(flat.shape[0], np.int32)
    for i, a in enumerate(flat):
        piv[i], info[i] = _ldl_one(a)
    ld = np.tril(flat).reshape(h.shape)
    return ld, piv.reshape(h.shape[:-1]), info.reshape(h.shape[:-2])


def _solve_one(ld, piv, b):
    """[host] X with A X = B for one factorization (LAPACK's sytrs on the lower triangle)."""
    n = ld.shape[-1]
    b = b.copy()
    k = 0
    while k < n:  # L D y = P^T b, block by block
        if piv[k] > 0:
            kp = piv[k] - 1
            b[[k, kp]] = b[[kp, k]]
            b[k + 1 :] -= np.outer(ld[k + 1 :, k], b[k])
            b[k] /= ld[k, k]
            k += 1
        else:
            kp = -piv[k] - 1
            b[[k + 1, kp]] = b[[kp, k + 1]]
            b[k + 2 :] -= np.outer(ld[k + 2 :, k], b[k]) + np.outer(ld[k + 2 :, k + 1], b[k + 1])
            off = ld[k + 1, k]
            d1, d2 = ld[k, k] / off, ld[k + 1, k + 1] / off
            denom = d1 * d2 - 1
            b1, b2 = b[k] / off, b[k + 1] / off
            b[k], b[k + 1] = (d2 * b1 - b2) / denom, (d1 * b2 - b1) / denom
            k += 2
    k = n - 1
    while k >= 0:  # L^T x = y, then the interchanges undone
        if piv[k] > 0:
            b[k] -= ld[k + 1 :, k] @ b[k + 1 :]
            kp = piv[k] - 1
            b[[k, kp]] = b[[kp, k]]
            k -= 1
        else:
            b[k] -= ld[k + 1 :, k] @ b[k + 1 :]
            b[k - 1] -= ld[k + 1 :, k - 1] @ b[k + 1 :]
            kp = -piv[k] - 1
            b[[k, kp]] = b[[kp, k]]
            k -= 2
    return b


class _NoDerivative(Function):
    """A result computed on the host whose backward raises, as torch's does for these."""

    @lapack("linalg.ldl_factor")
    def forward(self, *arrays, fn, compute, report):
        hosts = [to_host(self.be, a) for a in arrays]
        out = compute(*hosts)
        report.extend(out[1:])
        self.fn = fn
        return to_device(self.be, out[0], hosts[0].dtype)

    def backward(self, g):
        raise RuntimeError(f"{self.fn}: the derivative is not implemented, as in torch")


def _factor(A, hermitian, fn, check):
    matrix_input(A, fn, square=True, half_error=NotImplementedError)
    report = []
    ld = _NoDerivative.apply(A, fn=fn, compute=ldl_host, report=report)
    piv, info = report
    if check and info.any():
        i = int(np.flatnonzero(info.reshape(-1))[0])
        j = int(info.reshape(-1)[i])
        raise LinAlgError(
            f"{fn}: {batch_prefix(info[..., None, None], i)}D[{j},{j}] is exactly zero, so the "
            f"factorization cannot be used to solve (A: {describe(A)}); ldl_factor_ex reports "
            "this in info instead"
        )
    return ld, like(A, piv), like(A, info)


def ldl_factor(A, *, hermitian=False, out=None):
    """(LD, pivots) with P A P^T = L D L^T from A's lower triangle (A symmetric, (*, n, n)):
    L unit lower triangular below LD's diagonal, D block diagonal with 1 x 1 and 2 x 2 blocks on
    and next to it; pivots int32 in LAPACK's convention. A zero D[k, k] raises LinAlgError."""
    if out is not None:
        raise TypeError("linalg.ldl_factor: out= is not supported; assign the results instead")
    ld, piv, _ = _factor(A, hermitian, "linalg.ldl_factor", True)
    return ldl_factor_result(ld, piv)


def ldl_factor_ex(A, *, hermitian=False, check_errors=False, out=None):
    """(LD, pivots, info): ldl_factor reporting the first zero D[k, k] (1-based, 0 if none) in
    info (int32, shape (*)) instead of raising, unless ``check_errors``."""
    if out is not None:
        raise TypeError("linalg.ldl_factor_ex: out= is not supported; assign the results instead")
    return ldl_factor_ex_result(*_factor(A, hermitian, "linalg.ldl_factor_ex", bool(check_errors)))


def _solve_all(ld, piv, b):
    out = np.empty(b.shape, np.result_type(ld, b))
    flat_ld, flat_b, flat_out = per_matrix(ld), per_matrix(b), per_matrix(out)
    flat_piv = piv.reshape(-1, piv.shape[-1])
    for i in range(flat_b.shape[0]):
        flat_out[i] = _solve_one(flat_ld[i], flat_piv[i], flat_b[i])
    return (out,)


def ldl_solve(LD, pivots, B, *, hermitian=False, out=None):
    """X with A X = B for A given as ldl_factor's (LD, pivots); LD (*, n, n), B (*, n, k),
    batches broadcast."""
    fn = "linalg.ldl_solve"
    matrix_input(LD, fn, "LD", square=True)
    matrix_input(B, fn, "B")
    tensor_arg(pivots, fn, "pivots")
    if pivots._data.dtype.kind not in "iu":
        raise RuntimeError(f"{fn}: pivots must be an integer tensor, got {describe(pivots)}")
    if tuple(pivots.shape) != tuple(LD.shape[:-1]):
        raise RuntimeError(
            f"{fn}: pivots must have shape LD.shape[:-1] = {list(LD.shape[:-1])}, got "
            f"{describe(pivots)}"
        )
    if LD._data.dtype != B._data.dtype:
        raise RuntimeError(
            f"{fn}: expected LD and B to have the same dtype, got LD of {describe(LD)} and B of "
            f"{describe(B)}"
        )
    n = LD.shape[-1]
    if B.shape[-2] != n:
        raise RuntimeError(
            f"{fn}: incompatible shapes of A and B for the equation AX = B ({n}x{n} and "
            f"{B.shape[-2]}x{B.shape[-1]}); LD: {describe(LD)}, B: {describe(B)}"
        )
    piv = np.asarray(pivots._backend().to_numpy(pivots._data)).astype(np.int64)
    if piv.size and (np.abs(piv).min() < 1 or np.abs(piv).max() > n):
        raise RuntimeError(f"{fn}: the pivots must lie in [-{n}, -1] or [1, {n}]")
    batch = batch_shape(LD.shape[:-2], B.shape[:-2], fn, LD, B, ("LD", "B"))
    LDe, Be = LD.expand(*batch, n, n), B.expand(*batch, *B.shape[-2:])
    pive = np.ascontiguousarray(np.broadcast_to(piv, (*batch, n)))
    X = _NoDerivative.apply(
        LDe, Be, fn=fn, compute=lambda ld, b: _solve_all(ld, pive, b), report=[]
    )
    return with_out(out, fn, X, LD, pivots, B)


__all__ = ["ldl_factor", "ldl_factor_ex", "ldl_solve"]
