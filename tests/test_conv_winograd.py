"""conv2d by Winograd F(2x2, 3x3) (csrc/cpu/conv_winograd.cpp) against the float64 loops in
reference.py, on each SIMD path the CPU has (AVX-512: runs of up to 16 tiles of one or two tile
rows; AVX2: runs of 8 consecutive tiles across as many tile rows and images as they span): narrow
images (rows narrower than a vector, odd tile counts), wide ones (a run and a remainder), padding
0, 1, 2 and uneven, batch 1 and batches cut into several groups and dW slices, channel counts
that fill no tile evenly; which layers take the path; the same bits for any thread count; and the
fall-back to packed im2col where an input holds an Inf or a NaN."""

import numpy as np
import pytest

import fastnn
import reference as ref
from conftest import assert_close
from fastnn import kernels

ISAS = [isa for isa in ("avx512", "avx2") if isa in kernels.supported_isas()]
pytestmark = pytest.mark.skipif(not ISAS, reason="the Winograd path needs AVX2 or AVX-512")

# (N, C, H, W), C_out, padding
GEOMS = [
    ((3, 16, 14, 14), 64, (1, 1)),  # the CNN's second layer: 7 tiles a row, two rows a vector
    ((2, 17, 9, 11), 33, (0, 0)),  # odd sizes, no padding, channels off every tile size
    ((1, 32, 5, 6), 16, (1, 1)),  # batch 1, three tiles a row
    ((2, 16, 3, 40), 20, (1, 1)),  # 20 tiles a row: a run of 16 and one of 4 (AVX2: 8, 8, 4)
    ((2, 24, 1, 1), 16, (1, 1)),  # one pixel (AVX2: a run spans 2 images)
    ((5, 16, 7, 7), 16, (2, 2)),  # padding 2: output 9x9, tiles past the edge
    ((2, 40, 37, 35), 18, (1, 1)),  # several blocks per image, 18 tiles a row
    ((9, 16, 8, 8), 16, (1, 0)),  # uneven padding; 9 images, several groups
    ((20, 16, 4, 4), 17, (1, 1)),  # more images than dW slices; 2 tiles a row
    ((4, 16, 10, 12), 24, (1, 1)),  # 6 tiles a row: AVX2 runs of 3 tile rows; rows of 12
    ((2, 16, 17, 19), 16, (1, 2)),  # AVX2: output rows of 21 end mid-vector
]


@pytest.fixture(params=ISAS)
def winograd(request):
    """Winograd on, on each SIMD path in turn, whatever the switch and the path were before."""
    before = kernels.conv_winograd_enabled(), kernels.get_isa()
    kernels.set_conv_winograd(True)
    kernels.set_isa(request.param)
    yield request.param
    kernels.set_conv_winograd(before[0])
    kernels.set_isa(before[1])


def _inputs(shape, cout, rng, dtype=np.float32):
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((cout, shape[1], 3, 3)).astype(dtype)
    b = rng.standard_normal(cout).astype(dtype)
    return x, w, b


def _all(x, w, b, g, p, stride=1):
    """y, dx, dW, db."""
    return (kernels.conv2d(x, w, b, stride, p), *kernels.conv2d_backward(g, x, w, stride, p))


def _both_paths(x, w, b, p, rng, stride=1):
    """(_all with Winograd on, _all with it off), on the same upstream gradient."""
    y = kernels.conv2d(x, w, b, stride, p)
    g = rng.standard_normal(y.shape).astype(x.dtype)
    on = _all(x, w, b, g, p, stride)
    kernels.set_conv_winograd(False)
    try:
        off = _all(x, w, b, g, p, stride)
    finally:
        kernels.set_conv_winograd(True)
    return g, on, off


@pytest.mark.parametrize("shape,cout,p", GEOMS)
def test_winograd_matches_reference(shape, cout, p, rng, winograd):
    x, w, b = _inputs(shape, cout, rng)
    g, on, off = _both_paths(x, w, b, p, rng)
    expected = (
        ref.conv2d(x, w, b, (1, 1), p, (1, 1)),
        *ref.conv2d_backward(g, x, w, (1, 1), p, (1, 1)),
    )
    for name, a, e in zip(("y", "dx", "dw", "db"), on, expected):
        assert a.dtype == np.float32
        assert_close(a, e, atol=1e-4, rtol=1e-4, name=name)
    # The path was taken: its rounding differs from packed im2col's somewhere in y, dx and dW
    # (dW of a one-pixel image is two products per weight, exact either way).
    for name, a, o in zip(("y", "dx", "dw")[: 2 if shape[2] * shape[3] == 1 else 3], on, off):
        assert not np.array_equal(a, o), f"{name}: Winograd gave packed im2col's exact bits"


@pytest.mark.parametrize(
    "shape,cout,k,s,dtype",
    [
        ((2, 15, 8, 8), 16, 3, 1, np.float32),  # too few input channels
        ((2, 16, 8, 8), 15, 3, 1, np.float32),  # too few output channels
        ((2, 16, 9, 9), 16, 3, 2, np.float32),  # stride 2
        ((2, 16, 8, 8), 16, 5, 1, np.float32),  # 5x5
        ((2, 16, 8, 8), 16, 3, 1, np.float64),  # float64
    ],
)
def test_other_layers_keep_packed_im2col(shape, cout, k, s, dtype, rng, winograd):
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((cout, shape[1], k, k)).astype(dtype)
    b = rng.standard_normal(cout).astype(dtype)
    _, on, off = _both_paths(x, w, b, (1, 1), rng, stride=s)
    for a, o in zip(on, off):
        np.testing.assert_array_equal(a, o)


