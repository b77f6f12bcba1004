"""torch.optim.SGD: momentum, dampening, Nesterov, weight decay, maximize; one fused call."""

from . import _functional as F
from .optimizer import Optimizer, zeros_like_storage

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent (torch.optim.SGD's algorithm and defaults).

    ``fused`` (default True) runs the fused multi-tensor kernel; ``fused=False`` the NumPy
    reference loop. ``foreach`` is accepted for torch compatibility; the fused kernel already
    covers all parameters of a group in one call.
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        momentum=0,
        dampening=0,
        weight_decay=0,
        nesterov=False,
        *,
        maximize=False,
        foreach=None,
        fused=None,
        differentiable=False,
    ):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            "foreach": foreach,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            items = self._params_with_grad(group)
            if not items:
                continue
            momentum = group["momentum"]
            kw = {
                "lr": group["lr"],
                "momentum": momentum,
                "dampening": group["dampening"],
                "nesterov": group["nesterov"],
                "weight_decay": group["weight_decay"],
                "maximize": group["maximize"],
                "fused": group.get("fused") is not False,
            }
            if momentum == 0:
                F.sgd([d for _, d, _ in items], [g for _, _, g in items], None, **kw)
                continue
            # torch: a parameter's first step sets its buffer to the gradient. Parameters with
            # and without a buffer go in (at most) two fused calls.
            new = [it for it in items if "momentum_buffer" not in self.state[it[0]]]
            old = [it for it in items if "momentum_buffer" in self.state[it[0]]]
            for first, part in ((True, new), (False, old)):
                if not part:
                    continue
                if first:
                    for p, d, _ in part:
                        self.state[p]["momentum_buffer"] = zeros_like_storage(d)
                bufs = [self.state[p]["momentum_buffer"] for p, _, _ in part]
                F.sgd(
                    [d for _, d, _ in part], [g for _, _, g in part], bufs, first_step=first, **kw
                )
        return loss
