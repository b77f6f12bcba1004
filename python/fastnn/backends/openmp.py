"""``fastnn.backends.openmp``: fastnn's kernels use their own thread pool, not OpenMP."""


def is_available() -> bool:
    return False


__all__ = ["is_available"]
