"""The Cholesky and QR factorizations (cholesky / cholesky_ex, qr), each beside its primitive.

cholesky reads one triangle of A, as LAPACK does: the lower one, or the upper one with
``upper=True``; its gradient is the symmetric matrix torch returns (A is taken as symmetric).
numpy does not say which leading minor of a matrix that is not positive-definite fails, so that
matrix's order is found by factoring its leading blocks (a bisection, only on failure).

qr is LAPACK's Householder QR (numpy.linalg.qr), R's diagonal of either sign as in torch. Its
gradient exists for Q and R of mode 'reduced', and of mode 'complete' where m <= n (the same
factors); mode 'r' computes no Q, and a complete Q of a tall matrix is not determined by A, so
their backward raises RuntimeError as torch's does.
"""

import numpy as np

from ..._core import dtype as _dtype
from ...autograd.function import Function
from .common import (
    LinAlgError,
    batch_prefix,
    cholesky_ex_result,
    lapack,
    like,
    matrix_input,
    pack,
    per_matrix,
    qr_result,
    swap,
    to_device,
    to_host,
    unpack,
    unpack_host,
    with_out,
)
from .lu import matmul_stack, recorded_inverse


def _positive_definite(m):
    """Whether numpy factors ``m`` with a finite diagonal (the reference LAPACK stops at a NaN
    pivot as at a negative one, as torch does; numpy's build may carry the NaN on)."""
    try:
        return not np.isnan(np.diagonal(np.linalg.cholesky(m))).any()
    except np.linalg.LinAlgError:
        return False


def _first_failing_minor(m):
    """The order of the first leading minor of ``m`` that is not positive-definite."""
    lo, hi = 1, m.shape[-1]  # the answer lies in [lo, hi]
    while lo < hi:
        mid = (lo + hi) // 2
        if _positive_definite(m[:mid, :mid]):
            lo = mid + 1
        else:
            hi = mid
    return lo


def _cholesky(h, fn, check):
    """(L, info) on the host from the lower triangles of ``h``; info is 0 or the order of the
    leading minor that is not positive-definite, and such a matrix's L is NaN (``check``: raise
    LinAlgError instead)."""
    info = np.zeros(h.shape[:-2], np.int32)
    try:
        low = np.linalg.cholesky(h)
        if not np.isnan(np.diagonal(low, axis1=-2, axis2=-1)).any():
            return low, info
    except np.linalg.LinAlgError:
        pass
    flat = per_matrix(h)
    out = np.empty(flat.shape, h.dtype)
    for i, m in enumerate(flat):
        if _positive_definite(m):
            out[i] = np.linalg.cholesky(m)
            continue
        k = _first_failing_minor(m)
        if check:
            raise LinAlgError(
                f"{fn}: {batch_prefix(h, i)}the factorization could not be completed because "
                f"the input is not positive-definite (the leading minor of order {k} is not "
                f"positive-definite; A: shape {list(h.shape)}, {_dtype.name(h.dtype)})"
            )
        out[i] = np.nan
        info.reshape(-1)[i] = k
    return out.reshape(h.shape), info


class Cholesky(Function):
    """L with A = L L^T (``upper``: U = L^T, from A's upper triangle); ``report`` (a list)
    receives the info array."""

    save_output = True
    double_backward = True

    def graph_saved(self, inputs, out):  # L and L^{-1}, recorded
        low = out.mT if self.upper else out
        return {"low": low, "low_inv": recorded_inverse(low, "linalg.cholesky")}

    @lapack("linalg.cholesky")
    def forward(self, a, *, fn, upper, check, report=None):
        h = to_host(self.be, a)
        low, info = _cholesky(swap(h) if upper else h, fn, check)
        if report is not None:
            report.append(info)
        self.low, self.upper = low, upper
        return to_device(self.be, swap(low) if upper else low, h.dtype)

    @lapack("linalg.cholesky")
    def backward(self, g):
        # A = L L^T gives L^{-1} dA L^{-T} = X + X^T with X = L^{-1} dL lower triangular, so
        # dL = L Phi(L^{-1} dA L^{-T}), Phi = the lower triangle with its diagonal halved. Phi is
        # its own adjoint, hence gA = L^{-T} Phi(L^T G) L^{-1}, then made symmetric.
        low_inv = self.__dict__.get("low_inv")  # given by graph_saved under create_graph=True
        if low_inv is not None:
            return self._recorded_backward(g, self.low, low_inv)
        low = self.low
        gl = to_host(self.be, g)
        if self.upper:
            gl = swap(gl)
        lt = swap(low)
        phi = np.tril(lt @ gl)
        idx = np.arange(low.shape[-1])
        phi[..., idx, idx] *= 0.5
        left = np.linalg.solve(lt, phi)  # L^{-T} Phi
        ga = swap(np.linalg.solve(lt, swap(left)))  # L^{-T} Phi L^{-1}
        return to_device(self.be, 0.5 * (ga + swap(ga)), low.dtype)

    def _recorded_backward(self, g, low, low_inv):
        """The same gradient from L^{-1} by backend calls (recorded: create_graph=True)."""
        be = self.be
        swap_dims = (*range(g.ndim - 2), g.ndim - 1, g.ndim - 2)
        gl = be.permute(g, swap_dims) if self.upper else g
        n = low.shape[-1]
        dtype = getattr(low, "_data", low).dtype  # a Tensor's storage dtype, as numpy's
        half_diagonal = (np.ones((n, n)) - 0.5 * np.eye(n)).astype(dtype)
        phi = be.mul(be.tril(matmul_stack(be, low, gl, trans_a=True), 0), half_diagonal)
        ga = matmul_stack(be, matmul_stack(be, low_inv, phi, trans_a=True), low_inv)
        return be.mul(be.add(ga, be.permute(ga, swap_dims)), 0.5)


