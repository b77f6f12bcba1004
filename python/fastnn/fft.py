"""``fastnn.fft``: torch.fft's discrete Fourier transforms (fft, ifft, rfft, irfft, hfft, ihfft and
their 2-D and n-D forms), fftfreq / rfftfreq and fftshift / ifftshift, with torch's arguments,
dtypes, errors and gradients. They live in ``_tensor/fft.py``, below the Tensor's own ``stft``;
this module only names them. Transforms run on numpy's pocketfft, on the CPU."""

from ._tensor import fft as _impl
from ._tensor.fft import *  # the public names, listed once in _tensor/fft.py

__all__ = list(_impl.__all__)
