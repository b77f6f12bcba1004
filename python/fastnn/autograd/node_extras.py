"""What a graph node may carry beyond its backward: saved arrays packed by the saved-tensor
hooks of ``autograd.graph.saved_tensors_hooks``, hooks on the node itself (``register_hook``,
``register_prehook``) and its ``metadata`` dict.

A node that has any of these is moved, once, to a twin subclass of its own class (same name,
so ``name()`` and error messages do not change) whose ``backward`` unpacks the saved arrays,
runs the pre-hooks, the class's backward and the hooks. Nodes without extras (all of them in a
program that does not use these features) keep their class, and neither ``Function.apply`` nor
the engine pays anything for them beyond ``apply``'s one test of ``function.saved_hooks``.

What goes through the saved-tensor hooks: every storage array a primitive keeps as an
attribute of its node after ``forward`` (an input's array is handed to pack as that input
tensor, the output's as the output tensor, any other as a new tensor), and every tensor a
custom Function saves with ``ctx.save_for_backward``. Arrays kept inside lists or tuples, and
numbers, are not packed. The node still holds its input tensors as its edges (the engine needs
their histories), so packing an input moves no memory; the output and the intermediates it
saves are released.
"""

from contextlib import contextmanager

import numpy as np

from .. import _devices
from .grad_mode import state as _grad_state
from .hooks import RemovableHandle

_PACK_IN_PLACE = (
    "A saved tensor pack hook is modifying its input in place: tensors handed to a pack hook "
    "must not be changed by in-place operations."
)


class Extras:
    """A node's extras: the packed saved arrays ({attribute: packed value}), the unpack hook
    and the Tensor class to make unpacked values from, node hooks, metadata."""

    __slots__ = ("depth", "hooks", "metadata", "packed", "prehooks", "tensor_cls", "unpack")

    def __init__(self):
        self.packed = None
        self.unpack = None
        self.tensor_cls = None
        self.prehooks = None
        self.hooks = None
        self.metadata = None
        self.depth = 0  # > 0 while the packed arrays are unpacked onto the node


_twins = {}


def of(node, create=True):
    """The node's Extras (made, and the node moved to its twin class, when ``create``)."""
    ex = node.__dict__.get("_extras")
    if ex is None and create:
        cls = node.__class__
        if not cls.__dict__.get("_has_extras", False):
            twin = _twins.get(cls)
            if twin is None:
                twin = _twins[cls] = type(
                    cls.__name__,
                    (cls,),
                    {
                        "_has_extras": True,
                        "backward": _backward,
                        "__module__": cls.__module__,
                        "__qualname__": cls.__qualname__,
                        "__doc__": cls.__doc__,
                    },
                )
            node.__class__ = twin
        ex = node._extras = Extras()
    return ex


def _backward(self, g):
    """The twin's backward: the class's own, between the node's extras."""
    base = type(self).__mro__[1].backward
    ex = self.__dict__.get("_extras")
    if ex is None:
        return base(self, g)
    if ex.prehooks:
        g = _run_prehooks(ex, g)
    with unpacked(self):
        gs = base(self, g)
    if ex.hooks:
        gs = _run_hooks(ex, gs, g)
    return gs


@contextmanager
def unpacked(node):
    """The node's packed arrays, unpacked onto it for the duration (each through the unpack
    hook, once per entry: torch calls it each time a backward reads the saved tensor); taken
    off again afterwards so the node keeps only what pack returned."""
    ex = node.__dict__.get("_extras")
    if ex is None or not ex.packed or ex.depth:
        yield
        return
    d = node.__dict__
    for k, p in ex.packed.items():
        r = ex.unpack(p)
        if not isinstance(r, ex.tensor_cls):
            raise TypeError(
                f"saved_tensors_hooks: the unpack hook must return a Tensor, got {type(r).__name__}"
            )
        d[k] = r._data
    ex.depth += 1
    try:
        yield
    finally:
        ex.depth -= 1
        for k in ex.packed:
            d.pop(k, None)


