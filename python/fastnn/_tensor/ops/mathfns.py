"""Primitives of the tutorials' math surface: more element-wise math (trigonometric, hyperbolic,
exp2/log2/log10, erf, rounding, atan2, hypot, logaddexp, clamp with tensor bounds, small integer
powers), scans (cumsum, cumprod), prod, flip/roll, tril/triu, scatter and einsum.

Rounding functions are piecewise constant: their gradient is zero (torch's convention).
"""

import math

import numpy as np

from ... import _devices
from ...autograd import function, graph_ops
from ...autograd.function import Function
from .complex import holomorphic

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


@holomorphic
class _Unary(Function):
    """op(x) through ``self.be.<op>``; subclasses give ``grad(be, x, g)``."""

    double_backward = True
    save_inputs = True
    op = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.plain_op = cls.op  # the forward is this one op

    def forward(self, x):
        self.x = x
        return getattr(self.be, self.op)(x)

    def backward(self, g):
        return self.grad(self.be, self.x, g)


def _one_minus_sq(be, x):
    return be.sub(1, be.mul(x, x))


class Tan(_Unary):
    op = "tan"

    def grad(self, be, x, g):
        c = be.cos(x)
        return be.div(g, be.mul(c, c))


class Sinh(_Unary):
    op = "sinh"

    def grad(self, be, x, g):
        return be.mul(g, be.cosh(x))


class Cosh(_Unary):
    op = "cosh"

    def grad(self, be, x, g):
        return be.mul(g, be.sinh(x))


class Asin(_Unary):
    op = "arcsin"

    def grad(self, be, x, g):
        return be.div(g, be.sqrt(_one_minus_sq(be, x)))


class Acos(_Unary):
    op = "arccos"

    def grad(self, be, x, g):
        return be.neg(be.div(g, be.sqrt(_one_minus_sq(be, x))))


class Atan(_Unary):
    op = "arctan"

    def grad(self, be, x, g):
        return be.arctan_backward(g, x)  # g / (x^2 + 1) in one pass


class Asinh(_Unary):
    op = "arcsinh"

    def grad(self, be, x, g):
        return be.div(g, be.sqrt(be.add(be.mul(x, x), 1)))


class Acosh(_Unary):
    op = "arccosh"

    def grad(self, be, x, g):
        if x.dtype.kind == "c":  # sqrt(x - 1) sqrt(x + 1): the branch of acosh's derivative
            return be.div(g, be.mul(be.sqrt(be.sub(x, 1)), be.sqrt(be.add(x, 1))))
        return be.div(g, be.sqrt(be.sub(be.mul(x, x), 1)))


class Atanh(_Unary):
    op = "arctanh"

    def grad(self, be, x, g):
        return be.div(g, _one_minus_sq(be, x))


class Exp2(_Unary):
    op = "exp2"

    def grad(self, be, x, g):
        return be.mul(g, be.mul(be.exp2(x), _LN2))


class Log2(_Unary):
    op = "log2"

    def grad(self, be, x, g):
        return be.div(g, be.mul(x, _LN2))


class Log10(_Unary):
    op = "log10"

    def grad(self, be, x, g):
        return be.div(g, be.mul(x, _LN10))


class Log1p(_Unary):
    op = "log1p"

    def grad(self, be, x, g):
        return be.log1p_backward(g, x)  # g / (x + 1) in one pass


class Expm1(_Unary):
    op = "expm1"

    def grad(self, be, x, g):
        return be.expm1_backward(g, x)  # g exp(x) in one pass


class Erf(_Unary):
    op = "erf"

    def grad(self, be, x, g):
        return be.erf_backward(g, x)  # g 2/sqrt(pi) exp(-x^2) in one pass


class ExpIn(_Unary):
    """exp keeping its input, not its output: the recorded form of ``exp_``, whose output
    becomes the tensor changed in place (a saved output would look modified)."""

    op = "exp"

    def grad(self, be, x, g):
        return be.mul(g, be.exp(x))


class SqrtIn(_Unary):
    """sqrt keeping its input (the recorded form of ``sqrt_``, see ExpIn)."""

    op = "sqrt"

    def grad(self, be, x, g):
        return be.div(g, be.mul(be.sqrt(x), 2))


