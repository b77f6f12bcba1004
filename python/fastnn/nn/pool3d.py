"""MaxPool3d, AvgPool3d, AdaptiveAvgPool3d and AdaptiveMaxPool3d (torch's names, signatures and reprs); each forward
is one ``nn.functional`` call (functional/pool3d.py: two passes of the 2-D and 1-D kernels)."""

from . import functional as F
from .conv import _AvgPoolNd, _MaxPoolNd
from .module import Module

__all__ = ["AdaptiveAvgPool3d", "AdaptiveMaxPool3d", "AvgPool3d", "MaxPool3d"]


class MaxPool3d(_MaxPoolNd):
    """3-D max pooling over (N, C, D, H, W)."""

    _pool = staticmethod(F.max_pool3d)


class AvgPool3d(_AvgPoolNd):
    """3-D average pooling (stride defaults to kernel_size)."""

    _pool = staticmethod(F.avg_pool3d)


class AdaptiveAvgPool3d(Module):
    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return F.adaptive_avg_pool3d(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool3d(Module):
    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input):
        return F.adaptive_max_pool3d(input, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size}"
