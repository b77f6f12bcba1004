"""assert_close: compare tensors, numbers, and sequences or mappings of them, element by element,
within tolerances that default to what each dtype can resolve."""

import collections.abc
import math
import warnings

import numpy as np

from .._tensor import Tensor

# (rtol, atol) by dtype name: a few ulps of each float type; integers and bools compare exactly
_TOLERANCES = {
    "float16": (1e-3, 1e-5),
    "bfloat16": (1.6e-2, 1e-5),
    "float32": (1.3e-6, 1e-5),
    "float64": (1e-7, 1e-7),
    "complex64": (1.3e-6, 1e-5),
    "complex128": (1e-7, 1e-7),
}


def _default_tolerances(*dtypes):
    names = [d if isinstance(d, str) else d.name for d in dtypes]
    pairs = [_TOLERANCES.get(n, (0.0, 0.0)) for n in names]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def _tolerances(rtol, atol, *dtypes):
    if (rtol is None) != (atol is None):
        missing = "atol" if atol is None else "rtol"
        raise ValueError(
            f"Both 'rtol' and 'atol' must be either specified or omitted, but got no {missing}."
        )
    if rtol is None:
        return _default_tolerances(*dtypes)
    return float(rtol), float(atol)


class _Mismatch(AssertionError):
    """A failed comparison, with the container path that led to it."""

    def __init__(self, text, path=()):
        super().__init__(text)
        self.text, self.path = text, path


def _fail(text):
    raise _Mismatch(text)


def _attribute(name, a, b):
    _fail(f"The values for attribute '{name}' do not match: {a} != {b}.")


def _index(flat_index, shape):
    return tuple(int(i) for i in np.unravel_index(int(flat_index), shape)) if shape else ()


def _number(x, integer):
    return str(int(x)) if integer and math.isfinite(x) else repr(float(x))


def _compare_arrays(a, e, rtol, atol, equal_nan, exact_kind):
    """a and e as numpy arrays of one shape; fail with the mismatch summary when any element is
    not within atol + rtol * |expected|."""
    integer = a.dtype.kind in "biu" and e.dtype.kind in "biu"
    if a.dtype.kind == "b" or e.dtype.kind == "b":
        a, e = a.astype(np.int64), e.astype(np.int64)
    wide = np.complex128 if "c" in (a.dtype.kind, e.dtype.kind) else np.float64
    a64, e64 = a.astype(wide), e.astype(wide)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        close = np.isclose(a64, e64, rtol=rtol, atol=atol, equal_nan=equal_nan)
        close |= a64 == e64  # equal infinities, also when the tolerance arithmetic gives nan
        if close.all():
            return
        abs_diff = np.abs(a64 - e64)
        rel_diff = abs_diff / np.abs(e64)
    total, bad = close.size, int((~close).sum())
    word = "equal" if exact_kind else "close"
    lines = [f"Tensor-likes are not {word}!", ""]
    lines.append(f"Mismatched elements: {bad} / {total} ({100.0 * bad / total:.1f}%)")
    for label, diff, tol in (("absolute", abs_diff, atol), ("relative", rel_diff, rtol)):
        flat = diff.reshape(-1)
        where = int(np.argmax(np.where(np.isnan(flat), np.inf, flat)))
        value = _number(flat[where], integer and label == "absolute")
        allowed = "" if exact_kind else f" (up to {tol} allowed)"
        index = _index(where, a.shape)
        lines.append(f"Greatest {label} difference: {value} at index {index}{allowed}")
    _fail("\n".join(lines))


def _host_array(t):
    return t.detach().cpu().numpy()


def _compare_tensors(actual, expected, rtol, atol, equal_nan, checks):
    if tuple(actual.shape) != tuple(expected.shape):
        _attribute("shape", actual.shape, expected.shape)
    if checks["check_device"] and actual.device != expected.device:
        _attribute("device", actual.device, expected.device)
    if checks["check_dtype"] and actual.dtype != expected.dtype:
        _attribute("dtype", actual.dtype, expected.dtype)
    if checks["check_stride"] and actual.stride() != expected.stride():
        _attribute("stride()", actual.stride(), expected.stride())
    rtol, atol = _tolerances(rtol, atol, actual.dtype, expected.dtype)
    exact = rtol == 0 and atol == 0
    _compare_arrays(_host_array(actual), _host_array(expected), rtol, atol, equal_nan, exact)


def _compare_ndarrays(actual, expected, rtol, atol, equal_nan, checks):
    if actual.shape != expected.shape:
        _attribute("shape", actual.shape, expected.shape)
    if checks["check_dtype"] and actual.dtype != expected.dtype:
        _attribute("dtype", actual.dtype, expected.dtype)
    rtol, atol = _tolerances(rtol, atol, actual.dtype.name, expected.dtype.name)
    exact = rtol == 0 and atol == 0
    _compare_arrays(actual, expected, rtol, atol, equal_nan, exact)


def _scalar_dtype(x):
    if isinstance(x, complex):
        return "complex128"
    return "float64" if isinstance(x, float) else "int64"


