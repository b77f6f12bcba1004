"""fastnn.distributions.constraints against torch's, the argument checks of every family
(torch's ValueError for out-of-support parameters and values), and Independent."""

import numpy as np
import pytest

import fastnn
import fastnn.distributions as FD
from fastnn.distributions import constraints as C

torch = pytest.importorskip("torch")
TD = torch.distributions
TC = TD.constraints


@pytest.fixture(autouse=True)
def torch_checks_arguments():
    # another test file may turn torch's default argument checks off (torch.compile does)
    before = TD.Distribution._validate_args
    TD.Distribution.set_default_validate_args(True)
    yield
    TD.Distribution.set_default_validate_args(before)


VALUES = [
    np.array([-1.5, 0.0, 0.5, 1.0, 2.0, 3.0, np.nan, np.inf]),
    np.array([[0.2, 0.8], [0.5, 0.6], [1.0, 0.0], [-0.1, 1.1]]),
    np.array([[0.0, 1.0, 0.0], [1.0, 1.0, 0.0], [2.0, 0.0, 1.0], [0.5, 0.5, 0.0]]),
]
MATRICES = np.array(
    [
        [[2.0, 0.5], [0.5, 1.0]],  # positive definite
        [[1.0, 2.0], [2.0, 1.0]],  # symmetric, indefinite
        [[1.0, 0.0], [3.0, 2.0]],  # lower Cholesky
        [[1.0, 0.0], [3.0, -2.0]],  # lower, negative diagonal
        [[0.0, 0.0], [0.0, 0.0]],  # positive semidefinite only
    ]
)
PAIRS = [
    "boolean",
    "real",
    "positive",
    "nonnegative",
    "unit_interval",
    "nonnegative_integer",
    "positive_integer",
    "simplex",
    "one_hot",
    "real_vector",
]


@pytest.mark.parametrize("name", PAIRS)
def test_constraint_checks_match_torch(name):
    mine, theirs = getattr(C, name), getattr(TC, name)
    assert mine.event_dim == theirs.event_dim and mine.is_discrete == theirs.is_discrete
    for v in VALUES:
        if v.ndim < mine.event_dim:
            continue
        got = mine.check(fastnn.tensor(v)).numpy()
        assert got.tolist() == theirs.check(torch.tensor(v)).tolist(), (name, v)


def test_parameterized_and_matrix_constraints_match_torch():
    v = VALUES[0]
    cases = [
        (C.greater_than(1.0), TC.greater_than(1.0)),
        (C.greater_than_eq(1.0), TC.greater_than_eq(1.0)),
        (C.less_than(1.0), TC.less_than(1.0)),
        (C.interval(0.0, 2.0), TC.interval(0.0, 2.0)),
        (C.half_open_interval(0.0, 2.0), TC.half_open_interval(0.0, 2.0)),
        (C.integer_interval(0, 2), TC.integer_interval(0, 2)),
        (C.independent(C.positive, 1), TC.independent(TC.positive, 1)),
    ]
    for mine, theirs in cases:
        got = mine.check(fastnn.tensor(v)).numpy().tolist()
        assert got == theirs.check(torch.tensor(v)).tolist(), mine
        assert mine.event_dim == theirs.event_dim
    counts = np.array([[1.0, 2.0, 0.0], [3.0, 2.0, 0.0], [-1.0, 1.0, 1.0]])
    assert (
        C.multinomial(4).check(fastnn.tensor(counts)).tolist()
        == TC.multinomial(4).check(torch.tensor(counts)).tolist()
    )
    for name in (
        "lower_cholesky",
        "lower_triangular",
        "positive_definite",
        "positive_semidefinite",
        "symmetric",
        "square",
    ):
        got = getattr(C, name).check(fastnn.tensor(MATRICES)).tolist()
        assert got == getattr(TC, name).check(torch.tensor(MATRICES)).tolist(), name
    assert repr(C.positive) == "GreaterThan(lower_bound=0.0)" == repr(TC.positive)
    assert repr(C.real) == repr(TC.real)


def test_dependent_constraints():
    assert C.is_dependent(C.dependent) and not C.is_dependent(C.real)
    with pytest.raises(ValueError, match="dependent"):
        C.dependent.check(fastnn.tensor([1.0]))
    assert C.dependent(is_discrete=True, event_dim=0).is_discrete
    with pytest.raises(NotImplementedError):
        _ = C.dependent.event_dim
    # a family whose support follows its parameters reads it per instance
    u = FD.Uniform(fastnn.tensor([0.0, 1.0]), fastnn.tensor([1.0, 3.0]))
    assert u.support.check(fastnn.tensor([0.5, 3.5])).tolist() == [True, False]
    assert C.is_dependent(FD.Uniform.support) and FD.Binomial.support.is_discrete
    with pytest.raises(TypeError, match="base_constraint"):
        C.independent("real", 1)
    with pytest.raises(ValueError, match="reinterpreted_batch_ndims"):
        C.independent(C.real, -1)


