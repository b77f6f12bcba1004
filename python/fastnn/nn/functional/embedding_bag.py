"""``F.embedding_bag``: sums, means or maxima of bags of embedding rows, without materialising
the per-bag (bag, length, dim) tensor a padded lookup would need.

A plain sum or mean (no padding_idx, per_sample_weights, max_norm or scale_grad_by_freq) is one
bag kernel each way (``fastnn.kernels.embedding_bag`` / ``embedding_bag_backward``): the bag sums
straight from the table, and the table gradient by one scatter-add of each bag's gradient.
Otherwise the rows are looked up once with the embedding gather kernel (its scatter-add backward gives the
table gradient, scale_grad_by_freq and max_norm included), then reduced per bag: sum and mean by
a segment sum of each bag's contiguous rows (weighted by per_sample_weights for 'sum', which
therefore get their gradient too), max by a per-bag maximum whose backward routes each output
element's gradient to the row that held the maximum. Entries equal to padding_idx take no part
in a bag: not summed, not counted by the mean, never the maximum; an empty bag gives zeros.

Bags: a 2-D input (B, L) is B bags of L; a 1-D input is cut at ``offsets`` (starts, the first
0, non-decreasing; with include_last_offset the last offset ends the last bag).
"""

import numpy as np

from ... import _C as _kernels
from ..._core import dtype as _dtype
from ..._tensor.creation import tensor as _tensor
from ...autograd.function import Function
from .embedding import _INDEX_DTYPES, check_sparse, embedding, padding_row


class _BagMax(Function):
    """out[b] = the element-wise max over the rows of bag b (only rows with keep = True)."""

    def forward(self, rows, *, bag_starts, bag_ends, keep):
        be = self.be
        r = be.to_numpy(rows)
        out = np.zeros((len(bag_starts), r.shape[1]), r.dtype)
        arg = np.full(out.shape, -1, np.int64)
        for b, (s, e) in enumerate(zip(bag_starts, bag_ends)):
            pos = s + np.flatnonzero(keep[s:e])
            if pos.size:
                k = np.argmax(r[pos], axis=0)  # the first NaN wins, as torch's max does
                arg[b] = pos[k]
                out[b] = r[pos[k], np.arange(r.shape[1])]
        if self.requires_grad:
            self.arg, self.n = arg, r.shape[0]
        return be.from_numpy(out)

    def backward(self, g):
        gn = self.be.to_numpy(g)
        d = np.zeros((self.n, gn.shape[1]), gn.dtype)
        b, col = np.nonzero(self.arg >= 0)
        d[self.arg[b, col], col] = gn[b, col]  # each (row, col) is the max of one bag at most
        return self.be.from_numpy(d)

    def graph_forward(self, rows):
        """For create_graph=True: each maximum as a gather of its row (0 for an empty bag)."""
        found = self.arg >= 0
        at = rows.gather(0, _tensor(np.where(found, self.arg, 0), device=rows.device))
        return at * _tensor(found, dtype=rows.dtype, device=rows.device)


class _BagSum(Function):
    """out[b] = the sum of the rows of bag b (contiguous positions [start, end)); empty bags 0.
    The backward hands each row its bag's gradient."""

    def forward(self, rows, *, bag_starts, bag_ends):
        r = self.be.to_numpy(rows)
        n = r.shape[0]
        bag_of = np.repeat(np.arange(len(bag_starts)), bag_ends - bag_starts)
        if r.dtype in (np.float32, np.float64):
            # a segment sum is the embedding backward's scatter-add with the bag as the index
            # (rows summed in order); numpy's add.reduceat along axis 0 took 5x as long
            r = np.ascontiguousarray(r[: bag_of.size])
            out = _kernels.embedding_backward(r, bag_of, len(bag_starts))
        else:
            out = np.zeros((len(bag_starts), r.shape[1]), r.dtype)
            full = bag_ends > bag_starts
            if full.any():
                out[full] = np.add.reduceat(r, bag_starts[full], axis=0)
        if self.requires_grad:
            self.bag_of, self.n, self.nbags = bag_of, n, len(bag_starts)
        return self.be.from_numpy(out)

    def graph_forward(self, rows):  # for create_graph=True
        return _segment_sum(rows, self.bag_of, self.nbags)

    def backward(self, g):
        gn = self.be.to_numpy(g)
        d = np.zeros((self.n, gn.shape[1]), gn.dtype)
        d[: self.bag_of.size] = gn[self.bag_of]  # the bags cover [0, n) in order
        return self.be.from_numpy(d)


