"""fastnn.optim: optimizer classes (fused vs NumPy reference over >= 50 steps, torch parity,
param groups, lazy state, zero_grad, state_dict round trips, validation) and lr schedulers.

Parameters are a minimal stand-in with the Tensor contract's attributes (``_data``, ``grad``,
``requires_grad``, ``is_leaf``, ``zero_()``) until fastnn.Tensor lands on main.
"""

import copy

import numpy as np
import pytest

from conftest import assert_close
from fastnn import optim
from fastnn.optim import _functional
from fastnn.optim.lr_scheduler import CosineAnnealingLR, ExponentialLR, StepLR


class Param:
    """Stand-in for fastnn.Tensor / nn.Parameter (storage in _data, gradient in grad)."""

    def __init__(self, data, requires_grad=True):
        self._data = data
        self.grad = None
        self.requires_grad = requires_grad
        self.is_leaf = True

    def zero_(self):
        self._data[...] = 0
        return self


SHAPES = [(5, 3), (7,), (1,), (33,)]


def make_params(rng, dtype=np.float32, shapes=SHAPES):
    return [Param(rng.standard_normal(s).astype(dtype)) for s in shapes]


def set_grads(params, grads):
    for p, g in zip(params, grads):
        p.grad = None if g is None else Param(g.copy())


CLASS_CASES = [
    ("SGD", {"lr": 0.05}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.1, "maximize": True}),
    (
        "Adagrad",
        {"lr": 0.05, "lr_decay": 0.01, "weight_decay": 0.01, "initial_accumulator_value": 0.1},
    ),
    ("RMSprop", {"lr": 0.005, "weight_decay": 0.01}),
    ("RMSprop", {"lr": 0.005, "momentum": 0.5, "centered": True, "maximize": True}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.01}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "betas": (0.8, 0.95)}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True, "maximize": True}),
]


def case_id(case):
    return case[0] + "-" + "-".join(f"{k}={v}" for k, v in case[1].items())


def train(opt, params, grad_seq):
    for grads in grad_seq:
        opt.zero_grad()
        set_grads(params, grads)
        opt.step()


def grad_sequence(rng, shapes, steps, dtype, holes=False):
    seq = []
    for t in range(steps):
        grads = [rng.standard_normal(s).astype(dtype) for s in shapes]
        if holes and t % 3 == 1:
            grads[1] = None  # this parameter has no grad on some steps: its step count lags
        seq.append(grads)
    return seq


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CLASS_CASES, ids=case_id)
def test_fused_matches_reference(case, dtype, rng):
    name, opts = case
    fused = make_params(rng, dtype)
    plain = [Param(p._data.copy()) for p in fused]
    # two param groups with different learning rates
    cls = getattr(optim, name)
    groups = lambda ps: [{"params": ps[:2]}, {"params": ps[2:], "lr": opts["lr"] * 3}]
    opt_f = cls(groups(fused), **opts)
    opt_r = cls(groups(plain), fused=False, **opts)
    seq = grad_sequence(rng, SHAPES, 60, dtype, holes=True)
    train(opt_f, fused, seq)
    train(opt_r, plain, seq)
    tol = {"atol": 1e-5, "rtol": 1e-5} if dtype == np.float32 else {"atol": 1e-12, "rtol": 1e-12}
    for a, b in zip(fused, plain):
        assert a._data.dtype == dtype
        assert_close(a._data, b._data, name=name, **tol)
    for a, b in zip(fused, plain):
        for key, value in opt_r.state[b].items():
            got = opt_f.state[a][key]
            if key == "step":
                assert got == value
            else:
                assert_close(got, value, name=f"{name} state {key}", **tol)


