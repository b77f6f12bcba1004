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


# Graphs an earlier backward freed, then a pass that may or may not need a freed node. torch's
# freed nodes keep their edges, so its engine raises exactly when a wanted tensor lies behind a
# freed node, and otherwise runs only the live part. Each case returns the gradients, or None
# where torch raises its freed-graph error.
def _freed_cases(m):
    def leads_and_bypasses():  # one path through the freed exp, one around it
        x = m.ones(3, requires_grad=True)
        y = x.exp()
        y.sin().sum().backward()
        return m.autograd.grad((x * 2 + y * 3).sum(), x)

    def leads_nowhere_wanted():
        x, w = m.ones(3, requires_grad=True), m.ones(3, requires_grad=True)
        y = x.exp()
        y.sum().backward()
        return m.autograd.grad((y * w).sum(), w)

    def inputs_around_it():
        x, w = m.ones(3, requires_grad=True), m.ones(3, requires_grad=True)
        y = x.exp()
        y.sum().backward()
        (y * w).sum().backward(inputs=[w])
        return (w.grad,)

    def inputs_behind_it():
        x, w = m.ones(3, requires_grad=True), m.ones(3, requires_grad=True)
        y = x.exp()
        y.sum().backward()
        (y * w).sum().backward(inputs=[x])
        return (x.grad,)

    def nonleaf_behind_it():
        x = m.ones(3, requires_grad=True)
        h = x * 2
        y = h.exp()
        y.sum().backward()
        return m.autograd.grad((y * 3).sum(), h)

    def the_input_itself_freed():
        x = m.ones(3, requires_grad=True)
        h = x.exp()
        h.sin().sum().backward()
        return m.autograd.grad((h * 3).sum(), h)

    def past_a_live_node():  # grad() to a non-leaf freed only the exp, not a's node
        x = m.ones(3, requires_grad=True)
        a = x * 2
        b = a.exp()
        m.autograd.grad(b.sum(), a)
        return m.autograd.grad((b * 2).sum(), x)

    def recorded_nowhere_wanted():
        x, w = m.ones(3, requires_grad=True), m.ones(3, requires_grad=True)
        y = x.exp()
        y.sum().backward()
        return m.autograd.grad((y * w * w).sum(), w, create_graph=True)

    def recorded_behind_it():
        x = m.ones(3, requires_grad=True)
        y = x.exp()
        y.sin().sum().backward()
        return m.autograd.grad((x * 2 + y * 3).sum(), x, create_graph=True)

    cases = [leads_and_bypasses, leads_nowhere_wanted, inputs_around_it, inputs_behind_it]
    cases += [nonleaf_behind_it, the_input_itself_freed, past_a_live_node]
    cases += [recorded_nowhere_wanted, recorded_behind_it]
    out = {}
    for case in cases:
        try:
            out[case.__name__] = [g.detach().numpy() for g in case()]
        except RuntimeError as e:
            assert "backward through the graph a second time" in str(e), str(e)
            out[case.__name__] = None
    return out


def test_a_freed_node_raises_only_where_a_wanted_tensor_lies_behind_it():
    got = _freed_cases(fastnn)
    e = np.e
    want = {
        "leads_and_bypasses": None,  # a silently partial gradient (2) before edges were kept
        "leads_nowhere_wanted": [np.full(3, e)],
        "inputs_around_it": [np.full(3, e)],  # raised before: backward(inputs=) refused at once
        "inputs_behind_it": None,
        "nonleaf_behind_it": None,
        "the_input_itself_freed": [np.full(3, 3.0)],
        "past_a_live_node": None,
        "recorded_nowhere_wanted": [np.full(3, 2 * e)],
        "recorded_behind_it": None,
    }
    assert got.keys() == want.keys()
    for name, w in want.items():
        if w is None:
            assert got[name] is None, name
        else:
            assert got[name] is not None, name
            np.testing.assert_allclose(got[name][0], w[0], rtol=1e-6, err_msg=name)
    torch = pytest.importorskip("torch")
    theirs = _freed_cases(torch)
    assert [v is None for v in theirs.values()] == [v is None for v in got.values()]


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