class _BagRows(Function):
    """out[b] = the sum of weight's rows at bag b's indices (positions bounds[b] to
    bounds[b + 1]) in one kernel, without the (n, dim) lookup in between, divided by the bag's
    size for a mean; the backward hands each bag's gradient (times 1 / size for a mean) to its
    rows in one scatter-add. Divide forward, multiply by the reciprocal backward: torch's bits."""

    def forward(self, weight, indices, *, bounds, mean):
        be = self.be
        out = be.embedding_bag(weight, indices, bounds)
        if mean:
            size = np.maximum(np.diff(bounds), 1)[:, None]
            out = be.div(out, be.asarray(size, out.dtype))
        if self.requires_grad:
            self.indices, self.bounds, self.num, self.mean = indices, bounds, weight.shape[0], mean
        return out

    def backward(self, g):
        be = self.be
        if self.mean:
            inv = 1.0 / np.maximum(np.diff(self.bounds), 1)[:, None]
            g = be.mul(g, be.asarray(inv, g.dtype))
        return be.embedding_bag_backward(g, self.indices, self.bounds, self.num), None

    def graph_forward(self, weight, indices):
        """For create_graph=True: the lookup, then the segment sum (and the mean's division),
        as recorded ops."""
        b = self.bounds
        rows = embedding(indices[int(b[0]) : int(b[-1])], weight)
        out = _segment_sum(rows, np.repeat(np.arange(b.size - 1), np.diff(b)), b.size - 1)
        if self.mean:
            size = np.maximum(np.diff(b), 1)[:, None]
            out = out / _tensor(size, dtype=out.dtype, device=out.device)
        return out


def _segment_sum(rows, bag_of, nbags):
    """out[b] = the sum of rows[i] over the i with bag_of[i] = b (rows past bag_of: none), as a
    recorded scatter-add, whose gradient is a gather (differentiable to any order)."""
    dim = rows.shape[1]
    idx = _tensor(np.broadcast_to(bag_of[:, None], (bag_of.size, dim)), device=rows.device)
    zeros = _tensor(np.zeros((nbags, dim)), dtype=rows.dtype, device=rows.device)
    return zeros.scatter_add(0, idx, rows[: bag_of.size])


def _bags(input, offsets, include_last_offset, per_sample_weights):
    """(flat indices, starts, ends, flat weights) for the two input layouts."""
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError(
                "embedding_bag: if input is 2D, then offsets has to be None, as input is treated "
                "as a mini-batch of fixed length sequences"
            )
        b, length = input.shape
        starts = np.arange(b, dtype=np.int64) * length
        flat = input.reshape(-1)
        psw = None if per_sample_weights is None else per_sample_weights.reshape(-1)
        return flat, starts, starts + length, psw
    if input.ndim != 1:
        raise ValueError(
            f"embedding_bag: input has to be a 1D or 2D Tensor, got shape {tuple(input.shape)}"
        )
    if offsets is None:
        raise ValueError("embedding_bag: offsets has to be a 1D Tensor but got None")
    if offsets.ndim != 1 or offsets.dtype.kind not in "iu":
        raise ValueError(
            f"embedding_bag: offsets has to be a 1D integer Tensor, got shape "
            f"{tuple(offsets.shape)} and dtype {offsets.dtype}"
        )
    n = input.shape[0]
    offs = np.asarray(offsets.cpu().numpy(), np.int64)
    if offs.size and offs[0] != 0:
        raise ValueError(f"embedding_bag: offsets[0] has to be 0, got {offs[0]}")
    if np.any(np.diff(offs) < 0) or (offs.size and offs[-1] > n):
        raise ValueError(
            f"embedding_bag: offsets must be non-decreasing and at most the number of indices "
            f"({n}), got {offs.tolist()}"
        )
    if include_last_offset:
        # torch's own result for a last offset short of the end differs between its code
        # paths (some read the tail into the last bag, some drop it): refuse the input instead
        if offs.size == 0 or offs[-1] != n:
            raise ValueError(
                "embedding_bag: with include_last_offset=True the last offset must be the number "
                f"of indices ({n}), got {offs.tolist()}"
            )
        starts, ends = offs[:-1], offs[1:]
    else:
        starts, ends = offs, np.append(offs[1:], n)
    return input, starts, ends, per_sample_weights


