# ruff: noqa: N999  (the extension module is named _C; the stub must match it)
# Type stubs for fastnn._C, the CPU kernels (bindings in csrc/bindings/*.cpp, entry point
# csrc/bindings/module.cpp). Every array argument must be a numpy.ndarray (lists and other
# array-likes raise TypeError); the float kernels take float32 or float64, one dtype per call,
# and return arrays of that dtype, hence the type variable _F. (It is bound to the union rather
# than constrained to the two types: mypy misreports overlapping overloads for the latter.)
from collections.abc import Callable
from typing import Literal, SupportsFloat, SupportsIndex, TypeVar, final, overload

import numpy as np
import numpy.typing as npt
from typing_extensions import Self, TypeAlias

_F = TypeVar("_F", bound=np.float32 | np.float64)
_G = TypeVar("_G", bound=np.generic)  # any dtype of numbers or bools

# Scalars as pybind11 converts them: a C++ double takes anything with __float__ or __index__,
# an integer anything with __index__ (numpy scalars included).
_Float: TypeAlias = SupportsFloat | SupportsIndex
_Int: TypeAlias = SupportsIndex
# A window hyperparameter: one int for both axes, or an (h, w) pair (tuple or list of two).
_Size2: TypeAlias = SupportsIndex | tuple[SupportsIndex, SupportsIndex] | list[SupportsIndex]
# An (N, C, H, W) shape: a tuple or list of four ints.
_Shape4: TypeAlias = (
    tuple[SupportsIndex, SupportsIndex, SupportsIndex, SupportsIndex] | list[SupportsIndex]
)
# The optimizer steps take lists (or tuples) of same-shaped arrays, params first.
_Arrays: TypeAlias = list[npt.NDArray[_F]] | tuple[npt.NDArray[_F], ...]
_Reduction: TypeAlias = Literal["mean", "sum", "none"]
_GeluApprox: TypeAlias = Literal["none", "tanh"]

class _TypeError(TypeError):
    """Raised by the argument checks; a TypeError subclass."""

# ---- configuration (csrc/bindings/config.cpp) ----

__version__: str
compiler: str
built_with_cuda: bool

def get_num_threads() -> int: ...
def set_num_threads(n: _Int) -> None: ...
def default_num_threads() -> int: ...
def get_isa() -> str: ...
def detected_isa() -> str: ...
def set_isa(name: Literal["avx512", "avx2", "generic"]) -> None: ...
def supported_isas() -> list[str]: ...
def set_conv_winograd(enabled: bool) -> None: ...
def conv_winograd_enabled() -> bool: ...

# ---- matmul (csrc/bindings/matmul.cpp) ----

def matmul(
    a: npt.NDArray[_F],
    b: npt.NDArray[_F],
    *,
    trans_a: bool = False,
    trans_b: bool = False,
    alpha: _Float = 1.0,
    beta: _Float = 0.0,
    out: npt.NDArray[_F] | None = None,
    bias: npt.NDArray[_F] | None = None,
) -> npt.NDArray[_F]: ...

# Internal (not in fastnn.kernels): matmul(a, b) without keyword parsing, for the CPU backend.
def matmul_ab(
    a: npt.NDArray[_F], b: npt.NDArray[_F], bias: npt.NDArray[_F] | None = None
) -> npt.NDArray[_F]: ...

# Internal (not in fastnn.kernels): whether freed tensor memory stays in the process
# (fastnn.show_config; csrc/cpu/heap.h).
def heap_policy() -> dict[str, object]: ...

# Internal (not in fastnn.kernels): the caches and GEMM blocking (fastnn.show_config), and the
# FMA peak the benchmarks measure.
def gemm_config() -> dict[str, object]: ...
def fma_peak_gflops(
    dtype: Literal["float32", "float64"] = "float32", seconds: _Float = 0.05
) -> float: ...

# Internal (not in fastnn.kernels): the recurrent loops' GEMM with op(b) packed once, bound
# for its tests (csrc/bindings/matmul_packed.cpp).
def matmul_prepacked(
    a: npt.NDArray[_F],
    b: npt.NDArray[_F],
    *,
    bias: npt.NDArray[_F] | None = None,
    c: npt.NDArray[_F] | None = None,
    trans_a: bool = False,
    trans_b: bool = False,
    steps: int = 1,
) -> npt.NDArray[_F]: ...

# ---- activations (csrc/bindings/activations.cpp) ----
# Forward: out may be x itself. Backward: grad and the forward input x or output y, same shape.

