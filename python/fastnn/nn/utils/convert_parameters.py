"""All parameters as one flat vector and back (torch's parameters_to_vector /
vector_to_parameters)."""

from ..._tensor import Tensor
from ..._tensor.functions import cat

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _params(parameters, what):
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{what}: expected Tensors, got {type(p).__name__} at index {i}")
    devices = {str(p.device) for p in params}
    if len(devices) > 1:
        raise TypeError(
            f"{what}: found parameters on different devices ({', '.join(sorted(devices))}); "
            "this function needs all of them on one device"
        )
    return params


def parameters_to_vector(parameters):
    """One 1-D tensor of every parameter's elements in order (differentiable, like torch)."""
    params = _params(parameters, "parameters_to_vector")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec, parameters):
    """Point each parameter at its slice of ``vec`` (they share ``vec``'s storage after, as in
    torch). ``vec`` must hold at least as many elements as the parameters together."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    params = _params(parameters, "vector_to_parameters")
    if vec.ndim != 1:
        raise ValueError(f"vector_to_parameters: vec must be 1-D, got shape {tuple(vec.shape)}")
    need = sum(p.numel() for p in params)
    if vec.numel() < need:
        raise ValueError(
            f"vector_to_parameters: the parameters hold {need} elements but vec has only "
            f"{vec.numel()}"
        )
    for p in params:
        if str(p.device) != str(vec.device):
            raise TypeError(
                f"vector_to_parameters: vec is on {vec.device} but a parameter is on {p.device}"
            )
    start = 0
    for p in params:
        n = p.numel()
        p.data = vec[start : start + n].detach().reshape(p.shape)
        start += n
