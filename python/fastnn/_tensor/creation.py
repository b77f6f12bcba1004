"""Tensor creation: ``tensor``, ``from_numpy``, ``zeros``, ``randn``, ``normal``... with torch's
dtype inference (Python floats -> float32, ints -> int64, bools -> bool; numpy arrays keep
their dtype) and ``dtype=``, ``device=``, ``requires_grad=`` keywords."""

import math
import numbers
import warnings

import numpy as np

from .. import _devices
from .._core import device as _device
from .._core import dtype as _dtype
from .._core import memory_format as _formats
from .._core import random as _random
from .._core.device import default_device
from .._devices import cpu as _cpu
from ..autograd import function as _function
from ..autograd.grad_mode import state as _grad_state
from .random import default_generator


def _ragged_checked(make, data):
    """make(data), with numpy's message on nested sequences of different lengths ("an
    inhomogeneous shape") replaced by one that says what is wrong with the data."""
    try:
        return make(data)
    except ValueError:
        raise ValueError(
            f"could not convert {type(data).__name__} to a tensor: the nested sequences of "
            "data have different lengths"
        ) from None


def _int_range_checked(a, data, dtype):
    """Python floats bound for an integer dtype must fit it (as torch checks); numpy would
    wrap 1e300 to the most negative int64 with only a RuntimeWarning."""
    dt = _dtype.to_dtype(dtype)
    if (
        dt is None
        or dt.kind not in "iu"
        or not _dtype.is_floating(a.dtype)
        or isinstance(data, np.ndarray)
    ):
        return
    info = np.iinfo(dt)
    # float(info.max) rounds up to 2**63 for int64: values equal to it do not fit either
    bad = ~np.isfinite(a) | (a < float(info.min)) | (a >= float(info.max) + 1.0)
    if bad.any():
        raise RuntimeError(
            f"tensor(): value {float(a[bad].flat[0])!r} cannot be converted to {dt.name} without overflow"
        )


def _to_array(data, float_dtype=None):
    """A numpy array from Python data (nested lists/tuples of numbers or tensors, numpy data)."""
    T = _function.Tensor
    if isinstance(data, T):
        return _devices.of(data._data).to_numpy(data._data)
    if isinstance(data, np.ndarray):
        return data
    if isinstance(data, np.generic):
        return np.asarray(data)
    if isinstance(data, (list, tuple)) and any(isinstance(x, (T, list, tuple)) for x in data):
        parts = [_to_array(x, float_dtype) for x in data]
        a = _ragged_checked(np.array, parts) if parts else np.zeros((0,), np.float32)
    else:
        a = _ragged_checked(np.array, data)
    if a.dtype == object:
        raise TypeError(
            f"could not convert {type(data).__name__} to a tensor: ragged nested "
            "sequences or objects that are not numbers"
        )
    if _dtype.is_floating(a.dtype) and a.dtype != (float_dtype or _dtype.default()):
        a = a.astype(float_dtype or _dtype.default())
    elif a.dtype.kind in "iu" and a.dtype != np.int64:
        a = a.astype(np.int64)
    elif a.dtype.kind == "c":  # Python complex numbers take the complex type of the float default
        want = _dtype.complex_of(float_dtype or _dtype.default())
        if a.dtype != want:
            a = a.astype(want)
    elif a.dtype.kind in "US":
        raise TypeError(f"could not convert strings to a tensor: {data!r}")
    if a.size == 0 and not isinstance(data, np.ndarray) and _dtype.is_floating(a.dtype):
        a = a.astype(float_dtype or _dtype.default())
    return a


