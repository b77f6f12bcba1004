"""``fastnn.Generator``: a private random stream to pass as ``generator=`` (its seeding lives in
``_core.random.Stream``; this adds the uint8-tensor state of torch's API)."""

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
        data = getattr(new_state, "_data", None)
        if not isinstance(data, np.ndarray) or data.dtype != np.uint8:
            got = type(new_state).__name__
            if data is not None:
                got += f" of dtype {data.dtype}"
            raise TypeError(
                f"Generator.set_state: expected a uint8 CPU tensor from get_state(), got {got}"
            )
        if data.ndim != 1:
            raise RuntimeError(
                f"Generator.set_state: expected a 1-D state, got shape {tuple(data.shape)}"
            )
        self._load_state_bytes(data.tobytes())
        return self

    def __repr__(self):
        return f"<fastnn.Generator object, device={self.device}>"
