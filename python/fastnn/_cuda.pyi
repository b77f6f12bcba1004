# Type stubs for fastnn._cuda, the CUDA kernels and device memory (bindings in
# csrc/bindings/cuda_*.cpp, entry point csrc/bindings/cuda_module.cpp). Array arguments must be
# DeviceArrays (fastnn.cuda.as_device_array wraps torch / CuPy arrays); the kernels mirror
# fastnn._C with the same names, arguments and defaults. DeviceArray carries its dtype at run
# time only, so it is not generic here.
from collections.abc import Sequence
from typing import Any, Literal, Protocol, SupportsFloat, SupportsIndex, overload

import numpy as np
import numpy.typing as npt
from typing_extensions import CapsuleType, Self, TypeAlias

# Scalars as pybind11 converts them: a C++ double takes anything with __float__ or __index__,
# an integer anything with __index__ (numpy scalars included). Shapes given to empty() and
# reshape() must hold Python ints.
_Float: TypeAlias = SupportsFloat | SupportsIndex
_Int: TypeAlias = SupportsIndex
_Arrays: TypeAlias = list[DeviceArray] | tuple[DeviceArray, ...]
_Reduction: TypeAlias = Literal["mean", "sum", "none"]
_GeluApprox: TypeAlias = Literal["none", "tanh"]
_UnaryOp: TypeAlias = Literal[
    "neg", "exp", "log", "sqrt", "abs", "reciprocal", "square", "sign", "log1p", "expm1", "sin",
    "cos", "floor", "ceil", "rsqrt",
]  # fmt: skip
_BinaryOp: TypeAlias = Literal[
    "add", "sub", "mul", "div", "pow", "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge",
]  # fmt: skip
_ReduceOp: TypeAlias = Literal["sum", "mean", "max", "min", "argmax", "argmin"]

class _TypeError(TypeError):
    """Raised by the argument checks; a TypeError subclass."""

class _TargetIndexError(IndexError, ValueError):
    """A class target outside [0, C) found on the device, raised at the next synchronization."""

def _check_target_record(
    state: _Int, row: _Int, label: _Int, classes: _Int, ignore_index: _Int
) -> int: ...

# ---- device memory (csrc/bindings/cuda_array.cpp, cuda_dlpack.cpp) ----

class DeviceArray:
    """A contiguous array in CUDA device memory (float32, float64, int64, int32, uint8, bool)."""

    @property
    def shape(self) -> tuple[int, ...]: ...
    @property
    def dtype(self) -> np.dtype[Any]: ...
    @property
    def device(self) -> int: ...
    @property
    def ndim(self) -> int: ...
    @property
    def size(self) -> int: ...
    @property
    def nbytes(self) -> int: ...
    @property
    def itemsize(self) -> int: ...
    @property
    def readonly(self) -> bool: ...
    @property
    def data_ptr(self) -> int: ...
    @property
    def __cuda_array_interface__(self) -> dict[str, Any]: ...
    @property
    def _sole_owner(self) -> bool: ...
    def __len__(self) -> int: ...
    def numpy(self) -> npt.NDArray[Any]: ...
    @overload
    def reshape(self, shape: Sequence[int], /) -> DeviceArray: ...
    @overload
    def reshape(self, *shape: int) -> DeviceArray: ...
    def narrow0(self, start: _Int, stop: _Int) -> DeviceArray: ...
    def copy_(self, src: DeviceArray | npt.NDArray[Any]) -> Self: ...
    def fill_(self, value: SupportsFloat) -> Self: ...
    def clone(self) -> DeviceArray: ...
    def astype(self, dtype: npt.DTypeLike) -> DeviceArray: ...
    def _shares_memory(self, other: DeviceArray, /) -> bool: ...
    def __dlpack__(
        self,
        *,
        stream: _Int | None = None,
        max_version: tuple[int, int] | None = None,
        dl_device: tuple[int, int] | None = None,
        copy: bool | None = None,
    ) -> CapsuleType: ...
    def __dlpack_device__(self) -> tuple[int, int]: ...
    def record_stream(self, stream: _Int | _HasStream) -> None: ...

