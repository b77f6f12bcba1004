"""The CUDA backend's indexing and creation ops on the device (csrc/cuda/indexing.cu,
creation.cu): advanced getitem / setitem and their backward, take_along_axis, scatter, the
embedding lookup, arange / linspace / eye and the integer power, with the cpu backend's
signatures and numpy's results.

Host synchronizations, all where torch synchronizes too, except the index check:
- a boolean mask index needs the number of True entries to size the result (torch: the same);
- integer index arrays are checked before use: the first out-of-range entry is read back and
  raised as numpy's IndexError. torch checks them with a device-side assertion instead (no sync,
  but a fault kills the CUDA context); this backend keeps a clean IndexError and a call that
  fails changes nothing, at the cost of one small read-back per indexing call. The backward of
  an indexing op does not check again (its forward already did).
- an integer power checks its exponents for negative values (numpy raises there).

Repeated indices: a gather's backward (getitem_backward, take_along_axis_backward,
scatter(reduce='add'), embedding_backward) adds them deterministically in index order (the
sorted index-add of indexing.cu), bit for bit the cpu backend's np.add.at result. A setitem or a
plain scatter with repeated indices keeps one of the written values (which one is unspecified,
as in torch; numpy keeps the last).
"""

import builtins
import math
import operator

import numpy as np

from . import cuda_index as _plan

_F32, _F64, _I64 = np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int64)
_ADDABLE = (_F32, _F64, _I64)


_BACKEND = []  # fastnn._devices.cuda, which imports this module and registers itself


def bind(backend):
    """Called once by fastnn._devices.cuda: the module whose storage helpers these ops use."""
    _BACKEND[:] = [backend]


def _be():
    return _BACKEND[0]


class DeviceOps:
    """``ops`` for cuda_index.plan with DeviceArrays: host index arrays stay on the host until
    they are prepared (a host mask is resolved by numpy, no device sync)."""

    @staticmethod
    def asarray(p):
        return p if _be()._is_dev(p) else np.asarray(p)

    @staticmethod
    def nonzero(mask):
        be = _be()
        if not be._is_dev(mask):
            return _plan.NumpyOps.nonzero(mask)
        if mask.ndim == 0:
            return [], int(mask.numpy())  # a 0-d mask: one read-back, like torch
        coords = be._mod.nonzero(mask)  # (count, k); reads the count back, like torch
        count, k = coords.shape
        cols = [be._mod.strided_copy(coords, [count], [k], j) for j in range(k)]
        return cols, count

    @staticmethod
    def prepare(a, bshape):
        be = _be()
        if not be._is_dev(a):
            a = be.from_numpy(np.ascontiguousarray(a, dtype=np.int64))
        elif a.dtype != _I64:
            a = a.astype(_I64)
        if tuple(a.shape) != tuple(bshape):
            a = be.broadcast_to(a, bshape)
        return a.reshape(-1)


def _own(arrays, a):
    """Index arrays that do not share ``a``'s memory (a scatter must not write its own index)."""
    return [i.clone() if i._shares_memory(a) else i for i in arrays]


def _check(p, checked):
    """IndexError (numpy's message) for the first out-of-range entry of the arrays in p.indices
    whose ``checked`` flag is False (mask coordinates are in range by construction)."""
    todo = [j for j, c in enumerate(checked) if not c]
    if not todo:
        return
    bad = _be()._mod.first_bad_index([p.indices[j] for j in todo], [p.axis_sizes[j] for j in todo])
    if bad is not None:
        raise _plan.bad_index_error(p, (todo[bad[0]], bad[1], bad[2]))


def plan(shape, index, check=True):
    """The device Plan of x[index] (None when the kernel view does not fit), bounds-checked."""
    p = _plan.plan(shape, index, DeviceOps)
    if p is not None and check:
        _check(p, p.from_mask)
    return p


# ---- getitem / setitem ------------------------------------------------------------------------


def getitem(a, p):
    return _be()._mod.index_gather(a, *p.view_args()).reshape(p.out_shape)


