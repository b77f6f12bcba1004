"""``fastnn.histogramdd``: counts of D-dimensional points (the last dim of ``input``) in a grid
of bins, each dim's bins equal-width over its range or given as edges. Like ``histogram``, a bin
is half-open except each dim's last, which holds its upper edge; points outside are dropped.
Counting runs on the host (numpy.histogramdd); no gradient, as in torch."""

import builtins  # the argument named range hides the builtin in histogramdd

import numpy as np

from .._core import dtype as _dtype
from .._core.return_types import return_type as _return_type
from ..autograd import function as _function
from . import creation as _creation
from .logic import _host

histogramdd_result = _return_type("histogramdd", ["hist", "bin_edges"])


def _dim_edges(points, d, bins, span, dt):
    """Dim d's edges: a given 1-d tensor, or ``bins`` equal bins over ``span`` (the data's range
    by default, widened by 0.5 each side when that is one value)."""
    if isinstance(bins, _function.Tensor):
        edges = _host(bins).astype(dt)
        if edges.ndim != 1 or edges.size < 1:
            raise RuntimeError(
                f"histogramdd(): the bin edges of dim {d} must be a 1-d tensor, got shape "
                f"{list(bins.shape)}"
            )
        return edges
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins <= 0:
        raise RuntimeError(f"histogramdd(): bins must be > 0, but got {bins!r} for dim {d}")
    if span is not None:
        lo, hi = span
    elif points.shape[0]:
        lo, hi = float(points[:, d].min()), float(points[:, d].max())
    else:
        lo, hi = 0.0, 1.0
    if lo > hi:
        raise RuntimeError(
            f"histogramdd(): min should not exceed max, but got min {lo} max {hi} for dim {d}"
        )
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise RuntimeError(f"histogramdd(): range [{lo}, {hi}] of dim {d} is not finite")
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    return np.linspace(lo, hi, int(bins) + 1).astype(dt)


def histogramdd(input, bins, *, range=None, weight=None, density=False):
    """(hist, bin_edges) of the points ``input`` (..., D): ``bins`` is one int for every dim, a
    list of D ints, or a list of D 1-d tensors of edges; ``range`` is [min_0, max_0, min_1,
    max_1, ...]; ``weight`` (input's shape without its last dim) sums weights instead of
    counting; ``density`` divides by the total and the bin volumes."""
    if not isinstance(input, _function.Tensor):
        raise TypeError(
            f"histogramdd(): argument 'input' must be Tensor, not {type(input).__name__}"
        )
    dt = input._data.dtype
    if not _dtype.is_floating(dt):
        raise NotImplementedError(
            f"histogramdd(): 'input' must be a float tensor, got {_dtype.name(dt)}"
        )
    if input.dim() < 1:
        raise RuntimeError("histogramdd(): 'input' must have at least one dimension")
    D = input.shape[-1]
    points = _host(input).reshape(-1, D).astype(np.float64)
    if isinstance(bins, (int, np.integer)) and not isinstance(bins, bool):
        bins = [bins] * D
    bins = list(bins)
    if len(bins) != D:
        raise RuntimeError(
            f"histogramdd(): expected {D} bin specifications for input of shape "
            f"{list(input.shape)} (its last dim), got {len(bins)}"
        )
    spans = [None] * D
    if range is not None:
        range = [float(v) for v in range]
        if len(range) != 2 * D:
            raise RuntimeError(
                f"histogramdd(): range must have 2 * {D} = {2 * D} values, got {len(range)}"
            )
        spans = [(range[2 * d], range[2 * d + 1]) for d in builtins.range(D)]
    edges = [_dim_edges(points, d, bins[d], spans[d], dt) for d in builtins.range(D)]
    w = None
    if weight is not None:
        if not isinstance(weight, _function.Tensor):
            raise TypeError(
                f"histogramdd(): argument 'weight' must be Tensor, not {type(weight).__name__}"
            )
        if tuple(weight.shape) != tuple(input.shape[:-1]):
            raise RuntimeError(
                f"histogramdd(): weight of shape {list(weight.shape)} must have the shape of "
                f"input {list(input.shape)} without its last dim"
            )
        w = _host(weight).reshape(-1).astype(np.float64)
    keep = ~np.isnan(points).any(axis=1)
    counts, _ = np.histogramdd(
        points[keep],
        bins=[e.astype(np.float64) for e in edges],
        weights=None if w is None else w[keep],
    )
    if density:
        volume = np.ones(counts.shape)
        for d, e in enumerate(edges):
            shape = [1] * D
            shape[d] = -1
            volume = volume * np.diff(e.astype(np.float64)).reshape(shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            counts = counts / (counts.sum() * volume)
    dev = input.device
    return histogramdd_result(
        _creation.tensor(counts.astype(dt), device=dev),
        [_creation.tensor(np.ascontiguousarray(e), device=dev) for e in edges],
    )


__all__ = ["histogramdd"]
