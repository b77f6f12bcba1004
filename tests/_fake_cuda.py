"""A numpy stand-in for the parts of fastnn._cuda that fastnn._devices.cuda calls, with the
bindings' argument rules (the dtypes each kernel takes, same-dtype operands, scalars converted to
the array's dtype, contiguous views, reads checked in bounds), so the backend's own logic (dtype
promotion, index resolution, composition, host round trips) runs on machines without a GPU.
It checks that logic only: the real kernels are tested against the CPU in test_cuda_kernels.py
and, with a GPU, through the backend in test_cuda_backend.py."""

import weakref

import numpy as np

from fastnn import kernels as K
from fastnn._core.kernel_table import KERNELS

_DTYPES = {np.dtype(t) for t in (np.float32, np.float64, np.int64, np.int32, np.uint8, np.bool_)}
_NUMERIC = {np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int64)}


class _Storage:
    def __init__(self, buf):
        self.buf = buf
        self.holders = weakref.WeakSet()


class DeviceArray:
    def __init__(self, storage, offset, shape):
        self._st, self._off, self._shape = storage, offset, tuple(int(s) for s in shape)
        storage.holders.add(self)

    @property
    def _a(self):
        n = int(np.prod(self._shape))
        return self._st.buf[self._off : self._off + n].reshape(self._shape)

    shape = property(lambda self: self._shape)
    dtype = property(lambda self: self._st.buf.dtype)
    ndim = property(lambda self: len(self._shape))
    size = property(lambda self: int(np.prod(self._shape)))
    device = property(lambda self: 0)

    @property
    def _sole_owner(self):
        return len(self._st.holders) == 1 and self._off == 0 and self.size == self._st.buf.size

    def numpy(self):
        return self._a.copy()

    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape
        for s in shape:
            if not isinstance(s, int):
                raise TypeError("DeviceArray.reshape: shape entries must be ints")
        return DeviceArray(self._st, self._off, self._a.reshape(shape).shape)

    def narrow0(self, start, stop):
        if not 0 <= start <= stop <= self._shape[0]:
            raise ValueError("DeviceArray.narrow: rows out of range")
        row = self.size // self._shape[0] if self._shape[0] else 0
        return DeviceArray(self._st, self._off + start * row, (stop - start, *self._shape[1:]))

    def copy_(self, src):
        s = src._a if isinstance(src, DeviceArray) else np.asarray(src)
        if s.shape != self._shape:
            raise ValueError("DeviceArray.copy_: source shape does not match")
        self._a[...] = s.astype(self.dtype)
        return self

    def fill_(self, value):
        self._a[...] = np.asarray(value).astype(self.dtype)
        return self

    def clone(self):
        return _new(self._a.copy())

    def astype(self, dtype):
        return _new(self._a.astype(dtype))

    def _shares_memory(self, other):
        return np.shares_memory(self._a, other._a)


def _new(a):
    a = np.array(a, order="C")  # (np.ascontiguousarray would make 0-d arrays 1-d)
    if a.dtype not in _DTYPES:
        raise TypeError(f"unsupported dtype {a.dtype}")
    return DeviceArray(_Storage(a.reshape(-1).copy()), 0, a.shape)


def _dev(x, fn):
    if not isinstance(x, DeviceArray):
        raise TypeError(f"{fn}: expected a DeviceArray, got {type(x).__name__}")
    return x._a


def empty(shape, dtype="float32", device=-1):
    return _new(np.zeros(shape, dtype))


def from_numpy(a, device=-1):
    if not isinstance(a, np.ndarray):
        raise TypeError("from_numpy: expected a numpy.ndarray")
    return _new(a)


def _out(out, r):
    if out is None:
        return _new(r)
    o = _dev(out, "out")
    if o.shape != r.shape or o.dtype != r.dtype:
        raise ValueError("out: wrong shape or dtype")
    o[...] = r
    return out


_UNARY = {
    "neg": np.negative,
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "sign": np.sign,
    "log1p": np.log1p,
    "expm1": np.expm1,
    "sin": np.sin,
    "cos": np.cos,
    "floor": np.floor,
    "ceil": np.ceil,
}


