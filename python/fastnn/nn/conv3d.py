"""3-D convolution layers: Conv3d and ConvTranspose3d over (N, C, D, H, W), with PyTorch's
names, signatures, weight layouts, default initialisation and reprs. Each forward is one
``nn.functional`` call, which composes the 2-D ops (functional/conv3d.py)."""

import numpy as np

from . import functional as F
from .conv import _ConvNd
from .conv_transpose import _ConvTransposeNd

__all__ = ["Conv3d", "ConvTranspose3d"]


def _triple(v, what, cls, minimum):
    t = tuple(v) if isinstance(v, (tuple, list)) else (v, v, v)
    if len(t) != 3 or any(isinstance(a, bool) or not isinstance(a, (int, np.integer)) for a in t):
        raise TypeError(f"{cls}: {what} must be an int or a triple of ints, got {v!r}")
    if any(a < minimum for a in t):
        raise ValueError(f"{cls}: {what} must be >= {minimum}, got {v!r}")
    return tuple(int(a) for a in t)


class Conv3d(_ConvNd):
    """3-D convolution over (N, C_in, D, H, W): weight (C_out, C_in / groups, kd, kh, kw), bias
    (C_out,), initialised like torch's. padding_mode='zeros' only."""

    _ntuple = staticmethod(_triple)

    def forward(self, input):
        return F.conv3d(
            input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )


class ConvTranspose3d(_ConvTransposeNd):
    """3-D transposed convolution over (N, C_in, D, H, W): weight (C_in, C_out / groups, kd, kh,
    kw), bias (C_out,), initialised like torch's."""

    _ntuple = staticmethod(_triple)

    def forward(self, input, output_size=None):
        return F.conv_transpose3d(
            input, self.weight, self.bias, self.stride, self.padding, self.output_padding,
            self.groups, self.dilation, output_size=output_size,
        )  # fmt: skip
