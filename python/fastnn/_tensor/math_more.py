"""More element-wise Tensor methods and small queries (a mixin of ``Tensor``): torch's aliases
(absolute, greater, not_equal...), special functions (erfc, erfinv, lgamma, digamma, i0, logit,
xlogy, sinc), sign and float helpers (sgn, signbit, copysign, ldexp, fmax, fmin, float_power,
heaviside, logaddexp2, nextafter, gcd, lcm), the dtype casts byte / char / short, and the storage
and complex-number queries a real tensor answers trivially (is_conj, conj, data_ptr, nbytes...).

Differentiable methods are compositions of differentiable ops, or the host primitives of
``ops/special.py``; integer-only ones (gcd, lcm) and piecewise-constant ones (signbit, heaviside,
nextafter) run on numpy and record no gradient, as in torch.
"""

import math

import numpy as np

from .._core import dtype as _dtype
from ..autograd import function as _function
from . import functions as _fns
from .logic import _host, _wrap_like
from .ops import special as S


def _floating(x):
    d = x._data.dtype
    if d.kind == "c":  # these are real functions here; a cast would drop the imaginary part
        raise NotImplementedError(f"this function is not implemented for complex tensors ({d})")
    return x if _dtype.is_floating(d) else x.to(_dtype.default())


def _scalar_or_tensor(t, other, name):
    if not isinstance(other, (_function.Tensor, int, float, bool)):
        raise TypeError(
            f"{name}(): argument 'other' must be Tensor or Number, not {type(other).__name__}"
        )


def _host_binary(t, other, fn, name, kinds=None):
    """fn(t, other) on the host with numpy's dtype rules narrowed to torch's (a Python scalar
    does not widen a tensor's dtype); no gradient."""
    _scalar_or_tensor(t, other, name)
    a = _host(t)
    b = _host(other) if isinstance(other, _function.Tensor) else other
    if kinds is not None:
        for v in (a, b):
            kind = np.asarray(v).dtype.kind
            if kind not in kinds:
                dt = _dtype.name(np.asarray(v).dtype)
                raise RuntimeError(f"{name}_cpu not implemented for '{dt}'")
    dt = _fns._result_dtype((t, other))
    try:
        r = fn(a, b)
    except ValueError:
        raise RuntimeError(
            f"{name}: shapes {list(t.shape)} and {list(np.shape(b))} cannot be broadcast"
        ) from None
    return _wrap_like(t, np.asarray(r).astype(dt, copy=False))


