"""torch's remaining top-level constructors and small functions: ``asarray`` (shares memory with
a tensor or numpy array where it can), ``frombuffer`` (a tensor over a Python buffer's bytes),
the deprecated ``range`` (end included), ``rsub``, ``fill``, ``is_distributed``, and the
function forms of Tensor properties and queries (real, imag, angle, isreal, is_signed, frexp,
nonzero_static).
"""

import warnings

import numpy as np

from .._core import dtype as _dtype
from .._core.device import default_device
from ..autograd import function as _function
from . import creation as _creation

_T = _function.Tensor
_UNSET = object()


def _tensor_input(x, fn, arg="input"):
    if not isinstance(x, _T):
        raise TypeError(f"{fn}(): argument '{arg}' must be Tensor, not {type(x).__name__}")
    return x


def _alias_error(have, want):
    return ValueError(
        f"asarray(): can't alias an object of dtype {_dtype.name(have)} as dtype "
        f"{_dtype.name(want)}; pass copy=None or copy=True to convert"
    )


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=_UNSET):
    """``obj`` as a tensor: a tensor (or numpy array) of the asked dtype and device is returned
    as is (shares its memory) unless ``copy=True``; ``copy=False`` raises where a copy is needed.
    Unless ``requires_grad`` is given, a tensor keeps its own flag; anything else gets False."""
    want = _dtype.to_dtype(dtype)
    if isinstance(obj, _T):
        same_dtype = want is None or want == obj._data.dtype
        same_device = device is None or default_device(device) == obj.device
        if copy is False and not same_dtype:
            raise _alias_error(obj._data.dtype, want)
        if copy is False and not same_device:
            raise ValueError(f"asarray(): can't alias a tensor on {obj.device} to {device}")
        out = obj.to(device=device, dtype=dtype)
        if copy:
            out = out.clone()
        if requires_grad is not _UNSET and bool(requires_grad) != out.requires_grad:
            if not out.is_leaf:  # only a leaf's flag can be turned off
                out = out.detach()
            out.requires_grad_(bool(requires_grad))  # as torch: an alias's flag is obj's own
        return out
    if isinstance(obj, np.ndarray):
        if copy is False and want is not None and want != obj.dtype:
            raise _alias_error(obj.dtype, want)
        t = _creation.as_tensor(obj, dtype=dtype, device=device)
        if copy and t._data is obj:
            t = t.clone()
    elif isinstance(obj, (bytes, bytearray, memoryview)):
        return frombuffer(
            obj,
            dtype=_dtype.of(want or _dtype.default()),
            requires_grad=bool(requires_grad is not _UNSET and requires_grad),
        )
    else:
        if copy is False:
            raise ValueError(
                f"asarray(): can't alias a {type(obj).__name__} into a tensor; pass copy=None"
            )
        t = _creation.tensor(obj, dtype=dtype, device=device)
    if requires_grad is not _UNSET and requires_grad:
        t.requires_grad_(True)
    return t


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-d tensor over the bytes of a Python buffer (bytearray, memoryview, array.array...),
    starting ``offset`` bytes in and holding ``count`` elements (-1: as many as fit). It shares
    the buffer's memory; a read-only buffer gives a read-only tensor."""
    np_dtype = _dtype.to_dtype(dtype)
    try:
        view = memoryview(buffer)
    except TypeError:
        raise TypeError(
            f"frombuffer(): argument 'buffer' must support the buffer protocol, not "
            f"{type(buffer).__name__}"
        ) from None
    length = view.nbytes
    size = np_dtype.itemsize
    if length == 0 or count == 0:
        raise ValueError(
            f"frombuffer(): buffer length ({length}) and count ({count}) must not be 0"
        )
    if offset < 0 or offset >= length:
        raise ValueError(
            f"frombuffer(): offset ({offset} bytes) must be non-negative and less than the "
            f"buffer length ({length} bytes)"
        )
    if count < 0:
        if (length - offset) % size:
            raise ValueError(
                f"frombuffer(): buffer length ({length - offset} bytes after an offset of "
                f"{offset}) must be a multiple of the element size ({size})"
            )
        count = (length - offset) // size
    elif offset + count * size > length:
        raise ValueError(
            f"frombuffer(): {count} elements of {size} bytes after an offset of {offset} bytes "
            f"need more than the buffer's {length} bytes"
        )
    a = np.frombuffer(
        view.cast("B") if view.ndim != 1 or view.format != "B" else view,
        dtype=np_dtype,
        count=count,
        offset=offset,
    )
    t = _T._make(a)
    if requires_grad:
        t.requires_grad_(True)
    return t


