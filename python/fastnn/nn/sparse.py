"""``nn.Embedding``: a learnable (num_embeddings, embedding_dim) lookup table (torch's name,
signature, initialisation N(0, 1) with a zero padding row, state_dict key ``weight``). The forward
is one ``F.embedding`` call."""

import numpy as np

from .._tensor import Tensor
from ..autograd import no_grad
from . import functional as F
from . import init
from .functional.embedding import check_sparse, padding_row
from .layers import _place_parameters
from .module import Module
from .parameter import Parameter

__all__ = ["Embedding"]


def _size(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"Embedding: {what} must be a non-negative int, got {value!r}")
    return int(value)


class Embedding(Module):
    """Looks up rows of ``weight`` (num_embeddings, embedding_dim) by integer indices: input of
    any shape -> output of shape input.shape + (embedding_dim,).

    padding_idx (negative counts from the end): that row starts at zero and gets no gradient.
    max_norm: looked-up rows with a norm_type-norm above it are rescaled in place on each forward.
    scale_grad_by_freq: a row's gradient is divided by how often it occurs in the batch.
    sparse=True (sparse gradients) is not supported.
    """

    def __init__(
        self,
        num_embeddings,
        embedding_dim,
        padding_idx=None,
        max_norm=None,
        norm_type=2.0,
        scale_grad_by_freq=False,
        sparse=False,
        _weight=None,
        _freeze=False,
        device=None,
        dtype=None,
    ):
        super().__init__()
        check_sparse(sparse, "Embedding")
        self.num_embeddings = _size(num_embeddings, "num_embeddings")
        self.embedding_dim = _size(embedding_dim, "embedding_dim")
        self.padding_idx = padding_row(padding_idx, self.num_embeddings, "Embedding")
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        shape = (self.num_embeddings, self.embedding_dim)
        if _weight is None:
            dt = np.dtype(np.float32) if dtype is None else np.dtype(dtype)
            if dt.kind != "f":
                raise TypeError(f"Embedding: dtype must be a floating dtype, got {dt}")
            self.weight = Parameter(Tensor(np.empty(shape, dt)), requires_grad=not _freeze)
            self.reset_parameters()
            _place_parameters(self, device)
        else:
            if tuple(_weight.shape) != shape:
                raise ValueError(
                    f"Embedding: _weight has shape {tuple(_weight.shape)}, which does not match "
                    f"(num_embeddings, embedding_dim) = {shape}"
                )
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self):
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self):
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx].fill_(0)

    def forward(self, input):
        return F.embedding(
            input,
            self.weight,
            self.padding_idx,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
            self.sparse,
        )

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        if self.sparse is not False:
            s += ", sparse=True"
        return s

    @classmethod
    def from_pretrained(
        cls,
        embeddings,
        freeze=True,
        padding_idx=None,
        max_norm=None,
        norm_type=2.0,
        scale_grad_by_freq=False,
        sparse=False,
    ):
        """An Embedding whose weight is ``embeddings`` (2-D, shared, not copied); frozen
        (requires_grad=False) unless freeze=False."""
        if embeddings.ndim != 2:
            raise ValueError(
                "Embedding.from_pretrained: embeddings must be 2-D (num_embeddings, "
                f"embedding_dim), got shape {tuple(embeddings.shape)}"
            )
        rows, cols = embeddings.shape
        return cls(
            rows,
            cols,
            padding_idx=padding_idx,
            max_norm=max_norm,
            norm_type=norm_type,
            scale_grad_by_freq=scale_grad_by_freq,
            sparse=sparse,
            _weight=embeddings,
            _freeze=freeze,
        )
