"""The kernel name table, written once: every kernel of ``fastnn.kernels`` and
``fastnn.cuda.kernels``, with the devices that have it. The C++ function of the same name does the
work (``csrc/cpu/<op>.cpp`` or the file of its family, e.g. ``activations.cpp``, and its
``csrc/cuda`` twin), bound in ``csrc/bindings/<family>.cpp``.
"""

# Every kernel, written once: name -> (family, devices that have it). ``fastnn.kernels`` exports
# the CPU ones, ``fastnn.cuda.kernels`` the CUDA ones, and the device modules define the
# non-optimizer ones as Tensor ops (``OPS``). The C++ function of the same name does the work.
_BOTH, _CPU, _CUDA = ("cpu", "cuda"), ("cpu",), ("cuda",)
KERNELS = {
    "matmul": ("matmul", _BOTH),
    **dict.fromkeys(
        (
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
        ),
        ("activation", _BOTH),
    ),
    **dict.fromkeys(
        (
            "silu",
            "silu_backward",
            "mish",
            "mish_backward",
            "softplus",
            "softplus_backward",
            "elu",
            "elu_backward",
            "hardtanh",
            "hardtanh_backward",
            "logsigmoid",
            "logsigmoid_backward",
        ),
        ("activation", _BOTH),
    ),
    **dict.fromkeys(("prelu", "prelu_backward"), ("activation", _CPU)),
    # exp, sqrt, log, sin, cos, erf, arctan, log1p, expm1 and rsqrt as threaded SIMD kernels (numpy's
    # loops run on one core, numpy has no erf, rsqrt is one pass); CUDA's are its element-wise maps
    **dict.fromkeys(
        (
            "exp",
            "exp_backward",
            "sqrt",
            "sqrt_backward",
            "log",
            "log_backward",
            "sin",
            "sin_backward",
            "cos",
            "cos_backward",
            "erf",
            "erf_backward",
            "arctan",
            "arctan_backward",
            "log1p",
            "log1p_backward",
            "expm1",
            "expm1_backward",
            "rsqrt",
            "rsqrt_backward",
        ),
        ("activation", _CPU),
    ),
    "softmax_cross_entropy": ("loss", _BOTH),
    "binary_cross_entropy_with_logits": ("loss", _BOTH),
    **dict.fromkeys(("sgd_step", "adagrad_step", "rmsprop_step", "adam_step"), ("optim", _BOTH)),
    **dict.fromkeys(("adadelta_step", "adamax_step", "nadam_step", "radam_step"), ("optim", _BOTH)),
    # the multi-tensor gradient norm / scaling behind nn.utils.clip_grad_norm_ (CPU; other devices
    # go through Tensor ops)
    **dict.fromkeys(("grad_norm", "grad_scale_"), ("optim", _CPU)),
    **dict.fromkeys(
        ("im2col", "col2im", "conv2d", "conv2d_backward", "max_pool2d", "max_pool2d_backward"),
        ("conv", _BOTH),
    ),
    **dict.fromkeys(("avg_pool2d", "avg_pool2d_backward"), ("conv", _BOTH)),
    **dict.fromkeys(("dropout", "dropout_backward"), ("random", _BOTH)),
    **dict.fromkeys(("uniform_", "normal_"), ("random", _CUDA)),
    **dict.fromkeys(("max_pool2d_2x2", "max_pool2d_2x2_backward"), ("conv", _BOTH)),
    **dict.fromkeys(
        (
            "batch_norm",
            "batch_norm_backward",
            "layer_norm",
            "layer_norm_backward",
            "group_norm",
            "group_norm_backward",
        ),
        ("norm", _BOTH),
    ),
    **dict.fromkeys(
        ("lstm_cell", "lstm_cell_backward", "gru_cell", "gru_cell_backward"), ("rnn", _BOTH)
    ),
    **dict.fromkeys(
        (
            "lstm_sequence",
            "lstm_sequence_backward",
            "gru_sequence",
            "gru_sequence_backward",
            "rnn_sequence",
            "rnn_sequence_backward",
        ),
        ("rnn", _CPU),
    ),
    **dict.fromkeys(
        (
            "embedding",
            "embedding_backward",
            "embedding_renorm_",
            "embedding_bag",
            "embedding_bag_backward",
        ),
        ("embedding", _CPU),
    ),
}


def kernel_names(device):
    """The kernels ``device`` ('cpu' or 'cuda') has, in table order."""
    return tuple(name for name, (_, devices) in KERNELS.items() if device in devices)
