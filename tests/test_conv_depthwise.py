"""_C.depthwise_conv2d / depthwise_conv2d_backward, the direct per-plane kernels behind
conv2d with groups = input channels on the CPU: against a float64 NumPy reference over awkward
geometries (channel multipliers, strides, asymmetric padding, dilation, batch 1, kernels larger
than the plane with padding; the per-plane loops' flat and phase layouts, and the lanes path of
16 channels at a time for small planes on AVX-512), finite differences, torch's layers, the bad
inputs, and the same bits for any thread count."""

import numpy as np
import pytest

import fastnn
from fastnn import _C

# (N, C, H, W, mult, (kh, kw), stride, padding, dilation)
GEOMETRIES = [
    (2, 3, 7, 9, 1, (3, 3), (1, 1), (1, 1), (1, 1)),
    (1, 4, 8, 8, 2, (3, 5), (2, 2), (1, 2), (1, 1)),
    (2, 5, 11, 6, 1, (3, 3), (1, 1), (2, 2), (2, 2)),
    (1, 2, 5, 5, 3, (1, 1), (1, 1), (0, 0), (1, 1)),
    (3, 1, 4, 4, 1, (4, 4), (3, 3), (0, 0), (1, 1)),
    (1, 6, 3, 3, 1, (7, 7), (1, 1), (3, 3), (1, 1)),  # a kernel wider than the plane
    (2, 33, 7, 7, 1, (3, 3), (1, 2), (0, 1), (1, 1)),
    (1, 7, 17, 1, 1, (3, 1), (1, 1), (1, 0), (1, 1)),  # conv1d's (H, 1) planes
    (2, 2, 4, 5, 2, (1, 1), (1, 1), (1, 2), (1, 1)),  # stride 1, padding past the filter's reach
    (4, 3, 9, 9, 1, (5, 5), (1, 1), (2, 2), (1, 1)),  # the flat path's rounded-up tail
    (2, 2, 19, 37, 1, (3, 3), (1, 1), (1, 1), (1, 1)),  # rows of several vectors
    (1, 3, 9, 37, 2, (3, 3), (2, 2), (1, 1), (1, 1)),
    (2, 2, 10, 11, 1, (3, 3), (3, 2), (1, 0), (2, 1)),  # taps reading three of six phases
    (300, 1, 3, 3, 1, (3, 3), (1, 1), (1, 1), (1, 1)),  # dw: more images than one span
    # channels in blocks of 16, one output each, planes of at most 64 x 64: the lanes path
    # (AVX-512; the per-plane loops elsewhere)
    (2, 16, 7, 7, 1, (3, 3), (1, 1), (1, 1), (1, 1)),
    (1, 32, 9, 6, 1, (3, 5), (2, 1), (1, 2), (1, 1)),
    (2, 16, 8, 8, 1, (3, 3), (1, 1), (2, 2), (2, 2)),
    (1, 16, 16, 16, 1, (5, 5), (2, 2), (2, 2), (1, 1)),
    (3, 16, 1, 30, 1, (1, 3), (1, 1), (0, 1), (1, 1)),
    (1, 16, 65, 64, 1, (3, 3), (1, 1), (1, 1), (1, 1)),  # one row past the lanes path's limit
    (1, 16, 5, 5, 2, (3, 3), (1, 1), (1, 1), (1, 1)),  # two outputs per channel: the planes
    # blocks of 8 (AVX2's lanes path: output planes of at most 64 pixels, strided planes of at
    # most 32 x 32 in the forward pass and the weight gradient; AVX-512 takes 24 by planes)
    (2, 8, 7, 7, 1, (3, 3), (1, 1), (1, 1), (1, 1)),
    (1, 24, 15, 13, 1, (3, 3), (2, 2), (1, 1), (1, 1)),
    (2, 8, 30, 31, 1, (3, 3), (2, 2), (1, 1), (1, 1)),
    (1, 8, 6, 9, 1, (3, 5), (1, 1), (1, 2), (2, 1)),
    (1, 8, 32, 33, 1, (3, 3), (2, 2), (1, 1), (1, 1)),  # one column past the strided limit
]


def _reference(x, w, b, stride, padding, dilation):
    """float64 depthwise cross-correlation by taps over the zero-padded input."""
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    mult = o // c
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wo = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    xp = np.repeat(xp, mult, axis=1)  # output channel k reads input channel k // mult
    y = np.zeros((n, o, ho, wo))
    for u in range(kh):
        for v in range(kw):
            patch = xp[
                :,
                :,
                u * dh : u * dh + sh * (ho - 1) + 1 : sh,
                v * dw : v * dw + sw * (wo - 1) + 1 : sw,
            ]
            y += patch * w[None, :, 0, u, v, None, None]
    return y if b is None else y + b[None, :, None, None]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("geom", GEOMETRIES)
