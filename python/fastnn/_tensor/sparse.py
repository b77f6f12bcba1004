"""Sparse COO tensors: ``sparse_coo_tensor``, ``to_sparse``, and the ops torch.sparse programs use.

A sparse tensor (``core.SparseTensor``) keeps an int64 index array (sparse_dim x nnz) and its
values as an ordinary dense Tensor. Autograd never sees the sparse tensor itself: every op
reads the values tensor, so gradients reach it (and whatever made it) through the usual
engine, and a sparse leaf's ``.grad`` is its values' gradient on its own index pattern (torch's
masked gradient). Its ``_data`` is a ``SparseStorage``: shape and dtype for the attributes the
Tensor class reads, registered with a device module that refuses every op, so a dense op that
is handed a sparse tensor raises instead of computing on values as if they were the tensor.
Only sparse dims are supported (dense_dim 0); values live on the CPU.
"""

import numpy as np

from .. import _devices
from .._core import dtype as _dtype
from .._core.device import device as _device_cls
from .._core.device import to_device
from .._core.dims import wrap_dim
from .._core.memory_format import sparse_coo
from ..autograd import function
from ..autograd.function import Function
from ..autograd.grad_mode import state as _grad_state
from . import creation as _creation

_bound = [None]  # core.SparseTensor, bound once core has defined it (see bind)


def bind(cls):
    _bound[0] = cls


class SparseStorage:
    """What a sparse tensor's ``_data`` holds: the dense shape and dtype, no elements."""

    __slots__ = ("dtype", "ndim", "shape", "size")

    def __init__(self, shape, dtype):
        self.shape = tuple(shape)
        self.dtype = dtype
        self.ndim = len(self.shape)
        self.size = int(np.prod(self.shape, dtype=np.int64))

    def __array__(self, dtype=None, copy=None):
        raise TypeError("can't convert Sparse layout tensor to numpy. Use Tensor.to_dense() first.")


class _Refuse:
    """The device module of ``SparseStorage``: any dense op reaching it is an op fastnn has no
    sparse form of, so it raises torch's NotImplementedError naming the op."""

    def device_of(self, array):
        return _device_cls("cpu")

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise NotImplementedError(
            f"Could not run '{name}' with arguments from the sparse COO layout: fastnn has no "
            "sparse form of this op; call .to_dense() first"
        )


_devices.register(SparseStorage, _Refuse())


# ---- primitives on the values --------------------------------------------------------------


class _ScatterAdd(Function):
    """out[pos[i]] += x[i] into ``n`` rows: coalescing duplicates, densifying (flat positions)."""

    def forward(self, x, pos, n):
        self.pos = pos
        out = np.zeros((n,), x.dtype)
        np.add.at(out, pos, x)
        return out

    def backward(self, g):
        return g[self.pos]


class _Gather(Function):
    """x[pos]: a value per sparse entry read from a flat dense array or another entry list."""

    def forward(self, x, pos):
        self.pos, self.n = pos, x.shape[0]
        return x[pos]

    def backward(self, g):
        out = np.zeros((self.n,), g.dtype)
        np.add.at(out, self.pos, g)
        return out


class _SpMM(Function):
    """(m x k sparse, given by rows, cols and values) @ (k x n dense)."""

    save_inputs = True

    def forward(self, vals, dense, rows, cols, m):
        self.vals, self.dense, self.rows, self.cols = vals, dense, rows, cols
        out = np.zeros((m, dense.shape[1]), np.result_type(vals, dense))
        np.add.at(out, rows, vals[:, None] * dense[cols])
        return out

    def backward(self, g):
        gv = gd = None
        if self.needs_input_grad[0]:
            gv = np.einsum("ij,ij->i", g[self.rows], self.dense[self.cols])
        if self.needs_input_grad[1]:
            gd = np.zeros(self.dense.shape, g.dtype)
            np.add.at(gd, self.cols, self.vals[:, None] * g[self.rows])
        return gv, gd


def _scatter(vals, pos, n):
    return _ScatterAdd.apply(vals, pos=pos, n=n)


def _gather(vals, pos):
    return _Gather.apply(vals, pos=pos)


# ---- construction --------------------------------------------------------------------------


