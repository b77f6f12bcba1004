"""numpy versions of the fastnn.kernels element-wise hot ops and matmul, with the kernels'
signatures; cpu.py uses them only for dtypes the kernels do not take (float16, integers)."""

import numpy as np

from .._core import dtype as _dtype


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
    if x.dtype.kind == "c":  # no sign to split on: the formula itself, as torch computes it
        return 1 / (1 + np.exp(-x))
    # stable for both signs: exp of a non-positive number only
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype)


def sigmoid_backward(grad, y):
    return grad * y * (1 - y)


def tanh(x):
    return np.tanh(x)


def tanh_backward(grad, y):
    return grad * (1 - y * y)


def exp(x):
    return np.exp(x)


def exp_backward(grad, y):
    return grad * y


def sqrt(x):
    return np.sqrt(x)


def sqrt_backward(grad, y):
    return grad / (y * 2)


def log(x):
    return np.log(x)


def log_backward(grad, x):
    return grad / x


def sin(x):
    return np.sin(x)


def sin_backward(grad, x):
    return grad * np.cos(x)


def cos(x):
    return np.cos(x)


def cos_backward(grad, x):
    return -grad * np.sin(x)


def erf(x):
    return _erf(x).astype(x.dtype if _dtype.is_floating(x.dtype) else np.float64)


def erf_backward(grad, x):
    return grad * (2 / np.sqrt(np.pi)) * np.exp(-x * x)


def arctan(x):
    return np.arctan(x)


def arctan_backward(grad, x):
    return grad / (x * x + 1)


def log1p(x):
    return np.log1p(x)


def log1p_backward(grad, x):
    return grad / (x + 1)


def expm1(x):
    return np.expm1(x)


def expm1_backward(grad, x):
    return grad * np.exp(x)


def rsqrt(x):
    return 1 / np.sqrt(x)


def rsqrt_backward(grad, y):
    return grad * -0.5 * (y * y * y)


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


def softmax(x, dim=-1):
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def softmax_backward(grad, y, dim=-1):
    return y * (grad - (grad * y).sum(axis=dim, keepdims=True))


def log_softmax(x, dim=-1):
    z = x - x.max(axis=dim, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=dim, keepdims=True))


def log_softmax_backward(grad, y, dim=-1):
    return grad - np.exp(y) * grad.sum(axis=dim, keepdims=True)


# ---- silu, mish, softplus, elu, hardtanh, logsigmoid, prelu: computed in float64 ------------


def _f64(fn):
    def op(*arrays_and_args):
        dt = arrays_and_args[0].dtype
        args = [a.astype(np.float64) if isinstance(a, np.ndarray) else a for a in arrays_and_args]
        out = fn(*args)
        return out.astype(dt) if _dtype.is_floating(dt) else out

    op.__name__ = fn.__name__
    return op


def _sig(x):
    return 0.5 * (1 + np.tanh(0.5 * x))


def _softplus1(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


@_f64
def silu(x):
    return x * _sig(x)


@_f64
def silu_backward(grad, x):
    s = _sig(x)
    return grad * s * (1 + x * (1 - s))


@_f64
def mish(x):
    return x * np.tanh(_softplus1(x))


@_f64
def mish_backward(grad, x):
    t = np.tanh(_softplus1(x))
    return grad * (t + x * _sig(x) * (1 - t * t))


@_f64
def softplus(x, beta=1.0, threshold=20.0):
    z = x * beta
    return np.where(z > threshold, x, _softplus1(z) / beta)


@_f64
def softplus_backward(grad, x, beta=1.0, threshold=20.0):
    z = x * beta
    return np.where(z > threshold, grad, grad * _sig(z))


@_f64
def elu(x, alpha=1.0, scale=1.0, input_scale=1.0):
    return np.where(x > 0, scale * x, scale * alpha * np.expm1(np.minimum(x, 0) * input_scale))


@_f64
def elu_backward(grad, x, alpha=1.0, scale=1.0, input_scale=1.0):
    neg = scale * alpha * input_scale * np.exp(np.minimum(x, 0) * input_scale)
    return np.where(x > 0, grad * scale, grad * neg)


@_f64
def hardtanh(x, min_val=-1.0, max_val=1.0):
    return np.where(x < min_val, min_val, np.where(x > max_val, max_val, x))


@_f64
def hardtanh_backward(grad, x, min_val=-1.0, max_val=1.0):
    return np.where((x <= min_val) | (x >= max_val), 0.0, grad)


@_f64
def logsigmoid(x):
    return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


@_f64
def logsigmoid_backward(grad, x):
    return grad * _sig(-x)


def _prelu_weight(x, weight):
    w = weight.astype(np.float64).reshape(-1)
    if w.size == 1 or x.ndim < 2:
        return w.reshape(())
    return w.reshape((1, -1) + (1,) * (x.ndim - 2))


def prelu(x, weight):
    x64 = x.astype(np.float64)
    return np.where(x64 > 0, x64, _prelu_weight(x, weight) * x64).astype(x.dtype)


def prelu_backward(grad, x, weight, need_weight=True):
    x64, g64 = x.astype(np.float64), grad.astype(np.float64)
    w = _prelu_weight(x, weight)
    dx = np.where(x64 > 0, g64, w * g64).astype(grad.dtype)
    if not need_weight:
        return dx, None
    contrib = np.where(x64 > 0, 0.0, g64 * x64)
    if weight.size == 1 or x.ndim < 2:
        dw = np.asarray(contrib.sum()).reshape(weight.shape)
    else:
        dw = contrib.sum(axis=tuple(i for i in range(x.ndim) if i != 1)).reshape(weight.shape)
    return dx, dw.astype(weight.dtype)
