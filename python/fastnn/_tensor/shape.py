"""Tensor shape ops and indexing (a mixin of ``Tensor``). Views share the version counter of
their base, so an in-place change through a view is seen by the autograd checks."""

import operator

import numpy as np

from .. import _devices
from .._core import dtype as _dtype
from .._core import memory_format as _formats
from .._core.dims import wrap_dim
from .._devices import cpu as _cpu
from ..autograd import function as _function
from .ops import mathfns as M
from .ops import shape as S

_ndarray = np.ndarray
_may_share = np.may_share_memory


def _drop_leading_ones(value):
    """The value of ``x[i] = value`` without its leading size-1 dims, as torch reads it: a
    (1, 1) value fills one element, a (1, n) value one row."""
    shape = getattr(value, "shape", None)
    if shape is None or not len(shape) or shape[0] != 1:
        return value
    rest = tuple(shape)
    while rest and rest[0] == 1:
        rest = rest[1:]
    return value.reshape(rest)


def _check_assignable(t, value):
    """What ``t[idx] = value`` takes, as in torch: a tensor, a Python number (numpy's float64
    and complex128 are ones, being subclasses of float and complex) or an integer that
    operator.index() reads (numpy's integer scalars). Other numpy scalars, numpy arrays,
    lists and everything else are a TypeError, not silently converted."""
    if isinstance(value, (_function.Tensor, bool, int, float, complex)):
        return
    try:
        operator.index(value)
        return
    except TypeError:
        pass
    cls = type(value)
    # the type as the interpreter spells it: classes defined in Python by their bare name,
    # built-in and extension types with their module (numpy.float32, decimal.Decimal)
    heap = cls.__flags__ & (1 << 9)
    name = (
        cls.__name__
        if heap or cls.__module__ == "builtins"
        else f"{cls.__module__}.{cls.__qualname__}"
    )
    raise TypeError(f"can't assign a {name} to a {t.type()}")


def _shape_args(args, fn, arg, kwargs=None):
    """The ints of a shape or dims given as positional ints, as one sequence, or as the keyword
    ``arg`` (torch's three spellings: x.permute(1, 0), x.permute((1, 0)), x.permute(dims=(1, 0))).
    Anything else is a TypeError naming ``fn`` and ``arg``: int() would have turned 2.7 into 2
    and None into a message about int() itself."""
    if kwargs:
        extra = next((k for k in kwargs if k != arg), None)
        if extra is not None:
            raise TypeError(f"{fn}() got an unexpected keyword argument '{extra}'")
        if args:
            raise TypeError(f"{fn}() got multiple values for argument '{arg}'")
        args = (kwargs[arg],)
    if not args:
        raise TypeError(f'{fn}() missing 1 required positional arguments: "{arg}"')
    seq = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
    for v in seq:
        if v.__class__ is not int:
            break
    else:
        return tuple(seq)  # plain ints (most calls): nothing to convert
    out = []
    for v in seq:
        try:
            if isinstance(v, (bool, float, np.floating)):
                raise TypeError
            out.append(operator.index(v))
        except TypeError:
            raise TypeError(
                f"{fn}(): argument '{arg}' must be a tuple of ints, but found element of type "
                f"{type(v).__name__} in {tuple(seq)!r}"
            ) from None
    return tuple(out)


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
    if isinstance(i, range):  # a sequence of ints, as torch takes it (y_hat[range(n), y])
        return np.arange(i.start, i.stop, i.step, dtype=np.int64), True
    raise IndexError(
        f"only integers, slices (`:`), ellipsis (`...`), None and long or byte "
        f"Variables are valid indices (got {type(i).__name__})"
    )


# How each view is made again from its base (views.py), as plain functions: a module-level
# name is the cheapest reference to hand over on every view op.
def _named(src, t, name):
    """``t`` with its new permute or reshape node printed under torch's name for the op that
    made it from ``src`` (an op that returned ``src`` itself made no node)."""
    ctx = t._ctx
    if t is not src and ctx is not None and ctx.__class__ in (S.Permute, S.Reshape):
        ctx.torch_name = name
    return t


def _reshape_again(t, shape):
    return t._reshape(shape)


def _permuted_again(t, dims):
    return t._permuted(dims)


def _expand_again(t, shape):
    return t.expand(shape)


