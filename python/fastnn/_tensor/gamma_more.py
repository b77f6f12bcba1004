"""The gamma-function family's Tensor methods (a mixin of ``Tensor``): polygamma, mvlgamma (the
log of the multivariate gamma function) and the regularized incomplete gamma functions
igamma / igammac. polygamma and mvlgamma are compositions of differentiable ops (digamma,
lgamma, the zeta series of ``zeta.py``); igamma's primitive (``ops/igamma.py``) differentiates
in ``other`` only, as torch does.
"""

import math

from .._core import dtype as _dtype
from ..autograd import function as _function
from . import functions as _fns
from . import functions_more as _more
from . import zeta as _zeta
from .ops.igamma import Igamma


def _floating(x):
    d = x._data.dtype
    if d.kind == "c":  # these are real functions here; a cast would drop the imaginary part
        raise NotImplementedError(f"this function is not implemented for complex tensors ({d})")
    return x if _dtype.is_floating(d) else x.to(_dtype.default())


def _incomplete(a, other, name, upper):
    if not isinstance(other, _function.Tensor):
        raise TypeError(f"{name}(): argument 'other' must be Tensor, not {type(other).__name__}")
    dt = _fns._result_dtype((a, other))
    if not _dtype.is_floating(dt):
        raise NotImplementedError(
            f"{name} is only implemented for floating-point tensors, got "
            f"{_dtype.name(a._data.dtype)} and {_dtype.name(other._data.dtype)}"
        )
    try:
        x, y = _more.broadcast_tensors(a.to(dt), other.to(dt))
    except RuntimeError:
        raise RuntimeError(
            f"{name}: the shapes {list(a.shape)} and {list(other.shape)} cannot be broadcast"
        ) from None
    return Igamma.apply(x, y, upper=upper)


class GammaMoreMixin:
    __slots__ = ()

    def polygamma(self, n):
        """The n-th derivative of digamma (n = 0 is digamma itself)."""
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError(f"polygamma(): argument 'n' must be int, not {type(n).__name__}")
        if n < 0:
            raise RuntimeError(f"polygamma(n, x) does not support negative n, got n = {n}")
        x = _floating(self)
        return x.digamma() if n == 0 else _zeta.polygamma(n, x)

    def mvlgamma(self, p):
        """log of the multivariate gamma function of dimension p:
        p (p - 1) / 4 log(pi) + sum over j < p of lgamma(x - j / 2). Like torch, values at or
        below (p - 1) / 2 are not refused (they give lgamma's values there)."""
        if not isinstance(p, int) or isinstance(p, bool):
            raise TypeError(f"mvlgamma(): argument 'p' must be int, not {type(p).__name__}")
        if p < 1:
            raise RuntimeError(f"mvlgamma(): p has to be greater than or equal to 1, got {p}")
        x = _floating(self)
        total = x.lgamma()
        for j in range(1, p):
            total = total + (x - j / 2).lgamma()
        return total + p * (p - 1) / 4 * math.log(math.pi)

    def igamma(self, other):
        """The regularized lower incomplete gamma function P(self, other)."""
        return _incomplete(self, other, "igamma", False)

    def igammac(self, other):
        """The regularized upper incomplete gamma function Q(self, other) = 1 - P."""
        return _incomplete(self, other, "igammac", True)
