"""``F.affine_grid`` and ``F.grid_sample``: the sampling half of a spatial transformer.

affine_grid(theta (N, 2, 3), size (N, C, H, W)) gives the (N, H, W, 2) grid of source points
theta @ (x, y, 1) over the target pixels' normalised coordinates in [-1, 1] (pixel centres
unless align_corners=True, which puts -1 and 1 on the corner pixels' centres); 5-D sizes with
(N, 3, 4) thetas give (N, D, H, W, 3).

grid_sample(input (N, C, H, W), grid (N, Ho, Wo, 2)) reads input at each grid point (x then y,
normalised as above). Points become pixel coordinates, then ``padding_mode`` decides what lies
outside: 'zeros' reads 0 there, 'border' clamps the coordinate into the image, 'reflection'
mirrors it at the border (at the corner pixels' centres with align_corners=True, at the image
edges otherwise) and clamps what is left. 'bilinear' mixes the four neighbours by area,
'nearest' takes the nearest pixel (ties to even, as torch's nearbyint).

All of it is Tensor ops (a gather per neighbour, multiplies and adds), so autograd gives the
gradients for input (a scatter-add) and grid (through the weights and the coordinate maps).
Clamping and mirroring pass torch's gradients: 0 on and beyond a clamped bound, the sign of the
mirror otherwise. Rounding and the corner indices carry none, so 'nearest' has a zero grid
gradient, as in torch.
"""

import warnings

import numpy as np

from ..._core import dtype as _dtype
from ..._tensor.creation import tensor as _tensor
from ..._tensor.functions import where

_DEFAULT_ALIGN = (
    "Default grid_sample and affine_grid behavior has changed to align_corners=False since "
    "1.3.0. Please specify align_corners=True if the old behavior is desired. See the "
    "documentation of grid_sample for details."
)


def _align(align_corners):
    if align_corners is None:
        warnings.warn(_DEFAULT_ALIGN, UserWarning, stacklevel=3)
        return False
    return bool(align_corners)


def _steps(n, align_corners):
    """The normalised coordinates of n pixels along one axis."""
    if n <= 1:
        return np.zeros(1)
    r = np.linspace(-1.0, 1.0, n)
    return r if align_corners else r * (n - 1) / n


def affine_grid(theta, size, align_corners=None):
    """torch.nn.functional.affine_grid: (N, 2, 3) thetas and a 4-D size -> (N, H, W, 2);
    (N, 3, 4) and a 5-D size -> (N, D, H, W, 3)."""
    align_corners = _align(align_corners)
    if not _dtype.is_floating(theta.dtype):
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = tuple(int(s) for s in size)
    if len(size) not in (4, 5):
        raise NotImplementedError(
            "affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
            f"respectively. Got size {size}."
        )
    k = len(size) - 2
    if theta.ndim != 3 or tuple(theta.shape[-2:]) != (k, k + 1):
        raise ValueError(
            f"Expected a batch of {k}D affine matrices of shape Nx{k}x{k + 1} for size {size}. "
            f"Got {theta.shape}."
        )
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    if theta.shape[0] != size[0]:
        raise RuntimeError(
            f"affine_grid: theta holds {theta.shape[0]} matrices but size {size} asks for a "
            f"batch of {size[0]}"
        )
    if align_corners and min(size[2:]) == 1:
        warnings.warn(
            "Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
            "align_corners=True. This is not an intended use case of affine_grid. See the "
            "documentation of affine_grid for details.",
            UserWarning,
            stacklevel=2,
        )
    spatial = size[2:]
    axes = np.meshgrid(*[_steps(n, align_corners) for n in spatial], indexing="ij")
    # the last coordinate is x (the fastest axis), then y, then z; then the constant 1
    base = np.stack([*axes[::-1], np.ones(spatial)], axis=-1).reshape(-1, k + 1)
    base = _tensor(base, dtype=theta.dtype, device=theta.device)
    grid = base.unsqueeze(0) @ theta.transpose(1, 2)
    return grid.reshape(size[0], *spatial, k)


def _inside(x, m):
    """x clamped to [0, m], with gradient 1 strictly inside and 0 elsewhere (torch's clip)."""
    return where((x > 0) & (x < m), x, x.detach().clamp(0, m))


