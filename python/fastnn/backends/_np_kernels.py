"""numpy versions of the fastnn.kernels hot ops, with the kernels' signatures; cpu.py uses them
only for dtypes the kernels do not take (float16, integers) and as the float64 test oracle."""

import numpy as np


def matmul(a, b, *, trans_a=False, trans_b=False, bias=None):
    if trans_a:
        a = np.swapaxes(a, -1, -2)
    if trans_b:
        b = np.swapaxes(b, -1, -2)
    out = np.matmul(a, b)
    if bias is not None:
        out += bias
    return out


def relu(x):
    return np.maximum(x, 0)


def relu_backward(grad, x):
    return np.where(x > 0, grad, 0).astype(grad.dtype)


def leaky_relu(x, negative_slope=0.01):
    return np.where(x > 0, x, x * x.dtype.type(negative_slope))


def leaky_relu_backward(grad, x, negative_slope=0.01):
    return np.where(x > 0, grad, grad * grad.dtype.type(negative_slope))


def sigmoid(x):
    # stable for both signs: exp of a non-positive number only
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype)


def sigmoid_backward(grad, y):
    return grad * y * (1 - y)


def tanh(x):
    return np.tanh(x)


def tanh_backward(grad, y):
    return grad * (1 - y * y)


_SQRT_2_PI = np.sqrt(2 / np.pi)


def _erf(x):
    from math import erf

    return np.vectorize(erf, otypes=[np.float64])(x)


def gelu(x, approximate="none"):
    if approximate == "tanh":
        u = _SQRT_2_PI * (x + 0.044715 * x ** 3)
        return (0.5 * x * (1 + np.tanh(u))).astype(x.dtype)
    return (0.5 * x * (1 + _erf(x / np.sqrt(2)))).astype(x.dtype)


def gelu_backward(grad, x, approximate="none"):
    if approximate == "tanh":
        u = _SQRT_2_PI * (x + 0.044715 * x ** 3)
        t = np.tanh(u)
        d = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _SQRT_2_PI * (1 + 3 * 0.044715 * x * x)
    else:
        cdf = 0.5 * (1 + _erf(x / np.sqrt(2)))
        d = cdf + x * np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)
    return (grad * d).astype(grad.dtype)


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_backward(grad, y):
    return y * (grad - (grad * y).sum(axis=-1, keepdims=True))


def log_softmax(x):
    z = x - x.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def log_softmax_backward(grad, y):
    return grad - np.exp(y) * grad.sum(axis=-1, keepdims=True)


def softmax_cross_entropy(logits, target, *, reduction="mean", label_smoothing=0.0,
                          ignore_index=-100, weight=None, grad=False):
    """Cross-entropy of class indices with torch's semantics; grad: d(reduced loss)/d logits
    (for reduction='none', row i holds d loss_i / d logits_i)."""
    n, c = logits.shape
    logp = log_softmax(logits)
    if target.dtype.kind == "f":  # class probabilities
        w = np.ones(c, logits.dtype) if weight is None else weight
        tp = (1 - label_smoothing) * target + label_smoothing / c
        loss = -(w * tp * logp).sum(axis=1)
        out = loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss
        out = np.asarray(out, dtype=logits.dtype)
        if not grad:
            return out
        d = np.exp(logp) * (w * tp).sum(axis=1, keepdims=True) - w * tp
        return out, (d / n if reduction == "mean" else d).astype(logits.dtype)
    valid = target != ignore_index
    t = np.where(valid, target, 0)
    rows = np.arange(n)
    w = np.ones(c, logits.dtype) if weight is None else weight
    wt = w[t] * valid
    eps = label_smoothing
    loss = (1 - eps) * wt * -logp[rows, t]
    if eps:
        loss = loss + eps / c * -(logp * w).sum(axis=1) * valid
    denom = wt.sum()
    if reduction == "mean":
        out = loss.sum() / denom
    elif reduction == "sum":
        out = loss.sum()
    else:
        out = loss
    out = np.asarray(out, dtype=logits.dtype)
    if not grad:
        return out
    p = np.exp(logp)
    d = p * ((1 - eps) * wt)[:, None]
    d[rows, t] -= (1 - eps) * wt
    if eps:
        d += eps / c * (w.sum() * p - w) * valid[:, None]
    if reduction == "mean":
        d /= denom
    return out, d.astype(logits.dtype)


def binary_cross_entropy_with_logits(logits, target, *, weight=None, pos_weight=None,
                                     reduction="mean", grad=False):
    x, y = logits, target
    sp = np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x)))  # log(1 + exp(-x)), stable
    coef = 1 if pos_weight is None else 1 + (pos_weight - 1) * y
    loss = (1 - y) * x + coef * sp
    d = (1 - y) - coef * sigmoid(-x)
    if weight is not None:
        loss = loss * weight
        d = d * weight
    loss = np.broadcast_to(loss, x.shape)
    d = np.broadcast_to(d, x.shape)
    if reduction == "mean":
        out, d = loss.mean(), d / x.size
    elif reduction == "sum":
        out = loss.sum()
    else:
        out = loss
    out = np.asarray(out, dtype=x.dtype)
    return (out, np.ascontiguousarray(d, dtype=x.dtype)) if grad else out
