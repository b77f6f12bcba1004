"""Element-wise primitives with broadcasting; backward sums gradients back to each input's shape.

On complex inputs a holomorphic op passes back g * conj(f'(z)) (torch's convention, see
ops/complex.py): ``conj`` is the identity on real arrays, so the real paths are unchanged."""

import numpy as np

from ...autograd.function import Function
from .complex import conj, holomorphic


class Add(Function):
    double_backward = True
    plain_op = "add"

    def forward(self, x, y):
        self.sx, self.sy = x.shape, y.shape
        return self.be.add(x, y)

    def backward(self, g):
        n, be = self.needs_input_grad, self.be
        return (
            be.sum_to_shape(g, self.sx) if n[0] else None,
            be.sum_to_shape(g, self.sy) if n[1] else None,
        )


class Sub(Function):
    double_backward = True
    plain_op = "sub"

    def forward(self, x, y):
        self.sx, self.sy = x.shape, y.shape
        return self.be.sub(x, y)

    def backward(self, g):
        n, be = self.needs_input_grad, self.be
        return (
            be.sum_to_shape(g, self.sx) if n[0] else None,
            be.sum_to_shape(be.neg(g), self.sy) if n[1] else None,
        )


class Mul(Function):
    double_backward = True
    save_inputs = True
    plain_op = "mul"

    @staticmethod
    def needed(n):  # each input only for the other's gradient
        return n[1], n[0]

    def forward(self, x, y):
        self.x, self.y = x, y
        return self.be.mul(x, y)

    def backward(self, g):
        n, be = self.needs_input_grad, self.be
        return (
            be.sum_to_shape(be.mul(g, conj(self.y)), self.x.shape) if n[0] else None,
            be.sum_to_shape(be.mul(g, conj(self.x)), self.y.shape) if n[1] else None,
        )


class Div(Function):
    double_backward = True
    save_inputs = True
    plain_op = "div"

    @staticmethod
    def needed(n):  # x only for y's gradient
        return n[1], True

    def forward(self, x, y):
        self.x, self.y = x, y
        return self.be.div(x, y)

    def backward(self, g):
        n, be, x, y = self.needs_input_grad, self.be, conj(self.x), conj(self.y)
        gy = None
        if n[1]:  # d(x/y)/dy = -x / y^2
            gy = be.sum_to_shape(be.neg(be.div(be.mul(g, x), be.mul(y, y))), y.shape)
        return (be.sum_to_shape(be.div(g, y), x.shape) if n[0] else None), gy


class Pow(Function):
    double_backward = True
    save_inputs = True

    def forward(self, x, y):
        self.x, self.y = x, y
        self.out = out = self.be.pow(x, y)
        return out

    def backward(self, g):
        n, be, x, y = self.needs_input_grad, self.be, self.x, self.y
        gx = gy = None
        if n[0]:  # y * x^(y-1); 0 where y == 0 (x^0 is constant, even at x = 0)
            y0 = be.eq(y, 0)
            d = be.where(y0, 0, be.mul(y, be.pow(x, be.where(y0, 1, be.sub(y, 1)))))
            gx = be.sum_to_shape(be.mul(g, conj(d)), x.shape)
        if n[1]:  # x^y * log(x); 0 where x == 0 (torch's convention)
            logx = be.where(be.eq(x, 0), 0, be.log(be.where(be.eq(x, 0), 1, x)))
            gy = be.sum_to_shape(be.mul(g, conj(be.mul(self.out, logx))), y.shape)
        return gx, gy


class Neg(Function):
    double_backward = True
    plain_op = "neg"

    def forward(self, x):
        return self.be.neg(x)

    def backward(self, g):
        return self.be.neg(g)


class Exp(Function):
    double_backward = True
    save_output = True
    plain_op = "exp"

    def forward(self, x):
        self.out = out = self.be.exp(x)
        return out

    def backward(self, g):
        return self.be.mul(g, conj(self.out))


class Log(Function):
    double_backward = True
    save_inputs = True
    plain_op = "log"

    def forward(self, x):
        self.x = x
        return self.be.log(x)

    def backward(self, g):
        return self.be.div(g, conj(self.x))


class Sqrt(Function):
    double_backward = True
    save_output = True
    plain_op = "sqrt"

    def forward(self, x):
        self.out = out = self.be.sqrt(x)
        return out

    def backward(self, g):
        return self.be.div(g, self.be.mul(conj(self.out), 2))


