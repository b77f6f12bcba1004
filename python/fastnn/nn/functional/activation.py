"""``fastnn.nn.functional``: activations, softmax, dropout, one_hot and normalize (activations
call the element-wise kernels through their primitives in ``fastnn._tensor.ops.activation``)."""

import warnings

from ... import _devices
from ..._core import dtype as _dtype
from ..._tensor import Tensor as _Tensor
from ..._tensor.ops import activation as A
from ._dropout import Dropout as _Dropout


def relu(input, inplace=False):
    if inplace:
        return _maybe_inplace(input, A.ReLU.apply, True)
    # The Tensor methods (the same primitives) have the CPU shortcut outside autograd; anything
    # else goes to apply, which names a non-tensor argument in its TypeError.
    return input.relu() if input.__class__ is _Tensor else A.ReLU.apply(input)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return _maybe_inplace(
        input, lambda x: A.LeakyReLU.apply(x, negative_slope=negative_slope), inplace
    )


def gelu(input, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"approximate argument must be either none or tanh, got {approximate!r}")
    return A.GELU.apply(input, approximate=approximate)


def sigmoid(input):
    return input.sigmoid() if input.__class__ is _Tensor else A.Sigmoid.apply(input)


def tanh(input):
    return input.tanh() if input.__class__ is _Tensor else A.Tanh.apply(input)


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if min_val > max_val:
        raise ValueError(
            f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})"
        )
    args = (float(min_val), float(max_val))
    return _maybe_inplace(input, lambda x: A.Hardtanh.apply(x, args=args), inplace)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, and x where beta x > ``threshold`` (like torch)."""
    if beta == 0:
        raise ValueError("softplus: beta must be non-zero")
    return A.Softplus.apply(input, args=(float(beta), float(threshold)))


def elu(input, alpha=1.0, inplace=False):
    args = (float(alpha), 1.0, 1.0)
    return _maybe_inplace(input, lambda x: A.ELU.apply(x, args=args), inplace)


# torch's SELU constants (self-normalising: fixed points of mean 0, variance 1)
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):
    args = (_SELU_ALPHA, _SELU_SCALE, 1.0)
    return _maybe_inplace(input, lambda x: A.ELU.apply(x, args=args), inplace)


def silu(input, inplace=False):
    return _maybe_inplace(input, A.SiLU.apply, inplace)


def mish(input, inplace=False):
    return _maybe_inplace(input, A.Mish.apply, inplace)


def logsigmoid(input):
    return A.LogSigmoid.apply(input)


def prelu(input, weight):
    """x where x > 0, else weight * x; weight has one entry per channel (dim 1) or one in all."""
    if weight.ndim > 1:
        raise ValueError(f"prelu: weight must be 1-D, got shape {tuple(weight.shape)}")
    if weight.numel() != 1 and (input.ndim < 2 or input.shape[1] != weight.numel()):
        raise ValueError(
            f"prelu: weight has {weight.numel()} parameters but the input of shape "
            f"{tuple(input.shape)} has {input.shape[1] if input.ndim >= 2 else 1} channels in dim 1"
        )
    return A.PReLU.apply(input, weight)


def _implicit_softmax_dim(ndim, name, stacklevel):
    """torch's legacy choice when ``dim`` is omitted (0 for 0-, 1- and 3-D inputs, else 1), with
    its deprecation warning: programs that rely on it keep their numbers."""
    dim = 0 if ndim in (0, 1, 3) else 1
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
        "dim=X as an argument.",
        UserWarning,
        stacklevel=stacklevel,
    )
    return dim


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _implicit_softmax_dim(input.ndim, "softmax", _stacklevel)
    x = input if dtype is None else input.to(dtype)
    return x.softmax(dim)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _implicit_softmax_dim(input.ndim, "log_softmax", _stacklevel)
    x = input if dtype is None else input.to(dtype)
    return x.log_softmax(dim)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the kept ones by 1 / (1 - p)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    be = _devices.of(input._data)
    if be is _devices.cpu or _dtype.is_floating(
        input._data.dtype
    ):  # mask, scale, product: one pass
        return _maybe_inplace(input, lambda x: _Dropout.apply(x, p=float(p)), inplace)
    if p == 1.0:
        mask = be.zeros(input.shape, input.dtype)
    else:
        # wrap: on a 0-d input the product is a numpy scalar, which no device stores
        mask = be.wrap(be.mul(be.bernoulli(1.0 - p, input.shape, input.dtype), 1.0 / (1.0 - p)))
        mask = be.astype(mask, input.dtype) if mask.dtype != input.dtype else mask
    return _maybe_inplace(input, lambda x: x * x._make(mask), inplace)


def one_hot(tensor, num_classes=-1):
    """(..., ) int64 class indices -> (..., num_classes) int64 one-hot."""
    import numpy as np

    t = tensor.__array__()
    if t.dtype.kind not in "iu":
        raise RuntimeError("one_hot is only applicable to index tensor.")
    n = int(t.max()) + 1 if num_classes < 0 else num_classes
    if t.size and (t.min() < 0 or t.max() >= n):
        raise RuntimeError("Class values must be smaller than num_classes.")
    from ..._tensor.creation import tensor as make

    return make((t[..., None] == np.arange(n)).astype(np.int64), device=tensor.device)


def normalize(input, p=2.0, dim=1, eps=1e-12):
    return input / input.norm(p, dim=dim, keepdim=True).clamp_min(eps)


def _maybe_inplace(x, fn, inplace):
    """fn(x); with ``inplace=True`` the result is written into x (under the in-place rules of
    Tensor) and x is returned."""
    if not inplace:
        return fn(x)
    from ..._tensor.inplace import _inplace_record, _needs_record

    if _needs_record(x):
        return _inplace_record(x, fn)
    x.copy_(fn(x))
    return x


__all__ = [
    "dropout",
    "elu",
    "gelu",
    "hardtanh",
    "leaky_relu",
    "log_softmax",
    "logsigmoid",
    "mish",
    "normalize",
    "one_hot",
    "prelu",
    "relu",
    "relu6",
    "selu",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "tanh",
]
