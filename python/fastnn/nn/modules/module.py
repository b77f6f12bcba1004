"""``fastnn.nn.modules.module``: the classes of ``fastnn.nn`` that torch keeps in ``nn.modules.module``,
under that path (the same objects; pickles and imports that name it find them)."""

from ..module import Module

__all__ = [
    "Module",
]