def setitem(a, p, value):
    """a[index] = value for the plan p of a[index]: value cast to a's dtype, broadcast to the
    result's shape (numpy's rules), then written through the view."""
    be = _be()
    if isinstance(value, be._SCALARS) or (isinstance(value, np.ndarray) and value.ndim == 0):
        v = be.full((), value, a.dtype)
    else:
        v = be._cast(be._dev(value), a.dtype)
        if tuple(v.shape) != p.out_shape:
            try:
                np.broadcast_shapes(tuple(v.shape), p.out_shape)
            except ValueError:
                raise ValueError(
                    f"shape mismatch: value array of shape {tuple(v.shape)} could not be "
                    f"broadcast to indexing result of shape {p.out_shape}"
                ) from None
            v = be.broadcast_to(v, p.out_shape)
        v = v.reshape(p.shape)
        if v._shares_memory(a):
            v = v.clone()
    args = p.view_args()
    args[3] = _own(args[3], a)
    be._mod.index_scatter(a, v, *args)


def getitem_backward(g, shape, p):
    """zeros(shape) with g added through the view of p; repeated indices accumulate."""
    be = _be()
    out = be.zeros(shape, g.dtype)
    g2 = g.reshape(p.shape)
    if not p.has_int_array:  # masks, ints and slices name each element once: a plain write
        be._mod.index_scatter(out, g2, *p.view_args())
    elif g.dtype in _ADDABLE:
        be._mod.index_add(out, g2, *p.view_args())
    else:
        out = be._cast(getitem_backward(g.astype(_I64), shape, p), g.dtype)
    return out


# ---- take_along_axis / scatter ------------------------------------------------------------------


def _index_array(idx, what):
    be = _be()
    if not be._is_dev(idx):
        idx = np.asarray(idx)
    if np.dtype(idx.dtype).kind not in "iu":
        raise IndexError(f"`{what}` must be an integer array")
    if not be._is_dev(idx):
        return be.from_numpy(np.ascontiguousarray(idx, dtype=np.int64))
    return idx if idx.dtype == _I64 else idx.astype(_I64)


def _read_strides(shape, over):
    """Element strides reading a contiguous array of ``shape`` over the same-rank ``over``
    (0 where it is broadcast)."""
    cs = _plan.contiguous_strides(shape)
    return [0 if n == 1 and m != 1 else s for n, m, s in zip(shape, over, cs)]


def _axis_view(a_shape, idx, axis, over, what="indices"):
    """(idx, view args) of the take_along_axis mesh over the shape ``over``: element i of the
    view is a[i with i[axis] replaced by idx[i]]."""
    idx = _index_array(idx, what)
    size = a_shape[axis]
    bad = _be()._mod.first_bad_index([idx], [size])
    if bad is not None:
        raise IndexError(f"index {bad[2]} is out of bounds for axis {axis} with size {size}")
    strides = _read_strides(a_shape, over)
    strides[axis] = 0
    args = (
        list(over),
        strides,
        0,
        [idx],
        [_read_strides(tuple(idx.shape), over)],
        [size],
        [_plan.contiguous_strides(a_shape)[axis]],
    )
    return idx, args


def take_along_axis(a, idx, axis):
    be = _be()
    if axis is None:
        return take_along_axis(a.reshape(-1), idx, 0)
    if idx.ndim != a.ndim:
        raise ValueError("`indices` and `arr` must have the same number of dimensions")
    ax = be._axes(axis, a.ndim)[0]
    ish = tuple(idx.shape)
    try:
        over = tuple(
            ish[d] if d == ax else n
            for d, n in enumerate(np.broadcast_shapes(_drop(a.shape, ax), _drop(ish, ax)))
        )
    except ValueError:
        raise ValueError(
            f"shape mismatch: indexing arrays could not be broadcast together with shapes "
            f"{tuple(a.shape)} {ish}"
        ) from None
    _, args = _axis_view(tuple(a.shape), idx, ax, over)
    return be._mod.index_gather(a, *args)


def _drop(shape, ax):
    """shape with dimension ax set to 1 (it does not broadcast in take_along_axis)."""
    return tuple(1 if d == ax else n for d, n in enumerate(shape))


def take_along_axis_backward(g, shape, idx, axis):
    be = _be()
    shape = tuple(shape)
    if axis is None:
        n = builtins.int(np.prod(shape, dtype=np.int64))
        return take_along_axis_backward(g, (n,), idx, 0).reshape(shape)
    ax = be._axes(axis, len(shape))[0]
    if g.dtype not in _ADDABLE:
        return be._cast(take_along_axis_backward(g.astype(_I64), shape, idx, axis), g.dtype)
    out = be.zeros(shape, g.dtype)
    _, args = _axis_view(shape, idx, ax, tuple(g.shape))
    be._mod.index_add(out, g, *args)
    return out


