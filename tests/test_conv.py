"""im2col / col2im / max_pool2d kernels vs the float64 loops in reference.py; conv2d, max_pool2d
and avg_pool2d autograd (finite differences, torch parity); nn.Conv2d / nn.MaxPool2d; bad input."""

import math

import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
import reference as ref
from conftest import assert_close
from fastnn import kernels
from fastnn.autograd import gradcheck

TOL = {np.float32: dict(atol=1e-5, rtol=1e-5), np.float64: dict(atol=1e-12, rtol=1e-12)}
GEMM_TOL = {np.float32: dict(atol=1e-4, rtol=1e-4), np.float64: dict(atol=1e-10, rtol=1e-10)}


def P(v):
    return tuple(v) if isinstance(v, tuple) else (v, v)


# (N, C, H, W), kernel, stride, padding, dilation: batch 1/3, channels 1/2/5, odd 7x9 images,
# kernels 1/3/5, strides 1/2, paddings 0/1/2, dilations 1/2, and non-square hyperparameters.
GEOMS = [
    ((1, 1, 7, 9), 1, 1, 0, 1),
    ((3, 2, 7, 9), 3, 1, 1, 1),
    ((3, 5, 7, 9), 3, 2, 0, 1),
    ((1, 2, 7, 9), 5, 1, 2, 1),
    ((3, 1, 7, 9), 3, 2, 2, 2),
    ((1, 5, 9, 7), 5, 2, 1, 2),
    ((3, 2, 7, 9), (3, 5), (2, 1), (1, 2), (2, 1)),
    ((1, 2, 7, 9), (1, 3), 1, (0, 1), 1),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,k,s,p,d", GEOMS)
def test_im2col_col2im_match_reference(shape, k, s, p, d, dtype, threads, rng):
    x = rng.standard_normal(shape).astype(dtype)
    cols = kernels.im2col(x, k, s, p, d)
    expect = ref.im2col(x, P(k), P(s), P(p), P(d))
    assert cols.dtype == dtype
    assert_close(cols, expect, atol=0, rtol=0, name="im2col")  # a gather: exact
    with_ones = kernels.im2col(x, k, s, p, d, ones_row=True)
    assert_close(with_ones, ref.im2col(x, P(k), P(s), P(p), P(d), ones_row=True), atol=0, rtol=0)
    g = rng.standard_normal(cols.shape).astype(dtype)
    back = kernels.col2im(g, shape, k, s, p, d)
    assert back.dtype == dtype
    assert_close(back, ref.col2im(g, shape, P(k), P(s), P(p), P(d)), **TOL[dtype], name="col2im")


def test_col2im_is_the_adjoint_of_im2col(rng):
    # <im2col(x), c> == <x, col2im(c)> for any x, c: col2im is exactly the backward of im2col.
    x = rng.standard_normal((2, 3, 8, 7))
    c = rng.standard_normal(kernels.im2col(x, 3, 2, 1, 2).shape)
    lhs = np.sum(kernels.im2col(x, 3, 2, 1, 2) * c)
    rhs = np.sum(x * kernels.col2im(c, x.shape, 3, 2, 1, 2))
    assert math.isclose(lhs, rhs, rel_tol=1e-12)


POOLS = [
    ((1, 1, 7, 9), 2, None, 0, 1),
    ((3, 2, 7, 9), 3, 2, 1, 1),
    ((3, 5, 7, 9), 3, 1, 1, 1),
    ((1, 2, 9, 7), 5, 2, 2, 1),
    ((3, 2, 7, 9), (3, 2), (1, 2), (1, 0), 1),
    ((1, 2, 7, 9), 2, 1, 1, 2),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,k,s,p,d", POOLS)
def test_max_pool2d_matches_reference(shape, k, s, p, d, dtype, threads, rng):
    x = rng.standard_normal(shape).astype(dtype)
    out, idx = kernels.max_pool2d(x, k, s, p, d)
    eo, ei = ref.max_pool2d(x, P(k), P(k if s is None else s), P(p), P(d))
    assert out.dtype == dtype and idx.dtype == np.int64
    assert_close(out, eo, atol=0, rtol=0, name="max_pool2d")
    np.testing.assert_array_equal(idx, ei)
    g = rng.standard_normal(out.shape).astype(dtype)
    dx = kernels.max_pool2d_backward(g, idx, shape)
    assert dx.dtype == dtype
    assert_close(dx, ref.max_pool2d_backward(g, idx, shape), **TOL[dtype], name="backward")


def test_max_pool2d_nan_and_inf():
    x = np.full((1, 1, 4, 4), -np.inf)
    x[0, 0, 0, 1] = np.nan
    out, idx = kernels.max_pool2d(x, 2)
    assert np.isnan(out[0, 0, 0, 0]) and idx[0, 0, 0, 0] == 1  # NaN propagates (like torch)
    assert out[0, 0, 1, 1] == -np.inf and idx[0, 0, 1, 1] == 10  # all -inf: first element


def test_empty_batch():
    x = np.zeros((0, 2, 5, 5), np.float32)
    assert kernels.im2col(x, 3).shape == (0, 18, 9)
    assert kernels.col2im(np.zeros((0, 18, 9), np.float32), (0, 2, 5, 5), 3).shape == x.shape
    out, idx = kernels.max_pool2d(x, 2)
    assert out.shape == idx.shape == (0, 2, 2, 2)
    assert kernels.max_pool2d_backward(out, idx, x.shape).shape == x.shape


# ---- autograd ------------------------------------------------------------------------------


def _t(a, grad=True):
    return fastnn.tensor(a, requires_grad=grad)


@pytest.mark.parametrize("k,s,p,d", [(3, 1, 1, 1), (3, 2, 0, 2), ((3, 2), (1, 2), (2, 1), 1)])
def test_conv2d_gradcheck(k, s, p, d, rng):
    kh, kw = P(k)
    x = _t(rng.standard_normal((2, 3, 7, 6)))
    w = _t(rng.standard_normal((4, 3, kh, kw)))
    b = _t(rng.standard_normal(4))
    gradcheck(lambda x, w, b: F.conv2d(x, w, b, s, p, d), (x, w, b))
    gradcheck(lambda x, w: F.conv2d(x, w, None, s, p, d), (x, w))


def test_conv2d_grad_only_where_needed(rng):
    x = _t(rng.standard_normal((2, 3, 6, 6)), grad=False)
    w = _t(rng.standard_normal((4, 3, 3, 3)))
    b = _t(rng.standard_normal(4), grad=False)
    F.conv2d(x, w, b, padding=1).sum().backward()
    assert x.grad is None and b.grad is None and w.grad.shape == (4, 3, 3, 3)


@pytest.mark.parametrize("s,p", [(2, 0), (1, 1)])
def test_pool_gradcheck(s, p, rng):
    # Distinct values (a permutation) keep the max away from ties that finite differences cross.
    x = _t(rng.permutation(2 * 3 * 7 * 6).reshape(2, 3, 7, 6) / 7.0)
    gradcheck(lambda x: F.max_pool2d(x, 3, s, p), (x,))
    gradcheck(lambda x: F.avg_pool2d(x, 3, s, p), (x,))
    gradcheck(lambda x: F.avg_pool2d(x, 3, s, p, count_include_pad=False), (x,))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv2d_matches_reference(dtype, rng):
    x = rng.standard_normal((3, 5, 7, 9)).astype(dtype)
    w = rng.standard_normal((4, 5, 3, 3)).astype(dtype)
    b = rng.standard_normal(4).astype(dtype)
    out = F.conv2d(fastnn.tensor(x), fastnn.tensor(w), fastnn.tensor(b), 2, 1, (1, 2))
    assert out.dtype == dtype
    expect = ref.conv2d(x, w, b, (2, 2), (1, 1), (1, 2))
    assert_close(out.numpy(), expect, **GEMM_TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "shape,w_shape,kw",
    [
        ((3, 2, 7, 9), (5, 2, 3, 3), dict(stride=1, padding=1)),
        ((1, 5, 9, 7), (2, 5, 5, 3), dict(stride=(2, 1), padding=(2, 0), dilation=(1, 2))),
        ((2, 1, 8, 8), (3, 1, 3, 3), dict(padding="same")),
        ((2, 3, 7, 7), (4, 3, 1, 1), dict(stride=2)),
    ],
)
def test_conv2d_torch_parity(shape, w_shape, kw, dtype, rng):
    torch = pytest.importorskip("torch")
    x, w = rng.standard_normal(shape).astype(dtype), rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    fx, fw, fb = _t(x), _t(w), _t(b)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out = F.conv2d(fx, fw, fb, **kw)
    tout = torch.nn.functional.conv2d(tx, tw, tb, **kw)
    tol = GEMM_TOL[dtype]
    assert_close(out.detach().numpy(), tout.detach().numpy(), **tol)
    g = rng.standard_normal(out.shape).astype(dtype)
    out.backward(fastnn.tensor(g))
    tout.backward(torch.tensor(g))
    for name, a, t in (("dx", fx, tx), ("dw", fw, tw), ("db", fb, tb)):
        assert_close(
            a.grad.numpy(), t.grad.numpy(), atol=tol["atol"] * 10, rtol=tol["rtol"], name=name
        )


@pytest.mark.parametrize(
    "kw",
    [
        dict(kernel_size=2),
        dict(kernel_size=3, stride=2, padding=1),
        dict(kernel_size=(3, 2), stride=1, padding=(1, 0), dilation=2),
    ],
)
def test_max_pool2d_torch_parity(kw, rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((3, 2, 7, 9)).astype(np.float32)
    fx, tx = _t(x), torch.tensor(x, requires_grad=True)
    out, idx = F.max_pool2d(fx, **kw, return_indices=True)
    tout, tidx = torch.nn.functional.max_pool2d(tx, **kw, return_indices=True)
    assert_close(out.detach().numpy(), tout.detach().numpy(), atol=0, rtol=0)
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    g = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(fastnn.tensor(g))
    tout.backward(torch.tensor(g))
    assert_close(fx.grad.numpy(), tx.grad.numpy(), atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize(
    "kw",
    [
        dict(kernel_size=2),
        dict(kernel_size=3, stride=2, padding=1),
        dict(kernel_size=3, stride=1, padding=1, count_include_pad=False),
        dict(kernel_size=(3, 2), stride=(1, 2), divisor_override=5),
    ],
)
def test_avg_pool2d_torch_parity(kw, rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((3, 2, 7, 9)).astype(np.float32)
    fx, tx = _t(x), torch.tensor(x, requires_grad=True)
    out, tout = F.avg_pool2d(fx, **kw), torch.nn.functional.avg_pool2d(tx, **kw)
    assert out.dtype == np.float32
    assert_close(out.detach().numpy(), tout.detach().numpy(), atol=1e-6, rtol=1e-6)
    g = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(fastnn.tensor(g))
    tout.backward(torch.tensor(g))
    assert_close(fx.grad.numpy(), tx.grad.numpy(), atol=1e-6, rtol=1e-6)


def test_unbatched_input(rng):
    x = rng.standard_normal((2, 7, 9))
    w = rng.standard_normal((3, 2, 3, 3))
    out = F.conv2d(fastnn.tensor(x), fastnn.tensor(w), padding=1)
    assert out.shape == (3, 7, 9)
    assert_close(
        out.numpy(), ref.conv2d(x[None], w, None, (1, 1), (1, 1), (1, 1))[0], atol=1e-12, rtol=1e-12
    )
    assert F.max_pool2d(fastnn.tensor(x), 2).shape == (2, 3, 4)


# ---- bad input -----------------------------------------------------------------------------


def test_kernel_bad_arguments():
    x = np.zeros((1, 2, 5, 5), np.float32)
    with pytest.raises(ValueError, match="'x' must have 4 dimensions"):
        kernels.im2col(x[0], 3)
    with pytest.raises(TypeError, match="'x' must have dtype float32 or float64"):
        kernels.im2col(x.astype(np.int32), 3)
    with pytest.raises(TypeError, match="'x' must be a numpy.ndarray"):
        kernels.im2col(x.tolist(), 3)
    with pytest.raises(ValueError, match="'stride' must be >= 1"):
        kernels.im2col(x, 3, stride=0)
    with pytest.raises(ValueError, match="'padding' must be >= 0"):
        kernels.im2col(x, 3, padding=-1)
    with pytest.raises(ValueError, match="'dilation' must be >= 1"):
        kernels.im2col(x, 3, dilation=(1, 0))
    with pytest.raises(ValueError, match="'kernel_size' must be >= 1"):
        kernels.im2col(x, 0)
    with pytest.raises(TypeError, match="'kernel_size' must be an int or a pair"):
        kernels.im2col(x, 2.5)
    with pytest.raises(TypeError, match="'kernel_size' must be an int or a pair"):
        kernels.im2col(x, True)
    with pytest.raises(ValueError, match="'kernel_size' must be an int or a pair of ints, got 3"):
        kernels.im2col(x, (3, 3, 3))
    with pytest.raises(ValueError, match=r"output size \(-1, -1\) is <= 0"):
        kernels.im2col(x, 7)
    with pytest.raises(ValueError, match=r"output size \(0, 0\) is <= 0"):
        kernels.im2col(x, 6)
    with pytest.raises(ValueError, match=r"output size \(-1, 3\) is <= 0"):
        kernels.im2col(x, 3, dilation=(3, 1))
    with pytest.raises(ValueError, match="C-contiguous"):
        kernels.im2col(np.zeros((1, 2, 5, 10), np.float32)[..., ::2], 3)
    with pytest.raises(ValueError, match=r"'cols' must have shape \(1, 18, 9\)"):
        kernels.col2im(np.zeros((1, 18, 8)), (1, 2, 5, 5), 3)
    with pytest.raises(TypeError, match="'input_shape' must be a tuple"):
        kernels.col2im(np.zeros((1, 18, 9)), 5, 3)
    with pytest.raises(ValueError, match="'input_shape' must have 4 entries"):
        kernels.col2im(np.zeros((1, 18, 9)), (2, 5, 5), 3)
    with pytest.raises(ValueError, match="at most half of kernel_size"):
        kernels.max_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match=r"output size \(0, 0\) is <= 0"):
        kernels.max_pool2d(x, 6)


# (N, C, H, W), C_out: chunk boundaries of the fused conv2d kernel ([note: conv2d chunks]: a chunk
# holds ~1 MiB of patches). 3x64x32x32 has 2.3 MiB of float32 patches per image: one image per
# chunk; 7x1x28x28 fits in one chunk; 40x16x16x16 gives float32 chunks of 7 images and a last one
# of 5 (float64: 13 chunks of 3 and one of 1).
CHUNKS = [((3, 64, 32, 32), 2), ((7, 1, 28, 28), 3), ((40, 16, 16, 16), 3), ((1, 2, 5, 4), 1)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,cout", CHUNKS)
def test_conv2d_kernel_chunks_match_reference(shape, cout, dtype, threads, rng):
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((cout, shape[1], 3, 3)).astype(dtype)
    b = rng.standard_normal(cout).astype(dtype)
    tol = GEMM_TOL[dtype] if dtype == np.float64 else dict(atol=1e-3, rtol=1e-4)
    assert_close(
        kernels.conv2d(x, w, b, 1, 1), ref.conv2d(x, w, b, (1, 1), (1, 1), (1, 1)), **tol, name="y"
    )
    assert_close(
        kernels.conv2d(x, w, None, 2, 0, 1),
        ref.conv2d(x, w, None, (2, 2), (0, 0), (1, 1)),
        **tol,
        name="y nobias",
    )
    g = rng.standard_normal((shape[0], cout, *shape[2:])).astype(dtype)
    got = kernels.conv2d_backward(g, x, w, 1, 1, 1)
    for name, a, e in zip(
        ("dx", "dw", "db"), got, ref.conv2d_backward(g, x, w, (1, 1), (1, 1), (1, 1))
    ):
        assert a.dtype == dtype
        assert_close(a, e, atol=tol["atol"] * 10, rtol=tol["rtol"] * 10, name=name)


@pytest.mark.parametrize("shape,cout", CHUNKS[2:3])
def test_conv2d_backward_same_bits_for_any_thread_count(shape, cout, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal((cout, shape[1], 3, 3)).astype(np.float32)
    g = rng.standard_normal((shape[0], cout, *shape[2:])).astype(np.float32)
    before = fastnn.get_num_threads()
    try:
        fastnn.set_num_threads(1)
        one = kernels.conv2d_backward(g, x, w, 1, 1, 1)
        fastnn.set_num_threads(2)
        two = kernels.conv2d_backward(g, x, w, 1, 1, 1)
    finally:
        fastnn.set_num_threads(before)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


def test_conv2d_kernel_partial_grads_and_empty(rng):
    x = rng.standard_normal((3, 2, 6, 5))
    w = rng.standard_normal((4, 2, 3, 3))
    g = rng.standard_normal((3, 4, 4, 3))
    dx, dw, db = kernels.conv2d_backward(g, x, w, need_input=False, need_bias=False)
    assert dx is None and db is None
    assert_close(
        dw, ref.conv2d_backward(g, x, w, (1, 1), (0, 0), (1, 1))[1], **GEMM_TOL[np.float64]
    )
    dx, dw, db = kernels.conv2d_backward(g, x, w, need_weight=False)
    assert dw is None and dx.shape == x.shape and db.shape == (4,)
    e = np.zeros((0, 2, 6, 5))
    assert kernels.conv2d(e, w).shape == (0, 4, 4, 3)
    dx, dw, db = kernels.conv2d_backward(np.zeros((0, 4, 4, 3)), e, w)
    assert dx.shape == e.shape and not dw.any() and not db.any() and dw.shape == w.shape
    # zero output channels: dx is defined (zero), not left uninitialised
    dx, _, _ = kernels.conv2d_backward(np.zeros((3, 0, 4, 3)), x, np.zeros((0, 2, 3, 3)))
    assert dx.shape == x.shape and not dx.any()


def test_conv2d_kernel_bad_arguments():
    x = np.zeros((1, 2, 5, 5), np.float32)
    w = np.zeros((3, 2, 3, 3), np.float32)
    with pytest.raises(TypeError, match="conv2d: 'x' and 'weight' must have the same dtype"):
        kernels.conv2d(x, w.astype(np.float64))
    with pytest.raises(ValueError, match="expects 4 input channels, but 'x' with shape"):
        kernels.conv2d(x, np.zeros((3, 4, 3, 3), np.float32))
    with pytest.raises(ValueError, match="'weight' must have 4 dimensions"):
        kernels.conv2d(x, w[0])
    with pytest.raises(ValueError, match="'weight' .* must be C-contiguous"):
        kernels.conv2d(x, np.zeros((3, 2, 3, 6), np.float32)[..., ::2])
    with pytest.raises(ValueError, match=r"'bias' must have shape \(3,\)"):
        kernels.conv2d(x, w, np.zeros(2, np.float32))
    with pytest.raises(TypeError, match="'x' and 'bias' must have the same dtype"):
        kernels.conv2d(x, w, np.zeros(3))
    with pytest.raises(TypeError, match="'bias' must be a numpy.ndarray"):
        kernels.conv2d(x, w, [0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match=r"output size \(0, 0\) is <= 0"):
        kernels.conv2d(x, np.zeros((3, 2, 6, 6), np.float32))
    with pytest.raises(ValueError, match="'stride' must be >= 1"):
        kernels.conv2d(x, w, stride=0)
    with pytest.raises(ValueError, match=r"'grad' must have shape \(1, 3, 3, 3\)"):
        kernels.conv2d_backward(np.zeros((1, 3, 5, 5), np.float32), x, w)
    with pytest.raises(TypeError, match="'x' and 'grad' must have the same dtype"):
        kernels.conv2d_backward(np.zeros((1, 3, 3, 3)), x, w)
    with pytest.raises(ValueError, match="'grad' .* must be C-contiguous"):
        kernels.conv2d_backward(np.zeros((1, 3, 3, 6), np.float32)[..., ::2], x, w)


def test_max_pool2d_backward_bad_arguments():
    g = np.zeros((1, 2, 2, 2))
    idx = np.zeros((1, 2, 2, 2), np.int64)
    with pytest.raises(TypeError, match="'indices' must have dtype int64"):
        kernels.max_pool2d_backward(g, idx.astype(np.int32), (1, 2, 4, 4))
    with pytest.raises(ValueError, match="'indices' must have shape"):
        kernels.max_pool2d_backward(g, idx[..., :1], (1, 2, 4, 4))
    with pytest.raises(ValueError, match="does not match input_shape"):
        kernels.max_pool2d_backward(g, idx, (1, 3, 4, 4))
    bad = idx.copy()
    bad[0, 1, 1, 1] = 16
    with pytest.raises(ValueError, match="'indices' holds 16"):
        kernels.max_pool2d_backward(g, bad, (1, 2, 4, 4))
    bad[0, 1, 1, 1] = -1
    with pytest.raises(ValueError, match="'indices' holds -1"):
        kernels.max_pool2d_backward(g, bad, (1, 2, 4, 4))


def test_functional_bad_arguments(rng):
    x = fastnn.tensor(rng.standard_normal((2, 3, 5, 5)).astype(np.float32))
    w = fastnn.tensor(rng.standard_normal((4, 3, 3, 3)).astype(np.float32))
    with pytest.raises(RuntimeError, match="Expected 3D .* or 4D"):
        F.conv2d(x.reshape(2, 75), w)
    with pytest.raises(RuntimeError, match="expected input.* to have 2 channels, but got 3"):
        F.conv2d(x, w[:, :2])
    with pytest.raises(RuntimeError, match="weight must be 4-D"):
        F.conv2d(x, w.reshape(4, 27))
    with pytest.raises(RuntimeError, match=r"bias must have shape \(4,\)"):
        F.conv2d(x, w, fastnn.zeros(3))
    with pytest.raises(RuntimeError, match="same dtype"):
        F.conv2d(x, w.double())
    with pytest.raises(RuntimeError, match="floating-point"):
        F.conv2d(x.long(), w)
    with pytest.raises(RuntimeError, match=r"Given groups=3, .* to have 9 channels, but got 3"):
        F.conv2d(x, w, groups=3)
    with pytest.raises(RuntimeError, match="expected weight to be divisible by 3 at dimension 0"):
        F.conv2d(fastnn.zeros(1, 3, 5, 5), fastnn.zeros(4, 1, 3, 3), groups=3)
    with pytest.raises(RuntimeError, match=r"output size \(-1, -1\) is <= 0"):
        F.conv2d(x, fastnn.zeros(4, 3, 7, 7))
    with pytest.raises(RuntimeError, match="'padding' must be >= 0"):
        F.conv2d(x, w, padding=-1)
    with pytest.raises(RuntimeError, match="'stride' must be >= 1"):
        F.conv2d(x, w, stride=0)
    with pytest.raises(ValueError, match="Invalid padding string"):
        F.conv2d(x, w, padding="full")
    with pytest.raises(ValueError, match="strided"):
        F.conv2d(x, w, stride=2, padding="same")
    with pytest.raises(RuntimeError, match="at most half"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(RuntimeError, match="at most half"):  # as torch, and as max_pool2d
        F.avg_pool2d(x, 2, padding=2)
    with pytest.raises(RuntimeError, match="divisor must be not zero"):
        F.avg_pool2d(x, 2, divisor_override=0)


# ---- nn modules ----------------------------------------------------------------------------


def test_conv2d_module_init_repr_and_forward(rng):
    fastnn.manual_seed(0)
    m = fastnn.nn.Conv2d(3, 8, 5, padding=2)
    assert m.weight.shape == (8, 3, 5, 5) and m.bias.shape == (8,)
    bound = 1 / math.sqrt(3 * 5 * 5)  # kaiming_uniform(a=sqrt(5)) = U(+-1/sqrt(fan_in))
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(b).max() <= bound and np.abs(b).std() > 0
    assert [n for n, _ in m.named_parameters()] == ["weight", "bias"]
    assert repr(m) == "Conv2d(3, 8, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))"
    assert repr(fastnn.nn.Conv2d(1, 2, (3, 1), stride=2, dilation=2, bias=False)) == (
        "Conv2d(1, 2, kernel_size=(3, 1), stride=(2, 2), dilation=(2, 2), bias=False)"
    )
    assert repr(fastnn.nn.Conv2d(1, 2, 3, padding="same")) == (
        "Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1), padding=same)"
    )
    x = rng.standard_normal((2, 3, 7, 9)).astype(np.float32)
    out = m(fastnn.tensor(x))
    assert_close(
        out.detach().numpy(), ref.conv2d(x, w, b, (1, 1), (2, 2), (1, 1)), **GEMM_TOL[np.float32]
    )
    out.sum().backward()
    assert m.weight.grad.shape == m.weight.shape and m.bias.grad.shape == m.bias.shape


def test_pool_modules(rng):
    assert repr(fastnn.nn.MaxPool2d(2)) == (
        "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    )
    assert repr(fastnn.nn.AvgPool2d(2)) == "AvgPool2d(kernel_size=2, stride=2, padding=0)"
    x = rng.standard_normal((2, 3, 8, 6))
    out = fastnn.nn.MaxPool2d(2)(fastnn.tensor(x))
    assert_close(out.numpy(), ref.max_pool2d(x, (2, 2), (2, 2), (0, 0))[0], atol=0, rtol=0)
    out = fastnn.nn.AvgPool2d(2)(fastnn.tensor(x))
    assert_close(out.numpy(), x.reshape(2, 3, 4, 2, 3, 2).mean(axis=(3, 5)), atol=1e-12, rtol=1e-12)


def test_small_cnn_trains(rng):
    # Conv -> ReLU -> MaxPool -> Linear learns to tell a bright left half from a bright right half.
    nn = fastnn.nn
    fastnn.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * 4 * 4, 2),
    )
    y = rng.integers(0, 2, 64)
    x = rng.standard_normal((64, 1, 8, 8)).astype(np.float32) * 0.5
    x[y == 0, :, :, :4] += 1.0
    x[y == 1, :, :, 4:] += 1.0
    opt = fastnn.optim.SGD(model.parameters(), lr=0.1)
    xt, yt = fastnn.tensor(x), fastnn.tensor(y)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = F.cross_entropy(model(xt), yt)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.25 * losses[0]


def test_conv2d_module_bad_arguments():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        fastnn.nn.Conv2d(3, 2, 3, groups=2)
    with pytest.raises(ValueError, match="groups must be a positive integer"):
        fastnn.nn.Conv2d(2, 2, 3, groups=0)
    with pytest.raises(ValueError, match="in_channels must be a positive int"):
        fastnn.nn.Conv2d(0, 2, 3)
    with pytest.raises(ValueError, match="stride must be >= 1"):
        fastnn.nn.Conv2d(1, 2, 3, stride=0)
    with pytest.raises(TypeError, match="kernel_size must be an int or a pair"):
        fastnn.nn.Conv2d(1, 2, 2.5)
    with pytest.raises(TypeError, match="floating dtype"):
        fastnn.nn.Conv2d(1, 2, 3, dtype=np.int64)


def test_numpy_integer_sizes_are_accepted_like_ints():
    """Shapes computed with numpy give numpy integers; torch takes them, and so does fastnn."""
    x = np.random.default_rng(3).standard_normal((2, 3, 7, 9)).astype(np.float32)
    K = kernels
    a = K.im2col(x, np.int64(3), stride=np.int32(2), padding=(np.int64(1), 1))
    b = K.im2col(x, 3, stride=2, padding=(1, 1))
    np.testing.assert_array_equal(a, b)
    out, _idx = K.max_pool2d(x, np.uint8(2))
    np.testing.assert_array_equal(out, K.max_pool2d(x, 2)[0])
    for bad in (True, np.bool_(True), 2.0, np.array([2, 2])):
        with pytest.raises(TypeError, match="kernel_size"):
            K.im2col(x, bad)


# Deep layers go by GEMMs over the batch ([note: batch GEMMs]): dW from 1024 weights (8192 on
# Winograd's layers), dx and the forward pass from 8192 weights on planes of at most 16 and 4
# pixels. (N, C, H, W), C_out, kernel, stride, padding: a 3x3 stride-1 layer on 4 x 4 planes (a
# Winograd layer, but its planes are small), a stride-2 layer (3 x 2 outputs), 1x1 layers (their
# forward pass and dx as batched GEMMs, [note: pointwise]; dW by batch), and 64 images of 256
# channels on 4 x 4 planes, whose patches and dy fill chunks of 8 MiB: 56 images, then 8
# (float32); 28, 28 and 8 (float64).
BATCH_LAYERS = [
    ((3, 24, 4, 4), 40, 3, 1, 1),
    ((5, 16, 5, 4), 64, 3, 2, 1),
    ((3, 32, 9, 8), 40, 1, 1, 0),
    ((6, 96, 2, 2), 96, 1, 1, 0),
    ((64, 256, 4, 4), 36, 3, 1, 1),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,cout,k,s,p", BATCH_LAYERS)
def test_conv2d_of_deep_layers_matches_reference(shape, cout, k, s, p, dtype, rng):
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((cout, shape[1], k, k)).astype(dtype)
    b = rng.standard_normal(cout).astype(dtype)
    # float32 sums of up to 2304 products of unit normals
    tol = GEMM_TOL[dtype] if dtype == np.float64 else dict(atol=2e-3, rtol=1e-4)
    y = kernels.conv2d(x, w, b, s, p)
    assert_close(y, ref.conv2d(x, w, b, (s, s), (p, p), (1, 1)), **tol, name="y")
    g = rng.standard_normal(y.shape).astype(dtype)
    want = ref.conv2d_backward(g, x, w, (s, s), (p, p), (1, 1))
    for name, a, e in zip(("dx", "dw", "db"), kernels.conv2d_backward(g, x, w, s, p), want):
        assert a.dtype == dtype
        assert_close(a, e, **tol, name=name)
    before = fastnn.get_num_threads()
    try:
        fastnn.set_num_threads(1)
        one = kernels.conv2d(x, w, b, s, p), *kernels.conv2d_backward(g, x, w, s, p)
        fastnn.set_num_threads(2)
        two = kernels.conv2d(x, w, b, s, p), *kernels.conv2d_backward(g, x, w, s, p)
    finally:
        fastnn.set_num_threads(before)
    for a, c in zip(one, two):
        np.testing.assert_array_equal(a, c)
