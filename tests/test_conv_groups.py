"""Grouped convolutions (conv2d / conv1d and their modules with groups > 1: ResNeXt's groups,
MobileNet's depthwise layers, a channel multiplier) against torch: outputs and the gradients of
input, weight and bias in float64, float32 on the kernel paths, the modules' weights and reprs."""

import numpy as np
import pytest

import fastnn
from fastnn import nn

torch = pytest.importorskip("torch")

# (C_in, C_out, groups, kernel, stride, padding, dilation)
CASES = [
    (4, 6, 2, 3, 1, 1, 1),
    (6, 6, 6, 3, 2, 1, 1),  # depthwise
    (6, 12, 6, (3, 2), 1, (0, 1), 2),  # depthwise with a channel multiplier of 2
    (8, 4, 4, 1, 1, 0, 1),
    (32, 32, 8, 3, 1, 1, 1),  # groups of 4 channels (ResNeXt-like), Winograd-sized in float32
]


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_grouped_conv2d_matches_torch(rng, threads, case, dtype):
    cin, cout, g, k, s, p, d = case
    kk = k if isinstance(k, tuple) else (k, k)
    arrays = [
        rng.standard_normal((2, cin, 9, 8)),
        rng.standard_normal((cout, cin // g, *kk)) * 0.3,
        rng.standard_normal(cout),
    ]
    arrays = [a.astype(dtype) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    fs = [fastnn.tensor(a, requires_grad=True) for a in arrays]
    to = torch.nn.functional.conv2d(*ts, s, p, d, g)
    fo = fastnn.nn.functional.conv2d(*fs, s, p, d, g)
    tol = 1e-12 if dtype == np.float64 else 2e-4
    np.testing.assert_allclose(fo.detach().numpy(), to.detach().numpy(), rtol=tol, atol=tol)
    grad = rng.standard_normal(tuple(to.shape)).astype(dtype)
    to.backward(torch.tensor(grad))
    fo.backward(fastnn.tensor(grad))
    for a, b in zip(fs, ts):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=tol, atol=tol)


def test_grouped_modules_match_torch(rng):
    for cls, args, shape in [
        ("Conv2d", (6, 12, 3), (2, 6, 7, 7)),
        ("Conv1d", (4, 8, 5), (3, 4, 11)),
    ]:
        t = getattr(torch.nn, cls)(*args, padding=1, groups=args[0]).double()
        f = getattr(nn, cls)(*args, padding=1, groups=args[0]).double()
        assert repr(f) == repr(t)
        assert tuple(f.weight.shape) == tuple(t.weight.shape)
        bound = 1 / np.sqrt(np.prod(f.weight.shape[1:]))  # fan-in C_in / groups * k
        assert np.abs(f.weight.detach().numpy()).max() <= bound
        f.load_state_dict({k: fastnn.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
        x = rng.standard_normal(shape)
        np.testing.assert_allclose(
            f(fastnn.tensor(x)).detach().numpy(), t(torch.tensor(x)).detach().numpy(), atol=1e-12
        )
