"""Signal windows with torch's names and conventions: hann, hamming, blackman, bartlett and
kaiser. ``periodic=True`` (the default) gives the window for spectral analysis: the symmetric
window one sample longer with its last sample dropped, so consecutive frames tile evenly.

The values are computed in float64 with numpy and then cast, so float32 windows are the rounded
float64 ones."""

import math
import operator

import numpy as np

from .._core import dtype as _dtype
from . import creation as _creation


def _samples(fn, window_length, periodic):
    """The sample positions x = 2*pi*n/(N-1) of the symmetric window of length N (N = L + 1 when
    periodic), or None when the window is empty or the single sample 1."""
    try:
        length = operator.index(window_length)
    except TypeError:
        raise TypeError(
            f"{fn}(): window_length must be an int, got {type(window_length).__name__}"
        ) from None
    if length < 0:
        raise ValueError(f"{fn}(): window_length must be non-negative, got {length}")
    if length <= 1:
        return length, None
    n = length + 1 if periodic else length
    return length, np.arange(length, dtype=np.float64) / (n - 1)


def _finish(fn, values, length, dtype, device, requires_grad):
    dt = _dtype.to_dtype(dtype) if dtype is not None else _dtype.default()
    if not np.issubdtype(dt, np.floating):
        raise TypeError(f"{fn}(): dtype must be a floating point type, got {_dtype.name(dt)}")
    if values is None:  # the empty window, or the single sample 1
        values = np.ones(length, dtype=np.float64)
    return _creation.tensor(
        values.astype(dt), dtype=dtype, device=device, requires_grad=requires_grad
    )


def _cosine_sum(fn, coefficients, window_length, periodic, dtype, device, requires_grad):
    # a0 - a1 cos(2 pi t) + a2 cos(4 pi t) - ..., t = n / (N - 1)
    length, t = _samples(fn, window_length, periodic)
    values = None
    if t is not None:
        values = sum(
            (-1) ** k * a * np.cos(2 * math.pi * k * t) for k, a in enumerate(coefficients)
        )
    return _finish(fn, values, length, dtype, device, requires_grad)


def hann_window(
    window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False
):
    """0.5 - 0.5 cos(2 pi n / (N - 1))."""
    return _cosine_sum(
        "hann_window", (0.5, 0.5), window_length, periodic, dtype, device, requires_grad
    )


def hamming_window(
    window_length,
    periodic=True,
    alpha=0.54,
    beta=0.46,
    *,
    dtype=None,
    layout=None,
    device=None,
    requires_grad=False,
):
    """alpha - beta cos(2 pi n / (N - 1))."""
    coefficients = (float(alpha), float(beta))
    return _cosine_sum(
        "hamming_window", coefficients, window_length, periodic, dtype, device, requires_grad
    )


def blackman_window(
    window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False
):
    """0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))."""
    return _cosine_sum(
        "blackman_window", (0.42, 0.5, 0.08), window_length, periodic, dtype, device, requires_grad
    )


def bartlett_window(
    window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False
):
    """The triangle 1 - |2n / (N - 1) - 1|."""
    length, t = _samples("bartlett_window", window_length, periodic)
    values = None if t is None else 1.0 - np.abs(2.0 * t - 1.0)
    return _finish("bartlett_window", values, length, dtype, device, requires_grad)


def kaiser_window(
    window_length,
    periodic=True,
    beta=12.0,
    *,
    dtype=None,
    layout=None,
    device=None,
    requires_grad=False,
):
    """I0(beta sqrt(1 - (2n / (N - 1) - 1)^2)) / I0(beta), I0 the modified Bessel function."""
    length, t = _samples("kaiser_window", window_length, periodic)
    values = None
    if t is not None:
        r = np.clip(1.0 - (2.0 * t - 1.0) ** 2, 0.0, None)  # rounding may dip just below 0
        values = np.i0(float(beta) * np.sqrt(r)) / np.i0(float(beta))
    return _finish("kaiser_window", values, length, dtype, device, requires_grad)


__all__ = ["bartlett_window", "blackman_window", "hamming_window", "hann_window", "kaiser_window"]
