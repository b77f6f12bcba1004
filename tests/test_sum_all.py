"""_C.sum_all and _C.sum_last, the CPU backend's sums of every element and of each row
(Tensor.sum() / .mean() of a whole contiguous float tensor, and over its last dim): the same bits
as numpy's pairwise sum on awkward sizes, the error bound against the float64 reference, the
special values, the refused arguments, and the Tensor paths that reach them (and those that must
not)."""

import threading

import numpy as np
import pytest

import fastnn
from fastnn import _C

# around the pairwise sum's boundaries: 8 partial sums, blocks of 128, halves cut at multiples of 8
# (a node of 129..256 is two leaves, summed in step on the vector paths; 255 and 263 split into a
# leaf and a node of three leaves; 200_704 has leaves of several lengths)
SIZES = [0, 1, 2, 7, 8, 9, 15, 16, 17, 33, 127, 128, 129, 136, 143, 200, 255, 256, 257, 263]
SIZES += [1000, 4097, 100_003, 200_704]


def _data(rng, n, dtype):
    """Values of mixed magnitude and sign, so a change of summation order changes the bits."""
    scale = rng.choice([1e-3, 1.0, 1e3], n)
    return (rng.standard_normal(n) * scale).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", SIZES)
def test_same_bits_as_numpy(rng, isa, dtype, n):
    x = _data(rng, n, dtype)
    got = _C.sum_all(x)
    assert got.shape == () and got.dtype == dtype
    assert got.tobytes() == np.add.reduce(x).tobytes(), (got, np.add.reduce(x))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [131_071, 131_072, 300_007, (1 << 20) + 5])
def test_threaded_sum_has_numpys_bits(rng, isa, threads, dtype, n):
    """From 128k elements the top of the tree is split over the pool's threads: still the bits
    of numpy's single pass, on any thread count."""
    x = _data(rng, n, dtype)
    assert _C.sum_all(x).tobytes() == np.add.reduce(x).tobytes()


@pytest.mark.parametrize("shape", [(33, 257), (7, 1, 9), (1, 1), (257, 1, 3), (2, 0, 5)])
def test_any_shape_sums_as_its_flat_view(rng, shape):
    x = rng.standard_normal(shape).astype(np.float32)
    got = _C.sum_all(x)
    assert got.shape == ()
    assert got.tobytes() == np.float32(x.sum()).tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [7, 33, 257, 100_003])
def test_within_pairwise_bound_of_reference(rng, dtype, n):
    x = _data(rng, n, dtype)
    exact = x.astype(np.float64).sum() if dtype == np.float32 else np.sum(x.astype(np.longdouble))
    bound = (np.log2(n) + 8) * np.finfo(dtype).eps * np.abs(x.astype(np.float64)).sum()
    assert abs(float(_C.sum_all(x)) - float(exact)) <= bound


def test_long_sums_keep_their_precision():
    """A million float32 0.1s: a running float32 sum is off by about 1%, the pairwise one by a
    few roundings."""
    x = np.full(1_000_000, 0.1, np.float32)
    exact = float(np.float32(0.1)) * 1_000_000
    assert abs(float(_C.sum_all(x)) - exact) <= 1e-5 * exact


def test_zeros_signs_and_empty():
    for dtype in (np.float32, np.float64):
        got = _C.sum_all(np.array([-0.0, -0.0], dtype))
        assert got == 0 and not np.signbit(got)  # +0 like numpy, whose sum starts from +0
        assert _C.sum_all(np.zeros(0, dtype)) == 0 and _C.sum_all(np.zeros(0, dtype)).shape == ()
    assert _C.sum_all(np.zeros((3, 0), np.float32)).dtype == np.float32


def test_special_values_propagate():
    x = np.ones(300)
    x[5] = np.nan
    assert np.isnan(_C.sum_all(x))
    x[5] = np.inf
    assert _C.sum_all(x) == np.inf
    x[200] = -np.inf
    assert np.isnan(_C.sum_all(x))
    big = np.full(10, np.finfo(np.float32).max, np.float32)
    assert _C.sum_all(big) == np.inf  # overflows in float32, as numpy's float32 sum does


