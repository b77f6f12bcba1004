"""Float64 NumPy references for every kernel (the oracle role of llm.c's *_cpu functions).

Plain, obviously-correct code: no tricks, no fusion. Tests and benchmarks compare against these.
"""

import math

import numpy as np

# ---- matmul ----------------------------------------------------------------------------------


# ---- activations -----------------------------------------------------------------------------
# Inputs are converted to float64; the results are float64. math.erf/erfc are applied per element
# (numpy has no erf), fine for test sizes.

_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def _f64(a):
    return np.asarray(a, dtype=np.float64)


def relu(x):
    x = _f64(x)
    return np.where(x < 0, 0.0, x)


def relu_backward(grad, x):
    return np.where(_f64(x) <= 0, 0.0, _f64(grad))


def leaky_relu(x, negative_slope=0.01):
    x = _f64(x)
    return np.where(x > 0, x, x * negative_slope)


def leaky_relu_backward(grad, x, negative_slope=0.01):
    g = _f64(grad)
    return np.where(_f64(x) > 0, g, g * negative_slope)


def sigmoid(x):
    x = _f64(x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_backward(grad, y):
    y = _f64(y)
    return _f64(grad) * y * (1 - y)


def tanh(x):
    return np.tanh(_f64(x))


def tanh_backward(grad, y):
    y = _f64(y)
    return _f64(grad) * (1 - y * y)


def _normal_cdf(x):
    return 0.5 * _erfc(-x / math.sqrt(2))


def gelu(x, approximate="none"):
    x = _f64(x)
    if approximate == "tanh":
        u = math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)
        return x * sigmoid(2 * u)  # = 0.5 x (1 + tanh(u)), without cancellation
    return x * _normal_cdf(x)


def gelu_backward(grad, x, approximate="none"):
    x, g = _f64(x), _f64(grad)
    if approximate == "tanh":
        u = math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)
        du = math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * x**2)
        s = sigmoid(2 * u)
        return g * (s + 2 * x * s * (1 - s) * du)
    return g * (_normal_cdf(x) + x * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi))


def log_softmax(x):
    x = _f64(x)
    m = np.max(x, axis=-1, keepdims=True)
    return x - m - np.log(np.sum(np.exp(x - m), axis=-1, keepdims=True))


def softmax(x):
    return np.exp(log_softmax(x))


def softmax_backward(grad, y):
    g, y = _f64(grad), _f64(y)
    return y * (g - np.sum(g * y, axis=-1, keepdims=True))


def log_softmax_backward(grad, y):
    g, y = _f64(grad), _f64(y)
    return g - np.exp(y) * np.sum(g, axis=-1, keepdims=True)



# ---- losses: softmax cross-entropy, binary cross-entropy -------------------------------------


# ---- optimizer steps -------------------------------------------------------------------------

