"""The last, partial vector of a softmax row (a row length that is not a multiple of the SIMD
width, as a 10-class output always is). Its unused lanes are computed as exp(0) and cleared, so
that they add nothing and produce no underflow; these tests pin that down where it could show:
rows whose maximum is +inf, -inf or NaN, entries far below the maximum (exp underflows to a
subnormal or to 0), on every SIMD path, against torch and against the float64 reference."""

import numpy as np
import pytest

import reference as ref
from conftest import assert_close
from fastnn import kernels as K

WIDTHS = [1, 7, 10, 15, 16, 17, 31, 33, 100]


def special_rows(rng, c):
    """Rows of length c: plain, with an entry 100 below the max (exp(-100) is subnormal in
    float32), one 200 below (0), +inf, NaN, a -inf entry, all -inf."""
    rows = (rng.standard_normal((8, c)) * 3).astype(np.float32)
    rows[1, 0] -= 100.0 + rows[1].max()
    rows[2, -1] = rows[2].max() - 200.0
    rows[3, c // 2] = np.inf
    rows[4, c - 1] = np.nan
    rows[5, 0] = -np.inf
    rows[6, :] = -np.inf
    return rows


@pytest.mark.parametrize("c", WIDTHS)
def test_softmax_tails_match_torch(c, isa, rng):
    torch = pytest.importorskip("torch")
    x = special_rows(rng, c)
    tx = torch.from_numpy(x)
    for name in ("softmax", "log_softmax"):
        got = getattr(K, name)(x)
        want = getattr(torch, name)(tx, 1).numpy()
        assert np.array_equal(np.isnan(got), np.isnan(want)), (name, c)
        keep = ~np.isnan(want)
        np.testing.assert_allclose(got[keep], want[keep], rtol=3e-5, atol=3e-6, err_msg=name)


@pytest.mark.parametrize("c", WIDTHS)
def test_cross_entropy_tails_match_torch(c, isa, rng):
    torch = pytest.importorskip("torch")
    z = special_rows(rng, c)
    t = rng.integers(0, c, z.shape[0])
    t[1] = 0  # the target is the entry far below the max: a large, finite loss
    loss, grad = K.softmax_cross_entropy(z, t, reduction="none", grad=True)
    tz = torch.from_numpy(z).requires_grad_(True)
    want = torch.nn.functional.cross_entropy(tz, torch.from_numpy(t), reduction="none")
    want.sum().backward()
    want, want_grad = want.detach().numpy(), tz.grad.numpy()
    assert np.array_equal(np.isnan(loss), np.isnan(want))
    keep = ~np.isnan(want)
    np.testing.assert_allclose(loss[keep], want[keep], rtol=3e-5, atol=3e-6)
    rows = keep & np.isfinite(want)
    np.testing.assert_allclose(grad[rows], want_grad[rows], rtol=3e-5, atol=3e-6)


@pytest.mark.parametrize("c", WIDTHS)
def test_finite_tails_match_float64(c, isa, rng):
    """Finite rows with entries whose exp underflows, 5 rows (the narrow cross-entropy kernel
    takes 4 at once, then one): the float64 reference's results on every path, smoothing too."""
    z = (rng.standard_normal((5, c)) * 40).astype(np.float32)
    t = rng.integers(0, c, 5)
    for eps in (0.0, 0.1):
        loss, grad = K.softmax_cross_entropy(z, t, reduction="none", label_smoothing=eps, grad=True)
        want, want_grad = ref.softmax_cross_entropy(z, t, reduction="none", label_smoothing=eps)
        assert_close(loss, want, atol=2e-5, rtol=3e-5, name="loss")
        assert_close(grad, want_grad, atol=3e-6, rtol=3e-5, name="grad")
    assert_close(K.softmax(z), ref.softmax(z), atol=3e-6, rtol=3e-5, name="softmax")
    assert_close(K.log_softmax(z), ref.log_softmax(z), atol=2e-5, rtol=3e-5, name="log_softmax")
