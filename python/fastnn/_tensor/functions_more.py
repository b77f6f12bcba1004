"""More of torch's top-level functions: hstack / vstack, broadcast_to / broadcast_tensors, cdist,
bucketize / searchsorted / histc / histogram, and the random helpers logspace, randint_like, multinomial,
seed and initial_seed. Differentiable ones are compositions of differentiable ops."""

import secrets

import numpy as np

from .._core import dtype as _dtype
from .._core import memory_format as _formats
from .._core import random as _random
from .._core.return_types import return_type as _return_type
from ..autograd import function as _function
from . import creation as _creation
from . import functions as _fns
from .logic import _host


def _tensor_arg(x, fn, arg):
    if not isinstance(x, _function.Tensor):
        raise TypeError(f"{fn}(): argument '{arg}' must be Tensor, not {type(x).__name__}")
    return x


# ---- stacking and broadcasting --------------------------------------------------------------


def hstack(tensors, *, out=None):
    """Concatenate along the columns: dim 1, or dim 0 for 1-D tensors."""
    tensors = [t.reshape(1) if t.ndim == 0 else t for t in _fns._tensor_list(tensors, "hstack")]
    return _fns.cat(tensors, 0 if tensors and tensors[0].ndim == 1 else 1, out=out)


def vstack(tensors, *, out=None):
    """Concatenate along the rows, 0-d and 1-d tensors first made rows (1, n)."""
    tensors = [t.reshape(1, -1) if t.ndim < 2 else t for t in _fns._tensor_list(tensors, "vstack")]
    return _fns.cat(tensors, 0, out=out)


row_stack = vstack


def broadcast_to(input, size):
    return _tensor_arg(input, "broadcast_to", "input").broadcast_to(size)


