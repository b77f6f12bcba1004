"""torch's top-level twins of ``nn.functional``: ``torch.conv2d``, ``torch.batch_norm``,
``torch.dropout``, ``torch.kl_div``, ... (the in-place top-level forms that are only Tensor
methods, ``torch.relu_(t)``, are in ``_tensor/functions_api.py``).

These are torch's low-level entry points, so their positional signatures are not always F's:
``batch_norm`` takes weight and bias before the running statistics, ``embedding`` takes the weight
first, ``dropout`` needs ``train``, and the losses take ``reduction`` as an int (0 none, 1 mean,
2 sum) whose default is 0 (unreduced). Each one here forwards to the F function that does the
work, so values and gradients are F's.
"""

from .nn import functional as _F

_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


def _reduction(value, fn):
    """torch's int reduction (or F's string, which the same call also accepts here)."""
    if isinstance(value, str) and value in ("none", "mean", "sum"):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value in _REDUCTIONS:
        return _REDUCTIONS[value]
    raise ValueError(f"{fn}(): reduction must be 0 (none), 1 (mean) or 2 (sum), got {value!r}")


def _stride(stride):
    # torch's default stride is the empty list, meaning "the kernel size"
    return None if stride is None or (isinstance(stride, (list, tuple)) and not stride) else stride


# ---- convolution and pooling: F's positional order ------------------------------------------


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _F.conv1d(input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _F.conv2d(input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _F.conv3d(input, weight, bias, stride, padding, dilation, groups)


def conv_transpose1d(
    input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):
    return _F.conv_transpose1d(
        input, weight, bias, stride, padding, output_padding, groups, dilation
    )


def conv_transpose2d(
    input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):
    return _F.conv_transpose2d(
        input, weight, bias, stride, padding, output_padding, groups, dilation
    )


def conv_transpose3d(
    input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):
    return _F.conv_transpose3d(
        input, weight, bias, stride, padding, output_padding, groups, dilation
    )


def max_pool1d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return _F.max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool2d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return _F.max_pool2d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool3d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return _F.max_pool3d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def avg_pool1d(input, kernel_size, stride=(), padding=0, ceil_mode=False, count_include_pad=True):
    return _F.avg_pool1d(input, kernel_size, _stride(stride), padding, ceil_mode, count_include_pad)


def adaptive_avg_pool1d(input, output_size):
    return _F.adaptive_avg_pool1d(input, output_size)


def adaptive_max_pool1d(input, output_size):
    """Always the pair (values, indices), as torch's top-level form returns."""
    return _F.adaptive_max_pool1d(input, output_size, return_indices=True)


# ---- normalization: torch's own argument order ----------------------------------------------


def batch_norm(
    input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled
):
    """Weight and bias come before the running statistics; ``cudnn_enabled`` is accepted and
    has no effect."""
    return _F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(
    input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps, cudnn_enabled
):
    return _F.instance_norm(
        input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps
    )


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True):
    return _F.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True):
    return _F.group_norm(input, num_groups, weight, bias, eps)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    return _F.rms_norm(input, normalized_shape, weight, eps)


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """The weight comes first; a negative ``padding_idx`` means no padding row."""
    padding = None if padding_idx is None or padding_idx < 0 else padding_idx
    return _F.embedding(
        indices, weight, padding, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse
    )


# ---- dropout: ``train`` is required ---------------------------------------------------------


def dropout(input, p, train):
    return _F.dropout(input, p, train)


def alpha_dropout(input, p, train):
    return _F.alpha_dropout(input, p, train)


def feature_alpha_dropout(input, p, train):
    return _F.feature_alpha_dropout(input, p, train)


def _feature_mask(input, p, fn):
    if input.ndim < 2:
        raise ValueError(f"{fn}(): input needs a batch and a channel dim, got shape {input.shape}")
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    # F.dropout of ones is the scaled keep-mask, one draw per (sample, channel)
    return _F.dropout(input.new_ones(shape), p, True)


def feature_dropout(input, p, train):
    """Zero whole channels (dim 1) with probability p, scaling the rest by 1/(1-p)."""
    if not train or p == 0:
        return input
    return input * _feature_mask(input, p, "feature_dropout")


def dropout_(input, p, train):
    return _F.dropout(input, p, train, inplace=True)


def alpha_dropout_(input, p, train):
    return _F.alpha_dropout(input, p, train, inplace=True)


def feature_alpha_dropout_(input, p, train):
    return _F.feature_alpha_dropout(input, p, train, inplace=True)