def relu(x: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None) -> npt.NDArray[_F]: ...
def relu_backward(
    grad: npt.NDArray[_F], x: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None
) -> npt.NDArray[_F]: ...
def leaky_relu(
    x: npt.NDArray[_F], negative_slope: _Float = 0.01, *, out: npt.NDArray[_F] | None = None
) -> npt.NDArray[_F]: ...
def leaky_relu_backward(
    grad: npt.NDArray[_F],
    x: npt.NDArray[_F],
    negative_slope: _Float = 0.01,
    *,
    out: npt.NDArray[_F] | None = None,
) -> npt.NDArray[_F]: ...
def sigmoid(x: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None) -> npt.NDArray[_F]: ...
def sigmoid_backward(
    grad: npt.NDArray[_F], y: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None
) -> npt.NDArray[_F]: ...
def tanh(x: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None) -> npt.NDArray[_F]: ...
def tanh_backward(
    grad: npt.NDArray[_F], y: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None
) -> npt.NDArray[_F]: ...
def exp(x: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None) -> npt.NDArray[_F]: ...
def exp_backward(
    grad: npt.NDArray[_F], y: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None
) -> npt.NDArray[_F]: ...
def sqrt(x: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None) -> npt.NDArray[_F]: ...
def sqrt_backward(
    grad: npt.NDArray[_F], y: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None
) -> npt.NDArray[_F]: ...
def log(x: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None) -> npt.NDArray[_F]: ...
def log_backward(
    grad: npt.NDArray[_F], x: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None
) -> npt.NDArray[_F]: ...
def sin(x: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None) -> npt.NDArray[_F]: ...
def sin_backward(
    grad: npt.NDArray[_F], x: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None
) -> npt.NDArray[_F]: ...
def cos(x: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None) -> npt.NDArray[_F]: ...
def cos_backward(
    grad: npt.NDArray[_F], x: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None
) -> npt.NDArray[_F]: ...
def erf(x: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None) -> npt.NDArray[_F]: ...
def erf_backward(
    grad: npt.NDArray[_F], x: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None
) -> npt.NDArray[_F]: ...
def arctan(x: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None) -> npt.NDArray[_F]: ...
def arctan_backward(
    grad: npt.NDArray[_F], x: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None
) -> npt.NDArray[_F]: ...
def log1p(x: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None) -> npt.NDArray[_F]: ...
def log1p_backward(
    grad: npt.NDArray[_F], x: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None
) -> npt.NDArray[_F]: ...
def expm1(x: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None) -> npt.NDArray[_F]: ...
def expm1_backward(
    grad: npt.NDArray[_F], x: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None
) -> npt.NDArray[_F]: ...
def rsqrt(x: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None) -> npt.NDArray[_F]: ...
def rsqrt_backward(
    grad: npt.NDArray[_F], y: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None
) -> npt.NDArray[_F]: ...
def gelu(
    x: npt.NDArray[_F], approximate: _GeluApprox = "none", *, out: npt.NDArray[_F] | None = None
) -> npt.NDArray[_F]: ...
def gelu_backward(
    grad: npt.NDArray[_F],
    x: npt.NDArray[_F],
    approximate: _GeluApprox = "none",
    *,
    out: npt.NDArray[_F] | None = None,
) -> npt.NDArray[_F]: ...
def softmax(
    x: npt.NDArray[_F], dim: _Int = -1, *, out: npt.NDArray[_F] | None = None
) -> npt.NDArray[_F]: ...
def softmax_backward(
    grad: npt.NDArray[_F],
    y: npt.NDArray[_F],
    dim: _Int = -1,
    *,
    out: npt.NDArray[_F] | None = None,
) -> npt.NDArray[_F]: ...
def log_softmax(
    x: npt.NDArray[_F], dim: _Int = -1, *, out: npt.NDArray[_F] | None = None
) -> npt.NDArray[_F]: ...
def log_softmax_backward(
    grad: npt.NDArray[_F],
    y: npt.NDArray[_F],
    dim: _Int = -1,
    *,
    out: npt.NDArray[_F] | None = None,
) -> npt.NDArray[_F]: ...

# ---- losses (csrc/bindings/losses.cpp) ----
# The loss is a 0-d array (per item for reduction="none"); grad=True adds dlogits.

