"""_C.add / sub / mul / div, the threaded element-wise kernels the CPU backend uses for large float
operands (csrc/cpu/arithmetic.cpp): numpy's bits on every ISA path and thread count, in place and
with a scalar on either side, the refused arguments, and which calls the backend sends to them."""

import numpy as np
import pytest

import fastnn
from fastnn import _C
from fastnn._devices import cpu

OPS = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide}
# awkward sizes around vector widths, and both sides of the thread split (2 x 32768 elements)
SIZES = [1, 7, 33, 257, 65_535, 65_536, 100_003]


def _pair(rng, n, dtype):
    a = (rng.standard_normal(n) * rng.choice([1e-3, 1.0, 1e3], n)).astype(dtype)
    b = rng.standard_normal(n).astype(dtype)
    b[::11] = 0.0  # x / 0 and 0 * x, both signs
    a[::13] = -0.0
    a[5::17], b[3::19] = np.inf, np.nan
    return a, b


def _same(got, want):
    assert got.dtype == want.dtype and got.shape == want.shape
    bits = f"u{got.itemsize}"
    diff = np.flatnonzero(got.reshape(-1).view(bits) != want.reshape(-1).view(bits))
    assert diff.size == 0, f"{diff.size} elements differ, first at {diff[0]}"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("name", OPS)
def test_arrays_have_numpys_bits(rng, isa, threads, dtype, n, name):
    a, b = _pair(rng, n, dtype)
    kernel, ufunc = getattr(_C, name), OPS[name]
    with np.errstate(all="ignore"):
        _same(kernel(a, b), ufunc(a, b))
        _same(kernel(b, a), ufunc(b, a))
        _same(kernel(a, a), ufunc(a, a))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", OPS)
def test_scalar_on_either_side(rng, isa, threads, dtype, name):
    a, _ = _pair(rng, 70_001, dtype)
    kernel, ufunc = getattr(_C, name), OPS[name]
    with np.errstate(all="ignore"):
        for s in [2.5, -0.0, 3, 1e-30, float("inf"), float("nan"), 2**40 + 1]:
            _same(kernel(a, s), ufunc(a, s))
            _same(kernel(s, a), ufunc(s, a))
        # a 0-d array of the same dtype is one value, as numpy broadcasts it
        z = np.array(0.1, dtype)
        _same(kernel(a, z), ufunc(a, z))
        _same(kernel(z, a), ufunc(z, a))


@pytest.mark.parametrize("name", OPS)
def test_in_place_on_either_operand(rng, threads, name):
    a, b = _pair(rng, 100_003, np.float32)
    kernel, ufunc = getattr(_C, name), OPS[name]
    with np.errstate(all="ignore"):
        want = ufunc(a, b)
        x = a.copy()
        assert kernel(x, b, out=x) is x
        _same(x, want)
        y = b.copy()
        assert kernel(a, y, out=y) is y
        _same(y, want)
        z = a.copy()
        kernel(z, z, out=z)
        _same(z, ufunc(a, a))
        w = a.copy()
        kernel(w, 0.5, out=w)
        _same(w, ufunc(a, 0.5))
        fresh = np.empty_like(a)
        assert kernel(a, b, out=fresh) is fresh
        _same(fresh, want)


def test_any_shape_is_its_flat_sequence(rng):
    a = rng.standard_normal((3, 257, 90)).astype(np.float32)
    b = rng.standard_normal((3, 257, 90)).astype(np.float32)
    _same(_C.mul(a, b), a * b)