def test_the_generic_path_keeps_packed_im2col(rng, winograd):
    x, w, b = _inputs((2, 16, 10, 10), 16, rng)
    kernels.set_isa("generic")
    _, on, off = _both_paths(x, w, b, (1, 1), rng)
    for a, o in zip(on, off):
        np.testing.assert_array_equal(a, o)


def test_switch(winograd):
    kernels.set_conv_winograd(False)
    assert kernels.conv_winograd_enabled() is False
    kernels.set_conv_winograd(True)
    assert kernels.conv_winograd_enabled() is True


@pytest.mark.parametrize("shape,cout,p", [GEOMS[0], GEOMS[3], GEOMS[7], GEOMS[8]])
def test_same_bits_for_any_thread_count(shape, cout, p, rng, winograd):
    x, w, b = _inputs(shape, cout, rng)
    g = rng.standard_normal(kernels.conv2d(x, w, b, 1, p).shape).astype(np.float32)
    before = fastnn.get_num_threads()
    runs = []
    try:
        for n in (1, 2, 3):
            fastnn.set_num_threads(n)
            runs.append(_all(x, w, b, g, p))
    finally:
        fastnn.set_num_threads(before)
    for other in runs[1:]:
        for a, e in zip(runs[0], other):
            np.testing.assert_array_equal(a, e)


def test_each_gradient_alone_has_the_same_bits(rng, winograd):
    x, w, _ = _inputs((3, 16, 9, 11), 24, rng)
    g = rng.standard_normal((3, 24, 9, 11)).astype(np.float32)
    dx, dw, db = kernels.conv2d_backward(g, x, w, 1, 1)
    for i, need in enumerate([(True, False, False), (False, True, False), (False, False, True)]):
        alone = kernels.conv2d_backward(
            g, x, w, 1, 1, need_input=need[0], need_weight=need[1], need_bias=need[2]
        )
        np.testing.assert_array_equal(alone[i], (dx, dw, db)[i])
    np.testing.assert_allclose(db, g.astype(np.float64).sum(axis=(0, 2, 3)), rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("where", ["x", "w", "b", "dy"])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_nonfinite_inputs_give_the_direct_sums_result(where, value, rng, winograd):
    # A transform adds neighbouring values, so an Inf or NaN would reach outputs that the direct
    # sum leaves finite (and Inf - Inf makes NaN); such calls take packed im2col instead.
    x, w, b = _inputs((3, 16, 10, 10), 16, rng)
    g = rng.standard_normal((3, 16, 10, 10)).astype(np.float32)
    {"x": x, "w": w, "b": b, "dy": g}[where].flat[7] = value
    on = _all(x, w, b, g, (1, 1))
    kernels.set_conv_winograd(False)
    try:
        off = _all(x, w, b, g, (1, 1))
    finally:
        kernels.set_conv_winograd(True)
    # The results that read the input (y, dx, dW by index) are packed im2col's, bit for bit.
    for i in {"x": (0, 2), "w": (0, 1), "b": (0,), "dy": (1, 2)}[where]:
        np.testing.assert_array_equal(on[i], off[i])
    # db is never transformed (a pass of plane sums on Winograd layers): the same channels are
    # not finite, the others agree to rounding.
    np.testing.assert_array_equal(np.isfinite(on[3]), np.isfinite(off[3]))
    np.testing.assert_allclose(on[3], off[3], rtol=1e-5, atol=1e-4)
    if where == "x":  # the NaN / Inf reaches only the 3x3 window around it
        y = on[0]
        assert np.isfinite(np.delete(y[0], [0, 1], axis=1)).all()
        assert np.isfinite(y[1:]).all()


@pytest.mark.parametrize("where", ["x", "w"])
def test_a_nonfinite_input_leaves_the_gradient_that_does_not_read_it(where, rng, winograd):
    # dx never reads x and dW never reads w: with an Inf there, that gradient is still Winograd's,
    # bit for bit, although the backward pass that computes both together stops at the Inf.
    x, w, _ = _inputs((5, 16, 10, 12), 20, rng)
    g = rng.standard_normal((5, 20, 10, 12)).astype(np.float32)
    clean = kernels.conv2d_backward(g, x, w, 1, 1)
    {"x": x, "w": w}[where].flat[100] = np.inf
    got = kernels.conv2d_backward(g, x, w, 1, 1)
    kept = {"x": 0, "w": 1}[where]
    np.testing.assert_array_equal(got[kept], clean[kept])
    assert not np.isfinite(got[1 - kept]).all()


@pytest.mark.parametrize("shape,cout", [((8, 32, 14, 14), 64), ((2, 64, 28, 28), 64)])
def test_torch_parity(shape, cout, rng, winograd):
    torch = pytest.importorskip("torch")
    x, w, b = _inputs(shape, cout, rng)
    w *= 0.1
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ty = torch.nn.functional.conv2d(tx, tw, tb, padding=1)
    g = rng.standard_normal(ty.shape).astype(np.float32)
    ty.backward(torch.tensor(g))
    got = _all(x, w, b, g, (1, 1))
    for name, a, t in zip(("y", "dx", "dw", "db"), got, (ty, tx.grad, tw.grad, tb.grad)):
        t = t.detach().numpy()
        scale = np.abs(t).max()
        assert_close(a, t, atol=2e-6 * scale, rtol=1e-4, name=name)
