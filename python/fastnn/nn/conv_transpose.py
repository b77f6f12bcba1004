"""Transposed convolution layers: ConvTranspose2d and ConvTranspose1d (PyTorch's names,
signatures, weight layout (C_in, C_out / groups, *kernel), default initialisation and reprs).
Each forward is one ``nn.functional`` call (the conv2d kernels, see conv_transpose.py there)."""

from . import functional as F
from .conv import _ConvNd, _pair
from .conv1d import _single

__all__ = ["ConvTranspose1d", "ConvTranspose2d"]


class _ConvTransposeNd(_ConvNd):
    """_ConvNd's checks and init on the transposed weight layout, plus output_padding."""

    _transposed = True

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        output_padding=0,
        groups=1,
        bias=True,
        dilation=1,
        padding_mode="zeros",
        device=None,
        dtype=None,
    ):
        name = type(self).__name__
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {name}')
        if padding in ("same", "valid"):
            raise ValueError(f"{name}: padding={padding!r} is not supported, give its size")
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
            padding_mode, device, dtype,
        )  # fmt: skip
        self.output_padding = self._ntuple(output_padding, "output_padding", name, 0)


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution over (N, C_in, H, W): weight (C_in, C_out / groups, kh, kw), bias
    (C_out,); initialised like torch's (its fan-in from the weight's dim 1: C_out * kh * kw)."""

    _ntuple = staticmethod(_pair)

    def forward(self, input, output_size=None):
        return F.conv_transpose2d(
            input, self.weight, self.bias, self.stride, self.padding, self.output_padding,
            self.groups, self.dilation, output_size=output_size,
        )  # fmt: skip


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution over (N, C_in, L): weight (C_in, C_out, k), bias (C_out,)."""

    _ntuple = staticmethod(_single)

    def forward(self, input, output_size=None):
        return F.conv_transpose1d(
            input, self.weight, self.bias, self.stride[0], self.padding[0],
            self.output_padding[0], self.groups, self.dilation[0], output_size=output_size,
        )  # fmt: skip
