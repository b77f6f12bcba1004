"""The loss functions of ``fastnn.nn.functional`` (PyTorch's names, signatures and reductions
'none' | 'mean' | 'sum'), with their autograd primitives. Cross-entropy and BCE-with-logits run
one fused kernel that computes the loss and its gradient; MSE and BCE on probabilities are
element-wise primitives; the rest compose Tensor ops (so autograd derives their gradients)."""

import functools
import warnings

import numpy as np

from ... import _devices
from ..._core import autocast as _autocast
from ..._core import dtype as _dtype
from ..._tensor import Tensor
from ...autograd.function import Function, printed_as
from .ctc import CTCLoss

# ---- primitives: forward and backward on storage arrays ----------------------------------


def _reduce_array(be, loss, reduction):
    if reduction == "mean":
        return be.mean(loss)
    if reduction == "sum":
        return be.sum(loss)
    return loss


def _is_one(g):
    """Whether g is the host scalar 1.0 (the seed of loss.backward()); a device array is never
    read back for this."""
    return g.__class__ is np.ndarray and g.size == 1 and g.item() == 1.0


def _cross_entropy_node(probs, reduction, label_smoothing):
    """The node torch's cross_entropy ends in (printed as the loss's grad_fn): its nll_loss for
    class indices; the sum's negation or the mean's division for probabilities."""
    if label_smoothing:
        return "Add"
    if not probs:
        return "NllLoss"
    return "DivBackward1" if reduction == "mean" else "Neg"


class SoftmaxCrossEntropy(Function):
    """Cross-entropy of logits (N, C) against class indices (N,) -- passed as ``target`` -- or
    class probabilities (N, C) -- passed as a second tensor input, which is differentiable."""

    def forward(
        self,
        logits,
        probs=None,
        target=None,
        weight=None,
        reduction="mean",
        label_smoothing=0.0,
        ignore_index=-100,
    ):
        self.reduction = reduction
        self.torch_name = _cross_entropy_node(probs is not None, reduction, label_smoothing)
        tgt = probs if probs is not None else target
        try:
            out = self.be.softmax_cross_entropy(
                logits, tgt, reduction, label_smoothing, ignore_index, weight, self.requires_grad
            )
        except ValueError as e:
            # a class index outside [0, C): torch's IndexError (the GPU's deferred report of an
            # earlier call is one already, with this message)
            if "out of range" in str(e) and not isinstance(e, IndexError):
                raise IndexError(f"Target is out of bounds: {e}") from None
            raise
        if not self.requires_grad:
            return out
        loss, self.dlogits = out
        self.logits, self.weight, self.eps = logits, weight, label_smoothing
        self.target, self.ignore_index = target, ignore_index
        return loss

    def graph_forward(self, x, probs=None):
        """For create_graph=True: the loss as Tensor ops on log_softmax(x), which autograd
        differentiates to any order. Row i: -sum_c w_c q_ic log_softmax(x_i)_c, with q the
        smoothed target, (1 - eps) onehot(t_i) + eps / C for a class index (0 on an ignored
        row), (1 - eps) p_i + eps / C for probabilities. 'mean' divides by the weight of the
        rows' classes (indices) or by N (probabilities)."""
        be, eps, n_classes = self.be, self.eps, x.shape[1]
        logp = x.log_softmax(1)
        w = None if self.weight is None else Tensor._make(self.weight)
        wlogp = logp if w is None else logp * w
        if probs is not None:
            q = probs if eps == 0 else probs * (1 - eps) + eps / n_classes
            loss = -(wlogp * q).sum(1)
            if self.reduction == "mean":
                return loss.sum() / x.shape[0]
            return loss.sum() if self.reduction == "sum" else loss
        t = be.to_numpy(self.target)
        keep = t != self.ignore_index
        safe = np.where(keep, t, 0)
        picked = -wlogp.gather(1, Tensor._make(be.from_numpy(safe[:, None]))).squeeze(1)
        loss = picked if eps == 0 else (1 - eps) * picked - (eps / n_classes) * wlogp.sum(1)
        mask = Tensor._make(be.from_numpy(keep.astype(be.to_numpy(x._data).dtype)))
        loss = loss * mask
        if self.reduction == "sum":
            return loss.sum()
        if self.reduction == "none":
            return loss
        if w is None:
            return loss.sum() / int(keep.sum())
        return loss.sum() / (w.gather(0, Tensor._make(be.from_numpy(safe))) * mask).sum()

    def backward(self, g):
        be, n = self.be, self.needs_input_grad
        gl = None
        if n[0]:  # dlogits is d(loss)/d logits (row i: d loss_i for reduction='none')
            if self.reduction != "none" and self.releasing and _is_one(g):
                # loss.backward() on a scalar loss: dlogits is the answer. Hand it over rather
                # than multiply by 1.0 (a full pass and an allocation); this node is freed next.
                gl = self.dlogits
            else:
                gl = be.mul(self.dlogits, be.reshape(g, (-1, 1)) if self.reduction == "none" else g)
        if len(n) == 1 or not n[1]:
            return gl if len(n) == 1 else (gl, None)
        # d loss_i / d p_ic = -(1 - eps) w_c log_softmax(x)_ic; 'mean' divides by N
        logp = be.log_softmax(self.logits)
        d = be.mul(logp, -(1.0 - self.eps))
        if self.weight is not None:
            d = be.mul(d, self.weight)
        if self.reduction == "none":
            d = be.mul(d, be.reshape(g, (-1, 1)))
        else:
            d = be.mul(d, g if self.reduction == "sum" else be.div(g, logp.shape[0]))
        return gl, d


