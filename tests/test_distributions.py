"""fastnn.distributions against torch.distributions: Categorical and Normal values, gradients
(float64), sample shapes, dtypes and frequencies, and the argument checks."""

import numpy as np
import pytest

import fastnn
from conftest import assert_close
from fastnn.autograd import gradcheck
from fastnn.distributions import Categorical, Normal

torch = pytest.importorskip("torch")
TD = torch.distributions


@pytest.fixture(autouse=True)
def torch_checks_arguments():
    # importing torch's compiler (another test file calls torch.compile) turns torch's default
    # argument checks off for the rest of the process; these tests compare the checks
    before = TD.Distribution._validate_args
    TD.Distribution.set_default_validate_args(True)
    yield
    TD.Distribution.set_default_validate_args(before)


rng = np.random.default_rng(3)
TOL = {"atol": 1e-12, "rtol": 1e-12}


def _np(t):
    return t.detach().numpy()


@pytest.mark.parametrize("by", ["probs", "logits"])
def test_categorical_values_match_torch(by):
    raw = rng.random((4, 5)) + (0.0 if by == "logits" else 0.05)
    raw[1, 2] = 0.0 if by == "probs" else raw[1, 2]  # a zero-probability class
    d = Categorical(**{by: fastnn.tensor(raw)})
    ref = TD.Categorical(**{by: torch.tensor(raw)})
    value = np.array([0, 2, 4, 1])
    assert_close(_np(d.probs), _np(ref.probs), **TOL)
    assert_close(_np(d.logits), _np(ref.logits), **TOL)
    assert_close(
        _np(d.log_prob(fastnn.tensor(value))), _np(ref.log_prob(torch.tensor(value))), **TOL
    )
    assert_close(_np(d.entropy()), _np(ref.entropy()), **TOL)
    assert d.batch_shape == (4,) and d.event_shape == ()
    assert d.mode.tolist() == ref.mode.tolist()
    # one value broadcast over the batch, a batch of values over one distribution
    assert_close(_np(d.log_prob(fastnn.tensor(3))), _np(ref.log_prob(torch.tensor(3))), **TOL)
    v2 = np.array([[0], [4]])
    assert_close(_np(d.log_prob(fastnn.tensor(v2))), _np(ref.log_prob(torch.tensor(v2))), **TOL)


def test_categorical_sample_shape_dtype_and_frequencies():
    fastnn.manual_seed(0)
    p = np.array([[0.1, 0.6, 0.3], [0.8, 0.0, 0.2]])
    d = Categorical(fastnn.tensor(p))
    assert d.sample().shape == (2,) and d.sample().dtype == fastnn.int64
    draws = d.sample((20000,))
    assert draws.shape == (20000, 2) and not draws.requires_grad
    freq = np.stack([(draws.numpy() == k).mean(0) for k in range(3)], 1)
    assert_close(freq, p, atol=0.02, rtol=0)
    assert Categorical(fastnn.tensor([0.5, 0.5])).sample((3, 2)).shape == (3, 2)


def test_categorical_log_prob_and_entropy_gradients():
    x = fastnn.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    idx = fastnn.tensor([1, 3, 0])
    assert gradcheck(lambda z: Categorical(logits=z).log_prob(idx), (x,))
    assert gradcheck(lambda z: Categorical(logits=z).entropy(), (x,))
    assert gradcheck(lambda z: Categorical(probs=z.softmax(-1)).log_prob(idx), (x,))


def test_policy_gradient_step_matches_torch():
    """The REINFORCE pattern: softmax policy, sample, -log_prob * return, backward."""
    w = rng.standard_normal((4, 3))
    s = rng.standard_normal((5, 4))
    a = fastnn.tensor(w, requires_grad=True)
    ta = torch.tensor(w, requires_grad=True)
    actions = np.array([0, 2, 1, 1, 2])
    ret = rng.standard_normal(5)
    m = Categorical(fastnn.tensor(s).matmul(a).softmax(1))
    tm = TD.Categorical(torch.tensor(s).matmul(ta).softmax(1))
    (-m.log_prob(fastnn.tensor(actions)) * fastnn.tensor(ret)).sum().backward()
    (-tm.log_prob(torch.tensor(actions)) * torch.tensor(ret)).sum().backward()
    assert_close(a.grad.numpy(), ta.grad.numpy(), atol=1e-12, rtol=1e-10)


def test_categorical_argument_errors_match_torch():
    for lib, cat in ((fastnn, Categorical), (torch, TD.Categorical)):
        with pytest.raises(ValueError, match="Either `probs` or `logits`"):
            cat()
        with pytest.raises(ValueError, match="Either `probs` or `logits`"):
            cat(probs=lib.tensor([0.5, 0.5]), logits=lib.tensor([0.0, 0.0]))
        with pytest.raises(ValueError, match="probs"):
            cat(lib.tensor([0.5, -0.1, 0.6]))
        with pytest.raises(ValueError, match="value argument"):
            cat(lib.tensor([0.5, 0.5])).log_prob(lib.tensor(2))
    # validate_args=False skips the checks
    Categorical(fastnn.tensor([0.5, 0.5]), validate_args=False).log_prob(fastnn.tensor(1))


def test_normal_values_and_gradients_match_torch():
    loc, scale = rng.standard_normal((2, 3)), rng.random(3) + 0.5
    x = rng.standard_normal((2, 3))
    d, ref = (
        Normal(fastnn.tensor(loc), fastnn.tensor(scale)),
        TD.Normal(torch.tensor(loc), torch.tensor(scale)),
    )
    assert d.batch_shape == (2, 3)
    for name in ("log_prob", "cdf"):
        got = getattr(d, name)(fastnn.tensor(x))
        assert_close(_np(got), _np(getattr(ref, name)(torch.tensor(x))), **TOL)
    assert_close(_np(d.entropy()), _np(ref.entropy()), **TOL)
    q = [0.2, 0.5, 0.9]
    assert_close(_np(d.icdf(fastnn.tensor(q))), _np(ref.icdf(torch.tensor(q))), **TOL)
    assert_close(_np(d.variance), _np(ref.variance), **TOL)
    m, s = (fastnn.tensor(v, requires_grad=True) for v in (loc, scale))
    assert gradcheck(lambda a, b: Normal(a, b).log_prob(fastnn.tensor(x)), (m, s))
    assert gradcheck(lambda a, b: Normal(a, b).entropy(), (m, s))


def test_normal_samples_and_rsample_gradient():
    fastnn.manual_seed(1)
    d = Normal(fastnn.tensor([1.0, -2.0]), fastnn.tensor([0.5, 2.0]))
    draws = d.sample((20000,))
    assert draws.shape == (20000, 2) and draws.dtype == fastnn.float32
    assert_close(draws.numpy().mean(0), [1.0, -2.0], atol=0.05, rtol=0)
    assert_close(draws.numpy().std(0), [0.5, 2.0], atol=0.05, rtol=0)
    loc = fastnn.tensor([0.0, 0.0], requires_grad=True)
    scale = fastnn.tensor([1.0, 1.0], requires_grad=True)
    Normal(loc, scale).rsample((4,)).sum().backward()
    assert loc.grad.tolist() == [4.0, 4.0] and scale.grad is not None
    assert Normal(0.0, 1.0).sample().shape == () and not d.sample().requires_grad


def test_normal_scale_must_be_positive_like_torch():
    for lib, normal in ((fastnn, Normal), (torch, TD.Normal)):
        with pytest.raises(ValueError, match="scale"):
            normal(lib.tensor([0.0]), lib.tensor([0.0]))
