"""vector_norm, matrix_norm and norm, with torch's dispatch between them, built from Tensor ops
(so they run on any device, and their gradients are those of the ops).

Vector norms: ord 2 is the Norm2 reduction, 1 a sum of |x|, inf / -inf the largest / smallest
|x| (a tie shares the gradient), 0 the count of nonzero entries (no gradient), any other p
(sum |x|^p)^(1/p). As in torch, a zero entry and a zero vector get a zero gradient (where
differentiating |x|^p or s^(1/p) at 0 would give NaN or inf), and a negative p with a zero entry
gives the norm 0. Matrix norms: 'fro' is the vector 2-norm over the two dims; 'nuc', 2 and -2
the sum, largest and smallest singular value (svdvals' gradient); 1 / -1 and inf / -inf the
largest / smallest column and row sums of |A|.

cond(A, p) is norm(A) norm(A^{-1}): for p None, 2 and -2 the ratio of the extreme singular values
(any m x n matrix), for the other orders a product through inv_ex (square matrices), inf where
A is singular, as in torch.
"""

import math

import numpy as np

from ..._core import dtype as _dtype
from ..._core.dims import wrap_dim, wrap_dims
from ...autograd.function import Function
from .. import functions as _fns
from .common import describe, floating, tensor_arg, with_out
from .lu import inv_ex
from .spectral import svdvals


class _Attach(Function):
    """``value`` as a result of ``x`` in the graph, with no gradient to it (torch's ord-0 norm
    requires grad and leaves x.grad None)."""

    def forward(self, value, x):
        return value

    def backward(self, g):
        return None, None


def _cast(x, dtype, fn):
    """``x`` in ``dtype`` (torch refuses a narrowing one)."""
    if dtype is None:
        return x
    dt = _dtype.to_dtype(dtype)
    if not _dtype.is_floating(dt) or dt.itemsize < x._data.dtype.itemsize:
        raise RuntimeError(
            f"{fn}: the dtype of the input ({describe(x)}) should be convertible without "
            f"narrowing to the specified dtype ({_dtype.name(dt)})"
        )
    return x.to(dt)


def _number(ord, fn):
    if isinstance(ord, bool) or not isinstance(ord, (int, float, np.integer, np.floating)):
        raise TypeError(f"{fn}(): argument 'ord' must be a number, not {type(ord).__name__}")
    return float(ord)


def _p_norm(x, p, dims, keepdim):
    """(sum |x|^p)^(1/p) with zero gradients where |x| or the sum is 0."""
    a = x.abs()
    pos = a > 0
    terms = _fns.where(pos, _fns.where(pos, a, 1.0) ** p, 0.0 if p > 0 else math.inf)
    s = terms.sum(dims, keepdim=keepdim)
    if p < 0:  # s >= the largest term > 0: the root is finite, inf ** (1/p) is 0
        return s ** (1.0 / p)
    nz = s > 0
    return _fns.where(nz, _fns.where(nz, s, 1.0) ** (1.0 / p), 0.0)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """The ord-norm of x over ``dim`` (an int, a tuple, or None / () for all dims)."""
    fn = "linalg.vector_norm"
    if tensor_arg(x, fn, "x").is_complex() and dtype is None:
        return vector_norm(x.abs(), ord, dim, keepdim, out=out)  # the norm of the moduli
    floating(x, fn, "x")
    p = _number(ord, fn)
    x = _cast(x, dtype, fn)
    dims = None if dim is None or (isinstance(dim, (tuple, list)) and not dim) else dim
    dims = wrap_dims(dims, x.ndim, fn=fn)
    reduced = range(x.ndim) if dims is None else dims
    if abs(p) == math.inf and any(x.shape[d] == 0 for d in reduced):
        raise RuntimeError(
            f"{fn}: cannot compute the {ord} norm on an empty tensor because the operation "
            f"does not have an identity (x: {describe(x)})"
        )
    if p == 2:
        res = x.norm(2, dims, keepdim)
    elif p == 1:
        res = x.abs().sum(dims, keepdim=keepdim)
    elif p == math.inf:
        res = x.abs().amax(dims, keepdim=keepdim)
    elif p == -math.inf:
        res = x.abs().amin(dims, keepdim=keepdim)
    elif p == 0:
        res = (x != 0).sum(dims, keepdim=keepdim).to(x.dtype)
        if x.requires_grad:
            res = _Attach.apply(res, x)
    else:
        res = _p_norm(x, p, dims, keepdim)
    return with_out(out, fn, res, x)


def _matrix_dims(A, dim, fn):
    if not isinstance(dim, (tuple, list)) or len(dim) != 2:
        raise RuntimeError(f"{fn}: dim must be a 2-tuple, got {dim}")
    d0, d1 = (wrap_dim(d, A.ndim, fn=fn) for d in dim)
    if d0 == d1:
        raise RuntimeError(f"{fn}: dims must be different, got {tuple(dim)}")
    return d0, d1


