"""``fastnn.nn.modules.linear``: the classes of ``fastnn.nn`` that torch keeps in ``nn.modules.linear``,
under that path (the same objects; pickles and imports that name it find them)."""

from ..layers import Bilinear, Identity, LazyLinear, Linear

# not in torch's __all__ either, but pickled whole models (MultiheadAttention's out_proj) and
# safe_globals lists name it under this path
from ..transformer import NonDynamicallyQuantizableLinear  # noqa: F401

__all__ = [
    "Bilinear",
    "Identity",
    "LazyLinear",
    "Linear",
]
