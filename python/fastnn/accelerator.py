"""``fastnn.accelerator``: the device-neutral questions a program asks before picking a device.

fastnn's only accelerator is a CUDA GPU, so every answer comes from :mod:`fastnn.cuda`; none of
them raises, and none loads the CUDA module unless it was built.
"""

from . import cuda as _cuda
from ._core.device import device as _device


def is_available() -> bool:
    """True when a CUDA GPU is usable by fastnn here."""
    return _cuda.is_available()


def device_count() -> int:
    """How many accelerator devices fastnn can use (0 without a GPU)."""
    return _cuda.device_count()


def current_accelerator(check_available: bool = False):
    """``fastnn.device('cuda')`` when a GPU is usable, else None.

    ``check_available`` is accepted for torch's signature; fastnn reports an accelerator only
    when one is usable, so it changes nothing.
    """
    del check_available
    return _device("cuda") if _cuda.is_available() else None


__all__ = ["current_accelerator", "device_count", "is_available"]
