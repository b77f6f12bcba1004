"""fastnn.optim on the CUDA device path hands a whole parameter group to the device's fused list
kernel in one call (the kernel then updates it in a few multi-tensor launches), instead of one
call per tensor. Runs without a GPU: the device is the numpy emulation of tests/_fake_cuda.py and
the recorded kernels forward to the CPU kernels, so the results are checked against the CPU
optimizers too."""

import numpy as np
import pytest

import fastnn
from fastnn import _C, nn

SIZES = [int(s) for s in np.random.default_rng(7).integers(1, 300, 400)]


@pytest.fixture
def recorded(monkeypatch):
    import _fake_cuda
    from fastnn import _devices

    be = _devices.cuda_module()
    monkeypatch.setattr(be, "_mod", _fake_cuda)
    monkeypatch.setattr(be, "array_type", _fake_cuda.DeviceArray)
    monkeypatch.setitem(_devices._BY_TYPE, _fake_cuda.DeviceArray, be)
    calls = []

    def host(v):
        if isinstance(v, (list, tuple)):
            return [a._a if isinstance(a, _fake_cuda.DeviceArray) else a for a in v]
        return v

    class Kernels:
        def __getattr__(self, name):
            def kernel(*args, **kw):
                calls.append((name, len(args[0])))
                getattr(_C, name)(*[host(a) for a in args], **{k: host(v) for k, v in kw.items()})

            return kernel

    monkeypatch.setattr(be, "kernels", Kernels())
    return be, calls


@pytest.mark.parametrize(
    ("name", "kw"),
    [
        ("Adam", {"lr": 0.01}),
        ("AdamW", {"lr": 0.01, "amsgrad": True}),
        ("SGD", {"lr": 0.1, "momentum": 0.9}),
        ("RMSprop", {"lr": 0.01, "centered": True}),
        ("Adagrad", {"lr": 0.1}),
        ("Adadelta", {}),
        ("Adamax", {"lr": 0.01}),
        ("NAdam", {"lr": 0.01}),
        ("RAdam", {"lr": 0.01}),
    ],
)
def test_one_device_call_per_group(name, kw, recorded, rng):
    be, calls = recorded
    values = [rng.standard_normal(n).astype(np.float32) for n in SIZES]
    grads = [[rng.standard_normal(n).astype(np.float32) for n in SIZES] for _ in range(2)]
    results = []
    for put in (np.asarray, be.from_numpy):
        params = [nn.Parameter(fastnn.Tensor._make(put(v.copy()))) for v in values]
        groups = [{"params": params[:150]}, {"params": params[150:], "lr": 0.05}]
        opt = getattr(fastnn.optim, name)(groups, **kw)
        for step in grads:
            for p, g in zip(params, step):
                p.grad = fastnn.Tensor._make(put(g.copy()))
            opt.step()
        results.append([np.asarray(p.detach().cpu().numpy()) for p in params])
    kernel = calls[0][0]
    # SGD with momentum: the first step's buffers are created by the kernel (first_step=True)
    assert calls == [(kernel, 150), (kernel, 250)] * 2, calls
    for a, b in zip(results[1], results[0]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
