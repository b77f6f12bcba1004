"""The rest of torch's element-wise activations and shape layers, as compositions of Tensor ops
(autograd comes with them): hardswish, hardsigmoid, softsign, tanhshrink, softshrink, hardshrink,
threshold, celu, glu, softmin, rms_norm, pixel_shuffle / pixel_unshuffle, channel_shuffle.
torch's definitions, and its gradients at the kinks: hardswish and hardsigmoid go through hardtanh,
whose gradient is 0 at its bounds as torch's is there, celu through elu.
"""

import numpy as np

from .activation import _maybe_inplace, elu, hardtanh, relu


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6."""
    return _maybe_inplace(input, lambda x: x * hardtanh(x + 3.0, 0.0, 6.0) / 6.0, inplace)


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6."""
    return _maybe_inplace(input, lambda x: hardtanh(x + 3.0, 0.0, 6.0) / 6.0, inplace)


def softsign(input):
    """x / (1 + |x|)."""
    return input / (input.abs() + 1.0)


def tanhshrink(input):
    """x - tanh(x)."""
    return input - input.tanh()


def softshrink(input, lambd=0.5):
    """x - lambd above lambd, x + lambd below -lambd, 0 between."""
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return relu(input - lambd) - relu(-input - lambd)


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0 (NaN stays NaN)."""
    return input.masked_fill(input.abs() <= lambd, 0.0)


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else value (NaN stays NaN)."""
    return _maybe_inplace(input, lambda x: x.masked_fill(x <= threshold, value), inplace)


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1)) = alpha * elu(x / alpha)."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return _maybe_inplace(input, lambda x: elu(x / alpha) * alpha, inplace)


def glu(input, dim=-1):
    """a * sigmoid(b), with a and b the two halves of ``input`` along ``dim``."""
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    n = input.shape[dim]
    if n % 2:
        raise RuntimeError(
            f"Halving dimension must be even, but dimension {dim % input.ndim} is size {n}"
        )
    a, b = input.split(n // 2, dim)
    return a * b.sigmoid()


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along ``dim``."""
    from .activation import softmax

    return softmax(-input, dim, _stacklevel + 1, dtype)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2 over the trailing normalized_shape dims) + eps) * weight; eps defaults
    to the machine epsilon of x's dtype, as torch's."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(input.shape[input.ndim - len(shape) :]) != shape:
        raise RuntimeError(
            f"Given normalized_shape={list(shape)}, expected input with shape [*, "
            f"{', '.join(str(s) for s in shape)}], but got input of size{list(input.shape)}"
        )
    if eps is None:
        eps = float(np.finfo(input.dtype).eps)
    dims = tuple(range(input.ndim - len(shape), input.ndim))
    out = input * ((input * input).mean(dims, keepdim=True) + eps).rsqrt()
    return out if weight is None else out * weight


def pixel_shuffle(input, upscale_factor):
    """(*, C * r^2, H, W) -> (*, C, H * r, W * r)."""
    r = int(upscale_factor)
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(
            "pixel_shuffle expects its input's 'channel' dimension to be divisible by the square "
            f"of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}"
        )
    x = input.reshape(*lead, c // (r * r), r, r, h, w)
    n = len(lead)
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return x.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H * r, W * r) -> (*, C * r^2, H, W)."""
    r = int(downscale_factor)
    *lead, c, h, w = input.shape
    if h % r or w % r:
        raise RuntimeError(
            "pixel_unshuffle expects height and width to be divisible by downscale_factor, but "
            f"input.size(-2)={h} and input.size(-1)={w} are not divisible by {r}"
        )
    x = input.reshape(*lead, c, h // r, r, w // r, r)
    n = len(lead)
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return x.reshape(*lead, c * r * r, h // r, w // r)


def channel_shuffle(input, groups):
    """(N, C, *) -> (N, C, *) with the channels regrouped: (groups, C / groups) read
    column-wise (ShuffleNet's mixing of grouped convolutions' outputs)."""
    if input.ndim <= 2:
        raise RuntimeError(
            "channel_shuffle expects input with > 2 dims, but got input with sizes "
            f"{list(input.shape)}"
        )
    if groups <= 0:
        raise RuntimeError(
            f"Number of groups to divide channels in must be positive. Value of groups:{groups}"
        )
    n, c, *rest = input.shape
    if c % groups:
        raise RuntimeError(
            f"Number of channels must be divisible by groups. Got {c} channels and {groups} groups."
        )
    x = input.reshape(n, groups, c // groups, *rest).transpose(1, 2)
    return x.reshape(n, c, *rest)


__all__ = [
    "celu",
    "channel_shuffle",
    "glu",
    "hardshrink",
    "hardsigmoid",
    "hardswish",
    "pixel_shuffle",
    "pixel_unshuffle",
    "rms_norm",
    "softmin",
    "softshrink",
    "softsign",
    "tanhshrink",
    "threshold",
]
