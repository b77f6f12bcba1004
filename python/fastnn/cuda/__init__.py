"""The optional CUDA backend (``fastnn._cuda``). Importing fastnn never loads it; the first call
here does. ``is_available()`` answers False, and never raises, where the module, the driver or a
GPU is missing; everything that needs a GPU raises a RuntimeError that says why.

Device memory is a :class:`DeviceArray` (contiguous; float32, float64, int64, int32, uint8,
bool) owned by a caching allocator (``memory_allocated``, ``memory_reserved``, ``empty_cache``).
Work runs on the calling thread's current stream (``current_stream()``): the legacy default
stream, ordered with the default stream of torch / CuPy, unless ``with fastnn.cuda.stream(s):``
or ``set_stream`` chose a side stream (``Stream``, ``Event``). Host copies (``from_numpy``,
``.numpy()``) are synchronous and ordered on the current stream. Arrays exchanged through DLPack
/ ``__cuda_array_interface__`` follow the protocols' stream rules; memory freed while another
stream may still use it is not reused before that stream is done (``DeviceArray.record_stream``;
exported arrays wait for a device synchronization; rule in docs/design.md). ``CUDAGraph``,
``graph`` and ``make_graphed_callables`` capture device work once and replay it. The CUDA versions of the kernels are in :mod:`fastnn.cuda.kernels`;
``fastnn.kernels.<fn>`` dispatches to them when given device arrays.
"""

import functools
import sys

import numpy as np

from . import streams as _streams
from .graphs import CUDAGraph, graph, graph_pool_handle
from .streams import (
    Event,
    ExternalStream,
    Stream,
    StreamContext,
    current_stream,
    default_stream,
    set_stream,
    stream,
)

_NOT_BUILT = "fastnn was built without CUDA; reinstall with FASTNN_CUDA=ON"


class OutOfMemoryError(RuntimeError):
    """A device allocation failed even after the allocator handed its cached blocks back to the
    driver (like torch.OutOfMemoryError, a RuntimeError). The allocator stays usable."""


@functools.cache
def _load():
    """(fastnn._cuda or None, why it is None)."""
    try:
        from .. import _cuda
    except ImportError as e:
        if not is_built():
            return None, _NOT_BUILT
        return None, f"the fastnn CUDA module failed to load: {e}"
    return _cuda, ""


def _module():
    """fastnn._cuda, or None when it was not built or cannot load (no driver, wrong libc...)."""
    return _load()[0]


def _require():
    """fastnn._cuda with at least one visible GPU, else RuntimeError saying what is missing."""
    mod, why = _load()
    if mod is None:
        raise RuntimeError(why)
    if mod.device_count() == 0:
        raise RuntimeError(f"fastnn.cuda: no CUDA device is available ({probe_error()})")
    return mod


def is_built() -> bool:
    """True when this fastnn was compiled with its CUDA module."""
    from .. import _C

    return bool(_C.built_with_cuda)


def device_count() -> int:
    """Number of visible CUDA devices; 0 without the module, a driver or a GPU (never raises)."""
    mod = _module()
    if mod is None:
        return 0
    try:
        return int(mod.device_count())
    except Exception:  # noqa: BLE001 (documented: never raises)
        return 0


def is_available() -> bool:
    """True when fastnn can run on a GPU here. Never raises; probe_error() says why not."""
    return device_count() > 0


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """False: fastnn's GPU kernels take no bfloat16 (``fastnn.bfloat16`` tensors live on the
    host), so programs that ask pick float16 or float32 for the GPU instead."""
    return False


# The oldest Linux driver each CUDA major version's runtime runs on (minor version compatibility:
# a runtime of major X runs on any driver of X's first release or newer, SASS-only builds need
# no newer one). The module links the toolkit's runtime statically, so this is the floor.
_DRIVER_FLOOR = {11: "450.80.02", 12: "525.60.13", 13: "580.65.06"}


def _cuda_version(v: int) -> str:
    return f"{v // 1000}.{v % 1000 // 10}"


