"""``fastnn.nn.modules.sparse``: the classes of ``fastnn.nn`` that torch keeps in ``nn.modules.sparse``,
under that path (the same objects; pickles and imports that name it find them)."""

from ..sparse import Embedding, EmbeddingBag

__all__ = [
    "Embedding",
    "EmbeddingBag",
]
