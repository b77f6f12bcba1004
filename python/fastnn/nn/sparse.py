"""``nn.Embedding`` and ``nn.EmbeddingBag``: a learnable (num_embeddings, embedding_dim) lookup
table (torch's names, signatures, initialisation N(0, 1) with a zero padding row, state_dict key
``weight``). Each forward is one ``F.embedding`` / ``F.embedding_bag`` call."""

import numpy as np

from .._core import dtype as _dtype
from .._tensor import Tensor
from ..autograd import no_grad
from . import functional as F
from . import init
from .functional.embedding import check_sparse, padding_row
from .layers import _place_parameters
from .module import Module
from .parameter import Parameter

__all__ = ["Embedding", "EmbeddingBag"]


def _size(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"Embedding: {what} must be a non-negative int, got {value!r}")
    if value < 0:
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
            dt = _dtype.default() if dtype is None else np.dtype(dtype)
            if not _dtype.is_floating(dt):
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


class EmbeddingBag(Module):
    """Sums, means or maxima (``mode``) of bags of rows of ``weight``: input (B, L) is B bags
    of L indices; a 1-D input is cut into bags at ``offsets``. per_sample_weights scale the rows
    (mode='sum'); entries equal to padding_idx are left out of their bag."""

    def __init__(
        self,
        num_embeddings,
        embedding_dim,
        max_norm=None,
        norm_type=2.0,
        scale_grad_by_freq=False,
        mode="mean",
        sparse=False,
        _weight=None,
        include_last_offset=False,
        padding_idx=None,
        device=None,
        dtype=None,
    ):
        super().__init__()
        check_sparse(sparse, "EmbeddingBag")
        if mode not in ("sum", "mean", "max"):
            raise ValueError(f"EmbeddingBag: mode has to be one of sum, mean or max, got {mode!r}")
        self.num_embeddings = _size(num_embeddings, "num_embeddings")
        self.embedding_dim = _size(embedding_dim, "embedding_dim")
        self.padding_idx = padding_row(padding_idx, self.num_embeddings, "EmbeddingBag")
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.mode, self.sparse = scale_grad_by_freq, mode, sparse
        self.include_last_offset = include_last_offset
        shape = (self.num_embeddings, self.embedding_dim)
        if _weight is None:
            dt = _dtype.default() if dtype is None else np.dtype(dtype)
            if not _dtype.is_floating(dt):
                raise TypeError(f"EmbeddingBag: dtype must be a floating dtype, got {dt}")
            self.weight = Parameter(Tensor(np.empty(shape, dt)))
            self.reset_parameters()
            _place_parameters(self, device)
        else:
            if tuple(_weight.shape) != shape:
                raise ValueError(
                    f"EmbeddingBag: _weight has shape {tuple(_weight.shape)}, which does not "
                    f"match (num_embeddings, embedding_dim) = {shape}"
                )
            self.weight = Parameter(_weight)

    reset_parameters = Embedding.reset_parameters
    _fill_padding_idx_with_zero = Embedding._fill_padding_idx_with_zero

    def forward(self, input, offsets=None, per_sample_weights=None):
        return F.embedding_bag(
            input,
            self.weight,
            offsets,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
            self.mode,
            self.sparse,
            per_sample_weights,
            self.include_last_offset,
            self.padding_idx,
        )

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s

    @classmethod
    def from_pretrained(
        cls,
        embeddings,
        freeze=True,
        max_norm=None,
        norm_type=2.0,
        scale_grad_by_freq=False,
        mode="mean",
        sparse=False,
        include_last_offset=False,
        padding_idx=None,
    ):
        """An EmbeddingBag whose weight is ``embeddings`` (2-D, shared); frozen unless
        freeze=False."""
        if embeddings.ndim != 2:
            raise ValueError(
                "EmbeddingBag.from_pretrained: embeddings must be 2-D, got shape "
                f"{tuple(embeddings.shape)}"
            )
        rows, cols = embeddings.shape
        bag = cls(
            rows,
            cols,
            max_norm=max_norm,
            norm_type=norm_type,
            scale_grad_by_freq=scale_grad_by_freq,
            mode=mode,
            sparse=sparse,
            _weight=embeddings,
            include_last_offset=include_last_offset,
            padding_idx=padding_idx,
        )
        bag.weight.requires_grad_(not freeze)
        return bag
