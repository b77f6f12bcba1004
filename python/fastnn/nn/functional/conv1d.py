"""1-D convolution and pooling over (N, C, L): the 2-D kernels on the (N, C, 1, L) view.

A 1-D window op is the 2-D one with a 1 x k window on a height-1 image, so conv1d, max_pool1d and
avg_pool1d add no kernel of their own: they reshape (a view, no copy), call the conv2d / pooling
ops with (1, k) geometry and squeeze the height back out. max_pool1d's indices come out right
as they are: the 2-D flat index ih*W + iw is iw when H = 1, the position along L.
"""

import numpy as np

from ..._core import autocast as _autocast
from ..._core import dtype as _dtype
from ..._tensor.creation import zeros
from ..._tensor.functions import cat
from .conv import _batched, avg_pool2d, conv2d, max_pool2d


def _single(v, what, fn):
    """An int or a 1-sequence of one int (torch's _single), as an int."""
    if isinstance(v, (tuple, list)):
        if len(v) != 1:
            raise ValueError(f"{fn}: {what} must be an int or a 1-tuple, got {v!r}")
        v = v[0]
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{fn}: {what} must be an int or a 1-tuple, got {v!r}")
    return int(v)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """torch.nn.functional.conv1d: input (N, C_in, L) or (C_in, L), weight (C_out, C_in / groups,
    k), bias (C_out,); padding an int, 'valid' or 'same' (stride 1; an odd total padding puts the
    extra zero on the right, as torch does)."""
    if _autocast.flag.on:
        input, weight, bias = _autocast.lower(input, weight, bias)
    if weight.ndim != 3:
        raise RuntimeError(
            f"conv1d: weight must be 3-D (C_out, C_in, k), got size {list(weight.shape)}"
        )
    if not _dtype.is_floating(input.dtype):
        raise RuntimeError(
            f"conv1d: expected a floating-point tensor, got dtype {_dtype.name(input.dtype)}"
        )
    x, unbatched = _batched(input, "conv1d", 1)
    s = _single(stride, "stride", "conv1d")
    d = _single(dilation, "dilation", "conv1d")
    if s < 1 or d < 1:
        raise ValueError(f"conv1d: stride and dilation must be >= 1, got {stride!r}, {dilation!r}")
    if isinstance(padding, str):
        if padding == "valid":
            p = 0
        elif padding == "same":
            if s != 1:
                raise ValueError("padding='same' is not supported for strided convolutions")
            total = d * (weight.shape[2] - 1)
            p = total // 2
            if total % 2:  # the odd zero goes on the right
                pad = zeros(x.shape[0], x.shape[1], 1, dtype=x.dtype, device=x.device)
                x = cat([x, pad], 2)
        else:
            raise ValueError(
                f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}"
            )
    else:
        p = _single(padding, "padding", "conv1d")
        if p < 0:
            raise ValueError(f"conv1d: padding must be >= 0, got {padding!r}")
    out = conv2d(x.unsqueeze(2), weight.unsqueeze(2), bias, (1, s), (0, p), (1, d), groups)
    out = out.squeeze(2)
    return out.squeeze(0) if unbatched else out


def _pool_args(kernel_size, stride, padding, fn):
    k = _single(kernel_size, "kernel_size", fn)
    s = k if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) else None
    s = _single(stride, "stride", fn) if s is None else s
    p = _single(padding, "padding", fn)
    if k < 1 or s < 1 or p < 0:  # RuntimeErrors, as torch's checks of the window are
        raise RuntimeError(
            f"{fn}: kernel_size and stride must be >= 1 and padding >= 0, got kernel_size="
            f"{kernel_size!r}, stride={stride!r}, padding={padding!r}"
        )
    if 2 * p > k:
        raise RuntimeError(
            f"{fn}: pad should be at most half of effective kernel size, but got pad={p}, "
            f"kernel_size={k}"
        )
    return k, s, p


def max_pool1d(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    """torch.nn.functional.max_pool1d over (N, C, L) or (C, L); indices index L."""
    k, s, p = _pool_args(kernel_size, stride, padding, "max_pool1d")
    d = _single(dilation, "dilation", "max_pool1d")
    x, unbatched = _batched(input, "max_pool1d", 1)
    r = max_pool2d(x.unsqueeze(2), (1, k), (1, s), (0, p), (1, d), ceil_mode, return_indices)
    out, idx = r if return_indices else (r, None)
    out = out.squeeze(2)
    out = out.squeeze(0) if unbatched else out
    if not return_indices:
        return out
    idx = idx.squeeze(2)
    return out, idx.squeeze(0) if unbatched else idx


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """torch.nn.functional.avg_pool1d over (N, C, L) or (C, L)."""
    k, s, p = _pool_args(kernel_size, stride, padding, "avg_pool1d")
    x, unbatched = _batched(input, "avg_pool1d", 1)
    out = avg_pool2d(x.unsqueeze(2), (1, k), (1, s), (0, p), ceil_mode, count_include_pad).squeeze(
        2
    )
    return out.squeeze(0) if unbatched else out


__all__ = ["avg_pool1d", "conv1d", "max_pool1d"]