def matrix_norm(input, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    """The ord-norm of the matrices spanned by ``dim``: 'fro', 'nuc', inf, -inf, 1, -1, 2, -2."""
    A = input
    fn = "linalg.matrix_norm"
    floating(tensor_arg(A, fn, "A"), fn, "A")
    if A.ndim < 2:
        raise RuntimeError(
            f"{fn}: the input tensor A must have at least 2 dimensions, got {describe(A)}"
        )
    d0, d1 = _matrix_dims(A, dim, fn)
    A = _cast(A, dtype, fn)
    if ord == "fro":
        res = vector_norm(A, 2, (d0, d1), keepdim)
    elif 0 in (A.shape[d0], A.shape[d1]) and ord in ("nuc", 1, -1, 2, -2, math.inf, -math.inf):
        # every norm of an empty matrix is 0, but a smallest value over an empty dim is none
        if {-2: 0, -1: A.shape[d1], -math.inf: A.shape[d0]}.get(ord, 1) == 0:
            raise IndexError(
                f"{fn}: the order {ord} norm takes a minimum over an empty dimension ({describe(A)})"
            )
        res = A.abs().sum((d0, d1), keepdim=keepdim)
    elif ord == "nuc" or (not isinstance(ord, str) and ord in (2, -2)):
        floating(A, fn, "A", half_error=RuntimeError)
        rest = [i for i in range(A.ndim) if i not in (d0, d1)]
        s = svdvals(A.permute(*rest, d0, d1))
        res = s.sum(-1) if ord == "nuc" else (s.amax(-1) if ord == 2 else s.amin(-1))
        if keepdim:
            lo, hi = sorted((d0, d1))
            res = res.unsqueeze(lo).unsqueeze(hi)
    elif not isinstance(ord, str) and ord in (1, -1, math.inf, -math.inf):
        across, along = (d0, d1) if abs(ord) == 1 else (d1, d0)  # sum over one, pick over other
        sums = A.abs().sum(across, keepdim=True)
        res = sums.amax(along, keepdim=True) if ord > 0 else sums.amin(along, keepdim=True)
        if not keepdim:
            res = res.squeeze(max(d0, d1)).squeeze(min(d0, d1))
    else:
        raise RuntimeError(f"{fn}: order {ord} not supported (A: {describe(A)})")
    return with_out(out, fn, res, A)


def norm(input, ord=None, dim=None, keepdim=False, *, out=None, dtype=None):
    """A vector norm over one dim (or over all, with ord and dim None), a matrix norm over two
    (or of a 2-D input given ord without dim), as torch dispatches them."""
    A = input
    fn = "linalg.norm"
    tensor_arg(A, fn, "A")
    if dim is not None:
        dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
        if len(dims) not in (1, 2):
            raise RuntimeError(
                f"{fn}: if dim is specified, it must be of length 1 or 2, got {list(dims)}"
            )
    elif ord is not None and A.ndim not in (1, 2):
        raise RuntimeError(
            f"{fn}: if dim is not specified but ord is, the input must be 1D or 2D, got "
            f"{A.ndim}D ({describe(A)})"
        )
    else:
        dims = None
    if (
        isinstance(ord, str)
        or (dims is not None and len(dims) == 2)
        or (dims is None and ord is not None and A.ndim == 2)
    ):
        mdims = dims if dims is not None else (-2, -1)
        res = matrix_norm(A, "fro" if ord is None else ord, mdims, keepdim, dtype=dtype)
    else:
        res = vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
    return with_out(out, fn, res, A)


def cond(A, p=None, *, out=None):
    """The condition number of each matrix of A (*, m, n) in the p-norm: p None or 2 (the
    default) is s_max / s_min, -2 s_min / s_max; 'fro', 'nuc', 1, -1, inf and -inf (square A)
    norm(A, p) norm(A^{-1}, p), inf for a singular matrix."""
    fn = "linalg.cond"
    floating(tensor_arg(A, fn, "A"), fn, "A")
    if A.ndim < 2:
        raise RuntimeError(
            f"{fn}: the input tensor A must have at least 2 dimensions, got {describe(A)}"
        )
    if p is None or (not isinstance(p, str) and p in (2, -2)):
        s = svdvals(A)
        hi, lo = s[..., 0], s[..., -1]
        with np.errstate(divide="ignore", invalid="ignore"):  # a singular A: inf or 0 / 0 = NaN
            res = lo / hi if p == -2 else hi / lo
        return with_out(out, fn, res, A)
    if p not in ("fro", "nuc") and (isinstance(p, str) or p not in (1, -1, math.inf, -math.inf)):
        raise RuntimeError(f"{fn} got an invalid norm type: {p} (A: {describe(A)})")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(
            f"{fn}(ord={p}): A must be batches of square matrices, but they are "
            f"{A.shape[-2]} by {A.shape[-1]} matrices ({describe(A)})"
        )
    inverse, info = inv_ex(A)
    res = matrix_norm(A, p) * matrix_norm(inverse, p)
    return with_out(out, fn, _fns.where(info > 0, math.inf, res), A)


__all__ = ["cond", "matrix_norm", "norm", "vector_norm"]
