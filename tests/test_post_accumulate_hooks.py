"""Tensor.register_post_accumulate_grad_hook and the end-of-backward callback queue."""

import numpy as np
import pytest

import fastnn
from fastnn.autograd import post_hooks


def _mlp_params(rng):
    ws = [
        fastnn.tensor(rng.standard_normal(s), requires_grad=True) for s in ((5, 7), (7, 3), (3, 2))
    ]
    return ws


def test_fires_once_with_final_grad_in_reverse_layer_order():
    rng = np.random.default_rng(0)
    ws = _mlp_params(rng)
    x = fastnn.tensor(rng.standard_normal((4, 5)))
    seen = []
    for i, w in enumerate(ws):
        w.register_post_accumulate_grad_hook(lambda t, i=i: seen.append((i, t.grad.numpy().copy())))
    h = x
    for w in ws:
        h = (h @ w).tanh()
    h.sum().backward()
    assert [i for i, _ in seen] == [2, 1, 0]  # the last layer's gradient is final first
    for i, g in seen:
        np.testing.assert_array_equal(g, ws[i].grad.numpy())


def test_shared_leaf_fires_after_all_uses_and_accumulates():
    w = fastnn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    calls = []
    w.register_post_accumulate_grad_hook(lambda t: calls.append(t.grad.numpy().copy()))
    y = (w * w).sum() + (w * 3.0).sum()  # two uses of w
    y.backward()
    assert len(calls) == 1
    np.testing.assert_allclose(calls[0], 2 * np.array([1.0, 2.0, 3.0]) + 3.0)
    (w * 2.0).sum().backward()  # .grad accumulates; the hook sees the sum
    np.testing.assert_allclose(calls[1], 2 * np.array([1.0, 2.0, 3.0]) + 5.0)


def test_tensor_hook_runs_before_accumulation():
    w = fastnn.tensor([1.0, -1.0], requires_grad=True)
    w.register_hook(lambda g: g * 10.0)
    seen = []
    w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.numpy().copy()))
    (w * 2.0).sum().backward()
    np.testing.assert_allclose(seen[0], [20.0, 20.0])


def test_unused_leaf_does_not_fire_and_remove_works():
    a = fastnn.tensor([1.0], requires_grad=True)
    b = fastnn.tensor([2.0], requires_grad=True)
    fired = []
    a.register_post_accumulate_grad_hook(lambda t: fired.append("a"))
    hb = b.register_post_accumulate_grad_hook(lambda t: fired.append("b"))
    (a * 2.0).sum().backward()
    assert fired == ["a"] and b.grad is None
    hb.remove()
    (a * b).sum().backward()
    assert fired == ["a", "a"]


def test_root_leaf_fires():
    a = fastnn.tensor([3.0], requires_grad=True)
    fired = []
    a.register_post_accumulate_grad_hook(lambda t: fired.append(t.grad.item()))
    a.backward(fastnn.tensor([1.5]))
    assert fired == [1.5]


def test_bad_registrations():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        fastnn.tensor([1.0]).register_post_accumulate_grad_hook(lambda t: None)
    a = fastnn.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="non-leaf"):
        (a * 2.0).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(TypeError, match="callable"):
        a.register_post_accumulate_grad_hook(3)


def test_queue_callback_runs_after_every_hook_and_only_on_success():
    a = fastnn.tensor([1.0, 2.0], requires_grad=True)
    log = []

    def hook(t):
        log.append("hook")
        post_hooks.queue_callback(lambda: log.append("end"))

    a.register_post_accumulate_grad_hook(hook)
    (a * a).sum().backward()
    assert log == ["hook", "end"]
    with pytest.raises(RuntimeError, match="no backward pass"):
        post_hooks.queue_callback(lambda: None)

    def failing(g):
        raise ValueError("boom")

    b = fastnn.tensor([1.0], requires_grad=True)
    b.register_post_accumulate_grad_hook(
        lambda t: post_hooks.queue_callback(lambda: log.append("x"))
    )
    c = b * 2.0
    c.register_hook(failing)
    with pytest.raises(ValueError, match="boom"):
        (c * b).sum().backward()
    (b * 1.0).sum().backward()
    assert "x" in log and log.count("x") == 1  # the failed pass's callback was dropped


def test_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    w0 = rng.standard_normal((4, 3))
    x0 = rng.standard_normal((6, 4))
    out = {}
    for lib, name in ((fastnn, "f"), (torch, "t")):
        w = lib.tensor(w0, requires_grad=True)
        got = []
        w.register_post_accumulate_grad_hook(
            lambda t, got=got: got.append(t.grad.detach().numpy().copy())
        )
        ((lib.tensor(x0) @ w).sin() * (lib.tensor(x0) @ w)).sum().backward()
        out[name] = got
    assert len(out["f"]) == len(out["t"]) == 1
    np.testing.assert_allclose(out["f"][0], out["t"][0], rtol=1e-12)
