"""fastnn.func (torch.func's transforms): functional_call, grad, grad_and_value, vjp, jvp,
linearize, jacrev, jacfwd, hessian, vmap and stack_module_state, against torch and by their
definitions."""

import numpy as np
import pytest

import fastnn
from fastnn import func, nn

RNG = np.random.default_rng(11)


def _program(m, x0, y0, b0):
    F = m.func
    net = m.nn.Sequential(m.nn.Linear(3, 4), m.nn.Tanh(), m.nn.Linear(4, 2)).double()
    params = {
        k: m.tensor(np.linspace(-1, 1, v.numel()).reshape(tuple(v.shape)))
        for k, v in net.state_dict().items()
    }
    x, y = m.tensor(x0), m.tensor(y0)

    def loss(p, x, y):
        return ((F.functional_call(net, p, (x,)) - y) ** 2).mean()

    g = F.grad(loss)(params, x, y)
    gv, value = F.grad_and_value(loss)(params, x, y)
    per_sample = F.vmap(F.grad(loss), in_dims=(None, 0, 0))(params, x.unsqueeze(1), y.unsqueeze(1))
    w = m.tensor(x0[0])

    def f(w):
        return (w.sin() ** 3).sum()

    nested = F.grad(lambda w: F.grad(f)(w).sum())(w)
    jac = F.jacrev(lambda a: a.tanh() * a[0])(w)
    jf = F.jacfwd(lambda a, b: (a * b).exp(), argnums=(0, 1))(w, w * 2)
    hess = F.hessian(f)(w)
    out, vjp_fn = F.vjp(lambda a: (a.sin(), a * a), w)
    vj = vjp_fn((m.ones(3, dtype=m.float64), m.tensor(x0[1])))
    batched = F.vmap(lambda a, b: a @ b, in_dims=(0, None))(x, m.tensor(b0))
    models = [m.nn.Linear(3, 2).double() for _ in range(3)]
    for i, e in enumerate(models):
        e.load_state_dict(
            {"weight": m.tensor(np.full((2, 3), 0.1 * i)), "bias": m.tensor(np.full(2, float(i)))}
        )
    sp, sb = F.stack_module_state(models)
    ensemble = F.vmap(
        lambda p, b, x: F.functional_call(models[0], (p, b), (x,)), in_dims=(0, 0, None)
    )(sp, sb, x)
    res = [g["0.weight"], g["2.bias"], gv["0.bias"], value, per_sample["0.weight"], nested, jac]
    res += [jf[0], jf[1], hess, out[0], vj[0], batched, ensemble]
    return [r.detach().numpy() for r in res], [r.requires_grad for r in res]


def test_transforms_match_torch():
    torch = pytest.importorskip("torch")
    x0, y0, b0 = (
        RNG.standard_normal((5, 3)),
        RNG.standard_normal((5, 2)),
        RNG.standard_normal((3, 4)),
    )
    ours, our_flags = _program(fastnn, x0, y0, b0)
    theirs, their_flags = _program(torch, x0, y0, b0)
    assert our_flags == their_flags
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_grad_by_definition_and_composition():
    x = fastnn.tensor(RNG.standard_normal(7))
    g = func.grad(lambda t: (t**3).sum())(x)
    np.testing.assert_allclose(g.numpy(), 3 * x.numpy() ** 2, rtol=1e-6)
    gg = func.grad(lambda t: func.grad(lambda u: (u**3).sum())(t).sum())(x)
    np.testing.assert_allclose(gg.numpy(), 6 * x.numpy(), rtol=1e-6)
    assert not g.requires_grad and not x.requires_grad
    g2, aux = func.grad(lambda t: ((t * t).sum(), "aux"), has_aux=True)(x)
    assert aux == "aux"
    np.testing.assert_allclose(g2.numpy(), 2 * x.numpy(), rtol=1e-6)


def test_grad_links_to_an_outer_graph():
    w = fastnn.tensor(RNG.standard_normal(4), requires_grad=True)
    t = fastnn.tensor(RNG.standard_normal(4))
    g = func.grad(lambda u: (u.sin() * w).sum())(t)  # cos(t) * w, a function of w
    assert g.requires_grad
    g.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), np.cos(t.numpy()), rtol=1e-6)


def test_functional_call_restores_the_module_and_checks_names():
    net = nn.Linear(3, 2)
    before = net.weight.detach().numpy().copy()
    zeros = {"weight": fastnn.zeros(2, 3), "bias": fastnn.ones(2)}
    out = func.functional_call(net, zeros, fastnn.ones(4, 3))
    np.testing.assert_array_equal(out.numpy(), np.ones((4, 2)))
    np.testing.assert_array_equal(net.weight.detach().numpy(), before)
    with pytest.raises(RuntimeError, match="no parameter or buffer"):
        func.functional_call(net, {"nope": fastnn.zeros(1)}, fastnn.ones(1, 3))
    with pytest.raises(RuntimeError, match="missing keys"):
        func.functional_call(net, {"weight": fastnn.zeros(2, 3)}, fastnn.ones(1, 3), strict=True)
    np.testing.assert_array_equal(net.weight.detach().numpy(), before)


def test_errors():
    x = fastnn.ones(3)
    with pytest.raises(RuntimeError, match="scalar Tensor"):
        func.grad(lambda t: t * 2)(x)
    with pytest.raises(RuntimeError, match="tuple"):
        func.grad(lambda t: t.sum(), has_aux=True)(x)
    with pytest.raises(ValueError, match="same size in the mapped dimension"):
        func.vmap(lambda a, b: a + b)(fastnn.ones(3), fastnn.ones(4))
    with pytest.raises(ValueError, match="in_dims"):
        func.vmap(lambda a, b: a + b, in_dims=(0,))(fastnn.ones(3), fastnn.ones(3))


