"""Functional optimizer steps: the fused multi-tensor kernels and the NumPy reference loops.

Each function updates lists of raw arrays (a tensor's ``_data``) in place. ``fused=True`` makes
one call into the fused list kernel of the arrays' device (found in ``fastnn._devices``);
``fused=False`` runs the reference: a plain per-tensor NumPy loop transcribing torch.optim's
single-tensor algorithm in the arrays' own dtype. The reference is never deleted: it is the
oracle the tests hold the kernels to.
"""

import numpy as np

from .. import _devices
from .._core import dtype as _dtype


def kernels_for(arrays):
    """The fused list kernels for the arrays' device (``fastnn._devices``): all of one type."""
    if not arrays:
        return _devices.cpu.kernels
    kind = type(arrays[0])
    for a in arrays:
        if type(a) is not kind:
            raise TypeError(
                "fastnn.optim: all parameters of one step must live on one device, got "
                f"{kind.__name__} and {type(a).__name__}"
            )
    try:
        kernels = _devices.of(arrays[0]).kernels
    except TypeError:
        raise TypeError(
            f"fastnn.optim: no fused optimizer kernels for arrays of type {kind.__name__} "
            "(supported: numpy arrays and, in CUDA builds, DeviceArrays)"
        ) from None
    bf16 = _dtype.bfloat16
    if bf16 is not None and any(getattr(a, "dtype", None) is bf16 for a in arrays):
        return _Float32Steps(kernels)
    return kernels


class _Float32Steps:
    """The fused step kernels (float32/float64 only) for bfloat16 parameters: each step runs on
    float32 copies of every bfloat16 array it is given (parameters, gradients, state), and the
    updated values are rounded back into the bfloat16 arrays, so parameters and state keep
    their dtype, as they do under torch."""

    def __init__(self, kernels):
        self._kernels = kernels

    def __getattr__(self, name):
        step = getattr(self._kernels, name)
        bf16 = _dtype.bfloat16

        def run(*lists, **kwargs):
            wide, back = [], []
            for arrays in lists:
                if not isinstance(arrays, (list, tuple)):
                    wide.append(arrays)
                    continue
                row = []
                for a in arrays:
                    if isinstance(a, np.ndarray) and a.dtype is bf16:
                        w = a.astype(np.float32)
                        back.append((a, w))
                        a = w
                    row.append(a)
                wide.append(row)
            out = step(*wide, **kwargs)
            for a, w in back:
                a[...] = w  # rounded to bfloat16 by the assignment
            return out

        return run


def _check_reference_arrays(arrays):
    for a in arrays:
        if not isinstance(a, np.ndarray):
            raise TypeError(
                f"fastnn.optim: the reference path runs on numpy arrays, got {type(a).__name__}"
            )


def _lerp(start, end, weight):
    # torch.lerp's two branches, so that weight near 1 lands exactly on `end`
    if abs(weight) < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1 - weight)


# ---- SGD ----------------------------------------------------------------------------------------


