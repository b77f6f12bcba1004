"""``pad_sequence``: variable-length sequences padded into one batch tensor (torch's
``nn.utils.rnn.pad_sequence``), differentiable with respect to every sequence."""

from ..._tensor import Tensor
from ...autograd.function import Function

__all__ = ["pad_sequence"]


class PadSequence(Function):
    """Forward: one output filled with the padding value, each sequence copied into its row.
    Backward: each sequence's gradient is its slice of the output's gradient."""

    def forward(self, *seqs, batch_first=False, padding_value=0.0, left=False, max_len=0):
        first = seqs[0]
        trailing = tuple(first.shape[1:])
        shape = (len(seqs), max_len, *trailing) if batch_first else (max_len, len(seqs), *trailing)
        out = self.be.full(shape, padding_value, first.dtype)
        self.index = []
        self.dtypes = [s.dtype for s in seqs]
        for i, s in enumerate(seqs):
            n = s.shape[0]
            rows = slice(max_len - n, max_len) if left else slice(0, n)
            index = (i, rows) if batch_first else (rows, i)
            self.index.append(index)
            if n:
                self.be.setitem(out, index, self.be.astype(s, first.dtype))
        return out

    def backward(self, g):
        return tuple(
            self.be.astype(self.be.getitem(g, index), dtype) if need else None
            for index, dtype, need in zip(self.index, self.dtypes, self.needs_input_grad)
        )


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack sequences of shapes (L_i, *) into (L_max, B, *), or (B, L_max, *) with
    ``batch_first``, filling the rest with ``padding_value`` after (``'right'``) or before
    (``'left'``) each sequence. The output has the first sequence's dtype."""
    if padding_side not in ("left", "right"):
        raise ValueError(
            f"Expected padding_side to be one of left or right, but got {padding_side}."
        )
    seqs = (
        [sequences[i] for i in range(len(sequences))]
        if isinstance(sequences, Tensor)
        else list(sequences)
    )
    if not seqs:
        raise ValueError("pad_sequence: received an empty list of sequences")
    for i, s in enumerate(seqs):
        if not isinstance(s, Tensor):
            raise TypeError(
                f"pad_sequence: expected a sequence of Tensors, got {type(s).__name__} at index {i}"
            )
        if s.ndim == 0:
            raise ValueError(f"pad_sequence: sequence {i} is 0-dimensional (it needs a length)")
    trailing = tuple(seqs[0].shape[1:])
    for i, s in enumerate(seqs):
        if tuple(s.shape[1:]) != trailing:
            raise ValueError(
                f"pad_sequence: sequence {i} has shape {tuple(s.shape)}, but every sequence must "
                f"have the trailing dimensions {trailing} of sequence 0"
            )
    max_len = max(s.shape[0] for s in seqs)
    return PadSequence.apply(
        *seqs,
        batch_first=bool(batch_first),
        padding_value=padding_value,
        left=padding_side == "left",
        max_len=max_len,
    )
