"""torch.stft and torch.istft: short-time Fourier transforms as compositions of differentiable
ops (padding by slices and flips, framing by ``unfold``, the transforms of fft.py, and an
overlap-add primitive), so gradients flow through both without code of their own."""

import warnings

import numpy as np

from ..autograd import function as _function
from . import creation as _creation
from . import fft as _fft
from . import functions as _fns
from .complex import view_as_real
from .ops import fft as F


def _on_host(x, fn):
    if not isinstance(x._data, np.ndarray):
        raise RuntimeError(  # noqa: TRY004 (torch's type for a tensor on the wrong device)
            f"{fn}: only CPU tensors are supported (complex tensors live on the CPU), got a "
            f"{x.device} tensor"
        )


def _pad_end(x, p, mode):
    """``x`` padded by ``p`` on both ends of its last dim (F.pad's modes on one dim)."""
    if p == 0:
        return x
    n = x.shape[-1]
    if mode == "reflect":
        if p >= n:
            raise RuntimeError(
                f"Argument #4: Padding size should be less than the corresponding input "
                f"dimension, but got: padding ({p}, {p}) at dimension {x.ndim} of input "
                f"{[1, *x.shape]}"
            )
        left, right = x[..., 1 : p + 1].flip(-1), x[..., n - p - 1 : n - 1].flip(-1)
    elif mode == "replicate":
        left = x[..., :1].expand(*x.shape[:-1], p)
        right = x[..., n - 1 :].expand(*x.shape[:-1], p)
    elif mode == "circular":
        if p > n:
            raise RuntimeError("Padding value causes wrapping around more than once.")
        left, right = x[..., n - p :], x[..., :p]
    elif mode == "constant":
        left = right = _creation.zeros((*x.shape[:-1], p), dtype=x.dtype, device=x.device)
    else:
        raise NotImplementedError(
            f"stft: pad_mode {mode!r} is not supported (constant, reflect, replicate, circular)"
        )
    return _fns.cat([left, x, right], -1)


def _signature(fn, x, n_fft, hop, win_length, window, normalized, onesided, return_complex):
    w = "None" if window is None else f"{window.type()}{{{list(window.shape)}}}"
    return (
        f"{fn}({x.type()}{list(x.shape)}, n_fft={n_fft}, hop_length={hop}, "
        f"win_length={win_length}, window={w}, normalized={int(normalized)}, "
        f"onesided={onesided}, return_complex={int(bool(return_complex))})"
    )


def _window(window, win_length, n_fft, x, sig):
    """The window as a length-n_fft tensor, centred and zero-padded when shorter; without one,
    a rectangle of win_length ones (None where that is all n_fft samples: no product)."""
    if window is None:
        if win_length == n_fft:
            return None
        window = _creation.ones(win_length, dtype=F.real_dtype(x._data.dtype), device=x.device)
    elif window.ndim != 1 or window.shape[0] != win_length:
        raise RuntimeError(
            f"{sig} : expected a 1D window tensor of size equal to win_length={win_length}, "
            f"but got window with size {list(window.shape)}"
        )
    if win_length < n_fft:
        left = (n_fft - win_length) // 2
        z1 = _creation.zeros(left, dtype=window.dtype, device=window.device)
        z2 = _creation.zeros(n_fft - win_length - left, dtype=window.dtype, device=window.device)
        window = _fns.cat([z1, window, z2])
    return window


def _check_sizes(sig, n_fft, hop, win_length):
    if hop <= 0:
        raise RuntimeError(f"{sig} : expected hop_length > 0, but got hop_length={hop}")
    if win_length <= 0 or win_length > n_fft:
        raise RuntimeError(
            f"{sig} : expected 0 < win_length <= n_fft, but got win_length={win_length}"
        )


