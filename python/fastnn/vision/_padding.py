"""``pad`` and the ``Pad`` transform: borders around an image array (H, W[, C]) or tensor (..., H, W), in the four modes of
torchvision (``constant`` with a fill value, ``edge``, ``reflect``, ``symmetric``).

The three copying modes are one gather: the row and column indices they read are worked out on
``arange`` with numpy's own padding, then taken from the image, so arrays and tensors (autograd
included) share the code.
"""

import numbers

import numpy as np

from .._tensor import Tensor
from .._tensor.functions import stack
from ..nn import functional as F
from ._pil import is_pil, like, to_array

MODES = ("constant", "edge", "reflect", "symmetric")


def padding_ltrb(padding):
    """(left, top, right, bottom) from an int, a 1-, 2- (left/right, top/bottom) or 4-sequence."""
    if isinstance(padding, numbers.Integral):
        padding = [padding]
    if not isinstance(padding, (list, tuple)):
        raise TypeError(f"Got inappropriate padding arg: {padding!r}")
    if len(padding) not in (1, 2, 4):
        raise ValueError(
            f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} "
            "element tuple"
        )
    p = [int(v) for v in padding]
    if len(p) == 1:
        return p[0], p[0], p[0], p[0]
    if len(p) == 2:
        return p[0], p[1], p[0], p[1]
    return tuple(p)


def check_mode_and_fill(padding_mode, fill):
    if padding_mode not in MODES:
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    if not isinstance(fill, (numbers.Number, tuple, list)):
        raise TypeError(f"Got inappropriate fill arg: {fill!r}")


def pad(img, padding, fill=0, padding_mode="constant"):
    left, top, right, bottom = padding_ltrb(padding)
    check_mode_and_fill(padding_mode, fill)
    if min(left, top, right, bottom) < 0:
        raise ValueError(f"padding must be non-negative, got {padding!r}")
    is_tensor = isinstance(img, Tensor)
    if padding_mode != "constant":
        h, w = img.shape[-2:] if is_tensor else np.shape(img)[:2]
        rows = np.pad(np.arange(h), (top, bottom), mode=padding_mode)
        cols = np.pad(np.arange(w), (left, right), mode=padding_mode)
        if is_tensor:
            return img[..., rows, :][..., cols]
        return np.asarray(img)[rows][:, cols]
    if is_tensor:
        if isinstance(fill, numbers.Number):
            return F.pad(img, (left, right, top, bottom), value=float(fill))
        planes = [
            F.pad(img[..., c, :, :], (left, right, top, bottom), value=float(v))
            for c, v in enumerate(fill)
        ]
        return stack(planes, dim=-3)
    a = np.asarray(img)
    out = np.empty((a.shape[0] + top + bottom, a.shape[1] + left + right, *a.shape[2:]), a.dtype)
    fill = fill if isinstance(fill, numbers.Number) or a.ndim == 3 else fill[0]
    out[...] = fill  # a sequence broadcasts over the channels (last axis)
    out[top : top + a.shape[0], left : left + a.shape[1]] = a
    return out


class Pad:
    """The transform form of ``pad``: the same borders on every image, arrays, PIL images and
    tensors alike (a PIL image comes back as one)."""

    def __init__(self, padding, fill=0, padding_mode="constant"):
        padding_ltrb(padding)  # a bad padding fails here, where the pipeline is built
        check_mode_and_fill(padding_mode, fill)
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def __call__(self, img):
        if is_pil(img):
            return like(self(to_array(img)), img)
        return pad(img, self.padding, self.fill, self.padding_mode)

    def __repr__(self):
        return (
            f"{type(self).__name__}(padding={self.padding}, fill={self.fill}, "
            f"padding_mode={self.padding_mode})"
        )