def test_result_is_a_new_array(rng):
    x = rng.standard_normal(16).astype(np.float32)
    before = x.copy()
    out = _C.sum_all(x)
    out[()] = 5.0
    np.testing.assert_array_equal(x, before)
    assert _C.sum_all(x) == np.add.reduce(x)


def test_threads_share_it(rng):
    """The kernel runs without the GIL: sums from several threads at once stay exact."""
    xs = [_data(rng, n, np.float32) for n in (5, 129, 4097, 65_537)]
    want = [np.add.reduce(x).tobytes() for x in xs]
    bad = []

    def work():
        for _ in range(200):
            for x, w in zip(xs, want, strict=True):
                if _C.sum_all(x).tobytes() != w:
                    bad.append(x.size)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not bad


@pytest.mark.parametrize(
    ("arg", "error", "match"),
    [
        ([1.0, 2.0], TypeError, "'x' must be a numpy.ndarray, got list"),
        (np.float32(1.0), TypeError, "numpy.ndarray, got numpy.float32"),
        (np.ones(3, np.int64), TypeError, "float32 or float64, got int64"),
        (np.ones(3, np.float16), TypeError, "float32 or float64, got float16"),
        (np.ones((4, 6))[:, ::2], ValueError, "\\(4, 3\\) must be C-contiguous"),
        (np.ones((3, 4)).T, ValueError, "C-contiguous"),
    ],
)
def test_refused_arguments(arg, error, match):
    with pytest.raises(error, match=match):
        _C.sum_all(arg)


# ---- through the Tensor API ----------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(), (1,), (4, 4), (33, 7), (2, 3, 129)])
@pytest.mark.parametrize("grad", [False, True])
def test_tensor_sum_and_mean_are_numpys(rng, dtype, shape, grad):
    x = rng.standard_normal(shape).astype(dtype)
    t = fastnn.tensor(x, requires_grad=grad)
    for got, want in ((t.sum(), np.sum(x)), (t.mean(), np.mean(x))):
        assert got.shape == () and got.dtype == t.dtype
        assert got.detach().numpy().tobytes() == np.asarray(want, dtype).tobytes()
    kept = t.mean(dim=None, keepdim=True) if shape else t.mean()
    assert kept.shape == (1,) * len(shape)
    assert kept.detach().numpy().tobytes() == np.mean(x, keepdims=True).tobytes()


def test_mean_of_large_float32_rounds_as_numpy(rng):
    """numpy divides a float32 sum by the count in float64, then rounds: with 3 * 2**22 + 1
    elements the count is not a float32, and a float32 division would round it first."""
    x = (1.0 + rng.standard_normal(3 * 2**22 + 1)).astype(np.float32)
    assert fastnn.tensor(x).mean().numpy().tobytes() == np.mean(x).tobytes()


@pytest.mark.parametrize("grad", [False, True])
def test_strided_and_other_dtypes_take_numpys_path(rng, grad):
    x = rng.standard_normal((33, 7)).astype(np.float32)
    t = fastnn.tensor(x, requires_grad=grad)
    assert t.t().sum().detach().numpy().tobytes() == np.add.reduce(x.T, axis=None).tobytes()
    assert t[:, ::2].mean().detach().numpy().tobytes() == np.mean(x[:, ::2]).tobytes()
    h = fastnn.tensor(x.astype(np.float16))
    assert h.sum().dtype == fastnn.float16
    assert fastnn.tensor(np.arange(10)).sum().item() == 45


def test_gradients(rng):
    x = fastnn.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    (x.sum() + 2 * x.mean()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((5, 3), 1 + 2 / 15))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1,), (7,), (2000,), (33, 257), (3, 1, 5)])
def test_scalar_operand_gradient_is_numpys_sum(rng, dtype, shape):
    """A 0-d tensor broadcast against a bigger one (the coefficients of a polynomial fit) gets the
    whole sum of its broadcast gradient: sum_all's bits, numpy's. A gradient in another layout
    (a transposed operand's) sums in that layout's order: close to the float64 sum."""
    x = rng.standard_normal(shape).astype(dtype)
    c = fastnn.tensor(np.asarray(0.5, dtype), requires_grad=True)
    (c * fastnn.tensor(x)).sum().backward()
    assert c.grad.shape == () and c.grad.dtype == c.dtype
    assert c.grad.numpy().tobytes() == np.add.reduce(x, axis=None).tobytes()
    c.grad = None
    (c * fastnn.tensor(x).T).sum().backward()
    assert c.grad.shape == () and c.grad.dtype == c.dtype
    bound = 4 * x.size * np.finfo(dtype).eps * np.abs(x).sum()
    assert abs(float(c.grad) - float(x.astype(np.float64).sum())) <= bound


