"""The CUDA backend: storage is a ``fastnn._cuda.DeviceArray`` (contiguous, on the current GPU).

Every name in ``fastnn._devices.OPS`` is defined here with the cpu backend's signature and numpy's
semantics (dtype promotion with weak Python scalars, broadcasting, ``out=`` for the in-place
arithmetic). The hot ops of the example programs' models (matmul with bias, activations, softmax /
cross-entropy, reductions over one dimension, element-wise arithmetic, comparisons, optimizer
steps, conv2d and pooling) run on device kernels. Ops without a device kernel that are not hot
compose device ops where that is cheap, or take a round trip through the host (to_numpy -> cpu
backend -> from_numpy), marked "[host]" below; those are correct but synchronize and copy.

Differences from the cpu backend (numpy views): ``permute``, ``broadcast_to`` and indexing that
does not select one contiguous block return copies, not views, so writes through them do not
reach the base array. New arrays go to the current CUDA device (fastnn.cuda.set_device).

Importing this module never touches the device: it only loads fastnn._cuda when it was built,
and defines ``array_type``; ``fastnn._devices`` registers it for DeviceArrays.
"""

import builtins
import math
import sys

import numpy as np

from .. import cuda as _cuda_pkg
from .._core import random as _random
from .._core.device import device as _device
from ..cuda import kernels  # the raw CUDA kernels (fastnn.kernels' CUDA twins)
from ..cuda import random as _cuda_random
from . import cpu as _cpu
from . import cuda_gather as _gather  # the indexing / creation ops on the device

_gather.bind(sys.modules[__name__])
_mod = _cuda_pkg._module()  # fastnn._cuda, or None when not built / not loadable
array_type = _mod.DeviceArray if _mod is not None else None

_F32, _F64, _I64 = np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int64)
_BOOL = np.dtype(np.bool_)
# dtypes a DeviceArray can hold
_DTYPES = frozenset(map(np.dtype, (np.float32, np.float64, np.int64, np.int32, np.uint8, np.bool_)))
_SCALARS = (bool, int, float, np.generic)
_DEVICES = {}


def _ext():
    """fastnn._cuda (RuntimeError saying why when it is missing or there is no GPU)."""
    if _mod is None:
        _cuda_pkg._require()
    return _mod


def _is_dev(x):
    return array_type is not None and x.__class__ is array_type


def _check_dtype(dt):
    if dt not in _DTYPES:
        raise TypeError(
            f"fastnn CUDA tensors hold float32, float64, int64, int32, uint8 or bool; got {dt}"
        )


def _py(x):
    """A Python scalar from a numpy scalar or 0-d array (bools as ints, for the bindings)."""
    if isinstance(x, (np.ndarray, np.generic)):
        x = x.item()
    return int(x) if isinstance(x, bool) else x


def _dev(x):
    """A DeviceArray for an operand (DeviceArray, numpy array, list or scalar)."""
    return x if _is_dev(x) else asarray(x)


def _compute(dt):
    """The dtype the generic kernels compute in for a result dtype (f32, f64 or i64)."""
    return dt if dt.kind == "f" else _I64


def _cast(a, dt):
    return a if a.dtype == dt else a.astype(dt)


# ---- host round trips ([host]) ----------------------------------------------------------------


def _to_host(x):
    if _is_dev(x):
        return x.numpy()
    if isinstance(x, tuple):
        return tuple(_to_host(v) for v in x)
    if isinstance(x, list):
        return [_to_host(v) for v in x]
    return x


def _to_dev(x):
    if isinstance(x, np.ndarray):
        return from_numpy(x)
    if isinstance(x, np.generic):
        return from_numpy(np.asarray(x))
    if isinstance(x, tuple):
        return tuple(_to_dev(v) for v in x)
    return x


def _host(fn, *args, **kwargs):
    """[host] fn (a cpu-backend op) on host copies of the arguments; results back on the GPU."""
    out = fn(*_to_host(args), **{k: _to_host(v) for k, v in kwargs.items()})
    return _to_dev(out)


# ---- storage ----------------------------------------------------------------------------------


def device_of(a):
    index = a.device
    dev = _DEVICES.get(index)
    if dev is None:
        dev = _DEVICES[index] = _device("cuda", index)
    return dev


def asarray(obj, dtype=None):
    """A DeviceArray from a DeviceArray (cast when dtype differs), a scalar (filled on the device,
    no host copy) or nested lists / numpy arrays (copied to the device)."""
    if _is_dev(obj):
        return obj if dtype is None else _cast(obj, np.dtype(dtype))
    if isinstance(obj, _SCALARS):
        dt = np.dtype(dtype) if dtype is not None else np.asarray(obj).dtype
        return full((), obj, dt)
    return from_numpy(np.asarray(obj, dtype=dtype))


def from_numpy(a, non_blocking=False):
    """A DeviceArray copy of a host array. non_blocking: the copy is queued on the current stream
    and the host does not wait for it (straight from pinned memory, through pinned staging
    otherwise: the source may be reused at once either way)."""
    a = np.asarray(a)
    _check_dtype(a.dtype)
    if non_blocking:
        return _ext().from_numpy_async(a)
    return _ext().from_numpy(a)


def to_numpy(a):
    return a.numpy()


def wrap(x):
    return x if _is_dev(x) else asarray(x)


def copy(a):
    return a.clone()


