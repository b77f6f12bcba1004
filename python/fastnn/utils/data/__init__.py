"""Datasets and the DataLoader (PyTorch's ``torch.utils.data`` API, in-memory and threaded).

Batches of a dataset that has ``get_batch(indices)`` (TensorDataset, Subset of one, MNIST) are
gathered with one fancy-index per tensor per batch; any other map-style dataset is read sample by
sample and collated. ``num_workers > 0`` loads batches on background threads, a bounded number
ahead of the training loop (asynchronous loading).

The submodules ``sampler`` and ``distributed`` hold the samplers under the module paths torch
gives them.
"""

import math
import multiprocessing
import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from ... import _C
from ..._core import random as _random
from ..._devices import cpu as _cpu
from ..._tensor import creation as _creation
from .. import loader_workers as _workers
from .. import worker_info as _worker_info
from ..distributed_sampler import DistributedSampler
from ..samplers import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from ..worker_info import get_worker_info

# torch's submodule paths: importing them binds ``data.sampler`` and ``data.distributed``
from . import distributed as _distributed_module  # noqa: F401
from . import sampler as _sampler_module  # noqa: F401

__all__ = [
    "BatchSampler",
    "DataLoader",
    "Dataset",
    "DistributedSampler",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "random_split",
]


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


def default_convert(data):
    """Turn numpy arrays (and numpy scalars) inside one sample into tensors, leaving everything
    else as it is, without adding a batch dimension: the conversion ``DataLoader(batch_size=None)``
    applies to each sample, as torch's default_convert does."""
    Tensor = _Tensor()
    if isinstance(data, Tensor):
        return data
    if isinstance(data, (np.ndarray, np.generic)):
        return data if data.dtype.kind in "OUSV" else Tensor(np.asarray(data))
    if isinstance(data, Mapping):
        converted = {key: default_convert(v) for key, v in data.items()}
        try:
            return type(data)(converted)
        except TypeError:
            return converted
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


def default_collate(batch):
    """Stack a list of samples into a batch, like torch's default_collate.

    Tensors and numpy arrays are stacked along a new first dimension (keeping their dtype); numpy
    scalars become a tensor of their numpy dtype; Python numbers led by a float become a float64
    tensor, led by an int or a bool a tensor typed from the whole batch (``[1, 2.5]`` is float32,
    ``[True, 1]`` int64, ``[True, False]`` bool); mappings, namedtuples, tuples and lists are
    collated field by field; strings stay a list.
    """
    Tensor = _Tensor()
    if not batch:
        raise ValueError("default_collate: empty batch")
    elem = batch[0]
    if isinstance(elem, Tensor):
        if not isinstance(elem._data, np.ndarray):
            from .._tensor.functions import stack

            return stack(list(batch), 0)
        return Tensor(_cpu.stack([b._data for b in batch], 0))
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "OUS":
            raise TypeError(
                f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
                f"lists; found numpy arrays of dtype {elem.dtype}"
            )
        return Tensor(_cpu.stack(list(batch), 0))
    if isinstance(elem, np.generic) and elem.dtype.kind not in "OUS":
        return Tensor(np.array(batch))
    if isinstance(elem, float):
        return _creation.tensor(batch, dtype=np.float64)
    if isinstance(elem, int):  # bools too: the dtype comes from the whole batch
        return _creation.tensor(batch)
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            return type(elem)(collated)
        except TypeError:  # a mapping type that cannot be built from a dict
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, Sequence):
        if any(len(b) != len(elem) for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(s)) for s in zip(*batch)]
    raise TypeError(
        f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts "
        f"or lists; found {type(elem).__name__}"
    )


class _Fetcher:
    """Loads one batch from its indices; picklable, so worker processes get their own."""

    def __init__(self, dataset, collate_fn, batching=True):
        self.dataset, self.collate_fn, self.batching = dataset, collate_fn, batching

    def __call__(self, idx):
        if not self.batching:  # batch_size=None: one sample, converted but not stacked
            return (self.collate_fn or default_convert)(self.dataset[idx])
        if self.collate_fn is None:
            get_batch = getattr(self.dataset, "get_batch", None)
            if get_batch is not None:
                return get_batch(idx)
            return default_collate([self.dataset[int(i)] for i in idx])
        return self.collate_fn([self.dataset[int(i)] for i in idx])


_NO_PIN = (
    "'pin_memory' argument is set as true but no accelerator is found, then device pinned "
    "memory won't be used."
)


