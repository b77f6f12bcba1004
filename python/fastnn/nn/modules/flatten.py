"""``fastnn.nn.modules.flatten``: the classes of ``fastnn.nn`` that torch keeps in ``nn.modules.flatten``,
under that path (the same objects; pickles and imports that name it find them)."""

from ..layers import Flatten
from ..reshape_layers import Unflatten

__all__ = [
    "Flatten",
    "Unflatten",
]
