"""F.adaptive_max_pool3d and F.max_pool3d's indices (values and torch's indices),
F.max_unpool3d and F.lp_pool3d, and their modules AdaptiveMaxPool3d, MaxPool3d(return_indices),
MaxUnpool3d and LPPool3d, against torch: values and gradients on
awkward shapes (sizes 1 and 7, windows that overlap, unbatched input) in float32 and float64,
gradcheck in float64, reprs, and errors."""

import math

import numpy as np
import pytest

import fastnn
from fastnn.autograd import gradcheck

torch = pytest.importorskip("torch")
nn, F = fastnn.nn, fastnn.nn.functional
TF = torch.nn.functional


def _pair(x, dtype):
    x = x.astype(dtype)
    return fastnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)


def _backward(fo, to, rng, dtype):
    g = rng.standard_normal(tuple(to.shape)).astype(dtype)
    (fo * fastnn.tensor(g)).sum().backward()
    (to * torch.tensor(g)).sum().backward()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "shape,size",
    [((2, 3, 5, 7, 6), (2, 3, 4)), ((1, 2, 7, 1, 3), (3, 1, 2)), ((3, 4, 4, 4), 2),
     ((1, 1, 1, 1, 1), 1), ((2, 1, 6, 5, 4), (None, 2, None))],
)  # fmt: skip
def test_adaptive_max_pool3d_matches_torch(shape, size, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    x[..., 0] = x[..., -1]  # ties: the first maximum in (d, h, w) order must win
    fx, tx = _pair(x, dtype)
    fo, fi = F.adaptive_max_pool3d(fx, size, return_indices=True)
    to, ti = TF.adaptive_max_pool3d(tx, size, return_indices=True)
    np.testing.assert_array_equal(fo.detach().numpy(), to.detach().numpy())
    np.testing.assert_array_equal(fi.numpy(), ti.numpy())
    assert fi.dtype == fastnn.int64
    _backward(fo, to, rng, dtype)
    np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), rtol=1e-6)
    m, tm = nn.AdaptiveMaxPool3d(size), torch.nn.AdaptiveMaxPool3d(size)
    assert repr(m) == repr(tm)
    np.testing.assert_array_equal(m(fx).detach().numpy(), fo.detach().numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "shape,kw",
    [((2, 3, 6, 7, 4), {"kernel_size": 2}),
     ((1, 2, 5, 5, 7), {"kernel_size": (3, 1, 2), "stride": (2, 1, 3), "padding": (1, 0, 1)}),
     ((2, 7, 4, 5), {"kernel_size": (2, 3, 2), "stride": 1, "dilation": (2, 1, 2)}),
     ((1, 1, 4, 4, 5), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True})],
)  # fmt: skip
def test_max_pool3d_indices_match_torch(shape, kw, dtype):
    rng = np.random.default_rng(4)
    x = rng.standard_normal(shape)
    x[..., 1] = x[..., 0]  # ties: the first maximum in (d, h, w) order must win
    fx, tx = _pair(x, dtype)
    fo, fi = F.max_pool3d(fx, **kw, return_indices=True)
    to, ti = TF.max_pool3d(tx, **kw, return_indices=True)
    np.testing.assert_array_equal(fo.detach().numpy(), to.detach().numpy())
    np.testing.assert_array_equal(fi.numpy(), ti.numpy())
    _backward(fo, to, rng, dtype)
    # overlapping windows add into one element in another order: rounding only
    np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-6)
    m = nn.MaxPool3d(**kw, return_indices=True)
    mo, mi = m(fx)
    np.testing.assert_array_equal(mi.numpy(), ti.numpy())
    _, wi = F.max_pool3d_with_indices(fx, **kw)
    np.testing.assert_array_equal(wi.numpy(), ti.numpy())
    if "dilation" in kw:  # an unpooling has no dilation: no round trip
        return
    unpool = nn.MaxUnpool3d(kw["kernel_size"], kw.get("stride"), kw.get("padding", 0))
    back = unpool(mo, mi, output_size=shape[-3:])
    ref = torch.nn.MaxUnpool3d(kw["kernel_size"], kw.get("stride"), kw.get("padding", 0))
    np.testing.assert_array_equal(back.detach().numpy(), ref(to, ti, shape[-3:]).detach().numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "shape,kw",
    [((2, 3, 6, 8, 4), {"kernel_size": 2}),
     ((1, 2, 5, 5, 7), {"kernel_size": (3, 1, 2), "stride": (2, 1, 3), "padding": (1, 0, 1)}),
     ((2, 4, 4, 3), {"kernel_size": (2, 1, 3), "stride": 1})],
)  # fmt: skip
def test_max_unpool3d_matches_torch(shape, kw, dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(dtype)
    tp, ti = TF.max_pool3d(torch.tensor(x), **kw, return_indices=True)
    kw_unpool = dict(kw)
    sizes = [tuple(x.shape[-3:])]
    if shape[-3:] == (6, 8, 4):  # the default output size is the input's: no size needed
        sizes.append(None)
    for size in sizes:
        fp, tp_ = _pair(tp.numpy(), dtype)
        fo = F.max_unpool3d(fp, fastnn.tensor(ti.numpy()), **kw_unpool, output_size=size)
        to = TF.max_unpool3d(tp_, ti, **kw_unpool, output_size=size)
        np.testing.assert_array_equal(fo.detach().numpy(), to.detach().numpy())
        _backward(fo, to, rng, dtype)
        np.testing.assert_array_equal(fp.grad.numpy(), tp_.grad.numpy())
    m, tm = nn.MaxUnpool3d(**kw), torch.nn.MaxUnpool3d(**kw)
    assert repr(m) == repr(tm)
    out = m(fastnn.tensor(tp.numpy()), fastnn.tensor(ti.numpy()), sizes[0])
    np.testing.assert_array_equal(out.numpy(), tm(tp, ti, sizes[0]).numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "shape,p,kw",
    [((2, 3, 4, 6, 5), 2.0, {"kernel_size": 2}),
     ((1, 2, 7, 5, 3), 3.0, {"kernel_size": (3, 2, 1), "stride": (2, 1, 1), "ceil_mode": True}),
     ((3, 5, 4, 4), 1.5, {"kernel_size": (1, 2, 2)}),
     ((2, 1, 3, 3, 3), math.inf, {"kernel_size": 3})],
)  # fmt: skip
def test_lp_pool3d_matches_torch(shape, p, kw, dtype):
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape)
    if p in (1.5, 3.0):  # a negative window sum has no real root (NaN, as torch's)
        x = np.abs(x) + 0.1
    fx, tx = _pair(x, dtype)
    fo, to = F.lp_pool3d(fx, p, **kw), TF.lp_pool3d(tx, p, **kw)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(fo.detach().numpy(), to.detach().numpy(), rtol=tol, atol=tol)
    _backward(fo, to, rng, dtype)
    np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), rtol=tol * 10, atol=tol * 10)
    m, tm = nn.LPPool3d(p, **kw), torch.nn.LPPool3d(p, **kw)
    assert repr(m) == repr(tm)


