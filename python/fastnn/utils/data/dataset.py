"""Map-style and iterable datasets, their combinations and random_split (torch.utils.data.dataset)."""

import math
import warnings

import numpy as np

from ... import _C
from ..._core import random as _random


def _Tensor():
    from ..._tensor.core import Tensor

    return Tensor


def _is_tensor(x) -> bool:
    return isinstance(x, _Tensor())


def _gather(t, idx: np.ndarray):
    """Rows ``idx`` of tensor ``t`` as a new tensor (one gather, no autograd history)."""
    Tensor = _Tensor()
    data = t._data
    if isinstance(data, np.ndarray):
        return Tensor(_take_rows(data, idx))
    return t.detach()[Tensor(idx)]  # other devices: the tensor's own indexing


# Rows of at least this many floats go through the embedding kernel (the images of a dataset);
# shorter ones (labels, a feature or two) through np.take.
_KERNEL_ROW = 64
_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _take_rows(data: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """np.take(data, idx, axis=0). A float table's rows go through the embedding kernel, which
    splits the batch into contiguous shares, one per pool thread, the caller's first: the rows a
    thread copies are the ones it packs when the batch meets the first layer's GEMM (split the same
    way), so they are in its core's cache. Copied by np.take on the calling thread, the other
    core's half crossed between the caches inside the GEMM: 256 x 784 @ 784 x 256 on two cores
    took 490 us after np.take, 445 after the kernel (and the gather 130 us against 122)."""
    if (
        data.dtype in _KERNEL_DTYPES
        and data.ndim >= 2
        and data.flags.c_contiguous
        and data.size >= _KERNEL_ROW * data.shape[0] > 0
    ):
        try:
            rows = _C.embedding(data.reshape(data.shape[0], -1), idx)
        except IndexError:  # a negative index, or one out of range: np.take's rules and errors
            pass
        else:
            return rows.reshape((*idx.shape, *data.shape[1:]))
    return np.take(data, idx, axis=0)


class Dataset:
    """A map-style dataset: ``__getitem__(i)`` and ``__len__``.

    Subclasses may add ``get_batch(indices)`` returning a whole collated batch; the DataLoader
    uses it instead of one ``__getitem__`` per sample.
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset that is a stream: subclasses define ``__iter__`` (no indexing). A DataLoader
    batches what the stream yields, in order; it reads the stream in the loading thread even
    when ``num_workers > 0``, so ``get_worker_info()`` is None there and the stream is read
    exactly once per epoch (torch would give every worker its own copy of the stream, to be
    sharded by the dataset itself)."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __getitem__(self, index):
        raise TypeError(f"{type(self).__name__} is an IterableDataset: it cannot be indexed")


class TensorDataset(Dataset):
    """Samples are the i-th rows of the given tensors (which share their first dimension)."""

    def __init__(self, *tensors):
        Tensor = _Tensor()
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        converted = []
        for i, t in enumerate(tensors):
            if isinstance(t, np.ndarray):
                t = Tensor(t)
            if not isinstance(t, Tensor):
                raise TypeError(
                    f"TensorDataset: argument {i} must be a Tensor or numpy array, "
                    f"got {type(t).__name__}"
                )
            if len(t.shape) == 0:
                raise ValueError(f"TensorDataset: argument {i} is a 0-d tensor (no samples)")
            converted.append(t)
        n = converted[0].shape[0]
        if any(t.shape[0] != n for t in converted):
            raise ValueError(
                f"Size mismatch between tensors: first dimensions {[t.shape[0] for t in converted]}"
            )
        self.tensors = tuple(converted)

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]

    def get_batch(self, indices):
        """The batch of rows ``indices`` (an int array): one gather per tensor."""
        idx = np.asarray(indices, dtype=np.int64)
        return tuple(_gather(t, idx) for t in self.tensors)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64)

    def __getitem__(self, idx):
        if isinstance(idx, (list, np.ndarray)):
            return [self.dataset[int(i)] for i in self.indices[np.asarray(idx)]]
        return self.dataset[int(self.indices[idx])]

    def __len__(self):
        return len(self.indices)

    @property
    def get_batch(self):
        # Present only when the wrapped dataset has one, so the loader's fast path follows it.
        inner = getattr(self.dataset, "get_batch", None)
        if inner is None:
            raise AttributeError("get_batch")
        return lambda indices: inner(self.indices[np.asarray(indices, dtype=np.int64)])


class ConcatDataset(Dataset):
    """The concatenation of several datasets."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self):
        return self.cumulative_sizes[-1] if self.cumulative_sizes else 0

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise IndexError("absolute value of index should not exceed dataset length")
            idx += len(self)
        which = int(np.searchsorted(self.cumulative_sizes, idx, side="right"))
        if which >= len(self.datasets):
            raise IndexError(f"index {idx} out of range for ConcatDataset of length {len(self)}")
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][idx - start]


