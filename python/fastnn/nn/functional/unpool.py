"""Max pooling's index forms and its inverse: ``max_pool1d/2d_with_indices``,
``adaptive_max_pool1d`` (and the ``*_with_indices`` forms), ``max_unpool1d`` / ``2d`` / ``3d``.

Unpooling puts each value of ``input`` at its flat position ``indices`` (ih * W_out + iw, as
max_pool2d returns them) in a zero (N, C, H_out, W_out) output: one ``scatter`` along the
flattened plane, whose autograd gives the backward (a gather of the gradient at the same
positions). H_out defaults to (H - 1) * stride - 2 * padding + kernel_size, the size a pooling of
that geometry came from; ``output_size`` picks another within one stride of it (torch's rule).
The 1-D forms run the 2-D ones on the (N, C, L, 1) view, as torch does, so their messages name
the same sizes; the 3-D form scatters the same way into the flat (D, H, W) volume. The indices are read on the host once, to reject an out-of-range one as torch
does instead of writing out of bounds.
"""

import numpy as np

from ..._core import dtype as _dtype
from .adaptive import _sizes, adaptive_max_pool2d
from .conv import max_pool2d
from .conv1d import max_pool1d


def max_pool2d_with_indices(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    """max_pool2d and its int64 flat indices, always both (torch's return_indices is unused)."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool1d_with_indices(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """torch.nn.functional.adaptive_max_pool1d: (N, C, L) or (C, L) -> (..., out); indices
    index L."""
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"adaptive_max_pool1d(): Expected 2D or 3D tensor, but got: {list(input.shape)}"
        )
    (o,) = _sizes(output_size, (input.shape[-1],), "adaptive_max_pool1d")
    r = adaptive_max_pool2d(input.unsqueeze(-2), (1, o), return_indices)
    if not return_indices:
        return r.squeeze(-2)
    return r[0].squeeze(-2), r[1].squeeze(-2)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    return adaptive_max_pool1d(input, output_size, True)


def _tuple(v, k, what):
    t = tuple(v) if isinstance(v, (tuple, list)) else (v,) * k
    if len(t) != k or any(isinstance(a, bool) or not isinstance(a, (int, np.integer)) for a in t):
        raise TypeError(f"max_unpool{k}d: {what} must be an int or a {k}-tuple, got {v!r}")
    return tuple(int(a) for a in t)


def _unpool_size(in_sizes, kernel, stride, padding, output_size):
    k = len(in_sizes)
    default = [(n - 1) * s - 2 * p + kk for n, kk, s, p in zip(in_sizes, kernel, stride, padding)]
    if output_size is None:
        return tuple(default)
    sizes = list(output_size)
    if len(sizes) == k + 2:
        sizes = sizes[2:]
    if len(sizes) != k:
        raise ValueError(
            f"output_size should be a sequence containing {k} or {k + 2} elements, but it has a "
            f"length of '{len(sizes)}'"
        )
    for d in range(k):
        lo, hi = default[d] - stride[d], default[d] + stride[d]
        if not lo < sizes[d] < hi:
            raise ValueError(
                f'invalid output_size "{output_size}" (dim {d} must be between {lo} and {hi})'
            )
    return tuple(int(s) for s in sizes)


def _unpool2d(input, indices, out_hw, fn):
    """The scatter, on a batched (N, C, *spatial) input, into (N, C, *out_hw) (any number of
    spatial dims, flat indices over them)."""
    if indices.dtype != np.int64:
        raise RuntimeError(f"elements in indices should be type int64 but got: {indices.dtype}")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(
            f"Expected shape of indices to be same as that of the input tensor "
            f"({list(input.shape)}) but got indices tensor with shape: {list(indices.shape)}"
        )
    if not _dtype.is_floating(input.dtype):
        raise RuntimeError(f"{fn}: expected a floating-point input, got {input.dtype}")
    n, c = input.shape[:2]
    plane = int(np.prod(out_hw))
    flat = indices.reshape(n, c, -1)
    if flat.numel():
        idx = flat.numpy() if flat.device.type == "cpu" else flat.cpu().numpy()
        bad = (idx < 0) | (idx >= plane)
        if bad.any():
            raise RuntimeError(
                f"Found an invalid max index: {int(idx[bad][0])} (output volumes are of size "
                f"{'x'.join(map(str, out_hw))})"
            )
    out = input.new_zeros((n, c, plane)).scatter(2, flat, input.reshape(n, c, -1))
    return out.reshape(n, c, *out_hw)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool2d: (N, C, H, W) or (C, H, W) values and their flat
    indices -> (..., H_out, W_out), zero where no maximum came from."""
    if input.ndim not in (3, 4):
        raise RuntimeError(
            f"max_unpool2d: Expected 3D or 4D input, but got input of size: {list(input.shape)}"
        )
    kernel = _tuple(kernel_size, 2, "kernel_size")
    stride = kernel if stride is None or stride == [] else _tuple(stride, 2, "stride")
    padding = _tuple(padding, 2, "padding")
    out_hw = _unpool_size(tuple(input.shape[-2:]), kernel, stride, padding, output_size)
    if input.ndim == 3:
        return _unpool2d(input.unsqueeze(0), indices.unsqueeze(0), out_hw, "max_unpool2d")[0]
    return _unpool2d(input, indices, out_hw, "max_unpool2d")


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool1d: (N, C, L) or (C, L) -> (..., L_out)."""
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"max_unpool1d: Expected 2D or 3D input, but got input of size: {list(input.shape)}"
        )
    kernel = _tuple(kernel_size, 1, "kernel_size")
    stride = kernel if stride is None or stride == [] else _tuple(stride, 1, "stride")
    padding = _tuple(padding, 1, "padding")
    (length,) = _unpool_size(tuple(input.shape[-1:]), kernel, stride, padding, output_size)
    x, i = input.unsqueeze(-1), indices.unsqueeze(-1)
    if input.ndim == 2:
        x, i = x.unsqueeze(0), i.unsqueeze(0)
    out = _unpool2d(x, i, (length, 1), "max_unpool1d").squeeze(-1)
    return out[0] if input.ndim == 2 else out


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool3d: (N, C, D, H, W) or (C, D, H, W) values and their flat
    indices (d * H_out * W_out + h * W_out + w) -> (..., D_out, H_out, W_out)."""
    if input.ndim not in (4, 5):
        raise RuntimeError(
            f"max_unpool3d: Expected 4D or 5D input, but got input of size: {list(input.shape)}"
        )
    kernel = _tuple(kernel_size, 3, "kernel_size")
    stride = kernel if stride is None or stride == [] else _tuple(stride, 3, "stride")
    padding = _tuple(padding, 3, "padding")
    out_size = _unpool_size(tuple(input.shape[-3:]), kernel, stride, padding, output_size)
    if input.ndim == 4:
        return _unpool2d(input.unsqueeze(0), indices.unsqueeze(0), out_size, "max_unpool3d")[0]
    return _unpool2d(input, indices, out_size, "max_unpool3d")


__all__ = [
    "adaptive_max_pool1d",
    "adaptive_max_pool1d_with_indices",
    "adaptive_max_pool2d_with_indices",
    "max_pool1d_with_indices",
    "max_pool2d_with_indices",
    "max_unpool1d",
    "max_unpool2d",
    "max_unpool3d",
]
