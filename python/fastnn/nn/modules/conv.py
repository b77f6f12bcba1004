"""``fastnn.nn.modules.conv``: the classes of ``fastnn.nn`` that torch keeps in ``nn.modules.conv``,
under that path (the same objects; pickles and imports that name it find them)."""

from ..conv import Conv2d
from ..conv1d import Conv1d
from ..conv3d import Conv3d, ConvTranspose3d
from ..conv_transpose import ConvTranspose1d, ConvTranspose2d
from ..lazy import (
    LazyConv1d,
    LazyConv2d,
    LazyConv3d,
    LazyConvTranspose1d,
    LazyConvTranspose2d,
    LazyConvTranspose3d,
)

__all__ = [
    "Conv1d",
    "Conv2d",
    "Conv3d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "ConvTranspose3d",
    "LazyConv1d",
    "LazyConv2d",
    "LazyConv3d",
    "LazyConvTranspose1d",
    "LazyConvTranspose2d",
    "LazyConvTranspose3d",
]