@holomorphic
class Rsqrt(Function):
    double_backward = True
    save_output = True
    plain_op = "rsqrt"

    def forward(self, x):
        self.out = out = self.be.rsqrt(x)
        return out

    def backward(self, g):
        return self.be.rsqrt_backward(g, self.out)  # -g y^3 / 2 in one pass


class Sin(Function):
    double_backward = True
    save_inputs = True
    plain_op = "sin"

    def forward(self, x):
        self.x = x
        return self.be.sin(x)

    def backward(self, g):
        if self.x.dtype.kind == "c":
            return self.be.mul(g, conj(self.be.cos(self.x)))
        return self.be.sin_backward(g, self.x)  # g cos(x) in one pass


class Cos(Function):
    double_backward = True
    save_inputs = True
    plain_op = "cos"

    def forward(self, x):
        self.x = x
        return self.be.cos(x)

    def backward(self, g):
        if self.x.dtype.kind == "c":
            return self.be.mul(g, conj(self.be.neg(self.be.sin(self.x))))
        return self.be.cos_backward(g, self.x)


class Abs(Function):
    double_backward = True
    save_inputs = True
    plain_op = "abs"

    def forward(self, x):
        self.x = x
        return self.be.abs(x)

    def backward(self, g):
        x = self.x
        if x.dtype.kind == "c" and not isinstance(x, np.ndarray):
            # recorded: sgn(z) = z / |z| is no step function for a complex z, so it is built
            # from differentiable ops (0 where z = 0, through a constant mask)
            r = x.abs()
            zero = (r.detach() == 0).to(r.dtype)
            return g * x / (r + zero) * (1 - zero)
        return self.be.mul(g, self.be.sign(x))  # numpy's sign of a complex z is z / |z|


class Clamp(Function):
    """clamp(x, min, max); the gradient passes where min <= x <= max (torch's convention)."""

    double_backward = True
    torch_name = "ClampBackward1"  # the overload with number bounds
    save_inputs = True

    def forward(self, x, lo=None, hi=None):
        self.x, self.lo, self.hi = x, lo, hi
        return self.be.clip(x, lo, hi)

    def backward(self, g):
        be, x = self.be, self.x
        keep = None
        if self.lo is not None:
            keep = be.ge(x, self.lo)
        if self.hi is not None:
            up = be.le(x, self.hi)
            keep = up if keep is None else be.mul(keep, up)
        return g if keep is None else be.mul(g, keep)


class Maximum(Function):
    """Element-wise max; where x == y each input gets half the gradient, and where either is NaN
    both get all of it (torch's definition)."""

    double_backward = True
    save_inputs = True
    plain_op = "maximum"

    def forward(self, x, y):
        self.x, self.y = x, y
        return self.be.maximum(x, y)

    def backward(self, g):
        return _minmax_backward(self, g, True)


class Minimum(Function):
    double_backward = True
    save_inputs = True
    plain_op = "minimum"

    def forward(self, x, y):
        self.x, self.y = x, y
        return self.be.minimum(x, y)

    def backward(self, g):
        return _minmax_backward(self, g, False)


def _minmax_backward(ctx, g, is_max):
    be, x, y, n = ctx.be, ctx.x, ctx.y, ctx.needs_input_grad
    fused = be.minmax_grads(g, x, y, is_max, n[0], n[1])
    if fused is not None:
        return fused
    # an operand loses where it is strictly the smaller (the larger, for minimum) and gets 0
    # there; half of g at ties; the whole of g elsewhere, NaN included
    half = be.where(be.eq(x, y), be.mul(g, 0.5), g)
    loses = be.lt if is_max else be.gt
    gx = be.sum_to_shape(be.where(loses(x, y), 0, half), x.shape) if n[0] else None
    gy = be.sum_to_shape(be.where(loses(y, x), 0, half), y.shape) if n[1] else None
    return gx, gy


class Where(Function):
    """where(cond, x, y); ``cond`` (a bool array) is not differentiated."""

    double_backward = True
    graph_constants = ("cond",)

    def forward(self, x, y, cond=None):
        self.cond, self.sx, self.sy = cond, x.shape, y.shape
        return self.be.where(cond, x, y)

    def backward(self, g):
        be, n, c = self.be, self.needs_input_grad, self.cond
        return (
            be.sum_to_shape(be.where(c, g, 0), self.sx) if n[0] else None,
            be.sum_to_shape(be.where(c, 0, g), self.sy) if n[1] else None,
        )
