"""Leaves in the graph as torch shows them: ``next_functions`` names an AccumulateGrad for a leaf
that requires grad (once per leaf, whatever the number of uses) and None for one that does not,
so a graph walker (a drawing tool, a hook tool) finds the same leaves as on torch."""

import numpy as np
import pytest

import fastnn


def _leaves_reached(root):
    """The leaves a walk over next_functions reaches, each node visited once (by identity)."""
    seen, leaves, todo = set(), [], [root]
    while todo:
        node = todo.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if hasattr(node, "variable"):
            leaves.append(node.variable)
        todo.extend(fn for fn, _ in node.next_functions)
    return leaves


@pytest.mark.parametrize("lib_name", ["fastnn", "torch"])
def test_a_walk_finds_each_parameter_once(lib_name):
    lib = fastnn if lib_name == "fastnn" else pytest.importorskip("torch")
    lib.manual_seed(0)
    net = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2))
    x = lib.randn(5, 3)  # needs no gradient: no node
    out = net(x) + net(x).exp()  # every parameter used twice
    leaves = _leaves_reached(out.sum().grad_fn)
    assert len(leaves) == 4
    assert {id(p) for p in net.parameters()} == {id(v) for v in leaves}
    a = lib.ones(2, requires_grad=True)
    y = a * lib.ones(2)
    (node_a, _), (node_c, _) = y.grad_fn.next_functions
    assert node_c is None and node_a.variable is a
    assert node_a.name() == "torch::autograd::AccumulateGrad"
    assert node_a.next_functions == () and node_a.metadata == {}
    assert isinstance(node_a, lib.autograd.graph.Node)


@pytest.mark.parametrize("lib_name", ["fastnn", "torch"])
def test_accumulate_grad_hooks(lib_name):
    lib = fastnn if lib_name == "fastnn" else pytest.importorskip("torch")
    a = lib.tensor([1.0, 2.0], requires_grad=True)
    y = (a * a).sum()
    node = y.grad_fn.next_functions[0][0].next_functions[0][0]
    after = []
    node.register_prehook(lambda grads: (grads[0] * 10,))
    node.register_hook(lambda grad_inputs, grad_outputs: after.append(grad_outputs[0].clone()))
    y.backward()
    np.testing.assert_allclose(a.grad.numpy(), [20.0, 40.0])  # 2a, times 10 before accumulating
    assert len(after) == 1
    np.testing.assert_allclose(after[0].numpy(), [20.0, 40.0])
