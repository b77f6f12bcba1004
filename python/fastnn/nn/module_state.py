"""``state_dict`` and ``load_state_dict`` of ``nn.Module``, in torch's protocol, so that modules
that take part in it (overriding ``_save_to_state_dict`` / ``_load_from_state_dict``, keeping
extra state, registering state-dict hooks) behave as they do on torch.

Saving walks the tree: each module runs its pre-hooks, puts its own parameters, persistent
buffers and extra state under its prefix (``_save_to_state_dict``), then its children do, then
its post-hooks run. The result carries ``_metadata``: each module's ``_version`` under its prefix.

Loading walks the tree the same way: each module's ``_load_from_state_dict`` (its pre-hooks
first) matches its own keys, noting missing and unexpected ones and size mismatches, and its
children then see the keys under their prefixes. One rule differs from torch on purpose: a load
that fails changes nothing. The copies a walk decides on wait until every module has been
matched, the post-hooks have run (they may clear missing or unexpected keys) and the strict
check has passed; post-hooks therefore see the values from before the load.
"""

import warnings
from collections import OrderedDict, namedtuple
from collections.abc import Mapping

import numpy as np

from .._tensor import Tensor
from ..autograd import no_grad
from ..autograd.hooks import RemovableHandle
from .parameter import Parameter

__all__ = ["StateDict"]

