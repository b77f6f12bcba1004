"""local_response_norm, lp_pool1d/2d, alpha / feature-alpha / 1-d / 3-d dropout, channel_shuffle,
the 3-D and circular padding layers, gumbel_softmax and pdist against torch (values, gradients,
reprs, errors) and, for the random ones, against their statistics."""

import math
import warnings

import numpy as np
import pytest

import fastnn
from conftest import assert_close

torch = pytest.importorskip("torch")
F = fastnn.nn.functional
TF = torch.nn.functional


def _grad_check(f, tf, a, tol=1e-11):
    x, tx = fastnn.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, ref = f(x), tf(tx)
    assert tuple(out.shape) == tuple(ref.shape)
    assert_close(out.detach().numpy(), ref.detach().numpy(), atol=tol, rtol=tol)
    w = np.random.default_rng(8).standard_normal(tuple(ref.shape))
    (out * fastnn.tensor(w)).sum().backward()
    (ref * torch.tensor(w)).sum().backward()
    assert_close(x.grad.numpy(), tx.grad.numpy(), atol=tol, rtol=tol, name="grad")


RNG = np.random.default_rng(0)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8])
@pytest.mark.parametrize("shape", [(2, 7, 5, 4), (1, 3, 6), (2, 5, 3, 2, 2)])
def test_local_response_norm(size, shape):
    a = RNG.standard_normal(shape)
    _grad_check(
        lambda x: F.local_response_norm(x, size, 1e-2, 0.6, 2.0),
        lambda x: TF.local_response_norm(x, size, 1e-2, 0.6, 2.0),
        a,
    )


def test_local_response_norm_module_and_errors():
    m, tm = fastnn.nn.LocalResponseNorm(3, 0.1), torch.nn.LocalResponseNorm(3, 0.1)
    assert repr(m) == repr(tm)
    a = RNG.standard_normal((2, 4, 3, 3))
    assert_close(m(fastnn.tensor(a)).numpy(), tm(torch.tensor(a)).numpy(), atol=1e-12, rtol=1e-12)
    with pytest.raises(ValueError, match=r"Expected 3D or higher dimensionality input \(got 2"):
        F.local_response_norm(fastnn.ones(3, 2), 2)


@pytest.mark.parametrize("p", [1, 2, 3.0, 1.5, math.inf])
@pytest.mark.parametrize("k,s", [(2, None), (3, 2), ((2, 3), (1, 2))])
def test_lp_pool2d(p, k, s):
    a = np.abs(RNG.standard_normal((2, 3, 7, 6))) + 0.1  # fractional powers need x > 0
    _grad_check(lambda x: F.lp_pool2d(x, p, k, s), lambda x: TF.lp_pool2d(x, p, k, s), a)


@pytest.mark.parametrize("p", [1, 2, 1.5, math.inf])
@pytest.mark.parametrize("k,s", [(2, None), (3, 2)])
def test_lp_pool1d(p, k, s):
    a = np.abs(RNG.standard_normal((2, 3, 9))) + 0.1
    _grad_check(lambda x: F.lp_pool1d(x, p, k, s), lambda x: TF.lp_pool1d(x, p, k, s), a)
    _grad_check(lambda x: F.lp_pool1d(x, p, k, s), lambda x: TF.lp_pool1d(x, p, k, s), a[0])


def test_lp_pool_signed_input_and_modules():
    a = RNG.standard_normal((1, 2, 6, 6))  # p = 2: squares, any sign
    _grad_check(lambda x: F.lp_pool2d(x, 2, 2), lambda x: TF.lp_pool2d(x, 2, 2), a)
    for cls, args in [
        ("LPPool2d", (2, 3)),
        ("LPPool2d", (1.5, (2, 3), 1)),
        ("LPPool1d", (2, 3, 2)),
    ]:
        m, tm = getattr(fastnn.nn, cls)(*args), getattr(torch.nn, cls)(*args)
        assert repr(m) == repr(tm)
    b = np.abs(a) + 0.1
    out = fastnn.nn.LPPool2d(1.5, (2, 3), 1)(fastnn.tensor(b))
    ref = torch.nn.LPPool2d(1.5, (2, 3), 1)(torch.tensor(b))
    assert_close(out.numpy(), ref.numpy(), atol=1e-12, rtol=1e-12)


# ---- dropouts --------------------------------------------------------------------------------


def test_dropout1d_and_3d_zero_whole_channels():
    for fn, shape in [(F.dropout1d, (40, 30, 9)), (F.dropout3d, (40, 30, 2, 3, 2))]:
        x = fastnn.ones(*shape, dtype=fastnn.float64)
        y = fn(x, 0.3).numpy().reshape(shape[0], shape[1], -1)
        per_channel = y[:, :, :1]
        assert np.all(y == per_channel)  # a whole channel kept or zeroed
        assert set(np.unique(y)) <= {0.0, 1 / 0.7}
        assert abs((per_channel == 0).mean() - 0.3) < 0.05


