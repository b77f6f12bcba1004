"""Per-device op sets. A Tensor's storage type picks its backend module; every backend module
defines the same names (``OPS``), so Tensor and the autograd Functions have one code path.

``cpu`` works on numpy arrays (numpy for the non-hot ops, fastnn.kernels for the hot ones).
A CUDA backend module (``fastnn.backends.cuda``, written with the CUDA module) registers its
array type with ``register`` when it is imported.
"""

import numpy as np

from . import cpu

# The names every backend module defines (tests check cpu against this list).
OPS = (
    # storage
    "device_of", "array_type", "asarray", "from_numpy", "to_numpy", "wrap", "copy", "copyto", "fill",
    "is_fresh", "iadd",
    "astype", "empty", "zeros", "ones", "full", "arange", "linspace", "eye",
    # random (draw from fastnn._random.generator())
    "rand", "randn", "randint", "normal_", "uniform_", "bernoulli",
    # element-wise
    "add", "sub", "mul", "div", "pow", "neg", "exp", "log", "sqrt", "abs", "sign", "maximum",
    "minimum", "where", "clip", "eq", "ne", "lt", "le", "gt", "ge", "logical_not", "isnan",
    "logaddexp", "log1p", "expm1", "sin", "cos",
    # reductions
    "sum", "mean", "amax", "amin", "argmax", "argmin", "sum_to_shape", "any", "all",
    # shape and indexing
    "reshape", "permute", "broadcast_to", "getitem", "setitem", "getitem_backward",
    "concatenate", "stack", "take_along_axis", "take_along_axis_backward", "ascontiguous",
    # hot ops (fastnn.kernels on the CPU)
    "matmul", "relu", "relu_backward", "leaky_relu", "leaky_relu_backward", "sigmoid",
    "sigmoid_backward", "tanh", "tanh_backward", "gelu", "gelu_backward", "softmax",
    "softmax_backward", "log_softmax", "log_softmax_backward", "softmax_cross_entropy",
    "binary_cross_entropy_with_logits",
    # conv (im2col + GEMM) and pooling
    "im2col", "col2im", "max_pool2d", "max_pool2d_backward", "matmul_shared", "conv2d",
    "conv2d_backward",
)

_BY_TYPE = {np.ndarray: cpu}


def register(array_type, module):
    """Make tensors whose storage is ``array_type`` use ``module`` (a backend with ``OPS``)."""
    _BY_TYPE[array_type] = module


def of(array):
    """The backend module for a storage array."""
    try:
        return _BY_TYPE[array.__class__]
    except KeyError:
        if isinstance(array, np.ndarray):  # ndarray subclasses (np.memmap, ...)
            return cpu
        if _load_cuda(array):
            return _BY_TYPE[array.__class__]
        raise TypeError(f"fastnn: no backend for storage of type {type(array).__name__}") from None


def is_array(obj) -> bool:
    return obj.__class__ in _BY_TYPE or _load_cuda(obj)


def _load_cuda(obj) -> bool:
    """A DeviceArray made before fastnn.backends.cuda was imported: import it (it registers)."""
    if obj.__class__.__name__ != "DeviceArray":
        return False
    from importlib import import_module

    import_module(".cuda", __name__)
    return obj.__class__ in _BY_TYPE


def for_device(dev):
    """The backend module for a ``fastnn.device``; RuntimeError when CUDA is not available."""
    if dev.type == "cpu":
        return cpu
    from .. import cuda

    if not cuda.is_built():
        raise RuntimeError("fastnn was built without CUDA; reinstall with FASTNN_CUDA=ON")
    if not cuda.is_available():
        raise RuntimeError("fastnn: no CUDA device is available (cuda.is_available() is False)")
    from importlib import import_module

    return import_module(".cuda", __name__)


def device_of(array):
    """The ``fastnn.device`` of a storage array."""
    be = of(array)
    return be.device_of(array)


__all__ = ["OPS", "cpu", "device_of", "for_device", "is_array", "of", "register"]
