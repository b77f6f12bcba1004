"""``fastnn.autograd.graph``: torch's hooks on what the graph saves and on its nodes.

``saved_tensors_hooks(pack_hook, unpack_hook)``: while it is in force, every tensor an op saves
for backward goes through ``pack_hook`` when the op is recorded, and the node keeps what pack
returns; the backward reads ``unpack_hook(that)`` instead (node_extras says which arrays count
as saved). The innermost context in force applies; the hooks stay with the nodes recorded
under them. ``save_on_cpu`` is such a pair that moves saved tensors to host memory.
``disable_saved_tensors_hooks`` refuses them for a stretch of code.

``Node`` is the class ``grad_fn`` objects are instances of; ``register_multi_grad_hook`` calls
one function once the gradients of several tensors are known.

The hook stack is process-wide, not per thread: ``Function.apply`` reads it as one module
global (``function.saved_hooks``), so that ops pay nothing when no hooks are in force.
"""

import abc
from contextlib import contextmanager

from . import function, post_hooks

__all__ = [
    "Node",
    "disable_saved_tensors_hooks",
    "register_multi_grad_hook",
    "save_on_cpu",
    "saved_tensors_hooks",
]

_stack = []  # the (pack, unpack) pairs in force, innermost last
_disabled = [None]  # the error message of the innermost disable_saved_tensors_hooks


class saved_tensors_hooks:  # torch's name
    """Context manager: tensors saved for backward by ops recorded inside go through
    ``pack_hook(tensor) -> anything`` at once and ``unpack_hook(anything) -> Tensor`` when a
    backward reads them. Pack must not change its argument in place."""

    def __init__(self, pack_hook, unpack_hook):
        for name, fn in (("pack_hook", pack_hook), ("unpack_hook", unpack_hook)):
            if not callable(fn):
                raise TypeError(f"saved_tensors_hooks: {name} must be callable, got {type(fn)}")
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        if _disabled[0] is not None:
            raise RuntimeError(_disabled[0])
        _stack.append((self.pack_hook, self.unpack_hook))
        function.saved_hooks = _stack[-1]
        return self

    def __exit__(self, *exc):
        _stack.pop()
        function.saved_hooks = _stack[-1] if _stack else None
        return False


class save_on_cpu(saved_tensors_hooks):  # torch's name
    """Saved tensors go to host memory (pinned when ``pin_memory`` and a GPU is in use) and
    come back to their device when the backward reads them: GPU memory traded for copies."""

    def __init__(self, pin_memory=False, device_type="cuda"):
        def pack(t):
            if t.device.type == "cpu" and not pin_memory:
                return (t.device, t)
            host = t.to("cpu")
            if pin_memory and t.device.type != "cpu":
                host = host.pin_memory()
            return (t.device, host)

        def unpack(packed):
            device, host = packed
            return host.to(device, non_blocking=pin_memory)

        super().__init__(pack, unpack)


@contextmanager
def disable_saved_tensors_hooks(error_message):
    """Inside, entering ``saved_tensors_hooks`` raises RuntimeError(error_message); so does
    entering this while such hooks are in force (code that cannot have its saved tensors
    replaced, as torch's)."""
    if _stack:
        raise RuntimeError(error_message)
    prev = _disabled[0]
    _disabled[0] = str(error_message)
    try:
        yield
    finally:
        _disabled[0] = prev


class Node(abc.ABC):
    """The base of the graph's nodes (``tensor.grad_fn``): ``name()``, ``next_functions``,
    ``metadata``, ``register_hook(fn(grad_inputs, grad_outputs))`` and
    ``register_prehook(fn(grad_outputs))``. A leaf input that requires grad appears in
    ``next_functions`` as an AccumulateGrad, as in torch."""

    @abc.abstractmethod
    def name(self): ...

    @property
    @abc.abstractmethod
    def next_functions(self): ...

    @property
    @abc.abstractmethod
    def metadata(self): ...

    @abc.abstractmethod
    def register_hook(self, fn): ...

    @abc.abstractmethod
    def register_prehook(self, fn): ...


Node.register(function.Function)
Node.register(function.AccumulateGrad)


class _MultiHandle:
    """Removes the tensor hooks of one register_multi_grad_hook call."""

    __slots__ = ("handles",)

    def __init__(self, handles):
        self.handles = handles

    def remove(self):
        for h in self.handles:
            h.remove()
        self.handles = ()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


def register_multi_grad_hook(tensors, fn, *, mode="all"):
    """``mode="all"``: ``fn(grads)`` once per backward pass that reaches any of ``tensors``,
    ``grads`` a tuple with each tensor's gradient (None for those the pass did not reach); it
    runs when the pass has finished (torch calls it as soon as the last of them is known).
    ``mode="any"``: ``fn(grad)`` with the first of their gradients computed in a pass.
    Returns a handle whose ``remove()`` takes the hook away."""
    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode}")
    if not callable(fn):
        raise TypeError(f"register_multi_grad_hook: fn must be callable, got {type(fn).__name__}")
    tensors = tuple(tensors)
    if not tensors:
        raise ValueError("register_multi_grad_hook: expected at least one tensor")
    for i, t in enumerate(tensors):
        if not isinstance(t, function.Tensor):
            raise TypeError(
                f"register_multi_grad_hook: tensors[{i}] must be a Tensor, got {type(t).__name__}"
            )
        if not t.requires_grad:
            raise RuntimeError(
                f"register_multi_grad_hook: tensors[{i}] does not require grad (no gradient "
                "will ever reach it)"
            )
    grads = [None] * len(tensors)
    state = {"queued": False, "fired": False}

    def done():  # end of the pass
        got = tuple(grads)
        grads[:] = [None] * len(tensors)
        state["queued"] = state["fired"] = False
        if mode == "all":
            fn(got)

    def make(i):
        def hook(g):
            if not state["queued"]:
                state["queued"] = True
                post_hooks.queue_callback(done)
            if mode == "any":
                if not state["fired"]:
                    state["fired"] = True
                    fn(g)
            else:
                grads[i] = g

        return hook

    return _MultiHandle([t.register_hook(make(i)) for i, t in enumerate(tensors)])
