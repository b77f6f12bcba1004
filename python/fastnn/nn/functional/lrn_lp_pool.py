"""``F.local_response_norm`` and ``F.lp_pool1d`` / ``2d`` / ``3d``, on the existing pooling and
Tensor ops (autograd comes with them).

local_response_norm (AlexNet's LRN): x / (k + alpha * mean of x^2 over a window of ``size``
channels centred on each channel)^beta, the window zero-padded at the channel ends
(size // 2 before, (size - 1) // 2 after) and always divided by ``size``, as torch's.

lp_pool: (sum over the window of x^p)^(1 / p) = (kernel area * avg_pool(x^p))^(1 / p); the
window sum goes through sign(s) * relu(|s|) as in torch, so its gradient is 0 where the sum is 0.
norm_type inf is the max of |x| (max pooling).
"""

import math

from ..._tensor.functions import cat
from .activation import relu
from .conv import avg_pool2d, max_pool2d
from .conv1d import avg_pool1d, max_pool1d
from .pool3d import _triple, avg_pool3d, max_pool3d


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """torch.nn.functional.local_response_norm over dim 1 of an (N, C, *) input."""
    if input.ndim < 3:
        raise ValueError(
            f"Expected 3D or higher dimensionality input (got {input.ndim} dimensions)"
        )
    if input.numel() == 0:
        return input
    n, c = input.shape[:2]
    sq = (input * input).reshape(n, c, -1)
    before, after = size // 2, (size - 1) // 2
    parts = [sq.new_zeros((n, before, sq.shape[2]))] if before else []
    parts.append(sq)
    if after:
        parts.append(sq.new_zeros((n, after, sq.shape[2])))
    padded = cat(parts, 1) if len(parts) > 1 else sq
    total = None
    for i in range(size):
        win = padded.narrow(1, i, c)
        total = win if total is None else total + win
    div = (total * (alpha / size) + k) ** beta
    return input / div.reshape(input.shape)


def _root(out, area, p):
    return ((out.sign() * relu(out.abs())) * area) ** (1.0 / p)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over (N, C, H, W) or (C, H, W) windows."""
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    if norm_type == math.inf:
        return max_pool2d(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -math.inf:
        return -max_pool2d(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    out = avg_pool2d(input**norm_type, kernel_size, stride, 0, ceil_mode)
    return _root(out, kh * kw, norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over (N, C, L) or (C, L) windows."""
    if norm_type == math.inf:
        return max_pool1d(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -math.inf:
        return -max_pool1d(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    out = avg_pool1d(input**norm_type, kernel_size, stride, 0, ceil_mode)
    k = kernel_size[0] if isinstance(kernel_size, (tuple, list)) else kernel_size
    return _root(out, k, norm_type)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over (N, C, D, H, W) or (C, D, H, W) windows."""
    if norm_type == math.inf:
        return max_pool3d(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -math.inf:
        return -max_pool3d(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    kd, kh, kw = _triple(kernel_size, "kernel_size", "lp_pool3d")
    out = avg_pool3d(input**norm_type, kernel_size, stride, 0, ceil_mode)
    return _root(out, kd * kh * kw, norm_type)


__all__ = ["local_response_norm", "lp_pool1d", "lp_pool2d", "lp_pool3d"]
