"""torch.optim.Adafactor: Adam-like steps whose second moment of a matrix is kept factored, as a
row and a column mean of the squared gradient, so its state is O(m + n) instead of O(m n).

A parameter of two or more dims keeps ``row_var`` (*, m, 1) and ``col_var`` (*, 1, n) over its
last two dims and estimates the second moment as row_var col_var / mean(row_var); a vector or a
scalar keeps ``variance`` of its own shape. The decay of the moments is 1 - t^beta2_decay at step
t, the step size min(lr, 1/sqrt(t)) times the parameter's RMS (at least eps2), and the update is
clipped to RMS d. State keys and the update follow torch's, so state dicts load either way.

Plain NumPy in the parameters' dtype on the host (no fused kernel): the per-step scalars are
Python floats, as torch's ``.item()`` values are.
"""

import math

import numpy as np

from . import _functional as F
from .optimizer import Optimizer, zeros_like_storage

__all__ = ["Adafactor"]


class Adafactor(Optimizer):
    """Adafactor (torch.optim.Adafactor's algorithm, defaults and state)."""

    def __init__(
        self,
        params,
        lr=1e-2,
        beta2_decay=-0.8,
        eps=(None, 1e-3),
        d=1.0,
        weight_decay=0.0,
        *,
        foreach=None,
        maximize=False,
    ):
        if hasattr(lr, "numel") and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not lr >= 0.0:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not beta2_decay <= 0.0:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not eps[0] >= 0.0:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not eps[1] >= 0.0:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not d >= 1.0:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not weight_decay >= 0.0:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = {
            "lr": lr,
            "beta2_decay": beta2_decay,
            "eps": eps,
            "d": d,
            "weight_decay": weight_decay,
            "foreach": foreach,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _state_shape(self, shape, key):
        if key == "row_var":
            return (*shape[:-1], 1)
        if key == "col_var":
            return (*shape[:-2], 1, shape[-1])
        return shape

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            items = self._params_with_grad(group)
            F._check_reference_arrays([d for _, d, _ in items])
            for p, d, g in items:
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    if g.ndim > 1:
                        state["row_var"] = zeros_like_storage(g[..., :1])
                        state["col_var"] = zeros_like_storage(g[..., :1, :])
                    else:
                        state["variance"] = zeros_like_storage(g)
                state["step"] += 1
                _adafactor_step(d, -g if group["maximize"] else g, state, group)
        return loss


def _rms(a):
    """sqrt(mean(a^2)) as a Python float, through the 2-norm as torch computes it."""
    return float(np.sqrt(np.sum(np.square(a)))) / math.sqrt(a.size)


def _adafactor_step(param, grad, state, group):
    """One step of one parameter (its storage array, updated in place)."""
    dt = param.dtype.type
    lr = float(group["lr"])
    eps1, eps2 = group["eps"]
    if eps1 is None:
        eps1 = float(np.finfo(param.dtype).eps)
    t = state["step"]
    decay = float(t) ** group["beta2_decay"]  # 1 - beta2 at step t
    alpha = max(eps2, _rms(param)) * min(lr, 1 / math.sqrt(t))
    if group["weight_decay"] != 0:
        param *= dt(1 - lr * group["weight_decay"])
    if grad.ndim > 1:
        row, col = state["row_var"], state["col_var"]
        # the means of g^2 along each dim, from the norms as torch forms them
        row_mean = np.square(np.sqrt(np.sum(grad * grad, -1, keepdims=True))) / dt(grad.shape[-1])
        col_mean = np.square(np.sqrt(np.sum(grad * grad, -2, keepdims=True))) / dt(grad.shape[-2])
        row[...] = F._lerp(row, row_mean, decay)
        col[...] = F._lerp(col, col_mean, decay)
        var = (row @ col) / np.maximum(row.mean(-2, keepdims=True), dt(eps1))
    else:
        variance = state["variance"]
        variance[...] = F._lerp(variance, grad * grad, decay)
        var = variance.copy()
    update = np.reciprocal(np.sqrt(np.maximum(var, dt(eps1 * eps1)))) * grad
    denom = max(1.0, _rms(update) / group["d"])
    param += dt(-alpha / denom) * update
