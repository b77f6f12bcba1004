"""The dict- and list-like containers ``ModuleDict``, ``ParameterList`` and ``ParameterDict``
(torch's registration, state_dict keys, iteration order and errors).

Each stores its items as ordinary registered attributes (``'0'``, ``'1'``... for the list, the
keys for the dicts), so ``parameters()``, ``state_dict()``, ``to()`` and friends need nothing
special. (``Sequential`` and ``ModuleList`` live beside ``Module`` in module.py.)
"""

import operator
from collections import OrderedDict
from collections.abc import Iterable, Mapping

from .._tensor import Tensor
from .module import Module
from .parameter import Parameter

__all__ = ["ModuleDict", "ParameterDict", "ParameterList"]

_TYPE_NAMES = {"float16": "HalfTensor", "float32": "FloatTensor", "float64": "DoubleTensor"}


def _pairs(items, owner):
    """(key, value) pairs from a mapping or an iterable of 2-sequences, validated up front so
    that a bad element leaves the container as it was. A plain (unordered-by-contract) mapping
    is taken in sorted key order by ParameterDict, as torch does; ModuleDict keeps its order."""
    if not isinstance(items, Iterable):
        raise TypeError(
            f"{owner}.update should be called with an iterable of key/value pairs, but got "
            f"{type(items).__name__}"
        )
    if isinstance(items, (OrderedDict, ModuleDict, ParameterDict)):
        return list(items.items())
    if isinstance(items, Mapping):
        return sorted(items.items()) if owner == "ParameterDict" else list(items.items())
    pairs = []
    for j, item in enumerate(items):
        if not isinstance(item, Iterable):
            raise TypeError(
                f"{owner} update sequence element #{j} should be Iterable; is {type(item).__name__}"
            )
        item = tuple(item)
        if len(item) != 2:
            raise ValueError(
                f"{owner} update sequence element #{j} has length {len(item)}; 2 is required"
            )
        pairs.append(item)
    return pairs


def _describe(value):
    if isinstance(value, Tensor):
        size = "x".join(str(n) for n in value.shape)
        kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
        device = "" if value.device.type == "cpu" else f" ({value.device})"
        return kind, size, device
    return None


