"""Activations on the fastnn.kernels element-wise kernels (forward and backward)."""

from ...autograd.function import Function
from .complex import holomorphic


class ReLU(Function):
    torch_name = "Relu"
    double_backward = True
    save_inputs = True
    plain_op = "relu"

    def forward(self, x):
        self.x = x
        return self.be.relu(x)

    def backward(self, g):
        return self.be.relu_backward(g, self.x)


class LeakyReLU(Function):
    double_backward = True
    torch_name = "LeakyRelu"
    save_inputs = True

    def forward(self, x, negative_slope=0.01):
        self.x, self.slope = x, negative_slope
        return self.be.leaky_relu(x, negative_slope)

    def backward(self, g):
        return self.be.leaky_relu_backward(g, self.x, self.slope)


class GELU(Function):
    double_backward = True
    torch_name = "Gelu"
    save_inputs = True

    def forward(self, x, approximate="none"):
        self.x, self.approximate = x, approximate
        return self.be.gelu(x, approximate)

    def backward(self, g):
        return self.be.gelu_backward(g, self.x, self.approximate)


@holomorphic
class Sigmoid(Function):
    double_backward = True
    save_output = True
    plain_op = "sigmoid"

    def forward(self, x):
        self.y = y = self.be.sigmoid(x)
        return y

    def backward(self, g):
        return self.be.sigmoid_backward(g, self.y)


@holomorphic
class Tanh(Function):
    double_backward = True
    save_output = True
    plain_op = "tanh"

    def forward(self, x):
        self.y = y = self.be.tanh(x)
        return y

    def backward(self, g):
        return self.be.tanh_backward(g, self.y)


class _AlongDim(Function):
    """softmax-like ops along ``dim``; the kernels take the axis themselves (no transposes)."""

    double_backward = True
    save_output = True
    _fwd = _bwd = ""

    def forward(self, x, dim=-1):
        # torch's check: `dim % ndim` alone would silently pick another axis (dim=2 on 2-D is 0)
        if not -x.ndim <= dim < x.ndim:
            raise IndexError(
                f"{type(self).__name__}: Dimension out of range (expected to be in "
                f"range of [{-x.ndim}, {x.ndim - 1}], but got {dim})"
            )
        self.dim = dim % x.ndim
        self.y = getattr(self.be, self._fwd)(x, self.dim)
        return self.y

    def backward(self, g):
        return getattr(self.be, self._bwd)(g, self.y, self.dim)


class Softmax(_AlongDim):
    _fwd, _bwd = "softmax", "softmax_backward"


class LogSoftmax(_AlongDim):
    _fwd, _bwd = "log_softmax", "log_softmax_backward"


class _FromInput(Function):
    """An element-wise activation whose backward kernel takes the forward input x: the kernel
    pair ``_fwd`` / ``_bwd`` with the op's scalar parameters ``args`` after the arrays."""

    double_backward = True
    save_inputs = True
    _fwd = _bwd = ""

    def forward(self, x, args=()):
        self.x, self.args = x, args
        return getattr(self.be, self._fwd)(x, *args)

    def backward(self, g):
        return getattr(self.be, self._bwd)(g, self.x, *self.args)


class SiLU(_FromInput):
    _fwd, _bwd = "silu", "silu_backward"
    torch_name = "Silu"


class Mish(_FromInput):
    _fwd, _bwd = "mish", "mish_backward"


class Softplus(_FromInput):
    """args = (beta, threshold)"""

    _fwd, _bwd = "softplus", "softplus_backward"


class ELU(_FromInput):
    """args = (alpha, scale, input_scale); SELU is ELU with torch's fixed alpha and scale."""

    _fwd, _bwd = "elu", "elu_backward"
    torch_name = "Elu"


class Hardtanh(_FromInput):
    """args = (min_val, max_val); ReLU6 is Hardtanh(0, 6)."""

    _fwd, _bwd = "hardtanh", "hardtanh_backward"


class LogSigmoid(_FromInput):
    _fwd, _bwd = "logsigmoid", "logsigmoid_backward"


class PReLU(Function):
    """x where x > 0, else weight[c] * x; gradients for x and the per-channel weight."""

    save_inputs = True
    torch_name = "PreluKernel"

    def forward(self, x, weight):
        self.x, self.w = x, weight
        return self.be.prelu(x, weight)

    def backward(self, g):
        need = self.needs_input_grad
        return self.be.prelu_backward(g, self.x, self.w, len(need) > 1 and need[1])

    def graph_forward(self, x, w):
        """For create_graph=True: x where x > 0 (a constant mask, as the kernel's test), else
        w x with w along dim 1 (or one shared weight), which autograd differentiates again."""
        a = x._data
        pos = x._make(self.be.astype(self.be.gt(a, 0), a.dtype))
        if w.numel() != 1:
            w = w.reshape((1, -1) + (1,) * (x.ndim - 2))
        return x * pos + w * x * (1 - pos)