class BCEWithLogits(Function):
    """Binary cross-entropy on logits (any shape), stable; ``weight`` and ``pos_weight`` are
    constant arrays, the target is a differentiable input."""

    torch_name = "BinaryCrossEntropyWithLogits"

    save_inputs = True
    double_backward = True
    graph_constants = ("weight", "pos_weight")

    def graph_saved(self, inputs, out):
        """dx = (1 - t) - (1 + (pw - 1) t) sigmoid(-x), which is sigmoid(x) - t without
        pos_weight, times w (/ n under 'mean'), recorded."""
        x, t = inputs
        if self.pos_weight is None:
            dx = x.sigmoid() - t
        else:
            pw = Tensor._make(self.pos_weight)
            dx = (1 - t) - (1 + (pw - 1) * t) * (-x).sigmoid()
        if self.weight is not None:
            dx = dx * Tensor._make(self.be.broadcast_to(self.weight, self.weight.shape))
        if self.reduction == "mean":
            dx = dx / max(x.numel(), 1)
        return {"dx": dx}

    def forward(self, x, t, weight=None, pos_weight=None, reduction="mean"):
        self.reduction, self.x, self.t, self.count = reduction, x, t, x.size
        self.weight, self.pos_weight = weight, pos_weight
        out = self.be.binary_cross_entropy_with_logits(
            x, t, weight, pos_weight, reduction, self.requires_grad
        )
        if not self.requires_grad:
            return out
        loss, self.dx = out
        return loss

    def backward(self, g):
        be, n = self.be, self.needs_input_grad
        gx = be.mul(self.dx, g) if n[0] else None
        gt = None
        if n[1]:  # d/dt [(1-t) x + (1 + (pw-1) t) softplus(-x)] = -x + (pw-1) softplus(-x)
            x = self.x
            d = be.neg(x)
            if self.pos_weight is not None:
                sp = be.logaddexp(0.0, be.neg(x))
                d = be.add(d, be.mul(be.sub(self.pos_weight, 1), sp))
            if self.weight is not None:
                d = be.mul(d, self.weight)
            if self.reduction == "mean":
                d = be.div(d, self.count)
            gt = be.mul(d, g)
        return gx, gt


