"""``fastnn.func``: torch.func's function transforms on fastnn's autograd.

``functional_call`` runs a module with other parameters (meta-learning, ensembles);
``grad``, ``grad_and_value``, ``vjp``, ``jvp``, ``linearize``, ``jacrev``, ``jacfwd`` and
``hessian`` turn a function of tensors into its derivatives, and compose (``grad(grad(f))``)
because each records its backward (create_graph) whenever an input already carries a history;
``jvp`` and ``linearize`` compute forward-mode products by reverse mode twice (the values of
torch's forward mode, at two backward passes' cost); ``vmap`` maps a function
over a batch dimension by calling it once per entry and stacking the results (the same values
as torch's vectorized form, at a Python loop's speed). Arguments and results may be tensors or
tuples, lists and dicts of them.
"""

from contextlib import contextmanager

from ._tensor import Tensor
from ._tensor import creation as _new
from ._tensor import functions as _fn
from .autograd.functional import grads_or_zeros, jacobian_rows
from .autograd.grad_mode import enable_grad
from .autograd.graph_ops import Alias

# ---- trees of tensors ------------------------------------------------------------------------


def _flatten(tree):
    """The tensors of a tuple/list/dict tree (dicts in key order) and how to rebuild it."""
    if isinstance(tree, (tuple, list)):
        leaves, specs = [], []
        for item in tree:
            sub, spec = _flatten(item)
            leaves += sub
            specs.append((len(sub), spec))
        return leaves, (type(tree), None, specs)
    if isinstance(tree, dict):
        leaves, specs = [], []
        for key in tree:
            sub, spec = _flatten(tree[key])
            leaves += sub
            specs.append((len(sub), spec))
        return leaves, (dict, list(tree), specs)
    return [tree], None


def _unflatten(spec, leaves):
    if spec is None:
        return leaves[0]
    kind, keys, specs = spec
    items, at = [], 0
    for n, sub in specs:
        items.append(_unflatten(sub, leaves[at : at + n]))
        at += n
    if kind is dict:
        return dict(zip(keys, items))
    return kind(items) if kind in (tuple, list) else kind(*items)


# ---- functional_call -------------------------------------------------------------------------


def functional_call(
    module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights=True, strict=False
):
    """``module(*args, **kwargs)`` with the named parameters and buffers replaced by the given
    tensors for the call (the module is unchanged afterwards). Names not given keep the module's
    own unless ``strict``; with ``tie_weights``, a tensor given for one of several names of a
    shared parameter stands for all of them."""
    dicts = parameter_and_buffer_dicts
    if isinstance(dicts, dict):
        dicts = [dicts]
    given = {}
    for d in dicts:
        for name, value in d.items():
            if name in given:
                raise ValueError(f"functional_call: {name!r} appeared in more than one dict")
            given[name] = value
    own = dict(module.named_parameters(remove_duplicate=False))
    own.update(module.named_buffers(remove_duplicate=False))
    unknown = sorted(set(given) - set(own))
    missing = sorted(set(own) - set(given))
    if strict and (unknown or missing):
        raise RuntimeError(
            f"functional_call got unexpected keys {unknown} and missing keys {missing}"
        )
    if unknown:
        raise RuntimeError(f"functional_call: the module has no parameter or buffer {unknown}")
    if tie_weights:  # a shared parameter's other names follow the one given
        by_id = {}
        for name, t in own.items():
            by_id.setdefault(id(t), []).append(name)
        for names in by_id.values():
            chosen = [n for n in names if n in given]
            if chosen:
                for n in names:
                    given.setdefault(n, given[chosen[0]])
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _swapped(module, given):
        return module(*args, **(kwargs or {}))


@contextmanager
def _swapped(module, given):
    saved = []
    try:
        for name, value in given.items():
            owner, attr = _owner(module, name)
            registry = owner._parameters if attr in owner._parameters else owner._buffers
            saved.append((registry, attr, registry[attr]))
            registry[attr] = value
        yield
    finally:
        for registry, attr, value in reversed(saved):
            registry[attr] = value


def _owner(module, name):
    *path, attr = name.split(".")
    for part in path:
        module = getattr(module, part)
    return module, attr


# ---- derivatives -------------------------------------------------------------------------------


def _prepare(tree):
    """The inputs a transform differentiates at: leaves that require grad, linked to the
    caller's history when they have one (so that transforms compose)."""
    leaves, spec = _flatten(tree)
    out = []
    for t in leaves:
        if not isinstance(t, Tensor):
            raise TypeError(
                f"expected Tensors as the inputs to differentiate, got {type(t).__name__}"
            )
        # an input with a history enters through a node of its own (Alias), so that the
        # results' link to it can be told from a link to this transform's own inputs
        out.append(Alias.apply(t) if t.requires_grad else t.detach().requires_grad_())
    return out, spec