def test_forward_and_backward_match_float64(geom, dtype, threads, isa, rng):
    n, c, h, wd, mult, k, stride, padding, dilation = geom
    x = rng.standard_normal((n, c, h, wd)).astype(dtype)
    w = rng.standard_normal((c * mult, 1, *k)).astype(dtype)
    b = rng.standard_normal(c * mult).astype(dtype)
    y = _C.depthwise_conv2d(x, w, b, stride, padding, dilation)
    want = _reference(x, w, b, stride, padding, dilation)
    assert y.dtype == dtype and y.shape == want.shape
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(y, want, **tol)
    np.testing.assert_allclose(
        _C.depthwise_conv2d(x, w, None, stride, padding, dilation),
        want - b[None, :, None, None],
        **tol,
    )
    # the gradients are the adjoints: <dy, y(x, w)> is linear in each
    g = rng.standard_normal(y.shape)
    dx, dw, db = _C.depthwise_conv2d_backward(g.astype(dtype), x, w, stride, padding, dilation)
    # dw and db add up n Ho Wo products each: float32's rounding grows with their square root
    terms = g.size // (c * mult)
    tol_sum = dict(rtol=tol["rtol"], atol=tol["atol"] * max(1.0, np.sqrt(terms / 256)))
    eye_x = np.zeros(x.shape)
    for idx in [(0, 0, 0, 0), (n - 1, c - 1, h - 1, wd - 1), (0, c // 2, h // 2, wd // 2)]:
        eye_x[idx] = 1.0
        want_dx = np.sum(
            g * _reference(eye_x, w.astype(np.float64), None, stride, padding, dilation)
        )
        np.testing.assert_allclose(dx[idx], want_dx, **tol)
        eye_x[idx] = 0.0
    for o in {0, c * mult - 1}:
        for u in range(k[0]):
            for v in range(k[1]):
                e = np.zeros(w.shape)
                e[o, 0, u, v] = 1.0
                want_dw = np.sum(
                    g * _reference(x.astype(np.float64), e, None, stride, padding, dilation)
                )
                np.testing.assert_allclose(dw[o, 0, u, v], want_dw, **tol_sum)
    np.testing.assert_allclose(db, g.sum(axis=(0, 2, 3)), **tol_sum)
    none = _C.depthwise_conv2d_backward(
        g.astype(dtype), x, w, stride, padding, dilation, need_input=False, need_bias=False
    )
    assert none[0] is None and none[2] is None
    np.testing.assert_array_equal(none[1], dw)


def test_gradcheck_through_conv2d_groups(rng):
    x = fastnn.tensor(rng.standard_normal((2, 3, 6, 5)), requires_grad=True)
    w = fastnn.tensor(rng.standard_normal((6, 1, 3, 3)), requires_grad=True)
    b = fastnn.tensor(rng.standard_normal(6), requires_grad=True)
    F = fastnn.nn.functional
    assert fastnn.autograd.gradcheck(
        lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=3),
        (x, w, b),
    )


@pytest.mark.parametrize("mult", [1, 2])
def test_layers_match_torch(mult, rng):
    """nn.Conv2d / nn.Conv1d with groups = in_channels, float32, against torch with its weights."""
    torch = pytest.importorskip("torch")
    for dims, shape in ((2, (4, 16, 14, 14)), (1, (4, 16, 30))):
        f_cls, t_cls = (
            (fastnn.nn.Conv2d, torch.nn.Conv2d)
            if dims == 2
            else (fastnn.nn.Conv1d, torch.nn.Conv1d)
        )
        fc = f_cls(16, 16 * mult, 3, stride=1, padding=1, groups=16)
        tc = t_cls(16, 16 * mult, 3, stride=1, padding=1, groups=16)
        with torch.no_grad():
            tc.weight.copy_(torch.tensor(fc.weight.detach().numpy()))
            tc.bias.copy_(torch.tensor(fc.bias.detach().numpy()))
        x = rng.standard_normal(shape).astype(np.float32)
        fx, tx = fastnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        fy, ty = fc(fx), tc(tx)
        np.testing.assert_allclose(fy.detach().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-5)
        g = rng.standard_normal(ty.shape).astype(np.float32)
        fy.backward(fastnn.tensor(g))
        ty.backward(torch.tensor(g))
        np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(
            fc.weight.grad.numpy(), tc.weight.grad.numpy(), rtol=1e-4, atol=1e-4
        )
        np.testing.assert_allclose(fc.bias.grad.numpy(), tc.bias.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_bad_inputs_are_clear_errors():
    x = np.zeros((2, 4, 5, 5), np.float32)
    with pytest.raises(
        ValueError,
        match=r"depthwise_conv2d: 'weight' with shape \(4, 2, 3, 3\) is not a depthwise filter",
    ):
        _C.depthwise_conv2d(x, np.zeros((4, 2, 3, 3), np.float32))
    with pytest.raises(ValueError, match="not a depthwise filter.*C = 4"):
        _C.depthwise_conv2d(x, np.zeros((6, 1, 3, 3), np.float32))
    with pytest.raises(TypeError, match="depthwise_conv2d.*same dtype"):
        _C.depthwise_conv2d(x, np.zeros((4, 1, 3, 3), np.float64))
    with pytest.raises(ValueError, match="depthwise_conv2d.*'bias'.*shape"):
        _C.depthwise_conv2d(x, np.zeros((4, 1, 3, 3), np.float32), np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="depthwise_conv2d.*'x'.*4"):
        _C.depthwise_conv2d(x[0], np.zeros((4, 1, 3, 3), np.float32))
    with pytest.raises(ValueError, match="depthwise_conv2d.*contiguous"):
        _C.depthwise_conv2d(
            np.zeros((2, 4, 5, 10), np.float32)[..., ::2], np.zeros((4, 1, 3, 3), np.float32)
        )
    with pytest.raises(ValueError, match="depthwise_conv2d"):
        _C.depthwise_conv2d(x, np.zeros((4, 1, 7, 7), np.float32))  # output size below 1
    w = np.zeros((4, 1, 3, 3), np.float32)
    with pytest.raises(ValueError, match=r"depthwise_conv2d_backward.*'grad'.*\(2, 4, 3, 3\)"):
        _C.depthwise_conv2d_backward(np.zeros((2, 4, 5, 5), np.float32), x, w)


def _assert_same_nonfinite_places(got, want, dtype):
    """inf / NaN exactly where torch has them, the finite values within the dtype's rounding."""
    np.testing.assert_array_equal(np.isfinite(got), np.isfinite(want))
    finite = np.isfinite(want)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got[finite], want[finite], rtol=tol, atol=tol)


@pytest.mark.parametrize("channels", [3, 16])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("stride", [1, 2])
def test_weight_gradient_keeps_nonfinite_inputs_to_their_taps(stride, dtype, channels, isa):
    """An inf in x reaches only the weight-gradient taps that read it: the other taps stay the
    finite sums torch gives (the flat path's spare columns, whose gradient is zero, must not
    multiply it into 0 * inf)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, channels, 6, 7))
    x[0, 1, 2, 6] = np.inf  # the last column: only taps v >= 1 read it
    x[1, 2, 5, 0] = -np.inf  # the last row, first column
    w = rng.standard_normal((channels, 1, 3, 3))
    tx, tw = torch.tensor(x), torch.tensor(w, requires_grad=True)
    ty = torch.nn.functional.conv2d(tx, tw, stride=stride, padding=0, groups=channels)
    g = rng.standard_normal(ty.shape)
    ty.backward(torch.tensor(g))
    _, dw, _ = _C.depthwise_conv2d_backward(
        g.astype(dtype), x.astype(dtype), w.astype(dtype), stride, 0, 1, need_input=False
    )
    want = tw.grad.numpy()
    _assert_same_nonfinite_places(dw, want, dtype)


@pytest.mark.parametrize("channels", [3, 16])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("stride", [1, 2])
def test_input_gradient_with_a_nonfinite_weight(stride, dtype, channels, isa):
    """An inf weight reaches only the input positions its tap reads (the strided path's spare
    zeros must not multiply it); finite elsewhere, as torch."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, channels, 7, 8))
    w = rng.standard_normal((channels, 1, 3, 3))
    w[1, 0, 0, 2] = np.inf
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.conv2d(tx, torch.tensor(w), stride=stride, padding=1, groups=channels)
    g = rng.standard_normal(ty.shape)
    ty.backward(torch.tensor(g))
    dx, _, _ = _C.depthwise_conv2d_backward(
        g.astype(dtype), x.astype(dtype), w.astype(dtype), stride, 1, 1, need_weight=False
    )
    want = tx.grad.numpy()
    _assert_same_nonfinite_places(dx, want, dtype)


@pytest.mark.parametrize("channels, mult", [(24, 2), (32, 1)])
@pytest.mark.parametrize("stride", [1, 2])
def test_results_do_not_depend_on_the_thread_count(stride, channels, mult, isa, rng):
    """Planes, channel blocks and channel ranges are split among threads; every sum keeps its
    order."""
    x = rng.standard_normal((5, channels, 7, 7)).astype(np.float32)
    w = rng.standard_normal((channels * mult, 1, 3, 3)).astype(np.float32)
    side = 7 // stride + (stride == 2)
    g = rng.standard_normal((5, channels * mult, side, side))
    g = g.astype(np.float32)
    before = fastnn.get_num_threads()
    results = []
    try:
        for n in (1, 2):
            fastnn.set_num_threads(n)
            y = _C.depthwise_conv2d(x, w, None, stride, 1, 1)
            results.append((y, *_C.depthwise_conv2d_backward(g, x, w, stride, 1, 1)))
    finally:
        fastnn.set_num_threads(before)
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
