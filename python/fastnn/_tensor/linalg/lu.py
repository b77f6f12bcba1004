"""The functions of the LU factorization: inv / inv_ex, det, slogdet / logdet and solve, on
batches of square matrices (*, n, n), each beside its primitive.

numpy.linalg computes them with LAPACK's LU routines, as torch does, and refuses the same
matrices: a zero pivot makes ``inv`` and ``solve`` raise ``LinAlgError`` (numpy does not say
where, so the failing matrix of a batch is found again one by one, and its first column that
depends on the ones before it is reported: that is where LU with partial pivoting meets its zero
pivot in exact arithmetic). A singular matrix has det 0 and slogdet (0, -inf), as in torch.

Gradients: the gradient of det is the cofactor matrix, det(A) A^{-T} for an invertible A; where
det(A) is exactly 0 it is computed from the SVD instead, so a singular matrix gets its true
cofactors (torch returns zeros there for some exactly singular inputs). The gradient of log|det A|
is A^{-T}; at a singular matrix it is infinite, and the backward raises ``LinAlgError`` rather
than return infinities.
"""

import numpy as np

from ..._core import dtype as _dtype
from ...autograd.function import Function
from .. import functions as _fns
from .common import (
    LinAlgError,
    batch_prefix,
    batch_shape,
    describe,
    floating,
    inv_ex_result,
    lapack,
    legacy_slogdet_result,
    like,
    matrix_input,
    per_matrix,
    same_dtype,
    slogdet_result,
    swap,
    tensor_arg,
    to_device,
    to_host,
    with_out,
)


def zero_pivot(m):
    """1 + the index of the first column of the square matrix ``m`` that depends on the columns
    before it (R's first negligible diagonal entry in m = QR)."""
    d = np.abs(np.diagonal(np.linalg.qr(m, mode="r")))
    tol = max(m.shape) * np.finfo(m.dtype).eps * (d.max() if d.size else 0.0)
    small = np.flatnonzero(d <= tol)
    return int(small[0] if small.size else np.argmin(d)) + 1


def inverse(h, fn, check, name="A"):
    """(A^{-1}, info) on the host; info is 0 or torch's 1-based zero pivot per matrix, and a
    singular matrix's inverse is NaN (``check``: raise LinAlgError instead)."""
    info = np.zeros(h.shape[:-2], np.int32)
    try:
        return np.linalg.inv(h), info
    except np.linalg.LinAlgError:
        pass
    flat = per_matrix(h)
    out = np.empty(flat.shape, h.dtype)
    for i, m in enumerate(flat):
        try:
            out[i] = np.linalg.inv(m)
        except np.linalg.LinAlgError:
            k = zero_pivot(m)
            if check:
                raise LinAlgError(
                    f"{fn}: {batch_prefix(h, i)}{name} is singular: its column {k} depends on "
                    "the columns before it, where LU meets a zero pivot, so it has no inverse "
                    f"({name}: shape {list(h.shape)}, {_dtype.name(h.dtype)})"
                ) from None
            out[i] = np.nan
            info.reshape(-1)[i] = k
    return out.reshape(h.shape), info


class Inv(Function):
    """A^{-1}; ``report`` (a list) receives the info array, a second result without gradient."""

    save_output = True
    double_backward = True  # its gradient is two products with its output

    @lapack("linalg.inv")
    def forward(self, a, *, fn, check, report=None):
        h = to_host(self.be, a)
        inv, info = inverse(h, fn, check)
        if report is not None:
            report.append(info)
        self.out = out = to_device(self.be, inv, h.dtype)
        return out

    @lapack("linalg.inv")
    def backward(self, g):
        # d(A^{-1}) = -A^{-1} dA A^{-1}, so the gradient is -A^{-T} G A^{-T}
        be, y = self.be, self.out
        return be.neg(matmul_stack(be, matmul_stack(be, y, g, trans_a=True), y, trans_b=True))


def matmul_stack(be, a, b, trans_a=False, trans_b=False):
    """op(a) @ op(b) for stacks of matrices of one batch shape, through the backend's matmul,
    which takes at most one batch axis (or its recorded form, under create_graph=True)."""
    batch = tuple(a.shape[:-2])
    if len(batch) <= 1:
        return be.matmul(a, b, trans_a, trans_b)
    r = be.matmul(
        be.reshape(a, (-1, *a.shape[-2:])), be.reshape(b, (-1, *b.shape[-2:])), trans_a, trans_b
    )
    return be.reshape(r, batch + tuple(r.shape[-2:]))


def recorded_inverse(a, fn):
    """A^{-1} of a Tensor as a recorded Inv: graph_saved's form of the inverse that the
    gradients of det, slogdet and solve compute on the host."""
    return Inv.apply(a, fn=fn, check=True)


