"""nn.ReLU(inplace=True) and nn.LeakyReLU(inplace=True) write into their input, as torch's do:
what a forward hook on the layer before keeps shows it, and the gradients are unchanged."""

import numpy as np
import pytest

import fastnn


def _net(lib, inplace):
    lib.manual_seed(0)
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1),
        nn.ReLU(inplace=inplace),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 3, 3),
        nn.LeakyReLU(0.1, inplace=inplace),
    )


@pytest.mark.parametrize("inplace", [False, True])
def test_a_hooked_activation_sees_the_in_place_change_as_in_torch(inplace):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((2, 2, 8, 8)).astype(np.float32)
    got = {}
    for lib in (fastnn, torch):
        net = _net(lib, inplace)
        if lib is fastnn:  # the same weights on both sides
            for mine, theirs in zip(net.parameters(), _net(torch, inplace).parameters()):
                mine.data = fastnn.tensor(theirs.detach().numpy())
        seen = []
        net[0].register_forward_hook(lambda m, i, o: seen.append(o))
        net[3].register_forward_hook(lambda m, i, o: seen.append(o))
        inp = lib.tensor(x, requires_grad=True)
        out = net(inp)
        (out * out).sum().backward()
        got[lib.__name__] = (
            [s.detach().numpy().copy() for s in seen],
            out.detach().numpy(),
            inp.grad.numpy(),
        )
    (f_seen, f_out, f_grad), (t_seen, t_out, t_grad) = got["fastnn"], got["torch"]
    for a, b in zip(f_seen, t_seen):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert (f_seen[0].min() >= 0) == inplace  # the conv output was rectified in place
    np.testing.assert_allclose(f_out, t_out, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(f_grad, t_grad, rtol=1e-5, atol=1e-5)


def test_in_place_modules_return_their_input():
    for module in (fastnn.nn.ReLU(inplace=True), fastnn.nn.LeakyReLU(0.2, inplace=True)):
        x = fastnn.tensor([-1.0, 2.0])
        assert module(x) is x
        assert x[0].item() <= 0 and x[1].item() == 2.0
    x = fastnn.tensor([-1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        fastnn.nn.ReLU(inplace=True)(x)
