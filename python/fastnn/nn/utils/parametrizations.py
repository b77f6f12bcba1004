"""``fastnn.nn.utils.parametrizations`` (torch.nn.utils.parametrizations): weight_norm,
spectral_norm and orthogonal written as parametrizations (``nn.utils.parametrize``), so the
weight is recomputed on every read rather than by a forward hook (orthogonal's maps are in
``_orthogonal``).

The tensors sit where torch puts them, and state dicts carry torch's keys:
``parametrizations.weight.original0`` (g) and ``original1`` (v) for weight_norm,
``parametrizations.weight.original`` and the buffers ``parametrizations.weight.0._u`` / ``_v``
for spectral_norm, ``parametrizations.weight.original`` and the buffer
``parametrizations.weight.0.base`` for orthogonal.
"""

from ..._core.dims import wrap_dim
from ..._tensor.functions import cat
from ...autograd import no_grad
from ..module import Module
from . import _orthogonal, parametrize
from .spectral_norm import _normalize, is_transposed_conv, weight_matrix
from .weight_norm import _weight_dim, norm_except_dim

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


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


_MAPS = ("matrix_exp", "cayley", "householder")


class _Orthogonal(Module):
    """X -> an orthogonal matrix (orthonormal columns, or rows for a wide one) by
    ``orthogonal_map``; with the trivialization, times the buffer ``base``."""

    def __init__(self, weight, orthogonal_map, *, use_trivialization=True):
        super().__init__()
        self.shape = tuple(weight.shape)
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, x):
        return _orthogonal.orthogonal_map(
            x, self.orthogonal_map, self.base if "base" in self._buffers else None
        )

    def right_inverse(self, q):
        if tuple(q.shape) != self.shape:
            raise ValueError(
                f"Expected a matrix or batch of matrices of shape {self.shape}. "
                f"Got a tensor of shape {tuple(q.shape)}."
            )
        q_init = q
        n, k = q.shape[-2], q.shape[-1]
        transposed = n < k
        if transposed:
            q, n, k = q.mT, k, n
        if "base" not in self._buffers:
            if self.orthogonal_map != "householder":
                raise NotImplementedError(
                    "It is not possible to assign to the matrix exponential or the Cayley "
                    "parametrizations when use_trivialization=False."
                )
            # X whose householder map is q: the reflectors of q's QR, with the signs of R's
            # diagonal on X's diagonal (a tau of 0 is a reflector left out: its sign flips)
            a, tau = _orthogonal.geqrf(q)
            diag = a.diagonal(dim1=-2, dim2=-1)
            signs = diag.sign() * (1.0 - 2.0 * (tau == 0).to(dtype=a.dtype))
            a.diagonal(dim1=-2, dim2=-1).copy_(signs)
            return a.mT if transposed else a
        if n == k:
            q = q.clone() if _orthogonal.is_orthogonal(q) else _orthogonal.make_orthogonal(q)
        else:  # completed to a square orthogonal matrix by random columns
            extra = q.new_empty((*q.shape[:-2], n, n - k)).normal_()
            q = _orthogonal.make_orthogonal(cat([q, extra], -1))
        self.base = q
        neg_id = q_init.new_zeros(tuple(q_init.shape))
        neg_id.diagonal(dim1=-2, dim2=-1).fill_(-1.0)
        return neg_id


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """Reparametrize the matrix (or batch of matrices) ``module.<name>`` to stay orthogonal;
    ``orthogonal_map`` one of "matrix_exp", "cayley", "householder" (default: matrix_exp for
    a square matrix, householder otherwise). Returns the module."""
    weight = _tensor_of(module, name)
    if weight.ndim < 2:
        raise ValueError(
            f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions."
        )
    if orthogonal_map is None:
        square = weight.shape[-2] == weight.shape[-1]
        orthogonal_map = "matrix_exp" if square else "householder"
    if orthogonal_map not in _MAPS:
        raise ValueError(
            'orthogonal_map has to be one of "matrix_exp", "cayley", "householder". '
            f"Got: {orthogonal_map}"
        )
    orth = _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module


def _tensor_of(module, name):
    weight = getattr(module, name, None)
    if weight is None or not hasattr(weight, "ndim"):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    return weight
