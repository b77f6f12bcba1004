"""fastnn.optim.Adafactor and fastnn.optim.Muon against torch.optim's: step-by-step trajectories
on random parameters and gradients (float64 tight, float32 to its rounding), the state torch
keeps (keys and shapes), state_dict round trips, torch's state_dicts loaded and continued,
torch's signatures, and torch's ValueError for bad hyperparameters."""

import copy
import inspect

import numpy as np
import pytest

import fastnn
from conftest import assert_close
from fastnn import optim
from fastnn.optim.muon import orthogonalize

torch = pytest.importorskip("torch")

ADAFACTOR_SHAPES = [(7, 5), (33,), (2, 3, 4), (), (1, 1), (1,)]
MUON_SHAPES = [(7, 5), (5, 7), (33, 33), (1, 8)]

ADAFACTOR_CASES = [
    {},
    {"lr": 0.5, "weight_decay": 0.1, "maximize": True, "d": 1.5, "eps": (1e-20, 1e-2)},
    {"lr": 0.05, "beta2_decay": -0.5, "eps": (1e-4, 1e-3)},
]
MUON_CASES = [
    {},
    {"lr": 0.02, "nesterov": False, "adjust_lr_fn": "match_rms_adamw", "momentum": 0.9},
    {"lr": 0.01, "weight_decay": 0.0, "ns_steps": 3, "adjust_lr_fn": "original"},
]


