"""``fastnn.nn.functional``: activations, softmax, dropout, one_hot and normalize (activations
call the element-wise kernels through their primitives in ``fastnn._tensor.ops.activation``)."""

import warnings

from ... import _devices
from ..._tensor.ops import activation as A
from ..._tensor.ops.elementwise import Clamp


def relu(input, inplace=False):
    return A.ReLU.apply(input) if not inplace else _maybe_inplace(input, A.ReLU.apply, True)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return _maybe_inplace(
        input, lambda x: A.LeakyReLU.apply(x, negative_slope=negative_slope), inplace
    )


def gelu(input, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"approximate argument must be either none or tanh, got {approximate!r}")
    return A.GELU.apply(input, approximate=approximate)


def sigmoid(input):
    return A.Sigmoid.apply(input)


def tanh(input):
    return A.Tanh.apply(input)


def relu6(input, inplace=False):
    return _maybe_inplace(input, lambda x: Clamp.apply(x, lo=0.0, hi=6.0), inplace)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    return _maybe_inplace(input, lambda x: Clamp.apply(x, lo=min_val, hi=max_val), inplace)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, linear above ``threshold`` (like torch)."""
    from ..._tensor.functions import where

    bx = input * beta
    soft = (bx.clamp_max(threshold).exp() + 1).log() / beta
    return where(bx > threshold, input, soft)


def elu(input, alpha=1.0, inplace=False):
    from ..._tensor.functions import where

    return _maybe_inplace(
        input, lambda x: where(x > 0, x, (x.clamp_max(0.0).exp() - 1) * alpha), inplace
    )


def silu(input, inplace=False):
    return _maybe_inplace(input, lambda x: x * A.Sigmoid.apply(x), inplace)


def logsigmoid(input):
    return -softplus(-input)


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
    if p == 1.0:
        mask = be.zeros(input.shape, input.dtype)
    else:
        mask = be.mul(be.bernoulli(1.0 - p, input.shape, input.dtype), 1.0 / (1.0 - p))
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
    "normalize",
    "one_hot",
    "relu",
    "relu6",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "tanh",
]
