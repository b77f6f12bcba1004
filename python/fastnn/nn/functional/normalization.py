"""Normalization: F.batch_norm, F.layer_norm, F.group_norm with torch's signatures, defaults and
checks, each beside its autograd primitive.

Each op is one fused kernel each way (fastnn.kernels.batch_norm / layer_norm / group_norm and their
``_backward``; csrc/cpu/batch_norm.cpp, csrc/cpu/layer_norm.cpp): the forward computes the
statistics and normalises in one call and returns the mean and rstd = 1 / sqrt(var + eps) it used
(float64), which the primitive keeps; the backward turns them and the saved input into dx, dweight
and dbias in one call. batch_norm's running statistics are buffers, not graph inputs: in training
the forward kernel moves them in place, outside autograd, as torch does.
"""

import math
import numbers

from ..._core import dtype as _dtype
from ..._tensor import Tensor
from ...autograd.function import Function
from ...autograd.grad_mode import no_grad


class _Norm(Function):
    """Inputs (x[, weight][, bias]); ``has`` says which of weight and bias are there."""

    save_inputs = True

    def _keep(self, x, w, mean, rstd, has):
        if self.requires_grad:
            self.x, self.w, self.mean, self.rstd, self.has = x, w, mean, rstd, has

    def _need(self):
        need, (has_w, has_b) = self.needs_input_grad, self.has
        return (need[0], has_w and need[1], has_b and need[1 + has_w])

    def name(self):  # the names torch's grad_fn carries for these: NativeLayerNormBackward0...
        return f"Native{type(self).__name__}Backward0"

    def _affine(self, y, params, shape):
        """y * weight + bias (either may be absent), the parameters reshaped to ``shape``."""
        w, b = _split(params, self.has)
        if w is not None:
            y = y * w.reshape(shape)
        if b is not None:
            y = y + b.reshape(shape)
        return y

    def _pack(self, grads):
        gx, gw, gb = grads
        out = (gx,) + ((gw,) if self.has[0] else ()) + ((gb,) if self.has[1] else ())
        return out if len(out) > 1 else gx


def _split(params, has):
    w = params[0] if has[0] else None
    return w, (params[-1] if has[1] else None)


class BatchNorm(_Norm):
    """Per-channel normalisation of x (N, C, *); see the module docstring."""

    def forward(self, x, *params, has, running_mean, running_var, training, momentum, eps):
        w, b = _split(params, has)
        y, mean, rstd = self.be.batch_norm(
            x, w, b, running_mean, running_var, training, momentum, eps
        )
        self._keep(x, w, mean, rstd, has)
        self.training, self.eps = training, eps
        return y

    def graph_forward(self, x, *params):  # for create_graph=True (see graph_ops)
        shape = (1, -1) + (1,) * (x.ndim - 2)
        if self.training:
            axes = (0, *range(2, x.ndim))
            d = x - x.mean(axes, keepdim=True)
            y = d * ((d * d).mean(axes, keepdim=True) + self.eps).rsqrt()
        else:  # the running statistics: constants
            mean, rstd = (
                Tensor._make(a).to(x.dtype).reshape(shape) for a in (self.mean, self.rstd)
            )
            y = (x - mean) * rstd
        return self._affine(y, params, shape)

    def backward(self, g):
        return self._pack(
            self.be.batch_norm_backward(
                g, self.x, self.w, self.mean, self.rstd, self.training, self._need()
            )
        )


class LayerNorm(_Norm):
    """Normalisation over the trailing ``normalized_shape`` dimensions."""

    def forward(self, x, *params, has, normalized_shape, eps):
        w, b = _split(params, has)
        y, mean, rstd = self.be.layer_norm(x, normalized_shape, w, b, eps)
        self._keep(x, w, mean, rstd, has)
        self.normalized_shape, self.eps = normalized_shape, eps
        return y

    def graph_forward(self, x, *params):
        axes = tuple(range(x.ndim - len(self.normalized_shape), x.ndim))
        d = x - x.mean(axes, keepdim=True)
        y = d * ((d * d).mean(axes, keepdim=True) + self.eps).rsqrt()
        return self._affine(y, params, tuple(self.normalized_shape))

    def backward(self, g):
        return self._pack(
            self.be.layer_norm_backward(
                g, self.x, self.normalized_shape, self.w, self.mean, self.rstd, self._need()
            )
        )


