"""In-place ops recorded on tensors that share storage with others: views and their bases.

A view (basic indexing, view/reshape, permute/transpose, expand, detach) shares its base's
storage and version counter ``_vc``; the counter's second slot marks the storage as shared
(``Tensor._view_of``). While grad is recorded, a view of a tensor that requires grad also keeps
``_view_link``: its base, and a function and its argument that make it again from that base;
and the storage's views are listed (weakly) in that second slot.

An in-place op recorded on such a tensor does what torch does:
- the new values are written into the shared storage, so the base and every view see them;
- the tensor takes the in-place op's history; if it is a view, its root base takes a
  ``CopySlices`` history (its old one outside the view's elements, the op's inside), and every
  other live view of the root is made again from the root's new history.
The op itself runs on a copy of the old values, so what it saves for backward stays exact. Ops
recorded before that saved a tensor of the family see the new version and raise at backward;
the others send their gradients to the history they saw (``function.remember_prior``).
A tensor that never shared its storage takes ``inplace.py``'s cheaper path instead.
"""

import numpy as np

from ..autograd import function as _function
from ..autograd.function import Function
from ..autograd.grad_mode import no_grad

_LEAF_VIEW_MSG = (
    "a view of a leaf Variable that requires grad is being used in an in-place operation."
)
OVERLAP_MSG = (
    "unsupported operation: more than one element of the written-to tensor refers to a single "
    "memory location. Please clone() the tensor before performing the operation."
)


def shares_storage(t):
    """Whether t's storage was ever shared with a view, so an in-place op must write into it
    (host arrays only: a device tensor keeps the path of a tensor without views)."""
    return len(t._vc) > 1 and t._data.__class__ is np.ndarray


def prune(views):
    """Drop the dead entries of a storage's view list (every 64 additions)."""
    views[:] = [r for r in views if r() is not None]


def unlink(t):
    """t's shape changed in place (``t_``, ``squeeze_``): it is no view any more, and views
    taken from it no longer follow from it."""
    views = t._vc[1] if len(t._vc) > 1 else None
    for r in views or ():
        v = r()
        if v is not None and getattr(v, "_view_link", (None,))[0] is t:
            del v._view_link
    if getattr(t, "_view_link", None) is not None:
        del t._view_link


def root_of(t):
    """(root, remake) with ``remake(root)`` making t again, or None when t is not a view of a
    tensor it shares storage with (a reshape that had to copy, a view of a device array)."""
    link = getattr(t, "_view_link", None)
    if link is None:
        return None
    base, make, arg = link
    up = root_of(base)
    if up is None:
        remake = _bind(make, arg)
    else:
        base, first = up
        remake = _compose(first, make, arg)
    a = t._data
    if a.__class__ is not np.ndarray or not np.may_share_memory(a, base._data):
        return None
    return base, remake


def _bind(make, arg):
    return lambda b: make(b, arg)


def _compose(first, make, arg):
    return lambda b: make(first(b), arg)


def record(t, op, result_like):
    """Record ``t <- op(t)`` through the shared storage (see the module docstring).
    ``result_like(t, r)`` checks op's result r against t and casts it to t's dtype."""
    up = root_of(t)
    root = t if up is None else up[0]
    if up is not None and root.requires_grad and root._ctx is None:
        raise RuntimeError(_LEAF_VIEW_MSG)
    # a part of a complex tensor (real, imag, view_as_real / view_as_complex) has another dtype
    # than its root: no flat positions map it, so only the part taken directly is followed
    part = up is not None and t._data.dtype != root._data.dtype
    if part and t._view_link[0] is not root:
        raise RuntimeError(
            "an in-place operation on a view of a part of a complex tensor (such as "
            "z[0].real or z.real[0]) is not supported while recording gradients; write into "
            "z.real or z.imag themselves, or build a new tensor with torch.complex"
        )
    d = t._data
    if d.__class__ is np.ndarray and not d.flags.writeable:
        raise RuntimeError(OVERLAP_MSG)
    version = t._vc[0]
    old = stand_in(t, d.copy(), version)
    r = result_like(t, op(old))
    old_root = stand_in(root, root._data, version) if up is not None else None
    t._backend().copyto(d, r._data)
    t._vc[0] += 1
    t._ctx, t.requires_grad = r._ctx, r.requires_grad
    if r._ctx is not None:
        _function.remember_prior(t, old)
    if part:
        new = CopyPart.apply(old_root, t, which=t._view_link[2])
    elif up is not None:
        new = CopySlices.apply(old_root, t, index=_flat_index(root, up[1]))  # t: r's history
    if up is not None:
        root._ctx, root.requires_grad = new._ctx, True
        _function.remember_prior(root, old_root)
        # The old history's last node may read the root's storage in backward (exp's output),
        # and the write above changed it: the stand-in follows the shared version from here on,
        # so such a node raises torch's "modified by an inplace operation" error rather than
        # computing with the new values (it was filed under its old version above).
        old_root._vc = root._vc
    _remake_views(root, t, version)
    return t


