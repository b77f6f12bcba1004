"""The primitives between complex and real tensors, with torch's gradient convention.

For a real loss L of a complex z = x + iy, the gradient a complex tensor receives is
dL/dx + i dL/dy (twice the derivative by conj(z)). A holomorphic f then passes back
g * conj(f'(z)); a real tensor that feeds a complex result keeps the real part of what reaches
it (the engine takes it, as torch's does). These work on host arrays: no device has complex
storage but the CPU.
"""

import numpy as np

from ...autograd.function import Function

# A backward here runs on arrays, or, under create_graph=True (``double_backward``), on the
# Tensors they are: each has a Tensor branch made of recorded ops, so second derivatives work.


def _recorded(g):
    return not isinstance(g, np.ndarray)


def conj(a):
    """conj(a) for a complex array (or Tensor, under a recorded backward); a real one itself."""
    return a.conj() if a.dtype.kind == "c" else a


def holomorphic(cls):
    """Make ``cls.backward``, written as the plain chain rule g * f'(z) (right for real
    inputs), give torch's complex gradient g * conj(f'(z)) = conj(conj(g) f'(z)). Only for
    primitives holomorphic in each input, whose backward is linear in g."""
    plain = cls.backward

    def backward(self, g):
        if g.dtype.kind != "c":
            return plain(self, g)
        out = plain(self, g.conj())
        if isinstance(out, tuple):
            return tuple(None if o is None else conj(o) for o in out)
        return conj(out)

    backward.__doc__ = plain.__doc__
    cls.backward = backward
    return cls


def real_view(a):
    """The (..., 2) real view of a complex array: real and imaginary parts side by side."""
    r = a.real
    return np.lib.stride_tricks.as_strided(
        r, (*a.shape, 2), (*r.strides, r.itemsize), writeable=a.flags.writeable
    )


def complex_view(a):
    """The complex view of a real (..., 2) array whose pairs are adjacent in memory."""
    cdt = np.dtype(np.complex128 if a.dtype == np.float64 else np.complex64)
    if a.size == 0:
        return np.empty(a.shape[:-1], cdt)
    return a.view(cdt)[..., 0]


def as_complex(g, dtype):
    """A real gradient as the complex dtype of the input it goes to."""
    return g.astype(dtype) if g.dtype != dtype else g


class Real(Function):
    double_backward = True

    def forward(self, x):
        self.dtype = x.dtype
        return x.real

    def backward(self, g):
        return g.to(self.dtype) if _recorded(g) else as_complex(g, self.dtype)


class Imag(Function):
    double_backward = True

    def forward(self, x):
        self.dtype = x.dtype
        return x.imag

    def backward(self, g):
        if _recorded(g):
            return g.to(self.dtype) * 1j
        out = np.zeros(g.shape, self.dtype)
        out.imag = g
        return out


class ViewAsReal(Function):
    double_backward = True

    def forward(self, x):
        return real_view(x)

    def backward(self, g):
        if _recorded(g):
            return MakeComplex.apply(g[..., 0], g[..., 1])
        out = np.empty(g.shape[:-1], np.complex128 if g.dtype == np.float64 else np.complex64)
        out.real = g[..., 0]
        out.imag = g[..., 1]
        return out


class ViewAsComplex(Function):
    double_backward = True

    def forward(self, x):
        return complex_view(x)

    def backward(self, g):
        if _recorded(g):
            return ViewAsReal.apply(g)
        return np.ascontiguousarray(real_view(g))


class Conj(Function):
    """The conjugate, materialized (see Tensor.conj)."""

    double_backward = True

    def forward(self, x):
        return np.conj(x)

    def backward(self, g):
        return Conj.apply(g) if _recorded(g) else np.conj(g)


class Angle(Function):
    save_inputs = True
    double_backward = True

    def forward(self, x):
        self.x = x
        return np.angle(x).astype(x.real.dtype, copy=False)

    def backward(self, g):
        x = self.x
        if _recorded(g):
            if not x.is_complex():
                return g * 0
            r2 = Real.apply(x * Conj.apply(x))
            zero = (r2.detach() == 0).to(r2.dtype)  # a constant mask: 0 where z = 0
            return g * (x * 1j) / (r2 + zero) * (1 - zero)
        if x.dtype.kind != "c":  # a step function of a real input: no gradient
            return np.zeros_like(g)
        # d angle / dx = -y / r^2, d angle / dy = x / r^2: together i z / |z|^2; 0 at z = 0
        r2 = (x * np.conj(x)).real
        safe = np.where(r2 == 0, 1, r2)
        return np.where(r2 == 0, 0, g * (1j * x) / safe).astype(x.dtype, copy=False)


class MakeComplex(Function):
    """torch.complex(real, imag), broadcast."""

    double_backward = True

    def forward(self, re, im):
        self.sr, self.si = re.shape, im.shape
        shape = np.broadcast_shapes(re.shape, im.shape)
        out = np.empty(shape, np.complex128 if re.dtype == np.float64 else np.complex64)
        out.real = re
        out.imag = im
        return out

    def backward(self, g):
        n, be = self.needs_input_grad, self.be
        if _recorded(g):
            re, im = Real.apply(g), Imag.apply(g)
        else:
            re, im = np.ascontiguousarray(g.real), np.ascontiguousarray(g.imag)
        return (
            be.sum_to_shape(re, self.sr) if n[0] else None,
            be.sum_to_shape(im, self.si) if n[1] else None,
        )
