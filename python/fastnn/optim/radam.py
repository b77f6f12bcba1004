"""torch.optim.RAdam: Adam with variance rectification, L2 or decoupled weight decay; one fused
call per group and step count."""

from . import _functional as F
from .adamax import check_adam_hyperparameters
from .optimizer import Optimizer, group_by_step, zeros_like_storage

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """RAdam (torch.optim.RAdam's algorithm, defaults and state). The rectification term is
    computed once per call, in double. ``capturable``/``differentiable`` change nothing here."""

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        decoupled_weight_decay=False,
        *,
        foreach=None,
        maximize=False,
        capturable=False,
        differentiable=False,
        fused=None,
    ):
        check_adam_hyperparameters(lr, eps, betas, weight_decay)
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "decoupled_weight_decay": decoupled_weight_decay,
            "differentiable": differentiable,
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
                    state["exp_avg_sq"] = zeros_like_storage(d)
            beta1, beta2 = group["betas"]
            for step, part in group_by_step(items, self.state).items():
                states = [self.state[p] for p, _, _ in part]
                F.radam(
                    [d for _, d, _ in part],
                    [g for _, _, g in part],
                    [s["exp_avg"] for s in states],
                    [s["exp_avg_sq"] for s in states],
                    lr=group["lr"],
                    beta1=beta1,
                    beta2=beta2,
                    eps=group["eps"],
                    weight_decay=group["weight_decay"],
                    decoupled=group["decoupled_weight_decay"],
                    maximize=group["maximize"],
                    step=step,
                    fused=group.get("fused") is not False,
                )
                for s in states:
                    s["step"] = step
        return loss
