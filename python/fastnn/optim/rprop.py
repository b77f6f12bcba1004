"""torch.optim.Rprop (resilient backpropagation): plain NumPy per-parameter steps."""

import numpy as np

from . import _functional as F
from .optimizer import Optimizer, zeros_like_storage

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """Rprop (torch.optim.Rprop's algorithm, defaults and state: ``step``, ``prev``,
    ``step_size``). Each element's step size grows by ``etas[1]`` while its gradient keeps its
    sign and shrinks by ``etas[0]`` when the sign flips (that element then skips one update)."""

    def __init__(
        self,
        params,
        lr=1e-2,
        etas=(0.5, 1.2),
        step_sizes=(1e-6, 50),
        *,
        capturable=False,
        foreach=None,
        maximize=False,
        differentiable=False,
    ):
        if not lr >= 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = {
            "lr": lr,
            "etas": tuple(etas),
            "step_sizes": tuple(step_sizes),
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
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            for p, d, grad in items:
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["prev"] = zeros_like_storage(d)
                    state["step_size"] = zeros_like_storage(d, group["lr"])
                g = -grad if group["maximize"] else grad
                prev, step_size = state["prev"], state["step_size"]
                sign = np.sign(g * prev)
                factor = np.where(sign > 0, etaplus, np.where(sign < 0, etaminus, 1))
                factor = np.where(np.isnan(sign), sign, factor).astype(d.dtype)
                step_size *= factor
                np.clip(step_size, step_size_min, step_size_max, out=step_size)
                # after a sign flip the element waits one step, and its 'previous' grad is 0
                g = np.where(factor == d.dtype.type(etaminus), 0, g).astype(d.dtype)
                d -= np.sign(g) * step_size
                np.copyto(prev, g)
                state["step"] += 1
        return loss
