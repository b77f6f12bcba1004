"""Grad mode: whether operations record the graph. Thread-local, like PyTorch's (a data-loading
thread entering ``no_grad`` must not switch off recording in the training thread)."""

import functools
import threading


class _State(threading.local):
    enabled = True


state = _State()


def is_grad_enabled() -> bool:
    return state.enabled


class _GradMode:
    """Context manager and decorator that sets grad mode (and restores it on exit)."""

    _mode = True

    def __init__(self):
        self._prev = []

    def __enter__(self):
        self._prev.append(state.enabled)
        state.enabled = self._mode

    def __exit__(self, *exc):
        state.enabled = self._prev.pop()
        return False

    def __call__(self, fn):
        mode = self._mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = state.enabled
            state.enabled = mode
            try:
                return fn(*args, **kwargs)
            finally:
                state.enabled = prev

        return wrapper


class no_grad(_GradMode):  # lower-case class names: torch's names
    """``with no_grad():`` or ``@no_grad()``: operations inside record no graph."""

    _mode = False


class enable_grad(_GradMode):
    """Turn recording back on inside a ``no_grad`` block."""

    _mode = True


class set_grad_enabled(_GradMode):
    """``set_grad_enabled(False)`` sets the mode at once (like torch) and restores it on exit
    when used as a context manager."""

    def __init__(self, mode: bool):
        super().__init__()
        self._mode = bool(mode)
        self._prev.append(state.enabled)
        state.enabled = self._mode

    def __enter__(self):
        pass
