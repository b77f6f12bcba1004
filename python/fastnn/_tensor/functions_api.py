"""Yet more of torch's top-level functions: ``fastnn.<name>(x, ...)`` forms of the Tensor methods of
``math_more.py``, ``index_more.py`` and ``reduce_more.py``, and the functions that are only
top-level: column_stack, dstack, tril_indices / triu_indices, block_diag, cartesian_prod,
combinations, trapezoid / trapz / cumulative_trapezoid, vander, unravel_index, isin, unflatten,
empty_strided. Differentiable ones are compositions of differentiable ops.
"""

import itertools

import numpy as np

from .._core import dtype as _dtype
from .._core.dims import wrap_dim
from ..autograd import function as _function
from . import creation as _creation
from . import functions as _fns
from .logic import _host, _wrap_like

# fastnn.<name>(x, *args, **kwargs) is x.<name>(*args, **kwargs)
_METHODS = [
    "absolute",
    "positive",
    "greater",
    "greater_equal",
    "less",
    "less_equal",
    "not_equal",
    "negative",
    "subtract",
    "multiply",
    "divide",
    "true_divide",
    "square",
    "clamp_min",
    "clamp_max",
    "erfc",
    "erfinv",
    "lgamma",
    "digamma",
    "i0",
    "logit",
    "xlogy",
    "sinc",
    "deg2rad",
    "rad2deg",
    "logaddexp2",
    "float_power",
    "copysign",
    "ldexp",
    "fmax",
    "fmin",
    "signbit",
    "sgn",
    "heaviside",
    "nextafter",
    "gcd",
    "lcm",
    "is_complex",
    "is_nonzero",
    "is_same_size",
    "is_inference",
    "is_conj",
    "is_neg",
    "conj",
    "resolve_conj",
    "resolve_neg",
    "conj_physical",
    "adjoint",
    "ravel",
    "take",
    "take_along_dim",
    "tensor_split",
    "hsplit",
    "vsplit",
    "dsplit",
    "rot90",
    "diag_embed",
    "diagflat",
    "select",
    "select_scatter",
    "slice_scatter",
    "diagonal_scatter",
    "as_strided",
    "index_copy",
    "index_fill",
    "masked_scatter",
    "put",
    "index_put",
    "argwhere",
    "msort",
    "bincount",
    "unique_consecutive",
    "nansum",
    "nanmean",
    "nanmedian",
    "aminmax",
    "cummax",
    "cummin",
    "logcumsumexp",
    "quantile",
    "nanquantile",
    "mode",
    "cov",
    "corrcoef",
    "dist",
    "renorm",
    "inner",
    "vdot",
    "addmv",
    "addr",
    "addbmm",
    "scatter_reduce",
    "unflatten",
    "log1p",
    "expm1",
    "remainder",
    "fmod",
    "floor_divide",
    "sigmoid",
    "mvlgamma",
    "igamma",
    "igammac",
    "index_reduce",
]
# torch's top-level in-place forms: fastnn.<name>_(x, ...) is x.<name>_(...) (the leaf and
# version checks are the method's)
_METHODS += [
    "abs_",
    "acos_",
    "acosh_",
    "addmv_",
    "as_strided_",
    "arccos_",
    "arccosh_",
    "arcsin_",
    "arcsinh_",
    "arctan_",
    "arctanh_",
    "asin_",
    "asinh_",
    "atan_",
    "atanh_",
    "ceil_",
    "clamp_",
    "clamp_max_",
    "clamp_min_",
    "clip_",
    "cos_",
    "cosh_",
    "deg2rad_",
    "detach_",
    "erf_",
    "erfc_",
    "exp2_",
    "exp_",
    "expm1_",
    "fill_",
    "fix_",
    "floor_",
    "frac_",
    "gcd_",
    "i0_",
    "index_put_",
    "lcm_",
    "ldexp_",
    "log10_",
    "log1p_",
    "log2_",
    "log_",
    "logit_",
    "nan_to_num_",
    "neg_",
    "negative_",
    "rad2deg_",
    "reciprocal_",
    "relu_",
    "round_",
    "rsqrt_",
    "sigmoid_",
    "sin_",
    "sinc_",
    "sinh_",
    "sqrt_",
    "square_",
    "tan_",
    "tanh_",
    "trunc_",
    "xlogy_",
    "zero_",
]

