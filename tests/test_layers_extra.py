"""The smaller torch layers of nn/layers_extra.py and functional/activation_extra.py against torch:
outputs and input gradients on random inputs (with the kinks of the piecewise ones hit exactly),
the layers' reprs and parameters, in-place forms, and the refused arguments."""

import numpy as np
import pytest

import fastnn
from fastnn import nn

torch = pytest.importorskip("torch")

KINKS = np.array([-3.0, 3.0, -0.5, 0.5, 0.0, -0.3, 0.3, 0.1])  # hardswish, shrinks, threshold

CASES = [
    ("Hardswish", (), (4, 9)),
    ("Hardsigmoid", (), (4, 9)),
    ("Softsign", (), (4, 9)),
    ("Tanhshrink", (), (4, 9)),
    ("Softshrink", (), (4, 9)),
    ("Softshrink", (0.3,), (4, 9)),
    ("Hardshrink", (), (4, 9)),
    ("Threshold", (0.1, 20.0), (4, 9)),
    ("CELU", (), (4, 9)),
    ("CELU", (0.5,), (4, 9)),
    ("GLU", (), (4, 8)),
    ("GLU", (0,), (4, 9)),
    ("Softmin", (1,), (4, 9)),
    ("Softmax2d", (), (2, 3, 4, 5)),
    ("RMSNorm", (9,), (4, 9)),
    ("RMSNorm", ((3, 4), 1e-3, False), (2, 3, 4)),
    ("PixelShuffle", (2,), (2, 8, 3, 5)),
    ("PixelShuffle", (3,), (9, 2, 2)),
    ("PixelUnshuffle", (2,), (2, 3, 4, 6)),
    ("ZeroPad2d", ((1, 2, 0, 3),), (2, 3, 4, 5)),
    ("ZeroPad1d", (2,), (2, 3, 4)),
    ("ConstantPad2d", (1, 3.5), (2, 3, 4)),
    ("ConstantPad1d", ((0, 2), -1.0), (3, 4)),
    ("ReflectionPad2d", (1,), (2, 3, 4, 5)),
    ("ReflectionPad1d", ((2, 1),), (2, 3, 4)),
    ("ReplicationPad2d", ((1, 0, 2, 1),), (1, 2, 3, 4)),
    ("ReplicationPad1d", (2,), (2, 3, 4)),
]


@pytest.mark.parametrize("name, args, shape", CASES, ids=lambda v: str(v))
def test_layer_matches_torch(rng, name, args, shape):
    x = rng.standard_normal(shape)
    x.reshape(-1)[: min(x.size, len(KINKS))] = KINKS[: x.size]
    t = getattr(torch.nn, name)(*args).double()
    f = getattr(nn, name)(*args).double()
    assert repr(f) == repr(t)
    assert [k for k, _ in f.named_parameters()] == [k for k, _ in t.named_parameters()]
    tx, fx = torch.tensor(x, requires_grad=True), fastnn.tensor(x, requires_grad=True)
    to, fo = t(tx), f(fx)
    np.testing.assert_allclose(fo.detach().numpy(), to.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(tuple(to.shape))
    to.backward(torch.tensor(g))
    fo.backward(fastnn.tensor(g))
    # torch's hardsigmoid gradient multiplies by 1/6 rounded to float32, in float64 too
    tol = 1e-7 if name == "Hardsigmoid" else 1e-12
    np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), rtol=tol, atol=tol)


def test_two_input_layers_and_inplace(rng):
    a, b = rng.standard_normal((4, 6)), rng.standard_normal((4, 6))
    for name in ("CosineSimilarity", "PairwiseDistance"):
        want = getattr(torch.nn, name)()(torch.tensor(a), torch.tensor(b)).numpy()
        got = getattr(nn, name)()(fastnn.tensor(a), fastnn.tensor(b)).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    for name, args in (
        ("Hardswish", ()),
        ("Hardsigmoid", ()),
        ("Threshold", (0.2, -1.0)),
        ("CELU", (2.0,)),
    ):
        x = fastnn.tensor(a.copy())
        out = getattr(nn, name)(*args, inplace=True)(x)
        want = getattr(torch.nn, name)(*args)(torch.tensor(a)).numpy()
        assert out is x
        np.testing.assert_allclose(x.numpy(), want, rtol=1e-12, atol=1e-12)


