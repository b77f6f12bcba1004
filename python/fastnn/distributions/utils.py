"""Helpers the distributions share: parameters broadcast to one float dtype, probabilities and
logits converted both ways, and the lazily derived parameter (probs from logits and back)."""

import numbers

from .._core.dtype import finfo, get_default_dtype, promote_types
from .._tensor import Tensor, as_tensor, rand
from .._tensor.functions_more import broadcast_tensors


def broadcast_all(*values):
    """Tensors and Python numbers as tensors of one float dtype, broadcast to one shape.

    Numbers take the tensors' float dtype (the default dtype when no tensor is floating), so
    ``Normal(0.0, scale64)`` is float64 throughout."""
    for v in values:
        if not isinstance(v, (Tensor, numbers.Number)):
            raise ValueError(  # noqa: TRY004 (torch raises ValueError here)
                "Input arguments must all be instances of numbers.Number or fastnn.Tensor, "
                f"got {type(v).__name__}"
            )
    dt = None
    for v in values:
        if isinstance(v, Tensor) and v.is_floating_point():
            dt = v.dtype if dt is None else promote_types(dt, v.dtype)
    dt = get_default_dtype() if dt is None else dt
    device = next((v.device for v in values if isinstance(v, Tensor)), None)
    tensors = [
        (v if v.dtype == dt else v.to(dt))
        if isinstance(v, Tensor)
        else as_tensor(v, dtype=dt, device=device)
        for v in values
    ]
    return broadcast_tensors(*tensors) if len(tensors) > 1 else tuple(tensors)


def as_float(value, like):
    """``value`` as a tensor of ``like``'s dtype (numbers and int tensors converted)."""
    if not isinstance(value, Tensor):
        return as_tensor(value, dtype=like.dtype, device=like.device)
    return value if value.dtype == like.dtype else value.to(like.dtype)


def clamp_probs(probs):
    """Probabilities kept inside (0, 1) by one machine epsilon, so their logs stay finite."""
    eps = finfo(probs.dtype).eps
    return probs.clamp(eps, 1 - eps)


def probs_to_logits(probs, is_binary=False):
    """Log-odds of Bernoulli probabilities, or the log of categorical ones."""
    p = clamp_probs(probs)
    return p.log() - (-p).log1p() if is_binary else p.log()


def logits_to_probs(logits, is_binary=False):
    """The inverse of ``probs_to_logits``: a sigmoid, or a softmax over the last axis."""
    return logits.sigmoid() if is_binary else logits.softmax(-1)


class lazy_property:
    """A property computed on first read and then kept as a plain attribute of the instance
    (a distribution given logits derives probs only if someone asks)."""

    def __init__(self, fn):
        self.fn = fn
        self.__doc__ = fn.__doc__
        self.__name__ = fn.__name__

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        value = self.fn(instance)
        instance.__dict__[self.__name__] = value
        return value


def softplus(x):
    """log(1 + exp(x)), finite for any x: max(x, 0) + log1p(exp(-|x|))."""
    return x.clamp(min=0) + (-x.abs()).exp().log1p()


def uniform_open(shape, like):
    """Uniform draws in the open interval (0, 1) (the smallest normal float instead of 0), in
    ``like``'s dtype and device: their logs are finite."""
    u = rand(shape, dtype=like.dtype, device=like.device)
    return u.clamp(min=finfo(like.dtype).tiny)
