"""``RemovableHandle``: what ``register_hook`` (tensors) and the module hook registrations
return; ``remove()`` takes the hook out again (idempotent, and safe after the object holding the
hooks is gone). ``extra_dict``: further dicts keyed by the same id (a module keeps its hooks'
flags, e.g. with_kwargs, beside the hooks), cleaned by the same ``remove()``."""

import itertools

_ids = itertools.count()


class RemovableHandle:
    __slots__ = ("_extra", "_hooks", "id")

    def __init__(self, hooks, *, extra_dict=None):
        self._hooks = hooks  # the dict id -> hook the hook lives in
        if extra_dict is None:
            self._extra = ()
        elif isinstance(extra_dict, dict):
            self._extra = (extra_dict,)
        else:
            self._extra = tuple(extra_dict)
        self.id = next(_ids)

    def remove(self):
        if self._hooks is not None:
            self._hooks.pop(self.id, None)
            self._hooks = None
        for d in self._extra:
            d.pop(self.id, None)
        self._extra = ()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False