def broadcast_tensors(*tensors):
    """The tensors expanded to their common broadcast shape."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    for i, t in enumerate(tensors):
        _tensor_arg(t, "broadcast_tensors", f"tensors[{i}]")
    try:
        shape = tuple(np.broadcast_shapes(*(tuple(t.shape) for t in tensors)))
    except ValueError:
        raise RuntimeError(
            "broadcast_tensors: shapes "
            + ", ".join(str(list(t.shape)) for t in tensors)
            + " cannot be broadcast together"
        ) from None
    return tuple(t.expand(shape) for t in tensors)


# ---- distances ------------------------------------------------------------------------------


def cdist(x1, x2, p=2.0, compute_mode=None):
    """p-norm distances between the rows of x1 (..., P, M) and of x2 (..., R, M): (..., P, R).
    A zero distance has a zero gradient, as in torch (not the NaN of differentiating a norm
    at 0)."""
    _tensor_arg(x1, "cdist", "x1")
    _tensor_arg(x2, "cdist", "x2")
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(
            f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D, X2 got: {x2.ndim}D"
        )
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(
            f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}"
        )
    if not _dtype.is_floating(x1._data.dtype) or not _dtype.is_floating(x2._data.dtype):
        raise RuntimeError(
            f"cdist only supports floating-point dtypes, X1 got: {x1.dtype}, X2 got: {x2.dtype}"
        )
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    d = (x1.unsqueeze(-2) - x2.unsqueeze(-3)).abs()
    if p == 0:
        return (d != 0).sum(-1).to(d.dtype)
    if p == float("inf"):
        return d.amax(-1)
    if p == 1:
        return d.sum(-1)
    s = (d * d).sum(-1) if p == 2 else (d**p).sum(-1)
    positive = s > 0
    safe = _fns.where(positive, s, 1.0)  # the root's gradient is infinite at 0
    root = safe.sqrt() if p == 2 else safe ** (1.0 / p)
    return _fns.where(positive, root, 0.0)


# ---- statistics in one call ----------------------------------------------------------------


def std_mean(input, dim=None, unbiased=True, keepdim=False, *, correction=None):
    x = _tensor_arg(input, "std_mean", "input")
    return (
        x.std(dim, unbiased=unbiased, keepdim=keepdim, correction=correction),
        x.mean(dim, keepdim=keepdim),
    )


def var_mean(input, dim=None, unbiased=True, keepdim=False, *, correction=None):
    x = _tensor_arg(input, "var_mean", "input")
    return (
        x.var(dim, unbiased=unbiased, keepdim=keepdim, correction=correction),
        x.mean(dim, keepdim=keepdim),
    )


# ---- searching and counting -----------------------------------------------------------------


def _search_dtype(out_int32):
    return np.int32 if out_int32 else np.int64


def searchsorted(
    sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None, out=None
):
    """For each value, the index where it would be inserted in ``sorted_sequence`` (each row of
    it, when it has more than one dimension) to keep it sorted; ``right``/``side='right'`` puts
    it after equal entries."""
    seq = _tensor_arg(sorted_sequence, "searchsorted", "sorted_sequence")
    if side not in (None, "left", "right"):
        raise RuntimeError(
            f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}"
        )
    if side is not None and right and side == "left":
        raise RuntimeError(
            "torch.searchsorted(): side and right can't be set to opposites, got side of left "
            "while right was True"
        )
    side = side or ("right" if right else "left")
    scalar = not isinstance(input, _function.Tensor)
    hs = _host(seq)
    hv = np.asarray(input) if scalar else _host(input)
    order = None if sorter is None else _host(sorter)
    if hs.ndim <= 1:
        r = np.searchsorted(hs, hv, side=side, sorter=order)
    else:
        if hv.ndim != hs.ndim or hv.shape[:-1] != hs.shape[:-1]:
            raise RuntimeError(
                "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                "dimensions of boundaries tensor and input value tensor must match, but we got "
                f"boundaries tensor {list(hs.shape)} and input value tensor {list(hv.shape)}"
            )
        rows_s = hs.reshape(-1, hs.shape[-1])
        rows_v = hv.reshape(-1, hv.shape[-1])
        rows_o = None if order is None else order.reshape(-1, hs.shape[-1])
        r = np.stack(
            [
                np.searchsorted(s, v, side=side, sorter=None if rows_o is None else rows_o[i])
                for i, (s, v) in enumerate(zip(rows_s, rows_v))
            ]
        ).reshape(hv.shape)
    res = _creation.tensor(np.asarray(r, dtype=_search_dtype(out_int32)), device=seq.device)
    return res if out is None else _fns._into(out, "searchsorted", lambda: res)


def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    """The bucket of each value among the 1-D sorted ``boundaries``: i with
    boundaries[i-1] < x <= boundaries[i] (``right``: boundaries[i-1] <= x < boundaries[i])."""
    b = _tensor_arg(boundaries, "bucketize", "boundaries")
    if b.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({b.ndim})")
    return searchsorted(b, input, out_int32=out_int32, right=right, out=out)


def histc(input, bins=100, min=0, max=0, *, out=None):
    """Counts of the values in ``bins`` equal-width bins over [min, max] (both 0: the data's
    range); values outside are ignored. The result has the input's (floating) dtype."""
    x = _tensor_arg(input, "histc", "input")
    if not _dtype.is_floating(x._data.dtype):
        raise RuntimeError(f"torch.histc: input tensor must be floating point, got {x.dtype}")
    if not isinstance(bins, int) or bins <= 0:
        raise RuntimeError(f"torch.histc(): bins must be > 0, but got {bins} for bins")
    h = _host(x).ravel()
    lo, hi = float(min), float(max)
    if lo == hi and h.size:
        lo, hi = float(h.min()), float(h.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError(f"torch.histc(): max must be larger than min, got min {min} max {max}")
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise RuntimeError(f"torch.histc(): range of [{lo}, {hi}] is not finite")
    counts, _ = np.histogram(h[~np.isnan(h)], bins=bins, range=(lo, hi))
    res = _creation.tensor(counts.astype(x._data.dtype), device=x.device)
    return res if out is None else _fns._into(out, "histc", lambda: res)


histogram_result = _return_type("histogram", ["hist", "bin_edges"])


def histogram(input, bins=100, *, range=None, weight=None, density=False, out=None):
    """(hist, bin_edges): counts (or summed ``weight``, or a density with ``density``) of the
    values in ``bins`` equal-width bins over ``range`` (default: the data's, widened by 0.5 on
    each side when it is one value), or over the edges of a 1-D tensor ``bins``. Each bin is
    half-open but the last, which includes its upper edge; values outside are ignored. Both
    results have the input's floating dtype."""
    x = _tensor_arg(input, "histogram", "input")
    dt = x._data.dtype
    if not _dtype.is_floating(dt):
        kind = {"i": "Int", "u": "Byte", "b": "Bool"}.get(dt.kind, dt.name)
        kind = {"int64": "Long", "int16": "Short", "int8": "Char"}.get(dt.name, kind)
        raise NotImplementedError(f'"histogramdd" not implemented for {kind!r}')
    h = _host(x).ravel()
    w = None
    if weight is not None:
        w = _host(_tensor_arg(weight, "histogram", "weight"))
        if w.shape != tuple(x.shape):
            raise RuntimeError(
                "torch.histogram: if weight tensor is provided it should have the same shape "
                f"as the input tensor, but got input with shape {list(x.shape)} and weight "
                f"with shape {list(w.shape)}"
            )
        if w.dtype != dt:
            raise RuntimeError(
                "torch.histogram: if weight tensor is provided, input tensor and weight tensor "
                f"should have the same dtype, but got input({dt.name}), and "
                f"weight({w.dtype.name})"
            )
        w = w.ravel()
    if isinstance(bins, _function.Tensor):
        edges = _host(bins).astype(dt)
        if edges.ndim != 1 or edges.size < 1:
            raise RuntimeError("torch.histogram: bins tensor should have one dimension")
        if np.any(np.diff(edges) < 0):  # torch counts nothing against descending edges
            counts = np.zeros(max(edges.size - 1, 0), dtype=np.float64)
            return _histogram_result(counts, edges, dt, x.device, out)
    else:
        if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins}")
        if range is not None:
            lo, hi = (float(v) for v in range)
        elif h.size:
            lo, hi = float(h.min()), float(h.max())
        else:
            lo, hi = 0.0, 1.0
        if lo > hi:
            raise RuntimeError(
                f"torch.histogram: min should not exceed max, but got min {lo} max {hi}"
            )
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise RuntimeError(f"torch.histogram: range [{lo}, {hi}] is not finite")
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        edges = np.linspace(lo, hi, int(bins) + 1).astype(dt)
    keep = ~np.isnan(h)
    counts, _ = np.histogram(
        h[keep], bins=edges.astype(np.float64), weights=None if w is None else w[keep]
    )
    counts = counts.astype(np.float64)
    if density:
        total = counts.sum()
        widths = np.diff(edges.astype(np.float64))
        with np.errstate(divide="ignore", invalid="ignore"):
            counts = counts / (total * widths)
    return _histogram_result(counts, edges, dt, x.device, out)


