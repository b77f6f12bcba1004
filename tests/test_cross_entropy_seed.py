"""cross_entropy's backward from loss.backward() (gradient 1.0) hands its saved dlogits over
instead of multiplying by 1.0; every other case still multiplies. Values against torch, and
retain_graph (where the saved array must stay intact) against a fresh graph."""

import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn import _devices


def _data(rng, dtype, n=33, c=7):
    x = rng.standard_normal((n, c)).astype(dtype)
    t = rng.integers(0, c, size=n)
    return x, t


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_seed_skips_the_multiply(dtype, reduction, rng, monkeypatch):
    x, t = _data(rng, dtype)
    fx = fastnn.tensor(x, requires_grad=True)
    loss = F.cross_entropy(fx, fastnn.tensor(t), reduction=reduction)

    def no_mul(*args, **kwargs):
        raise AssertionError("backward multiplied by the seed gradient 1.0")

    monkeypatch.setattr(_devices.cpu, "mul", no_mul)
    loss.backward()
    monkeypatch.undo()
    # The same gradient through an explicit non-unit seed (which multiplies), scaled back.
    fx2 = fastnn.tensor(x, requires_grad=True)
    F.cross_entropy(fx2, fastnn.tensor(t), reduction=reduction).backward(
        fastnn.tensor(np.array(2.0, dtype))
    )
    np.testing.assert_allclose(fx.grad.numpy() * 2, fx2.grad.numpy(), rtol=0, atol=0)
    assert fx.grad.dtype == fx2.grad.dtype


def test_matches_torch(rng):
    torch = pytest.importorskip("torch")
    x, t = _data(rng, np.float32, n=257, c=33)
    fx = fastnn.tensor(x, requires_grad=True)
    F.cross_entropy(fx, fastnn.tensor(t), label_smoothing=0.1).backward()
    tx = torch.from_numpy(x).requires_grad_(True)
    torch.nn.functional.cross_entropy(tx, torch.from_numpy(t), label_smoothing=0.1).backward()
    np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_retain_graph_keeps_saved_gradient(rng):
    x, t = _data(rng, np.float64)
    fx = fastnn.tensor(x, requires_grad=True)
    loss = F.cross_entropy(fx, fastnn.tensor(t))
    loss.backward(retain_graph=True)
    once = fx.grad.numpy().copy()
    loss.backward(retain_graph=True)  # accumulates into .grad: must not alter the saved dlogits
    loss.backward()
    np.testing.assert_allclose(fx.grad.numpy(), 3 * once, rtol=1e-15, atol=0)


def test_grad_of_a_non_leaf_input(rng):
    # logits = 2 * x: the handed-over dlogits flows on into mul's backward.
    x, t = _data(rng, np.float64)
    fx = fastnn.tensor(x, requires_grad=True)
    F.cross_entropy(fx * 2.0, fastnn.tensor(t)).backward()
    fx2 = fastnn.tensor(x, requires_grad=True)
    F.cross_entropy(fx2 * 2.0, fastnn.tensor(t)).backward(fastnn.tensor(np.array(1.5)))
    np.testing.assert_allclose(fx.grad.numpy() * 1.5, fx2.grad.numpy(), rtol=1e-14, atol=0)