def embedding_bag(
    input,
    weight,
    offsets=None,
    max_norm=None,
    norm_type=2,
    scale_grad_by_freq=False,
    mode="mean",
    sparse=False,
    per_sample_weights=None,
    include_last_offset=False,
    padding_idx=None,
):
    """torch.nn.functional.embedding_bag: (bags, embedding_dim)."""
    check_sparse(sparse, "embedding_bag")
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"embedding_bag: mode has to be one of sum, mean or max, got {mode!r}")
    if per_sample_weights is not None:
        if mode != "sum":
            raise NotImplementedError(
                "embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                f"supported for mode='sum' (got mode={mode!r}). Please open a feature request."
            )
        if tuple(per_sample_weights.shape) != tuple(input.shape):
            raise ValueError(
                f"embedding_bag: per_sample_weights has shape {tuple(per_sample_weights.shape)}, "
                f"expected the shape of input {tuple(input.shape)}"
            )
    if weight.ndim != 2:
        raise ValueError(
            f"embedding_bag: 'weight' must be 2-D (num_embeddings, embedding_dim), got shape "
            f"{tuple(weight.shape)}"
        )
    flat, starts, ends, psw = _bags(input, offsets, include_last_offset, per_sample_weights)
    pad = padding_row(padding_idx, weight.shape[0], "embedding_bag")
    if (
        mode != "max"
        and pad is None
        and psw is None
        and max_norm is None
        and not scale_grad_by_freq
        and flat.dtype in _INDEX_DTYPES
        and _dtype.is_floating(weight.dtype)
        and type(flat._data) is type(weight._data)
        and starts.size == ends.size > 0
        and ends[-1] == flat.shape[0]
    ):  # a plain sum or mean: the bag kernels
        bounds = np.append(starts, ends[-1])
        return _BagRows.apply(weight, flat, bounds=bounds, mean=mode == "mean")
    rows = embedding(flat, weight, None, max_norm, norm_type, scale_grad_by_freq)
    n, dim, nbags = flat.shape[0], weight.shape[1], len(starts)
    keep = np.ones(n, bool) if pad is None else np.asarray(flat.cpu().numpy(), np.int64) != pad
    if mode == "max":
        return _BagMax.apply(rows, bag_starts=starts, bag_ends=ends, keep=keep)
    if mode == "mean" and pad is None:  # whole bags: scale each bag's sum, not each of its rows
        inv = 1.0 / np.maximum(ends - starts, 1)
        scale = _tensor(inv[:, None], dtype=rows.dtype, device=rows.device)
        return _sum_bags(rows, input, starts, ends, nbags, dim) * scale
    bag_of = np.repeat(np.arange(nbags, dtype=np.int64), ends - starts)
    scale = keep.astype(np.float64)
    if mode == "mean":
        kept_before = np.concatenate([[0], np.cumsum(keep)])
        counts = kept_before[ends] - kept_before[starts]
        scale[: bag_of.size] /= np.maximum(counts, 1)[bag_of]
    if pad is not None or mode == "mean":
        rows = rows * _tensor(scale[:, None], dtype=rows.dtype, device=rows.device)
    if psw is not None:
        rows = rows * psw.reshape(n, 1)
    return _sum_bags(rows, input, starts, ends, nbags, dim)


def _sum_bags(rows, input, starts, ends, nbags, dim):
    if input.ndim == 2:  # equal bags: a reduction over the middle axis
        return rows.reshape(nbags, input.shape[1], dim).sum(1)
    return _BagSum.apply(rows, bag_starts=starts, bag_ends=ends)


__all__ = ["embedding_bag"]
