"""``spectral_norm`` / ``remove_spectral_norm``, the hook-based form
(torch.nn.utils.spectral_norm): the weight divided by its largest singular value sigma, which
power iteration estimates from two vectors kept between calls.

The weight is seen as a matrix (``dim`` moved to the front, the rest flattened; ``dim`` is 1 for
the transposed convolutions, whose output channels are there). Each training forward runs
``n_power_iterations`` steps v = W^T u / |W^T u|, u = W v / |W v| (in place, without gradient),
then sigma = u . W v; in eval mode u and v are left as they are. The tensors are torch's:
the parameter ``<name>_orig`` and the buffers ``<name>_u`` and ``<name>_v``, with ``<name>`` a
plain attribute set by the forward pre-hook, so checkpoints of either library load into the
other. ``nn.utils.parametrizations.spectral_norm`` is the newer form.
"""

from ..._core.dims import wrap_dim
from ..._tensor import Tensor
from ...autograd import no_grad
from ..conv3d import ConvTranspose3d
from ..conv_transpose import ConvTranspose1d, ConvTranspose2d
from ..parameter import Parameter, UninitializedParameter

__all__ = ["remove_spectral_norm", "spectral_norm"]


def is_transposed_conv(module):
    """Whether ``module`` keeps its output channels in dim 1 of its weight."""
    return isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d))


def _normalize(x, eps):
    return x / x.norm().clamp_min(eps)


def weight_matrix(weight, dim):
    """``weight`` as a (size of ``dim``, rest) matrix."""
    if dim != 0:
        weight = weight.permute(dim, *(d for d in range(weight.ndim) if d != dim))
    return weight.reshape(weight.shape[0], -1)


class SpectralNorm:
    """The forward pre-hook that sets ``module.<name>`` to ``<name>_orig / sigma``."""

    _version = 1  # the state-dict layout with ``<name>_v`` saved (older ones lacked it)

    def __init__(self, name="weight", n_power_iterations=1, dim=0, eps=1e-12):
        if n_power_iterations <= 0:
            raise ValueError(
                "Expected n_power_iterations to be positive, but got "
                f"n_power_iterations={n_power_iterations}"
            )
        self.name, self.dim, self.eps = name, dim, eps
        self.n_power_iterations = n_power_iterations

    def compute_weight(self, module, do_power_iteration):
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        mat = weight_matrix(weight, self.dim)
        if do_power_iteration:
            with no_grad():
                for _ in range(self.n_power_iterations):
                    v.copy_(_normalize(mat.t().mv(u), self.eps))
                    u.copy_(_normalize(mat.mv(v), self.eps))
            # the buffers change again at the next call; the graph keeps these values
            u, v = u.clone(), v.clone()
        sigma = u.dot(mat.mv(v))
        return weight / sigma

    def remove(self, module):
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        delattr(module, self.name)
        delattr(module, self.name + "_u")
        delattr(module, self.name + "_v")
        delattr(module, self.name + "_orig")
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module, module.training))

    def _solve_v_and_rescale(self, mat, u, sigma):
        """The v of a checkpoint saved without one: W v = sigma u in the least-squares sense,
        scaled so that u . W v is the checkpoint's sigma."""
        v = mat.t().mm(mat).pinverse().mm(mat.t()).mv(u)
        return v * (sigma / u.dot(mat.mv(v)))

    @staticmethod
    def apply(module, name, n_power_iterations, dim, eps):
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(
                    f"Cannot register two spectral_norm hooks on the same parameter {name}"
                )
        weight = module._parameters.get(name)
        if weight is None:
            raise KeyError(
                f"spectral_norm: '{type(module).__name__}' object has no parameter '{name}'"
            )
        if isinstance(weight, UninitializedParameter):
            raise ValueError(  # noqa: TRY004 (torch's exception type)
                "The module passed to `SpectralNorm` can't have uninitialized parameters. "
                "Make sure to run the dummy forward before applying spectral normalization"
            )
        fn = SpectralNorm(
            name, n_power_iterations, wrap_dim(dim, weight.ndim, fn="spectral_norm"), eps
        )
        with no_grad():
            mat = weight_matrix(weight, fn.dim)
            h, w = mat.shape
            u = _normalize(weight.new_empty(h).normal_(0, 1), eps)
            v = _normalize(weight.new_empty(w).normal_(0, 1), eps)
        delattr(module, name)
        module.register_parameter(name + "_orig", weight)
        setattr(module, name, weight.detach())
        module.register_buffer(name + "_u", u)
        module.register_buffer(name + "_v", v)
        module.register_forward_pre_hook(fn)
        module._register_state_dict_hook(_StateDictHook(fn))
        module._register_load_state_dict_pre_hook(_LoadStateDictPreHook(fn))
        return fn


class _StateDictHook:
    """Records the layout's version in the state dict's metadata, as torch does."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, module, state_dict, prefix, local_metadata):
        versions = local_metadata.setdefault("spectral_norm", {})
        key = self.fn.name + ".version"
        if key in versions:
            raise RuntimeError(f"Unexpected key in metadata['spectral_norm']: {key}")
        versions[key] = self.fn._version


class _LoadStateDictPreHook:
    """Reads checkpoints of the layout before version 1, which saved ``<name>`` (the
    normalized weight) and no ``<name>_v``: v is solved for from the two weights and u."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, state_dict, prefix, local_metadata, strict, missing, unexpected, errors):
        fn = self.fn
        version = local_metadata.get("spectral_norm", {}).get(fn.name + ".version")
        if version is not None and version >= 1:
            return
        key = prefix + fn.name
        have = [key + s in state_dict for s in ("_orig", "_u", "_v")]
        if version is None and all(have) and key not in state_dict:
            return  # the current layout, saved without metadata
        if not (have[0] and have[1]) or key not in state_dict:
            return  # keys are missing: the load reports them
        with no_grad():
            orig = _as_tensor(state_dict[key + "_orig"])
            weight = _as_tensor(state_dict.pop(key))
            sigma = (orig / weight).mean()
            mat = weight_matrix(orig, fn.dim)
            u = _as_tensor(state_dict[key + "_u"])
            state_dict[key + "_v"] = fn._solve_v_and_rescale(mat, u, sigma)


def _as_tensor(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Divide ``module.<name>`` by its spectral norm (estimated by power iteration) before every
    forward; returns the module. ``dim`` defaults to 1 for ConvTranspose*d, else 0."""
    if dim is None:
        dim = 1 if is_transposed_conv(module) else 0
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module, name="weight"):
    """Undo ``spectral_norm``: ``<name>`` becomes a parameter holding the normalized weight."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, SpectralNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            break
    else:
        raise ValueError(f"spectral_norm of '{name}' not found in {module}")
    for hooks in (module._state_dict_hooks, module._load_state_dict_pre_hooks):
        for key, entry in list((hooks or {}).items()):
            hook = entry[0] if isinstance(entry, tuple) else entry
            if isinstance(hook, (_StateDictHook, _LoadStateDictPreHook)) and hook.fn.name == name:
                del hooks[key]
    return module
