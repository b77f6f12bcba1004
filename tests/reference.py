"""Float64 NumPy references for every kernel (the oracle role of llm.c's *_cpu functions).

Plain, obviously-correct code: no tricks, no fusion. Tests and benchmarks compare against these.
"""

import numpy as np

# ---- matmul ----------------------------------------------------------------------------------


# ---- activations -----------------------------------------------------------------------------


# ---- losses: softmax cross-entropy, binary cross-entropy -------------------------------------


# ---- optimizer steps -------------------------------------------------------------------------
# Transcriptions of torch.optim's single-tensor algorithms (torch/optim/{sgd,adagrad,rmsprop,
# adam}.py), one tensor at a time, updating the given (float64) arrays in place. Same argument
# lists as fastnn.kernels.*_step.


def _lerp(start, end, weight):
    # torch.lerp: two branches, so that weight near 1 lands exactly on `end`
    if abs(weight) < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1 - weight)


def sgd_step(params, grads, momentum_bufs, *, lr, momentum=0.0, dampening=0.0, nesterov=False,
             weight_decay=0.0, maximize=False, first_step=False):
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


def adagrad_step(params, grads, state_sums, *, lr, lr_decay=0.0, weight_decay=0.0, eps=1e-10,
                 step, maximize=False):
    clr = lr / (1 + (step - 1) * lr_decay)
    for p, grad, state_sum in zip(params, grads, state_sums):
        g = -grad if maximize else grad
        if weight_decay != 0:
            g = g + weight_decay * p
        state_sum += g * g
        p -= clr * g / (np.sqrt(state_sum) + eps)


def rmsprop_step(params, grads, square_avgs, *, lr, alpha=0.99, eps=1e-8, weight_decay=0.0,
                 momentum=0.0, centered=False, momentum_bufs=None, grad_avgs=None,
                 maximize=False):
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


def adam_step(params, grads, exp_avgs, exp_avg_sqs, *, lr, beta1=0.9, beta2=0.999, eps=1e-8,
              weight_decay=0.0, decoupled=False, amsgrad=False, max_exp_avg_sqs=None,
              maximize=False, step):
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

