"""``weight_norm`` / ``remove_weight_norm``, the hook-based form (torch.nn.utils.weight_norm):
the weight w is split into a magnitude g and a direction v, w = g * v / ||v||, with the norm
taken over every dim but ``dim`` (over all of them for ``dim=None`` or -1, when g is a scalar).

g and v become the parameters ``<name>_g`` and ``<name>_v`` (torch's names, so checkpoints of
either library load into the other); ``<name>`` itself is a plain attribute recomputed by a
forward pre-hook before every call. ``nn.utils.parametrizations.weight_norm`` is the newer form.
"""

import warnings

from ..._core.dims import wrap_dim
from ...autograd import no_grad
from ..parameter import Parameter, UninitializedParameter

__all__ = ["norm_except_dim", "remove_weight_norm", "weight_norm"]


def norm_except_dim(v, dim):
    """The 2-norm of ``v`` over every dim but ``dim``, kept as size-1 dims (shape (1, .., n,
    .., 1)); ``dim=-1`` is the norm of the whole tensor, a scalar."""
    if dim == -1:
        return v.norm()
    others = tuple(d for d in range(v.ndim) if d != dim)
    if not others:
        return v.abs()
    return v.norm(2, dim=others, keepdim=True)


def _weight_dim(dim, ndim):
    """torch's reading of ``dim``: None and -1 mean the whole tensor, other negatives count
    from the end."""
    if dim is None or dim == -1:
        return -1
    return wrap_dim(dim, ndim, fn="weight_norm")


class WeightNorm:
    """The forward pre-hook that recomputes ``module.<name>`` from ``<name>_g`` and
    ``<name>_v``."""

    def __init__(self, name, dim):
        self.name, self.dim = name, dim

    def compute_weight(self, module):
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return v * (g / norm_except_dim(v, self.dim))

    @staticmethod
    def apply(module, name, dim):
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(
                    f"Cannot register two weight_norm hooks on the same parameter {name}"
                )
        weight = module._parameters.get(name)
        if weight is None:
            raise AttributeError(
                f"weight_norm: '{type(module).__name__}' object has no parameter '{name}'"
            )
        if isinstance(weight, UninitializedParameter):
            raise ValueError(  # noqa: TRY004 (torch's exception type)
                "The module passed to `WeightNorm` can't have uninitialized parameters. "
                "Make sure to run the dummy forward before applying weight normalization"
            )
        fn = WeightNorm(name, _weight_dim(dim, weight.ndim))
        del module._parameters[name]
        with no_grad():
            g = norm_except_dim(weight, fn.dim)
        module.register_parameter(name + "_g", Parameter(g.detach()))
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module):
        with no_grad():
            weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module, name="weight", dim=0):
    """Reparametrize ``module.<name>`` as ``<name>_g * <name>_v / ||<name>_v||``; returns the
    module. Deprecated in torch in favour of ``parametrizations.weight_norm``, and so warns."""
    warnings.warn(
        "`torch.nn.utils.weight_norm` is deprecated in favor of "
        "`torch.nn.utils.parametrizations.weight_norm`.",
        FutureWarning,
        stacklevel=2,
    )
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module, name="weight"):
    """Undo ``weight_norm``: ``<name>`` becomes a parameter again, holding g * v / ||v||."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, WeightNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")
