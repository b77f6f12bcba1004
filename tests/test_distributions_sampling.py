"""Draws of fastnn.distributions: shapes and dtypes, seeded reproducibility, the moments of
20k draws against the analytic ones, rsample gradients (finite differences through a fixed
seed; the implicit gamma gradient against finite differences of the gamma CDF) and expand."""

import math

import numpy as np
import pytest

import fastnn
import fastnn.distributions as FD
from conftest import assert_close
from fastnn.autograd import gradcheck
from fastnn.distributions.standard_gamma import gamma_sample_grad

f64 = fastnn.float64


def t(x):
    return fastnn.tensor(np.asarray(x, dtype=np.float64))


# (distribution, whether its variance is finite enough for a sample-variance check)
FAMILIES = {
    "Normal": (lambda: FD.Normal(t([1.0, -2.0]), t([0.5, 2.0])), True),
    "Bernoulli": (lambda: FD.Bernoulli(t([0.1, 0.7])), True),
    "Uniform": (lambda: FD.Uniform(t([-1.0, 2.0]), t([3.0, 2.5])), True),
    "Exponential": (lambda: FD.Exponential(t([0.5, 4.0])), True),
    "Laplace": (lambda: FD.Laplace(t([0.0, 3.0]), t([1.0, 0.2])), True),
    "Gumbel": (lambda: FD.Gumbel(t([0.0, 3.0]), t([1.0, 0.2])), True),
    "HalfNormal": (lambda: FD.HalfNormal(t([1.0, 3.0])), True),
    "Geometric": (lambda: FD.Geometric(t([0.3, 0.9])), True),
    "Poisson": (lambda: FD.Poisson(t([0.5, 12.0])), True),
    "Binomial": (lambda: FD.Binomial(t([10.0, 3.0]), t([0.3, 0.9])), True),
    "Gamma": (lambda: FD.Gamma(t([0.3, 5.0]), t([1.0, 2.0])), True),
    "Beta": (lambda: FD.Beta(t([0.5, 4.0]), t([2.0, 1.5])), True),
    "Dirichlet": (lambda: FD.Dirichlet(t([[0.5, 1.0, 3.0], [2.0, 2.0, 2.0]])), True),
    "Chi2": (lambda: FD.Chi2(t([0.7, 6.0])), True),
    "NegativeBinomial": (lambda: FD.NegativeBinomial(t([2.5, 10.0]), t([0.3, 0.8])), True),
    "StudentT": (lambda: FD.StudentT(t([5.0, 30.0]), t([1.0, 0.0]), t([1.0, 2.0])), False),
    "OneHotCategorical": (
        lambda: FD.OneHotCategorical(t([[0.2, 0.3, 0.5], [0.9, 0.05, 0.05]])),
        True,
    ),
    "Multinomial": (lambda: FD.Multinomial(7, t([[0.2, 0.3, 0.5], [0.9, 0.05, 0.05]])), True),
    "MultivariateNormal": (
        lambda: FD.MultivariateNormal(
            t([1.0, -1.0, 0.0]), t([[2.0, 0.5, 0.0], [0.5, 1.0, 0.3], [0.0, 0.3, 0.5]])
        ),
        True,
    ),
}


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_sample_moments_shapes_and_seed(name):
    make, check_var = FAMILIES[name]
    d = make()
    n = 20000
    fastnn.manual_seed(11)
    draws = d.sample((n,))
    assert tuple(draws.shape) == (n, *d.batch_shape, *d.event_shape)
    assert not draws.requires_grad and draws.dtype == f64
    fastnn.manual_seed(11)
    assert np.array_equal(d.sample((n,)).numpy(), draws.numpy())  # the seed fixes the draws
    x = draws.numpy()
    mean, var = d.mean.numpy(), d.variance.numpy()
    # the sample mean within 5 standard errors
    assert np.all(np.abs(x.mean(0) - mean) <= 5 * np.sqrt(var / n) + 1e-12), (x.mean(0), mean)
    if check_var:
        assert_close(x.var(0), var, atol=1e-9, rtol=0.08)
    assert np.all(d.support.check(draws).numpy())
    assert tuple(d.sample().shape) == (*d.batch_shape, *d.event_shape)
    assert tuple(d.sample((2, 3)).shape) == (2, 3, *d.batch_shape, *d.event_shape)


