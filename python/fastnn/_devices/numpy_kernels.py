"""numpy versions of the fastnn.kernels element-wise hot ops and matmul, with the kernels'
signatures; cpu.py uses them only for dtypes the kernels do not take (float16, integers)."""

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
        u = _SQRT_2_PI * (x + 0.044715 * x**3)
        return (0.5 * x * (1 + np.tanh(u))).astype(x.dtype)
    return (0.5 * x * (1 + _erf(x / np.sqrt(2)))).astype(x.dtype)


def gelu_backward(grad, x, approximate="none"):
    if approximate == "tanh":
        u = _SQRT_2_PI * (x + 0.044715 * x**3)
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