def empty(
    shape: int | Sequence[int], dtype: npt.DTypeLike = "float32", device: _Int = -1
) -> DeviceArray: ...
def from_numpy(array: npt.NDArray[Any], device: _Int = -1) -> DeviceArray: ...
def to_numpy(array: DeviceArray) -> npt.NDArray[Any]: ...
def from_cuda_array_interface(obj: Any) -> DeviceArray: ...
def from_dlpack_capsule(capsule: CapsuleType) -> DeviceArray | npt.NDArray[Any]: ...
def dlpack_info(capsule: CapsuleType) -> dict[str, Any]: ...
def export_host_dlpack(array: npt.NDArray[Any], versioned: bool = False) -> CapsuleType: ...

# ---- devices and the caching allocator ----

def device_count() -> int: ...
def probe_error() -> str: ...
def runtime_version() -> int: ...
def driver_version() -> int: ...
def current_device() -> int: ...
def set_device(device: _Int) -> None: ...
def device_name(device: _Int = -1) -> str: ...
def synchronize(device: _Int = -1) -> None: ...
def empty_cache() -> None: ...
def memory_stats(device: _Int = 0) -> dict[str, int]: ...
def reset_peak_memory_stats(device: _Int = 0) -> None: ...
def size_class(nbytes: _Int) -> int: ...
def _host_staging(array: npt.NDArray[Any]) -> npt.NDArray[Any]: ...
def _checked_nbytes(shape: _Int | Sequence[_Int], dtype: npt.DTypeLike) -> int: ...

# ---- streams, events, graph capture (csrc/bindings/cuda_stream.cpp); handles are ints ----

class _HasStream(Protocol):
    @property
    def cuda_stream(self) -> int: ...

def get_current_stream() -> int: ...
def set_current_stream(stream: _Int | _HasStream) -> None: ...
def stream_from_pool(device: _Int = -1, priority: _Int = 0) -> int: ...
def stream_priority(stream: _Int) -> int: ...
def stream_query(stream: _Int) -> bool: ...
def stream_synchronize(stream: _Int) -> None: ...
def stream_wait_event(stream: _Int, event: _Int) -> None: ...
def event_create(enable_timing: bool = False, blocking: bool = False) -> int: ...
def event_destroy(event: _Int) -> None: ...
def event_record(event: _Int, stream: _Int) -> None: ...
def event_query(event: _Int) -> bool: ...
def event_synchronize(event: _Int) -> None: ...
def event_elapsed_ms(start: _Int, end: _Int) -> float: ...
def pool_create(device: _Int = -1) -> int: ...
def pool_retain(pool: _Int) -> None: ...
def pool_release(pool: _Int) -> None: ...
def pending_frees(device: _Int = 0) -> int: ...
def graph_capture_begin(stream: _Int, pool: _Int, mode: _Int = 0) -> None: ...
def graph_capture_end(stream: _Int) -> int: ...
def graph_launch(exec: _Int, stream: _Int) -> None: ...
def graph_destroy(exec: _Int) -> None: ...
def is_capturing() -> bool: ...
def hold_stream(stream: _Int, timeout_s: _Float = 30.0) -> int: ...
def release_stream(gate: _Int) -> None: ...

# ---- Tensor-API ops (csrc/bindings/cuda_ops.cpp); out, when given, is returned ----

