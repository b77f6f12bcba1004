"""MaxPool3d, AvgPool3d and AdaptiveAvgPool3d (torch's names, signatures and reprs); each forward
is one ``nn.functional`` call (functional/pool3d.py: two passes of the 2-D and 1-D kernels)."""

from . import functional as F
from .conv import _MaxPoolNd
from .module import Module

__all__ = ["AdaptiveAvgPool3d", "AvgPool3d", "MaxPool3d"]


class MaxPool3d(_MaxPoolNd):
    """3-D max pooling over (N, C, D, H, W)."""

    _pool = staticmethod(F.max_pool3d)


class AvgPool3d(Module):
    """3-D average pooling (stride defaults to kernel_size)."""

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        ceil_mode=False,
        count_include_pad=True,
        divisor_override=None,
    ):
        super().__init__()
        if ceil_mode:
            raise NotImplementedError("AvgPool3d: ceil_mode=True is not supported by fastnn")
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input):
        return F.avg_pool3d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool3d(Module):
    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return F.adaptive_avg_pool3d(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"
