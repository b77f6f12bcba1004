"""Activations on the fastnn.kernels element-wise kernels (forward and backward)."""

from ...autograd.function import Function


class ReLU(Function):
    save_inputs = True

    def forward(self, x):
        self.x = x
        return self.be.relu(x)

    def backward(self, g):
        return self.be.relu_backward(g, self.x)


class LeakyReLU(Function):
    save_inputs = True

    def forward(self, x, negative_slope=0.01):
        self.x, self.slope = x, negative_slope
        return self.be.leaky_relu(x, negative_slope)

    def backward(self, g):
        return self.be.leaky_relu_backward(g, self.x, self.slope)


class GELU(Function):
    save_inputs = True

    def forward(self, x, approximate="none"):
        self.x, self.approximate = x, approximate
        return self.be.gelu(x, approximate)

    def backward(self, g):
        return self.be.gelu_backward(g, self.x, self.approximate)


class Sigmoid(Function):
    save_output = True

    def forward(self, x):
        self.y = y = self.be.sigmoid(x)
        return y

    def backward(self, g):
        return self.be.sigmoid_backward(g, self.y)


class Tanh(Function):
    save_output = True

    def forward(self, x):
        self.y = y = self.be.tanh(x)
        return y

    def backward(self, g):
        return self.be.tanh_backward(g, self.y)


class _LastAxis(Function):
    """softmax-like ops on the kernels' last axis; another ``dim`` is swapped last and back."""

    save_output = True
    _fwd = _bwd = ""

    def forward(self, x, dim=-1):
        be = self.be
        # torch's check: `dim % ndim` alone would silently pick another axis (dim=2 on 2-D is 0)
        if not -x.ndim <= dim < x.ndim:
            raise IndexError(
                f"{type(self).__name__}: Dimension out of range (expected to be in "
                f"range of [{-x.ndim}, {x.ndim - 1}], but got {dim})"
            )
        d = dim % x.ndim
        self.perm = perm = None if d == x.ndim - 1 else _swap(x.ndim, d)
        xt = x if perm is None else be.permute(x, perm)
        self.y = y = getattr(be, self._fwd)(xt)
        return y if perm is None else be.permute(y, perm)

    def backward(self, g):
        be, perm = self.be, self.perm
        gt = g if perm is None else be.permute(g, perm)
        gx = getattr(be, self._bwd)(gt, self.y)
        return gx if perm is None else be.permute(gx, perm)


def _swap(ndim, dim):
    p = list(range(ndim))
    p[dim], p[-1] = p[-1], p[dim]
    return tuple(p)


class Softmax(_LastAxis):
    _fwd, _bwd = "softmax", "softmax_backward"


class LogSoftmax(_LastAxis):
    _fwd, _bwd = "log_softmax", "log_softmax_backward"