@pytest.mark.parametrize("case", CLASS_CASES, ids=case_id)
def test_torch_parity(case, rng):
    torch = pytest.importorskip("torch")
    name, opts = case
    params = make_params(rng)
    tparams = [torch.tensor(p._data.copy(), requires_grad=True) for p in params]
    groups = lambda ps: [{"params": ps[:3]}, {"params": ps[3:], "lr": opts["lr"] / 2}]
    opt = getattr(optim, name)(groups(params), **opts)
    topt = getattr(torch.optim, name)(groups(tparams), foreach=False, **opts)
    for grads in grad_sequence(rng, SHAPES, 100, np.float32, holes=True):
        opt.zero_grad()
        topt.zero_grad()
        set_grads(params, grads)
        for tp, g in zip(tparams, grads):
            tp.grad = None if g is None else torch.from_numpy(g.copy())
        opt.step()
        topt.step()
    for p, tp in zip(params, tparams):
        assert_close(p._data, tp.detach().numpy(), atol=1e-6, rtol=1e-6, name=name)
    # the same state, under torch's keys
    for p, tp in zip(params, tparams):
        tstate = topt.state[tp]
        assert set(opt.state[p]) == set(tstate), (set(opt.state[p]), set(tstate))
        for key, value in tstate.items():
            if key == "step":
                assert opt.state[p][key] == int(value.item())
            else:
                assert_close(opt.state[p][key], value.numpy(), atol=1e-6, rtol=1e-5)


def test_seed_program_usage(rng):
    """SGD used the way the d2l programs use it: zero_grad, backward, step."""
    # torch.optim.SGD(net.parameters(), lr=0.03); optim.zero_grad(); loss.backward(); optim.step()
    params = make_params(rng)
    opt = optim.SGD(iter(params), lr=0.03)
    before = [p._data.copy() for p in params]
    grads = [rng.standard_normal(p._data.shape).astype(np.float32) for p in params]
    opt.zero_grad()
    set_grads(params, grads)
    opt.step()
    for p, b, g in zip(params, before, grads):
        assert_close(p._data, b - np.float32(0.03) * g, atol=1e-7, rtol=1e-6)


@pytest.mark.parametrize("case", CLASS_CASES, ids=case_id)
def test_state_dict_round_trip(case, rng):
    name, opts = case
    cls = getattr(optim, name)
    params = make_params(rng)
    opt = cls([{"params": params[:1]}, {"params": params[1:], "lr": 0.02}], **opts)
    seq = grad_sequence(rng, SHAPES, 20, np.float32, holes=True)
    train(opt, params, seq[:10])
    saved = copy.deepcopy(opt.state_dict())
    saved_params = [p._data.copy() for p in params]
    train(opt, params, seq[10:])

    params2 = [Param(d) for d in saved_params]
    opt2 = cls([{"params": params2[:1]}, {"params": params2[1:]}], **opts)
    opt2.load_state_dict(saved)
    assert opt2.param_groups[1]["lr"] == 0.02
    train(opt2, params2, seq[10:])
    for a, b in zip(params, params2):
        np.testing.assert_array_equal(a._data, b._data)
    # loading copies: training opt2 did not touch the saved dict
    for key, value in saved["state"].get(0, {}).items():
        if key != "step":
            assert value is not opt2.state[params2[0]][key]


def test_state_dict_layout(rng):
    params = make_params(rng)
    opt = optim.Adam([{"params": params[:2]}, {"params": params[2:], "lr": 0.5}], lr=0.1)
    assert len(opt.state) == 0  # lazy: nothing before the first step
    set_grads(params, [np.ones(p._data.shape, np.float32) for p in params[:3]] + [None])
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2, 3]]
    assert sd["param_groups"][1]["lr"] == 0.5 and sd["param_groups"][0]["lr"] == 0.1
    assert sd["param_groups"][0]["betas"] == (0.9, 0.999)
    assert sorted(sd["state"]) == [0, 1, 2]  # the parameter without a grad has no state
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    assert sd["state"][0]["step"] == 1
    assert sd["state"][2]["exp_avg"].shape == params[2]._data.shape


def test_load_state_dict_errors(rng):
    params = make_params(rng)
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        opt.load_state_dict({"state": {}, "param_groups": [{"params": [0]}, {"params": [1]}]})
    with pytest.raises(ValueError, match="doesn't match the size"):
        opt.load_state_dict({"state": {}, "param_groups": [{"params": [0, 1]}]})
    bad = {
        "state": {0: {"momentum_buffer": np.zeros(3)}},
        "param_groups": [dict(opt.param_groups[0], params=[0, 1, 2, 3])],
    }
    with pytest.raises(ValueError, match="shape"):
        opt.load_state_dict(bad)