def stft(
    input,
    n_fft,
    hop_length=None,
    win_length=None,
    window=None,
    center=True,
    pad_mode="reflect",
    normalized=False,
    onesided=None,
    return_complex=None,
):
    """The short-time Fourier transform: (freq, frames) per signal of ``input`` ((T) or (B, T)),
    each frame ``n_fft`` samples, ``hop_length`` apart, multiplied by ``window``."""
    if not isinstance(input, _function.Tensor):
        raise TypeError(f"stft(): argument 'input' must be Tensor, not {type(input).__name__}")
    x = input
    _on_host(x, "stft")
    complex_in = x._data.dtype.kind == "c" or (window is not None and window.is_complex())
    if return_complex is None:
        if not complex_in:
            raise RuntimeError(
                "stft requires the return_complex parameter be given for real inputs, and will "
                "further require that return_complex=True in a future PyTorch release."
            )
        return_complex = True
    hop = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    if x.ndim not in (1, 2):
        sig = _signature("stft", x, n_fft, hop, win_length, window, normalized, onesided, True)
        raise RuntimeError(f"{sig} : expected a 1D or 2D tensor")
    if center:
        batched = x.ndim == 2
        x = _pad_end(x if batched else x.unsqueeze(0), n_fft // 2, pad_mode)
        x = x if batched else x.squeeze(0)
    sig = _signature("stft", x, n_fft, hop, win_length, window, normalized, onesided, True)
    length = x.shape[-1]
    if n_fft <= 0 or n_fft > length:
        raise RuntimeError(f"{sig} : expected 0 < n_fft < {length + 1}, but got n_fft={n_fft}")
    _check_sizes(sig, n_fft, hop, win_length)
    w = _window(window, win_length, n_fft, x, sig)
    if onesided is None:
        onesided = not complex_in
    elif onesided and complex_in:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    frames = x.unfold(-1, n_fft, hop)  # (..., frames, n_fft)
    if w is not None:
        frames = frames * w
    norm = "ortho" if normalized else "backward"
    spec = _fft.rfft(frames, norm=norm) if onesided else _fft.fft(frames, norm=norm)
    spec = spec.transpose(-1, -2)
    if not return_complex:
        warnings.warn(
            "stft with return_complex=False is deprecated. In a future pytorch release, stft "
            "will return complex tensors for all inputs, and return_complex=False will raise "
            "an error.",
            UserWarning,
            stacklevel=2,
        )
        return view_as_real(spec)
    return spec


def istft(
    input,
    n_fft,
    hop_length=None,
    win_length=None,
    window=None,
    center=True,
    normalized=False,
    onesided=None,
    length=None,
    return_complex=False,
):
    """The inverse of ``stft``: frames transformed back, windowed, overlap-added and divided by
    the summed squared window."""
    if not isinstance(input, _function.Tensor):
        raise TypeError(f"istft(): argument 'input' must be Tensor, not {type(input).__name__}")
    _on_host(input, "istft")
    if input._data.dtype.kind != "c":
        raise RuntimeError(
            "istft requires a complex-valued input tensor matching the output from stft with "
            "return_complex=True."
        )
    hop = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    sig = _signature("istft", input, n_fft, hop, win_length, window, normalized, onesided, False)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"{sig} : expected a tensor with a 2 or 3 dimensions of complex dtype")
    _check_sizes(sig, n_fft, hop, win_length)
    w = _window(window, win_length, n_fft, input, sig)
    n_bins, n_frames = input.shape[-2], input.shape[-1]
    if onesided is None:
        onesided = n_bins != n_fft
    if onesided:
        if n_fft // 2 + 1 != n_bins:
            raise RuntimeError(
                f"{sig} : expected the frequency dimension (3rd to the last) of the input tensor "
                f"to match n_fft / 2 + 1 when onesided=True, but got {n_bins}"
            )
    elif n_fft != n_bins:
        raise RuntimeError(
            f"{sig} : expected the frequency dimension (3rd to the last) of the input tensor "
            f"to match n_fft when onesided=False, but got {n_bins}"
        )
    if return_complex:
        if onesided:
            raise RuntimeError("Cannot have onesided output if window or input is complex")
    elif w is not None and w.is_complex():
        raise RuntimeError("Complex windows are incompatible with return_complex=False")
    spec = input.transpose(-1, -2)  # (..., frames, bins)
    norm = "ortho" if normalized else "backward"
    if return_complex:
        frames = _fft.ifft(spec, n_fft, norm=norm)
    else:
        if not onesided:
            spec = spec[..., : n_fft // 2 + 1]
        frames = _fft.irfft(spec, n_fft, norm=norm)
    real_dt = F.real_dtype(input._data.dtype)
    if w is None:
        w = _creation.ones(n_fft, dtype=real_dt, device=input.device)
    frames = frames * w
    total = n_fft + hop * (n_frames - 1)
    y = F.OverlapAdd.apply(frames, hop=hop, length=total)
    wsq = (w.detach() * w.detach())._data
    env = np.zeros(total, wsq.dtype)
    for k in range(n_frames):
        env[k * hop : k * hop + n_fft] += wsq
    start = n_fft // 2 if center else 0
    end = total - (n_fft // 2 if center else 0) if length is None else start + length
    end = min(end, total)
    y = y[..., start:end]
    env = env[start:end]
    if env.size and np.abs(env).min() < 1e-11:
        raise RuntimeError(f"{sig} window overlap add min: {np.abs(env).min():g}")
    y = y / _function.Tensor._make(env)
    if length is not None and y.shape[-1] < length:
        warnings.warn(
            "The length of signal is shorter than the length parameter. Result is being padded "
            "with zeros in the tail. Please check your center and hop_length settings.",
            UserWarning,
            stacklevel=2,
        )
        extra = _creation.zeros(
            (*y.shape[:-1], length - y.shape[-1]), dtype=y.dtype, device=y.device
        )
        y = _fns.cat([y, extra], -1)
    return y


__all__ = ["istft", "stft"]


class SpectralMixin:
    """``x.stft(...)`` and ``x.istft(...)``, as torch's Tensor methods."""

    __slots__ = ()

    def stft(
        self,
        n_fft,
        hop_length=None,
        win_length=None,
        window=None,
        center=True,
        pad_mode="reflect",
        normalized=False,
        onesided=None,
        return_complex=None,
    ):
        return stft(
            self,
            n_fft,
            hop_length,
            win_length,
            window,
            center,
            pad_mode,
            normalized,
            onesided,
            return_complex,
        )

    def istft(
        self,
        n_fft,
        hop_length=None,
        win_length=None,
        window=None,
        center=True,
        normalized=False,
        onesided=None,
        length=None,
        return_complex=False,
    ):
        return istft(
            self,
            n_fft,
            hop_length,
            win_length,
            window,
            center,
            normalized,
            onesided,
            length,
            return_complex,
        )
