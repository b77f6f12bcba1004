"""Reductions: sum, mean, amax/amin (ties share the gradient), gather along an axis."""

from ...autograd import graph_ops
from ...autograd.function import Function


def _keepdims_shape(shape, axis):
    if axis is None:
        return (1,) * len(shape)
    axes = {a % len(shape) for a in axis}
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class Sum(Function):
    double_backward = True
    plain_op = "sum"

    def forward(self, x, axis=None, keepdims=False):
        self.shape, self.axis, self.keepdims = x.shape, axis, keepdims
        if axis is not None:
            self.torch_name = "SumBackward1"  # torch's overload with dims
        return self.be.sum(x, axis=axis, keepdims=keepdims)

    def backward(self, g):
        if not self.keepdims:
            g = self.be.reshape(g, _keepdims_shape(self.shape, self.axis))
        return self.be.broadcast_to(g, self.shape)


class Mean(Function):
    double_backward = True
    plain_op = "mean"

    def forward(self, x, axis=None, keepdims=False):
        self.shape, self.axis, self.keepdims = x.shape, axis, keepdims
        if axis is not None:
            self.torch_name = "MeanBackward1"  # torch's overload with dims
        out = self.be.mean(x, axis=axis, keepdims=keepdims)
        self.count = (x.size // out.size) if out.size else 0
        return out

    def backward(self, g):
        be = self.be
        if not self.keepdims:
            g = be.reshape(g, _keepdims_shape(self.shape, self.axis))
        return be.broadcast_to(be.div(g, max(self.count, 1)), self.shape)  # empty: no gradient


class Amax(Function):
    """max over ``axis`` (None: all); tied maxima share the gradient equally (torch's amax)."""

    save_inputs = True
    double_backward = True
    _reduce = "amax"

    def graph_saved(self, inputs, out):  # the extremum with the reduced axes kept, recorded
        return {"out": out.reshape(self.out.shape)}

    def forward(self, x, axis=None, keepdim=False):
        self.x, self.axis, self.keepdim = x, axis, keepdim
        self.out = out = getattr(self.be, self._reduce)(x, axis=axis, keepdims=True)
        return (
            out
            if keepdim
            else self.be.reshape(
                out, tuple(n for i, n in enumerate(x.shape) if i not in _axes(axis, x.ndim))
            )
        )

    def backward(self, g):
        be, x = self.be, self.x
        if not self.keepdim:
            g = be.reshape(g, self.out.shape)
        mask = be.astype(be.eq(x, self.out), g.dtype)
        count = be.sum(mask, axis=self.axis, keepdims=True)
        # a NaN maximum matches no element: torch's gradient is NaN there; spelled out, so no
        # 0/0 is computed
        count = be.where(be.eq(count, 0), float("nan"), count)
        return be.mul(mask, be.div(g, count))


class Amin(Amax):
    _reduce = "amin"


class Max(Amax):
    """max() of all elements: like amax, but a NaN result sends the gradient to the NaN
    elements (shared equally), where amax's comparison would match none (torch's max())."""

    def backward(self, g):
        be, x, out = self.be, self.x, self.out
        if not self.keepdim:
            g = be.reshape(g, out.shape)
        hit = be.where(be.isnan(out), be.isnan(x), be.eq(x, out))
        mask = be.astype(hit, g.dtype)
        return be.mul(mask, be.div(g, be.sum(mask, axis=self.axis, keepdims=True)))

    def name(self):  # torch numbers its full reduction 1 (0 is max(dim)'s)
        return f"{type(self).__name__}Backward1"


class Min(Max):
    _reduce = "amin"


def norm2_kept(be, x, axis):
    """The Euclidean norm of ``x`` over ``axis`` (None: all), the reduced axes kept as 1s."""
    return be.norm2(x, axis)


def drop_kept(be, out, x, axis):
    """``out`` (reduced over ``axis`` of ``x`` with the axes kept) without those axes."""
    return be.reshape(out, tuple(n for i, n in enumerate(x.shape) if i not in _axes(axis, x.ndim)))


class Norm2(Function):
    """Euclidean norm over ``axis``; its gradient x / norm is 0 where the norm is 0 (the
    subgradient torch picks) instead of 0 / 0."""

    save_inputs = True
    double_backward = True
    torch_name = "LinalgVectorNorm"

    def graph_saved(self, inputs, out):  # the norm with the reduced axes kept, recorded
        return {"out": out.reshape(self.out.shape)}

    def forward(self, x, axis=None, keepdim=False):
        self.x, self.axis, self.keepdim = x, axis, keepdim
        self.out = out = norm2_kept(self.be, x, axis)
        return out if keepdim else drop_kept(self.be, out, x, axis)

    def backward(self, g):
        be, x, out = self.be, self.x, self.out
        if not self.keepdim:
            g = be.reshape(g, out.shape)
        zero = be.eq(out, 0)
        return be.mul(x, be.div(be.where(zero, 0, g), be.where(zero, 1, out)))


def _axes(axis, ndim):
    return range(ndim) if axis is None else {a % ndim for a in axis}


def var_kept(be, x, axis, keepdim, denom):
    """(variance, deviations): sum((x - mean)^2) over ``axis`` (None: all) / ``denom``, and
    x - mean, the mean with its axes kept."""
    d = be.sub(x, be.mean(x, axis=axis, keepdims=True))
    return be.div(be.sum(be.mul(d, d), axis=axis, keepdims=keepdim), denom), d


class Var(Function):
    """Variance over ``axis`` with ``denom`` = count - correction; its gradient is
    2 (x - mean) / denom (the mean's own term sums to zero). ``fused``: the backend's var_mean
    kernel gives the variance and the mean in one call (CPU float arrays, one axis or all), and
    backward forms the deviations from the saved mean."""

    double_backward = True

    def graph_saved(self, inputs, out):  # the deviations, recorded
        x = inputs[0]
        axes = tuple(i for i, n in enumerate(self.kept) if n == 1)
        return {"d": x - x.mean(axes, keepdim=True) if axes else x - x, "mean": None}

    def forward(self, x, axis=None, keepdim=False, denom=1, correction=1, fused=False):
        self.denom = denom
        self.kept = _keepdims_shape(x.shape, axis)
        if fused:
            one = None if axis is None else axis[0]
            out, self.mean = self.be.var_mean(x, one, correction, keepdim)
            self.x, self.d = x, None
            return out
        out, self.d = var_kept(self.be, x, axis, keepdim, denom)
        return out

    def backward(self, g):
        be = self.be
        g = be.reshape(g, self.kept)
        d = self.d
        if d is None:
            d = be.sub(self.x, be.reshape(self.mean, self.kept))
        return be.div(be.mul(d, be.mul(g, 2.0)), self.denom)


class Select(Function):
    """max/min along ``axis`` given the chosen indices ``idx`` (torch's max(dim)): the values by
    the matching reduction (``reduce``: "amax" or "amin", ``idx`` with kept dims) unless the
    caller found them with the indices (``values`` and ``idx`` both shaped as the result), the
    gradient to the chosen element only."""

    double_backward = True
    graph_constants = ("idx", "values")

    def forward(self, x, idx=None, axis=0, keepdim=False, reduce="amax", values=None):
        self.shape, self.idx, self.axis, self.reduce = x.shape, idx, axis, reduce
        if values is not None:
            return values
        return getattr(self.be, reduce)(x, axis=axis, keepdims=keepdim)

    def name(self):  # torch's names for max(dim) and min(dim)
        return "MaxBackward0" if self.reduce == "amax" else "MinBackward0"

    def backward(self, g):
        be, kept = self.be, list(self.shape)
        kept[self.axis] = 1
        idx = be.reshape(self.idx, kept)
        return be.take_along_axis_backward(be.reshape(g, kept), self.shape, idx, self.axis)


class Gather(Function):
    """take_along_axis(x, idx, axis) (torch.gather); repeated indices accumulate in backward."""

    double_backward = True
    graph_constants = ("idx",)

    def forward(self, x, idx=None, axis=0):
        self.shape, self.idx, self.axis = x.shape, idx, axis
        return self.be.take_along_axis(x, idx, axis)

    def backward(self, g):
        return self.be.take_along_axis_backward(g, self.shape, self.idx, self.axis)


class ScatterAlong(Function):
    """The backward of gather as a recorded op (create_graph=True): g added into zeros of
    ``shape`` at ``idx`` along ``axis``. Linear in g; its own backward is the gather."""

    double_backward = True
    graph_constants = ("idx",)

    def forward(self, g, shape=(), idx=None, axis=0):
        self.idx, self.axis = idx, axis
        return self.be.take_along_axis_backward(g, shape, idx, axis)

    def backward(self, gg):
        return self.be.take_along_axis(gg, self.idx, self.axis)


@graph_ops.recorded("take_along_axis")
def _recorded_gather(a, idx, axis):
    return Gather.apply(graph_ops.const(a), idx=graph_ops.data(idx), axis=axis)


@graph_ops.recorded("take_along_axis_backward")
def _recorded_scatter_along(g, shape, idx, axis):
    return ScatterAlong.apply(
        graph_ops.const(g), shape=tuple(shape), idx=graph_ops.data(idx), axis=axis
    )
