"""Transforms, TransformedDistribution, LogNormal, the relaxed distributions and
MixtureSameFamily against torch.distributions (float64), with gradients by finite differences."""

import numpy as np
import pytest

import fastnn
import fastnn.distributions as FD
from conftest import assert_close
from fastnn.autograd import gradcheck
from fastnn.distributions import transforms as FT

torch = pytest.importorskip("torch")
TD = torch.distributions
TT = TD.transforms
TOL = {"atol": 1e-12, "rtol": 1e-10}


@pytest.fixture(autouse=True)
def torch_checks_arguments():
    before = TD.Distribution._validate_args
    TD.Distribution.set_default_validate_args(True)
    yield
    TD.Distribution.set_default_validate_args(before)


def f(x):
    return fastnn.tensor(np.asarray(x, dtype=np.float64))


def th(x):
    return torch.tensor(np.asarray(x, dtype=np.float64))


def _np(t):
    return t.detach().numpy()


X = np.random.default_rng(0).standard_normal((3, 7)) * 2
SCALE = np.random.default_rng(1).standard_normal(7)


def _pairs():
    return {
        "exp": (FT.ExpTransform(), TT.ExpTransform()),
        "sigmoid": (FT.SigmoidTransform(), TT.SigmoidTransform()),
        "tanh": (FT.TanhTransform(), TT.TanhTransform()),
        "affine": (FT.AffineTransform(f(0.5), f(SCALE)), TT.AffineTransform(th(0.5), th(SCALE))),
        "affine_number": (FT.AffineTransform(1.0, -2.0), TT.AffineTransform(1.0, -2.0)),
        "affine_event": (
            FT.AffineTransform(0.0, f(SCALE), event_dim=1),
            TT.AffineTransform(0.0, th(SCALE), event_dim=1),
        ),
        "compose": (
            FT.ComposeTransform([FT.AffineTransform(0.0, 3.0), FT.TanhTransform()]),
            TT.ComposeTransform([TT.AffineTransform(0.0, 3.0), TT.TanhTransform()]),
        ),
        "inverse_exp": (FT.ExpTransform().inv, TT.ExpTransform().inv),
    }


@pytest.mark.parametrize("name", sorted(_pairs()))
def test_transforms_match_torch(name):
    mine, theirs = _pairs()[name]
    x = X if name != "inverse_exp" else np.exp(X / 2)
    y, ty = mine(f(x)), theirs(th(x))
    assert_close(_np(y), _np(ty), **TOL)
    assert_close(_np(mine.inv(y)), _np(theirs.inv(ty)), atol=1e-9, rtol=1e-7)
    jac = mine.log_abs_det_jacobian(f(x), y)
    assert_close(_np(jac), _np(theirs.log_abs_det_jacobian(th(x), ty)), atol=1e-10, rtol=1e-10)
    assert mine.event_dim == theirs.event_dim and mine.bijective == theirs.bijective
    assert repr(mine.codomain) == repr(theirs.codomain)


@pytest.mark.parametrize("name", ["exp", "sigmoid", "tanh", "affine"])
def test_log_abs_det_jacobian_is_the_log_slope(name):
    mine, _ = _pairs()[name]
    x = f(X).requires_grad_()
    y = mine(x)
    (slope,) = fastnn.autograd.grad(y.sum(), x)
    assert_close(
        _np(mine.log_abs_det_jacobian(x, y)), np.log(np.abs(_np(slope))), atol=1e-10, rtol=1e-9
    )
    if name == "affine":
        return  # its log-slope does not depend on x
    xg = f(X[:1]).requires_grad_()
    assert gradcheck(lambda z: mine.log_abs_det_jacobian(z, mine(z)), (xg,))