def sgd(
    params,
    grads,
    momentum_buffer_list,
    *,
    lr,
    momentum=0.0,
    dampening=0.0,
    nesterov=False,
    weight_decay=0.0,
    maximize=False,
    first_step=False,
    fused=True,
):
    """torch.optim.SGD. ``first_step``: set the buffers to the gradient (torch's first step)."""
    if fused:
        kernels_for(params).sgd_step(
            params,
            grads,
            momentum_buffer_list,
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            nesterov=nesterov,
            weight_decay=weight_decay,
            maximize=maximize,
            first_step=first_step,
        )
        return
    _check_reference_arrays(params)
    for i, (p, grad) in enumerate(zip(params, grads)):
        g = -grad if maximize else grad
        if weight_decay != 0:
            g = g + weight_decay * p
        if momentum != 0:
            buf = momentum_buffer_list[i]
            if first_step:
                buf[...] = g
            else:
                buf *= momentum
                buf += (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p -= lr * g


# ---- Adagrad -----------------------------------------------------------------------------------


def adagrad(
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
    fused=True,
):
    """torch.optim.Adagrad; ``step`` is the step being taken (1 on the first)."""
    if fused:
        kernels_for(params).adagrad_step(
            params,
            grads,
            state_sums,
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            eps=eps,
            step=step,
            maximize=maximize,
        )
        return
    _check_reference_arrays(params)
    clr = lr / (1 + (step - 1) * lr_decay)
    for p, grad, state_sum in zip(params, grads, state_sums):
        g = -grad if maximize else grad
        if weight_decay != 0:
            g = g + weight_decay * p
        state_sum += g * g
        p -= clr * (g / (np.sqrt(state_sum) + eps))


# ---- RMSprop -----------------------------------------------------------------------------------


def rmsprop(
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
    fused=True,
):
    """torch.optim.RMSprop (centered and momentum variants)."""
    if fused:
        kernels_for(params).rmsprop_step(
            params,
            grads,
            square_avgs,
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            momentum_bufs=momentum_bufs,
            grad_avgs=grad_avgs,
            maximize=maximize,
        )
        return
    _check_reference_arrays(params)
    for i, (p, grad, square_avg) in enumerate(zip(params, grads, square_avgs)):
        g = -grad if maximize else grad
        if weight_decay != 0:
            g = g + weight_decay * p
        square_avg *= alpha
        square_avg += (1 - alpha) * (g * g)
        if centered:
            grad_avgs[i][...] = _lerp(grad_avgs[i], g, 1 - alpha)
            avg = np.sqrt(square_avg - grad_avgs[i] * grad_avgs[i]) + eps
        else:
            avg = np.sqrt(square_avg) + eps
        if momentum > 0:
            buf = momentum_bufs[i]
            buf *= momentum
            buf += g / avg
            p -= lr * buf
        else:
            p -= lr * (g / avg)


# ---- Adam / AdamW --------------------------------------------------------------------------------


def adam(
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
    fused=True,
):
    """torch.optim.Adam, or AdamW with ``decoupled=True``; ``step`` is the step being taken."""
    if fused:
        kernels_for(params).adam_step(
            params,
            grads,
            exp_avgs,
            exp_avg_sqs,
            lr=lr,
            beta1=beta1,
            beta2=beta2,
            eps=eps,
            weight_decay=weight_decay,
            decoupled=decoupled,
            amsgrad=amsgrad,
            max_exp_avg_sqs=max_exp_avg_sqs,
            maximize=maximize,
            step=step,
        )
        return
    _check_reference_arrays(params)
    bias_correction1 = 1 - beta1**step
    bias_correction2_sqrt = (1 - beta2**step) ** 0.5
    step_size = lr / bias_correction1
    for i, (p, grad, m, v) in enumerate(zip(params, grads, exp_avgs, exp_avg_sqs)):
        g = -grad if maximize else grad
        if weight_decay != 0:
            if decoupled:
                p *= 1 - lr * weight_decay
            else:
                g = g + weight_decay * p
        m[...] = _lerp(m, g, 1 - beta1)
        v *= beta2
        v += (1 - beta2) * (g * g)
        if amsgrad:
            np.maximum(max_exp_avg_sqs[i], v, out=max_exp_avg_sqs[i])
            denom = np.sqrt(max_exp_avg_sqs[i]) / bias_correction2_sqrt + eps
        else:
            denom = np.sqrt(v) / bias_correction2_sqrt + eps
        p -= step_size * (m / denom)


# ---- Adadelta ------------------------------------------------------------------------------------


def adadelta(
    params,
    grads,
    square_avgs,
    acc_deltas,
    *,
    lr=1.0,
    rho=0.9,
    eps=1e-6,
    weight_decay=0.0,
    maximize=False,
    fused=True,
):
    """torch.optim.Adadelta."""
    if fused:
        kernels_for(params).adadelta_step(
            params,
            grads,
            square_avgs,
            acc_deltas,
            lr=lr,
            rho=rho,
            eps=eps,
            weight_decay=weight_decay,
            maximize=maximize,
        )
        return
    _check_reference_arrays(params)
    for p, grad, square_avg, acc_delta in zip(params, grads, square_avgs, acc_deltas):
        g = -grad if maximize else grad
        if weight_decay != 0:
            g = g + weight_decay * p
        square_avg *= rho
        square_avg += (1 - rho) * (g * g)
        delta = np.sqrt(acc_delta + eps) / np.sqrt(square_avg + eps) * g
        acc_delta *= rho
        acc_delta += (1 - rho) * (delta * delta)
        p -= lr * delta


# ---- Adamax --------------------------------------------------------------------------------------


def adamax(
    params,
    grads,
    exp_avgs,
    exp_infs,
    *,
    lr,
    beta1=0.9,
    beta2=0.999,
    eps=1e-8,
    weight_decay=0.0,
    maximize=False,
    step,
    fused=True,
):
    """torch.optim.Adamax; ``step`` is the step being taken (1 on the first)."""
    if fused:
        kernels_for(params).adamax_step(
            params,
            grads,
            exp_avgs,
            exp_infs,
            lr=lr,
            beta1=beta1,
            beta2=beta2,
            eps=eps,
            weight_decay=weight_decay,
            maximize=maximize,
            step=step,
        )
        return
    _check_reference_arrays(params)
    clr = lr / (1 - beta1**step)
    for p, grad, m, u in zip(params, grads, exp_avgs, exp_infs):
        g = -grad if maximize else grad
        if weight_decay != 0:
            g = g + weight_decay * p
        m[...] = _lerp(m, g, 1 - beta1)
        np.maximum(u * beta2, np.abs(g) + eps, out=u)
        p -= clr * (m / u)


# ---- NAdam ---------------------------------------------------------------------------------------


def nadam_mu(beta1, momentum_decay, step):
    """NAdam's momentum schedule mu_t."""
    return beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))


