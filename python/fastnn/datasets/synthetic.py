"""Synthetic data sets (the d2l linear regression's data)."""

import numpy as np

from .._core import random as _random


def synthetic_regression(w, b, n, noise=0.01, dtype=np.float32):
    """``y = X w + b + noise`` with ``X ~ N(0, 1)`` of shape (n, len(w)); returns (X, y (n, 1)).

    Draws from fastnn's global generator (``fastnn.manual_seed`` makes it reproducible); the
    result are float32 tensors by default, as in d2l's ``synthetic_data``.
    """
    from .._tensor.core import Tensor

    w = np.asarray(w._data if isinstance(w, Tensor) else w, dtype=np.float64).reshape(-1)
    b = float(b.item() if isinstance(b, Tensor) else b)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"synthetic_regression: n must be a non-negative int, got {n!r}")
    if noise < 0:
        raise ValueError(f"synthetic_regression: noise must be >= 0, got {noise!r}")
    g = _random.generator()
    X = g.standard_normal((int(n), w.size))
    y = X @ w + b + noise * g.standard_normal(int(n))
    return Tensor(X.astype(dtype)), Tensor(y.reshape(-1, 1).astype(dtype))