def test_transform_arguments_and_cache():
    with pytest.raises(TypeError, match="parts\\[1\\]"):
        FT.ComposeTransform([FT.ExpTransform(), "exp"])
    with pytest.raises(TypeError, match="scale"):
        FT.AffineTransform(0.0, "2")
    with pytest.raises(ValueError, match="cache_size"):
        FT.ExpTransform(cache_size=2)
    t = FT.TanhTransform(cache_size=1)
    x = f([30.0])  # tanh(x) rounds to 1: only the cache gets x back
    y = t(x)
    assert t.inv(y) is x
    assert not np.isfinite(_np(FT.TanhTransform().inv(y))).all()
    assert FT.identity_transform(x) is x
    assert FT.ComposeTransform([FT.ExpTransform(), FT.AffineTransform(0.0, -1.0)]).sign == -1


def test_transformed_distribution_matches_torch():
    rng = np.random.default_rng(2)
    loc, scale = rng.standard_normal((2, 5)), rng.random(5) + 0.5
    parts = lambda m: [m.AffineTransform(0.3, -1.7), m.TanhTransform()]
    d = FD.TransformedDistribution(FD.Normal(f(loc), f(scale)), parts(FT))
    ref = TD.TransformedDistribution(TD.Normal(th(loc), th(scale)), parts(TT))
    v = np.tanh(rng.standard_normal((3, 2, 5)))
    assert d.batch_shape == ref.batch_shape and d.event_shape == ref.event_shape
    assert_close(_np(d.log_prob(f(v))), _np(ref.log_prob(th(v))), atol=1e-10, rtol=1e-10)
    assert_close(_np(d.cdf(f(v))), _np(ref.cdf(th(v))), atol=1e-12, rtol=1e-10)
    q = rng.random((2, 5))
    assert_close(_np(d.icdf(f(q))), _np(ref.icdf(th(q))), atol=1e-12, rtol=1e-10)
    assert d.has_rsample and d.rsample((4,)).shape == (4, 2, 5)
    assert repr(d.support) == repr(ref.support)
    # an event-level transform makes the batch's last axis the event
    e = FD.TransformedDistribution(
        FD.Normal(f(loc), f(scale)), FT.AffineTransform(0.0, f(scale), event_dim=1)
    )
    er = TD.TransformedDistribution(
        TD.Normal(th(loc), th(scale)), TT.AffineTransform(0.0, th(scale), event_dim=1)
    )
    assert e.batch_shape == er.batch_shape == (2,) and e.event_shape == er.event_shape == (5,)
    assert_close(_np(e.log_prob(f(v))), _np(er.log_prob(th(v))), **TOL)
    assert e.expand((3, 2)).sample().shape == (3, 2, 5)
    with pytest.raises(ValueError, match="transforms must be"):
        FD.TransformedDistribution(FD.Normal(0.0, 1.0), "exp")
    # gradients through rsample and log_prob
    lo, sc = f(loc[0]).requires_grad_(), f(scale).requires_grad_()

    def draw(a, b):
        fastnn.manual_seed(3)
        return FD.TransformedDistribution(FD.Normal(a, b), parts(FT)).rsample((2,))

    assert gradcheck(draw, (lo, sc))
    assert gradcheck(
        lambda a, b: FD.TransformedDistribution(FD.Normal(a, b), parts(FT)).log_prob(f(v[0, 0])),
        (lo, sc),
    )


def test_lognormal_matches_torch():
    rng = np.random.default_rng(4)
    loc, scale = rng.standard_normal((2, 1)), rng.random(7) + 0.3
    d, ref = FD.LogNormal(f(loc), f(scale)), TD.LogNormal(th(loc), th(scale))
    v = np.exp(rng.standard_normal((3, 2, 7)))
    for name in ("log_prob", "cdf"):
        assert_close(_np(getattr(d, name)(f(v))), _np(getattr(ref, name)(th(v))), **TOL)
    q = rng.random((2, 7))
    assert_close(_np(d.icdf(f(q))), _np(ref.icdf(th(q))), atol=1e-12, rtol=1e-10)
    for name in ("mean", "mode", "variance", "stddev"):
        assert_close(_np(getattr(d, name)), _np(getattr(ref, name)), **TOL)
    assert_close(_np(d.entropy()), _np(ref.entropy()), **TOL)
    assert d.batch_shape == (2, 7) and d.expand((4, 2, 7)).batch_shape == (4, 2, 7)
    fastnn.manual_seed(0)
    draws = FD.LogNormal(f([0.0]), f([0.5])).sample((20000,)).numpy()
    assert abs(np.log(draws).mean()) < 5 * 0.5 / np.sqrt(20000)
    with pytest.raises(ValueError, match="Expected value argument"):
        d.log_prob(f(-v))
    with pytest.raises(ValueError, match="Expected parameter scale"):
        FD.LogNormal(f([0.0]), f([-1.0]))
    m, s = f(loc[:, 0]).requires_grad_(), f(scale[:2]).requires_grad_()
    assert gradcheck(lambda a, b: FD.LogNormal(a, b).log_prob(f(v[0, :, :2])), (m, s))
    assert FD.kl_divergence(FD.Normal(0.0, 1.0), FD.Normal(0.0, 1.0)).item() == 0.0


