"""More of torch's Tensor surface, built from the existing differentiable ops (a mixin of
``Tensor``): log1p / expm1, remainder / fmod / floor_divide, diff,
cross, trace / diagonal / diag, tile, masked_select, index_add, relu_ / sigmoid_, unique,
stride, bernoulli. Gradients come from the ops each one is made of.
"""

import numpy as np

from .. import _devices
from .._core import dtype as _dtype
from .._core import random as _random
from .._core.dims import wrap_dim
from ..autograd import function as _function
from . import creation as _creation
from . import functions as _fns
from . import functions_more as _fmore
from . import math as _math
from .inplace import _inplace_via
from .logic import _host, _wrap_like
from .ops import mathfns as M
from .ops import shape as S
from .shape import _shape_args


def _floating(x):
    d = x._data.dtype
    return x if _dtype.is_floating(d) or d.kind == "c" else x.to(_dtype.default())


def _diagonal_again(t, where):
    return t.diagonal(*where)


def _diag_index(n_rows, n_cols, offset):
    """Row and column indices of the ``offset`` diagonal of an n_rows x n_cols matrix."""
    start_r, start_c = (0, offset) if offset >= 0 else (-offset, 0)
    length = max(0, min(n_rows - start_r, n_cols - start_c))
    k = np.arange(length, dtype=np.int64)
    return k + start_r, k + start_c


