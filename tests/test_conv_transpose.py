"""F.conv_transpose2d / conv_transpose1d and nn.ConvTranspose2d / 1d against torch: outputs and
the gradients of input, weight and bias over strides, paddings, output paddings (also past the
stride, where the dilation allows it) and dilations; output_size; float32 on the Winograd and
packed paths; finite differences; the layers' parameters, init and repr; the refused arguments."""

import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn import nn
from fastnn.autograd import gradcheck

torch = pytest.importorskip("torch")
TF = torch.nn.functional

# (C_in, C_out, kernel, stride, padding, output_padding, dilation, (H, W))
GEOMETRIES = [
    (3, 5, 3, 1, 0, 0, 1, (5, 6)),
    (4, 2, 4, 2, 1, 0, 1, (7, 7)),  # DCGAN's upsampling layer
    (2, 3, 3, 2, 1, 1, 1, (6, 5)),
    (3, 2, 3, 1, 1, 1, 2, (5, 6)),  # output padding past the stride, below the dilation
    (3, 2, 3, 1, 3, 2, 3, (4, 4)),
    (2, 2, (3, 2), (2, 3), (1, 0), (1, 2), (1, 1), (6, 7)),
    (1, 1, 1, 1, 0, 0, 1, (1, 1)),
    (2, 3, 5, 3, 2, 2, 1, (3, 2)),
]


def _run(lib, fn, x, w, b, args, g):
    xs = [lib.tensor(a, requires_grad=True) for a in (x, w)]
    bt = None if b is None else lib.tensor(b, requires_grad=True)
    out = fn(xs[0], xs[1], bt, *args)
    out.backward(lib.tensor(g))
    grads = [t.grad for t in xs] + ([] if bt is None else [bt.grad])
    return out.detach().numpy(), [gr.numpy() for gr in grads]


def _compare(x, w, b, args, rtol, atol, fn2d=True):
    f_fn = F.conv_transpose2d if fn2d else F.conv_transpose1d
    t_fn = TF.conv_transpose2d if fn2d else TF.conv_transpose1d
    want = t_fn(torch.tensor(x), torch.tensor(w), None if b is None else torch.tensor(b), *args)
    g = np.random.default_rng(1).standard_normal(tuple(want.shape)).astype(x.dtype)
    t_out, t_grads = _run(torch, t_fn, x, w, b, args, g)
    f_out, f_grads = _run(fastnn, f_fn, x, w, b, args, g)
    assert f_out.shape == t_out.shape and f_out.dtype == t_out.dtype
    np.testing.assert_allclose(f_out, t_out, rtol=rtol, atol=atol)
    for fg, tg in zip(f_grads, t_grads):
        np.testing.assert_allclose(fg, tg, rtol=rtol, atol=atol)


@pytest.mark.parametrize("geometry", GEOMETRIES, ids=str)
@pytest.mark.parametrize("bias", [True, False])
def test_conv_transpose2d_matches_torch(rng, threads, geometry, bias):
    cin, cout, k, s, p, op, d, hw = geometry
    kk = k if isinstance(k, tuple) else (k, k)
    x = rng.standard_normal((2, cin, *hw))
    w = rng.standard_normal((cin, cout, *kk))
    b = rng.standard_normal(cout) if bias else None
    _compare(x, w, b, (s, p, op, 1, d), 1e-12, 1e-12)


@pytest.mark.parametrize("cin, cout, hw", [(16, 32, (9, 11)), (32, 16, (14, 14)), (3, 7, (33, 1))])
def test_conv_transpose2d_float32_kernel_paths(rng, cin, cout, hw):
    """3x3 stride 1 with 16+ channels runs the Winograd input gradient; the rest packed im2col."""
    x = rng.standard_normal((3, cin, *hw)).astype(np.float32)
    w = (rng.standard_normal((cin, cout, 3, 3)) * 0.2).astype(np.float32)
    b = rng.standard_normal(cout).astype(np.float32)
    _compare(x, w, b, (1, 1, 0, 1, 1), 2e-4, 2e-4)
    _compare(x, w, b, (2, 1, 1, 1, 1), 2e-4, 2e-4)