def unary(op: _UnaryOp, x: DeviceArray, *, out: DeviceArray | None = None) -> DeviceArray: ...
def clamp(
    x: DeviceArray,
    min: _Float | None = None,
    max: _Float | None = None,
    *,
    out: DeviceArray | None = None,
) -> DeviceArray: ...
def binary(
    op: _BinaryOp,
    a: DeviceArray | float,
    b: DeviceArray | float,
    *,
    out: DeviceArray | None = None,
) -> DeviceArray: ...
def where(condition: DeviceArray, x: DeviceArray, y: DeviceArray) -> DeviceArray: ...
def reduce(
    op: _ReduceOp, x: DeviceArray, dim: _Int | None = None, keepdim: bool = False
) -> DeviceArray: ...
def permute(x: DeviceArray, dims: Sequence[_Int]) -> DeviceArray: ...
def broadcast_to(x: DeviceArray, shape: Sequence[_Int]) -> DeviceArray: ...
def strided_copy(
    x: DeviceArray, shape: Sequence[_Int], strides: Sequence[_Int], offset: _Int = 0
) -> DeviceArray: ...

# Philox random numbers: (seed, offset) select the stream; the fills return x.
def philox4x32_10(counter: Sequence[_Int], key: Sequence[_Int]) -> tuple[int, int, int, int]: ...
def philox_counters(dtype: npt.DTypeLike, n: _Int) -> int: ...
def uniform_(
    x: DeviceArray, low: _Float, high: _Float, seed: _Int, offset: _Int
) -> DeviceArray: ...
def normal_(x: DeviceArray, mean: _Float, std: _Float, seed: _Int, offset: _Int) -> DeviceArray: ...
def dropout(
    x: DeviceArray, p: _Float, seed: _Int, offset: _Int
) -> tuple[DeviceArray, DeviceArray]: ...
def dropout_backward(grad: DeviceArray, mask: DeviceArray, p: _Float) -> DeviceArray: ...

# ---- kernels mirroring fastnn._C (csrc/bindings/cuda_nn.cpp) ----

