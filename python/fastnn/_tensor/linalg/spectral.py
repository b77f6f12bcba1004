"""The singular value and symmetric eigenvalue decompositions (svd, svdvals, eigh, eigvalsh),
each beside its primitive, on numpy.linalg's LAPACK drivers (gesdd, syevd).

The singular vectors and eigenvectors are unique only up to sign (a column of U with the same
row of Vh; an eigenvector), and LAPACK builds differ in the sign they pick: compare them with
torch through sign-free quantities (U diag(S) Vh, |V|...). Their gradients assume distinct
singular values / eigenvalues (the formulas divide by the differences, as torch's do) and
nonzero singular values where U or Vh of a non-square matrix are used. A loss that depends on
the signs themselves has no gradient; the formulas return that of the vectors LAPACK returned.
With full_matrices=True the columns of U (rows of Vh) past min(m, n) are not determined by A,
and their gradient is ignored, as in torch. eigh's gradient is the symmetric matrix torch
returns (A is taken as symmetric: only one triangle is read).
"""

import numpy as np

from ...autograd.function import Function
from .common import (
    eigh_result,
    lapack,
    matrix_input,
    pack,
    svd_result,
    swap,
    to_device,
    to_host,
    unpack,
    unpack_host,
    with_out,
)


def _gaps(values):
    """F with F_ij = 1 / (values_j - values_i) off the diagonal, 0 on it."""
    diff = values[..., None, :] - values[..., :, None]
    off = ~np.eye(values.shape[-1], dtype=bool)
    with np.errstate(divide="ignore"):  # equal values: an infinite gradient, as in torch
        return np.where(off, 1 / np.where(off, diff, 1), 0)


def svd_backward(u, s, vh, gu, gs, gvh):
    """gA for A = U diag(S) Vh (reduced: U (m, k), Vh (k, n)). With F_ij = 1/(s_j^2 - s_i^2)
    and V = Vh^T:
    gA = U [diag(gS) + (F o (U^T gU - gU^T U)) S + S (F o (V^T gV - gV^T V))] Vh
       + (I - U U^T) gU S^{-1} Vh + U S^{-1} gV^T (I - V V^T)."""
    k = s.shape[-1]
    core = np.zeros((*s.shape, k), s.dtype)
    core[..., range(k), range(k)] = gs
    use_u, use_v = bool(np.any(gu)), bool(np.any(gvh))
    if use_u or use_v:
        f = _gaps(s * s)
    if use_u:
        utgu = swap(u) @ gu
        core += (f * (utgu - swap(utgu))) * s[..., None, :]
    if use_v:
        vtgv = vh @ swap(gvh)  # V^T gV
        core += s[..., :, None] * (f * (vtgv - swap(vtgv)))
    ga = u @ core @ vh
    with np.errstate(divide="ignore", invalid="ignore"):  # a zero singular value: inf, as torch
        if use_u and u.shape[-2] > k:
            ga += ((gu - u @ utgu) / s[..., None, :]) @ vh
        if use_v and vh.shape[-1] > k:
            ga += (u / s[..., None, :]) @ (gvh - swap(vtgv) @ vh)  # ((I - V V^T) gV)^T
    return ga


class SVD(Function):
    """U, S, Vh of A (*, m, n) packed (see common.pack)."""

    @lapack("linalg.svd")
    def forward(self, a, *, full_matrices):
        h = to_host(self.be, a)
        u, s, vh = np.linalg.svd(h, full_matrices=full_matrices)
        if self.requires_grad:
            self.u, self.s, self.vh = u, s, vh
        return to_device(self.be, pack([u, s, vh], h.shape[:-2]), h.dtype)

    @lapack("linalg.svd")
    def backward(self, g):
        u, s, vh = self.u, self.s, self.vh
        shapes = (u.shape[-2:], s.shape[-1:], vh.shape[-2:])
        gu, gs, gvh = unpack_host(to_host(self.be, g), s.shape[:-1], shapes)
        k = s.shape[-1]  # full_matrices: the columns past k are left out, as in torch
        ga = svd_backward(u[..., :k], s, vh[..., :k, :], gu[..., :k], gs, gvh[..., :k, :])
        return to_device(self.be, ga, s.dtype)


class SvdVals(Function):
    """The singular values (*, k), descending; U and V are computed only for the gradient."""

    @lapack("linalg.svd")
    def forward(self, a):
        h = to_host(self.be, a)
        if self.requires_grad:
            self.u, s, self.vh = np.linalg.svd(h, full_matrices=False)
        else:
            s = np.linalg.svd(h, compute_uv=False)
        return to_device(self.be, s, h.dtype)

    @lapack("linalg.svd")
    def backward(self, g):
        # dS = diag(U^T dA V): gA = U diag(gS) Vh
        gs = to_host(self.be, g)
        return to_device(self.be, (self.u * gs[..., None, :]) @ self.vh, self.u.dtype)


