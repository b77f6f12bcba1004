"""_C.sum_rows, the CPU backend's sum over leading dimensions (bias gradients, Tensor.sum(0)):
against the float64 reference on awkward shapes, independence of the thread count, the refused
arguments, and the Tensor paths that reach it."""

import numpy as np
import pytest

import fastnn
from fastnn import _C

# (300, 513): past the threaded size, split into two blocks of columns that are not whole
# vectors; (513, 1030): wider than one block
SHAPES = [
    (1, 1),
    (7, 1),
    (1, 33),
    (257, 7),
    (33, 257),
    (1000, 3),
    (256, 10),
    (300, 513),
    (513, 1030),
]


def _bound(x, dtype):
    """Error bound of a column sum: chunks of 256 rows in x's dtype, chunk sums in double."""
    eps = np.finfo(dtype).eps
    return 300 * eps * np.abs(x.astype(np.float64)).sum(axis=0) + 1e-30


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
def test_matches_reference(rng, isa, threads, dtype, shape):
    x = rng.standard_normal(shape).astype(dtype)
    got = _C.sum_rows(x)
    assert got.dtype == dtype and got.shape == (shape[1],)
    err = np.abs(got.astype(np.float64) - x.astype(np.float64).sum(axis=0))
    assert (err <= _bound(x, dtype)).all(), err.max()


def test_long_columns_keep_their_precision(rng):
    """100k rows of float32 ones plus noise: a plain float32 running sum drifts, the chunked sum
    stays within a few units of float32 rounding of the exact total."""
    x = (1.0 + 1e-3 * rng.standard_normal((100_000, 3))).astype(np.float32)
    exact = x.astype(np.float64).sum(axis=0)
    got = _C.sum_rows(x).astype(np.float64)
    assert (np.abs(got - exact) <= 4 * np.finfo(np.float32).eps * exact).all()


def test_empty_and_zero_rows():
    np.testing.assert_array_equal(_C.sum_rows(np.zeros((0, 5), np.float32)), np.zeros(5))
    assert _C.sum_rows(np.zeros((4, 0))).shape == (0,)


def test_special_values_propagate():
    x = np.ones((300, 3))
    x[5, 0], x[299, 1], x[7, 2] = np.nan, np.inf, -np.inf
    got = _C.sum_rows(x)
    assert np.isnan(got[0]) and got[1] == np.inf and got[2] == -np.inf


def test_bits_do_not_depend_on_threads(rng):
    x = rng.standard_normal((700, 2100)).astype(np.float32)  # above the threaded size
    before = fastnn.get_num_threads()
    try:
        fastnn.set_num_threads(1)
        one = _C.sum_rows(x)
        for nt in (2, 3):
            fastnn.set_num_threads(nt)
            np.testing.assert_array_equal(_C.sum_rows(x), one)
    finally:
        fastnn.set_num_threads(before)


def test_bits_do_not_depend_on_the_isa(rng):
    """Every SIMD path adds in the same order (cpu/sum_rows_block.h)."""
    x = rng.standard_normal((700, 1030)).astype(np.float32)
    before = _C.get_isa()
    try:
        results = []
        for isa in _C.supported_isas():
            _C.set_isa(isa)
            results.append(_C.sum_rows(x))
    finally:
        _C.set_isa(before)
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])


@pytest.mark.parametrize(
    ("arg", "error", "match"),
    [
        ([[1.0, 2.0]], TypeError, "numpy.ndarray"),
        (np.ones((3, 2), np.int64), TypeError, "float32 or float64.*int64"),
        (np.ones(3), ValueError, "2 dimensions.*\\(3,\\)"),
        (np.ones((2, 3, 4)), ValueError, "2 dimensions.*\\(2, 3, 4\\)"),
        (np.ones((4, 6))[:, ::2], ValueError, "C-contiguous"),
    ],
)
def test_refused_arguments(arg, error, match):
    with pytest.raises(error, match=match):
        _C.sum_rows(arg)


# ---- through the Tensor API ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "dim", "keepdim"),
    [
        ((256, 10), 0, False),
        ((6, 5, 4), (0, 1), True),
        ((6, 5, 4), (1, 0), False),
        ((3, 4), -2, True),
        ((5, 7), 1, False),
        ((2, 3, 4), (0, 2), False),
    ],
)
def test_tensor_sum_over_leading_dims(rng, shape, dim, keepdim):
    x = rng.standard_normal(shape).astype(np.float32)
    got = fastnn.tensor(x).sum(dim=dim, keepdim=keepdim).numpy()
    want = x.astype(np.float64).sum(axis=dim, keepdims=keepdim)
    assert got.shape == want.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_bias_gradients(rng):
    """Linear's db and the gradient of a broadcast add are the column sums of the upstream
    gradient."""
    x = fastnn.tensor(rng.standard_normal((33, 7)).astype(np.float64))
    lin = fastnn.nn.Linear(7, 5).double()
    b = fastnn.tensor(rng.standard_normal(5), requires_grad=True)
    g = rng.standard_normal((33, 5))
    (lin(x) + b).backward(fastnn.tensor(g))
    np.testing.assert_allclose(lin.bias.grad.numpy(), g.sum(axis=0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), g.sum(axis=0), rtol=1e-12, atol=1e-12)


def test_matches_torch(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((257, 3, 5)).astype(np.float32)
    got = fastnn.tensor(x).sum(dim=(0, 1)).numpy()
    want = torch.from_numpy(x).sum(dim=(0, 1)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