def copyto(dst, src):
    """dst[...] = src, broadcasting src and casting its dtype (numpy's casting='unsafe')."""
    if isinstance(src, _SCALARS):
        dst.fill_(_py(src))
        return
    src = _dev(src)
    if tuple(src.shape) != tuple(dst.shape):
        src = broadcast_to(src, dst.shape)
    elif src._shares_memory(dst):
        src = src.clone()  # the copy is a memcpy: overlapping ranges need a staging copy
    dst.copy_(src)


def is_fresh(a):
    """True when no other array views ``a``'s memory, so the engine may adopt it as a .grad."""
    return a._sole_owner


def is_transposed(a):
    """Always False: a device array's transpose is a copy (permute), never a strided view."""
    return False


def iadd(a, b):
    add(a, b, out=a)


def fill(a, value):
    a.fill_(_py(value))


def astype(a, dtype):
    dt = np.dtype(dtype)
    _check_dtype(dt)
    return a.astype(dt)


def ascontiguous(a):
    return a  # DeviceArrays are always C-contiguous


def _shape(shape):
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(s) for s in shape)


def empty(shape, dtype=np.float64):
    dt = np.dtype(dtype)
    _check_dtype(dt)
    return _ext().empty(_shape(shape), dt)


def zeros(shape, dtype=np.float64):
    return empty(shape, dtype).fill_(0)


def ones(shape, dtype=np.float64):
    return empty(shape, dtype).fill_(1)


def full(shape, value, dtype):
    return empty(shape, dtype).fill_(_py(value))


def arange(start, end, step, dtype):
    r = _gather.arange(start, end, step, dtype)
    if r is None:  # [host] bool ranges and non-Python-number bounds: numpy's own rules
        r = from_numpy(np.arange(start, end, step, dtype=dtype))
    return r


def linspace(start, end, steps, dtype):
    r = _gather.linspace(start, end, steps, dtype)
    if r is None:  # [host] non-Python-number bounds (numpy's dtype rules for them)
        r = from_numpy(np.linspace(start, end, steps, dtype=dtype))
    return r


def eye(n, m=None, dtype=np.float64):
    return _gather.eye(n, m, np.dtype(dtype))


# ---- random: float fills from the CUDA Philox generator (fastnn.cuda.random) -----------------


def rand(shape, dtype):
    dt = np.dtype(dtype)
    if dt.kind != "f":
        return astype(rand(shape, _F32), dt)
    return kernels.uniform_(empty(shape, dt), 0.0, 1.0)


def randn(shape, dtype):
    dt = np.dtype(dtype)
    if dt.kind != "f":
        return astype(randn(shape, _F64), dt)
    return kernels.normal_(empty(shape, dt), 0.0, 1.0)


def randint(low, high, shape, dtype):
    return from_numpy(_cpu.randint(low, high, shape, dtype))  # [host] the numpy generator


def normal_(a, mean, std):
    if a.dtype.kind == "f":
        kernels.normal_(a, float(mean), float(std))
    else:  # [host] integer tensors: numpy's draw, truncated like the cpu backend
        a.copy_(_random.generator().normal(mean, std, tuple(a.shape)))


def uniform_(a, low, high):
    if a.dtype.kind == "f":
        kernels.uniform_(a, float(low), float(high))
    else:  # [host]
        a.copy_(_random.generator().uniform(low, high, tuple(a.shape)))


def bernoulli(p, shape, dtype):
    """1 with probability p, else 0 (dropout masks)."""
    return astype(lt(rand(shape, _F32), float(p)), dtype)


def dropout(x, p, seed=None, offset=None):
    """(y, uint8 mask) in one launch (float dtypes) from the Philox stream (seed, offset), the
    CUDA generator's without them; the mask is the CPU kernel's for the same stream."""
    if (seed is None) != (offset is None):
        raise ValueError("dropout: give both seed and offset, or neither")
    if seed is None:
        seed, offset = _cuda_random.next_stream(_ext().philox_counters(x.dtype, x.size))
    return _ext().dropout(x, float(p), int(seed), int(offset))


def dropout_backward(grad, mask, p):
    return _ext().dropout_backward(grad, mask, float(p))


# ---- element-wise ------------------------------------------------------------------------------

_COMPARISONS = frozenset(("eq", "ne", "lt", "le", "gt", "ge"))


def _operand(x):
    """A binary operand: DeviceArrays stay, scalars become Python scalars (weak, like numpy's
    NEP 50 promotion), numpy arrays and lists go to the device."""
    if _is_dev(x):
        return x
    if isinstance(x, _SCALARS):
        return _py(x)
    return asarray(x)


def _dtype_of(x):
    return x.dtype if _is_dev(x) else x  # a Python scalar takes part in result_type as weak


def _shape_of(x):
    return tuple(x.shape) if _is_dev(x) else ()


def _binary(name):
    def op(a, b, out=None):
        a, b = _operand(a), _operand(b)
        if not (_is_dev(a) or _is_dev(b)):
            return asarray(getattr(_cpu, name)(a, b))
        rt = np.result_type(_dtype_of(a), _dtype_of(b))
        if name == "div" and rt.kind in "biu":
            rt = _F64  # true division of integers is float64 (numpy)
        if name == "pow" and rt.kind in "biu":
            # bool ** bool: [host] numpy's bool power rules; integers: the device power
            r = _host(_cpu.pow, a, b) if rt.kind == "b" else _gather.int_pow(a, b, rt)
            return r if out is None else _into(out, r, rt, a, b, name)
        ct = _compute(rt)
        a2 = _cast(a, ct) if _is_dev(a) else a
        b2 = _cast(b, ct) if _is_dev(b) else b
        res = _BOOL if name in _COMPARISONS else rt
        if out is not None:
            if out.dtype == res == ct and _in_place_ok(out, a2, b2):
                _check_out(out, a, b, name)
                return _mod.binary(name, a2, b2, out=out)
            return _into(out, _mod.binary(name, a2, b2), res, a, b, name)
        r = _mod.binary(name, a2, b2)
        return r if r.dtype == res else r.astype(res)

    op.__name__ = name
    return op


