"""DLPack import: ``fastnn.from_dlpack(x)`` for any object with ``__dlpack__`` (torch, CuPy,
JAX, numpy, a fastnn DeviceArray) or a raw DLPack capsule, always without a copy.

Host tensors come back as numpy arrays (through ``np.from_dlpack``); CUDA tensors as
``fastnn.cuda.DeviceArray`` (this loads the CUDA module; it raises RuntimeError without one).
"""

import numpy as np

from .. import cuda

_CPU_DEVICES = (1, 3)  # kDLCPU, kDLCUDAHost
_CUDA_DEVICES = (2, 13)  # kDLCUDA, kDLCUDAManaged


def from_dlpack(x):
    """Zero-copy import of a DLPack-capable object or capsule (numpy array or DeviceArray)."""
    if isinstance(x, np.ndarray):
        return x
    if type(x).__name__ == "PyCapsule":
        mod, why = cuda._load()
        if mod is None:
            raise RuntimeError(
                f"fastnn.from_dlpack: raw DLPack capsules need the CUDA module ({why})"
            )
        return mod.from_dlpack_capsule(x)
    if not hasattr(x, "__dlpack__") or not hasattr(x, "__dlpack_device__"):
        raise TypeError(
            f"fastnn.from_dlpack: expected an object with __dlpack__ and __dlpack_device__ or a "
            f"DLPack capsule, got {type(x).__name__}"
        )
    device_type, _ = x.__dlpack_device__()
    if device_type in _CPU_DEVICES:
        return np.from_dlpack(x)
    if device_type in _CUDA_DEVICES:
        mod = cuda._require()
        if isinstance(x, mod.DeviceArray):
            return x
        return mod.from_dlpack_capsule(cuda.dlpack_capsule(x, stream=cuda._consumer_stream(mod)))
    raise BufferError(
        f"fastnn.from_dlpack: DLPack device type {device_type} is not supported (CPU or CUDA only)"
    )
