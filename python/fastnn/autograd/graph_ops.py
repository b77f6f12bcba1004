"""Backward that is itself recorded (``create_graph=True``): higher-order gradients.

A primitive's ``backward`` is written once, on storage arrays through its backend ``self.be``.
For a second derivative the engine runs that same code on ``GraphOps`` instead: each backend
call becomes Tensor ops recorded by autograd, and the arrays the primitive saved in forward are
swapped for the tensors they came from (an input, or the output), so the gradient it returns is
a Tensor with a history that a later backward differentiates again.

A primitive opts in with ``double_backward = True`` once every backend call of its backward is
one ``GraphOps`` has, and every array it saves is an input or its output, is rebuilt from them
by ``graph_saved(inputs, output)`` (a dict of attributes; None: not this case) or is a constant
its class names in ``graph_constants`` (class indices, masks). For any other, the gradient is
computed as usual and wrapped in a node that raises when a later backward needs to
differentiate through it, as torch does for an op without a second derivative.

A fused primitive whose backward is one kernel (the normalizations) gives instead
``graph_forward``: its function as Tensor ops, which the recorded engine differentiates.
"""

import math

import numpy as np

from .. import _devices
from . import function, node_extras
from .grad_mode import enable_grad, no_grad


def const(a):
    """A constant Tensor for a storage array; Tensors and Python numbers unchanged."""
    if isinstance(a, function.Tensor) or not _devices.is_array(a):
        return a
    return function.Tensor._make(a, False, None)


def data(a):
    return a._data if isinstance(a, function.Tensor) else a


def _mask(cond, like):
    """A constant 0/1 Tensor of ``like``'s dtype from a bool array (or Tensor)."""
    c = data(cond)
    be = _devices.of(c)
    return function.Tensor._make(be.astype(c, data(like).dtype), False, None)


