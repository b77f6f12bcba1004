"""2-D convolution and pooling (NCHW) on the im2col / GEMM kernels.

[note: conv2d layout] conv2d is one fused kernel each way (fastnn.kernels.conv2d /
conv2d_backward, csrc/cpu/conv.cpp [note: conv2d chunks]): with K = C_in*kh*kw, L = H_out*W_out
and W2 = weight.reshape(C_out, K), the batch is cut into chunks of nb images whose patch matrix
cols (K, nb*L) fits in L2, and per chunk

    forward  T = W2 @ cols (C_out, nb*L), copied out to NCHW with the bias added on the way
    backward G = the chunk of grad as (C_out, nb*L); dW += G @ cols^T, db += row sums of G,
             dcols = W2^T @ G -> col2im -> dx

so the (N, K, L) patch tensor is never materialised: backward regathers the chunk's patches from
the saved input instead of keeping 9x the input alive between forward and backward, and every
GEMM has a wide N = nb*L rather than one image's L. dW/db are summed per fixed slice of the batch
and the slices added in order, so the gradients do not depend on the thread count.
"""

import numpy as np

from ... import _devices
from ..._core import autocast as _autocast
from ..._core import dtype as _dtype
from ..._tensor.functions import cat
from ...autograd import graph_ops
from ...autograd.function import Function
from . import pool_ceil as _ceil

_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


class Conv2d(Function):
    """out = conv2d(x, w, b) with (h, w) pairs stride/padding/dilation; see the note above."""

    torch_name = "Convolution"

    save_inputs = True
    double_backward = True  # its gradients are the two ops below, recorded

    def forward(self, x, w, b=None, *, stride, padding, dilation):
        if self.requires_grad:
            self.x, self.w, self.geom = x, w, (stride, padding, dilation)
        return self.be.conv2d(x, w, b, stride, padding, dilation)

    def backward(self, g):
        need = tuple(self.needs_input_grad) + (False,) * (3 - len(self.needs_input_grad))
        gx, gw, gb = self.be.conv2d_backward(g, self.x, self.w, *self.geom, need)
        return (gx, gw) if len(self.needs_input_grad) == 2 else (gx, gw, gb)


# conv2d is bilinear in (x, w), so each of its two gradients is bilinear too, and their
# derivatives are the three kernels again: for dx = ConvInputGrad(g, w) and a cotangent u of
# x's shape, d/dg = conv2d(u, w) and d/dw = the weight gradient for input u and output grad g;
# for dw = ConvWeightGrad(g, x) and a cotangent v of w's shape, d/dg = conv2d(x, v) and d/dx =
# the input gradient for weight v. Recorded as ops, they give every higher order.


class ConvInputGrad(Function):
    """dx of conv2d for output gradient g and weight w (x's shape given)."""

    save_inputs = True
    double_backward = True

    def forward(self, g, w, *, x_shape, geom):
        self.g, self.w, self.x_shape, self.geom = g, w, x_shape, geom
        be = self.be
        return be.conv2d_backward(g, be.empty(x_shape, g.dtype), w, *geom, (True, False, False))[0]

    def backward(self, u):
        be, n = self.be, self.needs_input_grad
        gg = be.conv2d(u, self.w, None, *self.geom) if n[0] else None
        gw = (
            be.conv2d_backward(self.g, u, self.w, *self.geom, (False, True, False))[1]
            if n[1]
            else None
        )
        return gg, gw


class ConvWeightGrad(Function):
    """dw of conv2d for output gradient g and input x (w's shape given)."""

    save_inputs = True
    double_backward = True

    def forward(self, g, x, *, w_shape, geom):
        self.g, self.x, self.w_shape, self.geom = g, x, w_shape, geom
        be = self.be
        return be.conv2d_backward(g, x, be.empty(w_shape, g.dtype), *geom, (False, True, False))[1]

    def backward(self, v):
        be, n = self.be, self.needs_input_grad
        gg = be.conv2d(self.x, v, None, *self.geom) if n[0] else None
        gx = (
            be.conv2d_backward(self.g, self.x, v, *self.geom, (True, False, False))[0]
            if n[1]
            else None
        )
        return gg, gx


