"""The new nn compositions that use only Tensor ops on their inputs (grid_sample, the 3-D pools,
lp_pool, channel_shuffle, soft_margin_loss) on CUDA tensors of the numpy emulation of the
bindings (tests/_fake_cuda.py): the same values and gradients as on the CPU, so no step of theirs
assumes a numpy array. (Ops that make a tensor on the input's device, such as affine_grid's base
grid, need the real module: the emulation cannot create device tensors.)"""

import numpy as np
import pytest

from conftest import assert_close
from fastnn import _devices
from fastnn._tensor import Tensor
from fastnn.nn import functional as F


@pytest.fixture
def emulated(monkeypatch):
    import _fake_cuda

    be = _devices.cuda_module()
    monkeypatch.setattr(be, "_mod", _fake_cuda)
    monkeypatch.setattr(be, "array_type", _fake_cuda.DeviceArray)
    monkeypatch.setitem(_devices._BY_TYPE, _fake_cuda.DeviceArray, be)
    return be


CASES = {
    "grid_sample": (
        [(2, 3, 5, 6), (2, 4, 3, 2)],
        lambda x, g: (
            F.grid_sample(x, g * 1.3, "bilinear", "reflection", align_corners=False)
            + F.grid_sample(x, g, "nearest", "border", align_corners=True)
        ),
    ),
    "max_pool3d": ([(2, 2, 4, 5, 4)], lambda x: F.max_pool3d(x, 2, 1, 1)),
    "avg_pool3d": ([(2, 2, 4, 5, 4)], lambda x: F.avg_pool3d(x, 3, 2, 1)),
    "lp_pool2d": ([(2, 3, 6, 4)], lambda x: F.lp_pool2d(x, 2, 2)),
    "channel_shuffle": ([(2, 6, 3)], lambda x: F.channel_shuffle(x, 2)),
    "soft_margin_loss": (
        [(3, 4)],
        lambda x: F.soft_margin_loss(x, x.detach().sign(), reduction="none"),
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_cpu_on_emulated_cuda(emulated, name):
    shapes, fn = CASES[name]
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    res = {}
    for where, put in (("cpu", np.array), ("dev", emulated.from_numpy)):
        xs = [Tensor._make(put(a), True) for a in arrays]
        out = fn(*xs)
        assert out.device.type == ("cpu" if where == "cpu" else "cuda")
        out.square().sum().backward()
        host = (lambda d: d) if where == "cpu" else emulated.to_numpy
        res[where] = [host(out.detach()._data)] + [host(x.grad._data) for x in xs]
    for got, want in zip(res["dev"], res["cpu"]):
        assert_close(np.asarray(got), np.asarray(want), atol=1e-12, rtol=1e-12)