def test_dropout1d_3d_unbatched_eval_and_grad():
    x = fastnn.ones(30, 5, dtype=fastnn.float64, requires_grad=True)
    y = F.dropout1d(x, 0.5)
    y.sum().backward()
    rows = y.detach().numpy()
    assert np.all(rows == rows[:, :1])
    np.testing.assert_array_equal(x.grad.numpy(), rows)  # gradient = the scaled mask
    z = fastnn.randn(3, 4, 2, 2)
    assert F.dropout3d(z, 0.5, training=False) is z
    assert tuple(F.dropout3d(z, 0.5).shape) == (3, 4, 2, 2)
    np.testing.assert_array_equal(F.dropout1d(z[0], 0.0).numpy(), z[0].numpy())


def test_channel_dropout_errors_warnings_and_inplace():
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input, but received a 4D"):
        F.dropout1d(fastnn.ones(1, 2, 3, 4))
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        F.dropout3d(fastnn.ones(1, 2, 3, 4, 5), 1.5)
    with pytest.warns(UserWarning, match="Received a 3-D input to dropout3d"):
        F.dropout3d(fastnn.ones(2, 3, 4))
    x = fastnn.ones(4, 6, 5)
    v = x._version
    assert F.dropout1d(x, 0.5, inplace=True) is x and x._version > v
    assert F.dropout1d(fastnn.ones(4, 6, 5), 1.0).abs().sum().item() == 0


@pytest.mark.parametrize("feature", [False, True])
def test_alpha_dropout_statistics(feature):
    fastnn.manual_seed(0)
    fn = F.feature_alpha_dropout if feature else F.alpha_dropout
    x = (
        fastnn.randn(200, 100, 4, 4, dtype=fastnn.float64)
        if feature
        else fastnn.randn(400, 400, dtype=fastnn.float64)
    )
    y = fn(x, 0.2, training=True).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02  # SELU's fixed point kept
    alpha = 1.7580993408473766
    a = 1 / math.sqrt((alpha**2 * 0.2 + 1) * 0.8)
    dropped = y == (0.0 - 1.0) * (alpha * a) + alpha * a * 0.2  # the saturation value, exactly
    kept = np.isclose(y, x.numpy() * a + a * alpha * 0.2, rtol=1e-12, atol=1e-12)
    assert np.all(dropped | kept)
    assert abs(dropped.mean() - 0.2) < 0.01
    if feature:
        flat = dropped.reshape(200, 100, -1)
        assert np.all(flat == flat[:, :, :1])


def test_alpha_dropout_defaults_gradient_and_modules():
    x = fastnn.randn(5, 6)
    assert F.alpha_dropout(x) is x  # training defaults to False, as in torch
    assert F.feature_alpha_dropout(x, 0.5) is x
    xg = fastnn.randn(50, 60, dtype=fastnn.float64, requires_grad=True)
    y = F.alpha_dropout(xg, 0.3, training=True)
    y.sum().backward()
    a = 1 / math.sqrt((1.7580993408473766**2 * 0.3 + 1) * 0.7)
    assert set(np.round(np.unique(xg.grad.numpy()), 12)) <= {0.0, round(a, 12)}
    np.testing.assert_array_equal(F.alpha_dropout(x, 1.0, True).numpy(), np.zeros((5, 6)))
    with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions"):
        F.feature_alpha_dropout(fastnn.ones(3), 0.5, True)
    for name in ["AlphaDropout", "FeatureAlphaDropout", "Dropout1d", "Dropout3d"]:
        m, tm = getattr(fastnn.nn, name)(0.2), getattr(torch.nn, name)(0.2)
        assert repr(m) == repr(tm)
        assert repr(getattr(fastnn.nn, name)(inplace=True)) == repr(
            getattr(torch.nn, name)(inplace=True)
        )
        z = fastnn.randn(2, 3, 4) if name == "Dropout1d" else fastnn.randn(2, 3, 2, 2, 2)
        assert m.eval()(z) is z
        with pytest.raises(ValueError, match="between 0 and 1"):
            getattr(fastnn.nn, name)(-0.1)