class MSE(Function):
    """(x - y)^2, reduced: one op instead of three (the regression hot path)."""

    torch_name = "MseLoss"

    double_backward = True

    @staticmethod
    def graph_saved(inputs, out):  # the difference, rebuilt as a recorded op
        return {"d": inputs[0] - inputs[1]}

    def forward(self, x, y, reduction="mean"):
        be = self.be
        self.d = d = be.sub(x, y)
        self.reduction, self.sx, self.sy, self.count = reduction, x.shape, y.shape, d.size
        return _reduce_array(be, be.mul(d, d), reduction)

    def backward(self, g):
        be, d, n = self.be, self.d, self.needs_input_grad
        scale = be.mul(g, 2.0 / max(self.count, 1)) if self.reduction == "mean" else be.mul(g, 2.0)
        gd = be.mul(d, scale)
        return (
            be.sum_to_shape(gd, self.sx) if n[0] else None,
            be.sum_to_shape(be.neg(gd), self.sy) if n[1] else None,
        )


_TINY = 1e-45  # < exp(-100) in float32 too: log(max(x, _TINY)) avoids log(0) warnings


def _clamped_log(be, x):
    return be.maximum(be.log(be.maximum(x, _TINY)), -100.0)


class BCE(Function):
    """-(t log x + (1 - t) log(1 - x)) on probabilities, logs clamped at -100 (like torch)."""

    torch_name = "BinaryCrossEntropy"

    save_inputs = True
    double_backward = True
    graph_constants = ("weight",)

    def forward(self, x, t, weight=None, reduction="mean"):
        be = self.be
        self.x, self.t, self.weight, self.reduction, self.count = x, t, weight, reduction, x.size
        logx, log1mx = _clamped_log(be, x), _clamped_log(be, be.sub(1.0, x))
        loss = be.neg(be.add(be.mul(t, logx), be.mul(be.sub(1.0, t), log1mx)))
        if weight is not None:
            loss = be.mul(loss, weight)
        return _reduce_array(be, loss, reduction)

    def backward(self, g):
        be, x, t, n = self.be, self.x, self.t, self.needs_input_grad
        if self.reduction == "mean":
            g = be.div(g, max(self.count, 1))  # an empty batch has an empty gradient
        w = g if self.weight is None else be.mul(g, self.weight)
        gx = gt = None
        if n[0]:  # (x - t) / max(x (1 - x), 1e-12), torch's clamp
            gx = be.mul(w, be.div(be.sub(x, t), be.maximum(be.mul(x, be.sub(1.0, x)), 1e-12)))
        if n[1]:  # d/dt = log(1 - x) - log(x)
            logx, log1mx = _clamped_log(be, x), _clamped_log(be, be.sub(1.0, x))
            gt = be.mul(w, be.sub(log1mx, logx))
        return gx, gt


# ---- the functional losses -------------------------------------------------------------

_REDUCTIONS = ("none", "mean", "sum")


def _legacy(size_average, reduce, reduction):
    """torch's deprecated size_average / reduce pair, turned into a reduction as torch does."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    r = "none" if not reduce else "mean" if size_average else "sum"
    warnings.warn(
        f"size_average and reduce args will be deprecated, please use reduction='{r}' instead.",
        UserWarning,
        stacklevel=3,
    )
    return r


def _check_reduction(reduction, extra=()):
    if reduction not in _REDUCTIONS + tuple(extra):
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _reduce(loss, reduction):
    _check_reduction(reduction)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _const(x, like):
    """A constant array for ``x`` (Tensor, array or None) on ``like``'s backend and dtype."""
    if x is None:
        return None
    d = x._data if isinstance(x, Tensor) else _devices.of(like._data).asarray(x, like.dtype)
    return d if d.dtype == like.dtype else d.astype(like.dtype)


def _as_target(target, like):
    if isinstance(target, Tensor):
        return target
    from ..._tensor.creation import tensor

    return tensor(target, dtype=like.dtype, device=like.device)


# ---- regression --------------------------------------------------------------------------


def _float32_in_autocast(loss):
    """``loss`` on float32 inputs inside a host autocast region, as torch computes these losses
    there (a bfloat16 model's logits give a float32 loss); unchanged outside one."""

    @functools.wraps(loss)
    def run(*args, **kwargs):
        if _autocast.flag.on:
            args = _autocast.widen(*args)
            kwargs = {k: _autocast.widen(v)[0] for k, v in kwargs.items()}
        return loss(*args, **kwargs)

    return run


