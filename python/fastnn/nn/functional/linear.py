"""``F.linear`` and its primitive: y = x W^T + b as one GEMM with the bias fused."""

from ..._core import autocast as _autocast
from ..._core import dtype as _dtype
from ..._tensor.ops.complex import holomorphic
from ...autograd.function import Function


@holomorphic
class Linear(Function):
    """y = x W^T + b as ONE GEMM with the bias fused; x (N, in), W (out, in), b (out,).
    Backward: dx = G W, dW = G^T x (GEMMs with flags) and db = column sums of G."""

    double_backward = True
    save_inputs = True

    def forward(self, x, w, b=None):
        self.x, self.w = x, w
        self.torch_name = "Mm" if b is None else "Addmm"  # torch's 2-D linear
        return self.be.matmul(x, w, trans_b=True, bias=b)

    @property
    def next_functions(self):
        """As torch's graph shows addmm(bias, x, weight.t()): the bias's edge first, then the
        input's, then a transpose node in front of the weight (mm(x, weight.t()) without a
        bias). Graph walkers and printed walk-throughs follow these positions."""
        edges = Function.next_functions.fget(self)
        w_node = edges[1][0]
        if w_node is not None:
            t = getattr(self, "_t_node", None)
            if t is None or t.next_functions[0][0] is not w_node:
                t = self._t_node = _TransposeNode(w_node)
            w_node = t
        shown = (edges[0], (w_node, 0))
        return (edges[2], *shown) if len(edges) == 3 else shown

    def backward(self, g):
        be, n = self.be, self.needs_input_grad
        gx = be.matmul(g, self.w) if n[0] else None
        gw = be.matmul(g, self.x, trans_a=True) if n[1] else None
        if len(n) == 2:
            return gx, gw
        return gx, gw, (be.sum(g, axis=0) if n[2] else None)


class _TransposeNode:
    """The weight's transpose in torch's picture of a linear layer: no step of fastnn's own
    backward (the GEMM reads the weight transposed), shown so that the graph has torch's shape."""

    __slots__ = ("_edges",)

    def __init__(self, node):
        self._edges = ((node, 0),)

    def name(self):
        return "TBackward0"

    @property
    def next_functions(self):
        return self._edges

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"


def linear(input, weight, bias=None):
    """y = x W^T + b: x (..., in), W (out, in), b (out,). One GEMM (bias fused); backward is two
    GEMMs with transpose flags plus a column sum."""
    if _autocast.flag.on:
        input, weight, bias = _autocast.lower(input, weight, bias)
    if input.dtype != weight.dtype or (bias is not None and bias.dtype != weight.dtype):
        raise RuntimeError(
            f"mat1 and mat2 must have the same dtype, but got "
            f"{_dtype.name(input.dtype)} and {_dtype.name(weight.dtype)}"
        )
    if weight.ndim != 2:
        raise RuntimeError(f"linear: weight must be 2-D (out, in), got shape {weight.shape}")
    k = input.shape[-1] if input.ndim else 0
    if k != weight.shape[1]:
        rows = input.numel() // k if input.ndim > 1 and k else 1
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({rows}x{k} and "
            f"{weight.shape[1]}x{weight.shape[0]})"
        )
    if bias is not None and bias.shape != (weight.shape[0],):
        raise RuntimeError(f"linear: bias must have shape ({weight.shape[0]},), got {bias.shape}")
    args = (weight,) if bias is None else (weight, bias)
    if input.ndim == 2:
        return Linear.apply(input, *args)
    lead = input.shape[:-1]
    out = Linear.apply(input.reshape(-1, k), *args)
    return out.reshape((*lead, weight.shape[0]))


def bilinear(input1, input2, weight, bias=None):
    """y[..., o] = sum_ij x1[..., i] W[o, i, j] x2[..., j] + b[o]: x1 @ W (one GEMM over all
    outputs at once), then a product with x2 summed over j."""
    if weight.ndim != 3:
        raise RuntimeError(f"bilinear(): weight must be 3-D, got {weight.ndim}-D")
    out, in1, in2 = weight.shape
    if input1.shape[-1] != in1 or input2.shape[-1] != in2:
        raise RuntimeError(
            f"bilinear(): input sizes {tuple(input1.shape)} and {tuple(input2.shape)} do not "
            f"match the weight {tuple(weight.shape)}"
        )
    if tuple(input1.shape[:-1]) != tuple(input2.shape[:-1]):
        raise RuntimeError(
            "bilinear(): input batch dimensions do not match: got "
            f"{tuple(input1.shape[:-1])} and {tuple(input2.shape[:-1])}"
        )
    lead = tuple(input1.shape[:-1])
    x1 = input1.reshape(-1, in1)
    x2 = input2.reshape(-1, 1, in2)
    t = x1 @ weight.permute(1, 0, 2).reshape(in1, out * in2)
    y = (t.reshape(-1, out, in2) * x2).sum(-1)
    if bias is not None:
        y = y + bias
    return y.reshape(*lead, out)


__all__ = ["bilinear", "linear"]