def _pinning_available():
    """Whether batches can be pinned; torch's warning when they cannot."""
    from ... import cuda

    if cuda.is_available():
        return True
    warnings.warn(_NO_PIN, UserWarning, stacklevel=3)
    return False


def _pin_batch(batch):
    """``batch`` with every CPU tensor in it (in dicts, lists, tuples, namedtuples) replaced by
    its pinned copy, like torch's pin_memory of a batch; anything else unchanged."""
    Tensor = _Tensor()
    if isinstance(batch, Tensor):
        return batch.pin_memory() if batch.device.type == "cpu" else batch
    if isinstance(batch, dict):
        pinned = {k: _pin_batch(v) for k, v in batch.items()}
        try:
            return type(batch)(pinned)
        except TypeError:
            return pinned
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return type(batch)(*(_pin_batch(v) for v in batch))
    if isinstance(batch, (list, tuple)):
        return type(batch)(_pin_batch(v) for v in batch)
    return batch


class _PinningFetcher:
    """A fetcher whose batches come out pinned (used in the loop or in thread workers)."""

    def __init__(self, fetch):
        self.fetch = fetch

    def __call__(self, idx):
        return _pin_batch(self.fetch(idx))


class DataLoader:
    """Iterate over ``dataset`` in batches.

    Args:
        dataset: a map-style dataset (``__getitem__`` + ``__len__``).
        batch_size: samples per batch; None turns batching off: each sample comes alone,
            its numpy arrays turned into tensors (``default_convert``) or through ``collate_fn``.
        shuffle: a fresh random order every epoch. The order comes from ``generator`` (a
            ``fastnn.Generator`` or a ``numpy.random.Generator``), else from ``seed`` (a loader-private generator seeded
            once), else from fastnn's global generator (``fastnn.manual_seed``).
        drop_last: drop the last, incomplete batch.
        num_workers: 0 loads in the training loop; ``k > 0`` loads batches on ``k`` background
            workers, at most ``prefetch_factor`` batches ahead per worker, handed back in order.
            Workers are threads unless ``multiprocessing_context`` asks for processes: threads
            share the dataset, so a batch costs no pickling and no copy between processes, and
            numpy gathers, fastnn kernels and file reads release the GIL; that makes threads the
            faster choice for array datasets (torch's default is processes).
        collate_fn: merges a list of samples into a batch (default: ``default_collate``). When
            given, every batch goes through it, sample by sample.
        pin_memory: hand out batches whose tensors are in pinned (page-locked) host memory,
            so that ``.to('cuda', non_blocking=True)`` is a DMA queued without the host
            waiting. Thread workers pin what they load; otherwise the loop pins. Without a
            CUDA device it warns and does nothing, as torch does.
        sampler: an iterable of dataset indices giving the order of every epoch (e.g. a
            ``DistributedSampler``); excludes ``shuffle``.
        batch_sampler: an iterable of index lists, one per batch, read anew every epoch;
            excludes batch_size, shuffle, sampler and drop_last.
        prefetch_factor: batches loaded ahead per worker (2 when None); only with workers.
        pin_memory_device, in_order: accepted for torch programs; batches always come in order.
        persistent_workers: keep the workers (and what ``worker_init_fn`` set up in them, and
            their random streams) from one epoch to the next instead of starting fresh ones
            each epoch; needs ``num_workers > 0``, as in torch. The workers end when the loader
            is garbage collected; after a timeout, a dead worker or Ctrl-C the next epoch starts
            fresh ones.
        timeout: seconds to wait for any one batch from the workers (0: forever); a batch that
            takes longer raises RuntimeError naming it, and the workers are shut down.
        worker_init_fn: called as ``worker_init_fn(worker_id)`` once in each worker before it
            loads anything. Inside it (and in the dataset) ``get_worker_info()`` gives the
            worker's id, num_workers, seed and dataset. Each epoch a base seed is drawn from the
            loader's generator; worker ``i`` draws fastnn's random numbers from a stream seeded
            ``base_seed + i`` (in a process: fastnn's, numpy's global and Python's ``random``
            state; a thread has its own fastnn stream, while numpy's global and Python's
            ``random`` state are shared by the whole process).
        multiprocessing_context: None (threads) or a start method ("fork", "spawn",
            "forkserver") or a ``multiprocessing`` context: worker processes, each with its own
            copy of the dataset and its own GIL, for datasets whose ``__getitem__`` runs Python
            code. The dataset, collate_fn and worker_init_fn are pickled for "spawn" and
            "forkserver", and every batch is pickled back to the main process.

    A worker's exception is raised again in the training loop with the same type, naming the
    worker and the batch, with the worker's traceback in the message. Ctrl-C (or any exception
    in the loop) shuts the workers down without waiting on a stuck one for more than a second:
    a process is terminated, a thread (which Python cannot stop) is left to finish on its own.
    """

    def __init__(
        self,
        dataset,
        batch_size=1,
        shuffle=None,
        sampler=None,
        batch_sampler=None,
        num_workers=0,
        collate_fn=None,
        pin_memory=False,
        drop_last=False,
        timeout=0,
        worker_init_fn=None,
        multiprocessing_context=None,
        generator=None,
        *,
        prefetch_factor=None,
        persistent_workers=False,
        pin_memory_device="",
        in_order=True,
        seed=None,
    ):
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, "
                    "sampler, and drop_last"
                )
            if not hasattr(batch_sampler, "__iter__"):
                raise TypeError(
                    "DataLoader: batch_sampler must be an iterable of index lists, got "
                    f"{type(batch_sampler).__name__}"
                )
            batch_size = None
        elif batch_size is None and drop_last:
            raise ValueError(
                "batch_size=None option disables auto-batching and is mutually exclusive with "
                "drop_last"
            )
        if prefetch_factor is None:
            prefetch_factor = 2
        elif num_workers == 0:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing. Let "
                "num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None."
            )
        if not isinstance(pin_memory_device, str):
            raise TypeError(
                f"DataLoader: pin_memory_device must be a str, got {type(pin_memory_device).__name__}"
            )
        if batch_size is not None and (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, (int, np.integer))
            or batch_size <= 0
        ):
            raise ValueError(f"batch_size should be a positive integer value, got {batch_size!r}")
        if (
            isinstance(num_workers, bool)
            or not isinstance(num_workers, (int, np.integer))
            or num_workers < 0
        ):
            raise ValueError(f"num_workers should be a non-negative integer, got {num_workers!r}")
        if (
            isinstance(prefetch_factor, bool)
            or not isinstance(prefetch_factor, (int, np.integer))
            or prefetch_factor < 1
        ):
            raise ValueError(
                f"prefetch_factor should be a positive integer, got {prefetch_factor!r}"
            )
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if sampler is not None and not hasattr(sampler, "__iter__"):
            raise TypeError(f"DataLoader: sampler must be iterable, got {type(sampler).__name__}")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if generator is not None and seed is not None:
            raise ValueError("DataLoader: give generator or seed, not both")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError("DataLoader: collate_fn must be callable")
        if isinstance(timeout, bool) or not isinstance(
            timeout, (int, float, np.integer, np.floating)
        ):
            raise TypeError(f"DataLoader: timeout must be a number of seconds, got {timeout!r}")
        if not timeout >= 0:
            raise ValueError(f"timeout option should be non-negative, got {timeout!r}")
        if worker_init_fn is not None and not callable(worker_init_fn):
            raise TypeError("DataLoader: worker_init_fn must be callable")
        mp_context = _mp_context(multiprocessing_context, num_workers)
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            for name, value in (
                ("shuffle", shuffle),
                ("sampler", sampler),
                ("batch_sampler", batch_sampler),
            ):
                if value not in (None, False):
                    raise ValueError(
                        f"DataLoader with IterableDataset: expected unspecified {name} option, "
                        f"but got {name}={value!r}"
                    )
        elif not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(
                "DataLoader: dataset must have __getitem__ and __len__, got "
                f"{type(dataset).__name__}"
            )
        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.batch_sampler = batch_sampler
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.num_workers = int(num_workers)
        self.prefetch_factor = int(prefetch_factor)
        self.pin_memory = bool(pin_memory)
        self.persistent_workers = bool(persistent_workers)
        self.collate_fn = collate_fn
        self.sampler = sampler
        self.timeout = float(timeout)
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = mp_context
        self._pool = None  # the persistent workers, started by the first epoch
        self._epoch = 0
        if seed is not None:
            generator = np.random.default_rng(seed)
        if generator is not None:
            _as_generator(generator)  # a bad generator fails here, not at the first epoch
            if isinstance(generator, (int, np.integer)):
                generator = np.random.default_rng(int(generator))
        # Kept as given: a fastnn.Generator reseeded between epochs is followed, as in torch.
        self.generator = generator

    def __len__(self):
        if self._iterable:  # the stream's own length, when it has one (TypeError otherwise)
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.dataset) if self.sampler is None else len(self.sampler)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _batches(self):
        """The index array of every batch of one epoch (drawn now, so the epoch is fixed); with
        ``batch_size=None`` each entry is one sample's index."""
        if self.batch_sampler is not None:
            return [np.asarray(list(b), dtype=np.int64) for b in self.batch_sampler]
        if self.sampler is not None:
            order = np.fromiter(iter(self.sampler), dtype=np.int64)
        elif self.shuffle:
            order = _as_generator(self.generator).permutation(len(self.dataset))
        else:
            order = np.arange(len(self.dataset), dtype=np.int64)
        if self.batch_size is None:
            return [int(i) for i in order]
        n = len(order)
        bs = self.batch_size
        stop = (n // bs) * bs if self.drop_last else n
        return [order[i : i + bs] for i in range(0, stop, bs)]

    def _stream(self):
        """One epoch of an IterableDataset: its samples grouped into batches as they come."""
        convert = self.collate_fn or (default_collate if self.batch_size else default_convert)
        pin = _pin_batch if self.pin_memory and _pinning_available() else (lambda b: b)
        if self.batch_size is None:
            for sample in self.dataset:
                yield pin(convert(sample))
            return
        batch = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield pin(convert(batch))
                batch = []
        if batch and not self.drop_last:
            yield pin(convert(batch))

    def _plan_epoch(self):
        """(batches, base_seed) of the next epoch, drawn from the generator as __iter__ draws
        them (fit's device-resident replay of the loader follows the same random streams)."""
        batches = self._batches()
        return batches, _worker_info.draw_base_seed(_as_generator(self.generator))

    def __iter__(self):
        if self._iterable:
            return self._stream()
        batches, base_seed = self._plan_epoch()
        fetch = _Fetcher(
            self.dataset,
            self.collate_fn,
            self.batch_size is not None or self.batch_sampler is not None,
        )
        pin = self.pin_memory and _pinning_available()
        if pin and self.multiprocessing_context is None:  # threads pin what they load
            fetch = _PinningFetcher(fetch)
        if self.num_workers == 0:
            return (fetch(idx) for idx in batches)
        if pin and self.multiprocessing_context is not None:  # processes: pinned here
            return (_pin_batch(b) for b in self._iter_workers(fetch, batches, base_seed))
        return self._iter_workers(fetch, batches, base_seed)

    def _iter_workers(self, fetch, batches, base_seed):
        self._epoch += 1
        if self.persistent_workers:
            if self._pool is None or not self._pool.usable():
                if self._pool is not None:
                    self._pool.shutdown()
                self._pool = self._start_workers(fetch, base_seed)
            return _workers.LoaderIter(
                self._pool, batches, self._epoch, self.prefetch_factor, self.timeout, False
            )
        if not batches:
            return iter(())
        pool = self._start_workers(fetch, base_seed)
        return _workers.LoaderIter(
            pool, batches, self._epoch, self.prefetch_factor, self.timeout, True
        )

    def _start_workers(self, fetch, base_seed):
        args = (fetch, self.dataset, self.num_workers, base_seed, self.worker_init_fn)
        if self.multiprocessing_context is None:
            return _workers.ThreadPool(*args)
        return _workers.ProcessPool(*args, self.multiprocessing_context)

    def __del__(self):
        pool, self._pool = getattr(self, "_pool", None), None
        if pool is not None:
            pool.shutdown()

    def __repr__(self):
        return (
            f"DataLoader(dataset={type(self.dataset).__name__}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last}, "
            f"num_workers={self.num_workers})"
        )


def _mp_context(ctx, num_workers):
    """The multiprocessing context behind ``multiprocessing_context=`` (None: thread workers)."""
    if ctx is None:
        return None
    if num_workers == 0:
        raise ValueError(
            "multiprocessing_context can only be used with multi-process loading "
            f"(num_workers > 0), but got num_workers={num_workers}"
        )
    if isinstance(ctx, str):
        methods = multiprocessing.get_all_start_methods()
        if ctx not in methods:
            raise ValueError(
                "multiprocessing_context option should specify a valid start method in "
                f"{methods!r}, but got multiprocessing_context={ctx!r}"
            )
        return multiprocessing.get_context(ctx)
    if not isinstance(ctx, multiprocessing.context.BaseContext):
        raise TypeError(
            "multiprocessing_context option should be a valid context object or a string "
            f"specifying the start method, but got multiprocessing_context={ctx!r}"
        )
    return ctx
