"""``fastnn.nn.modules.container``: the classes of ``fastnn.nn`` that torch keeps in ``nn.modules.container``,
under that path (the same objects; pickles and imports that name it find them)."""

from ..container import ModuleDict, ParameterDict, ParameterList
from ..module import ModuleList, Sequential

__all__ = [
    "ModuleDict",
    "ModuleList",
    "ParameterDict",
    "ParameterList",
    "Sequential",
]
