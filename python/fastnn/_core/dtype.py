"""fastnn's dtypes and torch's type promotion.

Storage arrays carry numpy dtypes, and the package computes with those (``t._data.dtype``; the
module-level ``float32``, ``int64``... below are numpy dtypes too). The public names
(``fastnn.float32``, ``fastnn.long``...) are instances of :class:`dtype`, one per numpy dtype,
built in ``PUBLIC`` and bound in __init__.py, so that this module can keep using Python's own
``float``/``int``/``bool``. A :class:`dtype` holds its numpy dtype in ``.dtype``, which is what
lets numpy accept it anywhere it takes a dtype (``np.zeros(3, dtype=fastnn.float32)``).

Promotion follows torch, not numpy: the categories are bool < integer < floating; a higher
category wins outright (int32 with float16 is float16, where numpy says float32), and within a
category the wider type wins. A 0-d tensor or a Python number takes part only when its category
is above that of the dimensioned operands (``float32_tensor * 2.5`` stays float32).

bfloat16 storage is ml_dtypes' numpy dtype, an optional dependency. numpy files it under kind
'V', so "is this floating?" is asked through :func:`is_floating`, never ``kind == "f"``. Without
ml_dtypes the name ``bfloat16`` still exists; only making its storage fails, saying why.
"""

import numpy as np

try:
    import ml_dtypes as _ml_dtypes
except ImportError:  # optional: only bfloat16 storage needs it
    _ml_dtypes = None

float16 = np.dtype("float16")
float32 = np.dtype("float32")
float64 = np.dtype("float64")
int8 = np.dtype("int8")
int16 = np.dtype("int16")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
uint8 = np.dtype("uint8")
# torch's "limited support" unsigned types: storage, casts and the ops numpy runs; torch
# refuses to promote them with any other integer type, and so does promote below
uint16 = np.dtype("uint16")
uint32 = np.dtype("uint32")
uint64 = np.dtype("uint64")
_LIMITED = (uint16, uint32, uint64)
bool_ = np.dtype("bool")
complex64 = np.dtype("complex64")
complex128 = np.dtype("complex128")
# None without ml_dtypes; numpy keeps one instance of it, so identity tests hold
bfloat16 = None if _ml_dtypes is None else np.dtype(_ml_dtypes.bfloat16)

BFLOAT16_MISSING = (
    "bfloat16 storage needs the ml_dtypes package (pip install ml_dtypes, or the fastnn "
    "extra: pip install 'fastnn[bfloat16]')"
)

# a numpy dtype kind -> its promotion category. 'V' (void) is bfloat16's kind: tensors hold no
# other void dtype.
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3, "V": 2}


def is_floating(d):
    """Whether the numpy dtype ``d`` is a floating type: float16/32/64 or bfloat16."""
    kind = d.kind
    return kind == "f" or (kind == "V" and d is bfloat16)


def is_low_precision(d):
    """float16 or bfloat16: the floating types the C++ kernels do not take, computed in float32
    and rounded back."""
    return d.itemsize == 2 and is_floating(d)


class dtype:
    """A tensor element type: ``fastnn.float32``, ``fastnn.long``... (one object per type).

    Equal to (and hashing like) its numpy dtype, equal to the numpy scalar type, and accepted by
    numpy wherever a dtype is (through ``.dtype``)."""

    __slots__ = (
        "_hash",
        "char",
        "dtype",
        "is_complex",
        "is_floating_point",
        "is_signed",
        "itemsize",
        "kind",
        "name",
        "type",
    )

    def __init__(self, np_dtype):
        d = np.dtype(np_dtype)
        self.dtype = d
        self.name = d.name
        floating = is_floating(d)
        self.kind = "f" if floating else d.kind  # bfloat16's numpy kind is 'V'
        self.itemsize = d.itemsize
        self.char = d.char
        self.type = d.type
        self.is_floating_point = floating
        self.is_complex = d.kind == "c"
        self.is_signed = floating or d.kind in "ifc"
        self._hash = hash(d)

    def __repr__(self):
        return "fastnn." + self.name

    __str__ = __repr__

    def __eq__(self, other):
        if other is self:
            return True
        if other.__class__ is dtype:
            return self.dtype == other.dtype
        if isinstance(other, np.dtype) or (
            isinstance(other, type) and issubclass(other, np.generic)
        ):
            return self.dtype == other
        return NotImplemented

    def __ne__(self, other):
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self):
        return self._hash

    def __reduce__(self):  # pickle and deepcopy give back the singleton
        return (of, (self.dtype,))

    def to_real(self):
        """The real type of a complex one (complex64 -> float32); any other type itself."""
        return of(_REAL_OF[self.dtype]) if self.is_complex else self

    def to_complex(self):
        """The complex type with this floating type's parts (float64 -> complex128); a complex
        type itself. fastnn has no complex32 (torch's ComplexHalf) and no complex integers."""
        if self.is_complex:
            return self
        c = _COMPLEX_OF.get(self.dtype)
        if c is None:
            raise RuntimeError(f"to_complex is not supported for {self.name}")
        return of(c)


