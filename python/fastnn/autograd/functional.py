"""Derivatives of whole functions, as torch.autograd.functional: ``jacobian``, ``hessian``,
``vjp``, ``jvp``, ``hvp`` and ``vhp``, on the engine's ``grad`` (second derivatives through
``create_graph=True``).

``func`` takes Tensors and returns a Tensor or a tuple of them; ``inputs`` is a Tensor or a
tuple. Results follow torch's nesting: a Tensor where ``func`` and ``inputs`` are single, a
tuple over whichever of them is a tuple (outputs outer, inputs inner). The inputs are detached
copies that require grad, so nothing reaches the caller's graph or ``.grad`` unless
``create_graph=True``, which also keeps the results differentiable.
"""

from .._tensor import creation as _new
from .._tensor import functions as _fn
from . import function
from .engine import grad as _grad
from .grad_mode import enable_grad


def _as_tuple(x, what, fn_name):
    Tensor = function.Tensor
    if isinstance(x, Tensor):
        return False, (x,)
    if isinstance(x, (tuple, list)) and all(isinstance(t, Tensor) for t in x):
        return True, tuple(x)
    raise TypeError(
        f"The {what} given to {fn_name} must be either a Tensor or a tuple of Tensors but the "
        f"value given has type {type(x).__name__}."
    )


def _prepare(inputs, create_graph):
    """Inputs the function is differentiated at: linked to the caller's graph under
    create_graph (a view keeps the history), else detached leaves."""
    out = []
    for t in inputs:
        if create_graph and t.requires_grad:
            out.append(t.view_as(t))
        else:
            out.append(t.detach().requires_grad_(t.dtype.is_floating_point))
    return tuple(out)


def _finish(values, create_graph):
    """Results as the caller receives them: detached unless create_graph."""
    return tuple(v if create_graph or v is None else v.detach() for v in values)


def _unpack(is_tuple, values):
    return values if is_tuple else values[0]


def grads_or_zeros(
    outputs, inputs, grad_outputs, create_graph, strict=False, fn_name="", retain_graph=True
):
    """d outputs / d inputs weighted by grad_outputs (outputs that need no gradient are left
    out); zeros (or, when strict, an error) for an input the outputs do not depend on. Also the
    derivative step of fastnn.func's transforms."""
    live = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if live:
        gs = _grad(
            [o for o, _ in live],
            inputs,
            [g for _, g in live],
            retain_graph=retain_graph,
            create_graph=create_graph,
            allow_unused=True,
        )
    else:
        gs = (None,) * len(inputs)
    result = []
    for i, (g, x) in enumerate(zip(gs, inputs)):
        if g is None:
            if strict:
                raise RuntimeError(
                    f"The output of the user-provided function is independent of input {i}. "
                    f"This is not allowed in strict mode ({fn_name})."
                )
            g = _new.zeros_like(x)
        result.append(g)
    return tuple(result)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the product of a vector of the outputs' shape with the Jacobian.
    ``v`` may be omitted when func returns a single one-element Tensor."""
    with enable_grad():
        in_tuple, ins = _as_tuple(inputs, "inputs", "vjp")
        ins = _prepare(ins, create_graph)
        out_tuple, outs = _as_tuple(func(*ins), "outputs of the user-provided function", "vjp")
        vs = _vectors(v, outs, "vjp")
        res = grads_or_zeros(outs, ins, vs, create_graph, strict, "vjp")
    return _unpack(out_tuple, _finish(outs, create_graph)), _unpack(
        in_tuple, _finish(res, create_graph)
    )


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the Jacobian times a vector of the inputs' shape, by the double
    vjp: J v = d/du (u^T J) v for a dummy u of the outputs' shape (u^T J is linear in u)."""
    with enable_grad():
        _, ins = _as_tuple(inputs, "inputs", "jvp")
        ins = _prepare(ins, create_graph)
        vs = _vectors(v, ins, "jvp", inputs_side=True)
        out_tuple, outs = _as_tuple(func(*ins), "outputs of the user-provided function", "jvp")
        us = tuple(_new.zeros_like(o).requires_grad_(True) for o in outs)
        gi = grads_or_zeros(outs, ins, us, True, strict, "jvp")
        res = grads_or_zeros(gi, us, vs, create_graph, False, "jvp")
    return _unpack(out_tuple, _finish(outs, create_graph)), _unpack(
        out_tuple, _finish(res, create_graph)
    )


