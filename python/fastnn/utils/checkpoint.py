"""torch.utils.checkpoint: activation checkpointing, compute traded for memory.

``checkpoint(function, *args)`` runs ``function`` and keeps none of its intermediate results for
the backward pass: the backward runs ``function`` again on the same inputs (with the random state
it first ran with, so dropout draws the same mask) and differentiates that second run. A model
cut into k checkpointed segments holds one segment's activations at a time instead of all.

How it is built: the first run records its graph as usual, and that graph is dropped as soon as
the run returns, so its activations live only while the segment runs. Before dropping it, the
walk back from the outputs finds the leaves that need gradients (the parameters the function
used); they become inputs of one node, beside the tensor arguments, so the engine delivers their
gradients like any other input's: into ``.grad`` for ``backward()``, or to ``autograd.grad``. The
node's backward reruns the function and takes ``autograd.grad`` of that run.

torch's two variants differ here as there: with ``use_reentrant=True`` (the default when it is
not given, with torch's warning) the output needs a gradient only if a tensor argument does, and
keyword arguments are refused; with ``use_reentrant=False`` the output needs one whenever the
function used anything that does (its parameters), and keyword arguments pass through. The
checkpointed segment is differentiated once (no double backward through it).
"""

import warnings

from .. import autograd
from .._tensor import Tensor
from .._tensor import random as _random

__all__ = ["checkpoint", "checkpoint_sequential", "noop_context_fn"]


class _NoopContext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def noop_context_fn():
    """The default ``context_fn``: two contexts that do nothing (one for the first run, one for
    the rerun)."""
    return _NoopContext(), _NoopContext()