class MoreOpsMixin:
    # ---- element-wise math accurate near zero ----------------------------------------------

    def log1p(self):
        """log(1 + x), accurate for small x."""
        return M.Log1p.apply(_floating(self))

    def expm1(self):
        """exp(x) - 1, accurate for small x."""
        return M.Expm1.apply(_floating(self))

    # ---- division family: remainder takes the divisor's sign, fmod the dividend's ----------

    def remainder(self, other):
        """self - floor(self / other) * other (Python's %: the divisor's sign)."""
        return _math.division_rest(self, other, "remainder")

    def fmod(self, other):
        """self - trunc(self / other) * other (C's fmod: the dividend's sign)."""
        return _math.division_rest(self, other, "fmod")

    def floor_divide(self, other):
        return self // other

    # ---- differences and products along a dimension ---------------------------------------

    def diff(self, n=1, dim=-1, prepend=None, append=None):
        """The n-th forward difference along ``dim``, after concatenating ``prepend`` and
        ``append`` there."""
        if self.ndim == 0:
            raise RuntimeError("diff expects input to be at least one-dimensional")
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise RuntimeError(f"order must be non-negative but got {n}")
        d = wrap_dim(dim, self.ndim)
        parts = [p for p in (prepend, self, append) if p is not None]
        x = _fns.cat(parts, d) if len(parts) > 1 else self
        for _ in range(n):
            length = x.shape[d]
            if length == 0:
                break
            nxt, prev = x.narrow(d, 1, length - 1), x.narrow(d, 0, length - 1)
            x = nxt ^ prev if x._data.dtype.kind == "b" else nxt - prev
        return x

    def cross(self, other, dim=None):
        """The cross product of 3-vectors along ``dim`` (None: the first dimension of size 3)."""
        if self.ndim != other.ndim:
            raise RuntimeError(
                f"linalg.cross: inputs must have the same number of dimensions, got "
                f"{self.ndim} and {other.ndim}"
            )
        shape = tuple(np.broadcast_shapes(tuple(self.shape), tuple(other.shape)))
        if dim is None:
            dim = next((i for i, s in enumerate(shape) if s == 3), None)
            if dim is None:
                raise RuntimeError("no dimension of size 3 in input")
        d = wrap_dim(dim, len(shape))
        if self.shape[d] != 3 or other.shape[d] != 3:
            raise RuntimeError(
                f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                f"{self.shape[d]} and {other.shape[d]}"
            )
        a, b = self.expand(*shape), other.expand(*shape)
        a1, a2, a3 = a.unbind(d)
        b1, b2, b3 = b.unbind(d)
        parts = [a2 * b3 - a3 * b2, a3 * b1 - a1 * b3, a1 * b2 - a2 * b1]
        return _fns.stack(parts, d)

    # ---- diagonals -------------------------------------------------------------------------

    def diagonal(self, offset=0, dim1=0, dim2=1):
        """The ``offset`` diagonal of the matrices spanned by dim1 and dim2, as the last
        dimension: a view of a host tensor (as torch's), a copy of a device tensor."""
        if self.ndim < 2:
            raise RuntimeError(f"diagonal(): expected a tensor of 2 or more dims, got {self.ndim}")
        d1, d2 = wrap_dim(dim1, self.ndim), wrap_dim(dim2, self.ndim)
        if d1 == d2:
            raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
        if self._data.__class__ is np.ndarray:
            out = S.Diagonal.apply(self, offset=offset, d1=d1, d2=d2)
            return self._view_of(out, _diagonal_again, (offset, d1, d2))
        rest = [i for i in range(self.ndim) if i not in (d1, d2)]
        x = self.permute(*rest, d1, d2)
        rows, cols = _diag_index(self.shape[d1], self.shape[d2], offset)
        lead = (slice(None),) * len(rest)
        return x[(*lead, _wrap_like(self, rows), _wrap_like(self, cols))]

    def trace(self):
        """The sum of the main diagonal of a matrix."""
        if self.ndim != 2:
            raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {self.ndim}")
        return self.diagonal().sum()

    def diag(self, diagonal=0):
        """A vector's square matrix with it on the ``diagonal``-th diagonal, or a matrix's
        ``diagonal``-th diagonal as a vector."""
        if self.ndim == 2:
            return self.diagonal(diagonal).clone()  # a copy, as torch's diag
        if self.ndim != 1:
            raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {self.ndim}D")
        n = self.shape[0] + abs(diagonal)
        rows, cols = _diag_index(n, n, diagonal)
        flat = _wrap_like(self, rows * n + cols)
        out = _creation.zeros(n * n, dtype=self.dtype, device=self.device)
        return out.scatter(0, flat, self).reshape(n, n)

    # ---- repetition and selection ---------------------------------------------------------

    def tile(self, *dims, **kwargs):
        """Repeat along each dimension; ``dims`` shorter than ndim repeats the last ones."""
        if kwargs:
            dims = _shape_args(dims, "tile", "dims", kwargs)
        dims = dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
        dims = tuple(dims)
        return self.repeat(*((1,) * (self.ndim - len(dims)) + dims))

    def masked_select(self, mask):
        """The entries where ``mask`` (broadcast with self) is True, as a 1-D tensor."""
        if not isinstance(mask, _function.Tensor) or mask._data.dtype.kind != "b":
            got = mask.dtype if isinstance(mask, _function.Tensor) else type(mask).__name__
            raise RuntimeError(f"masked_select: expected BoolTensor for mask, got {got}")
        shape = tuple(np.broadcast_shapes(tuple(self.shape), tuple(mask.shape)))
        return self.expand(*shape)[mask.expand(*shape)]

    def index_add(self, dim, index, source, *, alpha=1):
        """A copy of self with ``alpha * source`` slices added at ``index`` along ``dim``
        (repeated indices accumulate)."""
        d = wrap_dim(dim, max(self.ndim, 1))
        if index.ndim > 1 or index._data.dtype.kind not in "iu":
            raise IndexError("index_add_(): Index is supposed to be a vector of integers")
        if source.ndim != self.ndim or source.shape[d] != index.shape[0]:
            raise RuntimeError(
                f"index_add_(): source {list(source.shape)} must match self "
                f"{list(self.shape)} except in dim {d}, where it has one slice per index "
                f"({index.shape[0]})"
            )
        view = [1] * self.ndim
        view[d] = -1
        idx = index.reshape(*view).expand(*source.shape)
        return self.scatter_add(d, idx, source * alpha if alpha != 1 else source)

    def index_add_(self, dim, index, source, *, alpha=1):
        return _inplace_via(
            self, lambda a: a.index_add(dim, index, source, alpha=alpha), "index_add_", source
        )

    def relu_(self):
        return _inplace_via(self, lambda a: a.relu(), "relu_")

    def sigmoid_(self):
        # recorded as sigmoid + 0: sigmoid's backward reads its output, which must not be the
        # tensor this call overwrites
        return _inplace_via(
            self, lambda a: a.sigmoid(), "sigmoid_", record=lambda a: a.sigmoid() + 0
        )

    # ---- values and layout ----------------------------------------------------------------

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        """The distinct values (sorted), with the inverse map and counts when asked."""
        h = _host(self)
        if dim is not None:
            dim = wrap_dim(dim, self.ndim)
        r = np.unique(h, return_inverse=return_inverse, return_counts=return_counts, axis=dim)
        if not (return_inverse or return_counts):
            return _wrap_like(self, r)
        r = list(r)
        if return_inverse:
            inv = r[1].reshape(h.shape if dim is None else (h.shape[dim],))
            r[1] = inv.astype(np.int64)
        out = [_wrap_like(self, r[0])] + [_wrap_like(self, v.astype(np.int64)) for v in r[1:]]
        return tuple(out)

    def stride(self, dim=None):
        """Strides in elements of the row-major layout (fastnn tensors are contiguous or
        numpy views; this reports the storage's actual strides)."""
        if isinstance(self._data, np.ndarray):
            out = tuple(s // self._data.dtype.itemsize for s in self._data.strides)
        else:  # device arrays are contiguous
            out = tuple(int(np.prod(self.shape[i + 1 :])) for i in range(self.ndim))
        return out if dim is None else out[wrap_dim(dim, max(self.ndim, 1))]

    def multinomial(self, num_samples, replacement=False, *, generator=None):
        return _fmore.multinomial(self, num_samples, replacement, generator=generator)

    def histc(self, bins=100, min=0, max=0):
        return _fmore.histc(self, bins, min, max)

    def histogram(self, bins=100, *, range=None, weight=None, density=False):
        return _fmore.histogram(self, bins, range=range, weight=weight, density=density)

    def bernoulli(self, p=None, *, generator=None):
        """0/1 draws with probability ``p`` (default: self's values), in self's dtype."""
        probs = _host(self) if p is None else np.broadcast_to(np.asarray(p), self.shape)
        if np.any((probs < 0) | (probs > 1)) or np.any(np.isnan(probs)):
            raise RuntimeError("bernoulli: all probabilities must be in the range [0, 1]")
        u = _random.rng_of(generator, "bernoulli").random(self.shape)
        return _wrap_like(self, (u < probs).astype(self._data.dtype))

    def bernoulli_(self, p=0.5, *, generator=None):
        r = self.bernoulli(p, generator=generator)
        _devices.of(self._data).copyto(self._data, r._data)
        self._vc[0] += 1
        return self