def _make(idx, vals, shape, coalesced):
    """A sparse tensor from an int64 (sparse_dim, nnz) array and a 1-D values Tensor."""
    cls = _bound[0]
    t = cls.__new__(cls)
    t._data = SparseStorage(shape, vals._data.dtype)
    t._idx = idx
    t._vals = vals
    t._coalesced = bool(coalesced)
    t._vc = [0]
    t._ctx = None
    t._hooks = None
    t._retains_grad = False
    return t


def _linear(idx, shape):
    if idx.shape[1] == 0:
        return np.zeros((0,), np.int64)
    return np.ravel_multi_index(tuple(idx), shape)


def _coalesce(idx, vals, shape):
    """Sorted unique indices with duplicate values summed (the values stay differentiable)."""
    lin = _linear(idx, shape)
    uniq, inverse = np.unique(lin, return_inverse=True)
    new_idx = np.array(np.unravel_index(uniq, shape), np.int64).reshape(len(shape), -1)
    if uniq.size == lin.size and np.array_equal(uniq, lin):
        return new_idx, vals
    return new_idx, _scatter(vals, inverse.reshape(-1), uniq.size)


def _as_index_array(indices):
    a = np.asarray(indices._data if isinstance(indices, function.Tensor) else indices)
    if a.dtype.kind not in "iu":
        if a.size == 0:
            a = a.astype(np.int64)
        else:
            raise RuntimeError(f"indices must be an int64 tensor, got {a.dtype}")
    if a.ndim != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: {list(a.shape)}")
    return np.ascontiguousarray(a, np.int64)


def sparse_coo_tensor(
    indices,
    values,
    size=None,
    *,
    dtype=None,
    device=None,
    pin_memory=False,
    requires_grad=False,
    check_invariants=None,
    is_coalesced=None,
):
    """torch.sparse_coo_tensor: ``values[i]`` at ``indices[:, i]`` (duplicates add up, on
    ``coalesce()``). Index bounds are always checked."""
    idx = _as_index_array(indices)
    if device is not None and to_device(device).type != "cpu":
        raise RuntimeError("fastnn: sparse tensors live on the CPU only")
    T = function.Tensor
    if isinstance(values, T):
        if isinstance(values, _bound[0]):
            raise TypeError("sparse_coo_tensor(): values must be a dense Tensor")
        vals = values if dtype is None else values.to(dtype)
    else:
        vals = _creation.tensor(values, dtype=dtype)
    if vals.ndim != 1:
        raise NotImplementedError(
            "fastnn: hybrid sparse tensors (values with more than one dim) are not supported"
        )
    nnz = idx.shape[1]
    if vals.shape[0] != nnz:
        raise RuntimeError(
            "indices and values must have same nnz, but got nnz from indices: "
            f"{nnz}, nnz from values: {vals.shape[0]}"
        )
    sd = idx.shape[0]
    if size is None:
        shape = tuple(int(m) + 1 for m in idx.max(1)) if nnz else (0,) * sd
    else:
        shape = tuple(int(n) for n in size)
        if len(shape) != sd:
            raise RuntimeError(
                f"'len(size) == sparse_dim + dense_dim' is not satisfied: len(size) = "
                f"{len(shape)}, sparse_dim = {sd}, dense_dim = 0"
            )
    if nnz:
        low, high = idx.min(1), idx.max(1)
        for d in range(sd):
            if low[d] < 0:
                raise RuntimeError(f"found negative index {low[d]} for dim {d}")
            if high[d] >= shape[d]:
                raise RuntimeError(
                    f"size is inconsistent with indices: for dim {d}, size is {shape[d]} "
                    f"but found index {high[d]}"
                )
    if requires_grad:
        if not _dtype.is_floating(vals._data.dtype):
            raise RuntimeError(
                "Only Tensors of floating point and complex dtype can require gradients"
            )
        vals = T._make(np.array(vals._data), True, None)
    coalesced = nnz <= 1 if is_coalesced is None else is_coalesced
    return _make(idx, vals, shape, coalesced)


