"""Selecting, splitting and writing along indices (a mixin of ``Tensor``): ravel, take,
take_along_dim, tensor_split / hsplit / vsplit / dsplit, rot90, diag_embed, diagflat, unfold,
select and the out-of-place writers (select_scatter, slice_scatter, diagonal_scatter,
index_copy, index_fill, masked_scatter, put, index_put, scatter_reduce), argwhere, msort,
bincount, unique_consecutive and as_strided (a view of the storage).

The writers clone self and assign into the clone, so both self and the written values get their
gradients from the indexing primitives. ``unfold`` returns a copy made by one gather (torch's is a
view of the same storage); its gradient is the same.
"""

import numpy as np

from .._core import dtype as _dtype
from .._core.dims import wrap_dim
from ..autograd import function as _function
from .logic import _host, _wrap_like
from .ops import shape as S


def _as_strided_again(t, geometry):
    return t.as_strided(*geometry)


def _dtype_title(dt):
    """torch's scalar-type name of a numpy dtype (Float, Double...), as its messages spell it."""
    return {"float32": "Float", "float64": "Double", "float16": "Half"}.get(dt.name, dt.name)


def _long(t, values):
    return _wrap_like(t, np.asarray(values, dtype=np.int64))


def _index_vector(index, fn):
    if not isinstance(index, _function.Tensor) or index._data.dtype.kind not in "iu":
        raise IndexError(f"{fn}(): Expected a long tensor for index")
    if index.ndim > 1:
        raise IndexError(f"{fn}(): Index is supposed to be a vector")
    return index


def _lead(d):
    return (slice(None),) * d


def _split_points(n, sections, fn):
    if isinstance(sections, _function.Tensor):
        sections = sections.tolist()
    if isinstance(sections, int):
        if sections <= 0:
            raise RuntimeError(f"{fn}: number of sections must be larger than 0, got {sections}")
        size, extra = divmod(n, sections)
        return list(np.cumsum([size + 1] * extra + [size] * (sections - extra - 1)))
    return [int(i) for i in sections]


