"""Variable-length sequences (torch's ``nn.utils.rnn``): ``pad_sequence`` pads them into one batch
tensor, differentiable with respect to every sequence; ``PackedSequence`` stores them without
padding, which nn.RNN / LSTM / GRU run step by step only over the sequences still going.

The packed layout: sequences sorted by decreasing length; ``data`` holds, for t = 0, 1, ..., the
rows of the sequences longer than t (``batch_sizes[t]`` of them), so a run of steps with the same
batch size is one contiguous block of rows. ``sorted_indices[i]`` is the input position of the
i-th longest sequence (None when the caller sorted them: ``enforce_sorted``), ``unsorted_indices``
its inverse.
"""

from collections import namedtuple

import numpy as np

from ..._core import dtype as _dtype
from ..._tensor import Tensor
from ..._tensor import creation as _new
from ..._tensor import functions as _fn
from ...autograd.function import Function

__all__ = [
    "PackedSequence",
    "pack_padded_sequence",
    "pack_sequence",
    "pad_packed_sequence",
    "pad_sequence",
]


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


class PackedSequence(
    namedtuple("PackedSequence", "data batch_sizes sorted_indices unsorted_indices")
):
    """(data, batch_sizes, sorted_indices, unsorted_indices); see the module note."""

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = _invert(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def cpu(self):
        return self.to("cpu")

    def float(self):
        return self.to(dtype=_dtype.float32)

    def double(self):
        return self.to(dtype=_dtype.float64)

    @property
    def is_cuda(self):
        return self.data.is_cuda


def _invert(perm):
    inv = np.empty(len(perm), np.int64)
    inv[np.asarray(perm.tolist(), np.int64)] = np.arange(len(perm))
    return _new.tensor(inv)


def _lengths(lengths):
    if isinstance(lengths, Tensor):
        if lengths.ndim != 1:
            raise RuntimeError(f"lengths must be a 1D tensor, got {lengths.ndim}D")
        return [int(v) for v in lengths.tolist()]
    return [int(v) for v in lengths]


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded (T, B, *) batch ((B, T, *) with ``batch_first``) of sequences of the given
    lengths; with ``enforce_sorted`` the lengths must already decrease."""
    lens = _lengths(lengths)
    b_dim = 0 if batch_first else 1
    if len(lens) != input.shape[b_dim]:
        raise ValueError(
            f"Expected `len(lengths)` to be equal to batch_size, but got {len(lens)} (batch_size="
            f"{input.shape[b_dim]})"
        )
    if any(n <= 0 for n in lens):
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in 'lengths' "
            "that is <= 0"
        )
    if max(lens) > input.shape[1 - b_dim]:
        raise RuntimeError(
            f"Expected sequence lengths of at most {input.shape[1 - b_dim]} (the padded length), "
            f"got {max(lens)}"
        )
    sorted_indices = None
    if enforce_sorted:
        if any(a < b for a, b in zip(lens, lens[1:])):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX "
                "exportability."
            )
    else:
        order = np.argsort(-np.asarray(lens), kind="stable")
        sorted_indices = _new.tensor(order.astype(np.int64), device=input.device)
        input = input.index_select(b_dim, sorted_indices)
        lens = [lens[i] for i in order]
    x = input.transpose(0, 1) if batch_first else input
    batch_sizes = [sum(1 for n in lens if n > t) for t in range(lens[0])]
    rows = [x[t, :b] for t, b in enumerate(batch_sizes)]
    data = _fn.cat(rows, 0)
    # (PackedSequence derives unsorted_indices from sorted_indices)
    return PackedSequence(data, _new.tensor(np.asarray(batch_sizes, np.int64)), sorted_indices)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """(padded (T, B, *) or (B, T, *), lengths) from a PackedSequence, the batch back in the
    order it was packed from; T is the longest length, or ``total_length``."""
    data, batch_sizes = sequence.data, [int(v) for v in sequence.batch_sizes.tolist()]
    steps, batch = len(batch_sizes), batch_sizes[0]
    if total_length is not None and total_length < steps:
        raise ValueError(
            "Expected total_length to be at least the length of the longest sequence in "
            f"input, but got total_length={total_length} and max sequence length being {steps}"
        )
    trailing = tuple(data.shape[1:])
    pieces, row = [], 0
    for b in batch_sizes:
        part = data[row : row + b]
        row += b
        if b < batch:
            fill = _new.full((batch - b, *trailing), padding_value, dtype=data.dtype)
            part = _fn.cat([part, fill.to(data.device)], 0)
        pieces.append(part)
    if total_length is not None and total_length > steps:
        fill = _new.full((batch, *trailing), padding_value, dtype=data.dtype).to(data.device)
        pieces += [fill] * (total_length - steps)
    padded = _fn.stack(pieces, 0)
    lengths = np.asarray([sum(1 for b in batch_sizes if b > i) for i in range(batch)], np.int64)
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(1, sequence.unsorted_indices)
        lengths = lengths[np.asarray(sequence.unsorted_indices.tolist(), np.int64)]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, _new.tensor(lengths)


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of (L_i, *) sequences (decreasing lengths with ``enforce_sorted``)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)
