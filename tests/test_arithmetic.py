"""_C.add / sub / mul / div / maximum / minimum, the threaded element-wise kernels the CPU backend
uses for large float operands (csrc/cpu/arithmetic.cpp): numpy's bits on every ISA path and thread
count, in place and with a scalar on either side, the refused arguments, and which calls the
backend sends to them; and maximum_backward / minimum_backward, torch's gradients of the two."""

import inspect
import itertools

import numpy as np
import pytest

import fastnn
from fastnn import _C
from fastnn._devices import cpu

OPS = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "div": np.true_divide,
    "maximum": np.maximum,
    "minimum": np.minimum,
}
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


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "shapes",
    [((300, 257), (257,)), ((7, 33), (33,)), ((1, 40), (40,)), ((4, 5, 6, 7), (6, 7))],
    ids=str,
)
@pytest.mark.parametrize("name", OPS)
def test_a_row_repeats_through_the_other_operand(rng, isa, threads, dtype, shapes, name):
    """numpy's broadcast of an operand with the other's trailing dims (a bias), either side."""
    big_shape, row_shape = shapes
    a = _pair(rng, int(np.prod(big_shape)), dtype)[0].reshape(big_shape)
    b = _pair(rng, int(np.prod(row_shape)), dtype)[1].reshape(row_shape)
    kernel, ufunc = getattr(_C, name), OPS[name]
    with np.errstate(all="ignore"):  # x / 0 in the references
        want_ab, want_ba = ufunc(a, b), ufunc(b, a)
    _same(kernel(a, b), want_ab)
    _same(kernel(b, a), want_ba)
    x = a.copy()
    assert kernel(x, b, out=x) is x
    _same(x, want_ab)
    with pytest.raises(ValueError, match="'out' must have shape"):
        kernel(b.copy(), a, out=b.copy())  # the result has the larger shape


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
    """The backend's test: large same-shaped float arrays, or one with a row of its trailing dims,
    or an array and a number or a 0-d array of its dtype, out None or the larger operand, more
    than one thread; numpy for everything else."""
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
    assert not takes(big.reshape(2, -1), big, None)  # other broadcasting left to numpy
    rows, row = big.reshape(256, 256), np.ones(256, np.float32)
    assert takes(rows, row, None) and takes(row, rows, None)  # a bias row, either side
    assert takes(rows, row, rows)
    assert not takes(row, rows, row)  # out must be the larger operand
    assert not takes(big.reshape(-1, 8), np.ones(8, np.float32), None)  # rows under 16: numpy
    assert not takes(rows, row[::2].repeat(2)[::2], None)  # (a view: not contiguous)
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


def _minmax_operands(rng, n, dtype):
    """a, b with ties (also -0 against +0), NaN on either side and infinities, and a gradient."""
    a, b = _pair(rng, n, dtype)
    a[1::7] = b[1::7]
    a[2::29], b[2::29] = 0.0, -0.0
    a[4::31] = np.nan
    b[6::37] = -np.inf
    g = rng.standard_normal(n).astype(dtype)
    g[::41] = 1e-45 if dtype == np.float32 else 5e-324  # g / 2 of a subnormal rounds
    return g, a, b


