"""The pseudoinverse and least squares (pinv, lstsq, matrix_rank), with their primitives.

pinv is V diag(1/s) U^T over the singular values above the cutoff max(atol, rtol * s_max) (torch's
defaults: rtol = eps * max(m, n) unless atol > 0 is given); ``hermitian=True`` uses the
eigenvalues' magnitudes instead. Its gradient is the derivative of the pseudoinverse of a matrix
of locally constant rank, so repeated or dropped singular values need no special care.

lstsq solves every matrix of the batch with numpy.linalg.lstsq (LAPACK's gelsd, the SVD), which
returns the minimum-norm solution, the one torch's drivers return for a matrix of full rank (and,
for gelsy, gelsd and gelss, for one of lower rank too). The other results are filled as torch's
CPU drivers fill them: residuals (the squared column norms of A X - B, differentiable) for
gels, gelsd and gelss when m > n (for gelsd and gelss only if every matrix has full rank), rank
for gelsy, gelsd and gelss, singular_values for gelsd and gelss; an empty tensor otherwise. The
solution's gradient is that of pinv(A) @ B.
"""

import numpy as np

from ...autograd.function import Function
from ..logic import _host
from .common import (
    batch_shape,
    describe,
    floating,
    lapack,
    like,
    lstsq_result,
    matrix_input,
    not_converged,
    per_matrix,
    same_dtype,
    swap,
    tensor_arg,
    to_device,
    to_host,
    with_out,
)


def _cutoff(top, atol, rtol, shape, dtype):
    """max(atol, rtol * top) per matrix, with torch's defaults for the tolerances left out."""
    if rtol is None:
        small_atol = atol is None or np.all(np.asarray(atol) <= 0)
        rtol = np.finfo(dtype).eps * max(shape[-2:]) if small_atol else 0.0
    return np.maximum(0.0 if atol is None else atol, rtol * top)


def _inverted(values, keep):
    """1 / values where ``keep``, else 0."""
    return np.where(keep, 1 / np.where(keep, values, 1), 0).astype(values.dtype)


def pinv_host(h, atol, rtol, hermitian):
    """The pseudoinverse (*, n, m) of ``h`` (*, m, n) on the host."""
    batch, (m, n) = h.shape[:-2], h.shape[-2:]
    if m == 0 or n == 0:
        return np.zeros((*batch, n, m), h.dtype)
    if hermitian:
        w, v = np.linalg.eigh(h)
        keep = np.abs(w) > _cutoff(np.abs(w).max(-1), atol, rtol, h.shape, h.dtype)[..., None]
        return (v * _inverted(w, keep)[..., None, :]) @ swap(v)
    u, s, vh = np.linalg.svd(h, full_matrices=False)
    keep = s > _cutoff(s[..., 0], atol, rtol, h.shape, h.dtype)[..., None]
    return (swap(vh) * _inverted(s, keep)[..., None, :]) @ swap(u)


def pinv_backward(a, p, g):
    """gA for P = pinv(A) of locally constant rank, from
    dP = -P dA P + P P^T dA^T (I - A P) + (I - P A) dA^T P^T P:
    gA = -P^T G P^T + (I - A P) G^T P P^T + P^T P G^T (I - P A)."""
    pt, gt = swap(p), swap(g)
    ga = -(pt @ g @ pt)
    ga += (gt - a @ (p @ gt)) @ (p @ pt)
    ga += (pt @ p) @ (gt - (gt @ p) @ a)
    return ga


class Pinv(Function):
    """The pseudoinverse (*, n, m) of A (*, m, n)."""

    save_inputs = True
    save_output = True

    @lapack("linalg.pinv")
    def forward(self, a, *, atol, rtol, hermitian):
        h = to_host(self.be, a)
        p = pinv_host(h, atol, rtol, hermitian)
        if self.requires_grad:
            self.a, self.p = h, p
        return to_device(self.be, p, h.dtype)

    @lapack("linalg.pinv")
    def backward(self, g):
        return to_device(self.be, pinv_backward(self.a, self.p, to_host(self.be, g)), self.a.dtype)


class Lstsq(Function):
    """The minimum-norm X with A X closest to B, for A (*, m, n) and B (*, m, k) of the same
    batch shape; ``report`` (a list) receives (ranks, singular values)."""

    save_inputs = True

    @lapack("linalg.lstsq")
    def forward(self, a, b, *, rcond, report):
        ha, hb = to_host(self.be, a), to_host(self.be, b)
        if not np.isfinite(ha).all():  # refused before LAPACK, which would complain on stderr
            raise not_converged("linalg.lstsq", ha, None)
        batch, (m, n), k = ha.shape[:-2], ha.shape[-2:], hb.shape[-1]
        fa, fb = per_matrix(ha), per_matrix(hb)
        x = np.zeros((fa.shape[0], n, k), ha.dtype)
        ranks = np.zeros(fa.shape[0], np.int64)
        values = np.zeros((fa.shape[0], min(m, n)), ha.dtype)
        if m and n:
            for i in range(fa.shape[0]):
                x[i], _, ranks[i], values[i] = np.linalg.lstsq(fa[i], fb[i], rcond=rcond)
        report.append((ranks.reshape(batch), values.reshape(*batch, min(m, n))))
        if self.requires_grad:
            self.a, self.b, self.rcond = ha, hb, rcond
        return to_device(self.be, x.reshape(*batch, n, k), ha.dtype)

    @lapack("linalg.lstsq")
    def backward(self, g):
        # X = P B with P = pinv(A) (the cutoff the solver used): gB = P^T G, and P receives G B^T
        a, b = self.a, self.b
        p = pinv_host(a, 0.0, self.rcond, False)
        gx = to_host(self.be, g)
        need_a, need_b = self.needs_input_grad
        ga = to_device(self.be, pinv_backward(a, p, gx @ swap(b)), a.dtype) if need_a else None
        return ga, (to_device(self.be, swap(p) @ gx, a.dtype) if need_b else None)