def test_rms_norm_default_eps_and_weight(rng):
    x = rng.standard_normal((3, 5)).astype(np.float32)
    w = rng.standard_normal(5).astype(np.float32)
    want = torch.nn.functional.rms_norm(torch.tensor(x), (5,), torch.tensor(w)).numpy()
    got = fastnn.nn.functional.rms_norm(fastnn.tensor(x), (5,), fastnn.tensor(w)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    m = nn.RMSNorm([5])
    assert m.weight.shape == (5,) and m.weight.detach().numpy().tolist() == [1.0] * 5


BAD = [
    (RuntimeError, "Halving dimension must be even", lambda: nn.GLU()(fastnn.ones(2, 3))),
    (
        RuntimeError,
        "divisible by the square of upscale_factor",
        lambda: nn.PixelShuffle(2)(fastnn.ones(1, 3, 2, 2)),
    ),
    (
        RuntimeError,
        "divisible by downscale_factor",
        lambda: nn.PixelUnshuffle(2)(fastnn.ones(1, 1, 3, 4)),
    ),
    (
        RuntimeError,
        r"Given normalized_shape=\[4\], expected input with shape \[\*, 4\]",
        lambda: nn.RMSNorm(4)(fastnn.ones(2, 3)),
    ),
    (
        RuntimeError,
        "lambda must be greater or equal to 0",
        lambda: nn.Softshrink(-1.0)(fastnn.ones(2)),
    ),
    (ValueError, "padding must be an int or a 4-tuple", lambda: nn.ZeroPad2d((1, 2))),
    (ValueError, "expected input to be 3D or 4D", lambda: nn.Softmax2d()(fastnn.ones(2, 3))),
]


@pytest.mark.parametrize("error, message, call", BAD)
def test_bad_arguments(error, message, call):
    with pytest.raises(error, match=message):
        call()


def test_init_trunc_normal_orthogonal_eye():
    import math

    fastnn.manual_seed(0)
    t = nn.init.trunc_normal_(fastnn.empty(400, 500), mean=0.5, std=2.0, a=-1.0, b=3.0)
    v = t.numpy().astype(np.float64)
    assert v.min() >= -1.0 and v.max() <= 3.0
    # the truncated normal's mean and variance, from the standard formulas
    al, be = (-1.0 - 0.5) / 2.0, (3.0 - 0.5) / 2.0
    pdf = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    cdf = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))
    zz = cdf(be) - cdf(al)
    mean = 0.5 + 2.0 * (pdf(al) - pdf(be)) / zz
    var = 4.0 * (1 + (al * pdf(al) - be * pdf(be)) / zz - ((pdf(al) - pdf(be)) / zz) ** 2)
    assert abs(v.mean() - mean) < 0.01 and abs(v.var() - var) < 0.01
    fastnn.manual_seed(3)
    a = nn.init.trunc_normal_(fastnn.empty(7)).numpy()
    fastnn.manual_seed(3)
    np.testing.assert_array_equal(nn.init.trunc_normal_(fastnn.empty(7)).numpy(), a)
    for shape in ((5, 8), (8, 5), (3, 4, 2, 2)):
        w = nn.init.orthogonal_(fastnn.empty(*shape), gain=2.0).numpy().reshape(shape[0], -1)
        small = w @ w.T if shape[0] <= w.shape[1] else w.T @ w
        np.testing.assert_allclose(small, 4 * np.eye(small.shape[0]), atol=1e-5)
    np.testing.assert_array_equal(nn.init.eye_(fastnn.empty(3, 4)).numpy(), np.eye(3, 4))
    p = nn.Parameter(fastnn.empty(3, 3))
    assert nn.init.trunc_normal_(p) is p and p.grad_fn is None and p.requires_grad
    with pytest.raises(ValueError, match="must be smaller than b"):
        nn.init.trunc_normal_(fastnn.empty(3), a=1.0, b=1.0)
    with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions"):
        nn.init.orthogonal_(fastnn.empty(3))
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        nn.init.eye_(fastnn.empty(2, 2, 2))
