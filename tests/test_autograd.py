"""Autograd engine: gradcheck of every differentiable Tensor op, and graph semantics (node reuse,
deep chains, gradient accumulation, retain_graph, in-place checks, no_grad, grad_fn / leaves)."""

import numpy as np
import pytest

import fastnn
from fastnn.autograd import GradcheckError, gradcheck


def t64(rng, *shape, positive=False, requires_grad=True):
    a = rng.standard_normal(shape)
    if positive:
        a = np.abs(a) + 0.5
    return fastnn.tensor(a, dtype=fastnn.float64, requires_grad=requires_grad)


# ---- gradcheck of each differentiable op (float64 central differences) ------------------------

UNARY = {
    "neg": lambda x: -x,
    "exp": lambda x: x.exp(),
    "log": lambda x: x.abs().add(0.5).log(),
    "sqrt": lambda x: (x * x + 1).sqrt(),
    "abs": lambda x: x.abs(),
    "sin": lambda x: x.sin(),
    "cos": lambda x: x.cos(),
    "clamp": lambda x: x.clamp(-0.5, 0.7),
    "clamp_min": lambda x: x.clamp_min(0.1),
    "relu": lambda x: x.relu(),
    "sigmoid": lambda x: x.sigmoid(),
    "tanh": lambda x: x.tanh(),
    "softmax0": lambda x: x.softmax(0),
    "softmax1": lambda x: x.softmax(-1),
    "log_softmax0": lambda x: x.log_softmax(0),
    "log_softmax1": lambda x: x.log_softmax(1),
    "pow_scalar": lambda x: x**3,
    "rpow": lambda x: 2.0**x,
    "square": lambda x: x.square(),
    "rsub": lambda x: 1.0 - x,
    "rdiv": lambda x: 1.0 / (x * x + 1),
    "sum": lambda x: x.sum(),
    "sum_dim": lambda x: x.sum(1),
    "sum_keepdim": lambda x: x.sum(0, keepdim=True),
    "sum_dims": lambda x: x.sum((0, 1)),
    "mean": lambda x: x.mean(),
    "mean_dim": lambda x: x.mean(dim=1, keepdim=True),
    "var": lambda x: x.var(1),
    "std": lambda x: x.std(),
    "norm": lambda x: x.norm(dim=1),
    "max": lambda x: x.max(),
    "max_dim": lambda x: x.max(1).values,
    "min_dim_keep": lambda x: x.min(0, keepdim=True)[0],
    "amax": lambda x: x.amax(0),
    "reshape": lambda x: x.reshape(4, 3) * fastnn.arange(12.0, dtype=fastnn.float64).view(4, 3),
    "flatten": lambda x: x.flatten(),
    "transpose": lambda x: x.transpose(0, 1) @ x,
    "T": lambda x: x.T,
    "permute": lambda x: x.permute(1, 0),
    "unsqueeze": lambda x: x.unsqueeze(1).expand(3, 2, 4),
    "getitem": lambda x: x[1:, ::2],
    "getitem_int": lambda x: x[1],
    "getitem_adv": lambda x: x[[0, 2, 0]],
    "getitem_mask": lambda x: x[x > 0],
    "getitem_none_ellipsis": lambda x: x[None, ..., 1],
    "split": lambda x: x.split(2, dim=1)[1],
    "repeat": lambda x: x.repeat(2, 1),
    "clone": lambda x: x.clone(),
    "contiguous": lambda x: x.T.contiguous(),
    "masked_fill": lambda x: x.masked_fill(x > 0.5, 0.0),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_gradcheck_unary(name, rng):
    x = t64(rng, 3, 4)
    assert gradcheck(UNARY[name], (x,))


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1),
    "pow": lambda a, b: (a * a + 1) ** b,
    "maximum": lambda a, b: fastnn.maximum(a, b),
    "minimum": lambda a, b: fastnn.minimum(a, b),
    "where": lambda a, b: fastnn.where(a > b, a, b * 2),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4))])
def test_gradcheck_binary_broadcast(name, shapes, rng):
    a, b = t64(rng, *shapes[0]), t64(rng, *shapes[1])
    assert gradcheck(BINARY[name], (a, b))


@pytest.mark.parametrize(
    "fn",
    [
        lambda a, b: fastnn.cat([a, b], dim=0),
        lambda a, b: fastnn.cat([a, b, a], dim=-1),
        lambda a, b: fastnn.stack([a, b], dim=1),
    ],
)
def test_gradcheck_cat_stack(fn, rng):
    assert gradcheck(fn, (t64(rng, 3, 4), t64(rng, 3, 4)))