def dense_to_sparse(x, sparse_dim=None):
    """``x.to_sparse()``: the nonzero elements of a dense tensor (differentiable)."""
    if sparse_dim is not None and sparse_dim != x.ndim:
        raise NotImplementedError("fastnn: to_sparse(sparse_dim) with dense dims is not supported")
    a = x._data
    if a.__class__ is not np.ndarray:
        raise RuntimeError("fastnn: sparse tensors live on the CPU only")
    shape = tuple(a.shape)
    flat = np.flatnonzero(a)
    idx = np.array(np.unravel_index(flat, shape), np.int64).reshape(len(shape), -1)
    return _make(idx, _gather(x.reshape(-1), flat), shape, True)


# ---- ops -----------------------------------------------------------------------------------


def to_dense(s):
    shape = s._data.shape
    flat = _scatter(s._vals, _linear(s._idx, shape), s._data.size)
    return flat.reshape(shape)


def coalesce(s):
    if s._coalesced:
        return s
    idx, vals = _coalesce(s._idx, s._vals, s._data.shape)
    return _make(idx, vals, s._data.shape, True)


def _is_sparse(x):
    return isinstance(x, _bound[0])


def _check_mm(a, b):
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got {a.ndim}-D and {b.ndim}-D")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and "
            f"{b.shape[0]}x{b.shape[1]})"
        )
    if a.dtype != b.dtype:
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: {_dtype.name(a._data.dtype)}"
            f" != {_dtype.name(b._data.dtype)}"
        )


def _spmm(s, d):
    rows, cols = s._idx
    return _SpMM.apply(s._vals, d, rows=rows, cols=cols, m=s.shape[0])


def _sparse_sparse(a, b):
    """Every pair a[i, j] * b[j, l], summed per (i, l): sparse, coalesced."""
    ra, ca = a._idx
    rb, cb = b._idx
    k = a.shape[1]
    order = np.argsort(rb, kind="stable")
    counts = np.bincount(rb, minlength=k)
    starts = np.cumsum(counts) - counts
    rep = counts[ca]
    ia = np.repeat(np.arange(ca.size), rep)
    first = np.cumsum(rep) - rep
    within = np.arange(ia.size) - np.repeat(first, rep)
    ib = order[starts[ca][ia] + within]
    vals = _gather(a._vals, ia) * _gather(b._vals, ib)
    shape = (a.shape[0], b.shape[1])
    idx, vals = _coalesce(np.stack([ra[ia], cb[ib]]).reshape(2, -1), vals, shape)
    return _make(idx, vals, shape, True)


def _refuse_unmasked(op, *tensors):
    """torch gives a sparse operand of ``op`` a dense gradient over all its elements, which the
    values of a sparse tensor cannot hold: refuse rather than hand back a masked one."""
    if _grad_state.enabled and any(_is_sparse(t) and t.requires_grad for t in tensors):
        raise NotImplementedError(
            f"fastnn: {op} with a sparse operand that requires grad (torch gives it a dense, "
            "unmasked gradient); use torch.sparse.mm for the gradient on its pattern, or "
            "to_dense() first"
        )


def mm(a, b, masked=False):
    """Matrix product with one or both operands sparse: dense unless both are sparse.
    ``masked``: torch.sparse.mm, whose sparse operands get gradients on their own patterns."""
    _check_mm(a, b)
    if not masked:
        _refuse_unmasked("mm", a, b)
    if _is_sparse(a) and _is_sparse(b):
        return _sparse_sparse(a, b)
    if _is_sparse(a):
        return _spmm(a, b)
    return _spmm(transpose(b), a.t()).t()  # d @ s == (s^T @ d^T)^T


def spmm(input, mat2):
    """torch.spmm: ``input @ mat2`` with ``input`` sparse (or dense: then a dense product)."""
    return mm(input, mat2) if _is_sparse(input) or _is_sparse(mat2) else input.mm(mat2)


def matmul(a, b):
    if a.ndim == 2 and b.ndim == 2:
        return mm(a, b)
    if _is_sparse(a) and a.ndim == 2 and b.ndim == 1 and not _is_sparse(b):
        return mm(a, b.reshape(-1, 1)).reshape(-1)
    raise NotImplementedError(
        f"fastnn: matmul with a sparse operand needs 2-D operands (or sparse 2-D @ dense 1-D), "
        f"got {a.ndim}-D and {b.ndim}-D"
    )


