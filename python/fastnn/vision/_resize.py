"""``Resize``: bilinear resizing of image arrays (H, W[, C]), PIL images and tensors (..., H, W).

Arrays and tensors go through a triangle filter that widens when it shrinks (antialiasing), as
two matrix products per plane; PIL images go through Pillow's own bilinear resize, as in
torchvision. ``size`` is (h, w), or an int that the smaller edge is scaled to.
"""

import enum
import numbers

import numpy as np

from .._core import dtype as _dtype
from .._tensor import Tensor
from ._pil import is_pil, pil_module


class InterpolationMode(enum.Enum):
    """The interpolation names of torchvision; the transforms here implement ``BILINEAR``."""

    NEAREST = "nearest"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"


def _is_bilinear(interpolation):
    if isinstance(interpolation, InterpolationMode):
        return interpolation is InterpolationMode.BILINEAR
    if isinstance(interpolation, numbers.Integral):  # PIL's constants: BILINEAR is 2
        return int(interpolation) == 2
    return str(interpolation).rsplit(".", 1)[-1].lower() == "bilinear"


class Resize:
    """Resize to ``size``, the aspect ratio kept when it is an int (the smaller edge); uint8
    stays uint8, rounded. Array results can differ from PIL's fixed-point filter by one grey
    level. ``antialias=False`` turns the widening off for tensors (plain bilinear)."""

    def __init__(self, size, interpolation="bilinear", max_size=None, antialias=True):
        if isinstance(size, numbers.Integral):
            size = int(size)
        elif isinstance(size, (list, tuple)) and len(size) in (1, 2):
            size = tuple(int(v) for v in size) if len(size) == 2 else int(size[0])
        else:
            raise TypeError(f"Size should be int or sequence of one or two ints. Got {size!r}")
        if not _is_bilinear(interpolation):
            raise ValueError(
                f"Resize: only bilinear interpolation is supported, got {interpolation}"
            )
        if max_size is not None and isinstance(size, tuple):
            raise ValueError("max_size is only supported for an int size (the smaller edge)")
        self.size, self.max_size, self.antialias = size, max_size, antialias

    def __call__(self, img):
        if is_pil(img):
            oh, ow = self._out_size(img.height, img.width)
            return img.resize((ow, oh), pil_module("Resize").BILINEAR)
        if isinstance(img, Tensor):
            return self._tensor(img)
        a = np.asarray(img)
        if a.ndim not in (2, 3):
            raise ValueError(f"Resize: expected an image (H, W) or (H, W, C), got shape {a.shape}")
        return self._batch(a[None])[0]

    def _out_size(self, h, w):
        if isinstance(self.size, tuple):
            return self.size
        short, long_ = (h, w) if h <= w else (w, h)
        new_short, new_long = self.size, int(self.size * long_ / short)
        if self.max_size is not None and new_long > self.max_size:
            new_short, new_long = int(self.max_size * new_short / new_long), self.max_size
        return (new_short, new_long) if h <= w else (new_long, new_short)

    def _tensor(self, img):
        if img.ndim < 2:
            raise TypeError(f"Tensor is not a torch image: {img.ndim} dimensions")
        h, w = img.shape[-2:]
        oh, ow = self._out_size(h, w)
        if (oh, ow) == (h, w):
            return img
        dtype = img.dtype if _dtype.is_floating(img._data.dtype) else None
        x = img if dtype is not None else img.float()
        wy = Tensor(_triangle_weights(h, oh, self.antialias)).to(x.dtype)
        wx = Tensor(_triangle_weights(w, ow, self.antialias).T.copy()).to(x.dtype)
        out = wy @ x @ wx
        if dtype is None:  # integer images come back rounded, in their own dtype
            info = np.iinfo(img._data.dtype)
            out = out.round().clamp(info.min, info.max).to(img.dtype)
        return out

    def _batch(self, images):
        h, w = images.shape[1:3]
        oh, ow = self._out_size(h, w)
        if (oh, ow) == (h, w):
            return images
        wy, wx = _triangle_weights(h, oh), _triangle_weights(w, ow)
        x = images.astype(np.float32)
        if x.ndim == 4:  # (N, H, W, C): the two matrix products act on (H, W) planes
            out = (wy @ x.transpose(0, 3, 1, 2) @ wx.T).transpose(0, 2, 3, 1)
        else:
            out = wy @ x @ wx.T
        if images.dtype == np.uint8:
            return np.clip(np.rint(out), 0, 255).astype(np.uint8)
        return out.astype(images.dtype)

    def __repr__(self):
        return f"Resize(size={self.size}, interpolation=bilinear, max_size={self.max_size})"


def _triangle_weights(n_in, n_out, antialias=True):
    """(n_out, n_in) float32 rows of normalised triangle-filter weights, pixel centres aligned;
    with ``antialias`` the filter widens when shrinking, so downscaling averages."""
    scale = n_in / n_out
    support = max(scale, 1.0) if antialias else 1.0
    centres = (np.arange(n_out) + 0.5) * scale
    dist = (np.arange(n_in)[None, :] + 0.5 - centres[:, None]) / support
    weights = np.clip(1 - np.abs(dist), 0, None)
    return (weights / weights.sum(axis=1, keepdims=True)).astype(np.float32)
