"""The ``Function`` base: each autograd primitive is one small class whose ``forward`` (on
storage arrays, through the backend ``self.be``) and ``backward`` sit side by side.

``apply`` runs ``forward`` and, only when grad mode is on and some input requires grad, attaches
the instance as the output's ``_ctx`` (its ``grad_fn``); ``forward`` may read
``self.requires_grad`` to skip work only backward needs (fused losses compute their gradient in
the forward kernel call). A primitive whose output is one device op (``Add``: ``be.add``) names
it in ``plain_op``; when it does not record, ``apply`` calls that op and no instance is made.
``backward(grad)`` returns one gradient array per tensor input (or a single array for one
input), ``None`` where not needed.
"""

from weakref import WeakValueDictionary
from weakref import ref as _weakref

from .. import _devices
from . import node_extras as _extras
from .grad_mode import state as _grad_state

# The (pack, unpack) hooks of the innermost ``autograd.graph.saved_tensors_hooks`` in force, or
# None: apply's one test for them (node_extras says what goes through them).
saved_hooks = None
# The running profiler's recorder (autograd.profiler), or None: apply's one test for it.
op_observer = None


class Function:
    # Subclasses that keep their inputs (resp. their output) for backward set these, so the engine
    # can detect in-place changes of those tensors between forward and backward (version counter).
    save_inputs = False
    save_output = False
    # For a primitive that saves an input only for the gradient of another (x * y keeps y for
    # x's gradient), ``needed(needs_input_grad)`` says which inputs backward reads, so a change
    # of one it does not read raises nothing (as torch, which saves nothing for x * 2).
    needed = None
    # The name torch gives the same node (grad_fn's repr) where the class is named otherwise.
    torch_name = None
    freed = False  # set once backward released the saved arrays (retain_graph=False)
    # An op whose backward reads no saved array (a dtype cast) is never freed, as torch's
    # ToCopyBackward: a float64 leaf cast to float32 once is backpropagated through again and
    # again (a PINN's inputs, made once, differentiated at every closure call).
    saves_nothing = False
    requires_grad = False  # set on the instance when apply records it (forward may read it)
    # The device op that is the whole forward when the op does not record ("add": be.add(x, y)).
    # apply then calls it without making an instance: a fifth of a 4x4 op's time, and forward
    # runs only when recording.
    plain_op = None
    # True during a backward that frees this node afterwards (retain_graph=False): backward may
    # then hand a saved array over as a gradient instead of copying it, nobody reads it again.
    releasing = False
    # True when ``backward`` can run on ``graph_ops.GraphOps`` (create_graph=True: recorded, so
    # differentiable again); see graph_ops for what that asks of it.
    double_backward = False
    graph_constants = ()  # saved arrays that are constants of the op, not inputs (graph_ops)
    graph_forward = None  # a fused op's function as Tensor ops, for its recorded backward

    def forward(self, *arrays, **kwargs):
        raise NotImplementedError

    def backward(self, grad):
        raise NotImplementedError

    @classmethod
    def apply(cls, *tensors, **kwargs):
        if op_observer is not None:
            return op_observer(cls, tensors, kwargs)
        # One pass over the inputs gathers the arrays, checks they share a device and sees
        # whether any requires grad: on tiny tensors this loop is a large part of an op's cost.
        arrays, needs = [], []
        req = False
        try:
            kind = tensors[0]._data.__class__
            for t in tensors:
                a = t._data
                if a.__class__ is not kind:
                    device_mismatch(tensors)
                arrays.append(a)
                need = t.requires_grad
                needs.append(need)
                if need:
                    req = True
        except AttributeError:
            kinds = ", ".join(type(t).__name__ for t in tensors)
            raise TypeError(f"{cls.__name__}: arguments must be Tensors, got ({kinds})") from None
        be = _BY_TYPE.get(kind) or _devices.of(arrays[0])
        req = req and _grad_state.enabled
        try:
            if req or cls.plain_op is None:
                ctx = _new(cls)
                ctx.be = be
                if req:
                    ctx.requires_grad = True
                out = ctx.forward(*arrays, **kwargs) if kwargs else ctx.forward(*arrays)
            else:
                out = getattr(be, cls.plain_op)(*arrays, **kwargs)
        except ValueError as e:
            shapes = " and ".join(str(tuple(a.shape)) for a in arrays)
            raise RuntimeError(f"{cls.__name__}: {e} (input shapes {shapes})") from None
        if out.__class__ is not kind and not _devices.is_array(out):
            out = be.wrap(out)  # a numpy scalar from a 0-d ufunc
        if req:
            ctx.parents = tensors
            ctx.needs_input_grad = tuple(needs)
            # The inputs' versions as recorded, for the saved-input check and for the engine to
            # find, for an input that an in-place op has since given a new history, the history
            # it had here (recorded_parent). Only a non-leaf can change history: an op on leaves
            # alone (a first layer) keeps none unless it saves them.
            n_in = len(tensors)
            if n_in == 2:
                t0, t1 = tensors
                if cls.save_inputs or t0._ctx is not None or t1._ctx is not None:
                    ctx.versions = (t0._vc[0], t1._vc[0])
            elif n_in == 1:
                t0 = tensors[0]
                if cls.save_inputs or t0._ctx is not None:
                    ctx.versions = (t0._vc[0],)
            else:
                versions = []
                for t in tensors:  # a loop: a generator expression costs a frame
                    versions.append(t._vc[0])
                ctx.versions = tuple(versions)
            if saved_hooks is None:
                return _make(out, True, ctx)
            result = _make(out, True, ctx)
            _extras.pack_node(ctx, saved_hooks, tensors, result)
            return result
        return _make(out, False, None)

    def name(self) -> str:
        name = self.torch_name or type(self).__name__
        return name if "Backward" in name else f"{name}Backward0"

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"

    @property
    def next_functions(self):
        """(node, 0) per input, as torch's: the input's own node, an AccumulateGrad for a leaf
        that requires grad, None for one that does not."""
        out = []
        for i, p in enumerate(getattr(self, "parents", ())):
            q = recorded_parent(self, i, p)
            node = q._ctx
            if node is None and q.requires_grad:
                node = AccumulateGrad.of(q)
            out.append((node, 0))
        out = tuple(out)
        # kept with the node, as torch's edges keep theirs: a walker that dedupes nodes by id
        # must not meet a freed AccumulateGrad's id again on another leaf's new one
        self._next_functions = out
        return out

    # torch's Node API (autograd.graph.Node); the extras live beside the node (node_extras)
    def register_hook(self, fn):
        """``fn(grad_inputs, grad_outputs)`` after this node's backward: the gradients it
        computed for its inputs and the one it received; it may return new grad_inputs."""
        return _extras.add_hook(self, fn, False, Tensor)

    def register_prehook(self, fn):
        """``fn(grad_outputs)`` before this node's backward; it may return new grad_outputs."""
        return _extras.add_hook(self, fn, True, Tensor)

    @property
    def metadata(self):
        ex = _extras.of(self)
        if ex.metadata is None:
            ex.metadata = {}
        return ex.metadata