def _place(a, dtype, device, requires_grad, copy):
    """A Tensor on ``device`` from the numpy array ``a`` (cast to ``dtype``)."""
    dtype = _dtype.to_dtype(dtype)
    if dtype is not None and a.dtype != dtype:
        a, copy = a.astype(dtype), False
    dev = default_device(device)
    if dev.type == "cpu":
        # A large array is copied by fastnn's threaded copy into its own allocation. numpy
        # asks the kernel for huge pages for arrays of 4 MiB and more, and where free memory is
        # fragmented each such page fault first compacts memory: converting Fashion-MNIST's
        # 188 MB of training images took 0.05 s in some runs and 0.5 s in others.
        data = _cpu.copy(a) if copy else a
    else:
        data = _devices.for_device(dev).from_numpy(a)  # copies any layout (keeps 0-d arrays 0-d)
    t = _function.Tensor._make(data)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _check_array_dtype(data):
    """Arrays of objects, strings, bytes, records or dates hold no numbers a tensor can take."""
    if (
        isinstance(data, np.ndarray)
        and data.dtype.kind in "OUSVMm"
        and not _dtype.is_floating(data.dtype)  # bfloat16's kind is 'V'
    ):
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{data.dtype.type.__name__} "
            f"(dtype {data.dtype}): a tensor holds only numbers and bools"
        )


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of ``data``."""
    if isinstance(data, _function.Tensor):
        # torch warns here too: the copy is detached from data's graph, which a program that
        # meant to keep it would not see otherwise
        warnings.warn(
            "To copy construct from a tensor, it is recommended to use "
            "sourceTensor.detach().clone() or sourceTensor.detach().clone().requires_grad_(True), "
            "rather than fastnn.tensor(sourceTensor).",
            stacklevel=2,
        )
    _check_array_dtype(data)
    a = _to_array(data, _float_dtype(dtype))
    _int_range_checked(a, data, dtype)
    return _place(a, dtype, device, requires_grad, copy=True)


def _float_dtype(dtype):
    """Python floats are parsed straight into a requested float dtype (no float32 detour), and
    in float64 when the requested dtype is not a float one (16777217.0 as int64 stays exact)."""
    dt = _dtype.to_dtype(dtype)
    if dt is None:
        return None
    return dt if _dtype.is_floating(dt) else _dtype.float64


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor`` but shares ``data``'s memory when it can (a numpy array, a Tensor)."""
    T = _function.Tensor
    if isinstance(data, T):
        if device is None and dtype is None:
            return data
        return data.to(device=device, dtype=dtype)
    _check_array_dtype(data)
    return _place(_to_array(data, _float_dtype(dtype)), dtype, device, False, copy=False)


def from_numpy(array):
    """A tensor sharing ``array``'s memory (writes through either are seen by both)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    _check_array_dtype(array)
    return _function.Tensor._make(array)


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if s.__class__ is not int or s < 0:
            break
    else:
        return size  # non-negative plain ints (most calls)
    for s in size:
        if not isinstance(s, (numbers.Integral,)) or isinstance(s, bool):
            raise TypeError(f"size must be a tuple of ints, got {size!r}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
    return tuple(int(s) for s in size)


def _make(fill, size, dtype, device, requires_grad, default=None):
    dtype = _dtype.to_dtype(dtype) or default or _dtype.default()
    if device is None and _device.get_default_device() is _device.CPU:
        be = _cpu  # (most calls: no device named, none set as the default)
    else:
        be = _devices.for_device(default_device(device))
    t = _function.Tensor._make(fill(be, _size(size), dtype))
    if requires_grad:
        t.requires_grad_(True)
    return t


def _size_or_args(args, size, fn):
    """The shape given as positional ints / one sequence, or as torch's ``size=`` keyword."""
    if size is None:
        return args
    if args:
        raise TypeError(f"{fn}() got multiple values for argument 'size'")
    return (size,)


def _fill_zeros(be, shape, dtype):
    return be.zeros(shape, dtype)


def _fill_ones(be, shape, dtype):
    return be.ones(shape, dtype)


def _fill_empty(be, shape, dtype):
    return be.empty(shape, dtype)


def _into_out(out, fn, dtype, make):
    """torch's ``out=`` on a factory: the values made by ``make(dtype, device)`` with out's
    dtype and device, written into ``out`` (which is returned; not resized, as fastnn's other
    ``out=`` functions). A ``dtype`` given as well must be out's."""
    if not isinstance(out, _function.Tensor):
        raise TypeError(f"{fn}(): argument 'out' must be Tensor, not {type(out).__name__}")
    dt = out._data.dtype
    if dtype is not None and _dtype.to_dtype(dtype) != dt:
        raise RuntimeError(
            f"{fn}(): dtype {_dtype.name(_dtype.to_dtype(dtype))} does not match dtype of out "
            f"parameter ({_dtype.name(dt)})"
        )
    if out.requires_grad and _grad_state.enabled:
        raise RuntimeError(
            f"{fn}(): functions with out=... arguments don't support automatic "
            "differentiation, but one of the arguments requires grad."
        )
    r = make(dt, out.device)
    if r._data.shape != out._data.shape:
        raise RuntimeError(
            f"{fn}(): out has shape {list(out.shape)} but the result has shape "
            f"{list(r.shape)} (fastnn does not resize out)"
        )
    _devices.of(out._data).copyto(out._data, r._data)
    out._vc[0] += 1
    return out


