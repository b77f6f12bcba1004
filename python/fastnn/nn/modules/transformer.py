"""``fastnn.nn.modules.transformer``: the classes of ``fastnn.nn`` that torch keeps in ``nn.modules.transformer``,
under that path (the same objects; pickles and imports that name it find them)."""

from ..transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)

__all__ = [
    "Transformer",
    "TransformerDecoder",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerEncoderLayer",
]
