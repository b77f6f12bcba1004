"""Complex tensors: the parts and views of a complex tensor (``real``, ``imag``, ``view_as_real``
and back), conjugation, ``angle``, ``sgn``, and the functions that build one (``complex``,
``polar``). A real tensor answers these trivially, as torch's do.

torch's ``conj()`` is lazy (a flag on a view, resolved on first write or copy); here it always
makes the conjugate, so ``is_conj()`` is always False and ``resolve_conj()`` has nothing to
resolve. Values and gradients are the same; only the memory sharing differs.
"""

import builtins
import functools

import numpy as np

from .._core import dtype as _dtype
from ..autograd import function as _function
from .ops import complex as C


def _is_complex(t):
    return t._data.dtype.kind == "c"


def _host(t, fn):
    if not isinstance(t._data, np.ndarray):
        raise RuntimeError(  # noqa: TRY004 (torch's type for a tensor on the wrong device)
            f"{fn}: complex tensors live on the CPU only, got {t.device}"
        )


class ComplexMixin:
    __slots__ = ()

    def is_complex(self):
        return _is_complex(self)

    def is_conj(self):
        return False

    @property
    def real(self):
        """The real part: a view sharing this tensor's storage (writes reach it), as torch's."""
        if not _is_complex(self):
            return self
        return self._view_of(C.Real.apply(self), part_again, "real")

    @real.setter
    def real(self, value):
        self.real.copy_(value)

    @property
    def imag(self):
        """The imaginary part, a view as ``real``; a real tensor has none (torch's error)."""
        if not _is_complex(self):
            raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
        return self._view_of(C.Imag.apply(self), part_again, "imag")

    @imag.setter
    def imag(self, value):
        self.imag.copy_(value)

    def conj(self):
        return C.Conj.apply(self) if _is_complex(self) else self

    conj_physical = conj

    def resolve_conj(self):
        return self

    def angle(self):
        if not _is_complex(self):
            return super().angle()
        return C.Angle.apply(self)

    def sgn(self):
        """z / |z| (0 at 0) for a complex tensor; sign for a real one."""
        if not _is_complex(self):
            return self.sign()
        r = self.abs()
        safe = r.detach().eq(0).to(r.dtype) + r
        return self / safe

    @property
    def H(self):
        if self.ndim > 2:
            raise RuntimeError("tensor.H is only supported on matrices (2-D tensors).")
        return self.t().conj()

    @property
    def mH(self):
        return self.mT.conj()

    def adjoint(self):
        return self.mT.conj()

    def __complex__(self):
        return builtins.complex(self._scalar())


# The real-only methods: numpy would order complex numbers lexicographically, round or clip each
# part, where torch refuses. (exception type, message) per name, as torch words them.
def _kernel(name):
    return NotImplementedError, f"\"{name}\" not implemented for '{{dtype}}'"