def zeros(*size_args, size=None, out=None, dtype=None, device=None, requires_grad=False):
    size = _size_or_args(size_args, size, "zeros")
    if out is not None:
        return _into_out(out, "zeros", dtype, lambda dt, dev: zeros(*size, dtype=dt, device=dev))
    return _make(_fill_zeros, size, dtype, device, requires_grad)


def ones(*size_args, size=None, out=None, dtype=None, device=None, requires_grad=False):
    size = _size_or_args(size_args, size, "ones")
    if out is not None:
        return _into_out(out, "ones", dtype, lambda dt, dev: ones(*size, dtype=dt, device=dev))
    return _make(_fill_ones, size, dtype, device, requires_grad)


def empty(
    *size_args,
    size=None,
    out=None,
    dtype=None,
    device=None,
    requires_grad=False,
    memory_format=None,
):
    size = _size_or_args(size_args, size, "empty")
    if out is not None:
        return _into_out(out, "empty", dtype, lambda dt, dev: empty(*size, dtype=dt, device=dev))
    if memory_format is not None:
        _formats.check(memory_format, len(size), "empty")
        if memory_format is _formats.preserve_format:  # nothing to preserve
            raise RuntimeError("unsupported memory format Preserve")
    return _make(_fill_empty, size, dtype, device, requires_grad)


def _scalar_dtype(v):
    if isinstance(v, (bool, np.bool_)):
        return _dtype.bool_
    if isinstance(v, numbers.Integral):
        return _dtype.int64
    if isinstance(v, numbers.Complex) and not isinstance(v, numbers.Real):
        return _dtype.default_complex()
    return _dtype.default()


_FLOAT32_MAX = float(np.finfo(np.float32).max)
_INT64_MIN, _INT64_MAX = int(np.iinfo(np.int64).min), int(np.iinfo(np.int64).max)


def _fill_checked(value, dt):
    """``value`` as full() may store it in ``dt``, checked as torch checks it: numpy would take a
    tuple as a row, None as NaN, and wrap 1e300 into an int64 without a word."""
    if isinstance(value, np.generic):
        value = value.item()
    if not isinstance(value, numbers.Number):
        raise TypeError(
            f"full(): argument 'fill_value' must be a number, not {type(value).__name__}"
        )
    if dt.kind in "iu" and not isinstance(value, bool):
        info = np.iinfo(dt)
        # unsigned types take the ints -max..-1 too, wrapped in two's complement (-1 is 255 in
        # uint8), but no negative float
        low = info.min
        if dt.kind == "u":
            low = -info.max if isinstance(value, numbers.Integral) else 0
        ok = isinstance(value, numbers.Real) and math.isfinite(value)
        if not ok or not low <= value <= info.max:
            raise RuntimeError(
                f"full(): fill_value {value!r} cannot be converted to {dt.name} without overflow"
            )
        if value < 0 and dt.kind == "u":
            value = int(value) % (info.max + 1)
    elif (
        dt == np.float32
        and isinstance(value, numbers.Real)
        and math.isfinite(value)
        and abs(value) > _FLOAT32_MAX
    ):
        raise RuntimeError(
            f"full(): fill_value {value!r} cannot be converted to float32 without overflow"
        )
    return value


def full(size, fill_value, dtype=None, device=None, requires_grad=False, *, out=None):
    if out is not None:
        return _into_out(
            out, "full", dtype, lambda dt, dev: full(size, fill_value, dtype=dt, device=dev)
        )
    kind = fill_value.__class__
    if dtype is None and kind is float and abs(fill_value) <= _FLOAT32_MAX:
        default = None  # a plain float that any float dtype holds (most calls): nothing to check
    elif dtype is None and kind is int and _INT64_MIN <= fill_value <= _INT64_MAX:
        default = _dtype.int64
    else:
        if isinstance(fill_value, _function.Tensor):
            fill_value = fill_value.item()
        fill_value = _fill_checked(
            fill_value, _dtype.to_dtype(dtype) or _scalar_dtype(fill_value) or _dtype.default()
        )
        default = _scalar_dtype(fill_value)
    return _make(
        lambda be, s, d: be.full(s, fill_value, d), (size,), dtype, device, requires_grad, default
    )


