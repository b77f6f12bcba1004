"""Per-op Python overhead and a small training step through fastnn's autograd vs torch (CPU).

Small tensors, so the time is the framework's per-op overhead (the batch-32 regime):
an element-wise add without and with graph recording, and one MLP (784-128-10, ReLU,
cross-entropy) forward + backward at batch 32, fastnn's Tensor API vs the same torch code.
A second table times training steps that differentiate a gradient (create_graph=True): a
physics-informed net's u_tt, WGAN-GP's gradient penalty on an MLP and a conv critic, and a
Hessian-vector product.
"""

import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))

import fastnn
from _harness import SETTLE_S, Table, check_close, interleaved_batches, try_torch
from fastnn.nn import functional as F


def _mlp_step(lib, fn, x, y, w1, b1, w2, b2):
    def step():
        for p in (w1, b1, w2, b2):
            p.grad = None
        h = fn.relu(fn.linear(x, w1, b1))
        loss = fn.cross_entropy(fn.linear(h, w2, b2), y)
        loss.backward()
        return loss

    return step


def run(quick=False):
    rng = np.random.default_rng(0)
    torch = try_torch()
    rounds = 9 if quick else 31
    table = Table(
        "autograd per-op overhead and an MLP step, float32 (us, median)",
        ["case", "fastnn us", "torch us", "vs torch"],
        note="vs torch: torch time / fastnn time (higher is better for fastnn)",
        readme={"what": "autograd per-op overhead and an MLP step", "torch": "vs torch"},
    )
    a, b = (rng.standard_normal((32, 32)).astype(np.float32) for _ in range(2))
    fa, fb = fastnn.tensor(a), fastnn.tensor(b)
    fg = fastnn.tensor(a, requires_grad=True)
    cases = [
        ("add 32x32, no grad", lambda: fa + fb),
        ("add 32x32, recording", lambda: fg + fb),
        ("linear+relu 32x784 -> 128, no grad", None),
        ("MLP 784-128-10 fwd+bwd, batch 32", None),
    ]
    x = rng.standard_normal((32, 784)).astype(np.float32)
    y = rng.integers(0, 10, 32)
    w1 = (rng.standard_normal((128, 784)) * 0.05).astype(np.float32)
    b1 = np.zeros(128, np.float32)
    w2 = (rng.standard_normal((10, 128)) * 0.05).astype(np.float32)
    b2 = np.zeros(10, np.float32)
    fp = [fastnn.tensor(p, requires_grad=True) for p in (w1, b1, w2, b2)]
    fx, fy = fastnn.tensor(x), fastnn.tensor(y)
    fstep = _mlp_step(fastnn, F, fx, fy, *fp)
    tstep = None
    if torch is not None:
        tp = [torch.tensor(p, requires_grad=True) for p in (w1, b1, w2, b2)]
        tx, ty = torch.tensor(x), torch.tensor(y)
        tstep = _mlp_step(torch, torch.nn.functional, tx, ty, *tp)
        check_close("mlp loss", fstep().item(), tstep().item(), rtol=1e-5, atol=1e-6)
        check_close("mlp grad w1", fp[0].grad.numpy(), tp[0].grad.numpy(), rtol=1e-3, atol=1e-5)
        ta, tb = torch.tensor(a), torch.tensor(b)
        tg = torch.tensor(a, requires_grad=True)
        tcases = [
            lambda: ta + tb,
            lambda: tg + tb,
            lambda: torch.relu(torch.nn.functional.linear(tx, tp[0].detach(), tp[1].detach())),
            tstep,
        ]
    fcases = [
        cases[0][1],
        cases[1][1],
        lambda: F.relu(F.linear(fx, fp[0].detach(), fp[1].detach())),
        fstep,
    ]
    # The libraries' batches of calls alternate, round after round (a busy moment of the shared
    # machine then spoils one round, not one library's column); the ratio is the median of the
    # rounds' ratios. A pause before each batch lets the other library's workers go to sleep.
    for i, (name, _) in enumerate(cases):
        calls = 10 if i == 3 else 100  # the MLP step takes hundreds of microseconds
        fns = [fcases[i]] if torch is None else [fcases[i], tcases[i]]
        stats, ratios = interleaved_batches(fns, calls, rounds, settle=SETTLE_S)
        f_us = stats[0][0] * 1e6
        t_us = stats[1][0] * 1e6 if torch else None
        table.add(
            case=name,
            **{"fastnn us": f_us, "torch us": t_us, "vs torch": ratios[1] if torch else None},
        )
    return [table, higher_order_table(torch, quick)]


