"""``fastnn.compile`` and ``fastnn.compiler``: torch's compilation entry points on a library
that always runs eagerly.

fastnn has no graph compiler: its ops already run as native kernels, one call at a time. So
``compile(model)`` checks its arguments as torch does and hands back ``model`` itself, whose
results are then exactly the eager ones; a ``backend`` callable is accepted and never called.
A program written for torch's compiler (``model = torch.compile(model)``, ``@torch.compile``)
runs unchanged.
"""

__all__ = ["compile", "disable", "is_compiling"]

# torch's modes; each only tunes how a compiled graph runs, so none changes results
_MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")


def compile(
    model=None,
    *,
    fullgraph=False,
    dynamic=None,
    backend="inductor",
    mode=None,
    options=None,
    disable=False,
):
    """``model`` (a module or a function) unchanged, after torch's checks of the arguments;
    with no ``model``, a decorator doing the same."""
    if mode is not None and options is not None:
        raise RuntimeError(
            "Either mode or options can be specified, but both can't be specified at the same time."
        )
    if mode is not None and mode not in _MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(_MODES)}")
    if model is None:
        return lambda fn: compile(
            fn,
            fullgraph=fullgraph,
            dynamic=dynamic,
            backend=backend,
            mode=mode,
            options=options,
            disable=disable,
        )
    if not callable(model):
        raise AssertionError(  # noqa: TRY004 (torch raises this type)
            f"A callable function is expected, but {type(model)} is provided."
        )
    return model


def is_compiling():
    """False: fastnn never traces a program, so no code runs under compilation."""
    return False


def disable(fn=None, recursive=True, *, reason=None):
    """``fn`` unchanged (or, with no ``fn``, a decorator returning its argument): code is never
    compiled, so there is nothing to turn off."""
    if fn is None:
        return lambda f: f
    if not callable(fn):
        raise AssertionError("fn must be callable")  # noqa: TRY004 (torch raises this type)
    return fn