def _range_number(v, arg):
    """A bound or step of arange as a Python number (a one-element tensor gives its value)."""
    if isinstance(v, _function.Tensor) and v.numel() == 1:
        v = v.item()
    if isinstance(v, np.generic):
        v = v.item()
    if not isinstance(v, numbers.Real):
        raise TypeError(f"arange(): argument '{arg}' must be a number, not {type(v).__name__}")
    return v


def _range_checked(start, end, step):
    """(start, end, step) checked as torch checks them; numpy would give an empty tensor for a
    step of the wrong sign and errors that name neither arange nor the argument for the rest."""
    start, end = _range_number(start, "start"), _range_number(end, "end")
    step = _range_number(step, "step")
    if not all(np.isfinite(float(v)) for v in (start, end, step)):
        raise RuntimeError(f"arange: unsupported range: {start} -> {end} (step {step})")
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(
            f"arange: upper bound and lower bound inconsistent with step sign "
            f"(start {start}, end {end}, step {step})"
        )
    if abs((end - start) / step) >= 2**62:
        raise RuntimeError(f"arange: invalid size, possible overflow? ({start} -> {end} by {step})")
    return start, end, step


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False, *, out=None):
    if end is None:
        start, end = 0, start
    if out is not None:
        return _into_out(
            out, "arange", dtype, lambda dt, dev: arange(start, end, step, dtype=dt, device=dev)
        )
    if (
        start.__class__ is int
        and end.__class__ is int
        and step.__class__ is int
        and step > 0
        and 0 <= end - start < 2**62
    ):
        default = _dtype.int64  # plain ints counting up (most calls): _range_checked's checks hold
    else:
        start, end, step = _range_checked(start, end, step)
        floats = any(isinstance(v, (float, np.floating)) for v in (start, end, step))
        default = _dtype.default() if floats else _dtype.int64
    dt = _dtype.to_dtype(dtype) or default
    be = _devices.for_device(default_device(device))
    t = _function.Tensor._make(be.arange(start, end, step, dt))
    return t.requires_grad_(True) if requires_grad else t


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    dt = _dtype.to_dtype(dtype) or _dtype.default()
    be = _devices.for_device(default_device(device))
    t = _function.Tensor._make(be.linspace(start, end, steps, dt))
    return t.requires_grad_(True) if requires_grad else t


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    return _make(lambda be, s, d: be.eye(n, m, dtype=d), (), dtype, device, requires_grad)


def _drawn(draw, size, dtype, device, requires_grad, generator, fn, default=None):
    """A tensor of ``draw(rng, shape, dtype)`` from ``generator``'s own stream, made on the host
    and placed on the device (the path of every random call given ``generator=``)."""
    rng = _random.rng_of(generator, fn)
    dt = _dtype.to_dtype(dtype) or default or _dtype.get_default_dtype()
    return _place(np.asarray(draw(rng, _size(size), dt)), dt, device, requires_grad, copy=False)


def _uniform(rng, shape, dt):
    return rng.random(shape, dtype=dt if dt in (np.float32, np.float64) else np.float64)


def _standard_normal(rng, shape, dt):
    return rng.standard_normal(shape, dtype=dt if dt in (np.float32, np.float64) else np.float64)


def _fill_rand(be, shape, dtype):
    return be.rand(shape, dtype)


def _fill_randn(be, shape, dtype):
    return be.randn(shape, dtype)


def rand(
    *size_args, size=None, generator=None, out=None, dtype=None, device=None, requires_grad=False
):
    size = _size_or_args(size_args, size, "rand")
    if out is not None:
        return _into_out(
            out,
            "rand",
            dtype,
            lambda dt, dev: rand(*size, generator=generator, dtype=dt, device=dev),
        )
    if generator is not None:
        return _drawn(_uniform, size, dtype, device, requires_grad, generator, "rand")
    return _make(_fill_rand, size, dtype, device, requires_grad)


def randn(
    *size_args, size=None, generator=None, out=None, dtype=None, device=None, requires_grad=False
):
    size = _size_or_args(size_args, size, "randn")
    if out is not None:
        return _into_out(
            out,
            "randn",
            dtype,
            lambda dt, dev: randn(*size, generator=generator, dtype=dt, device=dev),
        )
    if generator is not None:
        return _drawn(_standard_normal, size, dtype, device, requires_grad, generator, "randn")
    return _make(_fill_randn, size, dtype, device, requires_grad)


