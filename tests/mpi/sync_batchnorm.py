"""Run under mpiexec: SyncBatchNorm on each rank's part of a global batch (parts of unequal
sizes, one of them a single sample) against F.batch_norm on the whole batch, in float64:
outputs, input gradients, the ranks' summed weight and bias gradients, running statistics over
two steps, and eval. Prints OK on success."""

import os

import numpy as np

import fastnn
import fastnn.distributed as dist
from fastnn.nn import functional as F

dist.init_process_group(backend="mpi")
r, n = dist.get_rank(), dist.get_world_size()
assert n == int(os.environ.get("FASTNN_TEST_WORLD", n)), f"a job of {n} ranks"
sizes = [1 + (k * 2) % 3 for k in range(n)]  # 1, 3, 2, ...
lo, hi = sum(sizes[:r]), sum(sizes[: r + 1])
f64 = fastnn.float64

for tail, momentum in (((5,), 0.1), ((4, 3), None), ((2, 1, 3), 0.3)):
    c = 3
    rng = np.random.default_rng(7)
    steps = [rng.standard_normal((sum(sizes), c, *tail)) * 4 + 3 for _ in range(2)]
    weights = [rng.standard_normal((sum(sizes), c, *tail)) for _ in range(2)]
    sync = fastnn.nn.SyncBatchNorm(c, momentum=momentum).double()
    gamma = fastnn.tensor([0.5, -1.0, 2.0], dtype=f64, requires_grad=True)
    beta = fastnn.tensor([0.1, 0.2, -0.3], dtype=f64, requires_grad=True)
    with fastnn.no_grad():
        sync.weight.copy_(gamma)
        sync.bias.copy_(beta)
    mean, var = fastnn.zeros(c, dtype=f64), fastnn.ones(c, dtype=f64)
    for step, (x, w) in enumerate(zip(steps, weights)):
        sync.zero_grad()
        gamma.grad = beta.grad = None
        xr = fastnn.tensor(x, requires_grad=True)
        xs = fastnn.tensor(x[lo:hi].copy(), requires_grad=True)
        m = 1.0 / (step + 1) if momentum is None else momentum
        yr = F.batch_norm(xr, mean, var, gamma, beta, True, m, 1e-5)
        (yr * fastnn.tensor(w)).sum().backward()
        ys = sync(xs)
        (ys * fastnn.tensor(w[lo:hi].copy())).sum().backward()
        np.testing.assert_allclose(ys.detach().numpy(), yr.detach().numpy()[lo:hi], atol=1e-12)
        np.testing.assert_allclose(xs.grad.numpy(), xr.grad.numpy()[lo:hi], atol=1e-11)
        for mine, full in ((sync.weight, gamma), (sync.bias, beta)):
            g = mine.grad.numpy().copy()
            dist.all_reduce(g)
            np.testing.assert_allclose(g, full.grad.numpy(), atol=1e-10)
        np.testing.assert_allclose(sync.running_mean.numpy(), mean.numpy(), rtol=1e-12)
        np.testing.assert_allclose(sync.running_var.numpy(), var.numpy(), rtol=1e-12)
        assert int(sync.num_batches_tracked.item()) == step + 1
    sync.eval()
    x = fastnn.tensor(steps[0][lo:hi].copy())
    expect = F.batch_norm(x, mean, var, gamma, beta, False, 0.1, 1e-5)
    np.testing.assert_allclose(sync(x).detach().numpy(), expect.detach().numpy(), atol=1e-12)

print("OK", r)