def _histogram_result(counts, edges, dt, device, out):
    res = histogram_result(
        _creation.tensor(counts.astype(dt), device=device),
        _creation.tensor(np.ascontiguousarray(edges, dtype=dt), device=device),
    )
    if out is None:
        return res
    hist_out, edges_out = out
    _fns._into(hist_out, "histogram", lambda: res.hist)
    _fns._into(edges_out, "histogram", lambda: res.bin_edges)
    return histogram_result(hist_out, edges_out)


# ---- creation and random draws --------------------------------------------------------------


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    """``base ** linspace(start, end, steps)``."""
    dt = _dtype.to_dtype(dtype) or _dtype.default()
    exps = np.linspace(float(start), float(end), steps, dtype=np.float64)
    vals = np.power(float(base), exps)
    if dt.kind in "iu":
        vals = np.trunc(vals)
    return _creation.tensor(vals.astype(dt), device=device, requires_grad=requires_grad)


def randint_like(
    input, low=0, high=None, *, dtype=None, device=None, requires_grad=False, memory_format=None
):
    """randint_like(input, high) or randint_like(input, low, high): input's shape."""
    _tensor_arg(input, "randint_like", "input")
    if memory_format is not None:
        _formats.check(memory_format, input.ndim, "randint_like")
    if high is None:
        low, high = 0, low
    dt = _dtype.to_dtype(dtype) or input._data.dtype
    r = _creation.randint(low, high, tuple(input.shape), device=device or input.device)
    r = r if r._data.dtype == dt else r.to(dt)
    return r.requires_grad_(True) if requires_grad else r