def transpose(s, dim0=0, dim1=1):
    nd = s.ndim
    d0, d1 = wrap_dim(dim0, nd, fn="transpose"), wrap_dim(dim1, nd, fn="transpose")
    idx = s._idx.copy()
    idx[[d0, d1]] = idx[[d1, d0]]
    shape = list(s._data.shape)
    shape[d0], shape[d1] = shape[d1], shape[d0]
    return _make(idx, s._vals, tuple(shape), s._coalesced and d0 == d1)


def sum(s, dim=None, keepdim=False, dtype=None):
    """Whole sum: a 0-d dense tensor; over some dims: sparse over the others (dense when none
    is left), as torch.sparse.sum."""
    vals = s._vals if dtype is None else s._vals.to(dtype)
    if dim is None:
        return vals.sum()
    if keepdim:
        raise NotImplementedError("fastnn: sum of a sparse tensor with keepdim=True")
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    nd = s.ndim
    dims = sorted({wrap_dim(d, nd, fn="sum") for d in dims})
    keep = [d for d in range(nd) if d not in dims]
    if not keep:
        return vals.sum()
    shape = tuple(s._data.shape[d] for d in keep)
    idx, vals = _coalesce(s._idx[keep], vals, shape)
    return _make(idx, vals, shape, True)


def add(a, b, alpha=1):
    """sparse + sparse: sparse; dense + sparse: dense; sparse + dense is refused as by torch."""
    if not _is_sparse(a):
        if not isinstance(a, function.Tensor):
            raise RuntimeError(
                "add(sparse, dense) is not supported. Use add(dense, sparse) instead."
            )
        _refuse_unmasked("dense + sparse", b)
        d = to_dense(b)
        return a + (d if alpha == 1 else d * alpha)
    if not _is_sparse(b):
        raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) instead.")
    if a.shape != b.shape:
        raise RuntimeError(
            f"add: expected 'self' and 'other' to have same size, but self has size "
            f"{list(a.shape)} while other has size {list(b.shape)}"
        )
    bv = b._vals if alpha == 1 else b._vals * alpha
    av = a._vals
    dt = np.result_type(av._data.dtype, bv._data.dtype)
    av, bv = av.to(_dtype.of(dt)), bv.to(_dtype.of(dt))
    vals = _cat(av, bv)
    idx, vals = _coalesce(np.concatenate([a._idx, b._idx], 1), vals, a._data.shape)
    return _make(idx, vals, a._data.shape, True)


def _cat(a, b):
    n = a.shape[0]
    total = n + b.shape[0]
    return _scatter(a, np.arange(n), total) + _scatter(b, np.arange(n, total), total)


def scale(s, factor, divide=False):
    """sparse * number (or / number): the values scaled, the pattern kept."""
    if isinstance(factor, function.Tensor):
        if factor.ndim != 0 or _is_sparse(factor):
            raise NotImplementedError(
                "fastnn: sparse tensors multiply only by a number or a 0-d tensor"
            )
    elif not isinstance(factor, (int, float, bool, np.number)):
        return NotImplemented
    vals = s._vals / factor if divide else s._vals * factor
    return _make(s._idx, vals, s._data.shape, s._coalesced)


def softmax(s, dim, dtype=None):
    """torch.sparse.softmax: each fiber along ``dim`` softmaxed over its present entries (absent
    ones count as -inf and stay absent)."""
    s = coalesce(s)
    vals = s._vals if dtype is None else s._vals.to(dtype)
    nd = s.ndim
    d = wrap_dim(dim, nd, fn="softmax")
    keep = [i for i in range(nd) if i != d]
    shape = tuple(s._data.shape[i] for i in keep)
    groups = _linear(s._idx[keep], shape) if keep else np.zeros(s._idx.shape[1], np.int64)
    _, gid = np.unique(groups, return_inverse=True)
    gid = gid.reshape(-1)
    n = int(gid.max()) + 1 if gid.size else 0
    top = np.full((n,), -np.inf, vals._data.dtype)
    np.maximum.at(top, gid, vals._data)
    e = (vals - function.Tensor._make(top[gid])).exp()
    out = e / _gather(_scatter(e, gid, n), gid)
    return _make(s._idx, out, s._data.shape, True)


