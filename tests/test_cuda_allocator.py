"""The caching allocator on a GPU (csrc/cuda/memory.cu): a freed block is reused by the next
request of its size class, the statistics add up, empty_cache hands the cache back, and an
out-of-memory request frees the cache, retries once, raises fastnn.cuda.OutOfMemoryError (a
RuntimeError, like torch.OutOfMemoryError) and leaves the allocator working. Size-class
arithmetic without a GPU is in test_cuda_runtime.py / test_cuda_host.py."""

import numpy as np
import pytest

from fastnn import cuda

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA GPU"),
]


def _stats():
    return cuda.memory_stats()


def _size_class(nbytes):
    return cuda._require().size_class(nbytes)


def test_out_of_memory_error_is_a_runtime_error():
    assert issubclass(cuda.OutOfMemoryError, RuntimeError)


def test_freed_block_is_reused_by_the_next_request_of_its_class():
    a = cuda.empty((1000,), np.float32)  # 4000 bytes -> the 4096-byte class
    ptr = a.data_ptr
    del a
    hits = _stats()["cache_hits"]
    b = cuda.empty((1001,), np.float32)  # 4004 bytes: same class, same block
    assert b.data_ptr == ptr
    assert _stats()["cache_hits"] == hits + 1
    c = cuda.empty((1025,), np.float32)  # 4100 bytes: the next class, a different block
    assert c.data_ptr != ptr
    assert _size_class(4100) == 4608 and _size_class(4004) == 4096


def test_size_classes_of_large_blocks_are_shared():
    mib = 1 << 20
    assert _size_class(3 * mib) == 3 * mib  # 2 MiB * 1.5
    assert _size_class(3 * mib - 4000) == 3 * mib
    assert _size_class(3 * mib + 4000) == 3 * mib + mib // 2
    a = cuda.empty((3 * mib,), np.uint8)
    ptr = a.data_ptr
    del a
    b = cuda.empty((3 * mib - 4000,), np.uint8)  # same class: the same block
    assert b.data_ptr == ptr
    c = cuda.empty((3 * mib + 4000,), np.uint8)  # the next class: not that block
    assert c.data_ptr != ptr


def test_allocated_and_reserved_add_up():
    cuda.empty_cache()
    base = _stats()
    assert base["reserved_bytes"] == base["allocated_bytes"]  # nothing cached after empty_cache
    sizes = [1, 511, 513, 4096, 100_000, (1 << 20) + 1, 5 << 20]
    arrays = [cuda.empty((n,), np.uint8) for n in sizes]
    want = sum(_size_class(n) for n in sizes)
    s = _stats()
    assert s["allocated_bytes"] - base["allocated_bytes"] == want
    assert s["requested_bytes"] - base["requested_bytes"] == sum(sizes)
    assert s["reserved_bytes"] - base["reserved_bytes"] == want
    assert s["num_allocs"] - base["num_allocs"] == len(sizes)
    assert cuda.memory_allocated() == s["allocated_bytes"]
    assert cuda.memory_reserved() == s["reserved_bytes"]
    assert cuda.max_memory_allocated() >= s["allocated_bytes"]
    del arrays
    s = _stats()
    assert s["allocated_bytes"] == base["allocated_bytes"]
    assert s["reserved_bytes"] - base["reserved_bytes"] == want  # kept in the cache
    assert s["num_frees"] - base["num_frees"] == len(sizes)
    cuda.empty_cache()
    s = _stats()
    assert s["reserved_bytes"] == s["allocated_bytes"] == base["allocated_bytes"]
    assert s["cuda_frees"] - base["cuda_frees"] >= len(sizes)


def test_peak_tracks_the_high_water_mark():
    cuda.reset_peak_memory_stats()
    start = cuda.max_memory_allocated()
    a = cuda.empty((1 << 20,), np.float64)
    high = cuda.memory_allocated()
    del a
    assert cuda.max_memory_allocated() == high >= start + (8 << 20)
    cuda.reset_peak_memory_stats()
    assert cuda.max_memory_allocated() == cuda.memory_allocated()


def test_out_of_memory_frees_the_cache_retries_and_recovers(rng):
    keep = cuda.from_numpy(np.arange(10, dtype=np.float64))
    cached = cuda.empty((4 << 20,), np.float32)  # 16 MiB, then back to the cache
    del cached
    before = _stats()
    assert before["reserved_bytes"] > before["allocated_bytes"]
    with pytest.raises(cuda.OutOfMemoryError, match="out of memory") as e:
        cuda.empty((1 << 47,), np.float32)  # 512 TiB
    assert isinstance(e.value, RuntimeError)
    assert "512" in str(e.value) or "MiB" in str(e.value)
    after = _stats()
    assert after["num_ooms"] == before["num_ooms"] + 1
    assert after["reserved_bytes"] == after["allocated_bytes"]  # the cache went back first
    assert after["cuda_frees"] > before["cuda_frees"]
    assert after["allocated_bytes"] == before["allocated_bytes"]  # nothing leaked
    # still usable: new blocks, old data intact, kernels run
    x = rng.standard_normal(1000)
    d = cuda.from_numpy(x)
    np.testing.assert_array_equal(d.numpy(), x)
    np.testing.assert_array_equal(keep.numpy(), np.arange(10.0))
    cuda.synchronize()


def test_oversized_shape_is_a_value_error_that_allocates_nothing():
    before = _stats()
    with pytest.raises(ValueError, match="too large"):
        cuda.empty((1 << 61,), np.float64)
    after = _stats()
    assert after["num_allocs"] == before["num_allocs"]
    assert after["num_ooms"] == before["num_ooms"]


def test_torch_oom_is_also_a_runtime_error():
    torch = pytest.importorskip("torch")
    assert issubclass(torch.OutOfMemoryError, RuntimeError)
