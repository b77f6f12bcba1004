"""``fastnn.nn.modules.dropout``: the classes of ``fastnn.nn`` that torch keeps in ``nn.modules.dropout``,
under that path (the same objects; pickles and imports that name it find them)."""

from .. import (
    AlphaDropout,
    Dropout,
    Dropout1d,
    Dropout2d,
    Dropout3d,
    FeatureAlphaDropout,
)

__all__ = [
    "AlphaDropout",
    "Dropout",
    "Dropout1d",
    "Dropout2d",
    "Dropout3d",
    "FeatureAlphaDropout",
]