def _minmax_grads_reference(g, a, b, is_max):
    """torch's gradients of maximum(a, b) (is_max) or minimum(a, b), in float64: an operand gets
    0 where it is strictly the smaller (larger), g / 2 at ties, g elsewhere (NaN included)."""
    g64, a64, b64 = (v.astype(np.float64) for v in (g, a, b))
    with np.errstate(invalid="ignore"):
        half = np.where(a64 == b64, g64 * 0.5, g64)
        a_loses, b_loses = (a64 < b64, b64 < a64) if is_max else (a64 > b64, b64 > a64)
    return (
        np.where(a_loses, 0.0, half).astype(g.dtype),
        np.where(b_loses, 0.0, half).astype(g.dtype),
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_minmax_backward_matches_the_reference(rng, isa, threads, dtype, n, name):
    g, a, b = _minmax_operands(rng, n, dtype)
    want_a, want_b = _minmax_grads_reference(g, a, b, name == "maximum")
    kernel = getattr(_C, name + "_backward")
    ga, gb = kernel(g, a, b)
    _same(ga, want_a)
    _same(gb, want_b)
    only_a = kernel(g, a, b, need_b=False)
    only_b = kernel(g, a, b, need_a=False)
    assert only_a[1] is None and only_b[0] is None
    _same(only_a[0], want_a)
    _same(only_b[1], want_b)
    assert kernel(g, a, b, need_a=False, need_b=False) == (None, None)


def test_minmax_backward_any_shape_is_its_flat_sequence(rng):
    g, a, b = (x.reshape(3, 257, 90) for x in _minmax_operands(rng, 3 * 257 * 90, np.float32))
    want = _minmax_grads_reference(g, a, b, True)
    got = _C.maximum_backward(g, a, b)
    for x, w in zip(got, want):
        assert x.shape == (3, 257, 90)
        _same(x, w)


def test_minmax_backward_bad_arguments_raise():
    g = np.ones(10, np.float32)
    for kernel in (_C.maximum_backward, _C.minimum_backward):
        name = kernel.__name__
        with pytest.raises(TypeError, match=f"{name}.*same dtype"):
            kernel(g, g.astype(np.float64), g)
        with pytest.raises(ValueError, match=r"'b' must have shape \(10,\), got \(9,\)"):
            kernel(g, g, g[:9])
        with pytest.raises(ValueError, match="'a'.*C-contiguous"):
            kernel(g, np.ones(20, np.float32)[::2], g)
        with pytest.raises(TypeError, match="'grad'.*float32 or float64"):
            kernel(g.astype(np.int32), g, g)
        with pytest.raises(TypeError, match="got list"):
            kernel(g, [1.0] * 10, g)
        with pytest.raises(TypeError):
            kernel(g, g, 1.0)  # the gradient needs b's values, not a broadcast number


def test_backend_fuses_same_shaped_float_minmax_gradients_only(rng):
    g, a, b = _minmax_operands(rng, 1000, np.float32)
    got = cpu.minmax_grads(g, a, b, False, True, False)
    _same(got[0], _minmax_grads_reference(g, a, b, False)[0])
    assert got[1] is None
    assert cpu.minmax_grads(g, a, b[:1], True, True, True) is None  # broadcast: composed
    assert cpu.minmax_grads(g, a, b.astype(np.float64), True, True, True) is None
    i = np.arange(1000)
    assert cpu.minmax_grads(i, i, i, True, True, True) is None
    # a non-contiguous operand is copied, not refused
    a2 = np.repeat(a, 2)[::2]
    _same(
        cpu.minmax_grads(g, a2, b, True, True, True)[0],
        cpu.minmax_grads(g, a, b, True, True, True)[0],
    )


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@pytest.mark.parametrize("shape_b", [(300, 257), (257,), ()])
def test_tensor_maximum_minimum_gradients_match_torch(rng, threads, name, shape_b):
    """The fused kernel (same shapes) and the composed form (broadcast b) both give torch's
    values and gradients, ties and NaN included."""
    torch = pytest.importorskip("torch")
    g, a, b = (x.reshape(300, 257) for x in _minmax_operands(rng, 300 * 257, np.float32))
    if shape_b != b.shape:
        b = a[0, :257:3].repeat(3)[:257].copy() if shape_b else np.array(a[1, 1])  # ties
    xa, xb = fastnn.tensor(a, requires_grad=True), fastnn.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    out = getattr(fastnn, name)(xa, xb)
    want = getattr(torch, name)(ta, tb)
    out.backward(fastnn.tensor(g))
    want.backward(torch.tensor(g))
    np.testing.assert_array_equal(out.detach().numpy(), want.detach().numpy())
    np.testing.assert_array_equal(xa.grad.numpy(), ta.grad.numpy())
    np.testing.assert_allclose(xb.grad.numpy(), tb.grad.numpy(), rtol=1e-5, atol=1e-4)


def test_relu_written_as_max_with_zeros_trains_like_torch(rng):
    """The d2l form of relu, max(X, zeros_like(X)): values and gradient as torch's."""
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((256, 256)).astype(np.float32)
    x[::5, ::3] = 0.0  # ties with the zeros: half the gradient each
    g = rng.standard_normal((256, 256)).astype(np.float32)
    fx, tx = fastnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    fastnn.max(fx, fastnn.zeros_like(fx)).backward(fastnn.tensor(g))
    torch.max(tx, torch.zeros_like(tx)).backward(torch.tensor(g))
    np.testing.assert_array_equal(fx.grad.numpy(), tx.grad.numpy())


def _torch_sign(x):
    """torch.sign: numpy's, but 0 at NaN."""
    with np.errstate(invalid="ignore"):
        return np.where(np.isnan(x), x.dtype.type(0), np.sign(x))


UNARY = {
    "neg": np.negative,
    "abs": np.abs,
    "sign": _torch_sign,
    "floor": np.floor,
    "ceil": np.ceil,
    "trunc": np.trunc,
    "rint": np.rint,
    "cube": lambda x: _cube(x),
}


def _cube(x):
    """(x * x) * x, torch's x ** 3 (1e30 cubed overflows to inf, as it should)."""
    with np.errstate(over="ignore"):
        return (x * x) * x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("name", UNARY)
def test_unary_have_numpys_bits(rng, isa, threads, dtype, n, name):
    a, b = _pair(rng, n, dtype)
    a[7::23] = -np.nan  # a NaN's sign bit: neg flips it, abs clears it, as numpy
    a[9::29] = -np.inf
    special = np.array([0.5, 1.5, 2.5, -0.5, -2.5, -0.3, 0.7, 1e30, 2**23 + 0.5, -1e-40])
    a[10::31] = special[np.arange(a[10::31].size) % special.size]  # halves, -0 results, ...
    kernel, ufunc = getattr(_C, name), UNARY[name]
    _same(kernel(a), ufunc(a))
    _same(kernel(b), ufunc(b))
    x = a.copy()
    assert kernel(x, out=x) is x
    _same(x, ufunc(a))
    fresh = np.empty_like(a)
    assert kernel(a, out=fresh) is fresh
    _same(fresh, ufunc(a))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_start_offset_in_a_cache_line(rng, isa, dtype):
    """The loops do the elements before the output's 64-byte boundary apart, then whole aligned
    vectors: views starting at each offset in a line, with the inputs at the output's offset and
    at another one, in place too, have numpy's bits."""
    per_line = 64 // np.dtype(dtype).itemsize
    a_base, b_base = _pair(rng, 200, dtype)
    out_base = np.empty_like(a_base)
    with np.errstate(all="ignore"):
        for k in range(per_line + 1):
            for n in (1, per_line - 1, 3 * per_line + 5):
                a, b, out = a_base[k : k + n], b_base[3 : 3 + n], out_base[k : k + n]
                for name, ufunc in OPS.items():
                    assert getattr(_C, name)(a, b, out=out) is out
                    _same(out, ufunc(a, b))
                for name, ufunc in UNARY.items():
                    _same(getattr(_C, name)(a, out=out), ufunc(a))
                    x = b.copy()
                    _same(getattr(_C, name)(x, out=x), ufunc(b))


def test_unary_bad_arguments_raise_and_change_nothing():
    a = np.ones(10, np.float32)
    before = a.copy()
    for kernel in (getattr(_C, name) for name in UNARY):
        name = kernel.__name__
        with pytest.raises(TypeError, match=f"{name}.*'x'.*float32 or float64"):
            kernel(a.astype(np.int64))
        with pytest.raises(ValueError, match=f"{name}.*'x'.*C-contiguous"):
            kernel(np.ones(20, np.float32)[::2])
        with pytest.raises(TypeError, match="got float"):
            kernel(1.0)
        with pytest.raises(TypeError, match="'out' must have dtype float32"):
            kernel(a, out=np.empty(10, np.float64))
        with pytest.raises(ValueError, match="share memory"):
            kernel(a[1:], out=a[:-1])
    np.testing.assert_array_equal(a, before)


def test_backend_sends_large_float_arrays_to_neg_and_abs(monkeypatch):
    calls = []
    for name in ("neg", "abs"):
        real = getattr(fastnn._C, name)
        monkeypatch.setattr(
            fastnn._C, name, lambda x, out=None, real=real: calls.append(x.size) or real(x, out=out)
        )
    op_neg = cpu._unary_arith(np.negative, fastnn._C.neg)
    op_abs = cpu._unary_arith(np.abs, fastnn._C.abs)
    big = np.full(cpu.ARITH_MIN, -2.0, np.float32)
    _same(op_neg(big), -big)
    _same(op_abs(big.astype(np.float64)), np.abs(big.astype(np.float64)))
    assert calls == [cpu.ARITH_MIN, cpu.ARITH_MIN]
    _same(op_neg(big[: cpu.ARITH_MIN - 1]), -big[:-1])  # small: numpy
    strided = np.full((2, cpu.ARITH_MIN), -2.0, np.float32)[:, ::2]
    _same(op_abs(strided), np.abs(strided))  # not C-contiguous: numpy
    _same(op_neg(big.astype(np.int32)), -big.astype(np.int32))
    _same(op_abs(big, out=np.empty_like(big)), np.abs(big))  # out not x: numpy
    assert len(calls) == 2
    monkeypatch.setattr(fastnn._C, "get_num_threads", lambda: 1)
    _same(op_neg(big), -big)
    assert len(calls) == 2


@pytest.mark.parametrize("p", [2, 3, 4])
def test_large_integer_powers_match_torch(rng, threads, p):
    """x ** 2, 3, 4 on a hidden layer's size run as threaded multiply chains, with torch's values
    and gradients (torch's x ** 2 and x ** 3 are the same products)."""
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((256, 784)).astype(np.float32) * 3
    fx, tx = fastnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, want = fx**p, tx**p
    if p < 4:
        _same(out.detach().numpy(), want.detach().numpy())
        _same((fastnn.tensor(x) ** p).numpy(), want.detach().numpy())
    else:  # torch raises to the fourth by pow(), within a rounding of the squared square
        np.testing.assert_allclose(out.detach().numpy(), want.detach().numpy(), rtol=3e-7)
    g = rng.standard_normal(x.shape).astype(np.float32)
    out.backward(fastnn.tensor(g))
    want.backward(torch.tensor(g))
    np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-6)


