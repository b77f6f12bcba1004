"""``F.dropout2d``: channel-wise dropout. Each (sample, channel) plane is kept or zeroed as a
whole (probability p), kept planes scaled by 1 / (1 - p); the identity when not training.

Zeroing whole feature maps suits convolutional features, whose neighbouring pixels are strongly
correlated: element-wise dropout there barely regularises. The mask is (N, C, 1, 1) (torch's
layout: a 3-D input is read as (N, C, L), with a warning as in torch), drawn from fastnn's
global generator, and broadcast in one multiply.
"""

import warnings

from ... import _devices
from .activation import _maybe_inplace


def dropout2d(input, p=0.5, training=True, inplace=False):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if input.ndim not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated and "
            "will result in an error in a future release. To retain the behavior and silence "
            "this warning, please use dropout instead. Note that dropout2d exists to provide "
            "channel-wise dropout on inputs with 2 spatial dimensions, a channel dimension, and "
            "an optional batch dimension (i.e. 3D or 4D inputs).",
            stacklevel=2,
        )
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2,
        )
    if not training or p == 0.0 or input.ndim < 2:
        return input
    be = _devices.of(input._data)
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    if p == 1.0:
        mask = be.zeros(shape, input.dtype)
    else:
        mask = be.mul(be.bernoulli(1.0 - p, shape, input.dtype), 1.0 / (1.0 - p))
        mask = be.astype(mask, input.dtype) if mask.dtype != input.dtype else mask
    return _maybe_inplace(input, lambda x: x * x._make(mask), inplace)


__all__ = ["dropout2d"]
