"""The Optimizer base class: parameter groups, lazily created state, zero_grad, state_dict.

Shaped like torch's Optimizer: ``param_groups`` is a list of
dicts (``'params'`` plus hyperparameters), ``state`` maps a parameter to its dict of state
arrays, and ``state_dict()`` uses torch's layout: ``{'state': {index: {...}}, 'param_groups':
[{..., 'params': [indices]}]}``. State buffers are raw arrays of the parameter's storage type
(``p._data``'s type: numpy on the CPU), so the fused kernels update them in place;
``state_dict()`` hands them out as torch does, as tensors on those buffers, with the step
counters as 0-d tensors.
"""

import copy
import functools
import inspect
import numbers
from collections import OrderedDict, defaultdict
from itertools import chain
from typing import ClassVar

import numpy as np

from ..autograd.hooks import RemovableHandle

__all__ = ["Optimizer", "register_optimizer_step_post_hook", "register_optimizer_step_pre_hook"]


def _is_tensor(obj):
    # fastnn.Tensor (and nn.Parameter): storage in `_data`, gradient in `grad`.
    return hasattr(obj, "_data") and hasattr(obj, "grad")


def _data(tensor):
    return tensor._data


def _real_view(a):
    r = a.real
    return np.lib.stride_tricks.as_strided(r, (*a.shape, 2), (*r.strides, r.itemsize))


def _is_number(v):
    return isinstance(v, numbers.Real) or (_is_tensor(v) and v._data.size == 1)


def _check_hyperparameter(owner, name, value, default):
    """A hyperparameter whose default is a number must be a number (a one-element tensor too, as
    torch takes for lr), and one whose default is a tuple of numbers (betas) a sequence of as
    many numbers: else the range checks and the fused kernels fail with messages about
    comparisons of str and float, subscripts of a float, or pybind11's argument types."""
    if isinstance(default, numbers.Real) and not isinstance(default, bool):
        if not _is_number(value):
            raise TypeError(
                f"{owner}: {name} must be a number, got {type(value).__name__} {value!r}"
            )
        return
    pair = isinstance(default, tuple) and default and all(_is_number(d) for d in default)
    if pair and not (
        isinstance(value, (tuple, list))
        and len(value) == len(default)
        and all(_is_number(v) for v in value)
    ):
        raise TypeError(f"{owner}: {name} must be a tuple of {len(default)} numbers, got {value!r}")


