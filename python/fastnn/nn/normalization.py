"""Normalization layers: BatchNorm1d / 2d / 3d, LayerNorm, GroupNorm with PyTorch's names,
signatures, defaults, state_dict keys and reprs. Each forward is one ``nn.functional`` call.

BatchNorm keeps running_mean / running_var (float buffers) and num_batches_tracked (an int64
buffer). In training with track_running_stats, each forward counts the batch and moves the running
statistics by ``momentum``, or by 1 / num_batches_tracked when momentum is None (a cumulative
average); in eval it normalises with them. Without track_running_stats there are no buffers and
batch statistics are used in eval too.
"""

import numpy as np

from .._core import dtype as _dtype
from .._tensor import Tensor
from . import functional as F
from .functional.normalization import _shape_tuple, check_batch_norm
from .layers import _place_parameters
from .module import Module
from .parameter import Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "GroupNorm", "LayerNorm"]


def _float_dtype(cls, dtype):
    dt = _dtype.default() if dtype is None else np.dtype(dtype)
    if not _dtype.is_floating(dt):
        raise TypeError(f"{cls}: dtype must be a floating dtype, got {dt}")
    return dt


def _count(cls, what, v):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{cls}: {what} must be a positive int, got {v!r}")
    if v <= 0:
        raise ValueError(f"{cls}: {what} must be a positive int, got {v!r}")
    return int(v)


def _affine(module, shape, affine, bias, dt):
    """weight = 1 and bias = 0 of ``shape``; registered as None when absent (torch's keys)."""
    if affine:
        module.weight = Parameter(Tensor(np.ones(shape, dt)))
        if bias:
            module.bias = Parameter(Tensor(np.zeros(shape, dt)))
        else:
            module.register_parameter("bias", None)
    else:
        module.register_parameter("weight", None)
        module.register_parameter("bias", None)


class _BatchNorm(Module):
    def __init__(
        self,
        num_features,
        eps=1e-05,
        momentum=0.1,
        affine=True,
        track_running_stats=True,
        device=None,
        dtype=None,
        *,
        bias=True,
    ):
        super().__init__()
        cls = type(self).__name__
        dt = _float_dtype(cls, dtype)
        self.num_features = _count(cls, "num_features", num_features)
        self.eps, self.momentum = eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        _affine(self, (self.num_features,), affine, bias, dt)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(self.num_features, dt)))
            self.register_buffer("running_var", Tensor(np.ones(self.num_features, dt)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, np.int64)))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)
        _place_parameters(self, device)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self):
        self.reset_running_stats()
        if self.weight is not None:
            self.weight.data.fill_(1)
        if self.bias is not None:
            self.bias.data.zero_()

    def _check_input_dim(self, input):
        raise NotImplementedError

    def forward(self, input):
        self._check_input_dim(input)
        # Batch statistics in training, and in eval too when there are no running statistics.
        batch_stats = self.training or self.running_mean is None
        running = self.running_mean is not None and (not self.training or self.track_running_stats)
        rm, rv = (self.running_mean, self.running_var) if running else (None, None)
        momentum = 0.0 if self.momentum is None else self.momentum
        check_batch_norm(input, rm, rv, self.weight, self.bias, batch_stats, momentum, self.eps)
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:
                momentum = 1.0 / float(self.num_batches_tracked.item())
        return F.batch_norm(input, rm, rv, self.weight, self.bias, batch_stats, momentum, self.eps)

    def extra_repr(self):
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over (N, C) or (N, C, L) input, per channel C."""

    def _check_input_dim(self, input):
        if input.ndim not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {input.ndim}D input)")


class BatchNorm2d(_BatchNorm):
    """Batch normalisation over (N, C, H, W) input, per channel C."""

    def _check_input_dim(self, input):
        if input.ndim != 4:
            raise ValueError(f"expected 4D input (got {input.ndim}D input)")


class BatchNorm3d(_BatchNorm):
    """Batch normalisation over (N, C, D, H, W) input, per channel C."""

    def _check_input_dim(self, input):
        if input.ndim != 5:
            raise ValueError(f"expected 5D input (got {input.ndim}D input)")


class LayerNorm(Module):
    """Normalises the trailing ``normalized_shape`` dimensions of each sample; weight (ones) and
    bias (zeros) of that shape with ``elementwise_affine``."""

    def __init__(
        self,
        normalized_shape,
        eps=1e-05,
        elementwise_affine=True,
        bias=True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        dt = _float_dtype("LayerNorm", dtype)
        self.normalized_shape = _shape_tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        _affine(self, self.normalized_shape, elementwise_affine, bias, dt)
        _place_parameters(self, device)

    def reset_parameters(self):
        if self.weight is not None:
            self.weight.data.fill_(1)
        if self.bias is not None:
            self.bias.data.zero_()

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )


class GroupNorm(Module):
    """Normalises each sample of (N, C, *) input over num_groups groups of C / num_groups
    channels; per-channel weight (ones) and bias (zeros) with ``affine``."""

    def __init__(
        self,
        num_groups,
        num_channels,
        eps=1e-05,
        affine=True,
        device=None,
        dtype=None,
        *,
        bias=True,
    ):
        super().__init__()
        dt = _float_dtype("GroupNorm", dtype)
        self.num_groups = _count("GroupNorm", "num_groups", num_groups)
        self.num_channels = _count("GroupNorm", "num_channels", num_channels)
        if self.num_channels % self.num_groups:
            raise ValueError(
                f"num_channels ({self.num_channels}) must be divisible by num_groups "
                f"({self.num_groups})"
            )
        self.eps, self.affine = eps, affine
        _affine(self, (self.num_channels,), affine, bias, dt)
        _place_parameters(self, device)

    def reset_parameters(self):
        if self.weight is not None:
            self.weight.data.fill_(1)
        if self.bias is not None:
            self.bias.data.zero_()

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.bias is not None}"
        )
