"""The one device registry: which op module serves an array, and the kernel name table.

A device module (``cpu``, ``cuda``) defines every name of ``OPS`` with one signature, so the
Tensor and the autograd primitives have one code path whatever the device. Its ``kernels``
attribute is the raw kernel set of that device (``fastnn._C`` on the CPU, ``fastnn.cuda.kernels``
on a GPU), which ``fastnn.kernels`` and the optimizers call. Tensors, optimizers and
``fastnn.kernels`` all find their device here: ``of(array)`` for a storage array,
``for_device(device)`` for a ``fastnn.device``, ``kernels_for(args)`` for a kernel call.
"""

import numpy as np

from .._core.kernel_table import KERNELS, kernel_names
from . import cpu

# the element-wise math ops with numpy's names (one input, or two for arctan2 / hypot)
MATH_UNARY = (
    "tan",
    "sinh",
    "cosh",
    "arcsin",
    "arccos",
    "arctan",
    "arcsinh",
    "arccosh",
    "arctanh",
    "exp2",
    "log2",
    "log10",
    "floor",
    "ceil",
    "trunc",
    "erf",
)
MATH_OPS = (
    *MATH_UNARY,
    "arctan2",
    "hypot",
    "round",
    "cumsum",
    "cumprod",
    "cumprod_backward",
    "prod",
    "prod_backward",
    "argsort",
    "flip",
    "roll",
    "tril",
    "triu",
    "scatter",
    "einsum",
    "einsum_backward",
)

# ---- the op set every device module defines -------------------------------------------------------
OPS = (
    # storage
    "device_of",
    "array_type",
    "asarray",
    "from_numpy",
    "to_numpy",
    "wrap",
    "copy",
    "copyto",
    "fill",
    "is_fresh",
    "is_transposed",
    "iadd",
    "astype",
    "empty",
    "zeros",
    "ones",
    "full",
    "arange",
    "linspace",
    "eye",
    # random (draw from fastnn's global generator)
    "rand",
    "randn",
    "randint",
    "normal_",
    "uniform_",
    "bernoulli",
    # element-wise
    "add",
    "sub",
    "mul",
    "div",
    "pow",
    "cube",
    "neg",
    "exp",
    "log",
    "sqrt",
    "abs",
    "sign",
    "maximum",
    "minimum",
    "where",
    "clip",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "logical_not",
    "isnan",
    "logaddexp",
    "log1p",
    "expm1",
    "sin",
    "cos",
    # reductions
    "sum",
    "mean",
    "amax",
    "amin",
    "norm2",
    "argmax",
    "argmin",
    "sum_to_shape",
    "any",
    "all",
    # shape and indexing
    "reshape",
    "permute",
    "broadcast_to",
    "getitem",
    "setitem",
    "getitem_backward",
    "concatenate",
    "stack",
    "take_along_axis",
    "take_along_axis_backward",
    "ascontiguous",
    # the CPU kernels as Tensor ops (optimizer steps go through ``kernels``), plus the conv GEMM
    *(name for name in kernel_names("cpu") if KERNELS[name][0] != "optim"),
    "matmul_shared",
    # the math surface of the tutorials: more element-wise math, scans, sorting, indexing, einsum
    *MATH_OPS,
)
# Besides OPS, each device module has ``kernels``: the raw kernel set of that device.

# ---- the registry ----------------------------------------------------------------------------------

_BY_TYPE = {np.ndarray: cpu}


def register(array_type, module):
    """Make arrays of ``array_type`` use the device module ``module`` (one that defines ``OPS``)."""
    _BY_TYPE[array_type] = module


def of(array):
    """The device module for a storage array."""
    try:
        return _BY_TYPE[array.__class__]
    except KeyError:
        if isinstance(array, np.ndarray):  # ndarray subclasses (np.memmap, ...)
            return cpu
        if _load_cuda(array):
            return _BY_TYPE[array.__class__]
        raise TypeError(f"fastnn: no device for storage of type {type(array).__name__}") from None


def is_array(obj) -> bool:
    return obj.__class__ in _BY_TYPE or _load_cuda(obj)


def _load_cuda(obj) -> bool:
    """A DeviceArray met before the CUDA device module was loaded: load and register it."""
    if obj.__class__.__name__ != "DeviceArray":
        return False
    cuda_module()
    return obj.__class__ in _BY_TYPE


def cuda_module():
    """The CUDA device module, registered for DeviceArrays when the CUDA module was built."""
    from . import cuda

    if cuda.array_type is not None:
        register(cuda.array_type, cuda)
    return cuda


def for_device(dev):
    """The device module for a ``fastnn.device``; RuntimeError when CUDA is not available."""
    if dev.type == "cpu":
        return cpu
    from .. import cuda

    if not cuda.is_built():
        raise RuntimeError("fastnn was built without CUDA; reinstall with FASTNN_CUDA=ON")
    if not cuda.is_available():
        raise RuntimeError("fastnn: no CUDA device is available (cuda.is_available() is False)")
    return cuda_module()


def device_of(array):
    """The ``fastnn.device`` of a storage array."""
    return of(array).device_of(array)


def kernels_for(args):
    """The kernel set for a ``fastnn.kernels`` call: the CUDA kernels when any argument (or an
    element of a list argument) is a CUDA array, else the CPU kernels (``fastnn._C``)."""
    for v in args:
        if v.__class__ in HOST_VALUES:
            continue  # the numpy path pays this loop and nothing else
        from .. import cuda

        if isinstance(v, (list, tuple)):
            if any(cuda.is_cuda_array(x) for x in v):
                return cuda_module().kernels
        elif cuda.is_cuda_array(v):
            return cuda_module().kernels
    return cpu.kernels


HOST_VALUES = frozenset((np.ndarray, float, int, bool, str, type(None)))

__all__ = [
    "HOST_VALUES",
    "KERNELS",
    "OPS",
    "cpu",
    "cuda_module",
    "device_of",
    "for_device",
    "is_array",
    "kernel_names",
    "kernels_for",
    "of",
    "register",
]