def _reaches_outside(results, inner):
    """Whether ``results`` depend on a tensor outside the transform that requires grad (an
    outer graph, or an enclosing transform's input): only then must a derivative be recorded.
    Recording it anyway would compute it by the graph ops, whose rounding can differ from the
    kernels' (torch gives one derivative the same bits whether or not it is nested)."""
    inner = {id(t) for t in inner}
    stack = [t for t in results if isinstance(t, Tensor) and t.requires_grad]
    seen = set()
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        ctx = t._ctx
        if ctx is None:
            if id(t) not in inner:
                return True
            continue
        stack.extend(p for p in getattr(ctx, "parents", ()) if p.requires_grad)
    return False


def _settle(results, inner):
    """``results`` as the caller gets them: detached unless they reach outside the transform
    (_reaches_outside), as torch.func's results are plain tensors at the outermost level."""
    if _reaches_outside(results, inner):
        return results
    return [t.detach() if isinstance(t, Tensor) else t for t in results]


def _prepare_args(args, argnums):
    """The arguments ``argnums`` prepared (_prepare) in ``args``: (args, the prepared
    (leaves, spec) of each selected argument, whether argnums was a tuple)."""
    nums, many = ((argnums,), False) if isinstance(argnums, int) else (tuple(argnums), True)
    args = list(args)
    prepared = []
    for i in nums:
        leaves, spec = _prepare(args[i])
        prepared.append((leaves, spec))
        args[i] = _unflatten(spec, leaves)
    return args, prepared, many


def _regroup(prepared, flat):
    """``flat`` (one tensor per prepared leaf, in order) as one tree per prepared argument."""
    trees, at = [], 0
    for leaves, spec in prepared:
        trees.append(_unflatten(spec, flat[at : at + len(leaves)]))
        at += len(leaves)
    return trees


def grad_and_value(func, argnums=0, has_aux=False):
    """A function returning (the gradient of ``func``'s scalar output with respect to the
    arguments ``argnums``, the output), or ((gradient, (output, aux))) with ``has_aux``."""

    def wrapper(*args, **kwargs):
        args, prepared, many = _prepare_args(args, argnums)
        with enable_grad():
            out = func(*args, **kwargs)
            aux = None
            if has_aux:
                if not (isinstance(out, tuple) and len(out) == 2):
                    raise RuntimeError(
                        "grad_and_value(f)(*args): output of function f should be a tuple: "
                        "(output, aux) if has_aux is True"
                    )
                out, aux = out
            if not isinstance(out, Tensor) or out.numel() != 1:
                raise RuntimeError(
                    "grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got "
                    f"{'a Tensor of shape ' + str(tuple(out.shape)) if isinstance(out, Tensor) else type(out).__name__}"
                )
            leaves = [t for p in prepared for t in p[0]]
            gs = grads_or_zeros((out,), leaves, (None,), _reaches_outside([out], leaves))
        *gs, out = _settle([*gs, out], leaves)
        grads = _regroup(prepared, gs)
        g = tuple(grads) if many else grads[0]
        return (g, (out, aux)) if has_aux else (g, out)

    return wrapper


def grad(func, argnums=0, has_aux=False):
    """The gradient of ``func``'s scalar output with respect to the arguments ``argnums``
    (a tuple of gradients for a tuple of argnums; the shape of each argument's tree)."""
    both = grad_and_value(func, argnums, has_aux)

    def wrapper(*args, **kwargs):
        g, value = both(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return wrapper


def vjp(func, *primals, has_aux=False):
    """(func(*primals), vjp_fn), where ``vjp_fn(cotangents)`` gives the product of the
    cotangents (the output's tree) with the Jacobian, one gradient per primal."""
    prepared = [_prepare(p) for p in primals]
    args = [_unflatten(spec, leaves) for leaves, spec in prepared]
    with enable_grad():
        out = func(*args)
    aux = None
    if has_aux:
        out, aux = out
    outs, out_spec = _flatten(out)
    leaves = [t for p in prepared for t in p[0]]

    def vjp_fn(cotangents, retain_graph=True, create_graph=None):
        cots, _ = _flatten(cotangents)
        if len(cots) != len(outs):
            raise RuntimeError(
                f"vjp_fn: expected {len(outs)} cotangents (the output's structure), got {len(cots)}"
            )
        record = create_graph
        if record is None:
            record = any(isinstance(c, Tensor) and c.requires_grad for c in cots)
            record = record or _reaches_outside(outs, leaves)
        gs = grads_or_zeros(outs, leaves, cots, record)
        if create_graph is None:
            gs = _settle(gs, leaves)
        elif not create_graph:
            gs = [g.detach() for g in gs]
        return tuple(_regroup(prepared, gs))

    shown = _unflatten(out_spec, _settle(outs, leaves))
    return (shown, vjp_fn, aux) if has_aux else (shown, vjp_fn)


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None):
    """The Jacobian of ``func`` by reverse mode: for an output of shape S and an argument of
    shape A, a tensor of shape S + A (trees of them for trees of outputs and arguments)."""

    def wrapper(*args, **kwargs):
        args, prepared, many = _prepare_args(args, argnums)
        with enable_grad():
            out = func(*args, **kwargs)
        aux = None
        if has_aux:
            out, aux = out
        outs, out_spec = _flatten(out)
        leaves = [t for p in prepared for t in p[0]]
        per_out = []
        record = _reaches_outside(outs, leaves)
        for o in outs:
            jac = jacobian_rows(o, leaves, record)
            trees = _regroup(prepared, _settle(jac, leaves))
            per_out.append(tuple(trees) if many else trees[0])
        result = _unflatten(out_spec, per_out)
        return (result, aux) if has_aux else result

    return wrapper