class _Step(Function):
    """A rounding function: zero gradient."""

    double_backward = True
    op = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.plain_op = cls.op or None  # the forward is this one op (Round, with decimals, is not)

    def forward(self, x):
        return getattr(self.be, self.op)(x)

    def backward(self, g):
        return self.be.zeros(g.shape, g.dtype)


class Floor(_Step):
    op = "floor"


class Ceil(_Step):
    op = "ceil"


class Trunc(_Step):
    op = "trunc"


class Round(_Step):
    def forward(self, x, decimals=0):
        return self.be.round(x, decimals)


class Atan2(Function):
    """atan2(y, x): d/dy = x / (x^2 + y^2), d/dx = -y / (x^2 + y^2)."""

    save_inputs = True
    double_backward = True

    def forward(self, y, x):
        self.y, self.x = y, x
        return self.be.arctan2(y, x)

    def backward(self, g):
        be, y, x, n = self.be, self.y, self.x, self.needs_input_grad
        gr = be.div(g, be.add(be.mul(x, x), be.mul(y, y)))
        return (
            be.sum_to_shape(be.mul(gr, x), y.shape) if n[0] else None,
            be.sum_to_shape(be.neg(be.mul(gr, y)), x.shape) if n[1] else None,
        )


class Hypot(Function):
    save_inputs = True
    double_backward = True

    def forward(self, x, y):
        self.x, self.y = x, y
        return self.be.hypot(x, y)

    def backward(self, g):
        be, x, y, n = self.be, self.x, self.y, self.needs_input_grad
        gr = be.div(g, be.hypot(x, y))
        return (
            be.sum_to_shape(be.mul(gr, x), x.shape) if n[0] else None,
            be.sum_to_shape(be.mul(gr, y), y.shape) if n[1] else None,
        )


class LogAddExp(Function):
    """log(exp(x) + exp(y)); each input's gradient is its softmax weight exp(input - out)."""

    save_inputs = True
    double_backward = True

    def forward(self, x, y):
        self.x, self.y = x, y
        return self.be.logaddexp(x, y)

    def backward(self, g):
        be, x, y, n = self.be, self.x, self.y, self.needs_input_grad
        out = be.logaddexp(x, y)
        return (
            be.sum_to_shape(be.mul(g, be.exp(be.sub(x, out))), x.shape) if n[0] else None,
            be.sum_to_shape(be.mul(g, be.exp(be.sub(y, out))), y.shape) if n[1] else None,
        )


class ClampTensor(Function):
    """min(max(x, lo), hi) with tensor bounds (either may be absent: ``has`` says which are
    given). The gradient goes to the element selected: hi where max(x, lo) > hi, else lo where
    x < lo, else x (so x wins ties, and hi wins when lo > hi, like torch)."""

    save_inputs = True
    double_backward = True

    def forward(self, x, *bounds, has=(True, True)):
        be = self.be
        it = iter(bounds)
        self.lo = lo = next(it) if has[0] else None
        self.hi = hi = next(it) if has[1] else None
        self.x, self.has = x, has
        t = x if lo is None else be.maximum(x, lo)
        return t if hi is None else be.minimum(t, hi)

    def backward(self, g):
        be, x, lo, hi = self.be, self.x, self.lo, self.hi
        n = iter(self.needs_input_grad)
        gx_need = next(n)
        zero = be.zeros((), g.dtype)
        rest = g
        out = []
        t = x if lo is None else be.maximum(x, lo)
        ghi = None
        if hi is not None:
            above = be.gt(t, hi)
            ghi = be.where(above, g, zero)
            rest = be.where(above, zero, g)
        glo = None
        if lo is not None:
            below = be.lt(x, lo)
            glo = be.where(below, rest, zero)
            rest = be.where(below, zero, rest)
        out.append(be.sum_to_shape(rest, x.shape) if gx_need else None)
        if lo is not None:
            out.append(be.sum_to_shape(glo, lo.shape) if next(n) else None)
        if hi is not None:
            out.append(be.sum_to_shape(ghi, hi.shape) if next(n) else None)
        return tuple(out)