def test_unbatched_output_size_and_1d(rng):
    x = rng.standard_normal((3, 5, 5))
    w = rng.standard_normal((3, 2, 3, 3))
    got = F.conv_transpose2d(fastnn.tensor(x), fastnn.tensor(w), stride=2, padding=1)
    want = TF.conv_transpose2d(torch.tensor(x), torch.tensor(w), stride=2, padding=1)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12, atol=1e-12)
    m_t = torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1).double()
    m_f = nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1).double()
    m_f.load_state_dict({k: fastnn.tensor(v.detach().numpy()) for k, v in m_t.state_dict().items()})
    xb = rng.standard_normal((2, 3, 5, 5))
    for size in ([10, 10], (2, 2, 9, 10)):
        want = m_t(torch.tensor(xb), output_size=size).detach().numpy()
        got = m_f(fastnn.tensor(xb), output_size=size).detach().numpy()
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    x1 = rng.standard_normal((2, 3, 7))
    w1 = rng.standard_normal((3, 4, 3))
    _compare(x1, w1, rng.standard_normal(4), (2, 1, 1, 1, 2), 1e-12, 1e-12, fn2d=False)
    _compare(x1[0], w1, None, (1, 0, 0, 1, 1), 1e-12, 1e-12, fn2d=False)


