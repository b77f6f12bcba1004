"""Full backward hooks of ``nn.Module`` (torch's ``register_full_backward_hook`` and
``register_full_backward_pre_hook``).

A call of a module with such hooks passes its positional Tensor inputs that require grad, and
then its Tensor outputs that require grad, through identity graph nodes. The output node sees
the gradients with respect to the outputs first: pre-hooks ``hook(module, grad_output)`` may
replace them. The input node then sees the gradients with respect to the inputs and calls
``hook(module, grad_input, grad_output)``, which may replace them.
``grad_input`` has one entry per positional argument (None for one that is not a Tensor, zeros
for a Tensor that got no gradient) and ``grad_output`` one per output (a non-tuple output counts
as one; None for an output that got no gradient). An input modified in place by ``forward`` is
an error, as in torch: the hook would report the gradient of a value forward no longer read.
When no input requires grad the hooks run at the output node, with ``grad_input`` all None, and
may not return gradients.
"""

import warnings
from collections import OrderedDict

from .._tensor import Tensor
from .._tensor import creation as _new
from ..autograd.custom import Function
from ..autograd.grad_mode import state as _grad_state
from ..autograd.hooks import RemovableHandle

__all__ = ["BackwardHooks"]


class BackwardHooks:
    """The backward-hook half of ``nn.Module``; ``_init_backward_hooks`` runs in its
    ``__init__``."""

    def _init_backward_hooks(self):
        object.__setattr__(self, "_backward_hooks", OrderedDict())
        object.__setattr__(self, "_backward_pre_hooks", OrderedDict())

    def register_full_backward_hook(self, hook, prepend=False):
        """``hook(module, grad_input, grad_output) -> None | new grad_input``, run when the
        gradients with respect to the module's inputs are computed."""
        self._hook_kind(True)
        return _register(self._backward_hooks, hook, prepend, "register_full_backward_hook")

    def register_backward_hook(self, hook):
        """torch's deprecated backward hook, run as a full backward hook. torch passes it the
        gradients of the last autograd node of ``forward`` (for a convolution: input, weight
        and bias); fastnn passes the module's input and output gradients, which is what that
        node's first entry and its grad_output are for a one-node module."""
        self._hook_kind(False)
        warnings.warn(
            "fastnn: register_backward_hook runs as register_full_backward_hook (grad_input "
            "holds the gradients with respect to the module's inputs only); torch deprecates "
            "it in favor of register_full_backward_hook",
            stacklevel=2,
        )
        return _register(self._backward_hooks, hook, False, "register_backward_hook")

    def _hook_kind(self, full):
        kind = self.__dict__.get("_is_full_backward_hook")
        if kind is not None and kind != full and self._backward_hooks:
            raise RuntimeError(
                "Cannot use both regular backward hooks and full backward hooks on a single "
                "Module. Please use only one of them."
            )
        object.__setattr__(self, "_is_full_backward_hook", full)

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """``hook(module, grad_output) -> None | new grad_output``, run when the gradients with
        respect to the module's outputs are known, before the module's own backward."""
        return _register(self._backward_pre_hooks, hook, prepend, "register_full_backward_pre_hook")

    def _backward_hook_call(self):
        """The state of one call, or None where no backward hook needs it."""
        if not (self._backward_hooks or self._backward_pre_hooks) or not _grad_state.enabled:
            return None
        return _HookedCall(self)


def _register(hooks, hook, prepend, fn):
    if not callable(hook):
        raise TypeError(f"{fn}: hook must be callable, got {type(hook).__name__}")
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def _grad_index(values):
    """Positions of the Tensors among ``values`` that take part in backward."""
    return [i for i, v in enumerate(values) if isinstance(v, Tensor) and v.requires_grad]


def _packed(index, grads, n):
    out = [None] * n
    for i, g in zip(index, grads):
        out[i] = g
    return tuple(out)