def sparse_repr(s):
    T = function.Tensor
    ind = repr(T._make(s._idx)).replace("\n", "\n" + " " * 15)
    val = repr(s._vals.detach()).replace("\n", "\n" + " " * 14)
    # the values' own repr ends in ")" after any dtype note: keep only the elements
    val = _strip_tail(val) if s._idx.shape[1] else "tensor([], size=(0,))"
    ind = _strip_tail(ind)
    shape = tuple(s._data.shape)
    size = f"({shape[0]},)" if len(shape) == 1 else str(shape)
    parts = [f"size={size}", f"nnz={s._idx.shape[1]}"]
    dt = s._data.dtype
    if dt not in (_dtype.default(), _dtype.int64, _dtype.bool_):  # torch's implied dtypes
        parts.append(f"dtype={_dtype.of(dt)}")
    parts.append(f"layout={sparse_coo}")
    if s._vals.requires_grad:
        parts.append(
            "requires_grad=True" if s._vals._ctx is None else f"grad_fn=<{s._vals._ctx.name()}>"
        )
    return f"tensor(indices={ind},\n       values={val},\n       " + ", ".join(parts) + ")"


def _strip_tail(r):
    """``tensor([...], dtype=x)`` -> ``tensor([...])``: the sparse repr names the dtype once."""
    cut = r.rfind(", dtype=")
    return r[:cut] + ")" if cut != -1 and "\n" not in r[cut:] else r


# ---- the methods ---------------------------------------------------------------------------


def _refuse(name, kind=NotImplementedError):
    def method(self, *args, **kwargs):
        if kind is NotImplementedError:
            raise NotImplementedError(
                f"Could not run '{name}' with arguments from the sparse COO layout: fastnn has "
                "no sparse form of this op; call .to_dense() first"
            )
        raise kind(f"{name} is not implemented for sparse tensors")

    method.__name__ = name
    return method


class DenseSparseMixin:
    """The dense tensor's ways into the sparse layout."""

    def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
        if layout is not None and layout is not sparse_coo:
            raise NotImplementedError(f"fastnn: to_sparse(layout={layout}) is not supported")
        return dense_to_sparse(self, sparse_dim)

    def to_sparse_coo(self):
        return dense_to_sparse(self)


