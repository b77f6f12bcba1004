"""fastnn.optim's Adadelta, Adamax, NAdam, RAdam (fused kernels), ASGD and Rprop (NumPy):
100-step trajectories against torch.optim in float32 and float64, the fused kernels against the
reference path, torch's signatures and hyperparameter errors, state_dict round trips, and
torch optimizer state_dicts loaded and continued."""

import copy
import inspect

import numpy as np
import pytest

import fastnn
from conftest import assert_close
from fastnn import optim


class Param:
    """Stand-in for nn.Parameter: storage in _data, gradient in grad."""

    def __init__(self, data):
        self._data = data
        self.grad = None
        self.requires_grad = True
        self.is_leaf = True


SHAPES = [(1,), (7,), (33,), (257,), (5, 3), (4,)]  # the last one never gets a gradient

CASES = [
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "eps": 1e-5, "weight_decay": 0.05, "maximize": True}),
    ("Adamax", {}),
    ("Adamax", {"lr": 0.01, "betas": (0.8, 0.95), "weight_decay": 0.05, "maximize": True}),
    ("NAdam", {}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.05, "momentum_decay": 0.01}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True, "maximize": True}),
    ("RAdam", {}),
    ("RAdam", {"lr": 0.01, "betas": (0.8, 0.9), "weight_decay": 0.05}),
    ("RAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True, "maximize": True}),
    ("ASGD", {}),
    ("ASGD", {"lr": 0.05, "lambd": 1e-2, "alpha": 0.5, "t0": 30, "weight_decay": 0.05}),
    ("ASGD", {"lr": 0.02, "t0": 0, "maximize": True}),
    ("Rprop", {}),
    ("Rprop", {"lr": 0.05, "etas": (0.3, 1.5), "step_sizes": (1e-3, 0.2), "maximize": True}),
]
FUSED = {"Adadelta", "Adamax", "NAdam", "RAdam"}


def case_id(case):
    return case[0] + "-" + "-".join(f"{k}={v}" for k, v in case[1].items())


def grad_sequence(rng, steps, dtype):
    seq = []
    for t in range(steps):
        grads = [(rng.standard_normal(s) + 0.3).astype(dtype) for s in SHAPES[:-1]] + [None]
        if t % 4 == 2:
            grads[1] = None  # a parameter skipping steps: its own step count lags
        seq.append(grads)
    return seq


def _set(params, grads):
    for p, g in zip(params, grads):
        p.grad = None if g is None else Param(g.copy())


