"""Transposed convolution (conv_transpose2d, conv_transpose1d) on the conv2d kernels.

A transposed convolution of x with weight w (C_in, C_out, kh, kw) is the input gradient of the
convolution that takes a (N, C_out, H_out, W_out) image to x's shape with the same w as its
(C_out-of-the-conv = C_in, C_in-of-the-conv = C_out) weight. So

    forward   y  = conv2d_backward's input gradient, with x as the output gradient
    backward  dx = conv2d(dy, w)                      (the forward convolution)
              dw = conv2d_backward's weight gradient, with dy as the input and x as the gradient

and the kernels of conv2d (packed im2col, Winograd for 3x3) run every pass. The input gradient
never reads the convolution's input, only its shape: a placeholder of that shape stands in.
Output rows that no window reaches (output_padding beyond what the stride leaves) are zeros.
"""

from ..._core import dtype as _dtype
from ..._tensor.functions import cat
from ...autograd.function import Function
from .conv import _batched, _check_float, _pair
from .conv1d import _single
from .padding import pad


class ConvTranspose2d(Function):
    """y = conv_transpose2d(x, w) (no bias: the caller adds it); see the module note."""

    save_inputs = True
    # its gradients are conv2d and conv2d's weight gradient, whose recorded forms give every
    # higher order (conv.py)
    double_backward = True

    def forward(self, x, w, *, stride, padding, dilation, out_hw):
        be = self.be
        shape = (x.shape[0], w.shape[1], *out_hw)
        if self.requires_grad:
            self.x, self.w, self.geom = x, w, (stride, padding, dilation)
        stand_in = be.empty(shape, x.dtype)
        return be.conv2d_backward(x, stand_in, w, stride, padding, dilation, (True, False, False))[
            0
        ]

    def backward(self, g):
        be, (need_x, need_w) = self.be, self.needs_input_grad
        gx = be.conv2d(g, self.w, None, *self.geom) if need_x else None
        gw = None
        if need_w:
            gw = be.conv2d_backward(self.x, g, self.w, *self.geom, (False, True, False))[1]
        return gx, gw


def _out_size(n, k, s, p, d, op):
    return (n - 1) * s - 2 * p + d * (k - 1) + op + 1


def _output_padding(output_padding, output_size, in_hw, kernel, stride, padding, dilation):
    """The (h, w) output padding: as given, or what makes the output ``output_size``."""
    op = _pair(output_padding)
    if output_size is not None:
        size = tuple(int(s) for s in output_size)[-2:]
        smallest = [_out_size(n, k, s, p, d, 0) for n, k, s, p, d in zip(in_hw, kernel, stride, padding, dilation)]  # fmt: skip
        for want, lo, s in zip(size, smallest, stride):
            if not lo <= want < lo + s:
                raise ValueError(
                    f"requested an output size of {list(size)}, but valid sizes range from "
                    f"{smallest} to {[m + s_ - 1 for m, s_ in zip(smallest, stride)]} (for an "
                    f"input of {list(in_hw)})"
                )
        op = tuple(w - lo for w, lo in zip(size, smallest))
    for o, s, d in zip(op, stride, dilation):
        if o < 0 or (o >= s and o >= d):
            raise RuntimeError(
                "output padding must be smaller than either stride or dilation, but got "
                f"output_padding_height: {op[0]} output_padding_width: {op[1]} stride_height: "
                f"{stride[0]} stride_width: {stride[1]} dilation_height: {dilation[0]} "
                f"dilation_width: {dilation[1]}"
            )
    return op


