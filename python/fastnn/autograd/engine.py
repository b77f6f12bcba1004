"""The backward engine: iterative topological sort, reverse-mode sweep, and the one place
where gradients are accumulated (into leaves' ``.grad`` and between uses of a node)."""

import numpy as np

from .. import _devices
from . import anomaly_mode as _anomaly
from . import function, graph_ops, post_hooks
from .function import has_prior as _has_prior
from .function import recorded_parent as _recorded_parent
from .grad_mode import state as _grad_state

_NDARRAY = np.ndarray
_FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you "
    "call .backward(). Specify retain_graph=True if you need to backward through the graph a "
    "second time."
)


def toposort(root, stop=None, freed_ok=False):
    """Tensors with a grad_fn reachable from ``root`` (a Tensor or a sequence of them), inputs
    before outputs (explicit stack DFS, so a 5000-op chain does not hit the recursion limit).
    Tensors whose id is in ``stop`` are not entered. ``freed_ok``: a freed node is listed (its
    inputs are forgotten, so nothing past it) rather than refused (see _wanted_needs)."""
    order, visited = [], set()
    resolve = function.priors_seen
    stack = (
        [(r, False) for r in reversed(root)] if isinstance(root, (list, tuple)) else [(root, False)]
    )
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
            if not freed_ok:
                raise RuntimeError(_FREED_MSG)
            order.append(t)
            continue
        stack.append((t, True))
        for i, p in enumerate(ctx.parents):
            if resolve and _has_prior(p):
                p = _recorded_parent(ctx, i, p)
            if p._ctx is not None and p not in visited and (stop is None or id(p) not in stop):
                stack.append((p, False))
    return order


def backward(
    tensors,
    grad_tensors=None,
    retain_graph=None,
    create_graph=False,
    grad_variables=None,
    inputs=None,
):
    """Accumulate d tensors / d leaf into every leaf's ``.grad`` (see ``Tensor.backward``).
    ``tensors`` may be a sequence, with ``grad_tensors`` a sequence of as many (or None);
    ``grad_variables`` is its old name. ``create_graph``: the gradients are recorded too
    (``.grad`` has a history to differentiate again; ``retain_graph`` then defaults to True).
    ``inputs``: accumulate only into these tensors' ``.grad`` (leaves or not), and compute
    nothing that does not lead to them."""
    if grad_variables is not None:
        if grad_tensors is not None:
            raise RuntimeError("backward: pass grad_tensors or grad_variables, not both")
        grad_tensors = grad_variables
    if isinstance(tensors, (list, tuple)):
        roots = tuple(tensors)
        if grad_tensors is None:
            grads = (None,) * len(roots)
        elif isinstance(grad_tensors, function.Tensor):
            grads = (grad_tensors,)
        else:
            grads = tuple(grad_tensors)
        if len(grads) != len(roots):
            raise RuntimeError(
                f"grad_tensors has {len(grads)} element(s) but tensors has {len(roots)}"
            )
    else:
        roots, grads = (tensors,), (grad_tensors,)
    only = None if inputs is None else _input_ids(inputs)
    if retain_graph is None:
        retain_graph = create_graph
    if create_graph:
        _run_recorded(roots, grads, bool(retain_graph), None, only=only)
    else:
        _run(roots, grads, bool(retain_graph), None, only=only)


def _input_ids(inputs):
    """The ids of backward(inputs=...), checked as torch does."""
    Tensor = function.Tensor
    seq = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if not seq:
        raise RuntimeError("backward: 'inputs' argument to backward() cannot be empty.")
    for i, t in enumerate(seq):
        if not isinstance(t, Tensor):
            raise TypeError(f"backward: inputs[{i}] must be a Tensor, got {type(t).__name__}")
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    return {id(t) for t in seq} | set(_node_ids(seq))