def scatter(a, idx, src, axis, reduce=None):
    """A copy of a with src written at idx along axis (torch.scatter); 'add' accumulates."""
    be = _be()
    a = be._dev(a)
    ax = be._axes(axis, a.ndim)[0]
    ish = tuple(idx.shape)
    if len(ish) != a.ndim:
        raise ValueError("`indices` and `arr` must have the same number of dimensions")
    for d, (m, n) in enumerate(zip(ish, a.shape)):
        if d != ax and m > n:
            raise IndexError(f"index {m - 1} is out of bounds for axis {d} with size {n}")
    out = a.clone()
    strides = _plan.contiguous_strides(tuple(a.shape))
    _, args = _axis_view(tuple(a.shape), idx, ax, ish)
    args = list(args)
    args[1] = [0 if d == ax else s for d, s in enumerate(strides)]  # a's strides, not broadcast
    if isinstance(src, be._SCALARS) or (not be._is_dev(src) and np.ndim(src) == 0):
        v = be.full((), src, out.dtype)
    else:
        v = be._dev(src)
        if v.ndim:
            v = be.getitem(v, tuple(slice(0, n) for n in ish))
        v = be._cast(v, out.dtype)
    if reduce == "add":
        if out.dtype not in _ADDABLE:
            return be._cast(scatter(a.astype(_I64), idx, src, axis, reduce), a.dtype)
        if tuple(v.shape) != ish:
            v = be.broadcast_to(v, ish)
        be._mod.index_add(out, v, *args)
    else:
        be._mod.index_scatter(out, v, *args)
    return out


# ---- embedding ----------------------------------------------------------------------------------


def _rows(indices, num, fn):
    """indices as a flat int64 DeviceArray, every entry in [0, num) (else the cpu backend's
    IndexError)."""
    idx = _index_array(indices, "indices").reshape(-1)
    bad = _be()._mod.first_bad_index([idx], [num], allow_negative=False)
    if bad is not None:
        raise IndexError(
            f"{fn}: index {bad[2]} at position {bad[1]} is out of range for an embedding table "
            f"of {num} rows (valid indices are 0 to {num - 1})"
        )
    return idx


def _row_view(n, num, dim, idx):
    return ([n, dim], [0, 1], 0, [idx], [[1, 0]], [num], [dim])


def embedding(weight, indices):
    be = _be()
    num, dim = weight.shape
    idx = _rows(indices, num, "embedding")
    out = be._mod.index_gather(weight, *_row_view(idx.shape[0], num, dim, idx))
    return out.reshape((*tuple(indices.shape), dim))


def embedding_backward(grad, indices, num_weights, padding_idx=None, scale_grad_by_freq=False):
    be = _be()
    num = int(num_weights)
    if padding_idx is not None and not -num <= int(padding_idx) < num:
        raise ValueError(
            f"embedding_backward: padding_idx {padding_idx} is out of range for {num} rows"
        )
    idx = _rows(indices, num, "embedding_backward")
    dim = grad.shape[-1]
    if grad.dtype not in (_F32, _F64):
        g64 = embedding_backward(grad.astype(_F64), indices, num, padding_idx, scale_grad_by_freq)
        return g64.astype(grad.dtype)
    out = be.zeros((num, dim), grad.dtype)
    g = grad.reshape((idx.shape[0], dim))
    be._mod.index_add(
        out, g, *_row_view(idx.shape[0], num, dim, idx), scale_by_count=bool(scale_grad_by_freq)
    )
    if padding_idx is not None:
        out.narrow0(int(padding_idx) % num, int(padding_idx) % num + 1).fill_(0)
    return out


def embedding_renorm_(weight, indices, max_norm, norm_type=2.0):
    """Rows of weight named in indices whose norm exceeds max_norm scaled to max_norm / (norm +
    1e-7), in place; the norms in float64 like the cpu kernel. A row named twice is scaled once:
    every copy computes the same new row from the old one, so whichever write lands is right."""
    be = _be()
    num, dim = weight.shape
    idx = _rows(indices, num, "embedding_renorm_")
    n = idx.shape[0]
    if n == 0 or dim == 0:
        return weight
    rows = be._mod.index_gather(weight, *_row_view(n, num, dim, idx)).astype(_F64)
    p = float(norm_type)
    mag = be.abs(rows)
    if math.isinf(p) and p > 0:
        norm = be.amax(mag, axis=1)
    elif p == 0:
        norm = be.sum(be.ne(rows, 0).astype(_F64), axis=1)
    elif p == 1:
        norm = be.sum(mag, axis=1)
    elif p == 2:
        norm = be.sqrt(be.sum(be.mul(rows, rows), axis=1))
    else:
        norm = be.pow(be.sum(be.pow(mag, p), axis=1), 1.0 / p)
    scale = be.where(be.gt(norm, float(max_norm)), be.div(float(max_norm), be.add(norm, 1e-7)), 1.0)
    new = be._cast(be.mul(rows, scale.reshape((n, 1))), weight.dtype)
    be._mod.index_scatter(weight, new, *_row_view(n, num, dim, idx))
    return weight