def _in_place_ok(out, *xs):
    """The binary kernel may write ``out``: each operand is out itself or shares no memory."""
    return builtins.all(x is out or not (_is_dev(x) and x._shares_memory(out)) for x in xs)


def _check_out(out, a, b, name):
    shape = np.broadcast_shapes(_shape_of(a), _shape_of(b))
    if shape != tuple(out.shape):
        raise ValueError(
            f"{name}: non-broadcastable output operand with shape "
            f"{tuple(out.shape)} doesn't match the broadcast shape {shape}"
        )


def _into(out, r, res, a, b, name):
    """numpy's ``out=``: the result, of dtype ``res``, cast into ``out`` (same_kind casting)."""
    _check_out(out, a, b, name)
    if not np.can_cast(res, out.dtype, "same_kind"):
        raise TypeError(
            f"Cannot cast ufunc '{name}' output from {res} to {out.dtype} with "
            "casting rule 'same_kind'"
        )
    out.copy_(r)
    return out


add = _binary("add")
sub = _binary("sub")
mul = _binary("mul")
div = _binary("div")
pow = _binary("pow")
maximum = _binary("maximum")
minimum = _binary("minimum")
eq = _binary("eq")
ne = _binary("ne")
lt = _binary("lt")
le = _binary("le")
gt = _binary("gt")
ge = _binary("ge")


def minmax_grads(g, x, y, is_max, need_x, need_y):
    """No fused gradient of maximum / minimum here (None): the op composes it from where, eq
    and lt."""


_FLOAT_ONLY = frozenset(("exp", "log", "sqrt", "log1p", "expm1", "sin", "cos"))


def _unary(name):
    def op(x):
        x = _dev(x)
        dt = x.dtype
        if name in _FLOAT_ONLY:
            if dt.kind != "f":  # numpy: float64 (float16 for 1-byte ints, not held on a GPU)
                x = x.astype(_F32 if dt.itemsize == 1 else _F64)
            return _mod.unary(name, x)
        if dt in (_F32, _F64, _I64):
            return _mod.unary(name, x)
        if dt == _BOOL:
            if name == "abs":
                return x.clone()
            raise TypeError(f"numpy boolean {name} is not supported, use logical_not instead")
        return _mod.unary(name, x.astype(_I64)).astype(dt)  # int32 / uint8 (wrapping)

    op.__name__ = name
    return op


neg = _unary("neg")
exp = _unary("exp")


def exp_backward(grad, y):
    return mul(grad, y)


def sqrt_backward(grad, y):
    return div(grad, mul(y, 2))


def log_backward(grad, x):
    return div(grad, x)


def cube(x):
    return mul(mul(x, x), x)


def norm2(a, axis=None):
    return sqrt(sum(mul(a, a), axis=axis, keepdims=True))


def sin_backward(grad, x):
    return mul(grad, cos(x))


def cos_backward(grad, x):
    return neg(mul(grad, sin(x)))


def erf_backward(grad, x):
    return mul(grad, mul(exp(neg(mul(x, x))), 2 / math.sqrt(math.pi)))


def arctan_backward(grad, x):
    return div(grad, add(mul(x, x), 1))


def log1p_backward(grad, x):
    return div(grad, add(x, 1))


def expm1_backward(grad, x):
    return mul(grad, exp(x))


def rsqrt(x):
    return div(1, sqrt(x))


def rsqrt_backward(grad, y):
    return mul(mul(grad, -0.5), cube(y))


log = _unary("log")
sqrt = _unary("sqrt")
abs = _unary("abs")
sign = _unary("sign")
log1p = _unary("log1p")
expm1 = _unary("expm1")
sin = _unary("sin")
cos = _unary("cos")


def where(cond, x, y):
    cond = _dev(cond)
    if cond.dtype != _BOOL:
        cond = ne(cond, 0)
    x, y = _operand(x), _operand(y)
    rt = np.result_type(_dtype_of(x), _dtype_of(y))
    ct = _compute(rt)
    x2 = _cast(x, ct) if _is_dev(x) else full((), x, ct)
    y2 = _cast(y, ct) if _is_dev(y) else full((), y, ct)
    return _cast(_mod.where(cond, x2, y2), rt)


def clip(x, lo=None, hi=None, out=None):
    """min(max(x, lo), hi); NaN stays NaN. Array bounds compose maximum / minimum."""
    if not (lo is None or isinstance(lo, _SCALARS)) or not (hi is None or isinstance(hi, _SCALARS)):
        r = x if lo is None else maximum(x, lo)
        r = r if hi is None else minimum(r, hi)
        return r if out is None else _into(out, r, r.dtype, x, r, "clip")
    lo = None if lo is None else _py(lo)
    hi = None if hi is None else _py(hi)
    rt = np.result_type(x.dtype, *(v for v in (lo, hi) if v is not None))
    ct = _compute(rt)
    if out is not None and out.dtype == rt == ct:
        return _mod.clamp(_cast(x, ct), lo, hi, out=out)
    r = _cast(_mod.clamp(_cast(x, ct), lo, hi), rt)
    return r if out is None else _into(out, r, rt, x, x, "clip")


def logical_not(a):
    return eq(_dev(a), 0)


