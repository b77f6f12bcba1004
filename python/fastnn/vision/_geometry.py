"""Crops and flips with torchvision's names: ``CenterCrop``, ``RandomHorizontalFlip`` and
``RandomVerticalFlip``.

Each takes an image array (H, W) or (H, W, C), the stand-in for a PIL image, a PIL image or a
tensor (..., H, W), and returns the same kind.
"""

import numbers

import numpy as np

from .._tensor import Tensor
from .._tensor.creation import rand
from ..nn import functional as F
from ._pil import is_pil, like, to_array


def _pair(size, name):
    if isinstance(size, numbers.Integral):
        return int(size), int(size)
    if isinstance(size, (list, tuple)) and len(size) in (1, 2):
        return (int(size[0]), int(size[-1]))
    raise ValueError(f"{name}: please provide only two dimensions (h, w) for size, got {size!r}")


def _hw(img):
    """(H, W) of an image and whether it is a tensor (axes -2, -1) or an array (axes 0, 1)."""
    if isinstance(img, Tensor):
        if img.ndim < 2:
            raise TypeError(f"Tensor is not a torch image: {img.ndim} dimensions")
        return tuple(img.shape[-2:]), True
    a = np.asarray(img)
    if a.ndim not in (2, 3):
        raise TypeError(f"img should be an image (H, W) or (H, W, C), got shape {a.shape}")
    return a.shape[:2], False


class CenterCrop:
    """The central ``size`` (h, w) region; an image smaller than that is zero-padded first."""

    def __init__(self, size):
        self.size = _pair(size, "CenterCrop")

    def __call__(self, img):
        if is_pil(img):
            return like(self(to_array(img)), img)
        (h, w), is_tensor = _hw(img)
        th, tw = self.size
        if th > h or tw > w:  # pad to at least the crop size, the extra pixel right / bottom
            left, top = max(tw - w, 0) // 2, max(th - h, 0) // 2
            right, bottom = (max(tw - w, 0) + 1) // 2, (max(th - h, 0) + 1) // 2
            if is_tensor:
                img = F.pad(img, (left, right, top, bottom))
            else:
                img = np.asarray(img)
                extra = [(0, 0)] * (img.ndim - 2)
                img = np.pad(img, [(top, bottom), (left, right), *extra])
            h, w = h + top + bottom, w + left + right
        i, j = round((h - th) / 2.0), round((w - tw) / 2.0)
        if is_tensor:
            return img[..., i : i + th, j : j + tw]
        return np.asarray(img)[i : i + th, j : j + tw]

    def __repr__(self):
        return f"CenterCrop(size={self.size})"


class RandomHorizontalFlip:
    """Mirror left-right with probability ``p`` (drawn from fastnn's generator)."""

    _axis = 1  # of an array (H, W[, C]); a tensor's is counted from the end

    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, img):
        _, is_tensor = _hw(to_array(img))
        if rand(1).item() >= self.p:
            return img
        if is_tensor:
            return img.flip(self._axis - 2)
        flipped = np.flip(np.asarray(to_array(img)), self._axis)
        return like(np.ascontiguousarray(flipped), img)

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror top-bottom with probability ``p`` (drawn from fastnn's generator)."""

    _axis = 0