# ---- creation ---------------------------------------------------------------------------------


def _plain(*vals):
    """Python ints / floats (np.float64 is a float): numpy converts them without a dtype of
    their own, so the float64 rules below hold."""
    return builtins.all(type(v) in (int, float, np.float64) for v in vals)


def arange_params(start, end, step, dt):
    """(n, v0, v1, compute dtype) of numpy.arange for the device fill, or None when numpy's rule
    needs the host (bool ranges, bounds that are not Python numbers). numpy writes the first two
    values cast to the dtype, then fills v0 + i * (v1 - v0) in the dtype's arithmetic; narrower
    integers fill in int64 and wrap the same way when cast."""
    if dt.kind == "b" or not _plain(start, end, step) or step == 0:
        return None
    n = builtins.max(0, math.ceil((end - start) / step))  # numpy's length rule
    compute = dt if dt in (_F32, _F64) else _I64
    narrow = dt.type if dt.kind in "iu" else compute.type
    v0 = narrow(start)
    v1 = narrow(start + step) if n > 1 else v0
    return n, v0.item(), v1.item(), compute


def arange(start, end, step, dtype):
    """numpy.arange's values on the device; None when they need the host (arange_params)."""
    be = _be()
    dt = np.dtype(dtype)
    params = arange_params(start, end, step, dt)
    if params is None:
        return None
    n, v0, v1, compute = params
    return be._cast(be._mod.arange(v0, v1, n, compute), dt)


def linspace_params(start, end, steps):
    """(start, stop, delta, step, div, step_zero, n) of numpy.linspace(start, end, steps) in
    float64, or None for bounds that are not Python numbers (numpy's dtype rules for those run
    on the host). The device computes i * step + start (i / div * delta + start when the step
    underflows to 0) and sets the last value to stop."""
    if not _plain(start, end):
        return None
    num = operator.index(steps)
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    div = num - 1
    s, e = float(start), float(end)
    delta = e - s
    if div > 0:
        step = delta / div
        step_zero = step == 0
    else:  # 0 or 1 samples: numpy multiplies by delta
        step, step_zero = delta, False
    return s, e, delta, step, div, step_zero, num


def linspace(start, end, steps, dtype):
    """numpy.linspace(start, end, steps) (endpoint included) on the device; None when the
    bounds need the host (linspace_params)."""
    be = _be()
    params = linspace_params(start, end, steps)
    if params is None:
        return None
    s, e, delta, step, div, step_zero, num = params
    return be._mod.linspace(s, e, delta, step, div, step_zero, True, num, np.dtype(dtype))


def eye(n, m, dtype):
    be = _be()
    n = operator.index(n)
    m = n if m is None else operator.index(m)
    out = be.zeros((n, m), dtype)
    k = builtins.min(n, m)
    if k > 0:
        one = be.full((), 1, out.dtype)
        # the diagonal is every (m + 1)-th element; one element needs no stride (and a (1, 1)
        # matrix has no element m + 1 away, which the binding's bounds check would refuse)
        be._mod.index_scatter(out, one, [k], [m + 1 if k > 1 else 1], 0, [], [], [], [])
    return out


def int_pow(a, b, rt):
    """a ** b for an integer result dtype rt, numpy's wrap-around; negative exponents raise."""
    be = _be()
    a64 = be._cast(a, _I64) if be._is_dev(a) else be.full((), a, _I64)
    b64 = be._cast(b, _I64) if be._is_dev(b) else be.full((), b, _I64)
    if not be._is_dev(b) and b < 0:
        raise ValueError("Integers to negative integer powers are not allowed.")
    return be._cast(be._mod.int_pow(a64, b64), rt)


# ---- index-shaped math: flips, triangles, rounding toward integers -----------------------------