class GraphOps:
    """The backend calls of the opted-in backward methods, as recorded Tensor ops. Arguments
    may be Tensors, storage arrays (constants) or numbers; results are Tensors, except for
    comparisons, which stay bool arrays (their derivative is zero). Calls whose recorded form
    is an op of fastnn's own (conv2d, gather, where...) are added by that op's module
    (``recorded``)."""

    # ---- arithmetic ----
    def add(self, a, b):
        return const(a) + const(b)

    def sub(self, a, b):
        return const(a) - const(b)

    def mul(self, a, b, out=None):  # ``out`` is the array path's buffer reuse: ignored
        return const(a) * const(b)

    def cube(self, a):
        a = const(a)
        return a * a * a

    def div(self, a, b):
        return const(a) / const(b)

    def neg(self, a):
        return -const(a)

    def pow(self, a, b):
        return const(a) ** const(b)

    def exp(self, a):
        return const(a).exp()

    def log(self, a):
        return const(a).log()

    def sqrt(self, a):
        return const(a).sqrt()

    def _unary(name):
        def op(self, a):
            return getattr(const(a), name)()

        op.__name__ = name
        return op

    sin, cos, tan = _unary("sin"), _unary("cos"), _unary("tan")
    sinh, cosh, tanh = _unary("sinh"), _unary("cosh"), _unary("tanh")
    sigmoid, erf, log1p, expm1 = _unary("sigmoid"), _unary("erf"), _unary("log1p"), _unary("expm1")
    del _unary

    def sign(self, a):  # piecewise constant: no gradient
        return const(_devices.of(data(a)).sign(data(a)))

    # ---- comparisons and selection: the conditions are constants ----
    def eq(self, a, b):
        return _devices.of(data(a)).eq(data(a), data(b))

    def lt(self, a, b):
        return _devices.of(data(a)).lt(data(a), data(b))

    def le(self, a, b):
        return _devices.of(data(a)).le(data(a), data(b))

    def gt(self, a, b):
        return _devices.of(data(a)).gt(data(a), data(b))

    def ge(self, a, b):
        return _devices.of(data(a)).ge(data(a), data(b))

    def isnan(self, a):
        return _devices.of(data(a)).isnan(data(a))

    # ---- shapes and reductions ----
    def reshape(self, a, shape):
        return const(a).reshape(tuple(shape))

    def permute(self, a, dims):
        return const(a).permute(tuple(dims))

    def broadcast_to(self, a, shape):
        return const(a).expand(tuple(shape))

    def sum(self, a, axis=None, keepdims=False):
        a = const(a)
        return a.sum() if axis is None and not keepdims else a.sum(_dims(axis, a.ndim), keepdims)

    def mean(self, a, axis=None, keepdims=False):
        a = const(a)
        return a.mean() if axis is None and not keepdims else a.mean(_dims(axis, a.ndim), keepdims)

    def sum_to_shape(self, g, shape):
        """Undo broadcasting (see the CPU backend's): sum the leading axes away, then the axes
        where ``shape`` has a 1."""
        g = const(g)
        shape = tuple(shape)
        if tuple(g.shape) == shape:
            return g
        lead = g.ndim - len(shape)
        if lead:
            g = g.sum(tuple(range(lead)))
        ones = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
        if ones:
            g = g.sum(ones, keepdim=True)
        return g

    def ne(self, a, b):
        return _devices.of(data(a)).ne(data(a), data(b))

    def astype(self, a, dtype):
        return const(a).to(dtype)

    def copy(self, a):
        return const(a).clone()

    def ascontiguous(self, a):
        return const(a).contiguous()

    def getitem(self, a, index):
        return const(a)[_index(index)]

    def getitem_backward(self, g, shape, index, advanced):
        return ScatterIntoZeros.apply(const(g), shape=tuple(shape), index=index, advanced=advanced)

    def setitem(self, a, index, value):  # a is a fresh copy made by the backward itself
        a[_index(index)] = const(value)

    def zeros(self, shape, dtype):
        return const(np.zeros(shape, dtype))

    def full(self, shape, value, dtype):
        return const(np.full(shape, value, dtype))

    # ---- products ----
    def is_transposed(self, a):
        return False  # a layout choice of the array path; a view here costs nothing

    def matmul(self, a, b, trans_a=False, trans_b=False, bias=None):
        a, b = const(a), const(b)
        if trans_a:
            a = a.transpose(-2, -1)
        if trans_b:
            b = b.transpose(-2, -1)
        out = a @ b
        return out if bias is None else out + const(bias)

    def empty(self, shape, dtype):
        return const(np.empty(shape, dtype))

    def minmax_grads(self, *args):
        return None  # no fused form: the caller spells it with where

    # ---- fused backward kernels, spelled out ----
    # g times a piecewise-constant slope of x: linear in g, its own adjoint, flat in x; one
    # recorded kernel call (MaskedGrad) rather than a mask built and multiplied
    def relu_backward(self, g, x):
        return MaskedGrad.apply(const(g), kernel="relu_backward", x=data(x), args=())

    def leaky_relu_backward(self, g, x, slope):
        return MaskedGrad.apply(const(g), kernel="leaky_relu_backward", x=data(x), args=(slope,))

    def sigmoid_backward(self, g, y):
        return const(g) * y * (1 - y)

    def tanh_backward(self, g, y):
        return const(g) * (1 - y * y)

    def sin_backward(self, g, x):
        return const(g) * x.cos()

    def cos_backward(self, g, x):
        return -(const(g) * x.sin())

    def rsqrt_backward(self, g, y):
        return const(g) * y**3 * -0.5

    def softmax_backward(self, g, y, dim):
        g = const(g)
        return y * (g - (g * y).sum(dim, keepdim=True))

    def log_softmax_backward(self, g, y, dim):
        g = const(g)
        return g - y.exp() * g.sum(dim, keepdim=True)

    def silu_backward(self, g, x):
        s = x.sigmoid()
        return const(g) * s * (1 + x * (1 - s))

    def softplus_backward(self, g, x, beta, threshold):
        linear = _mask(data(x) * beta > threshold, g)
        return const(g) * (linear + (1 - linear) * (x * beta).sigmoid())

    def erf_backward(self, g, x):
        return const(g) * (x * x * -1).exp() * (2 / math.sqrt(math.pi))

    def log1p_backward(self, g, x):
        return const(g) / (x + 1)

    def logsigmoid_backward(self, g, x):
        return const(g) * (1 - x.sigmoid())

    def elu_backward(self, g, x, alpha, scale, input_scale):
        xa = data(x)
        neg = _mask(xa <= 0, g)
        return const(g) * (
            scale * (1 - neg) + neg * (scale * alpha * input_scale) * (x * input_scale).exp()
        )

    def hardtanh_backward(self, g, x, lo, hi):
        return MaskedGrad.apply(const(g), kernel="hardtanh_backward", x=data(x), args=(lo, hi))

    def mish_backward(self, g, x):
        t = (x.clamp(min=0) + (-x.abs()).exp().log1p()).tanh()  # tanh(softplus(x)), stable
        return const(g) * (t + x * (1 - t * t) * x.sigmoid())

    def gelu_backward(self, g, x, approximate):
        g = const(g)
        if approximate == "tanh":  # d/dx of x/2 (1 + tanh(u)), u = c (x + a x^3)
            c, a = math.sqrt(2.0 / math.pi), 0.044715
            t = (c * (x + a * x**3)).tanh()
            return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * a * x * x))
        cdf = 0.5 * (1 + (x * (1 / math.sqrt(2.0))).erf())
        pdf = (x * x * -0.5).exp() * (1 / math.sqrt(2.0 * math.pi))
        return g * (cdf + x * pdf)