def _node_ids(tensors):
    """{id(node): None} of the non-leaf tensors among the ones a pass wants: a freed node's
    edges name nodes, not tensors (_freed_leads). Nodes and tensors never share an id."""
    return {id(t._ctx): None for t in tensors if t._ctx is not None}


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph=None,
    create_graph=False,
    only_inputs=True,
    allow_unused=None,
    is_grads_batched=False,
    materialize_grads=False,
):
    """d outputs / d inputs (a tuple, one gradient per input; a dict for a dict of inputs),
    weighted by ``grad_outputs``; no ``.grad`` is touched. ``allow_unused``: None (instead of an
    error) for an input the outputs do not depend on, or zeros with ``materialize_grads``.
    ``create_graph``: the gradients have a history (differentiable again); ``retain_graph``
    then defaults to True, as torch's. ``is_grads_batched``: each grad_output has a leading
    batch dimension, and each gradient gets one (one backward pass per batch entry)."""
    if materialize_grads and allow_unused is False:
        raise ValueError(
            "Expected allow_unused to be True or not passed when materialize_grads=True, but "
            "got: allow_unused=False."
        )
    if allow_unused is None:
        allow_unused = materialize_grads
    if isinstance(inputs, dict):
        names = list(inputs)
        got = grad(
            outputs,
            [inputs[k] for k in names],
            grad_outputs,
            retain_graph,
            create_graph,
            only_inputs,
            allow_unused,
            is_grads_batched,
            materialize_grads,
        )
        return dict(zip(names, got))
    if is_grads_batched:
        return _batched_grad(
            outputs,
            inputs,
            grad_outputs,
            retain_graph,
            create_graph,
            allow_unused,
            materialize_grads,
        )
    Tensor = function.Tensor
    outs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
    ins = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        gos = (grad_outputs,) * len(outs) if grad_outputs is None else (grad_outputs,)
    else:
        gos = tuple(grad_outputs)
    if len(gos) != len(outs):
        raise RuntimeError(
            f"grad requires one grad_output per output: got {len(gos)} grad_outputs for "
            f"{len(outs)} outputs"
        )
    for i, t in enumerate(ins):
        if not isinstance(t, Tensor):
            raise TypeError(f"grad: inputs[{i}] must be a Tensor, got {type(t).__name__}")
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    capture = {id(t): None for t in ins}
    capture.update(_node_ids(ins))
    if create_graph:
        _run_recorded(outs, gos, True if retain_graph is None else bool(retain_graph), capture)
    else:
        _run(outs, gos, bool(retain_graph), capture)
    result = []
    for i, t in enumerate(ins):
        g = capture[id(t)]
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {i} appears to not have been used in "
                    "the graph. Set allow_unused=True if this is the desired behavior."
                )
            if materialize_grads:
                be = _devices.of(t._data)
                result.append(Tensor._make(be.zeros(t._data.shape, t._data.dtype), False, None))
            else:
                result.append(None)
        elif isinstance(g, Tensor):
            result.append(g)
        else:
            result.append(function.Tensor._make(g, False, None))
    return tuple(result)


def _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused, zeros):
    """grad(is_grads_batched=True): one pass per entry of the grad_outputs' leading dimension,
    the results stacked along a new leading dimension."""
    Tensor = function.Tensor
    gos = (grad_outputs,) if isinstance(grad_outputs, Tensor) else tuple(grad_outputs or ())
    if not gos or any(g is None for g in gos):
        raise RuntimeError("grad: is_grads_batched=True needs a batched grad_output per output")
    n = gos[0].shape[0]
    if any(g.shape[0] != n for g in gos):
        raise RuntimeError("grad: every batched grad_output must have the same batch size")
    rows = []
    for b in range(n):
        rows.append(
            grad(
                outputs,
                inputs,
                [g[b] for g in gos],
                retain_graph=True if b < n - 1 else retain_graph,
                create_graph=create_graph,
                allow_unused=allow_unused,
                materialize_grads=zeros,
            )
        )
    out = []
    for j in range(len(rows[0])):
        col = [r[j] for r in rows]
        if any(c is None for c in col):
            out.append(None)
        elif create_graph:
            out.append(graph_ops.OPS.stack(col, 0))
        else:
            out.append(Tensor._make(_devices.of(col[0]._data).stack([c._data for c in col], 0)))
    return tuple(out)


