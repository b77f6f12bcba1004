"""``fastnn.backends.cudnn``: accepted no-op flags (fastnn does not use cuDNN).

``enabled``, ``benchmark``, ``deterministic`` and ``allow_tf32`` start at torch's defaults and
may be set freely; fastnn ignores them. Its GPU kernels are deterministic whatever they say.
"""

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    """False: fastnn never uses cuDNN."""
    return False


def version():
    """None: no cuDNN library is loaded."""
    return None  # noqa: RET501 (torch's version() is an int or None; None is the answer here)


__all__ = ["allow_tf32", "benchmark", "deterministic", "enabled", "is_available", "version"]
