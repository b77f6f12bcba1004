"""``fastnn.backends.mkl``: fastnn does not link Intel's MKL."""


def is_available() -> bool:
    return False


__all__ = ["is_available"]
