"""Float64 NumPy references for every kernel: the slow twin each kernel is checked against.

Plain, obviously-correct code: no tricks, no fusion. Tests and benchmarks compare against these.
"""

import math

import numpy as np

# ---- matmul ----------------------------------------------------------------------------------


def matmul(a, b, *, trans_a=False, trans_b=False, alpha=1.0, beta=0.0, out=None, bias=None):
    """alpha * op(a) @ op(b) + beta * out + bias in float64; op transposes the last two dims.

    beta == 0 ignores out's contents (BLAS semantics: NaN there does not propagate).
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if trans_a:
        a = np.swapaxes(a, -1, -2)
    if trans_b:
        b = np.swapaxes(b, -1, -2)
    c = alpha * np.matmul(a, b)
    if beta != 0:
        c = c + beta * np.asarray(out, dtype=np.float64)
    if bias is not None:
        c = c + np.asarray(bias, dtype=np.float64)
    return c


# ---- activations -----------------------------------------------------------------------------
# Inputs are converted to float64; the results are float64. math.erf/erfc are applied per element
# (numpy has no erf), fine for test sizes.

_erfc = np.vectorize(math.erfc, otypes=[np.float64])
_erf = np.vectorize(math.erf, otypes=[np.float64])


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


def exp(x):
    """e^x in float64; inf where a float32 x's result is beyond float32's range (it overflows)."""
    r = np.exp(_f64(x))
    if np.asarray(x).dtype == np.float32:
        r = np.where(r > np.finfo(np.float32).max, np.inf, r)
    return r


def exp_backward(grad, y):
    return _f64(grad) * _f64(y)


def sqrt(x):
    with np.errstate(invalid="ignore"):  # NaN below 0, as the kernels give
        return np.sqrt(_f64(x))


def sqrt_backward(grad, y):
    return _f64(grad) / (2 * _f64(y))


def log(x):
    with np.errstate(divide="ignore", invalid="ignore"):  # -inf at 0, NaN below, as the kernels
        return np.log(_f64(x))


def log_backward(grad, x):
    with np.errstate(divide="ignore", invalid="ignore"):
        return _f64(grad) / _f64(x)


def sin(x):
    return np.sin(_f64(x))


def sin_backward(grad, x):
    return _f64(grad) * np.cos(_f64(x))


def cos(x):
    return np.cos(_f64(x))


def cos_backward(grad, x):
    return -_f64(grad) * np.sin(_f64(x))


def erf(x):
    return _erf(_f64(x))


def erf_backward(grad, x):
    x = _f64(x)
    return _f64(grad) * (2 / math.sqrt(math.pi)) * np.exp(-x * x)


def arctan(x):
    return np.arctan(_f64(x))


def arctan_backward(grad, x):
    x = _f64(x)
    return _f64(grad) / (x * x + 1)


def log1p(x):
    with np.errstate(divide="ignore", invalid="ignore"):  # -inf at -1, NaN below
        return np.log1p(_f64(x))


def log1p_backward(grad, x):
    with np.errstate(divide="ignore", invalid="ignore"):
        return _f64(grad) / (_f64(x) + 1)


def expm1(x):
    """e^x - 1 in float64; inf where a float32 x's result overflows float32 (as exp)."""
    r = np.expm1(_f64(x))
    if np.asarray(x).dtype == np.float32:
        r = np.where(r > np.finfo(np.float32).max, np.inf, r)
    return r


def expm1_backward(grad, x):
    return _f64(grad) * exp(x)


def rsqrt(x):
    with np.errstate(divide="ignore", invalid="ignore"):  # inf at 0, NaN below
        return 1 / np.sqrt(_f64(x))


def rsqrt_backward(grad, y):
    """-grad y^3 / 2 in float64; +-inf where a float32 y's cube is beyond float32's range."""
    r = -0.5 * _f64(grad) * _f64(y) ** 3
    if np.asarray(y).dtype == np.float32:
        big = np.abs(_f64(y)) ** 3 > np.finfo(np.float32).max
        r = np.where(big, np.copysign(np.inf, r), r)
    return r


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


def log_softmax(x, dim=-1):
    x = _f64(x)
    m = np.max(x, axis=dim, keepdims=True)
    return x - m - np.log(np.sum(np.exp(x - m), axis=dim, keepdims=True))


