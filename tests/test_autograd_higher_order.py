"""Higher-order gradients (create_graph=True): second and third derivatives against finite
differences (gradgradcheck, float64) and against torch; the refusal of an op without a recorded
backward; autograd.functional; and the 0-d gradients that numpy hands back as scalars."""

import numpy as np
import pytest

import fastnn
from fastnn import autograd
from fastnn.autograd import graph_ops

F = fastnn.nn.functional
RNG = np.random.default_rng(7)


def leaf(*shape, low=None):
    a = RNG.standard_normal(shape) if low is None else RNG.uniform(low, low + 1.0, shape)
    return fastnn.tensor(a, dtype=fastnn.float64, requires_grad=True)


# ---- second derivatives against finite differences (no torch needed) ----------------------

GRADGRAD_CASES = {
    "chain": (lambda x: (x.tanh() * x.sin() + x.exp() / (1 + x * x)).log1p(), [(7,)]),
    "pow_sqrt_div": (lambda x, y: x**3 / y.sqrt() + y**2.5, [(3, 1), (3, 4)]),
    "matmul": (lambda a, b: (a.sigmoid() @ b).softmax(-1), [(1, 7), (7, 3)]),
    "linear_relu": (
        lambda x, w, b: F.gelu(F.linear(x, w, b)) + F.silu(x).sum(),
        [(4, 3), (2, 3), (2,)],
    ),
    "reductions": (
        lambda x: x.norm(dim=1) * x.var(0).sum() + x.amax(1) + x.logsumexp(0).sum(),
        [(3, 5)],
    ),
    "shapes": (lambda x: x.t().reshape(2, -1)[:, 1::2].expand(3, 2, 3).cumsum(1).flip(0), [(4, 3)]),
    "conv": (
        lambda x, w: F.conv2d(x, w, stride=2, padding=1).tanh(),
        [(1, 2, 5, 4), (3, 2, 3, 3)],
    ),
    "pools": (lambda x: F.max_pool2d(x * x, 2) + F.avg_pool2d(x.sin(), 2), [(1, 2, 4, 6)]),
    "norms": (
        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True) + F.layer_norm(x, (3,)),
        [(4, 2, 3), (2,), (2,)],
    ),
    "losses": (
        lambda x, t: F.mse_loss(x.tanh(), t) + F.binary_cross_entropy_with_logits(x, t.sigmoid()),
        [(3, 4), (3, 4)],
    ),
}


@pytest.mark.parametrize("name", GRADGRAD_CASES)
def test_second_derivatives_match_finite_differences(name):
    fn, shapes = GRADGRAD_CASES[name]
    inputs = [leaf(*s) for s in shapes]
    if name == "pow_sqrt_div":
        inputs[1] = leaf(*shapes[1], low=0.5)
    assert autograd.gradgradcheck(fn, inputs, atol=1e-6, rtol=1e-5)


def test_gradgradcheck_catches_a_wrong_second_derivative(monkeypatch):
    x = leaf(5)
    assert autograd.gradgradcheck(lambda t: t.tanh(), (x,))
    # a recorded tanh backward that is right in value but wrong in its own derivative
    monkeypatch.setattr(
        graph_ops.GraphOps,
        "tanh_backward",
        lambda self, g, y: graph_ops.const(g) * (1 - y.detach() * y.detach()),
    )
    with pytest.raises(autograd.GradcheckError, match="Jacobian mismatch"):
        autograd.gradgradcheck(lambda t: t.tanh(), (x,))


def test_third_derivative_of_a_polynomial():
    x = leaf(33)
    (g,) = autograd.grad((x**4).sum(), x, create_graph=True)
    (h,) = autograd.grad(g.sum(), x, create_graph=True)
    (t,) = autograd.grad(h.sum(), x)
    np.testing.assert_allclose(t.numpy(), 24 * x.detach().numpy(), rtol=1e-12)


def test_backward_create_graph_leaves_a_differentiable_grad():
    x = leaf(7)
    (x**3).sum().backward(create_graph=True)
    g = x.grad
    assert g.requires_grad and g.grad_fn is not None
    np.testing.assert_allclose(g.detach().numpy(), 3 * x.detach().numpy() ** 2)
    x.grad = None
    g.sum().backward()  # d/dx sum(3 x^2) = 6 x
    np.testing.assert_allclose(x.grad.numpy(), 6 * x.detach().numpy())


def test_create_graph_keeps_the_graph_by_default():
    x = leaf(4)
    y = (x.sin() * x).sum()
    (g1,) = autograd.grad(y, x, create_graph=True)
    (g2,) = autograd.grad(y, x)  # the graph is still there
    np.testing.assert_allclose(g1.detach().numpy(), g2.numpy())


def test_gradient_of_x_plus_y_is_not_shared_between_leaves():
    x, y = leaf(3), leaf(3)
    (x + y).sum().backward(create_graph=True)
    x.grad.mul_(2)
    np.testing.assert_array_equal(y.grad.detach().numpy(), np.ones(3))


class _Cube(autograd.function.Function):
    """x^3 as a primitive that does not opt in to a recorded backward."""

    def forward(self, x):
        self.x = x
        return self.be.cube(x)

    def backward(self, g):
        return self.be.mul(g, self.be.mul(self.be.mul(self.x, self.x), 3.0))


def test_an_op_without_recorded_backward_refuses_only_when_differentiated_again():
    w = leaf(3, 4)
    (g,) = autograd.grad(_Cube.apply(w).sum(), w, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 3 * w.detach().numpy() ** 2)  # first order
    with pytest.raises(RuntimeError, match="_CubeBackward0"):
        autograd.grad(g.sum(), w)


