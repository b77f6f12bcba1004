"""Argument checks and dtype handling shared by the special functions."""

import numbers

import numpy as np

from .._core import dtype as _dtype
from .._tensor import Tensor, tensor


def as_float_tensor(x, fn, arg="input"):
    """x as a floating tensor: a number becomes a tensor of the default dtype, an integer or bool
    tensor is promoted to it (as torch's special functions do)."""
    if isinstance(x, Tensor):
        return x if x.dtype.is_floating_point else x.to(_dtype.get_default_dtype())
    if isinstance(x, numbers.Real):
        return tensor(float(x))
    raise TypeError(f"{fn}(): argument '{arg}' must be Tensor or a number, not {type(x).__name__}")


def in_float64(fn, x, *rest):
    """fn(x, *rest) evaluated in float64 and cast back to x's dtype: for formulas whose
    intermediate values (tail probabilities, large powers) a float32 would underflow or
    overflow. Tensors in rest are widened too."""
    target = x.dtype
    wide = _dtype.PUBLIC["float64"]
    if target == wide and all(r.dtype == wide for r in rest):
        return fn(x, *rest)
    result = fn(x.to(wide), *(r.to(wide) for r in rest))
    with np.errstate(over="ignore"):  # values past the narrow type's range become inf, silently
        return result.to(target)
