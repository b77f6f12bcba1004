"""Run under mpiexec on a machine with a GPU: the collectives on device tensors, and
DistributedDataParallel of a model on the GPU against one process training the same model on
the CPU on the whole global batch. Device memory reaches MPI directly when the MPI is
CUDA-aware, else through host copies. Prints OK on success."""

import os

import numpy as np

import fastnn
import fastnn.distributed as dist
import fastnn.nn.functional as F
from fastnn import nn
from fastnn.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group(backend="mpi")
r, n = dist.get_rank(), dist.get_world_size()
assert n == int(os.environ.get("FASTNN_TEST_WORLD", n)), f"a job of {n} ranks"

t = fastnn.tensor(np.arange(6, dtype=np.float32) * (r + 1), device="cuda")
dist.all_reduce(t)
np.testing.assert_allclose(t.cpu().numpy(), np.arange(6) * (n * (n + 1) // 2))
t = fastnn.tensor(np.full(3, float(r)), device="cuda")
dist.broadcast(t, src=n - 1)
np.testing.assert_array_equal(t.cpu().numpy(), np.full(3, float(n - 1)))
parts = [fastnn.zeros(4, device="cuda") for _ in range(n)]
dist.all_gather(parts, fastnn.full((4,), float(r), device="cuda"))
for k, p in enumerate(parts):
    np.testing.assert_array_equal(p.cpu().numpy(), np.full(4, float(k), np.float32))

B = 8 * n
rng = np.random.default_rng(0)
X = rng.standard_normal((4, B, 12)).astype(np.float32)
Y = rng.integers(0, 3, (4, B))


def make(seed, device):
    fastnn.manual_seed(seed)
    return nn.Sequential(nn.Linear(12, 16), nn.Tanh(), nn.Linear(16, 3)).to(device)


ref = make(1, "cpu")
net = make(1 + r, "cuda")  # different on every rank: the wrap must broadcast rank 0's
ddp = DDP(net, bucket_cap_mb=0.0002)  # 200 bytes: several buckets
assert len(ddp._buckets) > 2
o_ref = fastnn.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
o = fastnn.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
share = slice(r * (B // n), (r + 1) * (B // n))
for s in range(4):
    o_ref.zero_grad()
    F.cross_entropy(ref(fastnn.tensor(X[s])), fastnn.tensor(Y[s])).backward()
    o_ref.step()
    o.zero_grad()
    x = fastnn.tensor(X[s][share], device="cuda")
    y = fastnn.tensor(Y[s][share], device="cuda")
    F.cross_entropy(ddp(x), y).backward()
    o.step()
for a, b in zip(ref.parameters(), net.parameters()):
    assert b.is_cuda
    np.testing.assert_allclose(b.detach().cpu().numpy(), a.detach().numpy(), rtol=2e-5, atol=2e-6)
dist.destroy_process_group()
print("OK", r)