def test_bad_arguments_raise_and_change_nothing():
    a = np.ones(10, np.float32)
    b = np.ones(10, np.float32)
    before = a.copy()
    with pytest.raises(TypeError, match="same dtype"):
        _C.add(a, b.astype(np.float64))
    with pytest.raises(ValueError, match=r"shape \(10,\), got \(9,\)"):
        _C.add(a, b[:9])
    with pytest.raises(ValueError, match="C-contiguous"):
        _C.add(np.ones(20, np.float32)[::2], b)
    with pytest.raises(TypeError, match="float32 or float64"):
        _C.sub(a.astype(np.int64), 1)
    with pytest.raises(TypeError, match="'b' must be a numpy.ndarray or a Python number, got bool"):
        _C.mul(a, True)
    with pytest.raises(TypeError, match="'a' or 'b' must be a numpy.ndarray"):
        _C.div(1.0, 2.0)
    with pytest.raises(TypeError, match="got list"):
        _C.add([1.0], a)
    with pytest.raises(OverflowError):
        _C.add(a.astype(np.float64), 10**400)
    with pytest.raises(ValueError, match="out of float32's range"):
        _C.add(a, 1e300)
    with pytest.raises(ValueError, match="share memory"):
        _C.add(a[1:], b[1:], out=a[:-1])
    with pytest.raises(ValueError, match="read-only"):
        ro = a.copy()
        ro.setflags(write=False)
        _C.add(ro, b, out=ro)
    with pytest.raises(TypeError, match="'out' must have dtype float32"):
        _C.add(a, b, out=np.empty(10, np.float64))
    with pytest.raises(TypeError, match="same dtype"):
        _C.add(a, np.array(1.0))  # a float64 0-d array: numpy would promote to float64
    np.testing.assert_array_equal(a, before)


def test_backend_sends_large_float_operands_to_the_kernels(monkeypatch):
    """The backend's test: large same-shaped float arrays, an array and a number or a 0-d array
    of its dtype, out None or an operand, more than one thread; numpy for everything else."""
    big = np.ones(cpu.ARITH_MIN, np.float32)
    small = np.ones(cpu.ARITH_MIN - 1, np.float32)
    monkeypatch.setattr(fastnn._C, "get_num_threads", lambda: 2)
    takes = cpu._arith_takes
    assert takes(big, big, None)
    assert takes(big, 2.0, big)
    assert takes(2, big, None)
    assert not takes(big, np.float32(2.0), None)  # a numpy scalar: numpy's promotion rules
    assert takes(np.array(2.0, np.float32), big, None)
    assert not takes(big, np.array(2.0), None)  # float64 0-d: numpy promotes
    assert not takes(big, big.astype(np.float64), None)
    assert not takes(big, big[::-1], None)  # not C-contiguous
    assert not takes(big.reshape(2, -1), big, None)  # broadcasting left to numpy
    assert not takes(big, 1e39, None)  # past float32's range
    assert not takes(big, True, None)
    assert not takes(big, 2**60 + 1, None)
    assert not takes(big, big, np.empty_like(big))  # out is neither operand
    assert not takes(big.astype(np.int32), 1, None)
    monkeypatch.setattr(fastnn._C, "get_num_threads", lambda: 1)
    assert not takes(big, big, None)
    # the op itself: numpy below the size, the kernel above; bits equal either way
    for x in (big, small):
        _same(cpu.mul_large(x, 3.0), x * np.float32(3.0))


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div"])
def test_tensor_operators_on_large_tensors(rng, threads, name):
    x = rng.standard_normal((300, 257)).astype(np.float32)
    y = rng.standard_normal((300, 257)).astype(np.float32) + 3.0
    ufunc = OPS[name]
    sym = {"add": "__add__", "sub": "__sub__", "mul": "__mul__", "div": "__truediv__"}[name]
    rsym = sym.replace("__", "__r", 1)
    tx, ty = fastnn.from_numpy(x), fastnn.from_numpy(y)
    _same(getattr(tx, sym)(ty).numpy(), ufunc(x, y))
    _same(getattr(tx, sym)(0.75).numpy(), ufunc(x, np.float32(0.75)))
    _same(getattr(tx, rsym)(0.75).numpy(), ufunc(np.float32(0.75), x))
    t = tx.clone()
    getattr(t, name + "_")(ty)
    _same(t.numpy(), ufunc(x, y))