def _compare_scalars(actual, expected, rtol, atol, equal_nan, checks):
    if isinstance(actual, bool) or isinstance(expected, bool):
        if type(actual) is not type(expected) and checks["check_dtype"]:
            _fail(f"The types do not match: {type(actual)} != {type(expected)}.")
        if actual != expected:
            _fail(f"Booleans mismatch: {actual} is not {expected}")
        return
    if checks["check_dtype"] and type(actual) is not type(expected):
        _fail(f"The types do not match: {type(actual)} != {type(expected)}.")
    rtol, atol = _tolerances(rtol, atol, _scalar_dtype(actual), _scalar_dtype(expected))
    a, e = complex(actual), complex(expected)
    if a == e or (equal_nan and _isnan(a) and _isnan(e)):
        return
    diff = abs(a - e)
    if diff <= atol + rtol * abs(e):
        return
    rel = diff / abs(e) if e != 0 else math.inf
    word = "equal" if rtol == 0 and atol == 0 else "close"
    _fail(
        f"Scalars are not {word}!\n\nExpected {expected} but got {actual}.\n"
        f"Absolute difference: {diff} (up to {atol} allowed)\n"
        f"Relative difference: {rel} (up to {rtol} allowed)"
    )


def _isnan(z):
    return math.isnan(z.real) or math.isnan(z.imag)


def _is_scalar(x):
    return isinstance(x, (bool, int, float, complex, np.number, np.bool_))


def _plain(x):
    return x.item() if isinstance(x, (np.number, np.bool_)) else x


def _is_sequence(x):
    return isinstance(x, collections.abc.Sequence) and not isinstance(x, (str, bytes))


def _compare(actual, expected, path, rtol, atol, equal_nan, checks):
    try:
        if isinstance(actual, Tensor) and isinstance(expected, Tensor):
            return _compare_tensors(actual, expected, rtol, atol, equal_nan, checks)
        if isinstance(actual, np.ndarray) and isinstance(expected, np.ndarray):
            return _compare_ndarrays(actual, expected, rtol, atol, equal_nan, checks)
        if _is_scalar(actual) and _is_scalar(expected):
            a, e = _plain(actual), _plain(expected)
            return _compare_scalars(a, e, rtol, atol, equal_nan, checks)
    except _Mismatch as m:
        raise _Mismatch(m.text, path) from None
    if _is_sequence(actual) and _is_sequence(expected):
        if len(actual) != len(expected):
            raise _Mismatch(
                f"The length of the sequences mismatch: {len(actual)} != {len(expected)}", path
            )
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, (*path, i), rtol, atol, equal_nan, checks)
        return None
    if isinstance(actual, collections.abc.Mapping) and isinstance(
        expected, collections.abc.Mapping
    ):
        if set(actual) != set(expected):
            raise _Mismatch(
                f"The keys of the mappings do not match:\n"
                f"Missing keys in the actual mapping: {sorted(map(repr, set(expected) - set(actual)))}\n"
                f"Extra keys in the actual mapping: {sorted(map(repr, set(actual) - set(expected)))}",
                path,
            )
        for key in expected:
            _compare(actual[key], expected[key], (*path, key), rtol, atol, equal_nan, checks)
        return None
    raise TypeError(
        f"No comparison pair was able to handle inputs of type {type(actual)} and {type(expected)}."
    )


def assert_close(
    actual,
    expected,
    *,
    allow_subclasses=True,
    rtol=None,
    atol=None,
    equal_nan=False,
    check_device=True,
    check_dtype=True,
    check_layout=True,
    check_stride=False,
    msg=None,
):
    """Raise AssertionError unless ``actual`` and ``expected`` are close: same shape (and device,
    dtype, and with ``check_stride`` strides), and every element within
    ``atol + rtol * abs(expected)``. Without rtol/atol (give both or neither) the tolerances are
    the looser of the two dtypes' defaults; integers and bools must be equal. Tensors, numpy
    arrays, Python numbers, and sequences and mappings of them (compared item by item) are
    accepted. ``msg`` replaces the message, or, if callable, maps the generated one to it.
    ``check_layout`` is accepted: every fastnn tensor is strided."""
    if rtol is not None or atol is not None:
        _tolerances(rtol, atol)  # both or neither, checked before comparing anything
    checks = {"check_device": check_device, "check_dtype": check_dtype}
    checks["check_stride"] = check_stride
    try:
        _compare(actual, expected, (), rtol, atol, equal_nan, checks)
    except _Mismatch as m:
        text = m.text
        if m.path:
            where = "".join(f"[{p!r}]" for p in m.path)
            text += f"\n\nThe failure occurred for item {where}"
        if msg is not None:
            text = msg(text) if callable(msg) else msg
        raise AssertionError(text) from None


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg=""):
    """Deprecated: assert_close, with a non-tensor ``expected`` turned into a tensor like
    ``actual`` and NaNs equal by default."""
    warnings.warn(
        "fastnn.testing.assert_allclose() is deprecated; use fastnn.testing.assert_close().",
        FutureWarning,
        stacklevel=2,
    )
    from .._tensor import as_tensor

    if not isinstance(actual, Tensor):
        actual = as_tensor(actual)
    if not isinstance(expected, Tensor):
        expected = as_tensor(expected, dtype=actual.dtype, device=actual.device)
    if rtol is None and atol is None:
        rtol, atol = _default_tolerances(actual.dtype, expected.dtype)
    assert_close(
        actual,
        expected,
        rtol=rtol,
        atol=atol,
        equal_nan=equal_nan,
        check_device=True,
        check_dtype=False,
        check_stride=False,
        msg=msg or None,
    )