_T = _function.Tensor


def _method(name):
    def fn(input, *args, **kwargs):
        if not isinstance(input, _T):
            raise TypeError(
                f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}"
            )
        return getattr(input, name)(*args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``fastnn.{name}(x, ...)`` is ``x.{name}(...)``."
    return fn


for _name in _METHODS:
    if _name not in _fns.__dict__:
        globals()[_name] = _method(_name)
del _name


def xlogy(input, other):
    """input * log(other), 0 where input is 0; either argument may be a number."""
    if not isinstance(input, _T):
        input = _wrap_like(other, np.asarray(input, dtype=_fns._result_dtype((input, other))))
    return input.xlogy(other)


def _tensors(tensors, fn):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    for i, t in enumerate(tensors):
        if not isinstance(t, _T):
            raise TypeError(f"{fn}(): argument 'tensors' ({i}) must be Tensor, not {type(t).__name__}")  # fmt: skip
    return tensors


def column_stack(tensors):
    """Columns side by side: 0-d and 1-d tensors become columns (n, 1), then cat on dim 1."""
    ts = [t.reshape(-1, 1) if t.ndim < 2 else t for t in _fns._tensor_list(tensors, "column_stack")]
    return _fns.cat(ts, 1)


def dstack(tensors):
    """Stack along the third dim, after making each tensor at least 3-D (torch's atleast_3d)."""
    ts = []
    for t in _fns._tensor_list(tensors, "dstack"):
        if t.ndim == 0:
            t = t.reshape(1, 1, 1)
        elif t.ndim == 1:
            t = t.reshape(1, -1, 1)
        elif t.ndim == 2:
            t = t.unsqueeze(-1)
        ts.append(t)
    return _fns.cat(ts, 2)


def _tri_indices(row, col, offset, dtype, upper):
    r, c = np.triu_indices(row, offset, col) if upper else np.tril_indices(row, offset, col)
    dt = _dtype.to_dtype(dtype) if dtype is not None else np.int64
    return _creation.tensor(np.stack([r, c]).astype(dt).reshape(2, -1))


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (2, N) row and column indices of the lower triangle of a row x col matrix."""
    out = _tri_indices(row, col, offset, dtype, False)
    return out if device is None else out.to(device)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    out = _tri_indices(row, col, offset, dtype, True)
    return out if device is None else out.to(device)


def block_diag(*tensors):
    """The tensors (0-d, 1-d as a row, 2-d) on the diagonal of one matrix, zeros elsewhere."""
    mats = []
    for i, t in enumerate(_tensors(tensors, "block_diag")):
        if t.ndim > 2:
            raise RuntimeError(
                f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has {t.ndim} dimensions"
            )
        mats.append(t.reshape(1, -1) if t.ndim < 2 else t)
    if not mats:
        return _creation.empty(1, 0)
    dt = _fns._result_dtype(mats)
    rows = sum(m.shape[0] for m in mats)
    cols = sum(m.shape[1] for m in mats)
    out = mats[0].new_zeros(rows, cols, dtype=_dtype.of(dt))
    r = c = 0
    for m in mats:
        h, w = m.shape
        out[r : r + h, c : c + w] = m.to(out.dtype)
        r, c = r + h, c + w
    return out


def cartesian_prod(*tensors):
    """All combinations of the 1-D tensors' elements, one per row (a 1-D tensor for one input)."""
    ts = _tensors(tensors, "cartesian_prod")
    for t in ts:
        if t.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if len(ts) == 1:
        return ts[0]
    grids = _fns.meshgrid(*ts, indexing="ij")
    return _fns.stack([g.reshape(-1) for g in grids], 1)


def combinations(input, r=2, with_replacement=False):
    """The r-length combinations of a 1-D tensor's elements, one per row."""
    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    n = input.shape[0]
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    idx = np.array(list(pick(range(n), r)), dtype=np.int64).reshape(-1, r)
    if r == 0 or idx.size == 0:
        return input.new_empty(0) if r != 1 else input.new_empty(0, 1)
    out = input[_wrap_like(input, idx)]
    return out.reshape(-1) if r == 1 else out


def _trapezoid_steps(y, x, dx, dim):
    d = wrap_dim(dim, y.ndim)
    n = y.shape[d]
    mean = (y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1)) * 0.5 if n > 1 else None
    if x is None:
        return d, mean, dx
    if not isinstance(x, _T):
        raise TypeError(f"trapezoid(): argument 'x' must be Tensor, not {type(x).__name__}")
    steps = x.diff(dim=d if x.ndim == y.ndim else -1)
    if x.ndim == 1 and y.ndim > 1:
        shape = [1] * y.ndim
        shape[d] = n - 1
        steps = steps.reshape(shape)
    return d, mean, steps


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The trapezoid-rule integral of y along ``dim``, at points x or a spacing dx (default 1)."""
    if x is not None and not isinstance(x, _T):
        dx, x = x, None
    d, mean, step = _trapezoid_steps(y, x, 1.0 if dx is None else dx, dim)
    if mean is None:
        shape = list(y.shape)
        del shape[d]
        return y.new_zeros(*shape, dtype=_dtype.of(_dtype.default()) if not _dtype.is_floating(y._data.dtype) else None)  # fmt: skip
    return (mean * step).sum(d)


def trapz(y, x=None, *, dx=None, dim=-1):
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    if x is not None and not isinstance(x, _T):
        dx, x = x, None
    d, mean, step = _trapezoid_steps(y, x, 1.0 if dx is None else dx, dim)
    if mean is None:
        return y.narrow(d, 0, 0).to(_dtype.default()) if not _dtype.is_floating(y._data.dtype) else y.narrow(d, 0, 0)  # fmt: skip
    return (mean * step).cumsum(d)


def vander(x, N=None, increasing=False):
    """Columns of powers of the 1-D x: x^(N-1) ... x^0 (or rising with ``increasing``)."""
    if x.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    if n == 0:
        return x.new_empty(x.shape[0], 0)
    xx = x if x._data.dtype.kind == "i" or _dtype.is_floating(x._data.dtype) else x.long()
    cols = [xx.new_ones(x.shape[0])]
    for _ in range(1, n):
        cols.append(cols[-1] * xx)
    out = _fns.stack(cols, 1)
    return out if increasing else out.flip(1)


def unravel_index(indices, shape):
    """The coordinates of flat ``indices`` in ``shape``: a tuple of int64 tensors."""
    if isinstance(shape, int):
        shape = (shape,)
    t = indices if isinstance(indices, _T) else _creation.tensor(indices)
    if t._data.dtype.kind not in "iu":
        raise TypeError("expected 'indices' to be integer dtype, but got " + str(t.dtype))
    h = _host(t)
    size = int(np.prod(shape))
    if h.size and (h.max() >= size or h.min() < -size):
        raise RuntimeError("'indices' must be in range [-size, size) for the given shape")
    coords = np.unravel_index(np.where(h < 0, h + size, h), tuple(shape))
    return tuple(_wrap_like(t, c.astype(np.int64)) for c in coords)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each of ``elements`` is among ``test_elements`` (either may be a number)."""
    if not isinstance(elements, _T) and not isinstance(test_elements, _T):
        raise TypeError("isin(): expected at least one Tensor argument")
    like = elements if isinstance(elements, _T) else test_elements
    e = _host(elements) if isinstance(elements, _T) else np.asarray(elements)
    s = _host(test_elements) if isinstance(test_elements, _T) else np.asarray(test_elements)
    return _wrap_like(like, np.isin(e, s, assume_unique=assume_unique, invert=invert))


def empty_strided(size, stride, *, dtype=None, device=None, requires_grad=False, **kwargs):
    """An uninitialised tensor of ``size`` (contiguous: fastnn keeps no custom strides)."""
    return _creation.empty(*size, dtype=dtype, device=device, requires_grad=requires_grad)


__all__ = [
    "block_diag",
    "cartesian_prod",
    "column_stack",
    "combinations",
    "cumulative_trapezoid",
    "dstack",
    "empty_strided",
    "isin",
    "trapezoid",
    "trapz",
    "tril_indices",
    "triu_indices",
    "unravel_index",
    "vander",
    "xlogy",
]
__all__ += [n for n in _METHODS if n not in _fns.__dict__ and n != "xlogy"]
__all__.sort()
