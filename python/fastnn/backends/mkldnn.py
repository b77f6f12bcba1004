"""``fastnn.backends.mkldnn``: fastnn's kernels are its own, not oneDNN's, so the library is not
available; ``enabled`` is a plain flag that changes nothing, as the other backend flags."""

enabled = True


def is_available() -> bool:
    return False


__all__ = ["enabled", "is_available"]