def isnan(a):
    a = _dev(a)
    if a.dtype.kind != "f":
        return zeros(a.shape, _BOOL)
    return ne(a, a)


def logaddexp(a, b):
    """log(exp(a) + exp(b)) = max + log1p(exp(-|a - b|)); a == b (equal infinities too) gives
    a + log 2 without the inf - inf of the general branch."""
    a, b = _operand(a), _operand(b)
    rt = np.result_type(_dtype_of(a), _dtype_of(b))
    ft = rt if rt.kind == "f" else _F64
    a = _cast(a, ft) if _is_dev(a) else full((), a, ft)
    b = _cast(b, ft) if _is_dev(b) else full((), b, ft)
    general = add(maximum(a, b), log1p(exp(neg(abs(sub(a, b))))))
    return where(eq(a, b), add(a, float(np.log(2.0))), general)


# ---- reductions --------------------------------------------------------------------------------


def _axes(axis, ndim):
    """``axis`` (None, int or tuple) as None or a sorted tuple of non-negative axes."""
    if axis is None:
        return None
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    out = set()
    for ax in axes:
        ax = int(ax)
        if not -ndim <= ax < ndim:
            raise np.exceptions.AxisError(ax, ndim)
        out.add(ax % ndim)
    if len(out) != len(axes):
        raise ValueError("duplicate value in 'axis'")
    return tuple(sorted(out))


def _reduce(op, a, axis, keepdims):
    axes = _axes(axis, a.ndim)
    if axes is None:
        return _mod.reduce(op, a, None, bool(keepdims))
    if not axes:
        return a.clone() if op not in ("argmax", "argmin") else a
    if len(axes) == 1:
        return _mod.reduce(op, a, axes[0], bool(keepdims))
    r = a
    for ax in reversed(axes):  # one dimension at a time, keeping dims so indices stay valid
        r = _mod.reduce(op, r, ax, True)
    if not keepdims:
        r = r.reshape(tuple(n for i, n in enumerate(a.shape) if i not in axes))
    return r


def sum(a, axis=None, keepdims=False, dtype=None):
    a = _dev(a)
    if dtype is not None:
        a = astype(a, dtype)
    return _reduce("sum", a, axis, keepdims)


def mean(a, axis=None, keepdims=False):
    a = _dev(a)
    if a.dtype.kind != "f":
        a = a.astype(_F64)  # numpy: the mean of integers is float64
    return _reduce("mean", a, axis, keepdims)


def amax(a, axis=None, keepdims=False):
    a = _dev(a)
    return _cast(_reduce("max", a, axis, keepdims), a.dtype)  # bool / int32 / uint8 go via int64


def amin(a, axis=None, keepdims=False):
    a = _dev(a)
    return _cast(_reduce("min", a, axis, keepdims), a.dtype)


def argmax(a, axis=None, keepdims=False):
    return _mod.reduce("argmax", _dev(a), None if axis is None else int(axis), bool(keepdims))


def argmin(a, axis=None, keepdims=False):
    return _mod.reduce("argmin", _dev(a), None if axis is None else int(axis), bool(keepdims))


def any(a, axis=None):
    return gt(_reduce("sum", ne(_dev(a), 0), axis, False), 0)


def all(a, axis=None):
    return eq(_reduce("sum", eq(_dev(a), 0), axis, False), 0)


def sum_to_shape(g, shape):
    """Undo broadcasting: sum ``g`` down to ``shape`` (the backward of an implicit expand)."""
    shape = tuple(shape)
    if tuple(g.shape) == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and g.shape[i + lead] != 1
    )
    out = _reduce("sum", g, axes, True) if axes else g
    return out.reshape(shape)


# ---- shape and indexing ------------------------------------------------------------------------


def reshape(a, shape):
    return a.reshape(_shape(shape))


def permute(a, dims):
    dims = tuple(range(a.ndim - 1, -1, -1)) if dims is None else tuple(int(d) for d in dims)
    if dims == tuple(range(a.ndim)):
        return a
    return _mod.permute(a, list(dims))  # a copy (numpy returns a view)


def broadcast_to(a, shape):
    a = _dev(a)
    shape = _shape(shape)
    if tuple(a.shape) == shape:
        return a
    return _mod.broadcast_to(a, list(shape))  # a copy


def _contiguous_strides(shape):
    strides, s = [0] * len(shape), 1
    for i in range(len(shape) - 1, -1, -1):
        strides[i] = s
        s *= shape[i]
    return strides


def _basic_view(shape, index):
    """(shape, element strides, element offset) of x[index] for a C-contiguous x when ``index``
    is basic (ints, slices, None, Ellipsis); None when it is not (arrays, masks)."""
    parts = index if isinstance(index, tuple) else (index,)
    for p in parts:
        if p is None or p is Ellipsis or isinstance(p, slice):
            continue
        if isinstance(p, (int, np.integer)) and not isinstance(p, (bool, np.bool_)):
            continue
        return None
    if builtins.sum(p is Ellipsis for p in parts) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    n_real = builtins.sum(p is not None and p is not Ellipsis for p in parts)
    if n_real > len(shape):
        raise IndexError(
            f"too many indices for array: array is {len(shape)}-dimensional, but "
            f"{n_real} were indexed"
        )
    fill = (slice(None),) * (len(shape) - n_real)
    at = [i for i, p in enumerate(parts) if p is Ellipsis]
    parts = parts[: at[0]] + fill + parts[at[0] + 1 :] if at else parts + fill
    cstrides = _contiguous_strides(shape)
    out_shape, out_strides, offset, dim = [], [], 0, 0
    for p in parts:
        if p is None:
            out_shape.append(1)
            out_strides.append(0)
            continue
        n, s = shape[dim], cstrides[dim]
        if isinstance(p, slice):
            start, stop, step = p.indices(n)
            length = len(range(start, stop, step))
            if length:
                offset += start * s
            out_shape.append(length)
            out_strides.append(step * s)
        else:
            i = int(p)
            if not -n <= i < n:
                raise IndexError(f"index {i} is out of bounds for axis {dim} with size {n}")
            offset += (i % n) * s
        dim += 1
    return tuple(out_shape), out_strides, offset


