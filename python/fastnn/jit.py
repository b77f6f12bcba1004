"""``fastnn.jit``: torch's TorchScript entry points on a library that always runs eagerly.

fastnn has no TorchScript compiler (as it has no graph compiler, see ``fastnn.compiler``): its
ops already run as native kernels. So ``script`` hands back what it is given and ``trace`` runs
the example once, as tracing does (so a function that fails on it fails here too), and hands back
the function: either way the results are the eager ones. The decorators model code carries for
the script compiler (``ignore``, ``unused``, ``export``, ``interface``) return their function,
``annotate`` its value, and ``is_scripting`` / ``is_tracing`` are False, so a model written for
TorchScript runs unchanged. ``fork`` runs its call at once and returns a finished ``Future``.
There is no ``jit.save`` / ``jit.load``: a TorchScript archive holds compiled code, which fastnn
cannot run; save the state dict instead.
"""

from typing import Final

__all__ = [
    "Final",
    "Future",
    "annotate",
    "export",
    "fork",
    "freeze",
    "ignore",
    "interface",
    "is_scripting",
    "is_tracing",
    "optimize_for_inference",
    "script",
    "trace",
    "trace_module",
    "unused",
    "wait",
]


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """``obj`` (a module, function or class) itself: it runs eagerly."""
    return obj


def trace(func, example_inputs=None, *args, example_kwarg_inputs=None, **kwargs):
    """Run ``func`` on its example once, as tracing does, and return ``func`` itself."""
    _run_example(func, example_inputs, example_kwarg_inputs)
    return func


def trace_module(mod, inputs, *args, **kwargs):
    """Run each named method of ``mod`` on its example (``inputs``: {method name: example}) and
    return ``mod`` itself."""
    if not isinstance(inputs, dict):
        raise TypeError(
            f"trace_module: inputs must be a dict of method name -> example, got {type(inputs).__name__}"
        )
    for name, example in inputs.items():
        _run_example(getattr(mod, name), example, None)
    return mod


def _run_example(func, example_inputs, example_kwarg_inputs):
    from . import autograd

    with autograd.no_grad():
        if example_kwarg_inputs is not None:
            if not isinstance(example_kwarg_inputs, dict):
                raise TypeError(
                    "example_kwarg_inputs should be a dict, got "
                    f"{type(example_kwarg_inputs).__name__}"
                )
            func(**example_kwarg_inputs)
        elif isinstance(example_inputs, tuple):
            func(*example_inputs)
        elif example_inputs is not None:
            func(example_inputs)


def ignore(drop=False, **kwargs):
    """``@ignore`` or ``@ignore(drop=True)``: the function, unchanged."""
    if callable(drop):  # used bare, as @ignore
        return drop
    return lambda fn: fn


def unused(fn):
    return fn


def export(fn):
    return fn


def interface(obj):
    return obj


def annotate(the_type, the_value):
    """``the_value``: the type only guides the script compiler."""
    return the_value


def is_scripting():
    return False


def is_tracing():
    return False


def freeze(mod, preserved_attrs=None, optimize_numerics=True):
    """``mod`` itself, once it is in eval mode (torch refuses to freeze a training module)."""
    if getattr(mod, "training", False):
        raise RuntimeError(
            "Freezing is currently only implemented for modules in eval mode. Please call "
            ".eval() on your module before freezing."
        )
    return mod


def optimize_for_inference(mod, other_methods=None):
    """``mod`` in eval mode, itself."""
    return freeze(mod.eval() if hasattr(mod, "eval") else mod)


class Future:
    """A finished asynchronous result: ``fork`` runs its call before returning one."""

    def __init__(self, value):
        self._value = value

    def wait(self):
        return self._value

    def value(self):
        return self._value

    def done(self):
        return True

    def then(self, callback):
        """A Future of ``callback(self)``."""
        return Future(callback(self))


def fork(func, *args, **kwargs):
    return Future(func(*args, **kwargs))


def wait(future):
    if not isinstance(future, Future):
        raise TypeError(f"wait expects a Future from fork, got {type(future).__name__}")
    return future.wait()