class _MissingBfloat16(dtype):
    """``fastnn.bfloat16`` when ml_dtypes is not installed: the name, its repr and properties
    work (a program may only name it, in a table of dtypes), and whatever needs its numpy dtype,
    to make storage, raises a RuntimeError saying what to install. It passes the package's
    ``d.__class__ is dtype`` tests so that the error comes from that first use of ``.dtype``."""

    __slots__ = ()

    def __init__(self):
        self.name, self.kind, self.itemsize, self.char = "bfloat16", "f", 2, "E"
        self.type = None
        self.is_floating_point, self.is_complex, self.is_signed = True, False, True
        self._hash = hash("fastnn.bfloat16")

    @property
    def __class__(self):
        return dtype

    @property
    def dtype(self):
        raise RuntimeError(BFLOAT16_MISSING)

    def __eq__(self, other):
        return other is self

    def __ne__(self, other):
        return other is not self

    def __hash__(self):
        return self._hash

    def __reduce__(self):
        return (_public, ("bfloat16",))


def _public(name):
    return PUBLIC[name]


OBJECTS = {}  # numpy dtype -> its dtype object


def of(np_dtype):
    """The :class:`dtype` object of a numpy dtype (one per type; made on first use)."""
    try:
        return OBJECTS[np_dtype]
    except KeyError:
        pass
    d = np.dtype(np_dtype)
    obj = OBJECTS.get(d)
    if obj is None:
        obj = OBJECTS[d] = dtype(d)
    return obj


_REAL_OF = {complex64: float32, complex128: float64}
_COMPLEX_OF = {float32: complex64, float64: complex128}


def is_complex(d):
    """Whether the numpy dtype ``d`` is complex64 or complex128."""
    return d.kind == "c"


def complex_of(d):
    """The complex numpy dtype whose parts are the floating numpy dtype ``d`` (float16 and
    bfloat16 widen to complex64, as torch's CPU computes them)."""
    return complex128 if d == float64 else complex64


def default_complex():
    """The dtype of tensors made from Python complex numbers: it follows the float default."""
    return complex128 if _state["default"] == float64 else complex64


# torch's names -> dtype objects
PUBLIC = {
    "float16": of(float16),
    "half": of(float16),
    "float32": of(float32),
    "float": of(float32),
    "float64": of(float64),
    "double": of(float64),
    "int8": of(int8),
    "int16": of(int16),
    "short": of(int16),
    "int32": of(int32),
    "int": of(int32),
    "int64": of(int64),
    "long": of(int64),
    "uint8": of(uint8),
    "uint16": of(uint16),
    "uint32": of(uint32),
    "uint64": of(uint64),
    "bool": of(bool_),
    "complex64": of(complex64),
    "cfloat": of(complex64),
    "complex128": of(complex128),
    "cdouble": of(complex128),
    "bfloat16": _MissingBfloat16() if bfloat16 is None else of(bfloat16),
}

_state = {"default": float32}


def to_dtype(d):
    """A numpy dtype from a fastnn/numpy dtype, a Python type or a name ('float32', 'long')."""
    if d is None:
        return None
    if d.__class__ is dtype:
        return d.dtype
    if isinstance(d, np.dtype):  # (each numpy dtype has its own class: no identity test)
        return d
    if d is float:
        return _state["default"]
    if isinstance(d, str):
        try:
            return PUBLIC[d.rsplit(".", 1)[-1]].dtype
        except KeyError:
            raise TypeError(f"unknown dtype {d!r}") from None
    return np.dtype(d)


def is_name(s):
    """Whether the string ``s`` names a dtype ('float32', 'fastnn.long')."""
    return s.rsplit(".", 1)[-1] in PUBLIC


def default():
    """The default float dtype as a numpy dtype (for the package's own use)."""
    return _state["default"]


def get_default_dtype():
    """The dtype of float tensors made from Python floats (float32 unless changed)."""
    return of(_state["default"])


def set_default_dtype(d):
    """Set the dtype of tensors made from Python floats: a floating dtype object, numpy dtype or
    name."""
    try:
        nd = to_dtype(d)
    except (TypeError, ValueError):
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {d!r}") from None
    if nd is None or not is_floating(nd):
        raise TypeError(f"set_default_dtype: only floating dtypes are allowed, got {name(nd)}")
    _state["default"] = nd


def name(dt) -> str:
    """'fastnn.float32' for messages and repr."""
    return "fastnn." + (dt.name if dt is not None else "None")


# ---- promotion ------------------------------------------------------------------------------


def category(dt):
    """0 bool, 1 integer, 2 floating, 3 complex."""
    return _CATEGORY[dt.kind]


