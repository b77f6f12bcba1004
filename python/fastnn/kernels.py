"""fastnn's compute kernels on numpy arrays (float32 and float64), for use from any project.

Each call validates its arguments (TypeError / ValueError naming the argument, shapes and
dtypes), releases the GIL and runs multi-threaded C++ with the best SIMD path of this CPU.

- ``matmul(a, b, *, trans_a, trans_b, alpha, beta, out, bias)``: GEMM, 2-D or batched 3-D; packed
  (BLIS-style) when the operands are big, read in place when they fit in L2 or one side is <= 16.
- activations: element-wise ``relu``, ``leaky_relu``, ``sigmoid``, ``tanh``, ``gelu``, ``exp``,
  ``sqrt``, ``log``, ``sin``, ``cos``, ``erf`` and ``softmax`` / ``log_softmax`` along ``dim``
  (any axis, the last by default); each ``*_backward`` takes the upstream gradient and the
  forward input x (relu, leaky_relu, gelu, log, sin, cos, erf) or output y (the others); all take
  ``out=``, which may be an input, for in-place use.
- losses: ``softmax_cross_entropy`` and ``binary_cross_entropy_with_logits``, loss and gradient
  in one pass (``grad=True``), with PyTorch's semantics.
- optimizer steps: ``sgd_step``, ``adagrad_step``, ``rmsprop_step``, ``adam_step``,
  ``adadelta_step``, ``adamax_step``, ``nadam_step``, ``radam_step`` update whole lists of
  parameters in place.
- conv: NCHW ``im2col`` / ``col2im``, ``conv2d`` / ``conv2d_backward`` and ``max_pool2d`` with
  int64 argmax indices. float32 3x3 stride-1 layers with at least 16 input and output channels
  run by Winograd F(2x2, 3x3) on AVX-512 and AVX2 (2.25x fewer multiplies, results within float32
  rounding of the direct sum); ``set_conv_winograd(False)`` sends every layer to packed im2col,
  ``conv_winograd_enabled()`` tells which is on. A first layer (stride 1, at most 27 patch rows,
  such as 1 or 3 input channels with a 3x3 kernel) computes its forward pass and weight gradient
  as direct sums on AVX-512 and AVX2.

The names come from one table (``fastnn._core.kernel_table``). In a CUDA build every kernel with a
CUDA twin also takes device arrays (a DeviceArray, or torch / CuPy / JAX arrays on the GPU) and
runs there.
"""

import functools

from . import _C, _devices
from ._C import (
    conv_winograd_enabled,
    detected_isa,
    get_isa,
    set_conv_winograd,
    set_isa,
    supported_isas,
)
from ._core.kernel_table import kernel_names


def _with_device_dispatch(name, cpu_kernel):
    """``cpu_kernel``, sending calls that pass a CUDA array to the CUDA kernel of that name.

    The check runs in C (``_C.DeviceDispatch``): a numpy call pays one class comparison per
    argument, not a Python frame (a small matmul's whole call is about a microsecond)."""

    def dispatch(*args, **kwargs):
        return getattr(_devices.kernels_for((*args, *kwargs.values())), name)(*args, **kwargs)

    kernel = _C.DeviceDispatch(cpu_kernel, dispatch, tuple(_devices.HOST_VALUES))
    functools.update_wrapper(kernel, cpu_kernel)  # its docstring and signature line, for help()
    kernel.__name__ = kernel.__qualname__ = name  # pybind11 builtins carry an internal qualname
    kernel.__module__ = __name__
    return kernel


def _export(names, cuda_names, cuda_built):
    for name in names:
        fn = getattr(_C, name)
        globals()[name] = (
            _with_device_dispatch(name, fn) if cuda_built and name in cuda_names else fn
        )


_export(kernel_names("cpu"), kernel_names("cuda"), _C.built_with_cuda)

__all__ = [
    "conv_winograd_enabled",
    "detected_isa",
    "get_isa",
    "set_conv_winograd",
    "set_isa",
    "supported_isas",
]
__all__.extend(kernel_names("cpu"))
