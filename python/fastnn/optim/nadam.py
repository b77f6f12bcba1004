"""torch.optim.NAdam: Adam with Nesterov momentum on a decaying schedule (momentum_decay), L2 or
decoupled weight decay; one fused call per group, step count and momentum product."""

from typing import ClassVar

import numpy as np

from .._core import dtype as _dtype
from . import _functional as F
from .adamax import check_adam_hyperparameters
from .optimizer import Optimizer, zeros_like_storage

__all__ = ["NAdam"]


def _next_mu_product(mu_product, mu):
    # torch keeps the product as a 0-d tensor of its default float dtype, so in float32 each
    # step rounds both factors and the product to float32; the trajectory depends on it.
    if _dtype.default() == np.float64:
        return mu_product * mu
    return float(np.float32(mu_product) * np.float32(mu))


class NAdam(Optimizer):
    """NAdam (torch.optim.NAdam's algorithm, defaults and state: ``step``, ``mu_product``,
    ``exp_avg``, ``exp_avg_sq``). ``capturable``/``differentiable`` are accepted and change
    nothing here."""

    _SCALAR_STATE: ClassVar[dict] = {"step": int, "mu_product": float}

    def __init__(
        self,
        params,
        lr=2e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        momentum_decay=4e-3,
        decoupled_weight_decay=False,
        *,
        foreach=None,
        maximize=False,
        capturable=False,
        differentiable=False,
        fused=None,
    ):
        check_adam_hyperparameters(lr, eps, betas, weight_decay)
        if not momentum_decay >= 0.0:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum_decay": momentum_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
        }
        if fused is not None:  # a fastnn option (torch has none here): kept only if given
            defaults["fused"] = fused
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            items = self._params_with_grad(group)
            beta1, beta2 = group["betas"]
            buckets = {}
            for item in items:
                p, d, _ = item
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["mu_product"] = 1.0
                    state["exp_avg"] = zeros_like_storage(d)
                    state["exp_avg_sq"] = zeros_like_storage(d)
                step = state["step"] + 1
                mu = F.nadam_mu(beta1, group["momentum_decay"], step)
                key = (step, _next_mu_product(state["mu_product"], mu))
                buckets.setdefault(key, []).append(item)
            for (step, mu_product), part in buckets.items():
                states = [self.state[p] for p, _, _ in part]
                F.nadam(
                    [d for _, d, _ in part],
                    [g for _, _, g in part],
                    [s["exp_avg"] for s in states],
                    [s["exp_avg_sq"] for s in states],
                    lr=group["lr"],
                    beta1=beta1,
                    beta2=beta2,
                    eps=group["eps"],
                    weight_decay=group["weight_decay"],
                    momentum_decay=group["momentum_decay"],
                    decoupled=group["decoupled_weight_decay"],
                    maximize=group["maximize"],
                    step=step,
                    mu_product=mu_product,
                    fused=group.get("fused") is not False,
                )
                for s in states:
                    s["step"] = step
                    s["mu_product"] = mu_product
        return loss