def _block_range(view):
    """(start, stop): the flat element range a basic-index view covers when it is one contiguous
    block in C order (then it is a reshape of that range), else None."""
    shape, strides, offset = view
    n = 1
    for d in shape:
        n *= d
    if n == 0:
        return 0, 0
    expect = _contiguous_strides(shape)
    if builtins.any(d != 1 and s != e for d, s, e in zip(shape, strides, expect)):
        return None
    return offset, offset + n


def _block(a, view):
    """A DeviceArray view of ``a`` for a basic-index view that is one contiguous block, else
    None."""
    r = _block_range(view)
    if r is None:
        return None
    return a.reshape(-1).narrow0(r[0], r[1]).reshape(view[0])


def _host_index(index):
    return _to_host(index) if isinstance(index, tuple) else _to_host((index,))[0]


def getitem(a, index):
    """x[index]: a view when it selects one contiguous block (x[i], x[i:j], x[i, j:k]...), a
    strided copy for other basic indices, a device gather for integer-array and mask indices
    (cuda_gather: one index-check read-back; a mask reads its count back)."""
    view = _basic_view(tuple(a.shape), index)
    if view is None:
        p = _gather.plan(tuple(a.shape), index)
        if p is None:  # [host] a view over more than 8 dimensions (a 0-d bool on an 8-d array)
            return from_numpy(np.asarray(a.numpy()[_host_index(index)]))
        return _gather.getitem(a, p)
    block = _block(a, view)
    if block is not None:
        return block
    shape, strides, offset = view
    return _mod.strided_copy(a, list(shape), list(strides), offset)


def setitem(a, index, value):
    """x[index] = value in place: a fill / copy when the index selects one contiguous block, else
    a device scatter through the index (repeated indices keep one of their values)."""
    view = _basic_view(tuple(a.shape), index)
    block = None if view is None else _block(a, view)
    if block is not None:
        if isinstance(value, _SCALARS) or (isinstance(value, np.ndarray) and value.ndim == 0):
            block.fill_(_py(value))
        else:
            copyto(block, value)
        return
    p = _gather.plan(tuple(a.shape), index)
    if p is not None:
        _gather.setitem(a, p, value)
        return
    h = a.numpy()  # [host] a view over more than 8 dimensions
    h[_host_index(index)] = _to_host(value)
    a.copy_(h)


def _has_int_array(index):
    parts = index if isinstance(index, tuple) else (index,)
    return builtins.any(
        (isinstance(p, np.ndarray) or _is_dev(p)) and p.dtype.kind != "b" for p in parts
    )


def getitem_backward(g, shape, index, advanced):
    """Scatter ``g`` (the grad of ``a[index]``) into zeros of ``shape``; repeated integer
    indices add, deterministically in index order (cuda_gather)."""
    if advanced:
        p = _gather.plan(tuple(shape), index, check=False)  # the forward checked the indices
        if p is not None:
            return _gather.getitem_backward(g, tuple(shape), p)
        if _has_int_array(index):
            return _host(_cpu.getitem_backward, g, shape, index, advanced)  # [host] > 8 dims
    out = zeros(shape, g.dtype)
    setitem(out, index, g)
    return out


def concatenate(arrays, axis):
    arrays = [_dev(x) for x in arrays]
    if not arrays:
        raise ValueError("need at least one array to concatenate")
    if axis is None:  # numpy: flatten first
        arrays, axis = [x.reshape(-1) for x in arrays], 0
    nd = arrays[0].ndim
    if nd == 0:
        raise ValueError("zero-dimensional arrays cannot be concatenated")
    ax = _axes(axis, nd)[0]
    for x in arrays:
        if x.ndim != nd or builtins.any(
            i != ax and x.shape[i] != arrays[0].shape[i] for i in range(nd)
        ):
            raise ValueError(
                f"all the input array dimensions except for the concatenation axis "
                f"must match exactly, got shapes {[tuple(x.shape) for x in arrays]}"
            )
    rt = np.result_type(*[x.dtype for x in arrays])
    if ax != 0:  # move the axis first, stack the blocks, move it back
        perm = [ax] + [i for i in range(nd) if i != ax]
        inv = [0] * nd
        for i, p in enumerate(perm):
            inv[p] = i
        return permute(concatenate([permute(x, perm) for x in arrays], 0), inv)
    total = builtins.sum(x.shape[0] for x in arrays)
    out = empty((total, *arrays[0].shape[1:]), rt)
    start = 0
    for x in arrays:
        n = x.shape[0]
        if n:
            out.narrow0(start, start + n).copy_(x)  # copy_ casts to rt
        start += n
    return out


def stack(arrays, axis):
    arrays = [_dev(x) for x in arrays]
    if not arrays:
        raise ValueError("need at least one array to stack")
    shape = tuple(arrays[0].shape)
    for x in arrays:
        if tuple(x.shape) != shape:
            raise ValueError("all input arrays must have the same shape")
    ax = _axes(axis, len(shape) + 1)[0]
    new = (*shape[:ax], 1, *shape[ax:])
    return concatenate([x.reshape(new) for x in arrays], ax)


