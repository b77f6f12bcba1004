"""max_pool2d's 2x2 stride-2 kernels (the SIMD planes of csrc/cpu/pool_simd.h) on every ISA
path: row ends shorter than a vector, odd H/W, NaN / inf / tie rules, indices that leave their
window, thread-count independence and torch parity."""

import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn import kernels


def ref_pool_2x2(x):
    """float64 reference with torch's rule: scan (0,0), (0,1), (1,0), (1,1); a tap replaces the
    running max when greater or NaN (so the last NaN gives the index, the first of ties wins)."""
    n, c, h, w = x.shape
    ho, wo = h // 2, w // 2
    out = np.empty((n, c, ho, wo))
    idx = np.empty((n, c, ho, wo), np.int64)
    for oh in range(ho):
        for ow in range(wo):
            taps = [(2 * oh + i) * w + 2 * ow + j for i in (0, 1) for j in (0, 1)]
            flat = x.reshape(n, c, h * w)[..., taps].astype(np.float64)
            best, bi = flat[..., 0].copy(), np.full((n, c), taps[0])
            for t in range(1, 4):
                take = (flat[..., t] > best) | np.isnan(flat[..., t])
                best = np.where(take, flat[..., t], best)
                bi = np.where(take, taps[t], bi)
            out[..., oh, ow], idx[..., oh, ow] = best, bi
    return out, idx


def ref_scatter(g, idx, shape):
    n, c, h, w = shape
    dx = np.zeros((n * c, h * w))
    for p, (gp, ip) in enumerate(zip(g.reshape(n * c, -1), idx.reshape(n * c, -1))):
        np.add.at(dx[p], ip, gp)
    return dx.reshape(shape)


# W = 2*Wo (+1): Wo around the AVX2 (8) and AVX-512 (16) widths, plus a 1-wide plane.
SHAPES = [(1, 1, 2, 2), (1, 7, 5, 3), (2, 33, 4, 16), (1, 3, 7, 31), (2, 1, 6, 34), (1, 2, 3, 67)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
def test_matches_reference_with_nan_inf_and_ties(shape, dtype, isa, rng):
    # Small integers make ties common; sprinkle NaN and +-inf.
    x = rng.integers(-3, 4, size=shape).astype(dtype)
    x[rng.random(shape) < 0.08] = np.nan
    x[rng.random(shape) < 0.05] = np.inf
    x[rng.random(shape) < 0.05] = -np.inf
    out, idx = kernels.max_pool2d(x, 2, 2)
    eo, ei = ref_pool_2x2(x)
    np.testing.assert_array_equal(out, eo.astype(dtype))  # NaN == NaN here
    np.testing.assert_array_equal(idx, ei)
    g = rng.standard_normal(out.shape).astype(dtype)
    dx = kernels.max_pool2d_backward(g, idx, shape)
    np.testing.assert_array_equal(dx, ref_scatter(g, idx, shape).astype(dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backward_with_indices_outside_their_window(dtype, isa, rng):
    # Shapes of a 2x2 pool, indices of something else: the result is still the scatter-add.
    shape = (2, 3, 6, 34)
    g = rng.standard_normal((2, 3, 3, 17)).astype(dtype)
    idx = rng.integers(0, 6 * 34, size=g.shape)
    dx = kernels.max_pool2d_backward(g, idx, shape)
    np.testing.assert_allclose(dx, ref_scatter(g, idx, shape), rtol=1e-6, atol=1e-6)
    idx[1, 2, 2, 16] = 6 * 34
    with pytest.raises(ValueError, match=r"'indices' holds 204 at flat position 305"):
        kernels.max_pool2d_backward(g, idx, shape)
    ok, _ = kernels.max_pool2d(rng.standard_normal(shape).astype(dtype), 2)
    _, good = kernels.max_pool2d(rng.standard_normal(shape).astype(dtype), 2)
    good[0, 0, 0, 0] = -5  # one bad index among valid ones in their windows
    with pytest.raises(ValueError, match="'indices' holds -5 at flat position 0"):
        kernels.max_pool2d_backward(ok, good, shape)


def test_independent_of_thread_count(rng):
    x = rng.standard_normal((4, 33, 14, 29)).astype(np.float32)
    g = rng.standard_normal((4, 33, 7, 14)).astype(np.float32)
    before = fastnn.get_num_threads()
    results = []
    try:
        for t in (1, 2, 3):
            fastnn.set_num_threads(t)
            out, idx = kernels.max_pool2d(x, 2)
            results.append((out, idx, kernels.max_pool2d_backward(g, idx, x.shape)))
    finally:
        fastnn.set_num_threads(before)
    for r in results[1:]:
        for a, b in zip(r, results[0]):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("shape", [(3, 7, 28, 28), (2, 5, 13, 15)])
def test_torch_parity(shape, isa, rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal(shape).astype(np.float32)
    x[0, 0, 0, :4] = np.nan
    fx = fastnn.tensor(x, requires_grad=True)
    out, idx = F.max_pool2d(fx, 2, return_indices=True)
    g = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(fastnn.tensor(g))
    tx = torch.from_numpy(x).requires_grad_(True)
    tout, tidx = torch.nn.functional.max_pool2d(tx, 2, return_indices=True)
    tout.backward(torch.from_numpy(g))
    np.testing.assert_array_equal(out.detach().numpy(), tout.detach().numpy())
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    np.testing.assert_array_equal(fx.grad.numpy(), tx.grad.numpy())
