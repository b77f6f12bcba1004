"""``fastnn.nn.modules.normalization``: the classes of ``fastnn.nn`` that torch keeps in ``nn.modules.normalization``,
under that path (the same objects; pickles and imports that name it find them)."""

from ..layers_extra import RMSNorm
from ..lrn_lp_pool import LocalResponseNorm
from ..normalization import GroupNorm, LayerNorm

__all__ = [
    "GroupNorm",
    "LayerNorm",
    "LocalResponseNorm",
    "RMSNorm",
]
