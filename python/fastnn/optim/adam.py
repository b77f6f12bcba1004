"""torch.optim.Adam and AdamW (decoupled weight decay), with amsgrad and maximize."""

from . import _functional as F
from .optimizer import Optimizer, group_by_step, zeros_like_storage

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """Adam (torch.optim.Adam's algorithm and defaults); ``decoupled_weight_decay=True`` is
    AdamW. Each group is one fused call per distinct step count (normally exactly one); the bias
    corrections are computed once per call, in double."""

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        amsgrad=False,
        *,
        foreach=None,
        maximize=False,
        fused=None,
        capturable=False,
        differentiable=False,
        decoupled_weight_decay=False,
    ):
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
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
            "fused": fused,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            items = self._params_with_grad(group)
            amsgrad = group["amsgrad"]
            for p, d, _ in items:
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = zeros_like_storage(d)
                    state["exp_avg_sq"] = zeros_like_storage(d)
                    if amsgrad:
                        state["max_exp_avg_sq"] = zeros_like_storage(d)
            beta1, beta2 = group["betas"]
            for step, part in group_by_step(items, self.state).items():
                states = [self.state[p] for p, _, _ in part]
                F.adam(
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
                    amsgrad=amsgrad,
                    max_exp_avg_sqs=[s["max_exp_avg_sq"] for s in states] if amsgrad else None,
                    maximize=group["maximize"],
                    step=step,
                    fused=group.get("fused") is not False,
                )
                for s in states:
                    s["step"] = step
        return loss


class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay ``p *= 1 - lr * weight_decay`` (default 0.01)."""

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=1e-2,
        amsgrad=False,
        *,
        maximize=False,
        foreach=None,
        capturable=False,
        differentiable=False,
        fused=None,
    ):
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            foreach=foreach,
            maximize=maximize,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=True,
        )
