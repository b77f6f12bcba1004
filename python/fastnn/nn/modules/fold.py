"""``fastnn.nn.modules.fold``: the classes of ``fastnn.nn`` that torch keeps in ``nn.modules.fold``,
under that path (the same objects; pickles and imports that name it find them)."""

from ..layers_extra import Fold, Unfold

__all__ = [
    "Fold",
    "Unfold",
]
