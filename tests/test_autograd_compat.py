"""Autograd entry points as older and research scripts call them: ``autograd.Variable``, grad's
torch keywords (only_inputs, materialize_grads, is_grads_batched), ``backward(inputs=...)``, and
grad() running only the part of the graph that leads to its inputs (the graph behind a non-leaf
input is neither run nor freed), which first-order MAML and PINN closures rely on."""

import numpy as np
import pytest

import fastnn
from fastnn import autograd

RNG = np.random.default_rng(3)


def test_variable_is_a_detached_alias_with_the_flag_set():
    x = fastnn.randn(3, requires_grad=True)
    v = autograd.Variable(x * 2)
    assert not v.requires_grad and v.grad_fn is None
    a = fastnn.ones(2)
    w = autograd.Variable(a, requires_grad=True, volatile=True)
    assert w.requires_grad and w.is_leaf and not a.requires_grad
    w.data[0] = 5.0
    assert a[0].item() == 5.0  # same storage
    assert isinstance(a, autograd.Variable) and not isinstance(3.0, autograd.Variable)
    assert autograd.Variable().shape == (0,)
    with pytest.raises(TypeError):
        autograd.Variable([1.0, 2.0])


def test_grad_keywords():
    x = fastnn.tensor([1.0, 2.0], requires_grad=True)
    unused = fastnn.tensor([3.0], requires_grad=True)
    y = (x**3).sum()
    gx, gu = autograd.grad(y, [x, unused], only_inputs=True, materialize_grads=True)
    np.testing.assert_allclose(gx.numpy(), [3.0, 12.0])
    np.testing.assert_array_equal(gu.numpy(), [0.0])
    with pytest.raises(ValueError):
        autograd.grad((x * 2).sum(), [x], allow_unused=False, materialize_grads=True)


def test_grads_batched_gives_one_row_per_grad_output():
    a = RNG.standard_normal((3, 4))
    x = fastnn.tensor(RNG.standard_normal(4), requires_grad=True)
    y = fastnn.tensor(a) @ x.tanh()
    eye = fastnn.eye(3, dtype=y.dtype)
    (jac,) = autograd.grad(y, x, eye, is_grads_batched=True)
    want = a * (1 - np.tanh(x.detach().numpy()) ** 2)
    np.testing.assert_allclose(jac.numpy(), want, rtol=1e-5)


def test_backward_inputs_fills_only_those():
    x = fastnn.tensor([1.0, 2.0], requires_grad=True)
    w = fastnn.tensor([3.0, 4.0], requires_grad=True)
    (x * w).sum().backward(inputs=[x])
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 4.0])
    assert w.grad is None
    autograd.backward([(x * w).sum()], inputs=w)
    np.testing.assert_allclose(w.grad.numpy(), [1.0, 2.0])
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 4.0])  # untouched


def test_grad_to_a_nonleaf_leaves_the_graph_behind_it_alive():
    # first-order MAML: the graph of `fast` (made from the parameters) must survive the inner
    # grad, since the outer loss backpropagates through it afterwards
    w = fastnn.tensor(RNG.standard_normal(3), requires_grad=True)
    fast = w * 2.0 - 1.0
    (g,) = autograd.grad((fast.sin() ** 2).sum(), fast)
    (fast - 0.1 * g).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [2.0, 2.0, 2.0])


def test_a_cast_leaf_is_backpropagated_through_again():
    # a PINN's collocation points: a float64 leaf cast to float32 once, used in every closure
    base = fastnn.tensor(RNG.standard_normal((5, 1)), dtype=fastnn.float64, requires_grad=True)
    x = base.float()
    for _ in range(2):
        u = (x * x * x).sum()
        (ux,) = autograd.grad(u, x, create_graph=True)
        ux.sum().backward()
    np.testing.assert_allclose(base.grad.numpy(), 2 * 6 * base.detach().numpy(), rtol=1e-5)


def test_a_freed_graph_still_refuses():
    x = fastnn.tensor([1.0, 2.0], requires_grad=True)
    h = x.exp()
    y = h.sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        autograd.grad(y, x)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        autograd.grad((h * 2).sum(), x)


def test_against_torch():
    torch = pytest.importorskip("torch")
    a = RNG.standard_normal((3, 4))
    v = RNG.standard_normal(4)
    outs = []
    for lib in (fastnn, torch):
        x = lib.tensor(v, requires_grad=True)
        fast = x * 3.0
        y = lib.tensor(a) @ fast.tanh()
        (jac,) = lib.autograd.grad(
            y, x, lib.eye(3, dtype=y.dtype), retain_graph=True, is_grads_batched=True
        )
        (gf,) = lib.autograd.grad(y.sum(), fast, retain_graph=True)
        (fast * gf.detach()).sum().backward(inputs=[x])
        outs.append([jac.detach().numpy(), gf.numpy(), x.grad.numpy()])
    for got, want in zip(*outs):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-15)