def _groups(ps, name, opts):
    second = {"params": ps[3:], "lr": opts.get("lr", 0.01) * 0.5}
    if name not in ("Rprop",):
        second["weight_decay"] = 0.02
    return [{"params": ps[:3]}, second]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_torch_trajectory(case, dtype, rng):
    torch = pytest.importorskip("torch")
    name, opts = case
    params = [Param(rng.standard_normal(s).astype(dtype)) for s in SHAPES]
    tparams = [torch.tensor(p._data.copy(), requires_grad=True) for p in params]
    opt = getattr(optim, name)(_groups(params, name, opts), **opts)
    topt = getattr(torch.optim, name)(_groups(tparams, name, opts), foreach=False, **opts)
    for grads in grad_sequence(rng, 100, dtype):
        _set(params, grads)
        for tp, g in zip(tparams, grads):
            tp.grad = None if g is None else torch.from_numpy(g.copy())
        opt.step()
        topt.step()
    assert params[-1] not in opt.state  # never had a gradient: no state, as in torch
    tol = {"atol": 2e-6, "rtol": 2e-5} if dtype == np.float32 else {"atol": 1e-13, "rtol": 1e-12}
    for i, (p, tp) in enumerate(zip(params[:-1], tparams)):
        assert p._data.dtype == dtype
        assert_close(p._data, tp.detach().numpy(), name=f"{name} param {i}", **tol)
        tstate = topt.state[tp]
        assert set(opt.state[p]) == set(tstate), (set(opt.state[p]), set(tstate))
        for key, value in tstate.items():
            got = opt.state[p][key]
            if value.dim() == 0:
                assert got == pytest.approx(value.item(), rel=1e-6 if key != "step" else 0)
            else:
                assert_close(got, value.numpy(), name=f"{name} state {key}", **tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", [c for c in CASES if c[0] in FUSED], ids=case_id)
def test_fused_matches_reference(case, dtype, rng):
    name, opts = case
    fused = [Param(rng.standard_normal(s).astype(dtype)) for s in SHAPES]
    plain = [Param(p._data.copy()) for p in fused]
    opt_f = getattr(optim, name)(_groups(fused, name, opts), **opts)
    opt_r = getattr(optim, name)(_groups(plain, name, opts), fused=False, **opts)
    for grads in grad_sequence(rng, 60, dtype):
        _set(fused, grads)
        _set(plain, grads)
        opt_f.step()
        opt_r.step()
    tol = {"atol": 1e-5, "rtol": 1e-5} if dtype == np.float32 else {"atol": 1e-12, "rtol": 1e-12}
    for a, b in zip(fused, plain):
        assert_close(a._data, b._data, name=name, **tol)
        for key, value in opt_r.state[b].items() if b in opt_r.state else ():
            got = opt_f.state[a][key]
            if np.ndim(value) == 0:
                assert got == value
            else:
                assert_close(got, value, name=f"{name} state {key}", **tol)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_state_dict_round_trip(case, rng):
    name, opts = case
    cls = getattr(optim, name)
    params = [Param(rng.standard_normal(s).astype(np.float32)) for s in SHAPES]
    opt = cls(_groups(params, name, opts), **opts)
    seq = grad_sequence(rng, 24, np.float32)
    for grads in seq[:12]:
        _set(params, grads)
        opt.step()
    saved = copy.deepcopy(opt.state_dict())
    saved_params = [p._data.copy() for p in params]
    for grads in seq[12:]:
        _set(params, grads)
        opt.step()
    params2 = [Param(d) for d in saved_params]
    opt2 = cls([{"params": params2[:3]}, {"params": params2[3:]}], **opts)
    opt2.load_state_dict(saved)
    assert opt2.param_groups[1]["lr"] == opt.param_groups[1]["lr"]
    for grads in seq[12:]:
        _set(params2, grads)
        opt2.step()
    for a, b in zip(params, params2):
        np.testing.assert_array_equal(a._data, b._data)


@pytest.mark.parametrize("via_file", [False, True], ids=["in_memory", "torch_save"])
@pytest.mark.parametrize("case", [CASES[1], CASES[3], CASES[6], CASES[9], CASES[11], CASES[14]])
def test_torch_state_dict_loads_and_continues(case, via_file, rng, tmp_path):
    torch = pytest.importorskip("torch")
    name, opts = case
    shapes = SHAPES[:5]
    tparams = [torch.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]
    topt = getattr(torch.optim, name)(tparams, foreach=False, **opts)
    grads = [[rng.standard_normal(s) for s in shapes] for _ in range(20)]
    for gs in grads[:8]:
        for tp, g in zip(tparams, gs):
            tp.grad = torch.from_numpy(g.copy())
        topt.step()
    sd = topt.state_dict()
    if via_file:
        torch.save(sd, tmp_path / "opt.pt")
        sd = fastnn.load(tmp_path / "opt.pt")
    params = [Param(tp.detach().numpy().copy()) for tp in tparams]
    opt = getattr(optim, name)(params, **opts)
    opt.load_state_dict(sd)
    for gs in grads[8:]:
        for p, tp, g in zip(params, tparams, gs):
            p.grad = Param(g.copy())
            tp.grad = torch.from_numpy(g.copy())
        topt.step()
        opt.step()
    for p, tp in zip(params, tparams):
        assert_close(p._data, tp.detach().numpy(), atol=1e-13, rtol=1e-12, name=name)


BAD = [
    ("Adadelta", {"lr": -0.1}),
    ("Adadelta", {"rho": 1.1}),
    ("Adadelta", {"rho": -0.1}),
    ("Adadelta", {"eps": -1.0}),
    ("Adadelta", {"weight_decay": -1.0}),
    ("Adamax", {"lr": -1.0}),
    ("Adamax", {"eps": -1.0}),
    ("Adamax", {"betas": (1.0, 0.9)}),
    ("Adamax", {"betas": (0.9, -0.5)}),
    ("Adamax", {"weight_decay": -0.5}),
    ("NAdam", {"lr": -1.0}),
    ("NAdam", {"betas": (0.9, 1.0)}),
    ("NAdam", {"momentum_decay": -0.1}),
    ("NAdam", {"weight_decay": -0.1}),
    ("RAdam", {"lr": -1.0}),
    ("RAdam", {"eps": -1e-8}),
    ("RAdam", {"betas": (-0.1, 0.9)}),
    ("RAdam", {"weight_decay": -2.0}),
    ("ASGD", {"lr": -1.0}),
    ("ASGD", {"weight_decay": -1.0}),
    ("Rprop", {"lr": -1.0}),
    ("Rprop", {"etas": (1.2, 1.5)}),
    ("Rprop", {"etas": (0.5, 0.9)}),
]


@pytest.mark.parametrize("bad", BAD, ids=lambda b: f"{b[0]}-{b[1]}")
def test_bad_hyperparameters_raise_torchs_error(bad):
    torch = pytest.importorskip("torch")
    name, opts = bad
    with pytest.raises(ValueError) as want:
        getattr(torch.optim, name)([torch.zeros(3, requires_grad=True)], **opts)
    with pytest.raises(ValueError) as got:
        getattr(optim, name)([Param(np.zeros(3, np.float32))], **opts)
    assert str(got.value) == str(want.value)


@pytest.mark.parametrize("name", ["Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop", "LBFGS"])
def test_signature_and_defaults_match_torch(name):
    torch = pytest.importorskip("torch")
    ours = inspect.signature(getattr(optim, name).__init__).parameters
    theirs = inspect.signature(getattr(torch.optim, name).__init__).parameters
    ours = [(p.name, p.kind, p.default) for p in ours.values() if p.name != "fused"]
    theirs = [(p.name, p.kind, p.default) for p in theirs.values()]
    assert ours == theirs
    assert getattr(optim, name)([Param(np.zeros(2))]).defaults.keys() >= (
        getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)]).defaults.keys()
    )


def test_reference_only_optimizers_reject_other_storage():
    class DeviceArray:
        shape = (3,)

    p = Param(DeviceArray())
    p.grad = Param(DeviceArray())
    for cls in (optim.ASGD, optim.Rprop):
        with pytest.raises(TypeError, match="numpy arrays"):
            cls([p]).step()


def test_step_with_closure_returns_its_loss(rng):
    params = [Param(rng.standard_normal(4).astype(np.float32))]

    def closure():
        params[0].grad = Param(np.ones(4, np.float32))
        return 2.5

    for name in ("Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"):
        opt = getattr(optim, name)(params)
        assert opt.step(closure) == 2.5
        assert opt.state[params[0]]["step"] == 1
