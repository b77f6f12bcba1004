"""What a DataLoader worker knows about itself (``get_worker_info``) and how it is seeded.

Every epoch the loader draws a base seed from its generator (``fastnn.manual_seed`` or the
loader's own ``generator=`` / ``seed=``); worker ``i`` is seeded with ``base_seed + i``, so random
augmentations differ between workers yet repeat run after run.
"""

import random
import threading

import numpy as np

from ..._core import random as _random

__all__ = ["WorkerInfo", "get_worker_info"]

_thread = threading.local()
_process_info = None  # set in a worker process, where every thread belongs to the worker


class WorkerInfo:
    """A worker's ``id`` (0 .. ``num_workers`` - 1), ``num_workers``, ``seed`` and ``dataset``.

    In a worker thread ``dataset`` is the loader's own object (threads share memory); in a worker
    process it is that process's copy.
    """

    __slots__ = ("dataset", "id", "num_workers", "seed")

    def __init__(self, *, id, num_workers, seed, dataset):
        for name, value in (("id", id), ("num_workers", num_workers), ("seed", seed)):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "dataset", dataset)

    def __setattr__(self, name, value):
        raise RuntimeError(f"Cannot assign attributes to WorkerInfo objects (tried {name!r})")

    def __reduce__(self):  # read-only slots: pickle through the constructor
        return (_rebuild, (self.id, self.num_workers, self.seed, self.dataset))

    def __repr__(self):
        return (
            f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed}, "
            f"dataset={type(self.dataset).__name__})"
        )


def _rebuild(id, num_workers, seed, dataset):
    return WorkerInfo(id=id, num_workers=num_workers, seed=seed, dataset=dataset)


def get_worker_info():
    """The calling DataLoader worker's WorkerInfo; None outside a worker (the main program)."""
    info = getattr(_thread, "info", None)
    return _process_info if info is None else info


def draw_base_seed(rng: np.random.Generator) -> int:
    """One 63-bit base seed per epoch, drawn whatever num_workers is, so the number of
    workers does not shift the caller's random stream."""
    return int(rng.integers(0, 2**63 - 1, dtype=np.int64))


def enter_thread(info: WorkerInfo):
    """Run in a new worker thread: its WorkerInfo and its own fastnn stream. Python's ``random``
    and numpy's legacy global state belong to the whole process and stay untouched."""
    _thread.info = info
    _random.set_thread_stream(info.seed)


def enter_process(info: WorkerInfo, base_seed: int):
    """Run first in a worker process: its WorkerInfo, and fastnn's, numpy's legacy and Python's
    random state seeded from the worker's seed."""
    global _process_info  # noqa: PLW0603 (one worker per process)
    _process_info = info
    _thread.info = None  # forked from a worker thread: that thread's state is not ours
    _random.set_thread_stream(None)
    _random.manual_seed(info.seed)
    random.seed(info.seed)
    np.random.seed(np.random.SeedSequence([base_seed, info.id]).generate_state(4))


def leave_thread():
    _thread.info = None
    _random.set_thread_stream(None)
