"""Utilities: ``fastnn.utils.data`` (datasets, DataLoader), as in ``torch.utils``."""

from . import data

__all__ = ["data"]