class SparseMethods:
    """core.SparseTensor's methods: the sparse forms of the Tensor methods torch has for the
    COO layout; dense-only methods torch refuses are refused by name."""

    is_sparse = property(lambda self: True)
    layout = property(lambda self: sparse_coo)

    @property
    def requires_grad(self):
        return self._vals.requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        self._vals.requires_grad_(flag)

    def requires_grad_(self, requires_grad=True):
        self._vals.requires_grad_(requires_grad)
        return self

    @property
    def grad(self):
        g = self._vals.grad
        if g is None:
            return None
        if self._coalesced:
            return _make(self._idx, g, self._data.shape, True)
        # every copy of a duplicated index got the gradient of that one element: keep it once
        shape = self._data.shape
        uniq, first = np.unique(_linear(self._idx, shape), return_index=True)
        idx = np.array(np.unravel_index(uniq, shape), np.int64).reshape(len(shape), -1)
        # (torch leaves such a gradient's coalesced flag unset)
        return _make(idx, function.Tensor._make(g._data[first]), shape, False)

    @grad.setter
    def grad(self, value):
        if value is None:
            self._vals.grad = None
            return
        if not _is_sparse(value) or not np.array_equal(value._idx, self._idx):
            raise RuntimeError("fastnn: a sparse tensor's grad must share its indices")
        self._vals.grad = value._vals

    @property
    def is_leaf(self):
        return self._vals._ctx is None

    @property
    def grad_fn(self):
        return self._vals._ctx

    def backward(self, *args, **kwargs):
        raise RuntimeError("fastnn: backward() from a sparse tensor; reduce it (sum) first")

    @property
    def data(self):
        return self.detach()

    def type(self, dtype=None):
        if dtype is None:
            return (
                function.Tensor._make(np.zeros(0, self._data.dtype))
                .type()
                .replace("fastnn.", "fastnn.sparse.", 1)
            )
        return self._cast(_dtype.to_dtype(dtype))

    def detach(self):
        return _make(self._idx, self._vals.detach(), self._data.shape, self._coalesced)

    def clone(self, *, memory_format=None):
        return _make(self._idx.copy(), self._vals.clone(), self._data.shape, self._coalesced)

    def sparse_dim(self):
        return self._idx.shape[0]

    def dense_dim(self):
        return 0

    def _nnz(self):
        return self._idx.shape[1]

    def is_coalesced(self):
        return self._coalesced

    def coalesce(self):
        return coalesce(self)

    def _indices(self):
        return function.Tensor._make(self._idx)

    def _values(self):
        return self._vals

    def indices(self):
        if not self._coalesced:
            raise RuntimeError(
                "Cannot get indices on an uncoalesced tensor, please call .coalesce() first"
            )
        return function.Tensor._make(self._idx)

    def values(self):
        if not self._coalesced:
            raise RuntimeError(
                "Cannot get values on an uncoalesced tensor, please call .coalesce() first"
            )
        return self._vals

    def to_dense(self, dtype=None, *, masked_grad=None):
        out = to_dense(self)
        return out if dtype is None else out.to(dtype)

    def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
        if layout is not None and layout is not sparse_coo:
            raise NotImplementedError(f"fastnn: to_sparse(layout={layout}) is not supported")
        return self

    def to_sparse_coo(self):
        return self

    def _cast(self, d):
        if self._data.dtype is d:
            return self
        return _make(self._idx, self._vals._cast(d), self._data.shape, self._coalesced)

    def to(self, *args, **kwargs):
        """Only casts: a sparse tensor stays on the CPU (asking for CUDA raises)."""
        kwargs.pop("non_blocking", None)
        copy = kwargs.pop("copy", False)
        dtype = kwargs.pop("dtype", None)
        dev = kwargs.pop("device", None)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, function.Tensor):
                dtype, dev = a.dtype, a.device
            elif isinstance(a, (_device_cls, str, int)) and not isinstance(a, bool):
                dev = a
            else:
                dtype = a
        if dev is not None and to_device(dev).type != "cpu":
            raise RuntimeError("fastnn: sparse tensors live on the CPU only")
        out = self if dtype is None else self._cast(_dtype.to_dtype(dtype))
        return out.clone() if copy and out is self else out

    def cpu(self):
        return self

    def numpy(self, force=False):
        raise TypeError("can't convert Sparse layout tensor to numpy. Use Tensor.to_dense() first.")

    def t(self):
        if self.ndim > 2:
            raise RuntimeError(
                f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D"
            )
        return transpose(self, 0, -1) if self.ndim == 2 else self

    def transpose(self, dim0, dim1):
        return transpose(self, dim0, dim1)

    def sum(self, dim=None, keepdim=False, *, dtype=None):
        return sum(self, dim, keepdim, dtype)

    def mm(self, mat2):
        return mm(self, mat2)

    def matmul(self, other):
        return matmul(self, other)

    def __matmul__(self, other):
        return matmul(self, other)

    def __rmatmul__(self, other):
        return matmul(other, self)

    def add(self, other, *, alpha=1):
        return add(self, other, alpha)

    def __add__(self, other):
        return add(self, other)

    def __radd__(self, other):
        return add(other, self)

    def sub(self, other, *, alpha=1):
        return add(self, other, -alpha)

    def __sub__(self, other):
        return add(self, other, -1)

    def __rsub__(self, other):
        return add(other, -self)

    def mul(self, other):
        return scale(self, other)

    def __mul__(self, other):
        return scale(self, other)

    __rmul__ = __mul__

    def div(self, other):
        return scale(self, other, divide=True)

    def __truediv__(self, other):
        return scale(self, other, divide=True)

    def __neg__(self):
        return _make(self._idx, -self._vals, self._data.shape, self._coalesced)

    neg = __neg__

    def is_contiguous(self, memory_format=None):
        return False

    def __repr__(self):
        return sparse_repr(self)

    __str__ = __repr__

    view = _refuse("view")
    reshape = _refuse("reshape", RuntimeError)
    __getitem__ = _refuse("index")
    __setitem__ = _refuse("index_put_")