class GroupedConv2d(Function):
    """conv2d with ``groups`` > 1: group g's output channels see only its input channels. On the
    CPU a depthwise layer (one input channel per group) is one call of the depthwise kernels.
    Otherwise each group is one call of the conv kernels on its channel slice; the backward
    writes each group's input gradient into its slice of one array (slicing the input as Tensors
    would cost a whole-input zero fill and addition per group)."""

    save_inputs = True

    def forward(self, x, w, b=None, *, stride, padding, dilation, groups):
        be = self.be
        ci, co = x.shape[1] // groups, w.shape[0] // groups
        self.geom, self.groups = (stride, padding, dilation), groups
        self.depthwise = be is _devices.cpu and ci == 1 and x.dtype in _KERNEL_DTYPES
        if self.requires_grad:
            self.x, self.w = x, w
        if self.depthwise:
            return be.depthwise_conv2d(x, w, b, stride, padding, dilation)
        outs = [
            be.conv2d(
                x[:, g * ci : (g + 1) * ci],
                w[g * co : (g + 1) * co],
                None if b is None else b[g * co : (g + 1) * co],
                stride,
                padding,
                dilation,
            )
            for g in range(groups)
        ]
        return be.concatenate(outs, 1)

    def backward(self, g):
        be, x, w, groups = self.be, self.x, self.w, self.groups
        need = tuple(self.needs_input_grad) + (False,) * (3 - len(self.needs_input_grad))
        if self.depthwise:
            gx, gw, gb = be.depthwise_conv2d_backward(g, x, w, *self.geom, need)
            return (gx, gw) if len(self.needs_input_grad) == 2 else (gx, gw, gb)
        ci, co = x.shape[1] // groups, w.shape[0] // groups
        gx = be.empty(x.shape, x.dtype) if need[0] else None
        parts_w, parts_b = [], []
        for k in range(groups):
            dx, dw, db = be.conv2d_backward(
                g[:, k * co : (k + 1) * co],
                x[:, k * ci : (k + 1) * ci],
                w[k * co : (k + 1) * co],
                *self.geom,
                need,
            )
            if need[0]:
                be.setitem(gx, (slice(None), slice(k * ci, (k + 1) * ci)), dx)
            parts_w.append(dw)
            parts_b.append(db)
        gw = be.concatenate(parts_w, 0) if need[1] else None
        gb = be.concatenate(parts_b, 0) if need[2] else None
        return (gx, gw) if len(self.needs_input_grad) == 2 else (gx, gw, gb)

    def graph_forward(self, x, w, b=None):
        """For create_graph=True: one recorded Conv2d per group on its channel slices, joined,
        so that the depthwise kernels need no recorded backward of their own."""
        ci, co, geom = x.shape[1] // self.groups, w.shape[0] // self.groups, self.geom
        outs = [
            Conv2d.apply(
                x[:, k * ci : (k + 1) * ci],
                w[k * co : (k + 1) * co],
                *(() if b is None else (b[k * co : (k + 1) * co],)),
                stride=geom[0],
                padding=geom[1],
                dilation=geom[2],
            )
            for k in range(self.groups)
        ]
        return cat(outs, 1)


