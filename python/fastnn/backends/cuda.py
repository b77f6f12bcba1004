"""``fastnn.backends.cuda``: ``matmul.allow_tf32`` as an accepted no-op flag (fastnn's GEMMs
compute in the tensors' own precision whatever it says), and ``is_built``."""

from .. import cuda as _cuda


class _MatmulFlags:
    """Holds ``allow_tf32`` (torch's default, False); fastnn reads it nowhere."""

    __slots__ = ("allow_tf32",)

    def __init__(self):
        self.allow_tf32 = False


matmul = _MatmulFlags()


def is_built() -> bool:
    """True when this fastnn was compiled with its CUDA module."""
    return _cuda.is_built()


__all__ = ["is_built", "matmul"]