def softmax(x, dim=-1):
    return np.exp(log_softmax(x, dim))


def softmax_backward(grad, y, dim=-1):
    g, y = _f64(grad), _f64(y)
    return y * (g - np.sum(g * y, axis=dim, keepdims=True))


def log_softmax_backward(grad, y, dim=-1):
    g, y = _f64(grad), _f64(y)
    return g - np.exp(y) * np.sum(g, axis=dim, keepdims=True)


# ---- losses: softmax cross-entropy, binary cross-entropy -------------------------------------
# Straight from the definitions in float64; the gradient is of the returned loss (of its sum for
# reduction='none'), written out per case as torch's autograd would produce it.


def softmax_cross_entropy(
    logits, target, *, reduction="mean", label_smoothing=0.0, ignore_index=-100, weight=None
):
    """torch.nn.functional.cross_entropy on (N, C) logits; returns (loss, dlogits)."""
    z = _f64(logits)
    n, c = z.shape
    lp = log_softmax(z)
    p = np.exp(lp)
    w = np.ones(c) if weight is None else _f64(weight)
    eps = label_smoothing
    target = np.asarray(target)
    if target.dtype.kind == "f":  # class probabilities
        q = (1 - eps) * _f64(target) + eps / c
        rows = -(w * q * lp).sum(axis=1)
        drows = p * (w * q).sum(axis=1, keepdims=True) - w * q
        denom = n
    else:
        keep = target != ignore_index
        t = np.where(keep, target, 0)
        wt = np.where(keep, w[t], 0.0)
        onehot = np.zeros((n, c))
        onehot[np.arange(n), t] = 1
        rows = (1 - eps) * wt * -lp[np.arange(n), t] + (eps / c) * (-(w * lp)).sum(axis=1) * keep
        drows = (1 - eps) * wt[:, None] * (p - onehot) + (eps / c) * keep[:, None] * (
            p * w.sum() - w
        )
        denom = wt.sum()
    if reduction == "none":
        return rows, drows
    if reduction == "sum":
        return rows.sum(), drows
    with np.errstate(invalid="ignore", divide="ignore"):
        # every row ignored: the mean is 0/0 (NaN, as in torch) but no logit gets a gradient
        return rows.sum() / denom, drows / denom if denom else drows


def binary_cross_entropy_with_logits(
    logits, target, *, weight=None, pos_weight=None, reduction="mean"
):
    """torch.nn.functional.binary_cross_entropy_with_logits; returns (loss, dlogits)."""
    x, t = _f64(logits), _f64(target)
    w = 1.0 if weight is None else _f64(weight)
    pw = 1.0 if pos_weight is None else _f64(pos_weight)
    lw = 1 + (pw - 1) * t
    log_sig = np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))
    loss = ((1 - t) * x - lw * log_sig) * w
    grad = (lw * sigmoid(x) - pw * t) * w * np.ones_like(x)
    if reduction == "none":
        return loss, grad
    if reduction == "sum":
        return loss.sum(), grad
    return loss.mean() if x.size else np.nan, grad / max(x.size, 1)


# ---- optimizer steps -------------------------------------------------------------------------
# Transcriptions of torch.optim's single-tensor algorithms (torch/optim/{sgd,adagrad,rmsprop,
# adam}.py), one tensor at a time, updating the given (float64) arrays in place. Same argument
# lists as fastnn.kernels.*_step.


def _lerp(start, end, weight):
    # torch.lerp: two branches, so that weight near 1 lands exactly on `end`
    if abs(weight) < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1 - weight)


def sgd_step(
    params,
    grads,
    momentum_bufs,
    *,
    lr,
    momentum=0.0,
    dampening=0.0,
    nesterov=False,
    weight_decay=0.0,
    maximize=False,
    first_step=False,
):
    for i, (p, grad) in enumerate(zip(params, grads)):
        g = -grad if maximize else grad.copy()
        if weight_decay != 0:
            g = g + weight_decay * p
        if momentum != 0:
            buf = momentum_bufs[i]
            if first_step:
                buf[...] = g
            else:
                buf[...] = momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p -= lr * g


