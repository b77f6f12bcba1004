"""The CPU backend: storage is a numpy array. numpy does the non-hot ops (element-wise
arithmetic with broadcasting, reshapes, indexing, most reductions); matmul, activations, the
fused losses, sums over leading dimensions (bias gradients) and + - * / on large float arrays
call the C++ kernels.

Every function takes and returns numpy arrays (never numpy scalars: see ``wrap``).
"""

import builtins
import math
import sys
import warnings

import numpy as np

from .. import _C as kernels  # the raw CPU kernels (what fastnn.kernels exports)
from .._core import dtype as _dtype
from .._core import random as _random
from .._core import random_fill as _random_fill
from .._core.device import CPU
from . import numpy_kernels as _npk

array_type = np.ndarray

# numpy reports floating-point exceptions in its ufuncs (log(0), sqrt(-1), x / 0, exp(1000), a
# cast to float16 out of its range) as RuntimeWarnings; torch computes the same -inf / nan / inf
# silently. Checking or suppressing them per call costs more than a small op (np.errstate is ~2 us),
# so the warnings numpy attributes to fastnn's own frames are ignored once, here. A user's numpy
# code warns as before (its frames are not fastnn's), and the test suite turns them back into
# errors, so fastnn's own paths are still kept free of them.
warnings.filterwarnings(
    "ignore",
    message=r"(divide by zero|invalid value|overflow|underflow) encountered",
    category=RuntimeWarning,
    module=r"fastnn(\.|$)",
)
_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
_BF16 = _dtype.bfloat16  # None without ml_dtypes (then no array has it)
_NDARRAY = np.ndarray


def _up(x):
    """A bfloat16 array widened (exactly) to float32; anything else as it is."""
    return x.astype(_F32) if x.__class__ is _NDARRAY and x.dtype is _BF16 else x


def _down(out):
    """A float32 kernel result (or a tuple of them) rounded to bfloat16, once, as torch's CPU
    bfloat16 ops round their float32 computation."""
    if out.__class__ is tuple:
        return tuple(_down(o) for o in out)
    return out.astype(_BF16) if out.__class__ is _NDARRAY and out.dtype is _F32 else out