def _root_grad(root, gradient):
    if not root.requires_grad:
        raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    be = root._backend()
    if gradient is None:
        if root._data.size != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        if root._data.dtype.kind == "c":
            raise RuntimeError(
                f"grad can be implicitly created only for real scalar outputs but got {root.dtype}"
            )
        return be.ones(root._data.shape, root._data.dtype), False
    g = gradient._data if isinstance(gradient, function.Tensor) else be.asarray(gradient)
    if g.shape != root._data.shape:
        raise RuntimeError(
            f"Mismatch in shape: grad_output[0] has a shape of {tuple(g.shape)} and "
            f"output[0] has a shape of {tuple(root._data.shape)}."
        )
    if g.dtype != root._data.dtype:
        g = be.astype(g, root._data.dtype)
    return g, True


def _run(roots, root_grads, retain_graph, capture, only=None):
    """One reverse sweep from ``roots``. ``capture`` None: gradients go into leaves' ``.grad``
    (and retained non-leaves'), or only into those of the tensors whose ids are in ``only``;
    else a dict id(tensor) -> gradient that receives the total gradient of each tensor it
    names, and no ``.grad`` is touched.

    A leaf's gradient is summed over its uses before it is stored, so its hooks see the total
    once (``pending``); without hooks or capture it goes straight into ``.grad``."""
    handed = set()  # the caller's arrays: never stored as a .grad without a copy
    grads, pending = {}, {}
    inner = []
    for r, go in zip(roots, root_grads):
        g, given = _root_grad(r, go)
        if given:
            handed.add(id(g))
        if r._ctx is None:
            if only is None or id(r) in only:
                _to_leaf(r, g, handed, pending, capture)
        else:
            prev = grads.get(r)
            grads[r] = g if prev is None else _devices.of(g).add(prev, g)
            inner.append(r)
    targets = capture if capture is not None else only
    topo = toposort(inner, freed_ok=targets is not None) if inner else ()
    resolve = function.priors_seen
    uses = _post_hook_uses(topo) if capture is None and post_hooks.hooks else None
    wanted = _wanted_needs(topo, targets, resolve) if targets is not None else None
    prev_mode = _grad_state.enabled
    _grad_state.enabled = False
    post_hooks._running[0] += 1
    releasing, ndarray = not retain_graph, _NDARRAY
    check_nan = _anomaly.state.enabled and _anomaly.state.check_nan
    try:
        for t in reversed(topo):
            g = grads.pop(t, None)
            if g is None:
                continue
            if g.__class__ is not ndarray and isinstance(g, np.generic):
                g = np.asarray(g)  # a 0-d product comes back from numpy as a scalar
            ctx = t._ctx
            if t._hooks is not None:
                g = _call_hooks(t, g)
            if capture is None:
                if t._retains_grad or (only is not None and id(t) in only):
                    _accumulate(t, g, handed)
            elif id(t) in capture:
                capture[id(t)] = _adopt(t, g, handed)
            if wanted is None:
                needs = ctx.needs_input_grad
            else:
                needs = wanted.get(t)
                if needs is None:  # no captured tensor lies below this node
                    continue
                if ctx.freed:
                    _freed_reached(t, targets)
                    continue
            if ctx.save_inputs or ctx.save_output:  # (most nodes save nothing: no call)
                _check_versions(ctx, t)
            ctx.releasing = releasing
            gs = _backward_with(ctx, g, needs) if wanted is not None else ctx.backward(g)
            g = None  # a view's base held by g alone would keep its gradients from adoption
            parents = ctx.parents
            if resolve:
                for p in parents:
                    if _has_prior(p):  # an input changed in place since: its old history
                        parents = tuple(_recorded_parent(ctx, i, q) for i, q in enumerate(parents))
                        break
            if releasing and not ctx.saves_nothing:
                _free(ctx, parents)
            if gs.__class__ is not tuple:
                gs = (gs,)
            elif len(gs) == 2:  # the common case, without a set
                if gs[0] is gs[1] and gs[0] is not None:
                    handed.add(id(gs[0]))
            elif len(gs) > 2:
                _mark_shared(gs, handed)
            if check_nan:
                _raise_on_nan(ctx, [gi for gi, need in zip(gs, needs) if need])
            for p, gi, need in zip(parents, gs, needs):
                if gi is not None and gi.dtype is not p._data.dtype and gi.dtype.kind == "c":
                    gi = _real_part(gi, p)
                if uses is not None and need and p in uses:
                    _use_done(p, gi, uses, handed, pending)
                    continue
                if gi is None or not need:
                    continue
                if gi.shape != p._data.shape:
                    raise RuntimeError(
                        f"Function {ctx.name() if not ctx.freed else type(ctx).__name__} returned "
                        f"an invalid gradient: got shape {tuple(gi.shape)}, expected "
                        f"{tuple(p._data.shape)}"
                    )
                if p._ctx is None:
                    _to_leaf(p, gi, handed, pending, capture)
                else:
                    prev = grads.get(p)
                    grads[p] = gi if prev is None else _add_grads(prev, gi)
        for p, g in pending.values():
            if p._hooks is not None:
                g = _call_hooks(p, g)
            if capture is None:
                _accumulate(p, g, handed)
                d = post_hooks.of(p)
                if d is not None:
                    post_hooks.run(p, d)
            else:
                capture[id(p)] = _adopt(p, g, handed)
    finally:
        _grad_state.enabled = prev_mode
        post_hooks._running[0] -= 1
        queued = post_hooks.take_queued() if not post_hooks._running[0] else ()
    for cb in queued:  # only after a pass that succeeded; a failed one drops them
        cb()