def unary(op, x, *, out=None):
    a = _dev(x, op)
    if not (a.dtype.kind == "f" or (a.dtype == np.int64 and op in ("neg", "abs", "sign"))):
        raise ValueError(f"{op}: unsupported dtype {a.dtype}")
    with np.errstate(all="ignore"):
        return _out(out, _UNARY[op](a))


_BINARY = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "div": np.true_divide,
    "pow": np.power,
    "maximum": np.maximum,
    "minimum": np.minimum,
    "eq": np.equal,
    "ne": np.not_equal,
    "lt": np.less,
    "le": np.less_equal,
    "gt": np.greater,
    "ge": np.greater_equal,
}


def binary(op, a, b, *, out=None):
    scal = [not isinstance(v, DeviceArray) for v in (a, b)]
    if all(scal):
        raise TypeError(f"{op}: at least one operand must be a DeviceArray")
    arr = _dev(b if scal[0] else a, op)
    if scal[0] or scal[1]:
        if not isinstance(a if scal[0] else b, (int, float)):
            raise TypeError(f"{op}: scalar must be a Python int or float")
        s = np.asarray(a if scal[0] else b).astype(arr.dtype)
        x, y = (s, arr) if scal[0] else (arr, s)
    else:
        x, y = _dev(a, op), _dev(b, op)
        if x.dtype != y.dtype:
            raise TypeError(f"{op}: dtypes differ")
    if arr.dtype not in _NUMERIC or (arr.dtype.kind != "f" and op in ("div", "pow")):
        raise ValueError(f"{op}: unsupported dtype {arr.dtype}")
    with np.errstate(all="ignore"):
        r = np.asarray(_BINARY[op](x, y))
    if out is not None:
        o = _dev(out, op)
        for v in (a, b):
            if isinstance(v, DeviceArray) and v is not out and np.shares_memory(o, v._a):
                raise ValueError(f"{op}: 'out' must be a same-shaped input or disjoint")
    return _out(out, r)


def where(c, x, y):
    cc, xx, yy = _dev(c, "where"), _dev(x, "where"), _dev(y, "where")
    if cc.dtype != np.bool_ or xx.dtype != yy.dtype or xx.dtype not in _NUMERIC:
        raise TypeError("where: bad dtypes")
    return _new(np.where(cc, xx, yy))


def clamp(x, min=None, max=None, *, out=None):
    a = _dev(x, "clamp")
    if a.dtype not in _NUMERIC:
        raise ValueError("clamp: unsupported dtype")
    r = a
    if min is not None:
        r = np.where(r < np.asarray(min).astype(a.dtype), np.asarray(min).astype(a.dtype), r)
    if max is not None:
        r = np.where(r > np.asarray(max).astype(a.dtype), np.asarray(max).astype(a.dtype), r)
    return _out(out, np.asarray(r, a.dtype))


def reduce(op, x, dim=None, keepdim=False):
    a = _dev(x, op)
    if a.dtype in (np.bool_, np.uint8, np.int32):
        a = a.astype(np.int64)
    if op == "mean" and a.dtype.kind != "f":
        raise TypeError("mean needs a float array")
    fn = {
        "sum": np.sum,
        "mean": np.mean,
        "max": np.amax,
        "min": np.amin,
        "argmax": np.argmax,
        "argmin": np.argmin,
    }[op]
    if dim is None:
        r = fn(a.reshape(-1))
        return _new(np.asarray(r).reshape((1,) * a.ndim if keepdim else ()))
    return _new(np.asarray(fn(a, axis=dim, keepdims=keepdim)))


def permute(x, dims):
    return _new(np.transpose(_dev(x, "permute"), dims))


def broadcast_to(x, shape):
    return _new(np.broadcast_to(_dev(x, "broadcast_to"), tuple(shape)))