class MaxPool2d(Function):
    """Window max; backward scatters the gradient to the argmax positions.

    The 2x2 stride-2 window of most CNNs, when the caller does not ask for the indices, keeps a
    one-byte window code per output (kernels.max_pool2d_2x2) instead of int64 flat indices: an
    eighth of the bytes written in forward and read again in backward, which is most of the
    memory traffic of this op on small planes."""

    torch_name = "MaxPool2DWithIndices"

    def forward(self, x, *, kernel_size, stride, padding, dilation, indices_out=None):
        self.code, self.window = None, (kernel_size, stride, padding, dilation)
        if (
            indices_out is None
            and kernel_size == (2, 2)
            and stride == (2, 2)
            and padding == (0, 0)
            and dilation == (1, 1)
            and x.shape[2] >= 2
            and x.shape[3] >= 2
        ):
            out, code = self.be.max_pool2d_2x2(x)
            if self.requires_grad:
                self.code, self.x_shape = code, x.shape
            return out
        out, idx = self.be.max_pool2d(x, kernel_size, stride, padding, dilation)
        if indices_out is not None:  # max_pool2d(return_indices=True)
            indices_out.append(idx)
        if self.requires_grad:
            self.indices, self.x_shape = idx, x.shape
        return out

    def backward(self, g):
        if self.code is not None:
            return self.be.max_pool2d_2x2_backward(g, self.code, self.x_shape)
        return self.be.max_pool2d_backward(g, self.indices, self.x_shape)

    def graph_forward(self, x):
        """For create_graph=True: the window maxima as a gather of x at the argmax positions
        (found again, as flat indices per plane), which autograd differentiates to any order."""
        n, c = x.shape[:2]
        _, idx = self.be.max_pool2d(x._data, *self.window)
        flat = self.be.reshape(idx, (n, c, -1))
        return x.reshape(n, c, -1).gather(2, flat).reshape(idx.shape)


class AvgPool2d(Function):
    """Window mean (fastnn.kernels.avg_pool2d); backward spreads g / divisor over each window."""

    double_backward = True  # its backward is AvgPoolSpread, recorded
    torch_name = "AvgPool2D"

    def forward(self, x, *, kernel_size, stride, padding, count_include_pad, divisor_override):
        args = (kernel_size, stride, padding, count_include_pad, divisor_override)
        if self.requires_grad:
            self.args, self.x_shape = args, x.shape
        return self.be.avg_pool2d(x, *args)

    def backward(self, g):
        return self.be.avg_pool2d_backward(g, self.x_shape, *self.args)


class AvgPoolSpread(Function):
    """avg_pool2d's backward as a recorded op (create_graph=True): linear in g, so its own
    backward is the window mean again."""

    double_backward = True

    def forward(self, g, *, x_shape, args):
        self.args = args
        return self.be.avg_pool2d_backward(g, x_shape, *args)

    def backward(self, gg):
        return self.be.avg_pool2d(gg, *self.args)


@graph_ops.recorded("conv2d")
def _recorded_conv2d(x, w, b, stride, padding, dilation):
    const = graph_ops.const
    args = (const(x), const(w)) + (() if b is None else (const(b),))
    return Conv2d.apply(*args, stride=stride, padding=padding, dilation=dilation)


@graph_ops.recorded("conv2d_backward")
def _recorded_conv2d_backward(g, x, w, stride, padding, dilation, need):
    const, data = graph_ops.const, graph_ops.data
    g, geom = const(g), (stride, padding, dilation)
    x_shape, w_shape = tuple(data(x).shape), tuple(data(w).shape)
    return (
        ConvInputGrad.apply(g, const(w), x_shape=x_shape, geom=geom) if need[0] else None,
        ConvWeightGrad.apply(g, const(x), w_shape=w_shape, geom=geom) if need[1] else None,
        g.sum((0, 2, 3)) if need[2] else None,
    )


@graph_ops.recorded("avg_pool2d")
def _recorded_avg_pool2d(x, *args):
    names = ("kernel_size", "stride", "padding", "count_include_pad", "divisor_override")
    return AvgPool2d.apply(graph_ops.const(x), **dict(zip(names, args)))


@graph_ops.recorded("avg_pool2d_backward")
def _recorded_avg_pool2d_backward(g, x_shape, *args):
    return AvgPoolSpread.apply(graph_ops.const(g), x_shape=tuple(x_shape), args=args)


