"""torch.optim.Adadelta: rho, eps, weight decay, maximize; one fused call per group."""

from . import _functional as F
from .optimizer import Optimizer, zeros_like_storage

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta (torch.optim.Adadelta's algorithm and defaults); state created on the first step.
    ``capturable`` and ``differentiable`` are accepted for torch's signature and change nothing
    here (no CUDA graphs, no autograd through the step)."""

    def __init__(
        self,
        params,
        lr=1.0,
        rho=0.9,
        eps=1e-6,
        weight_decay=0,
        foreach=None,
        *,
        capturable=False,
        maximize=False,
        differentiable=False,
        fused=None,
    ):
        if not lr >= 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not eps >= 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not weight_decay >= 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {
            "lr": lr,
            "rho": rho,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "capturable": capturable,
            "foreach": foreach,
            "differentiable": differentiable,
        }
        if fused is not None:  # a fastnn option (torch has none here): kept only if given
            defaults["fused"] = fused
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            items = self._params_with_grad(group)
            if not items:
                continue
            for p, d, _ in items:
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["square_avg"] = zeros_like_storage(d)
                    state["acc_delta"] = zeros_like_storage(d)
            states = [self.state[p] for p, _, _ in items]
            F.adadelta(
                [d for _, d, _ in items],
                [g for _, _, g in items],
                [s["square_avg"] for s in states],
                [s["acc_delta"] for s in states],
                lr=group["lr"],
                rho=group["rho"],
                eps=group["eps"],
                weight_decay=group["weight_decay"],
                maximize=group["maximize"],
                fused=group.get("fused") is not False,
            )
            for s in states:
                s["step"] += 1
        return loss
