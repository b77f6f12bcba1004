"""``fastnn.nn.utils.prune``: zeroing parts of a module's parameter through a mask
(torch.nn.utils.prune).

Pruning ``name`` moves the parameter to ``<name>_orig``, keeps the mask as the buffer
``<name>_mask`` and makes ``module.<name>`` the plain tensor ``mask * <name>_orig``, recomputed
by a forward pre-hook (the pruning method itself) before every call, so the gradient reaches
only the kept entries. Pruning the same name again combines the masks in a
``PruningContainer``: the new method sees only what is still kept (its entries for an
unstructured method, its channels for a structured one). ``remove`` makes the pruned value the
parameter again and drops the mask and the hook.
"""

import numbers
from abc import ABC, abstractmethod

from ..._tensor import Tensor
from ..._tensor import creation as _new
from ...autograd import no_grad
from .convert_parameters import parameters_to_vector

__all__ = [
    "BasePruningMethod",
    "CustomFromMask",
    "Identity",
    "L1Unstructured",
    "LnStructured",
    "PruningContainer",
    "RandomStructured",
    "RandomUnstructured",
    "custom_from_mask",
    "global_unstructured",
    "identity",
    "is_pruned",
    "l1_unstructured",
    "ln_structured",
    "random_structured",
    "random_unstructured",
    "remove",
]


class BasePruningMethod(ABC):
    """A way of choosing what to prune; subclasses define ``compute_mask`` and set
    ``PRUNING_TYPE`` to "unstructured", "structured" (with a ``dim``) or "global"."""

    _tensor_name: str

    def __call__(self, module, inputs):
        setattr(module, self._tensor_name, self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t, default_mask):
        """The mask for ``t`` (1 keeps an entry, 0 prunes it) given the mask so far."""

    def apply_mask(self, module):
        name = self._tensor_name
        orig = getattr(module, name + "_orig")
        mask = getattr(module, name + "_mask")
        return mask.to(dtype=orig.dtype) * orig

    @classmethod
    def apply(cls, module, name, *args, importance_scores=None, **kwargs):
        """Prune ``module.<name>`` with ``cls(*args, **kwargs)`` (combined with an earlier
        pruning of the same name); ``importance_scores`` rank the entries instead of the
        parameter's values."""
        old_key, old = None, None
        for k, hook in module._forward_pre_hooks.items():
            if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
                if old is not None:
                    raise RuntimeError(
                        f"More than one pruning hook found for the same parameter {name!r}"
                    )
                old_key, old = k, hook
        orig = getattr(module, name)
        if importance_scores is not None and (
            not isinstance(importance_scores, Tensor) or importance_scores.shape != orig.shape
        ):
            got = getattr(importance_scores, "shape", type(importance_scores).__name__)
            raise ValueError(
                f"importance_scores should have the same shape as parameter {name} of {module}: "
                f"{tuple(orig.shape)}, got {got}"
            )
        method = cls(*args, **kwargs)
        method._tensor_name = name
        if old is not None:
            if isinstance(old, PruningContainer):
                old.add_pruning_method(method)
                method = old
            else:
                container = PruningContainer(old)
                container.add_pruning_method(method)
                method = container
            del module._forward_pre_hooks[old_key]
            default_mask = getattr(module, name + "_mask").detach().clone()
        else:
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
            default_mask = _new.ones_like(orig)
        with no_grad():
            scores = importance_scores if importance_scores is not None else orig
            mask = method.compute_mask(scores, default_mask=default_mask)
        module.register_buffer(name + "_mask", mask)
        setattr(module, name, method.apply_mask(module))
        module.register_forward_pre_hook(method)
        return method

    def prune(self, t, default_mask=None, importance_scores=None):
        """``t`` with this method's mask applied (not attached to any module)."""
        scores = importance_scores if importance_scores is not None else t
        if default_mask is None:
            default_mask = _new.ones_like(t)
        with no_grad():
            mask = self.compute_mask(scores, default_mask=default_mask)
        return t * mask

    def remove(self, module):
        """Make the pruned value the parameter ``<name>`` again; drop the mask."""
        name = self._tensor_name
        if name + "_orig" not in module._parameters:
            raise ValueError(
                f"Parameter '{name}' of module {module} has to be pruned before pruning can be "
                "removed"
            )
        weight = self.apply_mask(module)
        if name in module.__dict__:
            del module.__dict__[name]
        orig = module._parameters.pop(name + "_orig")
        with no_grad():
            orig.copy_(weight)
        del module._buffers[name + "_mask"]
        setattr(module, name, orig)