def strided_copy(x, shape, strides, offset=0):
    flat = _dev(x, "strided_copy").reshape(-1)
    n = int(np.prod(shape))
    out = np.empty(n, flat.dtype)
    for k, idx in enumerate(np.ndindex(*shape)):
        i = offset + sum(a * s for a, s in zip(idx, strides))
        if not 0 <= i < flat.size:
            raise ValueError("strided_copy: read out of bounds")
        out[k] = flat[i]
    return _new(out.reshape(shape))


def matmul(a, b, *, trans_a=False, trans_b=False, bias=None):
    x, y = _dev(a, "matmul"), _dev(b, "matmul")
    if x.dtype.kind != "f" or x.dtype != y.dtype or x.ndim not in (2, 3) or y.ndim not in (2, 3):
        raise TypeError("matmul: bad operands")
    if x.ndim == 2 and y.ndim == 3:
        raise ValueError("matmul: a 3-D 'b' needs a 3-D 'a'")
    return _new(
        K.matmul(
            x,
            y,
            trans_a=trans_a,
            trans_b=trans_b,
            bias=None if bias is None else _dev(bias, "matmul"),
        )
    )


def _kernel(name):
    def fn(*args, **kw):
        arrays = [_dev(a, name) if isinstance(a, DeviceArray) else a for a in args]
        if arrays[0].dtype.kind != "f":
            raise TypeError(f"{name}: float input needed")
        return _new(getattr(K, name)(*arrays, **kw))

    return fn


for _n in (n for n, (family, _) in KERNELS.items() if family == "activation"):
    globals()[_n] = _kernel(_n)


def _tuple_kernel(name):
    def fn(*args):
        arrays = [_dev(a, name) if isinstance(a, DeviceArray) else a for a in args]
        return tuple(_new(v) for v in getattr(K, name)(*arrays))

    return fn


for _n in (n for n, (family, devs) in KERNELS.items() if family == "rnn" and "cuda" in devs):
    globals()[_n] = _tuple_kernel(_n)


def softmax_cross_entropy(logits, target, **kw):
    w = kw.pop("weight")
    r = K.softmax_cross_entropy(
        _dev(logits, "sce"), _dev(target, "sce"), weight=None if w is None else _dev(w, "sce"), **kw
    )
    return tuple(_new(v) for v in r) if isinstance(r, tuple) else _new(r)


def binary_cross_entropy_with_logits(logits, target, *, weight, pos_weight, **kw):
    r = K.binary_cross_entropy_with_logits(
        _dev(logits, "bce"),
        _dev(target, "bce"),
        weight=None if weight is None else _dev(weight, "bce"),
        pos_weight=None if pos_weight is None else _dev(pos_weight, "bce"),
        **kw,
    )
    return tuple(_new(v) for v in r) if isinstance(r, tuple) else _new(r)


def _norm_kernel(name):
    """The CPU kernel on the storage views: batch_norm's running buffers move in place."""

    def fn(*args, **kw):
        arrays = [_dev(a, name) if isinstance(a, DeviceArray) else a for a in args]
        return tuple(None if v is None else _new(v) for v in getattr(K, name)(*arrays, **kw))

    return fn


for _n in (n for n, (family, _) in KERNELS.items() if family == "norm"):
    globals()[_n] = _norm_kernel(_n)


