"""kl_divergence against torch for every registered pair (batched, broadcast parameters,
float64 and float32), gradients by finite differences, and the registry's dispatch rules."""

import numpy as np
import pytest

import fastnn
import fastnn.distributions as FD
from conftest import assert_close
from fastnn.autograd import gradcheck

torch = pytest.importorskip("torch")
TD = torch.distributions


def _pos(r, *s):
    return r.random(s) * 2 + 0.3


def _simplex(r, *s):
    p = r.random(s) + 0.05
    return p / p.sum(-1, keepdims=True)


def _tril(r, *s):
    n = s[-1]
    a = r.standard_normal((*s[:-1], n, n))
    return np.linalg.cholesky(a @ np.swapaxes(a, -1, -2) + n * np.eye(n))


# family -> two parameter sets (p's, q's); q's broadcast against p's batch
PAIRS = {
    "Normal": (
        lambda r: {"loc": r.standard_normal((2, 7)), "scale": _pos(r, 7)},
        lambda r: {"loc": r.standard_normal(7), "scale": _pos(r, 2, 1)},
    ),
    "Categorical": (
        lambda r: {"probs": _simplex(r, 2, 7)},
        lambda r: {"logits": r.standard_normal(7)},
    ),
    "OneHotCategorical": (
        lambda r: {"probs": _simplex(r, 2, 7)},
        lambda r: {"probs": _simplex(r, 7)},
    ),
    "Bernoulli": (
        lambda r: {"probs": r.random((2, 7)) * 0.9 + 0.05},
        lambda r: {"logits": r.standard_normal((2, 7))},  # torch's form does not broadcast
    ),
    "MultivariateNormal": (
        lambda r: {"loc": r.standard_normal((2, 4)), "scale_tril": _tril(r, 4)},
        lambda r: {"loc": r.standard_normal(4), "scale_tril": _tril(r, 2, 4)},
    ),
    "Uniform": (
        lambda r: {"low": -_pos(r, 2, 7) * 0.1, "high": _pos(r, 7) * 0.1},
        lambda r: {"low": -_pos(r, 7), "high": _pos(r, 2, 7)},
    ),
    "Exponential": (lambda r: {"rate": _pos(r, 2, 7)}, lambda r: {"rate": _pos(r, 7)}),
    "Gamma": (
        lambda r: {"concentration": _pos(r, 2, 7), "rate": _pos(r, 7)},
        lambda r: {"concentration": _pos(r, 7), "rate": _pos(r, 2, 1)},
    ),
    "Beta": (
        lambda r: {"concentration1": _pos(r, 2, 7), "concentration0": _pos(r, 7)},
        lambda r: {"concentration1": _pos(r, 7), "concentration0": _pos(r, 2, 7)},
    ),
    "Dirichlet": (
        lambda r: {"concentration": _pos(r, 2, 7)},
        lambda r: {"concentration": _pos(r, 7)},
    ),
    "Laplace": (
        lambda r: {"loc": r.standard_normal((2, 7)), "scale": _pos(r, 7)},
        lambda r: {"loc": r.standard_normal(7), "scale": _pos(r, 2, 1)},
    ),
    "Poisson": (lambda r: {"rate": _pos(r, 2, 7)}, lambda r: {"rate": _pos(r, 7)}),
    "Geometric": (
        lambda r: {"probs": r.random((2, 7)) * 0.9 + 0.05},
        lambda r: {"probs": r.random(7) * 0.9 + 0.05},
    ),
    "Chi2": (lambda r: {"df": _pos(r, 2, 7)}, lambda r: {"df": _pos(r, 7)}),  # Gamma's form
    "HalfNormal": (lambda r: {"scale": _pos(r, 2, 7)}, lambda r: {"scale": _pos(r, 7)}),
}


def _build(lib, family, params, dtype):
    cls = getattr(FD if lib is fastnn else TD, family)
    return cls(**{k: lib.tensor(v, dtype=dtype) for k, v in params.items()})


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("family", sorted(PAIRS))
def test_kl_matches_torch(family, dtype):
    rng = np.random.default_rng(len(family))
    make_p, make_q = PAIRS[family]
    pp, qp = make_p(rng), make_q(rng)
    got = FD.kl_divergence(
        _build(fastnn, family, pp, getattr(fastnn, dtype)),
        _build(fastnn, family, qp, getattr(fastnn, dtype)),
    )
    want = TD.kl_divergence(
        _build(torch, family, pp, getattr(torch, dtype)),
        _build(torch, family, qp, getattr(torch, dtype)),
    )
    assert tuple(got.shape) == tuple(want.shape) and got.dtype == getattr(fastnn, dtype)
    tol = {"atol": 1e-10, "rtol": 1e-10} if dtype == "float64" else {"atol": 1e-5, "rtol": 2e-4}
    assert_close(got.numpy(), want.numpy(), **tol)