class MathMoreMixin:
    __slots__ = ()

    # ---- aliases ------------------------------------------------------------------------------

    def absolute(self):
        return self.abs()

    def absolute_(self):
        return self.abs_()

    def negative_(self):
        return self.neg_()

    def positive(self):
        if self._data.dtype.kind == "b":
            raise RuntimeError(
                "The `+` operator, on a bool tensor is not supported. If you are trying to "
                "invert a mask, use the `~` or `logical_not()` operator instead."
            )
        return self

    def greater(self, other):
        return self.gt(other)

    def greater_equal(self, other):
        return self.ge(other)

    def less(self, other):
        return self.lt(other)

    def less_equal(self, other):
        return self.le(other)

    def not_equal(self, other):
        return self.ne(other)

    def sgn(self):
        return self.sign()  # real tensors: sgn is sign

    # ---- special functions --------------------------------------------------------------------

    def erfc(self):
        return S.Erfc.apply(_floating(self))

    def erfinv(self):
        return S.Erfinv.apply(_floating(self))

    def lgamma(self):
        return S.Lgamma.apply(_floating(self))

    def digamma(self):
        return S.Digamma.apply(_floating(self))

    def i0(self):
        return S.I0.apply(_floating(self))

    def logit(self, eps=None):
        """log(x / (1 - x)); with ``eps`` the input is first clamped to [eps, 1 - eps]."""
        x = _floating(self)
        if eps is not None:
            x = x.clamp(eps, 1 - eps)
        return x.log() - (-x).log1p()

    def xlogy(self, other):
        """self * log(other), 0 where self is 0 (unless other is NaN)."""
        x = _floating(self)
        if isinstance(other, _function.Tensor):
            y = _floating(other)
        else:
            y = _wrap_like(x, np.asarray(other, dtype=x._data.dtype))
        zero = (x == 0) & ~y.isnan()
        safe_y = _fns.where(zero, 1.0, y)  # keeps log(0) out of the masked branch's gradient
        return _fns.where(zero, 0.0, x * safe_y.log())

    def sinc(self):
        """sin(pi x) / (pi x), 1 at 0."""
        x = _floating(self)
        zero = x == 0
        px = _fns.where(zero, 1.0, x) * math.pi
        return _fns.where(zero, 1.0, px.sin() / px)

    def hardshrink(self, lambd=0.5):
        """x where |x| > lambd, else 0."""
        return _fns.where(self.abs() > lambd, self, 0.0).to(self.dtype)

    def prelu(self, weight):
        """x where x >= 0, else weight * x, one weight for all or one per channel (dim 1)."""
        if not isinstance(weight, _function.Tensor):
            raise TypeError(
                f"prelu(): argument 'weight' must be Tensor, not {type(weight).__name__}"
            )
        n = weight.numel()
        if n != 1:
            channels = self.shape[1] if self.ndim >= 2 else 1
            if weight.ndim != 1 or n != channels:
                raise RuntimeError(
                    f"prelu(): weight of shape {list(weight.shape)} must have 1 element or one "
                    f"per channel ({channels}) of input {list(self.shape)}"
                )
            weight = weight.reshape([n] + [1] * (self.ndim - 2))
        elif self.ndim == 0:
            weight = weight.reshape(())
        return _fns.where(self >= 0, self, weight * self)

    def deg2rad(self):
        return _floating(self) * (math.pi / 180.0)

    def rad2deg(self):
        return _floating(self) * (180.0 / math.pi)

    def logaddexp2(self, other):
        """log2(2^x + 2^y), shifted by the larger input so nothing overflows."""
        m = _fns.maximum(self, other).detach()  # the result does not depend on the shift
        return m + ((self - m).exp2() + (other - m).exp2()).log2()

    def float_power(self, exponent):
        """pow in float64, whatever the inputs' dtypes."""
        base = self.double()
        if isinstance(exponent, _function.Tensor):
            exponent = exponent.double()
        return base.pow(exponent)

    def copysign(self, other):
        """|self| with the sign bit of ``other`` (-0.0 counts as negative)."""
        x = _floating(self)
        if isinstance(other, _function.Tensor):
            neg = other.signbit()
        else:
            neg = _wrap_like(x, np.signbit(np.asarray(other)))
        return _fns.where(neg, -x.abs(), x.abs())

    def ldexp(self, other):
        """self * 2^other."""
        if isinstance(other, _function.Tensor):
            return _floating(self) * _floating(other).exp2()
        return _floating(self) * (2.0**other)

    def fmax(self, other):
        """The larger of the two, ignoring a NaN on one side (NaN only where both are)."""
        keep = (self >= other) | other.isnan()
        return _fns.where(keep, self, other)

    def fmin(self, other):
        keep = (self <= other) | other.isnan()
        return _fns.where(keep, self, other)

    # ---- no gradient: sign bits, steps, integers ------------------------------------------

    def signbit(self):
        return _wrap_like(self, np.signbit(_host(self)))

    def heaviside(self, values):
        """0 below 0, 1 above, ``values`` at 0 (torch: both tensors, of one dtype)."""
        if not isinstance(values, _function.Tensor):
            raise TypeError(
                f"heaviside(): argument 'values' must be Tensor, not {type(values).__name__}"
            )
        if values._data.dtype != self._data.dtype:
            raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes")
        return _wrap_like(self, np.heaviside(_host(self), _host(values)).astype(self._data.dtype))

    def nextafter(self, other):
        """The next float after self towards other; its gradient is 1 for self (torch's)."""
        step = _host_binary(self, other, np.nextafter, "nextafter", kinds="f")
        return self + (step - self).detach() if self.requires_grad else step

    def gcd(self, other):
        return _host_binary(self, other, np.gcd, "gcd", kinds="iub")

    def lcm(self, other):
        return _host_binary(self, other, np.lcm, "lcm", kinds="iub")

    # ---- casts --------------------------------------------------------------------------------

    def byte(self):
        return self.to(_dtype.PUBLIC["uint8"])

    def char(self):
        return self.to(_dtype.PUBLIC["int8"])

    def short(self):
        return self.to(_dtype.PUBLIC["int16"])

    # ---- storage and complex queries of real tensors -------------------------------------

    @property
    def is_cpu(self):
        return self.device.type == "cpu"

    # Device kinds fastnn has no backend for: a program's "if x.is_xpu or x.is_mps" checks run,
    # and read False because every fastnn tensor lives on the CPU or a CUDA device.
    is_xpu = property(lambda self: self.device.type == "xpu")
    is_mps = property(lambda self: self.device.type == "mps")
    is_meta = property(lambda self: self.device.type == "meta")
    is_xla = property(lambda self: self.device.type == "xla")

    def get_device(self):
        """-1 on the CPU, else the device index."""
        d = self.device
        return -1 if d.type == "cpu" else (d.index or 0)

    @property
    def itemsize(self):
        return self._data.dtype.itemsize

    @property
    def nbytes(self):
        return self.numel() * self._data.dtype.itemsize

    def data_ptr(self):
        a = self._data
        if isinstance(a, np.ndarray):
            return a.__array_interface__["data"][0] if a.size else 0
        return a.__cuda_array_interface__["data"][0]

    def storage_offset(self):
        """Elements between the start of the storage and this view's first element."""
        a = self._data
        if not isinstance(a, np.ndarray) or a.size == 0:
            return 0
        base = a
        while isinstance(base.base, np.ndarray):
            base = base.base
        start = min(base.__array_interface__["data"][0], base.ctypes.data)
        return (a.__array_interface__["data"][0] - start) // a.dtype.itemsize

    def is_signed(self):
        d = self._data.dtype
        return d.kind == "i" or _dtype.is_floating(d)

    def is_complex(self):
        return False

    def is_conj(self):
        return False

    def is_neg(self):
        return False

    def is_inference(self):
        """False: fastnn's tensors carry no inference flag (torch's made in inference_mode
        answer True; fastnn's inference_mode only turns recording off)."""
        return False

    def is_same_size(self, other):
        return tuple(self.shape) == tuple(other.shape)

    def is_nonzero(self):
        n = self.numel()
        if n == 0:
            raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
        if n > 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.item())

    def conj(self):
        return self  # real tensors: their own conjugate, as torch returns them

    resolve_conj = resolve_neg = conj_physical = conj

    @property
    def H(self):
        if self.ndim > 2:
            raise RuntimeError("tensor.H is only supported on matrices (2-D tensors).")
        return self.t()

    @property
    def mH(self):
        return self.mT

    def adjoint(self):
        return self.mT

    def new_empty_strided(self, size, stride, *, dtype=None, device=None, requires_grad=False):
        """An uninitialised tensor of ``size`` (contiguous: fastnn keeps no custom strides)."""
        return self.new_empty(tuple(size), dtype=dtype, device=device, requires_grad=requires_grad)
