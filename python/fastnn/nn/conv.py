"""Convolution and pooling layers: Conv2d, MaxPool2d, AvgPool2d (NCHW, PyTorch's names,
signatures, default initialisation and reprs). Each forward is one ``nn.functional`` call."""

import numpy as np

from . import functional as F
from .layers import _affine_parameters, _place_parameters, _reset_affine
from .module import Module

__all__ = ["AvgPool2d", "Conv2d", "MaxPool2d"]


def _pair(v, what, cls, minimum):
    t = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
    if len(t) != 2 or any(isinstance(a, bool) or not isinstance(a, (int, np.integer)) for a in t):
        raise TypeError(f"{cls}: {what} must be an int or a pair of ints, got {v!r}")
    if any(a < minimum for a in t):
        raise ValueError(f"{cls}: {what} must be >= {minimum}, got {v!r}")
    return tuple(int(a) for a in t)


def _conv_extra_repr(m, ndim):
    """torch's repr of a convolution: defaults left out, padding='same' printed unquoted."""
    s = f"{m.in_channels}, {m.out_channels}, kernel_size={m.kernel_size}, stride={m.stride}"
    if m.padding != (0,) * ndim:
        s += f", padding={m.padding}"
    if m.dilation != (1,) * ndim:
        s += f", dilation={m.dilation}"
    if getattr(m, "output_padding", (0,) * ndim) != (0,) * ndim:  # transposed convolutions
        s += f", output_padding={m.output_padding}"
    if m.groups != 1:
        s += f", groups={m.groups}"
    if m.bias is None:
        s += ", bias=False"
    return s


class _ConvNd(Module):
    """The checks, parameters and repr Conv1d and Conv2d share; a subclass names its size
    parser in ``_ntuple`` (an int or a tuple of ints -> a tuple of its rank) and its forward."""

    _ntuple = None
    _transposed = False  # a transposed convolution's weight is (C_in, C_out / groups, *kernel)

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups=1,
        bias=True,
        padding_mode="zeros",
        device=None,
        dtype=None,
    ):
        super().__init__()
        name = type(self).__name__
        if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)):
            raise TypeError(f"{name}: groups must be a positive integer, got {groups!r}")
        if groups < 1:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups!r}")
        if padding_mode != "zeros":
            raise NotImplementedError(
                f"{name}: padding_mode={padding_mode!r} is not supported (only 'zeros')"
            )
        for what, v in (("in_channels", in_channels), ("out_channels", out_channels)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise TypeError(f"{name}: {what} must be a positive int, got {v!r}")
            if v <= 0:
                raise ValueError(f"{name}: {what} must be a positive int, got {v!r}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        if self.in_channels % groups:
            raise ValueError("in_channels must be divisible by groups")
        if self.out_channels % groups:
            raise ValueError("out_channels must be divisible by groups")
        self.kernel_size = self._ntuple(kernel_size, "kernel_size", name, 1)
        self.stride = self._ntuple(stride, "stride", name, 1)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(
                    f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}"
                )
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = self._ntuple(padding, "padding", name, 0)
        self.dilation = self._ntuple(dilation, "dilation", name, 1)
        self.groups, self.padding_mode = int(groups), "zeros"
        if self._transposed:
            channels = (self.in_channels, self.out_channels // self.groups)
        else:
            channels = (self.out_channels, self.in_channels // self.groups)
        shape = (*channels, *self.kernel_size)
        _affine_parameters(self, shape, bias, dtype, bias_shape=(self.out_channels,))
        self.reset_parameters()
        _place_parameters(self, device)

    def reset_parameters(self):
        _reset_affine(self)

    def extra_repr(self):
        return _conv_extra_repr(self, len(self.kernel_size))


class Conv2d(_ConvNd):
    """2-D convolution over (N, C_in, H, W): weight (C_out, C_in, kh, kw), bias (C_out,).

    Initialised like PyTorch: weight ~ kaiming_uniform(a=sqrt(5)) (i.e. U(+-1/sqrt(fan_in)),
    fan_in = C_in/groups*kh*kw) and bias ~ U(+-1/sqrt(fan_in)). padding_mode='zeros' only.
    """

    _ntuple = staticmethod(_pair)

    def forward(self, input):
        return F.conv2d(
            input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )


class _MaxPoolNd(Module):
    """Max pooling (stride defaults to kernel_size; padding counts as -inf); a subclass names its
    functional form in ``_pool``."""

    _pool = None

    def __init__(
        self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False
    ):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        return type(self)._pool(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            ceil_mode=self.ceil_mode,
            return_indices=self.return_indices,
        )

    def extra_repr(self):
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool2d(_MaxPoolNd):
    """2-D max pooling over (N, C, H, W)."""

    _pool = staticmethod(F.max_pool2d)
    _takes_window_max = True  # so a ReLU before it may run after it (Sequential)


class _AvgPoolNd(Module):
    """Average pooling (stride defaults to kernel_size); a subclass names its functional form in
    ``_pool``, as the max pools do."""

    _pool = None

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        ceil_mode=False,
        count_include_pad=True,
        divisor_override=None,
    ):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input):
        return type(self)._pool(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            ceil_mode=self.ceil_mode,
            count_include_pad=self.count_include_pad,
            divisor_override=self.divisor_override,
        )

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_AvgPoolNd):
    """2-D average pooling (stride defaults to kernel_size)."""

    _pool = staticmethod(F.avg_pool2d)