@overload
def softmax_cross_entropy(
    logits: npt.NDArray[_F],
    target: npt.NDArray[np.int32] | npt.NDArray[np.int64] | npt.NDArray[_F],
    *,
    reduction: _Reduction = "mean",
    label_smoothing: _Float = 0.0,
    ignore_index: _Int = -100,
    weight: npt.NDArray[_F] | None = None,
    grad: Literal[False] = False,
) -> npt.NDArray[_F]: ...
@overload
def softmax_cross_entropy(
    logits: npt.NDArray[_F],
    target: npt.NDArray[np.int32] | npt.NDArray[np.int64] | npt.NDArray[_F],
    *,
    reduction: _Reduction = "mean",
    label_smoothing: _Float = 0.0,
    ignore_index: _Int = -100,
    weight: npt.NDArray[_F] | None = None,
    grad: Literal[True],
) -> tuple[npt.NDArray[_F], npt.NDArray[_F]]: ...
@overload
def softmax_cross_entropy(
    logits: npt.NDArray[_F],
    target: npt.NDArray[np.int32] | npt.NDArray[np.int64] | npt.NDArray[_F],
    *,
    reduction: _Reduction = "mean",
    label_smoothing: _Float = 0.0,
    ignore_index: _Int = -100,
    weight: npt.NDArray[_F] | None = None,
    grad: bool,
) -> npt.NDArray[_F] | tuple[npt.NDArray[_F], npt.NDArray[_F]]: ...

# Internal (not in fastnn.kernels): the call above with reduction 'mean' and every other keyword
# at its default, without keyword parsing, for the CPU backend.
@overload
def softmax_cross_entropy_mean(
    logits: npt.NDArray[_F],
    target: npt.NDArray[np.int32] | npt.NDArray[np.int64] | npt.NDArray[_F],
    grad: Literal[False] = False,
) -> npt.NDArray[_F]: ...
@overload
def softmax_cross_entropy_mean(
    logits: npt.NDArray[_F],
    target: npt.NDArray[np.int32] | npt.NDArray[np.int64] | npt.NDArray[_F],
    grad: Literal[True],
) -> tuple[npt.NDArray[_F], npt.NDArray[_F]]: ...
@overload
def softmax_cross_entropy_mean(
    logits: npt.NDArray[_F],
    target: npt.NDArray[np.int32] | npt.NDArray[np.int64] | npt.NDArray[_F],
    grad: bool,
) -> npt.NDArray[_F] | tuple[npt.NDArray[_F], npt.NDArray[_F]]: ...
@overload
def binary_cross_entropy_with_logits(
    logits: npt.NDArray[_F],
    target: npt.NDArray[_F],
    *,
    weight: npt.NDArray[_F] | None = None,
    pos_weight: npt.NDArray[_F] | None = None,
    reduction: _Reduction = "mean",
    grad: Literal[False] = False,
) -> npt.NDArray[_F]: ...
@overload
def binary_cross_entropy_with_logits(
    logits: npt.NDArray[_F],
    target: npt.NDArray[_F],
    *,
    weight: npt.NDArray[_F] | None = None,
    pos_weight: npt.NDArray[_F] | None = None,
    reduction: _Reduction = "mean",
    grad: Literal[True],
) -> tuple[npt.NDArray[_F], npt.NDArray[_F]]: ...
@overload
def binary_cross_entropy_with_logits(
    logits: npt.NDArray[_F],
    target: npt.NDArray[_F],
    *,
    weight: npt.NDArray[_F] | None = None,
    pos_weight: npt.NDArray[_F] | None = None,
    reduction: _Reduction = "mean",
    grad: bool,
) -> npt.NDArray[_F] | tuple[npt.NDArray[_F], npt.NDArray[_F]]: ...

# ---- optimizer steps (csrc/bindings/optim.cpp): update params and state in place ----

