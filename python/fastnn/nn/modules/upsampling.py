"""``fastnn.nn.modules.upsampling``: the classes of ``fastnn.nn`` that torch keeps in ``nn.modules.upsampling``,
under that path (the same objects; pickles and imports that name it find them)."""

from ..reshape_layers import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d

__all__ = [
    "Upsample",
    "UpsamplingBilinear2d",
    "UpsamplingNearest2d",
]