def grad_until(output, inputs, gradient):
    """d output / d inputs (weighted by ``gradient``), recorded, for inputs that are not leaves:
    the pass stops at them rather than going on through the graph that made them."""
    capture = {id(t): None for t in inputs}
    _run_recorded((output,), (gradient,), True, capture, stop=True)
    return tuple(capture[id(t)] for t in inputs)


def _run_recorded(roots, root_grads, retain_graph, capture, stop=False, only=None):
    """``_run`` with the backward itself recorded: gradients are Tensors, each node's backward
    runs as Tensor ops (``graph_ops``) with grad mode on, so that what lands in ``.grad`` (or
    ``capture``) can be differentiated again. Kept apart from ``_run``: it is rare, and every
    first-order backward would pay for its branches. ``stop``: the captured tensors end the
    pass (``grad_until``)."""
    Tensor = function.Tensor
    grads, pending, inner = {}, {}, []
    for r, go in zip(roots, root_grads):
        g, _ = _root_grad(r, go)
        if isinstance(go, Tensor) and go._data.shape == g.shape:
            g = go if go._data.dtype == g.dtype else go.to(r.dtype)  # keeps go's history
        else:
            g = Tensor._make(g, False, None)
        if r._ctx is None:
            if only is None or id(r) in only:
                _pend(pending, r, g)
        else:
            grads[r] = g if r not in grads else grads[r] + g
            inner.append(r)
    targets = capture if capture is not None else only
    topo = toposort(inner, capture if stop else None, targets is not None) if inner else ()
    resolve = function.priors_seen
    wanted = _wanted_needs(topo, targets, resolve) if targets is not None else None
    check_nan = _anomaly.state.enabled and _anomaly.state.check_nan
    prev_mode = _grad_state.enabled
    _grad_state.enabled = True
    post_hooks._running[0] += 1  # callbacks may be queued here too (queue_callback)
    try:
        for t in reversed(topo):
            g = grads.pop(t, None)
            if g is None:
                continue
            ctx = t._ctx
            if t._hooks is not None:
                g = _call_recorded_hooks(t, g)
            if capture is None:
                if t._retains_grad or (only is not None and id(t) in only):
                    t.grad = g.clone() if t.grad is None else t.grad + g
            elif id(t) in capture:
                capture[id(t)] = g
            if wanted is None:
                needs = ctx.needs_input_grad
            else:
                needs = wanted.get(t)
                if needs is None:
                    continue
                if ctx.freed:
                    _freed_reached(t, targets)
                    continue
            _check_versions(ctx, t)
            parents = ctx.parents
            if resolve:
                parents = tuple(_recorded_parent(ctx, i, q) for i, q in enumerate(parents))
            kept, ctx.needs_input_grad = ctx.needs_input_grad, needs
            try:
                gs = graph_ops.recorded_backward(ctx, t, g, parents, grad_until)
            finally:
                ctx.needs_input_grad = kept
            if not retain_graph and not ctx.saves_nothing:
                _free(ctx, parents)
            if check_nan:
                _raise_on_nan(
                    ctx, [gi._data for gi, need in zip(gs, needs) if need and gi is not None]
                )
            for p, gi, need in zip(parents, gs, needs):
                if gi is None or not need:
                    continue
                if tuple(gi._data.shape) != p._data.shape:
                    raise RuntimeError(
                        f"Function {type(ctx).__name__} returned an invalid gradient: got shape "
                        f"{tuple(gi._data.shape)}, expected {tuple(p._data.shape)}"
                    )
                if p._ctx is None or (stop and id(p) in capture):
                    if capture is None or id(p) in capture:
                        _pend(pending, p, gi)
                else:
                    grads[p] = gi if p not in grads else grads[p] + gi
        for p, g in pending.values():
            if p._hooks is not None:
                g = _call_recorded_hooks(p, g)
            if g.dtype != p.dtype:
                g = g.to(p.dtype)
            if capture is None:
                # a copy, as torch's: two leaves may receive one gradient tensor (x + y)
                p.grad = g.clone() if p.grad is None else p.grad + g
                d = post_hooks.of(p)
                if d is not None:
                    post_hooks.run(p, d)
            else:
                capture[id(p)] = g
    finally:
        _grad_state.enabled = prev_mode
        post_hooks._running[0] -= 1
        queued = post_hooks.take_queued() if not post_hooks._running[0] else ()
    for cb in queued:
        cb()


