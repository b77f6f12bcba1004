"""Lazy layers whose input size is read from the first input: LazyConv1d / 2d / 3d and
LazyConvTranspose1d / 2d / 3d (in_channels), LazyBatchNorm1d / 2d / 3d and LazyInstanceNorm1d /
2d / 3d (num_features), like LazyLinear (layers.py).

Until the first forward the learnable tensors are ``UninitializedParameter``s (an optimizer built
before then holds these very objects, and they are given storage in place) and the running
statistics empty buffers; no random numbers are drawn, so the weights a seed gives match the
eager layer's. The first forward sizes everything, initialises it as the eager layer does, turns
the module into that layer (``cls_to_become``) and runs it.
"""

import numpy as np

from .._tensor import Tensor
from .conv import Conv2d
from .conv1d import Conv1d
from .conv3d import Conv3d, ConvTranspose3d
from .conv_transpose import ConvTranspose1d, ConvTranspose2d
from .instance_norm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from .layers import _place_parameters, _reset_affine
from .normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d
from .parameter import UninitializedParameter

__all__ = [
    "LazyBatchNorm1d",
    "LazyBatchNorm2d",
    "LazyBatchNorm3d",
    "LazyConv1d",
    "LazyConv2d",
    "LazyConv3d",
    "LazyConvTranspose1d",
    "LazyConvTranspose2d",
    "LazyConvTranspose3d",
    "LazyInstanceNorm1d",
    "LazyInstanceNorm2d",
    "LazyInstanceNorm3d",
]


def _uninitialized_like(p):
    return None if p is None else UninitializedParameter(dtype=p.dtype)


class _LazyConvNd:
    """in_channels = 0 and uninitialised weight / bias until the first forward."""

    cls_to_become = None
    _spatial = 2

    def __init__(
        self,
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
        object.__setattr__(self, "_lazy_pending", True)  # reset_parameters waits for the sizes
        # the eager constructor checks every argument; in_channels = groups is a placeholder
        super().__init__(
            groups, out_channels, kernel_size, stride=stride, padding=padding,
            dilation=dilation, groups=groups, bias=bias, padding_mode=padding_mode, device=None,
            dtype=dtype,
        )  # fmt: skip
        self.in_channels = 0
        self.weight = _uninitialized_like(self.weight)
        if self.bias is not None:
            self.bias = _uninitialized_like(self.bias)
        self._device = device

    def reset_parameters(self):
        if not self.__dict__.get("_lazy_pending"):
            _reset_affine(self)

    def forward(self, input, *args, **kwargs):
        k = self._spatial
        if input.ndim not in (k + 1, k + 2):
            raise RuntimeError(
                f"Expected {k + 1}D (unbatched) or {k + 2}D (batched) input to "
                f"{type(self).__name__}, but got input of size: {list(input.shape)}"
            )
        c = int(input.shape[1] if input.ndim == k + 2 else input.shape[0])
        if c % self.groups:
            raise ValueError("in_channels must be divisible by groups")
        self.in_channels = c
        if self._transposed:
            self.weight.materialize((c, self.out_channels // self.groups, *self.kernel_size))
        else:
            self.weight.materialize((self.out_channels, c // self.groups, *self.kernel_size))
        if self.bias is not None:
            self.bias.materialize((self.out_channels,))
        del self._lazy_pending
        _reset_affine(self)
        _place_parameters(self, self._device)
        del self._device
        self.__class__ = self.cls_to_become
        return self.forward(input, *args, **kwargs)


class LazyConv1d(_LazyConvNd, Conv1d):
    cls_to_become = Conv1d
    _spatial = 1


class LazyConv2d(_LazyConvNd, Conv2d):
    cls_to_become = Conv2d
    _spatial = 2


class LazyConv3d(_LazyConvNd, Conv3d):
    cls_to_become = Conv3d
    _spatial = 3


class _LazyConvTransposeNd(_LazyConvNd):
    """_LazyConvNd on the transposed constructor's argument order (output_padding after
    padding, dilation after bias)."""

    def __init__(
        self,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        output_padding=0,
        groups=1,
        bias=True,
        dilation=1,
        padding_mode="zeros",
        device=None,
        dtype=None,
    ):
        super().__init__(
            out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
            device, dtype,
        )  # fmt: skip
        self.output_padding = self._ntuple(output_padding, "output_padding", type(self).__name__, 0)


class LazyConvTranspose1d(_LazyConvTransposeNd, ConvTranspose1d):
    cls_to_become = ConvTranspose1d
    _spatial = 1


class LazyConvTranspose2d(_LazyConvTransposeNd, ConvTranspose2d):
    cls_to_become = ConvTranspose2d
    _spatial = 2


class LazyConvTranspose3d(_LazyConvTransposeNd, ConvTranspose3d):
    cls_to_become = ConvTranspose3d
    _spatial = 3


class _LazyBatchNorm:
    """num_features = 0, uninitialised weight / bias and empty running statistics until the
    first forward (with neither affine parameters nor running statistics nothing is inferred and
    num_features stays 0, as in torch)."""

    cls_to_become = None

    def __init__(
        self,
        eps=1e-05,
        momentum=0.1,
        affine=True,
        track_running_stats=True,
        device=None,
        dtype=None,
    ):
        super().__init__(1, eps, momentum, affine, track_running_stats, None, dtype)
        self.num_features = 0
        self.weight, self.bias = _uninitialized_like(self.weight), _uninitialized_like(self.bias)
        if track_running_stats:
            dt = self.running_mean.dtype
            self.register_buffer("running_mean", Tensor(np.zeros(0, dt)))
            self.register_buffer("running_var", Tensor(np.ones(0, dt)))
        self._device = device

    def _channel_dim(self, input):
        return 1

    def _pending(self):
        return isinstance(self.weight, UninitializedParameter) or (
            self.running_mean is not None and self.running_mean.numel() == 0
        )

    def forward(self, input):
        if self._pending():
            if input.ndim < 2:
                raise ValueError(f"expected 2D or more input (got {input.ndim}D input)")
            c = int(input.shape[self._channel_dim(input)])
            self.num_features = c
            for p in (self.weight, self.bias):
                if p is not None:
                    p.materialize((c,))
            if self.running_mean is not None:
                dt = self.running_mean.dtype
                self.register_buffer("running_mean", Tensor(np.zeros(c, dt)))
                self.register_buffer("running_var", Tensor(np.ones(c, dt)))
            self.reset_parameters()
            _place_parameters(self, self._device)
        del self._device
        self.__class__ = self.cls_to_become
        return self.forward(input)


class LazyBatchNorm1d(_LazyBatchNorm, BatchNorm1d):
    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyBatchNorm, BatchNorm2d):
    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyBatchNorm, BatchNorm3d):
    cls_to_become = BatchNorm3d


class _LazyInstanceNorm(_LazyBatchNorm):
    """_LazyBatchNorm with instance norm's unbatched input, whose channels are dim 0 (torch
    reads dim 1 there and then rejects the input); affine and track_running_stats default to
    True, as torch's lazy instance norms do."""

    def _channel_dim(self, input):
        return 0 if input.ndim == self._dims + 1 else 1


class LazyInstanceNorm1d(_LazyInstanceNorm, InstanceNorm1d):
    cls_to_become = InstanceNorm1d


class LazyInstanceNorm2d(_LazyInstanceNorm, InstanceNorm2d):
    cls_to_become = InstanceNorm2d


class LazyInstanceNorm3d(_LazyInstanceNorm, InstanceNorm3d):
    cls_to_become = InstanceNorm3d
