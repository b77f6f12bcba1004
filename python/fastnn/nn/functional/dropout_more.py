"""The rest of torch's dropouts: ``dropout1d`` / ``dropout3d`` (whole channels, like dropout2d)
and ``alpha_dropout`` / ``feature_alpha_dropout`` (for SELU networks).

Channel dropout draws one keep / drop per (sample, channel), a (N, C, 1, ...) mask broadcast in
one multiply; an unbatched input is read as one sample. Alpha dropout keeps the self-normalising
statistics of a SELU network: a dropped unit takes SELU's negative saturation -alpha' (alpha' =
scale * alpha = 1.7580993408473766) instead of 0, and the affine map a x + b with
a = 1 / sqrt((alpha'^2 p + 1)(1 - p)) and b = a alpha' p restores mean 0 and variance 1, i.e.
out = mask (a x) + (mask - 1) a alpha' + a alpha' p. Masks come from fastnn's global generator;
``training`` defaults to False for the alpha forms, as in torch.
"""

import math
import warnings

from ... import _devices
from .activation import _maybe_inplace

_ALPHA = 1.7580993408473766  # SELU's scale * alpha: minus its negative saturation value


def _check_p(p):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(x, p, feature):
    """A 0 / 1 keep mask (probability 1 - p) in x's dtype: per element, or per (N, C) plane."""
    be = _devices.of(x._data)
    shape = tuple(x.shape[:2]) + (1,) * (x.ndim - 2) if feature else tuple(x.shape)
    mask = be.bernoulli(1.0 - p, shape, x.dtype)
    mask = be.astype(mask, x.dtype) if mask.dtype != x.dtype else mask
    return x._make(mask)


def _channel_dropout(input, p, inplace):
    if p == 1.0:
        return _maybe_inplace(input, lambda x: x * 0.0, inplace)
    mask = _keep_mask(input, p, True) * (1.0 / (1.0 - p))
    return _maybe_inplace(input, lambda x: x * mask, inplace)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or (C, L) with probability p, scale the rest by
    1 / (1 - p)."""
    _check_p(p)
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that "
            "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial "
            "dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D "
            "inputs)."
        )
    if not training or p == 0.0:
        return input
    if input.ndim == 2:
        return _maybe_inplace(
            input, lambda x: _channel_dropout(x.unsqueeze(0), p, False).squeeze(0), inplace
        )
    return _channel_dropout(input, p, inplace)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) with probability p."""
    _check_p(p)
    if input.ndim not in (4, 5):
        warnings.warn(
            f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is deprecated and "
            "will result in an error in a future release. To retain the behavior and silence "
            "this warning, please use dropout instead. Note that dropout3d exists to provide "
            "channel-wise dropout on inputs with 3 spatial dimensions, a channel dimension, and "
            "an optional batch dimension (i.e. 4D or 5D inputs).",
            stacklevel=2,
        )
    if not training or p == 0.0:
        return input
    if input.ndim != 5:
        return _maybe_inplace(
            input, lambda x: _channel_dropout(x.unsqueeze(0), p, False).squeeze(0), inplace
        )
    return _channel_dropout(input, p, inplace)


def _alpha(input, p, training, inplace, feature):
    _check_p(p)
    if feature and input.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return _maybe_inplace(input, lambda x: x * 0.0, inplace)
    a = 1.0 / math.sqrt((_ALPHA * _ALPHA * p + 1.0) * (1.0 - p))
    keep = _keep_mask(input, p, feature)
    shift = (keep - 1.0) * (_ALPHA * a) + _ALPHA * a * p
    scale = keep * a
    return _maybe_inplace(input, lambda x: x * scale + shift, inplace)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout for SELU networks: dropped units take SELU's saturation value, then an affine map
    keeps mean and variance (see the module note)."""
    return _alpha(input, p, training, inplace, False)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """alpha_dropout with one keep / drop per (sample, channel)."""
    return _alpha(input, p, training, inplace, True)


__all__ = ["alpha_dropout", "dropout1d", "dropout3d", "feature_alpha_dropout"]
