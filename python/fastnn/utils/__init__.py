"""Utilities: ``fastnn.utils.data`` (datasets, DataLoader) and ``fastnn.utils.checkpoint``
(activation checkpointing), as in ``torch.utils``."""

from . import checkpoint, data

__all__ = ["checkpoint", "data"]