def _reflect(x, twice_low, twice_high):
    """Mirror x into [twice_low / 2, twice_high / 2] (torch's reflect_coordinates)."""
    if twice_low == twice_high:
        return x * 0
    low, span = twice_low / 2.0, (twice_high - twice_low) / 2.0
    d = x - low
    sign = where(d.detach() < 0, -1.0, 1.0)
    d = d * sign
    extra = d.fmod(span)
    even = (d.detach() / span).floor().fmod(2) == 0
    return where(even, extra + low, span - extra + low)


def _source(g, n, padding_mode, align_corners):
    """Normalised coordinates along an axis of size n -> pixel coordinates after padding."""
    x = (g + 1) * ((n - 1) / 2.0) if align_corners else ((g + 1) * n - 1) / 2.0
    if padding_mode == "border":
        return _inside(x, n - 1)
    if padding_mode == "reflection":
        x = _reflect(x, 0, 2 * (n - 1)) if align_corners else _reflect(x, -1, 2 * n - 1)
        return _inside(x, n - 1)
    return x


def _read(flat, xi, yi, h, w):
    """input[..., yi, xi] per grid point, 0 where (yi, xi) lies outside: (N, C, P) values and
    their (N, 1, P) validity as floats."""
    n, c, _ = flat.shape
    valid = ((xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)).reshape(n, 1, -1)
    lin = (yi.clamp(0, h - 1) * w + xi.clamp(0, w - 1)).reshape(n, 1, -1)
    vals = flat.gather(2, lin.expand(n, c, lin.shape[2]))
    return vals, valid.to(flat.dtype)


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """torch.nn.functional.grid_sample for 4-D input: (N, C, H, W) sampled at (N, Ho, Wo, 2)
    -> (N, C, Ho, Wo); mode 'bilinear' or 'nearest'; padding 'zeros', 'border' or
    'reflection'."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(
            "nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or "
            f"'bicubic', but got: '{mode}'"
        )
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(
            "nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
            f"'reflection', but got: '{padding_mode}'"
        )
    align_corners = _align(align_corners)
    if mode == "bicubic":
        raise NotImplementedError("grid_sample: mode='bicubic' is not supported by fastnn")
    if input.ndim != grid.ndim or input.ndim not in (4, 5) or input.shape[0] != grid.shape[0]:
        raise RuntimeError(
            "grid_sampler(): expected grid and input to have same batch size, but got input "
            f"with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}"
        )
    if grid.shape[-1] != input.ndim - 2:
        raise RuntimeError(
            f"grid_sampler(): expected grid to have size {input.ndim - 2} in last dimension, "
            f"but got grid with sizes {list(grid.shape)}"
        )
    if input.ndim == 5:
        raise NotImplementedError("grid_sample: 5-D (volumetric) input is not supported by fastnn")
    if not _dtype.is_floating(input.dtype) or grid.dtype != input.dtype:
        raise RuntimeError(
            f"grid_sampler(): expected input and grid to have the same floating dtype, but "
            f"input has {input.dtype} and grid has {grid.dtype}"
        )
    n, c, h, w = input.shape
    ho, wo = grid.shape[1:3]
    ix = _source(grid[..., 0], w, padding_mode, align_corners)
    iy = _source(grid[..., 1], h, padding_mode, align_corners)
    flat = input.reshape(n, c, h * w)
    if mode == "nearest":
        vals, valid = _read(flat, ix.detach().round().long(), iy.detach().round().long(), h, w)
        # a zero that depends on the grid: the grid's gradient is zeros, as torch's, not None
        never = (ix.detach() * 0) > 1  # False everywhere, NaN and Inf included
        tie = where(never, ix + iy, 0.0).reshape(n, 1, -1)
        return (vals * valid + tie).reshape(n, c, ho, wo)
    x0, y0 = ix.detach().floor(), iy.detach().floor()
    tx, ty = (ix - x0).reshape(n, 1, -1), (iy - y0).reshape(n, 1, -1)
    x0, y0 = x0.long(), y0.long()
    out = None
    for dy, wy in ((0, 1 - ty), (1, ty)):
        for dx, wx in ((0, 1 - tx), (1, tx)):
            vals, valid = _read(flat, x0 + dx, y0 + dy, h, w)
            term = vals * (wx * wy * valid)
            out = term if out is None else out + term
    return out.reshape(n, c, ho, wo)


__all__ = ["affine_grid", "grid_sample"]