def test_tensor_neg_abs_on_large_tensors(rng, threads):
    x = rng.standard_normal((300, 257)).astype(np.float32)
    x[::7, ::5] = -0.0
    t = fastnn.from_numpy(x)
    _same((-t).numpy(), -x)
    _same(t.abs().numpy(), np.abs(x))
    _same(abs(t).numpy(), np.abs(x))
    _same(fastnn.neg(t).numpy(), -x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", SIZES)
def test_where_has_numpys_bits(rng, isa, threads, dtype, n):
    x, y = _pair(rng, n, dtype)
    c = rng.random(n) < 0.5
    d = dtype(0.25)
    cases = [(x, y), (x, 2.5), (-1, y), (x, np.array(d)), (np.array(d), y), (np.array(d), 7)]
    for a, b in cases:
        want = np.where(c, a, b)
        got = _C.where(c, a, b)
        _same(got, want)
    _same(_C.where(c.reshape(1, n), x.reshape(1, n), y.reshape(1, n)), np.where(c, x, y)[None])


def test_where_bad_arguments_raise():
    c = np.ones(10, bool)
    x = np.ones(10, np.float32)
    with pytest.raises(TypeError, match="'condition' must be a bool array, got int64"):
        _C.where(c.astype(np.int64), x, x)
    with pytest.raises(ValueError, match="'condition'.*C-contiguous"):
        _C.where(np.ones(20, bool)[::2], x, x)
    with pytest.raises(ValueError, match=r"'y' must have shape \(10,\), got \(9,\)"):
        _C.where(c, x, x[:9])
    with pytest.raises(TypeError, match="same dtype"):
        _C.where(c, x, x.astype(np.float64))
    with pytest.raises(TypeError, match="'x' or 'y' must be a numpy.ndarray"):
        _C.where(c, 1.0, 2.0)
    with pytest.raises(ValueError, match="out of float32's range"):
        _C.where(c, x, 1e300)
    with pytest.raises(TypeError, match="float32 or float64"):
        _C.where(c, x.astype(np.int32), 0)
    with pytest.raises(TypeError, match="got list"):
        _C.where(c, [1.0] * 10, x)


def test_backend_where_takes_the_kernel_where_it_applies(rng, monkeypatch):
    calls = []
    real = fastnn._C.where
    monkeypatch.setattr(fastnn._C, "where", lambda *a: calls.append(1) or real(*a))
    c = rng.random((300, 257)) < 0.5
    x = rng.standard_normal((300, 257)).astype(np.float32)
    y = rng.standard_normal((300, 257)).astype(np.float32)
    for a, b in [
        (x, y),
        (x, 0),
        (0.5, y),
        (np.broadcast_to(np.float32(3.0), x.shape), y),  # one value broadcast: a 0-d view
        (x.T.copy().T, y),  # another layout: copied
        (x, np.array(1.0, np.float32)),
    ]:
        before = len(calls)
        _same(cpu.where(c, a, b), np.where(c, a, b))
        assert len(calls) == before + 1
    for a, b, cond in [
        (x[:1], y, c),  # broadcasting
        (x, y, c.astype(np.int8)),  # not a bool condition
        (x.astype(np.int64), 0, c),
        (x, np.array(1.0), c),  # a float64 0-d: numpy promotes
        (x, 1e39, c),  # past float32's range
        (x[:8, :8], y[:8, :8], c[:8, :8].copy()),  # small
    ]:
        with np.errstate(over="ignore"):
            _same(cpu.where(cond, a, b), np.where(cond, a, b))
    assert len(calls) == 6


def test_tensor_where_matches_torch(rng, threads):
    torch = pytest.importorskip("torch")
    a = rng.standard_normal((256, 784)).astype(np.float32)
    b = rng.standard_normal((256, 784)).astype(np.float32)
    g = rng.standard_normal((256, 784)).astype(np.float32)
    fa, fb = fastnn.tensor(a, requires_grad=True), fastnn.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    out = fastnn.where(fa > fb, fa, fb * 2)
    want = torch.where(ta > tb, ta, tb * 2)
    _same(out.detach().numpy(), want.detach().numpy())
    out.backward(fastnn.tensor(g))
    want.backward(torch.tensor(g))
    _same(fa.grad.numpy(), ta.grad.numpy())
    _same(fb.grad.numpy(), tb.grad.numpy())
    _same(
        fastnn.where(fa > 0, fa, 0.0).detach().numpy(),
        torch.where(ta > 0, ta, 0.0).detach().numpy(),
    )


@pytest.mark.parametrize("shape", [(4, 4), (300, 257)])
def test_tensor_sign_rounding_and_abs_grad_match_torch(rng, threads, shape):
    """sign is torch's at NaN and -0 at every size (numpy's sign keeps NaN); abs's gradient is
    0 at NaN, as torch's; floor / ceil / trunc / round give torch's values."""
    torch = pytest.importorskip("torch")
    x = (rng.standard_normal(shape) * 3).astype(np.float32)
    x.flat[::11] = np.round(x.flat[::11]) + 0.5  # halfway cases
    x.flat[1::13] = np.nan
    x.flat[2::17] = -0.0
    g = rng.standard_normal(shape).astype(np.float32)
    fx, tx = fastnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    for name in ("sign", "floor", "ceil", "trunc", "round"):
        got = getattr(fx.detach(), name)().numpy()
        want = getattr(tx.detach(), name)().numpy()
        _same(got, want)
    fx.abs().backward(fastnn.tensor(g))
    tx.abs().backward(torch.tensor(g))
    np.testing.assert_array_equal(fx.grad.numpy(), tx.grad.numpy())
    for dt in (np.float16, np.int32):
        v = x.astype(dt) if dt != np.int32 else np.nan_to_num(x).astype(dt)
        want = torch.tensor(v).sign().numpy()
        np.testing.assert_array_equal(fastnn.tensor(v).sign().numpy(), want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_, np.complex64])
