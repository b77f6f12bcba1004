"""Hooks that run after a leaf's ``.grad`` has been updated by a backward pass, and callbacks
that run once at the end of the current backward pass.

Both exist for data-parallel training: a parameter's hook fires as soon as its gradient is final
(all its uses in the graph are done), so its gradient can be sent while the rest of the backward
pass is still running, and the end-of-pass callback waits for what was sent. Kept outside the
Tensor's slots so that tensors without such hooks pay nothing."""

import weakref

from .hooks import RemovableHandle

# id(leaf) -> (weak reference to the leaf, {handle id: hook(tensor)}); keyed by id because a
# Tensor's == is element-wise; the entry goes away with the tensor
hooks: dict = {}
# callbacks queued during the backward pass now running (None: no pass is running)
_queue: list = []
_running = [0]


def register(tensor, hook):
    if not tensor.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if tensor._ctx is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    if not callable(hook):
        raise TypeError(
            f"register_post_accumulate_grad_hook: hook must be callable, got {type(hook).__name__}"
        )
    d = of(tensor)
    if d is None:
        key = id(tensor)
        d = {}
        hooks[key] = (weakref.ref(tensor, lambda _, key=key: hooks.pop(key, None)), d)
    handle = RemovableHandle(d)
    d[handle.id] = hook
    return handle


def of(tensor):
    """The tensor's post-accumulate hooks (a dict), or None."""
    if not hooks:
        return None
    entry = hooks.get(id(tensor))
    if entry is None or entry[0]() is not tensor:
        return None
    return entry[1] or None


def run(tensor, d):
    for fn in tuple(d.values()):
        fn(tensor)


def queue_callback(callback):
    """Run ``callback()`` once when the backward pass now running has finished."""
    if not _running[0]:
        raise RuntimeError("queue_callback: no backward pass is running")
    if not callable(callback):
        raise TypeError(f"queue_callback: callback must be callable, got {type(callback).__name__}")
    _queue.append(callback)


def take_queued():
    """The callbacks queued during the pass that just ended, in order; the queue is emptied."""
    out = list(_queue)
    _queue.clear()
    return out
