"""Gradient clipping: ``clip_grad_norm_`` (with its two halves ``get_total_norm`` and
``clip_grads_with_norm_``, and its deprecated name ``clip_grad_norm``) and ``clip_grad_value_``,
with torch's results.

The total norm is one pass over the gradients with no per-tensor norm tensors and no stacking:
for the 1-, 2- and inf-norms of same-dtype float32/float64 CPU gradients, one call of the fused
kernel ``grad_norm`` over the whole list (a Python loop of numpy reductions costs about a
microsecond per tensor, which dominates for models with many small parameters); otherwise one
numpy reduction per gradient accumulated into one number. Gradients are scaled in place (one
``grad_scale_`` call), and only when the factor is below 1 (x * 1 is x for every float,
infinities and NaNs included, so skipping changes no bit).
"""

import math
import warnings

import numpy as np

from ... import _C, _devices
from ..._core import dtype as _dtype
from ..._tensor import Tensor, tensor
from ...autograd import no_grad

__all__ = [
    "clip_grad_norm",
    "clip_grad_norm_",
    "clip_grad_value_",
    "clip_grads_with_norm_",
    "get_total_norm",
]

_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _tensors(arg, what):
    """A list of Tensors from a Tensor or an iterable of Tensors (read once)."""
    items = [arg] if isinstance(arg, Tensor) else list(arg)
    if not all(issubclass(k, Tensor) for k in {type(t) for t in items}):  # one check per type
        for i, t in enumerate(items):
            if not isinstance(t, Tensor):
                raise TypeError(f"{what}: expected Tensors, got {type(t).__name__} at index {i}")
    return items


def _grads(parameters, what):
    return [p.grad for p in _tensors(parameters, what) if p.grad is not None]


def _numpy_power_sum(arrays, p):
    """The total p-norm's inner quantity over all arrays, in the arrays' dtype like torch."""
    if p == 2.0:
        # np.vdot is a BLAS dot on the flat array: the square sum without a temporary.
        return sum(np.vdot(a, a) for a in arrays)
    if p == 1.0:
        return sum(np.abs(a).sum() for a in arrays)
    return sum((np.abs(a) ** a.dtype.type(p)).sum() for a in arrays)


def _numpy_total_norm(arrays, p, dtype):
    """One numpy reduction per array (what the fused kernel refuses: mixed dtypes, float16,
    non-contiguous arrays, other norm types)."""
    if math.isinf(p):
        picks = []
        for a in arrays:
            if a.size == 0:
                continue  # no element, no say in a max or a min
            if p > 0:
                picks.append(
                    max(a.max(), -a.min()) if _dtype.is_floating(a.dtype) else np.abs(a).max()
                )
            else:
                picks.append(np.abs(a).min())
        if not picks:
            return dtype.type(0.0)
        if any(np.isnan(v) for v in picks):
            return dtype.type(np.nan)
        return dtype.type(max(picks) if p > 0 else min(picks))
    if p == 0.0:
        # torch takes the 0-"norm" of the per-tensor norms: the number of tensors that have a
        # nonzero element (a NaN counts as nonzero).
        return dtype.type(sum(1 for a in arrays if np.count_nonzero(a)))
    total = dtype.type(_numpy_power_sum(arrays, p))
    if p == 2.0:
        return np.sqrt(total)
    return total ** dtype.type(1.0 / p)