@pytest.mark.parametrize("n", [0, 1, 7, 33, 65_536, 100_003])
def test_copy_is_an_exact_new_array(rng, threads, dtype, n):
    x = (rng.standard_normal(n) * 100).astype(dtype)
    if dtype == np.float32 and n:
        x[::5] = np.nan
        x.view(np.uint32)[::7] = 0x7FC01234  # a NaN payload survives a byte copy
    y = _C.copy(x)
    assert y.dtype == x.dtype and y.shape == x.shape and not np.shares_memory(x, y)
    assert y.tobytes() == x.tobytes()
    y2 = _C.copy(x.reshape(1, n, 1))
    assert y2.shape == (1, n, 1) and y2.tobytes() == x.tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int8, np.int16, np.complex128])
@pytest.mark.parametrize("shape", [(64, 32, 128), (7, 33, 5), (1, 17, 1, 19), (257, 3)])
def test_copy_of_any_layout_is_numpys_contiguous_copy(rng, threads, dtype, shape):
    """Every permutation of the axes (transposes: tiles; the rest: runs), reversed and stepped
    axes, size-1 axes: the bytes of numpy's C-order copy."""
    base = (rng.standard_normal(shape) * 50).astype(dtype)
    for perm in itertools.permutations(range(len(shape))):
        v = base.transpose(perm)
        for view in (v, v[::-1], v[..., ::2], v[1:, ...][..., ::-3]):
            got = _C.copy(view)
            want = np.array(view, order="C", copy=True)
            assert got.flags.c_contiguous and got.shape == want.shape and got.dtype == want.dtype
            assert got.tobytes() == want.tobytes(), (perm, view.strides)


