"""nn.utils.weight_norm / spectral_norm (the hook forms) and nn.utils.parametrizations'
weight_norm / spectral_norm against torch: torch's state dict loaded into the fastnn layer, then
outputs, every gradient and the power-iteration vectors compared over several training and eval
calls; checkpoints crossing between the two forms and libraries; removal; gradcheck of the
formulas in float64; and the errors."""

import warnings

import numpy as np
import pytest

import fastnn
from fastnn.autograd import gradcheck
from fastnn.nn.utils import parametrizations as P
from fastnn.nn.utils import remove_spectral_norm, remove_weight_norm, spectral_norm, weight_norm
from fastnn.nn.utils.weight_norm import norm_except_dim

torch = pytest.importorskip("torch")
nn = fastnn.nn

LAYERS = [
    ("Linear", (7, 33), (5, 7)),
    ("Linear", (1, 1), (3, 1)),
    ("Conv2d", (3, 5, (2, 3)), (2, 3, 6, 7)),
    ("Conv1d", (2, 7, 1), (1, 2, 4)),
    ("ConvTranspose2d", (4, 3, 3), (2, 4, 5, 5)),
]
TOL = {np.float32: 1e-5, np.float64: 1e-11}


def _tdtype(dtype):
    return getattr(torch, np.dtype(dtype).name)


def _pair(name, args, dtype):
    tm = getattr(torch.nn, name)(*args).to(_tdtype(dtype))
    fm = getattr(nn, name)(*args).to(np.dtype(dtype).name)
    _load(fm, tm.state_dict())
    return fm, tm


def _load(fm, tstate, strict=True):
    state = {k: fastnn.tensor(v.detach().numpy().copy()) for k, v in tstate.items()}
    return fm.load_state_dict(state, strict=strict)


def _run(fm, tm, shape, dtype, rng):
    """One forward and backward in both; returns (fastnn out, torch out)."""
    x = rng.standard_normal(shape).astype(dtype)
    fx, tx = fastnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    fo, to = fm(fx), tm(tx)
    r = rng.standard_normal(tuple(to.shape)).astype(dtype)
    (fo * fastnn.tensor(r)).sum().backward()
    (to * torch.tensor(r)).sum().backward()
    tol = TOL[dtype]
    np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), rtol=tol * 10, atol=tol * 10)
    return fo, to


def _check_same(fm, tm, dtype):
    tol = TOL[dtype] * 10
    fs, ts = fm.state_dict(keep_vars=True), tm.state_dict(keep_vars=True)
    assert list(fs) == list(ts)
    for k in ts:
        np.testing.assert_allclose(
            fs[k].detach().numpy(), ts[k].detach().numpy(), rtol=tol, atol=tol
        )
    for (k, fp), (_, tp) in zip(fm.named_parameters(), tm.named_parameters()):
        np.testing.assert_allclose(fp.grad.numpy(), tp.grad.numpy(), rtol=tol, atol=tol, err_msg=k)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("dim", [0, None, -2])
def test_weight_norm_hooks_match_torch(layer, dim, dtype):
    name, args, shape = layer
    rng = np.random.default_rng(0)
    fm, tm = _pair(name, args, dtype)
    with pytest.warns(FutureWarning, match="parametrizations.weight_norm"):
        weight_norm(fm, dim=dim)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        torch.nn.utils.weight_norm(tm, dim=dim)
    assert fm.weight_g.shape == tm.weight_g.shape
    for _ in range(2):
        fo, to = _run(fm, tm, shape, dtype, rng)
        tol = TOL[dtype]
        np.testing.assert_allclose(fo.detach().numpy(), to.detach().numpy(), rtol=tol, atol=tol)
    _check_same(fm, tm, dtype)
    with torch.no_grad():
        tm.weight_g.mul_(1.5)
    _load(fm, tm.state_dict())
    remove_weight_norm(fm)
    torch.nn.utils.remove_weight_norm(tm)
    assert list(fm.state_dict()) == list(tm.state_dict())
    assert isinstance(fm.weight, nn.Parameter)
    np.testing.assert_allclose(
        fm.weight.detach().numpy(), tm.weight.detach().numpy(), rtol=TOL[dtype], atol=TOL[dtype]
    )
    assert not fm._forward_pre_hooks


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("dim", [1, None])
def test_weight_norm_parametrization_matches_torch(layer, dim, dtype):
    name, args, shape = layer
    rng = np.random.default_rng(1)
    fm, tm = _pair(name, args, dtype)
    P.weight_norm(fm, dim=dim)
    torch.nn.utils.parametrizations.weight_norm(tm, dim=dim)
    assert list(fm.state_dict()) == list(tm.state_dict())
    for _ in range(2):
        fo, to = _run(fm, tm, shape, dtype, rng)
        tol = TOL[dtype]
        np.testing.assert_allclose(fo.detach().numpy(), to.detach().numpy(), rtol=tol, atol=tol)
    _check_same(fm, tm, dtype)


