"""fastnn.kernels.avg_pool2d / avg_pool2d_backward (csrc/cpu/pool.cpp) against a float64 NumPy
reference of torch's divisor rule, finite differences, torch, and thread counts."""

import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn import kernels
from fastnn.autograd import gradcheck


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def ref_avg_pool(x, k, s, p, include_pad, divisor):
    """(out, the matrix A with out.flat = A @ x.flat per plane): float64, torch's divisor."""
    (kh, kw), (sh, sw), (ph, pw) = _pair(k), _pair(k if s is None else s), _pair(p)
    n, c, h, w = x.shape
    ho, wo = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    a = np.zeros((ho * wo, h * w))
    for oh in range(ho):
        for ow in range(wo):
            h0, w0 = oh * sh - ph, ow * sw - pw
            h1, w1 = min(h0 + kh, h + ph), min(w0 + kw, w + pw)
            padded = (h1 - h0) * (w1 - w0)
            rows = range(max(h0, 0), min(h1, h))
            cols = range(max(w0, 0), min(w1, w))
            d = divisor or (padded if include_pad else len(rows) * len(cols))
            for ih in rows:
                for iw in cols:
                    a[oh * wo + ow, ih * w + iw] = 1.0 / d
    out = (x.reshape(n * c, h * w).astype(np.float64) @ a.T).reshape(n, c, ho, wo)
    return out, a


CASES = [
    ((1, 1, 7, 9), 2, None, 0),
    ((2, 7, 5, 3), 2, 2, 0),
    ((1, 33, 9, 16), 2, 2, 0),
    ((3, 2, 7, 9), 3, 2, 1),
    ((1, 3, 8, 7), 3, 1, 1),
    ((2, 1, 9, 7), (3, 2), (1, 2), (1, 0)),
    ((1, 2, 11, 10), 5, 3, 2),
]


@pytest.mark.parametrize("divisor", [None, 3, -2])
@pytest.mark.parametrize("include_pad", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,k,s,p", CASES)
def test_matches_reference(shape, k, s, p, dtype, include_pad, divisor, threads, rng):
    x = rng.standard_normal(shape).astype(dtype)
    out = kernels.avg_pool2d(x, k, s, p, include_pad, divisor)
    eo, a = ref_avg_pool(x, k, s, p, include_pad, divisor)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)
    assert out.dtype == dtype and out.shape == eo.shape
    np.testing.assert_allclose(out, eo, **tol)
    g = rng.standard_normal(out.shape).astype(dtype)
    dx = kernels.avg_pool2d_backward(g, shape, k, s, p, include_pad, divisor)
    n, c = shape[:2]
    edx = (g.reshape(n * c, -1).astype(np.float64) @ a).reshape(shape)
    assert dx.dtype == dtype
    np.testing.assert_allclose(dx, edx, **tol)


@pytest.mark.parametrize("include_pad,divisor", [(True, None), (False, None), (True, 5)])
def test_gradcheck(include_pad, divisor, rng):
    x = fastnn.tensor(rng.standard_normal((2, 3, 7, 6)), requires_grad=True)
    for k, s, p in [(2, 2, 0), (3, 2, 1), ((3, 2), 1, (1, 0))]:
        gradcheck(
            lambda x: F.avg_pool2d(
                x, k, s, p, count_include_pad=include_pad, divisor_override=divisor
            ),
            (x,),
        )


@pytest.mark.parametrize("include_pad,divisor", [(True, None), (False, None), (False, 3)])
@pytest.mark.parametrize("shape,k,s,p", [((4, 7, 28, 28), 2, 2, 0), ((2, 3, 13, 15), 3, 2, 1)])
def test_torch_parity(shape, k, s, p, include_pad, divisor, rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal(shape).astype(np.float32)
    kw = dict(count_include_pad=include_pad, divisor_override=divisor)
    fx = fastnn.tensor(x, requires_grad=True)
    out = F.avg_pool2d(fx, k, s, p, **kw)
    g = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(fastnn.tensor(g))
    tx = torch.from_numpy(x).requires_grad_(True)
    tout = torch.nn.functional.avg_pool2d(tx, k, s, p, **kw)
    tout.backward(torch.from_numpy(g))
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-6)


def test_independent_of_thread_count(rng):
    x = rng.standard_normal((3, 33, 14, 15)).astype(np.float32)
    before = fastnn.get_num_threads()
    try:
        res = []
        for t in (1, 2, 3):
            fastnn.set_num_threads(t)
            out = kernels.avg_pool2d(x, 3, 2, 1)
            res.append((out, kernels.avg_pool2d_backward(out, x.shape, 3, 2, 1)))
    finally:
        fastnn.set_num_threads(before)
    for r in res[1:]:
        np.testing.assert_array_equal(r[0], res[0][0])
        np.testing.assert_array_equal(r[1], res[0][1])


def test_bad_arguments():
    x = np.zeros((1, 2, 6, 6), np.float32)
    with pytest.raises(ValueError, match="divisor must be not zero"):
        kernels.avg_pool2d(x, 2, divisor_override=0)
    with pytest.raises(ValueError, match="padding .* at most half of kernel_size"):
        kernels.avg_pool2d(x, 2, padding=2)
    with pytest.raises(TypeError, match="'count_include_pad' must be a bool"):
        kernels.avg_pool2d(x, 2, count_include_pad=1)
    with pytest.raises(TypeError, match="'divisor_override' must be an int"):
        kernels.avg_pool2d(x, 2, divisor_override=1.5)
    with pytest.raises(ValueError, match="'grad' must have shape"):
        kernels.avg_pool2d_backward(np.zeros((1, 2, 2, 2), np.float32), x.shape, 2)
    with pytest.raises(TypeError):
        kernels.avg_pool2d(x.astype(np.int32), 2)
    with pytest.raises(ValueError, match="output size"):
        kernels.avg_pool2d(x, 7)