def adagrad_step(
    params,
    grads,
    state_sums,
    *,
    lr,
    lr_decay=0.0,
    weight_decay=0.0,
    eps=1e-10,
    step,
    maximize=False,
):
    clr = lr / (1 + (step - 1) * lr_decay)
    for p, grad, state_sum in zip(params, grads, state_sums):
        g = -grad if maximize else grad
        if weight_decay != 0:
            g = g + weight_decay * p
        state_sum += g * g
        p -= clr * g / (np.sqrt(state_sum) + eps)


def rmsprop_step(
    params,
    grads,
    square_avgs,
    *,
    lr,
    alpha=0.99,
    eps=1e-8,
    weight_decay=0.0,
    momentum=0.0,
    centered=False,
    momentum_bufs=None,
    grad_avgs=None,
    maximize=False,
):
    for i, (p, grad, square_avg) in enumerate(zip(params, grads, square_avgs)):
        g = -grad if maximize else grad
        if weight_decay != 0:
            g = g + weight_decay * p
        square_avg[...] = alpha * square_avg + (1 - alpha) * g * g
        if centered:
            grad_avgs[i][...] = _lerp(grad_avgs[i], g, 1 - alpha)
            avg = np.sqrt(square_avg - grad_avgs[i] * grad_avgs[i]) + eps
        else:
            avg = np.sqrt(square_avg) + eps
        if momentum > 0:
            momentum_bufs[i][...] = momentum * momentum_bufs[i] + g / avg
            p -= lr * momentum_bufs[i]
        else:
            p -= lr * g / avg


def adam_step(
    params,
    grads,
    exp_avgs,
    exp_avg_sqs,
    *,
    lr,
    beta1=0.9,
    beta2=0.999,
    eps=1e-8,
    weight_decay=0.0,
    decoupled=False,
    amsgrad=False,
    max_exp_avg_sqs=None,
    maximize=False,
    step,
):
    bias_correction1 = 1 - beta1**step
    bias_correction2 = 1 - beta2**step
    step_size = lr / bias_correction1
    for i, (p, grad, m, v) in enumerate(zip(params, grads, exp_avgs, exp_avg_sqs)):
        g = -grad if maximize else grad
        if weight_decay != 0:
            if decoupled:
                p *= 1 - lr * weight_decay
            else:
                g = g + weight_decay * p
        m[...] = _lerp(m, g, 1 - beta1)
        v[...] = beta2 * v + (1 - beta2) * g * g
        if amsgrad:
            np.maximum(max_exp_avg_sqs[i], v, out=max_exp_avg_sqs[i])
            denom = np.sqrt(max_exp_avg_sqs[i]) / np.sqrt(bias_correction2) + eps
        else:
            denom = np.sqrt(v) / np.sqrt(bias_correction2) + eps
        p -= step_size * m / denom


# ---- conv ------------------------------------------------------------------------------------
# Direct loops over the definitions (NCHW, float64); hyperparameters are (h, w) pairs.