def take_along_axis(a, idx, axis):
    return _gather.take_along_axis(_dev(a), idx, axis)


def take_along_axis_backward(g, shape, idx, axis):
    return _gather.take_along_axis_backward(g, shape, idx, axis)


# ---- hot ops: the fastnn._cuda kernels for float32 / float64 ------------------------------------


def _floats(*xs):
    dt = xs[0].dtype
    if dt.kind != "f":
        return False
    return builtins.all(x is None or x.dtype == dt for x in xs)


def matmul(a, b, trans_a=False, trans_b=False, bias=None):
    if _floats(a, b, bias) and a.ndim in (2, 3) and b.ndim in (2, 3):
        if a.ndim == 2 and b.ndim == 3:
            a = broadcast_to(a, (b.shape[0], *a.shape))
        return _mod.matmul(a, b, trans_a=bool(trans_a), trans_b=bool(trans_b), bias=bias)
    r = _gather.matmul(a, b, trans_a, trans_b, bias)  # integer, bool and mixed dtypes
    if r is not None:
        return r
    # [host] 1-d or > 3-d operands, a bias of another dtype: numpy's matmul and casting rules
    return _host(_cpu.matmul, a, b, trans_a=trans_a, trans_b=trans_b, bias=bias)


def _activation(name):
    cpu_op = getattr(_cpu, name)

    def op(x, *args):
        if x.dtype.kind == "f":
            return getattr(_mod, name)(x, *args)
        if name == "relu":
            return maximum(x, 0)  # numpy's maximum(x, 0) keeps the integer dtype
        return _host(cpu_op, x, *args)  # [host] integer inputs (not in a training step)

    op.__name__ = name
    return op


def _activation_backward(name):
    cpu_op = getattr(_cpu, name)

    def op(grad, x, *args):
        if _floats(grad, x):
            return getattr(_mod, name)(grad, x, *args)
        return _host(cpu_op, grad, x, *args)  # [host]

    op.__name__ = name
    return op


def _along(name):
    """The softmax family along ``dim``: the kernels take any axis; integer inputs go to the
    host."""
    cpu_op, cpu_bwd = getattr(_cpu, name), getattr(_cpu, name + "_backward")

    def op(x, dim=-1):
        if x.dtype.kind == "f":
            return getattr(_mod, name)(x, dim=dim)
        return _host(cpu_op, x, dim)  # [host] integer inputs (not in a training step)

    def backward(grad, y, dim=-1):
        if _floats(grad, y):
            return getattr(_mod, name + "_backward")(grad, y, dim=dim)
        return _host(cpu_bwd, grad, y, dim)  # [host]

    op.__name__, backward.__name__ = name, name + "_backward"
    return op, backward


softmax, softmax_backward = _along("softmax")
log_softmax, log_softmax_backward = _along("log_softmax")
relu = _activation("relu")
sigmoid = _activation("sigmoid")
tanh = _activation("tanh")
leaky_relu = _activation("leaky_relu")
gelu = _activation("gelu")
relu_backward = _activation_backward("relu_backward")
sigmoid_backward = _activation_backward("sigmoid_backward")
tanh_backward = _activation_backward("tanh_backward")
leaky_relu_backward = _activation_backward("leaky_relu_backward")
gelu_backward = _activation_backward("gelu_backward")
silu = _activation("silu")
mish = _activation("mish")
softplus = _activation("softplus")
elu = _activation("elu")
hardtanh = _activation("hardtanh")
logsigmoid = _activation("logsigmoid")
silu_backward = _activation_backward("silu_backward")
mish_backward = _activation_backward("mish_backward")
softplus_backward = _activation_backward("softplus_backward")
elu_backward = _activation_backward("elu_backward")
hardtanh_backward = _activation_backward("hardtanh_backward")
logsigmoid_backward = _activation_backward("logsigmoid_backward")


def _same_device(fn, *arrays):
    for a in arrays:
        if a is not None and not _is_dev(a):
            raise RuntimeError(
                f"{fn}: expected all tensors to be on the same device, but found "
                f"at least two devices, cuda:0 and cpu (move the target / weight "
                "to the GPU with .to('cuda'))"
            )


def softmax_cross_entropy(logits, target, reduction, label_smoothing, ignore_index, weight, grad):
    _same_device("cross_entropy", target, weight)
    return _mod.softmax_cross_entropy(
        logits,
        target,
        reduction=reduction,
        label_smoothing=float(label_smoothing),
        ignore_index=int(ignore_index),
        weight=weight,
        grad=bool(grad),
    )


def binary_cross_entropy_with_logits(logits, target, weight, pos_weight, reduction, grad):
    _same_device("binary_cross_entropy_with_logits", target, weight, pos_weight)
    return _mod.binary_cross_entropy_with_logits(
        logits, target, weight=weight, pos_weight=pos_weight, reduction=reduction, grad=bool(grad)
    )


# ---- normalization: one fused kernel each way (csrc/cuda/batch_norm.cu, layer_norm.cu) ---------


def batch_norm(x, weight, bias, running_mean, running_var, training, momentum, eps):
    """(y, mean, rstd); in training the running buffers (or None) are updated in place."""
    _same_device("batch_norm", weight, bias, running_mean, running_var)
    return _mod.batch_norm(
        x,
        weight,
        bias,
        running_mean,
        running_var,
        training=bool(training),
        momentum=float(momentum),
        eps=float(eps),
    )


