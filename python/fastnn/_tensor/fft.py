"""torch.fft: the discrete Fourier transforms with torch's arguments (``n`` / ``s``, ``dim``,
``norm``), dtypes (a float32 input gives complex64; integers and bools compute in the default
float dtype) and errors. The transforms are the primitives of ops/fft.py; the n-dimensional
real and Hermitian ones are compositions of them, as their definitions are, so their gradients
need no code of their own. ``fastnn.fft`` re-exports this module's names.
"""

import numpy as np

from .._core import dtype as _dtype
from .._core.dims import wrap_dim
from ..autograd import function as _function
from ..autograd.grad_mode import no_grad as _no_grad
from . import creation as _creation
from .complex import _TORCH_NAMES
from .ops import fft as F

_NORMS = ("backward", "ortho", "forward")


def _norm(norm):
    if norm is None:
        return "backward"
    if norm not in _NORMS:
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    return norm


def _input(x, fn, real_only=False):
    """``x`` as a tensor the transforms take: float32/64 or complex; other numbers in the
    default float dtype, as torch promotes them."""
    if not isinstance(x, _function.Tensor):
        raise TypeError(f"{fn}(): argument 'input' must be Tensor, not {type(x).__name__}")
    d = x._data.dtype
    if real_only and d.kind == "c":
        raise RuntimeError(
            f"{fn} expects a real input tensor, but got {_TORCH_NAMES.get(d.name, d.name)}"
        )
    if d.kind in "biu":
        x = x.to(_dtype.default())
    elif d not in (_dtype.float32, _dtype.float64) and d.kind != "c":
        name = "BFloat16" if d is _dtype.bfloat16 else _TORCH_NAMES.get(d.name, d.name)
        raise RuntimeError(f"Unsupported dtype {name}")
    if not isinstance(x._data, np.ndarray):
        raise RuntimeError(  # noqa: TRY004 (torch's type for a tensor on the wrong device)
            f"{fn}: only CPU tensors are supported, got a {x.device} tensor"
        )
    return x


def _points(n):
    if n < 1:
        raise RuntimeError(f"Invalid number of data points ({n}) specified")
    return n


def _length(n, x, axis):
    return _points(x.shape[axis] if n is None else _int(n, "n"))


def _int(v, arg):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"argument '{arg}' must be int, not {type(v).__name__}")
    return int(v)


def _axes_sizes(x, s, dim, fn):
    """(axes, sizes) for an n-dimensional transform: ``dim`` wrapped and unique, ``s`` (-1 for
    "the input's size") matching it; without ``dim``, ``s`` names the last len(s) dims, and
    without either every dim."""
    nd = x._data.ndim
    if s is not None:
        s = [_int(v, "s") for v in s]
    if dim is None:
        if s is not None:
            if len(s) > nd:
                raise RuntimeError(
                    f"Got shape with {len(s)} values but input tensor only has {nd} dimensions."
                )
            dim = list(range(nd - len(s), nd))
        else:
            dim = list(range(nd))
    elif isinstance(dim, int):
        dim = [dim]
    axes = [wrap_dim(d, nd, fn=fn, scalar_ok=False) for d in dim]
    if len(set(axes)) != len(axes):
        raise RuntimeError("FFT dims must be unique")
    if s is None:
        s = [x.shape[a] for a in axes]
    elif len(s) != len(axes):
        raise RuntimeError("When given, dim and shape arguments must have the same length")
    sizes = [_points(x.shape[a] if n == -1 else n) for a, n in zip(axes, s)]
    return tuple(axes), tuple(sizes)


def _c2c(input, s, dim, norm, fn, inverse):
    x = _input(input, fn)
    axes, sizes = _axes_sizes(x, s, dim, fn)
    if not axes:  # nothing to transform (a 0-d input, dim=()): a complex copy
        return x.clone() if x._data.dtype.kind == "c" else x.to(F.complex_dtype(x._data.dtype))
    return F.FFT.apply(x, axes=axes, sizes=sizes, norm=_norm(norm), inverse=inverse)


def fft(input, n=None, dim=-1, norm=None, *, out=None):
    """The 1-D discrete Fourier transform along ``dim``."""
    return _out(_c2c(input, None if n is None else [_int(n, "n")], [dim], norm, "fft", False), out)