def checkpoint(
    function,
    *args,
    use_reentrant=None,
    context_fn=noop_context_fn,
    determinism_check="default",
    debug=False,
    early_stop=True,
    **kwargs,
):
    """``function(*args, **kwargs)``, its activations recomputed in the backward pass instead of
    kept. ``preserve_rng_state=True`` (a keyword, as torch takes it) reruns with the random state
    of the first run."""
    preserve = kwargs.pop("preserve_rng_state", True)
    if use_reentrant is None:
        warnings.warn(
            "fastnn.utils.checkpoint: pass use_reentrant explicitly (True or False); without it "
            "the reentrant variant runs, as torch's does, and a later version may require it.",
            UserWarning,
            stacklevel=2,
        )
        use_reentrant = True
    if determinism_check not in ("default", "none"):
        raise ValueError(
            f"determinism_check should be one of ['default', 'none'], but got {determinism_check}"
        )
    if use_reentrant:
        if context_fn is not noop_context_fn or debug:
            raise ValueError(
                "Passing `context_fn` or `debug` is only supported when use_reentrant=False."
            )
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    first_ctx, rerun_ctx = context_fn()
    if not autograd.is_grad_enabled():
        with first_ctx:
            return function(*args, **kwargs)
    if use_reentrant and not any(isinstance(a, Tensor) and a.requires_grad for a in args):
        warnings.warn(
            "None of the inputs have requires_grad=True. Gradients will be None",
            UserWarning,
            stacklevel=2,
        )
        with autograd.no_grad(), first_ctx:
            return function(*args, **kwargs)
    return _Segment(function, args, kwargs, preserve, rerun_ctx).run(first_ctx)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run the modules of ``functions`` (a Sequential or a list) in ``segments`` checkpointed
    pieces, the last one plainly (its activations are needed at once)."""
    if hasattr(functions, "children"):  # a Sequential: its modules in order
        functions = list(functions.children())
    functions = list(functions)
    if not isinstance(segments, int) or isinstance(segments, bool) or segments < 1:
        raise ValueError(f"checkpoint_sequential: segments must be a positive int, got {segments}")
    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(
            _run_range(functions, start, end), input, use_reentrant=use_reentrant, **kwargs
        )
    return _run_range(functions, end + 1, len(functions) - 1)(input)


def _run_range(functions, start, end):
    def run(x):
        for f in functions[start : end + 1]:
            x = f(x)
        return x

    return run


def _flat(out):
    """The tensors of an output (a tensor, or a tuple / list / dict of them and other values)."""
    if isinstance(out, Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [t for v in out for t in _flat(v)]
    if isinstance(out, dict):
        return [t for v in out.values() for t in _flat(v)]
    return []


def _rebuilt(out, tensors):
    """``out`` with its tensors replaced, in order, by ``tensors`` (an iterator)."""
    if isinstance(out, Tensor):
        return next(tensors)
    if isinstance(out, (tuple, list)):
        items = [_rebuilt(v, tensors) for v in out]
        return type(out)(items) if type(out) in (tuple, list) else type(out)(*items)
    if isinstance(out, dict):
        return type(out)((k, _rebuilt(v, tensors)) for k, v in out.items())
    return out


def _leaves_needing_grad(outputs, stop):
    """The leaf tensors requiring grad that ``outputs`` were computed from, not looking past the
    tensors of ``stop`` (ids): the parameters a segment used, in first-seen order."""
    leaves, seen, todo = [], set(stop), [t for t in outputs if t.requires_grad]
    while todo:
        t = todo.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        if t._ctx is None:
            leaves.append(t)
        else:
            todo.extend(p for p in getattr(t._ctx, "parents", ()) if p.requires_grad)
    return leaves


class _Segment:
    """One checkpointed call: its first run, its node's inputs, and its rerun."""

    def __init__(self, function, args, kwargs, preserve, rerun_ctx):
        self.function, self.args, self.kwargs = function, args, kwargs
        self.rerun_ctx = rerun_ctx
        self.rng = _random.get_rng_state() if preserve else None

    def _detached_args(self):
        return [
            a.detach().requires_grad_(a.requires_grad) if isinstance(a, Tensor) else a
            for a in self.args
        ]

    def run(self, first_ctx):
        args = self._detached_args()
        with autograd.enable_grad(), first_ctx:
            out = self.function(*args, **self.kwargs)
        flat = _flat(out)
        self.arg_slots = [i for i, a in enumerate(self.args) if _needs_grad(a)]
        arg_ids = {id(args[i]) for i in self.arg_slots}
        self.params = _leaves_needing_grad(flat, arg_ids)
        needing = [t.requires_grad for t in flat]
        if not any(needing):  # nothing inside needed a gradient: no node, as torch
            return _rebuilt(out, iter([t.detach() for t in flat]))
        inputs = [self.args[i] for i in self.arg_slots] + self.params
        values = _Checkpoint.apply(self, [t.detach() for t in flat], *inputs)
        values = iter(values if isinstance(values, tuple) else (values,))
        # outputs that needed no gradient stay plain (a mask, a count)
        return _rebuilt(out, (v if need else v.detach() for v, need in zip(values, needing)))

    def gradients(self, grads):
        """Rerun the function and differentiate it: one gradient per node input."""
        args = self._detached_args()
        state = _random.get_rng_state() if self.rng is not None else None
        try:
            if self.rng is not None:
                _random.set_rng_state(self.rng)
            with autograd.enable_grad(), self.rerun_ctx:
                out = self.function(*args, **self.kwargs)
        finally:
            if state is not None:
                _random.set_rng_state(state)
        pairs = [(t, g) for t, g in zip(_flat(out), grads) if t.requires_grad and g is not None]
        targets = [args[i] for i in self.arg_slots] + self.params
        if not pairs:
            return [None] * len(targets)
        with autograd.enable_grad():
            got = autograd.grad(
                [t for t, _ in pairs], targets, [g for _, g in pairs], allow_unused=True
            )
        return list(got)


def _needs_grad(a):
    return isinstance(a, Tensor) and a.requires_grad


class _Checkpoint(autograd.Function):
    """The node of a checkpointed call: its inputs are the call's tensor arguments that need a
    gradient and the parameters it used; its outputs the call's tensors."""

    @staticmethod
    def forward(ctx, segment, values, *inputs):
        ctx.segment = segment
        ctx.set_materialize_grads(False)
        return tuple(values) if len(values) != 1 else values[0]

    @staticmethod
    def backward(ctx, *grads):
        return (None, None, *ctx.segment.gradients(grads))
