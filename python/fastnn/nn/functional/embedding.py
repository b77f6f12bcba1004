"""``F.embedding``: rows of a (num_embeddings, embedding_dim) table looked up by integer indices
of any shape, with torch's options (padding_idx, max_norm / norm_type, scale_grad_by_freq).

The lookup is one gather kernel and its backward one scatter-add kernel
(``fastnn.kernels.embedding`` / ``embedding_backward``, csrc/cpu/embedding.cpp): the table
gradient is dense (num_embeddings, embedding_dim), summed per row in position order, zero in the
padding row. ``max_norm`` rescales the looked-up rows of the table in place before the lookup, as
torch does (outside autograd; the table's version counter moves, so a graph that saved the table
earlier refuses to backward through the stale values).
"""

import numpy as np

from ... import _devices
from ..._core import dtype as _dtype
from ...autograd import graph_ops
from ...autograd.function import Function

_INDEX_DTYPES = (np.dtype(np.int32), np.dtype(np.int64))


class Embedding(Function):
    """out = weight[indices]; the gradient flows to weight only (indices are integers)."""

    double_backward = True  # its backward is EmbeddingScatter, recorded
    graph_constants = ("indices",)

    def forward(self, weight, indices, *, padding_idx=None, scale_grad_by_freq=False):
        out = self.be.embedding(weight, indices)
        if self.requires_grad:
            self.indices, self.num = indices, weight.shape[0]
            self.padding_idx, self.scale = padding_idx, scale_grad_by_freq
        return out

    def backward(self, g):
        be = self.be
        gw = be.embedding_backward(g, self.indices, self.num, self.padding_idx, self.scale)
        return gw, None


class EmbeddingScatter(Function):
    """embedding's backward as a recorded op (create_graph=True): g summed into the rows its
    positions looked up. Linear in g, so its own backward is the lookup again, each position
    weighted by what it gave its row: 0 at the padding row, 1 / the row's count under
    scale_grad_by_freq, else 1 (then no weights are kept)."""

    double_backward = True
    graph_constants = ("indices", "factor")

    def forward(self, g, *, indices, num, padding_idx, scale):
        be = self.be
        self.indices, self.factor = indices, None
        if padding_idx is not None or scale:
            flat = be.to_numpy(indices).reshape(-1)
            factor = np.ones(flat.size, be.to_numpy(g).dtype)
            if scale:
                factor /= np.bincount(flat, minlength=num)[flat]
            if padding_idx is not None:
                factor[flat == padding_idx] = 0
            self.factor = be.from_numpy(factor.reshape((*indices.shape, 1)))
        return be.embedding_backward(g, indices, num, padding_idx, scale)

    def backward(self, gg):
        u = self.be.embedding(gg, self.indices)
        return u if self.factor is None else self.be.mul(u, self.factor)


@graph_ops.recorded("embedding")
def _recorded_embedding(weight, indices):
    return Embedding.apply(graph_ops.const(weight), graph_ops.const(indices))


@graph_ops.recorded("embedding_backward")
def _recorded_embedding_backward(g, indices, num, padding_idx=None, scale=False):
    return EmbeddingScatter.apply(
        graph_ops.const(g),
        indices=graph_ops.data(indices),
        num=num,
        padding_idx=padding_idx,
        scale=scale,
    )


def check_sparse(sparse, where):
    if sparse:
        raise NotImplementedError(
            f"{where}: sparse=True (sparse gradients) is not supported by fastnn; use "
            "sparse=False, which gives the same values with a dense gradient"
        )


def padding_row(padding_idx, num_embeddings, where):
    """torch's normalisation: None stays None, a negative index counts from the end."""
    if padding_idx is None:
        return None
    if isinstance(padding_idx, bool) or not isinstance(padding_idx, (int, np.integer)):
        raise TypeError(f"{where}: padding_idx must be an int or None, got {padding_idx!r}")
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(
            f"{where}: padding_idx must be within num_embeddings = {num_embeddings}, "
            f"got {padding_idx}"
        )
    return int(padding_idx) % num_embeddings


def embedding(
    input,
    weight,
    padding_idx=None,
    max_norm=None,
    norm_type=2.0,
    scale_grad_by_freq=False,
    sparse=False,
):
    """torch.nn.functional.embedding: weight[input], shape input.shape + (embedding_dim,)."""
    check_sparse(sparse, "embedding")
    if input.dtype not in _INDEX_DTYPES:  # torch's RuntimeError, as for its other dtype checks
        raise RuntimeError(
            "embedding: argument 'input' (the indices) must have dtype int32 or int64, got "
            f"{_dtype.name(input.dtype)} with shape {tuple(input.shape)}"
        )
    if weight.ndim != 2:
        raise ValueError(
            "embedding: 'weight' must be 2-D (num_embeddings, embedding_dim), got shape "
            f"{tuple(weight.shape)}"
        )
    if not _dtype.is_floating(weight.dtype):
        raise TypeError(
            f"embedding: 'weight' must be a floating-point tensor, got {_dtype.name(weight.dtype)}"
        )
    pad = padding_row(padding_idx, weight.shape[0], "embedding")
    if max_norm is not None:
        _renorm(input, weight, float(max_norm), float(norm_type))
    return Embedding.apply(weight, input, padding_idx=pad, scale_grad_by_freq=scale_grad_by_freq)


def _renorm(input, weight, max_norm, norm_type):
    be = _devices.of(weight._data)
    if type(input._data) is not type(weight._data):
        raise RuntimeError(
            f"embedding: 'input' is on {input.device} but 'weight' is on {weight.device}"
        )
    be.embedding_renorm_(weight._data, input._data, max_norm, norm_type)
    weight._vc[0] += 1


__all__ = ["embedding"]