class _HookedCall:
    """One call of a hooked module: where its Tensors sit among inputs and outputs, and the
    output gradients between the output node's backward and the input node's."""

    def __init__(self, module):
        self.module = module
        self.n_inputs = 0
        self.input_index = None  # None: no input requires grad
        self.n_outputs = 0
        self.output_index = []
        self.grad_outputs = None
        self.zeros_for = {}  # position -> Tensor argument (its zero gradient's shape)
        self.wrapped = ()  # (input alias, its version): in-place changes are refused

    def wrap_inputs(self, args):
        self.n_inputs = len(args)
        # torch reports a zero gradient (not None) for a Tensor argument that got none
        self.zeros_for = {i: a for i, a in enumerate(args) if isinstance(a, Tensor)}
        index = _grad_index(args)
        if not index:
            return args
        self.input_index = index
        new = BackwardHookFunction.apply(self.input_grads, *(args[i] for i in index))
        self.wrapped = [(t, t._vc[0]) for t in new]
        out = list(args)
        for i, t in zip(index, new):
            out[i] = t
        return tuple(out)

    def wrap_outputs(self, output):
        for k, (t, version) in enumerate(self.wrapped):
            if t._vc[0] != version:
                # the hook node's gradient would no longer be the gradient of what forward
                # read: torch forbids this too
                raise RuntimeError(
                    f"Output {k} of BackwardHookFunction is a view and is being modified "
                    "inplace. This view was created inside a custom Function (or because an "
                    "input was returned as-is) and the autograd logic to handle view+inplace "
                    "would override the custom backward associated with the custom Function, "
                    "leading to incorrect gradients. This behavior is forbidden. You can fix "
                    "this by cloning the output of the custom Function (a module with a full "
                    f"backward hook, {type(self.module).__name__}, modified its input in place)."
                )
        self.wrapped = ()
        single = not isinstance(output, tuple)
        outs = (output,) if single else output
        self.n_outputs = len(outs)
        index = _grad_index(outs)
        if not index:
            return output
        self.output_index = index
        new = BackwardHookFunction.apply(self.output_grads, *(outs[i] for i in index))
        res = list(outs)
        for i, t in zip(index, new):
            res[i] = t
        return res[0] if single else tuple(res)

    def output_grads(self, grads):
        grad_outputs = _packed(self.output_index, grads, self.n_outputs)
        for hook in tuple(self.module._backward_pre_hooks.values()):
            res = hook(self.module, grad_outputs)
            if res is None:
                continue
            res = tuple(res) if isinstance(res, (tuple, list)) else (res,)
            if len(res) != len(grad_outputs):
                raise RuntimeError(
                    "Backward pre hook returned an invalid number of grad_output, got "
                    f"{len(res)}, but expected {len(grad_outputs)}"
                )
            grad_outputs = res
        if self.input_index is None:
            if self.module._backward_hooks:
                warnings.warn(
                    "Full backward hook is firing when gradients are computed with respect to "
                    "module outputs since no inputs require gradients.",
                    stacklevel=2,
                )
            grad_inputs = (None,) * self.n_inputs
            for hook in tuple(self.module._backward_hooks.values()):
                res = hook(self.module, grad_inputs, grad_outputs)
                if res is not None and not (isinstance(res, tuple) and all(r is None for r in res)):
                    raise RuntimeError(
                        "Backward hook for Modules where no input requires gradient should "
                        "always return None or None for all gradients."
                    )
        else:
            self.grad_outputs = grad_outputs
        return tuple(grad_outputs[i] for i in self.output_index)

    def input_grads(self, grads):
        if self.grad_outputs is None:
            # the gradient reached the inputs without passing through the outputs (a second
            # backward through the inputs' part of the graph): there is no grad_output to report
            return grads
        grad_inputs = list(_packed(self.input_index, grads, self.n_inputs))
        for i, a in self.zeros_for.items():
            if grad_inputs[i] is None:
                grad_inputs[i] = _new.zeros_like(a)
        grad_inputs = tuple(grad_inputs)
        for hook in tuple(self.module._backward_hooks.values()):
            res = hook(self.module, grad_inputs, self.grad_outputs)
            if res is None:
                continue
            res = tuple(res) if isinstance(res, (tuple, list)) else (res,)
            if len(res) != len(grad_inputs):
                raise RuntimeError(
                    "Backward hook returned an invalid number of grad_input, got "
                    f"{len(res)}, but expected {len(grad_inputs)}"
                )
            grad_inputs = res
        self.grad_outputs = None
        return tuple(grad_inputs[i] for i in self.input_index)


class BackwardHookFunction(Function):
    """Identity on ``tensors``; its backward hands their gradients to ``on_grads`` and passes
    on what it returns."""

    @staticmethod
    def forward(ctx, on_grads, *tensors):
        ctx.on_grads = on_grads
        ctx.set_materialize_grads(False)
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        return (None, *ctx.on_grads(grads))