class ChainDataset(IterableDataset):
    """Several stream datasets one after the other."""

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError("ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self):
        total = 0
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError("ChainDataset only supports IterableDataset")
            total += len(d)
        return total


class StackDataset(Dataset):
    """Datasets of one length side by side: sample i is the tuple of their i-th samples
    (``StackDataset(a, b)``), or a dict of them (``StackDataset(image=a, label=b)``)."""

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError(
                "Supported either ``tuple``- (via ``args``) or ``dict``- (via ``kwargs``) like "
                "input/output, but both types are given."
            )
        parts = list(args) or list(kwargs.values())
        if not parts:
            raise ValueError("At least one dataset should be passed")
        self._length = len(parts[0])
        if any(len(d) != self._length for d in parts):
            raise ValueError("Size mismatch between datasets")
        self.datasets = kwargs if kwargs else args

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __len__(self):
        return self._length


def _split_lengths(n: int, lengths) -> list:
    try:
        lengths = list(lengths)
    except TypeError:
        raise TypeError(
            f"random_split: lengths must be a sequence of ints or fractions, got "
            f"{type(lengths).__name__}"
        ) from None
    numbers_only = all(
        isinstance(x, (int, float, np.floating, np.integer)) and not isinstance(x, bool)
        for x in lengths
    )
    # As torch: lengths summing to 1 are fractions, even when they are ints ([0, 1] is "all")
    fractions = numbers_only and math.isclose(sum(lengths), 1.0) and sum(lengths) <= 1
    if not fractions and all(
        isinstance(x, (int, np.integer)) and not isinstance(x, bool) for x in lengths
    ):
        if any(x < 0 for x in lengths):
            raise ValueError(f"random_split: negative length in {lengths}")
        if sum(lengths) != n:
            raise ValueError(
                f"Sum of input lengths ({sum(lengths)}) does not equal the length of the input "
                f"dataset ({n})"
            )
        return [int(x) for x in lengths]
    # Fractions, as torch: floor each, then hand out the remainder one by one, round-robin.
    if any(not isinstance(x, (int, float, np.floating, np.integer)) for x in lengths):
        raise TypeError(f"random_split: lengths must be ints or fractions, got {lengths}")
    if any(x < 0 or x > 1 for x in lengths) or not math.isclose(sum(lengths), 1.0, abs_tol=1e-6):
        raise ValueError(f"random_split: fractions must lie in [0, 1] and sum to 1, got {lengths}")
    out = [math.floor(n * f) for f in lengths]
    for i in range(n - sum(out)):
        out[i % len(out)] += 1
    for i, size in enumerate(out):
        if size == 0:  # a fraction too small for the dataset: torch warns, as here
            warnings.warn(
                f"Length of split at index {i} is 0. This might result in an empty dataset.",
                stacklevel=3,
            )
    return out


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping random Subsets of the given lengths or fractions.

    ``generator`` is a ``fastnn.Generator``, a ``numpy.random.Generator`` or an int seed; by
    default the draw comes from fastnn's global generator, so ``fastnn.manual_seed`` makes it
    reproducible.
    """
    sizes = _split_lengths(len(dataset), lengths)
    perm = _as_generator(generator).permutation(len(dataset))
    out, start = [], 0
    for size in sizes:
        out.append(Subset(dataset, perm[start : start + size]))
        start += size
    return out


def _as_generator(generator):
    """The numpy stream behind ``generator=``: a fastnn.Generator's, a numpy Generator, a fresh
    one from an int seed, or (None) the global one."""
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        return np.random.default_rng(int(generator))
    return _random.rng_of(generator, "generator")