_REFUSED = {
    "max": _kernel("max_all"),
    "min": _kernel("min_all"),
    "amax": _kernel("max_values_cpu"),
    "amin": _kernel("min_values_cpu"),
    "argmax": (RuntimeError, "argmax(): does not support complex input"),
    "argmin": (RuntimeError, "argmin(): does not support complex input"),
    "sort": (RuntimeError, "Sort does not support complex dtypes on CPU"),
    "argsort": (RuntimeError, "Sort does not support complex dtypes on CPU"),
    "msort": (RuntimeError, "Sort does not support complex dtypes on CPU"),
    "topk": (RuntimeError, "topk does not support complex dtypes on CPU"),
    "kthvalue": _kernel("kthvalue_cpu"),
    "median": _kernel("median_cpu"),
    "nanmedian": _kernel("median_cpu"),
    "unique": _kernel("unique"),
    "aminmax": _kernel("aminmax_cpu"),
    "cummax": _kernel("cummax_cpu"),
    "cummin": _kernel("cummin_cpu"),
    "clamp": (NotImplementedError, "clamp is not supported for complex types"),
    "clip": (NotImplementedError, "clamp is not supported for complex types"),
    "clamp_min": (NotImplementedError, "clamp is not supported for complex types"),
    "clamp_max": (NotImplementedError, "clamp is not supported for complex types"),
    "relu": (NotImplementedError, "clamp is not supported for complex types"),
    "maximum": (RuntimeError, "maximum not implemented for complex tensors."),
    "minimum": (RuntimeError, "minimum not implemented for complex tensors."),
    "fmax": (RuntimeError, "fmax not implemented for complex tensors."),
    "fmin": (RuntimeError, "fmin not implemented for complex tensors."),
    "floor": (NotImplementedError, "floor is not supported for complex inputs"),
    "ceil": (NotImplementedError, "ceil is not supported for complex inputs"),
    "trunc": (NotImplementedError, "trunc is not supported for complex inputs"),
    "round": _kernel("round_vml_cpu"),
    "frac": _kernel("frac_cpu"),
    "sign": (
        NotImplementedError,
        (
            "Unlike NumPy, torch.sign is not intended to support complex numbers. Please use "
            "torch.sgn instead."
        ),
    ),
    "signbit": (NotImplementedError, "signbit is not implemented for complex tensors."),
    "heaviside": (RuntimeError, "heaviside is not yet implemented for complex tensors."),
    "floor_divide": _kernel("div_floor_cpu"),
    "__floordiv__": _kernel("div_floor_cpu"),
    "__rfloordiv__": _kernel("div_floor_cpu"),
    "remainder": _kernel("remainder_cpu"),
    "__mod__": _kernel("remainder_cpu"),
    "__rmod__": _kernel("remainder_cpu"),
    "fmod": _kernel("fmod_cpu"),
    "erf": _kernel("erf_vml_cpu"),
    "erfc": _kernel("erfc_vml_cpu"),
    "erfinv": _kernel("erfinv_vml_cpu"),
    "lgamma": _kernel("lgamma_vml_cpu"),
    "digamma": _kernel("digamma"),
    "atan2": _kernel("atan2_cpu"),
    "arctan2": _kernel("atan2_cpu"),
    "hypot": _kernel("hypot_cpu"),
    "copysign": _kernel("copysign_cpu"),
    "logit": _kernel("logit_cpu"),
    "xlogy": _kernel("xlogy_cpu"),
    "nextafter": _kernel("nextafter_cpu"),
    "isposinf": (RuntimeError, "isposinf does not support complex inputs."),
    "isneginf": (RuntimeError, "isneginf does not support complex inputs."),
    "quantile": (RuntimeError, "quantile() input tensor must be either float or double dtype"),
    "nanquantile": (
        RuntimeError,
        "quantile() input tensor must be either float or double dtype",
    ),
}


def _torch_type_name(d):
    return _TORCH_NAMES.get(d.name, d.name)


# The two-operand ones, whose other operand may be the complex one.
_BINARY = frozenset(
    [
        "maximum",
        "minimum",
        "fmax",
        "fmin",
        "heaviside",
        "floor_divide",
        "__floordiv__",
        "__rfloordiv__",
        "remainder",
        "__mod__",
        "__rmod__",
        "fmod",
        "atan2",
        "arctan2",
        "hypot",
        "copysign",
        "xlogy",
        "nextafter",
    ]
)


def _refusing(name, exc, msg, real):
    """``real`` (the method it stands in front of), refusing complex operands first. Called on
    every real tensor too, so it does one test and calls ``real`` directly."""

    def refuse(d, args, kwargs):
        if name in ("max", "min") and (args or kwargs):  # the reduction along a dim
            raise RuntimeError(f"{name}(): does not support complex input")
        raise exc(msg.format(dtype=_torch_type_name(d)))

    if name in _BINARY:

        def method(self, *args, **kwargs):
            d = self._data.dtype
            other = args[0] if args else next(iter(kwargs.values()), None)
            if isinstance(other, _function.Tensor) and other._data.dtype.kind == "c":
                d = other._data.dtype
            if d.kind == "c":
                refuse(d, args, kwargs)
            return real(self, *args, **kwargs)

    else:

        def method(self, *args, **kwargs):
            if self._data.dtype.kind == "c":
                refuse(self._data.dtype, args, kwargs)
            return real(self, *args, **kwargs)

    # real's name, doc and signature (``__wrapped__``): the axis= / keepdims= aliases are
    # added to the methods whose signature names dim / keepdim
    return functools.wraps(real)(method)


