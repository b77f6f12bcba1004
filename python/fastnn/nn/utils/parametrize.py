"""``fastnn.nn.utils.parametrize``: a module's parameter or buffer computed from another tensor
(torch.nn.utils.parametrize): ``register_parametrization(layer, "weight", Symmetric())`` makes
``layer.weight`` the value of ``Symmetric()(original)`` on every read.

The module's class is swapped for a subclass of it (``Parametrized<Class>``) with a property per
parametrized name; the tensor itself moves to ``module.parametrizations[name].original`` (or
``original0``, ``original1``, ... when the first parametrization's ``right_inverse`` returns
several tensors), so it stays a parameter of the module and appears in its state_dict under
``parametrizations.<name>.original``. Assigning to the name stores ``right_inverse`` of the
value (the inverses of the chain, last first). Inside ``cached()`` each parametrized tensor is
computed once.
"""

import contextlib

from ..._tensor import Tensor
from ...autograd import no_grad
from ..container import ModuleDict
from ..module import Module, ModuleList
from ..parameter import Parameter

__all__ = [
    "ParametrizationList",
    "cached",
    "is_parametrized",
    "register_parametrization",
    "remove_parametrizations",
    "type_before_parametrizations",
]

_cache = {}
_caching = [0]  # the depth of nested cached() blocks


@contextlib.contextmanager
def cached():
    """Within the block, each parametrized tensor is computed on its first read only."""
    _caching[0] += 1
    try:
        yield
    finally:
        _caching[0] -= 1
        if not _caching[0]:
            _cache.clear()


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, applied in order, and the tensor they apply to
    (``original``, or ``original0``... when ``right_inverse`` gives several)."""

    def __init__(self, modules, original, unsafe=False):
        super().__init__(modules)
        self.unsafe = unsafe
        first = modules[0]
        with no_grad():
            try:
                new = first.right_inverse(original) if hasattr(first, "right_inverse") else original
            except NotImplementedError:  # torch's rule: no inverse, the tensor is kept as it is
                new = original
        if isinstance(new, Tensor):
            self.is_tensor, self.ntensors = True, 1
            self._keep("original", original, new)
        elif isinstance(new, (list, tuple)) and all(isinstance(t, Tensor) for t in new):
            self.is_tensor, self.ntensors = False, len(new)
            for i, t in enumerate(new):
                self._keep(f"original{i}", original, t)
        else:
            raise ValueError(
                "'right_inverse' must return a Tensor or a Sequence of tensors (list, tuple...). "
                f"Got {type(new).__name__}"
            )
        if not unsafe:
            self._check(original)

    def _keep(self, name, original, value):
        """``value`` stored as ``name``: a Parameter where the original tensor is one (the
        original itself when its value is unchanged), a buffer otherwise."""
        if isinstance(original, Parameter):
            if value is original:
                self.register_parameter(name, original)
            else:
                self.register_parameter(name, Parameter(value.detach(), original.requires_grad))
        else:
            self.register_buffer(name, value.detach() if value is not original else value)

    def _check(self, original):
        _check_unchanged(original, self())

    def right_inverse(self, value):
        """Store the tensor(s) whose parametrized value is ``value``."""
        with no_grad():
            for module in reversed(list(self)[1:]):
                if not hasattr(module, "right_inverse"):
                    raise RuntimeError(
                        f"parametrization {type(module).__name__} does not implement right_inverse."
                    )
                value = module.right_inverse(value)
            first = self[0]
            if hasattr(first, "right_inverse"):
                value = first.right_inverse(value)
            elif not self.is_tensor:
                raise RuntimeError(
                    f"parametrization {type(first).__name__} does not implement right_inverse."
                )
            if self.is_tensor:
                self._store(self.original, value, "original")
            else:
                if not isinstance(value, (list, tuple)) or len(value) != self.ntensors:
                    raise ValueError(
                        f"'right_inverse' must return a sequence of tensors of length "
                        f"{self.ntensors}. Got {type(value).__name__}"
                    )
                for i, t in enumerate(value):
                    self._store(getattr(self, f"original{i}"), t, f"original{i}")

    @staticmethod
    def _store(target, value, name):
        if not isinstance(value, Tensor):
            raise ValueError(  # noqa: TRY004 (torch's exception type)
                f"`right_inverse` must return a tensor. Got {type(value).__name__}"
            )
        if value.dtype != target.dtype or tuple(value.shape) != tuple(target.shape):
            raise ValueError(
                f"The tensor returned by `right_inverse` for {name} has dtype {value.dtype} and "
                f"shape {tuple(value.shape)}, but the stored one has dtype {target.dtype} and "
                f"shape {tuple(target.shape)}"
            )
        target.copy_(value)

    def forward(self):
        if self.is_tensor:
            x = self[0](self.original)
        else:
            x = self[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for module in list(self)[1:]:
            x = module(x)
        return x


def _check_unchanged(original, value):
    """A parametrization registered without ``unsafe`` keeps the tensor's dtype and shape."""
    if not isinstance(value, Tensor):
        raise ValueError(  # noqa: TRY004 (torch's exception type)
            f"A parametrization must return a tensor. Got {type(value).__name__}."
        )
    if value.dtype != original.dtype:
        raise ValueError(
            "Registering a parametrization may not change the dtype of the tensor, unless "
            f"`unsafe` flag is enabled.\nunparametrized dtype: {original.dtype}\n"
            f"parametrized dtype: {value.dtype}"
        )
    if tuple(value.shape) != tuple(original.shape):
        raise ValueError(
            "Registering a parametrization may not change the shape of the tensor, unless "
            f"`unsafe` flag is enabled.\nunparametrized shape: {original.shape}\n"
            f"parametrized shape: {value.shape}"
        )


