"""Adaptive pooling, F.pad, F.interpolate (nearest; the linear modes are in
test_interpolate_linear.py), Dropout2d and Unflatten: values and gradients against torch and
float64 NumPy loops, gradcheck, train/eval, errors."""

import numpy as np
import pytest

import fastnn
from conftest import assert_close
from fastnn import nn
from fastnn.autograd import gradcheck
from fastnn.nn import functional as F

TOL64 = dict(atol=1e-12, rtol=1e-12)


def ref_adaptive(x, oh, ow, reduce):
    h, w = x.shape[-2:]
    out = np.empty((*x.shape[:-2], oh, ow))
    for i in range(oh):
        h0, h1 = (i * h) // oh, -(-((i + 1) * h) // oh)
        for j in range(ow):
            w0, w1 = (j * w) // ow, -(-((j + 1) * w) // ow)
            out[..., i, j] = reduce(x[..., h0:h1, w0:w1], axis=(-2, -1))
    return out


SIZES = [
    ((1, 1, 1, 1), (1, 1)),
    ((2, 3, 7, 5), (3, 2)),
    ((1, 2, 33, 17), (5, 7)),
    ((2, 1, 8, 6), (4, 3)),
    ((3, 9, 4), (None, 7)),
]


@pytest.mark.parametrize("shape,out", SIZES)
def test_adaptive_pools_against_numpy(shape, out, rng):
    x = rng.standard_normal(shape)
    oh = shape[-2] if out[0] is None else out[0]
    ow = shape[-1] if out[1] is None else out[1]
    assert_close(
        F.adaptive_avg_pool2d(fastnn.tensor(x), out).numpy(),
        ref_adaptive(x, oh, ow, np.mean),
        **TOL64,
    )
    assert_close(
        F.adaptive_max_pool2d(fastnn.tensor(x), out).numpy(),
        ref_adaptive(x, oh, ow, np.max),
        **TOL64,
    )


@pytest.mark.parametrize("shape,out", [*SIZES, ((2, 3, 10, 10), 3), ((2, 3, 6, 6), (2, 3))])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_adaptive_pools_match_torch(shape, out, dtype, rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal(shape).astype(dtype)
    for name, kw in [("AdaptiveAvgPool2d", {}), ("AdaptiveMaxPool2d", {"return_indices": True})]:
        tm, fm = getattr(torch.nn, name)(out, **kw), getattr(nn, name)(out, **kw)
        assert repr(fm) == repr(tm)
        tx, fx = torch.from_numpy(x).requires_grad_(True), fastnn.tensor(x, requires_grad=True)
        ty, fy = tm(tx), fm(fx)
        if kw:
            (ty, ti), (fy, fi) = ty, fy
            np.testing.assert_array_equal(fi.numpy(), ti.numpy())
            assert fi.dtype == fastnn.int64
        g = rng.standard_normal(tuple(ty.shape)).astype(dtype)
        ty.backward(torch.from_numpy(g))
        fy.backward(fastnn.tensor(g))
        tol = dict(atol=1e-6, rtol=1e-5) if dtype == "float32" else TOL64
        assert_close(fy.detach().numpy(), ty.detach().numpy(), **tol)
        assert_close(fx.grad.numpy(), tx.grad.numpy(), **tol)


def test_adaptive_avg_pool1d_matches_torch(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 3, 11))
    for o in (1, 4, 11, 13):
        tm, fm = torch.nn.AdaptiveAvgPool1d(o), nn.AdaptiveAvgPool1d(o)
        assert repr(fm) == repr(tm)
        assert_close(fm(fastnn.tensor(x)).numpy(), tm(torch.tensor(x)).numpy(), **TOL64)
        assert_close(fm(fastnn.tensor(x[0])).numpy(), tm(torch.tensor(x[0])).numpy(), **TOL64)


def test_adaptive_gradcheck(rng):
    x = fastnn.tensor(rng.standard_normal((2, 2, 7, 5)), requires_grad=True)
    gradcheck(lambda x: F.adaptive_avg_pool2d(x, (3, 2)), (x,))
    gradcheck(lambda x: F.adaptive_max_pool2d(x, (3, 2)), (x,))
    gradcheck(lambda x: F.adaptive_avg_pool1d(x.reshape(4, 35), 6), (x,))


PADS = [
    ((1, 2), "constant", 0.5),
    ((2, 1, 1, 3), "reflect", None),
    ((3, 0, 0, 2), "replicate", None),
    ((2, 1, 1, 3), "circular", None),
    ((-1, 2, 1, -2), "constant", None),
    ((1, 1, 0, 1, 2, 0), "constant", -1.0),
]


@pytest.mark.parametrize("p,mode,value", PADS)
def test_pad_matches_torch(p, mode, value, rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 3, 5, 6))
    tx, fx = torch.tensor(x, requires_grad=True), fastnn.tensor(x, requires_grad=True)
    kw = {} if value is None else {"value": value}
    ty, fy = torch.nn.functional.pad(tx, p, mode, **kw), F.pad(fx, p, mode, **kw)
    assert tuple(fy.shape) == tuple(ty.shape)
    g = rng.standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(g))
    fy.backward(fastnn.tensor(g))
    assert_close(fy.detach().numpy(), ty.detach().numpy(), **TOL64)
    assert_close(fx.grad.numpy(), tx.grad.numpy(), **TOL64)
    if mode == "constant" and value is None:
        want = np.pad(x, ((0, 0), (0, 0), (1, 0), (0, 2)))[:, :, :-2, 1:]
        assert_close(fy.detach().numpy(), want, **TOL64)