def relu(x: DeviceArray, *, out: DeviceArray | None = None) -> DeviceArray: ...
def relu_backward(
    grad: DeviceArray, x: DeviceArray, *, out: DeviceArray | None = None
) -> DeviceArray: ...
def leaky_relu(
    x: DeviceArray, negative_slope: _Float = 0.01, *, out: DeviceArray | None = None
) -> DeviceArray: ...
def leaky_relu_backward(
    grad: DeviceArray,
    x: DeviceArray,
    negative_slope: _Float = 0.01,
    *,
    out: DeviceArray | None = None,
) -> DeviceArray: ...
def sigmoid(x: DeviceArray, *, out: DeviceArray | None = None) -> DeviceArray: ...
def sigmoid_backward(
    grad: DeviceArray, y: DeviceArray, *, out: DeviceArray | None = None
) -> DeviceArray: ...
def tanh(x: DeviceArray, *, out: DeviceArray | None = None) -> DeviceArray: ...
def tanh_backward(
    grad: DeviceArray, y: DeviceArray, *, out: DeviceArray | None = None
) -> DeviceArray: ...
def gelu(
    x: DeviceArray, approximate: _GeluApprox = "none", *, out: DeviceArray | None = None
) -> DeviceArray: ...
def gelu_backward(
    grad: DeviceArray,
    x: DeviceArray,
    approximate: _GeluApprox = "none",
    *,
    out: DeviceArray | None = None,
) -> DeviceArray: ...
def silu(x: DeviceArray, *, out: DeviceArray | None = None) -> DeviceArray: ...
def silu_backward(
    grad: DeviceArray, x: DeviceArray, *, out: DeviceArray | None = None
) -> DeviceArray: ...
def mish(x: DeviceArray, *, out: DeviceArray | None = None) -> DeviceArray: ...
def mish_backward(
    grad: DeviceArray, x: DeviceArray, *, out: DeviceArray | None = None
) -> DeviceArray: ...
def softplus(
    x: DeviceArray,
    beta: _Float = 1.0,
    threshold: _Float = 20.0,
    *,
    out: DeviceArray | None = None,
) -> DeviceArray: ...
def softplus_backward(
    grad: DeviceArray,
    x: DeviceArray,
    beta: _Float = 1.0,
    threshold: _Float = 20.0,
    *,
    out: DeviceArray | None = None,
) -> DeviceArray: ...
def elu(
    x: DeviceArray,
    alpha: _Float = 1.0,
    scale: _Float = 1.0,
    input_scale: _Float = 1.0,
    *,
    out: DeviceArray | None = None,
) -> DeviceArray: ...
def elu_backward(
    grad: DeviceArray,
    x: DeviceArray,
    alpha: _Float = 1.0,
    scale: _Float = 1.0,
    input_scale: _Float = 1.0,
    *,
    out: DeviceArray | None = None,
) -> DeviceArray: ...
def hardtanh(
    x: DeviceArray,
    min_val: _Float = -1.0,
    max_val: _Float = 1.0,
    *,
    out: DeviceArray | None = None,
) -> DeviceArray: ...
def hardtanh_backward(
    grad: DeviceArray,
    x: DeviceArray,
    min_val: _Float = -1.0,
    max_val: _Float = 1.0,
    *,
    out: DeviceArray | None = None,
) -> DeviceArray: ...
def logsigmoid(x: DeviceArray, *, out: DeviceArray | None = None) -> DeviceArray: ...
def logsigmoid_backward(
    grad: DeviceArray, x: DeviceArray, *, out: DeviceArray | None = None
) -> DeviceArray: ...
def softmax(x: DeviceArray, dim: _Int = -1, *, out: DeviceArray | None = None) -> DeviceArray: ...
def softmax_backward(
    grad: DeviceArray, y: DeviceArray, dim: _Int = -1, *, out: DeviceArray | None = None
) -> DeviceArray: ...
def log_softmax(
    x: DeviceArray, dim: _Int = -1, *, out: DeviceArray | None = None
) -> DeviceArray: ...
def log_softmax_backward(
    grad: DeviceArray, y: DeviceArray, dim: _Int = -1, *, out: DeviceArray | None = None
) -> DeviceArray: ...
@overload
def softmax_cross_entropy(
    logits: DeviceArray,
    target: DeviceArray,
    *,
    reduction: _Reduction = "mean",
    label_smoothing: _Float = 0.0,
    ignore_index: _Int = -100,
    weight: DeviceArray | None = None,
    grad: Literal[False] = False,
) -> DeviceArray: ...
@overload
def softmax_cross_entropy(
    logits: DeviceArray,
    target: DeviceArray,
    *,
    reduction: _Reduction = "mean",
    label_smoothing: _Float = 0.0,
    ignore_index: _Int = -100,
    weight: DeviceArray | None = None,
    grad: Literal[True],
) -> tuple[DeviceArray, DeviceArray]: ...
@overload
def softmax_cross_entropy(
    logits: DeviceArray,
    target: DeviceArray,
    *,
    reduction: _Reduction = "mean",
    label_smoothing: _Float = 0.0,
    ignore_index: _Int = -100,
    weight: DeviceArray | None = None,
    grad: bool,
) -> DeviceArray | tuple[DeviceArray, DeviceArray]: ...
@overload
def binary_cross_entropy_with_logits(
    logits: DeviceArray,
    target: DeviceArray,
    *,
    weight: DeviceArray | None = None,
    pos_weight: DeviceArray | None = None,
    reduction: _Reduction = "mean",
    grad: Literal[False] = False,
) -> DeviceArray: ...
@overload
def binary_cross_entropy_with_logits(
    logits: DeviceArray,
    target: DeviceArray,
    *,
    weight: DeviceArray | None = None,
    pos_weight: DeviceArray | None = None,
    reduction: _Reduction = "mean",
    grad: Literal[True],
) -> tuple[DeviceArray, DeviceArray]: ...
@overload
def binary_cross_entropy_with_logits(
    logits: DeviceArray,
    target: DeviceArray,
    *,
    weight: DeviceArray | None = None,
    pos_weight: DeviceArray | None = None,
    reduction: _Reduction = "mean",
    grad: bool,
) -> DeviceArray | tuple[DeviceArray, DeviceArray]: ...
def matmul(
    a: DeviceArray,
    b: DeviceArray,
    *,
    trans_a: bool = False,
    trans_b: bool = False,
    alpha: _Float = 1.0,
    beta: _Float = 0.0,
    out: DeviceArray | None = None,
    bias: DeviceArray | None = None,
) -> DeviceArray: ...
def _gemm_plan(batch: int, m: int, n: int, k: int, *, sms: int = 0) -> dict[str, int]: ...
def sgd_step(
    params: _Arrays,
    grads: _Arrays,
    momentum_bufs: _Arrays | None,
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
    params: _Arrays,
    grads: _Arrays,
    state_sums: _Arrays,
    *,
    lr: _Float,
    lr_decay: _Float = 0.0,
    weight_decay: _Float = 0.0,
    eps: _Float = 1e-10,
    step: _Int,
    maximize: bool = False,
) -> None: ...
def rmsprop_step(
    params: _Arrays,
    grads: _Arrays,
    square_avgs: _Arrays,
    *,
    lr: _Float,
    alpha: _Float = 0.99,
    eps: _Float = 1e-8,
    weight_decay: _Float = 0.0,
    momentum: _Float = 0.0,
    centered: bool = False,
    momentum_bufs: _Arrays | None = None,
    grad_avgs: _Arrays | None = None,
    maximize: bool = False,
) -> None: ...
def adam_step(
    params: _Arrays,
    grads: _Arrays,
    exp_avgs: _Arrays,
    exp_avg_sqs: _Arrays,
    *,
    lr: _Float,
    beta1: _Float = 0.9,
    beta2: _Float = 0.999,
    eps: _Float = 1e-8,
    weight_decay: _Float = 0.0,
    decoupled: bool = False,
    amsgrad: bool = False,
    max_exp_avg_sqs: _Arrays | None = None,
    maximize: bool = False,
    step: _Int,
) -> None: ...
def adadelta_step(
    params: _Arrays,
    grads: _Arrays,
    square_avgs: _Arrays,
    acc_deltas: _Arrays,
    *,
    lr: _Float = 1.0,
    rho: _Float = 0.9,
    eps: _Float = 1e-6,
    weight_decay: _Float = 0.0,
    maximize: bool = False,
) -> None: ...
def adamax_step(
    params: _Arrays,
    grads: _Arrays,
    exp_avgs: _Arrays,
    exp_infs: _Arrays,
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
    params: _Arrays,
    grads: _Arrays,
    exp_avgs: _Arrays,
    exp_avg_sqs: _Arrays,
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
    params: _Arrays,
    grads: _Arrays,
    exp_avgs: _Arrays,
    exp_avg_sqs: _Arrays,
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

# ---- normalization (csrc/bindings/cuda_normalization.cpp) ----
# Forwards return (y, mean, rstd), the statistics float64; backwards (dx, dweight, dbias), each
# None when not asked for. batch_norm moves running_mean / running_var in place when training.

_Grads: TypeAlias = tuple[DeviceArray | None, DeviceArray | None, DeviceArray | None]
_Shape: TypeAlias = tuple[int, ...] | list[int]

def batch_norm(
    x: DeviceArray,
    weight: DeviceArray | None = None,
    bias: DeviceArray | None = None,
    running_mean: DeviceArray | None = None,
    running_var: DeviceArray | None = None,
    training: bool = True,
    momentum: _Float = 0.1,
    eps: _Float = 1e-05,
) -> tuple[DeviceArray, DeviceArray, DeviceArray]: ...
def batch_norm_backward(
    grad: DeviceArray,
    x: DeviceArray,
    weight: DeviceArray | None,
    save_mean: DeviceArray,
    save_rstd: DeviceArray,
    training: bool = True,
    need_input: bool = True,
    need_weight: bool = True,
    need_bias: bool = True,
) -> _Grads: ...
def layer_norm(
    x: DeviceArray,
    normalized_shape: _Shape,
    weight: DeviceArray | None = None,
    bias: DeviceArray | None = None,
    eps: _Float = 1e-05,
) -> tuple[DeviceArray, DeviceArray, DeviceArray]: ...
def layer_norm_backward(
    grad: DeviceArray,
    x: DeviceArray,
    normalized_shape: _Shape,
    weight: DeviceArray | None,
    mean: DeviceArray,
    rstd: DeviceArray,
    need_input: bool = True,
    need_weight: bool = True,
    need_bias: bool = True,
) -> _Grads: ...
def group_norm(
    x: DeviceArray,
    num_groups: _Int,
    weight: DeviceArray | None = None,
    bias: DeviceArray | None = None,
    eps: _Float = 1e-05,
) -> tuple[DeviceArray, DeviceArray, DeviceArray]: ...
def group_norm_backward(
    grad: DeviceArray,
    x: DeviceArray,
    num_groups: _Int,
    weight: DeviceArray | None,
    mean: DeviceArray,
    rstd: DeviceArray,
    need_input: bool = True,
    need_weight: bool = True,
    need_bias: bool = True,
) -> _Grads: ...

# ---- the fused LSTM / GRU cells (csrc/bindings/cuda_rnn.cpp) ----

def lstm_cell(
    gates: DeviceArray, c_prev: DeviceArray
) -> tuple[DeviceArray, DeviceArray, DeviceArray]: ...
def lstm_cell_backward(
    dh: DeviceArray,
    dc: DeviceArray | None,
    act: DeviceArray,
    c_prev: DeviceArray,
    c: DeviceArray,
) -> tuple[DeviceArray, DeviceArray]: ...
def gru_cell(
    gi: DeviceArray, gh: DeviceArray, h_prev: DeviceArray
) -> tuple[DeviceArray, DeviceArray]: ...
def gru_cell_backward(
    dh: DeviceArray, act: DeviceArray, h_prev: DeviceArray
) -> tuple[DeviceArray, DeviceArray, DeviceArray]: ...

# ---- host-side index planning of the element-wise kernels (csrc/bindings/cuda_index.cpp) ----

def fast_divmod(
    divisors: npt.ArrayLike, dividends: npt.ArrayLike
) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint32]]: ...
def index_plan_offsets(
    shape: Sequence[_Int],
    strides: Sequence[Sequence[_Int]],
    indices: npt.ArrayLike,
    force_64bit: bool = False,
) -> tuple[npt.NDArray[np.int64], dict[str, Any]]: ...

