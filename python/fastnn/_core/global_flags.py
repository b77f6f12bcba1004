"""Process-wide switches that torch programs set at start-up: determinism, inter-op threads,
denormal flushing, always-warn, and the legacy default tensor type. Each keeps torch's argument
checks and reads back what was set; what each changes in fastnn is said at each one.
"""

import warnings

from . import device as _device
from . import dtype as _dtype

_state = {"deterministic": False, "warn_only": False, "interop": 1, "warn_always": False}


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Ask for deterministic algorithms. fastnn's kernels already are: their results do not
    depend on the thread count or on timing (no atomics, fixed reduction orders), so there is
    nothing to switch; the setting is kept for ``are_deterministic_algorithms_enabled``."""
    if not isinstance(mode, bool):
        raise TypeError(
            "use_deterministic_algorithms(): argument 'mode' (position 1) must be bool, "
            f"not {type(mode).__name__}"
        )
    if not isinstance(warn_only, bool):
        raise TypeError(
            "use_deterministic_algorithms(): argument 'warn_only' must be bool, "
            f"not {type(warn_only).__name__}"
        )
    _state["deterministic"] = mode
    _state["warn_only"] = mode and warn_only


def are_deterministic_algorithms_enabled():
    return _state["deterministic"]


def is_deterministic_algorithms_warn_only_enabled():
    return _state["warn_only"]


_DEBUG_MODES = {"default": 0, "warn": 1, "error": 2}


def set_deterministic_debug_mode(debug_mode):
    """0 / "default": off, 1 / "warn": deterministic with warnings, 2 / "error": deterministic
    (``use_deterministic_algorithms`` in one number)."""
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError(
                "invalid value of debug_mode, expected one of `default`, `warn`, `error`, "
                f"but got {debug_mode}"
            )
        debug_mode = _DEBUG_MODES[debug_mode]
    if isinstance(debug_mode, bool) or not isinstance(debug_mode, int):
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode).__name__}")
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(
            f"invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}"
        )
    use_deterministic_algorithms(debug_mode > 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode():
    if not _state["deterministic"]:
        return 0
    return 1 if _state["warn_only"] else 2


def set_num_interop_threads(num):
    """The size of torch's inter-op pool. fastnn runs ops one after another on the calling
    thread (each op spreads itself over ``get_num_threads()`` threads), so this is recorded
    only."""
    if isinstance(num, bool) or not isinstance(num, int) or num <= 0:
        raise RuntimeError("set_num_interop_threads expects a positive integer")
    _state["interop"] = num


def get_num_interop_threads():
    return _state["interop"]


def set_flush_denormal(mode):
    """Whether denormal floats could be flushed to zero: fastnn does not change the FPU's
    modes (its kernels run with the process's), so it answers False, torch's answer on a CPU
    that cannot."""
    if not isinstance(mode, bool):
        raise TypeError(f"set_flush_denormal(): argument 'mode' must be bool, not {type(mode)}")
    return False


def set_warn_always(b):
    """torch's switch for warnings it otherwise gives once; fastnn's give once per place as
    Python's warnings do, so this is recorded only."""
    _state["warn_always"] = bool(b)


def is_warn_always_enabled():
    return _state["warn_always"]


# the floating tensor-type names set_default_tensor_type takes, and the dtype each one means
_DEFAULT_TENSOR_TYPES = {
    "HalfTensor": _dtype.float16,
    "FloatTensor": _dtype.float32,
    "DoubleTensor": _dtype.float64,
}


def set_default_tensor_type(t):
    """The legacy form of ``set_default_dtype`` (and ``set_default_device`` for the
    ``torch.cuda.*Tensor`` names): ``FloatTensor``/``DoubleTensor`` (the classes or their names
    as strings)."""
    warnings.warn(
        "set_default_tensor_type() is deprecated, please use set_default_dtype() and "
        "set_default_device() as alternatives.",
        UserWarning,
        stacklevel=2,
    )
    name = t if isinstance(t, str) else getattr(t, "__name__", None)
    kind = name.rsplit(".", 1)[-1] if isinstance(name, str) else None
    np_dtype = _DEFAULT_TENSOR_TYPES.get(kind)
    if np_dtype is None:
        if isinstance(t, str):
            raise TypeError(f"invalid type: '{t}'")
        raise TypeError(
            "invalid type object: only floating-point types are supported as the default type"
        )
    _dtype.set_default_dtype(np_dtype)
    if isinstance(t, str) and ".cuda." in t:
        _device.set_default_device("cuda")
