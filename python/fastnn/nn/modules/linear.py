"""``fastnn.nn.modules.linear``: the classes of ``fastnn.nn`` that torch keeps in ``nn.modules.linear``,
under that path (the same objects; pickles and imports that name it find them)."""

from ..layers import Bilinear, Identity, LazyLinear, Linear

__all__ = [
    "Bilinear",
    "Identity",
    "LazyLinear",
    "Linear",
]