def test_pad_gradcheck_and_errors(rng):
    x = fastnn.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    for mode in ("constant", "reflect", "replicate", "circular"):
        gradcheck(lambda x, mode=mode: F.pad(x, (2, 1), mode), (x,))
    # RuntimeError, as torch raises for each of these
    with pytest.raises(RuntimeError, match="divisible by 2"):
        F.pad(x, (1, 2, 3))
    with pytest.raises(RuntimeError, match="padding size should be less than"):
        F.pad(x, (4, 0), "reflect")
    with pytest.raises(RuntimeError, match="doesn't take in value"):
        F.pad(x, (1, 1), "reflect", value=2.0)
    with pytest.raises(NotImplementedError, match="mode 'wrap'"):
        F.pad(x, (1, 1), "wrap")
    with pytest.raises(RuntimeError, match="too large"):
        F.pad(x, (1,) * 8)
    torch = pytest.importorskip("torch")
    t = torch.ones(2, 3, 4)
    for args in (((1, 2, 3),), ((4, 0), "reflect"), ((1, 1), "reflect", 2.0), ((1,) * 8,)):
        with pytest.raises(RuntimeError):
            torch.nn.functional.pad(t, *args)


@pytest.mark.parametrize(
    "shape,kw",
    [
        ((2, 3, 5), {"scale_factor": 2}),
        ((2, 3, 5, 6), {"size": (7, 4)}),
        ((1, 2, 5, 6), {"scale_factor": (1.7, 0.6)}),
        ((1, 1, 3, 4, 5), {"size": (6, 4, 9)}),
        ((1, 2, 9, 7), {"scale_factor": 0.5, "recompute_scale_factor": True}),
    ],
)
def test_interpolate_nearest_matches_torch(shape, kw, rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal(shape)
    tx, fx = torch.tensor(x, requires_grad=True), fastnn.tensor(x, requires_grad=True)
    ty, fy = torch.nn.functional.interpolate(tx, **kw), F.interpolate(fx, **kw)
    assert_close(fy.detach().numpy(), ty.detach().numpy(), **TOL64)
    g = rng.standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(g))
    fy.backward(fastnn.tensor(g))
    assert_close(fx.grad.numpy(), tx.grad.numpy(), **TOL64)
    if "scale_factor" in kw and "recompute_scale_factor" not in kw:
        tm, fm = (
            torch.nn.Upsample(scale_factor=kw["scale_factor"]),
            nn.Upsample(scale_factor=kw["scale_factor"]),
        )
        assert repr(fm) == repr(tm)
        assert_close(fm(fastnn.tensor(x)).numpy(), tm(torch.tensor(x)).numpy(), **TOL64)


def test_interpolate_errors():
    x = fastnn.zeros(1, 2, 4, 4)
    with pytest.raises(NotImplementedError, match="'bicubic'"):
        F.interpolate(x, scale_factor=2, mode="bicubic")
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        F.interpolate(x, size=3, scale_factor=2)
    with pytest.raises(ValueError, match="Input is 2D, size is 3"):
        F.interpolate(x, size=(1, 2, 3))
    with pytest.raises(NotImplementedError):
        nn.Upsample(scale_factor=2, mode="bicubic")


def test_dropout2d_train_and_eval(rng):
    fastnn.manual_seed(3)
    m = nn.Dropout2d(0.4)
    x = fastnn.tensor(rng.standard_normal((64, 16, 3, 5)) + 3, requires_grad=True)
    y = m(x)
    ratio = (y / x).detach().numpy().reshape(64 * 16, -1)
    assert np.allclose(ratio, ratio[:, :1])  # whole planes kept or dropped
    kept = np.isclose(ratio[:, 0], 1 / 0.6)
    assert (kept | np.isclose(ratio[:, 0], 0)).all()
    assert 0.5 < kept.mean() < 0.7
    y.sum().backward()
    assert_close(x.grad.numpy().reshape(64 * 16, -1), ratio, atol=1e-6, rtol=1e-6)
    m.eval()
    assert m(x) is x
    assert repr(m) == "Dropout2d(p=0.4, inplace=False)"
    assert F.dropout2d(x, 0.5, training=False) is x
    assert (F.dropout2d(x, 1.0).detach().numpy() == 0).all()
    with pytest.warns(UserWarning, match="3D input"):
        z = F.dropout2d(fastnn.ones(4, 8, 5), 0.5).numpy()
    assert np.allclose(z, z[:, :, :1])
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout2d(1.5)


def test_unflatten_matches_torch(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 12, 5))
    for dim, sizes in [(1, (3, 4)), (-1, (5, 1)), (1, (2, -1, 3))]:
        tm, fm = torch.nn.Unflatten(dim, sizes), nn.Unflatten(dim, sizes)
        assert repr(fm) == repr(tm)
        tx, fx = torch.tensor(x, requires_grad=True), fastnn.tensor(x, requires_grad=True)
        ty, fy = tm(tx), fm(fx)
        assert tuple(fy.shape) == tuple(ty.shape)
        assert_close(fy.detach().numpy(), ty.detach().numpy(), **TOL64)
    with pytest.raises(TypeError, match="tuple of ints"):
        nn.Unflatten(1, 3)


def test_adaptive_errors():
    with pytest.raises(ValueError, match="expected 3D or 4D input"):
        F.adaptive_avg_pool2d(fastnn.zeros(4, 4), 2)
    with pytest.raises(ValueError, match="output_size must be an int or a 2-tuple"):
        F.adaptive_max_pool2d(fastnn.zeros(1, 4, 4), (1, 2, 3))
    with pytest.raises(RuntimeError, match="greater than or equal to 0"):  # torch's type
        F.adaptive_avg_pool2d(fastnn.zeros(1, 4, 4), -1)
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        F.adaptive_avg_pool1d(fastnn.zeros(4), 2)
