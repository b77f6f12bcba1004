"""1-D convolution and pooling layers: Conv1d, MaxPool1d, AvgPool1d over (N, C, L), with
PyTorch's names, signatures, default initialisation and reprs. Each forward is one
``nn.functional`` call, which runs the 2-D kernels on the (N, C, 1, L) view."""

import numpy as np

from . import functional as F
from .conv import _ConvNd, _MaxPoolNd
from .module import Module

__all__ = ["AvgPool1d", "Conv1d", "MaxPool1d"]


def _single(v, what, cls, minimum):
    t = tuple(v) if isinstance(v, (tuple, list)) else (v,)
    if len(t) != 1 or isinstance(t[0], bool) or not isinstance(t[0], (int, np.integer)):
        raise TypeError(f"{cls}: {what} must be an int or a 1-tuple of an int, got {v!r}")
    if t[0] < minimum:
        raise ValueError(f"{cls}: {what} must be >= {minimum}, got {v!r}")
    return (int(t[0]),)


class Conv1d(_ConvNd):
    """1-D convolution over (N, C_in, L): weight (C_out, C_in / groups, k), bias (C_out,),
    initialised like PyTorch (kaiming_uniform(a=sqrt(5)), bias U(+-1/sqrt(C_in / groups * k))).
    padding_mode='zeros' only."""

    _ntuple = staticmethod(_single)

    def forward(self, input):
        pad = self.padding if isinstance(self.padding, str) else self.padding[0]
        return F.conv1d(
            input, self.weight, self.bias, self.stride[0], pad, self.dilation[0], self.groups
        )


class MaxPool1d(_MaxPoolNd):
    """1-D max pooling over (N, C, L)."""

    _pool = staticmethod(F.max_pool1d)


class AvgPool1d(Module):
    """1-D average pooling (stride defaults to kernel_size)."""

    def __init__(
        self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True
    ):
        super().__init__()
        self.kernel_size = _single(kernel_size, "kernel_size", "AvgPool1d", 1)
        self.stride = _single(
            stride if stride is not None else kernel_size, "stride", "AvgPool1d", 1
        )
        self.padding = _single(padding, "padding", "AvgPool1d", 0)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input):
        return F.avg_pool1d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            ceil_mode=self.ceil_mode,
            count_include_pad=self.count_include_pad,
        )

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
