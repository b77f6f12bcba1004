"""``fastnn.nn.utils``: gradient clipping, parameters as one vector, ``rnn.pad_sequence``,
``parametrize`` (tensors computed from others) and ``prune`` (parameters masked)."""

from . import parametrize, prune, rnn
from .clip_grad import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm
from .convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = [
    "clip_grad_norm_",
    "clip_grad_value_",
    "clip_grads_with_norm_",
    "get_total_norm",
    "parameters_to_vector",
    "parametrize",
    "prune",
    "rnn",
    "vector_to_parameters",
]