@pytest.mark.parametrize(
    "sa,sb",
    [
        ((3, 4), (4, 5)),
        ((4,), (4,)),
        ((3, 4), (4,)),
        ((4,), (4, 2)),
        ((2, 3, 4), (2, 4, 5)),
        ((2, 3, 4), (4, 5)),
        ((2, 1, 3, 4), (3, 4, 2)),
    ],
)
def test_gradcheck_matmul(sa, sb, rng):
    a, b = t64(rng, *sa), t64(rng, *sb)
    assert gradcheck(lambda a, b: a @ b, (a, b))
    np.testing.assert_allclose(
        (a @ b).detach().numpy(), a.detach().numpy() @ b.detach().numpy(), rtol=1e-12, atol=1e-12
    )


def test_gradcheck_gather(rng):
    x = t64(rng, 3, 4)
    idx = fastnn.tensor([[0, 1, 1, 3], [2, 2, 0, 0]])
    assert gradcheck(
        lambda x: x.gather(1, idx[:, :3].reshape(2, 3).expand(2, 3))[0:2],
        (x[:2].detach().requires_grad_(),),
    )


def test_gradcheck_reports_worst_element(rng):
    from fastnn.autograd import Function

    class Bad(Function):  # backward off by a factor 2
        def forward(self, x):
            return x * 3

        def backward(self, g):
            return g * 6

    x = t64(rng, 5)
    with pytest.raises(GradcheckError, match="worst at index"):
        gradcheck(lambda x: Bad.apply(x), (x,))
    assert gradcheck(lambda x: Bad.apply(x), (x,), raise_exception=False) is False


def test_gradcheck_needs_float64(rng):
    x = fastnn.randn(3, requires_grad=True)
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda x: x * 2, (x,))


# ---- graph semantics ---------------------------------------------------------------------------


def test_seed_000_dot_example():
    """The d2l autograd example: y = 2 x.x for x = arange(4) gives x.grad = 4x."""
    x = fastnn.arange(4.0)
    x.requires_grad_(True)
    assert x.grad is None
    y = 2 * fastnn.dot(x, x)
    y.backward()
    assert x.grad.tolist() == [0.0, 4.0, 8.0, 12.0]
    assert (x.grad == 4 * x).all()


def test_node_reuse():
    a = fastnn.tensor([1.0, -2.0], requires_grad=True)
    b = a + a
    c = b + b
    c.sum().backward()
    assert a.grad.tolist() == [4.0, 4.0]
    d = fastnn.tensor(3.0, requires_grad=True)
    e = d * d * d  # 3 d^2 = 27
    e.backward()
    assert d.grad.item() == 27.0


