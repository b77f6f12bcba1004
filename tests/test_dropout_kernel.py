"""The one-pass CPU dropout kernel (csrc/cpu/dropout.cpp) and F.dropout on it: the mask is the
Philox 4x32-10 stream the CUDA kernel uses (checked against a NumPy reimplementation of the
block function), its statistics, the p = 0 / p = 1 edges, float64, gradients (finite differences
and torch's rule), reproducibility under fastnn.manual_seed and independence of the thread count."""

import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn import kernels as K

DTYPES = [np.float32, np.float64]


def philox_words(seed, offset, count):
    """(count, 4) uint32 words of counters offset .. offset + count - 1 under key seed (NumPy)."""
    m = np.uint64(0xFFFFFFFF)
    ctr = np.arange(count, dtype=np.uint64) + np.uint64(offset)
    c = [ctr & m, ctr >> np.uint64(32), np.zeros_like(ctr), np.zeros_like(ctr)]
    k0, k1 = np.uint64(seed & 0xFFFFFFFF), np.uint64(seed >> 32)
    for _ in range(10):
        p0 = np.uint64(0xD2511F53) * c[0]
        p1 = np.uint64(0xCD9E8D57) * c[2]
        c = [(p1 >> np.uint64(32)) ^ c[1] ^ k0, p1 & m, (p0 >> np.uint64(32)) ^ c[3] ^ k1, p0 & m]
        k0, k1 = (k0 + np.uint64(0x9E3779B9)) & m, (k1 + np.uint64(0xBB67AE85)) & m
    return np.stack(c, axis=1)


def reference_mask(n, dtype, p, seed, offset):
    per = 4 if np.dtype(dtype) == np.float32 else 2
    w = philox_words(seed, offset, -(-n // per))
    words = w.reshape(-1) if per == 4 else w[:, [0, 2]].reshape(-1)
    return words[:n] >= np.uint64(int(p * 2**32))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1,), (7,), (33, 3), (257, 5)])
