"""fastnn's global random state: one numpy Generator, reseeded by ``fastnn.manual_seed``."""

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed: int):
    """Seed every random draw fastnn makes (init, rand*, dropout, shuffling) for reproducible runs."""
    global _generator  # noqa: PLW0603 (manual_seed replaces the one global Generator)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"manual_seed: seed must be an int, got {type(seed).__name__}")
    _generator = np.random.default_rng(int(seed) & 0xFFFF_FFFF_FFFF_FFFF)
    return _generator


def generator() -> np.random.Generator:
    """The global Generator (read it at each use: manual_seed replaces it)."""
    return _generator
