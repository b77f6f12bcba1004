"""F.affine_grid and F.grid_sample against torch: every mode x padding_mode x align_corners on
grids that reach past the border (several mirror folds), gradients for input and grid, the
identity transform, float32, the spatial-transformer pattern, warnings and errors."""

import warnings

import numpy as np
import pytest

import fastnn
from conftest import assert_close

torch = pytest.importorskip("torch")
F = fastnn.nn.functional
TF = torch.nn.functional


def _both(a, grad=True):
    return fastnn.tensor(a, requires_grad=grad), torch.tensor(a, requires_grad=grad)


@pytest.mark.parametrize("align", [False, True])
@pytest.mark.parametrize("size", [(2, 3, 4, 7), (1, 1, 5, 1), (3, 2, 1, 6), (2, 1, 3, 4, 5)])
def test_affine_grid_matches_torch(size, align):
    k = len(size) - 2
    a = np.random.default_rng(0).standard_normal((size[0], k, k + 1))
    t, tt = _both(a)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g, tg = F.affine_grid(t, size, align), TF.affine_grid(tt, size, align)
    assert tuple(g.shape) == tuple(tg.shape)
    assert_close(g.detach().numpy(), tg.detach().numpy(), atol=1e-12, rtol=1e-12)
    w = np.random.default_rng(1).standard_normal(tuple(tg.shape))
    (g * fastnn.tensor(w)).sum().backward()
    (tg * torch.tensor(w)).sum().backward()
    assert_close(t.grad.numpy(), tt.grad.numpy(), atol=1e-10, rtol=1e-10)


