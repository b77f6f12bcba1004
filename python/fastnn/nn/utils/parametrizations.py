"""``fastnn.nn.utils.parametrizations`` (torch.nn.utils.parametrizations): weight_norm,
spectral_norm and orthogonal written as parametrizations (``nn.utils.parametrize``), so the
weight is recomputed on every read rather than by a forward hook.

The tensors sit where torch puts them, and state dicts carry torch's keys:
``parametrizations.weight.original0`` (g) and ``original1`` (v) for weight_norm,
``parametrizations.weight.original`` and the buffers ``parametrizations.weight.0._u`` / ``_v``
for spectral_norm.
"""

from ..._core.dims import wrap_dim
from ...autograd import no_grad
from ..module import Module
from . import parametrize
from .spectral_norm import _normalize, is_transposed_conv, weight_matrix
from .weight_norm import _weight_dim, norm_except_dim

__all__ = ["spectral_norm", "weight_norm"]


class _WeightNorm(Module):
    """(g, v) -> g * v / ||v||, the norm over every dim but ``dim`` (-1: over all)."""

    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, weight_g, weight_v):
        return weight_v * (weight_g / norm_except_dim(weight_v, self.dim))

    def right_inverse(self, weight):
        return norm_except_dim(weight, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """Reparametrize ``module.<name>`` as g * v / ||v|| (``dim=None``: g a scalar); returns
    the module. A state dict of the hook-based form (``<name>_g`` / ``<name>_v``) still
    loads."""
    weight = _tensor_of(module, name)
    parametrize.register_parametrization(
        module, name, _WeightNorm(_weight_dim(dim, weight.ndim)), unsafe=True
    )

    def old_keys(state_dict, prefix, *args):
        g, v = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g in state_dict and v in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v)

    module._register_load_state_dict_pre_hook(old_keys)
    return module


class _SpectralNorm(Module):
    """W -> W / sigma(W), sigma by power iteration on the buffers ``_u`` and ``_v`` (started
    from random vectors and 15 steps at construction; ``n_power_iterations`` more at every
    training read). A 1-D weight is divided by its 2-norm."""

    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        if n_power_iterations <= 0:
            raise ValueError(
                "Expected n_power_iterations to be positive, but got "
                f"n_power_iterations={n_power_iterations}"
            )
        self.ndim = weight.ndim
        self.dim = wrap_dim(dim, self.ndim, fn="spectral_norm")
        self.eps, self.n_power_iterations = eps, n_power_iterations
        if self.ndim > 1:
            mat = weight_matrix(weight.detach(), self.dim)
            h, w = mat.shape
            self.register_buffer("_u", _normalize(mat.new_empty(h).normal_(0, 1), eps))
            self.register_buffer("_v", _normalize(mat.new_empty(w).normal_(0, 1), eps))
            self._power_method(mat, 15)

    def _power_method(self, mat, steps):
        # u first, then v: the order torch's parametrization uses (the hook form's is v, u)
        with no_grad():
            for _ in range(steps):
                self._u.copy_(_normalize(mat.mv(self._v), self.eps))
                self._v.copy_(_normalize(mat.t().mv(self._u), self.eps))

    def forward(self, weight):
        if self.ndim == 1:
            return _normalize(weight, self.eps)
        mat = weight_matrix(weight, self.dim)
        if self.training:
            self._power_method(mat, self.n_power_iterations)
        # copies: the buffers change again at the next read, the graph keeps these values
        u, v = self._u.clone(), self._v.clone()
        return weight / u.dot(mat.mv(v))

    def right_inverse(self, value):
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Reparametrize ``module.<name>`` as W / sigma(W); returns the module. ``dim`` defaults
    to 1 for ConvTranspose*d, else 0."""
    weight = _tensor_of(module, name)
    if dim is None:
        dim = 1 if is_transposed_conv(module) else 0
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps)
    )
    return module


def _tensor_of(module, name):
    weight = getattr(module, name, None)
    if weight is None or not hasattr(weight, "ndim"):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    return weight
