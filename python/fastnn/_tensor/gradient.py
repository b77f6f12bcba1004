"""``fastnn.gradient``: the numerical derivative of sampled values along each asked dimension.

Interior points take the central difference; with sample coordinates (uneven spacing) it is the
second-order formula weighting each neighbour by the other side's squared step:
f'(x_i) ~ (h_l^2 f_{i+1} - h_r^2 f_{i-1} + (h_r^2 - h_l^2) f_i) / (h_l h_r (h_l + h_r)),
h_l = x_i - x_{i-1}, h_r = x_{i+1} - x_i. The two ends take one-sided differences of first or
(``edge_order=2``) second order. Built from differentiable ops, so it has a gradient.
"""

import numbers

from .._core import dtype as _dtype
from .._core.dims import wrap_dim
from ..autograd import function as _function
from . import functions as _fns

_T = _function.Tensor


def _dims(dim, ndim):
    if dim is None:
        return list(range(ndim)), False
    dims = [dim] if isinstance(dim, int) else list(dim)
    wrapped = [wrap_dim(d, ndim) for d in dims]
    for d in wrapped:
        if wrapped.count(d) > 1:
            raise RuntimeError(f"gradient(): dim {d} appears multiple times in the list of dims")
    return wrapped, True


def _spacings(spacing, dims, ndim, dim_given):
    """One spacing per dim: a number (even steps) or a 1-d tensor of coordinates."""
    if isinstance(spacing, (numbers.Number, _T)) and not (
        isinstance(spacing, _T) and spacing.dim() == 1
    ):
        if isinstance(spacing, _T):
            spacing = spacing.item()
        return [spacing] * len(dims)
    spacing = list(spacing)
    if len(spacing) != len(dims):
        what = f"len(dim) = {len(dims)}" if dim_given else f"self.dim() = {ndim}"
        raise RuntimeError(
            f"gradient(): expected spacing to be a number or a list with one entry per "
            f"dimension ({what}), but got a list of length {len(spacing)}"
        )
    return spacing


def _along(t, d, ndim):
    """A 1-d tensor shaped to broadcast along dim d of an ndim-d tensor."""
    return t.reshape([-1 if i == d else 1 for i in range(ndim)])


def _one_dim(f, d, h, edge_order):
    n = f.shape[d]
    ndim = f.dim()

    def part(start, stop):
        return f.narrow(d, start, stop - start)

    if isinstance(h, _T):
        x = h.to(f.dtype)
        steps = x[1:] - x[:-1]
        hl, hr = _along(steps[:-1], d, ndim), _along(steps[1:], d, ndim)
        inner = (
            hl * hl * part(2, n) - hr * hr * part(0, n - 2) + (hr * hr - hl * hl) * part(1, n - 1)
        ) / (hl * hr * (hl + hr))
        first, last = steps[0], steps[-1]
        if edge_order == 1:
            start = (part(1, 2) - part(0, 1)) / first
            end = (part(n - 1, n) - part(n - 2, n - 1)) / last
        else:
            h1, h2 = steps[0], steps[1]
            start = (
                -(2 * h1 + h2) / (h1 * (h1 + h2)) * part(0, 1)
                + (h1 + h2) / (h1 * h2) * part(1, 2)
                - h1 / (h2 * (h1 + h2)) * part(2, 3)
            )
            h1, h2 = steps[-2], steps[-1]
            end = (
                h2 / (h1 * (h1 + h2)) * part(n - 3, n - 2)
                - (h1 + h2) / (h1 * h2) * part(n - 2, n - 1)
                + (2 * h2 + h1) / (h2 * (h1 + h2)) * part(n - 1, n)
            )
    else:
        inner = (part(2, n) - part(0, n - 2)) / (2 * h)
        if edge_order == 1:
            start = (part(1, 2) - part(0, 1)) / h
            end = (part(n - 1, n) - part(n - 2, n - 1)) / h
        else:
            start = (-1.5 * part(0, 1) + 2 * part(1, 2) - 0.5 * part(2, 3)) / h
            end = (0.5 * part(n - 3, n - 2) - 2 * part(n - 2, n - 1) + 1.5 * part(n - 1, n)) / h
    return _fns.cat([start, inner, end], d)


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """The derivative of ``input`` along each dim of ``dim`` (all by default), as a tuple of
    tensors shaped like ``input``. ``spacing``: one number for every dim, one number per dim,
    or one 1-d tensor of sample coordinates per dim."""
    if not isinstance(input, _T):
        raise TypeError(f"gradient(): argument 'input' must be Tensor, not {type(input).__name__}")
    if edge_order not in (1, 2):
        raise RuntimeError(f"gradient(): edge_order must be 1 or 2, got {edge_order!r}")
    f = input if input.is_floating_point() else input.to(_dtype.default())
    ndim = f.dim()
    dims, given = _dims(dim, ndim)
    hs = _spacings(spacing, dims, ndim, given)
    for d, h in zip(dims, hs):
        if isinstance(h, _T) and (h.dim() != 1 or h.shape[0] != f.shape[d]):
            raise RuntimeError(
                f"gradient(): the coordinates of dim {d} must be a 1-d tensor of {f.shape[d]} "
                f"values, got shape {list(h.shape)}"
            )
        if f.shape[d] < edge_order + 1:
            raise RuntimeError(
                f"gradient(): each dimension needs at least edge_order + 1 = {edge_order + 1} "
                f"values, but dim {d} of shape {list(f.shape)} has {f.shape[d]}"
            )
    return tuple(_one_dim(f, d, h, edge_order) for d, h in zip(dims, hs))


__all__ = ["gradient"]
