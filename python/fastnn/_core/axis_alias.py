"""torch's numpy-style keyword aliases: ``axis=`` for ``dim=`` and ``keepdims=`` for ``keepdim=``.

torch's own functions and Tensor methods take both spellings (``torch.cat(xs, axis=1)``,
``x.argmax(axis=1)``, ``x.mean(1, keepdims=True)``); only the Python-level ``nn.functional``
ones do not, nor the few torch writes in Python (``split``, ``norm``, ``unique``,
``unique_consecutive``; the ``unflatten`` method), which fastnn leaves alone likewise so that
an alias torch refuses is refused here too. ``accepting_aliases`` wraps one function that names ``dim`` / ``keepdim`` so it
also takes the alias; ``alias_methods`` does it for every such method of a class, and
``alias_functions`` for the functions of a namespace. A function that already names the alias
is left alone.
"""

import functools
import inspect

_ALIASES = (("axis", "dim"), ("keepdims", "keepdim"))
_NO_ALIAS = frozenset({"split", "norm", "unique", "unique_consecutive"})


def _params(fn):
    try:
        return inspect.signature(fn).parameters
    except (TypeError, ValueError):  # a builtin without a signature
        return {}


def accepting_aliases(fn):
    """fn, also taking ``axis`` / ``keepdims`` for the ``dim`` / ``keepdim`` it names; or fn
    itself when it names neither or takes the aliases already."""
    params = _params(fn)
    pairs = tuple((a, d) for a, d in _ALIASES if d in params and a not in params)
    if not pairs:
        return fn

    @functools.wraps(fn)
    def call(*args, **kwargs):
        if kwargs:
            for alias, name in pairs:
                if alias in kwargs:
                    if name in kwargs:
                        raise TypeError(
                            f"{fn.__name__}() got multiple values for argument '{name}'"
                        )
                    kwargs[name] = kwargs.pop(alias)
        return fn(*args, **kwargs)

    return call


def alias_methods(cls):
    """Wrap the public methods of cls (its own and inherited) that name ``dim`` or ``keepdim``."""
    for name in dir(cls):
        if name.startswith("_") or name in _NO_ALIAS or name == "unflatten":
            continue
        attr = inspect.getattr_static(cls, name)
        if inspect.isfunction(attr):
            wrapped = accepting_aliases(attr)
            if wrapped is not attr:
                setattr(cls, name, wrapped)
    return cls


def alias_functions(namespace, names):
    """Wrap the functions ``names`` of the dict ``namespace`` (a module's globals) in place."""
    for name in names:
        if name in _NO_ALIAS:
            continue
        fn = namespace.get(name)
        if inspect.isfunction(fn):
            namespace[name] = accepting_aliases(fn)
