"""torch.optim.Adamax (Adam with the infinity norm); one fused call per group and step count."""

from . import _functional as F
from .optimizer import Optimizer, group_by_step, zeros_like_storage

__all__ = ["Adamax"]


def check_adam_hyperparameters(lr, eps, betas, weight_decay):
    """torch's checks, in torch's order, shared by the Adam-family optimizers."""
    if not lr >= 0.0:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not eps >= 0.0:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if not weight_decay >= 0.0:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


class Adamax(Optimizer):
    """Adamax (torch.optim.Adamax's algorithm and defaults); the bias correction is computed
    once per call, in double. ``capturable``/``differentiable`` are accepted and change nothing."""

    def __init__(
        self,
        params,
        lr=2e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        foreach=None,
        *,
        maximize=False,
        differentiable=False,
        capturable=False,
        fused=None,
    ):
        check_adam_hyperparameters(lr, eps, betas, weight_decay)
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "capturable": capturable,
        }
        if fused is not None:  # a fastnn option (torch has none here): kept only if given
            defaults["fused"] = fused
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            items = self._params_with_grad(group)
            for p, d, _ in items:
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = zeros_like_storage(d)
                    state["exp_inf"] = zeros_like_storage(d)
            beta1, beta2 = group["betas"]
            for step, part in group_by_step(items, self.state).items():
                states = [self.state[p] for p, _, _ in part]
                F.adamax(
                    [d for _, d, _ in part],
                    [g for _, _, g in part],
                    [s["exp_avg"] for s in states],
                    [s["exp_inf"] for s in states],
                    lr=group["lr"],
                    beta1=beta1,
                    beta2=beta2,
                    eps=group["eps"],
                    weight_decay=group["weight_decay"],
                    maximize=group["maximize"],
                    step=step,
                    fused=group.get("fused") is not False,
                )
                for s in states:
                    s["step"] = step
        return loss