@holomorphic
class PowInt(Function):
    """x ** n for a small integer n >= 1 as a multiply chain (no pow call); the gradient is
    n * x^(n-1) * g, also a chain."""

    torch_name = "Pow"

    double_backward = True
    save_inputs = True

    def forward(self, x, n=2):
        if self.requires_grad:  # the input is kept only when the op records
            self.x, self.n = x, n
        return power_chain(self.be, x, n)

    def backward(self, g):
        be, n = self.be, self.n
        d = be.mul(g, n) if n > 1 else g
        return d if n == 1 else be.mul(d, power_chain(be, self.x, n - 1))


def power_chain(be, x, n):
    """x ** n by repeated squaring (n >= 1); the squares and cubes of the tutorials' models
    directly (the loop costs as much as a multiply on tiny tensors): the cube is the backend's
    one pass, the fourth power reuses its first product."""
    mul = be.mul
    if n == 2:
        return mul(x, x)
    if n == 3:
        return be.cube(x)
    if n == 4:
        x2 = mul(x, x)
        # (a 0-d product is a numpy scalar, which cannot be an out)
        return mul(x2, x2, out=x2) if x2.ndim else mul(x2, x2)
    result = None
    base = x
    while n:
        if n & 1:
            result = base if result is None else mul(result, base)
        n >>= 1
        if n:
            base = mul(base, base)
    return be.copy(result) if result is x else result


# ---- scans and products --------------------------------------------------------------------


class Cumsum(Function):
    double_backward = True

    def forward(self, x, axis=0):
        self.axis = axis
        return self.be.cumsum(x, axis)

    def backward(self, g):
        return self.be.cumsum(g, self.axis, reverse=True)


@holomorphic
class Cumprod(Function):
    save_inputs = True
    double_backward = True  # see _recorded_cumprod_backward

    def forward(self, x, axis=0):
        self.x, self.axis = x, axis
        return self.be.cumprod(x, axis)

    def backward(self, g):
        return self.be.cumprod_backward(g, self.x, self.axis)


@holomorphic
class Prod(Function):
    """Product over one axis (or all elements: axis None); the gradient is exact with zeros."""

    save_inputs = True
    double_backward = True  # see _recorded_prod_backward
    plain_op = "prod"  # outside autograd, the backend's prod itself: the same keywords

    def forward(self, x, axis=None, keepdims=False):
        self.x, self.axis, self.keepdim = x, axis, keepdims
        return self.be.prod(x, axis=axis, keepdims=keepdims)

    def backward(self, g):
        return self.be.prod_backward(g, self.x, self.axis, self.keepdim)


# ---- shape and indexing --------------------------------------------------------------------


class Flip(Function):
    double_backward = True

    def forward(self, x, axes=()):
        self.axes = axes
        return self.be.flip(x, axes)

    def backward(self, g):
        return self.be.flip(g, self.axes)


class Roll(Function):
    double_backward = True

    def forward(self, x, shifts=(), axes=None):
        self.shifts, self.axes = shifts, axes
        return self.be.roll(x, shifts, axes)

    def backward(self, g):
        return self.be.roll(g, tuple(-s for s in self.shifts), self.axes)


class Tril(Function):
    double_backward = True
    op = "tril"

    def forward(self, x, k=0):
        self.k = k
        return getattr(self.be, self.op)(x, k)

    def backward(self, g):
        return getattr(self.be, self.op)(g, self.k)


class Triu(Tril):
    op = "triu"


class Scatter(Function):
    """scatter / scatter_add of ``src`` into a copy of ``x`` at ``idx`` along ``axis``; with
    ``value`` (a scalar) instead of a src tensor, only x is an input."""

    double_backward = True  # for plain and added scatters (graph_saved)
    graph_constants = ("idx",)

    def graph_saved(self, inputs, out):
        return {} if self.reduce in (None, "add") else None

    def forward(self, x, *src, idx=None, axis=0, reduce=None, value=None):
        self.idx, self.axis, self.reduce = idx, axis, reduce
        self.src_shape = src[0].shape if src else None
        return self.be.scatter(x, idx, src[0] if src else value, axis, reduce)

    def backward(self, g):
        be, n = self.be, self.needs_input_grad
        gx = None
        if n[0]:  # overwritten positions take no gradient; accumulated ones pass it on
            gx = g if self.reduce == "add" else be.scatter(g, self.idx, 0, self.axis, None)
        if self.src_shape is None:
            return gx
        gs = None
        if n[1]:  # read g only where idx reaches (idx may be smaller than x off the axis)
            cut = tuple(
                slice(None) if i == self.axis else slice(0, k) for i, k in enumerate(self.idx.shape)
            )
            gs = be.take_along_axis(be.getitem(g, cut), self.idx, self.axis)
            if tuple(gs.shape) != tuple(self.src_shape):  # src larger than idx: zeros beyond
                full = be.zeros(self.src_shape, g.dtype)
                be.setitem(full, tuple(slice(0, k) for k in gs.shape), gs)
                gs = full
        return gx, gs