class GroupNorm(_Norm):
    """Normalisation over groups of channels of x (N, C, *)."""

    def forward(self, x, *params, has, num_groups, eps):
        w, b = _split(params, has)
        y, mean, rstd = self.be.group_norm(x, num_groups, w, b, eps)
        self._keep(x, w, mean, rstd, has)
        self.num_groups, self.eps = num_groups, eps
        return y

    def graph_forward(self, x, *params):
        grouped = x.reshape(x.shape[0], self.num_groups, -1)
        d = grouped - grouped.mean(2, keepdim=True)
        y = (d * ((d * d).mean(2, keepdim=True) + self.eps).rsqrt()).reshape(x.shape)
        return self._affine(y, params, (1, -1) + (1,) * (x.ndim - 2))

    def backward(self, g):
        return self._pack(
            self.be.group_norm_backward(
                g, self.x, self.num_groups, self.w, self.mean, self.rstd, self._need()
            )
        )


# ---- checks shared by the functionals ----------------------------------------------------------


def _check_dtypes(fn, input, **others):
    if not _dtype.is_floating(input.dtype):
        raise TypeError(
            f"{fn}: expected a floating-point input (float32 or float64), got dtype "
            f"{_dtype.name(input.dtype)}"
        )
    for name, t in others.items():
        if t is not None and t.dtype != input.dtype:
            raise RuntimeError(
                f"{fn}: mixed dtypes: '{name}' has dtype {_dtype.name(t.dtype)} but input has "
                f"{_dtype.name(input.dtype)}; all must share the same dtype"
            )


def _params(weight, bias, shape):
    """The present ones of weight and bias, reshaped to ``shape`` when only their size matches."""
    out = tuple(
        t if tuple(t.shape) == shape else t.reshape(shape) for t in (weight, bias) if t is not None
    )
    return out, (weight is not None, bias is not None)


def _verify_batch_size(size):
    if size[0] * math.prod(size[2:]) == 1:
        raise ValueError(
            f"Expected more than 1 value per channel when training, got input size {size}"
        )


def check_batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps=1e-5):
    """Every check of batch_norm, run before anything changes (BatchNorm modules call it before
    they count the batch); returns the channel count."""
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real):
        raise TypeError(f"batch_norm: eps must be a float, got {eps!r}")
    if not eps >= 0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    if training and eps == 0:  # a constant batch would give 0 / sqrt(0)
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    if input.ndim < 2:
        raise ValueError(
            f"batch_norm: expected an input of at least 2 dimensions (N, C, ...), got size "
            f"{list(input.shape)}"
        )
    _check_dtypes(
        "batch_norm",
        input,
        weight=weight,
        bias=bias,
        running_mean=running_mean,
        running_var=running_var,
    )
    if training:
        _verify_batch_size(input.size())
    elif running_mean is None or running_var is None:
        raise RuntimeError(
            f"{'running_mean' if running_mean is None else 'running_var'} must be defined in "
            "evaluation mode"
        )
    if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real):
        raise TypeError(f"batch_norm: momentum must be a float, got {momentum!r}")
    c = input.shape[1]
    names = ("running_mean", "running_var", "weight", "bias")
    for name, t in zip(names, (running_mean, running_var, weight, bias)):
        if t is not None and t.numel() != c:
            raise RuntimeError(f"{name} should contain {c} elements not {t.numel()}")
    if (running_mean is None) != (running_var is None):
        raise RuntimeError(
            "batch_norm: running_mean and running_var must both be given or both None"
        )
    return c


def batch_norm(
    input,
    running_mean,
    running_var,
    weight=None,
    bias=None,
    training=False,
    momentum=0.1,
    eps=1e-05,
):
    """torch.nn.functional.batch_norm: input (N, C, *) normalised per channel, with the batch
    statistics when ``training`` (moving running_mean / running_var in place by ``momentum``
    towards the batch mean and unbiased variance, when given) and with running_mean /
    running_var otherwise."""
    c = check_batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)
    params, has = _params(weight, bias, (c,))
    rm = rv = None
    if running_mean is not None:
        rm, rv = running_mean._data.reshape(c), running_var._data.reshape(c)
    return BatchNorm.apply(
        input,
        *params,
        has=has,
        running_mean=rm,
        running_var=rv,
        training=bool(training),
        momentum=float(momentum),
        eps=float(eps),
    )


