"""``fastnn.random``: torch.random's names for the global random state (the same functions as
``fastnn.manual_seed`` and its neighbours) and ``fork_rng``, which lets a block draw random
numbers without moving the state the rest of the program sees."""

import contextlib

from . import cuda
from ._tensor.creation import manual_seed
from ._tensor.functions_more import initial_seed, seed
from ._tensor.random import Generator, default_generator, get_rng_state, set_rng_state
from .cuda import random as _cuda_random

__all__ = [
    "Generator",
    "default_generator",
    "fork_rng",
    "get_rng_state",
    "initial_seed",
    "manual_seed",
    "seed",
    "set_rng_state",
]


@contextlib.contextmanager
def fork_rng(
    devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices", device_type="cuda"
):
    """Save the random state on entry and restore it on exit, so the block's draws leave the
    rest of the program's stream as it was; ``enabled=False`` does nothing. The CPU state is
    always forked, and the CUDA one (one stream serves every GPU) when a GPU is present."""
    if not enabled:
        yield
        return
    if device_type != "cuda":
        raise RuntimeError(f"fork_rng: fastnn forks the CPU and CUDA states, not {device_type!r}")
    cpu_state = get_rng_state()
    gpu_state = _cuda_random.get_state() if cuda.is_available() else None
    try:
        yield
    finally:
        set_rng_state(cpu_state)
        if gpu_state is not None:
            _cuda_random.set_state(gpu_state)