def test_mvn_sample_covariance():
    cov = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.3], [0.0, 0.3, 0.5]])
    fastnn.manual_seed(5)
    x = FD.MultivariateNormal(t([0.0, 0.0, 0.0]), t(cov)).sample((20000,)).numpy()
    assert_close(np.cov(x.T), cov, atol=0.06, rtol=0)


def test_samplers_keep_float32_and_integer_families_give_whole_numbers():
    p32 = fastnn.tensor([0.2, 0.6])
    for d in (FD.Poisson(p32 * 5), FD.Binomial(5, p32), FD.Geometric(p32), FD.Bernoulli(p32)):
        s = d.sample((50,))
        assert s.dtype == fastnn.float32
        assert np.all(s.numpy() == np.floor(s.numpy()))
    assert FD.Gamma(p32, p32).sample((3,)).dtype == fastnn.float32
    assert FD.Dirichlet(fastnn.tensor([1.0, 2.0])).rsample((4,)).dtype == fastnn.float32


REPARAM = {
    "Normal": (lambda a, b: FD.Normal(a, b), 2),
    "Uniform": (lambda a, b: FD.Uniform(a - 2, a + b), 2),
    "Exponential": (lambda a: FD.Exponential(a), 1),
    "Laplace": (lambda a, b: FD.Laplace(a, b), 2),
    "Cauchy": (lambda a, b: FD.Cauchy(a, b), 2),
    "Gumbel": (lambda a, b: FD.Gumbel(a, b), 2),
    "HalfNormal": (lambda a: FD.HalfNormal(a), 1),
    "HalfCauchy": (lambda a: FD.HalfCauchy(a), 1),
    "MultivariateNormal": (
        lambda a, b: FD.MultivariateNormal(
            a, scale_tril=b.diag_embed() + 0.1 * fastnn.ones(3, 3, dtype=f64).tril(-1)
        ),
        2,
    ),
}


@pytest.mark.parametrize("name", sorted(REPARAM))
def test_rsample_gradients_by_finite_differences(name):
    make, n_args = REPARAM[name]
    rng = np.random.default_rng(3)
    args = [fastnn.tensor(rng.random(3) + 0.5, requires_grad=True) for _ in range(n_args)]

    def draw(*a):
        fastnn.manual_seed(4)  # the same noise at every evaluation
        return make(*a).rsample((2,))

    assert gradcheck(draw, args)
    assert make(*args).has_rsample and draw(*args).requires_grad


@pytest.mark.parametrize("q", [1e-3, 0.3, 0.5, 0.97])
def test_gamma_implicit_gradient_matches_finite_differences_of_the_cdf(q):
    special = pytest.importorskip("scipy.special")
    a = np.array([0.01, 0.2, 1.0, 2.5, 7.0, 60.0, 3000.0])
    x = special.gammaincinv(a, q)
    h = 1e-6 * a
    dp_da = (special.gammainc(a + h, x) - special.gammainc(a - h, x)) / (2 * h)
    density = np.exp((a - 1) * np.log(x) - x - special.gammaln(a))
    assert_close(gamma_sample_grad(a, x), -dp_da / density, atol=1e-9, rtol=1e-6)


def test_gamma_family_rsample_gradients_flow_and_average_right():
    # E[x] = a / rate, so the average pathwise gradient of the draws is 1 / rate (and -a/rate^2)
    a = fastnn.tensor([0.4, 3.0], requires_grad=True)
    rate = fastnn.tensor([2.0, 0.5], requires_grad=True)
    fastnn.manual_seed(8)
    FD.Gamma(a, rate).rsample((20000,)).mean(0).sum().backward()
    assert_close(a.grad.numpy(), [0.5, 2.0], atol=0, rtol=0.03)
    assert_close(rate.grad.numpy(), [-0.1, -12.0], atol=0, rtol=0.03)
    # Beta's mean a / (a + b): d/da = b / (a + b)^2
    c1 = fastnn.tensor([2.0], requires_grad=True)
    c0 = fastnn.tensor([3.0], requires_grad=True)
    fastnn.manual_seed(9)
    FD.Beta(c1, c0).rsample((20000,)).mean().backward()
    assert_close(c1.grad.numpy(), [3.0 / 25.0], atol=0, rtol=0.05)
    assert_close(c0.grad.numpy(), [-2.0 / 25.0], atol=0, rtol=0.05)
    # Dirichlet and StudentT draws carry a gradient as well
    conc = fastnn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    FD.Dirichlet(conc).rsample((5,))[:, 0].sum().backward()
    assert conc.grad is not None and np.all(np.isfinite(conc.grad.numpy()))
    df = fastnn.tensor([4.0], requires_grad=True)
    FD.StudentT(df).rsample((5,)).pow(2).sum().backward()
    assert df.grad is not None and np.isfinite(df.grad.numpy()).all()