def sgd_step(
    params: _Arrays[_F],
    grads: _Arrays[_F],
    momentum_bufs: _Arrays[_F] | None,
    *,
    lr: _Float,
    momentum: _Float = 0.0,
    dampening: _Float = 0.0,
    nesterov: bool = False,
    weight_decay: _Float = 0.0,
    maximize: bool = False,
    first_step: bool = False,
) -> None: ...
def adagrad_step(
    params: _Arrays[_F],
    grads: _Arrays[_F],
    state_sums: _Arrays[_F],
    *,
    lr: _Float,
    lr_decay: _Float = 0.0,
    weight_decay: _Float = 0.0,
    eps: _Float = 1e-10,
    step: _Int,
    maximize: bool = False,
) -> None: ...
def rmsprop_step(
    params: _Arrays[_F],
    grads: _Arrays[_F],
    square_avgs: _Arrays[_F],
    *,
    lr: _Float,
    alpha: _Float = 0.99,
    eps: _Float = 1e-8,
    weight_decay: _Float = 0.0,
    momentum: _Float = 0.0,
    centered: bool = False,
    momentum_bufs: _Arrays[_F] | None = None,
    grad_avgs: _Arrays[_F] | None = None,
    maximize: bool = False,
) -> None: ...
def adam_step(
    params: _Arrays[_F],
    grads: _Arrays[_F],
    exp_avgs: _Arrays[_F],
    exp_avg_sqs: _Arrays[_F],
    *,
    lr: _Float,
    beta1: _Float = 0.9,
    beta2: _Float = 0.999,
    eps: _Float = 1e-8,
    weight_decay: _Float = 0.0,
    decoupled: bool = False,
    amsgrad: bool = False,
    max_exp_avg_sqs: _Arrays[_F] | None = None,
    maximize: bool = False,
    step: _Int,
) -> None: ...
def adadelta_step(
    params: _Arrays[_F],
    grads: _Arrays[_F],
    square_avgs: _Arrays[_F],
    acc_deltas: _Arrays[_F],
    *,
    lr: _Float = 1.0,
    rho: _Float = 0.9,
    eps: _Float = 1e-6,
    weight_decay: _Float = 0.0,
    maximize: bool = False,
) -> None: ...
def adamax_step(
    params: _Arrays[_F],
    grads: _Arrays[_F],
    exp_avgs: _Arrays[_F],
    exp_infs: _Arrays[_F],
    *,
    lr: _Float,
    beta1: _Float = 0.9,
    beta2: _Float = 0.999,
    eps: _Float = 1e-8,
    weight_decay: _Float = 0.0,
    maximize: bool = False,
    step: _Int,
) -> None: ...
def nadam_step(
    params: _Arrays[_F],
    grads: _Arrays[_F],
    exp_avgs: _Arrays[_F],
    exp_avg_sqs: _Arrays[_F],
    *,
    lr: _Float,
    beta1: _Float = 0.9,
    beta2: _Float = 0.999,
    eps: _Float = 1e-8,
    weight_decay: _Float = 0.0,
    momentum_decay: _Float = 4e-3,
    decoupled: bool = False,
    maximize: bool = False,
    step: _Int,
    mu_product: _Float,
) -> None: ...
def radam_step(
    params: _Arrays[_F],
    grads: _Arrays[_F],
    exp_avgs: _Arrays[_F],
    exp_avg_sqs: _Arrays[_F],
    *,
    lr: _Float,
    beta1: _Float = 0.9,
    beta2: _Float = 0.999,
    eps: _Float = 1e-8,
    weight_decay: _Float = 0.0,
    decoupled: bool = False,
    maximize: bool = False,
    step: _Int,
) -> None: ...

# ---- gradient norm and scaling for clip_grad_norm_ (csrc/bindings/clip_grad.cpp) ----

def grad_norm(tensors: _Arrays[_F], norm_type: _Float = 2.0) -> float: ...
def grad_scale_(tensors: _Arrays[_F], factor: _Float) -> None: ...
def norm_last(x: npt.NDArray[_F], p: _Float = 2.0, keepdim: bool = False) -> npt.NDArray[_F]: ...

# ---- reductions for the CPU backend (csrc/bindings/reductions.cpp) ----

def sum_rows(x: npt.NDArray[_F]) -> npt.NDArray[_F]: ...
def sum_all(x: npt.NDArray[_F]) -> npt.NDArray[_F]: ...
def sum_last(x: npt.NDArray[_F]) -> npt.NDArray[_F]: ...
def max_last(
    x: npt.NDArray[_F], keepdim: bool = False
) -> tuple[npt.NDArray[_F], npt.NDArray[np.int64]]: ...
def min_last(
    x: npt.NDArray[_F], keepdim: bool = False
) -> tuple[npt.NDArray[_F], npt.NDArray[np.int64]]: ...
def amax_last(x: npt.NDArray[_F], keepdim: bool = False) -> npt.NDArray[_F]: ...
def prod_last(x: npt.NDArray[_F], keepdim: bool = False) -> npt.NDArray[_F]: ...
def amin_last(x: npt.NDArray[_F], keepdim: bool = False) -> npt.NDArray[_F]: ...
def topk_last(x: npt.NDArray[_F], k: _Int, largest: bool = True) -> npt.NDArray[np.int64]: ...
def var_mean(
    x: npt.NDArray[_F], dim: _Int | None = None, correction: _Float = 1.0, keepdim: bool = False
) -> tuple[npt.NDArray[_F], npt.NDArray[_F]]: ...

# ---- add / sub / mul / div / maximum / minimum / where and the one-operand maps (neg, abs, sign,
# floor, ceil, trunc, rint) of whole arrays, and maximum / minimum gradients, for the CPU backend
# (csrc/bindings/arithmetic.cpp) ----
# a and b: same-shaped float arrays of one dtype, or one of them a Python number (or a 0-d array).
_Operand: TypeAlias = npt.NDArray[_F] | float