def test_copy_of_layouts_the_plan_does_not_take():
    """More than 8 axes, and strides that are not whole items (a float32 view every 6 bytes),
    go through numpy's copy; an empty view copies nothing."""
    nine = np.arange(2**10, dtype=np.float64).reshape((2,) * 9 + (2,))[..., ::2]
    np.testing.assert_array_equal(_C.copy(nine), nine)
    raw = np.arange(64, dtype=np.uint8)
    odd = np.lib.stride_tricks.as_strided(raw.view(np.float32), shape=(8,), strides=(6,))
    assert _C.copy(odd).tobytes() == np.array(odd, order="C").tobytes()
    empty = np.zeros((3, 0, 4)).transpose(2, 0, 1)
    assert _C.copy(empty).shape == (4, 3, 0)


def test_copy_bad_arguments_and_the_backend():
    with pytest.raises(TypeError, match="copy: argument 'x' must hold numbers or bools, got"):
        _C.copy(np.array([object()]))
    with pytest.raises(TypeError, match="copy: argument 'x' must hold numbers or bools, got"):
        _C.copy(np.array([object(), None])[::2])
    big = np.arange(cpu.ARITH_MIN, dtype=np.float32)
    for a in (big, big[::2], big.reshape(256, -1).T, big.astype(object), big[:10]):
        c = cpu.copy(a)
        assert c.flags.c_contiguous and not np.shares_memory(a, c)
        np.testing.assert_array_equal(c, a)