class Optimizer:
    """Base class of all optimizers. Subclasses implement ``step`` and ``_init_state``."""

    def __init_subclass__(cls, **kwargs):
        """Type-check every subclass constructor's hyperparameters against their defaults
        before the constructor's own range checks run (one place for all optimizers)."""
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None:
            return
        sig = inspect.signature(init)

        @functools.wraps(init)
        def checked_init(self, *args, **kw):
            try:
                bound = sig.bind(self, *args, **kw)
            except TypeError:
                return init(self, *args, **kw)  # Python's own message names the argument
            for name, value in bound.arguments.items():
                _check_hyperparameter(cls.__name__, name, value, sig.parameters[name].default)
            return init(self, *args, **kw)

        cls.__init__ = checked_init

    def __init__(self, params, defaults):
        if defaults.get("differentiable"):
            raise NotImplementedError(
                f"{type(self).__name__}(differentiable=True): fastnn's optimizer steps update "
                "the parameters outside autograd; to differentiate through an update, write it "
                "in tensor ops (for example with fastnn.func.functional_call)"
            )
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        _hook_step_of(type(self))
        if _is_tensor(params) or isinstance(params, (dict, np.ndarray)):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got {type(params).__name__}"
            )
        try:
            param_groups = list(params)
        except TypeError:
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got {type(params).__name__}"
            ) from None
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __repr__(self):
        lines = [self.__class__.__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines) + "\n)"

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)

    # ---- hooks ----------------------------------------------------------------------------------
    # torch's optimizer hooks: around step (this optimizer's, then the global ones of
    # register_optimizer_step_pre_hook / _post_hook), and around state_dict / load_state_dict.
    # The registries are made on first use, so optimizers unpickled before they existed work.

    def register_step_pre_hook(self, hook):
        """``hook(optimizer, args, kwargs) -> None | (new_args, new_kwargs)`` before each step."""
        return _add_hook(self, "_optimizer_step_pre_hooks", hook)

    def register_step_post_hook(self, hook):
        """``hook(optimizer, args, kwargs) -> None`` after each step."""
        return _add_hook(self, "_optimizer_step_post_hooks", hook)

    def register_state_dict_pre_hook(self, hook, prepend=False):
        """``hook(optimizer) -> None`` before ``state_dict`` packs the state."""
        return _add_hook(self, "_optimizer_state_dict_pre_hooks", hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        """``hook(optimizer, state_dict) -> None | new state_dict`` after it."""
        return _add_hook(self, "_optimizer_state_dict_post_hooks", hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        """``hook(optimizer, state_dict) -> None | state_dict to load`` before loading."""
        return _add_hook(self, "_optimizer_load_state_dict_pre_hooks", hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        """``hook(optimizer) -> None`` after loading."""
        return _add_hook(self, "_optimizer_load_state_dict_post_hooks", hook, prepend)

    def _hooks(self, name):
        return tuple((self.__dict__.get(name) or {}).values())

    # ---- parameter groups ----------------------------------------------------------------------

    def add_param_group(self, param_group):
        """Add a dict of ``'params'`` (and hyperparameters overriding the defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if _is_tensor(params):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead."
            )
        else:
            params = list(params)
        for p in params:
            if not _is_tensor(p):
                raise TypeError(
                    "optimizer can only optimize Tensors, but one of the params is "
                    f"{type(p).__module__}.{type(p).__name__}"
                )
            if not getattr(p, "is_leaf", True):
                raise ValueError("can't optimize a non-leaf Tensor")
        if len({id(p) for p in params}) != len(params):
            # torch only warns; a fused step would update such a parameter twice.
            raise ValueError("optimizer contains a parameter group with duplicate parameters")
        for name, value in param_group.items():
            if name in self.defaults:
                _check_hyperparameter(
                    f"{type(self).__name__} param group", name, value, self.defaults[name]
                )
        param_group = dict(param_group, params=params)
        for name, default in self.defaults.items():
            param_group.setdefault(name, default)
        existing = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in existing for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ---- gradients -------------------------------------------------------------------------------

    def zero_grad(self, set_to_none=True):
        """Reset the gradients: to None (default, like torch), or fill them with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.zero_()

    def step(self, closure=None):
        raise NotImplementedError

    def _closure_loss(self, closure):
        return None if closure is None else closure()

    def _params_with_grad(self, group):
        """(param, param storage, grad storage) for every parameter of `group` with a gradient.
        A complex parameter is stepped as the real (..., 2) view of its storage, as torch steps
        it: the update is element-wise, so each part follows its own gradient, and the kernels
        take it (its state buffers are real of that shape)."""
        out = []
        for p in group["params"]:
            if p.grad is None:
                continue
            d, g = _data(p), _data(p.grad)
            if isinstance(d, np.ndarray) and d.dtype.kind == "c":
                d, g = _real_view(d), _real_view(np.ascontiguousarray(g, d.dtype))
            out.append((p, d, g))
        return out

    # ---- state_dict ------------------------------------------------------------------------------

    def state_dict(self):
        """{'state': {index: state}, 'param_groups': [{..., 'params': [indices]}]} (torch's
        layout and types: tensors). Like torch, the state tensors are the live buffers, not
        copies."""
        for hook in self._hooks("_optimizer_state_dict_pre_hooks"):
            hook(self)
        result = self._packed_state()
        for hook in self._hooks("_optimizer_state_dict_post_hooks"):
            out = hook(self, result)
            if out is not None:
                result = out
        return result

    def _packed_state(self):
        index_of = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index_of.setdefault(id(p), len(index_of))
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            groups.append(packed)
        params = {id(p): p for group in self.param_groups for p in group["params"]}
        state = {
            index_of[id(p)] if id(p) in params else p: self._packed_entries(s)
            for p, s in self.state.items()
        }
        return {"state": state, "param_groups": groups}

    def _packed_entries(self, entries):
        """One parameter's state as torch's state_dict holds it: each buffer a Tensor on the live
        array (a step updates it, as torch's does), the counters of _SCALAR_STATE (``step``...)
        0-d tensors of the default float dtype, so that torch.load-ed checkpoints step on torch
        and code that calls ``.item()`` on them runs."""
        from .. import _devices
        from .._core import dtype as _dtype
        from .._tensor import Tensor

        def packed(key, v):
            if key in self._SCALAR_STATE and isinstance(v, numbers.Real):
                return Tensor._make(np.array(v, dtype=_dtype.default()))
            if isinstance(v, np.ndarray) or (not _is_tensor(v) and _devices.is_array(v)):
                return Tensor._make(v)
            if isinstance(v, list):
                return [packed(None, x) for x in v]
            return v

        return {k: packed(k, v) for k, v in entries.items()}

    def load_state_dict(self, state_dict):
        """Load a state_dict() of an optimizer over parameters of the same shapes (copies it)."""
        for hook in self._hooks("_optimizer_load_state_dict_pre_hooks"):
            out = hook(self, state_dict)
            if out is not None:
                state_dict = out
        self._load_packed_state(state_dict)
        for hook in self._hooks("_optimizer_load_state_dict_post_hooks"):
            hook(self)

    def _load_packed_state(self, state_dict):
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError(
                "loaded state dict contains a parameter group that doesn't match the size of "
                "optimizer's group"
            )
        id_map = dict(
            zip(
                chain.from_iterable(g["params"] for g in saved_groups),
                chain.from_iterable(g["params"] for g in groups),
            )
        )
        state = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in id_map:
                param = id_map[key]
                state[param] = {k: self._state_value_like(param, k, v) for k, v in value.items()}
            else:
                state[key] = copy.deepcopy(value)
        new_groups = []
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            for name, default in self.defaults.items():
                # options the saving side lacks (torch has no 'fused' for some optimizers)
                saved.setdefault(name, default)
            new_groups.append(saved)
        self.state = state
        self.param_groups = new_groups

    # State entries that are numbers, not buffers: key -> the Python type they are kept as.
    _SCALAR_STATE: ClassVar[dict] = {"step": int}

    def _state_shape(self, shape, key):
        """The shape of state buffer ``key`` of a parameter of ``shape``: the parameter's own,
        unless an optimizer keeps a reduced one (Adafactor's row and column factors)."""
        return shape

    def _state_value_like(self, param, key, value):
        # Buffers become fresh arrays of the parameter's dtype; step counts and the other scalar
        # entries stay numbers (torch keeps them as 0-d tensors).
        kind = self._SCALAR_STATE.get(key)
        if kind is not None:
            return value if isinstance(value, kind) else kind(np.asarray(value).item())
        from .. import _devices

        data = _data(param)
        if _is_tensor(value):
            value = value._data
        if not isinstance(value, np.ndarray) and _devices.is_array(value):
            value = _devices.of(value).to_numpy(value)  # e.g. a CUDA state loaded on the CPU
        arr = np.array(np.asarray(value), dtype=data.dtype, copy=True, order="C")
        if arr.shape != self._state_shape(tuple(data.shape), key):
            raise ValueError(
                f"load_state_dict: state '{key}' has shape {arr.shape} but its parameter of "
                f"shape {tuple(data.shape)} keeps it as {self._state_shape(tuple(data.shape), key)}"
            )
        if isinstance(data, np.ndarray):
            return arr
        return _devices.of(data).from_numpy(arr)  # the parameter's device (TypeError if none)


_global_step_pre_hooks = OrderedDict()
_global_step_post_hooks = OrderedDict()


def register_optimizer_step_pre_hook(hook):
    """``hook(optimizer, args, kwargs) -> None | (new_args, new_kwargs)`` before every
    optimizer's step."""
    if not callable(hook):
        raise TypeError(f"hook must be callable, got {type(hook).__name__}")
    handle = RemovableHandle(_global_step_pre_hooks)
    _global_step_pre_hooks[handle.id] = hook
    return handle


def register_optimizer_step_post_hook(hook):
    """``hook(optimizer, args, kwargs) -> None`` after every optimizer's step."""
    if not callable(hook):
        raise TypeError(f"hook must be callable, got {type(hook).__name__}")
    handle = RemovableHandle(_global_step_post_hooks)
    _global_step_post_hooks[handle.id] = hook
    return handle


def _add_hook(opt, attr, hook, prepend=False):
    if not callable(hook):
        raise TypeError(f"hook must be callable, got {type(hook).__name__}")
    hooks = opt.__dict__.get(attr)
    if hooks is None:
        hooks = opt.__dict__[attr] = OrderedDict()
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def _hook_step_of(cls):
    """Wrap the step of the class an optimizer is made of (once) so the step hooks run around
    it. Only the outermost call runs them: a subclass's step calling ``super().step()`` steps
    once."""
    step = cls.step
    if getattr(step, "_runs_hooks", False):
        return

    @functools.wraps(step)
    def step_with_hooks(self, *args, **kwargs):
        if self.__dict__.get("_in_step") or not (
            self.__dict__.get("_optimizer_step_pre_hooks")
            or self.__dict__.get("_optimizer_step_post_hooks")
            or _global_step_pre_hooks
            or _global_step_post_hooks
        ):
            return step(self, *args, **kwargs)
        args = (self, *args)  # torch hands the hooks step's arguments with the optimizer first
        for hook in (*_global_step_pre_hooks.values(), *self._hooks("_optimizer_step_pre_hooks")):
            out = hook(self, args, kwargs)
            if out is not None:
                if not (isinstance(out, tuple) and len(out) == 2):
                    raise RuntimeError(
                        "optimizer step pre hook must return None or a tuple of "
                        f"(new_args, new_kwargs), but got {out}."
                    )
                args, kwargs = out
        self.__dict__["_in_step"] = True
        try:
            result = step(*args, **kwargs)
        finally:
            self.__dict__["_in_step"] = False
        for hook in (*self._hooks("_optimizer_step_post_hooks"), *_global_step_post_hooks.values()):
            hook(self, args, kwargs)
        return result

    step_with_hooks._runs_hooks = True
    cls.step = step_with_hooks


def zeros_like_storage(data, fill=0.0):
    """A new state buffer like a parameter's storage (C-contiguous, same dtype and shape)."""
    if isinstance(data, np.ndarray):
        if data.dtype.kind == "c":  # a complex parameter steps as its real view (see above)
            return np.full((*data.shape, 2), fill, dtype=data.real.dtype)
        return np.full(data.shape, fill, dtype=data.dtype)
    from .. import _devices

    if not _devices.is_array(data):
        raise TypeError(f"fastnn.optim: no state buffers for arrays of type {type(data).__name__}")
    return _devices.of(data).full(data.shape, fill, data.dtype)


def default_dtype_scalar(value):
    """``value`` rounded to fastnn's default float dtype. torch keeps scalar optimizer state
    (ASGD's eta and mu, NAdam's momentum product) in 0-d tensors of its default dtype, and the
    rounding shows in the trajectory."""
    from .._core import dtype

    return float(np.asarray(value, dtype=dtype.default()))


def group_by_step(items, state):
    """Split [(p, data, grad)] into {step: items} by each parameter's next step number, so that
    each distinct step is one fused call (usually all parameters share one)."""
    buckets = {}
    for item in items:
        buckets.setdefault(state[item[0]]["step"] + 1, []).append(item)
    return buckets
