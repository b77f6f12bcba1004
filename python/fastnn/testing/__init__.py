"""Test helpers with torch.testing's names: ``assert_close`` (and its deprecated forerunner
``assert_allclose``) to compare tensors, numbers and containers of them with per-dtype
tolerances, and ``make_tensor`` to build random inputs of a given shape and dtype."""

from ._comparison import assert_allclose, assert_close
from ._creation import make_tensor

__all__ = ["assert_allclose", "assert_close", "make_tensor"]
