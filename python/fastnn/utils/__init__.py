"""Utilities: ``fastnn.utils.data`` (datasets, DataLoader) and ``fastnn.utils.checkpoint``
(activation checkpointing) and ``swap_tensors``, as in ``torch.utils``."""

from . import checkpoint, data
from .swap import swap_tensors

__all__ = ["checkpoint", "data", "swap_tensors"]