def philox_counters(dtype, n):
    return -(-int(n) // (4 if np.dtype(dtype).itemsize == 4 else 2))


def dropout(x, p, seed, offset):
    """The CPU kernel: the CUDA kernel draws the same mask for the same (seed, offset)."""
    a = _dev(x, "dropout")
    if a.dtype.kind != "f":
        raise TypeError("dropout: x must be float32 or float64")
    y, mask = K.dropout(np.ascontiguousarray(a), p, seed, offset)
    return _new(y), _new(mask)


def dropout_backward(grad, mask, p):
    g, m = _dev(grad, "dropout_backward"), _dev(mask, "dropout_backward")
    if g.dtype.kind != "f" or m.dtype != np.uint8 or m.shape != g.shape:
        raise TypeError("dropout_backward: bad grad / mask")
    return _new(K.dropout_backward(np.ascontiguousarray(g), np.ascontiguousarray(m), p))


def from_numpy_async(a, device=-1):
    """The non-blocking upload: on the emulation a plain copy, like from_numpy."""
    return from_numpy(a, device)


def _optim_kernel(name):
    """The CPU step on the storage views (updated in place), None entries kept."""

    def fn(*lists, **kw):
        def conv(v):
            if isinstance(v, (list, tuple)):
                return [None if a is None else _dev(a, name) for a in v]
            return v

        return getattr(K, name)(*[conv(v) for v in lists], **kw)

    return fn


for _n in (n for n, (family, devs) in KERNELS.items() if family == "optim" and "cuda" in devs):
    globals()[_n] = _optim_kernel(_n)
# ---- indexing and creation (csrc/bindings/cuda_indexing.cpp) ----------------------------------


def _view(x, shape, strides, offset, indices, index_strides, axis_sizes, axis_strides):
    """(flat x, element offsets, in-range mask) of an IndexView, walked like the kernels; the
    binding's checks: the view stays inside x for in-range indices, index reads inside arrays."""
    flat = _dev(x, "index view").reshape(-1)
    n = int(np.prod(shape, dtype=np.int64))
    grid = np.indices(shape).reshape(len(shape), n) if n else np.zeros((len(shape), 0), np.int64)
    off = np.full(n, offset, np.int64)
    lo = hi = offset
    for d, s in enumerate(strides):
        if not -flat.size <= s <= flat.size:  # the binding bounds each stride by x's size
            raise ValueError(f"stride {s} is out of range for an array of {flat.size}")
        off += grid[d] * s
        lo, hi = lo + min(0, (shape[d] - 1) * s), hi + max(0, (shape[d] - 1) * s)
    ok = np.ones(n, bool)
    for idx, istr, size, astr in zip(indices, index_strides, axis_sizes, axis_strides):
        a = _dev(idx, "indices").reshape(-1)
        if a.dtype != np.int64:
            raise TypeError("indices must be int64")
        io = np.zeros(n, np.int64)
        for d, s in enumerate(istr):
            if s < 0:
                raise ValueError("index_strides must be >= 0")
            io += grid[d] * s
        if n and io.max() >= a.size:
            raise ValueError("index array read out of bounds")
        k = a[io] if n else np.zeros(0, np.int64)
        k = np.where(k < 0, k + size, k)
        if not -flat.size <= astr <= flat.size:  # the binding's bound on axis strides too
            raise ValueError(f"axis stride {astr} is out of range for an array of {flat.size}")
        ok &= (k >= 0) & (k < size)
        off += np.where(ok, k, 0) * astr
        if size > 0:
            lo, hi = lo + min(0, (size - 1) * astr), hi + max(0, (size - 1) * astr)
    if n and (lo < 0 or hi >= flat.size):
        raise ValueError("index view reaches outside x")
    return flat, off, ok


def index_gather(x, shape, strides, offset, indices, index_strides, axis_sizes, axis_strides):
    flat, off, ok = _view(
        x, shape, strides, offset, indices, index_strides, axis_sizes, axis_strides
    )
    out = np.zeros(off.size, flat.dtype)
    out[ok] = flat[off[ok]]
    return _new(out.reshape(shape))


def index_scatter(
    x, value, shape, strides, offset, indices, index_strides, axis_sizes, axis_strides
):
    v = _dev(value, "value")
    if v.dtype != x.dtype:
        raise TypeError("index_scatter: value must have x's dtype")
    if x._shares_memory(value):
        raise ValueError("index_scatter: value overlaps x")
    flat, off, ok = _view(
        x, shape, strides, offset, indices, index_strides, axis_sizes, axis_strides
    )
    v = np.broadcast_to(v, tuple(shape)).reshape(-1)
    flat[off[ok]] = v[ok]


def index_add(x, src, shape, strides, offset, indices, index_strides, axis_sizes, axis_strides,
              scale_by_count=False):  # fmt: skip
    s = _dev(src, "src")
    if x.dtype not in _NUMERIC or s.dtype != x.dtype or s.shape != tuple(shape):
        raise TypeError("index_add: src must have x's dtype (float32/float64/int64) and shape")
    flat, off, ok = _view(
        x, shape, strides, offset, indices, index_strides, axis_sizes, axis_strides
    )
    np.add.at(flat, off[ok], s.reshape(-1)[ok])  # in position order, like the sorted runs
    if scale_by_count:
        keys, counts = np.unique(off[ok], return_counts=True)
        many = counts > 1
        one = flat.dtype.type(1)
        flat[keys[many]] *= one / counts[many].astype(flat.dtype)


def first_bad_index(indices, sizes, allow_negative=True):
    for j, (idx, size) in enumerate(zip(indices, sizes)):
        a = _dev(idx, "indices").reshape(-1)
        bad = (a < -size) | (a >= size) if allow_negative else (a < 0) | (a >= size)
        if bad.any():
            pos = int(np.argmax(bad))
            return j, pos, int(a[pos])
    return None


def nonzero(mask):
    m = _dev(mask, "nonzero")
    if m.dtype != np.bool_:
        raise TypeError("nonzero: mask must be bool")
    return _new(np.argwhere(m).astype(np.int64).reshape(-1, m.ndim))


def arange(v0, v1, n, dtype, device=-1):
    dt = np.dtype(dtype)
    if dt not in _NUMERIC:
        raise TypeError("arange: float32, float64 or int64")
    i = np.arange(n, dtype=np.int64)
    with np.errstate(over="ignore"):
        if dt.kind == "f":
            t = dt.type
            out = (t(v0) + i.astype(dt) * t(t(v1) - t(v0))).astype(dt)
        else:
            d = np.int64(np.uint64(np.int64(v1)) - np.uint64(np.int64(v0)))
            out = np.int64(v0) + i * d
    if n > 0:
        out[0] = v0
    if n > 1:
        out[1] = v1
    return _new(out)


def linspace(start, stop, delta, step, div, step_zero, endpoint, n, dtype, device=-1):
    i = np.arange(n, dtype=np.float64)
    y = (i / div) * delta if step_zero else i * step
    y = y + start
    if endpoint and n > 1:
        y[-1] = stop
    dt = np.dtype(dtype)
    if dt.kind in "iu":
        y = np.floor(y)
    return _new(y.astype(dt))


def int_pow(a, b):
    x, y = _dev(a, "int_pow"), _dev(b, "int_pow")
    if x.dtype != np.int64 or y.dtype != np.int64:
        raise TypeError("int_pow: int64 arrays")
    if (y < 0).any():
        raise ValueError("Integers to negative integer powers are not allowed.")
    with np.errstate(over="ignore"):
        return _new(np.power(x, y))


def int_matmul(a, b, trans_a=False, trans_b=False):
    x, y = _dev(a, "int_matmul"), _dev(b, "int_matmul")
    if x.dtype != np.int64 or y.dtype != np.int64 or x.ndim not in (2, 3) or y.ndim not in (2, 3):
        raise TypeError("int_matmul: int64 arrays of 2 or 3 dimensions")
    x = np.swapaxes(x, -1, -2) if trans_a else x
    y = np.swapaxes(y, -1, -2) if trans_b else y
    return _new(np.matmul(x, y))


def _conv_kernel(name):
    """The CPU kernel of the conv family on the storage arrays; check= (the CUDA max pooling
    backwards' switch for the host-synchronizing range check) has no CPU twin and is dropped."""

    def fn(*args, check=True, **kw):
        arrays = [_dev(a, name) if isinstance(a, DeviceArray) else a for a in args]
        kw = {k: _dev(v, name) if isinstance(v, DeviceArray) else v for k, v in kw.items()}
        r = getattr(K, name)(*arrays, **kw)
        return tuple(None if v is None else _new(v) for v in r) if isinstance(r, tuple) else _new(r)

    return fn


for _n in (n for n, (family, devs) in KERNELS.items() if family == "conv" and "cuda" in devs):
    globals()[_n] = _conv_kernel(_n)
