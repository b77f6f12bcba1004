"""``fastnn.Generator``: a private random stream to pass as ``generator=`` (its seeding lives in
``_core.random.Stream``; this adds the uint8-tensor state of torch's API)."""

import secrets

import numpy as np

from .._core import random as _random
from ..autograd import function as _function


class Generator(_random.Stream):
    """An independent random stream: ``fastnn.Generator().manual_seed(0)`` gives the same numbers
    on every run, whatever else draws from the global state in between.

    Draws are made on the host and copied to the target device, so a seed gives the same values
    on the CPU and on a GPU (they are not torch's values). ``device`` is recorded as given.
    """

    __slots__ = ()

    def get_state(self):
        """The stream's position as a uint8 tensor; ``set_state`` of it replays what follows."""
        return _function.Tensor._make(np.frombuffer(self._state_bytes(), np.uint8).copy())

    def set_state(self, new_state):
        """Restore a state from ``get_state``; returns the generator."""
        self._load_state_bytes(_state_of(new_state, "Generator.set_state"))
        return self

    def __repr__(self):
        return f"<fastnn.Generator object, device={self.device}>"


def _state_of(new_state, fn):
    data = getattr(new_state, "_data", None)
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8:
        got = type(new_state).__name__
        if data is not None:
            got += f" of dtype {data.dtype}"
        raise TypeError(f"{fn}: expected a uint8 CPU tensor from get_state(), got {got}")
    if data.ndim != 1:
        raise RuntimeError(f"{fn}: expected a 1-D state, got shape {tuple(data.shape)}")
    return data.tobytes()


class _DefaultGenerator(Generator):
    """``fastnn.default_generator``: the global stream (the one ``manual_seed`` seeds and every
    draw without ``generator=`` uses) as a Generator."""

    __slots__ = ()

    def manual_seed(self, seed):
        _random.manual_seed(seed)
        return self

    def seed(self):
        s = secrets.randbits(63)
        _random.manual_seed(s)
        return s

    def initial_seed(self):
        return _random.initial_seed()

    def _state_bytes(self):
        return _random.global_state_bytes()

    def _load_state_bytes(self, raw):
        _random.load_global_state_bytes(raw)

    def __repr__(self):
        return "<fastnn.default_generator object, device=cpu>"


default_generator = _DefaultGenerator()


def get_rng_state():
    """The global random state as a uint8 tensor (torch's checkpoint idiom: save it, and
    ``set_rng_state`` of it later replays the same draws)."""
    return default_generator.get_state()


def set_rng_state(new_state):
    """Restore the global random state from ``get_rng_state``."""
    _random.load_global_state_bytes(_state_of(new_state, "set_rng_state"))