def _trajectories(name, shapes, opts, dtype, steps, rng):
    """Both optimizers over the same parameters and gradients: a list of (fastnn, torch)
    parameter pairs after every step, and the two optimizers."""
    init = [rng.standard_normal(s).astype(dtype) for s in shapes]
    fp = [fastnn.tensor(a, requires_grad=True) for a in init]
    tp = [torch.tensor(a, requires_grad=True) for a in init]
    fopt, topt = getattr(optim, name)(fp, **opts), getattr(torch.optim, name)(tp, **opts)
    history = []
    for _ in range(steps):
        for f, t in zip(fp, tp, strict=True):
            g = rng.standard_normal(f.shape).astype(dtype)
            f.grad, t.grad = fastnn.tensor(g), torch.tensor(g)
        fopt.step()
        topt.step()
        history.append([(f.detach().numpy(), t.detach().numpy()) for f, t in zip(fp, tp)])
    return history, fopt, topt


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("opts", ADAFACTOR_CASES)
def test_adafactor_follows_torch(opts, dtype):
    history, fopt, topt = _trajectories(
        "Adafactor", ADAFACTOR_SHAPES, opts, dtype, 8, np.random.default_rng(1)
    )
    tol = {"atol": 1e-14, "rtol": 1e-13} if dtype == np.float64 else {"atol": 5e-6, "rtol": 5e-6}
    for step, pairs in enumerate(history):
        for ours, theirs in pairs:
            assert_close(ours, theirs, name=f"step {step + 1}", **tol)
    for i, (ours, theirs) in enumerate(zip(fopt.state.values(), topt.state.values())):
        assert sorted(ours) == sorted(theirs), i
        assert ours["step"] == int(theirs["step"])
        for key in ours.keys() - {"step"}:
            assert ours[key].shape == tuple(theirs[key].shape), key
            assert_close(ours[key], theirs[key].numpy(), name=key, **tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adafactor_zero_gradients_follow_torch(dtype):
    # zero rows, columns and entries make eps1 (the dtype's eps by default) bound the variance
    rng = np.random.default_rng(7)
    init = [rng.standard_normal(s).astype(dtype) for s in [(4, 3), (5,)]]
    fp = [fastnn.tensor(a, requires_grad=True) for a in init]
    tp = [torch.tensor(a, requires_grad=True) for a in init]
    fopt, topt = optim.Adafactor(fp, lr=0.1), torch.optim.Adafactor(tp, lr=0.1)
    for step in range(4):
        for f, t in zip(fp, tp):
            g = rng.standard_normal(f.shape).astype(dtype)
            g[..., step % f.shape[-1]] = 0
            if g.ndim == 2:
                g[step % 4] = 0
            f.grad, t.grad = fastnn.tensor(g), torch.tensor(g)
        fopt.step()
        topt.step()
        for f, t in zip(fp, tp):
            assert_close(f.detach().numpy(), t.detach().numpy(), atol=1e-6, rtol=1e-6)


def _polar(m, *args):
    """U V^T of m = U S V^T in float64: an exact stand-in for the bfloat16 Newton-Schulz
    iteration, so that the rest of Muon's step can be compared with torch's tightly."""
    u, _, vh = np.linalg.svd(np.asarray(m, np.float64), full_matrices=False)
    return u @ vh


@pytest.fixture
def exact_orthogonalization(monkeypatch):
    import torch.optim._muon as torch_muon

    import fastnn.optim.muon as fastnn_muon

    monkeypatch.setattr(fastnn_muon, "orthogonalize", _polar)
    monkeypatch.setattr(
        torch_muon, "_zeropower_via_newtonschulz", lambda g, *a: torch.tensor(_polar(g)).to(g.dtype)
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("opts", MUON_CASES)
def test_muon_follows_torch(opts, dtype, exact_orthogonalization):
    # momentum, Nesterov, the lr adjustment and weight decay, with the same orthogonalization
    history, fopt, topt = _trajectories(
        "Muon", MUON_SHAPES, opts, dtype, 6, np.random.default_rng(2)
    )
    tol = {"atol": 1e-14, "rtol": 1e-13} if dtype == np.float64 else {"atol": 2e-6, "rtol": 2e-6}
    for step, pairs in enumerate(history):
        for ours, theirs in pairs:
            assert_close(ours, theirs, name=f"step {step + 1}", **tol)
    for ours, theirs in zip(fopt.state.values(), topt.state.values()):
        assert list(ours) == list(theirs) == ["momentum_buffer"]
        assert_close(ours["momentum_buffer"], theirs["momentum_buffer"].numpy(), **tol)


@pytest.mark.parametrize("opts", MUON_CASES)
def test_muon_bfloat16_steps_stay_within_its_rounding_of_torch(opts):
    # both iterate in bfloat16 but sum the products in different orders, so now and then an
    # entry rounds to the neighbouring bfloat16 value: a few units of 2^-9 in the update
    history, _, _ = _trajectories(
        "Muon", MUON_SHAPES, opts, np.float64, 3, np.random.default_rng(6)
    )
    step_size = opts.get("lr", 1e-3) * 0.2 * np.sqrt(33)  # at least each step's lr
    for step, pairs in enumerate(history):
        for ours, theirs in pairs:
            assert_close(
                ours, theirs, name=f"step {step + 1}", atol=(step + 1) * step_size * 8e-3, rtol=0
            )


def test_orthogonalize_matches_torch_and_orthogonalizes():
    from torch.optim._muon import _zeropower_via_newtonschulz

    rng = np.random.default_rng(3)
    coefficients = (3.4445, -4.775, 2.0315)
    for shape in [(1, 8), (7, 5), (5, 7), (33, 33), (64, 16)]:
        m = rng.standard_normal(shape)
        ours = orthogonalize(m, coefficients, 5, 1e-7)
        theirs = _zeropower_via_newtonschulz(torch.tensor(m), coefficients, 5, 1e-7)
        assert_close(ours, theirs.float().numpy(), atol=8e-3, rtol=0)  # bfloat16 neighbours
        assert not (ours.astype(np.float32).view(np.uint32) & 0xFFFF).any()  # bfloat16 values
        s = np.linalg.svd(ours.astype(np.float64), compute_uv=False)
        assert s.min() > 0.5 and s.max() < 1.5, s  # the quintic's target band


def test_state_dict_round_trip():
    rng = np.random.default_rng(4)
    for name, shapes, opts in [
        ("Adafactor", ADAFACTOR_SHAPES, {"lr": 0.1, "weight_decay": 0.01}),
        ("Muon", MUON_SHAPES, {"lr": 0.05}),
    ]:
        cls = getattr(optim, name)
        params = [fastnn.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]
        opt = cls([{"params": params[:2]}, {"params": params[2:], "lr": 0.01}], **opts)
        grads = [[rng.standard_normal(s) for s in shapes] for _ in range(8)]
        for gs in grads[:4]:
            for p, g in zip(params, gs):
                p.grad = fastnn.tensor(g)
            opt.step()
        saved = copy.deepcopy(opt.state_dict())
        params2 = [fastnn.tensor(p.detach().numpy().copy(), requires_grad=True) for p in params]
        for gs in grads[4:]:
            for p, g in zip(params, gs):
                p.grad = fastnn.tensor(g)
            opt.step()
        opt2 = cls([{"params": params2[:2]}, {"params": params2[2:]}], **opts)
        opt2.load_state_dict(saved)
        assert opt2.param_groups[1]["lr"] == 0.01
        for gs in grads[4:]:
            for p, g in zip(params2, gs):
                p.grad = fastnn.tensor(g)
            opt2.step()
        for a, b in zip(params, params2):
            np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


@pytest.mark.parametrize(
    "name,shapes,opts",
    [("Adafactor", ADAFACTOR_SHAPES, {"lr": 0.1}), ("Muon", MUON_SHAPES, {"lr": 0.05})],
)
def test_torch_state_dict_loads_and_continues(name, shapes, opts, exact_orthogonalization):
    rng = np.random.default_rng(5)
    tparams = [torch.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]
    topt = getattr(torch.optim, name)(tparams, **opts)
    grads = [[rng.standard_normal(s) for s in shapes] for _ in range(8)]
    for gs in grads[:4]:
        for tp, g in zip(tparams, gs):
            tp.grad = torch.tensor(g)
        topt.step()
    params = [fastnn.tensor(tp.detach().numpy().copy(), requires_grad=True) for tp in tparams]
    opt = getattr(optim, name)(params, **opts)
    opt.load_state_dict(topt.state_dict())
    for gs in grads[4:]:
        for p, tp, g in zip(params, tparams, gs):
            p.grad, tp.grad = fastnn.tensor(g), torch.tensor(g)
        topt.step()
        opt.step()
    for p, tp in zip(params, tparams):
        assert_close(p.detach().numpy(), tp.detach().numpy(), atol=1e-13, rtol=1e-12, name=name)


def test_factored_state_of_the_wrong_shape_is_refused():
    p = fastnn.zeros(4, 3, requires_grad=True)
    p.grad = fastnn.ones(4, 3)
    opt = optim.Adafactor([p])
    opt.step()
    saved = opt.state_dict()
    saved["state"][0]["row_var"] = np.zeros((4, 3))
    with pytest.raises(ValueError, match=r"'row_var' has shape \(4, 3\).*\(4, 1\)"):
        optim.Adafactor([fastnn.zeros(4, 3, requires_grad=True)]).load_state_dict(saved)


@pytest.mark.parametrize("name", ["Adafactor", "Muon"])
def test_signature_and_defaults_match_torch(name):
    ours = inspect.signature(getattr(optim, name).__init__).parameters
    theirs = inspect.signature(getattr(torch.optim, name).__init__).parameters
    assert [(p.name, p.kind, p.default) for p in ours.values()] == [
        (p.name, p.kind, p.default) for p in theirs.values()
    ]


BAD = [
    ("Adafactor", {"lr": -0.1}),
    ("Adafactor", {"beta2_decay": 0.5}),
    ("Adafactor", {"eps": (-1.0, 1e-3)}),
    ("Adafactor", {"eps": (None, -1e-3)}),
    ("Adafactor", {"d": 0.5}),
    ("Adafactor", {"weight_decay": -0.1}),
    ("Muon", {"lr": -0.1}),
    ("Muon", {"momentum": -0.5}),
    ("Muon", {"weight_decay": -0.1}),
    ("Muon", {"adjust_lr_fn": "bogus"}),
]


@pytest.mark.parametrize("bad", BAD, ids=lambda b: f"{b[0]}-{b[1]}")
def test_bad_hyperparameters_raise_torchs_error(bad):
    name, opts = bad
    with pytest.raises(ValueError) as want:
        getattr(torch.optim, name)([torch.zeros(3, 3, requires_grad=True)], **opts)
    with pytest.raises(ValueError) as got:
        getattr(optim, name)([fastnn.zeros(3, 3, requires_grad=True)], **opts)
    assert str(got.value) == str(want.value)


def test_muon_refuses_parameters_that_are_not_matrices():
    for shape in [(3,), (2, 3, 4), ()]:
        with pytest.raises(ValueError, match=rf"only supports 2D parameters.*{shape}"):
            optim.Muon([fastnn.zeros(*shape, requires_grad=True)])
    p = fastnn.zeros(3, 3, requires_grad=True)
    p.grad = fastnn.ones(3, 3)
    with pytest.raises(ValueError, match="less than 100"):
        optim.Muon([p], ns_steps=100).step()
    with pytest.raises(TypeError, match="ns_coefficients must be a tuple of 3 numbers"):
        optim.Muon([p], ns_coefficients=(1.0, 2.0))


def test_step_with_closure_returns_its_loss():
    p = fastnn.zeros(3, 2, requires_grad=True)

    def closure():
        p.grad = fastnn.ones(3, 2)
        return 2.5

    for cls in (optim.Adafactor, optim.Muon):
        opt = cls([p])
        assert opt.step(closure) == 2.5
        assert opt.state[p]


def test_host_only_optimizers_reject_other_storage():
    class DeviceArray:
        shape = (3, 3)
        ndim = 2

    class Param:
        def __init__(self, data):
            self._data, self.grad, self.requires_grad, self.is_leaf = data, None, True, True

    p = Param(DeviceArray())
    p.grad = Param(DeviceArray())
    for cls in (optim.Adafactor, optim.Muon):
        with pytest.raises(TypeError, match="numpy arrays"):
            cls([p]).step()
