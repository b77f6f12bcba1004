"""nn.functional ops other than losses: linear (fused GEMM), activations, softmax, dropout,
one_hot -- values vs NumPy/PyTorch, gradcheck in float64."""

import numpy as np
import pytest

import fastnn
from fastnn.autograd import gradcheck
from fastnn.nn import functional as F


def t64(a, requires_grad=True):
    return fastnn.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


@pytest.mark.parametrize("shape", [(7, 5), (5,), (2, 3, 5)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_values_and_gradcheck(shape, bias, rng):
    x, w, b = rng.standard_normal(shape), rng.standard_normal((4, 5)), rng.standard_normal(4)
    out = F.linear(t64(x, False), t64(w, False), t64(b, False) if bias else None)
    np.testing.assert_allclose(out.numpy(), x @ w.T + (b if bias else 0), rtol=1e-12, atol=1e-12)
    args = (t64(x), t64(w)) + ((t64(b),) if bias else ())
    assert gradcheck(lambda *a: F.linear(*a), args)


def test_linear_float32_matches_numpy_and_grads(rng):
    x = rng.standard_normal((33, 65)).astype(np.float32)
    w = rng.standard_normal((10, 65)).astype(np.float32)
    b = rng.standard_normal(10).astype(np.float32)
    tx, tw, tb = (fastnn.tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.linear(tx, tw, tb)
    assert y.grad_fn.name() == "AddmmBackward0"  # one primitive (the fused GEMM), named as torch
    g = rng.standard_normal((33, 10)).astype(np.float32)
    y.backward(fastnn.tensor(g))
    np.testing.assert_allclose(y.detach().numpy(), x @ w.T + b, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(tx.grad.numpy(), g @ w, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(tw.grad.numpy(), g.T @ x, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(tb.grad.numpy(), g.sum(0), rtol=1e-4, atol=1e-4)


def test_linear_bad_shapes():
    with pytest.raises(RuntimeError, match=r"cannot be multiplied \(3x4 and 5x2\)"):
        F.linear(fastnn.ones(3, 4), fastnn.ones(2, 5))
    with pytest.raises(RuntimeError, match="same dtype"):
        F.linear(fastnn.ones(3, 4, dtype=fastnn.float64), fastnn.ones(2, 4))
    with pytest.raises(RuntimeError, match="bias"):
        F.linear(fastnn.ones(3, 4), fastnn.ones(2, 4), fastnn.ones(3))


ACTS = [
    ("relu", {}),
    ("leaky_relu", {"negative_slope": 0.2}),
    ("gelu", {}),
    ("gelu", {"approximate": "tanh"}),
    ("sigmoid", {}),
    ("tanh", {}),
    ("softplus", {}),
    ("elu", {}),
    ("silu", {}),
    ("relu6", {}),
    ("logsigmoid", {}),
    ("hardtanh", {}),
]


@pytest.mark.parametrize("name,kw", ACTS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_activations_match_torch(name, kw, dtype, rng):
    torch = pytest.importorskip("torch")
    x = (rng.standard_normal((7, 33)) * 4).astype(dtype)
    tx = fastnn.tensor(x, requires_grad=True)
    rx = torch.tensor(x, requires_grad=True)
    out = getattr(F, name)(tx, **kw)
    ref = getattr(torch.nn.functional, name)(rx, **kw)
    g = rng.standard_normal(x.shape).astype(dtype)
    out.backward(fastnn.tensor(g))
    ref.backward(torch.tensor(g))
    tol = 2e-6 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(tx.grad.numpy(), rx.grad.numpy(), rtol=tol * 5, atol=tol * 5)


@pytest.mark.parametrize("name,kw", ACTS)
def test_activations_gradcheck(name, kw, rng):
    x = rng.standard_normal((4, 5)) * 3
    x[np.abs(x) < 0.05] = 0.3  # keep away from kinks
    assert gradcheck(lambda a: getattr(F, name)(a, **kw), (t64(x),))


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_dims_match_numpy(fn, dim, rng):
    x = rng.standard_normal((3, 4, 5)) * 10
    e = np.exp(x - x.max(dim, keepdims=True))
    ref = e / e.sum(dim, keepdims=True)
    out = getattr(F, fn)(t64(x, False), dim=dim).numpy()
    np.testing.assert_allclose(out, ref if fn == "softmax" else np.log(ref), rtol=1e-10, atol=1e-12)
    assert gradcheck(lambda a: getattr(F, fn)(a, dim=dim), (t64(x[:2, :3, :2]),))


def test_softmax_large_logits_stable():
    x = fastnn.tensor([[1e4, 0.0, -1e4]])
    assert np.isfinite(F.log_softmax(x, dim=1).numpy()).all()
    assert F.softmax(x, dim=1).tolist() == [[1.0, 0.0, 0.0]]


def test_dropout_scales_kept_values():
    fastnn.manual_seed(0)
    x = fastnn.ones(100000)
    y = F.dropout(x, p=0.8)
    kept = y.numpy()[y.numpy() != 0]
    assert np.allclose(kept, 5.0)  # 1 / (1 - 0.8)
    assert abs(kept.size / 100000 - 0.2) < 0.01
    assert F.dropout(x, p=0.8, training=False) is x
    assert (F.dropout(x, p=1.0).numpy() == 0).all()
    w = fastnn.ones(1000, requires_grad=True)
    out = F.dropout(w, p=0.5)
    out.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), out.detach().numpy())
    with pytest.raises(ValueError):
        F.dropout(x, p=1.5)


def test_inplace_activation():
    x = fastnn.tensor([-1.0, 2.0])
    assert F.relu(x, inplace=True) is x and x.tolist() == [0.0, 2.0]
    w = fastnn.tensor([-1.0, 2.0], requires_grad=True)
    h = w * 1
    F.relu(h, inplace=True).sum().backward()
    assert w.grad.tolist() == [0.0, 1.0]


def test_one_hot():
    out = F.one_hot(fastnn.tensor([0, 2, 1]), 4)
    assert out.dtype == fastnn.int64 and out.tolist() == [[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0]]
    assert F.one_hot(fastnn.tensor([1, 0])).shape == (2, 2)
    with pytest.raises(RuntimeError):
        F.one_hot(fastnn.tensor([0.5]))
