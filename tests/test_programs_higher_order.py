"""Condensed training programs that differentiate twice, run for a few steps on fastnn and on
torch from the same weights: a WGAN-GP critic (MLP, and a conv critic with instance norm under a
transposed-conv generator), MAML on sinusoids (second and first order) and on Omniglot-shaped
random images with a functional conv/batch-norm learner, a PINN fitted by LBFGS with a strong
Wolfe line search then Adam, and Newton's method plus Hessian-vector products through
autograd.functional. The programs are written against a module argument ``lib`` so that the
same code runs on both; only the import differs."""

import importlib
import math
from collections import OrderedDict

import numpy as np
import pytest

import fastnn


def _F(lib):
    return importlib.import_module(lib.__name__ + ".nn.functional")


def _states_from(model):
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def _load(lib, model, states):
    if states is not None:
        model.load_state_dict({k: lib.tensor(v) for k, v in states.items()})
    return _states_from(model)


# ---- WGAN-GP ---------------------------------------------------------------------------------


def wgan_gp(lib, states=None, conv=False, steps=3):
    nn, V = lib.nn, lib.autograd.Variable
    rng = np.random.RandomState(0)
    zdim, side = 6, 16 if conv else 8
    if conv:

        def block(i, o, transposed):
            if transposed:
                return [nn.ConvTranspose2d(i, o, 4, 2, 1, bias=False), nn.BatchNorm2d(o), nn.ReLU()]
            return [nn.Conv2d(i, o, 4, 2, 1, bias=False), nn.InstanceNorm2d(o, affine=True),
                    nn.LeakyReLU(0.2)]  # fmt: skip

        gen = nn.Sequential(
            nn.ConvTranspose2d(zdim, 12, 2, 1, 0), *block(12, 8, True), *block(8, 4, True),
            nn.ConvTranspose2d(4, 1, 4, 2, 1), nn.Tanh(),
        )  # fmt: skip
        critic = nn.Sequential(
            nn.Conv2d(1, 4, 4, 2, 1), nn.LeakyReLU(0.2), *block(4, 8, False), *block(8, 8, False),
            nn.Conv2d(8, 1, 2, 1, 0), nn.Flatten(),
        )  # fmt: skip
    else:
        gen = nn.Sequential(
            nn.Linear(zdim, 24), nn.LeakyReLU(0.2, inplace=True), nn.Linear(24, 24),
            nn.BatchNorm1d(24, 0.8), nn.LeakyReLU(0.2, inplace=True), nn.Linear(24, side * side),
            nn.Tanh(), nn.Unflatten(1, (1, side, side)),
        )  # fmt: skip
        critic = nn.Sequential(
            nn.Flatten(), nn.Linear(side * side, 24), nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(24, 12), nn.LeakyReLU(0.2, inplace=True), nn.Linear(12, 1),
        )  # fmt: skip
    g_states = _load(lib, gen, None if states is None else states[0])
    d_states = _load(lib, critic, None if states is None else states[1])
    opt_g = lib.optim.Adam(gen.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = lib.optim.Adam(critic.parameters(), lr=2e-4, betas=(0.0, 0.9))

    def penalty(real, fake):
        mix = lib.FloatTensor(rng.random_sample((real.size(0), 1, 1, 1)))
        x = V(mix * real + (1 - mix) * fake, requires_grad=True)
        score = critic(x)
        ones = lib.Tensor(real.shape[0], 1).fill_(1.0)
        (grad,) = lib.autograd.grad(
            outputs=score, inputs=x, grad_outputs=ones, create_graph=True, retain_graph=True,
            only_inputs=True,
        )  # fmt: skip
        return ((grad.view(grad.size(0), -1).norm(2, dim=1) - 1) ** 2).mean()

    log = []
    for _ in range(steps):
        real = lib.FloatTensor(rng.standard_normal((8, 1, side, side))).clamp(-1, 1)
        z = lib.FloatTensor(rng.normal(0, 1, (8, zdim, 1, 1) if conv else (8, zdim)))
        opt_d.zero_grad()
        fake = gen(z)
        gp = penalty(real.data, fake.data)
        d_loss = -critic(real).mean() + critic(fake.detach()).mean() + 10 * gp
        d_loss.backward()
        opt_d.step()
        for p in critic.parameters():
            p.requires_grad = False
        opt_g.zero_grad()
        g_loss = -critic(gen(z)).mean()
        g_loss.backward()
        opt_g.step()
        for p in critic.parameters():
            p.requires_grad = True
        log.append([d_loss.item(), gp.item(), g_loss.item()])
    params = [p.detach().numpy().copy() for p in [*gen.parameters(), *critic.parameters()]]
    return np.array(log), params, (g_states, d_states)


# ---- MAML ------------------------------------------------------------------------------------


def maml_sine(lib, init=None, iters=3, inner=2, second_order=True):
    F = _F(lib)

    def net(x, w):
        x = F.relu(F.linear(x, w[0], w[1]))
        x = F.relu(F.linear(x, w[2], w[3]))
        return F.linear(x, w[4], w[5])

    if init is None:
        b = 1.0 / math.sqrt(20)
        w = [lib.Tensor(20, 1).uniform_(-1.0, 1.0), lib.Tensor(20).zero_(),
             lib.Tensor(20, 20).uniform_(-b, b), lib.Tensor(20).zero_(),
             lib.Tensor(1, 20).uniform_(-b, b), lib.Tensor(1).zero_()]  # fmt: skip
        init = [t.numpy().copy() for t in w]
    params = [lib.tensor(a).requires_grad_() for a in init]
    opt = lib.optim.Adam(params, lr=1e-3)
    rng = np.random.RandomState(1)
    log = []
    for _ in range(iters):
        opt.zero_grad()
        amp, phase = rng.uniform(0.1, 5.0, 3), rng.uniform(0, math.pi, 3)
        total = 0.0
        for a, p in zip(amp, phase):
            xs, xq = rng.uniform(-5, 5, (2, 10, 1)).astype(np.float32)
            x, y = lib.tensor(xs), lib.tensor((a * np.sin(xs + p)).astype(np.float32))
            fast = params
            for _ in range(inner):
                loss = F.mse_loss(net(x, fast), y)
                grads = lib.autograd.grad(loss, fast, create_graph=second_order)
                fast = [w - 0.01 * g for w, g in zip(fast, grads)]
            yq = lib.tensor((a * np.sin(xq + p)).astype(np.float32))
            outer = F.l1_loss(net(lib.tensor(xq), fast), yq)
            outer.backward()
            total += outer.item()
        opt.step()
        log.append(total / 3)
    return np.array(log), [p.grad.numpy().copy() for p in params], init


def maml_omniglot(lib, states=None, iters=2):
    nn, F = lib.nn, _F(lib)

    class Learner(nn.Module):
        # explicit parameter list, run functionally so that adapted copies can replace it
        def __init__(self, ways=3):
            super().__init__()
            self.vars, self.bn = nn.ParameterList(), nn.ParameterList()
            for cout, cin in [(6, 1), (6, 6), (6, 6)]:
                w = nn.Parameter(lib.ones(cout, cin, 3, 3))
                nn.init.kaiming_normal_(w)
                self.vars.extend([w, nn.Parameter(lib.zeros(cout)), nn.Parameter(lib.ones(cout)),
                                  nn.Parameter(lib.zeros(cout))])  # fmt: skip
                self.bn.extend([nn.Parameter(lib.zeros(cout), requires_grad=False),
                                nn.Parameter(lib.ones(cout), requires_grad=False)])  # fmt: skip
            w = nn.Parameter(lib.ones(ways, 24))
            nn.init.kaiming_normal_(w)
            self.vars.extend([w, nn.Parameter(lib.zeros(ways))])

        def forward(self, x, w=None):
            w = self.vars if w is None else w
            for i, stride in enumerate((2, 2, 1)):
                x = F.conv2d(x, w[4 * i], w[4 * i + 1], stride=stride)
                x = F.batch_norm(x, self.bn[2 * i], self.bn[2 * i + 1], weight=w[4 * i + 2],
                                 bias=w[4 * i + 3], training=True)  # fmt: skip
                x = F.relu(x, inplace=True)
            x = F.max_pool2d(x, 2)
            return F.linear(x.view(x.size(0), -1), w[12], w[13])

    net = Learner()
    init = _load(lib, net, states)
    opt = lib.optim.Adam(net.vars, lr=1e-3)
    rng = np.random.RandomState(3)
    log = []
    for _ in range(iters):
        query_loss = 0
        for _ in range(2):
            xs = lib.tensor(rng.standard_normal((3, 1, 28, 28)).astype(np.float32))
            xq = lib.tensor(rng.standard_normal((6, 1, 28, 28)).astype(np.float32))
            ys, yq = lib.tensor(np.arange(3)), lib.tensor(np.arange(6) % 3)
            fast = list(net.vars)
            for _ in range(2):
                grads = lib.autograd.grad(F.cross_entropy(net(xs, fast), ys), fast,
                                          create_graph=True)  # fmt: skip
                fast = [w - 0.4 * g for w, g in zip(fast, grads)]
            query_loss = query_loss + F.cross_entropy(net(xq, fast), yq)
        opt.zero_grad()
        (query_loss / 2).backward()
        opt.step()
        log.append(query_loss.item() / 2)
    # the conv biases before batch norm get a zero gradient up to rounding, which Adam's
    # normalization turns into steps of either sign: not compared
    kept = [p.detach().numpy().copy() for i, p in enumerate(net.vars) if i % 4 != 1 or i > 11]
    return np.array(log), kept, init


# ---- PINN ------------------------------------------------------------------------------------


def pinn(lib, states=None, lbfgs_iter=6, adam_steps=3):
    nn = lib.nn
    rng = np.random.RandomState(0)
    layers = OrderedDict()
    sizes = [2, 12, 12, 1]
    for i in range(len(sizes) - 1):
        layers[f"layer_{i}"] = nn.Linear(sizes[i], sizes[i + 1])
        if i < len(sizes) - 2:
            layers[f"act_{i}"] = nn.Tanh()
    dnn = nn.Sequential(layers)
    lam1, lam2 = nn.Parameter(lib.tensor([0.0])), nn.Parameter(lib.tensor([-6.0]))
    dnn.register_parameter("lambda_1", lam1)
    dnn.register_parameter("lambda_2", lam2)
    init = _load(lib, dnn, states)
    pts = np.stack([rng.uniform(-1, 1, 30), rng.uniform(0, 1, 30)], 1)
    col = np.stack([rng.uniform(-1, 1, 40), rng.uniform(0, 1, 40)], 1)
    u_obs = lib.tensor(-np.sin(np.pi * pts[:, :1]) * np.exp(-pts[:, 1:])).float()
    x_u, t_u = (lib.tensor(pts[:, i : i + 1], requires_grad=True).float() for i in (0, 1))
    x_f, t_f = (lib.tensor(col[:, i : i + 1], requires_grad=True).float() for i in (0, 1))

    def residual(x, t):
        u = dnn(lib.cat([x, t], dim=1))
        ones = lib.ones_like(u)
        u_t = lib.autograd.grad(u, t, ones, retain_graph=True, create_graph=True)[0]
        u_x = lib.autograd.grad(u, x, ones, retain_graph=True, create_graph=True)[0]
        u_xx = lib.autograd.grad(u_x, x, lib.ones_like(u_x), retain_graph=True,
                                 create_graph=True)[0]  # fmt: skip
        return u_t + lam1 * u * u_x - lam2.exp() * u_xx

    def loss_fn():
        u = dnn(lib.cat([x_u, t_u], dim=1))
        return lib.mean((u_obs - u) ** 2) + lib.mean(residual(x_f, t_f) ** 2)

    log = []
    lbfgs = lib.optim.LBFGS(dnn.parameters(), lr=1.0, max_iter=lbfgs_iter, max_eval=8,
                            history_size=50, tolerance_grad=1e-5,
                            tolerance_change=float(np.finfo(float).eps),
                            line_search_fn="strong_wolfe")  # fmt: skip

    def closure():
        lbfgs.zero_grad()
        loss = loss_fn()
        loss.backward()
        log.append(loss.item())
        return loss

    lbfgs.step(closure)
    adam = lib.optim.Adam(dnn.parameters())
    for _ in range(adam_steps):
        loss = loss_fn()
        adam.zero_grad()
        loss.backward()
        adam.step()
        log.append(loss.item())
    return np.array(log), [lam1.item(), lam2.item()], init


# ---- Newton's method and Hessian-vector products ----------------------------------------------


def newton_and_hvp(lib):
    F, AF = _F(lib), lib.autograd.functional
    rng = np.random.RandomState(5)
    X = lib.tensor(rng.standard_normal((40, 3)))
    y = lib.tensor((rng.standard_normal(40) > 0).astype(np.float64))

    def loss(w):
        return F.binary_cross_entropy_with_logits(X @ w, y) + 0.01 * (w * w).sum()

    w = lib.zeros(3, dtype=lib.float64)
    path = []
    for _ in range(4):
        w = w - lib.linalg.solve(AF.hessian(loss, w), AF.jacobian(loss, w))
        path.append(loss(w).item())
    shapes = [(4, 3), (4,), (1, 4), (1,)]
    params = tuple(lib.tensor(rng.standard_normal(s)) for s in shapes)

    def mlp(a, b, c, d):
        return F.mse_loss((lib.tanh(X @ a.t() + b) @ c.t() + d).squeeze(1), y)

    vec = tuple(lib.ones_like(p) for p in params)
    _, hv = AF.hvp(mlp, params, vec)
    _, vh = AF.vhp(mlp, params, vec)
    _, jv = AF.jvp(lambda a: lib.tanh(X @ a), w, lib.ones(3, dtype=lib.float64))
    # the same product the way influence-function code writes it by hand
    leaves = [p.clone().requires_grad_() for p in params]
    grads = lib.autograd.grad(mlp(*leaves), leaves, create_graph=True)
    dot = sum((g * v).sum() for g, v in zip(grads, vec))
    by_hand = lib.nn.utils.parameters_to_vector(lib.autograd.grad(dot, leaves))
    flat = [lib.cat([t.reshape(-1) for t in hv]), lib.cat([t.reshape(-1) for t in vh]), by_hand]
    return np.array(path), [t.detach().numpy() for t in flat] + [jv.numpy()], w.numpy()


# ---- without torch: the programs run and do what they are for ----------------------------------


def test_wgan_gp_runs_and_the_penalty_shrinks():
    fastnn.manual_seed(0)
    log, _, _ = wgan_gp(fastnn, conv=True, steps=4)
    assert np.isfinite(log).all() and (log[:, 1] > 0).all()
    assert log[-1, 1] < log[0, 1]  # the critic step pulls its gradient norm toward one


def test_maml_second_order_differs_from_first_order():
    fastnn.manual_seed(0)
    _, g2, init = maml_sine(fastnn, iters=1)
    _, g1, _ = maml_sine(fastnn, init=init, iters=1, second_order=False)
    assert all(np.isfinite(g).all() for g in g2)
    assert max(np.abs(a - b).max() for a, b in zip(g2, g1)) > 1e-6


def test_newton_reaches_a_stationary_point():
    path, flat, _ = newton_and_hvp(fastnn)
    assert path[-1] <= path[0] and abs(path[-1] - path[-2]) < 1e-10
    np.testing.assert_allclose(flat[0], flat[1], rtol=1e-10)  # symmetric Hessian: hvp == vhp
    np.testing.assert_allclose(flat[0], flat[2], rtol=1e-10)


# ---- against torch -------------------------------------------------------------------------------


def _close(got, want, rtol, atol):
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


@pytest.mark.parametrize("conv", [False, True])
def test_wgan_gp_matches_torch(conv):
    torch = pytest.importorskip("torch")
    fastnn.manual_seed(0)
    log, params, states = wgan_gp(fastnn, conv=conv)
    tlog, tparams, _ = wgan_gp(torch, states, conv=conv)
    np.testing.assert_allclose(log, tlog, rtol=1e-4, atol=1e-5)
    # Adam divides by the gradient's own size: where it is near zero, float rounding moves
    # the step by a good part of lr
    _close(params, tparams, 1e-4, 5e-5)


@pytest.mark.parametrize("second_order", [True, False])
def test_maml_sine_matches_torch(second_order):
    torch = pytest.importorskip("torch")
    fastnn.manual_seed(1)
    log, grads, init = maml_sine(fastnn, second_order=second_order)
    tlog, tgrads, _ = maml_sine(torch, init=init, second_order=second_order)
    np.testing.assert_allclose(log, tlog, rtol=1e-4)
    _close(grads, tgrads, 1e-3, 1e-5)


def test_maml_omniglot_shaped_matches_torch():
    torch = pytest.importorskip("torch")
    fastnn.manual_seed(2)
    log, params, states = maml_omniglot(fastnn)
    tlog, tparams, _ = maml_omniglot(torch, states)
    np.testing.assert_allclose(log, tlog, rtol=1e-4)
    _close(params, tparams, 1e-4, 1e-5)


def test_pinn_lbfgs_matches_torch():
    torch = pytest.importorskip("torch")
    fastnn.manual_seed(3)
    log, lams, states = pinn(fastnn)
    tlog, tlams, _ = pinn(torch, states)
    assert len(log) == len(tlog)
    np.testing.assert_allclose(log, tlog, rtol=1e-3)
    np.testing.assert_allclose(lams, tlams, rtol=1e-4, atol=1e-6)


def test_newton_and_hvp_match_torch():
    torch = pytest.importorskip("torch")
    path, flat, w = newton_and_hvp(fastnn)
    tpath, tflat, tw = newton_and_hvp(torch)
    np.testing.assert_allclose(path, tpath, rtol=1e-10)
    np.testing.assert_allclose(w, tw, rtol=1e-8)
    _close(flat, tflat, 1e-9, 1e-12)