def test_expand_repeats_the_batch():
    d = FD.Normal(t([0.0, 1.0]), t([1.0, 2.0]))
    e = d.expand((3, 2))
    assert e.batch_shape == (3, 2) and e.loc.shape == (3, 2)
    value = t(np.arange(6.0).reshape(3, 2))
    assert_close(e.log_prob(value).numpy(), d.log_prob(value).numpy(), atol=0, rtol=0)
    assert e.sample((4,)).shape == (4, 3, 2)
    cat = FD.Categorical(t([0.2, 0.8])).expand((5,))
    assert cat.batch_shape == (5,) and cat.sample().shape == (5,)
    mvn = FD.MultivariateNormal(t([0.0, 0.0]), t(np.eye(2))).expand((4,))
    assert mvn.batch_shape == (4,) and mvn.event_shape == (2,) and mvn.rsample().shape == (4, 2)
    ind = FD.Independent(FD.Normal(t(np.zeros((2, 3))), t(np.ones((2, 3)))), 1).expand((5, 2))
    assert ind.batch_shape == (5, 2) and ind.event_shape == (3,) and ind.sample().shape == (5, 2, 3)
    oh = FD.OneHotCategorical(t([0.5, 0.5])).expand((3,))
    assert oh.sample().shape == (3, 2)
    with pytest.raises(RuntimeError):
        d.expand((3,))


def test_entropy_of_discrete_families_is_minus_the_expected_log_pmf():
    # the Multinomial entropy torch rounds partly in float32: checked by enumeration here
    p = np.array([0.2, 0.3, 0.5])
    d = FD.Multinomial(4, t(p))
    counts = [(i, j, 4 - i - j) for i in range(5) for j in range(5 - i)]
    lp = d.log_prob(t(counts)).numpy()
    assert_close(d.entropy().numpy(), -(np.exp(lp) * lp).sum(), atol=1e-13, rtol=1e-13)
    assert abs(np.exp(lp).sum() - 1) < 1e-13
    assert math.isclose(
        float(FD.Binomial(4, t(0.5)).entropy()),
        -sum(math.comb(4, k) / 16 * math.log(math.comb(4, k) / 16) for k in range(5)),
        rel_tol=1e-13,
    )


@pytest.mark.cuda
@pytest.mark.skipif(not fastnn.cuda.is_available(), reason="needs a CUDA GPU")
def test_families_on_a_gpu_match_the_cpu():
    # draws are made on the host and copied over, so a seed gives the CPU's values
    dev = "cuda"
    cases = [
        lambda d: FD.Normal(t([0.0, 1.0]).to(d), t([1.0, 2.0]).to(d)),
        lambda d: FD.Gamma(t([0.5, 3.0]).to(d), t([1.0, 2.0]).to(d)),
        lambda d: FD.Dirichlet(t([[0.5, 1.0, 2.0]]).to(d)),
        lambda d: FD.Poisson(t([0.5, 4.0]).to(d)),
        lambda d: FD.OneHotCategorical(t([0.2, 0.8]).to(d)),
        lambda d: FD.Uniform(t([0.0]).to(d), t([2.0]).to(d)),
        lambda d: FD.MultivariateNormal(t([0.0, 1.0]).to(d), t([[2.0, 0.3], [0.3, 1.0]]).to(d)),
    ]
    for make in cases:
        cpu, gpu = make("cpu"), make(dev)
        fastnn.manual_seed(2)
        a = cpu.sample((5,))
        fastnn.manual_seed(2)
        b = gpu.sample((5,))
        assert b.device.type == "cuda"
        assert_close(b.cpu().numpy(), a.numpy(), atol=1e-12, rtol=1e-12)
        assert_close(gpu.log_prob(b).cpu().numpy(), cpu.log_prob(a).numpy(), atol=1e-10, rtol=1e-10)
        assert gpu.mean.device.type == "cuda"
    assert FD.Dirichlet(t([0.5, 0.5]).to(dev)).mode.device.type == "cuda"
    assert FD.Categorical(t([0.5, 0.5]).to(dev)).enumerate_support().device.type == "cuda"