def eigh_backward(w, v, gw, gv):
    """gA for A = V diag(w) V^T: V^T dA V = Omega W - W Omega + dW with Omega = V^T dV skew, so
    gA = V (diag(gw) + F o (V^T gV)) V^T, F_ij = 1/(w_j - w_i); the symmetric part of that is
    V (diag(gw) + F o (M - M^T)/2) V^T with M = V^T gV."""
    n = w.shape[-1]
    core = np.zeros((*w.shape, n), w.dtype)
    core[..., range(n), range(n)] = gw
    if np.any(gv):
        m = swap(v) @ gv
        core += _gaps(w) * (0.5 * (m - swap(m)))
    return v @ core @ swap(v)


class Eigh(Function):
    """Eigenvalues (*, n) ascending and eigenvectors (*, n, n) of symmetric A, packed."""

    @lapack("linalg.eigh")
    def forward(self, a, *, uplo):
        h = to_host(self.be, a)
        w, v = np.linalg.eigh(h, UPLO=uplo)
        if self.requires_grad:
            self.w, self.v = w, v
        return to_device(self.be, pack([w, v], h.shape[:-2]), h.dtype)

    @lapack("linalg.eigh")
    def backward(self, g):
        w, v = self.w, self.v
        gw, gv = unpack_host(to_host(self.be, g), w.shape[:-1], (w.shape[-1:], v.shape[-2:]))
        return to_device(self.be, eigh_backward(w, v, gw, gv), w.dtype)


class Eigvalsh(Function):
    """The eigenvalues (*, n) of symmetric A, ascending; V only for the gradient."""

    @lapack("linalg.eigh")
    def forward(self, a, *, uplo):
        h = to_host(self.be, a)
        if self.requires_grad:
            w, self.v = np.linalg.eigh(h, UPLO=uplo)
        else:
            w = np.linalg.eigvalsh(h, UPLO=uplo)
        return to_device(self.be, w, h.dtype)

    @lapack("linalg.eigh")
    def backward(self, g):
        # dw = diag(V^T dA V): gA = V diag(gw) V^T
        v, gw = self.v, to_host(self.be, g)
        return to_device(self.be, (v * gw[..., None, :]) @ swap(v), v.dtype)


# ---- the functions -------------------------------------------------------------------------------


def _no_driver(A, driver, fn):
    if driver is not None:
        raise RuntimeError(
            f"{fn}: keyword argument `driver=` is only supported on CUDA inputs with cuSOLVER "
            f"in torch, and fastnn computes the SVD with LAPACK; got driver={driver!r}"
        )


def svd(A, full_matrices=True, *, driver=None):
    """(U, S, Vh) with A = U diag(S) Vh, A (*, m, n), k = min(m, n): S (*, k) descending;
    U (*, m, m) and Vh (*, n, n), or (*, m, k) and (*, k, n) with ``full_matrices=False``."""
    fn = "linalg.svd"
    matrix_input(A, fn, half_error=NotImplementedError)
    _no_driver(A, driver, fn)
    m, n = A.shape[-2], A.shape[-1]
    k = min(m, n)
    mu, nv = (m, n) if full_matrices else (k, k)
    packed = SVD.apply(A, full_matrices=bool(full_matrices))
    return svd_result(*unpack(packed, tuple(A.shape[:-2]), ((m, mu), (k,), (nv, n))))


def svdvals(A, *, driver=None, out=None):
    """The singular values of A (*, m, n): (*, min(m, n)), descending."""
    fn = "linalg.svdvals"
    matrix_input(A, fn, half_error=NotImplementedError)
    _no_driver(A, driver, fn)
    return with_out(out, fn, SvdVals.apply(A), A)


def _uplo(UPLO):
    if not isinstance(UPLO, str) or UPLO.upper() not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return UPLO.upper()


def eigh(input, UPLO="L"):
    """(eigenvalues, eigenvectors) of the symmetric matrices A (*, n, n), read from the lower
    triangle (``UPLO='U'``: the upper one): eigenvalues (*, n) ascending, eigenvectors (*, n, n)
    as columns."""
    fn, A = "linalg.eigh", input
    matrix_input(A, fn, square=True, int_error=NotImplementedError, half_error=NotImplementedError)
    n = A.shape[-1]
    packed = Eigh.apply(A, uplo=_uplo(UPLO))
    return eigh_result(*unpack(packed, tuple(A.shape[:-2]), ((n,), (n, n))))


def eigvalsh(input, UPLO="L", *, out=None):
    """The eigenvalues (*, n) of the symmetric matrices A (*, n, n), ascending."""
    fn, A = "linalg.eigvalsh", input
    matrix_input(A, fn, square=True, int_error=NotImplementedError, half_error=NotImplementedError)
    return with_out(out, fn, Eigvalsh.apply(A, uplo=_uplo(UPLO)), A)


__all__ = ["eigh", "eigvalsh", "svd", "svdvals"]
