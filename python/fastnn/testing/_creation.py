"""make_tensor: a random tensor of a given shape and dtype, drawn uniformly from [low, high) with
per-dtype default bounds, for tests that need inputs of many dtypes."""

import math

from .._core import dtype as _dtype
from .._tensor import creation as _creation

# the default [low, high) per kind: small values every dtype represents exactly enough
_DEFAULT_BOUNDS = {"bool": (0, 2), "unsigned": (0, 10), "signed": (-9, 10), "float": (-9, 9)}


def _kind(dt):
    if dt.name == "bool":
        return "bool"
    if dt.is_floating_point:
        return "float"
    return "signed" if dt.is_signed else "unsigned"


def _representable(dt, kind):
    info = _dtype.finfo(dt) if kind == "float" else _dtype.iinfo(dt)
    return float(info.min), float(info.max)


def _bounds(low, high, dt, kind):
    default_low, default_high = _DEFAULT_BOUNDS[kind]
    if kind == "bool":
        return default_low, default_high
    lo_limit, hi_limit = _representable(dt, kind)
    for name, value in (("low", low), ("high", high)):
        if value is not None and math.isnan(value):
            raise ValueError(f"make_tensor(): {name} cannot be NaN, got {name}={value}")
    # out-of-range bounds are pulled in to what the dtype can hold
    low = default_low if low is None else min(max(low, lo_limit), hi_limit)
    high = default_high if high is None else min(max(high, lo_limit), hi_limit)
    if low > high or (low == high and kind != "float"):
        raise ValueError(
            f"make_tensor(): low must be less than high, got low={low} and high={high} "
            f"for dtype {_dtype.name(dt)}"
        )
    return low, high


def _shape(shape):
    if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
        shape = tuple(shape[0])
    for s in shape:
        if not isinstance(s, int) or isinstance(s, bool) or s < 0:
            raise TypeError(f"make_tensor(): shape must be non-negative ints, got {shape!r}")
    return tuple(shape)


def make_tensor(
    *shape,
    dtype,
    device,
    low=None,
    high=None,
    requires_grad=False,
    noncontiguous=False,
    exclude_zero=False,
    memory_format=None,
):
    """A tensor of ``shape`` (ints, or one sequence of them) with values uniform in
    ``[low, high)``: by default [-9, 9) for floats, [-9, 10) for signed and [0, 10) for unsigned
    integers, and both values for bool; bounds beyond the dtype's range are clamped to it.
    ``exclude_zero`` replaces zeros by the dtype's smallest positive normal value (1 for
    integers); ``noncontiguous`` returns a strided view of a larger buffer with the same
    values; ``requires_grad`` is for floating dtypes only."""
    shape = _shape(shape)
    dt = _dtype.of(_dtype.to_dtype(dtype))
    kind = _kind(dt)
    if requires_grad and kind != "float":
        raise ValueError(
            f"make_tensor(): requires_grad=True needs a floating dtype, got {_dtype.name(dt)}"
        )
    if noncontiguous and memory_format is not None:
        raise ValueError("make_tensor(): noncontiguous and memory_format are mutually exclusive")
    low, high = _bounds(low, high, dt, kind)
    if kind == "float":
        unit = _creation.rand(*shape, dtype=_dtype.PUBLIC["float64"], device=device)
        t = (unit * (high - low) + low).to(dt)
    else:
        lo, hi = math.ceil(low), math.ceil(high)
        ints = _creation.randint(lo, hi, shape, dtype=_dtype.PUBLIC["int64"], device=device)
        t = ints.to(dt)
    if exclude_zero:
        replacement = _dtype.finfo(dt).tiny if kind == "float" else 1
        t = t.masked_fill(t == 0, replacement)
    if noncontiguous and t.numel() > 1:
        # every value twice along the last dim, then every other one: same values, stride 2
        t = t.repeat_interleave(2, dim=-1)[..., ::2]
    elif memory_format is not None:
        t = t.contiguous(memory_format=memory_format)
    if requires_grad:
        t.requires_grad_(True)
    return t