class PruningContainer(BasePruningMethod):
    """The pruning methods applied, in order, to one tensor."""

    def __init__(self, *args):
        self._pruning_methods = ()
        if len(args) == 1 and not isinstance(args[0], BasePruningMethod):
            args = tuple(args[0])
        for method in args:
            self.add_pruning_method(method)

    def add_pruning_method(self, method):
        if not isinstance(method, BasePruningMethod) and method is not None:
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if (
            method is not None
            and self._pruning_methods
            and self._tensor_name != method._tensor_name
        ):
            raise ValueError(
                "Can only add pruning methods acting on the parameter named "
                f"'{self._tensor_name}' to PruningContainer {self}. Found "
                f"'{method._tensor_name}'"
            )
        if method is not None:
            self._tensor_name = method._tensor_name
            self._pruning_methods += (method,)

    def __len__(self):
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, idx):
        return self._pruning_methods[idx]

    def compute_mask(self, t, default_mask):
        """The last method's mask over what the earlier ones kept."""
        method = self._pruning_methods[-1]
        new_mask = default_mask.clone().to(dtype=t.dtype)
        kind = method.PRUNING_TYPE
        if kind == "unstructured":
            slc = default_mask == 1
        elif kind == "structured":
            if not hasattr(method, "dim"):
                raise AttributeError("Pruning methods of PRUNING_TYPE 'structured' need to have the attribute `dim` defined.")  # fmt: skip
            dim = method.dim % t.ndim
            others = [d for d in range(t.ndim) if d != dim]
            keep = default_mask.sum(dim=others) != 0 if others else default_mask != 0
            slc = tuple([slice(None)] * dim + [keep])
        elif kind == "global":
            slc = tuple([slice(None)] * t.ndim)
        else:
            raise ValueError(f"Unrecognized PRUNING_TYPE {kind}")
        partial = method.compute_mask(t[slc], default_mask=default_mask[slc])
        new_mask[slc] = partial.to(dtype=new_mask.dtype)
        return new_mask


class Identity(BasePruningMethod):
    """Prunes nothing (the mask is all ones)."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        return default_mask

    @classmethod
    def apply(cls, module, name):
        return super().apply(module, name)


class RandomUnstructured(BasePruningMethod):
    """Prunes ``amount`` entries (a fraction, or a count) chosen at random."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount):
        _check_amount(amount)
        self.amount = amount

    def compute_mask(self, t, default_mask):
        n = t.numel()
        _check_amount_fits(self.amount, n)
        k = _count(self.amount, n)
        mask = default_mask.clone()
        if k:
            drop = _new.rand_like(t).view(-1).topk(k).indices
            mask.view(-1)[drop] = 0
        return mask

    @classmethod
    def apply(cls, module, name, amount):
        return super().apply(module, name, amount=amount)


class L1Unstructured(BasePruningMethod):
    """Prunes the ``amount`` entries of smallest absolute value."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount):
        _check_amount(amount)
        self.amount = amount

    def compute_mask(self, t, default_mask):
        n = t.numel()
        _check_amount_fits(self.amount, n)
        k = _count(self.amount, n)
        mask = default_mask.clone()
        if k:
            drop = t.abs().view(-1).topk(k, largest=False).indices
            mask.view(-1)[drop] = 0
        return mask

    @classmethod
    def apply(cls, module, name, amount, importance_scores=None):
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


class RandomStructured(BasePruningMethod):
    """Prunes ``amount`` channels along ``dim``, chosen at random."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, dim=-1):
        _check_amount(amount)
        self.amount, self.dim = amount, dim

    def compute_mask(self, t, default_mask):
        _check_dims(t, self.dim)
        n = t.shape[self.dim]
        _check_amount_fits(self.amount, n)
        k = _count(self.amount, n)
        if k == 0:
            return default_mask
        prob = _new.rand(n)
        threshold = prob.kthvalue(k).values
        return _channels(t, self.dim, prob > threshold) * default_mask.to(dtype=t.dtype)

    @classmethod
    def apply(cls, module, name, amount, dim=-1):
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(BasePruningMethod):
    """Prunes the ``amount`` channels along ``dim`` of smallest L``n`` norm."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, n, dim=-1):
        _check_amount(amount)
        self.amount, self.n, self.dim = amount, n, dim

    def compute_mask(self, t, default_mask):
        _check_dims(t, self.dim)
        size = t.shape[self.dim]
        _check_amount_fits(self.amount, size)
        k = _count(self.amount, size)
        if k == 0:
            return default_mask
        dim = self.dim % t.ndim
        others = [d for d in range(t.ndim) if d != dim]
        norm = t.norm(p=self.n, dim=others) if others else t.abs()
        keep_idx = norm.topk(size - k, largest=True).indices
        keep = _new.zeros(size) != 0
        keep[keep_idx] = True
        return _channels(t, dim, keep) * default_mask.to(dtype=t.dtype)

    @classmethod
    def apply(cls, module, name, amount, n, dim, importance_scores=None):
        return super().apply(
            module, name, amount=amount, n=n, dim=dim, importance_scores=importance_scores
        )


class CustomFromMask(BasePruningMethod):
    """Prunes where the given ``mask`` is 0."""

    PRUNING_TYPE = "global"

    def __init__(self, mask):
        self.mask = mask

    def compute_mask(self, t, default_mask):
        if default_mask.shape != self.mask.shape:
            raise ValueError(
                f"custom_from_mask: mask has shape {tuple(self.mask.shape)} but the parameter "
                f"has shape {tuple(default_mask.shape)}"
            )
        return default_mask * self.mask.to(dtype=default_mask.dtype)

    @classmethod
    def apply(cls, module, name, mask):
        return super().apply(module, name, mask=mask)


def _check_amount(amount):
    if isinstance(amount, bool) or not isinstance(amount, numbers.Real):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    if (isinstance(amount, numbers.Integral) and amount < 0) or (
        not isinstance(amount, numbers.Integral) and not 0 <= float(amount) <= 1
    ):
        raise ValueError(
            f"amount={amount} should either be a float in the range [0, 1] or a non-negative "
            "integer"
        )


def _check_amount_fits(amount, size):
    if isinstance(amount, numbers.Integral) and amount > size:
        raise ValueError(
            f"amount={amount} should be smaller than the number of parameters to prune={size}"
        )


def _check_dims(t, dim):
    if not -t.ndim <= dim < t.ndim:
        raise IndexError(f"Invalid index {dim} for tensor of size {tuple(t.shape)}")


def _count(amount, size):
    if isinstance(amount, numbers.Integral):
        return int(amount)
    return round(amount * size)


def _channels(t, dim, keep):
    """A mask of t's shape: 1 on the channels along ``dim`` where ``keep`` is True."""
    mask = _new.zeros_like(t)
    mask[tuple([slice(None)] * (dim % t.ndim) + [keep])] = 1
    return mask