def _pend(pending, p, g):
    prev = pending.get(id(p))
    pending[id(p)] = (p, g if prev is None else prev[1] + g)


def _call_recorded_hooks(t, g):
    """``_call_hooks`` for Tensor gradients (a hook's result keeps its history)."""
    for fn in tuple(t._hooks.values()):
        r = fn(g)
        if r is None:
            continue
        if not isinstance(r, function.Tensor):
            raise TypeError(
                f"hook {getattr(fn, '__name__', fn)!r} must return None or a Tensor, got "
                f"{type(r).__name__}"
            )
        if r._data.shape != g._data.shape:
            raise RuntimeError(
                f"hook {getattr(fn, '__name__', fn)!r} has changed the size of value: expected "
                f"{list(g._data.shape)}, got {list(r._data.shape)}"
            )
        g = r
    return g


def _wanted_needs(topo, capture, resolve):
    """For ``grad(outputs, inputs)``: per node, which of its inputs lead to a captured tensor
    (its needs_input_grad narrowed to those), for the nodes where any does. Nodes not listed
    are skipped, and gradients no caller asked for are never computed (a gradient penalty's
    autograd.grad(D(x), x) computes no weight gradients), as torch's engine does."""
    live, wanted = set(), {}
    for t in topo:  # inputs before outputs: a node's inputs are settled before it
        ctx = t._ctx
        if ctx.freed:
            # an earlier backward freed it and its inputs are forgotten: it may lead to a
            # target, so the nodes above it run; reaching it is noted (_freed_reached). A
            # captured one simply ends the pass there (a PINN's inputs made by a cast).
            live.add(id(t))
            wanted[t] = ()
            continue
        parents = ctx.parents
        if resolve:
            parents = tuple(_recorded_parent(ctx, i, q) for i, q in enumerate(parents))
        needs = tuple(
            bool(n) and (id(p) in capture or id(p) in live)
            for p, n in zip(parents, ctx.needs_input_grad)
        )
        if True in needs:
            wanted[t] = needs
            live.add(id(t))
        elif id(t) in capture:
            live.add(id(t))
    return wanted


