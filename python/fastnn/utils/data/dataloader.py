"""The DataLoader (torch.utils.data.dataloader): batches of a dataset, in-memory and threaded.

Batches of a dataset that has ``get_batch(indices)`` (TensorDataset, Subset of one, MNIST) are
gathered with one fancy-index per tensor per batch; any other map-style dataset is read sample by
sample and collated. ``num_workers > 0`` loads batches on background threads, a bounded number
ahead of the training loop (asynchronous loading).
"""

import itertools
import multiprocessing
import warnings

import numpy as np

from . import loader_workers as _workers
from . import worker_info as _worker_info
from .collate import default_collate, default_convert
from .dataset import IterableDataset, _as_generator, _Tensor
from .worker_info import get_worker_info

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]


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


class _EpochIter:
    """An iterator over one epoch's batches that knows how many there are: len(iter(loader))
    is len(loader), as in torch. ``length`` is that number, or the TypeError len() raises when
    the sampler or dataset has no length. It keeps no reference to the loader."""

    __slots__ = ("_it", "_length")

    def __init__(self, it, length):
        self._it, self._length = it, length

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._it)

    def __len__(self):
        if isinstance(self._length, TypeError):
            raise TypeError(*self._length.args)
        return self._length


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
        """The index array of every batch of one epoch; with ``batch_size=None`` each entry is
        one sample's index. A list drawn now, or, from a given sampler or batch_sampler, an
        iterator read as the epoch goes: such a sampler may be far longer than any run reads
        (``RandomSampler(replacement=True, num_samples=10**10)``), and torch reads it lazily."""
        if self.batch_sampler is not None:
            return (np.asarray(list(b), dtype=np.int64) for b in self.batch_sampler)
        if self.sampler is not None:
            return _sampler_batches(self.sampler, self.batch_size, self.drop_last)
        if self.shuffle:
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
            return _EpochIter(self._stream(), self._len_or_error())
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
            return _EpochIter(map(fetch, batches), self._len_or_error())
        if pin and self.multiprocessing_context is not None:  # processes: pinned here
            it = self._iter_workers(fetch, batches, base_seed)
            return _EpochIter(map(_pin_batch, it), self._len_or_error())
        return self._iter_workers(fetch, batches, base_seed)

    def _iter_workers(self, fetch, batches, base_seed):
        self._epoch += 1
        if self.persistent_workers:
            if self._pool is None or not self._pool.usable():
                if self._pool is not None:
                    self._pool.shutdown()
                self._pool = self._start_workers(fetch, base_seed)
            return _workers.LoaderIter(
                self._pool,
                batches,
                self._epoch,
                self.prefetch_factor,
                self.timeout,
                False,
                self._len_or_none(),
            )
        if isinstance(batches, list) and not batches:
            return _EpochIter(iter(()), 0)
        pool = self._start_workers(fetch, base_seed)
        return _workers.LoaderIter(
            pool,
            batches,
            self._epoch,
            self.prefetch_factor,
            self.timeout,
            True,
            self._len_or_none(),
        )

    def _len_or_error(self):
        """len(self), or the TypeError saying why there is none (an iterator's len() raises it)."""
        try:
            return len(self)
        except TypeError as e:
            return e

    def _len_or_none(self):
        try:
            return len(self)
        except TypeError:  # a sampler without a length
            return None

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


def _sampler_batches(sampler, batch_size, drop_last):
    """The batches of one epoch of ``sampler``'s indices, drawn from it as they are needed."""
    indices = iter(sampler)
    if batch_size is None:
        yield from (int(i) for i in indices)
        return
    while True:
        idx = np.fromiter(itertools.islice(indices, batch_size), dtype=np.int64)
        if idx.size == 0 or (drop_last and idx.size < batch_size):
            return
        yield idx


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