def ifft(input, n=None, dim=-1, norm=None, *, out=None):
    """The inverse of ``fft``."""
    return _out(_c2c(input, None if n is None else [_int(n, "n")], [dim], norm, "ifft", True), out)


def fft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return _out(_c2c(input, s, dim, norm, "fft2", False), out)


def ifft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return _out(_c2c(input, s, dim, norm, "ifft2", True), out)


def fftn(input, s=None, dim=None, norm=None, *, out=None):
    """The n-dimensional transform over ``dim`` (every dim by default, or the last len(s))."""
    return _out(_c2c(input, s, dim, norm, "fftn", False), out)


def ifftn(input, s=None, dim=None, norm=None, *, out=None):
    return _out(_c2c(input, s, dim, norm, "ifftn", True), out)


def _rfft(x, axis, n, norm):
    return F.RFFT.apply(x, axis=axis, n=n, norm=norm)


def _irfft(x, axis, n, norm):
    return F.IRFFT.apply(x, axis=axis, n=n, norm=norm)


def rfft(input, n=None, dim=-1, norm=None, *, out=None):
    """The one-sided transform of a real input: n // 2 + 1 bins along ``dim``."""
    x = _input(input, "rfft", real_only=True)
    axis = wrap_dim(dim, x._data.ndim, fn="rfft", scalar_ok=False)
    return _out(_rfft(x, axis, _length(n, x, axis), _norm(norm)), out)


def _half_input(x, fn):
    """A one-sided spectrum: complex (a real one is promoted, as torch does)."""
    x = _input(x, fn)
    if x._data.dtype.kind != "c":
        x = x.to(F.complex_dtype(x._data.dtype))
    return x


def irfft(input, n=None, dim=-1, norm=None, *, out=None):
    """The real signal of length ``n`` (default 2 (m - 1) for m bins) whose one-sided
    transform is ``input``."""
    x = _half_input(input, "irfft")
    axis = wrap_dim(dim, x._data.ndim, fn="irfft", scalar_ok=False)
    n = _points(2 * (x.shape[axis] - 1) if n is None else _int(n, "n"))
    return _out(_irfft(x, axis, n, _norm(norm)), out)


def _rfftn(x, s, dim, norm, fn):
    axes, sizes = _axes_sizes(x, s, dim, fn)
    if not axes:
        raise RuntimeError(f"{fn} must transform at least one axis")
    y = _rfft(x, axes[-1], sizes[-1], norm)
    if len(axes) > 1:
        y = F.FFT.apply(y, axes=axes[:-1], sizes=sizes[:-1], norm=norm, inverse=False)
    return y


def _irfftn(x, s, dim, norm, fn):
    axes, sizes = _axes_sizes(x, s, dim, fn)
    if not axes:
        raise RuntimeError(f"{fn} must transform at least one axis")
    sizes = list(sizes)
    if s is None or s[-1] == -1:  # the last length defaults to the full signal's
        sizes[-1] = _points(2 * (x.shape[axes[-1]] - 1))
    if len(axes) > 1:
        x = F.FFT.apply(x, axes=axes[:-1], sizes=tuple(sizes[:-1]), norm=norm, inverse=True)
    return _irfft(x, axes[-1], sizes[-1], norm)


def rfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    x = _input(input, "rfft2", real_only=True)
    return _out(_rfftn(x, s, dim, _norm(norm), "rfft2"), out)


def rfftn(input, s=None, dim=None, norm=None, *, out=None):
    x = _input(input, "rfftn", real_only=True)
    return _out(_rfftn(x, s, dim, _norm(norm), "rfftn"), out)


def irfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    x = _half_input(input, "irfft2")
    return _out(_irfftn(x, s, dim, _norm(norm), "irfft2"), out)


def irfftn(input, s=None, dim=None, norm=None, *, out=None):
    x = _half_input(input, "irfftn")
    return _out(_irfftn(x, s, dim, _norm(norm), "irfftn"), out)


# The Hermitian pair: hfft transforms the half spectrum of a signal that is Hermitian in time
# (so its transform is real), ihfft is its inverse. Each is the opposite real transform of the
# conjugate, with the scaling swapped.


def hfft(input, n=None, dim=-1, norm=None, *, out=None):
    x = _half_input(input, "hfft")
    axis = wrap_dim(dim, x._data.ndim, fn="hfft", scalar_ok=False)
    n = _points(2 * (x.shape[axis] - 1) if n is None else _int(n, "n"))
    return _out(_irfft(x.conj(), axis, n, F.SWAP[_norm(norm)]), out)


