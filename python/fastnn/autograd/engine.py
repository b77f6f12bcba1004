"""The backward engine: iterative topological sort, reverse-mode sweep, and the one place
where gradients are accumulated (into leaves' ``.grad`` and between uses of a node)."""

from .. import _devices
from . import function
from .grad_mode import state as _grad_state

_FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you "
    "call .backward(). Specify retain_graph=True if you need to backward through the graph a "
    "second time."
)


def toposort(root):
    """Tensors with a grad_fn reachable from ``root``, inputs before outputs (explicit stack DFS,
    so a 5000-op chain does not hit the recursion limit)."""
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        t, done = stack.pop()
        if done:
            order.append(t)
            continue
        if t in visited:
            continue
        visited.add(t)
        ctx = t._ctx
        if ctx.freed:
            raise RuntimeError(_FREED_MSG)
        stack.append((t, True))
        for p in ctx.parents:
            if p._ctx is not None and p not in visited:
                stack.append((p, False))
    return order


def backward(root, gradient=None, retain_graph=False):
    """Accumulate d root / d leaf into every leaf's ``.grad`` (see ``Tensor.backward``)."""
    if not root.requires_grad:
        raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    be = root._backend()
    if gradient is None:
        if root._data.size != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        g = be.ones(root._data.shape, root._data.dtype)
        handed = set()
    else:
        g = gradient._data if isinstance(gradient, function.Tensor) else be.asarray(gradient)
        if g.shape != root._data.shape:
            raise RuntimeError(
                f"Mismatch in shape: grad_output[0] has a shape of {tuple(g.shape)} and "
                f"output[0] has a shape of {tuple(root._data.shape)}."
            )
        if g.dtype != root._data.dtype:
            g = be.astype(g, root._data.dtype)
        handed = {id(g)}  # the caller's array: never stored as a .grad without a copy
    if root._ctx is None:  # a leaf
        _accumulate(root, g, handed)
        return
    topo = toposort(root)
    grads = {root: g}
    prev_mode = _grad_state.enabled
    _grad_state.enabled = False
    try:
        for t in reversed(topo):
            g = grads.pop(t, None)
            if g is None:
                continue
            ctx = t._ctx
            if t._retains_grad:
                _accumulate(t, g, handed)
            _check_versions(ctx, t)
            gs = ctx.backward(g)
            parents, needs = ctx.parents, ctx.needs_input_grad
            if not retain_graph:
                ctx.__dict__.clear()
                ctx.freed = True
            if gs.__class__ is not tuple:
                gs = (gs,)
            for p, gi, need in zip(parents, gs, needs):
                if gi is None or not need:
                    continue
                if gi.shape != p._data.shape:
                    raise RuntimeError(
                        f"Function {ctx.name() if not ctx.freed else type(ctx).__name__} returned "
                        f"an invalid gradient: got shape {tuple(gi.shape)}, expected "
                        f"{tuple(p._data.shape)}"
                    )
                if p._ctx is None:
                    _accumulate(p, gi, handed)
                else:
                    prev = grads.get(p)
                    grads[p] = gi if prev is None else _devices.of(gi).add(prev, gi)
    finally:
        _grad_state.enabled = prev_mode


def _accumulate(t, g, handed):
    """``t.grad += g``: the single accumulation site. A fresh, contiguous array is adopted;
    anything that may be shared (views, the caller's gradient, one already adopted) is copied."""
    be = _devices.of(t._data)
    if g.dtype != t._data.dtype:
        g = be.astype(g, t._data.dtype)
    elif id(g) in handed or not be.is_fresh(g):
        g = be.copy(g)
    handed.add(id(g))
    if t.grad is None:
        t.grad = function.Tensor._make(g, False, None)
    else:
        be.iadd(t.grad._data, g)


def _check_versions(ctx, t):
    if ctx.save_inputs:
        for p, v in zip(ctx.parents, ctx.versions):
            if p._vc[0] != v:
                _modified(ctx, p, v, "an input")
    if ctx.save_output and t._vc[0] != 0:
        _modified(ctx, t, 0, "output 0")


def _modified(ctx, t, expected, what):
    raise RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [{t.dtype} {list(t.shape)}], which is {what} of {ctx.name()}, is at version "
        f"{t._vc[0]}; expected version {expected} instead."
    )
