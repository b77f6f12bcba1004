"""conv2d's direct paths (csrc/cpu/conv_direct.cpp: layers of at most 27 patch rows, stride 1,
float32 on AVX-512 and AVX2, each SIMD path the CPU has in turn), the forward pass and the weight
gradient, against the float64 loops in reference.py: rows of several 16- or 8-column chunks and a
partial one, rows narrower than a vector,
kernels from 1x1 to 3x3 with dilation, padding wider than the kernel (taps that never touch the
image), channel counts that leave blocks of 4, 2 and 1 (forward) or a pass with one channel (dW),
batches cut into slices of one to three images; dW or db alone; the same bits for any thread count,
and the forward pass's bits equal on both paths (the packed GEMM's arithmetic, in the same order)."""

import numpy as np
import pytest

import fastnn
import reference as ref
from conftest import assert_close
from fastnn import kernels

# (N, C, H, W), C_out, kernel, padding, dilation
GEOMS = [
    ((4, 1, 28, 28), 16, (3, 3), (1, 1), (1, 1)),  # the CNN's first layer
    ((3, 3, 9, 40), 5, (3, 3), (1, 1), (1, 1)),  # RGB, 27 patch rows, 40 columns: 3 chunks
    ((2, 2, 7, 33), 3, (2, 3), (0, 2), (2, 1)),  # uneven kernel, padding and dilation
    ((1, 1, 5, 6), 7, (1, 1), (0, 0), (1, 1)),  # 1x1, batch 1
    ((2, 1, 4, 5), 2, (3, 3), (4, 4), (1, 1)),  # padding past the kernel: empty taps
    ((33, 1, 6, 17), 4, (3, 3), (1, 1), (1, 1)),  # 33 images in 16 slices
    ((3, 1, 1, 1), 15, (3, 3), (1, 1), (1, 1)),  # one pixel; blocks of 8, 4, 2 and 1 channels
    ((2, 3, 17, 16), 13, (3, 3), (2, 0), (1, 1)),  # rows of exactly one vector, taller output
    ((2, 1, 3, 70), 11, (1, 3), (0, 1), (1, 3)),  # 66 columns: five chunks, the last of two
    ((2, 2, 5, 8), 6, (3, 3), (1, 1), (1, 1)),  # rows of exactly one AVX2 vector; blocks of 4, 2
    ((3, 1, 6, 9), 7, (3, 3), (1, 1), (1, 1)),  # AVX2: a vector and one column; blocks 4, 2, 1
]

ISAS = [isa for isa in ("avx512", "avx2") if isa in kernels.supported_isas()]
pytestmark = pytest.mark.skipif(not ISAS, reason="the direct paths need AVX2 or AVX-512")


@pytest.fixture(autouse=True, params=ISAS)
def isa(request):
    """Each test on each SIMD path in turn, whatever the path was before."""
    before = kernels.get_isa()
    kernels.set_isa(request.param)
    yield request.param
    kernels.set_isa(before)