def _raise_on_nan(ctx, grads):
    """Anomaly mode: torch's error for a node whose backward returned NaN."""
    for i, g in enumerate(grads):
        if g is None or g.dtype.kind not in "fc":
            continue
        a = g if g.__class__ is np.ndarray else _devices.of(g).to_numpy(g)
        if np.isnan(a).any():
            raise RuntimeError(f"Function '{ctx.name()}' returned nan values in its {i}th output.")


def _free(ctx, parents):
    """Release what a node saved after its backward ran (retain_graph=False). It keeps only its
    edges: each input's node, or the input itself where it is a leaf, so that a later pass can
    still tell whether this node lies on a path to the tensors it wants (_freed_leads): torch's
    freed nodes keep their edges too, and the arrays stay released."""
    name = ctx.__dict__.get("torch_name")  # a name the op chose per call stays printable
    ctx.__dict__.clear()
    ctx.freed = True
    ctx.edges = [p if p._ctx is None else p._ctx for p in parents]
    if name is not None:
        ctx.torch_name = name


def _freed_leads(ctx, targets):
    """Whether the freed node ``ctx`` lies on a path to a target: a tensor whose id is in
    ``targets``, or the node of one (grad() and backward(inputs=) list both)."""
    stack, seen = list(getattr(ctx, "edges", ())), set()
    while stack:
        e = stack.pop()
        if id(e) in targets:
            return True
        if id(e) in seen or isinstance(e, function.Tensor):  # a leaf not asked for
            continue
        seen.add(id(e))
        if e.freed:
            stack.extend(getattr(e, "edges", ()))
            continue
        for p in e.parents:
            if id(p) in targets:
                return True
            if p._ctx is not None:
                stack.append(p._ctx)
    return False


def _freed_reached(t, targets):
    """A gradient reached ``t``, whose node an earlier backward freed. Where that node leads to
    a tensor the pass wants, the pass cannot go on (torch's freed-graph error); where it leads
    nowhere wanted, torch's engine would not run it and neither does this one. A wanted ``t``
    itself is fine: its gradient was taken."""
    if id(t) not in targets and _freed_leads(t._ctx, targets):
        raise RuntimeError(_FREED_MSG)


def _backward_with(ctx, g, needs):
    """ctx.backward(g) computing only the gradients ``needs`` asks for."""
    kept, ctx.needs_input_grad = ctx.needs_input_grad, needs
    try:
        return ctx.backward(g)
    finally:
        ctx.needs_input_grad = kept


def _post_hook_uses(topo):
    """leaf -> how many graph edges still bring it a gradient, for the leaves with
    post-accumulate hooks: the hooks fire when the count reaches zero (the gradient is final)."""
    uses = {}
    for t in topo:
        ctx = t._ctx
        for p, need in zip(ctx.parents, ctx.needs_input_grad):
            if need and p._ctx is None and post_hooks.of(p) is not None:
                uses[p] = uses.get(p, 0) + 1
    return uses


def _use_done(p, gi, uses, handed, pending):
    """One more edge into ``p`` (a leaf with post-accumulate hooks) is done; on the last one,
    its summed gradient goes through its tensor hooks into ``.grad``, then its post hooks run."""
    if gi is not None:
        if gi.__class__ is not _NDARRAY and isinstance(gi, np.generic):
            gi = np.asarray(gi)
        if gi.shape != p._data.shape:
            raise RuntimeError(
                f"a Function returned an invalid gradient: got shape {tuple(gi.shape)}, "
                f"expected {tuple(p._data.shape)}"
            )
        prev = pending.get(id(p))
        pending[id(p)] = (p, gi if prev is None else _add_grads(prev[1], gi))
    n = uses[p] - 1
    if n:
        uses[p] = n
        return
    del uses[p]
    entry = pending.pop(id(p), None)
    if entry is None:  # no edge brought a gradient: .grad is unchanged, no hook runs
        return
    g = entry[1]
    if p._hooks is not None:
        g = _call_hooks(p, g)
    _accumulate(p, g, handed)
    post_hooks.run(p, post_hooks.of(p))