def feature_dropout_(input, p, train):
    if not train or p == 0:
        return input
    return input.mul_(_feature_mask(input, p, "feature_dropout_"))


# ---- shuffles and distances -----------------------------------------------------------------


def pixel_shuffle(input, upscale_factor):
    return _F.pixel_shuffle(input, upscale_factor)


def pixel_unshuffle(input, downscale_factor):
    return _F.pixel_unshuffle(input, downscale_factor)


def channel_shuffle(input, groups):
    return _F.channel_shuffle(input, groups)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    return _F.cosine_similarity(x1, x2, dim, eps)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    return _F.pairwise_distance(x1, x2, p, eps, keepdim)


def pdist(input, p=2):
    return _F.pdist(input, p)


# ---- losses: int reduction, unreduced by default --------------------------------------------


def kl_div(input, target, reduction=0, *, log_target=False):
    return _F.kl_div(
        input, target, reduction=_reduction(reduction, "kl_div"), log_target=log_target
    )


def ctc_loss(
    log_probs, targets, input_lengths, target_lengths, blank=0, reduction=0, zero_infinity=False
):
    red = _reduction(reduction, "ctc_loss")
    return _F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, red, zero_infinity)


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=0):
    red = _reduction(reduction, "binary_cross_entropy_with_logits")
    return _F.binary_cross_entropy_with_logits(
        input, target, weight, reduction=red, pos_weight=pos_weight
    )


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=0):
    red = _reduction(reduction, "margin_ranking_loss")
    return _F.margin_ranking_loss(input1, input2, target, margin, reduction=red)


def hinge_embedding_loss(input, target, margin=1.0, reduction=0):
    red = _reduction(reduction, "hinge_embedding_loss")
    return _F.hinge_embedding_loss(input, target, margin, reduction=red)


def triplet_margin_loss(
    anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction=0
):
    red = _reduction(reduction, "triplet_margin_loss")
    return _F.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap, reduction=red)


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=0):
    red = _reduction(reduction, "cosine_embedding_loss")
    return _F.cosine_embedding_loss(input1, input2, target, margin, reduction=red)


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    red = _reduction(reduction, "poisson_nll_loss")
    return _F.poisson_nll_loss(input, target, log_input, full, eps=eps, reduction=red)


# ---- activations and the rest ---------------------------------------------------------------


def celu(input, alpha=1.0):
    return _F.celu(input, alpha)


def selu(input):
    return _F.selu(input)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    if generator is not None:
        raise NotImplementedError("rrelu(): a generator argument is not supported")
    return _F.rrelu(input, lower, upper, training)


def prelu(input, weight):
    return _F.prelu(input, weight)


def hardshrink(input, lambd=0.5):
    return _F.hardshrink(input, lambd)


def threshold(input, threshold, value):
    return _F.threshold(input, threshold, value)


def bilinear(input1, input2, weight, bias=None):
    return _F.bilinear(input1, input2, weight, bias)


def constant_pad_nd(input, pad, value=0):
    return _F.pad(input, pad, "constant", value)


def selu_(input):
    return _F.selu(input, inplace=True)


def celu_(input, alpha=1.0):
    return _F.celu(input, alpha, inplace=True)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    if generator is not None:
        raise NotImplementedError("rrelu_(): a generator argument is not supported")
    return _F.rrelu(input, lower, upper, training, inplace=True)


def threshold_(input, threshold, value):
    return _F.threshold(input, threshold, value, inplace=True)


__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_max_pool1d",
    "alpha_dropout",
    "alpha_dropout_",
    "avg_pool1d",
    "batch_norm",
    "bilinear",
    "binary_cross_entropy_with_logits",
    "celu",
    "celu_",
    "channel_shuffle",
    "constant_pad_nd",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "cosine_embedding_loss",
    "cosine_similarity",
    "ctc_loss",
    "dropout",
    "dropout_",
    "embedding",
    "feature_alpha_dropout",
    "feature_alpha_dropout_",
    "feature_dropout",
    "feature_dropout_",
    "group_norm",
    "hardshrink",
    "hinge_embedding_loss",
    "instance_norm",
    "kl_div",
    "layer_norm",
    "margin_ranking_loss",
    "max_pool1d",
    "max_pool2d",
    "max_pool3d",
    "pairwise_distance",
    "pdist",
    "pixel_shuffle",
    "pixel_unshuffle",
    "poisson_nll_loss",
    "prelu",
    "rms_norm",
    "rrelu",
    "rrelu_",
    "selu",
    "selu_",
    "threshold",
    "threshold_",
    "triplet_margin_loss",
]
