"""The discrete Fourier transforms as autograd primitives, on numpy's pocketfft (host arrays).

Each transform is linear in its input, so its gradient is the adjoint transform applied to the
output's gradient (torch's convention for complex gradients, ops/complex.py). The adjoint of a
DFT scaled one way is the opposite-direction DFT scaled the swapped way ("backward" with
"forward", "ortho" with itself). A length given with ``n`` / ``s`` zero-pads or cuts the input
first; the adjoint of that cuts or zero-pads the gradient back to the input's length.
"""

import numpy as np

from ...autograd import function as _function
from ...autograd.function import Function
from .complex import Real
from .shape import Cat

# Under create_graph=True a backward receives Tensors (``double_backward``): each transform's
# adjoint is then the other primitive applied to the Tensor, and the padding or cutting is
# slicing and concatenation, all recorded, so the gradient can be differentiated again.

SWAP = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


def complex_dtype(d):
    return np.dtype(np.complex128) if d in (np.float64, np.complex128) else np.dtype(np.complex64)


def real_dtype(d):
    return np.dtype(np.float64) if d in (np.float64, np.complex128) else np.dtype(np.float32)


def fit(a, axes, lengths):
    """``a`` cut or zero-padded at the end of each axis in ``axes`` to ``lengths``."""
    if not isinstance(a, np.ndarray):
        return _fit_recorded(a, axes, lengths)
    cut = [slice(None)] * a.ndim
    pad = [(0, 0)] * a.ndim
    for ax, n in zip(axes, lengths):
        cut[ax] = slice(0, n)
        pad[ax] = (0, max(0, n - a.shape[ax]))
    a = a[tuple(cut)]
    return np.pad(a, pad) if any(p[1] for p in pad) else a


def _fit_recorded(t, axes, lengths):
    for ax, n in zip(axes, lengths):
        have = t.shape[ax]
        if have > n:
            t = t[(slice(None),) * ax + (slice(0, n),)]
        elif have < n:
            shape = list(t.shape)
            shape[ax] = n - have
            zeros = _function.Tensor._make(np.zeros(shape, t._data.dtype))
            t = Cat.apply(t, zeros, axis=ax)
    return t


def _real_part(g):
    return Real.apply(g) if not isinstance(g, np.ndarray) else g.real


class FFT(Function):
    """The complex DFT (``inverse``: its inverse) over ``axes``, each input axis first fitted to
    ``sizes``. A real input is transformed as complex, and its gradient is the real part."""

    def forward(self, x, axes=(), sizes=(), norm="backward", inverse=False):
        self.dtype, self.shape = x.dtype, x.shape
        self.axes, self.norm, self.inverse = axes, norm, inverse
        fn = np.fft.ifftn if inverse else np.fft.fftn
        out = fn(fit(x, axes, sizes), axes=axes, norm=norm)
        return out.astype(complex_dtype(x.dtype), copy=False)

    double_backward = True

    def backward(self, g):
        lengths = [self.shape[a] for a in self.axes]
        if not isinstance(g, np.ndarray):
            sizes = tuple(g.shape[a] for a in self.axes)
            gx = FFT.apply(
                g, axes=self.axes, sizes=sizes, norm=SWAP[self.norm], inverse=not self.inverse
            )
            gx = fit(gx, self.axes, lengths)
            return _real_part(gx) if self.dtype.kind != "c" else gx
        fn = np.fft.fftn if self.inverse else np.fft.ifftn
        gx = fit(fn(g, axes=self.axes, norm=SWAP[self.norm]), self.axes, lengths)
        if self.dtype.kind != "c":
            gx = gx.real
        return np.ascontiguousarray(gx, self.dtype)


class RFFT(Function):
    """The one-sided DFT of a real input along ``axis`` (n // 2 + 1 outputs of length ``n``).
    Its adjoint fills the missing half of the gradient's spectrum with zeros, not with the
    mirror images: those outputs were dropped, nothing flowed through them."""

    def forward(self, x, axis=-1, n=1, norm="backward"):
        self.dtype, self.len, self.axis, self.n, self.norm = x.dtype, x.shape[axis], axis, n, norm
        return np.fft.rfft(x, n, axis=axis, norm=norm).astype(complex_dtype(x.dtype), copy=False)

    double_backward = True

    def backward(self, g):
        full = fit(g, (self.axis,), (self.n,))
        if not isinstance(g, np.ndarray):
            gx = FFT.apply(
                full, axes=(self.axis,), sizes=(self.n,), norm=SWAP[self.norm], inverse=True
            )
            return fit(Real.apply(gx), (self.axis,), (self.len,))
        gx = np.fft.ifft(full, axis=self.axis, norm=SWAP[self.norm]).real
        return np.ascontiguousarray(fit(gx, (self.axis,), (self.len,)), self.dtype)


class IRFFT(Function):
    """The real inverse of a one-sided spectrum along ``axis``, of output length ``n``. The
    output reads bins 1 .. (n - 1) // 2 twice (as themselves and as their mirrored conjugates)
    and only the real part of bin 0 and, for even n, of bin n / 2; the gradient is therefore
    the one-sided transform of the output's gradient with those middle bins doubled."""

    def forward(self, x, axis=-1, n=2, norm="backward"):
        self.dtype, self.len, self.axis, self.n, self.norm = x.dtype, x.shape[axis], axis, n, norm
        return np.fft.irfft(x, n, axis=axis, norm=norm).astype(real_dtype(x.dtype), copy=False)

    double_backward = True

    def backward(self, g):
        if not isinstance(g, np.ndarray):
            gx = RFFT.apply(g, axis=self.axis, n=self.n, norm=SWAP[self.norm])
            twice = np.ones(gx.shape[self.axis], real_dtype(self.dtype))
            twice[1 : (self.n - 1) // 2 + 1] = 2
            shape = [1] * gx.ndim
            shape[self.axis] = -1
            gx = gx * _function.Tensor._make(twice.reshape(shape))
            return fit(gx, (self.axis,), (self.len,))
        gx = np.fft.rfft(g, axis=self.axis, norm=SWAP[self.norm])
        middle = [slice(None)] * gx.ndim
        middle[self.axis] = slice(1, (self.n - 1) // 2 + 1)
        gx[tuple(middle)] *= 2
        return np.ascontiguousarray(fit(gx, (self.axis,), (self.len,)), self.dtype)


class OverlapAdd(Function):
    """(..., frames, n) -> (..., length): frame k added in at offset k * hop (istft's sum);
    its adjoint reads each frame's window back out of the gradient."""

    def forward(self, x, hop=1, length=0):
        self.hop, self.n = hop, x.shape[-1]
        out = np.zeros((*x.shape[:-2], length), x.dtype)
        for k in range(x.shape[-2]):
            out[..., k * hop : k * hop + self.n] += x[..., k, :]
        return out

    double_backward = True

    def backward(self, g):
        if not isinstance(g, np.ndarray):
            return g.unfold(-1, self.n, self.hop)
        windows = np.lib.stride_tricks.sliding_window_view(g, self.n, axis=-1)
        return np.ascontiguousarray(windows[..., :: self.hop, :])