def test_relaxed_distributions_match_torch():
    rng = np.random.default_rng(5)
    temp, logits = rng.random(7) + 0.2, rng.standard_normal((2, 7))
    d = FD.RelaxedBernoulli(f(temp), logits=f(logits))
    ref = TD.RelaxedBernoulli(th(temp), logits=th(logits))
    v = rng.random((3, 2, 7)) * 0.98 + 0.01
    assert_close(_np(d.log_prob(f(v))), _np(ref.log_prob(th(v))), atol=1e-10, rtol=1e-10)
    p = rng.random((2, 7)) * 0.9 + 0.05
    d2, ref2 = FD.RelaxedBernoulli(f(0.5), probs=f(p)), TD.RelaxedBernoulli(th(0.5), probs=th(p))
    assert_close(_np(d2.log_prob(f(v))), _np(ref2.log_prob(th(v))), atol=1e-10, rtol=1e-10)
    s = d.rsample((5,))
    assert s.shape == (5, 2, 7) and ((s.numpy() > 0) & (s.numpy() < 1)).all()

    k_logits = rng.standard_normal((2, 5))
    c = FD.RelaxedOneHotCategorical(f(0.7), logits=f(k_logits))
    cref = TD.RelaxedOneHotCategorical(th(0.7), logits=th(k_logits))
    w = rng.random((3, 2, 5)) + 0.05
    w /= w.sum(-1, keepdims=True)
    assert c.batch_shape == (2,) and c.event_shape == (5,)
    assert_close(_np(c.log_prob(f(w))), _np(cref.log_prob(th(w))), atol=1e-10, rtol=1e-10)
    draws = c.rsample((4,))
    assert draws.shape == (4, 2, 5)
    assert_close(draws.numpy().sum(-1), np.ones((4, 2)), atol=1e-12, rtol=0)
    # low temperature: draws near one-hot, chosen with the categorical's frequencies
    fastnn.manual_seed(6)
    probs = np.array([0.2, 0.5, 0.3])
    hard = FD.RelaxedOneHotCategorical(f(0.05), probs=f(probs)).sample((20000,)).numpy()
    assert np.all(np.abs(np.bincount(hard.argmax(-1), minlength=3) / 20000 - probs) < 0.02)
    lg = f(k_logits[0]).requires_grad_()

    def draw(z):
        fastnn.manual_seed(7)
        return FD.RelaxedOneHotCategorical(f(0.7), logits=z).rsample((2,))

    assert gradcheck(draw, (lg,))
    assert gradcheck(
        lambda z: FD.RelaxedOneHotCategorical(f(0.7), logits=z).log_prob(f(w[0, 0])), (lg,)
    )


