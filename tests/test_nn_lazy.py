"""LazyConv1d / LazyConv2d and LazyBatchNorm1d / 2d / 3d: reprs before and after the first
forward (torch's), the inferred sizes, the class they become, weights equal to the eager layer's
under the same seed, optimizers built before the first forward, and errors."""

import numpy as np
import pytest

import fastnn
from conftest import assert_close

torch = pytest.importorskip("torch")
nn = fastnn.nn


@pytest.mark.parametrize(
    "lazy,eager,shape,kw",
    [
        ("LazyConv2d", "Conv2d", (2, 3, 6, 5), {"kernel_size": 3, "stride": 2, "padding": 1}),
        ("LazyConv2d", "Conv2d", (4, 6, 5), {"kernel_size": (2, 3), "groups": 2, "bias": False}),
        ("LazyConv1d", "Conv1d", (2, 5, 9), {"kernel_size": 3, "dilation": 2}),
        ("LazyConv1d", "Conv1d", (5, 9), {"kernel_size": 1}),
    ],
)
def test_lazy_conv(lazy, eager, shape, kw):
    m, tm = getattr(nn, lazy)(4, **kw), getattr(torch.nn, lazy)(4, **kw)
    assert repr(m) == repr(tm)
    assert isinstance(m.weight, nn.UninitializedParameter)
    x = fastnn.randn(*shape)
    fastnn.manual_seed(7)
    out = m(x)
    tm(torch.tensor(x.numpy()))
    assert type(m) is getattr(nn, eager)
    assert repr(m) == repr(tm)
    assert m.in_channels == tm.in_channels and tuple(m.weight.shape) == tuple(tm.weight.shape)
    fastnn.manual_seed(7)
    ref = getattr(nn, eager)(m.in_channels, 4, **kw)  # the same draws: nothing drawn before
    np.testing.assert_array_equal(m.weight.detach().numpy(), ref.weight.detach().numpy())
    assert_close(out.detach().numpy(), ref(x).detach().numpy(), atol=0, rtol=0)


def test_lazy_conv_optimizer_built_before_first_forward():
    m = nn.LazyConv2d(3, 2)
    opt = fastnn.optim.SGD(m.parameters(), lr=0.5)
    m(fastnn.randn(2, 4, 5, 5)).square().sum().backward()
    w0, b0 = m.weight.detach().numpy().copy(), m.bias.detach().numpy().copy()
    opt.step()
    assert np.abs(m.weight.detach().numpy() - w0).sum() > 0
    assert np.abs(m.bias.detach().numpy() - b0).sum() > 0


def test_lazy_conv_errors():
    with pytest.raises(
        RuntimeError, match=r"Expected 3D \(unbatched\) or 4D \(batched\) input to LazyConv2d"
    ):
        nn.LazyConv2d(8, 3)(fastnn.randn(3, 5))
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.LazyConv2d(4, 3, groups=2)(fastnn.randn(1, 3, 5, 5))
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        nn.LazyConv2d(3, 3, groups=2)


@pytest.mark.parametrize(
    "lazy,eager,shape",
    [("LazyBatchNorm1d", "BatchNorm1d", (4, 3)), ("LazyBatchNorm1d", "BatchNorm1d", (4, 3, 5)),
     ("LazyBatchNorm2d", "BatchNorm2d", (2, 5, 3, 4)), ("LazyBatchNorm3d", "BatchNorm3d", (2, 3, 2, 2, 3))],
)  # fmt: skip
@pytest.mark.parametrize(
    "affine,track", [(True, True), (False, True), (True, False), (False, False)]
)
def test_lazy_batch_norm(lazy, eager, shape, affine, track):
    kw = {"affine": affine, "track_running_stats": track}
    m, tm = getattr(nn, lazy)(**kw).double(), getattr(torch.nn, lazy)(**kw).double()
    assert repr(m) == repr(tm)
    a = np.random.default_rng(0).standard_normal(shape)
    out, ref = m(fastnn.tensor(a)), tm(torch.tensor(a))
    assert type(m) is getattr(nn, eager)
    assert repr(m) == repr(tm)
    assert m.num_features == tm.num_features
    assert_close(out.detach().numpy(), ref.detach().numpy(), atol=1e-12, rtol=1e-12)
    assert sorted(m.state_dict()) == sorted(tm.state_dict())
    if track:
        assert_close(m.running_var.numpy(), tm.running_var.numpy(), atol=1e-12, rtol=1e-12)
        assert m.running_var.dtype == fastnn.float64
