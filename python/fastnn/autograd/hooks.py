"""``RemovableHandle``: what ``register_hook`` returns; ``remove()`` takes the hook out again
(idempotent, and safe after the tensor holding the hooks is gone)."""

import itertools

_ids = itertools.count()


class RemovableHandle:
    __slots__ = ("_hooks", "id")

    def __init__(self, hooks):
        self._hooks = hooks  # the dict id -> hook the hook lives in
        self.id = next(_ids)

    def remove(self):
        if self._hooks is not None:
            self._hooks.pop(self.id, None)
            self._hooks = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False
