"""Adaptive pooling: adaptive_avg_pool1d / 2d and adaptive_max_pool2d (torch's windows).

Output cell i of an axis of input size n and output size m covers input positions
[floor(i n / m), ceil((i + 1) n / m)): the windows tile the axis, overlap by at most one position,
and differ in length by at most one when m does not divide n.

Average: the window mean is separable, so out = A_h @ x @ A_w^T with A (m, n) holding
1 / len(window) on each window: two GEMMs through the Tensor matmul (its autograd gives the
backward; global pooling, the common (1, 1) case, is a plain mean). Max: when the windows are an
exact tiling (m divides n) it is max_pool2d with kernel = stride = n / m (the C++ kernel);
otherwise a per-window argmax over the (N, C) planes on host arrays, with the gradient
scatter-added to the argmax positions.
"""

import numpy as np

from ..._core import dtype as _dtype
from ..._tensor.creation import tensor as _tensor
from ...autograd.function import Function
from .conv import max_pool2d


def _windows(n, m):
    return [(i * n // m, -(-(i + 1) * n // m)) for i in range(m)]


def _sizes(output_size, in_sizes, fn):
    """output_size (int, or a tuple with ints or None = the input's size) as ints."""
    k = len(in_sizes)
    t = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,) * k
    if len(t) != k:
        raise ValueError(f"{fn}: output_size must be an int or a {k}-tuple, got {output_size!r}")
    out = []
    for v, n in zip(t, in_sizes):
        if v is None:
            out.append(n)
            continue
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"{fn}: output_size must be non-negative ints, got {output_size!r}")
        if v < 0:
            raise RuntimeError(
                f"{fn}: elements of output_size must be greater than or equal to 0 but received "
                f"{output_size!r}"
            )
        out.append(int(v))
    return tuple(out)


def _check_input(input, dims, fn):
    if input.ndim not in (dims + 1, dims + 2):
        raise ValueError(
            f"{fn}: expected {dims + 1}D or {dims + 2}D input, got shape {tuple(input.shape)}"
        )
    if not _dtype.is_floating(input.dtype):
        raise RuntimeError(f"{fn}: expected a floating-point input, got {input.dtype}")
    if any(n == 0 for n in input.shape[-dims:]):
        raise ValueError(
            f"{fn}: the spatial sizes of the input must be non-zero, got {tuple(input.shape)}"
        )


def _averaging(n, m, like):
    a = np.zeros((m, n))
    for i, (s, e) in enumerate(_windows(n, m)):
        a[i, s:e] = 1.0 / (e - s)
    return _tensor(a, dtype=like.dtype, device=like.device)


def adaptive_avg_pool2d(input, output_size):
    """torch.nn.functional.adaptive_avg_pool2d: (N, C, H, W) or (C, H, W) -> (..., oh, ow)."""
    _check_input(input, 2, "adaptive_avg_pool2d")
    h, w = input.shape[-2:]
    oh, ow = _sizes(output_size, (h, w), "adaptive_avg_pool2d")
    if (oh, ow) == (1, 1):
        return input.mean(dim=(-2, -1), keepdim=True)
    x = input
    if ow != w:
        x = x @ _averaging(w, ow, input).transpose(0, 1)
    if oh != h:
        x = _averaging(h, oh, input) @ x
    return x if x is not input else input * 1


def adaptive_avg_pool1d(input, output_size):
    """torch.nn.functional.adaptive_avg_pool1d: (N, C, L) or (C, L) -> (..., out)."""
    if input.ndim not in (2, 3):
        raise ValueError(
            f"adaptive_avg_pool1d: expected 2D or 3D input, got shape {tuple(input.shape)}"
        )
    (o,) = _sizes(output_size, (input.shape[-1],), "adaptive_avg_pool1d")
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, o)).squeeze(-2)


class AdaptiveMaxPool2d(Function):
    """Window max of (N, C, H, W) for windows that need not tile evenly; see the module note."""

    def forward(self, x, *, out_hw, indices_out):
        be = self.be
        a = be.to_numpy(x)
        n, c, h, w = a.shape
        oh, ow = out_hw
        planes = a.reshape(n * c, h, w)
        out = np.empty((n * c, oh, ow), a.dtype)
        idx = np.empty((n * c, oh, ow), np.int64)
        for i, (h0, h1) in enumerate(_windows(h, oh)):
            for j, (w0, w1) in enumerate(_windows(w, ow)):
                win = planes[:, h0:h1, w0:w1].reshape(n * c, -1)
                k = np.argmax(win, axis=1)  # the first NaN wins, as in torch
                out[:, i, j] = win[np.arange(n * c), k]
                idx[:, i, j] = (h0 + k // (w1 - w0)) * w + w0 + k % (w1 - w0)
        idx = idx.reshape(n, c, oh, ow)
        indices_out.append(be.from_numpy(idx))
        if self.requires_grad:
            self.idx, self.shape = idx, a.shape
        return be.from_numpy(out.reshape(n, c, oh, ow))

    def backward(self, g):
        be = self.be
        n, c, h, w = self.shape
        gn = be.to_numpy(g).reshape(n * c, -1)
        dx = np.zeros((n * c, h * w), gn.dtype)
        rows = np.broadcast_to(np.arange(n * c)[:, None], gn.shape)
        np.add.at(dx, (rows, self.idx.reshape(n * c, -1)), gn)
        return be.from_numpy(dx.reshape(self.shape))

    def graph_forward(self, x):
        """For create_graph=True: the window maxima as a gather of x at the argmax positions
        (flat per plane), which autograd differentiates to any order."""
        n, c = x.shape[:2]
        flat = x._make(self.be.from_numpy(self.idx.reshape(n, c, -1)))
        return x.reshape(n, c, -1).gather(2, flat).reshape(self.idx.shape)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """torch.nn.functional.adaptive_max_pool2d; indices are flat h*W + w within each plane."""
    _check_input(input, 2, "adaptive_max_pool2d")
    h, w = input.shape[-2:]
    oh, ow = _sizes(output_size, (h, w), "adaptive_max_pool2d")
    if oh and ow and h % oh == 0 and w % ow == 0:
        k = (h // oh, w // ow)
        return max_pool2d(input, k, k, return_indices=return_indices)
    unbatched = input.ndim == 3
    x = input.unsqueeze(0) if unbatched else input
    keep = []
    out = AdaptiveMaxPool2d.apply(x, out_hw=(oh, ow), indices_out=keep)
    idx = out._make(keep[0])
    if unbatched:
        out, idx = out.squeeze(0), idx.squeeze(0)
    return (out, idx) if return_indices else out


__all__ = ["adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool2d"]
