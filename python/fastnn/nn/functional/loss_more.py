"""More of torch's losses, as compositions of Tensor ops (autograd comes with them):
gaussian_nll_loss, poisson_nll_loss, soft_margin_loss, multi_margin_loss, multilabel_margin_loss,
multilabel_soft_margin_loss and triplet_margin_with_distance_loss, with torch's formulas,
options and reductions.

gaussian_nll_loss clamps the variance at ``eps`` for the value only, as torch does (its clamp
runs under no_grad): the gradient reaches var as if unclamped. multilabel_margin_loss reads its
targets (class indices, the list of each row ending at the first -1) on the host, to build the
(target class, other class) pair weights of the hinge over all pairs.
"""

import math

import numpy as np

from ..._tensor import Tensor
from ..._tensor.creation import tensor as _tensor
from .activation import logsigmoid
from .loss import _check_reduction, _legacy, _reduce, pairwise_distance


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 (log var + (input - target)^2 / var) (+ 0.5 log 2 pi with full=True); var has the
    input's shape, or one fewer trailing dim, or a size-1 dim where the input has more
    (one variance shared along it)."""
    if isinstance(var, (int, float)) and not isinstance(var, bool):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = input.detach() * 0 + float(var)
    elif bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif input.ndim == var.ndim and (
            sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1
        ):
            pass  # a variance shared along the dim where var has size 1
        else:
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    var = var + (var.detach().clamp_min(eps) - var.detach())
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def poisson_nll_loss(
    input,
    target,
    log_input=True,
    full=False,
    size_average=None,
    eps=1e-8,
    reduce=None,
    reduction="mean",
):
    """exp(input) - target * input (log_input=True) or input - target * log(input + eps); full
    adds Stirling's term target log target - target + 0.5 log(2 pi target) where target > 1."""
    reduction = _legacy(size_average, reduce, reduction)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not a valid value for reduction")
    loss = input.exp() - target * input if log_input else input - target * (input + eps).log()
    if full:
        t = target.detach() if isinstance(target, Tensor) else _tensor(target)
        safe = t.clamp_min(1.0)  # log of a target <= 1 is masked out below anyway
        stirling = t * safe.log() - t + 0.5 * (2 * math.pi * safe).log()
        loss = loss + stirling.masked_fill(t <= 1, 0.0)
    return _reduce(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-target * input)), targets +1 / -1."""
    reduction = _legacy(size_average, reduce, reduction)
    return _reduce((-target * input).exp().log1p(), reduction)


def _class_input(input, target, fn):
    """(C,) / () or (N, C) / (N,) -> the 2-D input and 1-D int64 target, and whether it was 1-D."""
    if input.ndim not in (1, 2) or (input.ndim == 2 and input.shape[1] == 0):
        raise ValueError(
            f"{fn}: expected a non-empty 1D or 2D input, got shape {tuple(input.shape)}"
        )
    one = input.ndim == 1
    x = input.unsqueeze(0) if one else input
    t = target.reshape(-1) if one else target
    if t.ndim != 1 or t.shape[0] != x.shape[0]:
        raise ValueError(
            f"{fn}: inconsistent target size {tuple(target.shape)} for input of size "
            f"{tuple(input.shape)}"
        )
    if t.dtype.kind not in "iu":
        raise RuntimeError(f"{fn}: expected an integer target, got {t.dtype}")
    return x, t.long(), one


def multi_margin_loss(
    input,
    target,
    p=1,
    margin=1.0,
    weight=None,
    size_average=None,
    reduce=None,
    reduction="mean",
):
    """Multi-class hinge: sum over classes i != y of max(0, margin - x[y] + x[i])^p, times
    weight[y], divided by the class count; input (N, C) or (C,), target (N,) or ()."""
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.ndim != 1:
        raise ValueError("weight must be one-dimensional")
    x, t, one = _class_input(input, target, "multi_margin_loss")
    c = x.shape[1]
    tn = t.numpy() if t.device.type == "cpu" else t.cpu().numpy()
    if tn.size and (tn.min() < 0 or tn.max() >= c):
        raise RuntimeError("target out of range")
    idx = t.unsqueeze(1)
    m = (margin - x.gather(1, idx) + x).clamp_min(0.0)
    if p == 2:
        m = m * m
    if weight is not None:
        m = m * weight.gather(0, t).unsqueeze(1)
    own = _tensor(tn[:, None] == np.arange(c), device=x.device)
    loss = m.masked_fill(own, 0.0).sum(1) / c
    if one and reduction == "none":
        loss = loss.squeeze(0)
    return _reduce(loss, reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """sum over target classes j and non-target classes i of max(0, 1 - (x[j] - x[i])), divided
    by the class count; target (N, C) int64 lists each row's classes, ended by the first -1."""
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction)
    if input.ndim not in (1, 2) or tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"multilabel_margin_loss: expected a 1D or 2D input and a target of the same shape, "
            f"got input {tuple(input.shape)} and target {tuple(target.shape)}"
        )
    one = input.ndim == 1
    x = input.unsqueeze(0) if one else input
    tn = target.numpy() if target.device.type == "cpu" else target.cpu().numpy()
    tn = tn.reshape(x.shape).astype(np.int64)
    n, c = x.shape
    count = np.zeros((n, c))  # how often class j is listed (repeats count, as torch's)
    for r in range(n):
        row = tn[r]
        stop = np.flatnonzero(row == -1)
        listed = row[: stop[0]] if stop.size else row
        if listed.size and (listed.min() < 0 or listed.max() >= c):
            raise RuntimeError(
                f"multilabel_margin_loss: target values must lie in [-1, {c}), got "
                f"{int(listed[(listed < 0) | (listed >= c)][0])}"
            )
        np.add.at(count[r], listed, 1.0)
    pairs = count[:, :, None] * (count == 0)[:, None, :]  # (j listed, i not listed)
    pairs = _tensor(pairs, dtype=x.dtype, device=x.device)
    hinge = (1.0 - x.unsqueeze(2) + x.unsqueeze(1)).clamp_min(0.0)
    loss = (hinge * pairs).sum((1, 2)) / c
    if one and reduction == "none":
        loss = loss.squeeze(0)
    return _reduce(loss, reduction)