def stand_in(t, data, version):
    """A stand-in for t as it was at ``version``: its history, on ``data``."""
    old = t._make(data, t.requires_grad, t._ctx)
    old._vc = [version]
    return old


def _remake_views(root, changed, version):
    """Every live view of ``root`` but ``changed`` takes its history again from root's new one;
    the ops recorded on it before keep the old one."""
    views = root._vc[1]
    for r in list(views or ()):
        v = r()
        if v is None or v is changed:
            continue
        up = root_of(v)
        if up is None or up[0] is not root:
            continue
        old = stand_in(v, v._data, version)
        fresh = up[1](root)
        v._ctx, v.requires_grad = fresh._ctx, fresh.requires_grad
        if v._ctx is not None:
            v._ctx.prior = old  # nothing else holds it: the new history keeps the old alive
            _function.remember_prior(v, old)


def _flat_index(root, remake):
    """The flat positions in ``root`` of the view ``remake`` makes, in the view's shape."""
    shape = root._data.shape
    probe = _function.Tensor._make(np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape))
    with no_grad():
        return np.ascontiguousarray(remake(probe)._data)


class CopySlices(Function):
    """The root after an in-place op on one of its views: ``base`` everywhere but the view's
    elements (``index``, flat positions), which hold ``src``. The storage was already written;
    forward only hands it over."""

    def forward(self, base, src, index=None):
        self.index = index
        return base

    def backward(self, g):
        be, n = self.be, self.needs_input_grad
        flat = be.reshape(be.copy(g), (-1,))
        gsrc = be.getitem(flat, self.index) if n[1] else None
        gbase = None
        if n[0]:
            be.setitem(flat, self.index, 0)
            gbase = be.reshape(flat, g.shape)
        return gbase, gsrc

    def name(self):
        return "CopySlices"


class CopyPart(Function):
    """The complex root after an in-place op on its real or imaginary part (or the real root
    after one on its complex view, and the reverse): ``src`` is the part written, ``base`` the
    root before. What the write left of ``base`` keeps its gradient (the other part); the part
    gets the matching share of the root's gradient."""

    def forward(self, base, src, which=None):
        self.which = which
        return base

    def backward(self, g):
        w, n = self.which, self.needs_input_grad
        if w == "real":
            gbase, gsrc = 1j * g.imag, g.real
        elif w == "imag":
            gbase, gsrc = g.real.astype(g.dtype), g.imag
        elif w == "as_real":  # every element written: nothing of base is left
            gbase, gsrc = np.zeros_like(g), _pairs(g)
        else:
            gbase, gsrc = np.zeros_like(g), _complex_of_pairs(np.ascontiguousarray(g))
        return (
            np.ascontiguousarray(gbase, g.dtype) if n[0] else None,
            np.ascontiguousarray(gsrc) if n[1] else None,
        )

    def name(self):
        return "CopySlices"


def _pairs(z):
    """A complex array as its (..., 2) array of parts."""
    return np.stack([z.real, z.imag], axis=-1)


def _complex_of_pairs(a):
    return a[..., 0] + 1j * a[..., 1]
