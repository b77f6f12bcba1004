"""torch.optim.RMSprop: centered, momentum, weight decay, maximize; one fused call."""

from . import _functional as F
from .optimizer import Optimizer, zeros_like_storage

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop (torch.optim.RMSprop's algorithm and defaults); state created on the first step."""

    def __init__(
        self,
        params,
        lr=1e-2,
        alpha=0.99,
        eps=1e-8,
        weight_decay=0,
        momentum=0,
        centered=False,
        foreach=None,
        maximize=False,
        *,
        fused=None,
        capturable=False,
        differentiable=False,
    ):
        if not lr >= 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not eps >= 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not momentum >= 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not weight_decay >= 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not alpha >= 0.0:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "capturable": capturable,
            "foreach": foreach,
            "maximize": maximize,
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
            momentum, centered = group["momentum"], group["centered"]
            for p, d, _ in items:
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["square_avg"] = zeros_like_storage(d)
                    if momentum > 0:
                        state["momentum_buffer"] = zeros_like_storage(d)
                    if centered:
                        state["grad_avg"] = zeros_like_storage(d)
            states = [self.state[p] for p, _, _ in items]
            F.rmsprop(
                [d for _, d, _ in items],
                [g for _, _, g in items],
                [s["square_avg"] for s in states],
                lr=group["lr"],
                alpha=group["alpha"],
                eps=group["eps"],
                weight_decay=group["weight_decay"],
                momentum=momentum,
                centered=centered,
                momentum_bufs=[s["momentum_buffer"] for s in states] if momentum > 0 else None,
                grad_avgs=[s["grad_avg"] for s in states] if centered else None,
                maximize=group["maximize"],
                fused=group.get("fused") is not False,
            )
            for s in states:
                s["step"] += 1
        return loss