# ---- pinned host memory and non-blocking uploads (csrc/bindings/cuda_pinned.cpp) ----

def pin_numpy(array: object) -> npt.NDArray[Any]: ...
def is_pinned(array: object) -> bool: ...
def from_numpy_async(array: object, device: _Int = -1) -> DeviceArray: ...
def pinned_memory_stats() -> dict[str, int]: ...
def pinned_empty_cache() -> None: ...

# ---- indexing and creation (csrc/bindings/cuda_indexing.cpp) ----
# An indexed view: shape, element strides and offset, then int64 index arrays read through
# index_strides, each adding index * axis_stride (negative indices wrap by axis_size).

def index_gather(
    x: DeviceArray,
    shape: Sequence[_Int],
    strides: Sequence[_Int],
    offset: _Int,
    indices: list[DeviceArray],
    index_strides: Sequence[Sequence[_Int]],
    axis_sizes: Sequence[_Int],
    axis_strides: Sequence[_Int],
) -> DeviceArray: ...
def index_scatter(
    x: DeviceArray,
    value: DeviceArray,
    shape: Sequence[_Int],
    strides: Sequence[_Int],
    offset: _Int,
    indices: list[DeviceArray],
    index_strides: Sequence[Sequence[_Int]],
    axis_sizes: Sequence[_Int],
    axis_strides: Sequence[_Int],
) -> None: ...
def index_add(
    x: DeviceArray,
    src: DeviceArray,
    shape: Sequence[_Int],
    strides: Sequence[_Int],
    offset: _Int,
    indices: list[DeviceArray],
    index_strides: Sequence[Sequence[_Int]],
    axis_sizes: Sequence[_Int],
    axis_strides: Sequence[_Int],
    scale_by_count: bool = False,
) -> None: ...
def first_bad_index(
    indices: list[DeviceArray], sizes: Sequence[_Int], allow_negative: bool = True
) -> tuple[int, int, int] | None: ...
def nonzero(mask: DeviceArray) -> DeviceArray: ...
def arange(
    v0: _Float, v1: _Float, n: _Int, dtype: npt.DTypeLike, device: _Int = -1
) -> DeviceArray: ...
def linspace(
    start: _Float,
    stop: _Float,
    delta: _Float,
    step: _Float,
    div: _Int,
    step_zero: bool,
    endpoint: bool,
    n: _Int,
    dtype: npt.DTypeLike,
    device: _Int = -1,
) -> DeviceArray: ...
def int_pow(a: DeviceArray, b: DeviceArray) -> DeviceArray: ...
def int_matmul(
    a: DeviceArray, b: DeviceArray, trans_a: bool = False, trans_b: bool = False
) -> DeviceArray: ...

