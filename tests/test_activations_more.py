"""silu, mish, softplus, elu / selu, hardtanh / relu6, logsigmoid and prelu: the kernels against
float64 NumPy formulas on every ISA path, the autograd ops against finite differences, the
modules and functionals against torch (values, gradients, inplace=), bad input."""

import numpy as np
import pytest

import fastnn
from conftest import assert_close
from fastnn import kernels as K
from fastnn import nn
from fastnn.autograd import gradcheck
from fastnn.nn import functional as F

SELU_A, SELU_S = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _sig(x):
    return 0.5 * (1 + np.tanh(0.5 * x))


def _sp(z):
    return np.logaddexp(z, 0.0)


# name -> (kernel args, reference forward(x, *args), reference derivative(x, *args)), in float64
REF = {
    "silu": ((), lambda x: x * _sig(x), lambda x: _sig(x) * (1 + x * (1 - _sig(x)))),
    "mish": (
        (),
        lambda x: x * np.tanh(_sp(x)),
        lambda x: np.tanh(_sp(x)) + x * _sig(x) * (1 - np.tanh(_sp(x)) ** 2),
    ),
    "softplus": (
        (1.5, 7.0),
        lambda x, b, t: np.where(x * b > t, x, _sp(x * b) / b),
        lambda x, b, t: np.where(x * b > t, 1.0, _sig(x * b)),
    ),
    "elu": (
        (0.7, 1.3, 0.9),
        lambda x, a, s, i: np.where(x > 0, s * x, s * a * np.expm1(np.minimum(x, 0) * i)),
        lambda x, a, s, i: np.where(x > 0, s, s * a * i * np.exp(np.minimum(x, 0) * i)),
    ),
    "hardtanh": (
        (-1.5, 2.5),
        lambda x, lo, hi: np.clip(x, lo, hi),
        lambda x, lo, hi: ((x > lo) & (x < hi)).astype(np.float64),
    ),
    "logsigmoid": ((), lambda x: -_sp(-x), lambda x: _sig(-x)),
}
TOL = {np.float32: dict(atol=3e-6, rtol=3e-5), np.float64: dict(atol=1e-13, rtol=1e-11)}
SHAPES = [(1,), (7,), (33,), (257,), (1000,), (3, 5, 7), (65, 17)]


@pytest.mark.parametrize("name", list(REF))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernels_against_numpy(name, dtype, isa, rng):
    args, f, df = REF[name]
    fwd, bwd = getattr(K, name), getattr(K, name + "_backward")
    for shape in SHAPES:
        x = (rng.standard_normal(shape) * 4).astype(dtype)
        x.flat[0] = 0.0
        if x.size > 4:  # the tails and the cut-over points, where stable forms matter
            x.flat[1:5] = [-90.0, 90.0, 1e-6, -1e-6]
        g = rng.standard_normal(shape).astype(dtype)
        x64 = x.astype(np.float64)
        y = fwd(x, *args)
        assert y.dtype == dtype and y.shape == shape
        assert_close(y, f(x64, *args), **TOL[dtype], name=f"{name}{shape}")
        dx = bwd(g, x, *args)
        assert dx.dtype == dtype and dx.shape == shape
        want = g.astype(np.float64) * df(x64, *args)
        assert_close(dx, want, **TOL[dtype], name=f"{name}_backward{shape}")
        out = x.copy()
        assert fwd(out, *args, out=out) is out  # in place
        np.testing.assert_array_equal(out, y)


@pytest.mark.parametrize("name", list(REF))
def test_nan_propagates_and_large_inputs_stay_finite(name, isa):
    args = REF[name][0]
    x = np.array([np.nan, -1e30, 1e30, -88.0, 88.0] + [0.5] * 11, np.float32)
    y = getattr(K, name)(x, *args)
    assert np.isnan(y[0])
    assert np.isfinite(y[1:]).all()
    dx = getattr(K, name + "_backward")(np.ones_like(x), x, *args)
    assert np.isnan(dx[0]) or name == "hardtanh"  # hardtanh passes the gradient for NaN (torch)
    assert np.isfinite(dx[1:]).all()