# ---- functional wrappers (F.conv2d, F.max_pool2d, F.avg_pool2d) --------------------------------


def _pair(v):
    if isinstance(v, (tuple, list)) and len(v) == 2:
        return tuple(v)
    if isinstance(v, (tuple, list)) and len(v) == 1:
        return (v[0], v[0])
    return (v, v) if isinstance(v, (int, np.integer)) and not isinstance(v, bool) else v


def _check_float(name, *tensors):
    for t in tensors:
        if t is not None and not _dtype.is_floating(t.dtype):
            raise RuntimeError(
                f"{name}: expected a floating-point tensor, got dtype {_dtype.name(t.dtype)}"
            )


def _batched(input, name, spatial=2):
    """``input`` with a batch axis, and whether one was added: ``spatial`` trailing axes, one
    channel axis and an optional batch axis before them (1-, 2- and 3-D convolutions and pools)."""
    if input.ndim == spatial + 2:
        return input, False
    if input.ndim == spatial + 1:
        return input.unsqueeze(0), True
    raise RuntimeError(
        f"Expected {spatial + 1}D (unbatched) or {spatial + 2}D (batched) input to {name}, but got "
        f"input of size: {list(input.shape)}"
    )


def _same_padding(kernel, dilation, stride):
    if stride != (1, 1):
        raise ValueError("padding='same' is not supported for strided convolutions")
    total = [d * (k - 1) for k, d in zip(kernel, dilation)]
    if any(t % 2 for t in total):
        raise ValueError(
            f"padding='same' with kernel_size {kernel} and dilation {dilation} needs "
            "asymmetric padding, which fastnn's conv2d does not support"
        )
    return tuple(t // 2 for t in total)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation), torch.nn.functional.conv2d semantics.

    input (N, C_in, H, W) or (C_in, H, W), weight (C_out, C_in / groups, kh, kw), bias (C_out,).
    With groups > 1 each group of C_out / groups output channels sees its C_in / groups inputs:
    one call of the kernels per group (a depthwise layer, groups = C_in, is C_in small calls)."""
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise RuntimeError(f"non-positive groups is not supported, got {groups!r}")
    if _autocast.flag.on:
        input, weight, bias = _autocast.lower(input, weight, bias)
    _check_float("conv2d", input, weight, bias)
    if weight.ndim != 4:
        raise RuntimeError(
            f"conv2d: weight must be 4-D (C_out, C_in, kh, kw), got size {list(weight.shape)}"
        )
    x, unbatched = _batched(input, "conv2d")
    if input.dtype != weight.dtype or (bias is not None and bias.dtype != weight.dtype):
        raise RuntimeError(
            f"conv2d: input, weight and bias must have the same dtype, got "
            f"{_dtype.name(input.dtype)}, {_dtype.name(weight.dtype)}"
            + ("" if bias is None else f" and {_dtype.name(bias.dtype)}")
        )
    if x.shape[1] != weight.shape[1] * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight.shape)}, expected "
            f"input{list(x.shape)} to have {weight.shape[1] * groups} channels, but got "
            f"{x.shape[1]} channels instead"
        )
    if weight.shape[0] % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
            f"but got weight of size {list(weight.shape)} instead"
        )
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise RuntimeError(
            f"conv2d: bias must have shape ({weight.shape[0]},), got {list(bias.shape)}"
        )
    stride, dilation = _pair(stride), _pair(dilation)
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0)
        elif padding == "same":
            padding = _same_padding(tuple(weight.shape[2:]), dilation, stride)
        else:
            raise ValueError(
                f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}"
            )
    padding = _pair(padding)
    args = (x, weight) if bias is None else (x, weight, bias)
    if groups == 1:
        out = Conv2d.apply(*args, stride=stride, padding=padding, dilation=dilation)
    else:
        out = GroupedConv2d.apply(
            *args, stride=stride, padding=padding, dilation=dilation, groups=int(groups)
        )
    return out.squeeze(0) if unbatched else out


def _ceil_pad(x, ceil_mode, kernel_size, stride, padding, dilation, value):
    """x padded on the bottom / right so floor-mode windows are ceil_mode's; and the two pads."""
    if not ceil_mode or not _ceil.valid(kernel_size, stride, padding, dilation):
        return x, 0, 0  # a bad window is left to the kernel's own error
    (h, w), (kh, kw), (sh, sw), (ph, pw) = x.shape[-2:], kernel_size, stride, padding
    eh = _ceil.extra(h, kh, sh, ph, dilation[0])
    ew = _ceil.extra(w, kw, sw, pw, dilation[1])
    if eh or ew:
        x = _ceil.pad_end(x, eh, ew, value)
    return x, eh, ew


def max_pool2d(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    """torch.nn.functional.max_pool2d: window max (padding counts as -inf); with
    return_indices=True also the int64 flat indices ih*W + iw of the maxima in each plane."""
    _check_float("max_pool2d", input)
    x, unbatched = _batched(input, "max_pool2d")
    kernel_size = _pair(kernel_size)
    stride = kernel_size if stride is None or stride == [] else _pair(stride)
    padding, dilation = _pair(padding), _pair(dilation)
    width = x.shape[-1]
    x, _, ew = _ceil_pad(x, ceil_mode, kernel_size, stride, padding, dilation, float("-inf"))
    keep = [] if return_indices else None
    out = MaxPool2d.apply(
        x,
        kernel_size=kernel_size,
        stride=stride,
        padding=padding,
        dilation=dilation,
        indices_out=keep,
    )
    if unbatched:
        out = out.squeeze(0)
    if not return_indices:
        return out
    idx = _ceil.flat_index_in(out._make(keep[0]), width, ew)
    return out, idx.squeeze(0) if unbatched else idx


def avg_pool2d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
):
    """torch.nn.functional.avg_pool2d: the window mean; padded zeros count
    unless count_include_pad=False; divisor_override replaces the divisor."""
    _check_float("avg_pool2d", input)
    x, unbatched = _batched(input, "avg_pool2d")
    kernel_size = _pair(kernel_size)
    stride = kernel_size if stride is None or stride == [] else _pair(stride)
    padding = _pair(padding)
    if (
        isinstance(padding, tuple)
        and all(isinstance(p, int) for p in padding)
        and isinstance(kernel_size, tuple)
        and all(isinstance(k, int) for k in kernel_size)
        and (2 * padding[0] > kernel_size[0] or 2 * padding[1] > kernel_size[1])
    ):
        raise RuntimeError(
            f"avg_pool2d: padding {padding} should be at most half of kernel_size {kernel_size}"
        )
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("avg_pool2d: divisor must be not zero")
    h, w = x.shape[-2:]
    x, eh, ew = _ceil_pad(x, ceil_mode, kernel_size, stride, padding, (1, 1), 0.0)
    if eh or ew:  # sums over the widened input, divided by torch's clipped window sizes
        sums = AvgPool2d.apply(
            x,
            kernel_size=kernel_size,
            stride=stride,
            padding=padding,
            count_include_pad=True,
            divisor_override=1,
        )
        if divisor_override is not None:
            out = sums / divisor_override
        else:
            rows = _ceil.window_counts(h, kernel_size[0], stride[0], padding[0], count_include_pad)
            cols = _ceil.window_counts(w, kernel_size[1], stride[1], padding[1], count_include_pad)
            counts = np.outer(rows, cols)
            out = sums / sums._make(_devices.of(sums._data).asarray(counts, sums._data.dtype))
        return out.squeeze(0) if unbatched else out
    out = AvgPool2d.apply(
        x,
        kernel_size=kernel_size,
        stride=stride,
        padding=padding,
        count_include_pad=bool(count_include_pad),
        divisor_override=divisor_override,
    )
    return out.squeeze(0) if unbatched else out
