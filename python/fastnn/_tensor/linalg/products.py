"""The products of torch.linalg and their relatives (multi_dot, cross, diagonal, vecdot, matmul,
matrix_power, kron, vander): compositions of matmul and element-wise Tensor ops, differentiable through
them. multi_dot multiplies in the order that costs the fewest multiplications (the classic
matrix-chain recurrence); matrix_power squares repeatedly, through inv for a negative power.
"""

import numpy as np

from ..._core import dtype as _dtype
from ..._core.dims import wrap_dim
from .. import creation as _creation
from .. import functions as _fns
from .common import describe, floating, matrix_input, same_dtype, tensor_arg, with_out
from .lu import Inv


def matmul(input, other, *, out=None):
    """fastnn.matmul under torch.linalg's name."""
    return _fns.matmul(input, other, out=out)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The ``offset`` diagonal of the matrices spanned by dim1 and dim2 (the last two by default),
    as the last dimension."""
    return tensor_arg(A, "linalg.diagonal", "A").diagonal(offset, dim1, dim2)


def cross(input, other, *, dim=-1, out=None):
    """The cross product of 3-vectors along ``dim``; the other dims broadcast (same ndim)."""
    fn = "linalg.cross"
    tensor_arg(input, fn, "input")
    tensor_arg(other, fn, "other")
    return with_out(out, fn, input.cross(other, dim=dim), input, other)


def vecdot(x, y, *, dim=-1, out=None):
    """sum(x * y) along ``dim``, the other dims broadcast (real tensors: no conjugation)."""
    fn = "linalg.vecdot"
    floating(tensor_arg(x, fn, "x"), fn, "x")
    floating(tensor_arg(y, fn, "y"), fn, "y")
    same_dtype(x, y, fn, ("x", "y"))
    prod = x * y
    return with_out(out, fn, prod.sum(wrap_dim(dim, prod.ndim, fn=fn)), x, y)


def _chain_order(dims):
    """split[i][j]: where the cheapest product of matrices i..j splits, for matrices of shapes
    (dims[k], dims[k + 1])."""
    n = len(dims) - 1
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(2, n + 1):
        for i in range(n - length + 1):
            j = i + length - 1
            cost[i][j] = None
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if cost[i][j] is None or c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def multi_dot(tensors, *, out=None):
    """The product of two or more matrices, in the cheapest order; the first may be a 1-D row
    vector and the last a 1-D column vector (their dimension is then dropped)."""
    fn = "multi_dot"
    if not isinstance(tensors, (list, tuple)) or len(tensors) < 2:
        count = len(tensors) if isinstance(tensors, (list, tuple)) else type(tensors).__name__
        raise RuntimeError(f"{fn}(): expected at least 2 tensors but got {count}")
    ts = [tensor_arg(t, fn, f"tensors[{i}]") for i, t in enumerate(tensors)]
    last = len(ts) - 1
    for i, t in enumerate(ts):
        allowed = (1, 2) if i in (0, last) else (2,)
        if t.ndim not in allowed:
            which = (
                "the first tensor" if i == 0 else "the last tensor" if i == last else f"tensor {i}"
            )
            want = "1D or 2D" if i in (0, last) else "2D"
            raise RuntimeError(f"{fn}(): {which} must be {want} but got {t.ndim}D ({describe(t)})")
        if t._data.dtype != ts[0]._data.dtype:
            raise RuntimeError(
                f"{fn}(): all tensors must have the same dtype, but tensor 0 is "
                f"{_dtype.name(ts[0]._data.dtype)} and tensor {i} {_dtype.name(t._data.dtype)}"
            )
    row, col = ts[0].ndim == 1, ts[-1].ndim == 1
    mats = [ts[0].unsqueeze(0) if row else ts[0], *ts[1:-1], ts[-1].unsqueeze(1) if col else ts[-1]]
    for i in range(last):
        if mats[i].shape[1] != mats[i + 1].shape[0]:
            raise RuntimeError(
                f"{fn}(): tensors {i} and {i + 1} with shapes {list(ts[i].shape)} and "
                f"{list(ts[i + 1].shape)} cannot be multiplied"
            )
    split = _chain_order([m.shape[0] for m in mats] + [mats[-1].shape[1]])

    def product(i, j):
        if i == j:
            return mats[i]
        k = split[i][j]
        return _fns.matmul(product(i, k), product(k + 1, j))

    res = product(0, last)
    if row:
        res = res.squeeze(0)
    if col:
        res = res.squeeze(-1)
    return with_out(out, fn, res, *ts)


def matrix_power(input, n, *, out=None):
    """A^n for square matrices A (*, m, m) and an integer n (negative: of the inverse; 0: the
    identity, without gradient)."""
    fn, A = "linalg.matrix_power", input
    tensor_arg(A, fn, "A")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"{fn}(): argument 'n' must be int, not {type(n).__name__}")
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(
            f"{fn}: A must be batches of square matrices, but got {describe(A)}"
            + (f": {A.shape[-2]} by {A.shape[-1]} matrices" if A.ndim >= 2 else "")
        )
    n = int(n)
    if n == 0:
        size = A.shape[-1]
        eye = _creation.eye(size, dtype=A.dtype, device=A.device)
        return with_out(out, fn, eye.expand(*A.shape).clone(), A)
    if n < 0:
        matrix_input(A, fn, square=True)
        A, n = Inv.apply(A, fn=fn, check=True), -n
    res, base = None, A
    while True:  # binary powering: the bits of n from the lowest
        if n & 1:
            res = base if res is None else _fns.matmul(res, base)
        n >>= 1
        if not n:
            break
        base = _fns.matmul(base, base)
    return with_out(out, fn, res.clone() if res is A else res, A)


def kron(input, other, *, out=None):
    """The Kronecker product: shape input.shape * other.shape dim by dim, the shorter shape
    padded with leading 1s; block (i, j, ...) is input[i, j, ...] * other."""
    fn = "kron"
    a, b = tensor_arg(input, fn, "input"), tensor_arg(other, fn, "other")
    nd = max(a.ndim, b.ndim)
    sa = (1,) * (nd - a.ndim) + tuple(a.shape)
    sb = (1,) * (nd - b.ndim) + tuple(b.shape)
    a2 = a.reshape(tuple(s for d in sa for s in (d, 1)))
    b2 = b.reshape(tuple(s for d in sb for s in (1, d)))
    res = (a2 * b2).reshape(tuple(x * y for x, y in zip(sa, sb)))
    return with_out(out, fn, res, a, b)


def vander(x, N=None):
    """The Vandermonde matrices of x (*, n): (*, n, N) with column j holding x ** j, increasing
    powers (numpy's order reversed); N defaults to n. A running product, so x = 0 gets the
    gradient of its powers (pow's would be NaN at x ** 0)."""
    fn = "linalg.vander"
    x = tensor_arg(x, fn, "x")
    if x._data.dtype == np.bool_:
        raise RuntimeError(f"{fn} takes floating point and integer tensors, got {describe(x)}")
    if x.ndim == 0:
        raise RuntimeError(f"{fn}: x must have at least one dimension, got {describe(x)}")
    n = x.shape[-1] if N is None else N
    if n <= 1:
        raise RuntimeError(f"{fn}: N must be greater than 1, got {n} (x: {describe(x)})")
    if not _dtype.is_floating(x._data.dtype):
        x = x.long()  # torch's integer result is int64
    col = x.unsqueeze(-1)
    return _fns.cat([_creation.ones_like(col), col.expand(*x.shape, n - 1)], -1).cumprod(-1)


__all__ = [
    "cross",
    "diagonal",
    "kron",
    "matmul",
    "matrix_power",
    "multi_dot",
    "vander",
    "vecdot",
]