def add(
    a: _Operand[_F], b: _Operand[_F], *, out: npt.NDArray[_F] | None = None
) -> npt.NDArray[_F]: ...
def sub(
    a: _Operand[_F], b: _Operand[_F], *, out: npt.NDArray[_F] | None = None
) -> npt.NDArray[_F]: ...
def mul(
    a: _Operand[_F], b: _Operand[_F], *, out: npt.NDArray[_F] | None = None
) -> npt.NDArray[_F]: ...
def div(
    a: _Operand[_F], b: _Operand[_F], *, out: npt.NDArray[_F] | None = None
) -> npt.NDArray[_F]: ...
def maximum(
    a: _Operand[_F], b: _Operand[_F], *, out: npt.NDArray[_F] | None = None
) -> npt.NDArray[_F]: ...
def minimum(
    a: _Operand[_F], b: _Operand[_F], *, out: npt.NDArray[_F] | None = None
) -> npt.NDArray[_F]: ...
def copy(x: npt.NDArray[_G]) -> npt.NDArray[_G]: ...
def cumsum(x: npt.NDArray[_F], axis: int, *, reverse: bool = False) -> npt.NDArray[_F]: ...
def cumprod(x: npt.NDArray[_F], axis: int) -> npt.NDArray[_F]: ...
def cat(
    arrays: list[npt.NDArray[_G]] | tuple[npt.NDArray[_G], ...], axis: int = 0
) -> npt.NDArray[_G]: ...
def stack(
    arrays: list[npt.NDArray[_G]] | tuple[npt.NDArray[_G], ...], axis: int = 0
) -> npt.NDArray[_G]: ...
def addcmul(
    x: npt.NDArray[_F],
    tensor1: npt.NDArray[_F],
    tensor2: npt.NDArray[_F],
    value: _Float = 1.0,
    *,
    out: npt.NDArray[_F] | None = None,
) -> npt.NDArray[_F]: ...
def addcdiv(
    x: npt.NDArray[_F],
    tensor1: npt.NDArray[_F],
    tensor2: npt.NDArray[_F],
    value: _Float = 1.0,
    *,
    out: npt.NDArray[_F] | None = None,
) -> npt.NDArray[_F]: ...
def lerp(
    x: npt.NDArray[_F],
    end: npt.NDArray[_F],
    weight: _Float,
    *,
    out: npt.NDArray[_F] | None = None,
) -> npt.NDArray[_F]: ...
def where(
    condition: npt.NDArray[np.bool_], x: _Operand[_F], y: _Operand[_F]
) -> npt.NDArray[_F]: ...
def neg(x: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None) -> npt.NDArray[_F]: ...
def abs(x: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None) -> npt.NDArray[_F]: ...
def sign(x: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None) -> npt.NDArray[_F]: ...
def floor(x: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None) -> npt.NDArray[_F]: ...
def ceil(x: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None) -> npt.NDArray[_F]: ...
def trunc(x: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None) -> npt.NDArray[_F]: ...
def rint(x: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None) -> npt.NDArray[_F]: ...
def cube(x: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None) -> npt.NDArray[_F]: ...
def maximum_backward(
    grad: npt.NDArray[_F],
    a: npt.NDArray[_F],
    b: npt.NDArray[_F],
    *,
    need_a: bool = True,
    need_b: bool = True,
) -> tuple[npt.NDArray[_F] | None, npt.NDArray[_F] | None]: ...
def minimum_backward(
    grad: npt.NDArray[_F],
    a: npt.NDArray[_F],
    b: npt.NDArray[_F],
    *,
    need_a: bool = True,
    need_b: bool = True,
) -> tuple[npt.NDArray[_F] | None, npt.NDArray[_F] | None]: ...

# ---- convolution and pooling on NCHW arrays (csrc/bindings/conv.cpp) ----