def _getitem_again(t, idx):
    return t[idx]


class ShapeMixin:
    __slots__ = ()

    def reshape(self, *shape, **kwargs):
        return self._reshape(_shape_args(shape, "reshape", "shape", kwargs))

    def view(self, *shape, **kwargs):
        if (len(shape) == 1 and shape[0].__class__ is _dtype.dtype) or "dtype" in kwargs:
            return self._view_dtype(kwargs.pop("dtype") if "dtype" in kwargs else shape[0])
        return self._reshape(_shape_args(shape, "view", "size", kwargs), True)

    def _view_dtype(self, dt):
        """``view(dtype)``: the same bytes read as ``dt`` (a view, not differentiable, as torch's).
        Between types of different sizes the last dimension is rescaled, and must be contiguous
        and span a whole number of the new elements."""
        a, new = self._data, _dtype.to_dtype(dt)
        if new.itemsize != a.dtype.itemsize:
            old_name, new_name = _dtype.name(a.dtype), _dtype.name(new)
            what = f"to view {old_name} as {new_name} (different element sizes)"
            if a.ndim == 0:
                raise RuntimeError(f"self.dim() cannot be 0 {what}")
            if a.shape[-1] != 1 and a.strides[-1] != a.dtype.itemsize:
                raise RuntimeError(
                    f"self.stride(-1) must be 1 {what}, but got {a.strides[-1] // a.dtype.itemsize}"
                )
            if (a.shape[-1] * a.dtype.itemsize) % new.itemsize:
                raise RuntimeError(
                    f"self.size(-1) must be divisible by {new.itemsize // a.dtype.itemsize} "
                    f"{what}, but got {a.shape[-1]}"
                )
        if a.__class__ is not _ndarray:
            raise TypeError(
                f"view(dtype): fastnn reinterprets host tensors only, not {self.device}"
            )
        return self._view_of(_function._make(a.view(new), False, None))

    def _reshape(self, shape, view=False):
        if shape == self._data.shape:
            return self
        if shape and min(shape) < -1:  # numpy reads every negative size as -1
            i, d = next((i, d) for i, d in enumerate(shape) if d < -1)
            raise RuntimeError(f"invalid shape dimension {d} at index {i} of shape {list(shape)}")
        a = self._data
        try:
            if a.__class__ is _ndarray and not self.requires_grad:  # the host shortcut
                out = _function._make(_cpu.reshape(a, shape), False, None)
            else:
                out = S.Reshape.apply(self, shape=shape)
        except (RuntimeError, ValueError):
            raise RuntimeError(
                f"shape '{list(shape)}' is invalid for input of size {self._data.size}"
            ) from None
        o = out._data
        if (
            a.__class__ is _ndarray
            and o.base is not a  # numpy's view of an array that owns its memory (most calls)
            and not a.flags.c_contiguous
            and not _may_share(o, a)
        ):
            if view:  # numpy had to copy: torch's view refuses, its reshape gives a new tensor
                raise RuntimeError(
                    "view size is not compatible with input tensor's size and stride (at least "
                    "one dimension spans across two contiguous subspaces). Use .reshape(...) "
                    "instead."
                )
            return out
        return self._view_of(out, _reshape_again, shape)

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
            return self._reshape((1,))
        if s == e:  # nothing to merge: torch returns the tensor itself
            return self
        shape = self._data.shape
        return self._reshape((*shape[:s], -1, *shape[e + 1 :]))

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
        return _named(
            self, self.reshape(new), "SqueezeBackward0" if dim is None else "SqueezeBackward1"
        )

    def unsqueeze(self, dim):
        shape = self._data.shape
        dim = wrap_dim(dim, len(shape) + 1, fn="unsqueeze")
        return _named(self, self._reshape((*shape[:dim], 1, *shape[dim:])), "Unsqueeze")

    def permute(self, *dims, **kwargs):
        dims = _shape_args(dims, "permute", "dims", kwargs)
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
        return self._permuted(wrapped)

    def _permuted(self, dims):
        """The view with its axes in the order ``dims`` (checked by the caller)."""
        a = self._data
        if a.__class__ is _ndarray and not self.requires_grad:  # the host shortcut
            return self._view_of(_function._make(_cpu.permute(a, dims), False, None))
        return self._view_of(S.Permute.apply(self, dims=dims), _permuted_again, dims)

    def transpose(self, dim0, dim1):
        nd = self._data.ndim
        dim0 = wrap_dim(dim0, nd, arg="dim0", fn="transpose")
        dim1 = wrap_dim(dim1, nd, arg="dim1", fn="transpose")
        if nd < 2:
            return self
        p = list(range(nd))
        p[dim0], p[dim1] = p[dim1], p[dim0]
        return _named(self, self._permuted(tuple(p)), "Transpose")

    swapdims = transpose

    def swapaxes(self, axis0, axis1):
        """transpose() under numpy's name, with numpy's argument names."""
        return self.transpose(axis0, axis1)

    def t(self):
        if self._data.ndim > 2:
            raise RuntimeError(
                f"t() expects a tensor with <= 2 dimensions, but self is {self._data.ndim}D"
            )
        return self if self._data.ndim < 2 else _named(self, self._permuted((1, 0)), "T")

    @property
    def T(self):
        nd = self._data.ndim
        return self if nd < 2 else self._permuted(tuple(range(nd - 1, -1, -1)))

    @property
    def mT(self):
        return self.transpose(-2, -1)

    def expand(self, *sizes, **kwargs):
        sizes = _shape_args(sizes, "expand", "size", kwargs)
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
        return self._view_of(S.Expand.apply(self, shape=full), _expand_again, full)

    def expand_as(self, other):
        return self.expand(other.shape)

    def broadcast_to(self, shape):
        return self.expand(shape)

    def repeat(self, *sizes, **kwargs):
        sizes = _shape_args(sizes, "repeat", "repeats", kwargs)
        x = self.reshape((1,) * (len(sizes) - self.ndim) + self.shape)
        # expand each dim into (rep, n) then merge: a differentiable tile
        inter, final = [], []
        for r, n in zip(sizes, x.shape):
            inter += [r, n]
            final.append(r * n)
        y = x.reshape(tuple(v for n in x.shape for v in (1, n))).expand(tuple(inter))
        return y.contiguous().reshape(tuple(final))

    def contiguous(self, memory_format=_formats.contiguous_format):
        if memory_format is not _formats.contiguous_format:
            _formats.check(memory_format, self._data.ndim, "contiguous")
        d = self._data
        if isinstance(d, np.ndarray) and d.flags.c_contiguous:
            return self
        return S.Contiguous.apply(self)

    def is_contiguous(self, memory_format=_formats.contiguous_format):
        d = self._data
        if memory_format is not _formats.contiguous_format:
            _formats.check(memory_format, None, "is_contiguous")
            return _formats.is_laid_out(d, memory_format) if isinstance(d, np.ndarray) else False
        return bool(d.flags.c_contiguous) if isinstance(d, np.ndarray) else True

    def clone(self, *, memory_format=_formats.preserve_format):
        if memory_format is not _formats.preserve_format:
            _formats.check(memory_format, self._data.ndim, "clone")
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

    def nonzero(self, *, as_tuple=False):
        """Indices of the non-zero elements: an int64 (count, ndim) tensor, or with ``as_tuple``
        one int64 index tensor per dimension (a 0-d input counts as 1-d there, as in torch)."""
        be = _devices.of(self._data)
        a = be.to_numpy(self._data)
        T = _function.Tensor
        if as_tuple:
            return tuple(
                T._make(be.from_numpy(i.astype(np.int64))) for i in np.nonzero(np.atleast_1d(a))
            )
        if a.ndim == 0:
            found = np.zeros((int(bool(a)), 0), dtype=np.int64)
        else:
            found = np.argwhere(a).astype(np.int64)
        return T._make(be.from_numpy(found))

    def repeat_interleave(self, repeats, dim=None, *, output_size=None):
        """Each slice along ``dim`` repeated ``repeats`` times in place (an int, or one count per
        slice); without ``dim`` the flattened tensor. Differentiable: it is an index_select."""
        x = self.reshape(-1) if dim is None else self
        d = 0 if dim is None else wrap_dim(dim, x._data.ndim, fn="repeat_interleave")
        n = x._data.shape[d] if x._data.ndim else 1
        if isinstance(repeats, _function.Tensor):
            r = repeats.__array__()
            if r.dtype.kind not in "iu":  # torch has no kernel for these: NotImplementedError
                raise NotImplementedError(
                    f"repeat_interleave: repeats of dtype {repeats.dtype} are not implemented; "
                    "repeats must be an integer tensor"
                )
        else:
            try:
                if isinstance(repeats, bool):
                    raise TypeError
                r = np.asarray(operator.index(repeats))
            except TypeError:
                raise TypeError(
                    "repeat_interleave(): argument 'repeats' must be a Tensor or an int, not "
                    f"{type(repeats).__name__}"
                ) from None
        if r.ndim == 0 or r.shape == (1,):
            r = np.full(n, int(r.reshape(())))
        elif r.shape != (n,):
            raise RuntimeError(
                f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                f"{r.shape[0]} and input.size({d}) = {n}"
            )
        if (r < 0).any():
            raise RuntimeError("repeats can not be negative")
        index = np.repeat(np.arange(n, dtype=np.int64), r)
        if output_size is not None and output_size != index.size:
            raise RuntimeError(f"repeat_interleave: output_size {output_size} != {index.size}")
        if x._data.ndim == 0:
            x = x.reshape(1)
        lead = (slice(None),) * d
        return x[(*lead, _function.Tensor._make(index))]

    # ---- indexing ----------------------------------------------------------------------------

    def __getitem__(self, idx):
        index, advanced = _index(idx)
        a = self._data
        if a.__class__ is _ndarray and not self.requires_grad:  # the host shortcut
            try:
                out = _function._make(_cpu.getitem(a, index), False, None)
            except ValueError:  # apply raises it, with the op's name and the shape
                out = S.GetItem.apply(self, index=index, advanced=advanced)
        else:
            out = S.GetItem.apply(self, index=index, advanced=advanced)
        return out if advanced else self._view_of(out, _getitem_again, idx)

    def __setitem__(self, idx, value):
        from .inplace import _inplace_record, _needs_record

        T = _function.Tensor
        cls = value.__class__
        if cls is not float and cls is not int and cls is not T:
            _check_assignable(self, value)
        index, _ = _index(idx)
        value = _drop_leading_ones(value)
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

    # ---- the tutorials' math surface: flips, rolls, triangles, scatter, narrow, movedim ---------

    def flip(self, *dims, **kwargs):
        dims = _shape_args(dims, "flip", "dims", kwargs)
        nd = self._data.ndim
        axes = tuple(wrap_dim(d, nd) for d in dims)
        if len(set(axes)) != len(axes):
            raise RuntimeError(f"flip(): dims has a repeated dim: {list(dims)}")
        if not axes or nd == 0:
            return self.clone()
        return M.Flip.apply(self, axes=axes)

    def fliplr(self):
        if self._data.ndim < 2:
            raise RuntimeError("fliplr(): input must be at least 2-D")
        return self.flip(1)

    def flipud(self):
        if self._data.ndim < 1:
            raise RuntimeError("flipud(): input must be at least 1-D")
        return self.flip(0)

    def roll(self, shifts, dims=None):
        shifts = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
        if dims is None:
            if len(shifts) != 1:
                raise RuntimeError(f"roll(): shifts {list(shifts)} need dims of the same length")
            return M.Roll.apply(self.reshape(-1), shifts=shifts, axes=None).reshape(self.shape)
        dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
        if len(dims) != len(shifts):
            raise RuntimeError(
                f"roll(): shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}"
            )
        axes = tuple(wrap_dim(d, self._data.ndim) for d in dims)
        return M.Roll.apply(self, shifts=tuple(int(s) for s in shifts), axes=axes)

    def tril(self, diagonal=0):
        if self._data.ndim < 2:
            raise RuntimeError("tril: input tensor must have at least 2 dimensions")
        return M.Tril.apply(self, k=int(diagonal))

    def triu(self, diagonal=0):
        if self._data.ndim < 2:
            raise RuntimeError("triu: input tensor must have at least 2 dimensions")
        return M.Triu.apply(self, k=int(diagonal))

    def scatter(self, dim, index, src=None, value=None, reduce=None):
        """A copy of self with ``src`` (a tensor) or ``value`` (a number) written at ``index``
        along ``dim``: out[i][index[i][j]] = src[i][j] (dim=1); reduce='add' accumulates."""
        if reduce not in (None, "add"):
            raise ValueError(f"scatter(): reduce must be None or 'add' in fastnn, got {reduce!r}")
        return _scatter(self, dim, index, src, value, reduce, "scatter")

    def scatter_add(self, dim, index, src):
        return _scatter(self, dim, index, src, None, "add", "scatter_add")

    def narrow(self, dim, start, length):
        nd = self._data.ndim
        d = wrap_dim(dim, nd)
        n = self._data.shape[d]
        start = int(start)
        if not -n <= start <= n:
            raise IndexError(
                f"narrow(): start ({start}) is out of bounds for dimension {d} of size {n}"
            )
        if start < 0:
            start += n
        if length < 0 or start + length > n:
            raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
        return self[(slice(None),) * d + (slice(start, start + length),)]

    def movedim(self, source, destination):
        nd = self._data.ndim
        src = tuple(source) if isinstance(source, (tuple, list)) else (source,)
        dst = tuple(destination) if isinstance(destination, (tuple, list)) else (destination,)
        if len(src) != len(dst):
            raise RuntimeError(
                f"movedim: Invalid source or destination dims: source ({list(src)} dims) should "
                f"contain the same number of dims as destination ({list(dst)} dims)"
            )
        src = [wrap_dim(d, nd) for d in src]
        dst = [wrap_dim(d, nd) for d in dst]
        if len(set(src)) != len(src) or len(set(dst)) != len(dst):
            raise RuntimeError(f"movedim: repeated dim in source {src} or destination {dst}")
        order = [d for d in range(nd) if d not in src]
        for d, s in sorted(zip(dst, src)):
            order.insert(d, s)
        return self if order == list(range(nd)) else self.permute(order)

    moveaxis = movedim


