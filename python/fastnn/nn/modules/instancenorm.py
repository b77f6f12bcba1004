"""``fastnn.nn.modules.instancenorm``: the classes of ``fastnn.nn`` that torch keeps in ``nn.modules.instancenorm``,
under that path (the same objects; pickles and imports that name it find them)."""

from ..instance_norm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from ..lazy import LazyInstanceNorm1d, LazyInstanceNorm2d, LazyInstanceNorm3d

__all__ = [
    "InstanceNorm1d",
    "InstanceNorm2d",
    "InstanceNorm3d",
    "LazyInstanceNorm1d",
    "LazyInstanceNorm2d",
    "LazyInstanceNorm3d",
]
