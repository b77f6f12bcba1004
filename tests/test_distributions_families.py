"""fastnn.distributions' families against torch.distributions: log_prob, entropy, moments,
mode, cdf / icdf on batched, broadcast parameters in float64 (tight) and float32, and the
gradients of log_prob and entropy by finite differences."""

import zlib

import numpy as np
import pytest

import fastnn
import fastnn.distributions as FD
from conftest import assert_close
from fastnn.autograd import gradcheck

torch = pytest.importorskip("torch")
TD = torch.distributions


@pytest.fixture(autouse=True)
def torch_checks_arguments():
    # another test file may turn torch's default argument checks off (torch.compile does)
    before = TD.Distribution._validate_args
    TD.Distribution.set_default_validate_args(True)
    yield
    TD.Distribution.set_default_validate_args(before)


def _pos(rng, *shape):
    return rng.random(shape) * 2 + 0.2


def _prob(rng, *shape):
    return rng.random(shape) * 0.9 + 0.05


def _simplex(rng, *shape):
    p = rng.random(shape) + 0.05
    return p / p.sum(-1, keepdims=True)


def _spd(rng, *shape):
    n = shape[-1]
    a = rng.standard_normal((*shape[:-1], n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


# name -> (params(rng): dict of numpy arrays or numbers, values(rng, params): numpy array,
#          what to compare beyond log_prob)
CASES = {
    "Normal": (
        lambda r: {"loc": r.standard_normal((2, 1)), "scale": _pos(r, 7)},
        lambda r, p: r.standard_normal((3, 2, 7)),
        ("entropy", "mean", "mode", "variance", "stddev", "cdf", "icdf"),
    ),
    "Bernoulli": (
        lambda r: {"probs": _prob(r, 2, 7)},
        lambda r, p: (r.random((3, 2, 7)) < 0.5).astype(float),
        ("entropy", "mean", "variance", "stddev", "mode"),
    ),
    "Bernoulli_logits": (
        lambda r: {"logits": r.standard_normal((2, 7)) * 3},
        lambda r, p: (r.random((3, 2, 7)) < 0.5).astype(float),
        ("entropy", "mean", "variance"),
    ),
    "Uniform": (
        lambda r: {"low": -_pos(r, 2, 1), "high": _pos(r, 7)},
        lambda r, p: r.uniform(-0.2, 0.2, (3, 2, 7)),
        ("entropy", "mean", "variance", "stddev", "cdf", "icdf"),
    ),
    "Exponential": (
        lambda r: {"rate": _pos(r, 2, 7)},
        lambda r, p: _pos(r, 3, 2, 7),
        ("entropy", "mean", "mode", "variance", "stddev", "cdf", "icdf"),
    ),
    "Laplace": (
        lambda r: {"loc": r.standard_normal(7), "scale": _pos(r, 2, 1)},
        lambda r, p: r.standard_normal((3, 2, 7)),
        ("entropy", "mean", "mode", "variance", "stddev", "cdf", "icdf"),
    ),
    "Cauchy": (
        lambda r: {"loc": r.standard_normal(7), "scale": _pos(r, 2, 1)},
        lambda r, p: r.standard_normal((3, 2, 7)) * 3,
        ("entropy", "mode", "cdf", "icdf"),
    ),
    "Gumbel": (
        lambda r: {"loc": r.standard_normal(7), "scale": _pos(r, 2, 1) + 0.5},
        # torch's cdf refuses values whose CDF rounds to 0 or 1: keep them moderate
        lambda r, p: r.standard_normal((3, 2, 7)) * 0.5,
        ("entropy", "mean", "mode", "variance", "stddev", "cdf", "icdf"),
    ),
    "HalfNormal": (
        lambda r: {"scale": _pos(r, 2, 7)},
        lambda r, p: _pos(r, 3, 2, 7),
        ("entropy", "mean", "mode", "variance", "cdf", "icdf"),
    ),
    "Geometric": (
        lambda r: {"probs": _prob(r, 2, 7)},
        lambda r, p: r.integers(0, 6, (3, 2, 7)).astype(float),
        ("entropy", "mean", "mode", "variance"),
    ),
    "Poisson": (
        lambda r: {"rate": _pos(r, 2, 7) * 3},
        lambda r, p: r.integers(0, 9, (3, 2, 7)).astype(float),
        ("mean", "mode", "variance"),
    ),
    "Binomial": (
        lambda r: {"total_count": 9.0, "probs": _prob(r, 2, 7)},
        lambda r, p: r.integers(0, 10, (3, 2, 7)).astype(float),
        ("entropy", "mean", "mode", "variance"),
    ),
    "Binomial_logits": (
        lambda r: {
            "total_count": r.integers(1, 12, (2, 7)).astype(float),
            "logits": r.standard_normal(7),
        },
        lambda r, p: np.minimum(r.integers(0, 12, (3, 2, 7)), p["total_count"]).astype(float),
        ("mean", "mode", "variance"),
    ),
    "Categorical": (
        lambda r: {"probs": _simplex(r, 2, 7)},
        lambda r, p: r.integers(0, 7, (3, 2)).astype(float),
        ("entropy",),
    ),
    "OneHotCategorical": (
        lambda r: {"logits": r.standard_normal((2, 7))},
        lambda r, p: np.eye(7)[r.integers(0, 7, (3, 2))],
        ("entropy", "mean", "mode", "variance"),
    ),
    "Multinomial": (
        lambda r: {"total_count": 6, "probs": _simplex(r, 2, 7)},
        lambda r, p: np.stack([r.multinomial(6, q, size=3) for q in p["probs"]], 1).astype(float),
        ("entropy", "mean", "variance"),
    ),
    "Gamma": (
        lambda r: {"concentration": _pos(r, 2, 1) * 2, "rate": _pos(r, 7)},
        lambda r, p: _pos(r, 3, 2, 7),
        ("entropy", "mean", "mode", "variance", "stddev", "cdf"),
    ),
    "Beta": (
        lambda r: {"concentration1": _pos(r, 2, 7), "concentration0": _pos(r, 7)},
        lambda r, p: _prob(r, 3, 2, 7),
        ("entropy", "mean", "mode", "variance"),
    ),
    "Dirichlet": (
        lambda r: {"concentration": _pos(r, 2, 7)},
        lambda r, p: _simplex(r, 3, 2, 7),
        ("entropy", "mean", "mode", "variance"),
    ),
    "StudentT": (
        lambda r: {"df": _pos(r, 2, 7) * 2, "loc": r.standard_normal(7), "scale": _pos(r, 2, 1)},
        lambda r, p: r.standard_normal((3, 2, 7)),
        ("entropy", "mean", "mode", "variance"),
    ),
    "Chi2": (
        lambda r: {"df": _pos(r, 2, 7) * 3},
        lambda r, p: _pos(r, 3, 2, 7),
        ("entropy", "mean", "mode", "variance", "cdf"),
    ),
    "HalfCauchy": (
        lambda r: {"scale": _pos(r, 2, 7)},
        lambda r, p: _pos(r, 3, 2, 7),
        ("entropy", "mean", "mode", "variance", "cdf", "icdf"),
    ),
    "NegativeBinomial": (
        lambda r: {"total_count": _pos(r, 7) * 3, "probs": _prob(r, 2, 7)},
        lambda r, p: r.integers(0, 12, (3, 2, 7)).astype(float),
        ("mean", "mode", "variance"),
    ),
    "NegativeBinomial_logits": (
        lambda r: {"total_count": _pos(r, 2, 1) * 3, "logits": r.standard_normal(7)},
        lambda r, p: r.integers(0, 12, (3, 2, 7)).astype(float),
        ("mean", "mode", "variance"),
    ),
    "LogNormal": (
        lambda r: {"loc": r.standard_normal((2, 1)), "scale": _pos(r, 7)},
        lambda r, p: _pos(r, 3, 2, 7),
        ("entropy", "mean", "mode", "variance", "stddev", "cdf", "icdf"),
    ),
    "MultivariateNormal": (
        lambda r: {"loc": r.standard_normal((2, 1, 5)), "covariance_matrix": _spd(r, 3, 5)},
        lambda r, p: r.standard_normal((4, 2, 3, 5)),
        ("entropy", "mean", "mode", "variance"),
    ),
    "MultivariateNormal_tril": (
        lambda r: {"loc": r.standard_normal(5), "scale_tril": np.linalg.cholesky(_spd(r, 2, 5))},
        lambda r, p: r.standard_normal((4, 2, 5)),
        ("entropy", "variance"),
    ),
    "MultivariateNormal_precision": (
        lambda r: {"loc": r.standard_normal(5), "precision_matrix": _spd(r, 5)},
        lambda r, p: r.standard_normal((4, 5)),
        ("entropy", "variance"),
    ),
}


def _family(name):
    return name.split("_")[0]


def _make(lib, name, params, dtype):
    cls = getattr(FD if lib is fastnn else TD, _family(name))
    args = {
        k: (v if not isinstance(v, np.ndarray) else lib.tensor(v, dtype=dtype))
        for k, v in params.items()
    }
    return cls(**args)


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_values_match_torch(name, dtype):
    rng = np.random.default_rng(zlib.crc32(name.encode()))  # fixed per case, every run
    make_params, make_values, extras = CASES[name]
    params = make_params(rng)
    value = make_values(rng, params)
    d = _make(fastnn, name, params, getattr(fastnn, dtype))
    ref = _make(torch, name, params, getattr(torch, dtype))
    tol = {"atol": 1e-10, "rtol": 1e-10} if dtype == "float64" else {"atol": 2e-5, "rtol": 2e-4}
    assert d.batch_shape == ref.batch_shape and d.event_shape == ref.event_shape
    assert type(d.support).__name__.lstrip("_") == type(ref.support).__name__.lstrip("_")
    v = fastnn.tensor(value).to(getattr(fastnn, dtype))
    tv = torch.tensor(value).to(getattr(torch, dtype))
    got = d.log_prob(v)
    assert got.dtype == getattr(fastnn, dtype)
    assert_close(_np(got), _np(ref.log_prob(tv)), name="log_prob", **tol)
    for what in extras:
        if what in ("cdf",):
            got, want = d.cdf(v), ref.cdf(tv)
        elif what == "icdf":
            q = rng.random(value.shape) * 0.98 + 0.01
            tq = torch.tensor(q).to(getattr(torch, dtype))
            got, want = d.icdf(fastnn.tensor(q).to(getattr(fastnn, dtype))), ref.icdf(tq)
        elif what == "entropy":
            got, want = d.entropy(), ref.entropy()
        else:
            got, want = getattr(d, what), getattr(ref, what)
        assert tuple(got.shape) == tuple(want.shape), what
        if (name, what, dtype) == ("Multinomial", "entropy", "float64"):
            # torch takes log(n!) of an int64 tensor, which its lgamma rounds to float32
            assert_close(_np(got), _np(want), name=what, atol=0, rtol=1e-7)
            continue
        with np.errstate(invalid="ignore"):  # inf - inf where both moments are infinite
            assert_close(_np(got), _np(want), name=what, **tol)


GRAD_CASES = {
    "Normal": ({"loc": (2, 3), "scale": (3,)}, "real"),
    "Bernoulli": ({"logits": (2, 3)}, "binary"),
    "Uniform": ({"low": (3,), "high": (3,)}, "in_uniform"),
    "Exponential": ({"rate": (2, 3)}, "positive"),
    "Laplace": ({"loc": (3,), "scale": (2, 3)}, "real"),
    "Cauchy": ({"loc": (3,), "scale": (2, 3)}, "real"),
    "Gumbel": ({"loc": (3,), "scale": (2, 3)}, "real"),
    "HalfNormal": ({"scale": (2, 3)}, "positive"),
    "Geometric": ({"probs": (2, 3)}, "count"),
    "Poisson": ({"rate": (2, 3)}, "count"),
    "Binomial": ({"probs": (2, 3)}, "count"),
    "Gamma": ({"concentration": (2, 3), "rate": (3,)}, "positive"),
    "Beta": ({"concentration1": (2, 3), "concentration0": (3,)}, "unit"),
    "Dirichlet": ({"concentration": (2, 4)}, "simplex"),
    "StudentT": ({"df": (3,), "loc": (2, 3), "scale": (3,)}, "real"),
    "Chi2": ({"df": (2, 3)}, "positive"),
    "HalfCauchy": ({"scale": (2, 3)}, "positive"),
    "NegativeBinomial": ({"total_count": (3,), "probs": (2, 3)}, "count"),
}


def _grad_value(rng, kind, shape):
    return {
        "real": lambda: rng.standard_normal(shape),
        "binary": lambda: (rng.random(shape) < 0.5).astype(float),
        "in_uniform": lambda: rng.uniform(-0.1, 0.1, shape),
        "positive": lambda: _pos(rng, *shape),
        "count": lambda: rng.integers(0, 4, shape).astype(float),
        "unit": lambda: _prob(rng, *shape),
        "simplex": lambda: _simplex(rng, *shape),
    }[kind]()


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_log_prob_and_entropy_gradients(name):
    rng = np.random.default_rng(7)
    shapes, kind = GRAD_CASES[name]
    raw = {}
    for k, s in shapes.items():
        if k == "low":
            raw[k] = -_pos(rng, *s)
        elif k == "probs":
            raw[k] = _prob(rng, *s)
        elif k in ("loc", "logits"):
            raw[k] = rng.standard_normal(s)
        else:
            raw[k] = _pos(rng, *s)
    cls = getattr(FD, name)
    extra = {"total_count": 5.0} if name == "Binomial" else {}
    batch = np.broadcast_shapes(*shapes.values())
    value = fastnn.tensor(_grad_value(rng, kind, batch))
    names = list(raw)
    leaves = [fastnn.tensor(raw[k], requires_grad=True) for k in names]

    def log_prob(*ts):
        return cls(**dict(zip(names, ts)), **extra).log_prob(value)

    assert gradcheck(log_prob, leaves)
    if name not in ("Poisson", "Binomial", "NegativeBinomial"):
        assert gradcheck(lambda *ts: cls(**dict(zip(names, ts)), **extra).entropy(), leaves)


def test_mvn_gradients_and_one_dimensional_forms():
    rng = np.random.default_rng(2)
    loc = fastnn.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    a = fastnn.tensor(rng.standard_normal((3, 3)), requires_grad=True)
    value = fastnn.tensor(rng.standard_normal((4, 2, 3)))

    def cov(m):
        return m @ m.mT + 3 * fastnn.eye(3, dtype=fastnn.float64)

    assert gradcheck(lambda l, m: FD.MultivariateNormal(l, cov(m)).log_prob(value), (loc, a))
    assert gradcheck(
        lambda l, m: FD.MultivariateNormal(l, precision_matrix=cov(m)).log_prob(value), (loc, a)
    )
    assert gradcheck(lambda m: FD.MultivariateNormal(loc, cov(m)).entropy(), (a,))
    # one event dimension and a single distribution (no batch)
    d = FD.MultivariateNormal(
        fastnn.zeros(1, dtype=fastnn.float64), fastnn.eye(1, dtype=fastnn.float64) * 4
    )
    ref = TD.MultivariateNormal(
        torch.zeros(1, dtype=torch.float64), torch.eye(1, dtype=torch.float64) * 4
    )
    x = rng.standard_normal((33, 1))
    assert_close(
        _np(d.log_prob(fastnn.tensor(x))),
        _np(ref.log_prob(torch.tensor(x))),
        atol=1e-12,
        rtol=1e-12,
    )
    assert d.batch_shape == () and d.event_shape == (1,)


def test_gamma_cdf_over_its_range_and_its_gradients():
    # small and large shapes, both sides of the series / continued-fraction switch at a + 1
    a = np.array([0.05, 0.5, 1.0, 3.0, 40.0, 900.0])
    x = np.outer([0.0, 0.01, 0.5, 1.0, 1.5, 4.0], a) + np.array([0, 0, 0, 0, 1, 2])[:, None]
    got = FD.Gamma(fastnn.tensor(a), fastnn.tensor(1.0, dtype=fastnn.float64)).cdf(fastnn.tensor(x))
    want = TD.Gamma(torch.tensor(a), torch.tensor(1.0, dtype=torch.float64)).cdf(torch.tensor(x))
    # torch's igamma is good to about 1e-9 near x = a (ours to 1e-14 there, against mpmath)
    assert_close(got.numpy(), want.numpy(), atol=1e-14, rtol=2e-9)
    conc = fastnn.tensor([0.7, 2.0, 9.0], dtype=fastnn.float64, requires_grad=True)
    rate = fastnn.tensor([1.5, 0.5, 2.0], dtype=fastnn.float64, requires_grad=True)
    value = fastnn.tensor([0.3, 6.0, 4.0], dtype=fastnn.float64, requires_grad=True)
    assert gradcheck(lambda a, b, v: FD.Gamma(a, b).cdf(v), (conc, rate, value))