def promote(a, b):
    """torch's promote_types on numpy dtypes (None stands for no operand)."""
    if a is b or b is None:
        return a
    if a is None:
        return b
    ca, cb = _CATEGORY[a.kind], _CATEGORY[b.kind]
    if ca != cb:
        hi, lo = (a, b) if ca > cb else (b, a)
        if hi in _LIMITED:  # only bool is below an integer type
            raise RuntimeError(
                f"Promotion for uint16, uint32, uint64 types is not supported, attempted to "
                f"promote {name(a)} and {name(b)}"
            )
        if hi.kind == "c" and lo.kind == "f":  # complex64 with float64 is complex128
            return np.promote_types(hi, lo)
        return hi
    if ca == 2:
        if a.itemsize == b.itemsize == 2:  # float16 with bfloat16: neither holds the other
            return float32
        return a if a.itemsize >= b.itemsize else b
    if a in _LIMITED or b in _LIMITED:
        raise RuntimeError(
            f"Promotion for uint16, uint32, uint64 types is not supported, attempted to promote "
            f"{name(a)} and {name(b)}"
        )
    return np.promote_types(a, b)  # bool/bool, or integers: numpy agrees with torch there


def scalar_dtype(v):
    """The dtype a Python number takes part in promotion with (int64, bool or the default)."""
    if isinstance(v, bool):
        return bool_
    if isinstance(v, int):
        return int64
    if isinstance(v, complex):
        return default_complex()
    return _state["default"]


def _join(higher, lower):
    """Let a lower-priority result (0-d tensors, numbers) change ``higher`` only when its
    category is above ``higher``'s."""
    if higher is None:
        return lower
    if lower is None or _CATEGORY[lower.kind] <= _CATEGORY[higher.kind]:
        return higher
    return promote(higher, lower)


def combine(dims, zero_dims, numbers):
    """The result dtype from the promoted dtypes of dimensioned tensors, of 0-d tensors and of
    Python numbers (each a numpy dtype or None)."""
    return _join(dims, _join(zero_dims, numbers))


def binary(da, la, db, lb):
    """The result dtype of an operation on two operands: dtypes ``da``, ``db`` and levels
    ``la``, ``lb`` (2 a dimensioned tensor, 1 a 0-d tensor, 0 a Python number)."""
    if da is db:
        return da
    if la == lb:
        return promote(da, db)
    return _join(da, db) if la > lb else _join(db, da)


def _public_dtype(d, fn, arg):
    """The numpy dtype of a dtype argument of a public function (TypeError otherwise)."""
    if d.__class__ is dtype:
        return d.dtype
    if isinstance(d, np.dtype):
        return d
    raise TypeError(f"{fn}(): argument '{arg}' must be fastnn.dtype, not {type(d).__name__}")


def promote_types(type1, type2):
    """The dtype both ``type1`` and ``type2`` convert to under torch's rules."""
    a = _public_dtype(type1, "promote_types", "type1")
    b = _public_dtype(type2, "promote_types", "type2")
    return of(promote(a, b))


def can_cast(from_, to):
    """Whether torch's casting rules allow ``from_`` to ``to``: never to a lower category
    (floating to integer, integer to bool)."""
    a = _public_dtype(from_, "can_cast", "from_")
    b = _public_dtype(to, "can_cast", "to")
    return _CATEGORY[a.kind] <= _CATEGORY[b.kind]


class finfo:
    """Machine limits of a floating dtype: bits, eps, max, min, tiny (= smallest_normal),
    resolution, and dtype (its name)."""

    __slots__ = ("bits", "dtype", "eps", "max", "min", "resolution", "smallest_normal", "tiny")

    def __init__(self, type=None):
        d = _state["default"] if type is None else _public_dtype(type, "finfo", "type")
        d = _REAL_OF.get(d, d)  # a complex type's limits are its parts', as torch reports them
        if not is_floating(d):
            raise TypeError(
                f"fastnn.finfo() requires a floating point input type, got {name(d)}; use "
                "fastnn.iinfo for integer types"
            )
        info = np.finfo(d) if d.kind == "f" else _ml_dtypes.finfo(d)
        self.bits = int(info.bits)
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -int(info.precision)  # exact in decimal, unlike numpy's
        self.dtype = d.name

    def __eq__(self, other):
        return isinstance(other, finfo) and other.dtype == self.dtype

    def __hash__(self):
        return hash(("finfo", self.dtype))

    def __repr__(self):
        return (
            f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
            f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, "
            f"dtype={self.dtype})"
        )


class iinfo:
    """Limits of an integer dtype: bits, min, max, and dtype (its name)."""

    __slots__ = ("bits", "dtype", "max", "min")

    def __init__(self, type):
        d = _public_dtype(type, "iinfo", "type")
        if d.kind not in "iu":
            raise TypeError(
                f"fastnn.iinfo() requires an integer input type, got {name(d)}; use "
                "fastnn.finfo for floating point types"
            )
        info = np.iinfo(d)
        self.bits = int(info.bits)
        self.min = int(info.min)
        self.max = int(info.max)
        self.dtype = d.name

    def __eq__(self, other):
        return isinstance(other, iinfo) and other.dtype == self.dtype

    def __hash__(self):
        return hash(("iinfo", self.dtype))

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