# ---- the functions -------------------------------------------------------------------------------


def _tolerance(x, fn, arg):
    """atol / rtol: None, a number, or a tensor broadcastable to the batch (on the host)."""
    if x is None:
        return None
    if isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool):
        return float(x)
    if hasattr(x, "_data"):
        return _host(x).astype(np.float64)
    raise TypeError(
        f"{fn}(): argument '{arg}' must be a number or a Tensor, not {type(x).__name__}"
    )


def pinv(input, *, atol=None, rtol=None, hermitian=False, out=None):
    """The pseudoinverse (*, n, m) of A (*, m, n): singular values (``hermitian``: eigenvalue
    magnitudes) at most max(atol, rtol * largest) count as zero."""
    fn, A = "linalg.pinv", input
    matrix_input(A, fn)
    res = Pinv.apply(
        A,
        atol=_tolerance(atol, fn, "atol"),
        rtol=_tolerance(rtol, fn, "rtol"),
        hermitian=bool(hermitian),
    )
    return with_out(out, fn, res, A)


def matrix_rank(input, *, atol=None, rtol=None, hermitian=False, out=None):
    """The number of singular values (``hermitian``: eigenvalue magnitudes) of each matrix of A
    above max(atol, rtol * largest), int64 of shape (*); no gradient."""
    fn, A = "linalg.matrix_rank", input
    matrix_input(A, fn)
    h = _host(A)
    if 0 in h.shape[-2:]:
        rank = np.zeros(h.shape[:-2], np.int64)
    else:
        try:
            with np.errstate(all="ignore"):
                s = np.linalg.eigvalsh(h) if hermitian else np.linalg.svd(h, compute_uv=False)
        except np.linalg.LinAlgError as e:
            raise not_converged(fn, h, e) from None
        s = np.abs(s)
        atol, rtol = _tolerance(atol, fn, "atol"), _tolerance(rtol, fn, "rtol")
        cut = _cutoff(s.max(-1), atol, rtol, h.shape, h.dtype)
        rank = (s > cut[..., None]).sum(-1).astype(np.int64)
    return with_out(out, fn, like(A, rank), A)


_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def lstsq(input, b, rcond=None, *, driver=None):
    """(solution, residuals, rank, singular_values) of min ||A X - B|| for A = ``input``
    (*, m, n) and B = ``b`` (*, m, k), or (*, m) (one dimension fewer than A); batches
    broadcast."""
    fn, A, B = "linalg.lstsq", input, b
    matrix_input(A, fn)
    floating(tensor_arg(B, fn, "B"), fn, "B", half_error=RuntimeError)
    same_dtype(A, B, fn)
    driver = "gelsy" if driver is None else driver
    if driver not in _DRIVERS:
        raise RuntimeError(
            f"{fn}: parameter `driver` should be one of ({', '.join(_DRIVERS)}), got {driver!r}"
        )
    if not 0 <= A.ndim - B.ndim <= 1:
        raise RuntimeError(
            f"{fn}: A.dim() must be greater or equal to B.dim() and (A.dim() - B.dim()) <= 1; A: "
            f"{describe(A)}, B: {describe(B)}"
        )
    vector = B.ndim == A.ndim - 1
    Bm = B.unsqueeze(-1) if vector else B
    (m, n), k = A.shape[-2:], Bm.shape[-1]
    if Bm.shape[-2] != m:
        raise RuntimeError(
            f"{fn}: A.size(-2) should match B.size({-1 if vector else -2}); A: {describe(A)}, "
            f"B: {describe(B)}"
        )
    batch = batch_shape(A.shape[:-2], Bm.shape[:-2], fn, A, B)
    Ae, Be = A.expand(*batch, m, n), Bm.expand(*batch, m, k)
    dt = A._data.dtype
    cut = np.finfo(dt).eps * max(m, n) if rcond is None else float(rcond)
    report = []
    X = Lstsq.apply(Ae, Be, rcond=cut, report=report)
    ranks, values = report[0]
    empty = like(A, np.zeros((0,), dt))
    full_rank = driver == "gels" or bool(np.all(ranks == n))
    reports = m > n and driver != "gelsy" and full_rank
    residuals = ((Ae @ X - Be) ** 2).sum(-2) if reports else empty
    rank = like(A, np.zeros((0,), np.int64)) if driver == "gels" else like(A, ranks)
    sv = like(A, values) if driver in ("gelsd", "gelss") else empty
    return lstsq_result(X.squeeze(-1) if vector else X, residuals, rank, sv)


__all__ = ["lstsq", "matrix_rank", "pinv"]
