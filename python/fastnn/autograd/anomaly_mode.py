"""Anomaly detection: with it on, a backward pass raises at the first node whose backward
returns NaN, naming that node (``Function 'SqrtBackward0' returned nan values in its 0th
output.``), instead of letting the NaN spread to every gradient. Process-wide, as torch's.

fastnn does not record where in the forward each node was made, which torch also prints.
"""

import warnings


class _State:
    enabled = False
    check_nan = True


state = _State()


def is_anomaly_enabled() -> bool:
    return state.enabled


def is_anomaly_check_nan_enabled() -> bool:
    return state.enabled and state.check_nan


def _set(enabled, check_nan):
    prev = (state.enabled, state.check_nan)
    state.enabled, state.check_nan = bool(enabled), bool(check_nan)
    return prev


class detect_anomaly:
    """Context manager and decorator that turns anomaly detection on for its block."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan
        warnings.warn(
            "Anomaly Detection has been enabled. This mode will increase the runtime and should "
            "only be enabled for debugging.",
            UserWarning,
            stacklevel=2,
        )

    def __enter__(self):
        self._prev = _set(True, self.check_nan)
        return self

    def __exit__(self, *exc):
        _set(*self._prev)
        return False

    def __call__(self, fn):
        def wrapper(*args, **kwargs):
            with self.__class__(self.check_nan):
                return fn(*args, **kwargs)

        return wrapper


class set_detect_anomaly:
    """Turn anomaly detection on or off; as a context manager, only for its block."""

    def __init__(self, mode, check_nan=True):
        self._prev = _set(mode, check_nan)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _set(*self._prev)
        return False


def set_anomaly_enabled(enabled, check_nan=True):
    """torch's top-level form of ``set_detect_anomaly`` (no context manager)."""
    _set(enabled, check_nan)