def _qr_square_backward(q, r, gq, gr):
    """A = QR with Q (m, n), R (n, n), m >= n. With M = R gR^T - gQ^T Q and copyltu(M) the
    symmetric matrix of M's lower triangle, gA = (gQ + Q copyltu(M)) R^{-T}."""
    m = r @ swap(gr) - swap(gq) @ q
    low = np.tril(m, -1)
    sym = low + swap(low) + np.tril(np.triu(m))
    b = gq + q @ sym
    return swap(np.linalg.solve(r, swap(b)))  # B R^{-T}


def _qr_backward(q, r, gq, gr):
    m, n = q.shape[-2], r.shape[-1]
    if m >= n:
        return _qr_square_backward(q, r, gq, gr)
    # m < n: A = [X | Y] with X = Q R1 (square) and Y = Q R2, so gY = Q gR2 and X sees the
    # extra gradient Y gR2^T on Q
    r1, r2 = r[..., :m], r[..., m:]
    gr1, gr2 = gr[..., :m], gr[..., m:]
    gx = _qr_square_backward(q, r1, gq + (q @ r2) @ swap(gr2), gr1)
    return np.concatenate([gx, q @ gr2], -1)


class QR(Function):
    """Q and R of A (*, m, n) packed (see common.pack); mode 'r': R alone."""

    @lapack("linalg.qr")
    def forward(self, a, *, mode):
        h = to_host(self.be, a)
        if mode == "r":
            self.mode = mode
            return to_device(self.be, np.linalg.qr(h, mode="r"), h.dtype)
        q, r = np.linalg.qr(h, mode=mode)
        if self.requires_grad:
            self.q, self.r, self.mode = q, r, mode
        return to_device(self.be, pack([q, r], h.shape[:-2]), h.dtype)

    @lapack("linalg.qr")
    def backward(self, g):
        if self.mode == "r":
            raise RuntimeError(
                "linalg.qr: the derivative of linalg.qr depends on Q, which is not computed when "
                "mode='r'; use linalg.qr(A, mode='reduced') to differentiate through it"
            )
        q, r = self.q, self.r
        if self.mode == "complete" and q.shape[-2] > r.shape[-1]:
            raise RuntimeError(
                "linalg.qr: the QR decomposition is not differentiable when mode='complete' and "
                f"nrows > ncols (A is {q.shape[-2]} by {r.shape[-1]})"
            )
        batch = q.shape[:-2]
        gq, gr = unpack_host(to_host(self.be, g), batch, (q.shape[-2:], r.shape[-2:]))
        return to_device(self.be, _qr_backward(q, r, gq, gr), q.dtype)


# ---- the functions -------------------------------------------------------------------------------


def checked_cholesky(A, upper, fn, int_error=RuntimeError):
    """``cholesky`` under the name ``fn`` (Tensor.cholesky's integers: NotImplementedError)."""
    matrix_input(A, fn, square=True, int_error=int_error, half_error=NotImplementedError)
    return Cholesky.apply(A, fn=fn, upper=bool(upper), check=True)


def cholesky(input, *, upper=False, out=None):
    """L (*, n, n) lower triangular with A = L L^T, from A's lower triangle (``upper=True``: U
    upper triangular with A = U^T U, from A's upper triangle); ``LinAlgError`` when a matrix is
    not positive-definite."""
    fn = "linalg.cholesky"
    return with_out(out, fn, checked_cholesky(input, upper, fn), input)


def cholesky_ex(input, *, upper=False, check_errors=False):
    """(L, info): info (int32, shape (*)) is 0, or the order of the leading minor that is not
    positive-definite, where L is then NaN; ``check_errors=True`` raises instead."""
    fn, A = "linalg.cholesky_ex", input
    matrix_input(A, fn, square=True, half_error=NotImplementedError)
    report = []
    res = Cholesky.apply(A, fn=fn, upper=bool(upper), check=bool(check_errors), report=report)
    return cholesky_ex_result(res, like(A, report[0]))


def qr(A, mode="reduced"):
    """(Q, R) with A = QR, A (*, m, n), k = min(m, n): 'reduced' Q (*, m, k), R (*, k, n);
    'complete' Q (*, m, m), R (*, m, n); 'r' an empty Q and R (*, k, n)."""
    matrix_input(A, "linalg.qr", half_error=NotImplementedError)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(
            f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), "
            "'r', or 'complete'"
        )
    m, n = A.shape[-2], A.shape[-1]
    if mode == "r":
        return qr_result(like(A, np.empty((0,), A._data.dtype)), QR.apply(A, mode="r"))
    k = m if mode == "complete" else min(m, n)
    batch = tuple(A.shape[:-2])
    q, r = unpack(QR.apply(A, mode=mode), batch, ((m, k), (k, n)))
    return qr_result(q, r)


__all__ = ["cholesky", "cholesky_ex", "qr"]