_PENDING = "_fastnn_pending_copies"  # where the walk's copies wait, in each local_metadata


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys it did not find, and the keys it did not use."""

    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


class StateDict:
    """The state-dict half of ``nn.Module``. The hook registries are made on first use (class
    defaults of None), so that modules pickled before they existed still load."""

    _version = 1
    _state_dict_pre_hooks = None
    _state_dict_hooks = None  # id -> (hook, whether its result may replace the dict)
    _load_state_dict_pre_hooks = None  # id -> (hook, whether it takes the module first)
    _load_state_dict_post_hooks = None

    # ---- saving ----

    def state_dict(self, *args, destination=None, prefix: str = "", keep_vars: bool = False):
        """An ordered dict name -> tensor of every parameter, persistent buffer and extra
        state, children under ``name.``; the tensors share storage with the module (detached
        unless ``keep_vars``). Positional (destination, prefix, keep_vars) as in old torch."""
        if len(args) > 3:
            raise TypeError(f"state_dict() takes at most 3 positional arguments, got {len(args)}")
        if args:
            warnings.warn(
                "Positional args are being deprecated, use kwargs instead.",
                FutureWarning,
                stacklevel=2,
            )
            destination = args[0]
        if len(args) > 1:
            prefix = args[1]
        if len(args) > 2:
            keep_vars = args[2]
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        local_metadata = {"version": self._version}
        if hasattr(destination, "_metadata"):
            destination._metadata[prefix[:-1]] = local_metadata
        for hook in tuple((self._state_dict_pre_hooks or {}).values()):
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(
                    destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars
                )
        for hook, may_replace in tuple((self._state_dict_hooks or {}).values()):
            result = hook(self, destination, prefix, local_metadata)
            if result is not None:
                if not may_replace:
                    raise RuntimeError("state_dict post-hook must return None")
                destination = result
        return destination

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        """This module's own entries (no children) into ``destination``."""
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers:
                destination[prefix + name] = b if keep_vars else b.detach()
        if _overrides(self, "get_extra_state"):
            destination[prefix + "_extra_state"] = self.get_extra_state()

    def get_extra_state(self):
        """What a module keeps in its state dict besides tensors (override it together with
        ``set_extra_state``); the key is ``_extra_state``."""
        raise RuntimeError(
            "Reached a code path in Module.get_extra_state() that should never be called. "
            "Override get_extra_state() in the module to return the extra state."
        )

    def set_extra_state(self, state):
        """Restore what ``get_extra_state`` returned."""
        raise RuntimeError(
            "Reached a code path in Module.set_extra_state() that should never be called. "
            "Override set_extra_state() in the module to load the extra state."
        )

    # ---- loading ----

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Copy ``state_dict``'s tensors into this module's parameters and buffers (``assign``:
        put them in place of them, keeping each parameter's requires_grad).

        Missing or unexpected keys raise (with ``strict``) a RuntimeError listing them; a size
        mismatch always raises, and then nothing is changed. Returns ``(missing_keys,
        unexpected_keys)``."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"Expected state_dict to be dict-like, got {type(state_dict).__name__}."
            )
        missing, unexpected, errors = [], [], []
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict(state_dict)
        if metadata is not None:
            state_dict._metadata = metadata
        pending, loaded = [], []

        def load(module, local_state, prefix=""):
            local_metadata = dict({} if metadata is None else metadata.get(prefix[:-1], {}))
            if assign:
                local_metadata["assign_to_params_buffers"] = True
            local_metadata[_PENDING] = pending
            module._load_from_state_dict(
                local_state, prefix, local_metadata, True, missing, unexpected, errors
            )
            for name, child in module._modules.items():
                if child is not None:
                    child_prefix = prefix + name + "."
                    child_state = {
                        k: v for k, v in local_state.items() if k.startswith(child_prefix)
                    }
                    load(child, child_state, child_prefix)
            loaded.append(module)

        load(self, state_dict)
        if not errors:
            keys = _IncompatibleKeys(missing, unexpected)
            for module in loaded:
                for hook in tuple((module._load_state_dict_post_hooks or {}).values()):
                    if hook(module, keys) is not None:
                        raise RuntimeError("load_state_dict post-hook must return None")
        if strict:
            if unexpected:
                keys = ", ".join(f'"{k}"' for k in unexpected)
                errors.insert(0, f"Unexpected key(s) in state_dict: {keys}. ")
            if missing:
                keys = ", ".join(f'"{k}"' for k in missing)
                errors.insert(0, f"Missing key(s) in state_dict: {keys}. ")
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(errors)
            )
        with no_grad():
            for apply in pending:
                apply()
        return _IncompatibleKeys(missing, unexpected)

    def _load_from_state_dict(
        self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
    ):
        """Match this module's own entries (no children) in ``state_dict``: their copies are
        decided here and made once the whole load has passed its checks."""
        for hook, with_module in tuple((self._load_state_dict_pre_hooks or {}).values()):
            args = (state_dict, prefix, local_metadata, strict)
            args += (missing_keys, unexpected_keys, error_msgs)
            hook(self, *args) if with_module else hook(*args)
        local_state = {k: v for k, v in self._parameters.items() if v is not None}
        for k, v in self._buffers.items():
            if v is not None and k not in self._non_persistent_buffers:
                local_state[k] = v
        assign = local_metadata.get("assign_to_params_buffers", False)
        pending = local_metadata.get(_PENDING)
        for name, target in local_state.items():
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            value = state_dict[key]
            if not isinstance(value, Tensor):
                if not hasattr(value, "shape"):
                    error_msgs.append(
                        f'While copying the parameter named "{key}", expected a Tensor or '
                        f"array from checkpoint but received {type(value).__name__}"
                    )
                    continue
                value = Tensor(np.asarray(value))
            if tuple(value.shape) != tuple(target.shape):
                error_msgs.append(
                    f"size mismatch for {key}: copying a param with shape {tuple(value.shape)} "
                    f"from checkpoint, the shape in current model is {tuple(target.shape)}."
                )
                continue
            apply = _assigner(self, name, target, value) if assign else _copier(target, value)
            if pending is None:  # called outside load_state_dict: copy at once, as torch
                with no_grad():
                    apply()
            else:
                pending.append(apply)
        extra_key = prefix + "_extra_state"
        if _overrides(self, "set_extra_state"):
            if extra_key in state_dict:
                self.set_extra_state(state_dict[extra_key])
            elif strict:
                missing_keys.append(extra_key)
        elif strict and extra_key in state_dict:
            unexpected_keys.append(extra_key)
        if strict:
            for key in state_dict:
                if key.startswith(prefix) and key != extra_key:
                    head = key[len(prefix) :].split(".", 1)[0]
                    if head not in self._modules and head not in local_state:
                        unexpected_keys.append(key)

    # ---- hooks ----

    def register_state_dict_pre_hook(self, hook):
        """``hook(module, prefix, keep_vars)``, run before this module saves its entries."""
        return _add(self, "_state_dict_pre_hooks", hook)

    def register_state_dict_post_hook(self, hook):
        """``hook(module, state_dict, prefix, local_metadata) -> None``, run after this module
        and its children saved their entries (it may change ``state_dict`` in place)."""
        return _add(self, "_state_dict_hooks", (hook, False))

    def _register_state_dict_hook(self, hook):
        """The older form of the post-hook: a result that is not None replaces the dict."""
        return _add(self, "_state_dict_hooks", (hook, True))

    def register_load_state_dict_pre_hook(self, hook):
        """``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)``, run before this module matches its entries (it may
        rename keys in ``state_dict``)."""
        return _add(self, "_load_state_dict_pre_hooks", (hook, True))

    def _register_load_state_dict_pre_hook(self, hook, with_module=False):
        """The older form: ``hook(state_dict, prefix, ...)``, the module first only with
        ``with_module``."""
        return _add(self, "_load_state_dict_pre_hooks", (hook, bool(with_module)))

    def register_load_state_dict_post_hook(self, hook):
        """``hook(module, incompatible_keys) -> None``, run once the whole load matched its
        keys; it may clear entries of ``incompatible_keys`` in place before the strict check."""
        return _add(self, "_load_state_dict_post_hooks", hook)


def _overrides(module, name):
    return getattr(type(module), name) is not getattr(StateDict, name)


def _add(module, attr, entry):
    hook = entry[0] if isinstance(entry, tuple) else entry
    if not callable(hook):
        raise TypeError(f"hook must be callable, got {type(hook).__name__}")
    hooks = module.__dict__.get(attr)
    if hooks is None:
        hooks = OrderedDict()
        object.__setattr__(module, attr, hooks)
    handle = RemovableHandle(hooks)
    hooks[handle.id] = entry
    return handle


def _copier(target, value):
    return lambda: target.copy_(value)


def _assigner(module, name, target, value):
    """``assign=True``: the checkpoint's tensor takes the entry's place (a parameter stays a
    Parameter with its requires_grad)."""

    def apply():
        if name in module._parameters:
            module._parameters[name] = Parameter(value.detach(), target.requires_grad)
        else:
            module._buffers[name] = value.detach()

    return apply