def randint(
    low=0, high=None, size=None, *, generator=None, dtype=None, device=None, requires_grad=False
):
    """randint(high, size) or randint(low, high, size): integers in [low, high)."""
    if size is None:
        low, high, size = 0, low, high
    elif high is None:  # randint(high, size=...): the one positional bound is the upper one
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing required argument 'size'")
    if high <= low:
        raise RuntimeError(
            f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}"
        )
    if generator is not None:
        return _drawn(
            lambda rng, s, d: rng.integers(low, high, size=s).astype(d, copy=False),
            (size,),
            dtype,
            device,
            requires_grad,
            generator,
            "randint",
            _dtype.int64,
        )
    return _make(
        lambda be, s, d: be.randint(low, high, s, d),
        (size,),
        dtype,
        device,
        requires_grad,
        _dtype.int64,
    )


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of 0..n-1 (int64)."""
    rng = _random.rng_of(generator, "randperm")
    return _make(
        lambda be, s, d: be.asarray(rng.permutation(n), d),
        (),
        dtype,
        device,
        requires_grad,
        _dtype.int64,
    )


def normal(
    mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None, requires_grad=False
):
    """normal(mean, std, size) with float mean/std, or element-wise means/stds from tensors."""
    T = _function.Tensor
    rng = _random.rng_of(generator, "normal")
    if isinstance(mean, T) or isinstance(std, T):
        ref = mean if isinstance(mean, T) else std
        m = mean._data if isinstance(mean, T) else mean
        s = std._data if isinstance(std, T) else std
        if np.any(np.asarray(s) < 0):
            raise RuntimeError("normal expects all elements of std >= 0.0")
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
        draw = rng.standard_normal(shape) * s + m
        return _place(
            np.asarray(draw), dtype or ref.dtype, device or ref.device, requires_grad, copy=False
        )
    for name, v in (("mean", mean), ("std", std)):
        if not isinstance(v, numbers.Real):
            raise TypeError(f"normal(): {name} must be a float or a Tensor, not {type(v).__name__}")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    if size is None:
        raise TypeError("normal(mean: float, std: float) needs a size")
    if not isinstance(size, (tuple, list)):  # torch takes no bare int here, unlike zeros()
        raise TypeError(
            f"normal(): argument 'size' must be a tuple of ints, not {type(size).__name__}"
        )
    size = tuple(size)
    if generator is not None:
        return _drawn(
            lambda rng, s, d: rng.normal(mean, std, s).astype(d, copy=False),
            (size,),
            dtype,
            device,
            requires_grad,
            generator,
            "normal",
        )
    return _make(
        lambda be, s, d: _normal(be, s, d, mean, std), (size,), dtype, device, requires_grad
    )


def _normal(be, shape, dtype, mean, std):
    out = be.empty(shape, dtype)
    be.normal_(out, mean, std)
    return out


def _like(fn, t, dtype, device, requires_grad, *args, fill=None):
    """``fn(*args, t's shape, ...)`` in t's dtype and on its device unless given. With ``fill``
    (fn's own filler), a CPU tensor given no dtype, device or requires_grad (most calls: a zeroed
    state or buffer) is filled on the host directly, without fn's argument handling."""
    a = t._data  # its shape and dtype: Tensor.shape and .dtype build objects on every read
    if (
        fill is not None
        and dtype is device is None
        and not requires_grad
        and a.__class__ is np.ndarray
    ):
        return _function.Tensor._make(fill(_cpu, a.shape, a.dtype))
    return fn(
        *args,
        a.shape,
        dtype=a.dtype if dtype is None else dtype,
        device=device or t.device,
        requires_grad=requires_grad,
    )


def _new(fn, t, size, dtype, device, requires_grad, fill):
    """``t.new_zeros(*size)`` and the like: ``fn(*size)`` in t's dtype and on its device unless
    given; a CPU tensor given none of them is filled on the host directly, as in ``_like``."""
    a = t._data
    if dtype is device is None and not requires_grad and a.__class__ is np.ndarray:
        return _function.Tensor._make(fill(_cpu, _size(size), a.dtype))
    return fn(
        *size,
        dtype=a.dtype if dtype is None else dtype,
        device=device or t.device,
        requires_grad=requires_grad,
    )


def new_zeros(t, size, dtype=None, device=None, requires_grad=False):
    return _new(zeros, t, size, dtype, device, requires_grad, _fill_zeros)


def new_ones(t, size, dtype=None, device=None, requires_grad=False):
    return _new(ones, t, size, dtype, device, requires_grad, _fill_ones)


def new_empty(t, size, dtype=None, device=None, requires_grad=False):
    return _new(empty, t, size, dtype, device, requires_grad, _fill_empty)


def new_full(t, size, fill_value, dtype=None, device=None, requires_grad=False):
    a = t._data
    kind = fill_value.__class__
    if (
        (kind is float or kind is int)
        and _dtype.is_floating(a.dtype)
        and abs(fill_value) <= _FLOAT32_MAX  # what full() checks for a float tensor
        and dtype is device is None
        and not requires_grad
        and a.__class__ is np.ndarray
    ):
        return _function.Tensor._make(_cpu.full(_size((size,)), fill_value, a.dtype))
    return full(
        size,
        fill_value,
        dtype=a.dtype if dtype is None else dtype,
        device=device or t.device,
        requires_grad=requires_grad,
    )


def _layout(fmt, like, fn):
    """A ``memory_format=`` given to a creation function, checked (see _core.memory_format)."""
    if fmt is not None:
        _formats.check(fmt, len(like.shape) if hasattr(like, "shape") else None, fn)


def zeros_like(input, dtype=None, device=None, requires_grad=False, memory_format=None):
    _layout(memory_format, input, "zeros_like")
    return _like(zeros, input, dtype, device, requires_grad, fill=_fill_zeros)


def ones_like(input, dtype=None, device=None, requires_grad=False, memory_format=None):
    _layout(memory_format, input, "ones_like")
    return _like(ones, input, dtype, device, requires_grad, fill=_fill_ones)


def empty_like(input, dtype=None, device=None, requires_grad=False, memory_format=None):
    _layout(memory_format, input, "empty_like")
    return _like(empty, input, dtype, device, requires_grad, fill=_fill_empty)


def rand_like(input, dtype=None, device=None, requires_grad=False, memory_format=None):
    _layout(memory_format, input, "rand_like")
    return _like(rand, input, dtype, device, requires_grad)


def randn_like(input, dtype=None, device=None, requires_grad=False, memory_format=None):
    _layout(memory_format, input, "randn_like")
    return _like(randn, input, dtype, device, requires_grad)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False, memory_format=None):
    _layout(memory_format, input, "full_like")
    return full(
        input.shape,
        fill_value,
        dtype=dtype or input.dtype,
        device=device or input.device,
        requires_grad=requires_grad,
    )


