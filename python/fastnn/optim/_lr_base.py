"""The scheduler base class ``LRScheduler`` and the helpers its subclasses share.

A scheduler owns a view of ``optimizer.param_groups``: ``step()`` writes each group's ``'lr'``,
``get_last_lr()`` returns what the last step wrote, and ``state_dict()`` is everything in the
scheduler's ``__dict__`` except the optimizer (torch's layout, so checkpoints carry over).
"""

import types
import warnings

from .optimizer import Optimizer

__all__ = ["LRScheduler"]


class LRScheduler:
    """Base class: sets ``initial_lr`` on each group, keeps ``base_lrs`` and ``last_epoch``.

    Subclasses implement ``get_lr()`` (the recurrence from the groups' current lrs, so a user's
    manual change to a group's lr carries on) and may add ``_get_closed_form_lr()``, which the
    deprecated ``step(epoch)`` uses.
    """

    def __init__(self, optimizer, last_epoch=-1):
        check_optimizer(optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{i}] when resuming "
                        "a scheduler with last_epoch >= 0 (load the optimizer's state first)"
                    )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self):
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def state_dict(self):
        """Everything in ``__dict__`` except the optimizer."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)

    def get_last_lr(self):
        """The learning rates of the groups after the last ``step()``."""
        return self._last_lr

    def get_lr(self):
        raise NotImplementedError

    def step(self, epoch=None):
        self._step_count += 1
        if epoch is not None:
            warnings.warn(
                "The epoch parameter in `scheduler.step()` is deprecated (as in PyTorch); "
                "call `scheduler.step()` without arguments.",
                UserWarning,
                stacklevel=2,
            )
        self._update_lr(epoch)

    def _update_lr(self, epoch=None):
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed_form = getattr(self, "_get_closed_form_lr", None)
            values = closed_form() if closed_form is not None else self.get_lr()
        self._write_lrs(values)

    def _write_lrs(self, values):
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _group_lrs(self):
        return [group["lr"] for group in self.optimizer.param_groups]


class _LRScheduler(LRScheduler):
    """The base's old name, kept for code written against it (a subclass, so its name shows)."""


def check_optimizer(optimizer):
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")


def per_group(name, optimizer, value):
    """``value`` for every param group: a list/tuple must have one entry per group."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(
                f"{name} must have the same length as optimizer.param_groups. {name} has "
                f"{len(value)} values, param_groups has {len(optimizer.param_groups)}."
            )
        return list(value)
    return [value] * len(optimizer.param_groups)


def lambdas_per_group(optimizer, lr_lambda):
    if not isinstance(lr_lambda, (list, tuple)):
        return [lr_lambda] * len(optimizer.param_groups)
    if len(lr_lambda) != len(optimizer.param_groups):
        raise ValueError(
            f"Expected {len(optimizer.param_groups)} lr_lambdas, but got {len(lr_lambda)}"
        )
    return list(lr_lambda)


def callable_state(fn):
    """What a state_dict keeps of a user callable: the attributes of a callable object (its
    state), nothing for a plain function or lambda (code is not state, and may not pickle)."""
    if fn is None or isinstance(fn, types.FunctionType):
        return None
    return dict(fn.__dict__) if hasattr(fn, "__dict__") else None


def restore_callable(fn, saved):
    if saved is not None:
        fn.__dict__.update(saved)


class LambdaStateMixin:
    """state_dict / load_state_dict for schedulers holding one lr lambda per group."""

    def state_dict(self):
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [callable_state(fn) for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        saved = state.pop("lr_lambdas")
        if len(saved) != len(self.lr_lambdas):
            raise ValueError(
                f"load_state_dict: {len(saved)} saved lr_lambdas for {len(self.lr_lambdas)} "
                "param groups"
            )
        self.__dict__.update(state)
        for fn, s in zip(self.lr_lambdas, saved):
            restore_callable(fn, s)