def test_weight_norm_parametrization_loads_hook_form_checkpoint():
    tm = torch.nn.Linear(7, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        torch.nn.utils.weight_norm(tm)
    with torch.no_grad():
        tm.weight_g.mul_(2.0)
    tm(torch.randn(1, 7))  # the hook recomputes tm.weight
    fm = P.weight_norm(nn.Linear(7, 4))
    _load(fm, tm.state_dict())
    np.testing.assert_allclose(fm.weight.detach().numpy(), tm.weight.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(
        fm.parametrizations.weight.original0.detach().numpy(), tm.weight_g.detach().numpy()
    )


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_weight_norm_gradcheck(dim):
    rng = np.random.default_rng(2)
    v = fastnn.tensor(rng.standard_normal((3, 1, 4)), requires_grad=True)
    g = fastnn.tensor(norm_except_dim(v, dim).detach().numpy() * 1.3, requires_grad=True)
    wn = P._WeightNorm(dim)
    assert gradcheck(lambda g, v: wn(g, v), (g, v))


def _spectral_pair(layer, args, dtype, form, **kw):
    fm, tm = _pair(layer, args, dtype)
    if form == "hooks":
        spectral_norm(fm, **kw)
        if kw.get("dim", 0) < 0:  # torch's hook form fails on a negative dim; fastnn wraps it
            kw["dim"] += tm.weight.ndim
        torch.nn.utils.spectral_norm(tm, **kw)
    else:
        P.spectral_norm(fm, **kw)
        torch.nn.utils.parametrizations.spectral_norm(tm, **kw)
    assert list(fm.state_dict()) == list(tm.state_dict())
    _load(fm, tm.state_dict())  # the same weight, u and v
    return fm, tm


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("form", ["hooks", "parametrization"])
def test_spectral_norm_matches_torch(layer, form, dtype):
    name, args, shape = layer
    rng = np.random.default_rng(3)
    fm, tm = _spectral_pair(name, args, dtype, form, n_power_iterations=2)
    tol = TOL[dtype] * 10
    for training in (True, True, False, True):
        fm.train(training), tm.train(training)
        fo, to = _run(fm, tm, shape, dtype, rng)
        np.testing.assert_allclose(fo.detach().numpy(), to.detach().numpy(), rtol=tol, atol=tol)
    _check_same(fm, tm, dtype)  # u and v after the iterations, and every gradient


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_spectral_norm_dims(dim):
    for form in ("hooks", "parametrization"):
        fm, tm = _spectral_pair("Conv1d", (2, 5, 3), np.float64, form, dim=dim)
        fo, to = _run(fm, tm, (2, 2, 6), np.float64, np.random.default_rng(4))
        np.testing.assert_allclose(fo.detach().numpy(), to.detach().numpy(), rtol=1e-10)
        _check_same(fm, tm, np.float64)


def test_spectral_norm_parametrization_of_a_vector():
    fm, tm = _spectral_pair("Linear", (3, 5), np.float64, "parametrization", name="bias")
    np.testing.assert_allclose(fm.bias.detach().numpy(), tm.bias.detach().numpy(), rtol=1e-12)
    assert abs(float(fm.bias.norm()) - 1.0) < 1e-12


def test_spectral_norm_gradcheck():
    rng = np.random.default_rng(5)
    w = fastnn.tensor(rng.standard_normal((4, 3, 2)), requires_grad=True)
    sn = P._SpectralNorm(w, n_power_iterations=1, dim=1).eval()  # fixed u, v: a function of w
    assert gradcheck(sn, (w,))
    m = spectral_norm(nn.Linear(3, 4).double()).eval()
    x = fastnn.tensor(rng.standard_normal((2, 3)))
    assert gradcheck(lambda w: (m.weight_orig.data.copy_(w.detach()), m(x))[1], (m.weight_orig,))


def test_spectral_norm_hooks_checkpoints():
    """torch's state dict (with its metadata) loads, and so does the layout before version 1,
    which saved the normalized weight and no v."""
    tm = torch.nn.utils.spectral_norm(torch.nn.Linear(6, 4).double())
    tm(torch.randn(2, 6, dtype=torch.float64))
    fm = spectral_norm(nn.Linear(6, 4).double())
    sd = {k: fastnn.tensor(v.numpy().copy()) for k, v in tm.state_dict().items()}
    assert fm.state_dict()._metadata[""]["spectral_norm"] == {"weight.version": 1}
    fm.load_state_dict(sd)
    old = dict(sd)
    old["weight"] = fastnn.tensor(tm.weight.detach().numpy().copy())
    del old["weight_v"]
    fm2 = spectral_norm(nn.Linear(6, 4).double())
    fm2.load_state_dict(old)
    tm2 = torch.nn.utils.spectral_norm(torch.nn.Linear(6, 4).double())
    tm2.load_state_dict({k: torch.tensor(v.numpy()) for k, v in old.items()})
    np.testing.assert_allclose(fm2.weight_v.numpy(), tm2.weight_v.numpy(), rtol=1e-8, atol=1e-12)
    fm2.eval(), tm2.eval()
    x = np.random.default_rng(6).standard_normal((3, 6))
    np.testing.assert_allclose(
        fm2(fastnn.tensor(x)).detach().numpy(), tm2(torch.tensor(x)).detach().numpy(), rtol=1e-8
    )


def test_remove_spectral_norm_matches_torch():
    fm, tm = _spectral_pair("Conv2d", (3, 4, 2), np.float64, "hooks")
    _run(fm, tm, (1, 3, 4, 4), np.float64, np.random.default_rng(7))
    remove_spectral_norm(fm)
    torch.nn.utils.remove_spectral_norm(tm)
    assert list(fm.state_dict()) == list(tm.state_dict())
    np.testing.assert_allclose(fm.weight.detach().numpy(), tm.weight.detach().numpy(), rtol=1e-12)
    assert not fm._forward_pre_hooks and not fm._state_dict_hooks
    assert "spectral_norm" not in fm.state_dict()._metadata[""]


def test_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        m = weight_norm(nn.Linear(2, 3))
        with pytest.raises(RuntimeError, match="two weight_norm hooks"):
            weight_norm(m)
        with pytest.raises(AttributeError, match="'foo'"):
            weight_norm(nn.Linear(2, 3), name="foo")
        with pytest.raises(IndexError, match="Dimension out of range"):
            weight_norm(nn.Linear(2, 3), dim=2)
        with pytest.raises(ValueError, match="uninitialized"):
            weight_norm(nn.LazyLinear(3))
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        remove_weight_norm(nn.Linear(2, 3))
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
        remove_spectral_norm(nn.Linear(2, 3))
    with pytest.raises(RuntimeError, match="two spectral_norm hooks"):
        spectral_norm(spectral_norm(nn.Linear(2, 3)))
    with pytest.raises(KeyError, match="'foo'"):
        spectral_norm(nn.Linear(2, 3), name="foo")
    for fn in (spectral_norm, P.spectral_norm):
        with pytest.raises(ValueError, match="n_power_iterations=0"):
            fn(nn.Linear(2, 3), n_power_iterations=0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        P.spectral_norm(nn.Linear(2, 3), dim=2)
    for fn in (P.spectral_norm, P.weight_norm):
        with pytest.raises(ValueError, match="name 'foo'"):
            fn(nn.Linear(2, 3), name="foo")
