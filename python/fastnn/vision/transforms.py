"""Image transforms with torchvision's names and semantics, for uint8 arrays, PIL images and
tensors.

A ``Compose`` of ``Resize``, ``ToTensor`` and ``Normalize`` (in that order) also has a batched form
(``apply_batch``), which the datasets of ``fastnn.vision`` use to transform a whole batch in one
numpy pass instead of one Python call per image.
"""

import numbers

import numpy as np

from .._core import dtype as _dtype
from .._tensor import Tensor
from ._color import ColorJitter
from ._geometry import CenterCrop, RandomHorizontalFlip, RandomVerticalFlip
from ._padding import Pad
from ._pil import ToPILImage
from ._random_crops import RandomCrop, RandomResizedCrop
from ._resize import InterpolationMode, Resize


class Compose:
    """Apply ``transforms`` in order."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def apply_batch(self, images):
        """The transforms applied to a batch (N, H, W[, C]) of uint8 images at once, or None when
        a transform has no batched form."""
        kinds = [type(t) for t in self.transforms]
        if ToTensor not in kinds:
            return None
        k = kinds.index(ToTensor)  # images before ToTensor, float tensors after it
        if any(c is not Resize for c in kinds[:k]) or any(
            c is not Normalize for c in kinds[k + 1 :]
        ):
            return None
        x = images
        for t in self.transforms:
            x = t._batch(x)
        return Tensor(x)

    def __repr__(self):
        body = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({body}\n)"


class ToTensor:
    """An image (H, W) or (H, W, C) array — or an object with ``__array__``, such as a PIL image —
    to a float tensor (C, H, W) of the default dtype (float32 unless set_default_dtype changed
    it, as in torchvision); uint8 values are scaled to [0, 1], float dtypes kept."""

    def __call__(self, pic):
        if isinstance(pic, Tensor):
            raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
        a = np.asarray(pic)
        if a.ndim not in (2, 3):
            raise ValueError(f"pic should be 2 or 3 dimensional. Got {a.ndim} dimensions.")
        return Tensor(self._batch(a[None])[0])

    @staticmethod
    def _batch(images):
        a = images if images.ndim == 4 else images[..., None]  # (N, H, W, C)
        a = np.ascontiguousarray(a.transpose(0, 3, 1, 2))
        if a.dtype == np.uint8:
            return np.divide(a, 255, dtype=_dtype.default())
        return a.astype(_dtype.default()) if not _dtype.is_floating(a.dtype) else a

    def __repr__(self):
        return "ToTensor()"


class Normalize:
    """(x - mean[c]) / std[c] for each channel c of a float tensor (..., C, H, W)."""

    def __init__(self, mean, std, inplace=False):
        # the attributes keep what was passed (programs build their denormalisation from them);
        # the arithmetic uses float arrays
        self.mean, self.std = mean, std
        self._mean = _per_channel(mean, "mean")
        self._std = _per_channel(std, "std")
        if (self._std == 0).any():
            raise ValueError(
                f"std evaluated to zero after conversion to float, leading to division by zero: {std}"
            )
        self.inplace = inplace

    def __call__(self, tensor):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
        if not _dtype.is_floating(tensor._data.dtype):
            raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
        if tensor.ndim < 3:
            raise ValueError(
                "Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() "
                f"= {tuple(tensor.shape)}"
            )
        mean, std = self._shaped(tensor._data.dtype)
        out = (tensor - Tensor(mean)) / Tensor(std)
        if self.inplace:
            tensor.copy_(out)
            return tensor
        return out

    def _shaped(self, dtype):
        shape = (-1, 1, 1)
        return self._mean.astype(dtype).reshape(shape), self._std.astype(dtype).reshape(shape)

    def _batch(self, x):
        mean, std = self._shaped(x.dtype)
        return (x - mean) / std

    def __repr__(self):
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


class Lambda:
    """Apply a user function."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self):
        return "Lambda()"


def _per_channel(values, name):
    if isinstance(values, numbers.Number):
        values = [values]
    a = np.asarray(values, dtype=np.float64).reshape(-1)
    if a.size == 0:
        raise ValueError(f"Normalize: {name} must not be empty")
    return a


__all__ = [
    "CenterCrop",
    "ColorJitter",
    "Compose",
    "InterpolationMode",
    "Lambda",
    "Normalize",
    "Pad",
    "RandomCrop",
    "RandomHorizontalFlip",
    "RandomResizedCrop",
    "RandomVerticalFlip",
    "Resize",
    "ToPILImage",
    "ToTensor",
]
