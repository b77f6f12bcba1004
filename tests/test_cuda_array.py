"""DeviceArray on a GPU: copies, dtypes, views, the caching allocator, CAI and DLPack exchange.
Skipped without a GPU (see test_cuda_runtime.py for what runs everywhere)."""

import numpy as np
import pytest

import fastnn
from fastnn import cuda

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA GPU"),
]

DTYPES = [np.float32, np.float64, np.int64, np.int32, np.uint8, np.bool_]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (0,), (1,), (7,), (33, 65), (2, 3, 5)])
def test_roundtrip(dtype, shape, rng):
    a = np.asarray(rng.standard_normal(shape) * 50).astype(
        dtype
    )  # shape (): an array, not a scalar
    d = cuda.from_numpy(a)
    assert d.shape == a.shape and d.dtype == a.dtype and d.size == a.size
    assert d.nbytes == a.nbytes and d.device == 0
    np.testing.assert_array_equal(d.numpy(), a)
    np.testing.assert_array_equal(cuda.to_numpy(d), a)


def test_from_numpy_makes_strided_input_contiguous(rng):
    a = rng.standard_normal((8, 6))[:, ::2].T
    np.testing.assert_array_equal(cuda.from_numpy(a).numpy(), a)


def test_views_share_storage():
    d = cuda.from_numpy(np.arange(24, dtype=np.float32))
    v = d.reshape(4, -1)
    assert v.shape == (4, 6) and v.data_ptr == d.data_ptr
    r = v.narrow0(1, 3)
    assert r.shape == (2, 6) and r.data_ptr == d.data_ptr + 6 * 4
    r.fill_(-1)
    expect = np.arange(24, dtype=np.float32)
    expect[6:18] = -1
    np.testing.assert_array_equal(d.numpy(), expect)
    with pytest.raises(ValueError, match="cannot reshape"):
        d.reshape(5, 5)
    with pytest.raises(ValueError, match="out of range"):
        v.narrow0(3, 5)


def test_fill_copy_astype_clone():
    d = cuda.empty((3, 4), np.int64).fill_(2**62 + 1)
    assert (d.numpy() == 2**62 + 1).all()  # int64 fills are exact
    f = cuda.zeros((3, 4))
    f.copy_(d)  # casting copy
    np.testing.assert_array_equal(f.numpy(), np.full((3, 4), float(2**62 + 1), np.float32))
    f.copy_(np.ones((3, 4), np.float64))
    np.testing.assert_array_equal(f.numpy(), np.ones((3, 4)))
    c = f.clone()
    assert c.data_ptr != f.data_ptr
    b = f.astype(np.bool_)
    assert b.dtype == np.bool_ and b.numpy().all()
    with pytest.raises(ValueError, match="shape"):
        f.copy_(np.ones(5))


def test_caching_allocator_reuses_blocks():
    cuda.synchronize()
    cuda.empty_cache()
    base = cuda.memory_stats()
    a = cuda.empty((1000,), np.float32)  # 4000 B -> the 4096 B class
    assert cuda.memory_allocated() == base["allocated_bytes"] + 4096
    ptr = a.data_ptr
    del a
    assert cuda.memory_allocated() == base["allocated_bytes"]
    assert cuda.memory_reserved() >= base["reserved_bytes"] + 4096
    b = cuda.empty((1010,), np.float32)  # same size class: the cached block comes back
    assert b.data_ptr == ptr
    stats = cuda.memory_stats()
    assert stats["cache_hits"] >= base["cache_hits"] + 1
    del b
    cuda.empty_cache()
    assert cuda.memory_reserved() == cuda.memory_allocated()


def test_out_of_memory_is_a_runtime_error():
    with pytest.raises(RuntimeError, match="out of memory"):
        cuda.empty((1 << 50,), np.uint8)
    x = cuda.zeros(4)  # the process and the device are still fine
    assert x.numpy().sum() == 0


def test_cuda_array_interface_export_and_import():
    d = cuda.from_numpy(np.arange(6, dtype=np.float64).reshape(2, 3))
    cai = d.__cuda_array_interface__
    assert cai["shape"] == (2, 3) and cai["typestr"] == "<f8" and cai["version"] == 3
    assert cai["data"] == (d.data_ptr, False) and cai["strides"] is None

    class Holder:
        __cuda_array_interface__ = cai

    w = cuda.as_device_array(Holder())
    assert w.data_ptr == d.data_ptr
    np.testing.assert_array_equal(w.numpy(), d.numpy())


def test_dlpack_roundtrip_zero_copy():
    d = cuda.from_numpy(np.arange(10, dtype=np.float32))
    assert d.__dlpack_device__() == (2, 0)
    e = fastnn.from_dlpack(d)
    assert e is d
    cuda_mod = cuda._require()
    for versioned in (None, (1, 0)):
        cap = d.__dlpack__(max_version=versioned)
        info = cuda_mod.dlpack_info(cap)
        assert info["device"] == (2, 0) and info["shape"] == (10,)
        f = cuda_mod.from_dlpack_capsule(cap)
        assert f.data_ptr == d.data_ptr
    copy = cuda_mod.from_dlpack_capsule(d.__dlpack__(copy=True))
    assert copy.data_ptr != d.data_ptr
    np.testing.assert_array_equal(copy.numpy(), d.numpy())


def test_torch_interop_zero_copy():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch without CUDA")
    t = torch.arange(12, dtype=torch.float32, device="cuda").reshape(3, 4)
    d = fastnn.from_dlpack(t)
    assert d.data_ptr == t.data_ptr()
    d.fill_(3)
    assert t.sum().item() == 36
    back = torch.from_dlpack(d)
    assert back.data_ptr() == t.data_ptr()
    w = cuda.as_device_array(t)  # also through __cuda_array_interface__ paths
    assert w.data_ptr == t.data_ptr()
    with pytest.raises(ValueError, match="C-contiguous"):
        fastnn.from_dlpack(t.t())
