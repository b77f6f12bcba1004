"""F.unfold / F.fold: sliding-window patches of an NCHW image as columns, and back (summed where
windows overlap): the im2col and col2im kernels of the convolution, each the other's gradient."""

from ...autograd import graph_ops
from ...autograd.function import Function
from .conv import _check_float, _pair


class Unfold(Function):
    double_backward = True  # linear: its gradient is Fold, recorded

    def forward(self, x, *, geom):
        self.shape, self.geom = x.shape, geom
        return self.be.im2col(x, *geom)

    def backward(self, g):
        return self.be.col2im(g, self.shape, *self.geom)


class Fold(Function):
    double_backward = True  # linear: its gradient is Unfold, recorded

    def forward(self, cols, *, out_shape, geom):
        self.geom = geom
        return self.be.col2im(cols, out_shape, *geom)

    def backward(self, g):
        return self.be.im2col(g, *self.geom)


@graph_ops.recorded("im2col")
def _recorded_im2col(x, kernel_size, stride, padding, dilation, ones_row=False):
    if ones_row:  # the convolution's bias row: not a call a backward makes
        raise NotImplementedError("im2col with ones_row has no recorded form")
    return Unfold.apply(graph_ops.const(x), geom=(kernel_size, stride, padding, dilation))


@graph_ops.recorded("col2im")
def _recorded_col2im(cols, input_shape, kernel_size, stride, padding, dilation):
    geom = (kernel_size, stride, padding, dilation)
    return Fold.apply(graph_ops.const(cols), out_shape=tuple(input_shape), geom=geom)


def _blocks(size, kernel, stride, padding, dilation):
    return [
        (n + 2 * p - d * (k - 1) - 1) // s + 1
        for n, k, s, p, d in zip(size, kernel, stride, padding, dilation)
    ]


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """(N, C, H, W) or (C, H, W) -> (N, C * kh * kw, L): each column one window's values."""
    _check_float("unfold", input)
    if input.ndim not in (3, 4):
        raise RuntimeError(
            f"Input Error: Only 3D or 4D input Tensors are supported (got {input.ndim}D)"
        )
    x = input.unsqueeze(0) if input.ndim == 3 else input
    geom = (_pair(kernel_size), _pair(stride), _pair(padding), _pair(dilation))
    if min(_blocks(tuple(x.shape[2:]), geom[0], *geom[1:])) < 1:
        raise RuntimeError(
            f"unfold: the {tuple(x.shape[2:])} input (padding {geom[2]}) is smaller than the "
            f"kernel {geom[0]} (dilation {geom[3]})"
        )
    out = Unfold.apply(x, geom=geom)
    return out.squeeze(0) if input.ndim == 3 else out


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """(N, C * kh * kw, L) or (C * kh * kw, L) -> (N, C, *output_size), overlapping windows
    summed; L must be the number of windows that fit output_size."""
    _check_float("fold", input)
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported "
            f"(got {input.ndim}D)"
        )
    cols = input.unsqueeze(0) if input.ndim == 2 else input
    size = _pair(output_size)
    geom = (_pair(kernel_size), _pair(stride), _pair(padding), _pair(dilation))
    kk = geom[0][0] * geom[0][1]
    if cols.shape[1] % kk:
        raise RuntimeError(
            "Expected size of input's dimension 1 to be divisible by the product of "
            f"kernel_size, but got input.size(1)={cols.shape[1]} and kernel_size={geom[0]}"
        )
    blocks = _blocks(size, geom[0], *geom[1:])
    if cols.shape[2] != blocks[0] * blocks[1]:
        raise RuntimeError(
            f"Given output_size={size}, kernel_size={geom[0]}, dilation={geom[3]}, "
            f"padding={geom[2]}, stride={geom[1]}, expected size of input's dimension 2 to match "
            f"the calculated number of sliding blocks {blocks[0]} * {blocks[1]} = "
            f"{blocks[0] * blocks[1]}, but got input.size(2)={cols.shape[2]}."
        )
    out_shape = (cols.shape[0], cols.shape[1] // kk, *size)
    out = Fold.apply(cols, out_shape=out_shape, geom=geom)
    return out.squeeze(0) if input.ndim == 2 else out


__all__ = ["fold", "unfold"]