def ihfft(input, n=None, dim=-1, norm=None, *, out=None):
    x = _input(input, "ihfft", real_only=True)
    axis = wrap_dim(dim, x._data.ndim, fn="ihfft", scalar_ok=False)
    return _out(_rfft(x, axis, _length(n, x, axis), F.SWAP[_norm(norm)]).conj(), out)


def hfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    x = _half_input(input, "hfft2")
    return _out(_irfftn(x.conj(), s, dim, F.SWAP[_norm(norm)], "hfft2"), out)


def hfftn(input, s=None, dim=None, norm=None, *, out=None):
    x = _half_input(input, "hfftn")
    return _out(_irfftn(x.conj(), s, dim, F.SWAP[_norm(norm)], "hfftn"), out)


def ihfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    x = _input(input, "ihfft2", real_only=True)
    return _out(_rfftn(x, s, dim, F.SWAP[_norm(norm)], "ihfft2").conj(), out)


def ihfftn(input, s=None, dim=None, norm=None, *, out=None):
    x = _input(input, "ihfftn", real_only=True)
    return _out(_rfftn(x, s, dim, F.SWAP[_norm(norm)], "ihfftn").conj(), out)


def _out(result, out):
    if out is None:
        return result
    if not isinstance(out, _function.Tensor):
        raise TypeError(f"argument 'out' must be Tensor, not {type(out).__name__}")
    if out._data.dtype != result._data.dtype:
        raise RuntimeError(
            f"Expected out tensor to have dtype {result.dtype}, but got {out.dtype} instead"
        )
    if tuple(out.shape) != tuple(result.shape):
        out.resize_(tuple(result.shape))
    with _no_grad():
        out.copy_(result)
    return out


# ---- frequencies and shifts ---------------------------------------------------------------


def fftfreq(n, d=1.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """The sample frequencies of an n-point transform with sample spacing ``d``:
    0, 1, ..., then the negative ones, over n d."""
    n = _int(n, "n")
    vals = np.fft.fftfreq(n, 1.0).astype(np.float64) / d if n else np.zeros(0)
    return _freqs(vals, out, dtype, device, requires_grad)


def rfftfreq(n, d=1.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """The non-negative frequencies of ``fftfreq``: n // 2 + 1 of them."""
    n = _int(n, "n")
    vals = np.fft.rfftfreq(n, 1.0).astype(np.float64) / d if n else np.zeros(0)
    return _freqs(vals, out, dtype, device, requires_grad)


def _freqs(vals, out, dtype, device, requires_grad):
    dt = _dtype.default() if dtype is None else _dtype.to_dtype(dtype)
    t = _creation.tensor(vals, dtype=dt, device=device, requires_grad=requires_grad)
    return _out(t, out)


def _shift(input, dim, sign, fn):
    if not isinstance(input, _function.Tensor):
        raise TypeError(f"{fn}(): argument 'input' must be Tensor, not {type(input).__name__}")
    nd = input._data.ndim
    if dim is None:
        axes = list(range(nd))
    else:
        axes = [dim] if isinstance(dim, int) else list(dim)
        axes = [wrap_dim(d, nd, fn=fn) for d in axes]
    if not axes or nd == 0:  # a roll by nothing: torch's error
        raise RuntimeError("`shifts` required")
    shifts = [sign * (input.shape[a] // 2) for a in axes]
    return input.roll(tuple(shifts), tuple(axes))


def fftshift(input, dim=None):
    """Moves the zero frequency to the middle of each dim in ``dim`` (every dim by default)."""
    return _shift(input, dim, 1, "fftshift")


def ifftshift(input, dim=None):
    """The inverse of ``fftshift`` (they differ for odd lengths)."""
    return _shift(input, dim, -1, "ifftshift")


__all__ = [
    "fft",
    "fft2",
    "fftfreq",
    "fftn",
    "fftshift",
    "hfft",
    "hfft2",
    "hfftn",
    "ifft",
    "ifft2",
    "ifftn",
    "ifftshift",
    "ihfft",
    "ihfft2",
    "ihfftn",
    "irfft",
    "irfft2",
    "irfftn",
    "rfft",
    "rfft2",
    "rfftfreq",
    "rfftn",
]
