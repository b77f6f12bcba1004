"""``F.pad`` (constant, reflect, replicate, circular) and ``F.interpolate`` (nearest), built on
index gathers along one axis at a time, so their gradients come from index_select / cat.

pad: ``pad`` lists (left, right) pairs from the last dimension backwards, as in torch; negative
amounts crop. reflect mirrors without repeating the edge (needs pad < size), replicate repeats
the edge, circular wraps around. interpolate(mode='nearest'): output position i reads input
floor(i * scale) with scale = in / out, or 1 / scale_factor when a scale_factor is given (torch's
rule unless recompute_scale_factor=True).
"""

import math

import numpy as np

from ..._tensor.creation import full
from ..._tensor.creation import tensor as _tensor
from ..._tensor.functions import cat
from ...autograd.function import printed_as


def _index(x, dim, idx):
    return x.index_select(dim, _tensor(np.asarray(idx, np.int64), device=x.device))


def _pad_dim(x, dim, left, right, mode, value):
    n = x.shape[dim]
    if left < 0:
        x, n, left = x.narrow(dim, -left, n + left), n + left, 0
    if right < 0:
        x, n, right = x.narrow(dim, 0, n + right), n + right, 0
    if left == right == 0:
        return x
    if mode == "constant":
        parts = []
        for k in (left, right):
            shape = list(x.shape)
            shape[dim] = k
            parts.append(full(tuple(shape), value, dtype=x.dtype, device=x.device))
        return cat([parts[0], x, parts[1]], dim)
    if mode == "reflect":
        if left >= n or right >= n:
            raise RuntimeError(
                f"pad: padding size should be less than the corresponding input dimension, but "
                f"got: padding ({left}, {right}) at dimension {dim} of input {tuple(x.shape)}"
            )
        idx = list(range(left, 0, -1)) + list(range(n)) + list(range(n - 2, n - 2 - right, -1))
    elif mode == "replicate":
        idx = [0] * left + list(range(n)) + [n - 1] * right
    else:  # circular
        if left > n or right > n:
            raise RuntimeError(
                f"pad: padding value ({left}, {right}) is larger than the input dimension "
                f"{n} at dimension {dim} for circular padding"
            )
        idx = [(i - left) % n for i in range(n + left + right)]
    return _index(x, dim, idx)


