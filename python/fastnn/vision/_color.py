"""``ColorJitter``: random brightness, contrast, saturation and hue, applied in a random order.

Factors are drawn from fastnn's generator. The image is worked on as floats in [0, 1], channels
last: a float tensor (..., C, H, W) comes back a float tensor (without autograd history), a uint8
array, tensor or PIL image comes back the same kind, rounded to the nearest level.
"""

import numbers

import numpy as np

from .._core import dtype as _dtype
from .._tensor import Tensor
from .._tensor.creation import rand, randperm
from ._pil import like, to_array

_LUMA = np.array([0.2989, 0.587, 0.114])


def _gray(x):
    """Luma (..., H, W, 1) of channels-last floats; one channel is its own luma."""
    return x if x.shape[-1] == 1 else (x[..., :3] @ _LUMA)[..., None]


def _blend(x, other, factor):
    return np.clip(factor * x + (1.0 - factor) * other, 0.0, 1.0)


def adjust_brightness(x, factor):
    return np.clip(x * factor, 0.0, 1.0)


def adjust_contrast(x, factor):
    return _blend(x, _gray(x).mean(axis=(-3, -2, -1), keepdims=True), factor)


def adjust_saturation(x, factor):
    return x if x.shape[-1] == 1 else _blend(x, _gray(x), factor)


def adjust_hue(x, shift):
    """Rotate the hue by ``shift`` turns (in [-0.5, 0.5]) through HSV."""
    if x.shape[-1] == 1:
        return x
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    v, low = x.max(axis=-1), x.min(axis=-1)
    span = v - low
    s = np.where(v > 0, span / np.where(v > 0, v, 1), 0.0)
    safe = np.where(span > 0, span, 1)
    h = np.where(v == r, (g - b) / safe, np.where(v == g, 2 + (b - r) / safe, 4 + (r - g) / safe))
    h = np.where(span > 0, h / 6.0, 0.0)
    h = (h + shift) % 1.0
    sector = np.floor(h * 6.0)
    frac = h * 6.0 - sector
    p, q, t = v * (1 - s), v * (1 - s * frac), v * (1 - s * (1 - frac))
    sector = sector.astype(np.int64) % 6
    rgb = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]
    out = np.stack([np.choose(sector, [c[k] for c in rgb]) for k in range(3)], axis=-1)
    return np.concatenate([out, x[..., 3:]], axis=-1)


def _check(value, name, center=1.0, bound=(0.0, float("inf")), clip_first_on_zero=True):
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"If {name} is a single number, it must be non negative.")
        value = [center - float(value), center + float(value)]
        if clip_first_on_zero:
            value[0] = max(value[0], 0.0)
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        value = [float(value[0]), float(value[1])]
    else:
        raise TypeError(f"{name} should be a single number or a list/tuple with length 2.")
    if not bound[0] <= value[0] <= value[1] <= bound[1]:
        raise ValueError(f"{name} values should be between {bound}, but got {value}.")
    return None if value[0] == value[1] == center else tuple(value)


def _uniform(bounds):
    return None if bounds is None else bounds[0] + (bounds[1] - bounds[0]) * float(rand(1).item())


class ColorJitter:
    """Each of brightness, contrast and saturation (a factor drawn from [1 - v, 1 + v] or a given
    (min, max)) and hue (a shift from [-v, v], v <= 0.5) that is set is applied, in random order."""

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        self.brightness = _check(brightness, "brightness")
        self.contrast = _check(contrast, "contrast")
        self.saturation = _check(saturation, "saturation")
        self.hue = _check(hue, "hue", 0.0, (-0.5, 0.5), clip_first_on_zero=False)

    @staticmethod
    def get_params(brightness, contrast, saturation, hue):
        """(order of the four adjustments, brightness, contrast, saturation, hue factors)."""
        order = randperm(4).tolist()
        return order, *(_uniform(b) for b in (brightness, contrast, saturation, hue))

    def __call__(self, img):
        order, *factors = self.get_params(self.brightness, self.contrast, self.saturation, self.hue)
        steps = (adjust_brightness, adjust_contrast, adjust_saturation, adjust_hue)
        x, back = _to_floats(img)
        for k in order:
            if factors[k] is not None:
                x = steps[k](x, factors[k])
        return back(x)

    def __repr__(self):
        return (
            f"ColorJitter(brightness={self.brightness}, contrast={self.contrast}, "
            f"saturation={self.saturation}, hue={self.hue})"
        )


def _to_floats(img):
    """Channels-last float64 in [0, 1], and the function that turns a result back into img's
    kind."""
    if isinstance(img, Tensor):
        a = np.moveaxis(img.detach().cpu().numpy(), -3, -1)
        floats = _dtype.is_floating(a.dtype)

        def back(x):
            x = np.moveaxis(x if floats else np.rint(x * 255), -1, -3)
            return Tensor(np.ascontiguousarray(x.astype(a.dtype)))

        return (a.astype(np.float64) if floats else a / 255.0), back
    a = np.asarray(to_array(img))
    if a.dtype != np.uint8 or a.ndim not in (2, 3):
        raise TypeError(f"ColorJitter: expected a uint8 image (H, W[, C]), got {a.dtype} {a.shape}")
    grey = a.ndim == 2

    def back_uint8(x):
        out = np.rint(x * 255).astype(np.uint8)
        return like(out[..., 0] if grey else out, img)

    return (a[..., None] if grey else a) / 255.0, back_uint8
