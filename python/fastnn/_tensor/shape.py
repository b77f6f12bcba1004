"""Tensor shape ops and indexing (a mixin of ``Tensor``). Views share the version counter of
their base, so an in-place change through a view is seen by the autograd checks."""

import numpy as np

from .. import _devices
from .._core.dims import wrap_dim
from ..autograd import function as _function
from .ops import shape as S


def _shape_args(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(int(s) for s in shape)


def _index(idx):
    """A storage index from a Python/torch index; ``advanced`` when it holds arrays."""
    T = _function.Tensor
    if isinstance(idx, tuple):
        parts, advanced = [], False
        for i in idx:
            i, adv = _index_part(i, T)
            parts.append(i)
            advanced = advanced or adv
        return tuple(parts), advanced
    return _index_part(idx, T)


def _index_part(i, T):
    if i is None or i is Ellipsis or isinstance(i, (int, slice, np.integer)):
        return i, False
    if isinstance(i, T):
        d = i._data
        if d.ndim == 0 and d.dtype.kind in "iu":
            return int(d), False
        return d, True
    if isinstance(i, (list, np.ndarray)):
        return np.asarray(i), True
    raise IndexError(
        f"only integers, slices (`:`), ellipsis (`...`), None and long or byte "
        f"Variables are valid indices (got {type(i).__name__})"
    )


class ShapeMixin:
    __slots__ = ()

    def reshape(self, *shape):
        shape = _shape_args(shape)
        if shape == self._data.shape:
            return self
        try:
            return self._view_of(S.Reshape.apply(self, shape=shape))
        except RuntimeError:
            raise RuntimeError(
                f"shape '{list(shape)}' is invalid for input of size {self._data.size}"
            ) from None

    view = reshape

    def view_as(self, other):
        return self.reshape(other.shape)

    reshape_as = view_as

    def flatten(self, start_dim=0, end_dim=-1):
        nd = self._data.ndim
        s = wrap_dim(start_dim, nd, arg="start_dim", fn="flatten")
        e = wrap_dim(end_dim, nd, arg="end_dim", fn="flatten")
        if s > e:
            raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
        if nd == 0:
            return self.reshape(1)
        shape = self._data.shape
        return self.reshape((*shape[:s], -1, *shape[e + 1 :]))

    def unflatten(self, dim, sizes):
        shape = self._data.shape
        dim = wrap_dim(dim, len(shape), fn="unflatten")
        return self.reshape(shape[:dim] + tuple(sizes) + shape[dim + 1 :])

    def squeeze(self, dim=None):
        shape = self._data.shape
        if dim is None:
            new = tuple(n for n in shape if n != 1)
        else:
            nd = len(shape)
            dims = {
                wrap_dim(d, nd, fn="squeeze")
                for d in (dim if isinstance(dim, (tuple, list)) else (dim,))
            }
            new = tuple(n for i, n in enumerate(shape) if not (i in dims and n == 1))
        return self.reshape(new)

    def unsqueeze(self, dim):
        shape = self._data.shape
        dim = wrap_dim(dim, len(shape) + 1, fn="unsqueeze")
        return self.reshape((*shape[:dim], 1, *shape[dim:]))

    def permute(self, *dims):
        dims = _shape_args(dims)
        nd = self._data.ndim
        if len(dims) != nd:
            raise RuntimeError(
                f"permute(sparse_coo): number of dimensions in the tensor input "
                f"does not match the length of the desired ordering of dimensions "
                f"i.e. input.dim() = {nd} is not equal to len(dims) = {len(dims)}"
            )
        wrapped = tuple(wrap_dim(d, nd, arg="dims", fn="permute") for d in dims)
        if len(set(wrapped)) != nd:
            raise RuntimeError("permute(): duplicate dims are not allowed.")
        if nd == 0:
            return self
        return self._view_of(S.Permute.apply(self, dims=wrapped))

    def transpose(self, dim0, dim1):
        nd = self._data.ndim
        dim0 = wrap_dim(dim0, nd, arg="dim0", fn="transpose")
        dim1 = wrap_dim(dim1, nd, arg="dim1", fn="transpose")
        if nd < 2:
            return self
        p = list(range(nd))
        p[dim0], p[dim1] = p[dim1], p[dim0]
        return self.permute(p)

    swapaxes = swapdims = transpose

    def t(self):
        if self._data.ndim > 2:
            raise RuntimeError(
                f"t() expects a tensor with <= 2 dimensions, but self is {self._data.ndim}D"
            )
        return self if self._data.ndim < 2 else self.transpose(0, 1)

    @property
    def T(self):
        nd = self._data.ndim
        return self if nd < 2 else self.permute(tuple(range(nd - 1, -1, -1)))

    @property
    def mT(self):
        return self.transpose(-2, -1)

    def expand(self, *sizes):
        sizes = _shape_args(sizes)
        shape = self._data.shape
        lead = len(sizes) - len(shape)
        if lead < 0:
            raise RuntimeError(
                f"expand: the number of sizes provided ({len(sizes)}) must be "
                f"greater or equal to the number of dimensions in the tensor "
                f"({len(shape)})"
            )
        full = tuple(shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
        if full == shape:
            return self
        return self._view_of(S.Expand.apply(self, shape=full))

    def expand_as(self, other):
        return self.expand(other.shape)

    def broadcast_to(self, shape):
        return self.expand(shape)

    def repeat(self, *sizes):
        sizes = _shape_args(sizes)
        x = self.reshape((1,) * (len(sizes) - self.ndim) + self.shape)
        # expand each dim into (rep, n) then merge: a differentiable tile
        inter, final = [], []
        for r, n in zip(sizes, x.shape):
            inter += [r, n]
            final.append(r * n)
        y = x.reshape(tuple(v for n in x.shape for v in (1, n))).expand(tuple(inter))
        return y.contiguous().reshape(tuple(final))

    def contiguous(self):
        d = self._data
        if isinstance(d, np.ndarray) and d.flags.c_contiguous:
            return self
        return S.Contiguous.apply(self)

    def is_contiguous(self):
        return bool(self._data.flags.c_contiguous) if isinstance(self._data, np.ndarray) else True

    def clone(self):
        return S.Clone.apply(self)

    def split(self, split_size, dim=0):
        dim = wrap_dim(dim, self._data.ndim, fn="split", scalar_ok=False)
        n = self._data.shape[dim]
        if isinstance(split_size, int):
            sizes = [min(split_size, n - i) for i in range(0, n, split_size)]
        else:
            sizes = list(split_size)
            if sum(sizes) != n:
                raise RuntimeError(
                    f"split_with_sizes expects split_sizes to sum exactly to {n} "
                    f"(input tensor's size at dimension {dim}), but got "
                    f"split_sizes={sizes}"
                )
        lead = (slice(None),) * dim
        out, start = [], 0
        for s in sizes:
            out.append(self[(*lead, slice(start, start + s))])
            start += s
        return tuple(out)

    def chunk(self, chunks, dim=0):
        dim = wrap_dim(dim, self._data.ndim, fn="chunk", scalar_ok=False)
        n = self._data.shape[dim]
        return self.split(max(-(-n // chunks), 1), dim)

    def unbind(self, dim=0):
        dim = wrap_dim(dim, self._data.ndim, fn="unbind", scalar_ok=False)
        lead = (slice(None),) * dim
        return tuple(self[(*lead, i)] for i in range(self._data.shape[dim]))

    def index_select(self, dim, index):
        lead = (slice(None),) * wrap_dim(dim, self._data.ndim, fn="index_select")
        return self[(*lead, index)]

    # ---- indexing ----------------------------------------------------------------------------

    def __getitem__(self, idx):
        index, advanced = _index(idx)
        out = S.GetItem.apply(self, index=index, advanced=advanced)
        return out if advanced else self._view_of(out)

    def __setitem__(self, idx, value):
        from .inplace import _inplace_record, _needs_record

        index, _ = _index(idx)
        T = _function.Tensor
        if _needs_record(self, value):
            if not isinstance(value, T):
                value = T._make(_devices.of(self._data).asarray(value, self._data.dtype))
            _inplace_record(self, lambda a: S.SetItem.apply(a, value, index=index))
            return
        v = value._data if isinstance(value, T) else value
        try:
            _devices.of(self._data).setitem(self._data, index, v)
        except ValueError as e:
            raise RuntimeError(f"setitem: {e} (tensor shape {self.shape})") from None
        self._vc[0] += 1