@pytest.mark.parametrize("groups, cin, cout_per", [(2, 4, 3), (3, 3, 1), (4, 8, 2)])
def test_groups_match_torch(rng, groups, cin, cout_per):
    x = rng.standard_normal((2, cin, 5, 4))
    w = rng.standard_normal((cin, cout_per, 3, 2))
    b = rng.standard_normal(cout_per * groups)
    _compare(x, w, b, (2, 1, 1, groups, 1), 1e-12, 1e-12)
    _compare(x[..., 0], w[..., 0], None, (2, 1, 0, groups, 2), 1e-12, 1e-12, fn2d=False)
    t = torch.nn.ConvTranspose2d(cin, cout_per * groups, 3, 2, 1, groups=groups)
    f = nn.ConvTranspose2d(cin, cout_per * groups, 3, 2, 1, groups=groups)
    assert repr(f) == repr(t) and tuple(f.weight.shape) == tuple(t.weight.shape)
    f.load_state_dict({k: fastnn.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    xf = x.astype(np.float32)
    want = t(torch.tensor(xf)).detach().numpy()
    np.testing.assert_allclose(f(fastnn.tensor(xf)).detach().numpy(), want, rtol=1e-5, atol=1e-5)
    wg = fastnn.tensor(w[:, :, :2], requires_grad=True)
    xg = fastnn.tensor(x[:1, :, :3, :3], requires_grad=True)
    assert gradcheck(lambda a, b: F.conv_transpose2d(a, b, stride=2, groups=groups), [xg, wg])


def test_gradcheck(rng):
    x = fastnn.tensor(rng.standard_normal((1, 2, 3, 4)), requires_grad=True)
    w = fastnn.tensor(rng.standard_normal((2, 3, 3, 2)), requires_grad=True)
    b = fastnn.tensor(rng.standard_normal(3), requires_grad=True)
    assert gradcheck(
        lambda *a: F.conv_transpose2d(*a, stride=2, padding=1, output_padding=1), [x, w, b]
    )


@pytest.mark.parametrize(
    "cls, args",
    [
        ("ConvTranspose2d", (16, 3, 4, 2, 1)),
        ("ConvTranspose2d", (3, 8, (3, 2))),
        ("ConvTranspose1d", (4, 6, 5, 2)),
    ],
)
def test_layers_match_torch(cls, args):
    t = getattr(torch.nn, cls)(*args)
    f = getattr(nn, cls)(*args)
    assert repr(f) == repr(t)
    assert [(k, tuple(v.shape)) for k, v in f.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in t.state_dict().items()
    ]
    # torch's init: kaiming-uniform on the weight's fan-in, which for a transposed weight
    # (C_in, C_out, *k) is C_out * prod(k); the bias within 1 / sqrt(that)
    fan_in = np.prod(f.weight.shape[1:])
    bound = 1 / np.sqrt(fan_in)
    for p in (f.weight, f.bias):
        assert np.abs(p.detach().numpy()).max() <= bound
    # the weight (48 values and more) spans its range; a 3-value bias may well not, so only
    # the weight's spread is checked
    assert np.abs(f.weight.detach().numpy()).max() > 0.5 * bound
    print(
        repr(nn.ConvTranspose2d(3, 5, (3, 2), stride=2, output_padding=1, dilation=2, bias=False))
    )
    assert repr(nn.ConvTranspose2d(3, 5, (3, 2), stride=2, output_padding=1, dilation=2)) == repr(
        torch.nn.ConvTranspose2d(3, 5, (3, 2), stride=2, output_padding=1, dilation=2)
    )


def test_a_dcgan_generator_step_matches_torch(rng):
    """The DCGAN tutorial's generator shape, scaled down: ConvTranspose2d, BatchNorm2d, ReLU,
    Tanh; one training step of both libraries from the same weights."""

    def generator(lib):
        n = lib.nn
        return n.Sequential(
            n.ConvTranspose2d(8, 16, 4, 1, 0, bias=False), n.BatchNorm2d(16), n.ReLU(True),
            n.ConvTranspose2d(16, 8, 4, 2, 1, bias=False), n.BatchNorm2d(8), n.ReLU(True),
            n.ConvTranspose2d(8, 3, 4, 2, 1, bias=False), n.Tanh(),
        )  # fmt: skip

    t, f = generator(torch).double(), generator(fastnn).double()
    f.load_state_dict({k: fastnn.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    z = rng.standard_normal((4, 8, 1, 1))
    target = rng.uniform(-1, 1, (4, 3, 16, 16))
    losses = []
    for lib, m in ((torch, t), (fastnn, f)):
        opt = lib.optim.Adam(m.parameters(), lr=2e-4, betas=(0.5, 0.999))
        out = m(lib.tensor(z))
        loss = ((out - lib.tensor(target)) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append((out.detach().numpy(), loss.item(), m(lib.tensor(z)).detach().numpy()))
    (t_out, t_loss, t_after), (f_out, f_loss, f_after) = losses
    assert f_out.shape == (4, 3, 16, 16)
    np.testing.assert_allclose(f_out, t_out, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(f_loss, t_loss, rtol=1e-10)
    np.testing.assert_allclose(f_after, t_after, rtol=1e-8, atol=1e-8)


BAD = [
    (
        RuntimeError,
        "output padding must be smaller than either stride or dilation",
        lambda: F.conv_transpose2d(
            fastnn.ones(1, 2, 3, 3), fastnn.ones(2, 2, 3, 3), output_padding=1
        ),
    ),
    (
        RuntimeError,
        r"to have 3 channels, a multiple of groups",
        lambda: F.conv_transpose2d(fastnn.ones(1, 3, 3, 3), fastnn.ones(3, 1, 3, 3), groups=2),
    ),
    (
        RuntimeError,
        "non-positive groups",
        lambda: F.conv_transpose2d(fastnn.ones(1, 2, 3, 3), fastnn.ones(2, 1, 3, 3), groups=0),
    ),
    (
        RuntimeError,
        r"expected input\[1, 3, 3, 3\] to have 2 channels, but got 3 channels",
        lambda: F.conv_transpose2d(fastnn.ones(1, 3, 3, 3), fastnn.ones(2, 2, 3, 3)),
    ),
    (
        ValueError,
        r"requested an output size of \[9, 9\], but valid sizes range from \[5, 5\] to \[6, 6\]",
        lambda: nn.ConvTranspose2d(2, 2, 3, 2, 1)(fastnn.ones(1, 2, 3, 3), output_size=[9, 9]),
    ),
    (
        ValueError,
        'Only "zeros" padding mode is supported for ConvTranspose2d',
        lambda: nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect"),
    ),
    (
        RuntimeError,
        "the output size .* is too small",
        lambda: F.conv_transpose2d(fastnn.ones(1, 2, 1, 1), fastnn.ones(2, 2, 1, 1), padding=1),
    ),
    (
        RuntimeError,
        "expected a floating-point tensor",
        lambda: F.conv_transpose2d(
            fastnn.ones(1, 2, 3, 3, dtype=fastnn.int64), fastnn.ones(2, 2, 3, 3)
        ),
    ),
]


@pytest.mark.parametrize("error, message, call", BAD)
def test_bad_arguments(error, message, call):
    with pytest.raises(error, match=message):
        call()
