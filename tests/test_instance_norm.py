"""InstanceNorm1d / 2d and F.instance_norm against torch: outputs, the gradients of the input and
the affine parameters, the running statistics over several training steps and the eval-mode
output with them; unbatched input; reprs and state_dict keys; the refused inputs."""

import numpy as np
import pytest

import fastnn
from fastnn import nn

torch = pytest.importorskip("torch")

CASES = [
    ("InstanceNorm2d", (2, 3, 4, 5), {}),
    ("InstanceNorm2d", (3, 4, 5), {"affine": True}),
    ("InstanceNorm1d", (2, 4, 7), {"affine": True, "track_running_stats": True}),
    ("InstanceNorm1d", (4, 7), {"track_running_stats": True, "momentum": 0.3}),
    ("InstanceNorm2d", (2, 3, 4, 4), {"track_running_stats": True, "momentum": None}),
]


@pytest.mark.parametrize("cls, shape, kwargs", CASES, ids=str)
def test_instance_norm_matches_torch(rng, cls, shape, kwargs):
    c = shape[-3] if cls == "InstanceNorm2d" else shape[-2]
    t = getattr(torch.nn, cls)(c, **kwargs).double()
    f = getattr(nn, cls)(c, **kwargs).double()
    assert repr(f) == repr(t)
    assert list(f.state_dict()) == list(t.state_dict())
    if f.weight is not None:  # non-trivial affine parameters, the same in both
        w, b = rng.standard_normal(c), rng.standard_normal(c)
        with torch.no_grad():
            t.weight.copy_(torch.tensor(w))
            t.bias.copy_(torch.tensor(b))
        f.load_state_dict({k: fastnn.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    for _ in range(3):
        x = rng.standard_normal(shape) * 2 + 1
        tx, fx = torch.tensor(x, requires_grad=True), fastnn.tensor(x, requires_grad=True)
        to, fo = t(tx), f(fx)
        np.testing.assert_allclose(fo.detach().numpy(), to.detach().numpy(), atol=1e-12)
        g = rng.standard_normal(shape)
        to.backward(torch.tensor(g))
        fo.backward(fastnn.tensor(g))
        np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), atol=1e-12)
        for (_, fp), (_, tp) in zip(f.named_parameters(), t.named_parameters()):
            np.testing.assert_allclose(fp.grad.numpy(), tp.grad.numpy(), atol=1e-12)
        for name in ("running_mean", "running_var"):
            if getattr(t, name) is not None:
                np.testing.assert_allclose(
                    getattr(f, name).numpy(), getattr(t, name).numpy(), atol=1e-12
                )
    t.eval()
    f.eval()
    x = rng.standard_normal(shape)
    np.testing.assert_allclose(
        f(fastnn.tensor(x)).detach().numpy(), t(torch.tensor(x)).detach().numpy(), atol=1e-12
    )


def test_functional_and_errors(rng):
    x = rng.standard_normal((2, 3, 5))
    np.testing.assert_allclose(
        fastnn.nn.functional.instance_norm(fastnn.tensor(x)).numpy(),
        torch.nn.functional.instance_norm(torch.tensor(x)).numpy(),
        atol=1e-12,
    )
    with pytest.raises(ValueError, match="Expected more than 1 spatial element when training"):
        nn.InstanceNorm2d(3)(fastnn.ones(2, 3, 1, 1))
    with pytest.raises(ValueError, match=r"expected 3D or 4D input \(got 2D input\)"):
        nn.InstanceNorm2d(3)(fastnn.ones(2, 3))
    with pytest.raises(ValueError, match="to match num_features"):
        nn.InstanceNorm1d(3, affine=True)(fastnn.ones(2, 4, 5))
