"""``fastnn.nn.modules.pixelshuffle``: the classes of ``fastnn.nn`` that torch keeps in ``nn.modules.pixelshuffle``,
under that path (the same objects; pickles and imports that name it find them)."""

from ..layers_extra import PixelShuffle, PixelUnshuffle

__all__ = [
    "PixelShuffle",
    "PixelUnshuffle",
]