@pytest.mark.parametrize("shape,cout,k,p,d", GEOMS)
@pytest.mark.parametrize("with_bias", [True, False])
def test_direct_forward_matches_reference(shape, cout, k, p, d, with_bias, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal((cout, shape[1], *k)).astype(np.float32)
    b = rng.standard_normal(cout).astype(np.float32) if with_bias else None
    y = kernels.conv2d(x, w, b, 1, p, d)
    e = ref.conv2d(x, w, b, (1, 1), p, d)
    assert y.dtype == np.float32 and y.flags.c_contiguous
    assert_close(y, e, atol=1e-4, rtol=1e-4, name="y")


@pytest.mark.parametrize("shape,cout,k,p,d", GEOMS)
def test_direct_forward_has_the_same_bits_on_every_path(shape, cout, k, p, d, rng, isa):
    # Both paths sum the patch rows in order from zero with FMAs, then add the bias: the packed
    # GEMM's arithmetic.
    if len(ISAS) < 2:
        pytest.skip("one SIMD path on this CPU")
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal((cout, shape[1], *k)).astype(np.float32)
    b = rng.standard_normal(cout).astype(np.float32)
    here = kernels.conv2d(x, w, b, 1, p, d)
    kernels.set_isa(ISAS[1] if isa == ISAS[0] else ISAS[0])
    np.testing.assert_array_equal(here, kernels.conv2d(x, w, b, 1, p, d))


def test_direct_forward_same_bits_for_any_thread_count(rng):
    x = rng.standard_normal((5, 3, 20, 37)).astype(np.float32)
    w = rng.standard_normal((21, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(21).astype(np.float32)
    before = fastnn.get_num_threads()
    runs = []
    try:
        for n in (1, 2, 3):
            fastnn.set_num_threads(n)
            runs.append(kernels.conv2d(x, w, b, 1, 1))
    finally:
        fastnn.set_num_threads(before)
    for other in runs[1:]:
        np.testing.assert_array_equal(runs[0], other)


def test_direct_forward_non_finite_values_reach_the_outputs_that_read_them(rng):
    # Inf in x: the outputs whose window holds it are +-Inf or NaN (Inf times a weight, Inf - Inf
    # across taps) as in the reference; NaN in a weight: its whole output channel is NaN, the
    # padding's zeros included (0 * NaN), as the packed path gives.
    x = rng.standard_normal((2, 1, 9, 21)).astype(np.float32)
    x[1, 0, 4, 10] = np.inf
    w = rng.standard_normal((6, 1, 3, 3)).astype(np.float32)
    w[2, 0, 1, 1] = np.nan
    y = kernels.conv2d(x, w, None, 1, 1)
    e = ref.conv2d(x, w, None, (1, 1), (1, 1), (1, 1))
    np.testing.assert_array_equal(np.isfinite(y), np.isfinite(e))
    np.testing.assert_array_equal(np.isnan(y), np.isnan(e))
    assert np.isnan(y[:, 2]).all() and not np.isfinite(y[1, 0, 3:6, 9:12]).any()
    finite = np.isfinite(e)
    assert_close(y[finite], e[finite], atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("shape,cout,k,p,d", GEOMS)
def test_direct_weight_gradient_matches_reference(shape, cout, k, p, d, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal((cout, shape[1], *k)).astype(np.float32)
    g = rng.standard_normal(kernels.conv2d(x, w, None, 1, p, d).shape).astype(np.float32)
    _, e_dw, e_db = ref.conv2d_backward(g, x, w, (1, 1), p, d)
    dx, dw, db = kernels.conv2d_backward(g, x, w, 1, p, d, need_input=False)
    assert dx is None and dw.dtype == db.dtype == np.float32
    assert_close(dw, e_dw, atol=1e-4, rtol=1e-4, name="dw")
    assert_close(db, e_db, atol=1e-4, rtol=1e-4, name="db")
    w_only = kernels.conv2d_backward(g, x, w, 1, p, d, need_input=False, need_bias=False)
    b_only = kernels.conv2d_backward(g, x, w, 1, p, d, need_input=False, need_weight=False)
    np.testing.assert_array_equal(w_only[1], dw)
    np.testing.assert_array_equal(b_only[2], db)
    assert w_only[2] is None and b_only[1] is None


@pytest.mark.parametrize("shape,cout,k,p,d", [GEOMS[0], GEOMS[2], GEOMS[5]])
def test_same_bits_for_any_thread_count(shape, cout, k, p, d, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal((cout, shape[1], *k)).astype(np.float32)
    g = rng.standard_normal(kernels.conv2d(x, w, None, 1, p, d).shape).astype(np.float32)
    before = fastnn.get_num_threads()
    runs = []
    try:
        for n in (1, 2, 3):
            fastnn.set_num_threads(n)
            runs.append(kernels.conv2d_backward(g, x, w, 1, p, d, need_input=False))
    finally:
        fastnn.set_num_threads(before)
    for other in runs[1:]:
        for a, e in zip(runs[0][1:], other[1:]):
            np.testing.assert_array_equal(a, e)


def test_nan_in_x_reaches_exactly_the_taps_that_read_it(rng):
    # x[0, 0, 0, 0] is read by tap (i, j) from output pixel (1 - i, 1 - j) (padding 1): taps
    # i, j <= 1. Those weights' gradients are NaN, the others and db stay finite, as in the
    # float64 reference.
    x = rng.standard_normal((2, 1, 8, 8)).astype(np.float32)
    x[0, 0, 0, 0] = np.nan
    w = rng.standard_normal((4, 1, 3, 3)).astype(np.float32)
    g = rng.standard_normal((2, 4, 8, 8)).astype(np.float32)
    _, dw, db = kernels.conv2d_backward(g, x, w, 1, 1, need_input=False)
    _, e_dw, _ = ref.conv2d_backward(g, x, w, (1, 1), (1, 1), (1, 1))
    np.testing.assert_array_equal(np.isnan(dw), np.isnan(e_dw))
    assert np.isnan(dw[:, 0, :2, :2]).all() and np.isfinite(db).all()


def test_inf_in_dy_meets_the_padding_as_the_direct_sum_does(rng):
    # dy[0, 1, 0, 0] = Inf is multiplied by the padding's zeros for the taps that read outside the
    # image (NaN there, as in the float64 reference and packed im2col) and by x elsewhere (+-Inf).
    x = rng.standard_normal((2, 1, 8, 8)).astype(np.float32)
    w = rng.standard_normal((4, 1, 3, 3)).astype(np.float32)
    g = rng.standard_normal((2, 4, 8, 8)).astype(np.float32)
    g[0, 1, 0, 0] = np.inf
    _, dw, db = kernels.conv2d_backward(g, x, w, 1, 1, need_input=False)
    _, e_dw, e_db = ref.conv2d_backward(g, x, w, (1, 1), (1, 1), (1, 1))
    np.testing.assert_array_equal(np.isnan(dw), np.isnan(e_dw))
    np.testing.assert_array_equal(np.isinf(dw), np.isinf(e_dw))
    np.testing.assert_array_equal(np.isinf(db), np.isinf(e_db))
    assert np.isnan(dw[1, 0, 0]).all() and np.isinf(dw[1, 0, 1:, 1:]).all()
    finite = np.isfinite(e_dw)
    assert_close(dw[finite], e_dw[finite], atol=1e-4, rtol=1e-4)
    assert np.isinf(db[1]) and np.isfinite(np.delete(db, 1)).all()


def test_direct_forward_streams_a_big_output_with_the_same_bits(rng):
    # An output over 3/4 of the last-level cache (per thread) is staged per block and written
    # with non-temporal stores; planes of 19 x 21 floats and 11 channels (blocks of 8 and 3) put
    # the blocks at every alignment. Each image's result must not depend on the batch it came in.
    l3 = int(fastnn._C.gemm_config()["l3_per_core"])
    per_image = 11 * 19 * 21 * 4
    n = max(2, int(0.8 * l3) // per_image + 2)
    x = rng.standard_normal((n, 1, 19, 21)).astype(np.float32)
    w = rng.standard_normal((11, 1, 3, 3)).astype(np.float32)
    b = rng.standard_normal(11).astype(np.float32)
    before = fastnn.get_num_threads()
    try:
        fastnn.set_num_threads(1)
        big = kernels.conv2d(x, w, b, 1, 1)
    finally:
        fastnn.set_num_threads(before)
    for i in (0, 1, n // 2, n - 1):
        np.testing.assert_array_equal(big[i : i + 1], kernels.conv2d(x[i : i + 1], w, b, 1, 1))
    assert_close(big[:3], ref.conv2d(x[:3], w, b, (1, 1), (1, 1), (1, 1)), atol=1e-4, rtol=1e-4)
