"""Primitives of special functions no kernel computes: erfc, erfinv, lgamma, digamma, i0.

They run in float64 numpy on the host (device arrays go there and back) and return the input's
float dtype. digamma and trigamma use the recurrence psi(x) = psi(x + 1) - 1/x up to x >= 10,
then the asymptotic series (error below 1e-13 there), and the reflection formula for x < 0.
erfinv solves erf(y) = x by Halley steps (see ``erfinv64``).
"""

import math

import numpy as np

from ... import _C
from ...autograd.function import Function

_erfc_libm = np.vectorize(math.erfc, otypes=[np.float64])
_lgamma_scalar = np.vectorize(
    lambda v: math.lgamma(v) if v > 0 or v != math.floor(v) else math.inf, otypes=[np.float64]
)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _erf(x):
    return _C.erf(np.ascontiguousarray(x, dtype=np.float64))


def _erfc(x):
    """erfc in float64: 1 - erf(x) where erfc(x) > 0.47 keeps that exact enough, the C
    library's erfc (one element at a time) beyond."""
    out = np.asarray(1.0 - _erf(x))
    tail = ~(x < 0.5)
    if tail.any():
        out[tail] = _erfc_libm(x[tail])
    return out


def _host64(be, a):
    return np.asarray(be.to_numpy(a), dtype=np.float64)


def _back(be, like, values):
    return be.from_numpy(np.ascontiguousarray(values, dtype=like.dtype))


def _shift_up(x, step):
    """Raise x to >= 10 by unit steps, summing step(x) on the way: (x shifted, sum)."""
    acc = np.zeros_like(x)
    for _ in range(10):
        low = x < 10
        acc += np.where(low, step(np.where(low, x, 1.0)), 0.0)
        x = np.where(low, x + 1.0, x)
    return x, acc


def digamma64(x):
    with np.errstate(divide="ignore", invalid="ignore"):
        neg = x < 0
        y = np.where(neg, 1.0 - x, x)
        y, acc = _shift_up(y, lambda v: 1.0 / v)
        r = 1.0 / (y * y)
        series = np.log(y) - 0.5 / y - r * (1 / 12 - r * (1 / 120 - r * (1 / 252 - r / 240)))
        out = series - acc
        out = np.where(neg, out - math.pi / np.tan(math.pi * x), out)
        out = np.where(x == 0, -np.inf, out)
        return np.where(neg & (x == np.floor(x)), np.nan, out)


def trigamma64(x):
    with np.errstate(divide="ignore", invalid="ignore"):
        neg = x < 0
        y = np.where(neg, 1.0 - x, x)
        y, acc = _shift_up(y, lambda v: 1.0 / (v * v))
        r = 1.0 / (y * y)
        series = 1 / y + r / 2 + (r / y) * (1 / 6 - r * (1 / 30 - r * (1 / 42 - r / 30)))
        out = series + acc
        return np.where(neg, (math.pi / np.sin(math.pi * x)) ** 2 - out, out)


def erfinv64(x):
    """erf(y) = x by Halley steps from a series start in the middle and a tail start near +-1.

    For |x| <= 1/2, y0 is the Maclaurin series of erfinv to x^5. Beyond, the equation is solved
    as erfc(|y|) = t with t = 1 - |x| (exact there), which keeps t's relative precision as
    |x| -> 1; erfc(y) ~ exp(-y^2) / (y sqrt(pi)) gives y0 = sqrt(-log(t sqrt(pi) y)), taken
    twice from y = sqrt(-log t). Halley's step on either form is y -= u / (1 + y u) with u the
    Newton step (erf'' = -2y erf'); from these starts six steps reach float64 rounding.
    """
    x = np.asarray(x, dtype=np.float64)
    a = np.abs(x)
    y = np.where(a == 1, np.inf, np.nan)  # |x| > 1 and NaN stay NaN
    mid = a <= 0.5
    z = a[mid]
    y[mid] = _halley(
        (math.sqrt(math.pi) / 2)
        * z
        * (1 + z * z * (math.pi / 12 + z * z * (7 * math.pi**2 / 480))),
        lambda v: _erf(v) - z,
    )
    tail = (a > 0.5) & (a < 1)
    t = 1.0 - a[tail]
    start = np.sqrt(-np.log(t))
    for _ in range(2):
        start = np.sqrt(-np.log(t * math.sqrt(math.pi) * start))
    y[tail] = _halley(start, lambda v: t - _erfc(v))
    return np.copysign(y, x)


def _halley(y, excess):
    """Six Halley steps on erf(y) - target, ``excess(y)`` giving that difference."""
    for _ in range(6):
        u = excess(y) / (_TWO_OVER_SQRT_PI * np.exp(-y * y))
        y = y - u / (1.0 + y * u)
    return y


def i1_64(x):
    """The modified Bessel function I1 by its power series (fine for |x| up to ~100)."""
    half = x / 2.0
    term = half.copy()
    out = term.copy()
    for k in range(200):
        term = term * half * half / ((k + 1) * (k + 2))
        out += term
        if not np.any(np.abs(term) > 1e-17 * np.abs(out)):
            break
    return out


class _HostUnary(Function):
    """f(x) in float64 on the host; subclasses give ``f`` and ``df`` (the derivative)."""

    save_inputs = True

    def forward(self, x):
        self.x = x
        return _back(self.be, x, self.f(_host64(self.be, x)))

    def backward(self, g):
        be = self.be
        return _back(be, g, _host64(be, g) * self.df(_host64(be, self.x)))


class Erfc(_HostUnary):
    f = staticmethod(_erfc)

    @staticmethod
    def df(x):  # d erfc = -2/sqrt(pi) exp(-x^2)
        return -_TWO_OVER_SQRT_PI * np.exp(-x * x)


class Erfinv(_HostUnary):
    f = staticmethod(erfinv64)

    @staticmethod
    def df(x):  # the inverse's slope: sqrt(pi)/2 exp(erfinv(x)^2)
        y = erfinv64(x)
        return np.exp(y * y) / _TWO_OVER_SQRT_PI


class Lgamma(_HostUnary):
    f = staticmethod(_lgamma_scalar)
    df = staticmethod(digamma64)  # d lgamma = digamma


class Digamma(_HostUnary):
    f = staticmethod(digamma64)
    df = staticmethod(trigamma64)  # d digamma = trigamma


class I0(_HostUnary):
    f = staticmethod(np.i0)
    df = staticmethod(i1_64)  # d I0 = I1