def flip(a, axes):
    """numpy.flip as one strided copy (negative strides); axes None flips every axis."""
    be = _be()
    a = be._dev(a)
    axes = tuple(range(a.ndim)) if axes is None else be._axes(axes, a.ndim)
    if not axes:
        return a.clone()
    shape = tuple(a.shape)
    strides = _plan.contiguous_strides(shape)
    offset = 0
    for ax in axes:
        if shape[ax] > 0:
            offset += (shape[ax] - 1) * strides[ax]
        strides[ax] = -strides[ax]
    if builtins.int(np.prod(shape, dtype=np.int64)) == 0:
        return be.empty(shape, a.dtype)
    return be._mod.strided_copy(a, list(shape), strides, offset)


def triangle(a, k, lower):
    """numpy.tril (lower) / triu of the last two dimensions: a where the diagonal offset
    j - i is <= k (>= k for triu), else 0; None below 2 dimensions (numpy's 1-d rule: host)."""
    be = _be()
    a = be._dev(a)
    if a.ndim < 2:
        return None
    n, m = a.shape[-2:]
    i = be.arange(0, n, 1, _I64).reshape((n, 1))
    j = be.arange(0, m, 1, _I64).reshape((1, m))
    d = be.sub(j, i)
    keep = be.le(d, int(k)) if lower else be.ge(d, int(k))
    return be.where(keep, a, be.full((), 0, a.dtype))


def rounding(name):
    """floor / ceil / trunc: the float kernels; integers and bools are already whole (numpy
    keeps their dtype)."""

    def op(x):
        be = _be()
        x = be._dev(x)
        if x.dtype.kind != "f":
            return x.clone()
        if name == "trunc":  # toward zero: floor above 0, ceil below (-0.5 -> -0.0 like numpy)
            return be.where(be.ge(x, 0), be._mod.unary("floor", x), be._mod.unary("ceil", x))
        return be._mod.unary(name, x)

    op.__name__ = name
    return op


# ---- matmul outside the float kernel's dtypes ---------------------------------------------------


def matmul(a, b, trans_a, trans_b, bias):
    """op(a) @ op(b) (+ bias) for 2-d / 3-d device operands the float kernel does not take as
    they are: integer or bool products (the int64 kernel, wrapping like numpy, then cast; bool is
    numpy's or-of-ands) and mixed dtypes (cast to numpy's result dtype first). None for other
    shapes or a bias of another dtype (numpy's matmul and casting rules run on the host)."""
    be = _be()
    if not (be._is_dev(a) and be._is_dev(b)) or a.ndim not in (2, 3) or b.ndim not in (2, 3):
        return None
    rt = np.result_type(a.dtype, b.dtype)
    if bias is not None and not (be._is_dev(bias) and bias.dtype == rt):
        return None
    if rt.kind == "f":
        a2, b2 = be._cast(a, rt), be._cast(b, rt)
        if a2.ndim == 2 and b2.ndim == 3:
            a2 = be.broadcast_to(a2, (b2.shape[0], *a2.shape))
        return be._mod.matmul(a2, b2, trans_a=bool(trans_a), trans_b=bool(trans_b), bias=bias)
    r = be._mod.int_matmul(be._cast(a, _I64), be._cast(b, _I64), bool(trans_a), bool(trans_b))
    r = be.ne(r, 0) if rt.kind == "b" else be._cast(r, rt)
    return r if bias is None else be._cast(be.add(r, bias), rt)


def roll(a, shifts, axes):
    """numpy.roll: per axis, the last `shift` entries moved to the front (two block copies);
    axes None rolls the flattened array. Shifts on a repeated axis add up, as in numpy."""
    be = _be()
    a = be._dev(a)
    if axes is None:
        return roll(a.reshape(-1), shifts, 0).reshape(tuple(a.shape))
    shifts, axes = np.broadcast_arrays(np.asarray(shifts), np.asarray(axes))
    total = {}
    for s, ax in zip(shifts.reshape(-1).tolist(), axes.reshape(-1).tolist()):
        ax = be._axes(int(ax), a.ndim)[0]
        total[ax] = total.get(ax, 0) + int(s)
    out = a
    for ax, s in sorted(total.items()):
        n = a.shape[ax]
        s = s % n if n else 0
        if s == 0:
            continue
        head = (slice(None),) * ax
        out = be.concatenate(
            [be.getitem(out, (*head, slice(n - s, n))), be.getitem(out, (*head, slice(0, n - s)))],
            ax,
        )
    return out.clone() if out is a else out