def _dims(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    return tuple(axis) if isinstance(axis, (tuple, list)) else axis


def _index(index):
    """An index for Tensor.__getitem__: storage-array parts become Tensors."""
    if isinstance(index, tuple):
        return tuple(const(i) if _devices.is_array(i) else i for i in index)
    return const(index) if _devices.is_array(index) else index


def recorded(name):
    """Make ``fn`` the method ``name`` of GraphOps: the recorded form of a backend call, given
    by the module of the op it records (so that autograd imports none of them)."""

    def register(fn):
        setattr(GraphOps, name, staticmethod(fn))
        return fn

    return register


OPS = GraphOps()


class ScatterIntoZeros(function.Function):
    """The backward of ``x[index]`` as a recorded op: ``g`` added into zeros of x's shape at
    ``index``. Linear in ``g``; its own backward reads ``index`` back out."""

    double_backward = True

    def forward(self, g, shape=(), index=None, advanced=False):
        self.index = index
        return self.be.getitem_backward(g, shape, index, advanced)

    def backward(self, gg):
        return self.be.getitem(gg, self.index)


class MaskedGrad(function.Function):
    """``kernel(g, x, *args)`` = g times a slope of x that is constant between breakpoints
    (relu, leaky_relu, hardtanh): as a function of g it is its own adjoint, and its derivative in
    x is zero, so its backward is the same kernel call on the incoming gradient."""

    double_backward = True
    graph_constants = ("x",)

    def forward(self, g, kernel="", x=None, args=()):
        self.kernel, self.x, self.args = kernel, x, args
        return getattr(self.be, kernel)(g, x, *args)

    def backward(self, gg):
        return getattr(self.be, self.kernel)(gg, self.x, *self.args)


class NoSecondDerivative(function.Function):
    """A gradient made by a primitive without a recorded backward, as a node whose inputs are
    what that gradient depends on (the incoming gradient, the primitive's inputs): reaching it
    in a backward pass is an error, as torch's for an op with no double backward."""

    def forward(self, *depends_on, value=None, op=""):
        self.op = op
        return value

    def backward(self, gg):
        raise RuntimeError(
            f"fastnn: the derivative of {self.op}'s gradient is not implemented "
            "(create_graph=True recorded a gradient that cannot be differentiated again)"
        )


def recorded_backward(ctx, out, g, parents, grad_until):
    """``ctx.backward`` on ``g`` (a Tensor) as recorded Tensor ops; the gradients are Tensors
    (or None). ``out`` is the tensor ``ctx`` produced, ``parents`` its inputs as it recorded
    them; ``grad_until`` is the engine's recorded gradient (for ``graph_forward``). Arrays packed
    by saved-tensor hooks are unpacked onto ``ctx`` meanwhile (node_extras)."""
    with node_extras.unpacked(ctx):
        return _recorded_backward(ctx, out, g, parents, grad_until)


def _recorded_backward(ctx, out, g, parents, grad_until):
    if ctx.graph_forward is not None:
        return _through_composition(ctx, g, parents, grad_until)
    saved = _swapped_state(ctx, out, parents) if ctx.double_backward else None
    if saved is None:
        return _opaque_backward(ctx, g, parents)
    twin = object.__new__(type(ctx))
    twin.__dict__.update(saved)
    twin.be = OPS
    twin.releasing = False
    try:
        gs = twin.backward(const(g))
    except AttributeError as e:  # a backend call GraphOps does not have
        if "GraphOps" not in str(e):
            raise
        return _opaque_backward(ctx, g, parents)
    if gs.__class__ is not tuple:
        gs = (gs,)
    return tuple(const(x) if x is not None else None for x in gs)


def _through_composition(ctx, g, parents, grad_until):
    """The gradient of a fused primitive (a normalization) through ``ctx.graph_forward``: the
    same function written as Tensor ops, differentiated by the recorded engine. The inputs enter
    it through ``Alias`` nodes at which that pass stops, so it does not walk the graph that made
    them, and the gradients it returns lead back to them. Every input that requires grad
    enters that way, wanted or not: the gradient for x depends on the weight too, and a later
    backward must reach it."""
    needs = ctx.needs_input_grad
    ins = [Alias.apply(p) if p.requires_grad else p.detach() for p in parents]
    with enable_grad():
        out = ctx.graph_forward(*ins)
    wanted = [t for t, n in zip(ins, needs) if n]
    got = iter(grad_until(out, wanted, g))
    return tuple(next(got) if n else None for n in needs)


class Alias(function.Function):
    """``x`` itself, as a node of its own (see _through_composition)."""

    double_backward = True

    def forward(self, x):
        return x

    def backward(self, g):
        return g


def _swapped_state(ctx, out, parents):
    """ctx's attributes with each saved storage array replaced by the tensor it is (an input or
    the output), plus what ``graph_saved`` rebuilds; None when an array is neither."""
    by_id = {id(p._data): p for p in parents}
    by_id[id(out._data)] = out
    state = dict(ctx.__dict__)
    rebuild = getattr(ctx, "graph_saved", None)
    if rebuild is not None:
        extra = rebuild(parents, out)
        if extra is None:  # a case the primitive does not record
            return None
        state.update(extra)
    constants = ctx.graph_constants
    for k, v in state.items():
        if k in constants or isinstance(v, function.Tensor):
            continue
        if isinstance(v, np.generic):
            # a 0-d result comes back from numpy as a scalar, which apply wrapped in a new
            # array for the output tensor: the saved scalar is the output by value
            if out._data.ndim == 0 and (v == out._data or (np.isnan(v) and np.isnan(out._data))):
                state[k] = out
                continue
            return None
        if not _devices.is_array(v):
            continue
        t = by_id.get(id(v))
        if t is None:
            return None
        state[k] = t
    return state


def _opaque_backward(ctx, g, parents):
    """The array backward, its results wrapped in a node that refuses to be differentiated
    (a constant where nothing they depend on requires grad)."""
    with no_grad():
        gs = ctx.backward(data(g))
    if gs.__class__ is not tuple:
        gs = (gs,)
    depends_on = [t for t in (g, *parents) if isinstance(t, function.Tensor) and t.requires_grad]
    name = ctx.name()
    out = []
    for x in gs:
        if x is None:
            out.append(None)
            continue
        if isinstance(x, np.generic):
            x = np.asarray(x)
        if depends_on:
            out.append(NoSecondDerivative.apply(*depends_on, value=x, op=name))
        else:
            out.append(function.Tensor._make(x, False, None))
    return tuple(out)