# ---- conv and pooling (csrc/bindings/cuda_conv.cpp) ----
# The CPU kernels' arguments; the max pooling backwards add check= (False: no host sync for the
# index check).

_Size2: TypeAlias = _Int | tuple[_Int, _Int] | list[_Int]
_Shape4: TypeAlias = tuple[_Int, _Int, _Int, _Int] | list[_Int]

def im2col(
    x: DeviceArray,
    kernel_size: _Size2,
    stride: _Size2 = 1,
    padding: _Size2 = 0,
    dilation: _Size2 = 1,
    *,
    ones_row: bool = False,
) -> DeviceArray: ...
def col2im(
    cols: DeviceArray,
    input_shape: _Shape4,
    kernel_size: _Size2,
    stride: _Size2 = 1,
    padding: _Size2 = 0,
    dilation: _Size2 = 1,
) -> DeviceArray: ...
def conv2d(
    x: DeviceArray,
    weight: DeviceArray,
    bias: DeviceArray | None = None,
    stride: _Size2 = 1,
    padding: _Size2 = 0,
    dilation: _Size2 = 1,
) -> DeviceArray: ...
def conv2d_backward(
    grad: DeviceArray,
    x: DeviceArray,
    weight: DeviceArray,
    stride: _Size2 = 1,
    padding: _Size2 = 0,
    dilation: _Size2 = 1,
    *,
    need_input: bool = True,
    need_weight: bool = True,
    need_bias: bool = True,
) -> _Grads: ...
def max_pool2d(
    x: DeviceArray,
    kernel_size: _Size2,
    stride: _Size2 | None = None,
    padding: _Size2 = 0,
    dilation: _Size2 = 1,
) -> tuple[DeviceArray, DeviceArray]: ...
def max_pool2d_backward(
    grad: DeviceArray, indices: DeviceArray, input_shape: _Shape4, *, check: bool = True
) -> DeviceArray: ...
def max_pool2d_2x2(x: DeviceArray) -> tuple[DeviceArray, DeviceArray]: ...
def max_pool2d_2x2_backward(
    grad: DeviceArray, code: DeviceArray, input_shape: _Shape4, *, check: bool = True
) -> DeviceArray: ...
def avg_pool2d(
    x: DeviceArray,
    kernel_size: _Size2,
    stride: _Size2 | None = None,
    padding: _Size2 = 0,
    count_include_pad: bool = True,
    divisor_override: _Int | None = None,
) -> DeviceArray: ...
def avg_pool2d_backward(
    grad: DeviceArray,
    input_shape: _Shape4,
    kernel_size: _Size2,
    stride: _Size2 | None = None,
    padding: _Size2 = 0,
    count_include_pad: bool = True,
    divisor_override: _Int | None = None,
) -> DeviceArray: ...
