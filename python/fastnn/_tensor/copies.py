"""torch's ``*_copy`` functions: each view op (view, permute, expand, transpose, squeeze,
diagonal, select, slice, split, unbind, unfold, as_strided...) whose result is a fresh contiguous
tensor instead of a view, so writes to it never reach the input. Each is the view op followed by
``clone``, so the gradient is the view op's own.
"""

import numpy as np

from .._core import dtype as _dtype
from .._core.dims import wrap_dim
from ..autograd import function as _function
from . import creation as _creation


def _input(x, fn):
    if not isinstance(x, _function.Tensor):
        raise TypeError(f"{fn}(): argument 'input' must be Tensor, not {type(x).__name__}")
    return x


def _copy(view):
    # contiguous() already copies a strided view; a contiguous one needs clone
    return view.clone() if view.is_contiguous() else view.contiguous()


def view_copy(input, size, *rest):
    """``input.view(size)`` copied; ``view_copy(input, dtype)`` reinterprets the bytes of a
    copy as another dtype of the same item size (no gradient, as in torch)."""
    x = _input(input, "view_copy")
    if isinstance(size, _dtype.dtype):
        want = size.dtype
        have = x._data.dtype
        if want.itemsize != have.itemsize:
            raise RuntimeError(
                f"view_copy(): dtype {_dtype.name(want)} must have the item size of the input's "
                f"{_dtype.name(have)} ({have.itemsize} bytes)"
            )
        host = np.ascontiguousarray(x._backend().to_numpy(x._data)).copy()
        return _creation.tensor(host.view(want), device=x.device)
    return _copy(x.view(size, *rest))


def permute_copy(input, dims):
    return _copy(_input(input, "permute_copy").permute(*dims))


def expand_copy(input, size, *, implicit=False):
    return _copy(_input(input, "expand_copy").expand(*size))


def t_copy(input):
    return _copy(_input(input, "t_copy").t())


def transpose_copy(input, dim0, dim1):
    return _copy(_input(input, "transpose_copy").transpose(dim0, dim1))


def squeeze_copy(input, dim=None):
    x = _input(input, "squeeze_copy")
    return _copy(x.squeeze() if dim is None else x.squeeze(dim))


def unsqueeze_copy(input, dim):
    return _copy(_input(input, "unsqueeze_copy").unsqueeze(dim))


def diagonal_copy(input, offset=0, dim1=0, dim2=1):
    return _copy(_input(input, "diagonal_copy").diagonal(offset, dim1, dim2))


def detach_copy(input):
    return _input(input, "detach_copy").detach().clone()


def alias_copy(input):
    return _input(input, "alias_copy").clone()


def select_copy(input, dim, index):
    return _copy(_input(input, "select_copy").select(dim, index))


def slice_copy(input, dim=0, start=None, end=None, step=1):
    """``input[..., start:end:step, ...]`` along ``dim``, copied (step must be positive)."""
    x = _input(input, "slice_copy")
    if not isinstance(step, int) or step <= 0:
        raise RuntimeError(f"slice_copy(): step must be positive, got {step!r}")
    d = wrap_dim(dim, x.dim())
    return _copy(x[(slice(None),) * d + (slice(start, end, step),)])


def narrow_copy(input, dim, start, length):
    return _copy(_input(input, "narrow_copy").narrow(dim, start, length))


def split_copy(tensor, split_size, dim=0):
    return [_copy(p) for p in _input(tensor, "split_copy").split(split_size, dim)]


def split_with_sizes_copy(input, split_sizes, dim=0):
    x = _input(input, "split_with_sizes_copy")
    return [_copy(p) for p in x.split(list(split_sizes), dim)]


def unbind_copy(input, dim=0):
    return [_copy(p) for p in _input(input, "unbind_copy").unbind(dim)]


def unfold_copy(input, dimension, size, step):
    return _copy(_input(input, "unfold_copy").unfold(dimension, size, step))


def as_strided_copy(input, size, stride, storage_offset=None):
    x = _input(input, "as_strided_copy")
    return _copy(x.as_strided(size, stride, storage_offset))


__all__ = [
    "alias_copy",
    "as_strided_copy",
    "detach_copy",
    "diagonal_copy",
    "expand_copy",
    "narrow_copy",
    "permute_copy",
    "select_copy",
    "slice_copy",
    "split_copy",
    "split_with_sizes_copy",
    "squeeze_copy",
    "t_copy",
    "transpose_copy",
    "unbind_copy",
    "unfold_copy",
    "unsqueeze_copy",
    "view_copy",
]