def bernoulli(input, p=None, *, generator=None, out=None):
    res = _tensor_arg(input, "bernoulli", "input").bernoulli(p, generator=generator)
    return res if out is None else _fns._into(out, "bernoulli", lambda: res)


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """``num_samples`` category indices per row of the (unnormalized) probabilities ``input``
    (1-D or 2-D), with or without replacement."""
    x = _tensor_arg(input, "multinomial", "input")
    if x.ndim not in (1, 2):
        raise RuntimeError(f"prob_dist must be 1 or 2 dim, got {x.ndim}")
    if not _dtype.is_floating(x._data.dtype):
        raise RuntimeError(
            f"multinomial only supports floating-point dtypes for input, got {x.dtype}"
        )
    p = _host(x).astype(np.float64).reshape(-1, x.shape[-1])
    n = p.shape[1]
    if not isinstance(num_samples, int) or num_samples <= 0:
        raise RuntimeError(f"cannot sample n_sample <= 0 samples, got {num_samples}")
    if not replacement and num_samples > n:
        raise RuntimeError(
            "cannot sample n_sample > prob_dist.size(-1) samples without replacement"
        )
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    totals = p.sum(1)
    if np.any(totals <= 0):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    if not replacement and np.any((p > 0).sum(1) < num_samples):
        raise RuntimeError(
            "invalid multinomial distribution (with replacement=False, not enough non-negative category to sample)"
        )
    rng = _random.rng_of(generator, "multinomial")
    if replacement or num_samples == 1:  # inverse CDF of each row (one draw: either way)
        u = rng.random((p.shape[0], num_samples))
        cdf = np.cumsum(p, 1) / totals[:, None]
        r = np.stack([np.searchsorted(c, v, side="right") for c, v in zip(cdf, u)])
        r = np.minimum(r, n - 1)
    else:  # the k largest of u_i ** (1 / p_i) are a draw without replacement, largest first
        keys = np.where(p > 0, np.log(rng.random(p.shape)) / np.where(p > 0, p, 1.0), -np.inf)
        top = np.argpartition(-keys, num_samples - 1, axis=1)[:, :num_samples]
        order = np.argsort(-np.take_along_axis(keys, top, 1), axis=1, kind="stable")
        r = np.take_along_axis(top, order, 1)
    r = r.astype(np.int64).reshape(*x.shape[:-1], num_samples)
    res = _creation.tensor(r, device=x.device)
    return res if out is None else _fns._into(out, "multinomial", lambda: res)


def seed():
    """Seed fastnn's global random state from the OS's entropy; returns the seed."""
    s = secrets.randbits(63)
    _random.manual_seed(s)
    return s


def initial_seed():
    """The seed the global random state started from (manual_seed's, or seed()'s)."""
    return _random.initial_seed()


__all__ = [
    "bernoulli",
    "broadcast_tensors",
    "broadcast_to",
    "bucketize",
    "cdist",
    "histc",
    "histogram",
    "hstack",
    "initial_seed",
    "logspace",
    "multinomial",
    "randint_like",
    "row_stack",
    "searchsorted",
    "seed",
    "std_mean",
    "var_mean",
    "vstack",
]