def install_refusals(cls):
    """Put the refusing forms in front of ``cls``'s real-only methods (those it has)."""
    for name, (exc, msg) in _REFUSED.items():
        real = getattr(cls, name, None)
        if real is not None:
            setattr(ComplexMixin, name, _refusing(name, exc, msg, real))


def part_again(base, which):
    """The part view ``which`` of ``base`` made again (after an in-place op changed base's
    history, views.py remakes its live views with this)."""
    if which == "real":
        return base.real
    if which == "imag":
        return base.imag
    return view_as_real(base) if which == "as_real" else view_as_complex(base)


def view_as_real(input):
    """A complex tensor as a real one with a last dimension of 2 (real, imaginary), sharing
    its storage."""
    if not isinstance(input, _function.Tensor):
        raise TypeError(
            f"view_as_real(): argument 'input' must be Tensor, not {type(input).__name__}"
        )
    if not _is_complex(input):
        raise RuntimeError("view_as_real is only supported for complex tensors")
    _host(input, "view_as_real")
    return input._view_of(C.ViewAsReal.apply(input), part_again, "as_real")


def view_as_complex(input):
    """A real tensor whose last dimension holds (real, imaginary) pairs as a complex tensor
    sharing its storage; the pairs must be adjacent in memory, as torch requires."""
    if not isinstance(input, _function.Tensor):
        raise TypeError(
            f"view_as_complex(): argument 'input' must be Tensor, not {type(input).__name__}"
        )
    a = input._data
    if a.dtype == _dtype.float16:
        raise RuntimeError("view_as_complex: fastnn has no complex32 (ComplexHalf) dtype")
    if a.dtype not in (_dtype.float32, _dtype.float64):
        raise RuntimeError(
            "view_as_complex is only supported for half, float and double tensors, but got a "
            f"tensor of scalar type: {_torch_type_name(a.dtype)}"
        )
    _host(input, "view_as_complex")
    if a.ndim == 0 or a.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    if a.strides[-1] != a.itemsize:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    pair = 2 * a.itemsize
    if any(s % pair for n, s in zip(a.shape[:-1], a.strides[:-1]) if n > 1):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
    if input.storage_offset() % 2:
        raise RuntimeError("Tensor must have a storage_offset divisible by 2")
    return input._view_of(C.ViewAsComplex.apply(input), part_again, "as_complex")


def complex(real, imag):
    """The complex tensor real + i imag (both float16/32/64 of one dtype, broadcast)."""
    T = _function.Tensor
    for name, t in (("real", real), ("imag", imag)):
        if not isinstance(t, T):
            raise TypeError(f"complex(): argument '{name}' must be Tensor, not {type(t).__name__}")
    dr, di = real._data.dtype, imag._data.dtype
    if not (_dtype.is_floating(dr) and _dtype.is_floating(di)):
        raise RuntimeError(
            "Expected both inputs to be Half, Float or Double tensors but got "
            f"{_TORCH_NAMES.get(dr.name, dr.name)} and {_TORCH_NAMES.get(di.name, di.name)}"
        )
    if dr != di:
        raise RuntimeError(
            f"Expected object of scalar type {_TORCH_NAMES.get(dr.name, dr.name)} but got "
            f"scalar type {_TORCH_NAMES.get(di.name, di.name)} for second argument"
        )
    if dr == _dtype.float16:
        raise RuntimeError("complex(): fastnn has no complex32 (ComplexHalf) dtype")
    _host(real, "complex")
    return C.MakeComplex.apply(real, imag)


def polar(abs, angle):
    """The complex tensor abs * (cos(angle) + i sin(angle))."""
    T = _function.Tensor
    for name, t in (("abs", abs), ("angle", angle)):
        if not isinstance(t, T):
            raise TypeError(f"polar(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if abs._data.dtype != angle._data.dtype or not _dtype.is_floating(abs._data.dtype):
        complex(abs, angle)  # torch's checks and messages are the same as complex()'s
    return complex(abs * angle.cos(), abs * angle.sin())


_TORCH_NAMES = {
    "float16": "Half",
    "float32": "Float",
    "float64": "Double",
    "int64": "Long",
    "int32": "Int",
    "int16": "Short",
    "int8": "Char",
    "uint8": "Byte",
    "bool": "Bool",
    "complex64": "ComplexFloat",
    "complex128": "ComplexDouble",
}

__all__ = ["complex", "polar", "view_as_complex", "view_as_real"]