def pad(input, pad, mode="constant", value=None):
    """torch.nn.functional.pad."""
    if not isinstance(pad, (tuple, list)) or len(pad) % 2:
        raise RuntimeError(f"pad: padding length must be divisible by 2, got {pad!r}")
    if any(isinstance(p, bool) or not isinstance(p, (int, np.integer)) for p in pad):
        raise TypeError(f"pad: the padding amounts must be ints, got {pad!r}")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError(
            f"pad: padding length ({len(pad)}) is too large for an input of {input.ndim} dims"
        )
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(
            f"pad: mode {mode!r} is not supported (constant, reflect, replicate, circular)"
        )
    if mode != "constant" and value not in (None, 0, 0.0):
        raise RuntimeError(f"pad: padding mode {mode!r} doesn't take in value argument")
    value = 0.0 if value is None else value
    x = input
    for k in range(len(pad) // 2):
        x = _pad_dim(x, input.ndim - 1 - k, int(pad[2 * k]), int(pad[2 * k + 1]), mode, value)
    x = x * 1 if x is input else x
    return printed_as(x, "ConstantPadNd") if mode == "constant" else x


def interpolate(
    input,
    size=None,
    scale_factor=None,
    mode="nearest",
    align_corners=None,
    recompute_scale_factor=None,
    antialias=False,
):
    """torch.nn.functional.interpolate over the 1-3 trailing spatial dims: mode 'nearest', the
    linear modes ('linear' for 3-D input, 'bilinear' 4-D, 'trilinear' 5-D; align_corners) or
    'area' (adaptive average pooling)."""
    linear = _LINEAR_DIMS.get(mode)
    if mode not in ("nearest", "area") and linear is None:
        raise NotImplementedError(
            f"interpolate: mode {mode!r} is not supported (nearest, linear, bilinear, trilinear, "
            "area)"
        )
    if linear is None and align_corners is not None:
        raise ValueError(
            "align_corners option can only be set with the interpolating modes: linear | "
            "bilinear | bicubic | trilinear"
        )
    if linear is not None and input.ndim != linear + 2:
        raise NotImplementedError(
            f"Got {input.ndim}D input, but {mode} mode needs {linear + 2}D input"
        )
    dims = input.ndim - 2
    if dims < 1 or dims > 3:
        raise ValueError(
            f"interpolate: expected a 3-D, 4-D or 5-D input (N, C, spatial...), got "
            f"{tuple(input.shape)}"
        )
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined")
    in_sizes = tuple(input.shape[2:])

    def per_dim(v, what):
        t = tuple(v) if isinstance(v, (tuple, list)) else (v,) * dims
        if len(t) != dims:
            raise ValueError(
                f"interpolate: {what} shape must match input shape. Input is {dims}D, {what} "
                f"is {len(t)}"
            )
        return t

    if size is not None:
        out_sizes = tuple(int(s) for s in per_dim(size, "size"))
        scales = [n / o if o else 0.0 for n, o in zip(in_sizes, out_sizes)]
    else:
        factors = [float(f) for f in per_dim(scale_factor, "scale_factor")]
        if any(f <= 0 for f in factors):
            raise ValueError(f"interpolate: scale_factor must be positive, got {scale_factor!r}")
        out_sizes = tuple(math.floor(n * f) for n, f in zip(in_sizes, factors))
        if recompute_scale_factor:
            scales = [n / o if o else 0.0 for n, o in zip(in_sizes, out_sizes)]
        else:
            scales = [1.0 / f for f in factors]
    if mode == "area":
        from .adaptive import adaptive_avg_pool1d, adaptive_avg_pool2d

        if dims == 3:
            raise NotImplementedError("interpolate: mode 'area' on 5-D input is not supported")
        pool = adaptive_avg_pool1d if dims == 1 else adaptive_avg_pool2d
        return pool(input, out_sizes if dims == 2 else out_sizes[0])
    x = input
    for k, (n, o, s) in enumerate(zip(in_sizes, out_sizes, scales)):
        if linear is not None:
            x = _linear_dim(x, 2 + k, n, o, s, bool(align_corners), size is not None)
            continue
        if o == n and s == 1.0:
            continue
        # float32 arithmetic, as torch's nearest kernel computes the source index
        src = np.minimum(np.floor(np.arange(o, dtype=np.float32) * np.float32(s)), n - 1)
        x = _index(x, 2 + k, src.astype(np.int64))
    return x if x is not input else input * 1


_LINEAR_DIMS = {"linear": 1, "bilinear": 2, "trilinear": 3}


def _linear_dim(x, dim, n, o, scale, align_corners, from_size):
    """Linear interpolation of ``x`` along ``dim`` from n to o points, torch's source positions:
    dst * (n - 1) / (o - 1) with align_corners, else (dst + 0.5) * scale - 0.5 clamped at 0
    (scale = 1 / scale_factor, or n / o from a size), in x's precision as torch's kernels."""
    f32 = np.float64 if x.dtype == np.float64 else np.float32
    dst = np.arange(o, dtype=f32)
    if align_corners:
        step = f32((n - 1) / (o - 1)) if o > 1 else f32(0)
        src = dst * step
    else:
        step = f32(n / o) if from_size else f32(scale)
        src = np.maximum((dst + f32(0.5)) * step - f32(0.5), f32(0))
    lo = np.minimum(src.astype(np.int64), n - 1)
    hi = np.minimum(lo + 1, n - 1)
    lam = (src - lo.astype(f32)).astype(np.float64)
    shape = [1] * x.ndim
    shape[dim] = o
    w1 = _tensor(lam.reshape(shape), dtype=x.dtype, device=x.device)
    w0 = _tensor((1.0 - lam).reshape(shape), dtype=x.dtype, device=x.device)
    return _index(x, dim, lo) * w0 + _index(x, dim, hi) * w1


__all__ = ["interpolate", "pad"]
