"""Optimizer state dicts in torch's types, and checkpoints that cross between the libraries: a
fastnn optimizer's state saved in torch's format resumes on torch, and a torch optimizer's state
resumes on fastnn, each stepping on as the other would have."""

import io

import numpy as np
import pytest

import fastnn
from fastnn import optim
from fastnn.serialization import save_torch

CASES = {
    "SGD": {"lr": 0.1, "momentum": 0.9},
    "Adam": {"lr": 0.01},
    "AdamW": {"lr": 0.01, "amsgrad": True},
    "RMSprop": {"lr": 0.01, "momentum": 0.5},
    "Adagrad": {"lr": 0.1},
    "Adadelta": {},
    "Adamax": {"lr": 0.01},
    "NAdam": {"lr": 0.01},
    "RAdam": {"lr": 0.01},
    "ASGD": {"lr": 0.01},
}


def _grads(seed, shapes, steps):
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(s).astype(np.float32) for s in shapes] for _ in range(steps)]


def _step_fastnn(opt, params, grads):
    for p, g in zip(params, grads):
        p.grad = fastnn.tensor(g)
    opt.step()


def _step_torch(torch, opt, params, grads):
    for p, g in zip(params, grads):
        p.grad = torch.tensor(g)
    opt.step()


def test_state_dict_holds_tensors_on_the_live_buffers():
    w = fastnn.nn.Parameter(fastnn.ones(3, 2))
    opt = optim.Adam([w], lr=0.1)
    w.grad = fastnn.ones(3, 2)
    opt.step()
    state = opt.state_dict()["state"][0]
    assert isinstance(state["exp_avg"], fastnn.Tensor)
    assert isinstance(state["step"], fastnn.Tensor)
    assert state["step"].shape == () and state["step"].dtype == fastnn.float32
    assert state["step"].item() == 1.0
    before = state["exp_avg"].clone()
    opt.step()
    # the same buffer the next step updated, as torch's state_dict gives
    assert not fastnn.equal(before, state["exp_avg"])
    assert opt.state_dict()["state"][0]["step"].item() == 2.0
    fastnn.set_default_dtype(fastnn.float64)  # torch's counters follow the default dtype
    try:
        assert opt.state_dict()["state"][0]["step"].dtype == fastnn.float64
    finally:
        fastnn.set_default_dtype(fastnn.float32)


def test_a_zero_dim_tensor_keeps_its_shape_in_a_torch_file():
    torch = pytest.importorskip("torch")
    buf = io.BytesIO()
    save_torch({"a": fastnn.tensor(3.0), "b": fastnn.tensor([[1.0, 2.0]]), "c": 7}, buf)
    buf.seek(0)
    got = torch.load(buf)
    assert got["a"].shape == () and got["a"].item() == 3.0
    assert got["b"].shape == (1, 2) and got["c"] == 7
    # BatchNorm's num_batches_tracked is 0-d: torch's strict load takes the whole state dict
    bn = fastnn.nn.BatchNorm1d(4)
    bn(fastnn.randn(8, 4))
    buf = io.BytesIO()
    save_torch(bn.state_dict(), buf)
    buf.seek(0)
    tbn = torch.nn.BatchNorm1d(4)
    tbn.load_state_dict(torch.load(buf))
    assert tbn.num_batches_tracked.item() == 1


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_fastnn_checkpoint_resumes_on_torch(name):
    torch = pytest.importorskip("torch")
    shapes = [(3, 5), (5,)]
    grads = _grads(0, shapes, 6)
    init = [np.linspace(-1, 1, int(np.prod(s)), dtype=np.float32).reshape(s) for s in shapes]
    params = [fastnn.nn.Parameter(fastnn.tensor(a.copy())) for a in init]
    opt = getattr(optim, name)(params, **CASES[name])
    for g in grads[:3]:
        _step_fastnn(opt, params, g)
    buf = io.BytesIO()
    save_torch({"params": [p.detach() for p in params], "opt": opt.state_dict()}, buf)
    buf.seek(0)
    ckpt = torch.load(buf)
    tparams = [torch.nn.Parameter(t.clone()) for t in ckpt["params"]]
    topt = getattr(torch.optim, name)(tparams, **CASES[name])
    topt.load_state_dict(ckpt["opt"])
    for g in grads[3:]:
        _step_fastnn(opt, params, g)
        _step_torch(torch, topt, tparams, g)
    for p, t in zip(params, tparams):
        np.testing.assert_allclose(p.detach().numpy(), t.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_torch_checkpoint_resumes_on_fastnn(name):
    torch = pytest.importorskip("torch")
    shapes = [(4, 3), (3,)]
    grads = _grads(1, shapes, 6)
    init = [np.linspace(-1, 1, int(np.prod(s)), dtype=np.float32).reshape(s) for s in shapes]
    tparams = [torch.nn.Parameter(torch.tensor(a.copy())) for a in init]
    topt = getattr(torch.optim, name)(tparams, **CASES[name])
    for g in grads[:3]:
        _step_torch(torch, topt, tparams, g)
    buf = io.BytesIO()
    torch.save({"params": [p.detach() for p in tparams], "opt": topt.state_dict()}, buf)
    buf.seek(0)
    ckpt = fastnn.load(buf)
    params = [fastnn.nn.Parameter(t.clone()) for t in ckpt["params"]]
    opt = getattr(optim, name)(params, **CASES[name])
    opt.load_state_dict(ckpt["opt"])
    for g in grads[3:]:
        _step_torch(torch, topt, tparams, g)
        _step_fastnn(opt, params, g)
    for p, t in zip(params, tparams):
        np.testing.assert_allclose(p.detach().numpy(), t.detach().numpy(), rtol=1e-5, atol=1e-6)
