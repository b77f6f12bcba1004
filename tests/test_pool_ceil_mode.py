"""ceil_mode=True for the max / average pools (1-, 2- and 3-D, modules and functional): output
sizes, values, gradients and max indices against torch, including the windows that hang past
the input (an average then divides by the clipped window, as torch does)."""

import itertools

import numpy as np
import pytest

import fastnn
from fastnn import nn
from fastnn.autograd import gradcheck

F = nn.functional
torch = pytest.importorskip("torch")

# (H, W, kernel, stride, padding, dilation); every one has a last window that only ceil_mode
# keeps, except the last two (ceil_mode changes nothing there, and must not)
CASES = [
    (5, 5, 2, 2, 0, 1),
    (7, 6, 3, 2, 1, 1),
    (8, 9, 3, 3, 1, 1),
    (1, 3, 2, 2, 0, 1),
    (6, 7, 2, 3, 1, 2),
    (4, 4, 2, 2, 0, 1),
    (6, 6, 3, 1, 1, 1),
]


def _run(lib, fn, x, grad_weights):
    xt = lib.tensor(x, requires_grad=True)
    out = fn(lib.nn.functional, xt)
    idx = None
    if isinstance(out, tuple):
        out, idx = out
    (out * lib.tensor(grad_weights(tuple(out.shape)))).sum().backward()
    got = [out.detach().numpy(), xt.grad.numpy()]
    return got + ([idx.numpy()] if idx is not None else [])


def _weights(shape):
    return np.linspace(-1.0, 2.0, int(np.prod(shape))).reshape(shape)


@pytest.mark.parametrize("h, w, k, s, p, d", CASES)
@pytest.mark.parametrize(
    "call",
    [
        lambda k, s, p, d: lambda F_, x: F_.max_pool2d(x, k, s, p, d, ceil_mode=True),
        lambda k, s, p, d: (
            lambda F_, x: F_.max_pool2d(x, k, s, p, d, ceil_mode=True, return_indices=True)
        ),
        lambda k, s, p, d: lambda F_, x: F_.avg_pool2d(x, k, s, p, ceil_mode=True),
        lambda k, s, p, d: (
            lambda F_, x: F_.avg_pool2d(x, k, s, p, ceil_mode=True, count_include_pad=False)
        ),
        lambda k, s, p, d: (
            lambda F_, x: F_.avg_pool2d(x, k, s, p, ceil_mode=True, divisor_override=3)
        ),
    ],
    ids=["max", "max_indices", "avg", "avg_exclude_pad", "avg_divisor"],
)
def test_pool2d_ceil_mode_matches_torch(h, w, k, s, p, d, call):
    x = np.random.default_rng(h * 100 + w).standard_normal((2, 3, h, w))
    fn = call(k, s, p, d)
    if "avg" in fn.__code__.co_names and d != 1:
        pytest.skip("average pools have no dilation")
    ours, theirs = _run(fastnn, fn, x, _weights), _run(torch, fn, x, _weights)
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_pool_modules_1d_2d_3d_ceil_mode_match_torch():
    x = np.random.default_rng(1).standard_normal((2, 2, 5, 7, 9)).astype(np.float32)
    layers = [
        ("MaxPool1d", (2,), 3),
        ("AvgPool1d", (3, 2), 3),
        ("MaxPool2d", (3, 2), 4),
        ("AvgPool2d", (2,), 4),
        ("MaxPool3d", (2,), 5),
        ("AvgPool3d", (2, 2), 5),
        ("LPPool2d", (2, 2), 4),
    ]
    for name, args, nd in layers:
        sl = (0,) * (5 - nd)
        ours = getattr(nn, name)(*args, ceil_mode=True)(fastnn.tensor(x[sl]).abs())
        theirs = getattr(torch.nn, name)(*args, ceil_mode=True)(torch.tensor(x[sl]).abs())
        assert tuple(ours.shape) == tuple(theirs.shape), name
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)
    assert "ceil_mode=True" in repr(nn.MaxPool2d(2, ceil_mode=True))


def test_ceil_mode_adds_only_windows_that_start_inside():
    # a last window may hang past the input but not start in the right padding
    for n, k, s, p in itertools.product(range(1, 9), range(1, 4), range(1, 4), range(2)):
        if 2 * p > k:
            continue
        x = torch.zeros(1, 1, 1, n)
        try:
            want = torch.nn.functional.max_pool2d(x, (1, k), (1, s), (0, p), ceil_mode=True)
        except RuntimeError:
            with pytest.raises(RuntimeError):
                F.max_pool2d(fastnn.zeros(1, 1, 1, n), (1, k), (1, s), (0, p), ceil_mode=True)
            continue
        got = F.max_pool2d(fastnn.zeros(1, 1, 1, n), (1, k), (1, s), (0, p), ceil_mode=True)
        assert tuple(got.shape) == tuple(want.shape), (n, k, s, p)


def test_pool_ceil_mode_gradcheck():
    x = fastnn.tensor(np.random.default_rng(2).standard_normal((1, 2, 5, 7)), requires_grad=True)
    assert gradcheck(lambda t: F.avg_pool2d(t, 3, 2, 1, ceil_mode=True), (x,))
    assert gradcheck(lambda t: F.avg_pool2d(t, 2, ceil_mode=True, count_include_pad=False), (x,))
    assert gradcheck(lambda t: F.max_pool2d(t, 2, ceil_mode=True), (x,))