def test_zero_grad(rng):
    params = make_params(rng)
    opt = optim.SGD(params, lr=0.1)
    set_grads(params, [np.ones(p._data.shape, np.float32) for p in params])
    grad0 = params[0].grad
    opt.zero_grad(set_to_none=False)
    assert params[0].grad is grad0 and not grad0._data.any()
    opt.zero_grad()
    assert all(p.grad is None for p in params)
    opt.step()  # no grads: a no-op, no state
    assert len(opt.state) == 0


def test_param_groups_with_different_lr(rng):
    a, b = make_params(rng, np.float64, [(4,), (4,)])
    a0, b0 = a._data.copy(), b._data.copy()
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    set_grads([a, b], [np.ones(4), np.ones(4)])
    opt.step()
    assert_close(a._data, a0 - 0.1, atol=1e-15, rtol=0)
    assert_close(b._data, b0 - 0.5, atol=1e-15, rtol=0)
    c = Param(np.zeros(2))
    opt.add_param_group({"params": c, "momentum": 0.9})
    assert opt.param_groups[2]["lr"] == 0.1 and opt.param_groups[2]["momentum"] == 0.9
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})


def test_adagrad_state_is_created_in_init(rng):
    params = make_params(rng)
    opt = optim.Adagrad(params, initial_accumulator_value=0.5)
    state = opt.state[params[0]]
    assert state["step"] == 0
    np.testing.assert_array_equal(state["sum"], np.full((5, 3), 0.5, np.float32))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: optim.SGD(p, lr=-0.1), "Invalid learning rate: -0.1"),
        (lambda p: optim.SGD(p, momentum=-1), "Invalid momentum value: -1"),
        (lambda p: optim.SGD(p, weight_decay=-1), "Invalid weight_decay value: -1"),
        (lambda p: optim.SGD(p, nesterov=True), "Nesterov momentum requires"),
        (lambda p: optim.Adam(p, lr=-1), "Invalid learning rate: -1"),
        (lambda p: optim.Adam(p, betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
        (lambda p: optim.Adam(p, betas=(0.9, -0.1)), "Invalid beta parameter at index 1"),
        (lambda p: optim.AdamW(p, eps=-1e-8), "Invalid epsilon value"),
        (lambda p: optim.RMSprop(p, alpha=-0.5), "Invalid alpha value: -0.5"),
        (lambda p: optim.RMSprop(p, momentum=-0.5), "Invalid momentum value"),
        (lambda p: optim.Adagrad(p, lr_decay=-1), "Invalid lr_decay value"),
        (
            lambda p: optim.Adagrad(p, initial_accumulator_value=-1),
            "Invalid initial_accumulator_value",
        ),
    ],
)
def test_hyperparameter_validation(make, message, rng):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make(make_params(rng))