def _scatter(x, dim, index, src, value, reduce, name):
    T = _function.Tensor
    if src is not None and value is not None:
        raise TypeError(f"{name}(): give src or value, not both")
    if src is not None and not isinstance(src, T):  # torch's scatter(dim, index, 1.5)
        src, value = None, src
    if src is None and value is None:
        raise TypeError(f"{name}(): missing argument 'src' or 'value'")
    if not isinstance(index, T) or index._data.dtype != np.int64:
        got = _dtype_name(index)
        raise RuntimeError(f"{name}(): Expected dtype int64 for index, got {got}")
    nd = x._data.ndim
    d = wrap_dim(dim, nd)
    idx = index._data
    if idx.ndim == 0 and nd == 1:  # torch reads a 0-d index (and source) as one element
        idx = idx.reshape(1)
        if src is not None and src._data.ndim == 0:
            src = src.reshape(1)
    if idx.ndim != max(nd, 1) and not (nd == 0 and idx.ndim == 0):
        raise RuntimeError(
            f"{name}(): Index tensor must have the same number of dimensions as self tensor "
            f"({idx.ndim} vs {nd})"
        )
    for i in range(idx.ndim):
        limit_src = src._data.shape[i] if src is not None and src._data.ndim else None
        if (i != d and idx.shape[i] > x._data.shape[i]) or (
            limit_src is not None and idx.shape[i] > limit_src
        ):
            raise RuntimeError(
                f"{name}(): Expected index {list(idx.shape)} to be smaller than self "
                f"{list(x.shape)} apart from dimension {d} and to be smaller size than src "
                f"{list(src.shape) if src is not None else []}"
            )
    be = _devices.of(x._data)
    if idx.size:
        lo, hi = be.to_numpy(be.amin(idx)).item(), be.to_numpy(be.amax(idx)).item()
        n = x._data.shape[d] if nd else 1
        if lo < 0 or hi >= n:
            raise RuntimeError(
                f"{name}(): index {hi if hi >= n else lo} is out of bounds for dimension {d} "
                f"with size {n}"
            )
    if src is None:
        return M.Scatter.apply(x, idx=idx, axis=d, reduce=reduce, value=value)
    if src._data.dtype != x._data.dtype:
        raise RuntimeError(
            f"{name}(): Expected self.dtype to be equal to src.dtype "
            f"({_dtype_name(x)} vs {_dtype_name(src)})"
        )
    return M.Scatter.apply(x, src, idx=idx, axis=d, reduce=reduce)


def _dtype_name(t):
    d = getattr(t, "_data", None)
    return str(d.dtype) if d is not None else type(t).__name__
