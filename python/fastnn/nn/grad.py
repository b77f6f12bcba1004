"""``fastnn.nn.grad``: the gradients of a convolution with respect to its input and its weight,
as functions of the output's gradient (torch.nn.grad), for custom ``backward`` methods that
fuse a convolution with what follows it.

Each is the derivative of the convolution itself, taken by autograd at a stand-in for the
argument it is taken with respect to (a convolution is linear in each argument, so the stand-in's
values do not matter). The result records its own graph when grad mode is on and the given
tensors require grad, so it can be differentiated again.
"""

from .._tensor import Tensor
from .._tensor import creation as _new
from ..autograd import enable_grad, grad, is_grad_enabled
from .functional.conv import conv2d
from .functional.conv1d import conv1d

__all__ = ["conv1d_input", "conv1d_weight", "conv2d_input", "conv2d_weight"]


def _full_size(size, spatial, fn, what):
    size = tuple(int(s) for s in size)
    if len(size) != spatial + 2:
        raise RuntimeError(f"{fn}: {what} must have {spatial + 2} entries, got {list(size)}")
    return size


def _derivative(conv, fn, x, w, grad_output, stride, padding, dilation, groups, wrt):
    """d conv(x, w) / d (x, w)[wrt] weighted by grad_output; the other argument is given."""
    if not isinstance(grad_output, Tensor):
        raise TypeError(
            f"{fn}: argument 'grad_output' must be Tensor, not {type(grad_output).__name__}"
        )
    stand_in, given = (x, w) if wrt == 0 else (w, x)
    record = is_grad_enabled() and (given.requires_grad or grad_output.requires_grad)
    with enable_grad():
        out = conv(x, w, None, stride, padding, dilation, groups)
        if tuple(out.shape) != tuple(grad_output.shape):
            raise RuntimeError(
                f"{fn}: grad_output has shape {list(grad_output.shape)} but the convolution of "
                f"input {list(x.shape)} with weight {list(w.shape)} (stride={stride}, "
                f"padding={padding}, dilation={dilation}, groups={groups}) has shape "
                f"{list(out.shape)}"
            )
        (g,) = grad(out, stand_in, grad_output, create_graph=record)
    return g


def _input_grad(
    conv, spatial, fn, input_size, weight, grad_output, stride, padding, dilation, groups
):
    if not isinstance(weight, Tensor):
        raise TypeError(f"{fn}: argument 'weight' must be Tensor, not {type(weight).__name__}")
    size = _full_size(input_size, spatial, fn, "input_size")
    x = _new.zeros(*size, dtype=weight.dtype, device=weight.device).requires_grad_()
    return _derivative(conv, fn, x, weight, grad_output, stride, padding, dilation, groups, 0)


def _weight_grad(
    conv, spatial, fn, input, weight_size, grad_output, stride, padding, dilation, groups
):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}: argument 'input' must be Tensor, not {type(input).__name__}")
    size = _full_size(weight_size, spatial, fn, "weight_size")
    w = _new.zeros(*size, dtype=input.dtype, device=input.device).requires_grad_()
    return _derivative(conv, fn, input, w, grad_output, stride, padding, dilation, groups, 1)


def conv1d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of ``conv1d`` with respect to an input of ``input_size``."""
    return _input_grad(
        conv1d,
        1,
        "conv1d_input",
        input_size,
        weight,
        grad_output,
        stride,
        padding,
        dilation,
        groups,
    )


def conv1d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of ``conv1d`` with respect to a weight of ``weight_size``."""
    return _weight_grad(
        conv1d,
        1,
        "conv1d_weight",
        input,
        weight_size,
        grad_output,
        stride,
        padding,
        dilation,
        groups,
    )


def conv2d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of ``conv2d`` with respect to an input of ``input_size``."""
    return _input_grad(
        conv2d,
        2,
        "conv2d_input",
        input_size,
        weight,
        grad_output,
        stride,
        padding,
        dilation,
        groups,
    )


def conv2d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of ``conv2d`` with respect to a weight of ``weight_size``."""
    return _weight_grad(
        conv2d,
        2,
        "conv2d_weight",
        input,
        weight_size,
        grad_output,
        stride,
        padding,
        dilation,
        groups,
    )