def test_5000_node_chain():
    x = fastnn.tensor(1.0, dtype=fastnn.float64, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.001
    y.backward()
    assert abs(x.grad.item() - 1.001**5000) < 1e-6 * 1.001**5000


def test_two_backward_passes_accumulate():
    w = fastnn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for _ in range(2):
        (w * w).sum().backward()
    assert w.grad.tolist() == [4.0, 8.0, 12.0]


def test_leaf_grads_do_not_alias():
    a = fastnn.tensor([1.0, 2.0], requires_grad=True)
    b = fastnn.tensor([1.0, 2.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad.zero_()
    assert b.grad.tolist() == [1.0, 1.0]
    g = fastnn.tensor([5.0, 6.0])
    c = fastnn.tensor([0.0, 0.0], requires_grad=True)
    (c + 0).backward(g)
    c.grad.zero_()
    assert g.tolist() == [5.0, 6.0]


def test_backward_twice_without_retain_graph_raises():
    x = fastnn.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = fastnn.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    g1 = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * g1)


def test_backward_non_scalar_needs_gradient():
    x = fastnn.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="implicitly created only for scalar outputs"):
        y.backward()
    y.backward(fastnn.tensor([1.0, 10.0]))
    assert x.grad.tolist() == [2.0, 20.0]


def test_backward_gradient_shape_mismatch():
    x = fastnn.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(fastnn.ones(3))


def test_backward_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        fastnn.tensor([1.0]).sum().backward()


def test_inplace_change_of_saved_tensor_raises():
    a = fastnn.tensor([1.0, 2.0])
    w = fastnn.tensor([3.0, 4.0], requires_grad=True)
    y = (a * w).sum()
    a.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()
    # a saved output modified under no_grad
    x = fastnn.tensor([1.0, 2.0], requires_grad=True)
    z = x.exp()
    with fastnn.no_grad():
        z.mul_(2)
    with pytest.raises(RuntimeError, match="is at version 1; expected version 0"):
        z.sum().backward()


def test_inplace_on_leaf_requiring_grad_raises():
    w = fastnn.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.add_(1)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.normal_()
    with fastnn.no_grad():
        w.add_(1)
        w.normal_(0, 0.01)
    w.data.fill_(2)
    assert w.tolist() == [2.0, 2.0, 2.0]
    assert w.requires_grad and w.is_leaf


def test_inplace_on_non_leaf_is_recorded():
    x = fastnn.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y *= 2
    y += x
    y.sum().backward()
    assert x.grad.tolist() == [7.0, 7.0]
    z = x * 1
    z[0] = x[1] * 5
    z.sum().backward()
    assert x.grad.tolist() == [7.0, 13.0]


def test_uses_before_an_inplace_op_keep_the_old_history():
    """An op recorded on y before y changes in place takes its gradient to the history y had then
    (torch's edges point at grad_fns, not at tensors): the gradient must not pass through the
    in-place op, whether the earlier op saved nothing (+), took a view ([:2]) or reshaped."""
    t = fastnn.ones(4, requires_grad=True)
    y = t * 1
    z = y + 1
    y.mul_(3)
    (z.sum() + y.sum()).backward()
    assert t.grad.tolist() == [4.0] * 4

    t = fastnn.ones(4, requires_grad=True)
    y = t * 1
    z = y[:2] + 1
    y.mul_(3)
    (z.sum() + y.sum()).backward()
    assert t.grad.tolist() == [4.0, 4.0, 3.0, 3.0]

    # two in-place ops, a use before each and one after: d/dt of a + 10 b + 100 c
    t = fastnn.ones(4, requires_grad=True)
    y = t * 2
    a = y + 0
    y.add_(1)
    b = y + 1
    y.mul_(5)
    c = y + 0
    (a.sum() + (b * 10).sum() + (c * 100).sum()).backward()
    assert t.grad.tolist() == [1022.0] * 4

    t = fastnn.ones(2, 3, requires_grad=True)
    y = t * 1
    z = y.sum()
    y.t_()
    (z + (y * 2).sum()).backward()
    assert t.grad.tolist() == [[3.0] * 3] * 2


def test_custom_function_use_before_an_inplace_op_keeps_the_old_history():
    class Twice(fastnn.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    t = fastnn.ones(3, requires_grad=True)
    y = t * 1
    z = Twice.apply(y)
    y.mul_(7)
    (z.sum() + y.sum()).backward()
    assert t.grad.tolist() == [9.0] * 3


def test_inplace_history_is_not_kept_past_its_graph():
    """The stand-in that carries y's old history lives as long as the in-place op's node needs
    it, not as long as y: y's record of it is weak."""
    import gc

    t = fastnn.ones(3, requires_grad=True)
    y = t * 1
    y.mul_(2)
    (ref,) = fastnn.autograd.function._priors[id(y)][1].values()
    assert ref() is not None and ref()._ctx is not None
    y.sum().backward()  # frees the graph, the mul_ node with it
    gc.collect()
    assert ref() is None
    assert t.grad.tolist() == [2.0] * 3


def test_no_grad_context_and_decorator():
    x = fastnn.tensor([1.0], requires_grad=True)
    with fastnn.no_grad():
        y = x * 2
        assert not fastnn.is_grad_enabled()
        with fastnn.enable_grad():
            assert (x * 2).requires_grad
    assert fastnn.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None

    @fastnn.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad
    with fastnn.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad


def test_no_grad_is_thread_local():
    import threading

    seen = []

    def worker():
        with fastnn.no_grad():
            seen.append(fastnn.is_grad_enabled())

    with fastnn.enable_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        assert fastnn.is_grad_enabled()
    assert seen == [False]


def test_grad_fn_and_leaf_attributes():
    x = fastnn.tensor([1.0, 2.0], requires_grad=True)
    y = x + 1
    assert x.is_leaf and not y.is_leaf and x.grad_fn is None
    assert y.grad_fn.name() == "AddBackward0"
    assert "grad_fn=<AddBackward0>" in repr(y)
    d = y.detach()
    assert d.is_leaf and not d.requires_grad
    assert fastnn.tensor([1.0]).is_leaf


def test_reduction_and_norm_grad_fn_names_match_torch():
    torch = pytest.importorskip("torch")
    data = np.arange(12.0, dtype=np.float32).reshape(4, 3)
    calls = {
        "max": lambda m, x: x.max(),
        "min": lambda m, x: x.min(),
        "max(dim)": lambda m, x: x.max(0).values,
        "min(dim)": lambda m, x: x.min(dim=1, keepdim=True)[0],
        "layer_norm": lambda m, x: m.nn.functional.layer_norm(x, (3,)),
        "batch_norm": lambda m, x: m.nn.functional.batch_norm(x, None, None, training=True),
        "group_norm": lambda m, x: m.nn.functional.group_norm(x, 1),
        "LayerNorm": lambda m, x: m.nn.LayerNorm(3)(x),
        "BatchNorm1d": lambda m, x: m.nn.BatchNorm1d(3)(x),
    }
    for what, call in calls.items():
        got = call(fastnn, fastnn.tensor(data, requires_grad=True)).grad_fn.name()
        want = call(torch, torch.tensor(data, requires_grad=True)).grad_fn.name()
        assert got == want, what


def test_retain_grad_on_non_leaf():
    x = fastnn.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    (y * y).sum().backward()
    assert y.grad.tolist() == [4.0, 8.0]
    assert x.grad.tolist() == [8.0, 16.0]


def test_requires_grad_only_for_floats():
    with pytest.raises(RuntimeError, match="floating point"):
        fastnn.tensor([1, 2], requires_grad=True)


def test_grad_dtype_matches_leaf():
    w = fastnn.ones(3, requires_grad=True)
    (w * fastnn.tensor([1.0, 2.0, 3.0], dtype=fastnn.float64)).sum().backward()
    assert w.grad.dtype == fastnn.float32


def test_seed_003_worked_backprop():
    """The classic 2-2-2 sigmoid network of the worked backpropagation example (MSE,
    E_total = E_o1 + E_o2): the chain
    rule by hand gives dE/dw5 = (out_o1 - t_o1) * out_o1 (1 - out_o1) * out_h1."""
    i = fastnn.tensor([0.05, 0.10], dtype=fastnn.float64)
    w1 = fastnn.tensor([[0.15, 0.20], [0.25, 0.30]], dtype=fastnn.float64, requires_grad=True)
    w2 = fastnn.tensor([[0.40, 0.45], [0.50, 0.55]], dtype=fastnn.float64, requires_grad=True)
    b1, b2 = 0.35, 0.60
    target = fastnn.tensor([0.01, 0.99], dtype=fastnn.float64)
    out_h = (w1 @ i + b1).sigmoid()
    out_o = (w2 @ out_h + b2).sigmoid()
    e_total = (0.5 * (target - out_o) ** 2).sum()
    e_total.backward()
    assert abs(e_total.item() - 0.298371109) < 5e-9
    oh, oo = out_h.detach().numpy(), out_o.detach().numpy()
    dw5 = (oo[0] - 0.01) * oo[0] * (1 - oo[0]) * oh[0]
    assert abs(w2.grad[0, 0].item() - dw5) < 1e-12
    assert abs(dw5 - 0.082167041) < 1e-9
    assert abs(w1.grad[0, 0].item() - 0.000438568) < 1e-9


def test_a_product_by_a_number_saves_nothing_a_later_change_could_spoil():
    # torch's x * 2 keeps nothing for backward, so changing x afterwards is allowed; x * w keeps
    # w for x's gradient only, so changing x (not w) is allowed too
    torch = pytest.importorskip("torch")
    for lib in (fastnn, torch):
        t = lib.ones(3, dtype=lib.float64, requires_grad=True)
        w = lib.full((3,), 2.0, dtype=lib.float64)
        y = t * 1
        z = y * 2 + y * w + y / 4
        y.add_(1)
        (z.sum() + y.sum()).backward()
        assert t.grad.tolist() == [5.25] * 3


def test_leaf_used_by_an_add_and_elsewhere_gets_the_full_gradient():
    # an add hands one gradient array to both its inputs; the leaf's .grad must not adopt it,
    # or the later accumulation of sin's gradient would also change what exp's node receives
    x = np.array([1.0, 2.0, -0.5])
    w = np.array([0.3, -1.2, 2.0])
    want = w * (1 + np.exp(x) + np.cos(x))
    for build in (
        lambda a: a + a.exp() + a.sin(),
        lambda a: a.sin() + a.exp() + a,
        lambda a: a.exp() + a + a.sin(),
    ):
        a = fastnn.tensor(x, requires_grad=True)
        (build(a) * fastnn.tensor(w)).sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), want, rtol=1e-12)