def test_vmap_dims():
    a = fastnn.tensor(RNG.standard_normal((2, 5, 3)))
    out = func.vmap(lambda t: t.sum(0), in_dims=1, out_dims=1)(a)
    np.testing.assert_allclose(out.numpy(), a.numpy().sum(0).T, rtol=1e-6)
    assert tuple(out.shape) == (3, 5)


# ---- jvp and linearize (forward-mode products by the double vjp) ------------------------------


def _forward_products(m, x0, v0, w0):
    F = m.func
    x, v, w = m.tensor(x0), m.tensor(v0), m.tensor(w0)

    def f(a, b):
        return (a * b).sin() + a.exp() * b[0], {"sq": (a @ a) * b}

    out, jv = F.jvp(f, (x, w), (v, w * 0.5))
    lin_out, jvp_fn = F.linearize(lambda a: (a.tanh() ** 2).cumsum(0), x)
    lin1, lin2 = jvp_fn(v), jvp_fn(x)
    out2, jv2, aux = F.jvp(lambda a: ((a**3).sum(), a.cos()), (x,), (v,), has_aux=True)
    net = m.nn.Linear(3, 2).double()
    net.load_state_dict(
        {"weight": m.tensor(np.linspace(-1, 1, 6).reshape(2, 3)), "bias": m.tensor([0.5, -0.2])}
    )
    p = {k: q.detach() for k, q in net.named_parameters()}
    t = {k: m.ones_like(q) for k, q in p.items()}
    _, jnet = F.jvp(lambda q: F.functional_call(net, q, (x.reshape(1, 3),)), (p,), (t,))
    res = [out[0], out[1]["sq"], jv[0], jv[1]["sq"], lin_out, lin1, lin2, out2, jv2, aux, jnet]
    return [r.detach().numpy() for r in res], [r.requires_grad for r in res]


def test_jvp_and_linearize_match_torch():
    torch = pytest.importorskip("torch")
    x0, v0, w0 = RNG.standard_normal(3), RNG.standard_normal(3), RNG.standard_normal(3)
    ours, our_flags = _forward_products(fastnn, x0, v0, w0)
    theirs, their_flags = _forward_products(torch, x0, v0, w0)
    assert our_flags == their_flags == [False] * len(ours)
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_jvp_is_the_directional_derivative():
    """J v against a central difference of f along v, and linear in v."""
    x = RNG.standard_normal((4, 3))
    v = RNG.standard_normal((4, 3))

    def f(a):
        return (a.sigmoid() @ a.T).log_softmax(1)

    _, jv = func.jvp(f, (fastnn.tensor(x),), (fastnn.tensor(v),))
    h = 1e-6
    fd = (f(fastnn.tensor(x + h * v)).numpy() - f(fastnn.tensor(x - h * v)).numpy()) / (2 * h)
    np.testing.assert_allclose(jv.numpy(), fd, rtol=1e-6, atol=1e-8)
    _, jvp_fn = func.linearize(f, fastnn.tensor(x))
    twice = jvp_fn(fastnn.tensor(2 * v)).numpy()
    np.testing.assert_allclose(twice, 2 * jv.numpy(), rtol=1e-12)


def test_jvp_links_to_an_outer_graph():
    """A tangent or a closed-over weight that requires grad keeps J v differentiable."""
    w = fastnn.tensor(RNG.standard_normal(3), requires_grad=True)
    x = fastnn.tensor(RNG.standard_normal(3))
    _, jv = func.jvp(lambda a: (a * w).sin(), (x,), (fastnn.ones(3, dtype=fastnn.float64),))
    assert jv.requires_grad  # cos(x w) w
    jv.sum().backward()
    xw = x.numpy() * w.detach().numpy()
    want = np.cos(xw) - np.sin(xw) * x.numpy() * w.detach().numpy()
    np.testing.assert_allclose(w.grad.numpy(), want, rtol=1e-12)


def test_jvp_errors():
    x = fastnn.ones(3)
    f = lambda a, b: a * b
    with pytest.raises(RuntimeError, match="Expected primals to be a tuple"):
        func.jvp(f, x, (x,))
    with pytest.raises(RuntimeError, match="same python structure"):
        func.jvp(f, (x, x), [x, x])
    with pytest.raises(RuntimeError, match="same python structure"):
        func.jvp(f, (x, x), (x,))
    with pytest.raises(RuntimeError, match="size \\[3\\] while the given forward gradient is of"):
        func.jvp(f, (x, x), (x, fastnn.ones(2)))
    with pytest.raises(RuntimeError, match="only contain Tensors"):
        func.jvp(f, (1.0, x), (x, x))
    with pytest.raises(RuntimeError, match="at least one Tensor"):
        func.jvp(f, (), ())
    with pytest.raises(RuntimeError, match="return only tensors"):
        func.jvp(lambda a: 3, (x,), (x,))
    with pytest.raises(RuntimeError, match="should be a tuple"):
        func.jvp(lambda a: a * 2, (x,), (x,), has_aux=True)
    _, jvp_fn = func.linearize(f, x, x)
    with pytest.raises(RuntimeError, match="same argspec"):
        jvp_fn(x)
    with pytest.raises(RuntimeError, match="tangent of shape \\(3,\\)"):
        jvp_fn(x, fastnn.ones(4))
