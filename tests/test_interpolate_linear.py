"""F.interpolate's linear modes (linear, bilinear, trilinear; align_corners both ways; from a
size or a scale factor, recomputed or not) and 'area' against torch: outputs and input
gradients in float64 and float32; nn.Upsample and UpsamplingBilinear2d / UpsamplingNearest2d;
the refused mode / rank combinations."""

import numpy as np
import pytest

import fastnn
from fastnn import nn

torch = pytest.importorskip("torch")

CASES = [
    ((2, 3, 5), {"scale_factor": 2, "mode": "linear"}),
    ((2, 3, 5), {"size": 7, "mode": "linear", "align_corners": True}),
    ((2, 3, 1), {"size": 4, "mode": "linear", "align_corners": True}),
    ((2, 3, 6), {"size": 1, "mode": "linear", "align_corners": True}),
    ((2, 3, 5, 4), {"scale_factor": 2, "mode": "bilinear"}),
    ((2, 3, 5, 4), {"size": (3, 9), "mode": "bilinear"}),
    ((2, 3, 5, 4), {"size": (8, 3), "mode": "bilinear", "align_corners": True}),
    ((2, 3, 5, 4), {"scale_factor": 1.7, "mode": "bilinear", "recompute_scale_factor": True}),
    ((2, 3, 5, 4), {"scale_factor": 0.6, "mode": "bilinear"}),
    ((1, 2, 3, 4, 5), {"scale_factor": (1.5, 2, 0.5), "mode": "trilinear"}),
    ((1, 2, 3, 4, 5), {"size": (2, 7, 5), "mode": "trilinear", "align_corners": True}),
    ((2, 3, 6, 6), {"size": (3, 4), "mode": "area"}),
    ((2, 3, 7), {"size": 3, "mode": "area"}),
]


@pytest.mark.parametrize("shape, kwargs", CASES, ids=str)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_interpolate_matches_torch(rng, shape, kwargs, dtype):
    x = rng.standard_normal(shape).astype(dtype)
    tx, fx = torch.tensor(x, requires_grad=True), fastnn.tensor(x, requires_grad=True)
    to = torch.nn.functional.interpolate(tx, **kwargs)
    fo = fastnn.nn.functional.interpolate(fx, **kwargs)
    assert tuple(fo.shape) == tuple(to.shape) and fo.dtype == fastnn.tensor(x).dtype
    tol = 1e-13 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(fo.detach().numpy(), to.detach().numpy(), rtol=tol, atol=tol)
    g = rng.standard_normal(tuple(to.shape)).astype(dtype)
    to.backward(torch.tensor(g))
    fo.backward(fastnn.tensor(g))
    np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), rtol=tol, atol=tol)


def test_upsample_layers_match_torch(rng):
    x = rng.standard_normal((2, 3, 4, 5))
    for args, kwargs in [
        ((), {"scale_factor": 2, "mode": "bilinear", "align_corners": True}),
        ((), {"size": (7, 3), "mode": "bilinear"}),
    ]:
        t, f = torch.nn.Upsample(*args, **kwargs), nn.Upsample(*args, **kwargs)
        assert repr(f) == repr(t)
        np.testing.assert_allclose(
            f(fastnn.tensor(x)).numpy(), t(torch.tensor(x)).numpy(), rtol=1e-13, atol=1e-13
        )
    for name in ("UpsamplingBilinear2d", "UpsamplingNearest2d"):
        t, f = getattr(torch.nn, name)(scale_factor=2), getattr(nn, name)(scale_factor=2)
        assert repr(f) == repr(t)
        np.testing.assert_allclose(
            f(fastnn.tensor(x)).numpy(), t(torch.tensor(x)).numpy(), rtol=1e-13, atol=1e-13
        )


def test_refused_modes():
    F = fastnn.nn.functional
    with pytest.raises(NotImplementedError, match="Got 4D input, but linear mode needs 3D input"):
        F.interpolate(fastnn.ones(1, 1, 2, 2), scale_factor=2, mode="linear")
    with pytest.raises(NotImplementedError, match="mode 'bicubic' is not supported"):
        F.interpolate(fastnn.ones(1, 1, 2, 2), scale_factor=2, mode="bicubic")
    with pytest.raises(ValueError, match="align_corners option can only be set"):
        F.interpolate(fastnn.ones(1, 1, 2, 2), scale_factor=2, align_corners=True)
