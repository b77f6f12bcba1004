"""torch's in-place functional activations (``F.relu_``, ``F.elu_``, ``F.leaky_relu_``,
``F.hardtanh_``, ``F.selu_``, ``F.celu_``, ``F.threshold_``) and the randomized leaky ReLU
``F.rrelu`` / ``F.rrelu_``.

Each in-place form is its out-of-place twin with ``inplace=True``: the result is written into the
input, which is returned (same object, version counter bumped); a leaf that requires grad raises
torch's RuntimeError; inside a graph the write is recorded, so gradients flow.

rrelu: y = x for x > 0, a x otherwise. Training draws one slope a ~ U(lower, upper) per element
from fastnn's generator (the gradient is then 1 or that a); evaluation uses the mean slope
(lower + upper) / 2, i.e. leaky_relu.
"""

from ... import _devices
from ..._core import dtype as _dtype
from .activation import _maybe_inplace, elu, hardtanh, leaky_relu, relu, selu
from .activation_extra import celu
from .activation_extra import threshold as _threshold


def relu_(input):
    return relu(input, inplace=True)


def elu_(input, alpha=1.0):
    return elu(input, alpha, inplace=True)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def selu_(input):
    return selu(input, inplace=True)


def celu_(input, alpha=1.0):
    return celu(input, alpha, inplace=True)


def threshold_(input, threshold, value):
    return _threshold(input, threshold, value, inplace=True)


def _random_slopes(x, lower, upper):
    """where(x > 0, 1, a) with a ~ U(lower, upper) per element (a constant: no gradient)."""
    be = _devices.of(x._data)
    a = x._make(be.rand(tuple(x.shape), x.dtype)) * (upper - lower) + lower
    return a.masked_fill(x.detach() > 0, 1.0)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomized leaky ReLU: random negative slopes in [lower, upper] when training, their mean
    otherwise."""
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    if not training:
        return leaky_relu(input, (lower + upper) / 2.0, inplace)
    if not _dtype.is_floating(input.dtype):
        raise RuntimeError(f"rrelu: expected a floating-point input, got {input.dtype}")
    return _maybe_inplace(input, lambda x: x * _random_slopes(x, lower, upper), inplace)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, inplace=True)


__all__ = [
    "celu_",
    "elu_",
    "hardtanh_",
    "leaky_relu_",
    "relu_",
    "rrelu",
    "rrelu_",
    "selu_",
    "threshold_",
]
