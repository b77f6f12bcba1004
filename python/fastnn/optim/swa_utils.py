"""Weight averaging: ``AveragedModel`` (stochastic weight averaging, or an exponential moving
average of the weights with ``get_ema_multi_avg_fn``), the ``SWALR`` schedule that anneals to a
constant SWA learning rate, and ``update_bn``, which recomputes BatchNorm statistics for the
averaged weights.

An average is updated in place, outside autograd: ``update_parameters(model)`` after each step
(or epoch) folds the model's current parameters (and buffers, with ``use_buffers``) into it.
"""

import copy
import math
import numbers

from .._core.dtype import int64
from .._tensor import Tensor
from .._tensor import creation as _creation
from ..autograd import no_grad
from ..nn.module import Module
from ..nn.normalization import _BatchNorm
from ._lr_base import LRScheduler

__all__ = [
    "SWALR",
    "AveragedModel",
    "get_ema_avg_fn",
    "get_ema_multi_avg_fn",
    "get_swa_avg_fn",
    "get_swa_multi_avg_fn",
    "update_bn",
]


def get_ema_multi_avg_fn(decay=0.999):
    """``fn(averaged, current, num_averaged)`` on lists of tensors: each average becomes
    ``decay * average + (1 - decay) * current``, in place."""
    if not 0.0 <= decay <= 1.0:
        raise ValueError(
            f"Invalid decay value {decay} provided. Please provide a value in [0,1] range."
        )

    @no_grad()
    def ema_update(averaged, current, num_averaged):
        for a, c in zip(averaged, current):
            if a.is_floating_point():
                a.lerp_(c.to(a.dtype), 1.0 - decay)
            else:  # an integer buffer (a step count): the same formula, cast back
                a.copy_(a * decay + c * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn():
    """``fn(averaged, current, num_averaged)`` on lists of tensors: the running mean of the
    ``num_averaged`` models so far and the current one, in place."""

    @no_grad()
    def swa_update(averaged, current, num_averaged):
        n = float(num_averaged.item() if isinstance(num_averaged, Tensor) else num_averaged)
        for a, c in zip(averaged, current):
            if a.is_floating_point():
                a.lerp_(c.to(a.dtype), 1.0 / (n + 1))
            else:
                a.copy_(a + (c - a) / (n + 1))

    return swa_update


def get_ema_avg_fn(decay=0.999):
    """``fn(averaged, current, num_averaged) -> new average`` for one tensor (EMA)."""
    if not 0.0 <= decay <= 1.0:
        raise ValueError(
            f"Invalid decay value {decay} provided. Please provide a value in [0,1] range."
        )

    @no_grad()
    def ema_update(averaged, current, num_averaged):
        return decay * averaged + (1 - decay) * current

    return ema_update


def get_swa_avg_fn():
    """``fn(averaged, current, num_averaged) -> new average`` for one tensor (running mean)."""

    @no_grad()
    def swa_update(averaged, current, num_averaged):
        return averaged + (current - averaged) / (num_averaged + 1)

    return swa_update


class AveragedModel(Module):
    """A copy of ``model`` whose parameters are an average of ``model``'s over the calls of
    ``update_parameters``: the running mean by default, or what ``avg_fn`` (per tensor) or
    ``multi_avg_fn`` (per list of tensors) computes. The first call copies the model. Calling
    the averaged model runs the copy. Buffers are averaged too with ``use_buffers``, else copied
    from the model at each update. ``n_averaged`` (a buffer) counts the updates."""

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", _creation.tensor(0, dtype=int64, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def _tensors(self, model):
        params = list(model.parameters())
        return params + list(model.buffers()) if self.use_buffers else params

    def update_parameters(self, model):
        """Fold ``model``'s current parameters into the average."""
        averaged = [t.detach() for t in self._tensors(self.module)]
        current = [t.detach() for t in self._tensors(model)]
        if len(averaged) != len(current):
            raise ValueError(
                f"update_parameters: the model has {len(current)} tensors to average, the "
                f"averaged copy {len(averaged)}"
            )
        with no_grad():
            n = int(self.n_averaged.item())
            if n == 0:
                for a, c in zip(averaged, current):
                    a.copy_(c)
            elif self.avg_fn is not None:
                for a, c in zip(averaged, current):
                    a.copy_(self.avg_fn(a, c.to(a.device), self.n_averaged.to(a.device)))
            else:
                update = self.multi_avg_fn or get_swa_multi_avg_fn()
                update(averaged, current, self.n_averaged)
            if not self.use_buffers:  # the buffers follow the model's
                for a, c in zip(self.module.buffers(), model.buffers()):
                    a.detach().copy_(c.detach())
            self.n_averaged.add_(1)


def update_bn(loader, model, device=None):
    """Recompute the running statistics of ``model``'s BatchNorm layers with one pass over
    ``loader`` (batches, or (input, ...) tuples whose first element is the input): the
    statistics of averaged weights are not the average of the statistics."""
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm) and module.track_running_stats:
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None  # a cumulative average over the pass
    for batch in loader:
        if isinstance(batch, (list, tuple)):
            batch = batch[0]
        if device is not None:
            batch = batch.to(device)
        with no_grad():
            model(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneals each group's learning rate to its SWA value ``swa_lr`` over ``anneal_epochs``
    steps (cosine or linear), then keeps it there."""

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos", last_epoch=-1):
        swa_lrs = _per_group(optimizer, swa_lr)
        for lr, group in zip(swa_lrs, optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"anneal_strategy must by one of 'cos' or 'linear', instead got {anneal_strategy}"
            )
        self.anneal_func = _cos_anneal if anneal_strategy == "cos" else _linear_anneal
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        # the lr the annealing started from, recovered from where it is now
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self):
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_t = max(0, min(1, (step - 1) / max(1, self.anneal_epochs)))
        prev_alpha = self.anneal_func(prev_t)
        prev_lrs = [
            self._get_initial_lr(group["lr"], group["swa_lr"], prev_alpha)
            for group in self.optimizer.param_groups
        ]
        t = max(0, min(1, step / max(1, self.anneal_epochs)))
        alpha = self.anneal_func(t)
        return [
            group["swa_lr"] * alpha + lr * (1 - alpha)
            for group, lr in zip(self.optimizer.param_groups, prev_lrs)
        ]


def _cos_anneal(t):
    return (1 - math.cos(math.pi * t)) / 2


def _linear_anneal(t):
    return t


def _per_group(optimizer, value):
    groups = optimizer.param_groups
    if isinstance(value, (list, tuple)):
        if len(value) != len(groups):
            raise ValueError(
                "swa_lr must have the same length as optimizer.param_groups: swa_lr has "
                f"{len(value)}, optimizer.param_groups has {len(groups)}"
            )
        return list(value)
    if not isinstance(value, numbers.Real):
        raise TypeError(f"swa_lr must be a number or a list of numbers, got {type(value).__name__}")
    return [value] * len(groups)
