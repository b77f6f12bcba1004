"""Grad mode: whether operations record the graph. Thread-local, like PyTorch's (a data-loading
thread entering ``no_grad`` must not switch off recording in the training thread).

Each mode class is a context manager and a decorator (``@no_grad()``, or bare ``@no_grad`` as torch
allows for the argument-free ones); decorating a generator function sets the mode around each of
its steps only, so the caller's mode is in force between them.
"""

import functools
import inspect
import threading


class _State(threading.local):
    enabled = True
    inference = False


state = _State()


def is_grad_enabled() -> bool:
    return state.enabled


def is_inference_mode_enabled() -> bool:
    return state.inference


class _GradMode:
    """Context manager and decorator that sets grad mode (and restores it on exit)."""

    _mode = True
    _inference = None  # None: leave the inference flag alone

    def __new__(cls, *args, **kwargs):
        if len(args) == 1 and not kwargs and callable(args[0]):
            return cls()(args[0])  # bare ``@no_grad``
        return super().__new__(cls)

    def __init__(self):
        self._prev = []

    def _set(self):
        self._prev.append((state.enabled, state.inference))
        state.enabled = self._mode
        if self._inference is not None:
            state.inference = self._inference

    def _restore(self):
        state.enabled, state.inference = self._prev.pop()

    def __enter__(self):
        self._set()

    def __exit__(self, *exc):
        self._restore()
        return False

    def clone(self):
        return self.__class__()

    def __call__(self, fn):
        if not callable(fn):
            raise TypeError(f"{type(self).__name__} can only decorate a callable, got {fn!r}")
        if inspect.isgeneratorfunction(fn):
            return self._wrap_generator(fn)
        mode = self.clone()

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with mode:
                return fn(*args, **kwargs)

        return wrapper

    def _wrap_generator(self, fn):
        mode = self.clone()

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            gen = fn(*args, **kwargs)
            try:
                with mode:
                    item = next(gen)
                while True:
                    try:
                        sent = yield item
                    except GeneratorExit:
                        with mode:
                            gen.close()
                        raise
                    except BaseException as e:  # noqa: BLE001 (thrown in: forwarded under the mode)
                        with mode:
                            item = gen.throw(e)
                    else:
                        with mode:
                            item = gen.send(sent)
            except StopIteration as stop:
                return stop.value

        return wrapper


class no_grad(_GradMode):  # lower-case class names: torch's names
    """``with no_grad():`` or ``@no_grad()``: operations inside record no graph."""

    _mode = False


class enable_grad(_GradMode):
    """Turn recording back on inside a ``no_grad`` block."""

    _mode = True


class inference_mode(_GradMode):
    """``inference_mode(mode=True)``: like ``no_grad`` (fastnn's tensors carry no view or version
    tracking cost worth skipping, so the two differ only in ``is_inference_mode_enabled``);
    ``inference_mode(False)`` changes nothing."""

    def __init__(self, mode=True):
        super().__init__()
        self._on = bool(mode)

    def _set(self):
        self._prev.append((state.enabled, state.inference))
        if self._on:
            state.enabled = False
            state.inference = True

    def clone(self):
        return self.__class__(self._on)


class set_grad_enabled(_GradMode):
    """``set_grad_enabled(False)`` sets the mode at once (like torch) and restores it on exit
    when used as a context manager; used as a decorator it puts the mode back at once and sets
    it only while the decorated function runs."""

    def __new__(cls, mode):
        return object.__new__(cls)

    def __init__(self, mode: bool):
        super().__init__()
        self._mode = bool(mode)
        self._outer = state.enabled
        state.enabled = self._mode

    def __enter__(self):
        pass  # the mode was set by the constructor; __exit__ restores the one before it

    def __exit__(self, *exc):
        state.enabled = self._outer
        return False

    def __call__(self, fn):
        state.enabled = self._outer
        return super().__call__(fn)

    def clone(self):
        return _Scoped(self._mode)


class _Scoped(_GradMode):
    """A plain set-and-restore mode (what a ``set_grad_enabled`` decorator enters per call)."""

    def __new__(cls, mode):
        return object.__new__(cls)

    def __init__(self, mode):
        super().__init__()
        self._mode = mode
