"""3-D pooling over (N, C, D, H, W) or (C, D, H, W): ``max_pool3d``, ``avg_pool3d``,
``adaptive_avg_pool3d`` and ``adaptive_max_pool3d``, each as two passes of the existing kernels,
no kernel of its own.

A box window is separable: its max (or sum) is the max (or sum) over depth of the maxima (sums)
of the (h, w) windows. So the (h, w) pass is the 2-D op on the (N, C * D, H, W) view, and the
depth pass the 1-D op on the depth axis moved last. Both passes pick the first maximum of their
window, so the element that gets a max window's gradient is the first maximum in (d, h, w)
order, the one torch's 3-D kernel picks. For averages the divisors multiply too
(count_include_pad=False counts valid depths times valid (h, w) cells). The indices of the max
pools (flat d * H * W + h * W + w, torch's) are the depth pass's chosen depth joined with the
(h, w) pass's index at that depth.
"""

from .adaptive import (
    _check_input,
    _sizes,
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
)
from .conv import _batched, _check_float, avg_pool2d, max_pool2d
from .conv1d import avg_pool1d, max_pool1d
from .unpool import adaptive_max_pool1d


def _triple(v, what, fn):
    t = tuple(v) if isinstance(v, (tuple, list)) else (v, v, v)
    if len(t) == 1:
        t = t * 3
    if len(t) != 3:
        raise ValueError(f"{fn}: {what} must be an int or a 3-tuple, got {v!r}")
    return tuple(int(a) for a in t)


def _depth_pass(y, n, c, d, fn1d):
    """fn1d over the depth axis of y (N * C, D, H', W') -> (N, C, D', H', W')."""
    h, w = y.shape[-2:]
    t = y.reshape(n * c, d, h * w).transpose(1, 2)  # (N * C, H' * W', D): depth last
    t = fn1d(t)
    return t.transpose(1, 2).reshape(n, c, t.shape[-1], h, w)


def _depth_pass_indices(y, hw_idx, n, c, d, plane, fn1d):
    """The max depth pass with indices: y (N, C * D, H', W') and its (h, w) flat indices ->
    (N, C, D', H', W') and the volume's flat indices, the depth picked joined with the (h, w)
    index at that depth."""
    oh, ow = y.shape[-2:]
    t = y.reshape(n * c, d, oh * ow).transpose(1, 2)  # depth last
    z, depth = fn1d(t)  # (N * C, oh * ow, D')
    od = z.shape[-1]
    out = z.transpose(1, 2).reshape(n, c, od, oh, ow)
    depth = depth.transpose(1, 2)  # (N * C, D', oh * ow)
    picked = hw_idx.reshape(n * c, d, oh * ow).gather(1, depth)
    return out, (depth * plane + picked).reshape(n, c, od, oh, ow)


def max_pool3d(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    """torch.nn.functional.max_pool3d; with ``return_indices`` also the int64 flat indices
    d * H * W + h * W + w of the maxima."""
    _check_float("max_pool3d", input)
    x, unbatched = _batched(input, "max_pool3d", 3)
    k = _triple(kernel_size, "kernel_size", "max_pool3d")
    s = k if stride is None or stride == [] else _triple(stride, "stride", "max_pool3d")
    p, dl = _triple(padding, "padding", "max_pool3d"), _triple(dilation, "dilation", "max_pool3d")
    n, c, d, h, w = x.shape
    if return_indices:
        y, hw_idx = max_pool2d(x.reshape(n, c * d, h, w), k[1:], s[1:], p[1:], dl[1:], ceil_mode, True)  # fmt: skip
        out, idx = _depth_pass_indices(
            y, hw_idx, n, c, d, h * w,
            lambda t: max_pool1d(t, k[0], s[0], p[0], dl[0], ceil_mode, True),
        )  # fmt: skip
        return (out.squeeze(0), idx.squeeze(0)) if unbatched else (out, idx)
    y = max_pool2d(x.reshape(n, c * d, h, w), k[1:], s[1:], p[1:], dl[1:], ceil_mode)
    out = _depth_pass(y, n, c, d, lambda t: max_pool1d(t, k[0], s[0], p[0], dl[0], ceil_mode))
    return out.squeeze(0) if unbatched else out


def max_pool3d_with_indices(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    """max_pool3d and its flat indices, always both (torch's return_indices is unused)."""
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def avg_pool3d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
):
    """torch.nn.functional.avg_pool3d."""
    _check_float("avg_pool3d", input)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("avg_pool3d: divisor must be not zero")
    x, unbatched = _batched(input, "avg_pool3d", 3)
    k = _triple(kernel_size, "kernel_size", "avg_pool3d")
    s = k if stride is None or stride == [] else _triple(stride, "stride", "avg_pool3d")
    p = _triple(padding, "padding", "avg_pool3d")
    n, c, d, h, w = x.shape
    include = bool(count_include_pad) or divisor_override is not None
    y = avg_pool2d(x.reshape(n, c * d, h, w), k[1:], s[1:], p[1:], ceil_mode, include)
    out = _depth_pass(y, n, c, d, lambda t: avg_pool1d(t, k[0], s[0], p[0], ceil_mode, include))
    if divisor_override is not None:
        out = out * (k[0] * k[1] * k[2] / divisor_override)
    return out.squeeze(0) if unbatched else out


def adaptive_avg_pool3d(input, output_size):
    """torch.nn.functional.adaptive_avg_pool3d: (N, C, D, H, W) or (C, D, H, W) ->
    (..., od, oh, ow); None entries of output_size keep the input's size."""
    x, unbatched = _batched(input, "adaptive_avg_pool3d", 3)
    n, c, d, h, w = x.shape
    od, oh, ow = _sizes(output_size, (d, h, w), "adaptive_avg_pool3d")
    y = adaptive_avg_pool2d(x.reshape(n, c * d, h, w), (oh, ow))
    out = _depth_pass(y, n, c, d, lambda t: adaptive_avg_pool1d(t, od))
    return out.squeeze(0) if unbatched else out


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """torch.nn.functional.adaptive_max_pool3d: (N, C, D, H, W) or (C, D, H, W) ->
    (..., od, oh, ow), with the int64 flat indices d * H * W + h * W + w when asked."""
    _check_input(input, 3, "adaptive_max_pool3d")
    x, unbatched = _batched(input, "adaptive_max_pool3d", 3)
    n, c, d, h, w = x.shape
    od, oh, ow = _sizes(output_size, (d, h, w), "adaptive_max_pool3d")
    y, hw_idx = adaptive_max_pool2d(x.reshape(n, c * d, h, w), (oh, ow), True)
    out, idx = _depth_pass_indices(
        y, hw_idx, n, c, d, h * w, lambda t: adaptive_max_pool1d(t, od, True)
    )
    if not return_indices:
        return out.squeeze(0) if unbatched else out
    if unbatched:
        out, idx = out.squeeze(0), idx.squeeze(0)
    return out, idx


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    return adaptive_max_pool3d(input, output_size, True)


__all__ = [
    "adaptive_avg_pool3d",
    "adaptive_max_pool3d",
    "adaptive_max_pool3d_with_indices",
    "avg_pool3d",
    "max_pool3d",
    "max_pool3d_with_indices",
]