def nadam(
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
    momentum_decay=4e-3,
    decoupled=False,
    maximize=False,
    step,
    mu_product,
    fused=True,
):
    """torch.optim.NAdam; ``mu_product`` is mu_1 * ... * mu_step, this step's mu included."""
    if fused:
        kernels_for(params).nadam_step(
            params,
            grads,
            exp_avgs,
            exp_avg_sqs,
            lr=lr,
            beta1=beta1,
            beta2=beta2,
            eps=eps,
            weight_decay=weight_decay,
            momentum_decay=momentum_decay,
            decoupled=decoupled,
            maximize=maximize,
            step=step,
            mu_product=mu_product,
        )
        return
    _check_reference_arrays(params)
    bias_correction2 = 1 - beta2**step
    mu = nadam_mu(beta1, momentum_decay, step)
    mu_next = nadam_mu(beta1, momentum_decay, step + 1)
    grad_coef = -lr * (1.0 - mu) / (1.0 - mu_product)
    avg_coef = -lr * mu_next / (1.0 - mu_product * mu_next)
    for p, grad, m, v in zip(params, grads, exp_avgs, exp_avg_sqs):
        g = -grad if maximize else grad
        if weight_decay != 0:
            if decoupled:
                p *= 1 - lr * weight_decay
            else:
                g = g + weight_decay * p
        m[...] = _lerp(m, g, 1 - beta1)
        v *= beta2
        v += (1 - beta2) * (g * g)
        denom = np.sqrt(v / bias_correction2) + eps
        p += grad_coef * (g / denom)
        p += avg_coef * (m / denom)


# ---- RAdam ---------------------------------------------------------------------------------------


def radam_rectification(beta2, step):
    """RAdam's variance rectification factor at ``step``, or None while the step is not
    rectified (the approximated moving average is still too short)."""
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * (beta2**step) / (1 - beta2**step)
    if not rho_t > 5.0:
        return None
    return ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5


def radam(
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
    maximize=False,
    step,
    fused=True,
):
    """torch.optim.RAdam; ``step`` is the step being taken (1 on the first)."""
    if fused:
        kernels_for(params).radam_step(
            params,
            grads,
            exp_avgs,
            exp_avg_sqs,
            lr=lr,
            beta1=beta1,
            beta2=beta2,
            eps=eps,
            weight_decay=weight_decay,
            decoupled=decoupled,
            maximize=maximize,
            step=step,
        )
        return
    _check_reference_arrays(params)
    bias_correction1 = 1 - beta1**step
    bias_correction2_sqrt = (1 - beta2**step) ** 0.5
    rect = radam_rectification(beta2, step)
    for p, grad, m, v in zip(params, grads, exp_avgs, exp_avg_sqs):
        g = -grad if maximize else grad
        if weight_decay != 0:
            if decoupled:
                p *= 1 - lr * weight_decay
            else:
                g = g + weight_decay * p
        m[...] = _lerp(m, g, 1 - beta1)
        v *= beta2
        v += (1 - beta2) * (g * g)
        mhat = m / bias_correction1
        if rect is not None:
            p -= mhat * lr * (bias_correction2_sqrt / (np.sqrt(v) + eps)) * rect
        else:
            p -= mhat * lr