class IndexMoreMixin:
    __slots__ = ()

    def ravel(self):
        return self.reshape(-1)

    def take(self, index):
        """Elements of the flattened tensor at ``index``, in index's shape."""
        n = self.numel()
        h = _host(index)
        if h.size and (h.max() >= n or h.min() < -n):
            raise IndexError(f"take(): index out of range for tensor of {n} elements")
        return self.reshape(-1)[index]

    def take_along_dim(self, indices, dim=None):
        if dim is None:
            return self.reshape(-1)[indices.reshape(-1)]
        d = wrap_dim(dim, self.ndim)
        shape = list(np.broadcast_shapes(tuple(self.shape), tuple(indices.shape)))
        src_shape, idx_shape = list(shape), list(shape)
        src_shape[d], idx_shape[d] = self.shape[d], indices.shape[d]
        return self.expand(*src_shape).gather(d, indices.expand(*idx_shape))

    def tensor_split(self, indices_or_sections, dim=0):
        d = wrap_dim(dim, self.ndim)
        n = self.shape[d]
        points = _split_points(n, indices_or_sections, "tensor_split")
        bounds = [0, *points, n]
        out = []
        for a, b in zip(bounds[:-1], bounds[1:]):
            a, b = min(max(a, 0), n), min(max(b, 0), n)
            out.append(self.narrow(d, a, max(b - a, 0)))
        return tuple(out)

    def _split_exactly(self, sections, dim, fn):
        if isinstance(sections, int) and self.shape[dim] % sections:
            raise RuntimeError(
                f"torch.{fn} attempted to split along dimension {dim}, but the size of the "
                f"dimension {self.shape[dim]} is not divisible by the split_size {sections}!"
            )
        return self.tensor_split(sections, dim)

    def hsplit(self, sections):
        if self.ndim < 1:
            raise RuntimeError("torch.hsplit requires a tensor with at least 1 dimension, but got a tensor with 0 dimensions!")  # fmt: skip
        return self._split_exactly(sections, 1 if self.ndim > 1 else 0, "hsplit")

    def vsplit(self, sections):
        if self.ndim < 2:
            raise RuntimeError(f"torch.vsplit requires a tensor with at least 2 dimension, but got a tensor with {self.ndim} dimensions!")  # fmt: skip
        return self._split_exactly(sections, 0, "vsplit")

    def dsplit(self, sections):
        if self.ndim < 3:
            raise RuntimeError(f"torch.dsplit requires a tensor with at least 3 dimension, but got a tensor with {self.ndim} dimensions!")  # fmt: skip
        return self._split_exactly(sections, 2, "dsplit")

    def rot90(self, k=1, dims=(0, 1)):
        """Rotate by 90 degrees k times in the plane ``dims``, from the first towards the second."""
        if len(dims) != 2:
            raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
        if self.ndim < 2:
            raise RuntimeError(f"expected total dims >= 2, but got total dims = {self.ndim}")
        d0, d1 = (wrap_dim(d, self.ndim) for d in dims)
        if d0 == d1:
            raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")  # fmt: skip
        k %= 4
        if k == 1:
            return self.flip(d1).transpose(d0, d1)
        if k == 2:
            return self.flip((d0, d1))
        if k == 3:
            return self.flip(d0).transpose(d0, d1)
        return self.clone()

    def diag_embed(self, offset=0, dim1=-2, dim2=-1):
        """The last dim laid on the ``offset`` diagonal of new (dim1, dim2) matrices."""
        nd = self.ndim + 1
        d1, d2 = wrap_dim(dim1, nd), wrap_dim(dim2, nd)
        if d1 == d2:
            raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
        n = self.shape[-1] if self.ndim else 1
        m = n + abs(offset)
        k = np.arange(n)
        rows, cols = (k, k + offset) if offset >= 0 else (k - offset, k)
        out = self.new_zeros(*self.shape[:-1], m, m)
        out[..., rows, cols] = self
        return out.movedim((-2, -1), (d1, d2))

    def diagflat(self, offset=0):
        return self.reshape(-1).diag(offset)

    def unfold(self, dimension, size, step):
        """Windows of ``size`` every ``step`` along ``dimension``, as a new last dim (a copy)."""
        d = wrap_dim(dimension, max(self.ndim, 1))
        length = self.shape[d] if self.ndim else 1
        if size > length:
            raise RuntimeError(f"maximum size for tensor at dimension {d} is {length} but size is {size}")  # fmt: skip
        if step <= 0:
            raise RuntimeError(f"step is {step} but must be > 0")
        x = self.reshape(1) if self.ndim == 0 else self
        count = (length - size) // step + 1
        idx = np.arange(count)[:, None] * step + np.arange(size)[None, :]
        return x[(*_lead(d), _long(x, idx))].movedim(d + 1, -1)

    def as_strided(self, size, stride, storage_offset=None):
        """The view of this tensor's storage with ``size``, ``stride`` and ``storage_offset``
        in elements (by default this tensor's offset), as torch's as_strided: host tensors."""
        a = self._data
        if a.__class__ is not np.ndarray:
            raise RuntimeError("as_strided: fastnn takes host (CPU) tensors only")
        size, stride = tuple(int(n) for n in size), tuple(int(s) for s in stride)
        if len(size) != len(stride):
            raise RuntimeError(
                f"mismatch in length of strides and shape: {len(stride)} and {len(size)}"
            )
        if any(s < 0 for s in stride):
            raise RuntimeError(
                "as_strided: Negative strides are not supported at the moment, got strides: "
                f"{list(stride)}"
            )
        if any(n < 0 for n in size):
            raise RuntimeError(f"as_strided: negative size in {list(size)}")
        owner = a
        while isinstance(owner.base, np.ndarray):
            owner = owner.base
        if owner.dtype != a.dtype or not owner.flags.c_contiguous:
            raise RuntimeError("as_strided: the tensor's storage is not a flat array of its dtype")
        offset = self.storage_offset() if storage_offset is None else int(storage_offset)
        last = offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1
        if offset < 0 or (min(size, default=1) > 0 and last > owner.size):
            item = a.dtype.itemsize
            raise RuntimeError(
                f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset "
                f"{offset}, and itemsize {item} requiring a storage size of {last * item} are "
                f"out of bounds for storage of size {owner.size * item}"
            )
        out = S.AsStrided.apply(
            self, storage=owner.reshape(-1), size=size, stride=stride, offset=offset
        )
        return self._view_of(out, _as_strided_again, (size, stride, offset))

    def select(self, dim, index):
        d = wrap_dim(dim, self.ndim, fn="select")
        n = self.shape[d]
        if not -n <= index < n:
            raise IndexError(
                f"select(): index {index} out of range for tensor of size {list(self.shape)} "
                f"at dimension {d}"
            )
        return self[(*_lead(d), index)]

    # ---- out-of-place writers ----------------------------------------------------------

    def _written(self, index, values):
        out = self.clone()
        out[index] = values
        return out

    def select_scatter(self, src, dim, index):
        d = wrap_dim(dim, self.ndim)
        self.select(d, index)  # the range check
        return self._written((*_lead(d), index), src)

    def slice_scatter(self, src, dim=0, start=None, end=None, step=1):
        d = wrap_dim(dim, self.ndim)
        return self._written((*_lead(d), slice(start, end, step)), src)

    def diagonal_scatter(self, src, offset=0, dim1=0, dim2=1):
        d1, d2 = wrap_dim(dim1, self.ndim), wrap_dim(dim2, self.ndim)
        moved = self.movedim((d1, d2), (-2, -1)).clone()
        r, c = moved.shape[-2], moved.shape[-1]
        start_r, start_c = (0, offset) if offset >= 0 else (-offset, 0)
        k = np.arange(max(0, min(r - start_r, c - start_c)))
        if tuple(src.shape) != (*moved.shape[:-2], len(k)):
            raise RuntimeError(
                f"diagonal_scatter: src must have the shape of the diagonal "
                f"{[*moved.shape[:-2], len(k)]}, got {list(src.shape)}"
            )
        moved[..., k + start_r, k + start_c] = src
        return moved.movedim((-2, -1), (d1, d2))

    def index_copy(self, dim, index, source):
        d = wrap_dim(dim, max(self.ndim, 1), fn="index_copy")
        _index_vector(index, "index_copy")
        if source.ndim != self.ndim or (self.ndim and source.shape[d] != index.shape[0]):
            raise IndexError(
                f"index_copy_(): Source/destination tensor must have same slice shapes and "
                f"one slice per index ({index.shape[0]}), got {list(source.shape)} and "
                f"{list(self.shape)}"
            )
        if self.ndim == 0:
            return source.clone()
        return self._written((*_lead(d), index), source)

    def index_reduce(self, dim, index, source, reduce, *, include_self=True):
        """Reduce the slices of ``source`` into self's slices ``index`` along ``dim`` with prod,
        mean, amax or amin (self's own values joining unless ``include_self`` is False): the
        scatter_reduce with ``index`` spread over the slices, so its gradient too."""
        if reduce not in ("prod", "mean", "amax", "amin"):
            raise RuntimeError(
                f"index_reduce(): expected reduce to be one of prod, mean, amax or amin, got "
                f"{reduce!r}"
            )
        d = wrap_dim(dim, max(self.ndim, 1), fn="index_reduce")
        _index_vector(index, "index_reduce")
        if not isinstance(source, _function.Tensor):
            raise TypeError(
                f"index_reduce(): argument 'source' must be Tensor, not {type(source).__name__}"
            )
        if source._data.dtype != self._data.dtype:
            raise RuntimeError(
                f"index_reduce(): self ({_dtype.name(self._data.dtype)}) and source "
                f"({_dtype.name(source._data.dtype)}) must have the same dtype"
            )
        n = index.numel()
        src_shape, own = list(source.shape), list(self.shape)
        fits = source.ndim == self.ndim and all(
            s == (n if k == d else o) for k, (s, o) in enumerate(zip(src_shape, own))
        )
        if self.ndim and not fits:
            raise IndexError(
                f"index_reduce(): source {src_shape} must match self {own} outside dim {d} and "
                f"have one slice per index ({n}) along it"
            )
        if self.ndim == 0:
            return (
                self.reshape(1)
                .index_reduce(0, index, source.reshape(-1), reduce, include_self=include_self)
                .reshape(())
            )
        shape = [n if k == d else 1 for k in range(self.ndim)]
        spread = index.reshape(shape).expand(*src_shape)
        return self.scatter_reduce(d, spread, source, reduce, include_self=include_self)

    def index_fill(self, dim, index, value):
        d = wrap_dim(dim, max(self.ndim, 1), fn="index_fill")
        _index_vector(index, "index_fill")
        if isinstance(value, _function.Tensor) and value.ndim:
            raise RuntimeError(
                "index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                f"{value.ndim} dimension(s)."
            )
        return self._written((*_lead(d), index), value)

    def masked_scatter(self, mask, source):
        """Positions where ``mask`` holds take source's elements, in order."""
        if mask._data.dtype.kind != "b":
            raise RuntimeError(
                "masked_scatter_ only supports boolean masks, but got mask with dtype "
                + _dtype_title(mask._data.dtype)
            )
        shape = tuple(np.broadcast_shapes(tuple(self.shape), tuple(mask.shape)))
        m = mask.expand(*shape)
        n = int(_host(m).sum())
        if n > source.numel():
            raise RuntimeError("Number of elements of source < number of ones in mask")
        base = self.expand(*shape)
        return base._written(m, source.reshape(-1)[:n])

    def put(self, index, source, accumulate=False):
        """Flat positions ``index`` take (or with ``accumulate`` add) source's elements."""
        n = self.numel()
        h = _host(index)
        if h.size and (h.max() >= n or h.min() < -n):
            raise IndexError(f"put_(): index out of range for tensor of {n} elements")
        flat_index = _long(self, np.where(h < 0, h + n, h).reshape(-1))
        values = source.reshape(-1)
        if accumulate:
            return self.reshape(-1).index_add(0, flat_index, values).reshape(self.shape)
        return self.reshape(-1)._written(flat_index, values).reshape(self.shape)

    def index_put(self, indices, values, accumulate=False):
        """``self[indices] = values`` (or ``+=`` with ``accumulate``, repeats summed) on a copy."""
        indices = tuple(indices)
        if not accumulate:
            return self._written(indices, values)
        hosts = tuple(_host(i) if isinstance(i, _function.Tensor) else i for i in indices)
        positions = np.arange(self.numel()).reshape(tuple(self.shape))[hosts]
        values = values.expand(*positions.shape) if isinstance(values, _function.Tensor) else (
            _wrap_like(self, np.full(positions.shape, values, self._data.dtype)))  # fmt: skip
        return self.put(_long(self, positions), values, accumulate=True)

    # ---- searches and counts (no gradient) ----------------------------------------------

    def argwhere(self):
        return self.nonzero()

    def msort(self):
        return self.sort(0).values

    def bincount(self, weights=None, minlength=0):
        h = _host(self)
        if h.dtype.kind not in "iub":
            raise NotImplementedError(
                f"\"bincount_cpu\" not implemented for '{_dtype_title(h.dtype)}'"
            )
        if h.ndim != 1:
            raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
        if h.size and h.min() < 0:
            raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
        if minlength < 0:
            raise RuntimeError("minlength should be >= 0")
        if weights is None:
            return _long(self, np.bincount(h, minlength=minlength))
        w = _host(weights)
        if w.shape != h.shape:
            raise RuntimeError("weights should be 1-d and have the same length as input")
        dt = w.dtype if _dtype.is_floating(w.dtype) else np.float64
        return _wrap_like(self, np.bincount(h, weights=w, minlength=minlength).astype(dt))

    def unique_consecutive(self, return_inverse=False, return_counts=False, dim=None):
        """The first of each run of equal elements (along ``dim``: equal slices)."""
        h = _host(self)
        if dim is None:
            flat = h.reshape(-1)
            axis, x = 0, flat
        else:
            axis = wrap_dim(dim, self.ndim)
            x = np.moveaxis(h, axis, 0)
        n = x.shape[0]
        if n:
            rest = x.reshape(n, -1)
            new = np.concatenate([[True], np.any(rest[1:] != rest[:-1], axis=1)])
        else:
            new = np.zeros(0, dtype=bool)
        starts = np.flatnonzero(new)
        values = x[starts]
        values = values if dim is None else np.moveaxis(values, 0, axis)
        out = [_wrap_like(self, np.ascontiguousarray(values))]
        if return_inverse:
            inv = np.cumsum(new) - 1
            out.append(_long(self, inv.reshape(h.shape) if dim is None else inv))
        if return_counts:
            out.append(_long(self, np.diff(np.append(starts, n))))
        return out[0] if len(out) == 1 else tuple(out)