@holomorphic
class Einsum(Function):
    """einsum with an explicit output ('ij,jk->ik', letters only; the caller expands '...')."""

    save_inputs = True
    double_backward = True  # see _recorded_einsum_backward

    def graph_saved(self, inputs, out):  # the operands are a tuple: swapped here
        return {"xs": tuple(inputs)}

    def forward(self, *xs, subscripts=""):
        self.subscripts, self.xs = subscripts, xs
        return self.be.einsum(subscripts, *xs)

    def backward(self, g):
        be, xs = self.be, self.xs
        return tuple(
            be.einsum_backward(g, self.subscripts, list(xs), i) if need else None
            for i, need in enumerate(self.needs_input_grad)
        )


# ---- recorded forms of the linear ops' backend calls (backward under create_graph=True) ----


@graph_ops.recorded("flip")
def _recorded_flip(a, axes):
    return Flip.apply(graph_ops.const(a), axes=axes)


@graph_ops.recorded("roll")
def _recorded_roll(a, shifts, axes):
    return Roll.apply(graph_ops.const(a), shifts=shifts, axes=axes)


@graph_ops.recorded("tril")
def _recorded_tril(a, k):
    return Tril.apply(graph_ops.const(a), k=k)


@graph_ops.recorded("triu")
def _recorded_triu(a, k):
    return Triu.apply(graph_ops.const(a), k=k)


@graph_ops.recorded("cumsum")
def _recorded_cumsum(a, axis, reverse=False):
    if reverse:  # the sum from the end: flip, sum, flip back
        flipped = Flip.apply(graph_ops.const(a), axes=(axis,))
        return Flip.apply(Cumsum.apply(flipped, axis=axis), axes=(axis,))
    return Cumsum.apply(graph_ops.const(a), axis=axis)


# ---- recorded forms of the other backend calls the backward methods above make ----


@graph_ops.recorded("exp2")
def _recorded_exp2(a):
    return Exp2.apply(graph_ops.const(a))


@graph_ops.recorded("arctan_backward")
def _recorded_arctan_backward(g, x):
    return graph_ops.const(g) / (x * x + 1)


@graph_ops.recorded("hypot")
def _recorded_hypot(a, b):
    return Hypot.apply(graph_ops.const(a), graph_ops.const(b))


@graph_ops.recorded("logaddexp")
def _recorded_logaddexp(a, b):
    a, b = graph_ops.const(a), graph_ops.const(b)
    like = a if isinstance(a, function.Tensor) else b
    a, b = (
        v if isinstance(v, function.Tensor) else graph_ops.const(np.asarray(v, like.dtype))
        for v in (a, b)
    )
    return LogAddExp.apply(a, b)


@graph_ops.recorded("einsum")
def _recorded_einsum(subscripts, *xs):
    return Einsum.apply(*(graph_ops.const(x) for x in xs), subscripts=subscripts)


