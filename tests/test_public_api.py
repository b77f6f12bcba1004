"""The public API, pinned: every public name of the user-facing modules, and the signatures of a
few central callables. A restructure of the package must keep these (or change this file on
purpose, in the same commit, saying why).

PUBLIC_API is the spec: for each module, the names a user may import from it, written down from
the package as it was when this test was added. Each name must exist, and where the module
defines ``__all__`` it must list exactly these names. Internal modules (the private
``fastnn._*`` modules, implementation submodules such as ``fastnn.nn.layers``) are not part of
it; ``fastnn.backends`` is public since it took torch's names (the per-device op modules moved
to ``fastnn._devices``).
"""

import ast
import importlib
import inspect

import pytest

PUBLIC_API: dict[str, tuple[str, ...]] = {
    "fastnn": (
        "BoolTensor",
        "ByteTensor",
        "CharTensor",
        "DoubleTensor",
        "FloatTensor",
        "Generator",
        "HalfTensor",
        "IntTensor",
        "LongTensor",
        "ShortTensor",
        "Size",
        "Tensor",
        "__version__",
        "abs",
        "accelerator",
        "acos",
        "acosh",
        "add",
        "addcdiv",
        "addcmul",
        "addmm",
        "all",
        "allclose",
        "amax",
        "amin",
        "any",
        "arange",
        "arccos",
        "arccosh",
        "arcsin",
        "arcsinh",
        "arctan",
        "arctan2",
        "arctanh",
        "argmax",
        "argmin",
        "argsort",
        "as_tensor",
        "asin",
        "asinh",
        "atan",
        "atan2",
        "atanh",
        "autograd",
        "backends",
        "bernoulli",
        "bitwise_and",
        "bitwise_not",
        "bitwise_or",
        "bitwise_xor",
        "bmm",
        "bool",
        "broadcast_tensors",
        "broadcast_to",
        "bucketize",
        "can_cast",
        "cat",
        "cdist",
        "ceil",
        "chunk",
        "clamp",
        "clip",
        "clone",
        "concat",
        "concatenate",
        "cos",
        "cosh",
        "count_nonzero",
        "cross",
        "cuda",
        "cumprod",
        "cumsum",
        "datasets",
        "detach",
        "device",
        "diag",
        "diagonal",
        "diff",
        "div",
        "dot",
        "double",
        "dtype",
        "einsum",
        "empty",
        "empty_like",
        "enable_grad",
        "eq",
        "equal",
        "erf",
        "exp",
        "exp2",
        "expand_as",
        "expm1",
        "eye",
        "finfo",
        "fix",
        "flatten",
        "flip",
        "fliplr",
        "flipud",
        "float",
        "float16",
        "float32",
        "float64",
        "floor",
        "floor_divide",
        "fmod",
        "frac",
        "from_dlpack",
        "from_numpy",
        "full",
        "full_like",
        "gather",
        "ge",
        "ger",
        "get_default_device",
        "get_default_dtype",
        "get_num_threads",
        "gt",
        "half",
        "histc",
        "hstack",
        "hypot",
        "iinfo",
        "index_add",
        "index_select",
        "inference_mode",
        "initial_seed",
        "int",
        "int16",
        "int32",
        "int64",
        "int8",
        "is_floating_point",
        "is_grad_enabled",
        "is_inference_mode_enabled",
        "is_tensor",
        "isclose",
        "isfinite",
        "isinf",
        "isnan",
        "isneginf",
        "isposinf",
        "kernels",
        "kthvalue",
        "le",
        "lerp",
        "linspace",
        "load",
        "log",
        "log10",
        "log1p",
        "log2",
        "log_softmax",
        "logaddexp",
        "logical_and",
        "logical_not",
        "logical_or",
        "logical_xor",
        "logspace",
        "logsumexp",
        "long",
        "lt",
        "manual_seed",
        "masked_fill",
        "masked_select",
        "matmul",
        "max",
        "maximum",
        "mean",
        "median",
        "meshgrid",
        "min",
        "minimum",
        "mm",
        "moveaxis",
        "movedim",
        "mul",
        "multinomial",
        "mv",
        "nan_to_num",
        "narrow",
        "ne",
        "neg",
        "nn",
        "no_grad",
        "nonzero",
        "norm",
        "normal",
        "numel",
        "ones",
        "ones_like",
        "optim",
        "outer",
        "permute",
        "pow",
        "prod",
        "promote_types",
        "rand",
        "rand_like",
        "randint",
        "randint_like",
        "randn",
        "randn_like",
        "randperm",
        "reciprocal",
        "relu",
        "remainder",
        "repeat",
        "repeat_interleave",
        "reshape",
        "result_type",
        "roll",
        "round",
        "row_stack",
        "rsqrt",
        "save",
        "scatter",
        "scatter_add",
        "searchsorted",
        "seed",
        "set_default_device",
        "set_default_dtype",
        "set_grad_enabled",
        "set_num_threads",
        "short",
        "show_config",
        "sigmoid",
        "sign",
        "sin",
        "sinh",
        "softmax",
        "sort",
        "split",
        "sqrt",
        "square",
        "squeeze",
        "stack",
        "std",
        "std_mean",
        "sub",
        "sum",
        "swapaxes",
        "t",
        "tan",
        "tanh",
        "tensor",
        "tensordot",
        "tile",
        "topk",
        "trace",
        "transpose",
        "tril",
        "triu",
        "true_divide",
        "trunc",
        "uint8",
        "unbind",
        "unique",
        "unsqueeze",
        "utils",
        "var",
        "var_mean",
        "vstack",
        "where",
        "zeros",
        "zeros_like",
    ),
    "fastnn.autograd": (
        "Function",
        "GradcheckError",
        "backward",
        "enable_grad",
        "grad",
        "gradcheck",
        "inference_mode",
        "is_grad_enabled",
        "is_inference_mode_enabled",
        "no_grad",
        "set_grad_enabled",
    ),
    "fastnn.accelerator": (
        "current_accelerator",
        "device_count",
        "is_available",
    ),
    "fastnn.backends": (
        "cuda",
        "cudnn",
        "mps",
    ),
    "fastnn.backends.cuda": (
        "is_built",
        "matmul",
    ),
    "fastnn.backends.cudnn": (
        "allow_tf32",
        "benchmark",
        "deterministic",
        "enabled",
        "is_available",
        "version",
    ),
    "fastnn.backends.mps": (
        "is_available",
        "is_built",
    ),
    "fastnn.cuda": (
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
    ),
    "fastnn.datasets": (
        "DataFileError",
        "DownloadError",
        "FashionMNIST",
        "MNIST",
        "default_root",
        "read_idx",
        "synthetic_regression",
        "write_idx",
    ),
    "fastnn.kernels": (
        "adadelta_step",
        "adagrad_step",
        "adam_step",
        "adamax_step",
        "avg_pool2d",
        "avg_pool2d_backward",
        "batch_norm",
        "batch_norm_backward",
        "binary_cross_entropy_with_logits",
        "col2im",
        "conv2d",
        "conv2d_backward",
        "detected_isa",
        "dropout",
        "dropout_backward",
        "elu",
        "elu_backward",
        "embedding",
        "embedding_backward",
        "embedding_renorm_",
        "gelu",
        "gelu_backward",
        "get_isa",
        "grad_norm",
        "grad_scale_",
        "group_norm",
        "group_norm_backward",
        "gru_cell",
        "gru_cell_backward",
        "gru_sequence",
        "gru_sequence_backward",
        "hardtanh",
        "hardtanh_backward",
        "im2col",
        "layer_norm",
        "layer_norm_backward",
        "leaky_relu",
        "leaky_relu_backward",
        "log_softmax",
        "log_softmax_backward",
        "logsigmoid",
        "logsigmoid_backward",
        "lstm_cell",
        "lstm_cell_backward",
        "lstm_sequence",
        "lstm_sequence_backward",
        "matmul",
        "max_pool2d",
        "max_pool2d_2x2",
        "max_pool2d_2x2_backward",
        "max_pool2d_backward",
        "mish",
        "mish_backward",
        "nadam_step",
        "prelu",
        "prelu_backward",
        "radam_step",
        "relu",
        "relu_backward",
        "rmsprop_step",
        "rnn_sequence",
        "rnn_sequence_backward",
        "set_isa",
        "sgd_step",
        "sigmoid",
        "sigmoid_backward",
        "silu",
        "silu_backward",
        "softmax",
        "softmax_backward",
        "softmax_cross_entropy",
        "softplus",
        "softplus_backward",
        "supported_isas",
        "tanh",
        "tanh_backward",
    ),
    "fastnn.nn": (
        "AdaptiveAvgPool1d",
        "AdaptiveAvgPool2d",
        "AdaptiveMaxPool2d",
        "AvgPool1d",
        "AvgPool2d",
        "BCELoss",
        "BCEWithLogitsLoss",
        "BatchNorm1d",
        "BatchNorm2d",
        "CTCLoss",
        "Conv1d",
        "Conv2d",
        "CosineEmbeddingLoss",
        "CrossEntropyLoss",
        "Dropout",
        "Dropout2d",
        "ELU",
        "Embedding",
        "EmbeddingBag",
        "Flatten",
        "GELU",
        "GRU",
        "GRUCell",
        "GroupNorm",
        "Hardtanh",
        "HuberLoss",
        "Identity",
        "KLDivLoss",
        "L1Loss",
        "LSTM",
        "LSTMCell",
        "LayerNorm",
        "LazyLinear",
        "LeakyReLU",
        "Linear",
        "LogSigmoid",
        "LogSoftmax",
        "MSELoss",
        "MaxPool1d",
        "MaxPool2d",
        "Mish",
        "Module",
        "ModuleDict",
        "ModuleList",
        "NLLLoss",
        "PReLU",
        "Parameter",
        "ParameterDict",
        "ParameterList",
        "RNN",
        "RNNBase",
        "RNNCell",
        "RNNCellBase",
        "ReLU",
        "ReLU6",
        "SELU",
        "Sequential",
        "SiLU",
        "Sigmoid",
        "SmoothL1Loss",
        "Softmax",
        "Softplus",
        "Tanh",
        "TripletMarginLoss",
        "Unflatten",
        "UninitializedParameter",
        "Upsample",
        "functional",
        "init",
        "parallel",
        "utils",
    ),
    "fastnn.nn.utils": (
        "clip_grad_norm_",
        "clip_grad_value_",
        "clip_grads_with_norm_",
        "get_total_norm",
        "parameters_to_vector",
        "rnn",
        "vector_to_parameters",
    ),
    "fastnn.nn.utils.rnn": ("pad_sequence",),
    "fastnn.nn.parallel": ("DistributedDataParallel",),
    "fastnn.distributed": (
        "ReduceOp",
        "Work",
        "all_gather",
        "all_reduce",
        "barrier",
        "broadcast",
        "destroy_process_group",
        "get_backend",
        "get_rank",
        "get_world_size",
        "init_process_group",
        "is_available",
        "is_initialized",
        "is_mpi_available",
        "reduce_scatter",
    ),
    "fastnn.nn.functional": (
        "adaptive_avg_pool1d",
        "adaptive_avg_pool2d",
        "adaptive_max_pool2d",
        "avg_pool1d",
        "avg_pool2d",
        "batch_norm",
        "binary_cross_entropy",
        "binary_cross_entropy_with_logits",
        "contrastive_loss",
        "conv1d",
        "conv2d",
        "cosine_embedding_loss",
        "cosine_similarity",
        "cross_entropy",
        "ctc_loss",
        "dropout",
        "dropout2d",
        "elu",
        "embedding",
        "embedding_bag",
        "gan_discriminator_loss",
        "gan_generator_loss",
        "gelu",
        "group_norm",
        "hardtanh",
        "huber_loss",
        "interpolate",
        "kl_div",
        "l1_loss",
        "layer_norm",
        "leaky_relu",
        "linear",
        "log_softmax",
        "logsigmoid",
        "max_pool1d",
        "max_pool2d",
        "mish",
        "mse_loss",
        "nll_loss",
        "normalize",
        "one_hot",
        "pad",
        "pairwise_distance",
        "prelu",
        "relu",
        "relu6",
        "rmse_loss",
        "selu",
        "sigmoid",
        "silu",
        "smooth_l1_loss",
        "softmax",
        "softplus",
        "tanh",
        "triplet_margin_loss",
    ),
    "fastnn.nn.init": (
        "calculate_gain",
        "constant_",
        "kaiming_normal_",
        "kaiming_uniform_",
        "normal_",
        "ones_",
        "uniform_",
        "xavier_normal_",
        "xavier_uniform_",
        "zeros_",
    ),
    "fastnn.optim": (
        "ASGD",
        "Adadelta",
        "Adagrad",
        "Adam",
        "AdamW",
        "Adamax",
        "LBFGS",
        "NAdam",
        "Optimizer",
        "RAdam",
        "RMSprop",
        "Rprop",
        "SGD",
        "lr_scheduler",
    ),
    "fastnn.optim.lr_scheduler": (
        "ChainedScheduler",
        "ConstantLR",
        "CosineAnnealingLR",
        "CosineAnnealingWarmRestarts",
        "CyclicLR",
        "ExponentialLR",
        "LRScheduler",
        "LambdaLR",
        "LinearLR",
        "MultiStepLR",
        "MultiplicativeLR",
        "OneCycleLR",
        "PolynomialLR",
        "ReduceLROnPlateau",
        "SequentialLR",
        "StepLR",
    ),
    "fastnn.serialization": (
        "load",
        "load_file",
        "save",
        "save_file",
        "save_torch",
    ),
    "fastnn.utils.data": (
        "BatchSampler",
        "DataLoader",
        "Dataset",
        "DistributedSampler",
        "IterableDataset",
        "RandomSampler",
        "Sampler",
        "SequentialSampler",
        "Subset",
        "SubsetRandomSampler",
        "TensorDataset",
        "WeightedRandomSampler",
        "default_collate",
        "default_convert",
        "get_worker_info",
        "random_split",
    ),
}

