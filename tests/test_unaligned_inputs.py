"""Kernels on numpy arrays whose data starts at an odd byte offset (numpy's ALIGNED flag unset).

numpy (and torch.from_numpy) accept such arrays; the kernels load whole elements through typed
pointers, which a misaligned address does not allow (UBSan in .ci/sanitize reports the load), so
the bindings read misaligned inputs from aligned copies and refuse a misaligned array they would
write in place.
"""

import numpy as np
import pytest

from fastnn import kernels as K


def _misaligned(a):
    """An array equal to `a` whose data sits one byte past an aligned address."""
    buf = np.zeros(a.nbytes + 1, np.uint8)
    out = buf[1:].view(a.dtype).reshape(a.shape)
    out[...] = a
    assert not out.flags.aligned
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    ("m", "k", "n", "trans_b"),
    [(33, 7, 1, False), (33, 7, 5, True), (3, 257, 33, False), (57, 33, 65, False)],
)
def test_matmul_misaligned_operands(rng, dtype, m, k, n, trans_b):
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(dtype)
    bias = rng.standard_normal(n).astype(dtype)
    want = a.astype(np.float64) @ (b.T if trans_b else b).astype(np.float64) + bias
    got = K.matmul(_misaligned(a), _misaligned(b), trans_b=trans_b, bias=_misaligned(bias))
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max())
    strided = _misaligned(rng.standard_normal((k, m)).astype(dtype)).T  # misaligned, transposed
    want = strided.astype(np.float64) @ (b.T if trans_b else b).astype(np.float64)
    got = K.matmul(strided, b, trans_b=trans_b)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activation_misaligned_input(rng, dtype):
    x = rng.standard_normal(257).astype(dtype)
    want = np.where(x > 0, x, 0.2 * x)
    np.testing.assert_array_equal(K.leaky_relu(_misaligned(x), negative_slope=0.2), want)


def test_optimizer_misaligned_param_is_refused():
    p = _misaligned(np.ones(7, np.float32))
    g = _misaligned(np.ones(7, np.float32))
    with pytest.raises(ValueError, match=r"sgd_step: argument 'params\[0\]' .*not aligned"):
        K.sgd_step([p], [g], None, lr=0.5)
    assert (p == 1.0).all()
    q = np.ones(7, np.float32)
    K.sgd_step([q], [g], None, lr=0.5)  # a misaligned gradient is only read
    np.testing.assert_array_equal(q, np.full(7, 0.5, np.float32))


def test_matmul_misaligned_out_is_refused():
    a = np.ones((3, 4), np.float32)
    out = _misaligned(np.full((3, 2), 7.0, np.float32))
    with pytest.raises(ValueError, match=r"matmul: argument 'out' .* not aligned"):
        K.matmul(a, np.ones((4, 2), np.float32), out=out)
    assert (out == 7.0).all()


def test_layer_norm_misaligned_weight_is_refused(rng):
    # The normalization bindings read weight through the caller's array: a clear error, no copy.
    x = rng.standard_normal((3, 7)).astype(np.float32)
    w = _misaligned(np.ones(7, np.float32))
    with pytest.raises(ValueError, match=r"layer_norm: argument 'weight' .*not aligned"):
        K.layer_norm(x, (7,), w, None, 1e-5)
    y, _, _ = K.layer_norm(_misaligned(x), (7,), w.copy(), None, 1e-5)  # a misaligned x is copied
    want = (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-5)