_new = object.__new__
_BY_TYPE = _devices._BY_TYPE

# id(leaf) -> its AccumulateGrad while someone holds that node (the node holds the leaf alive,
# so the id cannot be reused meanwhile)
_accumulate_nodes = WeakValueDictionary()


class AccumulateGrad:
    """What torch's graph shows for a leaf that requires grad, in ``next_functions``: the step
    that accumulates the leaf's gradient (``variable`` is the leaf). fastnn's engine accumulates
    into leaves itself; this object lets code that walks the graph (graph drawers, hook tools)
    see torch's shape of it. One per live leaf, so a leaf used twice appears once."""

    __slots__ = ("__weakref__", "_metadata", "variable")

    def __init__(self, variable):
        self.variable = variable
        self._metadata = None

    @classmethod
    def of(cls, leaf):
        node = _accumulate_nodes.get(id(leaf))
        if node is None or node.variable is not leaf:
            node = _accumulate_nodes[id(leaf)] = cls(leaf)
        return node

    def name(self):
        return "torch::autograd::AccumulateGrad"

    @property
    def next_functions(self):
        return ()

    @property
    def metadata(self):
        if self._metadata is None:
            self._metadata = {}
        return self._metadata

    def register_prehook(self, fn):
        """``fn((grad,))`` before the gradient is accumulated; it may return a new ``(grad,)``."""

        def hook(grad):
            out = fn((grad,))
            return None if out is None else out[0]

        return self.variable.register_hook(hook)

    def register_hook(self, fn):
        """``fn((), (grad,))`` once the gradient has been accumulated into the leaf's ``.grad``."""
        return self.variable.register_post_accumulate_grad_hook(lambda leaf: fn((), (leaf.grad,)))

    def __repr__(self):
        return f"<AccumulateGrad object at {id(self):#x}>"


# Whether any in-place op has been recorded in this process: until then no tensor has a prior
# history, and the engine skips looking for one (a tenth of a small op's backward).
priors_seen = False
# id(tensor) -> (weak reference to the tensor, {version: weak reference to its stand-in}): the
# histories in-place ops took from tensors, beside the tensors rather than in a slot of each, so
# that making a tensor costs nothing more.
_priors = {}


