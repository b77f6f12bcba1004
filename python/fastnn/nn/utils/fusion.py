"""``fastnn.nn.utils.fusion``: a BatchNorm in eval folded into the convolution or linear layer
before it, for inference (torch.nn.utils.fusion).

In eval, BN(y) = (y - mean) * s + beta with s = gamma / sqrt(var + eps), per channel; for
y = W x + b that is (s W) x + ((b - mean) * s + beta). The scale multiplies the weight's output
channels: dim 0 of a convolution's or linear layer's weight, dim 1 of a transposed
convolution's (``transpose=True``). The fused tensors are new leaf Parameters in the weight's
and bias's dtypes; the layers given are not changed.
"""

import copy

from ..._tensor.creation import zeros_like
from ..parameter import Parameter

__all__ = [
    "fuse_conv_bn_eval",
    "fuse_conv_bn_weights",
    "fuse_linear_bn_eval",
    "fuse_linear_bn_weights",
]


class FusionError(ValueError, AssertionError):
    """A layer that cannot be fused: a ValueError, and the AssertionError torch raises."""


def _check_eval(layer, bn):
    if layer.training or bn.training:
        raise FusionError(
            f"Fusion only for eval! ({type(layer).__name__} training={layer.training}, "
            f"{type(bn).__name__} training={bn.training})"
        )
    if bn.running_mean is None or bn.running_var is None:
        raise FusionError(
            f"Fusion needs the running statistics: {type(bn).__name__} was built with "
            "track_running_stats=False"
        )


def _scale(bn_rv, bn_eps, bn_w):
    s = (bn_rv + bn_eps).rsqrt()
    return s if bn_w is None else bn_w * s


def fuse_conv_bn_eval(conv, bn, transpose=False):
    """A copy of ``conv`` computing ``bn(conv(x))`` (both in eval mode)."""
    _check_eval(conv, bn)
    fused = copy.deepcopy(conv)
    fused.weight, fused.bias = fuse_conv_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias,
        transpose,
    )  # fmt: skip
    return fused


def fuse_conv_bn_weights(
    conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, transpose=False
):  # fmt: skip
    """(weight, bias) Parameters of the convolution followed by the eval-mode batch norm; a
    missing conv bias counts as zeros (and the fused bias then does not require grad, as in
    torch), a missing BN weight / bias as ones / zeros."""
    w_dtype = conv_w.dtype
    b_dtype = conv_b.dtype if conv_b is not None else w_dtype
    if conv_b is None:
        conv_b = zeros_like(bn_rm)
    if bn_b is None:
        bn_b = zeros_like(bn_rm)
    s = _scale(bn_rv, bn_eps, bn_w)
    shape = [1, -1] if transpose else [-1, 1]
    shape += [1] * (conv_w.ndim - 2)
    w = (conv_w * s.reshape(shape)).to(dtype=w_dtype)
    b = ((conv_b - bn_rm) * s + bn_b).to(dtype=b_dtype)
    return Parameter(w.detach(), conv_w.requires_grad), Parameter(b.detach(), conv_b.requires_grad)


def fuse_linear_bn_eval(linear, bn):
    """A copy of ``linear`` computing ``bn(linear(x))`` (both in eval mode; the BN over
    ``out_features`` channels, or one channel)."""
    _check_eval(linear, bn)
    if bn.num_features not in (linear.out_features, 1):
        raise FusionError(
            "To fuse, linear.out_features must equal bn.num_features or bn.num_features must "
            f"be 1 (got {linear.out_features} and {bn.num_features})"
        )
    fused = copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias
    )
    return fused


def fuse_linear_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b):
    """(weight, bias) Parameters of the linear layer followed by the eval-mode batch norm."""
    if linear_b is None:
        linear_b = zeros_like(bn_rm)
    s = _scale(bn_rv, bn_eps, bn_w)
    w = linear_w * s.unsqueeze(-1)
    b = (linear_b - bn_rm) * s + (0.0 if bn_b is None else bn_b)
    return Parameter(w.detach(), linear_w.requires_grad), Parameter(
        b.detach(), linear_b.requires_grad
    )