@graph_ops.recorded("einsum_backward")
def _recorded_einsum_backward(g, subscripts, xs, i):
    """The backend's einsum_backward as recorded ops: the einsum of g and the other operands
    onto operand i's distinct letters is an Einsum (multilinear, so recorded to any order); the
    broadcast, sum and transpose after it are Tensor ops; a repeated letter's diagonal is one
    more Einsum, with identity matrices tying each repeat to a fresh letter."""
    const = graph_ops.const
    ins, out = subscripts.split("->")
    subs = ins.split(",")
    s, x_shape = subs[i], tuple(graph_ops.data(xs[i]).shape)
    distinct = "".join(dict.fromkeys(s))
    others = [(sub, const(a)) for j, (sub, a) in enumerate(zip(subs, xs)) if j != i]
    have = set(out).union(*(set(sub) for sub, _ in others))
    kept = "".join(c for c in distinct if c in have)
    spec = ",".join([out, *(sub for sub, _ in others)]) + "->" + kept
    r = Einsum.apply(const(g), *(a for _, a in others), subscripts=spec)
    size = {c: x_shape[s.index(c)] for c in distinct}
    # letters only this operand has were summed away: the gradient is constant along them
    r = r.reshape(tuple(r.shape[kept.index(c)] if c in kept else 1 for c in distinct))
    r = graph_ops.OPS.sum_to_shape(r, tuple(min(n, size[c]) for n, c in zip(r.shape, distinct)))
    r = r.expand(tuple(size[c] for c in distinct))
    if len(distinct) == len(s):
        return r.permute(tuple(distinct.index(c) for c in s))
    used = set(subscripts)
    fresh = iter(c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in used)
    target, ties, eyes = [], [], []
    for k, c in enumerate(s):
        if c in s[:k]:
            f = next(fresh)
            target.append(f)
            ties.append(c + f)
            eyes.append(const(np.eye(size[c], dtype=graph_ops.data(r).dtype)))
        else:
            target.append(c)
    spec = ",".join([distinct, *ties]) + "->" + "".join(target)
    return Einsum.apply(r, *eyes, subscripts=spec)


def _others(x, axis):
    """[..., j, i] = x_i along ``axis`` (moved last), with x_j taken as 1: the factors of the
    product of the others of each j. Exact where x has zeros, at n times the size; its own
    derivative takes the same path, so every order is exact."""
    n = x.shape[axis]
    eye = graph_ops.const(np.eye(n, dtype=graph_ops.data(x).dtype))
    return x.movedim(axis, -1).unsqueeze(-2) * (1 - eye) + eye


def _has_zero(x):
    a = graph_ops.data(x)
    return bool(_devices.of(a).to_numpy(a == 0).any())


@graph_ops.recorded("prod_backward")
def _recorded_prod_backward(g, x, axis, keepdims):
    """g times the product of the other elements: out / x where x has no zero (its derivatives
    stay exact nearby), else the products of the others formed outright."""
    g, x = graph_ops.const(g), graph_ops.const(x)
    if axis is None:
        flat = _recorded_prod_backward(g.reshape(1), x.reshape(-1), 0, True)
        return flat.reshape(tuple(x.shape))
    axis = axis % x.ndim
    if not keepdims:
        g = g.unsqueeze(axis)
    if not _has_zero(x):
        return g * Prod.apply(x, axis=axis, keepdims=True) / x
    m = _others(x, axis)
    return g * Prod.apply(m, axis=m.ndim - 1, keepdims=False).movedim(-1, axis)


@graph_ops.recorded("cumprod_backward")
def _recorded_cumprod_backward(g, x, axis):
    """d/dx_j of sum_k g_k cumprod(x)_k = sum_{k >= j} g_k prod_{i <= k, i != j} x_i: the
    reversed running sum of g * cumprod(x), over x_j, where x has no zero; else those products
    formed outright."""
    g, x = graph_ops.const(g), graph_ops.const(x)
    axis = axis % x.ndim
    if not _has_zero(x):
        gy = g * Cumprod.apply(x, axis=axis)
        return gy.flip(axis).cumsum(axis).flip(axis) / x
    m = _others(x, axis)
    n = x.shape[axis]
    later = graph_ops.const(np.triu(np.ones((n, n), dtype=graph_ops.data(x).dtype)))  # k >= j
    terms = g.movedim(axis, -1).unsqueeze(-2) * Cumprod.apply(m, axis=m.ndim - 1) * later
    return terms.sum(-1).movedim(-1, axis)


@graph_ops.recorded("scatter")
def _recorded_scatter(a, idx, src, axis, reduce):
    const, data = graph_ops.const, graph_ops.data
    if isinstance(src, function.Tensor) or _devices.is_array(src):
        return Scatter.apply(const(a), const(src), idx=data(idx), axis=axis, reduce=reduce)
    return Scatter.apply(const(a), idx=data(idx), axis=axis, reduce=reduce, value=src)