def _parametrized_property(name):
    def get(self):
        plist = self.parametrizations[name]
        if not _caching[0]:
            return plist()
        key = (id(self), name)
        if key not in _cache:
            _cache[key] = plist()
        return _cache[key]

    def set_(self, value):
        self.parametrizations[name].right_inverse(value)

    return property(get, set_)


def _inject_class(module):
    cls = module.__class__
    new = type(f"Parametrized{cls.__name__}", (cls,), {"_parametrized_base": cls})
    module.__class__ = new


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Make ``module.<tensor_name>`` the value of ``parametrization`` applied to the tensor it
    was (or, on a name already parametrized, to the previous parametrization's value)."""
    if not isinstance(parametrization, Module):
        raise TypeError(
            "register_parametrization: parametrization must be an nn.Module, got "
            f"{type(parametrization).__name__}"
        )
    if is_parametrized(module, tensor_name):
        plist = module.parametrizations[tensor_name]
        if not unsafe:
            before = getattr(module, tensor_name)
            _check_unchanged(before, parametrization(before))
        plist.append(parametrization)
        plist.unsafe |= unsafe
        return module
    if tensor_name in module._parameters:
        original = module._parameters[tensor_name]
    elif tensor_name in module._buffers:
        original = module._buffers[tensor_name]
    else:
        raise ValueError(
            f"Module '{module}' does not have a parameter, a buffer, or a parametrized element "
            f"with name '{tensor_name}'"
        )
    if original is None:
        raise ValueError(f"register_parametrization: '{tensor_name}' of {module} is None")
    plist = ParametrizationList([parametrization], original, unsafe=unsafe)
    delattr(module, tensor_name)
    if not is_parametrized(module):
        _inject_class(module)
        module.parametrizations = ModuleDict()
    setattr(module.__class__, tensor_name, _parametrized_property(tensor_name))
    module.parametrizations[tensor_name] = plist
    return module


def is_parametrized(module, tensor_name=None):
    """Whether ``module`` has parametrizations (on ``tensor_name``, when given)."""
    plists = module.__dict__.get("_modules", {}).get("parametrizations")
    if plists is None or not isinstance(plists, ModuleDict):
        return False
    return len(plists) > 0 if tensor_name is None else tensor_name in plists


def type_before_parametrizations(module):
    """The class ``module`` had before its first parametrization."""
    return module.__class__.__dict__.get("_parametrized_base", module.__class__)


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Undo the parametrizations of ``tensor_name``: it becomes a plain tensor again, holding
    the parametrized value (``leave_parametrized``) or the original one."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    plist = module.parametrizations[tensor_name]
    if leave_parametrized:
        with no_grad():
            value = getattr(module, tensor_name)
        kept = plist.original if plist.is_tensor else None
        if kept is not None and value.dtype == kept.dtype and value.shape == kept.shape:
            with no_grad():
                kept.copy_(value)
            original = kept
        elif kept is None or isinstance(kept, Parameter):
            rg = kept.requires_grad if kept is not None else True
            original = Parameter(value.detach(), rg)
        else:
            original = value.detach()
    else:
        if not plist.is_tensor:
            raise ValueError(
                "Cannot leave unparametrized (`leave_parametrized=False`) a tensor that is "
                "parametrized in terms of a sequence of tensors."
            )
        original = plist.original
    delattr(module.__class__, tensor_name)
    del module.parametrizations[tensor_name]
    if isinstance(original, Parameter):
        module.register_parameter(tensor_name, original)
    else:
        module.register_buffer(tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = type_before_parametrizations(module)
    return module