# Central callables, by dotted path: their parameters (names, kinds, defaults; annotations left
# out, so adding type hints is not an API change). The kernels are pybind11 builtins without an
# inspectable signature; theirs is read from the first docstring line pybind11 writes.
SIGNATURES: dict[str, str] = {
    "fastnn.tensor": "(data, dtype=None, device=None, requires_grad=False)",
    "fastnn.zeros": "(*size_args, size=None, dtype=None, device=None, requires_grad=False)",
    "fastnn.randn": "(*size_args, size=None, generator=None, dtype=None, device=None, requires_grad=False)",
    "fastnn.arange": "(start, end=None, step=1, dtype=None, device=None, requires_grad=False)",
    "fastnn.save": "(obj, f)",
    "fastnn.load": "(f, map_location=None, weights_only=True)",
    "fastnn.serialization.save_torch": "(obj, f)",
    "fastnn.serialization.save_file": "(tensors, filename, metadata=None)",
    "fastnn.serialization.load_file": "(filename, device='cpu')",
    "fastnn.Tensor.backward": "(self, gradient=None, retain_graph=None, create_graph=False)",
    "fastnn.nn.Linear.__init__": (
        "(self, in_features, out_features, bias=True, device=None, dtype=None)"
    ),
    "fastnn.nn.Conv2d.__init__": (
        "(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,"
        " groups=1, bias=True, padding_mode='zeros', device=None, dtype=None)"
    ),
    "fastnn.nn.functional.cross_entropy": (
        "(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,"
        " reduction='mean', label_smoothing=0.0)"
    ),
    "fastnn.nn.functional.conv2d": (
        "(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1)"
    ),
    "fastnn.optim.SGD.__init__": (
        "(self, params, lr=0.001, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,"
        " maximize=False, foreach=None, fused=None)"
    ),
    "fastnn.optim.Adam.__init__": (
        "(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0, amsgrad=False,"
        " *, foreach=None, maximize=False, fused=None, decoupled_weight_decay=False)"
    ),
    "fastnn.optim.lr_scheduler.StepLR.__init__": (
        "(self, optimizer, step_size, gamma=0.1, last_epoch=-1)"
    ),
    "fastnn.utils.data.DataLoader.__init__": (
        "(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,"
        " num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,"
        " worker_init_fn=None, multiprocessing_context=None, generator=None, *,"
        " prefetch_factor=None, persistent_workers=False, pin_memory_device='', in_order=True,"
        " seed=None)"
    ),
    "fastnn.kernels.matmul": (
        "(a, b, *, trans_a=False, trans_b=False, alpha=1.0, beta=0.0, out=None, bias=None)"
    ),
    "fastnn.kernels.softmax_cross_entropy": (
        "(logits, target, *, reduction='mean', label_smoothing=0.0, ignore_index=-100,"
        " weight=None, grad=False)"
    ),
}


