"""``fastnn.nn.attention``: which implementations ``scaled_dot_product_attention`` may use
(torch.nn.attention's ``SDPBackend`` and ``sdpa_kernel``).

fastnn computes attention one way, the math form, which stands for every backend that torch's
CPU build offers: MATH and FLASH_ATTENTION. Inside ``sdpa_kernel`` with neither of them allowed
the call fails as torch's does on the CPU (no viable backend).
"""

import contextlib
from enum import IntEnum

__all__ = ["SDPBackend", "sdpa_kernel"]


class SDPBackend(IntEnum):
    """The implementations of scaled dot-product attention, with torch's values."""

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


_CPU_BACKENDS = frozenset((SDPBackend.MATH, SDPBackend.FLASH_ATTENTION))

# the backends the innermost sdpa_kernel allows; None outside any
_allowed = [None]


def check_backend():
    """Raise where the enclosing ``sdpa_kernel`` leaves no backend that fastnn can stand for."""
    allowed = _allowed[0]
    if allowed is not None and not (allowed & _CPU_BACKENDS):
        raise RuntimeError(
            "No viable backend for scaled_dot_product_attention was found. This is likely due "
            "to turning off both the math kernel and the fused kernels."
        )


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority=False):
    """Within the block, ``scaled_dot_product_attention`` may use only ``backends`` (one
    SDPBackend or a list of them)."""
    if isinstance(backends, SDPBackend):
        backends = [backends]
    if not isinstance(backends, (list, tuple, set, frozenset)) or not all(
        isinstance(b, SDPBackend) for b in backends
    ):
        raise TypeError(
            "sdpa_kernel: backends must be an instance of SDPBackend or a list of SDPBackend "
            f"instances, got {type(backends).__name__}"
        )
    previous, _allowed[0] = _allowed[0], frozenset(backends)
    try:
        yield
    finally:
        _allowed[0] = previous
