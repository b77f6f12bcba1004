"""nn.Module's backward hooks (register_full_backward_hook, register_full_backward_pre_hook,
register_backward_hook): what the hooks see and what their results change, against torch and
by hand."""

import warnings

import numpy as np
import pytest

import fastnn
from fastnn import nn


def _fmt(gs):
    return [None if g is None else g.detach().numpy().copy() for g in gs]


def _program(m):
    """Hooks on a Linear, a module of two inputs (one a number) and two outputs, a layer used
    twice in one forward; each step's log and the gradients that reach the leaves."""
    log, results = [], []
    lin = m.nn.Linear(3, 2).double()
    with m.no_grad():
        lin.weight.copy_(m.tensor(np.arange(6.0).reshape(2, 3) / 10))
        lin.bias.fill_(0.5)
    h1 = lin.register_full_backward_hook(lambda mod, gi, go: log.append(("h", _fmt(gi), _fmt(go))))
    h2 = lin.register_full_backward_pre_hook(lambda mod, go: log.append(("pre", _fmt(go))))
    x = m.tensor(np.array([[1.0, 2.0, 3.0]]), requires_grad=True)
    y = lin(x)
    (y * y).sum().backward()
    results += [x.grad.numpy().copy(), lin.weight.grad.numpy().copy()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's: the hook fires on the outputs' side
        lin(m.tensor(np.array([[1.0, 2.0, 3.0]]))).sum().backward()
    h1.remove()
    h2.remove()
    lin.register_full_backward_pre_hook(lambda mod, go: (go[0] * 2,))
    lin.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 10,))
    x.grad = None
    lin.zero_grad()
    lin(x).sum().backward()
    results += [x.grad.numpy().copy(), lin.weight.grad.numpy().copy()]

    class Two(m.nn.Module):
        def forward(self, a, k, b):
            return a * b * k, (a + b).sum()

    two = Two()
    two.register_full_backward_hook(lambda mod, gi, go: log.append(("two", _fmt(gi), _fmt(go))))
    a = m.tensor([1.0, 2.0], requires_grad=True)
    b = m.tensor([3.0, 4.0], requires_grad=True)
    o1, o2 = two(a, 2.0, b)
    (o1.sum() + 3 * o2).backward()
    o1, _ = two(a, 2.0, b)
    o1.sum().backward()  # the second output gets no gradient: None in grad_output

    class Twice(m.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = m.nn.Linear(2, 2, bias=False).double()

        def forward(self, x):
            return self.lin(x) + self.lin(x * 2)

    tw = Twice()
    with m.no_grad():
        tw.lin.weight.copy_(m.tensor([[1.0, 0.0], [0.5, 1.0]]))
    tw.lin.register_full_backward_hook(lambda mod, gi, go: log.append(("l", _fmt(gi), _fmt(go))))
    tw(m.tensor(np.array([[1.0, 1.0]]), requires_grad=True)).sum().backward()
    with m.no_grad():
        lin(x)  # no graph: no hook
    return log, results


def _same(a, b):
    if isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b)
        for u, v in zip(a, b):
            _same(u, v)
    elif isinstance(a, np.ndarray):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    else:
        assert a == b


def test_hooks_see_and_change_what_torch_hooks_do():
    torch = pytest.importorskip("torch")
    ours, theirs = _program(fastnn), _program(torch)
    _same(ours, theirs)


def test_hooks_by_hand():
    log, results = _program(fastnn)
    x = np.array([[1.0, 2.0, 3.0]])
    w = np.arange(6.0).reshape(2, 3) / 10
    y = x @ w.T + 0.5
    kinds = [entry[0] for entry in log]
    assert kinds == ["pre", "h", "pre", "h", "two", "two", "l", "l"]
    _, go = log[0]
    np.testing.assert_allclose(go[0], 2 * y)  # d(y^2)/dy
    _, gi, go = log[1]
    np.testing.assert_allclose(gi[0], 2 * y @ w)  # grad_input: with respect to x
    np.testing.assert_allclose(results[0], 2 * y @ w)
    _, gi, _ = log[3]
    assert gi == [None]  # no input requires grad: the hook ran on the outputs' side
    # the pre-hook doubles grad_output (weight gradient 2 x^T), the hook scales grad_input x 10
    np.testing.assert_allclose(results[2], 10 * 2 * np.ones((1, 2)) @ w)
    np.testing.assert_allclose(results[3], 2 * np.ones((2, 1)) @ x)
    _, gi, go = log[4]
    assert gi[1] is None and len(gi) == 3  # the number argument
    np.testing.assert_allclose(gi[0], [2 * 3 + 3, 2 * 4 + 3])
    _, gi, go = log[5]
    assert go[1] is None  # an output that got no gradient


def test_deprecated_hook_warns_and_runs_as_a_full_hook():
    lin = nn.Linear(2, 1)
    seen = []
    with pytest.warns(UserWarning, match="register_backward_hook runs as register_full_backward"):
        lin.register_backward_hook(lambda m, gi, go: seen.append(len(gi)))
    lin(fastnn.ones(1, 2, requires_grad=True)).sum().backward()
    assert seen == [1]


def test_bad_hooks():
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="must be callable"):
        lin.register_full_backward_hook(3)
    lin.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError, match="invalid number of grad_input, got 2, but expected 1"):
        lin(fastnn.ones(1, 2, requires_grad=True)).sum().backward()
    pre = nn.Linear(2, 2)
    pre.register_full_backward_pre_hook(lambda m, go: (go[0], go[0]))
    with pytest.raises(RuntimeError, match="invalid number of grad_output, got 2, but expected 1"):
        pre(fastnn.ones(1, 2, requires_grad=True)).sum().backward()


def test_removed_hooks_and_unpickled_modules_run_plainly():
    import pickle

    lin = nn.Linear(2, 2)
    calls = []
    handle = lin.register_full_backward_hook(lambda m, gi, go: calls.append(1))
    handle.remove()
    lin(fastnn.ones(1, 2, requires_grad=True)).sum().backward()
    assert calls == []
    old = nn.Linear(2, 2)
    state = dict(old.__dict__)
    for name in ("_backward_hooks", "_backward_pre_hooks"):  # pickled before they existed
        state.pop(name, None)
    copy = nn.Linear.__new__(nn.Linear)
    copy.__setstate__(pickle.loads(pickle.dumps(state)))
    assert copy(fastnn.ones(1, 2)).shape == (1, 2)