def test_scalar_operand_gradients_match_torch(rng):
    """The polynomial fit's coefficients: each 0-d parameter's gradient as torch computes it."""
    torch = pytest.importorskip("torch")
    x = np.linspace(-np.pi, np.pi, 2000, dtype=np.float32)
    y = np.sin(x)
    grads = []
    for lib in (fastnn, torch):
        xs, ys = lib.tensor(x), lib.tensor(y)
        coef = [lib.tensor(np.float32(v), requires_grad=True) for v in (0.1, 0.8, -0.05, -0.09)]
        a, b, c, d = coef
        ((a + b * xs + c * xs**2 + d * xs**3 - ys) ** 2).sum().backward()
        grads.append([float(p.grad) for p in coef])
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-5)


def test_matches_torch(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((257, 33)).astype(np.float32)
    for name in ("sum", "mean"):
        got = getattr(fastnn.tensor(x), name)().item()
        want = getattr(torch.from_numpy(x), name)().item()
        assert abs(got - want) <= 1e-5 * np.abs(x).sum() / (x.size if name == "mean" else 1)


# ---- sum_last: each row's sum ---------------------------------------------------------------------

ROWS_COLS = [(1, 1), (7, 0), (0, 5), (3, 7), (256, 10), (33, 129), (9, 200), (5, 257), (2, 4097)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", ROWS_COLS)
def test_sum_last_has_numpys_bits(rng, isa, dtype, shape):
    x = _data(rng, shape[0] * shape[1], dtype).reshape(shape)
    got = _C.sum_last(x)
    assert got.shape == (shape[0],) and got.dtype == dtype
    assert got.tobytes() == np.add.reduce(x, axis=1).tobytes()


def test_sum_last_bits_do_not_depend_on_threads(rng):
    x = rng.standard_normal((700, 2100)).astype(np.float32)  # above the threaded size
    before = fastnn.get_num_threads()
    try:
        fastnn.set_num_threads(1)
        one = _C.sum_last(x)
        for nt in (2, 3):
            fastnn.set_num_threads(nt)
            np.testing.assert_array_equal(_C.sum_last(x), one)
    finally:
        fastnn.set_num_threads(before)
    assert one.tobytes() == np.add.reduce(x, axis=1).tobytes()


@pytest.mark.parametrize(
    ("arg", "error", "match"),
    [
        ([[1.0, 2.0]], TypeError, "'x' must be a numpy.ndarray"),
        (np.ones((3, 2), np.int32), TypeError, "float32 or float64, got int32"),
        (np.ones(3), ValueError, "2 dimensions.*\\(3,\\)"),
        (np.ones((4, 6))[:, ::2], ValueError, "C-contiguous"),
    ],
)
def test_sum_last_refused_arguments(arg, error, match):
    with pytest.raises(error, match=match):
        _C.sum_last(arg)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(5,), (4, 4), (256, 10), (2, 3, 129), (3, 0)])
@pytest.mark.parametrize("grad", [False, True])
def test_tensor_sums_and_means_over_the_last_dim_are_numpys(rng, dtype, shape, grad):
    x = rng.standard_normal(shape).astype(dtype)
    t = fastnn.tensor(x, requires_grad=grad)
    for dim in (-1, len(shape) - 1):
        for keepdim in (False, True):
            got = t.sum(dim, keepdim=keepdim).detach().numpy()
            want = np.sum(x, axis=dim, keepdims=keepdim)
            assert got.shape == want.shape and got.tobytes() == want.tobytes()
            if x.size:
                got = t.mean(dim, keepdim=keepdim).detach().numpy()
                want = np.asarray(np.mean(x, axis=dim, keepdims=keepdim))
                assert got.shape == want.shape and got.tobytes() == want.tobytes()
