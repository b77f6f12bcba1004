"""Solves with an LU factorization: lu_solve (from lu_factor's LU and pivots) and solve_ex (the
factorization and the solve, reporting a singular matrix in info instead of raising).

Both are compositions: A = P L U gives A X = B as X = U^{-1} L^{-1} (P^T B), a row gather and
two triangular solves that read the two triangles of the one packed LU, so their gradients add
up to LU's gradient with no formula of their own (and solve_ex's reaches A through lu_factor's
backward). A^T X = B (``adjoint``) is X = P L^{-T} U^{-T} B, and X A = B (``left=False``) is
the adjoint system of X^T.
"""

import numpy as np

from ..._core.return_types import return_type as _return_type
from .common import (
    LinAlgError,
    batch_prefix,
    batch_shape,
    describe,
    floating,
    like,
    matrix_input,
    tensor_arg,
    with_out,
)
from .lu import _is_vector_rhs
from .lu_factor import LUFactor, permutation, pivots_input
from .triangular import solve_triangular

solve_ex_result = _return_type("linalg_solve_ex", ["result", "info"])


def _rows(B, perm):
    """B (*, n, k) with its rows gathered by ``perm`` (*, n): B[..., perm, :]."""
    index = like(B, np.ascontiguousarray(np.broadcast_to(perm[..., None], B.shape)))
    return B.gather(-2, index)


def _solve_left(LU, perm, B, adjoint):
    """X with A X = B (``adjoint``: A^T X = B) for A = P L U, all of one batch shape."""
    if not adjoint:
        y = solve_triangular(LU, _rows(B, perm), upper=False, unitriangular=True)
        return solve_triangular(LU, y, upper=True)
    y = solve_triangular(LU.mT, B, upper=False)  # U^T y = B
    z = solve_triangular(LU.mT, y, upper=True, unitriangular=True)  # L^T z = y
    return _rows(z, np.argsort(perm, axis=-1))  # P z


def _check_rhs(LU, B, left, fn, name="LU"):
    matrix_input(B, fn, "B", int_error=NotImplementedError)
    if LU._data.dtype != B._data.dtype:
        raise RuntimeError(
            f"{fn}: expected {name} and B to have the same dtype, got {name} of {describe(LU)} "
            f"and B of {describe(B)}"
        )
    n = LU.shape[-1]
    if B.shape[-2 if left else -1] != n:
        raise RuntimeError(
            f"{fn}: incompatible shapes of A and B for the equation "
            f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {B.shape[-2]}x{B.shape[-1]}); "
            f"{name}: {describe(LU)}, B: {describe(B)}"
        )


def _solve(LU, piv, B, left, adjoint, fn):
    """The solve on checked arguments; ``piv`` is the host pivots of LU's batch."""
    n = LU.shape[-1]
    batch = batch_shape(LU.shape[:-2], B.shape[:-2], fn, LU, B, ("LU", "B"))
    perm = np.broadcast_to(permutation(piv, n), (*batch, n))
    LUe, Be = LU.expand(*batch, n, n), B.expand(*batch, *B.shape[-2:])
    if left:
        return _solve_left(LUe, perm, Be, adjoint)
    return _solve_left(LUe, perm, Be.mT, not adjoint).mT


def lu_solve(LU, pivots, B, *, left=True, adjoint=False, out=None):
    """X with A X = B for A = P L U given as lu_factor's (LU, pivots); ``adjoint``: A^T X = B;
    ``left=False``: X A = B. LU (*, n, n), B (*, n, k) (``left=False``: (*, k, n)); batches
    broadcast."""
    fn = "linalg.lu_solve"
    matrix_input(LU, fn, "LU", square=True, int_error=NotImplementedError)
    piv = pivots_input(pivots, LU, fn)
    _check_rhs(LU, B, left, fn)
    return with_out(out, fn, _solve(LU, piv, B, bool(left), bool(adjoint), fn), LU, pivots, B)


def solve_ex(A, B, *, left=True, check_errors=False, out=None):
    """(result, info): linalg.solve that reports a singular A in info (int32, shape (*): the
    first zero pivot, 1-based, or 0) instead of raising, unless ``check_errors``; a singular
    matrix's result holds infinities or NaN."""
    fn = "linalg.solve_ex"
    if out is not None:
        raise TypeError(f"{fn}: out= is not supported; assign the results instead")
    matrix_input(A, fn, square=True, half_error=NotImplementedError)
    floating(tensor_arg(B, fn, "B"), fn, "B", int_error=NotImplementedError)
    vector = _is_vector_rhs(A, B)
    Bm = B.unsqueeze(-1) if vector else B
    _check_rhs(A, Bm, left, fn, "A")
    report = []
    LU = LUFactor.apply(A, fn=fn, check=False, report=report)
    piv, info = report
    if check_errors and info.any():
        i = int(np.flatnonzero(info.reshape(-1))[0])
        raise LinAlgError(
            f"{fn}: {batch_prefix(info[..., None, None], i)}the solver failed because the input "
            f"matrix is singular (A: {describe(A)})"
        )
    X = _solve(LU, piv, Bm, bool(left), False, fn)
    return solve_ex_result(X.squeeze(-1) if vector else X, like(A, info))


__all__ = ["lu_solve", "solve_ex"]