def conv_transpose2d(
    input,
    weight,
    bias=None,
    stride=1,
    padding=0,
    output_padding=0,
    groups=1,
    dilation=1,
    output_size=None,
):
    """torch.nn.functional.conv_transpose2d: input (N, C_in, H, W) or (C_in, H, W), weight
    (C_in, C_out / groups, kh, kw), bias (C_out,); output (N, C_out, H_out, W_out) with
    H_out = (H - 1) * stride - 2 * padding + dilation * (kh - 1) + output_padding + 1. With
    groups, each group of input channels has its own weights and output channels: one call per
    group, the outputs side by side."""
    if groups != 1:
        return _grouped(
            input, weight, bias, groups, stride, padding, output_padding, dilation, output_size
        )
    _check_float("conv_transpose2d", input, weight, bias)
    if weight.ndim != 4:
        raise RuntimeError(
            "conv_transpose2d: weight must be 4-D (C_in, C_out, kh, kw), got size "
            f"{list(weight.shape)}"
        )
    x, unbatched = _batched(input, "conv_transpose2d")
    if input.dtype != weight.dtype or (bias is not None and bias.dtype != weight.dtype):
        raise RuntimeError(
            "conv_transpose2d: input, weight and bias must have the same dtype, got "
            f"{_dtype.name(input.dtype)}, {_dtype.name(weight.dtype)}"
            + ("" if bias is None else f" and {_dtype.name(bias.dtype)}")
        )
    if x.shape[1] != weight.shape[0]:
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(weight.shape)}, expected input"
            f"{list(x.shape)} to have {weight.shape[0]} channels, but got {x.shape[1]} channels "
            "instead"
        )
    if bias is not None and tuple(bias.shape) != (weight.shape[1],):
        raise RuntimeError(
            f"conv_transpose2d: bias must have shape ({weight.shape[1]},), got {list(bias.shape)}"
        )
    stride, padding, dilation = _pair(stride), _pair(padding), _pair(dilation)
    kernel, in_hw = tuple(weight.shape[2:]), tuple(x.shape[2:])
    op = _output_padding(output_padding, output_size, in_hw, kernel, stride, padding, dilation)
    # The kernels take the output padding a stride leaves room for (rows the last window's stride
    # still covers). More (allowed below the dilation) extends the uncropped result past its end:
    # then the result is computed without padding, cropped and extended with zeros.
    direct = all(o < s for o, s in zip(op, stride))
    geom = (padding, op) if direct else ((0, 0), (0, 0))
    out_hw = tuple(
        _out_size(n, k, s, p, d, o)
        for n, k, s, d, p, o in zip(in_hw, kernel, stride, dilation, *geom)
    )
    final_hw = tuple(
        _out_size(n, k, s, p, d, o)
        for n, k, s, p, d, o in zip(in_hw, kernel, stride, padding, dilation, op)
    )
    if min(final_hw) <= 0:
        raise RuntimeError(
            f"conv_transpose2d: the output size {list(final_hw)} is too small for an input of "
            f"{list(in_hw)} (padding {list(padding)})"
        )
    out = ConvTranspose2d.apply(
        x, weight, stride=stride, padding=geom[0], dilation=dilation, out_hw=out_hw
    )
    if not direct:
        (p0, p1), (h, w) = padding, final_hw
        out = out[:, :, p0 : p0 + h, p1 : p1 + w]
        out = pad(out, (0, w - out.shape[3], 0, h - out.shape[2]))
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1)
    return out.squeeze(0) if unbatched else out


def _grouped(input, weight, bias, groups, stride, padding, output_padding, dilation, size):
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise RuntimeError(f"conv_transpose2d: non-positive groups is not supported, got {groups}")
    x, unbatched = _batched(input, "conv_transpose2d")
    if weight.ndim != 4 or x.shape[1] != weight.shape[0] or weight.shape[0] % groups:
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(weight.shape)} and groups={groups}, "
            f"expected input{list(x.shape)} to have {weight.shape[0]} channels, a multiple of "
            f"groups, but got {x.shape[1]} channels instead"
        )
    if bias is not None and tuple(bias.shape) != (weight.shape[1] * groups,):
        raise RuntimeError(
            f"conv_transpose2d: bias must have shape ({weight.shape[1] * groups},), got "
            f"{list(bias.shape)}"
        )
    per = weight.shape[0] // groups
    parts = []
    for g in range(groups):
        xg, wg = x[:, g * per : (g + 1) * per], weight[g * per : (g + 1) * per]
        parts.append(
            conv_transpose2d(xg, wg, None, stride, padding, output_padding, 1, dilation, size)
        )
    out = cat(parts, 1)
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1)
    return out.squeeze(0) if unbatched else out


def conv_transpose1d(
    input,
    weight,
    bias=None,
    stride=1,
    padding=0,
    output_padding=0,
    groups=1,
    dilation=1,
    output_size=None,
):
    """torch.nn.functional.conv_transpose1d: input (N, C_in, L) or (C_in, L), weight
    (C_in, C_out / groups, k); conv_transpose2d on the height-1 view."""
    fn = "conv_transpose1d"
    if weight.ndim != 3:
        raise RuntimeError(
            f"{fn}: weight must be 3-D (C_in, C_out, k), got size {list(weight.shape)}"
        )
    x, unbatched = _batched(input, fn, 1)
    size = None if output_size is None else (1, int(tuple(output_size)[-1]))
    out = conv_transpose2d(
        x.unsqueeze(2),
        weight.unsqueeze(2),
        bias,
        (1, _single(stride, "stride", fn)),
        (0, _single(padding, "padding", fn)),
        (0, _single(output_padding, "output_padding", fn)),
        groups,
        (1, _single(dilation, "dilation", fn)),
        output_size=size,
    ).squeeze(2)
    return out.squeeze(0) if unbatched else out


__all__ = ["conv_transpose1d", "conv_transpose2d"]
