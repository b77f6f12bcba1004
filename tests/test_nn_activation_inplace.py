"""F.relu_ / elu_ / leaky_relu_ / hardtanh_ / selu_ / celu_ / threshold_, F.rrelu / rrelu_ and
nn.RReLU against torch: values, gradients through a recorded in-place write, the in-place rules
(same object, version counter, leaf error), rrelu's random slopes and its eval mean slope."""

import numpy as np
import pytest

import fastnn
from conftest import assert_close

torch = pytest.importorskip("torch")
F = fastnn.nn.functional
TF = torch.nn.functional

INPLACE = [
    ("relu_", ()),
    ("elu_", (0.7,)),
    ("leaky_relu_", (0.2,)),
    ("hardtanh_", (-0.5, 0.8)),
    ("selu_", ()),
    ("celu_", (1.3,)),
    ("threshold_", (0.1, -2.0)),
]


@pytest.mark.parametrize("name,args", INPLACE, ids=[n for n, _ in INPLACE])
@pytest.mark.parametrize("shape", [(7,), (1, 3, 5)])
def test_inplace_matches_torch_and_returns_input(name, args, shape):
    a = np.random.default_rng(0).standard_normal(shape)
    x, tx = fastnn.tensor(a), torch.tensor(a)
    v0 = x._version
    y = getattr(F, name)(x, *args)
    getattr(TF, name)(tx, *args)
    assert y is x
    assert x._version == v0 + 1
    assert_close(x.numpy(), tx.numpy(), atol=1e-12, rtol=1e-12, name=name)


@pytest.mark.parametrize("name,args", INPLACE, ids=[n for n, _ in INPLACE])
def test_inplace_gradient_through_graph(name, args):
    a = np.random.default_rng(1).standard_normal((3, 5))
    x, tx = fastnn.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    h, th = x * 1.5, tx * 1.5
    out = getattr(F, name)(h, *args)
    tout = getattr(TF, name)(th, *args)
    assert out is h
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    # torch's celu backward rounds 1 / alpha to float32 (errors near 1e-8 in float64)
    tol = 1e-7 if name == "celu_" else 1e-10
    assert_close(x.grad.numpy(), tx.grad.numpy(), atol=tol, rtol=tol, name=name)


@pytest.mark.parametrize("name,args", [*INPLACE, ("rrelu_", ())], ids=lambda v: str(v))
def test_inplace_on_leaf_requiring_grad_raises(name, args):
    x = fastnn.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        getattr(F, name)(x, *args)


def test_threshold_keyword_names():
    x = fastnn.tensor([-1.0, 0.5, 2.0])
    F.threshold_(x, threshold=0.6, value=9.0)
    assert x.tolist() == [9.0, 9.0, 2.0]


def test_rrelu_eval_is_mean_slope():
    a = np.random.default_rng(2).standard_normal((4, 3))
    for lo, hi in [(0.125, 1 / 3), (0.0, 0.5), (0.2, 0.2)]:
        out = F.rrelu(fastnn.tensor(a), lo, hi)
        ref = TF.rrelu(torch.tensor(a), lo, hi, training=False)
        assert_close(out.numpy(), ref.numpy(), atol=1e-12, rtol=1e-12)


def test_rrelu_training_slopes_in_range_and_gradient_is_slope():
    fastnn.manual_seed(3)
    a = np.random.default_rng(3).standard_normal((50, 40))
    x = fastnn.tensor(a, requires_grad=True)
    y = F.rrelu(x, 0.1, 0.3, training=True)
    y.sum().backward()
    out, g = y.detach().numpy(), x.grad.numpy()
    pos = a > 0
    np.testing.assert_array_equal(out[pos], a[pos])
    np.testing.assert_array_equal(g[pos], 1.0)
    slope = g[~pos]
    assert slope.min() >= 0.1 and slope.max() <= 0.3
    assert slope.std() > 0.03  # one draw per element, not one shared slope
    assert_close(out[~pos], a[~pos] * slope, atol=1e-12, rtol=1e-12)


def test_rrelu_training_follows_the_generator():
    a = fastnn.randn(6, 7)
    fastnn.manual_seed(5)
    y1 = F.rrelu(a, training=True)
    fastnn.manual_seed(5)
    y2 = F.rrelu(a, training=True)
    np.testing.assert_array_equal(y1.numpy(), y2.numpy())


def test_rrelu_inplace_training():
    x = fastnn.tensor([-1.0, 2.0, -3.0])
    v0 = x._version
    y = F.rrelu_(x, 0.25, 0.25, training=True)
    assert y is x and x._version == v0 + 1
    assert x.tolist() == [-0.25, 2.0, -0.75]


def test_rrelu_bad_bounds():
    with pytest.raises(RuntimeError, match="Lower bound should be less than or equal"):
        F.rrelu(fastnn.ones(3), 0.5, 0.1, training=True)
    with pytest.raises(RuntimeError, match="Lower bound should be less than or equal"):
        fastnn.nn.RReLU(0.5, 0.1)


def test_rrelu_module_modes_and_repr():
    m, tm = fastnn.nn.RReLU(0.1, 0.3), torch.nn.RReLU(0.1, 0.3)
    assert repr(m) == repr(tm)
    assert repr(fastnn.nn.RReLU(inplace=True)) == repr(torch.nn.RReLU(inplace=True))
    a = np.random.default_rng(4).standard_normal((2, 5))
    assert_close(
        m.eval()(fastnn.tensor(a)).numpy(),
        tm.eval()(torch.tensor(a)).numpy(),
        atol=1e-12,
        rtol=1e-12,
    )
    y = m.train()(fastnn.tensor(a)).numpy()
    neg = a < 0
    ratio = y[neg] / a[neg]
    assert ratio.min() >= 0.1 and ratio.max() <= 0.3