def _resolve(path: str):
    """The object a user reaches by writing `path`: attribute access from the top package,
    importing a submodule only where the attribute is not there yet. (Not the longest importable
    prefix: ``fastnn.tensor`` is the function, though a submodule of that name exists.)"""
    parts = path.split(".")
    obj = importlib.import_module(parts[0])
    for i, attr in enumerate(parts[1:], start=2):
        if not hasattr(obj, attr):
            importlib.import_module(".".join(parts[:i]))
        obj = getattr(obj, attr)
    return obj


def _without_annotations(sig: inspect.Signature) -> str:
    params = [p.replace(annotation=inspect.Parameter.empty) for p in sig.parameters.values()]
    return str(sig.replace(parameters=params, return_annotation=inspect.Signature.empty))


def _docstring_signature(obj) -> inspect.Signature:
    """The signature in the first docstring line, ``name(a: T, *, b: T = 1) -> R``, as pybind11
    writes it for builtins (whose inspect.signature is unavailable)."""
    first = (obj.__doc__ or "").splitlines()[0] if obj.__doc__ else ""
    name = getattr(obj, "__name__", "")
    if not first.startswith(name + "("):
        raise ValueError(f"no signature line in the docstring of {obj!r}: {first!r}")
    func = ast.parse(f"def {first}: pass").body[0]
    assert isinstance(func, ast.FunctionDef)
    args, kind = func.args, inspect.Parameter
    params = []
    positional = args.posonlyargs + args.args
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    for i, (arg, default) in enumerate(zip(positional, defaults)):
        k = kind.POSITIONAL_ONLY if i < len(args.posonlyargs) else kind.POSITIONAL_OR_KEYWORD
        value = kind.empty if default is None else ast.literal_eval(default)
        params.append(kind(arg.arg, k, default=value))
    if args.vararg:
        params.append(kind(args.vararg.arg, kind.VAR_POSITIONAL))
    for arg, default in zip(args.kwonlyargs, args.kw_defaults):
        value = kind.empty if default is None else ast.literal_eval(default)
        params.append(kind(arg.arg, kind.KEYWORD_ONLY, default=value))
    if args.kwarg:
        params.append(kind(args.kwarg.arg, kind.VAR_KEYWORD))
    return inspect.Signature(params)