# ---- shuffles and padding --------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape,groups", [((2, 6, 3, 4), 3), ((1, 7, 5), 7), ((2, 4, 2, 2, 3), 2), ((3, 5, 2), 1)]
)
def test_channel_shuffle(shape, groups):
    a = RNG.standard_normal(shape)
    _grad_check(
        lambda x: F.channel_shuffle(x, groups), lambda x: TF.channel_shuffle(x, groups), a, tol=0
    )
    m, tm = fastnn.nn.ChannelShuffle(groups), torch.nn.ChannelShuffle(groups)
    assert repr(m) == repr(tm)
    np.testing.assert_array_equal(m(fastnn.tensor(a)).numpy(), tm(torch.tensor(a)).numpy())


def test_channel_shuffle_errors():
    with pytest.raises(RuntimeError, match="divisible by groups. Got 5 channels and 2 groups"):
        F.channel_shuffle(fastnn.ones(1, 5, 2), 2)
    with pytest.raises(RuntimeError, match="must be positive. Value of groups:0"):
        F.channel_shuffle(fastnn.ones(1, 4, 2), 0)
    with pytest.raises(RuntimeError, match=r"> 2 dims, but got input with sizes \[4, 2\]"):
        F.channel_shuffle(fastnn.ones(4, 2), 2)


PADS = [
    ("CircularPad1d", (2,), (2, 3, 5)),
    ("CircularPad1d", ((1, 3),), (3, 4)),
    ("CircularPad2d", (1,), (1, 2, 3, 4)),
    ("CircularPad2d", ((2, 0, 1, 3),), (2, 3, 4)),
    ("CircularPad3d", ((1, 0, 2, 1, 0, 1),), (1, 2, 3, 4, 3)),
    ("ZeroPad3d", (1,), (1, 2, 3, 2, 2)),
    ("ConstantPad3d", ((1, 2, 0, 1, 2, 0), 3.5), (2, 3, 2, 2)),
    ("ReflectionPad3d", ((1, 0, 1, 2, 0, 1),), (1, 2, 3, 4, 3)),
    ("ReplicationPad3d", (2,), (1, 2, 3, 2, 2)),
]


@pytest.mark.parametrize("name,args,shape", PADS, ids=[p[0] for p in PADS])
def test_padding_layers(name, args, shape):
    m, tm = getattr(fastnn.nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(m) == repr(tm)
    assert tuple(m.padding) == tuple(tm.padding)
    _grad_check(m, tm, RNG.standard_normal(shape), tol=1e-14)


# ---- gumbel_softmax and pdist ------------------------------------------------------------------


def test_gumbel_softmax_soft_and_hard():
    fastnn.manual_seed(1)
    logits = fastnn.tensor(np.log([[0.1, 0.2, 0.7]] * 4000), requires_grad=True)
    y = F.gumbel_softmax(logits, tau=0.5)
    assert_close(y.detach().numpy().sum(1), np.ones(4000), atol=1e-12, rtol=0)
    hard = F.gumbel_softmax(logits, tau=0.5, hard=True)
    h = hard.detach().numpy()
    assert set(np.unique(h)) == {0.0, 1.0} and np.all(h.sum(1) == 1)
    freq = h.mean(0)  # Gumbel-max: the argmax is a sample of the categorical
    assert_close(freq, [0.1, 0.2, 0.7], atol=0.03, rtol=0)
    (hard * fastnn.tensor(np.arange(3.0))).sum().backward()
    assert np.abs(logits.grad.numpy()).sum() > 0  # straight-through: the soft sample's gradient


def test_gumbel_softmax_dim_and_reproducible():
    x = fastnn.randn(2, 5, 3)
    fastnn.manual_seed(3)
    a = F.gumbel_softmax(x, dim=1)
    fastnn.manual_seed(3)
    b = F.gumbel_softmax(x, dim=1)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert_close(a.numpy().sum(1), np.ones((2, 3)), atol=1e-6, rtol=0)


@pytest.mark.parametrize("p", [2, 1, 0.5, 3, math.inf])
@pytest.mark.parametrize("shape", [(7, 4), (2, 1), (5, 9)])
def test_pdist(p, shape):
    _grad_check(lambda x: F.pdist(x, p), lambda x: TF.pdist(x, p), RNG.standard_normal(shape))


def test_pdist_edge_cases_and_errors():
    assert tuple(F.pdist(fastnn.ones(1, 3)).shape) == (0,)
    with pytest.raises(RuntimeError, match="pdist only supports 2D tensors, got: 1D"):
        F.pdist(fastnn.ones(3))
    with pytest.raises(RuntimeError, match="pdist only supports non-negative p values"):
        F.pdist(fastnn.ones(3, 2), -1)


def test_no_warnings_from_plain_calls():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.local_response_norm(fastnn.ones(1, 2, 3), 2)
        F.lp_pool2d(fastnn.ones(1, 1, 4, 4), 2, 2)
