"""conv2d by packed im2col (csrc/cpu/conv_gemm.cpp) vs the float64 loops in reference.py, on every
ISA path: panels that cross image boundaries, blocks that cross images, partial register tiles
(C_out not a multiple of the tile height), every stride / padding / dilation pattern, batch 1;
and the same bits for any thread count."""

import numpy as np
import pytest

import fastnn
import reference as ref
from conftest import assert_close
from fastnn import kernels

TOL = {np.float32: dict(atol=2e-4, rtol=2e-4), np.float64: dict(atol=1e-10, rtol=1e-10)}


def P(v):
    return tuple(v) if isinstance(v, tuple) else (v, v)


# (N, C, H, W), C_out, kernel, stride, padding, dilation. 3x3x11x13 -> 13: 143 pixels per image, so
# 32-wide panels straddle images; 2x40x20x20 -> 33: patch panels of 360 rows cut into several
# blocks per image, C_out three 12-row tiles minus 3; 1x1 kernels, C_out 1, batch 1; stride 1 with
# uneven padding and dilation (the shifted-panel path) and strides 2, 3 (the per-run path); C_out
# 64 (8-row tiles, dW computed transposed); batch 19 (dW slices of one and two images) and 630
# patch rows over 9 channels (dW by patch columns, several tiles, stride 2).
GEOMS = [
    ((3, 3, 11, 13), 13, 3, 1, 1, 1),
    ((1, 1, 9, 7), 1, 3, 1, 0, 1),
    ((2, 40, 20, 20), 33, 3, 1, 1, 1),
    ((3, 5, 13, 11), 7, 3, 2, 0, 1),
    ((2, 2, 12, 15), 12, 5, 1, 2, 2),
    ((1, 4, 17, 9), 25, (3, 5), (2, 1), (1, 2), (2, 1)),
    ((5, 3, 6, 7), 4, (1, 3), 1, (0, 3), 1),
    ((2, 6, 8, 8), 17, 1, 1, 0, 1),
    ((4, 2, 9, 9), 5, 2, 3, 1, 1),
    ((2, 3, 10, 12), 14, (3, 2), 1, (0, 2), (2, 1)),
    ((2, 8, 9, 10), 64, 3, 1, 1, 1),
    ((19, 2, 5, 6), 3, 3, 1, 1, 1),
    ((2, 70, 7, 9), 9, 3, 2, 1, 1),
]


def _inputs(shape, cout, k, dtype, rng):
    kh, kw = P(k)
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((cout, shape[1], kh, kw)).astype(dtype)
    b = rng.standard_normal(cout).astype(dtype)
    return x, w, b


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,cout,k,s,p,d", GEOMS)
def test_conv2d_matches_reference_on_every_isa(shape, cout, k, s, p, d, dtype, isa, rng):
    x, w, b = _inputs(shape, cout, k, dtype, rng)
    s, p, d = P(s), P(p), P(d)
    tol = TOL[dtype]
    for bias in (b, None):
        y = kernels.conv2d(x, w, bias, s, p, d)
        assert y.dtype == dtype
        assert_close(y, ref.conv2d(x, w, bias, s, p, d), **tol, name=f"y {isa}")
    g = rng.standard_normal(y.shape).astype(dtype)
    got = kernels.conv2d_backward(g, x, w, s, p, d)
    for name, a, e in zip(("dx", "dw", "db"), got, ref.conv2d_backward(g, x, w, s, p, d)):
        assert a.dtype == dtype
        assert_close(a, e, atol=tol["atol"] * 10, rtol=tol["rtol"] * 10, name=f"{name} {isa}")
    dx_only = kernels.conv2d_backward(g, x, w, s, p, d, need_weight=False, need_bias=False)
    np.testing.assert_array_equal(dx_only[0], got[0])
    assert dx_only[1] is None and dx_only[2] is None
    db_only = kernels.conv2d_backward(g, x, w, s, p, d, need_input=False, need_weight=False)
    assert db_only[0] is None and db_only[1] is None
    np.testing.assert_array_equal(db_only[2], got[2])


@pytest.mark.parametrize("shape,cout,k,s,p,d", [GEOMS[0], GEOMS[2], GEOMS[5], GEOMS[11]])
def test_conv2d_same_bits_for_any_thread_count(shape, cout, k, s, p, d, rng):
    x, w, b = _inputs(shape, cout, k, np.float32, rng)
    s, p, d = P(s), P(p), P(d)
    g = rng.standard_normal(kernels.conv2d(x, w, b, s, p, d).shape).astype(np.float32)
    before = fastnn.get_num_threads()
    runs = []
    try:
        for n in (1, 2, 3):
            fastnn.set_num_threads(n)
            runs.append(
                (kernels.conv2d(x, w, b, s, p, d), *kernels.conv2d_backward(g, x, w, s, p, d))
            )
    finally:
        fastnn.set_num_threads(before)
    for other in runs[1:]:
        for a, e in zip(runs[0], other):
            np.testing.assert_array_equal(a, e)


def test_conv2d_nan_propagates(rng):
    x, w, b = _inputs((2, 3, 8, 8), 5, 3, np.float32, rng)
    x[1, 2, 4, 4] = np.nan
    y = kernels.conv2d(x, w, b, 1, 1)
    assert np.isnan(y[1, :, 3:6, 3:6]).all()
    assert np.isfinite(y[0]).all()
    mask = np.ones(y.shape[2:], bool)
    mask[3:6, 3:6] = False
    assert np.isfinite(y[1][:, mask]).all()