def call_pack(pack, t):
    """``pack(t)`` with grad mode off (ops inside the hook are not recorded, as in torch), and
    refused if it changed ``t`` in place."""
    before = t._vc[0]
    prev = _grad_state.enabled
    _grad_state.enabled = False
    try:
        p = pack(t)
    finally:
        _grad_state.enabled = prev
    if t._vc[0] != before:
        raise RuntimeError(_PACK_IN_PLACE)
    return p


def pack_node(node, hooks, parents, out):
    """Pass each storage array ``node`` saved in forward through ``hooks`` (pack, unpack); the
    node keeps what pack returns instead. ``parents`` are its inputs, ``out`` its output."""
    pack, unpack = hooks
    make = out.__class__._make
    by_id = {id(p._data): p for p in parents}
    by_id[id(out._data)] = out
    zero_d = out._data.ndim == 0
    packed = {}
    for k, v in list(node.__dict__.items()):
        if k == "_extras":
            continue
        if isinstance(v, np.generic):
            # a 0-d output comes back from numpy as a scalar, which apply wrapped in an array
            # for the output tensor: this attribute is the output (graph_ops matches it so too)
            if not (zero_d and v.__class__ is out._data.dtype.type and v == out._data):
                continue
            t = out
        elif _devices.is_array(v):
            t = by_id.get(id(v))
            if t is None:
                t = make(v, False, None)
        else:
            continue
        packed[k] = call_pack(pack, t)
    if not packed:
        return
    ex = of(node)
    ex.packed, ex.unpack, ex.tensor_cls = packed, unpack, out.__class__
    for k in packed:
        del node.__dict__[k]


# ---- hooks on the node -------------------------------------------------------------------------


def add_hook(node, fn, pre, tensor_cls):
    if not callable(fn):
        kind = "register_prehook" if pre else "register_hook"
        raise TypeError(f"{kind}: hook must be callable, got {type(fn).__name__}")
    ex = of(node)
    ex.tensor_cls = ex.tensor_cls or tensor_cls
    attr = "prehooks" if pre else "hooks"
    d = getattr(ex, attr)
    if d is None:
        d = {}
        setattr(ex, attr, d)
    handle = RemovableHandle(d)
    d[handle.id] = fn
    return handle


def _as_tensor(ex, a):
    if a is None or isinstance(a, ex.tensor_cls):
        return a
    return ex.tensor_cls._make(np.asarray(a) if isinstance(a, np.generic) else a, False, None)


def _like(ex, new, arrays):
    """A hook's result in the form the engine passes gradients (arrays, or Tensors in a
    recorded backward)."""
    if new is None or not arrays:
        return new
    if not isinstance(new, ex.tensor_cls):
        raise TypeError(f"a node hook must return Tensors or None, got {type(new).__name__}")
    return new._data


def _checked(name, new, n):
    if not isinstance(new, (tuple, list)):
        raise TypeError(f"{name} must return None or a tuple of gradients, got {type(new)}")
    if len(new) != n:
        raise RuntimeError(f"{name} returned {len(new)} gradients, expected {n}")
    return tuple(new)


def _run_prehooks(ex, g):
    outs = (_as_tensor(ex, g),)
    for fn in tuple(ex.prehooks.values()):
        r = fn(outs)
        if r is not None:
            outs = _checked("a node pre-hook", r, 1)
    return _like(ex, outs[0], not isinstance(g, ex.tensor_cls))


def _run_hooks(ex, gs, g):
    single = gs.__class__ is not tuple
    raw = (gs,) if single else gs
    ins = tuple(_as_tensor(ex, a) for a in raw)
    outs = (_as_tensor(ex, g),)
    for fn in tuple(ex.hooks.values()):
        r = fn(ins, outs)
        if r is not None:
            ins = _checked("a node hook", r, len(raw))
    arrays = not isinstance(g, ex.tensor_cls)
    res = tuple(_like(ex, n, arrays) for n in ins)
    return res[0] if single else res