def cofactors(h, det):
    """The cofactor matrices of ``h`` (the gradient of det): det(A) A^{-T} where det != 0; where
    it is 0, with A = U diag(s) Vh, det(U) det(Vh) U diag(prod of the other s) Vh, the same
    polynomial continued to singular matrices."""
    out = np.empty(h.shape, h.dtype)
    flat, dets, res = per_matrix(h), np.reshape(det, -1), per_matrix(out)
    ok = dets != 0
    if ok.any():
        res[ok] = dets[ok, None, None] * swap(np.linalg.inv(flat[ok]))
    if not ok.all():
        u, s, vh = np.linalg.svd(flat[~ok])
        ones = np.ones_like(s[:, :1])
        before = np.cumprod(np.concatenate([ones, s[:, :-1]], 1), 1)
        after = np.cumprod(np.concatenate([ones, s[:, :0:-1]], 1), 1)[:, ::-1]
        sign = np.linalg.det(u) * np.linalg.det(vh)
        res[~ok] = sign[:, None, None] * (u * (before * after)[:, None, :]) @ vh
    return out


class Det(Function):
    """det(A) of (*, n, n) matrices: shape (*)."""

    save_inputs = True
    double_backward = True  # where no det is 0 (graph_saved)

    def graph_saved(self, inputs, out):
        """The cofactors det(A) A^{-T}, recorded; None (not recorded) where a det is 0, whose
        cofactors come from the SVD."""
        if not np.all(self.det != 0):
            return None
        cof = out.reshape((*out.shape, 1, 1)) * recorded_inverse(inputs[0], "linalg.det").mT
        return {"cof": cof}

    @lapack("linalg.det")
    def forward(self, a, *, fn):
        h = to_host(self.be, a)
        det = np.asarray(np.linalg.det(h), h.dtype)
        if self.requires_grad:
            self.a, self.det = h, det
        return to_device(self.be, det, h.dtype)

    @lapack("linalg.det")
    def backward(self, g):
        # d det(A) = <cofactors(A), dA>
        cof = self.__dict__.get("cof")  # given by graph_saved under create_graph=True
        if cof is not None:
            return self.be.mul(self.be.reshape(g, (*g.shape, 1, 1)), cof)
        gh = to_host(self.be, g)[..., None, None]
        return to_device(self.be, gh * cofactors(self.a, self.det), self.a.dtype)


class Slogdet(Function):
    """(sign, log|det A|) packed as (*, 2); only log|det A| has a gradient."""

    save_inputs = True
    double_backward = True

    def graph_saved(self, inputs, out):  # A^{-T}, recorded
        return {"inv_t": recorded_inverse(inputs[0], self.fn).mT}

    @lapack("linalg.slogdet")
    def forward(self, a, *, fn):
        h = to_host(self.be, a)
        sign, logabs = np.linalg.slogdet(h)
        if self.requires_grad:
            self.a, self.fn = h, fn
        return to_device(self.be, np.stack([sign, logabs], -1), h.dtype)

    @lapack("linalg.slogdet")
    def backward(self, g):
        # d log|det A| = tr(A^{-1} dA): the gradient is A^{-T}, infinite where A is singular
        inv_t = self.__dict__.get("inv_t")  # given by graph_saved under create_graph=True
        if inv_t is not None:
            be = self.be
            g1 = be.getitem(g, (Ellipsis, slice(1, 2)))
            return be.mul(be.reshape(g1, (*g1.shape, 1)), inv_t)
        h = self.a
        try:
            inv, _ = inverse(h, self.fn, True)
        except LinAlgError as e:
            raise LinAlgError(f"{e}; the gradient of log|det A| is infinite there") from None
        gh = to_host(self.be, g)[..., 1, None, None]
        return to_device(self.be, gh * swap(inv), h.dtype)


class Solve(Function):
    """X with A X = B, for A (*, n, n) and B (*, n, k) of the same batch shape."""

    save_inputs = True
    save_output = True
    double_backward = True

    def graph_saved(self, inputs, out):  # A^{-1}, recorded
        return {"a_inv": recorded_inverse(inputs[0], self.fn)}

    @lapack("linalg.solve")
    def forward(self, a, b, *, fn):
        ha, hb = to_host(self.be, a), to_host(self.be, b)
        try:
            x = np.linalg.solve(ha, hb)
        except np.linalg.LinAlgError:
            i = next((i for i, m in enumerate(per_matrix(ha)) if _singular(m)), 0)
            raise LinAlgError(
                f"{fn}: {batch_prefix(ha, i)}the solver failed because the input matrix A is "
                f"singular (A: shape {list(ha.shape)}, {_dtype.name(ha.dtype)})"
            ) from None
        if self.requires_grad:
            self.a, self.x, self.fn = ha, x, fn
        return to_device(self.be, x, ha.dtype)

    @lapack("linalg.solve")
    def backward(self, g):
        # dX = A^{-1} (dB - dA X): the gradient of B is A^{-T} G, that of A is -A^{-T} G X^T
        need_a, need_b = self.needs_input_grad
        a_inv = self.__dict__.get("a_inv")  # given by graph_saved under create_graph=True
        if a_inv is not None:
            be = self.be
            gb = matmul_stack(be, a_inv, g, trans_a=True)
            ga = be.neg(matmul_stack(be, gb, self.x, trans_b=True)) if need_a else None
            return ga, (gb if need_b else None)
        gb = np.linalg.solve(swap(self.a), to_host(self.be, g))
        dt = self.a.dtype
        ga = to_device(self.be, -(gb @ swap(self.x)), dt) if need_a else None
        return ga, (to_device(self.be, gb, dt) if need_b else None)


