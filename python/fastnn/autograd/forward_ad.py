"""``fastnn.autograd.forward_ad``: torch's forward-mode AD API, computed by reverse mode.

fastnn has no forward mode. Inside a ``dual_level``, ``make_dual(x, t)`` returns a tensor that
records a graph from x (a fresh leaf that requires grad, or, where x itself requires grad, a
node on x so that reverse mode still reaches it), remembered with its tangent ``t`` in the
level. ``unpack_dual(y)`` then gives y's tangent, the Jacobian-vector product summed over every
dual y depends on, by reverse mode twice (as ``fastnn.func.jvp``): for a dummy cotangent u,
g(u) = u^T J is linear in u, so the gradient of <g(u), t> in u is J t. Each ``unpack_dual``
costs two backward passes; the ops on the way must have a recorded backward (as for any second
derivative). The results are torch's: the values, ``None`` for a tensor that depends on no
dual, the tangents gone once the level is exited.

What differs: code inside the level must run with grad mode on (the graph is the record), and
a dual made from a tensor that does not require grad reports ``requires_grad=True``.
"""

from collections import namedtuple
from weakref import ref as _weakref

from . import function
from .engine import grad as _grad
from .grad_mode import enable_grad
from .graph_ops import Alias

__all__ = [
    "UnpackedDualTensor",
    "dual_level",
    "enter_dual_level",
    "exit_dual_level",
    "make_dual",
    "unpack_dual",
]

UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])

# The level in force (torch allows one at a time): its number and id(dual) -> (weak reference to
# the dual, its tangent, the tensor it was made from).
_level = [None, None]


def enter_dual_level():
    """Open a new level (the only one: nesting is refused, as in torch); returns its number."""
    if _level[0] is not None:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _level[0], _level[1] = 0, {}
    return 0


def exit_dual_level(*, level=None):
    """Close the level: every tangent made in it is forgotten."""
    if _level[0] is None:
        raise RuntimeError("exit_dual_level: no forward AD level is active")
    if level is not None and level != _level[0]:
        raise RuntimeError(
            "Trying to exit a forward AD level that was not the last one that was created. "
            "This is not supported."
        )
    _level[0], _level[1] = None, None


class dual_level:  # torch's name
    """Context manager: the level in which dual tensors live; ``as`` gives its number."""

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *exc):
        exit_dual_level()
        return False


def active():
    """Whether a dual level is open."""
    return _level[0] is not None


def _check_level(level, fn):
    if _level[0] is None:
        raise RuntimeError(
            f"{fn}: no forward AD level is active; make dual tensors inside "
            "`with fastnn.autograd.forward_ad.dual_level():`"
        )
    if level is not None and level != _level[0]:
        raise RuntimeError(f"{fn}: invalid level {level} (the active level is {_level[0]})")


def _entry(t):
    duals = _level[1]
    if not duals:
        return None
    e = duals.get(id(t))
    return e if e is not None and e[0]() is t else None


def make_dual(tensor, tangent, *, level=None):
    """``tensor`` with forward gradient ``tangent`` (same shape, floating point)."""
    Tensor = function.Tensor
    for name, t in (("tensor", tensor), ("tangent", tangent)):
        if not isinstance(t, Tensor):
            raise TypeError(f"make_dual: {name} must be a Tensor, got {type(t).__name__}")
    _check_level(level, "make_dual")
    for name, t in (("primal", tensor), ("tangent", tangent)):
        if not t.is_floating_point():
            raise ValueError(f"Expected {name} to be floating point or complex, but got: {t.dtype}")
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the "
            f"original Tensor, this is not supported. Tensor is of size {list(tensor.shape)} "
            f"while the given forward gradient is of size {list(tangent.shape)}."
        )
    if _entry(tensor) is not None:
        raise RuntimeError(
            "Making a dual Tensor based on a Tensor that already has a forward gradient at the "
            f"same level {_level[0]} is not supported."
        )
    with enable_grad():
        dual = Alias.apply(tensor) if tensor.requires_grad else tensor.detach().requires_grad_()
    key = id(dual)
    duals = _level[1]

    def forget(_, key=key, duals=duals):
        duals.pop(key, None)

    duals[key] = (_weakref(dual, forget), tangent, tensor)
    return dual


def unpack_dual(tensor, *, level=None):
    """(primal, tangent) of ``tensor``: tangent is None where it depends on no dual of the
    level (or no level is active)."""
    if not isinstance(tensor, function.Tensor):
        raise TypeError(f"unpack_dual: expected a Tensor, got {type(tensor).__name__}")
    if _level[0] is None:
        return UnpackedDualTensor(tensor, None)
    if level is not None and level != _level[0]:
        raise RuntimeError(f"unpack_dual: invalid level {level} (the active level is {_level[0]})")
    e = _entry(tensor)
    if e is not None:
        original = e[2]
        return UnpackedDualTensor(original if original.requires_grad else tensor.detach(), e[1])
    live = [(e[0](), e[1], e[2]) for e in list(_level[1].values())]
    live = [e for e in live if e[0] is not None]
    keeps_history = any(e[2].requires_grad for e in live)
    primal = tensor if keeps_history else tensor.detach()
    if not live or not tensor.requires_grad or not tensor.is_floating_point():
        return UnpackedDualTensor(primal, None)
    return UnpackedDualTensor(primal, _jvp(tensor, live))


def _jvp(y, live):
    """J t of y over the live duals (dual, tangent, original), by the double vjp; None where y
    depends on none of them."""
    Tensor = function.Tensor
    be = y._backend()
    duals = [d for d, _, _ in live]
    with enable_grad():
        u = Tensor._make(be.zeros(y._data.shape, y._data.dtype), False, None).requires_grad_()
        ut_j = _grad(y, duals, u, retain_graph=True, create_graph=True, allow_unused=True)
        used = [(g, t.to(d.dtype)) for g, (d, t, _) in zip(ut_j, live) if g is not None]
        if not used:
            return None
        linear = [(g, t) for g, t in used if g.requires_grad]
        if not linear:  # y depends on the duals, through ops whose gradient is constant in u
            return Tensor._make(be.zeros(y._data.shape, y._data.dtype), False, None)
        (jv,) = _grad(
            [g for g, _ in linear],
            [u],
            [t for _, t in linear],
            retain_graph=False,
            allow_unused=True,
            materialize_grads=True,
        )
    return jv.detach()
