"""optim.swa_utils: AveragedModel (SWA running mean, EMA through get_ema_multi_avg_fn and
avg_fn, use_buffers), SWALR's annealing and update_bn, against torch and by hand."""

import numpy as np
import pytest

import fastnn
from fastnn.optim import swa_utils


def _net(m):
    # tanh, not relu: a unit crossing zero on one side only would split the two runs apart
    net = m.nn.Sequential(m.nn.Linear(3, 4), m.nn.BatchNorm1d(4), m.nn.Tanh(), m.nn.Linear(4, 1))
    net = net.double()
    with m.no_grad():
        for i, p in enumerate(net.parameters()):
            p.copy_(m.tensor(np.linspace(-1, 1, p.numel()).reshape(tuple(p.shape)) * (i + 1)))
    return net


def _program(m):
    swa = m.optim.swa_utils
    out = []
    x = m.tensor(np.linspace(-2, 2, 24).reshape(8, 3))
    for kind in ("swa", "ema_multi", "ema_fn", "ema_buffers"):
        net = _net(m)
        opt = m.optim.SGD(net.parameters(), lr=0.1)
        if kind == "swa":
            avg = swa.AveragedModel(net)
        elif kind == "ema_multi":
            avg = swa.AveragedModel(net, multi_avg_fn=swa.get_ema_multi_avg_fn(0.9))
        elif kind == "ema_fn":
            avg = swa.AveragedModel(net, avg_fn=swa.get_ema_avg_fn(0.8))
        else:
            avg = swa.AveragedModel(
                net, multi_avg_fn=swa.get_ema_multi_avg_fn(0.7), use_buffers=True
            )
        for _ in range(4):
            opt.zero_grad()
            (net(x) ** 2).mean().backward()
            opt.step()
            avg.update_parameters(net)
        out.append([p.detach().numpy().copy() for p in avg.module.parameters()])
        out.append([b.numpy().copy() for b in avg.module.buffers()])
        out.append(int(avg.n_averaged))
        avg.eval()
        out.append(avg(x).detach().numpy())
    net = _net(m)
    avg = swa.AveragedModel(net)
    avg.update_parameters(net)
    loader = [(x[:4],), (x[4:],)]
    swa.update_bn(loader, avg)
    out += [avg.module[1].running_mean.numpy().copy(), avg.module[1].running_var.numpy().copy()]
    out.append(avg.module[1].momentum)
    for strategy, epochs in (("cos", 3), ("linear", 2), ("cos", 0)):
        opt = m.optim.SGD(_net(m).parameters(), lr=1.0)
        sched = swa.SWALR(opt, swa_lr=0.05, anneal_epochs=epochs, anneal_strategy=strategy)
        lrs = []
        for _ in range(5):
            opt.step()
            sched.step()
            lrs.append(opt.param_groups[0]["lr"])
        out.append(lrs)
    return out


def _same(a, b):
    if isinstance(a, list):
        assert len(a) == len(b)
        for u, v in zip(a, b):
            _same(u, v)
    elif isinstance(a, np.ndarray):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    elif isinstance(a, float):
        assert a == pytest.approx(b, rel=1e-12)
    else:
        assert a == b


def test_matches_torch():
    torch = pytest.importorskip("torch")
    _same(_program(fastnn), _program(torch))


def test_by_hand_and_errors():
    net = fastnn.nn.Linear(2, 1).double()
    avg = swa_utils.AveragedModel(net)
    w = []
    for value in (1.0, 3.0, 8.0):
        with fastnn.no_grad():
            net.weight.fill_(value)
        w.append(value)
        avg.update_parameters(net)
    np.testing.assert_allclose(avg.module.weight.detach().numpy(), np.mean(w))  # running mean
    assert int(avg.n_averaged) == 3
    with pytest.raises(ValueError, match="decay"):
        swa_utils.get_ema_multi_avg_fn(1.5)
    opt = fastnn.optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="anneal_strategy"):
        swa_utils.SWALR(opt, 0.01, anneal_strategy="step")
    with pytest.raises(ValueError, match="anneal_epochs"):
        swa_utils.SWALR(opt, 0.01, anneal_epochs=-1)
    with pytest.raises(ValueError, match="same length"):
        swa_utils.SWALR(opt, [0.01, 0.02])
