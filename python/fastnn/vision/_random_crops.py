"""``RandomCrop`` and ``RandomResizedCrop``, the training-time crops of image pipelines.

Positions, areas and aspect ratios are drawn from fastnn's global generator, so
``fastnn.manual_seed`` repeats a pipeline. Each takes an image array (H, W[, C]), a PIL image or a
tensor (..., H, W) and returns the same kind.
"""

import math
import warnings

import numpy as np

from .._tensor.creation import rand, randint
from ._geometry import _hw, _pair
from ._padding import check_mode_and_fill, pad, padding_ltrb
from ._pil import is_pil, like, to_array
from ._resize import Resize


def _randint(low, high):
    """An int in [low, high) from fastnn's generator."""
    return int(randint(low, high, (1,)).item())


def _uniform(low, high):
    return low + (high - low) * float(rand(1).item())


def crop(img, top, left, height, width):
    """The region of ``height`` x ``width`` pixels whose top-left corner is (top, left)."""
    if is_pil(img):
        return like(crop(to_array(img), top, left, height, width), img)
    _, is_tensor = _hw(img)
    if is_tensor:
        return img[..., top : top + height, left : left + width]
    return np.asarray(img)[top : top + height, left : left + width]


class RandomCrop:
    """A ``size`` crop at a random position, after optional ``padding``; with ``pad_if_needed``
    an image smaller than the crop is padded on both sides of the short edge first."""

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        self.size = _pair(size, "RandomCrop")
        if padding is not None:
            padding_ltrb(padding)
        check_mode_and_fill(padding_mode, fill)
        self.padding, self.pad_if_needed = padding, pad_if_needed
        self.fill, self.padding_mode = fill, padding_mode

    @staticmethod
    def get_params(img, output_size):
        """(top, left, height, width) of a random crop of ``output_size`` (h, w)."""
        (h, w), _ = _hw(to_array(img))
        th, tw = output_size
        if h < th or w < tw:
            raise ValueError(
                f"Required crop size {(th, tw)} is larger than input image size {(h, w)}"
            )
        if (h, w) == (th, tw):
            return 0, 0, h, w
        return _randint(0, h - th + 1), _randint(0, w - tw + 1), th, tw

    def _pad(self, img, padding):
        if is_pil(img):
            return like(self._pad(to_array(img), padding), img)
        return pad(img, padding, self.fill, self.padding_mode)

    def __call__(self, img):
        if self.padding is not None:
            img = self._pad(img, self.padding)
        (h, w), _ = _hw(to_array(img))
        th, tw = self.size
        if self.pad_if_needed and w < tw:
            img = self._pad(img, [tw - w, 0])
        if self.pad_if_needed and h < th:
            img = self._pad(img, [0, th - h])
        return crop(img, *self.get_params(img, self.size))

    def __repr__(self):
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomResizedCrop:
    """A crop of random area (a ``scale`` fraction of the image) and aspect ratio (within
    ``ratio``, drawn log-uniformly), resized to ``size``. After ten draws that do not fit, the
    largest central crop with an aspect ratio inside ``ratio`` is used instead."""

    def __init__(
        self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0), interpolation="bilinear",
        antialias=True,
    ):  # fmt: skip
        self.size = _pair(size, "RandomResizedCrop")
        for name, value in (("scale", scale), ("ratio", ratio)):
            if not isinstance(value, (list, tuple)) or len(value) != 2:
                raise TypeError(f"{name} should be a sequence of length 2, got {value!r}")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            warnings.warn("Scale and ratio should be of kind (min, max)", stacklevel=2)
        self.scale, self.ratio = tuple(scale), tuple(ratio)
        self._resize = Resize(self.size, interpolation, antialias=antialias)

    @staticmethod
    def get_params(img, scale, ratio):
        """(top, left, height, width) of a random crop for ``scale`` and ``ratio``."""
        (height, width), _ = _hw(to_array(img))
        area = height * width
        low, high = math.log(ratio[0]), math.log(ratio[1])
        for _ in range(10):
            target = area * _uniform(scale[0], scale[1])
            aspect = math.exp(_uniform(low, high))
            w = round(math.sqrt(target * aspect))
            h = round(math.sqrt(target / aspect))
            if 0 < w <= width and 0 < h <= height:
                return _randint(0, height - h + 1), _randint(0, width - w + 1), h, w
        aspect = width / height
        if aspect < min(ratio):
            w, h = width, round(width / min(ratio))
        elif aspect > max(ratio):
            w, h = round(height * max(ratio)), height
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def __call__(self, img):
        return self._resize(crop(img, *self.get_params(img, self.scale, self.ratio)))

    def __repr__(self):
        return f"RandomResizedCrop(size={self.size}, scale={self.scale}, ratio={self.ratio})"


__all__ = ["RandomCrop", "RandomResizedCrop", "crop"]
