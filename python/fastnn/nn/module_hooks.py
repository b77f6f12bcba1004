"""Forward hooks of ``nn.Module``: the registrations and the call that runs them (torch's
order and rules), kept apart from the Module's registries and walks. The call also sets up the
backward hooks (``module_backward_hooks``) around ``forward``.

Pre-hooks run in registration order (``prepend=True`` puts one first) before ``forward`` and
may replace its positional input (any non-tuple result is wrapped in a 1-tuple) or, registered
``with_kwargs``, return a new ``(args, kwargs)``. Forward hooks run after it and may replace the
output. An ``always_call`` forward hook also runs when ``forward`` (or an earlier hook) raised,
with the output it has at that point; the original exception is then re-raised.
"""

import warnings
from collections import OrderedDict

from ..autograd.hooks import RemovableHandle

__all__ = ["ForwardHooks"]


class ForwardHooks:
    """The hook half of ``nn.Module``; ``_init_hooks`` runs in ``Module.__init__``."""

    def _init_hooks(self):
        for name in (
            "_forward_pre_hooks",
            "_forward_pre_hooks_with_kwargs",
            "_forward_hooks",
            "_forward_hooks_with_kwargs",
            "_forward_hooks_always_called",
        ):
            object.__setattr__(self, name, OrderedDict())

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """``hook(module, args) -> None | new args`` (``with_kwargs``: ``hook(module, args,
        kwargs) -> None | (args, kwargs)``), run by ``__call__`` before ``forward``."""
        _check_callable(hook, "register_forward_pre_hook")
        handle = RemovableHandle(
            self._forward_pre_hooks, extra_dict=self._forward_pre_hooks_with_kwargs
        )
        self._forward_pre_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[handle.id] = True
        if prepend:
            self._forward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """``hook(module, args, output) -> None | new output`` (``with_kwargs``: ``hook(module,
        args, kwargs, output)``), run by ``__call__`` after ``forward``."""
        _check_callable(hook, "register_forward_hook")
        handle = RemovableHandle(
            self._forward_hooks,
            extra_dict=[self._forward_hooks_with_kwargs, self._forward_hooks_always_called],
        )
        self._forward_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_hooks_with_kwargs[handle.id] = True
        if always_call:
            self._forward_hooks_always_called[handle.id] = True
        if prepend:
            self._forward_hooks.move_to_end(handle.id, last=False)
        return handle

    def _call_with_hooks(self, args, kwargs):
        args, kwargs = self._run_pre_hooks(args, kwargs)
        return self._forward_and_hooks(args, kwargs)

    def _run_pre_hooks(self, args, kwargs):
        for hook_id, hook in tuple(self._forward_pre_hooks.items()):
            if hook_id in self._forward_pre_hooks_with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(
                            "forward pre-hook must return None or a tuple of (new_args, "
                            f"new_kwargs), but got {result}."
                        )
                    args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        return args, kwargs

    def _forward_and_hooks(self, args, kwargs):
        output = None
        called = set()
        hooked = self._backward_hook_call()
        try:
            if hooked is not None:
                args = hooked.wrap_inputs(args)
            output = self.forward(*args, **kwargs)
            for hook_id, hook in tuple(self._forward_hooks.items()):
                if hook_id in self._forward_hooks_always_called:
                    called.add(hook_id)
                result = self._run_forward_hook(hook_id, hook, args, kwargs, output)
                if result is not None:
                    output = result
            if hooked is not None:
                output = hooked.wrap_outputs(output)
        except Exception:
            for hook_id, hook in tuple(self._forward_hooks.items()):
                if hook_id not in self._forward_hooks_always_called or hook_id in called:
                    continue
                try:
                    result = self._run_forward_hook(hook_id, hook, args, kwargs, output)
                except Exception as e:  # noqa: BLE001 (the first error is the one to report)
                    warnings.warn(
                        "forward hook with ``always_call=True`` raised an exception that was "
                        f"silenced as another error was raised in forward: {e}",
                        stacklevel=3,
                    )
                    continue
                if result is not None:
                    output = result
            raise
        return output

    def _run_forward_hook(self, hook_id, hook, args, kwargs, output):
        if hook_id in self._forward_hooks_with_kwargs:
            return hook(self, args, kwargs, output)
        return hook(self, args, output)


def _check_callable(hook, fn):
    if not callable(hook):
        raise TypeError(f"{fn}: hook must be callable, got {type(hook).__name__}")
