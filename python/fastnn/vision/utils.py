"""``make_grid`` and ``save_image``: a batch of images tiled into one, and written to a file.

``make_grid`` is built from tensor ops (pad, reshape, permute), so the grid keeps the input's
autograd history as torchvision's does. ``save_image`` encodes through Pillow, as torchvision does
(the ``plot`` extra brings it with matplotlib).
"""

import math
import os

import numpy as np

from .._tensor import Tensor, full
from .._tensor.functions import stack
from ..nn import functional as F


def _as_batch(tensor):
    """(N, C, H, W) with C of 1 widened to 3, as torchvision tiles grey images."""
    if isinstance(tensor, (list, tuple)):
        tensor = stack(list(tensor), dim=0)
    if not isinstance(tensor, Tensor):
        raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    if tensor.ndim == 2:
        tensor = tensor.unsqueeze(0)
    if tensor.ndim == 3:
        tensor = tensor.unsqueeze(0)
    if tensor.ndim != 4:
        raise ValueError(f"expected an image batch of at most 4 dimensions, got {tensor.ndim}")
    if tensor.shape[1] == 1:
        tensor = tensor.expand(-1, 3, -1, -1)
    return tensor


def _rescale(t, value_range):
    low, high = value_range if value_range is not None else (float(t.min()), float(t.max()))
    return (t.clamp(low, high) - low) / max(high - low, 1e-5)


def make_grid(
    tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False, pad_value=0.0
):
    """Tile images (N, C, H, W) (or a list of (C, H, W)) into one (3, H', W') image, ``nrow``
    per row with ``padding`` pixels of ``pad_value`` around each. ``normalize`` maps
    ``value_range`` (default: the min and max, per image with ``scale_each``) onto [0, 1]."""
    batch = _as_batch(tensor)
    if value_range is not None and not isinstance(value_range, tuple):
        raise TypeError(
            "value_range has to be a tuple (min, max) if specified. min and max are numbers"
        )
    if normalize:
        if scale_each:
            batch = stack([_rescale(img, value_range) for img in batch], dim=0)
        else:
            batch = _rescale(batch, value_range)
    if batch.shape[0] == 1:
        return batch.squeeze(0)
    n, c, h, w = batch.shape
    cols = min(nrow, n)
    rows = math.ceil(n / cols)
    if rows * cols > n:
        filler = full((rows * cols - n, c, h, w), pad_value, dtype=batch.dtype)
        batch = stack([*batch, *filler], dim=0)
    cells = F.pad(batch, (padding, 0, padding, 0), value=pad_value)  # each cell: top-left border
    hp, wp = h + padding, w + padding
    grid = (
        cells.reshape(rows, cols, c, hp, wp).permute(2, 0, 3, 1, 4).reshape(c, rows * hp, cols * wp)
    )
    return F.pad(grid, (0, padding, 0, padding), value=pad_value)


def save_image(tensor, fp, format=None, **kwargs):
    """Write ``make_grid(tensor, **kwargs)`` (values in [0, 1]) as an 8-bit image to ``fp``, a
    path or a binary file object; the format from ``format`` or the file name (PNG by default)."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("save_image needs Pillow: pip install pillow") from None
    grid = make_grid(tensor, **kwargs).detach().cpu()
    pixels = grid.mul(255).add(0.5).clamp(0, 255).numpy()
    pixels = np.ascontiguousarray(pixels.astype(np.uint8).transpose(1, 2, 0))
    if pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    name = fp if isinstance(fp, (str, os.PathLike)) else getattr(fp, "name", "")
    kind = (format or os.path.splitext(os.fspath(name))[1].lstrip(".") or "png").upper()
    Image.fromarray(pixels).save(fp, format="JPEG" if kind == "JPG" else kind)


__all__ = ["make_grid", "save_image"]
