"""``fastnn.nn.modules.conv``: the classes of ``fastnn.nn`` that torch keeps in ``nn.modules.conv``,
under that path (the same objects; pickles and imports that name it find them)."""

from ..conv import Conv2d
from ..conv1d import Conv1d
from ..conv_transpose import ConvTranspose1d, ConvTranspose2d
from ..lazy import LazyConv1d, LazyConv2d

__all__ = [
    "Conv1d",
    "Conv2d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "LazyConv1d",
    "LazyConv2d",
]