@_float32_in_autocast
def _complex_name(t):
    return "ComplexDouble" if t.dtype.itemsize == 16 else "ComplexFloat"


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Mean squared error (x - y)^2."""
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction)
    if input.is_complex():  # torch's kernel is real-only (|x - y|^2 is the complex form)
        raise NotImplementedError(f"\"mse_cpu\" not implemented for '{_complex_name(input)}'")
    return MSE.apply(input, _as_target(target, input), reduction=reduction)


@_float32_in_autocast
def l1_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Mean absolute error |x - y| (MAE)."""
    reduction = _legacy(size_average, reduce, reduction)
    return _reduce((input - _as_target(target, input)).abs(), reduction)


def rmse_loss(input, target, eps=0.0):
    """Root mean squared error sqrt(mean((x - y)^2) + eps) (functional only; ``eps`` keeps the
    gradient finite at a perfect fit)."""
    m = MSE.apply(input, _as_target(target, input), reduction="mean")
    return (m + eps).sqrt() if eps else m.sqrt()


def huber_loss(input, target, reduction="mean", delta=1.0):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta)."""
    if delta <= 0:
        raise RuntimeError(
            f"huber_loss does not support non-positive values for delta, got {delta}"
        )
    from ..._tensor.functions import where

    d = input - _as_target(target, input)
    a = d.abs()
    return _reduce(where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta)), reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (beta = 0: L1)."""
    reduction = _legacy(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss does not support negative values for beta, got {beta}")
    from ..._tensor.functions import where

    d = input - _as_target(target, input)
    a = d.abs()
    if beta == 0:
        return _reduce(a, reduction)  # torch's l1_loss then, and its node
    return printed_as(
        _reduce(where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta), reduction), "SmoothL1Loss"
    )


# ---- classification ------------------------------------------------------------------------


def _class_last(x):
    """(N, C, d1, ...) -> (N * d1 * ..., C), the class axis last."""
    c = x.shape[1]
    return x.permute(0, *range(2, x.ndim), 1).reshape(-1, c)


@_float32_in_autocast
def cross_entropy(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index=-100,
    reduce=None,
    reduction="mean",
    label_smoothing=0.0,
):
    """Softmax cross-entropy on logits (C,), (N, C) or (N, C, d1, ...) against class indices or
    class probabilities (the shape of input), with class weights, ignore_index and label
    smoothing; one fused kernel computes the loss and its gradient."""
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction)
    T = Tensor
    if not isinstance(input, T):
        raise TypeError(
            f"cross_entropy(): argument 'input' must be Tensor, not {type(input).__name__}"
        )
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    target = target if isinstance(target, T) else _index_target(target, input)
    # the checks read the storage arrays' shapes and dtypes: Tensor.shape and .dtype build
    # objects on every read (a third of the call on a small batch)
    xa, ta = input._data, target._data
    probs = _dtype.is_floating(ta.dtype)
    if probs and ta.shape != xa.shape:
        raise RuntimeError(
            f"expected scalar type Long but found {_type_name(target._data.dtype)} "
            f"(class-index targets must be integers; float targets are class "
            f"probabilities of the input's shape {input.shape}, got "
            f"{target.shape})"
        )
    if not probs and ta.dtype.kind not in "iu":
        raise RuntimeError(f"expected scalar type Long but found {_type_name(ta.dtype)}")
    if not probs:
        _check_index_dtype(ta.dtype)
    nd = xa.ndim
    if nd == 1:  # unbatched
        x, t = input.unsqueeze(0), target.unsqueeze(0) if probs else target.reshape(1)
    elif nd == 2:
        x, t = input, target
    else:
        x = _class_last(input)
        t = _class_last(target) if probs else target.reshape(-1)
    xs, ts = x._data.shape, t._data.shape
    if not probs and len(ts) != 1:
        raise RuntimeError(
            f"cross_entropy: 0D or 1D target tensor expected for input of shape "
            f"{tuple(input.shape)}, got target of shape {tuple(target.shape)} (multi-target "
            "not supported)"
        )
    if not probs and t._data.dtype.kind == "u":  # uint8 labels (torch accepts Byte): as int
        t = t.long()
    if not probs and ts[0] != xs[0]:
        raise ValueError(
            f"Expected input batch_size ({xs[0]}) to match target batch_size ({ts[0]})."
        )
    c = xs[1]
    w = _const(weight, x)
    if w is not None and w.shape != (c,):
        raise RuntimeError(
            f"weight tensor should be defined either for all {c} classes or no "
            f"classes but got weight tensor of shape: {list(w.shape)}"
        )
    if not _dtype.is_floating(x._data.dtype):
        raise RuntimeError(f"cross_entropy: expected floating point logits, got {x.dtype}")
    kw = dict(
        weight=w, reduction=reduction, label_smoothing=label_smoothing, ignore_index=ignore_index
    )
    if probs:
        t = t.to(x.dtype)
        loss = SoftmaxCrossEntropy.apply(x, t, **kw)
    else:
        loss = SoftmaxCrossEntropy.apply(x, target=t._data, **kw)
    if reduction == "none":
        if nd == 1:
            return loss.reshape(())
        if nd > 2:
            return loss.reshape((input.shape[0], *input.shape[2:]))
    return loss


