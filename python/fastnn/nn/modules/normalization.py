"""``fastnn.nn.modules.normalization``: the classes of ``fastnn.nn`` that torch keeps in ``nn.modules.normalization``,
under that path (the same objects; pickles and imports that name it find them)."""

from .. import (
    GroupNorm,
    LayerNorm,
    LocalResponseNorm,
    RMSNorm,
)

__all__ = [
    "GroupNorm",
    "LayerNorm",
    "LocalResponseNorm",
    "RMSNorm",
]
