"""torch.special's zeta and polygamma: argument checks over the float-tensor forms of
``_tensor/zeta.py`` (shared with ``Tensor.polygamma``)."""

from .._tensor import Tensor
from .._tensor import functions_api as _api
from .._tensor import zeta as _z
from ._common import as_float_tensor


def zeta(input, other):
    """The Hurwitz zeta function sum_k (q + k)^-x, for x = input and q = other: inf at x = 1 and
    at non-positive integer q, NaN for x < 1 or for q <= 0 with non-integer x. Float64 values
    agree with torch to ~1e-14 relative."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError("zeta(): at least one of 'input' and 'other' must be a Tensor")
    x = as_float_tensor(input, "zeta")
    q = as_float_tensor(other, "zeta", "other")
    if x.dtype != q.dtype:  # the wider float, as torch's promotion gives
        wide = x.dtype if x.dtype.itemsize >= q.dtype.itemsize else q.dtype
        x, q = x.to(wide), q.to(wide)
    return _z.hurwitz_zeta(x, q)


def polygamma(n, input):
    """The n-th derivative of digamma: digamma for n = 0, else (-1)^(n+1) n! zeta(n+1, x)."""
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"polygamma(): argument 'n' must be int, not {type(n).__name__}")
    if n < 0:
        raise RuntimeError(f"polygamma(n, x) does not support negative n, got n = {n}")
    x = as_float_tensor(input, "polygamma")
    if n == 0:
        return _api.digamma(x)
    return _z.polygamma(n, x)