def identity(module, name):
    """Attach an all-ones mask to ``module.<name>`` (the pruning machinery, nothing pruned)."""
    Identity.apply(module, name)
    return module


def random_unstructured(module, name, amount):
    """Prune ``amount`` entries of ``module.<name>`` chosen at random."""
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name, amount, importance_scores=None):
    """Prune the ``amount`` entries of ``module.<name>`` of smallest absolute value."""
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module, name, amount, dim):
    """Prune ``amount`` channels of ``module.<name>`` along ``dim`` at random."""
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module, name, amount, n, dim, importance_scores=None):
    """Prune the ``amount`` channels of ``module.<name>`` along ``dim`` of smallest Ln norm."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def custom_from_mask(module, name, mask):
    """Prune ``module.<name>`` where ``mask`` is 0."""
    CustomFromMask.apply(module, name, mask)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs):
    """Prune the (module, name) pairs of ``parameters`` together, as one vector, with an
    unstructured ``pruning_method`` class (its ``amount`` counts over all of them)."""
    parameters = list(parameters)
    if not parameters or not all(
        isinstance(p, tuple) and len(p) == 2 and isinstance(p[1], str) for p in parameters
    ):
        raise TypeError("global_unstructured(): parameters must be an iterable of (module, name) pairs")  # fmt: skip
    importance_scores = importance_scores if importance_scores is not None else {}
    if not isinstance(importance_scores, dict):
        raise TypeError("global_unstructured(): importance_scores must be a dict")
    scores = parameters_to_vector(
        [importance_scores.get((m, n), getattr(m, n)) for m, n in parameters]
    )
    default_mask = parameters_to_vector(
        [getattr(m, n + "_mask", _new.ones_like(getattr(m, n))) for m, n in parameters]
    )
    method = pruning_method(**kwargs)
    method._tensor_name = "temp"
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError(
            'Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. Found method '
            f"{pruning_method} of type {method.PRUNING_TYPE}"
        )
    container = PruningContainer(method)
    with no_grad():
        final_mask = container.compute_mask(scores.detach(), default_mask)
    at = 0
    for module, name in parameters:
        param = getattr(module, name)
        n = param.numel()
        custom_from_mask(module, name, mask=final_mask[at : at + n].view_as(param))
        at += n


def remove(module, name):
    """Make ``module.<name>`` a parameter holding its pruned value again (no mask, no hook)."""
    for k, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return module
    raise ValueError(
        f"Parameter '{name}' of module {module} has to be pruned before pruning can be removed"
    )


def is_pruned(module):
    """Whether ``module`` or one of its submodules has a pruning hook."""
    for _, sub in module.named_modules():
        for hook in sub._forward_pre_hooks.values():
            if isinstance(hook, BasePruningMethod):
                return True
    return False
