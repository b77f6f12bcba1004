"""Placeholder until the nndata branch lands (the lead resolves this file in the merge)."""

from . import functional

__all__ = ["functional"]
