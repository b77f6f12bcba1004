"""torch parity of polygamma, mvlgamma, igamma and igammac (_tensor/gamma_more.py,
ops/igamma.py): functions, Tensor methods and in-place forms, values on awkward shapes, edge
values, gradients (torch and finite differences) and errors."""

import numpy as np
import pytest

import fastnn
from api_parity import check as _check
from fastnn.autograd import gradcheck

torch = pytest.importorskip("torch")
RNG = np.random.default_rng(5)


def check(*args, **kwargs):
    return _check(*args, torch=torch, **kwargs)


def positive(*shape, lo=0.1, hi=9.0, dtype=np.float64):
    return RNG.uniform(lo, hi, shape).astype(dtype)


@pytest.mark.parametrize("n", [0, 1, 2, 5])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_polygamma_matches_torch(n, dtype):
    x = np.concatenate([positive(33), RNG.uniform(-3.9, -0.1, 7)]).astype(dtype)
    rtol = 1e-4 if dtype == np.float32 else 1e-9
    check(lambda L, t: (L.polygamma(n, t), t.polygamma(n)), x, rtol=rtol, atol=1e-6)
    check(lambda L, t: L.polygamma(n, t), np.arange(1, 8), grad=())


@pytest.mark.parametrize("p", [1, 2, 5])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mvlgamma_matches_torch(p, dtype):
    x = positive(7, 3, lo=(p - 1) / 2 + 0.05, hi=12, dtype=dtype)
    check(lambda L, t: (L.mvlgamma(t, p), t.mvlgamma(p=p)), x, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_igamma_matches_torch_on_broadcast_shapes(dtype):
    a = positive(33, 1, lo=0.05, hi=40, dtype=dtype)
    x = positive(7, lo=0.0, hi=60, dtype=dtype)
    rtol = 1e-4 if dtype == np.float32 else 1e-8
    check(
        lambda L, s, t: (L.igamma(s, t), L.igammac(s, t), s.igamma(t), s.igammac(t)),
        a,
        x,
        grad=(1,),
        rtol=rtol,
        atol=1e-6,
    )


def test_igamma_large_arguments_and_edges():
    a = np.array([0.0, 1, -1, 2, np.inf, 1, 2, 0, 50, 200, 0.7, 1e4, np.nan, 3])
    x = np.array([1.0, 0, 1, np.inf, 2, -1, 0, 0, 45, 210, 30, 1.0001e4, 1, np.nan])
    check(lambda L, s, t: (L.igamma(s, t), L.igammac(s, t)), a, x, grad=(), rtol=1e-9)


def test_igamma_of_mixed_dtypes():
    check(lambda L, s, t: L.igamma(s, t), np.array([1, 2, 3]), positive(3), grad=())


def test_gradcheck():
    a = fastnn.tensor(positive(7, lo=0.5, hi=5))
    x = fastnn.tensor(positive(7, lo=0.2, hi=8), requires_grad=True)
    assert gradcheck(lambda t: fastnn.igamma(a, t), (x,))
    assert gradcheck(lambda t: fastnn.igammac(a, t), (x,))
    for n in (0, 1, 3):
        assert gradcheck(lambda t, n=n: fastnn.polygamma(n, t), (x,))
    y = fastnn.tensor(positive(2, 3, lo=2.1, hi=6), requires_grad=True)
    assert gradcheck(lambda t: fastnn.mvlgamma(t, 4), (y,))


def test_in_place_forms():
    def run(L, t):
        a, b, c, d = t.clone(), t.clone(), t.clone(), t.clone()
        a.polygamma_(2)
        b.mvlgamma_(2)
        c.igamma_(t * 0.5)
        d.igammac_(t * 0.5)
        return a, b, c, d

    check(run, positive(7, 3, lo=0.6, hi=7), grad=())


def test_errors():
    x = fastnn.tensor([1.5, 2.0], requires_grad=True)
    y = fastnn.igamma(x, fastnn.tensor([0.5, 3.0]))
    with pytest.raises(NotImplementedError, match="igamma in 'input'"):
        y.sum().backward()
    with pytest.raises(NotImplementedError, match="int64"):
        fastnn.igamma(fastnn.tensor([1, 2]), fastnn.tensor([1, 2]))
    with pytest.raises(TypeError, match="other"):
        fastnn.igammac(fastnn.ones(2), 2.0)
    with pytest.raises(RuntimeError, match=r"\[2\] and \[3\]"):
        fastnn.igamma(fastnn.ones(2), fastnn.ones(3))
    with pytest.raises(RuntimeError, match="negative n"):
        fastnn.polygamma(-1, fastnn.ones(2))
    with pytest.raises(TypeError, match="'n' must be int"):
        fastnn.polygamma(1.5, fastnn.ones(2))
    with pytest.raises(RuntimeError, match="p has to be"):
        fastnn.mvlgamma(fastnn.ones(2), 0)
    with pytest.raises(TypeError, match="input"):
        fastnn.polygamma(1, [1.0])