def range(start, end, step=1, *, dtype=None, device=None, requires_grad=False):
    """Deprecated: the values start, start + step, ... up to and including ``end``
    (``arange`` stops before it). Float by default, as in torch."""
    warnings.warn(
        "fastnn.range is deprecated (its end is included, unlike Python's range); "
        "use fastnn.arange, whose end is excluded",
        UserWarning,
        stacklevel=2,
    )
    if step == 0:
        raise RuntimeError("range(): step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(
            f"range(): upper bound and larger bound inconsistent with step sign "
            f"(start={start}, end={end}, step={step})"
        )
    n = int((end - start) / step) + 1  # (float division, as torch: the end is included)
    dt = _dtype.to_dtype(dtype) or _dtype.default()
    values = start + step * np.arange(n, dtype=np.float64)
    return _creation.tensor(values.astype(dt), dtype=dt, device=device, requires_grad=requires_grad)


def rsub(input, other, *, alpha=1):
    """``other - alpha * input``."""
    x = _tensor_input(input, "rsub")
    scaled = x if alpha == 1 else x * alpha
    if isinstance(other, _T):
        return other - scaled
    return -scaled + other


def fill(input, value):
    """A tensor shaped like ``input`` (same dtype and device) filled with ``value`` (a number
    or a 0-d tensor); differentiable in a tensor ``value``."""
    x = _tensor_input(input, "fill")
    if isinstance(value, _T):
        if value.dim() != 0:
            raise RuntimeError(
                f"fill(): value must be a 0-dimensional tensor, got {value.dim()} dimensions"
            )
        return value.to(x.dtype).expand(*x.shape).clone()
    return _creation.full_like(x, value)


def _shift(input, other, method, reflected):
    if isinstance(input, _T):
        return getattr(input, method)(other)
    if isinstance(other, _T):
        return getattr(other, reflected)(input)
    raise TypeError(
        f"{method}(): expected a Tensor for 'input' or 'other', got {type(input).__name__} "
        f"and {type(other).__name__}"
    )


def bitwise_left_shift(input, other):
    """``input << other`` (either may be a number)."""
    return _shift(input, other, "bitwise_left_shift", "__rlshift__")


def bitwise_right_shift(input, other):
    """``input >> other``, arithmetic for signed types (either may be a number)."""
    return _shift(input, other, "bitwise_right_shift", "__rrshift__")


def polygamma(n, input):
    """The n-th derivative of digamma at each element of ``input`` (n first, as torch)."""
    return _tensor_input(input, "polygamma").polygamma(n)


def is_distributed(input):
    """False: no tensor is split across processes."""
    _tensor_input(input, "is_distributed")
    return False


def real(input):
    return _tensor_input(input, "real").real


def imag(input):
    return _tensor_input(input, "imag").imag


def angle(input):
    return _tensor_input(input, "angle").angle()


def isreal(input):
    return _tensor_input(input, "isreal").isreal()


def is_signed(input):
    return _tensor_input(input, "is_signed").is_signed()


def frexp(input):
    return _tensor_input(input, "frexp").frexp()


def nonzero_static(input, *, size, fill_value=-1):
    return _tensor_input(input, "nonzero_static").nonzero_static(size=size, fill_value=fill_value)


__all__ = [
    "angle",
    "asarray",
    "bitwise_left_shift",
    "bitwise_right_shift",
    "fill",
    "frexp",
    "frombuffer",
    "imag",
    "is_distributed",
    "is_signed",
    "isreal",
    "nonzero_static",
    "polygamma",
    "range",
    "real",
    "rsub",
]