def _explain_probe(error: str, driver: int, runtime: int) -> str:
    """Why no GPU is usable, from the runtime's error and the driver's / runtime's versions."""
    floor = _DRIVER_FLOOR.get(runtime // 1000)
    need = f"fastnn links the CUDA {_cuda_version(runtime)} runtime" + (
        f", which needs NVIDIA driver {floor} or newer" if floor else ""
    )
    detail = f" [{error}]" if error else ""
    if driver == 0:
        return f"no NVIDIA driver found (libcuda cannot be loaded); {need}{detail}"
    if "InsufficientDriver" in error or driver // 1000 < runtime // 1000:
        return (
            f"the NVIDIA driver is too old: it supports CUDA {_cuda_version(driver)}, "
            f"and {need}{detail}"
        )
    if not error or "NoDevice" in error:
        return (
            "no CUDA device is visible (the driver found no GPU, or CUDA_VISIBLE_DEVICES "
            f"hides them){detail}"
        )
    return f"CUDA initialization failed{detail}"


def probe_error() -> str:
    """Why is_available() is False: the CUDA module is not built, or failed to load (with the
    import error), or there is no driver, or the driver is too old for the CUDA runtime fastnn
    links, or there is no device. "" when a GPU is usable. Never raises."""
    mod, why = _load()
    if mod is None:
        return why
    try:
        if int(mod.device_count()) > 0:
            return ""
        error = str(mod.probe_error())
        return _explain_probe(error, int(mod.driver_version()), int(mod.runtime_version()))
    except Exception as e:  # noqa: BLE001 (documented: never raises)
        return f"the CUDA probe raised {type(e).__name__}: {e}"


def _device_index(device) -> int:
    """None / int / 'cuda' / 'cuda:N' / an object whose str() is one of those -> index (-1: current)."""
    if device is None:
        return -1
    if isinstance(device, bool):
        raise TypeError(f"invalid CUDA device {device!r}")
    if isinstance(device, (int, np.integer)):
        if device < 0:
            raise ValueError(f"invalid CUDA device index {device}")
        return int(device)
    text = str(device)
    if text == "cuda":
        index = None if isinstance(device, str) else getattr(device, "index", None)
        return -1 if index is None else int(index)
    if text.startswith("cuda:") and text[5:].isdigit():
        return int(text[5:])
    raise ValueError(f"expected a CUDA device ('cuda', 'cuda:N' or an index), got {device!r}")


def current_device() -> int:
    return _require().current_device()


def set_device(device) -> None:
    """Make `device` the current one (new arrays and kernels go there)."""
    _require().set_device(_device_index(device))


def get_device_name(device=None) -> str:
    return _require().device_name(_device_index(device))


def synchronize(device=None) -> None:
    """Wait until all work queued on the device has finished (raises any pending kernel fault)."""
    _require().synchronize(_device_index(device))


# make_graphed_callables sits above the Tensor and autograd layers, which import this package:
# fastnn.cuda.graphed_callables binds it here when fastnn imports that module.
_graphed_callables_impl = None


def _bind_make_graphed_callables(fn):
    global _graphed_callables_impl  # noqa: PLW0603 (the one binding point, see above)
    _graphed_callables_impl = fn


def make_graphed_callables(
    callables, sample_args, num_warmup_iters=3, allow_unused_input=False, pool=None
):
    """Graphed versions of `callables` (a Module or function, or a tuple of them) for the given
    `sample_args` (a tuple of Tensors per callable, the static inputs): forward and backward are
    each captured once into a CUDA graph and replayed on every call; a call copies its
    arguments into the static inputs. A Module is returned with its forward replaced (the graphs
    run while ``module.training`` has the value it had here). As torch.cuda's."""
    if _graphed_callables_impl is None:
        raise RuntimeError("fastnn.cuda.graphed_callables is not loaded (import fastnn first)")
    return _graphed_callables_impl(
        callables, sample_args, num_warmup_iters, allow_unused_input, pool
    )


def is_current_stream_capturing() -> bool:
    """True while the calling thread captures a CUDA graph (False without CUDA)."""
    mod = _module()
    return bool(mod is not None and mod.is_capturing())


# ---- memory ----


def _stats_device(device) -> int:
    index = _device_index(device)
    return current_device() if index < 0 else index


def empty_cache() -> None:
    """Return the allocator's cached (unused) blocks to the driver. No-op without CUDA."""
    mod = _module()
    if mod is not None:
        mod.empty_cache()


def memory_stats(device=None) -> dict:
    """The caching allocator's counters for a device (bytes and counts)."""
    return dict(_require().memory_stats(_stats_device(device)))


def memory_allocated(device=None) -> int:
    """Bytes held by live DeviceArrays (rounded to the allocator's size classes)."""
    return memory_stats(device)["allocated_bytes"]


def max_memory_allocated(device=None) -> int:
    return memory_stats(device)["peak_allocated_bytes"]


def memory_reserved(device=None) -> int:
    """Bytes obtained from cudaMalloc: allocated plus cached."""
    return memory_stats(device)["reserved_bytes"]


def reset_peak_memory_stats(device=None) -> None:
    _require().reset_peak_memory_stats(_stats_device(device))


# ---- device arrays ----


def __getattr__(name):
    if name == "DeviceArray":
        mod, why = _load()
        if mod is None:
            raise AttributeError(f"fastnn.cuda.DeviceArray is unavailable: {why}")
        return mod.DeviceArray
    raise AttributeError(f"module 'fastnn.cuda' has no attribute {name!r}")


def is_device_array(obj) -> bool:
    """True for a fastnn DeviceArray (without loading the CUDA module when it is not one)."""
    mod = _module() if type(obj).__name__ == "DeviceArray" else None
    return mod is not None and isinstance(obj, mod.DeviceArray)


def is_cuda_array(obj) -> bool:
    """True for a DeviceArray or any object exposing CUDA memory (__cuda_array_interface__, or
    __dlpack__ with a CUDA __dlpack_device__). Cheap and never raises."""
    if isinstance(obj, np.ndarray):
        return False
    if is_device_array(obj) or hasattr(obj, "__cuda_array_interface__"):
        return True
    dev = getattr(obj, "__dlpack_device__", None)
    if dev is None:
        return False
    try:
        return dev()[0] in (2, 13)  # kDLCUDA, kDLCUDAManaged
    except Exception:  # noqa: BLE001 (any object may come in; a failing probe means "not CUDA")
        return False


def as_device_array(obj):
    """A DeviceArray viewing `obj` without a copy: a DeviceArray is returned as is; torch / CuPy /
    JAX / Numba arrays are wrapped through DLPack or __cuda_array_interface__ (they must be
    C-contiguous) and kept alive by the result."""
    mod = _require()
    if isinstance(obj, mod.DeviceArray):
        return obj
    if hasattr(obj, "__dlpack__") and is_cuda_array(obj):
        return mod.from_dlpack_capsule(dlpack_capsule(obj, stream=_consumer_stream(mod)))
    if hasattr(obj, "__cuda_array_interface__"):
        return mod.from_cuda_array_interface(obj)
    raise TypeError(
        f"expected a CUDA array (DeviceArray, or an object with "
        f"__cuda_array_interface__ / __dlpack__ on a CUDA device), got "
        f"{type(obj).__name__}"
    )


def _consumer_stream(mod):
    """fastnn's current stream as a DLPack stream number (1: the legacy default stream)."""
    return int(mod.get_current_stream()) or 1


def dlpack_capsule(obj, *, stream=None):
    """obj.__dlpack__(...), asking for a DLPack 1.0 (versioned) capsule, falling back to the
    pre-1.0 signature for older producers. `stream` is the consumer's stream (fastnn's current
    stream), so the producer orders its pending writes before our reads."""
    kwargs = {} if stream is None else {"stream": stream}
    try:
        return obj.__dlpack__(max_version=(1, 0), **kwargs)
    except TypeError:
        return obj.__dlpack__(**kwargs)


def empty(shape, dtype=np.float32, device=None):
    """An uninitialised DeviceArray."""
    return _require().empty(shape, dtype, _device_index(device))


def zeros(shape, dtype=np.float32, device=None):
    return empty(shape, dtype, device).fill_(0)


def full(shape, value, dtype=np.float32, device=None):
    return empty(shape, dtype, device).fill_(value)


def from_numpy(array, device=None):
    """Copy a numpy array (any layout, one of the six dtypes) to a new DeviceArray."""
    return _require().from_numpy(array, _device_index(device))


def to_numpy(array) -> np.ndarray:
    """Copy a DeviceArray (or another CUDA array) to a new numpy array."""
    return as_device_array(array).numpy()


# ---- random numbers ----


def manual_seed(seed: int) -> None:
    """Seed the Philox generator of the CUDA kernels (dropout, uniform_, normal_).

    ``fastnn.manual_seed`` seeds it too: the generator follows fastnn's global numpy Generator,
    taking its seed whenever that Generator is replaced.
    """
    from . import random

    random.manual_seed(seed)


def manual_seed_all(seed: int) -> None:
    """Seed the CUDA generator of every device: fastnn keeps one Philox stream for all GPUs, so
    this is ``manual_seed``. Works (and is a harmless no-op for the CPU) without a GPU."""
    manual_seed(seed)


_streams.bind_package(sys.modules[__name__])

__all__ = [
    "CUDAGraph",
    "Event",
    "ExternalStream",
    "OutOfMemoryError",
    "Stream",
    "StreamContext",
    "as_device_array",
    "current_device",
    "current_stream",
    "default_stream",
    "device_count",
    "empty",
    "empty_cache",
    "from_numpy",
    "full",
    "get_device_name",
    "graph",
    "graph_pool_handle",
    "is_available",
    "is_bf16_supported",
    "is_built",
    "is_cuda_array",
    "is_current_stream_capturing",
    "is_device_array",
    "make_graphed_callables",
    "manual_seed",
    "manual_seed_all",
    "max_memory_allocated",
    "memory_allocated",
    "memory_reserved",
    "memory_stats",
    "probe_error",
    "reset_peak_memory_stats",
    "set_device",
    "set_stream",
    "stream",
    "synchronize",
    "to_numpy",
    "zeros",
]