def test_bad_params_arguments(rng):
    params = make_params(rng)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        optim.SGD(params[0], lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD([{"params": set(params)}], lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        optim.SGD([np.zeros(3)], lr=0.1)
    with pytest.raises(ValueError, match="duplicate parameters"):
        optim.SGD([params[0], params[0]], lr=0.1)
    with pytest.raises(TypeError, match="param_group must be a dict"):
        optim.SGD(params, lr=0.1).add_param_group(params)
    nonleaf = Param(np.zeros(3))
    nonleaf.is_leaf = False
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([nonleaf], lr=0.1)


def test_failed_step_changes_nothing(rng):
    params = make_params(rng)
    opt = optim.Adam(params, lr=0.1)
    set_grads(params, [np.ones(p._data.shape, np.float32) for p in params])
    params[2].grad = Param(np.ones((1,), np.float64))  # dtype mismatch with its parameter
    before = [p._data.copy() for p in params]
    with pytest.raises(TypeError, match="grads"):
        opt.step()
    for p, b in zip(params, before):
        np.testing.assert_array_equal(p._data, b)
    assert all(s["step"] == 0 for s in opt.state.values())


def test_unsupported_storage_raises_clearly():
    class DeviceArray:  # what a CUDA buffer would look like before the cuda helper hooks in
        shape = (3,)

    with pytest.raises(TypeError, match="no fused optimizer kernels for arrays of type DeviceA"):
        _functional.sgd([DeviceArray()], [DeviceArray()], None, lr=0.1)
    with pytest.raises(TypeError, match="one device"):
        _functional.kernels_for([np.zeros(3), DeviceArray()])
    p = Param(DeviceArray())
    p.grad = Param(DeviceArray())
    opt = optim.Adam([p])  # state is lazy: construction works ...
    with pytest.raises(TypeError, match="state buffers"):
        opt.step()  # ... the first step cannot create state on an unknown device


def test_closure_is_called_and_its_loss_returned(rng):
    params = make_params(rng)
    opt = optim.RMSprop(params)
    calls = []

    def closure():
        calls.append(1)
        set_grads(params, [np.ones(p._data.shape, np.float32) for p in params])
        return 3.5

    assert opt.step(closure) == 3.5
    assert calls == [1]
    assert opt.state[params[0]]["step"] == 1


# ---- lr schedulers ----------------------------------------------------------------------------

SCHEDULERS = [
    ("StepLR", {"step_size": 3, "gamma": 0.5}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 7, "eta_min": 0.001}),
    ("CosineAnnealingLR", {"T_max": 4}),
]


@pytest.mark.parametrize("case", SCHEDULERS, ids=lambda c: c[0] + str(c[1]))
def test_scheduler_matches_torch(case, rng):
    torch = pytest.importorskip("torch")
    name, kw = case
    params = make_params(rng)
    opt = optim.SGD([{"params": params[:2]}, {"params": params[2:], "lr": 0.3}], lr=0.1)
    tp = [torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)]
    topt = torch.optim.SGD([{"params": tp[:1]}, {"params": tp[1:], "lr": 0.3}], lr=0.1)
    sched = getattr(optim.lr_scheduler, name)(opt, **kw)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **kw)
    assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12)
    for epoch in range(25):  # past T_max: the cosine restarts upward
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
        assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12, abs=1e-15)
        assert [g["lr"] for g in opt.param_groups] == sched.get_last_lr()
        if epoch == 10:  # a manual change carries on through the recurrence, as in torch
            for g, tg in zip(opt.param_groups, topt.param_groups):
                g["lr"] *= 0.5
                tg["lr"] *= 0.5


def test_scheduler_closed_form_and_state_dict(rng):
    opt = optim.SGD(make_params(rng), lr=1.0)
    sched = StepLR(opt, step_size=2, gamma=0.1)
    for _ in range(5):
        sched.step()
    assert sched.get_last_lr() == pytest.approx([0.01])
    state = sched.state_dict()
    assert "optimizer" not in state and state["last_epoch"] == 5
    with pytest.warns(UserWarning, match="deprecated"):
        sched.step(1)
    assert sched.get_last_lr() == pytest.approx([1.0])
    sched.load_state_dict(state)
    assert sched.last_epoch == 5

    opt = optim.SGD(make_params(rng), lr=2.0)
    cos = CosineAnnealingLR(opt, T_max=10, eta_min=0.5)
    lrs = []
    for _ in range(10):
        cos.step()
        lrs.append(cos.get_last_lr()[0])
    expect = [0.5 + 1.5 * (1 + np.cos(np.pi * t / 10)) / 2 for t in range(1, 11)]
    assert lrs == pytest.approx(expect, rel=1e-12)

    opt = optim.SGD(make_params(rng), lr=1.0)
    exp = ExponentialLR(opt, gamma=0.5)
    exp.step()
    exp.step()
    assert opt.param_groups[0]["lr"] == 0.25
    assert opt.param_groups[0]["initial_lr"] == 1.0
    with pytest.raises(TypeError, match="is not an Optimizer"):
        StepLR(object(), step_size=1)