# ---- forward-mode products, by the double vjp -----------------------------------------------
# fastnn has no forward mode: J v comes from reverse mode twice. For a dummy cotangent u of the
# outputs' shape, g(u) = u^T J is linear in u, so the vjp of g with v is (J v)^T: exact, at the
# cost of two backward passes.


def _tangent_pairs(primals, tangents):
    """The prepared primals and the flat tangents, after torch.func.jvp's checks."""
    where = "jvp(f, primals, tangents)"
    if not isinstance(primals, tuple):
        raise RuntimeError(  # noqa: TRY004 (torch's exception type)
            f"{where}: Expected primals to be a tuple. E.g. it should be valid to call f(*primals)."
        )
    p_leaves, p_spec = _flatten(primals)
    t_leaves, t_spec = _flatten(tangents)
    if p_spec != t_spec:
        raise RuntimeError(
            f"{where}: Expected primals and tangents to have the same python structure. For "
            "example, if primals is a tuple of 3 tensors, tangents also must be."
        )
    if not p_leaves:
        raise RuntimeError(f"{where}: Expected primals to contain at least one Tensor.")
    for p, t in zip(p_leaves, t_leaves):
        for name, x in (("primals", p), ("tangents", t)):
            if not isinstance(x, Tensor):
                raise RuntimeError(  # noqa: TRY004 (torch's exception type)
                    f"{where}: Expected {name} to only contain Tensors, got {type(x)}"
                )
        if tuple(t.shape) != tuple(p.shape):
            raise RuntimeError(
                "Trying to set a forward gradient that has a different size than that of the "
                f"original Tensor, this is not supported. Tensor is of size {list(p.shape)} "
                f"while the given forward gradient is of size {list(t.shape)}."
            )
    return [_prepare(p) for p in primals], t_leaves


def _linear_in_u(func, prepared, has_aux):
    """Runs func on the prepared primals: (outs, their spec, aux, the dummy cotangents u,
    u^T J for each primal leaf, recorded so that it can be differentiated in u)."""
    args = [_unflatten(spec, leaves) for leaves, spec in prepared]
    leaves = [t for p in prepared for t in p[0]]
    with enable_grad():
        out = func(*args)
        aux = None
        if has_aux:
            if not (isinstance(out, tuple) and len(out) == 2):
                raise RuntimeError(
                    "jvp(f, primals, tangents): output of function f should be a tuple: "
                    "(output, aux) if has_aux is True"
                )
            out, aux = out
        outs, out_spec = _flatten(out)
        for o in outs:
            if not isinstance(o, Tensor):
                raise RuntimeError(  # noqa: TRY004 (torch's exception type)
                    "jvp(f, primals, tangents): expected f(*primals) to return only tensors, "
                    f"got unsupported type {type(o)}"
                )
        us = [_new.zeros_like(o).requires_grad_() for o in outs]
        ut_j = grads_or_zeros(outs, leaves, us, True)
    return outs, out_spec, aux, us, ut_j, leaves


def _jvp_values(outs, us, ut_j, tangents, inner):
    record = any(t.requires_grad for t in tangents) or _reaches_outside(outs, inner)
    with enable_grad():
        jv = grads_or_zeros(ut_j, us, tangents, record)
    return _settle(list(jv), inner)


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """(func(*primals), the Jacobian of func at primals times ``tangents``), or with
    ``has_aux`` (output, jvp, aux). ``tangents`` has the structure and shapes of ``primals``."""
    prepared, tans = _tangent_pairs(primals, tangents)
    outs, out_spec, aux, us, ut_j, leaves = _linear_in_u(func, prepared, has_aux)
    inner = leaves + us
    jv = _jvp_values(outs, us, ut_j, tans, inner)
    shown = _unflatten(out_spec, _settle(outs, leaves))
    result = (shown, _unflatten(out_spec, jv))
    if not has_aux:
        return result
    aux_leaves, aux_spec = _flatten(aux)
    return (*result, _unflatten(aux_spec, _settle(aux_leaves, leaves)))


