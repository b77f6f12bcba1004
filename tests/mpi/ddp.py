"""Run under mpiexec: DistributedDataParallel against single-process training of the same
model on the whole global batch. Prints OK on success. argv[1]: a checkpoint path."""

import os
import sys

import numpy as np

import fastnn
import fastnn.distributed as dist
import fastnn.nn.functional as F
from fastnn import nn
from fastnn.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group(backend="mpi")
r, n = dist.get_rank(), dist.get_world_size()
assert n == int(os.environ.get("FASTNN_TEST_WORLD", n)), f"a job of {n} ranks"
B = 4 * n * 3  # global batch; each rank takes a contiguous quarter... an n-th of it
rng = np.random.default_rng(0)
X = rng.standard_normal((5, B, 1, 6, 6)).astype(np.float32)
Y = rng.integers(0, 4, (5, B))


def make(seed):
    fastnn.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 3, 3),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(48, 16),
        nn.Tanh(),
        nn.Linear(16, 4),
    )


def train(model, opt, steps, shard):
    for s in range(steps):
        x, y = X[s][shard], Y[s][shard]
        opt.zero_grad()
        F.cross_entropy(model(fastnn.tensor(x)), fastnn.tensor(y)).backward()
        opt.step()


share = slice(r * (B // n), (r + 1) * (B // n))
for opt_name, cap in (("sgd", 25), ("adam", 0.0005)):  # 0.0005 MiB: several buckets
    ref = make(1)
    net = make(1 + r)  # different on every rank: the wrap must broadcast rank 0's
    ddp = DDP(net, bucket_cap_mb=cap)
    if cap < 1:
        assert len(ddp._buckets) > 2
    for a, b in zip(ref.parameters(), net.parameters()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())

    def opt_for(m, name=opt_name):
        if name == "sgd":
            return fastnn.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
        return fastnn.optim.Adam(m.parameters(), lr=0.01)

    o_ref, o = opt_for(ref), opt_for(ddp)
    train(ref, o_ref, 4, slice(None))
    train(ddp, o, 4, share)
    for a, b in zip(ref.parameters(), net.parameters()):
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=2e-5, atol=2e-6)
    # the same parameters and optimizer state on every rank, bit for bit
    flat = np.concatenate([p.detach().numpy().ravel() for p in net.parameters()])
    for st in o.state.values():
        for v in st.values():
            if hasattr(v, "numpy"):
                flat = np.concatenate([flat, np.asarray(v.numpy(), np.float32).ravel()])
    every = [np.zeros_like(flat) for _ in range(n)]
    dist.all_gather(every, flat)
    for k in range(n):
        np.testing.assert_array_equal(every[k], every[0])

# fixed-order reduction: bit for bit what one process computes by accumulating the ranks'
# micro-batches in rank order and dividing by their number
ref, net = make(3), make(3)
ddp = DDP(net, fixed_order_reduction=True, bucket_cap_mb=0.001)
o_ref = fastnn.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
o = fastnn.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
for s in range(3):
    o_ref.zero_grad()
    for k in range(n):
        part = slice(k * (B // n), (k + 1) * (B // n))
        F.cross_entropy(ref(fastnn.tensor(X[s][part])), fastnn.tensor(Y[s][part])).backward()
    for p in ref.parameters():
        g = p.grad.numpy()
        g /= np.float32(n)
    o_ref.step()
    o.zero_grad()
    F.cross_entropy(ddp(fastnn.tensor(X[s][share])), fastnn.tensor(Y[s][share])).backward()
    o.step()
for a, b in zip(ref.parameters(), net.parameters()):
    np.testing.assert_array_equal(b.detach().numpy(), a.detach().numpy())

# no_sync: two local micro-batches accumulate, the second backward averages the sum
ref, net = make(2), make(2)
ddp = DDP(net)
half = B // n // 2
x0 = X[0][r * (B // n) : r * (B // n) + half]
x1 = X[0][r * (B // n) + half : (r + 1) * (B // n)]
y0 = Y[0][r * (B // n) : r * (B // n) + half]
y1 = Y[0][r * (B // n) + half : (r + 1) * (B // n)]
with ddp.no_sync():
    F.cross_entropy(ddp(fastnn.tensor(x0)), fastnn.tensor(y0)).backward()
grads_local = [p.grad.numpy().copy() for p in net.parameters()]
every = [np.zeros_like(grads_local[-1]) for _ in range(n)]
dist.all_gather(every, grads_local[-1])
if n > 1:
    assert not np.array_equal(every[0], every[1])  # not synchronised inside no_sync
F.cross_entropy(ddp(fastnn.tensor(x1)), fastnn.tensor(y1)).backward()
for i in range(n):
    lo = i * (B // n)
    for part in (slice(lo, lo + half), slice(lo + half, lo + B // n)):
        F.cross_entropy(ref(fastnn.tensor(X[0][part])), fastnn.tensor(Y[0][part])).backward()
for a, b in zip(ref.parameters(), net.parameters()):
    np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy() / n, rtol=1e-5, atol=1e-6)


# unused parameters: an error naming them, or zeros with find_unused_parameters=True
class Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        self.used = nn.Linear(3, 2)
        self.spare = nn.Linear(3, 2)

    def forward(self, x):
        return self.used(x)


x = fastnn.tensor(np.ones((2, 3), np.float32) * (r + 1))
m = Branchy()
try:
    DDP(m)(x).sum().backward()
    raise AssertionError("unused parameters went unnoticed")
except RuntimeError as e:
    assert "spare.weight" in str(e) and "find_unused_parameters=True" in str(e)
m = Branchy()
d = DDP(m, find_unused_parameters=True)
d(x).sum().backward()
assert m.spare.weight.grad is None and m.used.weight.grad is not None
# two rows of (rank + 1) summed, averaged over the ranks
np.testing.assert_allclose(m.used.weight.grad.numpy(), np.full((2, 3), float(n + 1)), rtol=1e-6)

# checkpoints: a DDP model's module state_dict loads in a single process and back
m = make(5)
d = DDP(m)
assert sorted(d.state_dict()) == sorted("module." + k for k in m.state_dict())
if r == 0:
    fastnn.save(m.state_dict(), sys.argv[1])
dist.barrier()
single = make(9)
single.load_state_dict(fastnn.load(sys.argv[1]))
for a, b in zip(single.parameters(), m.parameters()):
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
print("OK", r)
