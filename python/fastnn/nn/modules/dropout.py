"""``fastnn.nn.modules.dropout``: the classes of ``fastnn.nn`` that torch keeps in ``nn.modules.dropout``,
under that path (the same objects; pickles and imports that name it find them)."""

from ..dropout_more import AlphaDropout, Dropout1d, Dropout3d, FeatureAlphaDropout
from ..layers import Dropout
from ..reshape_layers import Dropout2d

__all__ = [
    "AlphaDropout",
    "Dropout",
    "Dropout1d",
    "Dropout2d",
    "Dropout3d",
    "FeatureAlphaDropout",
]
