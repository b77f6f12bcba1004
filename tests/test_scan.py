"""_C.cumsum / _C.cumprod, the scans of csrc/cpu/scan.cpp: every output the sequential sum (or
product) in double rounded once, which is torch's CPU result for float32, on every axis, forwards
and reversed, on one thread and two; the refused arguments; and the Tensor ops that use them."""

import numpy as np
import pytest

import fastnn
from fastnn import _C
from fastnn._devices import cpu

# rows around the eight scanned together, columns around the 256 kept at once, long axes
SHAPES = [(1,), (7,), (257,), (13, 33), (33, 1), (9, 1000), (3, 5, 257), (2, 300, 7), (8, 2, 513)]


def _reference(x, axis, product=False, reverse=False):
    """The sequential scan in float64 (numpy's float64 scans are sequential), rounded once."""
    d = x.astype(np.float64)
    if reverse:
        d = np.flip(d, axis)
    r = np.cumprod(d, axis) if product else np.cumsum(d, axis)
    if reverse:
        r = np.flip(r, axis)
    return r.astype(x.dtype)


def _same(got, want):
    assert got.dtype == want.dtype and got.shape == want.shape and got.flags.c_contiguous
    assert got.tobytes() == want.tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_cumsum_is_the_double_sum_rounded_once(rng, threads, dtype, shape):
    x = (rng.standard_normal(shape) * rng.choice([1e-3, 1.0, 1e4], shape)).astype(dtype)
    before = x.copy()
    for axis in range(-len(shape), len(shape)):
        _same(_C.cumsum(x, axis), _reference(x, axis))
        _same(_C.cumsum(x, axis, reverse=True), _reference(x, axis, reverse=True))
    assert x.tobytes() == before.tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_cumprod_is_the_double_product_rounded_once(rng, threads, dtype, shape):
    x = rng.uniform(0.99, 1.01, shape).astype(dtype)
    x.reshape(-1)[::17] *= -1
    for axis in range(len(shape)):
        _same(_C.cumprod(x, axis), _reference(x, axis, product=True))


def test_float32_sums_keep_their_accuracy_along_long_axes(rng):
    """numpy's float32 cumsum drifts (float32 partial sums); the kernel's stays within half an
    ulp of the exact running sum at every length."""
    x = rng.uniform(0, 1, 200_000).astype(np.float32)
    exact = np.cumsum(x.astype(np.float64))
    got = _C.cumsum(x, 0).astype(np.float64)
    ulp = np.spacing(np.abs(got).astype(np.float32)).astype(np.float64)
    assert np.max(np.abs(got - exact) / ulp) <= 0.5
    drift = np.abs(np.cumsum(x).astype(np.float64) - exact) / ulp
    assert np.max(drift) > 10  # what the kernel replaces


def test_specials_propagate(rng):
    x = rng.standard_normal((3, 40)).astype(np.float32)
    x[0, 5], x[1, 7], x[2, 9] = np.nan, np.inf, -np.inf
    for axis in (0, 1):
        for reverse in (False, True):
            want = _reference(x, axis, reverse=reverse)
            np.testing.assert_array_equal(_C.cumsum(x, axis, reverse=reverse), want)
    big = np.full(4, 3e38, np.float32)
    _same(_C.cumsum(big, 0), np.array([3e38, np.inf, np.inf, np.inf], np.float32))


def test_empty_axes():
    for shape, axis in [((0,), 0), ((3, 0), 1), ((0, 4), 1), ((2, 0, 3), 0)]:
        x = np.ones(shape, np.float32)
        _same(_C.cumsum(x, axis), np.cumsum(x, axis))
        _same(_C.cumprod(x, axis), np.cumprod(x, axis))


_X = np.ones((4, 5), np.float32)
BAD = [
    (
        TypeError,
        "cumsum: argument 'x' must have dtype float32 or float64, got int64",
        lambda: _C.cumsum(_X.astype(np.int64), 0),
    ),
    (
        TypeError,
        "cumprod: argument 'x' must be a numpy.ndarray, got list",
        lambda: _C.cumprod([1.0], 0),
    ),
    (
        ValueError,
        r"cumsum: argument 'x' with shape \(4, 3\) must be C-contiguous",
        lambda: _C.cumsum(_X[:, ::2], 0),
    ),
    (
        ValueError,
        "cumsum: argument 'x' must have at least one dimension",
        lambda: _C.cumsum(np.array(1.0), 0),
    ),
    (
        IndexError,
        r"cumsum: axis 2 is out of range for x of shape \(4, 5\) \(expected -2 <= axis < 2\)",
        lambda: _C.cumsum(_X, 2),
    ),
    (IndexError, "cumprod: axis -3 is out of range", lambda: _C.cumprod(_X, -3)),
]


@pytest.mark.parametrize("error, message, call", BAD)
def test_bad_arguments(error, message, call):
    with pytest.raises(error, match=message):
        call()


def test_backend_routes(rng):
    x = rng.standard_normal((6, 10)).astype(np.float32)
    _same(cpu.cumsum(x.T, 0), _reference(x.T.copy(), 0))  # another layout: copied first
    _same(cpu.cumsum(x, 1, reverse=True), _reference(x, 1, reverse=True))
    i = np.arange(12).reshape(3, 4)
    np.testing.assert_array_equal(
        cpu.cumsum(i, 1, reverse=True), [[6, 6, 5, 3], [22, 18, 13, 7], [38, 30, 21, 11]]
    )
    h = x.astype(np.float16)
    _same(cpu.cumsum(h, 1), np.cumsum(h, 1))  # float16 stays numpy's


def test_tensor_scans_match_torch(rng, threads):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((37, 300)).astype(np.float32)
    g = rng.standard_normal((37, 300)).astype(np.float32)
    for axis in (0, 1, -1):
        fx = fastnn.tensor(x, requires_grad=True)
        tx = torch.tensor(x, requires_grad=True)
        fy, ty = fx.cumsum(axis), tx.cumsum(axis)
        _same(fy.detach().numpy(), ty.detach().numpy())
        fy.backward(fastnn.tensor(g))
        ty.backward(torch.tensor(g))
        _same(fx.grad.numpy(), tx.grad.numpy())
    p = rng.uniform(0.9, 1.1, (5, 200)).astype(np.float32)
    _same(fastnn.tensor(p).cumprod(1).numpy(), torch.tensor(p).cumprod(1).numpy())