def test_mixture_same_family_matches_torch():
    rng = np.random.default_rng(8)
    w, loc, scale = rng.random((2, 3)) + 0.1, rng.standard_normal((2, 3)), rng.random((2, 3)) + 0.3
    d = FD.MixtureSameFamily(FD.Categorical(f(w)), FD.Normal(f(loc), f(scale)))
    ref = TD.MixtureSameFamily(TD.Categorical(th(w)), TD.Normal(th(loc), th(scale)))
    v = rng.standard_normal((4, 2))
    assert d.batch_shape == ref.batch_shape == (2,) and d.event_shape == ()
    for name in ("log_prob", "cdf"):
        assert_close(_np(getattr(d, name)(f(v))), _np(getattr(ref, name)(th(v))), **TOL)
    for name in ("mean", "variance"):
        assert_close(_np(getattr(d, name)), _np(getattr(ref, name)), **TOL)
    fastnn.manual_seed(9)
    draws = d.sample((20000,)).numpy()
    assert draws.shape == (20000, 2)
    sd = np.sqrt(_np(d.variance))
    assert np.all(np.abs(draws.mean(0) - _np(d.mean)) < 5 * sd / np.sqrt(20000))
    assert_close(draws.var(0), _np(d.variance), atol=0, rtol=0.06)
    # vector components: a mixture of 3 two-dimensional Gaussians, one mixing weight set
    mv = rng.standard_normal((3, 2))
    dm = FD.MixtureSameFamily(
        FD.Categorical(f([0.2, 0.3, 0.5])), FD.Independent(FD.Normal(f(mv), f(np.ones((3, 2)))), 1)
    )
    rm = TD.MixtureSameFamily(
        TD.Categorical(th([0.2, 0.3, 0.5])),
        TD.Independent(TD.Normal(th(mv), th(np.ones((3, 2)))), 1),
    )
    x = rng.standard_normal((5, 2))
    assert dm.event_shape == (2,) and dm.sample((6,)).shape == (6, 2)
    assert_close(_np(dm.log_prob(f(x))), _np(rm.log_prob(th(x))), **TOL)
    assert_close(_np(dm.mean), _np(rm.mean), **TOL)
    assert_close(_np(dm.variance), _np(rm.variance), **TOL)
    assert d.expand((3, 2)).sample().shape == (3, 2)
    lo = f(loc).requires_grad_()
    assert gradcheck(
        lambda m: FD.MixtureSameFamily(FD.Categorical(f(w)), FD.Normal(m, f(scale))).log_prob(f(v)),
        (lo,),
    )
    for lib, mod in ((fastnn, FD), (torch, TD)):
        with pytest.raises(ValueError, match=r"Mixture distribution needs to be an\s+instance"):
            mod.MixtureSameFamily(
                mod.Normal(lib.zeros(3), lib.ones(3)), mod.Normal(lib.zeros(3), lib.ones(3))
            )
        with pytest.raises(ValueError, match="does not equal"):
            mod.MixtureSameFamily(
                mod.Categorical(lib.ones(2)), mod.Normal(lib.zeros(3), lib.ones(3))
            )


def test_squashed_gaussian_policy_and_vae_terms_match_torch_gradients():
    """The two patterns programs use most: a tanh-squashed Gaussian policy scoring actions
    (SAC), and a VAE's Gaussian KL to the prior plus a Bernoulli likelihood."""
    rng = np.random.default_rng(10)
    mu, log_std = rng.standard_normal((4, 2)), rng.standard_normal((4, 2)) * 0.3
    actions = np.tanh(rng.standard_normal((4, 2)))
    grads = []
    for lib, mod, tr in ((fastnn, FD, FT), (torch, TD, TT)):
        m = lib.tensor(mu, requires_grad=True)
        s = lib.tensor(log_std, requires_grad=True)
        pi = mod.TransformedDistribution(mod.Normal(m, s.exp()), [tr.TanhTransform(cache_size=1)])
        loss = -pi.log_prob(lib.tensor(actions)).sum(-1).mean()
        prior = mod.Normal(lib.zeros(4, 2, dtype=lib.float64), lib.ones(4, 2, dtype=lib.float64))
        post = mod.Independent(mod.Normal(m, s.exp()), 1)
        kl = mod.kl_divergence(post, mod.Independent(prior, 1)).sum()
        recon = mod.Bernoulli(logits=m).log_prob(lib.tensor((actions > 0).astype(np.float64)))
        (loss + kl - recon.sum()).backward()
        grads.append((m.grad.numpy(), s.grad.numpy()))
    for a, b in zip(grads[0], grads[1]):
        assert_close(a, b, atol=1e-12, rtol=1e-10)
