"""``fastnn.jit``: torch's TorchScript entry points on a library that always runs eagerly.

fastnn has no TorchScript compiler (as it has no graph compiler, see ``fastnn.compiler``): its
ops already run as native kernels. So ``script`` hands back what it is given and ``trace`` runs
the example once, as tracing does (so a function that fails on it fails here too), and hands back
the function: either way the results are the eager ones. The decorators model code carries for
the script compiler (``ignore``, ``unused``, ``export``, ``interface``) return their function,
``annotate`` its value, and ``is_scripting`` / ``is_tracing`` are False, so a model written for
TorchScript runs unchanged. ``fork`` runs its call at once and returns a finished ``Future``.
A scripted or traced module gets the ``save(path)`` method torch's script modules have, and
``jit.save`` / ``jit.load`` write and read such a module as a whole-module checkpoint (the
module's class must be importable when it is loaded, as for ``fastnn.load`` of any module). A
TorchScript archive written by torch holds compiled code, which fastnn cannot run:
``jit.load`` refuses one.
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
    "load",
    "optimize_for_inference",
    "save",
    "script",
    "trace",
    "trace_module",
    "unused",
    "wait",
]


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """``obj`` (a module, function or class) itself: it runs eagerly. A module gains ``save``."""
    return _savable(obj)


def trace(func, example_inputs=None, *args, example_kwarg_inputs=None, **kwargs):
    """Run ``func`` on its example once, as tracing does, and return ``func`` itself."""
    _run_example(func, example_inputs, example_kwarg_inputs)
    return _savable(func)


class _Saver:
    """A scripted module's ``save(f)``: ``jit.save`` of that module."""

    __slots__ = ("module",)

    def __init__(self, module):
        self.module = module

    def __call__(self, f, _extra_files=None):
        save(self.module, f, _extra_files)


def _savable(obj):
    from .nn.module import Module

    # an instance attribute (not a method of every Module, where it would hide a submodule
    # that a model names "save"), as torch's script modules carry save and plain ones do not
    if isinstance(obj, Module) and "save" not in vars(obj) and not hasattr(type(obj), "save"):
        vars(obj)["save"] = _Saver(obj)
    return obj


def save(m, f, _extra_files=None):
    """Write the module ``m`` (whole, as ``fastnn.save`` pickles it) to the path or file ``f``."""
    from .nn.module import Module
    from .serialization import save as _save

    if not isinstance(m, Module):
        raise TypeError(f"jit.save: expected a module, got {type(m).__name__}")
    _save(m, f)


def load(f, map_location=None, _extra_files=None):
    """The module that ``jit.save`` (or a scripted module's ``save``) wrote to ``f``."""
    import zipfile

    from .serialization import load as _load

    try:
        with zipfile.ZipFile(f) as z:
            compiled = any(n.endswith("constants.pkl") for n in z.namelist())
    except (zipfile.BadZipFile, OSError):
        compiled = False  # load names what is wrong with the file
    if hasattr(f, "seek"):
        f.seek(0)
    if compiled:
        raise RuntimeError(
            f"jit.load: {getattr(f, 'name', f)} is a TorchScript archive written by torch: it "
            "holds compiled TorchScript code, which fastnn cannot run; load the model's "
            "state_dict instead"
        )
    return _load(f, map_location=map_location, weights_only=False)


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