class ModuleDict(Module):
    """An ordered dict of registered submodules: ``md['conv'] = nn.Conv2d(...)``."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def clear(self):
        self._modules.clear()

    def pop(self, key):
        value = self[key]
        del self[key]
        return value

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def update(self, modules):
        pairs = _pairs(modules, "ModuleDict")
        for key, module in pairs:  # every pair checked before the first one lands
            if not isinstance(module, Module) and module is not None:
                raise TypeError(f"{type(module).__name__} is not a Module subclass")
            if not isinstance(key, str):
                raise TypeError(f"module name should be a string. Got {type(key).__name__}")
        for key, module in pairs:
            self[key] = module


class ParameterList(Module):
    """A list whose Tensor items are registered parameters (a plain Tensor is wrapped in a
    ``Parameter``); other objects may be stored too and are left alone."""

    def __init__(self, values=None):
        super().__init__()
        object.__setattr__(self, "_size", 0)
        if values is not None:
            self += values

    def _abs_index(self, idx):
        idx = operator.index(idx)
        if not -len(self) <= idx < len(self):
            raise IndexError(f"index {idx} is out of range")
        return str(idx % len(self))

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            out = type(self)()
            for i in range(*idx.indices(len(self))):
                out.append(self[i])
            return out
        return getattr(self, self._abs_index(idx))

    def __setitem__(self, idx, param):
        self._store(self._abs_index(idx), param)

    def _store(self, name, value):
        if isinstance(value, Tensor) and not isinstance(value, Parameter):
            value = Parameter(value)
        setattr(self, name, value)

    def __len__(self):
        return self._size

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __iadd__(self, parameters):
        return self.extend(parameters)

    def __dir__(self):
        return [k for k in super().__dir__() if not k.isdigit()]

    def append(self, value):
        self._store(str(len(self)), value)
        object.__setattr__(self, "_size", self._size + 1)
        return self

    def extend(self, values):
        if not isinstance(values, Iterable) or isinstance(values, Tensor):
            raise TypeError(
                "ParameterList.extend should be called with an iterable, but got "
                f"{type(values).__name__}"
            )
        for value in values:
            self.append(value)
        return self

    def extra_repr(self):
        lines = []
        for k, p in enumerate(self):
            d = _describe(p)
            if d is None:
                lines.append(f"  ({k}): Object of type: {type(p).__name__}")
            else:
                kind, size, device = d
                lines.append(f"  ({k}): {kind} containing: [{p.dtype} of size {size}{device}]")
        return "\n".join(lines)

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterList should not be called.")


class ParameterDict(Module):
    """An ordered dict whose Tensor values are registered parameters (plain Tensors wrapped in
    a ``Parameter``); keys must be strings. A plain dict given to the constructor or ``update``
    is taken in sorted key order (torch's rule); an OrderedDict or ParameterDict keeps its
    order."""

    def __init__(self, parameters=None):
        super().__init__()
        object.__setattr__(self, "_keys", {})
        if parameters is not None:
            self.update(parameters)

    @staticmethod
    def _key_to_attr(key):
        if not isinstance(key, str):
            raise TypeError(
                "Index given to ParameterDict cannot be used as a key as it is not a string "
                f"(type is '{type(key).__name__}')."
            )
        return key

    def __getitem__(self, key):
        return getattr(self, self._key_to_attr(key))

    def __setitem__(self, key, value):
        attr = self._key_to_attr(key)
        if isinstance(value, Tensor) and not isinstance(value, Parameter):
            value = Parameter(value)
        setattr(self, attr, value)  # may refuse (a name such as 'update'): then no key either
        self._keys[key] = None

    def __delitem__(self, key):
        attr = self._key_to_attr(key)
        if key not in self._keys:
            raise KeyError(key)
        delattr(self, attr)
        del self._keys[key]

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __reversed__(self):
        return reversed(list(self._keys))

    def __contains__(self, key):
        return key in self._keys

    def copy(self):
        return ParameterDict(OrderedDict((k, self[k]) for k in self._keys))

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self):
        for k in list(self._keys):
            del self[k]

    def pop(self, key):
        value = self[key]
        del self[key]
        return value

    def popitem(self):
        if not self._keys:
            raise KeyError("popitem(): dictionary is empty")
        key = next(reversed(self._keys))
        return key, self.pop(key)

    def get(self, key, default=None):
        return self[key] if key in self else default  # noqa: SIM401 (this is get)

    def fromkeys(self, keys, default=None):
        return ParameterDict((k, default) for k in keys)

    def keys(self):
        return self._keys.keys()

    def items(self):
        return ((k, self[k]) for k in self._keys)

    def values(self):
        return (self[k] for k in self._keys)

    def update(self, parameters):
        pairs = _pairs(parameters, "ParameterDict")
        for key, _ in pairs:
            self._key_to_attr(key)
        for key, value in pairs:
            self[key] = value

    def __or__(self, other):
        out = self.copy()
        out.update(other)
        return out

    def __ror__(self, other):
        out = other.copy()
        out.update(self)
        return out

    def __ior__(self, other):
        self.update(other)
        return self

    def extra_repr(self):
        lines = []
        for k, p in self.items():
            d = _describe(p)
            if d is None:
                lines.append(f"  ({k}): Object of type: {type(p).__name__}")
            else:
                kind, size, device = d
                type_name = "fastnn." + _TYPE_NAMES.get(p.dtype.name, f"Tensor[{p.dtype}]")
                lines.append(f"  ({k}): {kind} containing: [{type_name} of size {size}{device}]")
        return "\n".join(lines)

    def __call__(self, input):
        raise RuntimeError("ParameterDict should not be called.")
