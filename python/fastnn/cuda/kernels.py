"""CUDA versions of :mod:`fastnn.kernels`: the same names, arguments and semantics, on device
arrays, plus the random kernels of the GPU (``dropout``, ``uniform_``, ``normal_``). Arguments may
be fastnn DeviceArrays or any C-contiguous CUDA array exposing ``__dlpack__`` /
``__cuda_array_interface__`` (torch, CuPy, JAX...), wrapped without a copy; results are
DeviceArrays (``torch.from_dlpack(result)`` hands them back to torch, zero-copy). Launches are
asynchronous on the legacy default stream; reading a result (``.numpy()``) synchronizes.
``fastnn.kernels.<fn>`` dispatches here when it is given device arrays. The names come from the
kernel table, ``fastnn._core.kernel_table``.
"""

import functools

from .._core.kernel_table import KERNELS, kernel_names
from . import _require, as_device_array, is_cuda_array
from . import random as _rng

# The kernels whose CUDA binding has exactly the CPU kernel's signature.
_SAME_SIGNATURE = tuple(n for n in kernel_names("cuda") if "cpu" in KERNELS[n][1])


def _wrap(obj):
    """DeviceArray for CUDA arrays (also inside lists/tuples); anything else unchanged."""
    if isinstance(obj, (list, tuple)):
        return [_wrap(o) for o in obj]
    if is_cuda_array(obj):
        return as_device_array(obj)
    return obj


def _make(name):
    def kernel(*args, **kwargs):
        fn = getattr(_require(), name)
        return fn(*[_wrap(a) for a in args], **{k: _wrap(v) for k, v in kwargs.items()})

    kernel.__name__ = kernel.__qualname__ = name
    kernel.__doc__ = f"CUDA fastnn.kernels.{name} (same arguments; device arrays in and out)."
    return kernel


for _name in _SAME_SIGNATURE:
    globals()[_name] = _make(_name)


def dropout(x, p=0.5, *, seed=None, offset=None):
    """(y, mask): y = x * mask / (1 - p), mask uint8 (1 = kept). Draws from the CUDA Philox
    generator (fastnn.cuda.manual_seed) unless seed and offset are given."""
    mod = _require()
    x = as_device_array(x)
    if (seed is None) != (offset is None):
        raise ValueError("dropout: give both seed and offset, or neither")
    if seed is None:
        seed, offset = _rng.next_stream(mod.philox_counters(x.dtype, x.size))
    return mod.dropout(x, float(p), int(seed), int(offset))


def dropout_backward(grad, mask, p=0.5):
    return _require().dropout_backward(as_device_array(grad), as_device_array(mask), float(p))


def uniform_(x, low=0.0, high=1.0):
    """Fill x in place with U[low, high) from the CUDA Philox generator; returns x."""
    mod = _require()
    d = as_device_array(x)
    seed, offset = _rng.next_stream(mod.philox_counters(d.dtype, d.size))
    mod.uniform_(d, float(low), float(high), seed, offset)
    return x


def normal_(x, mean=0.0, std=1.0):
    """Fill x in place with N(mean, std^2) from the CUDA Philox generator; returns x."""
    mod = _require()
    d = as_device_array(x)
    seed, offset = _rng.next_stream(mod.philox_counters(d.dtype, d.size))
    mod.normal_(d, float(mean), float(std), seed, offset)
    return x


@functools.cache
def names() -> tuple:
    """The fastnn.kernels names that have a CUDA version here."""
    return kernel_names("cuda")


__all__ = list(kernel_names("cuda"))
