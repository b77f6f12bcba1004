"""3-D convolution and its transpose over (N, C, D, H, W), composed from the 2-D ops.

conv3d folds depth into the batch. For output depth t the window reads input depths
t * sd + i * dd, i < kd; the kd strided depth slices of the (depth-padded) input are stacked
beside the channels, so each (image, t) is one 2-D image with kd * C channels, and the weight
(O, C / g, kd, kh, kw) becomes the 2-D weight (O, kd * C / g, kh, kw) with the same order (within
each group: tap, then channel). One conv2d call then does all of it, stride, padding, dilation
and groups in (h, w) included, on one GEMM with kd times the depth; the input is copied kd times
(the depth part of an im2col). Every step is a recorded Tensor op, so autograd (and the double
backward of conv2d) comes with it.

conv_transpose3d runs conv_transpose2d once with the taps stacked into the output channels:
(N * D, C_in, H, W) -> (N * D, kd * C_out, H', W'); tap i of input depth s lands on output depth
s * sd + i * dd, so each tap's slab is spread along depth with stride sd, shifted by i * dd, and
the kd slabs summed; padding crops depth, output_padding extends it. groups > 1 is one call per
group (conv_transpose2d has no groups).
"""

import numpy as np

from ..._core import autocast as _autocast
from ..._core import dtype as _dtype
from ..._tensor.functions import cat, stack
from .conv import _batched, conv2d
from .conv_transpose import conv_transpose2d
from .padding import pad


def _triple(v, what, fn, minimum):
    t = tuple(v) if isinstance(v, (tuple, list)) else (v, v, v)
    if len(t) == 1:
        t = t * 3
    if len(t) != 3 or any(isinstance(a, bool) or not isinstance(a, (int, np.integer)) for a in t):
        raise RuntimeError(
            f"{fn}: expected {what} to be a single integer value or a list of 3 values to match "
            f"the convolution dimensions, but got {what}={list(t) if len(t) != 3 else v!r}"
        )
    if any(a < minimum for a in t):
        word = "non-positive" if minimum == 1 else "negative"
        raise RuntimeError(f"{fn}: {word} {what} is not supported, got {what}={v!r}")
    return tuple(int(a) for a in t)


def _check(fn, input, weight, bias):
    if _autocast.flag.on:
        input, weight, bias = _autocast.lower(input, weight, bias)
    for t in (input, weight, bias):
        if t is not None and not _dtype.is_floating(t.dtype):
            raise RuntimeError(
                f"{fn}: expected a floating-point tensor, got dtype {_dtype.name(t.dtype)}"
            )
    if weight.ndim != 5:
        raise RuntimeError(f"{fn}: weight must be 5-D, got weight of size {list(weight.shape)}")
    if input.dtype != weight.dtype or (bias is not None and bias.dtype != weight.dtype):
        raise RuntimeError(
            f"{fn}: input, weight and bias must have the same dtype, got "
            f"{_dtype.name(input.dtype)}, {_dtype.name(weight.dtype)}"
            + ("" if bias is None else f" and {_dtype.name(bias.dtype)}")
        )
    x, unbatched = _batched(input, fn, 3)
    return x, weight, bias, unbatched


def _groups(groups):
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise RuntimeError(f"non-positive groups is not supported, got {groups!r}")
    return int(groups)


def _check_bias(bias, out_channels, weight):
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise RuntimeError(
            f"Given weight of size {list(weight.shape)}, expected bias to be 1-dimensional with "
            f"{out_channels} elements, but got bias of size {list(bias.shape)} instead"
        )