def jacobian(
    func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"
):
    """The Jacobian of ``func`` at ``inputs``: for output i and input j a Tensor of shape
    out_i.shape + in_j.shape, one reverse pass per output element (``vectorize`` and
    ``strategy`` are accepted; the passes are the same)."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(
            'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
            'function has more outputs than inputs, "forward-mode" tends to be more performant. '
            'Otherwise, prefer to use "reverse-mode".'
        )
    with enable_grad():
        in_tuple, ins = _as_tuple(inputs, "inputs", "jacobian")
        ins = _prepare(ins, create_graph)
        out_tuple, outs = _as_tuple(func(*ins), "outputs of the user-provided function", "jacobian")
        jac = [jacobian_rows(out, ins, create_graph, strict, "jacobian") for out in outs]
    jac = tuple(_finish(row, create_graph) for row in jac)
    if not out_tuple:
        return _unpack(in_tuple, jac[0])
    return tuple(_unpack(in_tuple, row) for row in jac)


def jacobian_rows(out, inputs, create_graph, strict=False, fn_name=""):
    """d out / d inputs, one reverse pass per element of ``out``: for each input a Tensor of
    shape out.shape + input.shape (also fastnn.func.jacrev's)."""
    flat = out.reshape(-1)
    rows = [[] for _ in inputs]
    for k in range(flat.numel()):
        one = _new.zeros_like(flat)
        one[k] = 1.0
        for j, g in enumerate(
            grads_or_zeros((flat,), inputs, (one,), create_graph, strict, fn_name)
        ):
            rows[j].append(g)
    return tuple(
        _fn.stack(r).reshape(*out.shape, *x.shape)
        if r
        else _new.zeros(*out.shape, *x.shape, dtype=x.dtype)
        for r, x in zip(rows, inputs)
    )


def hessian(
    func,
    inputs,
    create_graph=False,
    strict=False,
    vectorize=False,
    outer_jacobian_strategy="reverse-mode",
):
    """The Hessian of a scalar ``func``: the Jacobian of its gradient; for inputs i and j a
    Tensor of shape in_i.shape + in_j.shape."""
    in_tuple, ins = _as_tuple(inputs, "inputs", "hessian")

    def scalar(*xs):
        out = func(*xs)
        if not isinstance(out, function.Tensor):
            raise RuntimeError(  # noqa: TRY004 (torch's type for this error)
                "The function given to hessian should return a single Tensor, got "
                f"{type(out).__name__}"
            )
        if out.numel() != 1:
            raise RuntimeError(
                "The Tensor returned by the function given to hessian should contain a single "
                f"element, got shape {tuple(out.shape)}"
            )
        return out.reshape(())

    def gradient(*xs):
        return jacobian(scalar, xs, create_graph=True, strict=strict)

    res = jacobian(
        gradient, ins, create_graph=create_graph, strict=strict, strategy=outer_jacobian_strategy
    )
    return res if in_tuple else res[0][0]


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H) for a scalar func: the gradient's vjp."""
    return _hessian_product(func, inputs, v, create_graph, strict, "vhp")


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v) for a scalar func (H is symmetric: the same product as vhp)."""
    return _hessian_product(func, inputs, v, create_graph, strict, "hvp")


def _hessian_product(func, inputs, v, create_graph, strict, fn_name):
    with enable_grad():
        in_tuple, ins = _as_tuple(inputs, "inputs", fn_name)
        ins = _prepare(ins, create_graph)
        vs = _vectors(v, ins, fn_name, inputs_side=True)
        out = func(*ins)
        if not isinstance(out, function.Tensor) or out.numel() != 1:
            raise RuntimeError(
                f"The function given to {fn_name} should return a single Tensor with a single "
                "element"
            )
        out = out.reshape(())
        g = grads_or_zeros((out,), ins, (None,), True, strict, fn_name)
        res = grads_or_zeros(g, ins, vs, create_graph, strict, fn_name)
    return _finish((out,), create_graph)[0], _unpack(in_tuple, _finish(res, create_graph))


def _vectors(v, like, fn_name, inputs_side=False):
    """``v`` as a tuple matching ``like`` in count and shapes (None: ones, for a single
    one-element tensor)."""
    side = "inputs" if inputs_side else "outputs"
    if v is None:
        if len(like) == 1 and like[0].numel() == 1:
            return (_new.ones_like(like[0]),)
        raise RuntimeError(
            f"The vector v can only be None if the user-provided function returns a single "
            f"Tensor with a single element ({fn_name}); it needs one per {side[:-1]}"
        )
    _, vs = _as_tuple(v, "v", fn_name)
    if len(vs) != len(like):
        raise RuntimeError(
            f"v is a tuple of invalid length: should be {len(like)} but got {len(vs)}."
        )
    for i, (w, t) in enumerate(zip(vs, like)):
        if tuple(w.shape) != tuple(t.shape):
            raise RuntimeError(
                f"Entry {i} in v has invalid size: should be {tuple(t.shape)} but got "
                f"{tuple(w.shape)}."
            )
    return vs


__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]
