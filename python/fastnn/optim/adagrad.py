"""torch.optim.Adagrad: lr decay, weight decay, initial accumulator; one fused call."""

from . import _functional as F
from .optimizer import Optimizer, group_by_step, zeros_like_storage

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad (torch.optim.Adagrad's algorithm and defaults). Like torch, the state (``sum``
    filled with ``initial_accumulator_value``, ``step`` 0) is created in ``__init__``."""

    def __init__(
        self,
        params,
        lr=1e-2,
        lr_decay=0,
        weight_decay=0,
        initial_accumulator_value=0,
        eps=1e-10,
        foreach=None,
        *,
        maximize=False,
        fused=None,
        differentiable=False,
    ):
        if not lr >= 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not lr_decay >= 0.0:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not weight_decay >= 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not initial_accumulator_value >= 0.0:
            raise ValueError(
                f"Invalid initial_accumulator_value value: {initial_accumulator_value}"
            )
        if not eps >= 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group):
        state = self.state[p]
        if not state:
            state["step"] = 0
            state["sum"] = zeros_like_storage(p._data, group["initial_accumulator_value"])

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            items = self._params_with_grad(group)
            for p, _, _ in items:
                self._init_state(p, group)  # parameters added later by add_param_group
            for step, part in group_by_step(items, self.state).items():
                F.adagrad(
                    [d for _, d, _ in part],
                    [g for _, _, g in part],
                    [self.state[p]["sum"] for p, _, _ in part],
                    lr=group["lr"],
                    lr_decay=group["lr_decay"],
                    weight_decay=group["weight_decay"],
                    eps=group["eps"],
                    step=step,
                    maximize=group["maximize"],
                    fused=group.get("fused") is not False,
                )
                for p, _, _ in part:
                    self.state[p]["step"] = step
        return loss