def test_create_graph_through_an_inplace_changed_input_refuses():
    x = leaf(3)
    y = x * 1.0
    z = y.sin()
    y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        autograd.grad(z.sum(), x, create_graph=True)


# ---- 0-d gradients: numpy returns scalars from 0-d products --------------------------------


@pytest.mark.parametrize("op", ["tanh", "sigmoid", "relu", "sin", "exp"])
def test_zero_dim_chain_after_a_product(op):
    x = fastnn.tensor(0.5, dtype=fastnn.float64, requires_grad=True)
    y = getattr(x, op)()
    (y * y * 2).backward()
    yv = float(getattr(np, op, None)(0.5)) if op in ("tanh", "sin", "exp") else None
    dy = {
        "tanh": 1 - np.tanh(0.5) ** 2,
        "sigmoid": (1 / (1 + np.exp(-0.5))) * (1 - 1 / (1 + np.exp(-0.5))),
        "relu": 1.0,
        "sin": np.cos(0.5),
        "exp": np.exp(0.5),
    }[op]
    yv = {"sigmoid": 1 / (1 + np.exp(-0.5)), "relu": 0.5}.get(op, yv)
    np.testing.assert_allclose(float(x.grad), 4 * yv * dy, rtol=1e-12)
    assert isinstance(x.grad.numpy(), np.ndarray)


def test_zero_dim_gradient_reaches_hooks_as_a_tensor():
    x = fastnn.tensor(0.5, requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(float(g)))
    x.register_post_accumulate_grad_hook(lambda t: seen.append(float(t.grad)))
    ((x * x) * (x * 3)).backward()
    assert seen == pytest.approx([2.25, 2.25])


# ---- against torch ---------------------------------------------------------------------------

torch_cases = {
    "elementwise": lambda m, x, y: (x * y).exp() / (1 + y) + x.abs() * x - y.rsqrt() + x.cos(),
    "pow": lambda m, x, y: y**x + x**3 + y**2.5,
    "activations": lambda m, x, y: (
        m.nn.functional.elu(x)
        + m.nn.functional.softplus(x)
        + m.nn.functional.mish(x)
        + m.nn.functional.leaky_relu(x, 0.1) * x
        + m.nn.functional.gelu(x, approximate="tanh")
    ),
    "softmax": lambda m, x, y: m.log_softmax(x * y, 0) + m.softmax(x, 1),
    "reductions": lambda m, x, y: (x * x).std(1) + x.amax(1) + (x * y).mean(1) + x.norm(dim=1),
    "max_all": lambda m, x, y: x.max() * x + x.min(1)[0].sum(),
    "indexing": lambda m, x, y: (x * x)[[0, 2, 0]][:, 1:] * (y[1:, ::2].sum()),
    "where_clamp": lambda m, x, y: m.where(x > 0, x * x, y).clamp(0.1, 1.0) + m.maximum(x, y * x),
    "matmul": lambda m, x, y: (x.tanh() @ (x * y).T) @ y,
    "losses": lambda m, x, y: (
        m.nn.functional.smooth_l1_loss(x * x, y)
        + m.nn.functional.binary_cross_entropy(x.sigmoid(), y / 2)
        + m.nn.functional.nll_loss(m.log_softmax(x, 1), m.tensor([0, 3, 1]))
    ),
    "cross_entropy": lambda m, x, y: m.nn.functional.cross_entropy(
        x * y, m.tensor([0, 3, -100]), reduction="mean"
    ),
    "cat_stack": lambda m, x, y: m.stack([m.cat([x * x, y]).tril(), m.cat([y, x]).roll(1, 0)]),
}


@pytest.mark.parametrize("name", torch_cases)
def test_second_derivatives_match_torch(name):
    torch = pytest.importorskip("torch")
    x0 = RNG.standard_normal((3, 4)) + 0.1
    y0 = RNG.random((3, 4)) + 0.5
    results = []
    for m in (fastnn, torch):
        x = m.tensor(x0, requires_grad=True)
        y = m.tensor(y0, requires_grad=True)
        out = torch_cases[name](m, x, y)
        v = m.tensor(np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape)))
        gs = m.autograd.grad((out * v).sum(), (x, y), create_graph=True, allow_unused=True)
        gx, gy = (m.zeros_like(x) if g is None else g for g in gs)
        hs = m.autograd.grad((gx * gx).sum() + (gx * gy).sum(), (x, y), allow_unused=True)
        hx, hy = (m.zeros_like(x) if h is None else h for h in hs)
        results.append([t.detach().numpy() for t in (gx, gy, hx, hy)])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_conv_gradient_penalty_to_third_order_matches_torch():
    torch = pytest.importorskip("torch")
    x0, w0, w20 = RNG.standard_normal((2, 3, 9, 8)), RNG.standard_normal((4, 3, 3, 3)), None
    w20 = RNG.standard_normal((2, 4, 2, 2))
    results = []
    for m in (fastnn, torch):
        f = m.nn.functional
        x = m.tensor(x0, requires_grad=True)
        w = m.tensor(w0, requires_grad=True)
        w2 = m.tensor(w20, requires_grad=True)
        h = f.leaky_relu(f.conv2d(x, w, stride=(2, 1), padding=(0, 1), dilation=(1, 2)), 0.2)
        out = f.conv2d(f.max_pool2d(h, 2), w2).tanh().sum()
        (gx,) = m.autograd.grad(out, x, create_graph=True)
        penalty = ((gx.reshape(2, -1).norm(2, dim=1) - 1) ** 2).mean()
        gw, gw2, gxx = m.autograd.grad(penalty, (w, w2, x), create_graph=True)
        third = m.autograd.grad((gw**2).sum() + (gxx**2).sum(), (w, x))
        results.append([t.detach().numpy() for t in (gx, gw, gw2, gxx, *third)])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("training", [True, False])