def _to_leaf(p, g, handed, pending, capture):
    if g.__class__ is not _NDARRAY and isinstance(g, np.generic):
        g = np.asarray(g)  # a 0-d product comes back from numpy as a scalar
    if capture is None:
        if p._hooks is None and post_hooks.of(p) is None:
            _accumulate(p, g, handed)
            return
    elif id(p) not in capture:
        return
    key = id(p)
    prev = pending.get(key)
    pending[key] = (p, g if prev is None else _add_grads(prev[1], g))


def _call_hooks(t, g):
    """Run ``t``'s hooks in registration order; each sees the previous one's result."""
    Tensor = function.Tensor
    for fn in tuple(t._hooks.values()):
        r = fn(Tensor._make(g, False, None))
        if r is None:
            continue
        if not isinstance(r, Tensor):
            raise TypeError(
                f"hook {getattr(fn, '__name__', fn)!r} must return None or a Tensor, got "
                f"{type(r).__name__}"
            )
        if r._data.shape != g.shape:
            raise RuntimeError(
                f"hook {getattr(fn, '__name__', fn)!r} has changed the size of value: expected "
                f"{list(g.shape)}, got {list(r._data.shape)}"
            )
        g = r._data
    return g


def _real_part(g, p):
    """A complex gradient for the real tensor ``p`` (a real input of a complex result): its real
    part, the derivative by the real input, as torch's engine keeps."""
    if p._data.dtype.kind == "c":
        return g
    return np.ascontiguousarray(g.real)


def _adopt(t, g, handed):
    """``g`` as an array the caller may own: cast to ``t``'s dtype, copied when it may be
    shared (a view, the caller's own gradient, one handed out already)."""
    be = _devices.of(t._data)
    if g.dtype != t._data.dtype:
        g = be.astype(g, t._data.dtype)
    elif id(g) in handed or not be.is_fresh(g):
        g = be.copy(g)
    handed.add(id(g))
    return g


def _accumulate(t, g, handed):
    """``t.grad += g``: the single accumulation site. A fresh, contiguous array is adopted;
    anything that may be shared (views, the caller's gradient, one already adopted) is copied."""
    if t.grad is None:
        t.grad = function.Tensor._make(_adopt(t, g, handed), False, None)
    else:
        be = _devices.of(t._data)
        if g.dtype != t._data.dtype:
            g = be.astype(g, t._data.dtype)
        be.iadd(t.grad._data, g)


def _check_versions(ctx, t):
    if ctx.save_inputs:
        for i, (p, v) in enumerate(zip(ctx.parents, ctx.versions)):
            if p._vc[0] != v and (ctx.needed is None or ctx.needed(ctx.needs_input_grad)[i]):
                _modified(ctx, p, v, "an input")
    if ctx.save_output and t._vc[0] != 0:
        _modified(ctx, t, 0, "output 0")


def _modified(ctx, t, expected, what):
    raise RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [{t.dtype} {list(t.shape)}], which is {what} of {ctx.name()}, is at version "
        f"{t._vc[0]}; expected version {expected} instead."
    )


def _mark_shared(gs, handed):
    """A backward that hands one array to several inputs (an add's ``(g, g)``): a leaf must not
    adopt it as its ``.grad``, since a later accumulation into that .grad would then change the
    gradient still queued for the other input."""
    seen = set()
    for gi in gs:
        if gi is not None:
            if id(gi) in seen:
                handed.add(id(gi))
            seen.add(id(gi))


def _add_grads(a, b):
    """Two gradients of one non-leaf summed. A 0-d product's gradient can come back from numpy
    as a scalar (np.float64) rather than an array, which has no device: make it a 0-d array."""
    if isinstance(a, np.generic):
        a = np.asarray(a)
    if isinstance(b, np.generic):
        b = np.asarray(b)
    s = _devices.of(b).add(a, b)
    return np.asarray(s) if s.__class__ is not _NDARRAY and isinstance(s, np.generic) else s
