"""Float64 NumPy references of the normalization kernels (batch_norm, layer_norm, group_norm):
textbook formulas on whole arrays, no blocking, no fusion. Each forward returns (y, mean, rstd)
as the kernels do; each backward (dx, dweight, dbias)."""

import numpy as np


def _f64(a):
    return None if a is None else np.asarray(a, dtype=np.float64)


def _normalize(x, axes, eps):
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    rstd = 1.0 / np.sqrt(var + eps)
    return (x - mean) * rstd, mean, rstd


def _dx(dy_w, xhat, rstd, axes):
    """The input gradient of xhat = (x - mean(x)) rstd(x) over `axes`, given dy * weight."""
    return rstd * (
        dy_w
        - dy_w.mean(axis=axes, keepdims=True)
        - xhat * (dy_w * xhat).mean(axis=axes, keepdims=True)
    )


def _channel_shape(x):
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def batch_norm(x, weight, bias, running_mean, running_var, training, momentum, eps):
    """(y, mean, rstd, new_running_mean, new_running_var); running buffers None stay None."""
    x = _f64(x)
    axes = (0, *range(2, x.ndim))
    cs = _channel_shape(x)
    rm, rv = _f64(running_mean), _f64(running_var)
    if training:
        xhat, mean, rstd = _normalize(x, axes, eps)
        mean, rstd = mean.reshape(-1), rstd.reshape(-1)
        if rm is not None:
            n = x.size // x.shape[1]
            unbiased = (x.var(axis=axes) * n / (n - 1)) if n > 1 else np.zeros_like(mean)
            rm = (1 - momentum) * rm + momentum * mean
            rv = (1 - momentum) * rv + momentum * unbiased
    else:
        mean, rstd = rm, 1.0 / np.sqrt(rv + eps)
        xhat = (x - mean.reshape(cs)) * rstd.reshape(cs)
    y = xhat * (1.0 if weight is None else _f64(weight).reshape(cs))
    y = y + (0.0 if bias is None else _f64(bias).reshape(cs))
    return y, mean, rstd, rm, rv


def batch_norm_backward(dy, x, weight, mean, rstd, training):
    dy, x = _f64(dy), _f64(x)
    axes = (0, *range(2, x.ndim))
    cs = _channel_shape(x)
    rstd_b = _f64(rstd).reshape(cs)
    xhat = (x - _f64(mean).reshape(cs)) * rstd_b
    w = 1.0 if weight is None else _f64(weight).reshape(cs)
    dx = _dx(dy * w, xhat, rstd_b, axes) if training else dy * w * rstd_b
    return dx, (dy * xhat).sum(axis=axes), dy.sum(axis=axes)


def layer_norm(x, normalized_shape, weight, bias, eps):
    x = _f64(x)
    axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    xhat, mean, rstd = _normalize(x, axes, eps)
    y = xhat * (1.0 if weight is None else _f64(weight))
    y = y + (0.0 if bias is None else _f64(bias))
    lead = x.shape[: x.ndim - len(normalized_shape)]
    return y, mean.reshape(lead), rstd.reshape(lead)


def layer_norm_backward(dy, x, normalized_shape, weight, eps):
    dy, x = _f64(dy), _f64(x)
    k = len(normalized_shape)
    axes = tuple(range(x.ndim - k, x.ndim))
    xhat, _, rstd = _normalize(x, axes, eps)
    w = 1.0 if weight is None else _f64(weight)
    lead_axes = tuple(range(x.ndim - k))
    return _dx(dy * w, xhat, rstd, axes), (dy * xhat).sum(axis=lead_axes), dy.sum(axis=lead_axes)


def _groups(x, num_groups):
    return x.reshape(x.shape[0], num_groups, -1)


def group_norm(x, num_groups, weight, bias, eps):
    x = _f64(x)
    xhat, mean, rstd = _normalize(_groups(x, num_groups), (2,), eps)
    xhat = xhat.reshape(x.shape)
    cs = _channel_shape(x)
    y = xhat * (1.0 if weight is None else _f64(weight).reshape(cs))
    y = y + (0.0 if bias is None else _f64(bias).reshape(cs))
    return y, mean.reshape(x.shape[0], num_groups), rstd.reshape(x.shape[0], num_groups)


def group_norm_backward(dy, x, num_groups, weight, eps):
    dy, x = _f64(dy), _f64(x)
    cs = _channel_shape(x)
    xg, _, rstd = _normalize(_groups(x, num_groups), (2,), eps)
    xhat = xg.reshape(x.shape)
    w = 1.0 if weight is None else _f64(weight).reshape(cs)
    dx = _dx(_groups(dy * w, num_groups), xg, rstd, (2,)).reshape(x.shape)
    axes = (0, *range(2, x.ndim))
    return dx, (dy * xhat).sum(axis=axes), dy.sum(axis=axes)