def test_backend_reshape_is_a_view_where_one_exists(rng):
    """cpu.reshape (under Tensor.reshape): a view where numpy can make one, else a copy (the
    threaded one for a large array), and numpy's error for a size that does not fit."""
    a = rng.standard_normal((64, 128, 32)).astype(np.float32)
    assert np.shares_memory(cpu.reshape(a[::2], (32, 4096)), a)
    t = a.transpose(1, 0, 2)
    r = cpu.reshape(t, (8192, 32))
    assert r.flags.c_contiguous and not np.shares_memory(r, a)
    np.testing.assert_array_equal(r, t.reshape(8192, 32))
    with pytest.raises(ValueError, match="cannot reshape"):
        cpu.reshape(t, (5, 5))
    np.testing.assert_array_equal(cpu.ascontiguous(t), np.ascontiguousarray(t))


def test_size_dispatch_object():
    """The C chooser behind the backend's element-wise ops: large when the first or second
    positional argument is a numpy array of min_size elements or more (any shape), small
    otherwise; arguments and keywords pass on as given; it reads as a routine."""
    calls = []

    def small(*args, **kwargs):
        calls.append(("small", args, kwargs))
        return "small"

    def large(*args, **kwargs):
        calls.append(("large", args, kwargs))
        return "large"

    d = fastnn._C.SizeDispatch(small, large, 10)
    a9, a10 = np.zeros(9), np.zeros((2, 5))
    assert d(a9, a9) == "small"
    assert d(a10, 1.0, out=None) == "large" and calls[-1] == ("large", (a10, 1.0), {"out": None})
    assert d(2, a10) == "large"
    assert d(a9, 2, a10) == "small"  # only the first two positions count
    assert d(np.float64(3.0), 1) == "small"  # a numpy scalar is not an array
    assert d(x=a10) == "small"  # nor a keyword
    assert d() == "small"
    assert d(np.zeros((0, 100))) == "small"  # size 0
    with pytest.raises(TypeError, match="callable"):
        fastnn._C.SizeDispatch(small, 3, 1)
    with pytest.raises(TypeError):
        fastnn._C.SizeDispatch(small, large, "10")
    assert inspect.isroutine(cpu.add) and cpu.add.__name__ == "add"
    assert isinstance(cpu.mul, fastnn._C.SizeDispatch)


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "maximum", "minimum"])
def test_recorded_ops_and_their_gradients_on_large_tensors_match_torch(rng, threads, name):
    """Under autograd the primitives and their backward passes take the threaded kernels from
    ARITH_MIN elements (the same bits as numpy's, so torch's values)."""
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((300, 257)).astype(np.float32)
    y = rng.standard_normal((300, 257)).astype(np.float32) + 3.0
    g = rng.standard_normal((300, 257)).astype(np.float32)
    fx, fy = fastnn.tensor(x, requires_grad=True), fastnn.tensor(y, requires_grad=True)
    tx, ty = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
    op = {"add": "__add__", "sub": "__sub__", "mul": "__mul__", "div": "__truediv__"}.get(name)
    out = getattr(fx, op)(fy) if op else getattr(fastnn, name)(fx, fy)
    want = getattr(tx, op)(ty) if op else getattr(torch, name)(tx, ty)
    _same(out.detach().numpy(), want.detach().numpy())
    out.backward(fastnn.tensor(g))
    want.backward(torch.tensor(g))
    np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(fy.grad.numpy(), ty.grad.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("requires_grad", [False, True])
@pytest.mark.parametrize("shape", [(4, 4), (300, 257)])
def test_tensor_cube_is_torchs(shape, requires_grad, rng):
    """x ** 3 (and torch.pow(x, 3.0)) is one pass of (x * x) * x: torch's bits, with its
    gradient 3 x^2 g."""
    torch = pytest.importorskip("torch")
    x = rng.standard_normal(shape).astype(np.float32)
    f = fastnn.tensor(x, requires_grad=requires_grad)
    t = torch.tensor(x, requires_grad=requires_grad)
    for fy, ty in ((f**3, t**3), (fastnn.pow(f, 3.0), torch.pow(t, 3.0))):
        np.testing.assert_array_equal(fy.detach().numpy(), ty.detach().numpy())
        if requires_grad:
            f.grad = t.grad = None
            fy.sum().backward()
            ty.sum().backward()
            np.testing.assert_allclose(f.grad.numpy(), t.grad.numpy(), rtol=1e-6)
