"""The Philox generator state of the CUDA kernels: a 64-bit seed and a counter offset.

Every random call over n elements uses counters [offset, offset + philox_counters(n)) under the
seed and then advances the offset, so a sequence of calls is reproducible from the seed alone.
The seed follows ``fastnn.manual_seed``: whenever fastnn's global numpy Generator is replaced,
the CUDA generator reseeds from that Generator's seed (without drawing from it, so the CPU
stream is unchanged).

One lock guards the state: threads launching random kernels at once get disjoint counter ranges.
"""

import threading

import numpy as np

from .._core import random as _random

_MASK = (1 << 64) - 1
_state = {"seed": 0, "offset": 0, "source": None}
_lock = threading.Lock()


def _seed_of(generator) -> int:
    entropy = generator.bit_generator.seed_seq.entropy
    if isinstance(entropy, (int, np.integer)):
        return int(entropy) & _MASK
    return hash(tuple(int(e) for e in np.atleast_1d(entropy))) & _MASK


def _global_generator():
    # The process-wide Generator, never a DataLoader worker thread's own stream: following a
    # thread's stream would restart the offset at 0 each time another thread draws.
    return _random._generator


def _sync():
    """Reseed from fastnn's global Generator when it was replaced; the caller holds _lock."""
    g = _global_generator()
    if g is not _state["source"]:
        _state.update(seed=_seed_of(g), offset=0, source=g)


def manual_seed(seed: int) -> None:
    """Seed the CUDA generator (the offset restarts at 0)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"manual_seed: seed must be an int, got {type(seed).__name__}")
    source = _global_generator()
    with _lock:
        _state.update(seed=int(seed) & _MASK, offset=0, source=source)


def initial_seed() -> int:
    with _lock:
        _sync()
        return _state["seed"]


def get_state() -> tuple:
    """(seed, offset): pass to set_state to replay the following random calls."""
    with _lock:
        _sync()
        return _state["seed"], _state["offset"]


def set_state(state) -> None:
    seed, offset = state
    seed, offset = int(seed) & _MASK, int(offset) & _MASK
    source = _global_generator()
    with _lock:
        _state.update(seed=seed, offset=offset, source=source)


def next_stream(counters: int) -> tuple:
    """(seed, offset) for a call that consumes `counters` Philox counters; advances the offset.
    Atomic: concurrent callers get disjoint ranges [offset, offset + counters)."""
    counters = int(counters)
    with _lock:
        _sync()
        seed, offset = _state["seed"], _state["offset"]
        _state["offset"] = (offset + counters) & _MASK
    return seed, offset
