"""Run under mpiexec: every collective against numpy, on Tensors and ndarrays, and the
DistributedSampler's shards with the group's rank. Prints OK on success."""

import os

import numpy as np

import fastnn
import fastnn.distributed as dist
from fastnn.utils.data import DistributedSampler

dist.init_process_group(backend="mpi")
r, n = dist.get_rank(), dist.get_world_size()
assert n == int(os.environ.get("FASTNN_TEST_WORLD", n)), f"a job of {n} ranks"
assert dist.is_initialized() and dist.get_backend() == "mpi"


def local(rank, shape, dtype):
    return np.random.default_rng(100 + rank).standard_normal(shape).astype(dtype) * 10


everyone = {}
for dtype in (np.float32, np.float64):
    for shape in ((1,), (7,), (33, 5), (257,)):
        allv = np.stack([local(k, shape, dtype) for k in range(n)]).astype(np.float64)
        for op, ref in (
            (dist.ReduceOp.SUM, allv.sum(0)),
            (dist.ReduceOp.AVG, allv.mean(0)),
            (dist.ReduceOp.MAX, allv.max(0)),
            (dist.ReduceOp.MIN, allv.min(0)),
        ):
            a = local(r, shape, dtype)
            t = fastnn.tensor(local(r, shape, dtype))
            mem = t.numpy()
            v0 = t._version
            assert dist.all_reduce(a, op=op) is None
            dist.all_reduce(t, op=op, async_op=True).wait()
            tol = 1e-5 if dtype == np.float32 else 1e-12
            np.testing.assert_allclose(a, ref, rtol=tol, atol=tol * 10)
            np.testing.assert_allclose(t.numpy(), ref, rtol=tol, atol=tol * 10)
            assert t.numpy() is mem and t._version == v0 + 1  # in place, version bumped
            assert t.dtype == fastnn.float32 if dtype == np.float32 else fastnn.float64

ints = np.arange(6, dtype=np.int64) * (r + 1)
dist.all_reduce(ints)
np.testing.assert_array_equal(ints, np.arange(6) * sum(range(1, n + 1)))

# broadcast from the last rank
b = fastnn.tensor(local(r, (4, 3), np.float32))
dist.broadcast(b, src=n - 1)
np.testing.assert_array_equal(b.numpy(), local(n - 1, (4, 3), np.float32))

# all_gather: rank i's tensor lands in slot i
outs = [fastnn.zeros(2, 3) for _ in range(n)]
dist.all_gather(outs, fastnn.tensor(local(r, (2, 3), np.float32)))
for k in range(n):
    np.testing.assert_array_equal(outs[k].numpy(), local(k, (2, 3), np.float32))

# reduce_scatter: rank i receives the combination of every rank's input_list[i]
ins = [local(r * n + k, (5,), np.float64) for k in range(n)]
out = np.zeros(5)
dist.reduce_scatter(out, ins, op=dist.ReduceOp.SUM)
np.testing.assert_allclose(out, sum(local(k * n + r, (5,), np.float64) for k in range(n)))

# bad input: clear errors, nothing changed
x = np.ones((4, 4))[:, ::2]
try:
    dist.all_reduce(x)
    raise AssertionError("non-contiguous accepted")
except ValueError as e:
    assert "contiguous" in str(e)
for bad in ([1.0, 2.0], "x"):
    try:
        dist.all_reduce(bad)
        raise AssertionError("list accepted")
    except TypeError as e:
        assert "Tensor or a numpy.ndarray" in str(e)
try:
    dist.all_reduce(np.ones(2, np.int64), op=dist.ReduceOp.AVG)
    raise AssertionError
except ValueError as e:
    assert "floating-point" in str(e)
try:
    dist.broadcast(np.ones(2), src=n)
    raise AssertionError
except ValueError as e:
    assert "src" in str(e)
try:
    dist.all_gather([np.zeros(2)] * (n + 1), np.ones(2))
    raise AssertionError
except ValueError as e:
    assert "world_size" in str(e)

# the sampler with the group's rank: disjoint shards covering the dataset once an epoch
for length in (10, 11, 1):
    for drop_last in (False, True):
        s = DistributedSampler(list(range(length)), shuffle=True, seed=3, drop_last=drop_last)
        s.set_epoch(2)
        mine = s.indices()
        assert len(mine) == len(s)
        shards = [np.zeros(len(s), np.int64) for _ in range(n)]
        dist.all_gather(shards, mine)
        allidx = np.concatenate(shards)
        if drop_last:
            assert len(set(allidx.tolist())) == len(allidx) == (length // n) * n
        else:
            assert set(allidx.tolist()) == set(range(length))
            assert len(allidx) == -(-length // n) * n


class FakeDeviceArray:
    """Device memory as MPI sees it without CUDA-awareness: only a host copy out (numpy) and a
    copy back in (copy_), so the host-copy path of the collectives is exercised without a GPU."""

    def __init__(self, host):
        self._mem = host.copy()
        self.shape, self.dtype = host.shape, host.dtype
        self.__cuda_array_interface__ = {"shape": host.shape, "typestr": host.dtype.str}

    def numpy(self):
        return self._mem.copy()

    def copy_(self, src):
        self._mem[...] = src
        return self


dev = FakeDeviceArray(local(r, (7,), np.float32))
dist.all_reduce(dev, op=dist.ReduceOp.AVG)
ref = np.mean([local(k, (7,), np.float32).astype(np.float64) for k in range(n)], axis=0)
np.testing.assert_allclose(dev._mem, ref, rtol=1e-6)
dev = FakeDeviceArray(local(r, (3,), np.float64))
dist.broadcast(dev, src=0)
np.testing.assert_array_equal(dev._mem, local(0, (3,), np.float64))

dist.barrier()
dist.barrier(async_op=True).wait()
dist.destroy_process_group()
assert not dist.is_initialized()
print("OK", r)