# (family, good arguments, the argument that breaks it) for both libraries
BAD_PARAMETERS = [
    ("Normal", {"loc": [0.0], "scale": [-1.0]}, "scale"),
    ("Normal", {"loc": [float("nan")], "scale": [1.0]}, "loc"),
    ("Bernoulli", {"probs": [1.2]}, "probs"),
    ("Exponential", {"rate": [0.0]}, "rate"),
    ("Laplace", {"loc": [0.0], "scale": [0.0]}, "scale"),
    ("Cauchy", {"loc": [0.0], "scale": [-2.0]}, "scale"),
    ("Gumbel", {"loc": [0.0], "scale": [-2.0]}, "scale"),
    ("HalfNormal", {"scale": [-1.0]}, "scale"),
    ("Poisson", {"rate": [-1.0]}, "rate"),
    ("Binomial", {"total_count": [2.5], "probs": [0.5]}, "total_count"),
    ("Binomial", {"total_count": [3.0], "probs": [1.5]}, "probs"),
    ("Gamma", {"concentration": [0.0], "rate": [1.0]}, "concentration"),
    ("Gamma", {"concentration": [1.0], "rate": [-1.0]}, "rate"),
    ("Beta", {"concentration1": [-1.0], "concentration0": [1.0]}, "concentration"),
    ("Dirichlet", {"concentration": [1.0, 0.0]}, "concentration"),
    ("StudentT", {"df": [-1.0]}, "df"),
    ("Chi2", {"df": [0.0]}, "df"),
    ("HalfCauchy", {"scale": [0.0]}, "scale"),
    ("NegativeBinomial", {"total_count": [-1.0], "probs": [0.5]}, "total_count"),
    ("NegativeBinomial", {"total_count": [2.0], "probs": [1.0]}, "probs"),
    ("Categorical", {"probs": [0.5, -0.5, 1.0]}, "probs"),
    ("OneHotCategorical", {"probs": [0.5, -0.5, 1.0]}, "probs"),
    ("Multinomial", {"total_count": 3, "probs": [0.5, -0.5, 1.0]}, "probs"),
    (
        "MultivariateNormal",
        {"loc": [0.0, 0.0], "covariance_matrix": [[1.0, 2.0], [2.0, 1.0]]},
        "covariance_matrix",
    ),
    (
        "MultivariateNormal",
        {"loc": [0.0, 0.0], "scale_tril": [[1.0, 0.0], [1.0, -1.0]]},
        "scale_tril",
    ),
]


@pytest.mark.parametrize("family,kwargs,bad", BAD_PARAMETERS, ids=lambda x: str(x)[:20])
def test_bad_parameters_raise_like_torch(family, kwargs, bad):
    for lib, mod in ((fastnn, FD), (torch, TD)):
        args = {
            k: lib.tensor(v, dtype=lib.float64) if isinstance(v, list) else v
            for k, v in kwargs.items()
        }
        with pytest.raises(ValueError, match=f"Expected parameter {bad}"):
            getattr(mod, family)(**args)
    # without checks the distribution is built
    args = {k: fastnn.tensor(v) if isinstance(v, list) else v for k, v in kwargs.items()}
    getattr(FD, family)(**args, validate_args=False)


BAD_VALUES = [
    (lambda m, L: m.Normal(L.tensor(0.0), L.tensor(1.0)), [float("nan")]),
    (lambda m, L: m.Bernoulli(L.tensor([0.3])), [0.5]),
    (lambda m, L: m.Exponential(L.tensor([1.0])), [-1.0]),
    (lambda m, L: m.Poisson(L.tensor([1.0])), [1.5]),
    (lambda m, L: m.Geometric(L.tensor([0.5])), [-1.0]),
    (lambda m, L: m.Binomial(5, L.tensor([0.5])), [6.0]),
    (lambda m, L: m.Gamma(L.tensor([1.0]), L.tensor([1.0])), [-0.5]),
    (lambda m, L: m.Beta(L.tensor([1.0]), L.tensor([1.0])), [1.5]),
    (lambda m, L: m.Uniform(L.tensor([0.0]), L.tensor([1.0])), [1.5]),
    (lambda m, L: m.Dirichlet(L.tensor([1.0, 1.0])), [0.7, 0.7]),
    (lambda m, L: m.OneHotCategorical(L.tensor([0.5, 0.5])), [1.0, 1.0]),
    (lambda m, L: m.Multinomial(2, L.tensor([0.5, 0.5])), [2.0, 1.0]),
    (lambda m, L: m.HalfNormal(L.tensor([1.0])), [-1.0]),
    (lambda m, L: m.HalfCauchy(L.tensor([1.0])), [-1.0]),
    (lambda m, L: m.NegativeBinomial(L.tensor([2.0]), L.tensor([0.5])), [0.5]),
    (lambda m, L: m.Chi2(L.tensor([2.0])), [-1.0]),
]