def manual_seed(seed):
    """Seed fastnn's global random state (init, rand*, dropout, shuffling); returns
    ``fastnn.default_generator``, as torch does."""
    _random.manual_seed(seed)
    return default_generator


# ---- the legacy typed constructors (torch.FloatTensor & co.) ----------------------------------


class _TypedTensor(type):
    """``FloatTensor([1, 2])`` builds from data, ``FloatTensor(2, 3)`` a zero tensor of that
    shape; ``isinstance(t, FloatTensor)`` asks whether ``t`` is a float32 tensor."""

    def __call__(cls, *args, device=None):
        if len(args) == 1 and not isinstance(args[0], numbers.Integral):
            return tensor(args[0], dtype=cls.dtype, device=device)
        return zeros(*args, dtype=cls.dtype, device=device)

    def __instancecheck__(cls, obj):
        return isinstance(obj, _function.Tensor) and obj._data.dtype == cls.dtype


def _typed(name, dt):
    return _TypedTensor(name, (), {"dtype": dt, "__module__": "fastnn"})


FloatTensor = _typed("FloatTensor", _dtype.float32)
DoubleTensor = _typed("DoubleTensor", _dtype.float64)
HalfTensor = _typed("HalfTensor", _dtype.float16)
LongTensor = _typed("LongTensor", _dtype.int64)
IntTensor = _typed("IntTensor", _dtype.int32)
ShortTensor = _typed("ShortTensor", _dtype.int16)
CharTensor = _typed("CharTensor", _dtype.int8)
ByteTensor = _typed("ByteTensor", _dtype.uint8)
BoolTensor = _typed("BoolTensor", _dtype.bool_)
TYPED = (
    "FloatTensor",
    "DoubleTensor",
    "HalfTensor",
    "LongTensor",
    "IntTensor",
    "ShortTensor",
    "CharTensor",
    "ByteTensor",
    "BoolTensor",
)