def _padding(padding, kernel, stride, dilation):
    """((before, after) per dim of d, h, w) for an int, a triple, 'valid' or 'same'."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * 3
        if padding != "same":
            raise ValueError(
                f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}"
            )
        if stride != (1, 1, 1):
            raise ValueError("padding='same' is not supported for strided convolutions")
        total = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in total)  # an odd zero goes after, as torch's
    return tuple((p, p) for p in _triple(padding, "padding", "conv3d", 0))


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """torch.nn.functional.conv3d: input (N, C_in, D, H, W) or (C_in, D, H, W), weight
    (C_out, C_in / groups, kd, kh, kw), bias (C_out,); padding an int, a triple, 'valid' or
    'same' (stride 1)."""
    fn = "conv3d"
    groups = _groups(groups)
    x, weight, bias, unbatched = _check(fn, input, weight, bias)
    stride = _triple(stride, "stride", fn, 1)
    dilation = _triple(dilation, "dilation", fn, 1)
    out_c, cg, kd, kh, kw = weight.shape
    if x.shape[1] != cg * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight.shape)}, expected "
            f"input{list(x.shape)} to have {cg * groups} channels, but got {x.shape[1]} "
            "channels instead"
        )
    if out_c % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
            f"but got weight of size {list(weight.shape)} instead"
        )
    _check_bias(bias, out_c, weight)
    kernel = (kd, kh, kw)
    pads = _padding(padding, kernel, stride, dilation)
    padded = [n + a + b for n, (a, b) in zip(x.shape[2:], pads)]
    reach = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    if any(r > n for r, n in zip(reach, padded)):
        raise RuntimeError(
            "Calculated padded input size per channel: ({}). Kernel size: ({}). Kernel size "
            "can't be greater than actual input size".format(
                " x ".join(map(str, padded)), " x ".join(map(str, reach))
            )
        )
    # depth padding, and any (h, w) padding conv2d cannot do (the odd zero of 'same') explicitly
    hw_even = all(a == b for a, b in pads[1:])
    hw_pad = [p for a, b in reversed(pads[1:]) for p in (a, b)]
    explicit = (0, 0, 0, 0) if hw_even else tuple(hw_pad)
    if any(explicit) or any(pads[0]):
        x = pad(x, (*explicit, *pads[0]))
    hw_padding = (pads[1][0], pads[2][0]) if hw_even else (0, 0)
    n, depth = x.shape[0], x.shape[2]
    sd, dd = stride[0], dilation[0]
    d_out = (depth - reach[0]) // sd + 1
    taps = [x[:, :, i * dd : i * dd + sd * (d_out - 1) + 1 : sd] for i in range(kd)]
    cols = stack(taps, 2)  # (N, C, kd, D_out, H, W)
    h, w = x.shape[3], x.shape[4]
    cols = cols.reshape(n, groups, cg, kd, d_out, h, w).permute(0, 4, 1, 3, 2, 5, 6)
    cols = cols.reshape(n * d_out, groups * kd * cg, h, w)
    w2 = weight.permute(0, 2, 1, 3, 4).reshape(out_c, kd * cg, kh, kw)
    out = conv2d(cols, w2, bias, stride[1:], hw_padding, dilation[1:], groups)
    out = out.reshape(n, d_out, out_c, out.shape[2], out.shape[3]).permute(0, 2, 1, 3, 4)
    out = out.contiguous()
    return out.squeeze(0) if unbatched else out


def _out_size(n, k, s, p, d, op):
    return (n - 1) * s - 2 * p + d * (k - 1) + op + 1


def conv_transpose3d(
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
    """torch.nn.functional.conv_transpose3d: input (N, C_in, D, H, W) or (C_in, D, H, W),
    weight (C_in, C_out / groups, kd, kh, kw), bias (C_out,); each output size is
    (n - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1."""
    fn = "conv_transpose3d"
    groups = _groups(groups)
    x, weight, bias, unbatched = _check(fn, input, weight, bias)
    stride = _triple(stride, "stride", fn, 1)
    dilation = _triple(dilation, "dilation", fn, 1)
    padding = _triple(padding, "padding", fn, 0)
    c_in, cg_out, kd, kh, kw = weight.shape
    if x.shape[1] != c_in or c_in % groups:
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(weight.shape)}, expected input"
            f"{list(x.shape)} to have {c_in} channels, but got {x.shape[1]} channels instead"
        )
    _check_bias(bias, cg_out * groups, weight)
    kernel, in_size = (kd, kh, kw), tuple(x.shape[2:])
    op = _output_padding3(output_padding, output_size, in_size, kernel, stride, padding, dilation)
    n, depth = x.shape[0], x.shape[2]
    # (h, w) by conv_transpose2d on (N * D, C_in, H, W), the taps stacked into its channels
    flat = x.permute(0, 2, 1, 3, 4).reshape(n * depth, c_in, x.shape[3], x.shape[4])
    ci = c_in // groups
    parts = []
    for g in range(groups):
        wg = weight[g * ci : (g + 1) * ci].permute(0, 2, 1, 3, 4)  # (C_in/g, kd, C_out/g, ..)
        parts.append(
            conv_transpose2d(
                flat[:, g * ci : (g + 1) * ci] if groups > 1 else flat,
                wg.reshape(ci, kd * cg_out, kh, kw),
                None, stride[1:], padding[1:], op[1:], 1, dilation[1:],
            ).reshape(n, depth, kd, cg_out, -1)
        )  # fmt: skip
    ho = _out_size(x.shape[3], kh, stride[1], padding[1], dilation[1], op[1])
    wo = _out_size(x.shape[4], kw, stride[2], padding[2], dilation[2], op[2])
    slabs = cat(parts, 3) if groups > 1 else parts[0]  # (N, D, kd, C_out, Ho * Wo)
    c_out = cg_out * groups
    out = _spread_depth(slabs, depth, kd, stride[0], padding[0], dilation[0], op[0])
    out = out.reshape(n, -1, c_out, ho, wo).permute(0, 2, 1, 3, 4).contiguous()
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1, 1)
    return out.squeeze(0) if unbatched else out


def _spread_depth(slabs, depth, kd, sd, pd, dd, opd):
    """Sum over taps i of slab i placed at depths s * sd + i * dd, then depth cropped by pd
    before and sized (depth - 1) * sd - 2 * pd + dd * (kd - 1) + opd + 1."""
    n, rest = slabs.shape[0], slabs.shape[3:]
    final = _out_size(depth, kd, sd, pd, dd, opd)
    full = max((depth - 1) * sd + dd * (kd - 1) + 1, pd + final)
    total = None
    for i in range(kd):
        s = slabs[:, :, i]  # (N, D, C_out, Ho * Wo)
        if sd > 1:  # stride: sd - 1 zero slabs after each, the last ones dropped
            zeros = s.new_zeros((n, depth, sd - 1, *rest))
            s = cat([s.unsqueeze(2), zeros], 2).reshape(n, depth * sd, *rest)
            s = s[:, : (depth - 1) * sd + 1]
        before = i * dd
        s = pad(s, (0, 0, 0, 0, before, full - before - s.shape[1]))
        total = s if total is None else total + s
    return total[:, pd : pd + final]


def _output_padding3(output_padding, output_size, in_size, kernel, stride, padding, dilation):
    fn = "conv_transpose3d"
    op = _triple(output_padding, "output_padding", fn, 0)
    if output_size is not None:
        size = tuple(int(s) for s in output_size)[-3:]
        smallest = [_out_size(n, k, s, p, d, 0) for n, k, s, p, d in zip(in_size, kernel, stride, padding, dilation)]  # fmt: skip
        for want, lo, s in zip(size, smallest, stride):
            if not lo <= want < lo + s:
                raise ValueError(
                    f"requested an output size of {list(size)}, but valid sizes range from "
                    f"{smallest} to {[m + s_ - 1 for m, s_ in zip(smallest, stride)]} (for an "
                    f"input of {list(in_size)})"
                )
        op = tuple(w - lo for w, lo in zip(size, smallest))
    if any(o >= s and o >= d for o, s, d in zip(op, stride, dilation)):
        raise RuntimeError(
            "output padding must be smaller than either stride or dilation, but got "
            f"output_padding={list(op)}, stride={list(stride)}, dilation={list(dilation)}"
        )
    final = [_out_size(n, k, s, p, d, o) for n, k, s, p, d, o in zip(in_size, kernel, stride, padding, dilation, op)]  # fmt: skip
    if min(final) <= 0:
        raise RuntimeError(
            f"{fn}: the output size {final} is too small for an input of {list(in_size)} "
            f"(padding {list(padding)})"
        )
    return op


__all__ = ["conv3d", "conv_transpose3d"]