def batch_norm_backward(grad, x, weight, mean, rstd, training, need):
    return _mod.batch_norm_backward(
        grad,
        x,
        weight,
        mean,
        rstd,
        training=bool(training),
        need_input=need[0],
        need_weight=need[1],
        need_bias=need[2],
    )


def layer_norm(x, normalized_shape, weight, bias, eps):
    _same_device("layer_norm", weight, bias)
    return _mod.layer_norm(x, tuple(normalized_shape), weight, bias, float(eps))


def layer_norm_backward(grad, x, normalized_shape, weight, mean, rstd, need):
    return _mod.layer_norm_backward(
        grad,
        x,
        tuple(normalized_shape),
        weight,
        mean,
        rstd,
        need_input=need[0],
        need_weight=need[1],
        need_bias=need[2],
    )


def group_norm(x, num_groups, weight, bias, eps):
    _same_device("group_norm", weight, bias)
    return _mod.group_norm(x, int(num_groups), weight, bias, float(eps))


def group_norm_backward(grad, x, num_groups, weight, mean, rstd, need):
    return _mod.group_norm_backward(
        grad,
        x,
        int(num_groups),
        weight,
        mean,
        rstd,
        need_input=need[0],
        need_weight=need[1],
        need_bias=need[2],
    )


# ---- conv and pooling: device kernels (csrc/cuda/conv.cu, pool.cu), the GEMMs on the GPU too ----


def im2col(x, kernel_size, stride, padding, dilation, ones_row=False):
    return _mod.im2col(x, kernel_size, stride, padding, dilation, ones_row=bool(ones_row))


def col2im(cols, input_shape, kernel_size, stride, padding, dilation):
    return _mod.col2im(cols, tuple(input_shape), kernel_size, stride, padding, dilation)


def conv2d(x, weight, bias, stride, padding, dilation):
    _same_device("conv2d", weight, bias)
    return _mod.conv2d(x, weight, bias, stride, padding, dilation)


def conv2d_backward(grad, x, weight, stride, padding, dilation, need):
    return _mod.conv2d_backward(
        grad,
        x,
        weight,
        stride,
        padding,
        dilation,
        need_input=bool(need[0]),
        need_weight=bool(need[1]),
        need_bias=bool(need[2]),
    )


def max_pool2d(x, kernel_size, stride, padding, dilation):
    return _mod.max_pool2d(x, kernel_size, stride, padding, dilation)


# ---- recurrent layers: the fused cells are CUDA kernels; the time loops run here, on the device --
# (the same steps as the CPU loops in csrc/cpu/rnn.cpp: one GEMM with W_hh and one cell per step)


def lstm_cell(gates, c_prev):
    return _mod.lstm_cell(gates, c_prev)


def lstm_cell_backward(dh, dc, act, c_prev, c):
    return _mod.lstm_cell_backward(dh, dc, act, c_prev, c)


def gru_cell(gi, gh, h_prev):
    return _mod.gru_cell(gi, gh, h_prev)


def gru_cell_backward(dh, act, h_prev):
    return _mod.gru_cell_backward(dh, act, h_prev)


def _steps(s, reverse):
    return list(range(s - 1, -1, -1)) if reverse else list(range(s))


def _in_time_order(per_step, order):
    by_time = [None] * len(order)
    for k, t in enumerate(order):
        by_time[t] = per_step[k]
    return stack(by_time, 0)


def lstm_sequence(gates, w_hh, h0, c0, reverse=False):
    order = _steps(gates.shape[0], reverse)
    h, c, hs, cs, acts = h0, c0, [], [], []
    for t in order:
        h, c, act = _mod.lstm_cell(add(getitem(gates, t), matmul(h, w_hh, trans_b=True)), c)
        hs.append(h)
        cs.append(c)
        acts.append(act)
    return tuple(_in_time_order(v, order) for v in (hs, cs, acts))


def lstm_sequence_backward(dhs, dc_n, act, cs, c0, w_hh, reverse=False):
    order = _steps(dhs.shape[0], reverse)
    dgates, dc, carry = [None] * len(order), dc_n, None
    for k in range(len(order) - 1, -1, -1):
        t = order[k]
        dh = getitem(dhs, t) if carry is None else add(getitem(dhs, t), carry)
        c_prev = getitem(cs, order[k - 1]) if k > 0 else c0
        dgates[k], dc = _mod.lstm_cell_backward(dh, dc, getitem(act, t), c_prev, getitem(cs, t))
        carry = matmul(dgates[k], w_hh)
    return _in_time_order(dgates, order), carry, dc


def gru_sequence(gi, w_hh, b_hh, h0, reverse=False):
    order = _steps(gi.shape[0], reverse)
    h, hs, acts = h0, [], []
    for t in order:
        h, act = _mod.gru_cell(getitem(gi, t), matmul(h, w_hh, trans_b=True, bias=b_hh), h)
        hs.append(h)
        acts.append(act)
    return _in_time_order(hs, order), _in_time_order(acts, order)


def gru_sequence_backward(dhs, act, hs, h0, w_hh, reverse=False):
    order = _steps(dhs.shape[0], reverse)
    dgi, dgh, carry = [None] * len(order), [None] * len(order), None
    for k in range(len(order) - 1, -1, -1):
        t = order[k]
        dh = getitem(dhs, t) if carry is None else add(getitem(dhs, t), carry)
        h_prev = getitem(hs, order[k - 1]) if k > 0 else h0
        dgi[k], dgh[k], direct = _mod.gru_cell_backward(dh, getitem(act, t), h_prev)
        carry = add(direct, matmul(dgh[k], w_hh))
    return _in_time_order(dgi, order), _in_time_order(dgh, order), carry


