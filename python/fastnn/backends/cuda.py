"""``fastnn.backends.cuda``: ``matmul.allow_tf32`` as an accepted flag (fastnn's GEMMs
compute in the tensors' own precision whatever it says), and ``is_built``."""

from .. import cuda as _cuda
from . import precision as _precision


class _MatmulFlags:
    """``allow_tf32`` (torch's default, False): another view of
    ``fastnn.get_float32_matmul_precision() != "highest"``; fastnn's GEMMs read neither."""

    __slots__ = ()

    @property
    def allow_tf32(self):
        return _precision.allows_tf32()

    @allow_tf32.setter
    def allow_tf32(self, allow):
        _precision.set_allow_tf32(bool(allow))


matmul = _MatmulFlags()


def is_built() -> bool:
    """True when this fastnn was compiled with its CUDA module."""
    return _cuda.is_built()


__all__ = ["is_built", "matmul"]
