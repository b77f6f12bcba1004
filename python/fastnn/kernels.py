"""fastnn's compute kernels on numpy arrays (float32 and float64), for use from any project.

Each call validates its arguments (TypeError / ValueError naming the argument, shapes and
dtypes), releases the GIL and runs multi-threaded C++ with the best SIMD path of this CPU.
"""

from ._C import detected_isa, get_isa, set_isa, supported_isas

# ---- matmul ----
from ._C import matmul  # noqa: E402


# ---- activations ----
# Element-wise (any shape) and softmax/log_softmax (last axis); each has a *_backward taking the
# upstream gradient and the forward input x (relu, leaky_relu, gelu) or output y (sigmoid, tanh,
# softmax, log_softmax). All accept out= (which may be an input itself, for in-place use).
from ._C import (  # noqa: E402
    gelu,
    gelu_backward,
    leaky_relu,
    leaky_relu_backward,
    log_softmax,
    log_softmax_backward,
    relu,
    relu_backward,
    sigmoid,
    sigmoid_backward,
    softmax,
    softmax_backward,
    tanh,
    tanh_backward,
)


# ---- losses: softmax cross-entropy, binary cross-entropy ----
# Fused loss + gradient in one pass (grad=True), PyTorch's F.cross_entropy and
# F.binary_cross_entropy_with_logits semantics.
from ._C import binary_cross_entropy_with_logits, softmax_cross_entropy  # noqa: E402


# ---- optimizer steps ----
from ._C import adagrad_step, adam_step, rmsprop_step, sgd_step  # noqa: E402


# ---- conv ----
# NCHW window ops: im2col/col2im (conv2d as GEMMs) and max pooling with int64 argmax indices.
from ._C import (  # noqa: E402
    col2im, conv2d, conv2d_backward, im2col, max_pool2d, max_pool2d_backward,
)


__all__ = [
    "detected_isa",
    "get_isa",
    "set_isa",
    "supported_isas",
    # matmul
    "matmul",

    # activations
    "relu",
    "relu_backward",
    "leaky_relu",
    "leaky_relu_backward",
    "sigmoid",
    "sigmoid_backward",
    "tanh",
    "tanh_backward",
    "gelu",
    "gelu_backward",
    "softmax",
    "softmax_backward",
    "log_softmax",
    "log_softmax_backward",

    # losses
    "softmax_cross_entropy",
    "binary_cross_entropy_with_logits",

    # optimizer steps
    "adagrad_step",
    "adam_step",
    "rmsprop_step",
    "sgd_step",

    # conv
    "im2col",
    "col2im",
    "conv2d",
    "conv2d_backward",
    "max_pool2d",
    "max_pool2d_backward",

]


# ---- CUDA dispatch (cuda helper; keep last): CUDA arrays go to fastnn.cuda.kernels ----
from .cuda._dispatch import install as _install_cuda_dispatch  # noqa: E402

_install_cuda_dispatch(globals(), __all__)