def multilabel_soft_margin_loss(
    input, target, weight=None, size_average=None, reduce=None, reduction="mean"
):
    """Per-class binary logistic loss -(y log sigmoid(x) + (1 - y) log sigmoid(-x)), weighted,
    averaged over the classes (the last dim); one loss per sample."""
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(input.ndim - 1) / input.shape[-1]
    return _reduce(loss, reduction)


def triplet_margin_with_distance_loss(
    anchor,
    positive,
    negative,
    *,
    distance_function=None,
    margin=1.0,
    swap=False,
    reduction="mean",
):
    """max(d(a, p) - d(a, n) + margin, 0) for any distance d (pairwise_distance by default);
    swap=True uses min(d(a, n), d(p, n)) as the negative distance."""
    if margin <= 0:
        raise ValueError(
            f"TripletMarginWithDistanceLoss: expected margin to be greater than 0, got {margin} "
            "instead"
        )
    _check_reduction(reduction)
    dims = (anchor.ndim, positive.ndim, negative.ndim)
    if len(set(dims)) != 1:
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number of "
            f"dimensions, but got: anchor {dims[0]}D, positive {dims[1]}D, and negative "
            f"{dims[2]}D inputs"
        )
    dist = distance_function if distance_function is not None else pairwise_distance
    d_ap, d_an = dist(anchor, positive), dist(anchor, negative)
    if swap:
        d_pn = dist(positive, negative)
        d_an = d_an.minimum(d_pn)
    return _reduce((margin + d_ap - d_an).clamp_min(0.0), reduction)


__all__ = [
    "gaussian_nll_loss",
    "multi_margin_loss",
    "multilabel_margin_loss",
    "multilabel_soft_margin_loss",
    "poisson_nll_loss",
    "soft_margin_loss",
    "triplet_margin_with_distance_loss",
]