def _singular(m):
    try:
        np.linalg.inv(m)
    except np.linalg.LinAlgError:
        return True
    return False


# ---- the functions -------------------------------------------------------------------------------


def inv(A, *, out=None):
    """The inverse of each square matrix of A (*, n, n); ``LinAlgError`` if one is singular."""
    matrix_input(A, "linalg.inv", square=True)
    return with_out(out, "linalg.inv", Inv.apply(A, fn="linalg.inv", check=True), A)


def inv_ex(A, *, check_errors=False):
    """(inverse, info): info (int32, shape (*)) is 0, or the 1-based index of the zero pivot of
    a singular matrix, whose inverse is then NaN; ``check_errors=True`` raises instead."""
    matrix_input(A, "linalg.inv_ex", square=True)
    report = []
    res = Inv.apply(A, fn="linalg.inv_ex", check=bool(check_errors), report=report)
    return inv_ex_result(res, like(A, report[0]))


def det(A, *, out=None):
    """The determinant of each square matrix of A (*, n, n): shape (*)."""
    matrix_input(A, "linalg.det", square=True, half_error=NotImplementedError)
    return with_out(out, "linalg.det", Det.apply(A, fn="linalg.det"), A)


def _slogdet(A, fn):
    matrix_input(A, fn, square=True)
    both = Slogdet.apply(A, fn=fn)
    return both[..., 0], both[..., 1]  # sign gets a zero gradient, as in torch


def slogdet(A):
    """(sign, logabsdet) of det(A): sign is -1, 0 or 1 (a zero gradient), logabsdet = log|det A|
    (-inf for a singular matrix)."""
    return slogdet_result(*_slogdet(A, "linalg.slogdet"))


def legacy_slogdet(A):
    """torch.slogdet and Tensor.slogdet: linalg.slogdet under torch's older result name."""
    return legacy_slogdet_result(*_slogdet(A, "slogdet"))


def logdet(A):
    """log det(A): NaN where det(A) < 0, -inf where A is singular."""
    sign, logabs = _slogdet(A, "logdet")
    return _fns.where(sign < 0, float("nan"), logabs)


def _is_vector_rhs(A, B):
    """torch's rule: B is a (batch of) vector(s) when 1-D or of shape A.shape[:-1]."""
    return B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))


def solve(A, B, *, left=True, out=None):
    """X with A X = B (``left=False``: X A = B) for square A (*, n, n) and B (*, n, k), or
    vectors B (*, n) (1-D, or A's shape without its last dimension); batches broadcast."""
    fn = "linalg.solve"
    matrix_input(A, fn, square=True, half_error=NotImplementedError)
    floating(tensor_arg(B, fn, "B"), fn, "B")
    same_dtype(A, B, fn)
    vector = _is_vector_rhs(A, B)
    Bm = B.unsqueeze(-1) if vector else B
    n = A.shape[-1]
    if Bm.ndim < 2 or Bm.shape[-2 if left else -1] != n:
        rows, cols = (Bm.shape[-2], Bm.shape[-1]) if Bm.ndim >= 2 else (1, Bm.shape[-1])
        raise RuntimeError(
            f"{fn}: incompatible shapes of A and B for the equation "
            f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {rows}x{cols}); A: {describe(A)}, "
            f"B: {describe(B)}"
        )
    batch = batch_shape(A.shape[:-2], Bm.shape[:-2], fn, A, B)
    Ae, Be = A.expand(*batch, n, n), Bm.expand(*batch, *Bm.shape[-2:])
    # X A = B is A^T X^T = B^T
    X = Solve.apply(Ae, Be, fn=fn) if left else Solve.apply(Ae.mT, Be.mT, fn=fn).mT
    return with_out(out, fn, X.squeeze(-1) if vector else X, A, B)


__all__ = [
    "det",
    "inv",
    "inv_ex",
    "legacy_slogdet",
    "logdet",
    "slogdet",
    "solve",
]