def _generic_total_norm(tensors, p):
    """Any device: through Tensor ops (one reduction per tensor, summed on the host)."""
    with no_grad():
        if math.isinf(p):
            values = [t.abs().amax() if p > 0 else t.abs().amin() for t in tensors if t.numel()]
            if not values:
                return 0.0
            vals = [float(v.item()) for v in values]
            if any(math.isnan(v) for v in vals):
                return math.nan
            return max(vals) if p > 0 else min(vals)
        if p == 0.0:
            return float(sum(1 for t in tensors if float((t != 0).sum().item())))
        total = sum(float(t.abs().pow(p).sum().item()) for t in tensors)
        return total ** (1.0 / p)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The ``norm_type`` norm of all ``tensors`` together, as if concatenated (a 0-d Tensor of
    their promoted dtype; ``tensor(0.)`` for none). ``foreach`` is accepted for torch's
    signature: the computation is always the single pass."""
    return _total_norm(_tensors(tensors, "get_total_norm"), norm_type, error_if_nonfinite)


def _total_norm(tensors, norm_type, error_if_nonfinite):
    norm_type = float(norm_type)
    if not tensors:
        return tensor(0.0)
    arrays = [t._data for t in tensors]
    if norm_type in (1.0, 2.0, math.inf):
        # The fused kernel first: it checks every array (numpy, one float32/float64 dtype,
        # C-contiguous) before reading any, and what it refuses takes the general path.
        try:
            value = _C.grad_norm(arrays, norm_type)
        except (TypeError, ValueError):
            pass
        else:
            return _finish_norm(
                np.asarray(value, dtype=arrays[0].dtype), norm_type, error_if_nonfinite
            )
    dtypes = {a.dtype for a in arrays}
    dtype = next(iter(dtypes)) if len(dtypes) == 1 else np.result_type(*dtypes)
    if not _dtype.is_floating(dtype):
        raise TypeError(
            f"get_total_norm: expected floating point tensors, got dtype {dtype} "
            "(norms of integer tensors are not defined)"
        )
    if {type(a) for a in arrays} == {np.ndarray}:
        with np.errstate(over="ignore", invalid="ignore"):  # inf and NaN norms are results here
            value = _numpy_total_norm(arrays, norm_type, dtype)
    else:
        value = _generic_total_norm(tensors, norm_type)
    if isinstance(value, np.generic):  # the CPU path; other devices get their own tensor
        return _finish_norm(np.asarray(value, dtype=dtype), norm_type, error_if_nonfinite)
    # On the gradients' own device, built by their device module.
    device_total = Tensor._make(_devices.of(arrays[0]).full((), value, dtype))
    return _finish_norm(device_total, norm_type, error_if_nonfinite)


def _finish_norm(total, norm_type, error_if_nonfinite):
    """The norm as a 0-d Tensor (from a numpy 0-d array or a Tensor); refused if non-finite and
    ``error_if_nonfinite``."""
    if isinstance(total, np.ndarray):
        total = Tensor._make(total)
    if error_if_nonfinite and not math.isfinite(float(total.item())):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the gradients "
            "by the non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    return total


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale the gradients of ``parameters`` by min(1, max_norm / (total_norm + 1e-6))."""
    params = _tensors(parameters, "clip_grads_with_norm_")
    _scale_grads([p.grad for p in params if p.grad is not None], float(max_norm), total_norm)


def _scale_grads(grads, max_norm, total_norm):
    if not grads:
        return
    norm = float(total_norm.item() if isinstance(total_norm, Tensor) else total_norm)
    arrays = [g._data for g in grads]
    if isinstance(arrays[0], np.ndarray) and arrays[0].dtype in _KERNEL_DTYPES:
        t = arrays[0].dtype.type
        coef = t(max_norm) / (t(norm) + t(1e-6))
        if coef >= 1.0:
            return
        try:  # NaN too: a NaN norm makes every gradient NaN, as in torch
            _C.grad_scale_(arrays, float(coef))
            return
        except (TypeError, ValueError):  # refused before writing anything: the loop below
            pass
    with no_grad():
        for g in grads:
            a = g._data
            t = a.dtype.type if isinstance(a, np.ndarray) else np.dtype(a.dtype).type
            # The factor in the gradient's dtype, as torch's 0-d factor tensor is applied.
            coef = t(max_norm) / (t(norm) + t(1e-6))
            if coef >= 1.0:
                continue  # clamped to 1: nothing changes (a NaN factor does not compare)
            if isinstance(a, np.ndarray):
                with np.errstate(invalid="ignore", over="ignore"):  # inf * 0 is NaN, as in torch
                    np.multiply(a, coef, out=a)
            else:
                g.mul_(float(coef))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Rescale the gradients in place so that their total ``norm_type`` norm is at most
    ``max_norm``; returns the total norm before clipping (a 0-d Tensor)."""
    params = _tensors(parameters, "clip_grad_norm_")
    max_norm = float(max_norm)
    grads = [p.grad for p in params]
    grads = [g for g in grads if g is not None]
    total = _total_norm(grads, norm_type, error_if_nonfinite)
    _scale_grads(grads, max_norm, total)
    return total


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient of ``parameters`` into [-clip_value, clip_value], in place."""
    grads = _grads(parameters, "clip_grad_value_")
    clip_value = float(clip_value)
    with no_grad():
        for g in grads:
            a = g._data
            if isinstance(a, np.ndarray):
                np.clip(a, -clip_value, clip_value, out=a)
            else:
                g.clamp_(-clip_value, clip_value)


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """``clip_grad_norm_`` under its old name, with torch's deprecation warning."""
    warnings.warn(
        "`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
        "`torch.nn.utils.clip_grad_norm_`.",
        FutureWarning,
        stacklevel=2,
    )
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)