def test_maml_inner_step_through_batch_norm_matches_torch(training):
    torch = pytest.importorskip("torch")
    x0 = RNG.standard_normal((6, 2, 5, 5))
    y0 = RNG.integers(0, 3, 6)
    results = []
    for m in (fastnn, torch):
        m.manual_seed(0)
        net = m.nn.Sequential(
            m.nn.Conv2d(2, 4, 3),
            m.nn.BatchNorm2d(4),
            m.nn.ReLU(),
            m.nn.AvgPool2d(3),
            m.nn.Flatten(),
            m.nn.Linear(4, 3),
        ).double()
        for p, a in zip(net.parameters(), _shared_params(net)):
            with m.no_grad():
                p.copy_(m.tensor(a))
        net.train(training)
        x, y = m.tensor(x0), m.tensor(y0)
        params = list(net.parameters())
        loss = m.nn.functional.cross_entropy(net(x), y)
        grads = m.autograd.grad(loss, params, create_graph=True)
        fast = [p - 0.1 * g for p, g in zip(params, grads)]
        out = m.nn.functional.conv2d(x, fast[0], fast[1])
        outer = (out.tanh() ** 2).mean() + sum((g**2).sum() for g in grads)
        meta = m.autograd.grad(outer, params)
        results.append([t.numpy() for t in meta])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def _shared_params(net):
    rng = np.random.default_rng(3)
    return [
        rng.standard_normal(tuple(p.shape)) * 0.5 + (1.0 if p.ndim == 1 else 0)
        for p in net.parameters()
    ]