@pytest.mark.parametrize("case", range(len(BAD_VALUES)))
def test_values_outside_the_support_raise_like_torch(case):
    make, value = BAD_VALUES[case]
    for lib, mod in ((fastnn, FD), (torch, TD)):
        with pytest.raises(ValueError, match="Expected value argument"):
            make(mod, lib).log_prob(lib.tensor(value))


def test_shape_and_construction_errors_match_torch():
    for lib, mod in ((fastnn, FD), (torch, TD)):
        with pytest.raises(ValueError, match=r"Expected parameter low .* LessThan\(upper_bound="):
            mod.Uniform(lib.tensor([1.0]), lib.tensor([1.0]))
        with pytest.raises(ValueError, match="Either `probs` or `logits`"):
            mod.Bernoulli()
        with pytest.raises(ValueError, match="Either `probs` or `logits`"):
            mod.Binomial(3, probs=lib.tensor(0.5), logits=lib.tensor(0.0))
        with pytest.raises(ValueError, match="Exactly one of covariance_matrix"):
            mod.MultivariateNormal(lib.zeros(2))
        with pytest.raises(ValueError, match="loc must be at least one-dimensional"):
            mod.MultivariateNormal(lib.tensor(0.0), lib.eye(1))
        with pytest.raises(ValueError, match="at least two-dimensional"):
            mod.MultivariateNormal(lib.zeros(2), scale_tril=lib.ones(2))
        with pytest.raises(ValueError, match="at least one-dimensional"):
            mod.Dirichlet(lib.tensor(1.0))
        with pytest.raises(ValueError, match="right-most size of value must match event_shape"):
            mod.Dirichlet(lib.tensor([1.0, 1.0])).log_prob(lib.tensor([0.2, 0.3, 0.5]))
        with pytest.raises(ValueError, match="not broadcastable with batch_shape"):
            mod.Normal(lib.zeros(3), lib.ones(3)).log_prob(lib.zeros(2))
        with pytest.raises(ValueError, match="reinterpreted_batch_ndims <= len"):
            mod.Independent(mod.Normal(lib.zeros(3), lib.ones(3)), 2)
        with pytest.raises(ValueError, match="Input arguments must all be instances"):
            mod.Normal("zero", 1.0)
    with pytest.raises(ValueError, match=r"covariance_matrix of shape \(3, 3\)"):
        FD.MultivariateNormal(fastnn.zeros(2), fastnn.eye(3))
    with pytest.raises(TypeError, match="base_distribution"):
        FD.Independent("Normal", 1)
    for lib, mod in ((fastnn, FD), (torch, TD)):
        with pytest.raises(NotImplementedError, match="inhomogeneous total_count"):
            mod.Multinomial(lib.tensor([2, 3]), lib.tensor([0.5, 0.5]))
    assert FD.Multinomial(np.int64(3), fastnn.tensor([0.5, 0.5])).sample().sum().item() == 3


def test_independent_matches_torch():
    rng = np.random.default_rng(0)
    loc, scale, x = (
        rng.standard_normal((2, 3, 4)),
        rng.random((2, 3, 4)) + 0.5,
        rng.standard_normal((5, 2, 3, 4)),
    )
    d = FD.Independent(FD.Normal(fastnn.tensor(loc), fastnn.tensor(scale)), 2)
    ref = TD.Independent(TD.Normal(torch.tensor(loc), torch.tensor(scale)), 2)
    assert d.batch_shape == ref.batch_shape == (2,) and d.event_shape == ref.event_shape == (3, 4)
    np.testing.assert_allclose(
        d.log_prob(fastnn.tensor(x)).numpy(), ref.log_prob(torch.tensor(x)).numpy(), rtol=1e-12
    )
    np.testing.assert_allclose(d.entropy().numpy(), ref.entropy().numpy(), rtol=1e-12)
    assert d.has_rsample and d.rsample((6,)).shape == (6, 2, 3, 4)
    assert repr(d.support) == repr(ref.support)
    assert np.array_equal(d.mean.numpy(), loc) and d.variance.shape == (2, 3, 4)
    with pytest.raises(ValueError, match="Expected value argument"):
        d.log_prob(fastnn.tensor(np.full((2, 3, 4), np.nan)))
    b = FD.Independent(FD.Bernoulli(fastnn.tensor([0.5, 0.5])), 0)
    assert b.has_enumerate_support and b.enumerate_support().shape == (2, 2)
    assert not FD.Independent(FD.Bernoulli(fastnn.tensor([0.5, 0.5])), 1).has_enumerate_support


def test_default_validation_switch():
    FD.Distribution.set_default_validate_args(False)
    try:
        FD.Normal(fastnn.tensor([0.0]), fastnn.tensor([-1.0]))  # no check
    finally:
        FD.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError, match="scale"):
        FD.Normal(fastnn.tensor([0.0]), fastnn.tensor([-1.0]))
    with pytest.raises(ValueError, match="validate_args must be True or False"):
        FD.Distribution.set_default_validate_args("yes")
