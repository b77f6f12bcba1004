"""``fastnn.nn.modules.distance``: the classes of ``fastnn.nn`` that torch keeps in ``nn.modules.distance``,
under that path (the same objects; pickles and imports that name it find them)."""

from ..layers_extra import CosineSimilarity, PairwiseDistance

__all__ = [
    "CosineSimilarity",
    "PairwiseDistance",
]