def linearize(func, *primals):
    """(func(*primals), jvp_fn): ``jvp_fn(*tangents)`` is the Jacobian at primals times the
    tangents, as often as needed, from the one recorded evaluation of func."""
    prepared = [_prepare(p) for p in primals]
    outs, out_spec, _, us, ut_j, leaves = _linear_in_u(func, prepared, False)
    p_spec = _flatten(tuple(primals))[1]

    def jvp_fn(*tangents):
        t_leaves, t_spec = _flatten(tuple(tangents))
        if t_spec != p_spec:
            raise RuntimeError(
                f"Expected the tangents ({len(tangents)} arguments) to have the same argspec "
                f"as the primals ({len(primals)} arguments)"
            )
        for p, t in zip(leaves, t_leaves):
            if not isinstance(t, Tensor) or tuple(t.shape) != tuple(p.shape):
                got = tuple(t.shape) if isinstance(t, Tensor) else type(t).__name__
                raise RuntimeError(
                    f"linearize: expected a tangent of shape {tuple(p.shape)}, got {got}"
                )
        return _unflatten(out_spec, _jvp_values(outs, us, ut_j, t_leaves, leaves + us))

    return _unflatten(out_spec, _settle(outs, leaves)), jvp_fn


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """The Jacobian of ``func``, as jacrev computes it (fastnn has no forward mode; the values
    are the same)."""
    return jacrev(func, argnums, has_aux=has_aux)


def hessian(func, argnums=0):
    """The Hessian of a scalar ``func``: the Jacobian of its gradient."""
    return jacrev(jacrev(func, argnums), argnums)


# ---- vmap --------------------------------------------------------------------------------------


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """``func`` mapped over a batch dimension: ``in_dims`` says which dimension of each
    argument is the batch (None: the argument is shared), ``out_dims`` where the batch goes in
    each output. fastnn calls ``func`` once per batch entry and stacks the results (torch runs
    it once on the whole batch; the values are the same)."""

    def wrapper(*args, **kwargs):
        dims = in_dims if isinstance(in_dims, (tuple, list)) else (in_dims,) * len(args)
        if len(dims) != len(args):
            raise ValueError(
                f"vmap: in_dims has {len(dims)} entries for {len(args)} positional arguments"
            )
        flat_args = [_flatten(a) for a in args]
        size = None
        for (leaves, _), d in zip(flat_args, dims):
            if d is None:
                continue
            for t in leaves:
                if not isinstance(t, Tensor):
                    continue
                n = t.shape[d]
                if size is not None and n != size:
                    raise ValueError(
                        f"vmap: Expected all tensors to have the same size in the mapped "
                        f"dimension, got sizes {size} and {n}"
                    )
                size = n
        if size is None:
            raise ValueError("vmap: at least one argument must be mapped over (in_dims not None)")
        results = []
        for b in range(size):
            call = []
            for (leaves, spec), d in zip(flat_args, dims):
                if d is None:
                    call.append(_unflatten(spec, leaves))
                else:
                    call.append(
                        _unflatten(
                            spec, [t.select(d, b) if isinstance(t, Tensor) else t for t in leaves]
                        )
                    )
            results.append(_flatten(func(*call, **kwargs)))
        spec = results[0][1]
        n_out = len(results[0][0])
        odims = out_dims if isinstance(out_dims, (tuple, list)) else (out_dims,) * n_out
        stacked = [
            _fn.stack([_as_tensor(r[0][k]) for r in results], dim=odims[k]) for k in range(n_out)
        ]
        return _unflatten(spec, stacked)

    return wrapper


def _as_tensor(x):
    return x if isinstance(x, Tensor) else _new.tensor(x)


def stack_module_state(models):
    """(params, buffers): each name's tensors from every model stacked along a new first
    dimension (ensembles for vmap over functional_call); the stacked parameters require grad."""
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    names = [n for n, _ in models[0].named_parameters()]
    params = {
        n: _fn.stack([dict(m.named_parameters())[n].detach() for m in models]).requires_grad_()
        for n in names
    }
    bnames = [n for n, _ in models[0].named_buffers()]
    buffers = {n: _fn.stack([dict(m.named_buffers())[n] for m in models]) for n in bnames}
    return params, buffers


__all__ = [
    "functional_call",
    "grad",
    "grad_and_value",
    "hessian",
    "jacfwd",
    "jacrev",
    "jvp",
    "linearize",
    "stack_module_state",
    "vjp",
    "vmap",
]