def instance_norm(
    input,
    running_mean=None,
    running_var=None,
    weight=None,
    bias=None,
    use_input_stats=True,
    momentum=0.1,
    eps=1e-05,
):
    """torch.nn.functional.instance_norm: input (N, C, *) normalised per (sample, channel).

    The batch norm of the (1, N * C, *) view, every plane a channel of one sample. With running
    statistics they move towards the batch's average of the planes' statistics (torch's rule:
    each plane updates a copy, the copies are averaged); without use_input_stats they normalise.
    """
    if input.ndim < 3:
        raise ValueError(f"instance_norm: expected at least 3-D input, got {input.ndim}-D")
    if not use_input_stats:
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    n, c, spatial = input.shape[0], input.shape[1], tuple(input.shape[2:])
    if math.prod(spatial) <= 1:
        raise ValueError(
            f"Expected more than 1 spatial element when training, got input size {input.shape}"
        )
    rm = rv = None
    if running_mean is not None:
        rm, rv = running_mean.repeat(n), running_var.repeat(n)
    w = None if weight is None else weight.repeat(n)
    b = None if bias is None else bias.repeat(n)
    out = batch_norm(input.reshape(1, n * c, *spatial), rm, rv, w, b, True, momentum, eps)
    if running_mean is not None:
        with no_grad():
            running_mean.copy_(rm.reshape(n, c).mean(0))
            running_var.copy_(rv.reshape(n, c).mean(0))
    return out.reshape(input.shape)


def _shape_tuple(normalized_shape):
    if isinstance(normalized_shape, bool):
        raise TypeError(
            f"layer_norm: normalized_shape must be a tuple of ints, got {normalized_shape!r}"
        )
    if isinstance(normalized_shape, int) or hasattr(normalized_shape, "__index__"):
        return (int(normalized_shape),)
    try:
        shape = tuple(normalized_shape)
    except TypeError:
        raise TypeError(
            f"layer_norm: normalized_shape must be a tuple of ints, got "
            f"{type(normalized_shape).__name__}"
        ) from None
    if any(isinstance(d, bool) or not hasattr(d, "__index__") for d in shape):
        raise TypeError(f"layer_norm: normalized_shape must be a tuple of ints, got {shape!r}")
    return tuple(int(d) for d in shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05):
    """torch.nn.functional.layer_norm: normalises over the last len(normalized_shape) dimensions;
    weight and bias have shape normalized_shape."""
    shape = _shape_tuple(normalized_shape)
    _check_dtypes("layer_norm", input, weight=weight, bias=bias)
    if not shape:
        raise RuntimeError("layer_norm: expected normalized_shape to be at least 1-dimensional")
    k = len(shape)
    if input.ndim < k or tuple(input.shape[input.ndim - k :]) != shape:
        raise RuntimeError(
            f"Given normalized_shape={list(shape)}, expected input with shape "
            f"[*, {', '.join(map(str, shape))}], but got input of size{list(input.shape)}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise RuntimeError(
                f"Expected {name} to be of same shape as normalized_shape, but got {name} of "
                f"shape {list(t.shape)} and normalized_shape = {list(shape)}"
            )
    params, has = _params(weight, bias, shape)
    return LayerNorm.apply(input, *params, has=has, normalized_shape=shape, eps=float(eps))


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05):
    """torch.nn.functional.group_norm: input (N, C, *) normalised over num_groups groups of
    C / num_groups channels; weight and bias (C,) are per channel."""
    if input.ndim < 2:
        raise RuntimeError(
            f"Expected at least 2 dimensions for input tensor but received {input.ndim}"
        )
    if isinstance(num_groups, bool) or not hasattr(num_groups, "__index__"):
        raise TypeError(f"group_norm: num_groups must be an int, got {num_groups!r}")
    num_groups = int(num_groups)
    _check_dtypes("group_norm", input, weight=weight, bias=bias)
    c = input.shape[1]
    if num_groups <= 0 or c % num_groups:
        raise RuntimeError(
            "Expected number of channels in input to be divisible by num_groups, but got input "
            f"of shape {list(input.shape)} and num_groups={num_groups}"
        )
    _verify_batch_size([input.shape[0] * c // num_groups, num_groups, *input.shape[2:]])
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != c:
            raise RuntimeError(
                f"Expected {name} to be a vector of size equal to the number of channels in "
                f"input, but got {name} of shape {list(t.shape)} and input of shape "
                f"{list(input.shape)}"
            )
    params, has = _params(weight, bias, (c,))
    return GroupNorm.apply(input, *params, has=has, num_groups=num_groups, eps=float(eps))


__all__ = ["batch_norm", "group_norm", "instance_norm", "layer_norm"]
