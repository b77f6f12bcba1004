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
from ...autograd.function import Function

_INDEX_DTYPES = (np.dtype(np.int32), np.dtype(np.int64))


class Embedding(Function):
    """out = weight[indices]; the gradient flows to weight only (indices are integers)."""

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
    if weight.dtype.kind != "f":
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