def _pinn_step(lib):
    """u'' + u = 0 on 256 points through a 1-32-32-1 tanh net: two recorded gradients, Adam."""
    lib.manual_seed(0)
    nn = lib.nn
    net = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1))
    opt = lib.optim.Adam(net.parameters(), 1e-3)
    t = lib.linspace(0, 1, 256).reshape(-1, 1).requires_grad_()

    def step():
        opt.zero_grad()
        u = net(t)
        (ut,) = lib.autograd.grad(u.sum(), t, create_graph=True)
        (utt,) = lib.autograd.grad(ut.sum(), t, create_graph=True)
        loss = ((utt + u) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    return step


def _gradient_penalty_step(lib, conv):
    """One WGAN-GP critic step: Wasserstein loss plus 10 x (|d D(x) / dx| - 1)^2 at points
    between real and fake samples; an MLP critic on 64 features or a conv critic on 28x28."""
    lib.manual_seed(0)
    nn = lib.nn
    if conv:
        critic = nn.Sequential(
            nn.Conv2d(1, 32, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(32, 64, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
            nn.Linear(64 * 7 * 7, 1),
        )
        real, fake = lib.randn(64, 1, 28, 28), lib.randn(64, 1, 28, 28)
    else:
        critic = nn.Sequential(
            nn.Linear(64, 256),
            nn.LeakyReLU(0.2),
            nn.Linear(256, 256),
            nn.LeakyReLU(0.2),
            nn.Linear(256, 1),
        )
        real, fake = lib.randn(128, 64), lib.randn(128, 64)
    opt = lib.optim.Adam(critic.parameters(), 1e-4, betas=(0.5, 0.9))
    shape = (real.shape[0],) + (1,) * (real.ndim - 1)
    mix = lib.linspace(0, 1, real.shape[0]).reshape(shape)

    def step():
        opt.zero_grad()
        x = (mix * real + (1 - mix) * fake).requires_grad_()
        out = critic(x)
        (g,) = lib.autograd.grad(out, x, grad_outputs=lib.ones_like(out), create_graph=True)
        penalty = ((g.reshape(g.shape[0], -1).norm(2, dim=1) - 1) ** 2).mean()
        loss = critic(fake).mean() - critic(real).mean() + 10 * penalty
        loss.backward()
        opt.step()
        return loss

    return step


def _hvp(lib):
    """H v of sum(tanh(A w)^2) in 100 dimensions (autograd.functional.hvp), the same data in
    both libraries."""
    rng = np.random.default_rng(0)
    w, v = (lib.tensor(rng.standard_normal(100).astype(np.float32)) for _ in range(2))
    a = lib.tensor((rng.standard_normal((100, 100)) * 0.1).astype(np.float32))
    return lambda: lib.autograd.functional.hvp(lambda w: ((a @ w).tanh() ** 2).sum(), w, v)[1]


def higher_order_table(torch, quick):
    table = Table(
        "training steps through second derivatives (create_graph=True), float32 (ms, median)",
        ["case", "fastnn ms", "torch ms", "vs torch"],
        note="vs torch: torch time / fastnn time; each library initialises its own nets (the "
        "same shapes and data sizes); the HVP, on the same data, is checked against torch's",
        readme={"what": "second-derivative training steps", "torch": "vs torch"},
    )
    cases = [
        ("PINN step, 1-32-32-1 tanh, 256 points", _pinn_step, 20),
        (
            "WGAN-GP critic step, MLP 64-256-256-1, batch 128",
            lambda lib: _gradient_penalty_step(lib, False),
            10,
        ),
        (
            "WGAN-GP critic step, conv 1-32-64, batch 64 x 28x28",
            lambda lib: _gradient_penalty_step(lib, True),
            2,
        ),
        ("Hessian-vector product, 100-d", _hvp, 50),
    ]
    rounds = 5 if quick else 11
    for name, make, calls in cases:
        fstep = make(fastnn)
        fns = [fstep]
        if torch is not None:
            tstep = make(torch)
            fns.append(tstep)
            if name.startswith("Hessian"):
                check_close("hvp", fstep().numpy(), tstep().numpy(), rtol=1e-4, atol=1e-4)
        stats, ratios = interleaved_batches(fns, calls, rounds, settle=SETTLE_S)
        table.add(
            case=name,
            **{
                "fastnn ms": stats[0][0] * 1e3,
                "torch ms": stats[1][0] * 1e3 if torch else None,
                "vs torch": ratios[1] if torch else None,
            },
        )
    return table


if __name__ == "__main__":
    for t in run(quick="--quick" in sys.argv):
        print(t.markdown())
