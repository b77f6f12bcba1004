"""torch.optim.ASGD (averaged SGD): plain NumPy per-parameter steps (no fused kernel)."""

from typing import ClassVar

import numpy as np

from . import _functional as F
from .optimizer import Optimizer, default_dtype_scalar, zeros_like_storage

__all__ = ["ASGD"]


class ASGD(Optimizer):
    """ASGD (torch.optim.ASGD's algorithm, defaults and state: ``step``, ``eta``, ``mu``,
    ``ax``). ``eta`` and ``mu`` are rounded to the default dtype as torch's 0-d tensors are.
    ``foreach``/``capturable``/``differentiable`` are accepted and change nothing here."""

    _SCALAR_STATE: ClassVar[dict] = {"step": int, "eta": float, "mu": float}

    def __init__(
        self,
        params,
        lr=1e-2,
        lambd=1e-4,
        alpha=0.75,
        t0=1e6,
        weight_decay=0,
        foreach=None,
        maximize=False,
        differentiable=False,
        capturable=False,
    ):
        if not lr >= 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not weight_decay >= 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {
            "lr": lr,
            "lambd": lambd,
            "alpha": alpha,
            "t0": t0,
            "weight_decay": weight_decay,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "capturable": capturable,
        }
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            items = self._params_with_grad(group)
            F._check_reference_arrays([d for _, d, _ in items])
            lr, lambd, alpha, t0 = group["lr"], group["lambd"], group["alpha"], group["t0"]
            wd = group["weight_decay"]
            for p, d, grad in items:
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["eta"] = default_dtype_scalar(lr)
                    state["mu"] = 1.0
                    state["ax"] = zeros_like_storage(d)
                step = state["step"] + 1
                g = -grad if group["maximize"] else grad
                if wd != 0:
                    g = g + wd * d
                eta = state["eta"]
                d *= 1 - lambd * eta
                d += -eta * g
                ax = state["ax"]
                if state["mu"] != 1:
                    ax += (d - ax) * state["mu"]
                else:
                    np.copyto(ax, d)
                state["step"] = step
                state["eta"] = default_dtype_scalar(lr / ((1 + lambd * lr * step) ** alpha))
                state["mu"] = default_dtype_scalar(1 / max(1, step - t0))
        return loss
