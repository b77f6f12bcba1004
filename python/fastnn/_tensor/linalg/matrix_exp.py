"""The matrix exponential (linalg.matrix_exp) beside its primitive.

numpy has no expm, so ``expm_host`` scales and squares: each matrix is divided by 2^s so that its
1-norm is at most 1/2, a degree-18 Taylor polynomial (Horner's rule) gives exp of that, and s
squarings undo the scaling. The truncation error 0.5^19 / 19! is far below float64's rounding,
and the work runs in float64 whatever the dtype, the result rounded once to it.

Gradient: for exp(A) the gradient is the upper-right block of exp([[A^T, G], [0, A^T]]) (the
derivative of exp along G, read off a block-triangular exponential), one call of twice the
order.
"""

import numpy as np

from ...autograd.function import Function
from .common import lapack, matrix_input, swap, to_device, to_host

_DEGREE = 18
_NORM = 0.5  # the 1-norm each matrix is scaled to before the Taylor polynomial


def expm_host(h):
    """[host] exp of the matrices of ``h`` (..., n, n), in float64."""
    a = np.asarray(h, np.float64)
    n = a.shape[-1]
    if a.size == 0:
        return a.copy()
    norm = np.abs(a).sum(-2).max(-1)
    with np.errstate(divide="ignore"):
        s = np.ceil(np.log2(norm / _NORM))
    s = np.where(np.isfinite(s) & (s > 0), s, 0).astype(np.int64)
    a = a / np.exp2(s)[..., None, None]
    eye = np.broadcast_to(np.eye(n), a.shape)
    r = eye.copy()
    for k in range(_DEGREE, 0, -1):
        r = eye + (a @ r) / k
    for j in range(int(s.max(initial=0))):
        more = s > j
        r[more] = r[more] @ r[more]
    return r


class MatrixExp(Function):
    """exp(A) of square matrices (*, n, n)."""

    @lapack("linalg.matrix_exp")
    def forward(self, a):
        h = to_host(self.be, a)
        if self.requires_grad:
            self.a = h
        return to_device(self.be, expm_host(h), h.dtype)

    @lapack("linalg.matrix_exp")
    def backward(self, g):
        at = swap(self.a)
        n = at.shape[-1]
        block = np.zeros((*at.shape[:-2], 2 * n, 2 * n))
        block[..., :n, :n] = at
        block[..., n:, n:] = at
        block[..., :n, n:] = to_host(self.be, g)
        return to_device(self.be, expm_host(block)[..., :n, n:], self.a.dtype)


def matrix_exp(A):
    """exp(A) = sum of A^k / k! for each square matrix of A (*, n, n)."""
    matrix_input(A, "linalg.matrix_exp", square=True)
    return MatrixExp.apply(A)


__all__ = ["matrix_exp"]
