"""Pickling and deep-copying tensors with a history, as torch does: pickle keeps the values and
makes a leaf that requires grad; deepcopy refuses a non-leaf (and so a module holding one)."""

import copy
import pickle

import numpy as np
import pytest

import fastnn


@pytest.mark.parametrize("lib_name", ["fastnn", "torch"])
def test_pickle_drops_the_history_and_deepcopy_refuses_it(lib_name):
    lib = fastnn if lib_name == "fastnn" else pytest.importorskip("torch")
    a = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
    b = (a * 2).exp()
    back = pickle.loads(pickle.dumps(b))
    assert back.requires_grad and back.grad_fn is None and back.is_leaf
    np.testing.assert_allclose(back.detach().numpy(), b.detach().numpy())
    back.sum().backward()  # a leaf of its own: the gradient lands on it
    np.testing.assert_allclose(back.grad.numpy(), np.ones(3))
    assert a.grad is None
    with pytest.raises(RuntimeError, match="lea(f|ves)"):
        copy.deepcopy(b)
    leaf = copy.deepcopy(a)
    assert leaf.requires_grad and leaf is not a
    np.testing.assert_array_equal(leaf.detach().numpy(), a.detach().numpy())


def test_modules_pickle_and_deepcopy_with_their_gradients():
    model = fastnn.nn.Sequential(fastnn.nn.Linear(3, 4), fastnn.nn.Tanh(), fastnn.nn.Linear(4, 1))
    model(fastnn.randn(5, 3)).sum().backward()
    for other in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        for p, q in zip(model.parameters(), other.parameters()):
            assert type(q) is fastnn.nn.Parameter and q is not p
            np.testing.assert_array_equal(q.detach().numpy(), p.detach().numpy())
            np.testing.assert_array_equal(q.grad.numpy(), p.grad.numpy())
    # weight_norm's weight is recomputed by every forward: a non-leaf attribute
    with pytest.warns(FutureWarning):
        wn = fastnn.nn.utils.weight_norm(fastnn.nn.Linear(3, 2))
    wn(fastnn.randn(2, 3))
    again = pickle.loads(pickle.dumps(wn))
    np.testing.assert_allclose(
        again(fastnn.ones(1, 3)).detach().numpy(), wn(fastnn.ones(1, 3)).detach().numpy(), rtol=1e-6
    )
    with pytest.raises(RuntimeError, match="weight_norm"):
        copy.deepcopy(wn)
