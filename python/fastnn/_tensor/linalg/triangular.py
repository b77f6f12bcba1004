"""Triangular solves: solve_triangular (torch.linalg) and the older triangular_solve, beside
their primitive and the host substitution the LU functions reuse.

numpy.linalg has no triangular solver (LAPACK's trtrs is not exposed), so ``lower_solve`` is a
blocked forward substitution in numpy, vectorised over the batch and the right-hand sides: the
rows of a block are solved one by one, then one GEMM removes the block from the rows below. An
upper system is the lower one with its rows and columns reversed. Only the triangle named is
read, and a zero on the diagonal gives inf / NaN rather than an error, as in torch.

Gradient of X = A^{-1} B (A triangular): gB = A^{-T} G (a solve with the other triangle) and
gA = -gB X^T, kept to A's triangle (strictly, with ``unitriangular``), since only it is read.
"""

import numpy as np

from ..._core import dtype as _dtype
from ...autograd.function import Function
from .common import (
    batch_shape,
    describe,
    lapack,
    matrix_input,
    swap,
    to_device,
    to_host,
    with_out,
)

_BLOCK = 64  # rows solved one by one before a GEMM updates the rest


def lower_solve(low, b, unit=False):
    """[host] X with L X = B for the lower triangles of ``low`` (..., n, n) and ``b`` (..., n, k)
    of one batch shape; ``unit``: L's diagonal is taken as ones."""
    x = np.array(b, dtype=np.result_type(low, b), copy=True)
    n = low.shape[-1]
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        for i in range(start, stop):
            if i > start:  # the rows of this block solved so far
                x[..., i, :] -= np.einsum(
                    "...j,...jk->...k", low[..., i, start:i], x[..., start:i, :]
                )
            if not unit:
                x[..., i, :] /= low[..., i, i, None]
        if stop < n:
            x[..., stop:, :] -= low[..., stop:, start:stop] @ x[..., start:stop, :]
    return x


def triangular_solve_host(a, b, upper, unit=False):
    """[host] X with A X = B for the upper or lower triangle of ``a``."""
    if not upper:
        return lower_solve(a, b, unit)
    flip = a[..., ::-1, ::-1]  # reversing rows and columns turns upper into lower
    return lower_solve(flip, b[..., ::-1, :], unit)[..., ::-1, :]


def triangle(h, upper, unit):
    """The part of ``h`` that a solve with that triangle reads (the rest zeroed)."""
    k = 1 if unit else 0
    return np.triu(h, k) if upper else np.tril(h, -k)


class SolveTriangular(Function):
    """X with A X = B, A (*, n, n) triangular and B (*, n, k) of the same batch shape."""

    @lapack("linalg.solve_triangular")
    def forward(self, a, b, *, upper, unit):
        ha, hb = to_host(self.be, a), to_host(self.be, b)
        x = triangular_solve_host(ha, hb, upper, unit)
        if self.requires_grad:
            self.a, self.x, self.upper, self.unit = ha, x, upper, unit
        return to_device(self.be, x, ha.dtype)

    @lapack("linalg.solve_triangular")
    def backward(self, g):
        need_a, need_b = self.needs_input_grad
        gb = triangular_solve_host(swap(self.a), to_host(self.be, g), not self.upper, self.unit)
        ga = None
        if need_a:
            ga = to_device(self.be, triangle(-(gb @ swap(self.x)), self.upper, self.unit), gb.dtype)
        return ga, (to_device(self.be, gb, gb.dtype) if need_b else None)


# ---- the functions -------------------------------------------------------------------------------


def _common_dtype(A, B):
    """A and B in their promoted dtype (torch promotes float32 with float64 here)."""
    dt = _dtype.promote(A._data.dtype, B._data.dtype)
    return (A if A._data.dtype == dt else A.to(dt)), (B if B._data.dtype == dt else B.to(dt))


def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    """X with A X = B (``left=False``: X A = B) for A (*, n, n) triangular: its upper triangle
    when ``upper``, else its lower one (the other is not read); ``unitriangular``: its diagonal
    is taken as ones. B is (*, n, k) (``left=False``: (*, k, n)); batches broadcast."""
    fn = "linalg.solve_triangular"
    matrix_input(A, fn, square=True, int_error=NotImplementedError)
    matrix_input(B, "linalg.solve_triangular", "B", int_error=NotImplementedError)
    A, B = _common_dtype(A, B)
    n = A.shape[-1]
    if B.shape[-2 if left else -1] != n:
        raise RuntimeError(
            f"{fn}: incompatible shapes of A and B for the equation "
            f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {B.shape[-2]}x{B.shape[-1]}); "
            f"A: {describe(A)}, B: {describe(B)}"
        )
    batch = batch_shape(A.shape[:-2], B.shape[:-2], fn, A, B)
    Ae, Be = A.expand(*batch, n, n), B.expand(*batch, *B.shape[-2:])
    if left:
        X = SolveTriangular.apply(Ae, Be, upper=bool(upper), unit=bool(unitriangular))
    else:  # X A = B is A^T X^T = B^T, and A^T has the other triangle
        X = SolveTriangular.apply(Ae.mT, Be.mT, upper=not upper, unit=bool(unitriangular)).mT
    return with_out(out, fn, X, A, B)


__all__ = ["solve_triangular"]