def _index_target(target, like):
    from ..._tensor.creation import tensor

    return tensor(target, device=like.device)


_SCALAR_TYPES = {
    "float16": "Half",
    "bfloat16": "BFloat16",
    "float32": "Float",
    "float64": "Double",
    "int8": "Char",
    "int16": "Short",
    "int32": "Int",
    "int64": "Long",
    "uint8": "Byte",
    "bool": "Bool",
}


def _type_name(dt):
    """torch's name of a scalar type, as its dtype errors spell it."""
    dt = np.dtype(dt)
    return _SCALAR_TYPES.get(dt.name, dt.name)


def _check_index_dtype(dt):
    # torch's nll_loss takes int64 class indices, and uint8 ones; any other integer type fails
    if dt.name not in ("int64", "uint8"):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {_type_name(dt)}")


def _check_classes(t, c, ignore_index):
    t = _devices.of(t).to_numpy(t)
    if t.size:
        bad = (t != ignore_index) & ((t < 0) | (t >= c))
        if bad.any():
            raise IndexError(f"Target {int(t[bad][0])} is out of bounds (classes: {c}).")


@_float32_in_autocast
def nll_loss(
    input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"
):
    """Negative log-likelihood of log-probabilities (N, C) or (N, C, d1, ...) at class indices;
    'mean' divides by the summed weight of non-ignored targets."""
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction)
    target = target if isinstance(target, Tensor) else _index_target(target, input)
    if target.dtype.kind not in "iu":
        raise RuntimeError(f"expected scalar type Long but found {_type_name(target._data.dtype)}")
    _check_index_dtype(target._data.dtype)
    nd = input.ndim
    x = input.unsqueeze(0) if nd == 1 else input if nd == 2 else _class_last(input)
    t = target.reshape(-1)._data
    if t.shape[0] != x.shape[0]:
        raise ValueError(
            f"Expected input batch_size ({x.shape[0]}) to match target batch_size ({t.shape[0]})."
        )
    c = x.shape[1]
    _check_classes(t, c, ignore_index)
    be = _devices.of(x._data)
    valid = be.ne(t, ignore_index)
    safe = be.where(valid, t, 0)
    w = be.ones((c,), x.dtype) if weight is None else _const(weight, x)
    wt = be.mul(be.getitem(w, safe), valid).astype(x.dtype)
    T = Tensor
    picked = x.gather(1, T._make(be.reshape(safe, (-1, 1)))).reshape(-1)
    # an ignored row contributes exactly 0, even where its log-probability is -inf (a masked
    # class): multiplying by its zero weight would give NaN
    picked = picked.where(T._make(valid), 0.0)
    loss = -picked * T._make(wt)
    if reduction == "mean":
        # no target counted (empty batch or all ignored): NaN like torch, without a 0 / 0
        total = be.sum(wt)
        nan = total.dtype.type(float("nan"))  # (a Python nan would widen a bfloat16 total)
        loss = loss.sum() / T._make(be.where(be.eq(total, 0), nan, total))
    elif reduction == "sum":
        loss = loss.sum()
    elif nd == 1:
        loss = loss.reshape(())
    elif nd > 2:
        loss = loss.reshape((input.shape[0], *input.shape[2:]))
    if loss._ctx is not None:  # printed as torch's single node
        loss._ctx.torch_name = "NllLoss2D" if nd == 4 else "NllLoss"
    return loss


