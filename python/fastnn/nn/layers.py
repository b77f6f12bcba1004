"""Layers: Linear, Flatten, Identity, Dropout and the activation modules.

Each forward is one call into ``nn.functional`` (which calls the kernels), so a module adds no
math of its own.
"""

import math

import numpy as np

from .._core import dtype as _dtype
from .._core.device import CPU, default_device
from .._tensor import Tensor
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter, UninitializedParameter

__all__ = [
    "GELU",
    "Bilinear",
    "Dropout",
    "Flatten",
    "Identity",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "Tanh",
]


def _positive_int(value, what, cls):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        # torch's tensor factory refuses a float size with a TypeError
        raise TypeError(f"{cls}: {what} must be a non-negative int, got {value!r}")
    if value < 0:
        raise ValueError(f"{cls}: {what} must be a non-negative int, got {value!r}")
    return int(value)


def _affine_parameters(module, weight_shape, bias, dtype, bias_shape=None, complex_ok=False):
    """Create module.weight (weight_shape) and module.bias (bias_shape, by default
    (weight_shape[0],)), uninitialised; a lazy module passes weight_shape=None and gets
    UninitializedParameters. ``complex_ok``: a module whose op takes complex tensors (Linear's
    product is numpy's for them)."""
    dt = _dtype.default() if dtype is None else np.dtype(dtype)
    if not (_dtype.is_floating(dt) or (complex_ok and dt.kind == "c")):
        raise TypeError(f"{type(module).__name__}: dtype must be a floating dtype, got {dt}")

    def make(shape):
        if weight_shape is None:
            return UninitializedParameter(dtype=dt)
        return Parameter(Tensor(np.empty(shape, dt)))

    module.weight = make(weight_shape)
    if bias:
        module.bias = make(bias_shape or (weight_shape and weight_shape[:1]))
    else:
        module.register_parameter("bias", None)


def _place_parameters(module, device):
    """Move a freshly initialised module to ``device``, or to the default device when None.

    Parameters are drawn on the CPU (so a seed gives the same weights on every device) and moved
    once; with the CPU as default and no ``device=``, nothing happens.
    """
    dev = default_device(device)
    if dev != CPU:
        module.to(dev)


def _reset_affine(module):
    """PyTorch's default init of Linear and Conv layers: kaiming_uniform_(a=sqrt(5)) weights and
    bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    init.kaiming_uniform_(module.weight, a=math.sqrt(5))
    if module.bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(module.weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(module.bias, -bound, bound)


class Linear(Module):
    """``y = x W^T + b`` with W of shape (out_features, in_features).

    Initialised like PyTorch: W ~ kaiming_uniform(a=sqrt(5)), i.e. U(+-1/sqrt(in_features)), and
    b ~ U(+-1/sqrt(in_features)). The forward is one GEMM with the bias fused (``F.linear``).
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features = _positive_int(in_features, "in_features", "Linear")
        self.out_features = _positive_int(out_features, "out_features", "Linear")
        _affine_parameters(
            self, (self.out_features, self.in_features), bias, dtype, complex_ok=True
        )
        self.reset_parameters()
        _place_parameters(self, device)

    def reset_parameters(self):
        _reset_affine(self)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class LazyLinear(Linear):
    """``Linear`` whose ``in_features`` is read from the first input it sees.

    Until then ``weight`` and ``bias`` are ``UninitializedParameter``s; the first forward gives
    them their shapes in place, initialises them like ``Linear`` and turns the module into a
    ``Linear``. Parameters handed to an optimizer before that keep being updated after it.
    """

    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        Module.__init__(self)
        self.in_features = 0
        self.out_features = _positive_int(out_features, "out_features", "LazyLinear")
        _affine_parameters(self, None, bias, dtype)
        self._device = device

    def reset_parameters(self):
        if self.in_features:  # nothing to initialise before the shapes are known
            _reset_affine(self)

    def forward(self, input):
        if input.ndim == 0:
            raise RuntimeError("LazyLinear: the input must have at least one dimension")
        self.in_features = _positive_int(input.shape[-1], "input.shape[-1]", "LazyLinear")
        self.weight.materialize((self.out_features, self.in_features))
        if self.bias is not None:
            self.bias.materialize((self.out_features,))
        self.reset_parameters()
        _place_parameters(self, self._device)
        del self._device
        self.__class__ = self.cls_to_become
        return self.forward(input)

    def extra_repr(self):
        return f"in_features=0, out_features={self.out_features}, bias={self.bias is not None}"


class Identity(Module):
    """Returns its input (accepts and ignores any constructor arguments, like torch)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Bilinear(Module):
    """``y = x1^T A x2 + b`` with A of shape (out_features, in1_features, in2_features);
    weight and bias ~ U(+-1/sqrt(in1_features)), as torch's."""

    def __init__(
        self, in1_features, in2_features, out_features, bias=True, device=None, dtype=None
    ):
        super().__init__()
        self.in1_features = _positive_int(in1_features, "in1_features", "Bilinear")
        self.in2_features = _positive_int(in2_features, "in2_features", "Bilinear")
        self.out_features = _positive_int(out_features, "out_features", "Bilinear")
        shape = (self.out_features, self.in1_features, self.in2_features)
        _affine_parameters(self, shape, bias, dtype)
        self.reset_parameters()
        _place_parameters(self, device)

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )


class Flatten(Module):
    """Flattens dims ``start_dim..end_dim`` into one: (N, 1, 28, 28) -> (N, 784) by default."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        shape = tuple(input.shape)
        nd = max(len(shape), 1)
        s = self.start_dim + nd if self.start_dim < 0 else self.start_dim
        e = self.end_dim + nd if self.end_dim < 0 else self.end_dim
        if not (0 <= s < nd and 0 <= e < nd):
            raise IndexError(
                f"Flatten: dimension out of range (start_dim={self.start_dim}, "
                f"end_dim={self.end_dim}) for input of shape {shape}"
            )
        if s > e:
            raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
        if len(shape) == 0:
            return input.reshape((1,))
        new = (*shape[:s], math.prod(shape[s : e + 1]), *shape[e + 1 :])
        return input.reshape(new)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class ReLU(Module):
    # Non-decreasing: a Sequential may run it after the max pooling that follows it.
    _commutes_with_max = True

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input, self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Sigmoid(Module):
    def forward(self, input):
        return F.sigmoid(input)


class Tanh(Module):
    def forward(self, input):
        return F.tanh(input)


class GELU(Module):
    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Softmax(Module):
    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.log_softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Dropout(Module):
    """Zeroes each element with probability ``p`` while training and scales the kept ones by
    ``1 / (1 - p)``, so the expected value is unchanged; the identity in eval mode.

    ``F.dropout`` draws the mask from fastnn's global generator (``fastnn.manual_seed``).
    """

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = float(p)
        self.inplace = inplace

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"