def test_kl_independent_and_infinite_cases_match_torch():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 3, 4)), _pos(rng, 3, 4)
    c, d = rng.standard_normal((3, 4)), _pos(rng, 3, 4)
    got = FD.kl_divergence(
        FD.Independent(FD.Normal(fastnn.tensor(a), fastnn.tensor(b)), 2),
        FD.Independent(FD.Normal(fastnn.tensor(c), fastnn.tensor(d)), 2),
    )
    want = TD.kl_divergence(
        TD.Independent(TD.Normal(torch.tensor(a), torch.tensor(b)), 2),
        TD.Independent(TD.Normal(torch.tensor(c), torch.tensor(d)), 2),
    )
    assert got.shape == (2,)
    assert_close(got.numpy(), want.numpy(), atol=1e-12, rtol=1e-12)
    # q without mass where p has some: +inf; p without mass in a class: that class adds 0
    for lib, mod in ((fastnn, FD), (torch, TD)):
        u = mod.kl_divergence(
            mod.Uniform(lib.tensor([0.0, 0.0]), lib.tensor([2.0, 1.0])),
            mod.Uniform(lib.tensor([0.0, -1.0]), lib.tensor([1.0, 3.0])),
        )
        assert u.tolist()[0] == float("inf") and abs(u.tolist()[1] - np.log(4.0)) < 1e-6
        k = mod.kl_divergence(
            mod.Categorical(lib.tensor([[0.5, 0.5, 0.0], [0.5, 0.0, 0.5]])),
            mod.Categorical(lib.tensor([0.5, 0.5, 0.0])),
        )
        assert abs(k.tolist()[0]) < 1e-6 and k.tolist()[1] == float("inf")
        bb = mod.kl_divergence(
            mod.Bernoulli(lib.tensor([0.0, 1.0])), mod.Bernoulli(lib.tensor([0.5, 0.5]))
        )
        assert_close(np.array(bb.tolist()), [np.log(2), np.log(2)], atol=1e-6, rtol=0)


def test_kl_gradients():
    rng = np.random.default_rng(4)
    m = fastnn.tensor(rng.standard_normal(3), requires_grad=True)
    s = fastnn.tensor(_pos(rng, 3), requires_grad=True)
    q = FD.Normal(fastnn.tensor(rng.standard_normal(3)), fastnn.tensor(_pos(rng, 3)))
    assert gradcheck(lambda a, b: FD.kl_divergence(FD.Normal(a, b), q), (m, s))
    c = fastnn.tensor(_pos(rng, 2, 4), requires_grad=True)
    qd = FD.Dirichlet(fastnn.tensor(_pos(rng, 4)))
    assert gradcheck(lambda x: FD.kl_divergence(FD.Dirichlet(x), qd), (c,))
    qg = FD.Gamma(fastnn.tensor(_pos(rng, 4)), fastnn.tensor(1.5, dtype=fastnn.float64))
    assert gradcheck(lambda x: FD.kl_divergence(FD.Gamma(x, x + 1), qg), (c,))
    tril = fastnn.tensor(_tril(rng, 3), requires_grad=True)
    qm = FD.MultivariateNormal(
        fastnn.zeros(3, dtype=fastnn.float64), scale_tril=fastnn.tensor(_tril(rng, 3))
    )
    assert gradcheck(
        lambda l: FD.kl_divergence(FD.MultivariateNormal(m, scale_tril=l.tril()), qm), (tril,)
    )


def test_registry_dispatches_on_the_most_specific_pair():
    class MyNormal(FD.Normal):
        pass

    p = MyNormal(fastnn.tensor([0.0]), fastnn.tensor([1.0]))
    q = FD.Normal(fastnn.tensor([1.0]), fastnn.tensor([1.0]))
    assert abs(FD.kl_divergence(p, q).item() - 0.5) < 1e-6  # the (Normal, Normal) form

    @FD.register_kl(MyNormal, FD.Normal)
    def _mine(p, q):
        return fastnn.tensor([-1.0])

    assert FD.kl_divergence(p, q).item() == -1.0  # the more specific pair wins
    assert abs(FD.kl_divergence(q, q).item()) < 1e-6  # plain pairs unchanged

    @FD.register_kl(FD.Distribution, FD.Normal)
    def _general(p, q):
        return fastnn.tensor([-2.0])

    assert FD.kl_divergence(p, q).item() == -1.0
    assert FD.kl_divergence(FD.Laplace(0.0, 1.0), q).item() == -2.0
    with pytest.raises(NotImplementedError, match="Cauchy"):
        FD.kl_divergence(FD.Cauchy(0.0, 1.0), FD.Cauchy(0.0, 1.0))
    with pytest.raises(TypeError, match="type_p"):
        FD.register_kl("Normal", FD.Normal)
