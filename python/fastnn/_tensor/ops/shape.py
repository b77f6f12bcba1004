"""Shape primitives: reshape, permute, expand, indexing, concatenation, dtype casts."""

import warnings

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ...autograd.function import Function
from ...cuda import pinned as _pinned


class Reshape(Function):
    double_backward = True
    torch_name = "View"  # torch's view / reshape / flatten of a contiguous tensor

    def forward(self, x, shape=None):
        self.shape = x.shape
        return self.be.reshape(x, shape)

    def backward(self, g):
        return self.be.reshape(g, self.shape)


class Permute(Function):
    double_backward = True

    def forward(self, x, dims=None):
        self.dims = dims
        return self.be.permute(x, dims)

    def backward(self, g):
        inv = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inv[d] = i
        return self.be.permute(g, tuple(inv))


class Expand(Function):
    double_backward = True

    def forward(self, x, shape=None):
        self.shape = x.shape
        return self.be.broadcast_to(x, shape)

    def backward(self, g):
        return self.be.sum_to_shape(g, self.shape)


class GetItem(Function):
    """x[index]; ``advanced`` when the index holds arrays (repeats then accumulate)."""

    double_backward = True
    graph_constants = ("index",)  # an advanced index's arrays

    def forward(self, x, index=None, advanced=False):
        self.shape, self.index, self.advanced = x.shape, index, advanced
        self.torch_name = _indexing_step(index, advanced)  # (kept when backward frees the index)
        return self.be.getitem(x, index)

    def backward(self, g):
        return self.be.getitem_backward(g, self.shape, self.index, self.advanced)


def _indexing_step(index, advanced):
    """The name of torch's node for x[index]: torch applies a basic index item by item, so the
    last item that does something names it (an int selects, a slice other than ``:`` slices,
    None unsqueezes); a lone slice always slices, an index that does nothing aliases, and one
    with arrays gathers."""
    if advanced:
        return "Index"
    if not isinstance(index, tuple):
        if isinstance(index, slice):
            return "Slice"
        index = (index,)
    step = "Alias"
    for item in index:
        if item is None:
            step = "Unsqueeze"
        elif isinstance(item, slice):
            if item != slice(None):
                step = "Slice"
        elif isinstance(item, bool):
            step = "Index"  # a bool adds a dimension and masks it, an advanced index in torch
        elif item is not Ellipsis:
            step = "Select"
    return step


class SetItem(Function):
    """out = x.copy(); out[index] = v (the out-of-place form behind ``x[index] = v`` with grad)."""

    double_backward = True
    graph_constants = ("index",)  # an advanced index's arrays

    def forward(self, x, v, index=None):
        self.index, self.sv = index, v.shape
        out = self.be.copy(x)
        self.be.setitem(out, index, v)
        return out

    def backward(self, g):
        be, n = self.be, self.needs_input_grad
        gx = gv = None
        if n[0]:
            gx = be.copy(g)
            be.setitem(gx, self.index, 0)
        if n[1]:
            gv = be.sum_to_shape(be.getitem(g, self.index), self.sv)
        return gx, gv


class Fill(Function):
    """Every element ``value`` (a number; ``v``, when given, the 0-d tensor it came from):
    behind ``x.fill_(value)`` and ``x.zero_()`` while recording. x gets a zero gradient, v the
    sum of the gradient."""

    def forward(self, x, *v, value=0):
        out = self.be.copy(x)
        self.be.fill(out, value)
        return out

    def backward(self, g):
        n = self.needs_input_grad
        gx = self.be.full(g.shape, 0, g.dtype) if n[0] else None
        if len(n) == 1:
            return gx
        return gx, (self.be.sum_to_shape(g, ()) if n[1] else None)


class CopyFrom(Function):
    """``src`` broadcast to x's shape in x's dtype: behind ``x.copy_(src)`` while recording.
    x gets a zero gradient, src the gradient summed back to its shape, in its dtype."""

    def forward(self, x, src):
        self.src_shape, self.src_dtype = src.shape, src.dtype
        out = self.be.copy(x)
        self.be.copyto(out, src)
        return out

    def backward(self, g):
        be, n = self.be, self.needs_input_grad
        gx = be.full(g.shape, 0, g.dtype) if n[0] else None
        gs = None
        if n[1]:
            gs = be.sum_to_shape(g, self.src_shape)
            if gs.dtype != self.src_dtype:
                gs = be.astype(gs, self.src_dtype)
        return gx, gs


class Diagonal(Function):
    """The ``offset`` diagonal of the matrices spanned by axes d1 and d2, as the last axis: a
    strided view of a host array, as torch's diagonal is a view."""

    def forward(self, x, offset=0, d1=0, d2=1):
        self.shape, self.where = x.shape, (offset, d1, d2)
        return diagonal_view(x, offset, d1, d2)

    def backward(self, g):
        gx = np.zeros(self.shape, g.dtype)
        diagonal_view(gx, *self.where)[...] = g
        return gx

    def graph_forward(self, x):
        """For create_graph=True: the diagonal as an advanced index of x with d1 and d2 moved
        last, whose recorded gradient (a scatter into zeros) autograd differentiates again."""
        offset, d1, d2 = self.where
        rest = [i for i in range(x.ndim) if i not in (d1, d2)]
        n = diagonal_view(np.empty(self.shape, np.int8), offset, d1, d2).shape[-1]
        rows = np.arange(n) + max(-offset, 0)
        cols = np.arange(n) + max(offset, 0)
        return x.permute((*rest, d1, d2))[(Ellipsis, rows, cols)]