def rnn_sequence(pre, w_hh, h0, nonlinearity="tanh", reverse=False):
    order = _steps(pre.shape[0], reverse)
    act = relu if nonlinearity == "relu" else tanh
    h, hs = h0, []
    for t in order:
        h = act(add(getitem(pre, t), matmul(h, w_hh, trans_b=True)))
        hs.append(h)
    return _in_time_order(hs, order)


def rnn_sequence_backward(dhs, hs, w_hh, nonlinearity="tanh", reverse=False):
    order = _steps(dhs.shape[0], reverse)
    grad = relu_backward if nonlinearity == "relu" else tanh_backward
    dpre, carry = [None] * len(order), None
    for k in range(len(order) - 1, -1, -1):
        t = order[k]
        dh = getitem(dhs, t) if carry is None else add(getitem(dhs, t), carry)
        dpre[k] = grad(dh, getitem(hs, t))
        carry = matmul(dpre[k], w_hh)
    return _in_time_order(dpre, order), carry


# The indices / codes the two backwards get are the ones max_pool2d / max_pool2d_2x2 made (the
# MaxPool2d primitive keeps them), so they are in range: check=False spares the host sync of the
# kernels' range check (an entry out of range is still never written through).
def max_pool2d_backward(grad, indices, input_shape):
    return _mod.max_pool2d_backward(grad, indices, tuple(input_shape), check=False)


def max_pool2d_2x2(x):
    return _mod.max_pool2d_2x2(x)


def max_pool2d_2x2_backward(grad, code, input_shape):
    return _mod.max_pool2d_2x2_backward(grad, code, tuple(input_shape), check=False)


def avg_pool2d(x, kernel_size, stride, padding, count_include_pad, divisor_override):
    return _mod.avg_pool2d(x, kernel_size, stride, padding, count_include_pad, divisor_override)


def avg_pool2d_backward(
    grad, input_shape, kernel_size, stride, padding, count_include_pad, divisor_override
):
    return _mod.avg_pool2d_backward(
        grad, tuple(input_shape), kernel_size, stride, padding, count_include_pad, divisor_override
    )


# ---- embedding: the device gather / sorted scatter-add (cuda_gather) ----------------------------


def embedding(weight, indices):
    return _gather.embedding(weight, indices)


def embedding_backward(grad, indices, num_weights, padding_idx=None, scale_grad_by_freq=False):
    return _gather.embedding_backward(grad, indices, num_weights, padding_idx, scale_grad_by_freq)


def embedding_renorm_(weight, indices, max_norm, norm_type=2.0):
    return _gather.embedding_renorm_(weight, indices, max_norm, norm_type)


# The bag sums from the gather and the scatter-add: the rows, then their segment sum (the
# scatter-add with each row's bag as its index). bounds is a host array.
def embedding_bag(weight, indices, bounds):
    bag_of = from_numpy(_cpu._bag_of(np.asarray(bounds)))
    rows = _gather.embedding(weight, indices)
    return _gather.embedding_backward(rows, bag_of, int(bounds.size) - 1)


def embedding_bag_backward(grad, indices, bounds, num_weights):
    bag_of = from_numpy(_cpu._bag_of(np.asarray(bounds)))
    return _gather.embedding_backward(_gather.embedding(grad, bag_of), indices, num_weights)


def matmul_shared(a, b, trans_a=False, trans_b=False):
    """op(a)[None] @ op(b): a 2-D (M, K) used by every batch of b (B, K, N) -> (B, M, N)."""
    return matmul(a, b, trans_a=trans_a, trans_b=trans_b)  # matmul broadcasts a 2-D a


# ---- the math surface: no device kernels yet (not hot in the tutorials) -> [host] ------------


def _host_op(name):
    cpu_op = getattr(_cpu, name)

    def op(*args, **kwargs):
        return _host(cpu_op, *args, **kwargs)  # [host]

    op.__name__ = name
    return op


# prelu reduces over its weight: no CUDA kernel yet
prelu = _host_op("prelu")
prelu_backward = _host_op("prelu_backward")

tan = _host_op("tan")
sinh = _host_op("sinh")
cosh = _host_op("cosh")
arcsin = _host_op("arcsin")
arccos = _host_op("arccos")
arctan = _host_op("arctan")
arcsinh = _host_op("arcsinh")
arccosh = _host_op("arccosh")
arctanh = _host_op("arctanh")
arctan2 = _host_op("arctan2")
hypot = _host_op("hypot")
exp2 = _host_op("exp2")
log2 = _host_op("log2")
log10 = _host_op("log10")
floor = _gather.rounding("floor")
ceil = _gather.rounding("ceil")
trunc = _gather.rounding("trunc")
erf = _host_op("erf")
round = _host_op("round")
cumsum = _host_op("cumsum")
cumprod = _host_op("cumprod")
cumprod_backward = _host_op("cumprod_backward")
prod = _host_op("prod")
prod_backward = _host_op("prod_backward")
argsort = _host_op("argsort")
flip = _gather.flip
roll = _gather.roll


def tril(a, k=0):
    r = _gather.triangle(a, k, True)
    return _host(_cpu.tril, a, k) if r is None else r  # [host] numpy's 1-d rule


def triu(a, k=0):
    r = _gather.triangle(a, k, False)
    return _host(_cpu.triu, a, k) if r is None else r  # [host] numpy's 1-d rule


scatter = _gather.scatter
einsum = _host_op("einsum")
einsum_backward = _host_op("einsum_backward")
