"""fastnn.autograd.graph against torch.autograd.graph: saved-tensor hooks (what is packed, when
unpack runs, that backward uses what unpack returns), save_on_cpu, disabling, node hooks,
Node and register_multi_grad_hook."""

import numpy as np
import pytest

import fastnn
from fastnn.autograd import graph

torch = pytest.importorskip("torch")


def _leaves(lib, seed=0):
    rng = np.random.default_rng(seed)
    return [
        lib.tensor(rng.standard_normal(s), dtype=lib.float64, requires_grad=True)
        for s in ((5, 4), (3, 4), (3,), (2, 3))
    ]


def _mlp(lib, x, w1, b1, w2):
    F = lib.nn.functional
    return F.linear(lib.tanh(F.linear(x, w1, b1)), w2).softmax(-1).log().sum()


def _saved_log(lib, prog):
    log = []

    def pack(t):
        log.append(tuple(t.shape))
        return t

    with lib.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = prog(lib)
    return log, out


PROGRAMS = {
    "mul": lambda L: (L.ones(3, requires_grad=True) * L.ones(3, requires_grad=True)).sum(),
    "tanh_sigmoid": lambda L: L.ones(3, requires_grad=True).tanh().sigmoid().sum(),
    "softmax": lambda L: L.ones(3, 4, requires_grad=True).softmax(-1).sum(),
    "conv2d": lambda L: L.nn.functional.conv2d(
        L.ones(1, 2, 5, 5, requires_grad=True), L.ones(3, 2, 3, 3, requires_grad=True)
    ).sum(),
    "div_log": lambda L: (
        (L.ones(3, requires_grad=True) / L.ones(3, requires_grad=True)).log().sum()
    ),
    "add_mean": lambda L: (L.ones(3, requires_grad=True) + 1).mean(),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_pack_called_once_per_saved_tensor_like_torch(name):
    got, _ = _saved_log(fastnn, PROGRAMS[name])
    want, _ = _saved_log(torch, PROGRAMS[name])
    assert got == want


def test_saved_bytes_of_an_mlp_match_torch():
    # the classic program: count what a forward keeps for backward
    def prog(lib):
        return _mlp(lib, *_leaves(lib))

    got, _ = _saved_log(fastnn, prog)
    want, _ = _saved_log(torch, prog)
    assert len(got) == len(want)
    assert sum(int(np.prod(s)) for s in got) == sum(int(np.prod(s)) for s in want)


def _scaled_hooks(lib, counts):
    def pack(t):
        counts[0] += 1
        return t * 2.0  # what the node keeps is not the tensor itself

    def unpack(p):
        counts[1] += 1
        return p / 2.0 + 0.5  # and backward must read this, not the original

    return lib.autograd.graph.saved_tensors_hooks(pack, unpack)


def test_backward_uses_what_unpack_returns():
    grads = []
    for lib in (fastnn, torch):
        counts = [0, 0]
        leaves = _leaves(lib)
        with _scaled_hooks(lib, counts):
            out = _mlp(lib, *leaves)
        assert counts == [counts[0], 0]  # nothing unpacked before backward
        out.backward()
        assert counts[1] == counts[0]
        grads.append([t.grad.numpy() for t in leaves])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_unpack_runs_at_each_backward_with_retain_graph():
    x = fastnn.ones(3, requires_grad=True)
    counts = [0, 0]

    def pack(t):
        counts[0] += 1
        return t

    def unpack(t):
        counts[1] += 1
        return t

    with graph.saved_tensors_hooks(pack, unpack):
        y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert counts == [2, 4]
    np.testing.assert_allclose(x.grad.numpy(), 4 * np.ones(3))


def test_pack_sees_inputs_and_outputs_as_torch_does():
    # (fixed values away from x = -1, where the gradient e^x (1 + x) cancels to rounding noise)
    x = fastnn.tensor([0.5, -2.0, 1.25], requires_grad=True)
    seen = []

    def pack(t):
        seen.append((t is x, t.grad_fn is not None, fastnn.is_grad_enabled()))
        return t

    with graph.saved_tensors_hooks(pack, lambda t: t):
        y = x.exp()  # saves its output
        z = y * x  # saves y and x
    assert seen == [(False, True, False), (False, True, False), (True, False, False)]
    assert seen[0] == seen[1]
    z.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), (x.exp() * (1 + x)).detach().numpy(), rtol=1e-6)