def _signature_text(obj) -> str:
    try:
        sig = inspect.signature(obj)
    except ValueError:  # a builtin (possibly behind functools.wraps): read its docstring
        sig = _docstring_signature(obj)
    return _without_annotations(sig)


def test_the_spec_is_tidy():
    for module_name, names in PUBLIC_API.items():
        assert list(names) == sorted(set(names)), f"{module_name}: keep the names sorted, once"
        private = [n for n in names if n.startswith("_") and not n.startswith("__")]
        assert not private, f"{module_name}: private names are not public API: {private}"


@pytest.mark.parametrize("module_name", sorted(PUBLIC_API))
def test_public_names(module_name):
    module = importlib.import_module(module_name)
    pinned = set(PUBLIC_API[module_name])
    problems = []
    missing = sorted(n for n in pinned if not hasattr(module, n))
    if missing:
        problems.append(f"missing from the module: {missing}")
    exported = getattr(module, "__all__", None)
    if exported is not None:
        dropped = sorted(pinned - set(exported))
        added = sorted(set(exported) - pinned)
        if dropped:
            problems.append(f"pinned but not in __all__: {dropped}")
        if added:
            problems.append(f"in __all__ but not pinned (pin them if they are public): {added}")
    assert not problems, f"{module_name} public API changed: " + "; ".join(problems)


@pytest.mark.parametrize("path", sorted(SIGNATURES))
def test_signature(path):
    try:
        obj = _resolve(path)
    except (ImportError, AttributeError) as e:
        pytest.fail(f"{path} is gone: {e!r}")
    assert not inspect.ismodule(obj), f"{path} is now a module, not a callable: {obj!r}"
    assert callable(obj), f"{path} is no longer callable: {obj!r}"
    got = _signature_text(obj)
    assert got == SIGNATURES[path], (
        f"{path} signature changed:\n  pinned: {SIGNATURES[path]}\n  now:    {got}"
    )