def test_gradcheck():
    rng = np.random.default_rng(3)
    x = fastnn.tensor(rng.standard_normal((1, 2, 4, 3, 5)), requires_grad=True)
    assert gradcheck(lambda x: F.adaptive_max_pool3d(x, (3, 2, 2)), (x,))
    assert gradcheck(lambda x: F.lp_pool3d(x, 2.0, (2, 2, 3), stride=1), (x,))
    vals = fastnn.tensor(rng.standard_normal((1, 2, 2, 1, 2)), requires_grad=True)
    _, ti = TF.max_pool3d(torch.tensor(x.detach().numpy()), 2, return_indices=True)
    idx = fastnn.tensor(ti.numpy())
    assert gradcheck(lambda v: F.max_unpool3d(v, idx, 2, output_size=(4, 3, 5)), (vals,))


def test_errors():
    x = fastnn.randn(1, 2, 2, 2, 2)
    idx = fastnn.zeros(1, 2, 2, 2, 2, dtype=fastnn.int64)
    with pytest.raises(RuntimeError, match="Expected 4D or 5D input"):
        F.max_unpool3d(fastnn.randn(2, 2, 2), idx, 2)
    with pytest.raises(
        RuntimeError, match="invalid max index: 64 \\(output volumes are of size 4x4x4\\)"
    ):
        F.max_unpool3d(x, idx + 64, 2)
    with pytest.raises(RuntimeError, match="should be type int64"):
        F.max_unpool3d(x, idx.int(), 2)
    with pytest.raises(ValueError, match="invalid output_size"):
        F.max_unpool3d(x, idx, 2, output_size=(9, 4, 4))
    with pytest.raises(ValueError, match="expected 4D or 5D input"):
        F.adaptive_max_pool3d(fastnn.randn(2, 3, 4), 2)
    with pytest.raises(RuntimeError, match="floating-point"):
        F.adaptive_max_pool3d(fastnn.ones(1, 2, 3, 4, dtype=fastnn.int64), 2)