def diagonal_view(a, offset, d1, d2):
    """The view of a host array's diagonal: the other axes, then one whose stride steps along
    both d1 and d2 at once (from row -offset or column offset)."""
    start = [slice(None)] * a.ndim
    start[d2 if offset >= 0 else d1] = slice(abs(offset), None)
    b = a[tuple(start)]
    n = max(0, min(b.shape[d1], b.shape[d2]))
    rest = [i for i in range(a.ndim) if i not in (d1, d2)]
    shape = [b.shape[i] for i in rest] + [n]
    strides = [b.strides[i] for i in rest] + [b.strides[d1] + b.strides[d2]]
    return as_strided(b, shape, strides, writeable=b.flags.writeable)


class AsStrided(Function):
    """A view of x's storage (``storage``, the flat array that owns x's memory) with ``size``,
    ``stride`` and ``offset`` in elements. Backward sums the gradient into the storage's
    positions (a position the view repeats gets each share) and reads x's positions back."""

    def forward(self, x, storage=None, size=(), stride=(), offset=0):
        item = x.dtype.itemsize
        self.n, self.out_geometry = storage.size, (size, stride, offset)
        self.x_geometry = (
            x.shape,
            tuple(s // item for s in x.strides),
            (x.__array_interface__["data"][0] - storage.__array_interface__["data"][0]) // item,
        )
        view = as_strided(
            storage[offset:],
            size,
            [s * item for s in stride],
            writeable=storage.flags.writeable and not _overlaps(size, stride),
        )
        return view

    def backward(self, g):
        out_at = _positions(self.n, *self.out_geometry)
        summed = np.bincount(out_at.reshape(-1), weights=g.reshape(-1), minlength=self.n)
        return summed[_positions(self.n, *self.x_geometry)].astype(g.dtype)


def _positions(n, shape, stride, offset):
    """The storage positions of the elements of a view (shape, strides, offset in elements)."""
    flat = np.arange(n, dtype=np.int64)
    return as_strided(flat[offset:], shape, [s * 8 for s in stride], writeable=False)


def _overlaps(size, stride):
    """Whether two elements of the view can share a position: taken by increasing stride, each
    axis must step past everything the axes before it reach."""
    reach = 0
    for n, s in sorted(((n, s) for n, s in zip(size, stride) if n > 1), key=lambda p: p[1]):
        if s <= reach:
            return True
        reach += (n - 1) * s
    return False


class Cat(Function):
    double_backward = True

    def forward(self, *xs, axis=0):
        self.axis = axis
        self.sizes = [x.shape[axis] for x in xs]
        return self.be.concatenate(xs, axis)

    def backward(self, g):
        out, start, ax = [], 0, self.axis % g.ndim
        lead = (slice(None),) * ax
        for size, need in zip(self.sizes, self.needs_input_grad):
            out.append(self.be.getitem(g, (*lead, slice(start, start + size))) if need else None)
            start += size
        return tuple(out)


class Stack(Function):
    double_backward = True

    def forward(self, *xs, axis=0):
        self.axis = axis
        return self.be.stack(xs, axis)

    def backward(self, g):
        ax = self.axis % g.ndim
        lead = (slice(None),) * ax
        return tuple(
            self.be.getitem(g, (*lead, i)) if need else None
            for i, need in enumerate(self.needs_input_grad)
        )


class Cast(Function):
    double_backward = True
    torch_name = "ToCopy"
    saves_nothing = True

    def forward(self, x, dtype=None):
        self.dtype = x.dtype
        if x.dtype.kind == "c" and dtype.kind != "c":
            # torch's warning and result: the imaginary part is dropped
            warnings.warn(
                "Casting complex values to real discards the imaginary part", UserWarning, 2
            )
            x = x.real
        return self.be.astype(x, dtype)

    def backward(self, g):
        if g.dtype.kind == "c" and self.dtype.kind != "c":
            g = g.real  # a real input's gradient is the real part of its complex result's
        return self.be.astype(g, self.dtype)


class Contiguous(Function):
    double_backward = True
    torch_name = "Clone"

    def forward(self, x):
        return self.be.ascontiguous(x)

    def backward(self, g):
        return g


class Clone(Function):
    double_backward = True
    plain_op = "copy"

    def forward(self, x):
        return self.be.copy(x)

    def backward(self, g):
        return g


class PinMemory(Function):
    """A copy in pinned host memory (CPU tensors); the gradient passes through, as in torch."""

    def forward(self, x):
        return _pinned.pin(x)

    def backward(self, g):
        return g


class ToDevice(Function):
    """A copy onto another device; the gradient goes back to the source device."""

    def forward(self, x, target=None, non_blocking=False):
        self.src = self.be
        return target.from_numpy(self.be.to_numpy(x), non_blocking=non_blocking)

    def backward(self, g):
        from ... import _devices

        return self.src.from_numpy(_devices.of(g).to_numpy(g))
