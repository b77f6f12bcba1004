"""fastnn.utils.checkpoint: the gradients of a checkpointed call equal the plain call's (dropout
reruns with the same mask), torch's, and torch's rules for the two variants; the activations are
not kept."""

import gc
import warnings
import weakref

import numpy as np
import pytest

import fastnn
from fastnn import nn
from fastnn.utils.checkpoint import checkpoint, checkpoint_sequential


def _model(p_drop=0.0):
    fastnn.manual_seed(0)
    return nn.Sequential(
        nn.Linear(7, 33),
        nn.Tanh(),
        nn.Dropout(p_drop),
        nn.Linear(33, 5),
        nn.ReLU(),
        nn.Linear(5, 3),
    )


def _grads(model, x, run):
    model.zero_grad()
    x.grad = None
    fastnn.manual_seed(42)
    (run(x) ** 2).sum().backward()
    return [p.grad.numpy().copy() for p in model.parameters()] + [x.grad.numpy().copy()]


@pytest.mark.parametrize("reentrant", [True, False])
def test_gradients_equal_the_plain_call_with_dropout(reentrant):
    model = _model(p_drop=0.4)
    x = fastnn.randn(6, 7, requires_grad=True)
    want = _grads(model, x, model)
    got = _grads(model, x, lambda v: checkpoint(model, v, use_reentrant=reentrant))
    seq = _grads(model, x, lambda v: checkpoint_sequential(model, 3, v, use_reentrant=reentrant))
    for w, g, s in zip(want, got, seq):
        np.testing.assert_array_equal(g, w)
        np.testing.assert_array_equal(s, w)


def test_gradients_match_torch():
    torch = pytest.importorskip("torch")
    model = _model()
    tmodel = torch.nn.Sequential(
        torch.nn.Linear(7, 33),
        torch.nn.Tanh(),
        torch.nn.Linear(33, 5),
        torch.nn.ReLU(),
        torch.nn.Linear(5, 3),
    )
    mine = [m for m in model if not isinstance(m, nn.Dropout)]
    for a, b in zip(mine, tmodel):
        for pa, pb in zip(a.parameters(), b.parameters()):
            pb.data = torch.tensor(pa.detach().numpy())
    x = np.random.default_rng(1).standard_normal((6, 7)).astype(np.float32)
    fx, tx = fastnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (checkpoint(model, fx, use_reentrant=False) ** 2).sum().backward()
    (torch.utils.checkpoint.checkpoint(tmodel, tx, use_reentrant=False) ** 2).sum().backward()
    np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-6)
    for a, b in zip(mine, tmodel):
        for pa, pb in zip(a.parameters(), b.parameters()):
            np.testing.assert_allclose(pa.grad.numpy(), pb.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_the_activations_are_not_kept():
    lin = nn.Linear(4, 4)
    inner = []

    def body(x):
        h = (lin(x) * 3).tanh()
        inner.append(weakref.ref(h))
        return h.sum(dim=1)

    x = fastnn.randn(3, 4, requires_grad=True)
    kept = body(x)  # the plain call's graph holds h
    gc.collect()
    assert inner[-1]() is not None
    out = checkpoint(body, x, use_reentrant=False)
    gc.collect()
    assert inner[-1]() is None
    out.sum().backward()  # the rerun makes h again, and the gradient is the plain one's
    want = fastnn.autograd.grad(kept.sum(), x)[0]
    np.testing.assert_allclose(x.grad.numpy(), want.numpy(), rtol=1e-6)


def test_which_calls_need_a_gradient_as_in_torch():
    model = _model()
    x = fastnn.randn(2, 7)  # no argument needs a gradient; the parameters do
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        out = checkpoint(model, x, use_reentrant=True)
    assert not out.requires_grad
    out = checkpoint(model, x, use_reentrant=False)
    assert out.requires_grad
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    with pytest.warns(UserWarning, match="use_reentrant"):
        checkpoint(model, fastnn.randn(2, 7, requires_grad=True))
    with fastnn.no_grad():
        assert not checkpoint(model, x, use_reentrant=False).requires_grad


def test_autograd_grad_and_several_outputs():
    w = fastnn.randn(5, 3, requires_grad=True)

    def body(x, scale=1.0):
        y = x @ w
        return y * scale, (y > 0).sum(), "tag"

    x = fastnn.randn(4, 5, requires_grad=True)
    y, count, tag = checkpoint(body, x, use_reentrant=False, scale=2.0)
    assert tag == "tag" and not count.requires_grad and y.requires_grad
    gx, gw = fastnn.autograd.grad((y**2).sum(), [x, w])
    ref_y = body(x, 2.0)[0]
    rx, rw = fastnn.autograd.grad((ref_y**2).sum(), [x, w])
    np.testing.assert_allclose(gx.numpy(), rx.numpy(), rtol=1e-6)
    np.testing.assert_allclose(gw.numpy(), rw.numpy(), rtol=1e-6)


def test_bad_arguments_raise_as_torch():
    model = _model()
    x = fastnn.randn(2, 7, requires_grad=True)
    with pytest.raises(ValueError, match="Unexpected keyword arguments"):
        checkpoint(lambda v, k=1: model(v), x, use_reentrant=True, k=2)
    with pytest.raises(ValueError, match="only supported when use_reentrant=False"):
        checkpoint(model, x, use_reentrant=True, debug=True)
    with pytest.raises(ValueError, match="determinism_check"):
        checkpoint(model, x, use_reentrant=False, determinism_check="strict")
    with pytest.raises(ValueError, match="segments"):
        checkpoint_sequential(model, 0, x, use_reentrant=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the documented keyword is taken without a warning
        checkpoint(model, x, use_reentrant=False, preserve_rng_state=False)