def test_innermost_hooks_apply_and_stay_with_their_nodes():
    order = []

    def tagged(tag):
        return graph.saved_tensors_hooks(lambda t: order.append(tag) or t, lambda t: t)

    x = fastnn.ones(2, requires_grad=True)
    with tagged("outer"):
        with tagged("inner"):
            y = x.exp()
        y2 = x.exp()
    y3 = x.exp()  # no hooks in force: nothing packed
    assert order == ["inner", "outer"]
    unpacked = []
    with graph.saved_tensors_hooks(lambda t: t, lambda t: unpacked.append(1) or t):
        pass
    (y + y2 + y3).sum().backward()  # hooks entered after recording do not apply
    assert unpacked == []


def test_hooks_off_after_the_block_even_on_error():
    x = fastnn.ones(2, requires_grad=True)
    packed = []
    hooks = graph.saved_tensors_hooks(lambda t: packed.append(t) or t, lambda t: t)
    with pytest.raises(ValueError), hooks:
        raise ValueError
    x.exp()
    assert packed == []


def test_custom_function_saved_tensors_go_through_the_hooks():
    class Cube(fastnn.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x * x * x
            ctx.save_for_backward(x, y)
            return y

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            return g * 3 * y / x

    x = fastnn.tensor([1.0, 2.0, -3.0], dtype=fastnn.float64, requires_grad=True)
    packed, unpacked = [], []

    def pack(t):
        packed.append((t is x, t.grad_fn is not None))
        return t.detach() * 10

    def unpack(p):
        unpacked.append(1)
        return p / 10

    with graph.saved_tensors_hooks(pack, unpack):
        y = Cube.apply(x)
    assert packed == [(True, False), (False, True)]  # the output with its history, as torch
    y.sum().backward()
    assert len(unpacked) == 2
    np.testing.assert_allclose(x.grad.numpy(), 3 * x.detach().numpy() ** 2)


def test_second_derivative_through_identity_hooks():
    results = []
    for lib in (fastnn, torch):
        x = lib.tensor([0.3, -1.2, 2.0], dtype=lib.float64, requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            y = (x.exp() * x.sin()).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x)
        results.append((g.detach().numpy(), gg.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)


def test_gradcheck_under_offloading_hooks():
    def f(x, w):
        with graph.save_on_cpu():
            return (x @ w).tanh().sum(-1)

    x = fastnn.randn(3, 4, dtype=fastnn.float64, requires_grad=True)
    w = fastnn.randn(4, 2, dtype=fastnn.float64, requires_grad=True)
    assert fastnn.autograd.gradcheck(f, (x, w))


def test_save_on_cpu_gives_the_plain_gradients():
    leaves = _leaves(fastnn)
    _mlp(fastnn, *leaves).backward()
    plain = [t.grad.numpy().copy() for t in leaves]
    for t in leaves:
        t.grad = None
    with graph.save_on_cpu(pin_memory=False):
        out = _mlp(fastnn, *leaves)
    out.backward()
    for t, g in zip(leaves, plain):
        np.testing.assert_array_equal(t.grad.numpy(), g)
    assert issubclass(graph.save_on_cpu, graph.saved_tensors_hooks)


def test_pack_hook_must_not_modify_its_input():
    x = fastnn.ones(3, requires_grad=True)
    a = x * 1
    hooks = graph.saved_tensors_hooks(lambda t: t.detach().mul_(1), lambda t: t)
    with hooks, pytest.raises(RuntimeError, match="pack hook is modifying its input in place"):
        a.exp()


def test_unpack_hook_must_return_a_tensor():
    x = fastnn.ones(3, requires_grad=True)
    with graph.saved_tensors_hooks(lambda t: t, lambda t: 3):
        y = x.exp().sum()
    with pytest.raises(TypeError, match="unpack hook must return a Tensor, got int"):
        y.backward()


def test_hooks_must_be_callable():
    with pytest.raises(TypeError, match="pack_hook must be callable"):
        graph.saved_tensors_hooks(1, lambda t: t)
    with pytest.raises(TypeError, match="unpack_hook must be callable"):
        graph.saved_tensors_hooks(lambda t: t, None)


def test_disable_saved_tensors_hooks():
    identity = graph.saved_tensors_hooks(lambda t: t, lambda t: t)
    refused = pytest.raises(RuntimeError, match="no hooks here")
    with graph.disable_saved_tensors_hooks("no hooks here"), refused, identity:
        pass
    refused = pytest.raises(RuntimeError, match="not while hooked")
    with identity, refused, graph.disable_saved_tensors_hooks("not while hooked"):
        pass  # (hooks allowed again after the disabled stretch)

    @graph.disable_saved_tensors_hooks("decorated")
    def f():
        with graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            pass

    with pytest.raises(RuntimeError, match="decorated"):
        f()


# ---- nodes -------------------------------------------------------------------------------------


def test_grad_fn_is_a_node():
    x = fastnn.ones(2, requires_grad=True)
    y = (x * 2).exp()
    assert isinstance(y.grad_fn, graph.Node)
    assert y.grad_fn.name() == "ExpBackward0"
    assert isinstance(y.grad_fn.next_functions[0][0], graph.Node)
    assert not isinstance(x, graph.Node)
    y.grad_fn.metadata["tag"] = 1
    assert y.grad_fn.metadata == {"tag": 1}
    assert y.grad_fn.name() == "ExpBackward0"  # unchanged by the extras


def _node_hook_grads(lib):
    x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
    w = lib.tensor([1.5, 2.0, -0.5], dtype=lib.float64, requires_grad=True)
    y = x * w
    calls = []

    def pre(grad_outputs):
        calls.append(("pre", grad_outputs[0].numpy().copy()))
        return (grad_outputs[0] * 3,)

    def post(grad_inputs, grad_outputs):
        calls.append(("post", grad_outputs[0].numpy().copy(), len(grad_inputs)))
        return (grad_inputs[0] + 1, grad_inputs[1])

    y.grad_fn.register_prehook(pre)
    handle = y.grad_fn.register_hook(post)
    (y * y).sum().backward(retain_graph=True)
    first = (x.grad.numpy().copy(), w.grad.numpy().copy())
    handle.remove()
    x.grad = w.grad = None
    (y * y).sum().backward()
    return first, (x.grad.numpy(), w.grad.numpy()), calls


def test_node_hooks_match_torch():
    got, want = _node_hook_grads(fastnn), _node_hook_grads(torch)
    for a, b in zip(got[0] + got[1], want[0] + want[1]):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert [c[0] for c in got[2]] == [c[0] for c in want[2]]
    for c, d in zip(got[2], want[2]):
        np.testing.assert_allclose(c[1], d[1], rtol=1e-12)


def test_node_hook_must_be_callable_and_return_tuples():
    x = fastnn.ones(2, requires_grad=True)
    y = x.exp()
    with pytest.raises(TypeError, match="register_hook: hook must be callable"):
        y.grad_fn.register_hook(3)
    y.grad_fn.register_prehook(lambda go: go[0])
    with pytest.raises(TypeError, match="tuple of gradients"):
        y.sum().backward()


# ---- register_multi_grad_hook -----------------------------------------------------------------


def _multi(lib):
    a, b, c = (lib.tensor([1.0, 2.0], requires_grad=True) for _ in range(3))
    log = []

    def show(g):
        return None if g is None else g.tolist()

    h = lib.autograd.graph.register_multi_grad_hook(
        (a, b, c), lambda gs: log.append(("all", [show(g) for g in gs]))
    )
    (a * 2 + b * 3).sum().backward()
    (a * 5).sum().backward()
    h.remove()
    (a * 2).sum().backward()
    h = lib.autograd.graph.register_multi_grad_hook(
        (a, b), lambda g: log.append(("any", show(g))), mode="any"
    )
    (a * 2 + b * 3).sum().backward()
    (b * 7).sum().backward()
    h.remove()
    x, y = a * 1, b * 1  # non-leaves
    lib.autograd.graph.register_multi_grad_hook(
        (x, y), lambda gs: log.append(("nl", [show(g) for g in gs]))
    )
    (x * y).sum().backward()
    return log, a.grad.tolist()


def test_multi_grad_hook_matches_torch():
    got, want = _multi(fastnn), _multi(torch)
    assert got[0][:2] == want[0][:2]
    # in "any" mode the first gradient computed is in the engine's order: either leaf's
    assert got[0][2] in (("any", [3.0, 3.0]), ("any", [2.0, 2.0]))
    assert got[0][3:] == want[0][3:]
    assert len(got[0]) == 5
    assert got[1] == want[1]


def test_multi_grad_hook_bad_arguments():
    a = fastnn.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="mode"):
        graph.register_multi_grad_hook((a,), lambda gs: None, mode="some")
    with pytest.raises(RuntimeError, match="does not require grad"):
        graph.register_multi_grad_hook((a, fastnn.ones(2)), lambda gs: None)
    with pytest.raises(TypeError, match="must be callable"):
        graph.register_multi_grad_hook((a,), 3)
    with pytest.raises(ValueError, match="at least one tensor"):
        graph.register_multi_grad_hook((), lambda gs: None)
