"""Sequential runs ReLU -> MaxPool2d as MaxPool2d -> ReLU (nn/module.py, ``_pool_first``): the
values and gradients must be those of the modules in their written order, and the swap must
happen only where nothing can tell."""

import numpy as np
import pytest

import fastnn
from fastnn import nn
from fastnn.nn import layers


def _input(rng, shape, dtype):
    """Random values with the cases that could tell the orders apart: whole windows <= 0,
    exact zeros of both signs, ties at the maximum, and a NaN."""
    x = rng.standard_normal(shape).astype(dtype)
    flat = x.reshape(-1)
    flat[rng.random(flat.size) < 0.2] = 0.0
    flat[rng.random(flat.size) < 0.05] = -0.0
    flat[rng.random(flat.size) < 0.1] = 1.5  # ties
    x[0, 0, :2, :2] = -np.abs(x[0, 0, :2, :2]) - 1  # a window with no positive value
    x[-1, -1, -1, -1] = np.nan
    return x


def _written_order(x, net):
    """The modules applied one by one, in the order they are written."""
    for m in net:
        x = m(x)
    return x


def _same(a, b):
    """Equal values (NaN where the other is NaN; 0.0 and -0.0 equal)."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_array_equal(np.nan_to_num(a), np.nan_to_num(b))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "shape,pool",
    [
        ((3, 2, 8, 8), dict(kernel_size=2)),
        ((2, 3, 7, 9), dict(kernel_size=2)),  # odd sizes: the last row and column dropped
        ((1, 1, 6, 5), dict(kernel_size=3, stride=2, padding=1)),
        ((2, 2, 9, 9), dict(kernel_size=2, stride=1, dilation=2)),
    ],
)
def test_values_and_gradients_match_the_written_order(shape, pool, dtype):
    rng = np.random.default_rng(0)
    conv = nn.Conv2d(shape[1], 4, 3, padding=1).to(getattr(fastnn, np.dtype(dtype).name))
    net = nn.Sequential(conv, nn.ReLU(), nn.MaxPool2d(**pool), nn.Flatten())
    x_np = _input(rng, shape, dtype)
    # A weighting of the outputs, so that every output's gradient differs.
    weights = rng.standard_normal(net(fastnn.tensor(x_np)).shape).astype(dtype)
    outs, grads = [], []
    for run in (net, lambda t: _written_order(t, net)):
        x = fastnn.tensor(x_np, requires_grad=True)
        conv.zero_grad()
        y = run(x)
        (y * fastnn.tensor(weights)).sum().backward()
        outs.append(y.detach().numpy())
        grads.append((x.grad.numpy(), conv.weight.grad.numpy(), conv.bias.grad.numpy()))
    _same(outs[0], outs[1])
    for a, b in zip(grads[0], grads[1]):
        _same(a, b)


def test_relu_runs_on_the_pooled_data(monkeypatch):
    seen = []
    relu = layers.F.relu

    def spy(t, *args, **kwargs):
        seen.append(tuple(t.shape))
        return relu(t, *args, **kwargs)

    monkeypatch.setattr(layers.F, "relu", spy)
    net = nn.Sequential(nn.ReLU(), nn.MaxPool2d(2), nn.ReLU(), nn.Linear(3, 2))
    net(fastnn.randn(2, 3, 6, 6))
    # The first ReLU moved after the pooling; the second has no pooling after it.
    assert seen == [(2, 3, 3, 3), (2, 3, 3, 3)]


class _MyReLU(nn.ReLU):
    pass


@pytest.mark.parametrize(
    "build",
    [
        lambda: (nn.ReLU(), nn.MaxPool2d(2, return_indices=True)),
        lambda: (_MyReLU(), nn.MaxPool2d(2)),
        lambda: (nn.ReLU(), nn.AvgPool2d(2)),
        lambda: (nn.MaxPool2d(2), nn.ReLU()),
        lambda: (nn.ReLU(inplace=True), nn.MaxPool2d(2)),
    ],
    ids=["return_indices", "relu_subclass", "avg_pool", "already_pooled_first", "relu_inplace"],
)
def test_kept_in_order_where_it_does_not_apply(monkeypatch, build):
    seen = []
    relu = layers.F.relu
    monkeypatch.setattr(layers.F, "relu", lambda t, *a: seen.append(tuple(t.shape)) or relu(t, *a))
    a, b = build()
    out = nn.Sequential(a, b)(fastnn.randn(1, 2, 4, 4))
    full = (1, 2, 4, 4) if isinstance(a, nn.ReLU) else (1, 2, 2, 2)
    assert seen == [full]
    if isinstance(out, tuple):  # the indices are those of the ReLU's output
        x = fastnn.randn(1, 2, 4, 4)
        _, idx = nn.Sequential(a, b)(x)
        _, want = nn.functional.max_pool2d(relu(x), 2, return_indices=True)
        np.testing.assert_array_equal(idx.numpy(), want.numpy())


@pytest.mark.parametrize("hooked", ["relu_forward", "relu_pre", "pool_forward", "pool_pre"])
def test_hooks_see_the_written_order(hooked):
    relu, pool = nn.ReLU(), nn.MaxPool2d(2)
    seen = []
    module = relu if hooked.startswith("relu") else pool
    if hooked.endswith("pre"):
        module.register_forward_pre_hook(lambda m, args: seen.append(tuple(args[0].shape)))
    else:
        module.register_forward_hook(lambda m, args, out: seen.append(tuple(args[0].shape)))
    x = fastnn.randn(2, 3, 6, 6)
    y = nn.Sequential(relu, pool)(x)
    # Both modules see the full-size tensor, as written: the ReLU first, then the pooling.
    assert seen == [(2, 3, 6, 6)]
    assert y.shape == (2, 3, 3, 3)
    np.testing.assert_array_equal(
        y.numpy(), np.maximum(x.numpy(), 0).reshape(2, 3, 3, 2, 3, 2).max((3, 5))
    )


def test_matches_torch_sequential():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x_np = rng.standard_normal((2, 3, 10, 10)).astype(np.float32)
    w_np = rng.standard_normal((5, 3, 3, 3)).astype(np.float32)
    outs, grads = [], []
    for lib in (fastnn, torch):
        net = lib.nn.Sequential(
            lib.nn.Conv2d(3, 5, 3, padding=1, bias=False), lib.nn.ReLU(), lib.nn.MaxPool2d(2)
        )
        with lib.no_grad():
            net[0].weight.copy_(lib.tensor(w_np))
        x = lib.tensor(x_np, requires_grad=True)
        y = net(x)
        (y * y).sum().backward()
        outs.append(y.detach().numpy())
        grads.append((x.grad.numpy(), net[0].weight.grad.numpy()))
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-5, atol=1e-5)
    for a, b in zip(grads[0], grads[1]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
