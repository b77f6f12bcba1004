"""Pillow images at the edges of the transforms: recognised without importing Pillow, turned into
uint8 arrays for the array code paths and back into images of the same mode afterwards.

Pillow is optional (the ``plot`` extra brings it with matplotlib); only the functions that must
build an image import it, and they say so when it is missing.
"""

import sys

import numpy as np

from .._core import dtype as _dtype


def is_pil(img):
    """Whether ``img`` is a PIL image (False whenever Pillow was never imported)."""
    module = sys.modules.get("PIL.Image")
    return module is not None and isinstance(img, module.Image)


def pil_module(what):
    """``PIL.Image``, or an ImportError that names the feature needing it."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(f"{what} needs Pillow: pip install pillow") from None
    return Image


def to_array(img):
    """The pixels of a PIL image as an array (H, W) or (H, W, C); anything else unchanged."""
    return np.asarray(img) if is_pil(img) else img


def like(out, original):
    """``out`` (an array) as an image of ``original``'s mode when ``original`` is a PIL image."""
    if not is_pil(original):
        return out
    Image = pil_module("a PIL image result")
    image = Image.fromarray(np.ascontiguousarray(out))
    if original.mode == "P":  # the indices keep pointing into the same palette
        image.putpalette(original.getpalette())
    elif image.mode != original.mode:
        image = image.convert(original.mode)
    return image


_ONE_CHANNEL = {"uint8": "L", "int16": "I;16", "int32": "I", "float32": "F"}
_MODES = {2: ("LA",), 3: ("RGB", "YCbCr", "HSV"), 4: ("RGBA", "CMYK", "RGBX")}


class ToPILImage:
    """A tensor (C, H, W) or array (H, W, C) (or either without channels) to a PIL image.

    Floats are taken as [0, 1] and scaled to uint8 by truncation (unless ``mode`` is ``'F'``);
    the mode follows the channels and dtype when it is not given: ``L`` / ``I;16`` / ``I`` /
    ``F`` for one channel, ``LA``, ``RGB``, ``RGBA`` for two to four uint8 channels.
    """

    def __init__(self, mode=None):
        self.mode = mode

    def __call__(self, pic):
        from .._tensor import Tensor

        if isinstance(pic, Tensor):
            if pic.ndim not in (2, 3):
                raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
            a = pic.detach().cpu().numpy()
            a = a[None] if a.ndim == 2 else a
            a = a.transpose(1, 2, 0)
        elif isinstance(pic, np.ndarray):
            if pic.ndim not in (2, 3):
                raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
            a = pic[:, :, None] if pic.ndim == 2 else pic
        else:
            raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
        if a.shape[-1] > 4:
            raise ValueError(f"pic should not have > 4 channels. Got {a.shape[-1]} channels.")
        if _dtype.is_floating(a.dtype) and self.mode != "F":
            a = (a * 255).astype(np.uint8)
        return self._image(np.ascontiguousarray(a))

    def _image(self, a):
        Image = pil_module("ToPILImage")
        channels, mode = a.shape[-1], self.mode
        if channels == 1:
            a = a[:, :, 0]
            expected = _ONE_CHANNEL.get(a.dtype.name)
            if expected is None:
                raise TypeError(f"Input type {a.dtype} is not supported")
            if mode is not None and mode != expected:
                raise ValueError(
                    f"Incorrect mode ({mode}) supplied for input type {a.dtype}. "
                    f"Should be {expected}"
                )
            mode = expected
        else:
            if a.dtype != np.uint8:
                raise TypeError(f"Input type {a.dtype} is not supported")
            allowed = _MODES[channels]
            if mode is not None and mode not in allowed:
                raise ValueError(f"Only modes {list(allowed)} are supported for {channels}D inputs")
            mode = mode or allowed[0]
        if mode == "I;16":
            a = a.astype("<u2")
        elif mode in ("I", "F"):
            a = a.astype("<i4" if mode == "I" else "<f4")
        return Image.frombytes(mode, (a.shape[1], a.shape[0]), a.tobytes())

    def __repr__(self):
        return f"ToPILImage(mode={self.mode})" if self.mode else "ToPILImage()"