@_float32_in_autocast
def binary_cross_entropy(
    input, target, weight=None, size_average=None, reduce=None, reduction="mean"
):
    """BCE on probabilities in [0, 1]; log terms clamped at -100 like torch."""
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction)
    target = _as_target(target, input)
    if target.shape != input.shape:
        raise ValueError(
            f"Using a target size ({target.shape}) that is different to the input "
            f"size ({input.shape}) is deprecated. Please ensure they have the same "
            "size."
        )
    x = input._data
    if target._data.dtype != x.dtype:  # torch does not convert the target here
        raise RuntimeError(
            f"Found dtype {_type_name(target._data.dtype)} but expected {_type_name(x.dtype)}"
        )
    be = _devices.of(x)
    xn = be.to_numpy(x)
    if xn.size and ((xn < 0) | (xn > 1) | np.isnan(xn)).any():
        raise RuntimeError("all elements of input should be between 0 and 1")
    w = _const(weight, input)
    if w is not None and w.shape != input.shape:
        w = be.ascontiguous(be.broadcast_to(w, input.shape))
    return BCE.apply(input, target.to(input.dtype), weight=w, reduction=reduction)


@_float32_in_autocast
def binary_cross_entropy_with_logits(
    input, target, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None
):
    """BCE on logits, stable for any magnitude, with element weights and per-class
    ``pos_weight`` (the last dimension); one fused kernel computes loss and gradient."""
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction)
    target = _as_target(target, input)
    if target.shape != input.shape:
        raise ValueError(
            f"Target size ({target.shape}) must be the same as input size ({input.shape})"
        )
    x, t = input, target.to(input.dtype)
    squeeze = x.ndim == 0
    if squeeze:
        x, t = x.reshape(1), t.reshape(1)
    be = _devices.of(x._data)
    c = x.shape[-1]
    w = _const(weight, x)
    if w is not None and w.shape not in (x.shape, (c,)):
        w = be.ascontiguous(be.broadcast_to(w, x.shape))
    pw = _const(pos_weight, x)
    if pw is not None and pw.shape != (c,):
        pw = be.ascontiguous(be.broadcast_to(pw, (c,)))
    loss = BCEWithLogits.apply(x, t, weight=w, pos_weight=pw, reduction=reduction)
    return loss.reshape(()) if squeeze and reduction == "none" else loss


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL(target || exp(input)) pointwise: target (log target - input); input holds
    log-probabilities. reduction 'batchmean' divides the sum by the batch size (the true KL)."""
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction, ("batchmean",))
    target = _as_target(target, input)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        from ..._tensor.functions import where

        # target log(target) as torch's xlogy: 0 at target 0, NaN for a negative or NaN target
        pos = target > 0
        safe = where(pos, target, 1.0)
        # (the inner where of two numbers is a default-dtype tensor: cast so that it does not
        # widen a bfloat16 target)
        zero_or_nan = where(target == 0, 0.0, float("nan")).to(target.dtype)
        xlogx = where(pos, target * safe.log(), zero_or_nan)
        loss = xlogx - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)


# ---- embeddings and metric learning ---------------------------------------------------------


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dimension."""
    return (x1 - x2 + eps).norm(p, dim=-1, keepdim=keepdim)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """x1 . x2 / (max(||x1||, eps) max(||x2||, eps)) along ``dim``, after broadcasting x1
    against x2 (so ``dim`` counts in the broadcast shape, as in torch)."""
    shape = tuple(np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape)))
    x1, x2 = x1.expand(shape), x2.expand(shape)
    n1 = x1.norm(dim=dim, keepdim=True).clamp_min(eps)
    n2 = x2.norm(dim=dim, keepdim=True).clamp_min(eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def cosine_embedding_loss(
    input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"
):
    """1 - cos(x1, x2) for target 1, max(0, cos(x1, x2) - margin) for target -1."""
    reduction = _legacy(size_average, reduce, reduction)
    from ..._tensor.functions import where

    eps = 1e-12  # torch's EPSILON in the product of squared norms
    dot = (input1 * input2).sum(-1)
    m1 = (input1 * input1).sum(-1) + eps
    m2 = (input2 * input2).sum(-1) + eps
    cos = dot / (m1 * m2).sqrt()
    y = _as_target(target, cos)
    pos = 1 - cos
    neg = (cos - margin).clamp_min(0.0)
    return _reduce(where(y == 1, pos, where(y == -1, neg, 0.0 * cos)), reduction)


def margin_ranking_loss(
    input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"
):
    """max(0, -y * (x1 - x2) + margin): x1 should rank above x2 where y = 1, below where -1."""
    reduction = _legacy(size_average, reduce, reduction)
    if not (input1.ndim == input2.ndim == target.ndim):
        raise RuntimeError(
            "margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {tuple(input1.shape)}, input2: {tuple(input2.shape)}, target: "
            f"{tuple(target.shape)} "
        )
    y = _as_target(target, input1)
    return _reduce((-y * (input1 - input2) + margin).clamp_min(0.0), reduction)


def hinge_embedding_loss(
    input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"
):
    """x where y = 1, max(0, margin - x) where y = -1 (both parts summed where y is neither)."""
    reduction = _legacy(size_average, reduce, reduction)
    y = _as_target(target, input)
    zero = input * 0.0
    pos = input.where(y != -1, zero)
    neg = (margin - input).clamp_min(0.0).where(y != 1, zero)
    return _reduce(pos + neg, reduction)


def contrastive_loss(x1, x2, label, margin=1.0, reduction="mean"):
    """Siamese contrastive loss (Hadsell, Chopra, LeCun 2006) on the distance d = ||x1 - x2||:
    0.5 d^2 for similar pairs (label 1), 0.5 max(0, margin - d)^2 for dissimilar pairs
    (label 0); 'mean' averages over pairs."""
    d = pairwise_distance(x1, x2)
    y = _as_target(label, d)
    loss = 0.5 * (y * d * d + (1 - y) * (margin - d).clamp_min(0.0) ** 2)
    return _reduce(loss, reduction)


def triplet_margin_loss(
    anchor,
    positive,
    negative,
    margin=1.0,
    p=2.0,
    eps=1e-6,
    swap=False,
    size_average=None,
    reduce=None,
    reduction="mean",
):
    """max(d(a, p) - d(a, n) + margin, 0) with d the p-norm pairwise distance."""
    reduction = _legacy(size_average, reduce, reduction)
    d_ap = pairwise_distance(anchor, positive, p, eps)
    d_an = pairwise_distance(anchor, negative, p, eps)
    if swap:
        from ..._tensor.functions import minimum

        d_an = minimum(d_an, pairwise_distance(positive, negative, p, eps))
    return _reduce((margin + d_ap - d_an).clamp_min(0.0), reduction)


# ---- sequences -----------------------------------------------------------------------------


def ctc_loss(
    log_probs,
    targets,
    input_lengths,
    target_lengths,
    blank=0,
    reduction="mean",
    zero_infinity=False,
):
    """CTC: log_probs (T, N, C) (or (T, C)), targets padded (N, S) or concatenated
    (sum(target_lengths),); 'mean' divides each loss by its target length, then averages."""
    _check_reduction(reduction)
    lp = log_probs
    unbatched = lp.ndim == 2
    if unbatched:
        lp = lp.unsqueeze(1)
    if lp.ndim != 3:
        raise RuntimeError(f"ctc_loss: log_probs must be (T, N, C) or (T, C), got {lp.shape}")
    T, N, C = lp.shape
    tg = np.asarray(targets.__array__() if isinstance(targets, Tensor) else targets)
    in_len = np.asarray(
        input_lengths.__array__() if isinstance(input_lengths, Tensor) else input_lengths,
        dtype=np.int64,
    ).reshape(-1)
    tg_len = np.asarray(
        target_lengths.__array__() if isinstance(target_lengths, Tensor) else target_lengths,
        dtype=np.int64,
    ).reshape(-1)
    if tg.dtype.kind not in "iu":
        raise RuntimeError(f"ctc_loss: targets must be integers, got {tg.dtype}")
    if unbatched and tg.ndim == 1 and tg_len.size == 1:
        tg = tg.reshape(1, -1)
    if in_len.shape != (N,) or tg_len.shape != (N,):
        raise RuntimeError(
            f"ctc_loss: expected input_lengths and target_lengths of size {N}, "
            f"got {in_len.size} and {tg_len.size}"
        )
    if (in_len > T).any() or (in_len < 1).any():
        raise RuntimeError(f"ctc_loss: input_lengths must be in [1, {T}], got {in_len.tolist()}")
    if tg.ndim == 1:  # concatenated
        if tg_len.sum() != tg.size:
            raise RuntimeError(
                f"ctc_loss: concatenated targets hold {tg.size} labels but "
                f"target_lengths sum to {int(tg_len.sum())}"
            )
        offsets = np.concatenate([[0], np.cumsum(tg_len)[:-1]])
        rows = [tg[o : o + n] for o, n in zip(offsets, tg_len)]
    else:
        if tg.shape[0] != N or (tg_len > tg.shape[1]).any():
            raise RuntimeError(
                f"ctc_loss: padded targets {tg.shape} do not fit batch {N} and "
                f"target_lengths {tg_len.tolist()}"
            )
        rows = [tg[n, : tg_len[n]] for n in range(N)]
    s_max = int(tg_len.max()) if N else 0
    L = 2 * s_max + 1
    ext = np.full((N, L), blank, dtype=np.int64)
    for n, r in enumerate(rows):
        if ((r < 0) | (r >= C) | (r == blank)).any():
            raise RuntimeError(
                f"ctc_loss: targets must be in [0, {C}) and not the blank "
                f"({blank}), sample {n} has {r.tolist()}"
            )
        ext[n, 1 : 2 * len(r) : 2] = r
    skip = np.zeros((N, L), dtype=bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    loss = CTCLoss.apply(
        lp,
        ext=ext,
        ext_len=2 * tg_len + 1,
        in_len=in_len,
        skip=skip,
        tgt_len=tg_len,
        reduction=reduction,
        zero_infinity=zero_infinity,
    )
    return loss.reshape(()) if unbatched and reduction == "none" else loss


# ---- GANs --------------------------------------------------------------------------------


def gan_generator_loss(fake_logits, reduction="mean"):
    """Non-saturating generator loss -log D(G(z)), from the discriminator's logits on fakes:
    BCE-with-logits against 'real' (1) labels."""
    from ..._tensor.creation import ones_like

    return binary_cross_entropy_with_logits(
        fake_logits, ones_like(fake_logits), reduction=reduction
    )


def gan_discriminator_loss(real_logits, fake_logits, reduction="mean"):
    """Discriminator loss -[log D(x) + log(1 - D(G(z)))]: BCE-with-logits of real logits
    against 1 plus fake logits against 0."""
    from ..._tensor.creation import ones_like, zeros_like

    return binary_cross_entropy_with_logits(
        real_logits, ones_like(real_logits), reduction=reduction
    ) + binary_cross_entropy_with_logits(fake_logits, zeros_like(fake_logits), reduction=reduction)


__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "contrastive_loss",
    "cosine_embedding_loss",
    "cosine_similarity",
    "cross_entropy",
    "ctc_loss",
    "gan_discriminator_loss",
    "gan_generator_loss",
    "hinge_embedding_loss",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "margin_ranking_loss",
    "mse_loss",
    "nll_loss",
    "pairwise_distance",
    "rmse_loss",
    "smooth_l1_loss",
    "triplet_margin_loss",
]
