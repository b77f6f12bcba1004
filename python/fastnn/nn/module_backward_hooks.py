"""Backward hooks of ``nn.Module`` (torch's "full" hooks): ``register_full_backward_hook``,
``register_full_backward_pre_hook`` and the older ``register_backward_hook``.

A call of a hooked module puts an identity node on each side of ``forward``: one over the
positional Tensor inputs that require grad, one over the Tensor outputs that do. In backward the
output side's node runs first, with every output's gradient (``grad_output``; None for an output
that got none): the pre-hooks see it there and may replace it. The input side's node then runs
once with the gradients of all the inputs (``grad_input``, after every use inside ``forward`` is
summed): the hooks see both there and may replace ``grad_input``. Where no input requires grad
(a first layer on data), the hooks run on the output side, with ``grad_input`` all None.
Entries for non-Tensor positional arguments are None; keyword arguments are not part of it.
"""

import warnings
from collections import OrderedDict

from .._tensor import Tensor
from ..autograd.custom import Function
from ..autograd.grad_mode import state as _grad_state
from ..autograd.hooks import RemovableHandle

__all__ = ["BackwardHooks"]


class BackwardHooks:
    """The backward-hook half of ``nn.Module``. The registries are made on first use (a class
    default of None), so that modules pickled before they existed still load and run."""

    _backward_hooks = None
    _backward_pre_hooks = None

    def register_full_backward_hook(self, hook, prepend=False):
        """``hook(module, grad_input, grad_output) -> None | new grad_input``, run when the
        gradients with respect to the module's positional inputs are computed."""
        return _register(self, "_backward_hooks", hook, prepend, "register_full_backward_hook")

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """``hook(module, grad_output) -> None | new grad_output``, run when the gradients with
        respect to the module's outputs are known, before those of its inputs are computed."""
        return _register(
            self, "_backward_pre_hooks", hook, prepend, "register_full_backward_pre_hook"
        )

    def register_backward_hook(self, hook):
        """The deprecated form. torch runs it on the last autograd node of ``forward``, so its
        ``grad_input`` depends on how ``forward`` is written; fastnn runs it as a full hook
        (the gradients with respect to the module's inputs), which is what it meant to give."""
        warnings.warn(
            "register_backward_hook is deprecated: fastnn runs it as register_full_backward_hook",
            FutureWarning,
            stacklevel=2,
        )
        return self.register_full_backward_hook(hook)

    def _call_with_backward_hooks(self, args, kwargs, call):
        """``call(args, kwargs)`` (forward and its forward hooks) between the two identity
        nodes; ``args`` are the inputs after the forward pre-hooks."""
        if not _grad_state.enabled:
            return call(args, kwargs)
        state = _HookState(self, args)
        args = state.wrap_inputs(args)
        return state.wrap_outputs(call(args, kwargs))


def _register(module, attr, hook, prepend, fn):
    if not callable(hook):
        raise TypeError(f"{fn}: hook must be callable, got {type(hook).__name__}")
    hooks = module.__dict__.get(attr)
    if hooks is None:
        hooks = OrderedDict()
        object.__setattr__(module, attr, hooks)
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


class _HookState:
    """One call's bookkeeping: which positional arguments went through the input node, and the
    grad_output the output node saw."""

    def __init__(self, module, args):
        self.module = module
        self.n_args = len(args)
        self.input_slots = ()  # positions of the args that went through the input node
        self.grad_output = None

    def wrap_inputs(self, args):
        slots = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        if not slots:
            return args
        self.input_slots = tuple(slots)
        wrapped = _InputSide.apply(self, *(args[i] for i in slots))
        if not isinstance(wrapped, tuple):
            wrapped = (wrapped,)
        args = list(args)
        for i, w in zip(slots, wrapped):
            args[i] = w
        return tuple(args)

    def wrap_outputs(self, result):
        single = isinstance(result, Tensor)
        items = [result] if single else list(result) if isinstance(result, (tuple, list)) else None
        if items is None:
            return result
        slots = [i for i, o in enumerate(items) if isinstance(o, Tensor) and o.requires_grad]
        if not slots:
            return result
        wrapped = _OutputSide.apply(self, *(items[i] for i in slots))
        if not isinstance(wrapped, tuple):
            wrapped = (wrapped,)
        for i, w in zip(slots, wrapped):
            items[i] = w
        if single:
            return items[0]
        return type(result)(items) if isinstance(result, tuple) else items

    def run_pre_hooks(self, grads):
        for hook in tuple((self.module._backward_pre_hooks or {}).values()):
            out = hook(self.module, grads)
            if out is None:
                continue
            out = tuple(out) if isinstance(out, (tuple, list)) else (out,)
            if len(out) != len(grads):
                raise RuntimeError(
                    "Backward pre hook returned an invalid number of grad_output, got "
                    f"{len(out)}, but expected {len(grads)}"
                )
            grads = out
        return grads

    def run_hooks(self, grad_input):
        for hook in tuple((self.module._backward_hooks or {}).values()):
            out = hook(self.module, grad_input, self.grad_output)
            if out is None:
                continue
            out = tuple(out) if isinstance(out, (tuple, list)) else (out,)
            if len(out) != len(grad_input):
                raise RuntimeError(
                    "Backward hook returned an invalid number of grad_input, got "
                    f"{len(out)}, but expected {len(grad_input)}"
                )
            grad_input = out
        return grad_input


class _OutputSide(Function):
    """Identity over the outputs: its backward sees every grad_output at once."""

    @staticmethod
    def forward(ctx, state, *outputs):
        ctx.state = state
        ctx.set_materialize_grads(False)
        return outputs if len(outputs) > 1 else outputs[0]

    @staticmethod
    def backward(ctx, *grads):
        state = ctx.state
        grads = state.run_pre_hooks(tuple(grads))
        state.grad_output = grads
        if not state.input_slots and state.module._backward_hooks:
            # no input requires grad: the input side never runs, so the hooks run here
            warnings.warn(
                "Full backward hook is firing when gradients are computed with respect to "
                "module outputs since no inputs require gradients.",
                UserWarning,
                stacklevel=2,
            )
            state.run_hooks((None,) * state.n_args)
        return (None, *grads)


class _InputSide(Function):
    """Identity over the inputs that require grad: its backward gets their summed gradients."""

    @staticmethod
    def forward(ctx, state, *inputs):
        ctx.state = state
        ctx.set_materialize_grads(False)
        return inputs if len(inputs) > 1 else inputs[0]

    @staticmethod
    def backward(ctx, *grads):
        state = ctx.state
        if not state.module._backward_hooks:
            return (None, *grads)
        full = [None] * state.n_args
        for i, g in zip(state.input_slots, grads):
            full[i] = g
        full = state.run_hooks(tuple(full))
        return (None, *(full[i] for i in state.input_slots))