def test_kernel_matches_numpy_philox(isa, dtype, shape):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(dtype)
    seed, offset, p = 0x0123456789ABCDEF, 77, 0.3
    y, mask = K.dropout(x, p, seed, offset)
    keep = reference_mask(x.size, dtype, p, seed, offset).reshape(shape)
    assert mask.dtype == np.uint8 and mask.shape == shape and y.dtype == dtype
    np.testing.assert_array_equal(mask.astype(bool), keep)
    expected = np.where(keep, x.astype(np.float64) * (1 / 0.7), 0.0)
    tol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(y, expected, rtol=tol, atol=0)
    g = rng.standard_normal(shape).astype(dtype)
    dx = K.dropout_backward(g, mask, p)
    np.testing.assert_allclose(dx, np.where(keep, g / 0.7, 0.0), rtol=tol, atol=0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_mask_mean_and_variance(dtype, p):
    x = np.ones(200_000, dtype)
    y, mask = K.dropout(x, p, 12345, 0)
    keep = mask.astype(np.float64)
    se = np.sqrt(p * (1 - p) / x.size)
    assert abs(keep.mean() - (1 - p)) < 5 * se
    assert abs(keep.var() - p * (1 - p)) < 0.01
    # E[y] = x: the scale undoes the dropped share; neighbouring elements are not correlated
    assert abs(y.astype(np.float64).mean() - 1.0) < 5 * se / (1 - p)
    assert abs(np.corrcoef(keep[:-1], keep[1:])[0, 1]) < 0.01


def test_edges_p0_p1_and_nan():
    x = np.array([1.0, -2.0, np.nan, np.inf], np.float32)
    y, mask = K.dropout(x, 0.0, 3, 0)
    np.testing.assert_array_equal(y, x)
    assert mask.all()
    y, mask = K.dropout(x, 1.0, 3, 0)
    assert not mask.any()
    np.testing.assert_array_equal(y[:2], [0.0, 0.0])  # no 0 * inf scale; NaN * 0 stays NaN
    assert np.isnan(y[2])
    dx = K.dropout_backward(np.ones(4, np.float32), mask, 1.0)
    np.testing.assert_array_equal(dx, np.zeros(4, np.float32))
    y, mask = K.dropout(np.zeros((0, 3)), 0.5, 1, 0)
    assert y.shape == (0, 3) and mask.shape == (0, 3)


def test_same_result_for_any_thread_count():
    x = np.random.default_rng(2).standard_normal((300, 1001)).astype(np.float32)  # 1 + many chunks
    old = fastnn.get_num_threads()
    try:
        fastnn.set_num_threads(1)
        y1, m1 = K.dropout(x, 0.4, 99, 5)
        fastnn.set_num_threads(max(2, old))
        y2, m2 = K.dropout(x, 0.4, 99, 5)
    finally:
        fastnn.set_num_threads(old)
    np.testing.assert_array_equal(m1, m2)
    np.testing.assert_array_equal(y1, y2)


def test_bad_arguments_raise_clear_errors():
    x = np.ones((4, 5), np.float32)
    with pytest.raises(TypeError, match="dropout: argument 'x' must have dtype float32 or float64"):
        K.dropout(np.ones(3, np.int64), 0.5, 0, 0)
    with pytest.raises(TypeError, match="must be a numpy.ndarray"):
        K.dropout([1.0, 2.0], 0.5, 0, 0)
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        K.dropout(x, 1.5, 0, 0)
    with pytest.raises(ValueError, match="C-contiguous"):
        K.dropout(x.T, 0.5, 0, 0)
    _, mask = K.dropout(x, 0.5, 0, 0)
    with pytest.raises(ValueError, match=r"'mask' must have shape \(4, 5\), got \(5, 4\)"):
        K.dropout_backward(x, mask.T.copy(), 0.5)
    with pytest.raises(TypeError, match="'mask' must have dtype uint8"):
        K.dropout_backward(x, mask.astype(np.float32), 0.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        K.dropout_backward(x, mask, -0.1)


@pytest.mark.parametrize("dtype", [fastnn.float32, fastnn.float64])
def test_functional_dropout_is_reproducible_and_keeps_dtype(dtype):
    x = fastnn.randn(64, 33, dtype=dtype)
    fastnn.manual_seed(7)
    a = F.dropout(x, 0.25)
    fastnn.manual_seed(7)
    b = F.dropout(x, 0.25)
    c = F.dropout(x, 0.25)  # the next call draws a new key
    assert a.dtype == dtype
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(a.numpy(), c.numpy())
    kept = a.numpy() != 0
    np.testing.assert_allclose(a.numpy()[kept], x.numpy()[kept] / 0.75, rtol=1e-6)


def test_functional_dropout_gradcheck_and_inplace():
    x = fastnn.randn(5, 7, dtype=fastnn.float64, requires_grad=True)

    def f(t):
        fastnn.manual_seed(3)  # the same mask at every evaluation of the finite differences
        return F.dropout(t, 0.4)

    assert fastnn.autograd.gradcheck(f, (x,))
    y = f(x)
    y.backward(fastnn.ones_like(y))
    kept = y.detach().numpy() != 0
    np.testing.assert_allclose(x.grad.numpy(), np.where(kept, 1 / 0.6, 0.0))
    z = fastnn.randn(4, 6)
    before = z.numpy().copy()
    fastnn.manual_seed(1)
    out = F.dropout(z, 0.5, inplace=True)
    assert out is z
    fastnn.manual_seed(1)
    np.testing.assert_array_equal(z.numpy(), F.dropout(fastnn.tensor(before), 0.5).numpy())


def test_torch_gradient_rule():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(4).standard_normal((16, 9))
    xf = fastnn.tensor(x, requires_grad=True)
    fastnn.manual_seed(11)
    y = F.dropout(xf, 0.3)
    keep = y.detach().numpy() != 0
    g = np.random.default_rng(5).standard_normal((16, 9))
    y.backward(fastnn.tensor(g))
    # torch's dropout is x * mask / (1 - p) with the same mask: apply it with torch's autograd
    xt = torch.tensor(x, requires_grad=True)
    yt = xt * torch.tensor(keep.astype(np.float64)) / 0.7
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-14)
    np.testing.assert_allclose(xf.grad.numpy(), xt.grad.numpy(), rtol=1e-14)