def printed_as(t, name):
    """``t``, whose node (the last step of a composite op) prints as torch's node for the whole
    op: a printed loss or output shows what it shows in torch."""
    ctx = t._ctx
    if ctx is not None:
        ctx.torch_name = name
    return t


def has_prior(p):
    return id(p) in _priors


def recorded_parent(ctx, i, p):
    """``p``, ctx's input ``i``, as ctx recorded it. An in-place op recorded on a tensor gives it
    a new history and keeps the old one on a stand-in (``_inplace_record``), remembered here under
    the version it replaced; ops recorded before the change take their gradient to that
    stand-in, so it goes to the history their input had, as torch's edges do."""
    entry = _priors.get(id(p))
    if entry is None or entry[0]() is not p:
        return p
    versions = getattr(ctx, "versions", None)
    if versions is None:
        return p
    # the history p had at ctx's version is the one the next in-place op replaced: a bump that
    # kept the history (a write outside autograd, into a view of p) leaves no entry
    seen, prior = versions[i], entry[1]
    ref = prior.get(seen)
    if ref is None:
        later = [v for v in prior if v > seen]
        ref = prior[min(later)] if later else None
    old = ref() if ref is not None else None
    return p if old is None else old


def remember_prior(t, old):
    """Record that ``old`` now carries the history ``t`` had at ``old``'s version. Both weakly:
    the in-place op's node holds ``old`` as long as that history is alive, and t's entry goes
    with t."""
    global priors_seen  # noqa: PLW0603 (a process-wide fact, see priors_seen)
    priors_seen = True
    key = id(t)
    entry = _priors.get(key)
    if entry is None or entry[0]() is not t:

        def forget(wr, key=key):
            if _priors.get(key, (None,))[0] is wr:
                del _priors[key]

        entry = _priors[key] = (_weakref(t, forget), {})
    prior = entry[1]
    for v in [v for v, r in prior.items() if r() is None]:
        del prior[v]
    prior[old._vc[0]] = _weakref(old)


def device_mismatch(tensors):
    devs = []
    for t in tensors:
        d = str(t.device)
        if d not in devs:
            devs.append(d)
    if len(devs) == 1:  # one device, two storage kinds: a sparse tensor among dense ones
        raise NotImplementedError(
            f"{', '.join(type(t).__name__ for t in tensors)}: this op has no form for sparse "
            "tensors mixed with dense ones; call .to_dense() on the sparse operand first"
        )
    raise RuntimeError(
        "Expected all tensors to be on the same device, but found at least two "
        f"devices, {devs[0]} and {devs[1]}!"
    )


# ---- the one late-binding point of the package -------------------------------------------------
# The Tensor class is built on top of these primitives (its methods call ``Function.apply``), so
# no module below it can import it. It registers itself here, once, right after its class
# statement (fastnn/_tensor/core.py); the engine, gradcheck and the Tensor's own op modules
# read ``function.Tensor`` at call time. Modules above the Tensor import it from fastnn._tensor.
Tensor = None


def bind_tensor_class(cls):
    global Tensor, _make  # noqa: PLW0603 (the one late-binding point, see above)
    Tensor = cls
    _make = cls._make


def _make(data, requires_grad, ctx):  # until bind_tensor_class runs
    raise RuntimeError("fastnn._tensor.core was not imported")


class _OnceDifferentiated(Function):
    """A result of a ``once_differentiable`` backward recorded under create_graph: a node on
    what it depends on that refuses to be differentiated."""

    def forward(self, *depends_on, value=None):
        return value

    def backward(self, g):
        raise RuntimeError(
            "trying to differentiate twice a function that was marked with @once_differentiable"
        )


def once_differentiable(backward):
    """Decorate a custom Function's ``backward`` written in operations that cannot themselves
    be differentiated: it runs with grad mode off, and where a second derivative was asked for
    (create_graph) its results refuse to be differentiated instead of being silently constant."""

    def wrapper(ctx, *grads):
        recording = _grad_state.enabled
        _grad_state.enabled = False
        try:
            outputs = backward(ctx, *grads)
        finally:
            _grad_state.enabled = recording
        depends_on = [g for g in grads if isinstance(g, Tensor) and g.requires_grad]
        if not (recording and depends_on):
            return outputs
        single = not isinstance(outputs, tuple)
        wrapped = tuple(
            _OnceDifferentiated.apply(*depends_on, value=o._data) if isinstance(o, Tensor) else o
            for o in ((outputs,) if single else outputs)
        )
        return wrapped[0] if single else wrapped

    wrapper.__name__ = getattr(backward, "__name__", "backward")
    wrapper.__doc__ = getattr(backward, "__doc__", None)
    wrapper.__wrapped__ = backward
    return wrapper