def im2col(
    x: npt.NDArray[_F],
    kernel_size: _Size2,
    stride: _Size2 = 1,
    padding: _Size2 = 0,
    dilation: _Size2 = 1,
    *,
    ones_row: bool = False,
) -> npt.NDArray[_F]: ...
def col2im(
    cols: npt.NDArray[_F],
    input_shape: _Shape4,
    kernel_size: _Size2,
    stride: _Size2 = 1,
    padding: _Size2 = 0,
    dilation: _Size2 = 1,
) -> npt.NDArray[_F]: ...
def conv2d(
    x: npt.NDArray[_F],
    weight: npt.NDArray[_F],
    bias: npt.NDArray[_F] | None = None,
    stride: _Size2 = 1,
    padding: _Size2 = 0,
    dilation: _Size2 = 1,
) -> npt.NDArray[_F]: ...
def conv2d_backward(
    grad: npt.NDArray[_F],
    x: npt.NDArray[_F],
    weight: npt.NDArray[_F],
    stride: _Size2 = 1,
    padding: _Size2 = 0,
    dilation: _Size2 = 1,
    *,
    need_input: bool = True,
    need_weight: bool = True,
    need_bias: bool = True,
) -> tuple[npt.NDArray[_F] | None, npt.NDArray[_F] | None, npt.NDArray[_F] | None]: ...
def depthwise_conv2d(
    x: npt.NDArray[_F],
    weight: npt.NDArray[_F],
    bias: npt.NDArray[_F] | None = None,
    stride: _Size2 = 1,
    padding: _Size2 = 0,
    dilation: _Size2 = 1,
) -> npt.NDArray[_F]: ...
def depthwise_conv2d_backward(
    grad: npt.NDArray[_F],
    x: npt.NDArray[_F],
    weight: npt.NDArray[_F],
    stride: _Size2 = 1,
    padding: _Size2 = 0,
    dilation: _Size2 = 1,
    *,
    need_input: bool = True,
    need_weight: bool = True,
    need_bias: bool = True,
) -> tuple[npt.NDArray[_F] | None, npt.NDArray[_F] | None, npt.NDArray[_F] | None]: ...
def max_pool2d(
    x: npt.NDArray[_F],
    kernel_size: _Size2,
    stride: _Size2 | None = None,
    padding: _Size2 = 0,
    dilation: _Size2 = 1,
) -> tuple[npt.NDArray[_F], npt.NDArray[np.int64]]: ...
def max_pool2d_backward(
    grad: npt.NDArray[_F], indices: npt.NDArray[np.int64], input_shape: _Shape4
) -> npt.NDArray[_F]: ...
def max_pool2d_2x2(x: npt.NDArray[_F]) -> tuple[npt.NDArray[_F], npt.NDArray[np.uint8]]: ...
def max_pool2d_2x2_backward(
    grad: npt.NDArray[_F], code: npt.NDArray[np.uint8], input_shape: _Shape4
) -> npt.NDArray[_F]: ...
def avg_pool2d(
    x: npt.NDArray[_F],
    kernel_size: _Size2,
    stride: _Size2 | None = None,
    padding: _Size2 = 0,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> npt.NDArray[_F]: ...
def avg_pool2d_backward(
    grad: npt.NDArray[_F],
    input_shape: _Shape4,
    kernel_size: _Size2,
    stride: _Size2 | None = None,
    padding: _Size2 = 0,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> npt.NDArray[_F]: ...

# ---- normalization (csrc/bindings/normalization.cpp) ----
# Forwards return (y, mean, rstd), the statistics float64; backwards (dx, dweight, dbias), each
# None when not asked for. batch_norm moves running_mean / running_var in place when training.

_Stats: TypeAlias = npt.NDArray[np.float64]
_Grads: TypeAlias = tuple[npt.NDArray[_F] | None, npt.NDArray[_F] | None, npt.NDArray[_F] | None]
_Shape: TypeAlias = tuple[int, ...] | list[int]

def batch_norm(
    x: npt.NDArray[_F],
    weight: npt.NDArray[_F] | None = None,
    bias: npt.NDArray[_F] | None = None,
    running_mean: npt.NDArray[_F] | None = None,
    running_var: npt.NDArray[_F] | None = None,
    *,
    training: bool = True,
    momentum: _Float = 0.1,
    eps: _Float = 1e-05,
) -> tuple[npt.NDArray[_F], _Stats, _Stats]: ...
def batch_norm_backward(
    grad: npt.NDArray[_F],
    x: npt.NDArray[_F],
    weight: npt.NDArray[_F] | None,
    save_mean: _Stats,
    save_rstd: _Stats,
    *,
    training: bool = True,
    need_input: bool = True,
    need_weight: bool = True,
    need_bias: bool = True,
) -> _Grads[_F]: ...
def layer_norm(
    x: npt.NDArray[_F],
    normalized_shape: _Shape,
    weight: npt.NDArray[_F] | None = None,
    bias: npt.NDArray[_F] | None = None,
    eps: _Float = 1e-05,
) -> tuple[npt.NDArray[_F], _Stats, _Stats]: ...
def layer_norm_backward(
    grad: npt.NDArray[_F],
    x: npt.NDArray[_F],
    normalized_shape: _Shape,
    weight: npt.NDArray[_F] | None,
    mean: _Stats,
    rstd: _Stats,
    *,
    need_input: bool = True,
    need_weight: bool = True,
    need_bias: bool = True,
) -> _Grads[_F]: ...
def group_norm(
    x: npt.NDArray[_F],
    num_groups: _Int,
    weight: npt.NDArray[_F] | None = None,
    bias: npt.NDArray[_F] | None = None,
    eps: _Float = 1e-05,
) -> tuple[npt.NDArray[_F], _Stats, _Stats]: ...
def group_norm_backward(
    grad: npt.NDArray[_F],
    x: npt.NDArray[_F],
    num_groups: _Int,
    weight: npt.NDArray[_F] | None,
    mean: _Stats,
    rstd: _Stats,
    *,
    need_input: bool = True,
    need_weight: bool = True,
    need_bias: bool = True,
) -> _Grads[_F]: ...

# ---- recurrent layers: fused cells and time loops (csrc/bindings/rnn.cpp) ----
# Sequences are (S, B, width); lstm_sequence and rnn_sequence overwrite their first argument.
_Nonlinearity: TypeAlias = Literal["tanh", "relu"]

def lstm_cell(
    gates: npt.NDArray[_F], c_prev: npt.NDArray[_F]
) -> tuple[npt.NDArray[_F], npt.NDArray[_F], npt.NDArray[_F]]: ...
def lstm_cell_backward(
    dh: npt.NDArray[_F],
    dc: npt.NDArray[_F] | None,
    act: npt.NDArray[_F],
    c_prev: npt.NDArray[_F],
    c: npt.NDArray[_F],
) -> tuple[npt.NDArray[_F], npt.NDArray[_F]]: ...
def gru_cell(
    gi: npt.NDArray[_F], gh: npt.NDArray[_F], h_prev: npt.NDArray[_F]
) -> tuple[npt.NDArray[_F], npt.NDArray[_F]]: ...
def gru_cell_backward(
    dh: npt.NDArray[_F], act: npt.NDArray[_F], h_prev: npt.NDArray[_F]
) -> tuple[npt.NDArray[_F], npt.NDArray[_F], npt.NDArray[_F]]: ...
def lstm_sequence(
    gates: npt.NDArray[_F],
    w_hh: npt.NDArray[_F],
    h0: npt.NDArray[_F],
    c0: npt.NDArray[_F],
    reverse: bool = False,
) -> tuple[npt.NDArray[_F], npt.NDArray[_F]]: ...
def lstm_sequence_backward(
    dhs: npt.NDArray[_F],
    dc_n: npt.NDArray[_F] | None,
    gates: npt.NDArray[_F],
    cs: npt.NDArray[_F],
    c0: npt.NDArray[_F],
    w_hh: npt.NDArray[_F],
    reverse: bool = False,
) -> tuple[npt.NDArray[_F], npt.NDArray[_F], npt.NDArray[_F]]: ...
def gru_sequence(
    gi: npt.NDArray[_F],
    w_hh: npt.NDArray[_F],
    b_hh: npt.NDArray[_F] | None,
    h0: npt.NDArray[_F],
    reverse: bool = False,
) -> tuple[npt.NDArray[_F], npt.NDArray[_F]]: ...
def gru_sequence_backward(
    dhs: npt.NDArray[_F],
    act: npt.NDArray[_F],
    hs: npt.NDArray[_F],
    h0: npt.NDArray[_F],
    w_hh: npt.NDArray[_F],
    reverse: bool = False,
) -> tuple[npt.NDArray[_F], npt.NDArray[_F], npt.NDArray[_F]]: ...
def rnn_sequence(
    pre: npt.NDArray[_F],
    w_hh: npt.NDArray[_F],
    h0: npt.NDArray[_F],
    nonlinearity: _Nonlinearity = "tanh",
    reverse: bool = False,
) -> npt.NDArray[_F]: ...
def rnn_sequence_backward(
    dhs: npt.NDArray[_F],
    hs: npt.NDArray[_F],
    w_hh: npt.NDArray[_F],
    nonlinearity: _Nonlinearity = "tanh",
    reverse: bool = False,
) -> tuple[npt.NDArray[_F], npt.NDArray[_F]]: ...
def embedding(
    weight: npt.NDArray[_F], indices: npt.NDArray[np.int32] | npt.NDArray[np.int64]
) -> npt.NDArray[_F]: ...
def embedding_backward(
    grad: npt.NDArray[_F],
    indices: npt.NDArray[np.int32] | npt.NDArray[np.int64],
    num_weights: _Int,
    padding_idx: _Int | None = None,
    scale_grad_by_freq: bool = False,
) -> npt.NDArray[_F]: ...
def embedding_bag(
    weight: npt.NDArray[_F],
    indices: npt.NDArray[np.int32] | npt.NDArray[np.int64],
    bounds: npt.NDArray[np.int64],
) -> npt.NDArray[_F]: ...
def embedding_bag_backward(
    grad: npt.NDArray[_F],
    indices: npt.NDArray[np.int32] | npt.NDArray[np.int64],
    bounds: npt.NDArray[np.int64],
    num_weights: _Int,
) -> npt.NDArray[_F]: ...
def embedding_renorm_(
    weight: npt.NDArray[_F],
    indices: npt.NDArray[np.int32] | npt.NDArray[np.int64],
    max_norm: _Float,
    norm_type: _Float = 2.0,
) -> npt.NDArray[_F]: ...
def silu(x: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None) -> npt.NDArray[_F]: ...
def silu_backward(
    grad: npt.NDArray[_F], x: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None
) -> npt.NDArray[_F]: ...
def mish(x: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None) -> npt.NDArray[_F]: ...
def mish_backward(
    grad: npt.NDArray[_F], x: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None
) -> npt.NDArray[_F]: ...
def softplus(
    x: npt.NDArray[_F],
    beta: _Float = 1.0,
    threshold: _Float = 20.0,
    *,
    out: npt.NDArray[_F] | None = None,
) -> npt.NDArray[_F]: ...
def softplus_backward(
    grad: npt.NDArray[_F],
    x: npt.NDArray[_F],
    beta: _Float = 1.0,
    threshold: _Float = 20.0,
    *,
    out: npt.NDArray[_F] | None = None,
) -> npt.NDArray[_F]: ...
def elu(
    x: npt.NDArray[_F],
    alpha: _Float = 1.0,
    scale: _Float = 1.0,
    input_scale: _Float = 1.0,
    *,
    out: npt.NDArray[_F] | None = None,
) -> npt.NDArray[_F]: ...
def elu_backward(
    grad: npt.NDArray[_F],
    x: npt.NDArray[_F],
    alpha: _Float = 1.0,
    scale: _Float = 1.0,
    input_scale: _Float = 1.0,
    *,
    out: npt.NDArray[_F] | None = None,
) -> npt.NDArray[_F]: ...
def hardtanh(
    x: npt.NDArray[_F],
    min_val: _Float = -1.0,
    max_val: _Float = 1.0,
    *,
    out: npt.NDArray[_F] | None = None,
) -> npt.NDArray[_F]: ...
def hardtanh_backward(
    grad: npt.NDArray[_F],
    x: npt.NDArray[_F],
    min_val: _Float = -1.0,
    max_val: _Float = 1.0,
    *,
    out: npt.NDArray[_F] | None = None,
) -> npt.NDArray[_F]: ...
def logsigmoid(x: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None) -> npt.NDArray[_F]: ...
def logsigmoid_backward(
    grad: npt.NDArray[_F], x: npt.NDArray[_F], *, out: npt.NDArray[_F] | None = None
) -> npt.NDArray[_F]: ...
def prelu(x: npt.NDArray[_F], weight: npt.NDArray[_F]) -> npt.NDArray[_F]: ...
def prelu_backward(
    grad: npt.NDArray[_F], x: npt.NDArray[_F], weight: npt.NDArray[_F], *, need_weight: bool = True
) -> tuple[npt.NDArray[_F], npt.NDArray[_F] | None]: ...

# ---- dropout (csrc/bindings/dropout.cpp) ----

def dropout(
    x: npt.NDArray[_F], p: _Float, seed: _Int, offset: _Int
) -> tuple[npt.NDArray[_F], npt.NDArray[np.uint8]]: ...
def dropout_backward(
    grad: npt.NDArray[_F], mask: npt.NDArray[np.uint8], p: _Float
) -> npt.NDArray[_F]: ...

# ---- call dispatch (csrc/bindings/dispatch.cpp) ----

@final
class DeviceDispatch:
    """cpu(*args, **kwargs) when every argument's class is in host_types, else device(...)."""

    def __new__(
        cls,
        cpu: Callable[..., object],
        device: Callable[..., object],
        host_types: tuple[type, ...],
    ) -> Self: ...
    def __call__(self, *args: object, **kwargs: object) -> object: ...
    def __get__(self, instance: object, owner: type | None = None, /) -> Self: ...

@final
class SizeDispatch:
    """large(*args, **kwargs) when the first or second positional argument is a numpy.ndarray of
    at least min_size elements, else small(...)."""

    def __new__(
        cls, small: Callable[..., object], large: Callable[..., object], min_size: _Int
    ) -> Self: ...
    def __call__(self, *args: object, **kwargs: object) -> object: ...
    def __get__(self, instance: object, owner: type | None = None, /) -> Self: ...