def test_threads_do_not_change_results(threads, rng):
    x = (rng.standard_normal(300_000) * 4).astype(np.float32)
    g = rng.standard_normal(300_000).astype(np.float32)
    for name, (args, f, df) in REF.items():
        y = getattr(K, name)(x, *args)
        assert_close(y, f(x.astype(np.float64), *args), **TOL[np.float32], name=name)
        dx = getattr(K, name + "_backward")(g, x, *args)
        assert_close(dx, g * df(x.astype(np.float64), *args), **TOL[np.float32], name=name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,c", [((5,), 1), ((4, 3), 3), ((2, 7, 5, 3), 7), ((2, 33, 9), 1)])
def test_prelu_kernels_against_numpy(shape, c, dtype, threads, rng):
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal(c).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    wb = w.astype(np.float64).reshape((1, -1) + (1,) * (len(shape) - 2)) if c > 1 else w[0]
    x64, g64 = x.astype(np.float64), g.astype(np.float64)
    assert_close(K.prelu(x, w), np.where(x64 > 0, x64, wb * x64), **TOL[dtype])
    dx, dw = K.prelu_backward(g, x, w)
    assert_close(dx, np.where(x64 > 0, g64, wb * g64), **TOL[dtype])
    contrib = np.where(x64 > 0, 0.0, g64 * x64)
    axes = tuple(i for i in range(len(shape)) if i != 1) if c > 1 else None
    assert_close(dw, np.atleast_1d(contrib.sum(axis=axes)), **TOL[dtype])
    assert K.prelu_backward(g, x, w, need_weight=False)[1] is None


@pytest.mark.parametrize(
    "fn",
    [
        F.silu,
        F.mish,
        lambda x: F.softplus(x, 2.0, 3.0),
        lambda x: F.elu(x, 0.6),
        F.selu,
        lambda x: F.hardtanh(x, -0.7, 0.8),
        F.relu6,
        F.logsigmoid,
    ],
)
def test_gradcheck(fn, rng):
    x = rng.standard_normal((3, 7)) * 3
    x[np.abs(x) < 1e-3] = 0.5  # keep off the kinks (hardtanh's edges, elu at 0)
    for edge in (-0.7, 0.8, 0.0, 6.0):
        x[np.abs(x - edge) < 1e-3] += 0.01
    gradcheck(fn, (fastnn.tensor(x, requires_grad=True),))


def test_prelu_gradcheck(rng):
    x = fastnn.tensor(rng.standard_normal((4, 3, 5)), requires_grad=True)
    w = fastnn.tensor(rng.standard_normal(3), requires_grad=True)
    gradcheck(F.prelu, (x, w))
    gradcheck(F.prelu, (x, fastnn.tensor([0.3], dtype=fastnn.float64, requires_grad=True)))


MODULES = [
    ("SiLU", {}),
    ("SiLU", {"inplace": True}),
    ("Mish", {}),
    ("Softplus", {}),
    ("Softplus", {"beta": 2.0, "threshold": 4.0}),
    ("ELU", {}),
    ("ELU", {"alpha": 0.5, "inplace": True}),
    ("SELU", {}),
    ("Hardtanh", {}),
    ("Hardtanh", {"min_val": -2.0, "max_val": 0.5}),
    ("ReLU6", {"inplace": True}),
    ("LogSigmoid", {}),
    ("PReLU", {}),
    ("PReLU", {"num_parameters": 5, "init": 0.1}),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,kw", MODULES)
def test_modules_match_torch(name, kw, dtype, rng):
    torch = pytest.importorskip("torch")
    x = (rng.standard_normal((4, 5, 7)) * 4).astype(dtype)
    g = rng.standard_normal((4, 5, 7)).astype(dtype)
    tm = getattr(torch.nn, name)(**kw).to(getattr(torch, dtype))
    fm = getattr(nn, name)(**kw).to(getattr(fastnn, dtype))
    assert repr(fm) == repr(tm)
    assert list(fm.state_dict()) == list(tm.state_dict())
    # inplace needs a non-leaf input, as in torch
    tx = torch.from_numpy(x).requires_grad_(True)
    fx = fastnn.tensor(x, requires_grad=True)
    ty, fy = tm(tx * 1), fm(fx * 1)
    ty.backward(torch.from_numpy(g))
    fy.backward(fastnn.tensor(g))
    tol = dict(atol=1e-5, rtol=1e-5) if dtype == "float32" else dict(atol=1e-12, rtol=1e-12)
    assert_close(fy.detach().numpy(), ty.detach().numpy(), **tol)
    assert_close(fx.grad.numpy(), tx.grad.numpy(), **tol)
    if name == "PReLU":
        assert_close(fm.weight.grad.numpy(), tm.weight.grad.numpy(), **tol)


def test_inplace_writes_into_the_input():
    x = fastnn.tensor([-3.0, 0.5, 9.0])
    y = F.relu6(x, inplace=True)
    assert y is x and x.tolist() == [0.0, 0.5, 6.0]
    x = fastnn.tensor([-1.0, 2.0])
    F.elu(x, inplace=True)
    assert_close(x.numpy(), [np.expm1(-1.0), 2.0], atol=1e-6, rtol=1e-6)


def test_prelu_state_dict_round_trip(tmp_path):
    m = nn.PReLU(4, init=0.3)
    with fastnn.no_grad():
        m.weight.mul_(fastnn.tensor([1.0, 2.0, 3.0, 4.0]))
    fastnn.save(m.state_dict(), tmp_path / "p.pt")
    m2 = nn.PReLU(4)
    m2.load_state_dict(fastnn.load(tmp_path / "p.pt"))
    np.testing.assert_array_equal(m2.weight.detach().numpy(), m.weight.detach().numpy())


def test_bad_input():
    x = np.zeros(4, np.float32)
    with pytest.raises(ValueError, match="min_val .* cannot be greater than max_val"):
        K.hardtanh(x, 2.0, 1.0)
    with pytest.raises(ValueError, match="min_val .* cannot be greater than max_val"):
        F.hardtanh(fastnn.zeros(3), 2.0, 1.0)
    with pytest.raises(ValueError, match="max_val .* must be greater than min_val"):
        nn.Hardtanh(1.0, 1.0)
    with pytest.raises(ValueError, match="beta"):
        K.softplus(x, 0.0)
    with pytest.raises(ValueError, match="beta must be non-zero"):
        F.softplus(fastnn.zeros(3), beta=0)
    with pytest.raises(TypeError, match="'x' must have dtype float32 or float64, got int64"):
        K.silu(np.zeros(3, np.int64))
    with pytest.raises(TypeError, match="same dtype"):
        K.mish_backward(x, x.astype(np.float64))
    with pytest.raises(ValueError, match="same shape"):
        K.elu_backward(x, x[:3])
    with pytest.raises(ValueError, match="'weight' has 3 parameters, so 'x' must have 3 channels"):
        K.prelu(np.zeros((2, 4), np.float32), np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="weight has 3 parameters but the input of shape"):
        F.prelu(fastnn.zeros(2, 4), fastnn.zeros(3))
    with pytest.raises(ValueError, match="weight must be 1-D"):
        F.prelu(fastnn.zeros(2, 4), fastnn.zeros(2, 2))
    with pytest.raises(ValueError, match="num_parameters must be a positive int"):
        nn.PReLU(0)
    with pytest.raises(ValueError, match="'out' must have shape"):
        K.logsigmoid(x, out=np.zeros(3, np.float32))
    keep = x.copy()
    with pytest.raises(TypeError):
        K.silu(x, out=np.zeros(4, np.float64))
    np.testing.assert_array_equal(x, keep)


def test_float16_uses_the_numpy_path():
    x = fastnn.tensor([-2.0, 0.0, 3.0], dtype=fastnn.float16)
    for fn in (F.silu, F.mish, F.softplus, F.elu, F.selu, F.hardtanh, F.logsigmoid):
        y = fn(x)
        assert y.dtype == fastnn.float16
        ref = fn(x.to(fastnn.float32))
        assert_close(y.float().numpy(), ref.numpy(), atol=5e-3, rtol=5e-3)
