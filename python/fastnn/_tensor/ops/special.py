"""Primitives of special functions no kernel computes: erfc, erfinv, lgamma, digamma, i0.

They run in float64 numpy on the host (device arrays go there and back) and return the input's
float dtype. digamma and trigamma use the recurrence psi(x) = psi(x + 1) - 1/x up to x >= 10,
then the asymptotic series (error below 1e-13 there), and the reflection formula for x < 0.
erfinv starts from a single-precision polynomial guess and takes two Newton steps on erf.
"""

import math

import numpy as np

from ...autograd.function import Function

_erf = np.vectorize(math.erf, otypes=[np.float64])
_erfc = np.vectorize(math.erfc, otypes=[np.float64])
_lgamma_scalar = np.vectorize(
    lambda v: math.lgamma(v) if v > 0 or v != math.floor(v) else math.inf, otypes=[np.float64]
)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


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
    with np.errstate(divide="ignore", invalid="ignore"):
        w = -np.log((1.0 - x) * (1.0 + x))
        small = w < 5.0
        a = w - 2.5
        p = 2.81022636e-08
        for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                  -0.00125372503, -0.00417768164, 0.246640727, 1.50140941):  # fmt: skip
            p = c + p * a
        b = np.sqrt(w) - 3.0
        q = -0.000200214257
        for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
                  -0.0076224613, 0.00943887047, 1.00167406, 2.83297682):  # fmt: skip
            q = c + q * b
        y = np.where(small, p, q) * x
        finite = np.isfinite(y)
        for _ in range(2):  # Newton on erf(y) = x: the slope is 2/sqrt(pi) exp(-y^2)
            step = (_erf(np.where(finite, y, 0.0)) - x) / (_TWO_OVER_SQRT_PI * np.exp(-y * y))
            y = np.where(finite, y - step, y)
        y = np.where(np.abs(x) == 1, np.copysign(np.inf, x), y)
        return np.where(np.abs(x) > 1, np.nan, y)


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