def test_pinn_second_derivative_in_time_matches_torch():
    torch = pytest.importorskip("torch")
    t0 = np.linspace(0, 1, 7).reshape(7, 1)
    results = []
    for m in (fastnn, torch):
        m.manual_seed(0)
        w1 = m.tensor(np.linspace(-1, 1, 16).reshape(16, 1), requires_grad=True)
        w2 = m.tensor(np.linspace(1, -0.5, 16).reshape(1, 16), requires_grad=True)
        t = m.tensor(t0, requires_grad=True)
        u = m.nn.functional.linear(m.nn.functional.linear(t, w1).tanh(), w2)
        (ut,) = m.autograd.grad(u.sum(), t, create_graph=True)
        (utt,) = m.autograd.grad(ut.sum(), t, create_graph=True)
        loss = m.nn.functional.mse_loss(utt + u, m.zeros_like(u))
        loss.backward()
        results.append([w1.grad.numpy(), w2.grad.numpy(), utt.detach().numpy()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


# ---- autograd.functional ---------------------------------------------------------------------


def _functional_results(m, x0, y0, v0):
    A = m.autograd.functional
    x, y, v = m.tensor(x0), m.tensor(y0), m.tensor(v0)

    def scalar(x):
        return (x.tanh() ** 2).sum() + (x[0] * x[1]).exp()

    def pair(x, y):
        return (x[:3] * y).sin().sum(), (x**3)[:2]

    out = [A.hessian(scalar, x), *A.jacobian(pair, (x, y))[1], A.jacobian(lambda x: x.sin(), x)]
    out += list(A.hessian(lambda x, y: (x[:3] * y).sum() ** 2, (x, y))[0])
    out += [A.hvp(scalar, x, v)[1], A.vhp(scalar, x, v)[1]]
    out += [A.jvp(lambda x: x.sin() * x[0], x, v)[1], A.vjp(lambda x: x.sin() * x[0], x, v)[1]]
    out += [A.vjp(scalar, x)[1]]
    return [t.detach().numpy() for t in out]


def test_functional_matches_torch():
    torch = pytest.importorskip("torch")
    x0, y0, v0 = RNG.standard_normal(4), RNG.standard_normal((2, 3)), RNG.standard_normal(4)
    ours = _functional_results(fastnn, x0, y0, v0)
    theirs = _functional_results(torch, x0, y0, v0)
    assert [a.shape for a in ours] == [b.shape for b in theirs]
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


def test_functional_hessian_of_a_quadratic_is_its_matrix():
    a = RNG.standard_normal((5, 5))
    q = fastnn.tensor(a + a.T)
    h = autograd.functional.hessian(
        lambda x: 0.5 * (x @ q @ x), fastnn.zeros(5, dtype=fastnn.float64)
    )
    np.testing.assert_allclose(h.numpy(), a + a.T, rtol=1e-13)
    assert not h.requires_grad


def test_functional_errors():
    A = autograd.functional
    x = fastnn.ones(3, dtype=fastnn.float64)
    with pytest.raises(RuntimeError, match="independent of input 0"):
        A.jacobian(lambda x: fastnn.ones(2), x, strict=True)
    np.testing.assert_array_equal(A.jacobian(lambda x: fastnn.ones(2), x).numpy(), np.zeros((2, 3)))
    with pytest.raises(RuntimeError, match="single element"):
        A.hessian(lambda x: x * 2, x)
    with pytest.raises(RuntimeError, match="invalid size"):
        A.vjp(lambda x: x * 2, x, fastnn.ones(4, dtype=fastnn.float64))
    with pytest.raises(RuntimeError, match="can only be None"):
        A.vjp(lambda x: x * 2, x)
    with pytest.raises(TypeError, match="inputs given to jacobian"):
        A.jacobian(lambda x: x, [1.0, 2.0])


def _custom_functions(m):
    class Legendre3(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return 0.5 * (5 * x**3 - 3 * x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 1.5 * (5 * x**2 - 1)

    class SinAndSquare(m.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.save_for_backward(x)
            ctx.k = k
            return x.sin() * k, x * x

        @staticmethod
        def backward(ctx, ga, gb):
            (x,) = ctx.saved_tensors
            return ga * x.cos() * ctx.k + gb * 2 * x, None

    return Legendre3, SinAndSquare


def _saving_outputs(m):
    """Custom functions whose backward reads what forward returned: under create_graph that
    output is differentiated too (torch gives the saved output its history back)."""

    class Exp(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y

    class TanhAndCube(m.autograd.Function):  # two outputs, both saved, one input saved too
        @staticmethod
        def forward(ctx, x):
            t, c = x.tanh(), x**3
            ctx.save_for_backward(x, t, c)
            return t, c

        @staticmethod
        def backward(ctx, gt, gc):
            x, t, c = ctx.saved_tensors
            return gt * (1 - t * t) + gc * 3 * c / x

    return Exp, TanhAndCube


def test_saved_outputs_are_differentiated_again_as_in_torch():
    torch = pytest.importorskip("torch")
    x0 = np.linspace(0.2, 1.4, 6)
    results = []
    for m in (fastnn, torch):
        exp, two = _saving_outputs(m)
        x = m.tensor(x0, requires_grad=True)
        (g,) = m.autograd.grad(exp.apply(x * 2).sum(), x, create_graph=True)
        (h,) = m.autograd.grad(g.sum(), x, create_graph=True)
        (h3,) = m.autograd.grad(h.sum(), x)
        t, c = two.apply(x)
        (g2,) = m.autograd.grad((t * c).sum(), x, create_graph=True)
        (h2,) = m.autograd.grad((g2**2).sum(), x)
        results.append([v.detach().numpy() for v in (g, h, h3, g2, h2)])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(results[0][1], 4 * np.exp(2 * x0), rtol=1e-12)  # by definition


def test_custom_function_backward_in_tensor_ops_is_differentiated_again():
    torch = pytest.importorskip("torch")
    x0 = np.linspace(-1, 1, 7)
    results = []
    for m in (fastnn, torch):
        legendre, two = _custom_functions(m)
        x = m.tensor(x0, requires_grad=True)
        (g,) = m.autograd.grad(legendre.apply(x).sum(), x, create_graph=True)
        (h,) = m.autograd.grad(g.sum(), x)
        a, b = two.apply(x, 3.0)
        (g2,) = m.autograd.grad((a * b).sum(), x, create_graph=True)
        (h2,) = m.autograd.grad((g2**2).sum(), x)
        results.append([t.detach().numpy() for t in (g, h, g2, h2)])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_grad_computes_only_the_gradients_asked_for(monkeypatch):
    from fastnn._devices import cpu

    calls = []
    real = cpu.matmul

    def counting(a, b, trans_a=False, trans_b=False, bias=None):
        calls.append((a.shape, b.shape, trans_a, trans_b))
        return real(a, b, trans_a, trans_b, bias)

    x, w, b, w2 = leaf(5, 3), leaf(4, 3), leaf(4), leaf(2, 4)
    monkeypatch.setattr(cpu, "matmul", counting)
    out = F.linear(F.linear(x, w, b).tanh(), w2)
    calls.clear()
    (gx,) = autograd.grad(out.sum(), x)  # two input gradients, no weight gradient
    assert len(calls) == 2
    monkeypatch.setattr(cpu, "matmul", real)
    expected = 1 - np.tanh(x.detach().numpy() @ w.detach().numpy().T + b.detach().numpy()) ** 2
    expected = (np.ones((5, 2)) @ w2.detach().numpy() * expected) @ w.detach().numpy()
    np.testing.assert_allclose(gx.numpy(), expected, rtol=1e-12)


def test_grad_of_a_middle_tensor_and_a_leaf_below_it():
    torch = pytest.importorskip("torch")
    x0 = RNG.standard_normal((3, 4))
    res = []
    for m in (fastnn, torch):
        x = m.tensor(x0, requires_grad=True)
        h = x.sin() * 2
        y = (h.exp() * x).sum()
        gh, gx = m.autograd.grad(y, (h, x))
        res.append((gh.numpy(), gx.numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-13)


@pytest.mark.parametrize("norm", ["instance", "batch", "group", "layer"])
def test_penalty_reaches_the_norm_weight_through_a_pruned_first_grad(norm):
    # grad(out, x) computes only x's gradient, but that gradient is a function of the norm's
    # weight: the penalty's gradient must reach it (torch: nonzero)
    torch = pytest.importorskip("torch")
    x0, w0 = RNG.standard_normal((4, 3, 6, 6)), RNG.standard_normal((5, 3, 3, 3)) * 0.3
    g0, b0 = RNG.random(5) + 0.5, RNG.standard_normal(5)
    res = []
    for m in (fastnn, torch):
        f = m.nn.functional
        x, g, b = (m.tensor(a, requires_grad=True) for a in (x0, g0, b0))
        h = f.conv2d(x, m.tensor(w0))
        if norm == "instance":
            h = f.instance_norm(h, weight=g, bias=b)
        elif norm == "batch":
            h = f.batch_norm(h, None, None, g, b, training=True)
        elif norm == "group":
            h = f.group_norm(h, 5, g, b)
        else:
            h = f.layer_norm(h.permute(0, 2, 3, 1), (5,), g, b)
        out = f.leaky_relu(h, 0.2).sum((1, 2, 3))
        (gx,) = m.autograd.grad(out, x, grad_outputs=m.ones_like(out), create_graph=True)
        penalty = ((gx.reshape(4, -1).norm(2, dim=1) - 1) ** 2).mean()
        (gg,) = m.autograd.grad(penalty, g)
        res.append(gg.numpy())
    np.testing.assert_allclose(res[0], res[1], rtol=1e-10, atol=1e-12)


# ---- more primitives with a recorded backward, against torch ------------------------------


def _derivatives(m, fn, arrays, order):
    """fn's first derivatives (weighted by a fixed cotangent), then ``order - 1`` further ones,
    each of a fixed function of the previous gradients; every result, for comparison."""
    ins = [m.tensor(a, requires_grad=True) for a in arrays]
    out = fn(m, *ins)
    v = m.tensor(np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape)))
    scalar = (out * v).sum()
    results = []
    for k in range(order):
        last = k == order - 1
        gs = m.autograd.grad(scalar, ins, create_graph=not last, allow_unused=True)
        gs = [m.zeros_like(x) if g is None else g for g, x in zip(gs, ins)]
        results += [g.detach().numpy() for g in gs]
        if not last:
            used = [g for g in gs if g.requires_grad]
            assert used, "a gradient without a history"
            scalar = sum((g * g.detach().cos()).sum() for g in used)
    return results


def _match_torch(fn, arrays, order=2, rtol=1e-10, atol=1e-12):
    torch = pytest.importorskip("torch")
    ours, theirs = (_derivatives(m, fn, arrays, order) for m in (fastnn, torch))
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


CONV_CASES = {
    # (x shape, w shape, keyword arguments)
    "groups2_stride_pad": ((2, 4, 7, 6), (6, 2, 3, 3), dict(stride=2, padding=1, groups=2)),
    "groups3_dilation": (
        (1, 3, 7, 7),
        (3, 1, 2, 3),
        dict(dilation=(2, 1), padding=(1, 0), groups=3),
    ),
    "depthwise_multiplier": ((2, 3, 5, 7), (6, 1, 3, 3), dict(stride=(1, 2), padding=1, groups=3)),
    "depthwise_1x1_plane": ((1, 5, 1, 1), (5, 1, 1, 1), dict(groups=5)),
}


@pytest.mark.parametrize("name", CONV_CASES)
def test_grouped_and_depthwise_conv_match_torch(name):
    xs, ws, kw = CONV_CASES[name]
    arrays = [RNG.standard_normal(xs), RNG.standard_normal(ws), RNG.standard_normal(ws[0])]
    _match_torch(
        lambda m, x, w, b: m.nn.functional.conv2d(x.tanh(), w, b, **kw) ** 2,
        arrays,
        order=3 if name == "groups2_stride_pad" else 2,
    )


TRANSPOSED_CASES = {
    "stride2_outpad": ((2, 3, 5, 4), (3, 4, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    "dilation_wide_outpad": ((1, 1, 3, 4), (1, 3, 2, 3), dict(dilation=3, output_padding=2)),
    "odd": ((1, 7, 1, 3), (7, 5, 1, 2), dict(stride=(3, 1), padding=(0, 1))),
    "stride2": ((2, 2, 3, 4), (2, 3, 3, 2), dict(stride=2, padding=(1, 0))),
}


@pytest.mark.parametrize("name", TRANSPOSED_CASES)
def test_conv_transpose_matches_torch(name):
    xs, ws, kw = TRANSPOSED_CASES[name]
    arrays = [RNG.standard_normal(xs), RNG.standard_normal(ws), RNG.standard_normal(ws[1])]
    _match_torch(
        lambda m, x, w, b: m.nn.functional.conv_transpose2d(x.sin(), w, b, **kw).tanh(),
        arrays,
        # (torch's third derivative loses output_padding and fails on its own shapes)
        order=3 if name == "stride2" else 2,
    )


def test_conv_transpose1d_matches_torch():
    arrays = [RNG.standard_normal((2, 3, 5)), RNG.standard_normal((3, 4, 3))]
    f = lambda m, x, w: m.nn.functional.conv_transpose1d(x * x, w, stride=2) ** 2
    _match_torch(f, arrays)


@pytest.mark.parametrize("kw", [{}, dict(padding_idx=2), dict(padding_idx=-1)])
def test_embedding_gradient_is_differentiable_to_third_order(kw):
    idx = np.array([[0, 2, 2], [1, 4, 2]])

    def fn(m, w, h):
        rows = m.nn.functional.embedding(m.tensor(idx), w.tanh(), **kw)
        return rows * h[:2, None, :] ** 2 + m.nn.functional.embedding(m.tensor(idx[0]), w * h)

    _match_torch(fn, [RNG.standard_normal((5, 3)), RNG.standard_normal((5, 3))], order=3)


def test_grouped_conv_and_embedding_gradgradcheck():
    x, w = leaf(1, 4, 4, 3), leaf(4, 2, 2, 2)
    assert autograd.gradgradcheck(lambda x, w: F.conv2d(x, w, padding=1, groups=2), (x, w))
    w2 = leaf(3, 4, 2, 1)
    f = lambda x, w: F.conv_transpose2d(x, w, stride=2).tanh()
    assert autograd.gradgradcheck(f, (leaf(1, 3, 2, 3), w2))
    # under scale_grad_by_freq the table's gradient is linear in the incoming gradient and
    # divided by the counts; its derivative in that gradient is checked here, not against torch
    # (whose second derivative leaves the division out)
    idx, table = fastnn.tensor([2, 0, 2]), leaf(3, 2)

    def grad_map(h):
        with fastnn.enable_grad():  # gradcheck's finite differences run without grad
            rows = F.embedding(idx, table, scale_grad_by_freq=True)
            return autograd.grad((rows * h.sin()).sum(), table, create_graph=True)[0]

    assert autograd.gradcheck(grad_map, (leaf(3, 2),))


EINSUM_CASES = {
    "matmul": ("ij,jk->ik", [(3, 4), (4, 1)]),
    "batched": ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    "three_operands": ("ij,jk,k->i", [(2, 3), (3, 7), (7,)]),
    "summed_away": ("ij,kl->j", [(2, 3), (3, 4)]),
    "broadcast_one": ("ij,ij->ij", [(1, 3), (2, 3)]),
    "repeated_letter": ("iij,ik->jk", [(3, 3, 2), (3, 4)]),
    "trace_outer": ("ii,j->j", [(4, 4), (5,)]),
    "scalar_operand": (",ij->ij", [(), (2, 3)]),
    "full_contraction": ("ij,ij->", [(3, 2), (3, 2)]),
}


@pytest.mark.parametrize("name", EINSUM_CASES)
def test_einsum_matches_torch(name):
    spec, shapes = EINSUM_CASES[name]
    arrays = [RNG.standard_normal(s) for s in shapes]
    _match_torch(
        lambda m, *xs: m.einsum(spec, *(x.sin() for x in xs)) ** 2,
        arrays,
        order=3 if name in ("matmul", "repeated_letter", "summed_away", "scalar_operand") else 2,
    )


ZEROS = np.array([[1.0, 0, 1, 1, 1], [0, 1, 0, 1, 1], [1, 1, 1, 1, 1]])
MATH_CASES = {
    "prod_rows": (lambda m, x: x.prod(1), [(3, 5)]),
    "prod_all_keepdim": (lambda m, x: x.prod() * x.prod(0, keepdim=True), [(3, 1)]),
    "prod_with_zeros": (
        lambda m, x: (x * m.tensor(ZEROS)).prod(1) + (x * m.tensor(ZEROS)).prod(),
        [(3, 5)],
    ),
    "prod_one_element": (lambda m, x: x.prod(-1), [(7, 1)]),
    "cumprod": (lambda m, x: x.cumprod(1) + x.cumprod(0), [(3, 5)]),
    "cumprod_with_zeros": (lambda m, x: (x * m.tensor(ZEROS)).cumprod(1), [(3, 5)]),
    "atan2_hypot_logaddexp": (
        lambda m, y, x: m.atan2(y, x) * m.hypot(x, y) + m.logaddexp(x, y * y),
        [(3, 5), (1, 5)],
    ),
    "atan_exp2_rounding": (lambda m, x, y: x.atan() * y.exp2() + x.floor() * y, [(3, 5), (3, 5)]),
    "clamp_tensor_bounds": (lambda m, x, y: (x * x).clamp(min=y, max=y + 1) * x, [(3, 5), (3, 5)]),
    "diagonal_offsets": (
        lambda m, x, y: (x * x).diagonal() + (y * y).diagonal(-1, 0, 2).sum(0),
        [(4, 4), (2, 5, 3)],
    ),
    "diag_trace": (
        lambda m, x, y: m.diag(x * y[0, :3]) * x + (y * y).trace() + y.diag(1).sum(),
        [(3,), (3, 4)],
    ),
    "scatter": (
        lambda m, x, s: (
            (x * x).scatter(1, m.tensor([[0, 1], [3, 2], [2, 0]]), s * s)
            + (x * s[:, :1]).scatter_add(1, m.tensor([[0, 1], [3, 3], [2, 0]]), s.exp())
            + (x * x).scatter(0, m.tensor([[1, 0, 2, 2]]), 0.5) * x
        ),
        [(3, 4), (3, 2)],
    ),
}


@pytest.mark.parametrize("name", MATH_CASES)
def test_math_primitives_match_torch(name):
    fn, shapes = MATH_CASES[name]
    arrays = [RNG.standard_normal(s) for s in shapes]
    _match_torch(fn, arrays, order=3 if name.startswith(("prod", "cumprod")) else 2)


def test_math_primitives_gradgradcheck():
    zeros = fastnn.tensor(ZEROS)
    cases = [
        (lambda a, b: fastnn.einsum("iij,ik->jk", a, b).tanh(), [leaf(3, 3, 2), leaf(3, 2)]),
        (lambda x: (x * zeros).prod(1)[:, None] + (x * zeros).cumprod(1), [leaf(3, 5)]),
        (lambda x: x.prod() + x.cumprod(0).sum(), [leaf(4)]),
        (
            lambda y, x: fastnn.atan2(y, x) + (x.diagonal(1) * y.diagonal(1))[:, None],
            [leaf(3, 4), leaf(3, 4)],
        ),
    ]
    for fn, inputs in cases:
        assert autograd.gradgradcheck(fn, inputs, atol=1e-6, rtol=1e-5)


W5 = np.linspace(0.5, 2.0, 5)
LOSS_CASES = {
    "smoothing_weights_ignored": lambda m, x, p: m.nn.functional.cross_entropy(
        x, m.tensor([0, 3, -100, 1]), weight=m.tensor(W5), label_smoothing=0.2
    ),
    "smoothing_sum": lambda m, x, p: m.nn.functional.cross_entropy(
        x * p, m.tensor([4, 3, 0, 1]), label_smoothing=0.3, ignore_index=3, reduction="sum"
    ),
    "weights_none": lambda m, x, p: m.nn.functional.cross_entropy(
        x, m.tensor([4, 3, 0, 1]), weight=m.tensor(W5), reduction="none"
    ),
    "probabilities": lambda m, x, p: m.nn.functional.cross_entropy(
        x, p.softmax(1), weight=m.tensor(W5), label_smoothing=0.1
    ),
    "probabilities_none": lambda m, x, p: m.nn.functional.cross_entropy(
        x.tanh(), p.softmax(1), reduction="none"
    ),
    "spatial": lambda m, x, p: m.nn.functional.cross_entropy(
        x.reshape(2, 5, 2), m.tensor([[0, 4], [2, 2]]), label_smoothing=0.1
    ),
    "bce_logits_pos_weight": lambda m, x, p: m.nn.functional.binary_cross_entropy_with_logits(
        x, p.sigmoid(), weight=m.tensor(W5), pos_weight=m.tensor(W5[::-1].copy())
    ),
}


@pytest.mark.parametrize("name", LOSS_CASES)
def test_losses_match_torch(name):
    arrays = [RNG.standard_normal((4, 5)), RNG.standard_normal((4, 5))]
    _match_torch(LOSS_CASES[name], arrays, order=3 if name.startswith("smoothing") else 2)


@pytest.mark.parametrize("shape,size", [((2, 3, 7, 5), (3, 2)), ((1, 1, 7, 1), (3, 1))])
def test_adaptive_max_pool_matches_torch(shape, size):
    f = lambda m, x: m.nn.functional.adaptive_max_pool2d(x * x.sin(), size)
    _match_torch(f, [RNG.standard_normal(shape)], order=3)


def test_losses_and_adaptive_pool_gradgradcheck():
    t = fastnn.tensor([2, 0, -100])
    w = fastnn.tensor(np.array([0.5, 1.0, 2.0, 1.5]))
    assert autograd.gradgradcheck(
        lambda x: F.cross_entropy(x, t, weight=w, label_smoothing=0.25), (leaf(3, 4),)
    )
    assert autograd.gradgradcheck(
        lambda x, p: F.cross_entropy(x, p.softmax(1), label_smoothing=0.1), (leaf(3, 4), leaf(3, 4))
    )
    assert autograd.gradgradcheck(lambda x: F.adaptive_max_pool2d(x, (2, 3)), (leaf(1, 2, 5, 4),))


def test_prelu_unfold_fold_match_torch():
    def fn(m, x, a, c):
        f = m.nn.functional
        y = f.prelu(x, a) + f.prelu(x * 0.5, a[:1])
        cols = f.unfold(y * y, (2, 3), dilation=(1, 2), padding=1, stride=2)
        return f.fold(cols.tanh(), (5, 6), (2, 3), dilation=(1, 2), padding=1, stride=2) * c

    arrays = [RNG.standard_normal((1, 3, 5, 6)), RNG.uniform(0.1, 0.4, 3), RNG.standard_normal(1)]
    _match_torch(fn, arrays, order=3)


def test_prelu_and_unfold_gradgradcheck():
    x, a = leaf(2, 3, 4), leaf(3)
    assert autograd.gradgradcheck(lambda x, a: F.prelu(x, a) * x, (x, a))
    assert autograd.gradgradcheck(lambda x: F.unfold(x, 2, padding=1).sin(), (leaf(1, 2, 3, 3),))


def _seeded(m, cls, *args, **kwargs):
    """A float64 module of m with the same parameter values in fastnn and torch."""
    net = cls(*args, **kwargs).double()
    rng = np.random.default_rng(1)
    with m.no_grad():
        for p in net.parameters():
            p.copy_(m.tensor(rng.standard_normal(tuple(p.shape)) * 0.5))
    return net


@pytest.mark.parametrize(
    "mode,kw",
    [
        ("LSTM", dict(num_layers=2, bidirectional=True)),
        ("GRU", dict(batch_first=True)),
        ("RNN", dict(nonlinearity="relu", bias=False, bidirectional=True)),
    ],
)
def test_recurrent_maml_step_matches_torch(mode, kw):
    torch = pytest.importorskip("torch")
    x0 = RNG.standard_normal((3, 4, 3) if kw.get("batch_first") else (4, 3, 3))
    results = []
    for m in (fastnn, torch):
        net = _seeded(m, getattr(m.nn, mode), 3, 2, **kw)
        x = m.tensor(x0, requires_grad=True)
        out, state = net(x)
        last = state[1] if mode == "LSTM" else state
        loss = (out.tanh() ** 2).mean() + (last * last.sin()).sum()
        params = list(net.parameters())
        grads = m.autograd.grad(loss, [x, *params], create_graph=True)
        outer = sum((g * g).sum() for g in grads)
        meta = m.autograd.grad(outer, [x, *params])
        results.append([t.detach().numpy() for t in (*grads, *meta)])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)


def test_transformer_critic_gradient_penalty_matches_torch():
    torch = pytest.importorskip("torch")
    attention = pytest.importorskip("torch.nn.attention")
    x0 = RNG.standard_normal((2, 5, 8))
    tokens = np.arange(10).reshape(2, 5)
    results = []
    for m in (fastnn, torch):
        layer = _seeded(
            m, m.nn.TransformerEncoderLayer, 8, 2, dim_feedforward=16, dropout=0.0, batch_first=True
        )
        emb = _seeded(m, m.nn.Embedding, 11, 8)
        x = m.tensor(x0, requires_grad=True)
        # torch's fused CPU attention has no second derivative; its math path has
        with attention.sdpa_kernel(attention.SDPBackend.MATH):
            h = layer(x + emb(m.tensor(tokens)))
            target = m.tensor(tokens.reshape(-1) % 8)
            loss = m.nn.functional.cross_entropy(h.reshape(-1, 8), target, label_smoothing=0.1)
            (gx,) = m.autograd.grad(loss, x, create_graph=True)
            penalty = ((gx.reshape(2, -1).norm(dim=1) - 1) ** 2).mean()
            meta = m.autograd.grad(penalty, [*layer.parameters(), *emb.parameters()])
        results.append([gx.detach().numpy(), *(g.numpy() for g in meta)])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


def test_mobile_cnn_critic_r1_penalty_matches_torch():
    torch = pytest.importorskip("torch")
    x0 = RNG.standard_normal((2, 3, 9, 7))
    results = []
    for m in (fastnn, torch):
        nn = m.nn
        net = _seeded(
            m,
            nn.Sequential,
            nn.Conv2d(3, 6, 3, stride=2, padding=1),
            nn.PReLU(6),
            nn.Conv2d(6, 6, 3, padding=1, groups=6),
            nn.Conv2d(6, 4, 1, groups=2),
            nn.ConvTranspose2d(4, 3, 2, stride=2),
            nn.Tanh(),
            nn.AdaptiveMaxPool2d((3, 2)),
            nn.Flatten(),
            nn.Linear(18, 5),
        )
        x = m.tensor(x0, requires_grad=True)
        loss = m.nn.functional.cross_entropy(net(x), m.tensor([1, 4]), label_smoothing=0.05)
        (gx,) = m.autograd.grad(loss, x, create_graph=True)
        meta = m.autograd.grad((gx**2).sum(), list(net.parameters()))
        results.append([gx.detach().numpy(), *(g.numpy() for g in meta)])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


def test_lstm_gradgradcheck():
    fastnn.manual_seed(0)
    lstm = fastnn.nn.LSTM(2, 2).double()
    assert autograd.gradgradcheck(lambda x: lstm(x)[0].tanh(), (leaf(3, 1, 2),))


@pytest.mark.parametrize(
    "mode,offsets,padding_idx,weighted",
    [
        ("sum", [0, 2, 2], None, False),
        ("mean", [0, 3], None, False),
        ("max", [0, 2, 2], None, False),
        ("mean", [0, 3], 2, False),
        ("sum", [0, 3], None, True),
    ],
)
def test_embedding_bag_gradgradcheck(mode, offsets, padding_idx, weighted):
    # (torch has no second derivative of embedding_bag to compare with)
    idx, offsets = fastnn.tensor([0, 2, 4, 1, 2]), fastnn.tensor(offsets)

    def fn(w, p):
        bags = F.embedding_bag(
            idx,
            w * w.sin(),
            offsets,
            mode=mode,
            padding_idx=padding_idx,
            per_sample_weights=p * p if weighted else None,
        )
        return bags * w[: bags.shape[0]]

    assert autograd.gradgradcheck(fn, (leaf(5, 3), leaf(5)))


def _well_conditioned(m, a):
    return a + 3 * m.eye(a.shape[-1], dtype=m.float64)


LINALG_CASES = {
    "inv": (lambda m, a, b: m.linalg.inv(_well_conditioned(m, a)) @ b, [(3, 3), (3, 2)]),
    "inv_batched": (lambda m, a, b: m.linalg.inv(_well_conditioned(m, a)), [(2, 2, 3, 3), (1,)]),
    "det": (lambda m, a, b: m.linalg.det(a) * b, [(2, 3, 3), (2,)]),
    "slogdet": (lambda m, a, b: m.linalg.slogdet(a @ a.mT + b)[1], [(2, 3, 3), (1,)]),
    "solve": (
        lambda m, a, b: m.linalg.solve(_well_conditioned(m, a), b) ** 2,
        [(2, 1, 3, 3), (2, 1, 3, 2)],
    ),
    "solve_right": (
        lambda m, a, b: m.linalg.solve(_well_conditioned(m, a), b, left=False),
        [(3, 3), (1, 3)],
    ),
}


@pytest.mark.parametrize("name", LINALG_CASES)
def test_linalg_matches_torch(name):
    fn, shapes = LINALG_CASES[name]
    _match_torch(fn, [RNG.standard_normal(s) for s in shapes], order=3, rtol=1e-9, atol=1e-11)


def test_linalg_gradgradcheck():
    eye = fastnn.eye(3, dtype=fastnn.float64)
    cases = [
        (lambda a: fastnn.linalg.inv(a + 3 * eye), leaf(3, 3)),
        (lambda a: fastnn.linalg.det(a) * a, leaf(3, 3)),
        (lambda a: fastnn.linalg.slogdet(a @ a.mT + eye)[1], leaf(2, 3, 3)),
    ]
    for fn, a in cases:
        assert autograd.gradgradcheck(fn, (a,))
    b = leaf(3, 2)
    assert autograd.gradgradcheck(lambda a, b: fastnn.linalg.solve(a + 3 * eye, b), (leaf(3, 3), b))


def test_det_at_a_singular_matrix_refuses_a_second_derivative():
    a = fastnn.tensor(np.array([[1.0, 2.0], [2.0, 4.0]]), requires_grad=True)
    (g,) = autograd.grad(fastnn.linalg.det(a), a, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [[4.0, -2.0], [-2.0, 1.0]])
    with pytest.raises(RuntimeError, match="DetBackward0"):
        autograd.grad(g.sum(), a)


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_gaussian_log_likelihood_hessian_matches_torch(upper):
    def fn(m, a, x):
        cov = a @ a.mT + m.eye(3, dtype=m.float64)
        factor = m.linalg.cholesky(cov, upper=upper)
        low = factor.mT if upper else factor
        z = m.linalg.solve(low, x.mT)
        return (z**2).sum(-2) + 2 * low.diagonal(0, -2, -1).log().sum(-1, keepdim=True)

    _match_torch(fn, [RNG.standard_normal((2, 3, 3)), RNG.standard_normal((2, 4, 3))], order=3)
    a = leaf(3, 3)
    eye = fastnn.eye(3, dtype=fastnn.float64)
    assert autograd.gradgradcheck(
        lambda a: fastnn.linalg.cholesky(a @ a.mT + eye, upper=upper), (a,)
    )