def _out_size(n, k, s, p, d):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def _taps(shape, kernel_size, stride, padding, dilation):
    """Every window tap that lands inside the (N, C, H, W) image, in (c, i, j, oh, ow) order, as
    (c, ih, iw, r, col): r = (c*kh + i)*kw + j is its im2col row, col = oh*Wo + ow its column."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel_size, stride, padding, dilation
    _, C, H, W = shape
    Ho, Wo = _out_size(H, kh, sh, ph, dh), _out_size(W, kw, sw, pw, dw)
    for c in range(C):
        for i in range(kh):
            for j in range(kw):
                r = (c * kh + i) * kw + j
                for oh in range(Ho):
                    ih = oh * sh - ph + i * dh
                    if not 0 <= ih < H:
                        continue
                    for ow in range(Wo):
                        iw = ow * sw - pw + j * dw
                        if 0 <= iw < W:
                            yield c, ih, iw, r, oh * Wo + ow


def im2col(x, kernel_size, stride, padding, dilation, ones_row=False):
    """cols[n, (c*kh + i)*kw + j, oh*Wo + ow] = x[n, c, oh*sh - ph + i*dh, ow*sw - pw + j*dw]."""
    x = np.asarray(x, dtype=np.float64)
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel_size, stride, padding, dilation
    N, C, H, W = x.shape
    Ho, Wo = _out_size(H, kh, sh, ph, dh), _out_size(W, kw, sw, pw, dw)
    cols = np.zeros((N, C * kh * kw + int(ones_row), Ho * Wo))
    for c, ih, iw, r, col in _taps(x.shape, kernel_size, stride, padding, dilation):
        cols[:, r, col] = x[:, c, ih, iw]
    if ones_row:
        cols[:, -1, :] = 1.0
    return cols


def col2im(cols, input_shape, kernel_size, stride, padding, dilation):
    """The adjoint of im2col: each column entry is added to the pixel it was read from."""
    cols = np.asarray(cols, dtype=np.float64)
    x = np.zeros(input_shape)
    for c, ih, iw, r, col in _taps(input_shape, kernel_size, stride, padding, dilation):
        x[:, c, ih, iw] += cols[:, r, col]
    return x


def conv2d(x, w, b, stride, padding, dilation):
    """out[n, o, oh, ow] = b[o] + sum_{c,i,j} w[o,c,i,j] x[n, c, oh*sh-ph+i*dh, ow*sw-pw+j*dw]."""
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    N, C, H, W = x.shape
    O, _, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = np.zeros((N, C, H + 2 * ph, W + 2 * pw))
    xp[:, :, ph : ph + H, pw : pw + W] = x
    Ho, Wo = _out_size(H, kh, sh, ph, dh), _out_size(W, kw, sw, pw, dw)
    out = np.zeros((N, O, Ho, Wo))
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + sh * (Ho - 1) + 1, sh)
            patch = xp[:, :, rows, j * dw : j * dw + sw * (Wo - 1) + 1 : sw]
            out += np.einsum("nchw,oc->nohw", patch, w[:, :, i, j])
    if b is not None:
        out += np.asarray(b, dtype=np.float64)[None, :, None, None]
    return out


def conv2d_backward(grad, x, w, stride, padding, dilation):
    """(dx, dw, db) of conv2d: the transpose of each einsum in conv2d, scattered back."""
    g = np.asarray(grad, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    N, C, H, W = x.shape
    O, _, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw_) = stride, padding, dilation
    xp = np.zeros((N, C, H + 2 * ph, W + 2 * pw))
    xp[:, :, ph : ph + H, pw : pw + W] = x
    dxp = np.zeros_like(xp)
    dw = np.zeros((O, C, kh, kw))
    Ho, Wo = g.shape[2:]
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + sh * (Ho - 1) + 1, sh)
            cols = slice(j * dw_, j * dw_ + sw * (Wo - 1) + 1, sw)
            dw[:, :, i, j] = np.einsum("nohw,nchw->oc", g, xp[:, :, rows, cols])
            dxp[:, :, rows, cols] += np.einsum("nohw,oc->nchw", g, w[:, :, i, j])
    return dxp[:, :, ph : ph + H, pw : pw + W], dw, g.sum(axis=(0, 2, 3))


def max_pool2d(x, kernel_size, stride, padding, dilation=(1, 1)):
    """(values, flat indices ih*W + iw per plane); padding is -inf; the first maximum wins."""
    x = np.asarray(x, dtype=np.float64)
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel_size, stride, padding, dilation
    N, C, H, W = x.shape
    Ho, Wo = _out_size(H, kh, sh, ph, dh), _out_size(W, kw, sw, pw, dw)
    out = np.empty((N, C, Ho, Wo))
    idx = np.empty((N, C, Ho, Wo), dtype=np.int64)
    for n in range(N):
        for c in range(C):
            for oh in range(Ho):
                for ow in range(Wo):
                    best, bi = -np.inf, -1
                    for i in range(kh):
                        for j in range(kw):
                            ih, iw = oh * sh - ph + i * dh, ow * sw - pw + j * dw
                            if 0 <= ih < H and 0 <= iw < W and (bi < 0 or x[n, c, ih, iw] > best):
                                best, bi = x[n, c, ih, iw], ih * W + iw
                    out[n, c, oh, ow], idx[n, c, oh, ow] = best, bi
    return out, idx


def max_pool2d_backward(grad, indices, input_shape):
    """Scatter-add grad at the flat per-plane indices into zeros of input_shape."""
    N, C, H, W = input_shape
    dx = np.zeros((N * C, H * W))
    g = np.asarray(grad, dtype=np.float64).reshape(N * C, -1)
    idx = np.asarray(indices).reshape(N * C, -1)
    for p in range(N * C):
        np.add.at(dx[p], idx[p], g[p])
    return dx.reshape(input_shape)