@pytest.mark.parametrize("align", [False, True])
@pytest.mark.parametrize("padding", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_grid_sample_matches_torch(mode, padding, align):
    rng = np.random.default_rng(2)
    x, tx = _both(rng.standard_normal((2, 3, 5, 6)))
    g, tg = _both(rng.uniform(-3.5, 3.5, (2, 4, 7, 2)))
    out = F.grid_sample(x, g, mode, padding, align)
    ref = TF.grid_sample(tx, tg, mode, padding, align)
    assert_close(out.detach().numpy(), ref.detach().numpy(), atol=1e-12, rtol=1e-12)
    w = rng.standard_normal(tuple(ref.shape))
    (out * fastnn.tensor(w)).sum().backward()
    (ref * torch.tensor(w)).sum().backward()
    assert_close(x.grad.numpy(), tx.grad.numpy(), atol=1e-12, rtol=1e-12, name="input grad")
    assert g.grad is not None
    assert_close(g.grad.numpy(), tg.grad.numpy(), atol=1e-11, rtol=1e-11, name="grid grad")


@pytest.mark.parametrize("padding", ["zeros", "border", "reflection"])
def test_grid_sample_single_pixel_axes(padding):
    rng = np.random.default_rng(3)
    x, tx = _both(rng.standard_normal((1, 2, 1, 5)))
    g, tg = _both(rng.uniform(-1.2, 1.2, (1, 3, 3, 2)))
    for align in (False, True):
        out = F.grid_sample(x, g, "bilinear", padding, align)
        ref = TF.grid_sample(tx, tg, "bilinear", padding, align)
        assert_close(out.detach().numpy(), ref.detach().numpy(), atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize("padding", ["zeros", "border", "reflection"])
def test_identity_transform_reproduces_input_and_grid_grads_at_bounds(padding):
    rng = np.random.default_rng(4)
    a = rng.standard_normal((2, 3, 4, 5))
    theta = np.tile(np.array([[1.0, 0, 0], [0, 1.0, 0]]), (2, 1, 1))
    for align in (False, True):
        g = F.affine_grid(fastnn.tensor(theta), (2, 3, 4, 5), align).detach().requires_grad_()
        tg = TF.affine_grid(torch.tensor(theta), (2, 3, 4, 5), align).detach().requires_grad_()
        out = F.grid_sample(fastnn.tensor(a), g, "bilinear", padding, align)
        ref = TF.grid_sample(torch.tensor(a), tg, "bilinear", padding, align)
        assert_close(out.detach().numpy(), a, atol=1e-12, rtol=1e-12)
        out.sum().backward()
        ref.sum().backward()
        assert_close(g.grad.numpy(), tg.grad.numpy(), atol=1e-12, rtol=1e-12)


def test_spatial_transformer_pattern_float32():
    rng = np.random.default_rng(5)
    x, tx = _both(rng.standard_normal((3, 1, 28, 28)).astype(np.float32))
    th, tth = _both((np.eye(2, 3) + 0.1 * rng.standard_normal((3, 2, 3))).astype(np.float32))
    grid = F.affine_grid(th, x.size(), align_corners=False)
    tgrid = TF.affine_grid(tth, tx.size(), align_corners=False)
    out, ref = (
        F.grid_sample(x, grid, align_corners=False),
        TF.grid_sample(tx, tgrid, align_corners=False),
    )
    assert out.dtype == fastnn.float32
    assert_close(out.detach().numpy(), ref.detach().numpy(), atol=2e-5, rtol=2e-4)
    out.square().sum().backward()
    ref.square().sum().backward()
    assert_close(th.grad.numpy(), tth.grad.numpy(), atol=2e-3, rtol=2e-3)
    assert_close(x.grad.numpy(), tx.grad.numpy(), atol=2e-5, rtol=2e-4)


def test_align_corners_default_warns():
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        g = F.affine_grid(fastnn.zeros(1, 2, 3), (1, 1, 2, 2))
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F.grid_sample(fastnn.zeros(1, 1, 2, 2), g)
    with pytest.warns(UserWarning, match="unit-size grids"):
        F.affine_grid(fastnn.zeros(1, 2, 3), (1, 1, 1, 2), align_corners=True)


def test_grid_sample_errors():
    x, g = fastnn.zeros(2, 3, 4, 5), fastnn.zeros(2, 4, 5, 2)
    with pytest.raises(
        ValueError, match="expected mode to be 'bilinear', 'nearest' or 'bicubic', but got: 'foo'"
    ):
        F.grid_sample(x, g, mode="foo", align_corners=False)
    with pytest.raises(
        ValueError, match="expected padding_mode to be 'zeros', 'border', or 'reflection'"
    ):
        F.grid_sample(x, g, padding_mode="foo", align_corners=False)
    with pytest.raises(
        RuntimeError, match=r"expected grid to have size 2 in last dimension.*\[2, 4, 5, 1\]"
    ):
        F.grid_sample(x, g[..., :1], align_corners=False)
    with pytest.raises(RuntimeError, match=r"same batch size.*\[1, 3, 4, 5\].*\[2, 4, 5, 2\]"):
        F.grid_sample(x[:1], g, align_corners=False)
    with pytest.raises(RuntimeError, match="same floating dtype"):
        F.grid_sample(x, g.double(), align_corners=False)
    with pytest.raises(NotImplementedError, match="bicubic"):
        F.grid_sample(x, g, mode="bicubic", align_corners=False)


def test_affine_grid_errors():
    th = fastnn.zeros(2, 2, 3)
    with pytest.raises(NotImplementedError, match="only supports 4D and 5D sizes"):
        F.affine_grid(th, (2, 3, 4), align_corners=False)
    with pytest.raises(ValueError, match="shape Nx2x3 for size"):
        F.affine_grid(th[:, :1], (2, 3, 4, 5), align_corners=False)
    with pytest.raises(ValueError, match="shape Nx3x4 for size"):
        F.affine_grid(th, (2, 3, 4, 5, 6), align_corners=False)
    with pytest.raises(ValueError, match="floating point type"):
        F.affine_grid(th.long(), (2, 3, 4, 5), align_corners=False)
    with pytest.raises(ValueError, match="non-zero, positive output size"):
        F.affine_grid(th, (2, 3, 0, 5), align_corners=False)
    with pytest.raises(RuntimeError, match="batch of 3"):
        F.affine_grid(th, (3, 3, 4, 5), align_corners=False)