def _bf16_via_float32(fn, stats=False):
    """``fn``, which calls a kernel that refuses bfloat16 with a TypeError, made to take
    bfloat16 arrays: computed on float32 copies, floating results rounded back (with ``stats``
    only the first: a normalisation's mean and 1/std, kept for its backward pass, stay float32,
    as torch keeps them). The retry costs nothing on the dtypes the kernel takes (no test
    before the call)."""

    def op(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except TypeError:
            if _BF16 is None or not builtins.any(
                a.__class__ is _NDARRAY and a.dtype is _BF16 for a in (*args, *kwargs.values())
            ):
                raise
        args = tuple(_up(a) for a in args)
        kwargs = {k: _up(v) for k, v in kwargs.items()}
        out = fn(*args, **kwargs)
        return (_down(out[0]), *out[1:]) if stats else _down(out)

    op.__name__ = op.__qualname__ = fn.__name__
    op.__doc__ = fn.__doc__
    return op


def device_of(a):
    return CPU


# ---- storage ------------------------------------------------------------------------------------


def asarray(obj, dtype=None):
    """An array from nested lists/numbers/arrays (copies lists; keeps arrays of the right dtype)."""
    return np.asarray(obj, dtype=dtype)


def from_numpy(a, non_blocking=False):
    return a


def to_numpy(a):
    return a


def wrap(x):
    """ufuncs on 0-d arrays return numpy scalars; tensors always hold arrays."""
    return x if x.__class__ is np.ndarray else np.asarray(x)


_COPY_KINDS = frozenset("biufc")  # numbers and bools: a byte copy is a copy


def _threaded_copy_pays(a):
    return (
        a.__class__ is _NDARRAY
        and a.nbytes >= 4 * ARITH_MIN
        and a.dtype.kind in _COPY_KINDS
        and kernels.get_num_threads() > 1
    )


def copy(a):
    """A C-contiguous copy; a large array of numbers, of any layout, is copied on every core."""
    if _threaded_copy_pays(a):
        return kernels.copy(a)
    return np.array(a, copy=True, order="C")


def copyto(dst, src):
    np.copyto(dst, src, casting="unsafe")


def _owns_memory(a):
    """``a`` holds its own buffer: no base, or a recycled one through a capsule base (a large
    kernel output, csrc/bindings/host_cache.h)."""
    base = a.base
    return base is None or type(base).__name__ == "PyCapsule"


def is_fresh(a):
    """True when ``a`` is C-contiguous and writeable, and nothing else reaches its memory: it owns
    it, or it is a view of the whole of an array that only it holds (a gradient reshaped or
    transposed back in a backward pass, whose product no one else kept)."""
    if not (a.flags.c_contiguous and a.flags.writeable):
        return False
    if _owns_memory(a):
        return True
    base = a.base
    # references to base: a.base, this frame's name and getrefcount's argument
    return (
        base.__class__ is _NDARRAY
        and _owns_memory(base)
        and base.nbytes == a.nbytes
        and sys.getrefcount(base) == 3
    )


def is_transposed(a):
    """True when ``a`` is a C-contiguous array with its last two axes swapped (``w.T``,
    ``k.transpose(-2, -1)``), and not C-contiguous itself: a product's gradient for it is best
    made in that layout, so that the transpose's backward hands back a contiguous array."""
    return a.ndim >= 2 and not a.flags.c_contiguous and a.swapaxes(-1, -2).flags.c_contiguous


def iadd(a, b):
    """a += b in place (b broadcast to a)."""
    np.add(a, b, out=a)


def fill(a, value):
    a.fill(value)


def astype(a, dtype):
    return a.astype(dtype)


def ascontiguous(a):
    if not a.flags.c_contiguous and _threaded_copy_pays(a):
        return kernels.copy(a)
    return np.ascontiguousarray(a)


empty = np.empty
zeros = np.zeros


def ones(shape, dtype=None):
    # A 0-d one is the seed of every loss.backward(): np.array makes it in a third of the time.
    if shape == ():
        return np.array(1.0, dtype)
    out = np.empty(shape, dtype)  # and fill: np.ones is a Python function around the same
    out.fill(1)
    return out


eye = np.eye


def full(shape, value, dtype):
    out = np.empty(shape, dtype)
    out.fill(value)  # np.full's own steps without its wrapper
    return out


def arange(start, end, step, dtype):
    if _BF16 is not None and dtype is _BF16:
        # torch computes start + i * step in float32 and rounds each value once; numpy's
        # bfloat16 arange would add a bfloat16-rounded step
        return np.arange(start, end, step, dtype=_F32).astype(_BF16)
    return np.arange(start, end, step, dtype=dtype)


def linspace(start, end, steps, dtype):
    if _BF16 is not None and dtype is _BF16 and steps > 1:
        return _bfloat16_linspace(start, end, steps)
    if dtype in (_F32, _F64) and steps > 1 and np.isfinite([start, end]).all():
        return _float_linspace(start, end, steps, dtype)
    return np.linspace(start, end, steps, dtype=dtype)


def _float_linspace(start, end, steps, dtype):
    """torch's float linspace to the bit: step = (end - start) / (steps - 1) in the dtype, the
    first half start + step * i and the second end - step * (steps - 1 - i), each a fused
    multiply-add (torch's x86 kernel is compiled with FMA contraction). The fused products are
    formed exactly from two doubles (Dekker's product and Knuth's sum) and rounded once."""
    dtype = np.dtype(dtype)  # (callers pass the scalar type or the dtype)
    scalar = dtype.type
    lo, hi = scalar(start), scalar(end)
    step = np.float64((hi - lo) / scalar(steps - 1))
    idx = np.arange(steps)
    first = idx < steps // 2
    k = np.where(first, idx, steps - 1 - idx).astype(np.float64)
    if dtype == _F32:
        k = k.astype(_F32).astype(np.float64)  # torch converts the index to float first
    a = np.where(first, step, -step)
    base = np.where(first, np.float64(lo), np.float64(hi))
    p = a * k
    split = 134217729.0  # 2^27 + 1: Veltkamp's split of a double into two 26-bit halves
    ta, tk = split * a, split * k
    ah, kh = ta - (ta - a), tk - (tk - k)
    al, kl = a - ah, k - kh
    p_err = ((ah * kh - p) + ah * kl + al * kh) + al * kl
    s = p + base
    bb = s - p
    s_err = (p - (s - bb)) + (base - bb)
    return (s + (p_err + s_err)).astype(dtype)


def _bfloat16_linspace(start, end, steps):
    """torch's bfloat16 linspace, whose arithmetic is bfloat16's (each step rounded): the step
    is (end - start) / (steps - 1) in bfloat16, the first half counts up from start and the
    second down from end, so both ends are exact."""
    bf = _BF16
    lo = np.array(start, _F32).astype(bf)  # a Python number: to float32, then to bfloat16
    hi = np.array(end, _F32).astype(bf)
    step = (hi - lo) / np.array(steps - 1, _F32).astype(bf)
    idx = np.arange(steps)
    half = steps // 2
    up = lo + step * idx[:half].astype(bf)
    down = hi - step * (steps - 1 - idx[half:]).astype(bf)
    return np.concatenate([up, down])


# ---- random ---------------------------------------------------------------------------------


def rand(shape, dtype):
    g = _random.generator()
    if dtype is _F32 or dtype is _F64:  # (identity: a cheap test, and exact for these two)
        return g.random(shape, dtype=dtype)
    if dtype.kind == "c":  # both parts uniform on [0, 1), as torch's
        parts = g.random((*shape, 2), dtype=_F64 if dtype.itemsize == 16 else _F32)
        return parts.view(dtype)[..., 0]
    return g.random(shape, dtype=dtype if dtype.itemsize >= 4 else _F32).astype(dtype, copy=False)


def randn(shape, dtype):
    g = _random.generator()
    if dtype is _F32 or dtype is _F64:
        return g.standard_normal(shape, dtype=dtype)
    if dtype.kind == "c":  # a unit-variance complex normal: each part has variance 1/2
        real = _F64 if dtype.itemsize == 16 else _F32
        parts = g.standard_normal((*shape, 2), dtype=real) * real.type(math.sqrt(0.5))
        return parts.view(dtype)[..., 0]
    return g.standard_normal(shape).astype(dtype)


def randint(low, high, shape, dtype):
    return _random.generator().integers(low, high, size=shape, dtype=dtype)


def _parts(a):
    """A complex array's (..., 2) real view, which the fills below draw into as torch's do
    (numpy would cast each real draw to complex, leaving every imaginary part 0)."""
    r = a.real
    return np.lib.stride_tricks.as_strided(r, (*a.shape, 2), (*r.strides, r.itemsize))


def normal_(a, mean, std):
    rng = _random.generator()
    if a.dtype.kind == "c":  # each part gets half the variance, as torch's complex normal
        _random_fill.fill_(_parts(a), lambda n: rng.normal(mean, std * math.sqrt(0.5), n))
        return
    _random_fill.fill_(a, lambda n: rng.normal(mean, std, n))


def uniform_(a, low, high):
    rng = _random.generator()
    _random_fill.fill_(_parts(a) if a.dtype.kind == "c" else a, lambda n: rng.uniform(low, high, n))


def bernoulli(p, shape, dtype):
    """1 with probability p, else 0 (dropout masks)."""
    return (_random.generator().random(shape) < p).astype(dtype)


def dropout(x, p, seed=None, offset=None):
    """(x * mask / (1 - p), mask as uint8) in one pass over x. The Philox stream is (seed, offset);
    without them one 64-bit draw from fastnn's generator is the seed (fastnn.manual_seed makes
    the masks reproducible, whatever the thread count)."""
    if (seed is None) != (offset is None):
        raise ValueError("dropout: give both seed and offset, or neither")
    if seed is None:
        seed, offset = int(_random.generator().bit_generator.random_raw()), 0
    if x.dtype in _KDT:
        return kernels.dropout(_c(x), p, seed, offset)
    keep = np.random.default_rng([seed, offset]).random(x.shape) >= p  # other dtypes: numpy
    scale = 1.0 / (1.0 - p) if p < 1.0 else 0.0
    return (x * (keep * scale)).astype(x.dtype, copy=False), keep.astype(np.uint8)


def dropout_backward(grad, mask, p):
    """grad * mask / (1 - p)."""
    if grad.dtype in _KDT:
        return kernels.dropout_backward(_c(grad), _c(mask), p)
    scale = 1.0 / (1.0 - p) if p < 1.0 else 0.0
    return (grad * (mask * scale)).astype(grad.dtype, copy=False)


# ---- element-wise (numpy ufuncs: broadcasting, weak Python scalars) ---------------------------

# Large float operands take fastnn's threaded kernels (csrc/cpu/arithmetic.cpp; numpy's loops run
# on one core): same-shaped C-contiguous arrays of one float dtype, or the larger one with a row
# of its trailing dims (a bias), or with a Python number or a 0-d array of its dtype, with out
# None or the larger operand (in place). The bits are
# numpy's. One thread gains nothing (numpy's loop is as fast), and below ARITH_MIN elements waking
# the pool costs what it saves.
ARITH_MIN = 1 << 16
_EXACT_INT = 1 << 53  # int scalars beyond this would round twice on their way to float32


def _arith_takes(a, b, out):
    # the larger operand gives the result's shape (a 0-d a is one value)
    a_big = a.__class__ is _NDARRAY and a.ndim and (b.__class__ is not _NDARRAY or a.size >= b.size)
    big = a if a_big else b
    dt = big.dtype
    if dt not in _ROW_SUM_DTYPES or not big.flags.c_contiguous or kernels.get_num_threads() < 2:
        return False
    other = b if big is a else a
    kind = other.__class__
    if kind is _NDARRAY:  # same shape, a row of its trailing dims, or 0-d (one value)
        if other.dtype != dt or not (
            other.ndim == 0
            or (other.flags.c_contiguous and (other.shape == big.shape or _repeats(other, big)))
        ):
            return False
    elif kind is float:  # numpy turns a float past float32's range into inf, with a warning
        if dt is _F32 and math.isfinite(other) and builtins.abs(other) > _F32_MAX:
            return False
    elif kind is not int or builtins.abs(other) > _EXACT_INT:
        return False
    return out is None or (out is big and out.flags.writeable)


def _repeats(row, big):
    """Whether ``row`` has ``big``'s trailing dims (a bias broadcast over a batch), long enough
    for the kernel's row-by-row pass to run whole vectors."""
    return row.ndim < big.ndim and row.size >= 16 and row.shape == big.shape[big.ndim - row.ndim :]


def _arith(ufunc, kernel):
    def op(a, b, out=None):
        if (
            (a.__class__ is _NDARRAY and a.size >= ARITH_MIN)
            or (b.__class__ is _NDARRAY and b.size >= ARITH_MIN)
        ) and _arith_takes(a, b, out):
            # out as a keyword only when given: pybind11's keyword parsing costs ~0.6 us a call
            return kernel(a, b) if out is None else kernel(a, b, out=out)
        return ufunc(a, b) if out is None else ufunc(a, b, out=out)

    op.__name__ = op.__qualname__ = ufunc.__name__
    return op


def _sized(ufunc, large):
    """``ufunc`` for small operands, ``large`` (a threaded route) when the first or second argument
    is an array of ARITH_MIN elements or more, chosen in C (_C.SizeDispatch): a Python wrapper's
    frame would cost a recorded op on a tiny tensor 5 % of its time, and the primitives and their
    backward passes call these on every size."""
    op = kernels.SizeDispatch(ufunc, large, ARITH_MIN)
    op.__name__ = op.__qualname__ = ufunc.__name__
    op.__doc__ = large.__doc__ or ufunc.__doc__
    return op


# The *_large forms take the kernels when the operands allow, numpy's ufunc otherwise; the plain
# names, which every caller uses, reach them from ARITH_MIN elements.
add_large = _arith(np.add, kernels.add)
sub_large = _arith(np.subtract, kernels.sub)
mul_large = _arith(np.multiply, kernels.mul)
div_large = _arith(np.true_divide, kernels.div)
add = _sized(np.add, add_large)
sub = _sized(np.subtract, sub_large)
mul = _sized(np.multiply, mul_large)
div = _sized(np.true_divide, div_large)
pow = np.power


def _unary_arith(ufunc, kernel):
    """``ufunc``, threaded (``kernel``) for a large C-contiguous float array with out None or
    the array itself; the same bits either way."""

    def op(x, out=None):
        if (
            x.__class__ is _NDARRAY
            and x.size >= ARITH_MIN
            and x.dtype in _ROW_SUM_DTYPES
            and x.flags.c_contiguous
            and (out is None or (out is x and x.flags.writeable))
            and kernels.get_num_threads() > 1
        ):
            return kernel(x) if out is None else kernel(x, out=out)
        return ufunc(x) if out is None else ufunc(x, out=out)

    op.__name__ = op.__qualname__ = ufunc.__name__
    return op


neg = _sized(np.negative, _unary_arith(np.negative, kernels.neg))


def _cube_numpy(x, out=None):
    """(x * x) * x, torch's x ** 3, in numpy's two passes (the product reused as the result)."""
    x2 = np.multiply(x, x, out=out)
    return np.multiply(x2, x, out=x2) if x2.ndim else np.multiply(x2, x)


cube = _sized(_cube_numpy, _unary_arith(_cube_numpy, kernels.cube))
abs = _sized(np.abs, _unary_arith(np.abs, kernels.abs))


def sign(a):
    """torch's sign: -1, 0 or 1, and 0 at NaN (numpy's sign keeps the NaN), for every float
    array (the kernel, threaded when large); numpy's sign for the other dtypes."""
    if a.__class__ is _NDARRAY and _dtype.is_floating(a.dtype):
        if a.dtype in _ROW_SUM_DTYPES:
            return kernels.sign(_c(a))
        return np.where(np.isnan(a), a.dtype.type(0), np.sign(a))
    return np.sign(a)


# threaded from ARITH_MIN elements, as add..div: relu written as maximum(x, zeros) runs on them
maximum = _sized(np.maximum, _arith(np.maximum, kernels.maximum))
minimum = _sized(np.minimum, _arith(np.minimum, kernels.minimum))

WHERE_MIN = 256  # below this numpy's where is as fast as the kernel's call
_BOOL = np.dtype(bool)


def _where_operand(v, cond, dt):
    """where()'s x or y as the kernel takes it beside a float array of dtype dt, or None: an
    array of dtype dt and of cond's shape (C-contiguous; a broadcast single value as a 0-d view
    of it; any other layout copied, still far faster than numpy's branches) or 0-d, or a Python
    number that converts to dt as numpy converts it (exactly, within float32's range)."""
    kind = v.__class__
    if kind is _NDARRAY:
        if v.dtype != dt:
            return None
        if v.ndim == 0 or (v.shape == cond.shape and v.flags.c_contiguous):
            return v
        if v.shape != cond.shape:
            return None  # broadcasting: numpy's
        if not builtins.any(v.strides):  # one value broadcast (a sum's gradient)
            return v.reshape(-1)[:1].reshape(())
        return np.ascontiguousarray(v)
    if kind is float:
        return v if dt != _F32 or not math.isfinite(v) or builtins.abs(v) <= _F32_MAX else None
    return v if kind is int and builtins.abs(v) <= _EXACT_INT else None


def where(cond, x, y):
    """numpy.where; a large bool condition with float operands of its shape (or numbers) takes
    the threaded select kernel, numpy's bits: numpy branches on every element, 4 ns each on a
    random mask (a 256 x 784 where took 0.8 ms)."""
    if cond.__class__ is _NDARRAY and cond.dtype is _BOOL and cond.size >= WHERE_MIN:
        big = x if x.__class__ is _NDARRAY and x.ndim else y
        if big.__class__ is _NDARRAY and big.dtype in _ROW_SUM_DTYPES and cond.flags.c_contiguous:
            xk = _where_operand(x, cond, big.dtype)
            yk = _where_operand(y, cond, big.dtype)
            if xk is not None and yk is not None:
                return kernels.where(cond, xk, yk)
    return np.where(cond, x, y)


def minmax_grads(g, x, y, is_max, need_x, need_y):
    """(grad_x, grad_y) of maximum(x, y) (``is_max``) or minimum(x, y) in one threaded pass, for
    same-shaped float arrays of one dtype; None for anything else (the op composes them)."""
    if (
        g.__class__ is _NDARRAY
        and x.__class__ is _NDARRAY
        and y.__class__ is _NDARRAY
        and g.dtype in _ROW_SUM_DTYPES
        and x.dtype == g.dtype == y.dtype
        and x.shape == g.shape == y.shape
    ):
        kernel = kernels.maximum_backward if is_max else kernels.minimum_backward
        return kernel(_c(g), _c(x), _c(y), need_a=need_x, need_b=need_y)
    return None


_BOUND = (float, int)
_F32_MAX = float(np.finfo(np.float32).max)
_F32_MAX_INT = int(_F32_MAX)


def _clamp_kernel_takes(a, lo, hi):
    """Whether the clamp kernel (hardtanh: x < lo ? lo : x > hi ? hi : x) gives torch's clamp:
    a contiguous float32/64 array, number bounds in order (torch gives max everywhere when
    min > max; a NaN bound is not in order) and within float32's range for a float32 array
    (numpy's overflow warning and torch's cast stay theirs)."""
    if not (a.dtype in _ROW_SUM_DTYPES and a.flags.c_contiguous and lo <= hi):
        return False
    if a.dtype.itemsize == 8:
        return True
    # an int bound against the int of float32's max: Python compares an int with a float that
    # large by converting the float to an int first (1.5 us per comparison)
    lo_max = _F32_MAX_INT if lo.__class__ is int else _F32_MAX
    hi_max = _F32_MAX_INT if hi.__class__ is int else _F32_MAX
    return (abs(lo) <= lo_max or lo == -math.inf) and (abs(hi) <= hi_max or hi == math.inf)


def clip(a, lo=None, hi=None, out=None):
    if _dtype.is_floating(a.dtype) and (lo is not None or hi is not None):
        if (
            out is None
            and (lo is None or lo.__class__ in _BOUND)
            and (hi is None or hi.__class__ in _BOUND)
        ):
            # one kernel pass instead of two ufuncs (a third of a tiny clamp's time); it also
            # keeps the sign of a zero at a zero bound, as torch does (numpy's maximum(-0.0, 0.0)
            # is 0.0)
            lo_, hi_ = -math.inf if lo is None else lo, math.inf if hi is None else hi
            if _clamp_kernel_takes(a, lo_, hi_):
                return kernels.hardtanh(a, lo_, hi_)
        # np.clip's own ufuncs and bits for a float array, without its Python wrapper (2 of a
        # tiny clamp's 3 us); other dtypes keep np.clip's handling of out-of-range bounds
        if hi is None:
            return np.maximum(a, lo, out=out)
        if lo is None:
            return np.minimum(a, hi, out=out)
        return np.minimum(np.maximum(a, lo, out=out), hi, out=out)
    return np.clip(a, lo, hi, out=out)


eq = np.equal
ne = np.not_equal
lt = np.less
le = np.less_equal
gt = np.greater
ge = np.greater_equal
logical_not = np.logical_not
isnan = np.isnan
logaddexp = np.logaddexp

# ---- reductions --------------------------------------------------------------------------------


_ROW_SUM_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _leading_axes(axis, ndim):
    """k when ``axis`` names exactly the first k < ndim axes (0, or (0, ..., k-1)), else 0."""
    if axis.__class__ is int:
        return 1 if ndim > 1 and axis in (0, -ndim) else 0
    if axis.__class__ is tuple and axis:
        k = len(axis)
        if k == 1:  # most calls, without sorting
            return 1 if ndim > 1 and axis[0] % ndim == 0 else 0
        if k < ndim and sorted(ax % ndim for ax in axis) == list(range(k)):
            return k
    return 0


_add_reduce = np.add.reduce


def _whole_sum_kernel(a):
    """Whether sum_all takes ``a``: a C-contiguous float array (a numpy scalar, the result of
    an op on 0-d arrays, takes numpy's path)."""
    return a.__class__ is np.ndarray and a.dtype in _ROW_SUM_DTYPES and a.flags.c_contiguous


def _sum_all(a, keepdims):
    """The whole sum of a contiguous float array in one kernel call (numpy's order and bits)."""
    out = kernels.sum_all(a)
    return out.reshape((1,) * a.ndim) if keepdims else out


def _only_last_axis(axis, ndim):
    """Whether ``axis`` (an int or a tuple, not None) names the last axis alone."""
    if axis.__class__ is tuple:
        if len(axis) != 1:
            return False
        axis = axis[0]
    return axis == ndim - 1 or axis == -1


def _sum_last(a, keepdims):
    """The sums along the last axis of a contiguous float array (ndim >= 1) in one kernel call
    (numpy's order and bits)."""
    if a.ndim == 2:  # (batch, classes): no reshape on the way in
        out = kernels.sum_last(a)
        return out.reshape(a.shape[0], 1) if keepdims else out
    lead = a.shape[:-1]
    out = kernels.sum_last(a.reshape(math.prod(lead), a.shape[-1]))
    return out.reshape((*lead, 1) if keepdims else lead)


def sum_last(a, keepdims=False):
    """sum(a, a.ndim - 1, keepdims) of an array with ndim >= 1: Tensor.sum(-1)'s host path."""
    if _whole_sum_kernel(a):
        return _sum_last(a, keepdims)
    return sum(a, a.ndim - 1, keepdims)


def sum(a, axis=None, keepdims=False, dtype=None):
    if a.dtype is _BF16 and dtype is None:  # accumulated in float32, rounded once
        return sum(_up(a), axis, keepdims).astype(_BF16)
    if dtype is None and _whole_sum_kernel(a):
        if axis is None:
            return _sum_all(a, keepdims)  # a loss: numpy's reduction set-up is most of a small one
        if a.ndim and _only_last_axis(axis, a.ndim):
            return _sum_last(a, keepdims)  # a softmax's denominator: numpy goes row by row
    # Over the leading dimensions of a float array (a bias gradient): one kernel call, several
    # times faster than numpy's row-by-row reduction on narrow rows.
    k = _leading_axes(axis, a.ndim) if axis is not None and dtype is None else 0
    if k and a.dtype in _ROW_SUM_DTYPES and a.flags.c_contiguous and a.size:
        rest = a.shape[k:]
        out = kernels.sum_rows(a.reshape(math.prod(a.shape[:k]), -1))
        return out.reshape((1,) * k + rest if keepdims else rest)
    # the ufunc's reduce is what np.sum calls, without its Python wrapper (half a tiny sum)
    return np.asarray(_add_reduce(a, axis=axis, keepdims=keepdims, dtype=dtype))


def mean(a, axis=None, keepdims=False):
    if a.dtype is _BF16:  # as sum
        return mean(_up(a), axis, keepdims).astype(_BF16)
    if a.size and a.dtype in _KDT:
        # np.mean's own steps for a float array (the sum, then a division by the count)
        # without its Python wrapper: a fifth of the time on tiny arrays. numpy divides
        # float32 in float64 and rounds once more; that gives the same float32 quotient. Over
        # leading axes the sum is the column-sum kernel's (a (256, 10) batch mean: 3.5 us, 6
        # through numpy's reduction), within its rounding of numpy's; elsewhere numpy's bits.
        if axis is None and _whole_sum_kernel(a):
            s = kernels.sum_all(a)
            s[()] = float(s) / a.size  # numpy's float64 division and rounding, without its scalars
            return s.reshape((1,) * a.ndim) if keepdims else s
        s = sum(a, axis, keepdims)  # the sum kernels where they apply (last or leading axes)
        out = s / (a.size // s.size)
        return out if out.__class__ is np.ndarray else np.asarray(out)
    return np.asarray(np.mean(a, axis=axis, keepdims=keepdims))


def _rows_along_last(a, axis):
    """Whether ``axis`` (an int or a 1-tuple) is the last axis of a C-contiguous float32 / float64
    array with a non-empty last axis: the row kernels' case."""
    return _whole_sum_kernel(a) and a.ndim and _only_last_axis(axis, a.ndim) and a.shape[-1] > 0


def amax(a, axis=None, keepdims=False):
    if axis is not None and _rows_along_last(a, axis):
        return kernels.amax_last(a, keepdims)  # numpy's reduction: one vector chain per row
    return np.asarray(np.maximum.reduce(a, axis=axis, keepdims=keepdims))  # np.amax's own call


def amin(a, axis=None, keepdims=False):
    if axis is not None and _rows_along_last(a, axis):
        return kernels.amin_last(a, keepdims)
    return np.asarray(np.minimum.reduce(a, axis=axis, keepdims=keepdims))


def norm2(a, axis=None):
    """The Euclidean norm over ``axis`` (None: all), the reduced axes kept as 1s. float32 /
    float64 over all elements or along the last axis: the kernels, one pass accumulating in
    double (numpy squares in one pass, sums in another); elsewhere those two passes."""
    if a.dtype in _ROW_SUM_DTYPES:
        if axis is None and a.size:
            return np.full((1,) * a.ndim, kernels.grad_norm([_c(a)], 2.0), a.dtype)
        if axis is not None and _rows_along_last(a, axis):
            return kernels.norm_last(a, 2.0, True)
    return sqrt(sum(mul(a, a), axis=axis, keepdims=True))


def extreme(a, axis, keepdims, op):
    """(values, indices) of torch's max(dim) / min(dim) (``op``: "argmax" or "argmin") for an
    int ``axis`` of ``a`` (ndim >= 1). Along the last axis of a contiguous float array with a
    non-empty last axis, one kernel pass over the rows (numpy's argmax and reduction are two
    passes with a set-up each, most of a small call's time); numpy's two calls elsewhere (where
    a tie between -0.0 and 0.0 may give the other zero as the value)."""
    if axis == a.ndim - 1 and a.dtype in _ROW_SUM_DTYPES and a.flags.c_contiguous and a.shape[-1]:
        return (kernels.max_last if op == "argmax" else kernels.min_last)(a, keepdims)
    if op == "argmax":
        return amax(a, axis, keepdims), argmax(a, axis, keepdims)
    return amin(a, axis, keepdims), argmin(a, axis, keepdims)


def argmax(a, axis=None, keepdims=False):
    return np.asarray(a.argmax(axis=axis, keepdims=keepdims))  # np.argmax calls this method


def argmin(a, axis=None, keepdims=False):
    return np.asarray(a.argmin(axis=axis, keepdims=keepdims))


def any(a, axis=None):
    return np.asarray(np.any(a, axis=axis))


def all(a, axis=None):
    return np.asarray(np.all(a, axis=axis))


def sum_to_shape(g, shape):
    """Undo broadcasting: sum ``g`` down to ``shape`` (the backward of an implicit expand)."""
    if g.shape == shape:
        return g
    if not shape and _whole_sum_kernel(g):
        return _sum_all(g, False)  # a 0-d operand's gradient (a scalar parameter)
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and g.shape[i + lead] != 1
    )
    out = sum(g, axis=axes, keepdims=True) if axes else g
    return np.asarray(out.reshape(shape))


# ---- shape and indexing --------------------------------------------------------------------------


# numpy >= 2.1 says when a reshape would copy (copy=False raises); older ones copy unasked.
_RESHAPE_SAYS_COPY = np.lib.NumpyVersion(np.__version__) >= "2.1.0"


def reshape(a, shape):
    """A view where one exists (as torch's reshape); else a copy, a large one on every core
    (the head split and merge of attention: a (64, 128, 32) transpose 53 -> 21 us)."""
    if a.flags.c_contiguous or not _RESHAPE_SAYS_COPY or not _threaded_copy_pays(a):
        return a.reshape(shape)
    try:
        return np.reshape(a, shape, copy=False)
    except ValueError:
        return kernels.copy(a).reshape(shape)


def permute(a, dims):
    return a.transpose(dims)


broadcast_to = np.broadcast_to


_NUMPY_MISMATCH = "shape mismatch: indexing arrays could not be broadcast together with shapes "


def _index_error(e):
    """numpy's IndexError for index tensors that do not broadcast, in torch's words (its
    shapes as lists, comma-separated); any other IndexError unchanged."""
    msg = str(e)
    if not msg.startswith(_NUMPY_MISMATCH):
        return e
    shapes = [
        "[" + ", ".join(d for d in s.strip("(),").split(",") if d) + "]"
        for s in msg[len(_NUMPY_MISMATCH) :].split()
    ]
    return IndexError(
        "shape mismatch: indexing tensors could not be broadcast together with shapes "
        + ", ".join(shapes)
    )


def getitem(a, index):
    try:
        out = a[index]
    except IndexError as e:
        raise _index_error(e) from None
    if out.__class__ is not np.ndarray:
        # an integer per dimension gives numpy's scalar copy; with a trailing ... it is a 0-d
        # view of the element, as torch's x[i, j] is
        out = a[(*index, ...)] if index.__class__ is tuple else a[index, ...]
    return out


def setitem(a, index, value):
    try:
        a[index] = value
    except IndexError as e:
        raise _index_error(e) from None


def getitem_backward(g, shape, index, advanced):
    """Scatter ``g`` (the grad of ``a[index]``) into zeros of ``shape``; repeated indices add."""
    out = np.zeros(shape, dtype=g.dtype)
    if advanced and _has_int_array(index):
        np.add.at(out, index, g)
    else:
        out[index] = g
    return out


def _has_int_array(index):
    parts = index if isinstance(index, tuple) else (index,)
    return builtins.any(isinstance(p, np.ndarray) and p.dtype.kind != "b" for p in parts)


def concatenate(arrays, axis):
    """numpy.concatenate of a list or tuple of arrays by the cat kernel (about half of numpy's
    time on two 4x4 arrays, two cores on large ones); numpy for mixed dtypes (it promotes)."""
    try:
        return kernels.cat(arrays, axis)
    except TypeError:
        return np.concatenate(arrays, axis=axis)


def stack(arrays, axis):
    """numpy.stack, as concatenate does it (the callers checked that the shapes are equal)."""
    try:
        return kernels.stack(arrays, axis)
    except TypeError:
        return np.stack(arrays, axis)


def take_along_axis(a, idx, axis):
    return np.take_along_axis(a, idx, axis=axis)


def take_along_axis_backward(g, shape, idx, axis):
    """Scatter-add ``g`` into zeros of ``shape`` at ``idx`` along ``axis`` (repeats add)."""
    out = np.zeros(shape, dtype=g.dtype)
    index = list(np.ix_(*[np.arange(n) for n in idx.shape]))  # the mesh take_along_axis uses
    index[axis] = idx
    np.add.at(out, tuple(index), g)
    return out


# ---- hot ops: fastnn.kernels for float32/float64; numpy (numpy_kernels) for other dtypes -------

_KDT = (_F32, _F64)
_IDX = (np.dtype(np.int32), np.dtype(np.int64))


def _c(a):
    return a if a.flags.c_contiguous else ascontiguous(a)


def matmul(a, b, trans_a=False, trans_b=False, bias=None):
    """op(a) @ op(b) (+ bias) for 2-D or batched 3-D arrays; op = transpose when trans_*.
    The kernel reads any strides (a transposed view is not copied)."""
    if a.dtype in _KDT and a.dtype == b.dtype and (bias is None or bias.dtype == a.dtype):
        # Transposes go in as views and the call is matmul_ab, bound with positional arguments
        # only: pybind11's keyword parsing costs ~1 us, more than a whole tiny GEMM, while a
        # view costs ~0.1 us and the kernel reads its strides exactly as it would with trans_a /
        # trans_b. Tiny products stay on the kernel: called this way it is 1.2-1.8x faster than
        # np.matmul up to 16x16 (bench_overhead.py's small-GEMM table), so no size goes to numpy
        # for call overhead.
        a = a.swapaxes(-1, -2) if trans_a else a
        b = b.swapaxes(-1, -2) if trans_b else b
        return kernels.matmul_ab(a, b, bias)
    if a.dtype is _BF16 and b.dtype is _BF16 and (bias is None or bias.dtype is _BF16):
        # numpy's matmul of bfloat16 gives float32: the kernel's float32 product, rounded once
        return _down(matmul(_up(a), _up(b), trans_a, trans_b, _up(bias)))
    return _npk.matmul(a, b, trans_a=trans_a, trans_b=trans_b, bias=bias)


def _unary(name):
    kern, ref = getattr(kernels, name), getattr(_npk, name)
    complex_ok = name in _COMPLEX_ACTIVATIONS

    def op(x, *args):
        if x.dtype in _KDT:
            # without arguments a plain call: unpacking an empty tuple costs a third of a
            # 4x4 op's time in the binding
            return kern(_c(x), *args) if args else kern(_c(x))
        if x.dtype is _BF16:  # the float32 kernel, rounded once (numpy's steps would round each)
            return kern(_up(x), *args).astype(_BF16)
        if x.dtype.kind == "c" and not complex_ok:
            # numpy would compare or clip complex numbers part by part; torch refuses
            raise NotImplementedError(
                f"\"{name}_cpu\" not implemented for '{_COMPLEX_NAMES[x.dtype.name]}'"
            )
        return ref(x, *args)

    op.__name__ = name
    return op


_COMPLEX_ACTIVATIONS = frozenset(("sigmoid", "tanh", "rsqrt"))
_COMPLEX_NAMES = {"complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def _backward(name):
    kern, ref = getattr(kernels, name), getattr(_npk, name)

    def op(grad, x, *args):
        if x.dtype in _KDT and grad.dtype == x.dtype:
            return kern(_c(grad), _c(x), *args)
        if x.dtype is _BF16 and grad.dtype is _BF16:
            return kern(_up(grad), _up(x), *args).astype(_BF16)
        return ref(grad, x, *args)

    op.__name__ = name
    return op


def var_mean(a, axis, correction, keepdims):
    """(variance, mean) of a float32/64 array over ``axis`` (one int, or None for all): the
    kernel, both accumulated in double."""
    return kernels.var_mean(_c(a), axis, correction, keepdims)


def _along(name):
    """The softmax family along ``dim`` (the kernels take any axis of a contiguous array)."""
    kern, ref = getattr(kernels, name), getattr(_npk, name)
    kern_bwd, ref_bwd = getattr(kernels, name + "_backward"), getattr(_npk, name + "_backward")

    def op(x, dim=-1):
        if x.dtype in _KDT:
            # dim positional: a keyword costs a third of a 4x4 call in the binding
            return kern(_c(x), dim)
        if x.dtype is _BF16:
            return kern(_up(x), dim).astype(_BF16)
        return ref(x, dim)

    def backward(grad, y, dim=-1):
        if y.dtype in _KDT and grad.dtype == y.dtype:
            return kern_bwd(_c(grad), _c(y), dim)
        if y.dtype is _BF16 and grad.dtype is _BF16:
            return kern_bwd(_up(grad), _up(y), dim).astype(_BF16)
        return ref_bwd(grad, y, dim)

    op.__name__, backward.__name__ = name, name + "_backward"
    return op, backward


softmax, softmax_backward = _along("softmax")
log_softmax, log_softmax_backward = _along("log_softmax")
relu = _unary("relu")
sigmoid = _unary("sigmoid")
tanh = _unary("tanh")


def _float32_kernel(name, ufunc):
    """The kernel ``name`` for a float32 ndarray, numpy's ``ufunc`` for anything else (float64,
    where numpy's exp is vectorised and the kernel's loop is not; a numpy scalar, which the
    kernels do not take)."""
    kern = getattr(kernels, name)

    def op(x):
        if x.__class__ is _NDARRAY:
            if x.dtype is _F32:
                return kern(_c(x))
            if x.dtype is _BF16:
                return kern(_up(x)).astype(_BF16)
        return ufunc(x)

    op.__name__ = name
    return op


# threaded on every core: numpy's loops run on one (exp there is 2x slower per core on 200k
# floats; sqrt gives the same correctly rounded bits)
exp = _float32_kernel("exp", np.exp)
sqrt = _float32_kernel("sqrt", np.sqrt)
log = _float32_kernel("log", np.log)
sin = _float32_kernel("sin", np.sin)  # (numpy's float64 sin and cos are vectorised)
cos = _float32_kernel("cos", np.cos)
log1p = _float32_kernel("log1p", np.log1p)
expm1 = _float32_kernel("expm1", np.expm1)
arctan = _float32_kernel("arctan", np.arctan)
arctan_backward = _backward("arctan_backward")
log1p_backward = _backward("log1p_backward")
expm1_backward = _backward("expm1_backward")
rsqrt = _unary("rsqrt")  # one pass where numpy takes two
rsqrt_backward = _backward("rsqrt_backward")
sin_backward = _backward("sin_backward")
cos_backward = _backward("cos_backward")
erf_backward = _backward("erf_backward")
leaky_relu = _unary("leaky_relu")
gelu = _unary("gelu")
relu_backward = _backward("relu_backward")
sigmoid_backward = _backward("sigmoid_backward")
tanh_backward = _backward("tanh_backward")
exp_backward = _backward("exp_backward")
sqrt_backward = _backward("sqrt_backward")
log_backward = _backward("log_backward")
leaky_relu_backward = _backward("leaky_relu_backward")
gelu_backward = _backward("gelu_backward")
silu = _unary("silu")
mish = _unary("mish")
softplus = _unary("softplus")
elu = _unary("elu")
hardtanh = _unary("hardtanh")
logsigmoid = _unary("logsigmoid")
silu_backward = _backward("silu_backward")
mish_backward = _backward("mish_backward")
softplus_backward = _backward("softplus_backward")
elu_backward = _backward("elu_backward")
hardtanh_backward = _backward("hardtanh_backward")
logsigmoid_backward = _backward("logsigmoid_backward")


def prelu(x, weight):
    """x where x > 0, else weight[c] * x (c: x's index in dim 1; one weight: shared)."""
    if x.dtype in _KDT and weight.dtype == x.dtype:
        return kernels.prelu(_c(x), _c(weight))
    return _npk.prelu(x, weight)


def prelu_backward(grad, x, weight, need_weight=True):
    """(dx, dweight) of prelu; dweight is None unless need_weight."""
    if x.dtype in _KDT and grad.dtype == x.dtype == weight.dtype:
        return kernels.prelu_backward(_c(grad), _c(x), _c(weight), need_weight=need_weight)
    return _npk.prelu_backward(grad, x, weight, need_weight)


def softmax_cross_entropy(logits, target, reduction, label_smoothing, ignore_index, weight, grad):
    """The fused kernel: loss, or (loss, d loss / d logits) with grad (row i holds
    d loss_i / d logits_i for reduction='none')."""
    if reduction == "mean" and weight is None and not label_smoothing and ignore_index == -100:
        return kernels.softmax_cross_entropy_mean(_c(logits), _c(target), grad)  # positional
    return kernels.softmax_cross_entropy(
        _c(logits),
        _c(target),
        reduction=reduction,
        label_smoothing=label_smoothing,
        ignore_index=ignore_index,
        weight=None if weight is None else _c(weight),
        grad=grad,
    )


def binary_cross_entropy_with_logits(logits, target, weight, pos_weight, reduction, grad):
    return kernels.binary_cross_entropy_with_logits(
        _c(logits),
        _c(target),
        weight=None if weight is None else _c(weight),
        pos_weight=None if pos_weight is None else _c(pos_weight),
        reduction=reduction,
        grad=grad,
    )


# ---- conv: im2col/col2im, pooling, and the GEMM with a weight shared by every batch ------------


def im2col(x, kernel_size, stride, padding, dilation, ones_row=False):
    return kernels.im2col(_c(x), kernel_size, stride, padding, dilation, ones_row=ones_row)


def col2im(cols, input_shape, kernel_size, stride, padding, dilation):
    return kernels.col2im(_c(cols), tuple(input_shape), kernel_size, stride, padding, dilation)


def _conv_pair(forward, backward):
    """The backend's forms of a conv kernel pair: forward(x, weight, bias, stride, padding,
    dilation), bias may be None; backward(grad, x, weight, stride, padding, dilation, need) ->
    (dx, dweight, dbias), None where need[i] is False."""

    def fwd(x, weight, bias, stride, padding, dilation):
        return forward(
            _c(x), _c(weight), None if bias is None else _c(bias), stride, padding, dilation
        )

    def bwd(grad, x, weight, stride, padding, dilation, need):
        return backward(
            _c(grad),
            _c(x),
            _c(weight),
            stride,
            padding,
            dilation,
            need_input=need[0],
            need_weight=need[1],
            need_bias=need[2],
        )

    fwd.__name__, bwd.__name__ = forward.__name__, backward.__name__
    return _bf16_via_float32(fwd), _bf16_via_float32(bwd)


# NCHW conv2d (groups=1) by the chunked im2col + GEMM kernel; and groups = input channels
# (weight (C * k, 1, kh, kw)) by direct sums per plane
conv2d, conv2d_backward = _conv_pair(kernels.conv2d, kernels.conv2d_backward)
depthwise_conv2d, depthwise_conv2d_backward = _conv_pair(
    kernels.depthwise_conv2d, kernels.depthwise_conv2d_backward
)


def max_pool2d(x, kernel_size, stride, padding, dilation):
    return kernels.max_pool2d(_c(x), kernel_size, stride, padding, dilation)


def max_pool2d_backward(grad, indices, input_shape):
    return kernels.max_pool2d_backward(_c(grad), _c(indices), tuple(input_shape))


def max_pool2d_2x2(x):
    return kernels.max_pool2d_2x2(_c(x))


def max_pool2d_2x2_backward(grad, code, input_shape):
    return kernels.max_pool2d_2x2_backward(_c(grad), _c(code), tuple(input_shape))


def avg_pool2d(x, kernel_size, stride, padding, count_include_pad, divisor_override):
    return kernels.avg_pool2d(
        _c(x), kernel_size, stride, padding, count_include_pad, divisor_override
    )


def avg_pool2d_backward(
    grad, input_shape, kernel_size, stride, padding, count_include_pad, divisor_override
):
    return kernels.avg_pool2d_backward(
        _c(grad),
        tuple(input_shape),
        kernel_size,
        stride,
        padding,
        count_include_pad,
        divisor_override,
    )


# ---- normalization: one fused kernel each way, statistics (mean, rstd) in float64 ---------------


def batch_norm(x, weight, bias, running_mean, running_var, training, momentum, eps):
    """(y, mean, rstd) per channel of x (N, C, *); in training the running buffers (or None) are
    updated in place, through a contiguous copy written back when they are strided views."""
    if x.dtype is _BF16:  # in float32 (the running buffers are written back below)
        y, mean, rstd = batch_norm(
            _up(x), _up(weight), _up(bias), running_mean, running_var, training, momentum, eps
        )
        return _down(y), mean, rstd
    rm, rv = (None, None) if running_mean is None else (_c(running_mean), _c(running_var))
    rm, rv = _up(rm), _up(rv)  # (bfloat16 buffers: float32 copies, written back)
    out = kernels.batch_norm(
        _c(x),
        weight if weight is None else _c(weight),
        bias if bias is None else _c(bias),
        rm,
        rv,
        training=bool(training),
        momentum=float(momentum),
        eps=float(eps),
    )
    if training and rm is not None:
        for buf, tmp in ((running_mean, rm), (running_var, rv)):
            if buf is not tmp:
                np.copyto(buf, tmp, casting="unsafe")
    return out


def batch_norm_backward(grad, x, weight, mean, rstd, training, need):
    return kernels.batch_norm_backward(
        _c(grad),
        _c(x),
        weight if weight is None else _c(weight),
        mean,
        rstd,
        training=bool(training),
        need_input=need[0],
        need_weight=need[1],
        need_bias=need[2],
    )


def layer_norm(x, normalized_shape, weight, bias, eps):
    return kernels.layer_norm(
        _c(x),
        tuple(normalized_shape),
        weight if weight is None else _c(weight),
        bias if bias is None else _c(bias),
        float(eps),
    )


def layer_norm_backward(grad, x, normalized_shape, weight, mean, rstd, need):
    return kernels.layer_norm_backward(
        _c(grad),
        _c(x),
        tuple(normalized_shape),
        weight if weight is None else _c(weight),
        mean,
        rstd,
        need_input=need[0],
        need_weight=need[1],
        need_bias=need[2],
    )


def group_norm(x, num_groups, weight, bias, eps):
    return kernels.group_norm(
        _c(x),
        int(num_groups),
        weight if weight is None else _c(weight),
        bias if bias is None else _c(bias),
        float(eps),
    )


def group_norm_backward(grad, x, num_groups, weight, mean, rstd, need):
    return kernels.group_norm_backward(
        _c(grad),
        _c(x),
        int(num_groups),
        weight if weight is None else _c(weight),
        mean,
        rstd,
        need_input=need[0],
        need_weight=need[1],
        need_bias=need[2],
    )


# ---- embedding: the gather / scatter-add kernels; numpy for tables of other dtypes ------------


def _check_rows(indices, num, fn):
    if indices.dtype not in _IDX:
        raise TypeError(
            f"{fn}: argument 'indices' must have dtype int32 or int64, got {indices.dtype}"
        )
    bad = (indices < 0) | (indices >= num)
    if bad.any():
        pos = int(np.flatnonzero(bad.ravel())[0])
        raise IndexError(
            f"{fn}: index {int(indices.ravel()[pos])} at position {pos} is out of range for an "
            f"embedding table of {num} rows (valid indices are 0 to {num - 1})"
        )


def embedding(weight, indices):
    """weight[indices]: (num, dim) rows at int32/int64 indices of any shape."""
    if weight.dtype in _KDT:
        return kernels.embedding(_c(weight), _c(indices))
    _check_rows(indices, weight.shape[0], "embedding")
    return weight[indices]


def embedding_backward(grad, indices, num_weights, padding_idx=None, scale_grad_by_freq=False):
    """The (num_weights, dim) table gradient of embedding (see fastnn.kernels.embedding_backward)."""
    if grad.dtype in _KDT:
        return kernels.embedding_backward(
            _c(grad), _c(indices), num_weights, padding_idx, scale_grad_by_freq
        )
    _check_rows(indices, num_weights, "embedding_backward")
    flat = indices.ravel()
    g = grad.reshape(flat.size, grad.shape[-1]).astype(np.float64)
    if scale_grad_by_freq:
        g = g / np.bincount(flat, minlength=num_weights)[flat][:, None]
    out = np.zeros((num_weights, g.shape[1]), np.float64)
    np.add.at(out, flat, g)
    if padding_idx is not None:
        out[padding_idx] = 0
    return out.astype(grad.dtype)


def _bag_of(bounds):
    """The bag of each position: bag b holds positions bounds[b] to bounds[b + 1]."""
    return np.repeat(np.arange(bounds.size - 1, dtype=np.int64), np.diff(bounds))


def embedding_bag(weight, indices, bounds):
    """(bags, dim) sums of bags of weight's rows (see fastnn.kernels.embedding_bag)."""
    if weight.dtype in _KDT:
        return kernels.embedding_bag(_c(weight), _c(indices), _c(bounds))
    return embedding_backward(embedding(weight, indices), _bag_of(bounds), bounds.size - 1)


def embedding_bag_backward(grad, indices, bounds, num_weights):
    """The (num_weights, dim) table gradient of embedding_bag."""
    if grad.dtype in _KDT:
        return kernels.embedding_bag_backward(_c(grad), _c(indices), _c(bounds), num_weights)
    return embedding_backward(grad[_bag_of(bounds)], indices, num_weights)


def embedding_renorm_(weight, indices, max_norm, norm_type=2.0):
    """In place: rows of weight named in indices with norm > max_norm scaled to max_norm."""
    if weight.dtype in _KDT:
        return kernels.embedding_renorm_(weight, _c(indices), max_norm, norm_type)
    _check_rows(indices, weight.shape[0], "embedding_renorm_")
    rows = np.unique(indices)
    sel = weight[rows].astype(np.float64)
    norm = np.linalg.norm(sel, ord=norm_type, axis=1)
    scale = np.where(norm > max_norm, max_norm / (norm + 1e-7), 1.0)
    weight[rows] = (sel * scale[:, None]).astype(weight.dtype)
    return weight


def matmul_shared(a, b, trans_a=False, trans_b=False):
    """op(a)[None] @ op(b): a 2-D (M, K) used by every batch of b (B, K, N) -> (B, M, N).

    One batched GEMM: a is passed as a stride-0 broadcast view, which the kernel reads in place
    (no copy of a per batch)."""
    return kernels.matmul(
        np.broadcast_to(a, (b.shape[0], *a.shape)), b, trans_a=trans_a, trans_b=trans_b
    )


# ---- recurrent layers: the fused cells and the time loops (csrc/cpu/rnn.cpp) -------------------


def lstm_cell(gates, c_prev):
    return kernels.lstm_cell(_c(gates), _c(c_prev))


def lstm_cell_backward(dh, dc, act, c_prev, c):
    return kernels.lstm_cell_backward(_c(dh), None if dc is None else _c(dc), act, c_prev, c)


def gru_cell(gi, gh, h_prev):
    return kernels.gru_cell(_c(gi), _c(gh), _c(h_prev))


def gru_cell_backward(dh, act, h_prev):
    return kernels.gru_cell_backward(_c(dh), act, _c(h_prev))


def lstm_sequence(gates, w_hh, h0, c0, reverse=False):
    """(hs, cs, act): ``gates`` (the input projection, owned by the caller) becomes ``act``."""
    hs, cs = kernels.lstm_sequence(gates, _c(w_hh), _c(h0), _c(c0), reverse)
    return hs, cs, gates


def lstm_sequence_backward(dhs, dc_n, act, cs, c0, w_hh, reverse=False):
    dc_n = None if dc_n is None else _c(dc_n)
    return kernels.lstm_sequence_backward(_c(dhs), dc_n, act, cs, _c(c0), _c(w_hh), reverse)


def gru_sequence(gi, w_hh, b_hh, h0, reverse=False):
    b_hh = None if b_hh is None else _c(b_hh)
    return kernels.gru_sequence(_c(gi), _c(w_hh), b_hh, _c(h0), reverse)


def gru_sequence_backward(dhs, act, hs, h0, w_hh, reverse=False):
    return kernels.gru_sequence_backward(_c(dhs), act, hs, _c(h0), _c(w_hh), reverse)


def rnn_sequence(pre, w_hh, h0, nonlinearity="tanh", reverse=False):
    """hs: ``pre`` (the input projection, owned by the caller) is overwritten with it."""
    return kernels.rnn_sequence(pre, _c(w_hh), _c(h0), nonlinearity, reverse)


def rnn_sequence_backward(dhs, hs, w_hh, nonlinearity="tanh", reverse=False):
    return kernels.rnn_sequence_backward(_c(dhs), hs, _c(w_hh), nonlinearity, reverse)


# ---- the math surface: more element-wise math, scans, sorting, indexing, einsum (numpy) -------

tan = np.tan
sinh = np.sinh
cosh = np.cosh
arcsin = np.arcsin
arccos = np.arccos
arcsinh = np.arcsinh
arccosh = np.arccosh
arctanh = np.arctanh
arctan2 = np.arctan2
hypot = np.hypot
exp2 = np.exp2
log2 = np.log2
log10 = np.log10
floor = _sized(np.floor, _unary_arith(np.floor, kernels.floor))
ceil = _sized(np.ceil, _unary_arith(np.ceil, kernels.ceil))
trunc = _sized(np.trunc, _unary_arith(np.trunc, kernels.trunc))
_rint = _sized(np.rint, _unary_arith(np.rint, kernels.rint))


def erf(a):
    """The kernel on float32 / float64 (numpy has no erf); other dtypes through float64."""
    if a.__class__ is _NDARRAY and a.dtype in _KDT:
        return kernels.erf(_c(a))
    a = np.asarray(a)
    out = kernels.erf(np.ascontiguousarray(a, dtype=np.float64))
    return out.astype(a.dtype) if _dtype.is_floating(a.dtype) else out


def round(a, decimals=0):
    """Half to even, at ``decimals`` decimal places (x * 10^d rounded, divided back)."""
    if decimals == 0 and a.__class__ is _NDARRAY and _dtype.is_floating(a.dtype):
        return np.asarray(_rint(a))  # numpy's round at 0 places is its rint
    return np.asarray(np.round(a, decimals))


def cumsum(a, axis, reverse=False):
    """Running sums along ``axis`` (from its end with ``reverse``: the gradient of a cumsum).
    Float arrays go to the scan kernel, which accumulates in double as torch does (numpy's float32
    scan drifts from torch's result with the length); other dtypes are numpy's."""
    if a.dtype in _KDT and a.ndim:
        return kernels.cumsum(np.ascontiguousarray(a), axis, reverse=reverse)
    if reverse:
        return np.flip(np.cumsum(np.flip(a, axis), axis), axis)
    return np.cumsum(a, axis=axis)


def cumprod(a, axis):
    if a.dtype in _KDT and a.ndim:
        return kernels.cumprod(np.ascontiguousarray(a), axis)
    return np.cumprod(a, axis=axis)


def _rev_cumsum(a, axis):
    return cumsum(a, axis, reverse=True)


def cumprod_backward(g, x, axis):
    """d sum(g * cumprod(x)) / dx, exact with zeros in x: the division form is right everywhere
    but at the first zero of a row, whose gradient is recomputed with that zero taken as 1."""
    out = cumprod(x, axis)
    zero = x == 0
    grad = _rev_cumsum(g * out, axis) / np.where(zero, 1, x)
    if zero.any():
        seen = np.cumsum(zero, axis=axis)
        first = zero & (seen == 1)
        out1 = cumprod(np.where(first, 1, x), axis)
        at_first = _rev_cumsum(np.where(seen >= 1, g * out1, 0), axis)
        grad = np.where(first, at_first, grad)
    return np.asarray(grad, dtype=g.dtype)


def prod(a, axis=None, keepdims=False):
    """numpy multiplies along a row in one dependent chain (330 us for the rows of a 256 x 784
    array, 13 ms for all of it); along the last axis, or over every element of a float array,
    the row kernel's running products side by side (a long row in pieces on the threads)."""
    if a.dtype in _ROW_SUM_DTYPES and a.size:
        if axis is None:
            out = kernels.prod_last(_c(a).reshape(-1))
            return out.reshape((1,) * a.ndim) if keepdims else out
        if _rows_along_last(a, axis):
            return kernels.prod_last(a, keepdims)
    return np.asarray(np.prod(a, axis=axis, keepdims=keepdims))


def prod_backward(g, x, axis, keepdims):
    """The product of the other elements (products to the left times products to the right:
    exact with zeros) times the gradient; ``axis`` an int or None (all elements)."""
    if axis is None:
        flat = x.reshape(-1)
        return prod_backward(np.reshape(g, (1,)), flat, 0, True).reshape(x.shape)
    if not keepdims:
        g = np.expand_dims(g, axis)
    n = x.shape[axis]
    ones = np.ones_like(np.take(x, [0], axis=axis)) if n else x
    left = np.concatenate([ones, np.cumprod(np.take(x, range(n - 1), axis=axis), axis)], axis)
    xr = np.flip(x, axis)
    right = np.concatenate([ones, np.cumprod(np.take(xr, range(n - 1), axis=axis), axis)], axis)
    return np.asarray(g * left * np.flip(right, axis), dtype=g.dtype)


def argsort(a, axis, descending=False, stable=False):
    """Indices that sort ``a`` along ``axis`` (NaN largest, like torch). Descending sorts the
    reversed array ascending and reverses back, so equal elements keep their order."""
    if not descending:
        return np.argsort(a, axis=axis, kind="stable" if stable else None)
    n = a.shape[axis]
    idx = np.argsort(np.flip(a, axis), axis=axis, kind="stable")
    return np.ascontiguousarray(n - 1 - np.flip(idx, axis))


def flip(a, axes):
    return np.ascontiguousarray(np.flip(a, axes))


def roll(a, shifts, axes):
    return np.roll(a, shifts, axes)


def tril(a, k=0):
    return np.tril(a, k)


def triu(a, k=0):
    return np.triu(a, k)


def scatter(a, idx, src, axis, reduce=None):
    """A copy of ``a`` with ``src`` (an array of idx's shape or larger, or a scalar) written at
    ``idx`` along ``axis`` (torch.scatter); reduce='add' accumulates repeated indices."""
    out = np.array(a, copy=True)
    index = list(np.ix_(*[np.arange(n) for n in idx.shape]))
    index[axis] = idx
    index = tuple(index)
    if isinstance(src, np.ndarray) and src.ndim:
        src = src[tuple(slice(0, n) for n in idx.shape)]
    if reduce == "add":
        np.add.at(out, index, src)
    else:
        out[index] = src
    return out


def einsum(subscripts, *arrays):
    return np.asarray(np.einsum(subscripts, *arrays, optimize=len(arrays) > 2))


def einsum_backward(g, subscripts, arrays, i):
    """The gradient of operand ``i`` of einsum('a,b,...->out') (explicit, letters only): the
    einsum of g and the other operands onto the operand's distinct letters, broadcast or summed
    to its sizes, then placed on its diagonals when a letter repeats."""
    ins, out = subscripts.split("->")
    subs = ins.split(",")
    x, s = arrays[i], subs[i]
    distinct = "".join(dict.fromkeys(s))
    others = [(sub, a) for j, (sub, a) in enumerate(zip(subs, arrays)) if j != i]
    have = set(out).union(*(set(sub) for sub, _ in others))
    kept = "".join(c for c in distinct if c in have)
    spec = ",".join([out, *(sub for sub, _ in others)]) + "->" + kept
    r = np.einsum(spec, g, *(a for _, a in others))
    size = {c: x.shape[s.index(c)] for c in distinct}
    # letters only this operand has were summed away: the gradient is constant along them
    r = np.expand_dims(r, [k for k, c in enumerate(distinct) if c not in kept])
    r = sum_to_shape(r, tuple(min(r.shape[k], size[c]) for k, c in enumerate(distinct)))
    r = np.broadcast_to(r, tuple(size[c] for c in distinct))
    if len(distinct) == len(s):
        # (np.ascontiguousarray would make a 0-d operand's gradient 1-d)
        return np.require(np.transpose(r, [distinct.index(c) for c in s]), requirements="C")
    grad = np.zeros(x.shape, dtype=g.dtype)
    np.einsum(f"{s}->{distinct}", grad)[...] = r
    return grad


# The kernel calls above that take no other route: bfloat16 arrays computed in float32.
for _name in (
    "var_mean",
    "prelu",
    "prelu_backward",
    "softmax_cross_entropy",
    "binary_cross_entropy_with_logits",
    "im2col",
    "col2im",
    "max_pool2d",
    "max_pool2d_backward",
    "max_pool2d_2x2",
    "max_pool2d_2x2_backward",
    "lstm_cell",
    "lstm_cell_backward",
    "gru_cell",
    "gru_cell_backward",
    "lstm_sequence",
    "lstm_sequence_backward",
    "gru_sequence",
    "gru_sequence_backward",
    "rnn_sequence",
    "rnn_sequence_backward",
    "avg_pool2d",
    "avg_pool2d_backward",
    "batch_norm_backward",
    "layer_norm_backward",
    "group_norm_backward",
    "embedding",
    "embedding_backward",
    "embedding_bag",
    "embedding_bag_backward",
    "matmul_shared",
    "einsum",
    "einsum_backward",
    "norm2",
):
    globals()[_name] = _bf16_via_float32(globals()[_name])
for _name in ("layer_norm", "group_norm"):
    globals()[_name] = _bf16_via_float32(globals()[_name], stats=True)
del _name
