"""fastnn.cuda without a GPU: import, availability, errors, allocator size classes, DLPack on the
host. Runs on every machine; the GPU behaviour is in test_cuda_array.py / test_cuda_kernels.py."""

import subprocess
import sys

import numpy as np
import pytest

import fastnn
from fastnn import cuda

built = pytest.mark.skipif(not cuda.is_built(), reason="fastnn built without CUDA")
no_gpu = pytest.mark.skipif(cuda.is_available(), reason="a GPU is present")


def _cuda_module():
    mod = cuda._module()
    if mod is None:
        pytest.skip("fastnn._cuda is not built")
    return mod


def test_is_built_matches_the_module():
    assert cuda.is_built() == (cuda._module() is not None)


def test_import_fastnn_does_not_load_the_cuda_module():
    code = "import sys, fastnn, fastnn.cuda; print('fastnn._cuda' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_is_available_loads_the_module_and_never_raises():
    code = (
        "import sys, fastnn; a = fastnn.cuda.is_available(); "
        "print(type(a).__name__, 'fastnn._cuda' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["bool", str(cuda.is_built())]


def test_missing_module_reads_as_unavailable(monkeypatch):
    monkeypatch.setattr(cuda, "_load", lambda: (None, cuda._NOT_BUILT))
    assert cuda.device_count() == 0
    assert cuda.is_available() is False
    with pytest.raises(RuntimeError, match="built without CUDA; reinstall with FASTNN_CUDA=ON"):
        cuda.empty((2,))
    with pytest.raises(AttributeError, match="unavailable"):
        cuda.DeviceArray  # noqa: B018
    cuda.empty_cache()  # a no-op, never an error


def test_failing_device_count_reads_as_zero(monkeypatch):
    class Broken:
        @staticmethod
        def device_count():
            raise RuntimeError("driver exploded")

    monkeypatch.setattr(cuda, "_load", lambda: (Broken, ""))
    assert cuda.device_count() == 0
    assert not cuda.is_available()


@built
@no_gpu
def test_no_gpu_counts_zero_and_says_why():
    mod = _cuda_module()
    assert mod.device_count() == 0
    assert cuda.device_count() == 0
    assert cuda.is_available() is False
    assert mod.probe_error() != ""  # e.g. "cudaErrorNoDevice: ..." or no driver
    assert mod.runtime_version() >= 11000


@built
@no_gpu
@pytest.mark.parametrize(
    "call",
    [
        lambda: cuda.empty((2, 3)),
        lambda: cuda.zeros(4, dtype=np.int64),
        lambda: cuda.from_numpy(np.ones(3, np.float32)),
        lambda: cuda.synchronize(),
        lambda: cuda.memory_allocated(),
        lambda: cuda.current_device(),
        lambda: cuda.get_device_name(),
        lambda: cuda.as_device_array(np.ones(3)),
    ],
)
def test_gpu_requests_raise_runtime_error_without_a_gpu(call):
    with pytest.raises(RuntimeError, match="no CUDA device is available"):
        call()


@built
@no_gpu
def test_module_level_calls_raise_runtime_error_without_a_gpu():
    mod = _cuda_module()
    with pytest.raises(RuntimeError, match="no CUDA device"):
        mod.empty((3,), "float32")
    with pytest.raises(RuntimeError, match="no CUDA device"):
        mod.from_numpy(np.zeros((2, 2)))
    with pytest.raises(RuntimeError, match="no CUDA device"):
        mod.synchronize()
    mod.empty_cache()  # nothing cached: no CUDA call, no error
    assert mod.memory_stats(0)["allocated_bytes"] == 0


@built
def test_bad_arguments_are_type_errors_before_touching_the_device():
    mod = _cuda_module()
    with pytest.raises(TypeError, match="numpy.ndarray, got list"):
        mod.from_numpy([1.0, 2.0])
    with pytest.raises(TypeError, match="not supported on CUDA"):
        mod.empty((2,), "complex64")
    with pytest.raises(TypeError, match="shape"):
        mod.empty("abc", "float32")
    with pytest.raises(TypeError, match="not supported on CUDA"):
        mod.from_numpy(np.zeros(3, np.float16))


@pytest.mark.parametrize(
    ("device", "index"),
    [(None, -1), (0, 0), (3, 3), ("cuda", -1), ("cuda:2", 2), (np.int64(1), 1)],
)
def test_device_index_parsing(device, index):
    assert cuda._device_index(device) == index


@pytest.mark.parametrize("device", ["cpu", "cuda:x", "gpu", -1])
def test_device_index_rejects_bad_devices(device):
    with pytest.raises(ValueError, match="device"):
        cuda._device_index(device)


def test_device_index_rejects_bool():
    with pytest.raises(TypeError):
        cuda._device_index(True)


@built
def test_allocator_size_classes():
    mod = _cuda_module()
    assert mod.size_class(0) == 0
    assert mod.size_class(1) == 512
    assert mod.size_class(512) == 512
    assert mod.size_class(513) == 1024
    assert mod.size_class(1 << 20) == 1 << 20
    assert mod.size_class((1 << 20) + 1) == (1 << 20) + (1 << 18)
    previous = 0
    for n in [1, 7, 511, 4096, 10_000, (1 << 20) - 3, 3 << 20, 5_000_001, 123_456_789, 1 << 33]:
        c = mod.size_class(n)
        assert c >= n and c >= previous
        assert c % 512 == 0
        if n > 1 << 20:
            assert c <= 1.25 * n  # at most 25% rounding waste for large blocks
        previous = c


def test_is_cuda_array_is_false_for_host_objects():
    assert not cuda.is_cuda_array(np.ones(3))
    assert not cuda.is_cuda_array([1, 2])
    assert not cuda.is_cuda_array(3.0)
    assert not cuda.is_device_array(np.ones(3))


def test_is_cuda_array_sees_foreign_cuda_objects():
    class FakeCai:
        __cuda_array_interface__ = {
            "shape": (1,),
            "typestr": "<f4",
            "data": (0, False),
            "version": 3,
        }

    class FakeDl:
        def __dlpack__(self, **kwargs):
            raise AssertionError("not called")

        def __dlpack_device__(self):
            return (2, 0)

    class CpuDl(FakeDl):
        def __dlpack_device__(self):
            return (1, 0)

    assert cuda.is_cuda_array(FakeCai())
    assert cuda.is_cuda_array(FakeDl())
    assert not cuda.is_cuda_array(CpuDl())


# ---- DLPack on the host (the capsule logic shared with the device path) ----


class _Exporter:
    """Wraps a capsule factory in the __dlpack__ protocol, as numpy's consumer wants."""

    def __init__(self, factory):
        self.factory = factory
        self.kwargs = None

    def __dlpack__(self, **kwargs):
        self.kwargs = kwargs
        return self.factory(kwargs.get("max_version") is not None)

    def __dlpack_device__(self):
        return (1, 0)


DTYPES = [np.float32, np.float64, np.int64, np.int32, np.uint8, np.bool_]


@built
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("versioned", [False, True])
def test_exported_capsule_is_read_by_numpy(dtype, versioned, rng):
    mod = _cuda_module()
    a = (rng.standard_normal((3, 5)) * 10).astype(dtype)
    b = np.from_dlpack(_Exporter(lambda _v: mod.export_host_dlpack(a, versioned)))
    assert b.dtype == a.dtype and b.shape == a.shape
    np.testing.assert_array_equal(b, a)
    assert np.shares_memory(a, b)


@built
def test_exported_capsule_keeps_the_array_alive():
    mod = _cuda_module()
    a = np.arange(12, dtype=np.float64).reshape(3, 4)
    before = sys.getrefcount(a)
    cap = mod.export_host_dlpack(a, True)
    assert sys.getrefcount(a) == before + 1
    info = mod.dlpack_info(cap)
    assert info == {
        "versioned": True,
        "version": (1, 0),
        "device": (1, 0),
        "shape": (3, 4),
        "strides": (4, 1),
        "dtype": (2, 64, 1),
        "byte_offset": 0,
        "readonly": False,
    }
    del cap  # never consumed: the capsule destructor runs the deleter
    assert sys.getrefcount(a) == before
    view = mod.from_dlpack_capsule(mod.export_host_dlpack(a, False))
    del a
    np.testing.assert_array_equal(view, np.arange(12.0).reshape(3, 4))


@built
def test_export_marks_read_only_arrays():
    mod = _cuda_module()
    a = np.ones(4, np.float32)
    a.flags.writeable = False
    assert mod.dlpack_info(mod.export_host_dlpack(a, True))["readonly"] is True
    b = mod.from_dlpack_capsule(mod.export_host_dlpack(a, True))
    assert not b.flags.writeable


@built
def test_export_rejects_non_contiguous_and_unsupported():
    mod = _cuda_module()
    with pytest.raises(ValueError, match="C-contiguous"):
        mod.export_host_dlpack(np.ones((4, 4))[:, ::2])
    with pytest.raises(TypeError, match="not supported"):
        mod.export_host_dlpack(np.ones(3, np.complex64))


@built
@pytest.mark.parametrize("versioned", [False, True])
def test_consume_numpy_capsule(versioned, rng):
    mod = _cuda_module()
    a = rng.standard_normal((4, 6)).astype(np.float32)
    cap = a.__dlpack__(max_version=(1, 0)) if versioned else a.__dlpack__()
    assert mod.dlpack_info(cap)["versioned"] is versioned
    b = mod.from_dlpack_capsule(cap)
    assert np.shares_memory(a, b)
    np.testing.assert_array_equal(a, b)
    b[0, 0] = 42.0
    assert a[0, 0] == 42.0
    with pytest.raises(ValueError, match="already consumed"):
        mod.from_dlpack_capsule(cap)
    with pytest.raises(ValueError, match="already consumed"):
        mod.dlpack_info(cap)


@built
def test_consume_strided_numpy_capsule():
    mod = _cuda_module()
    a = np.arange(24, dtype=np.int64).reshape(4, 6)[:, 1::2]
    b = mod.from_dlpack_capsule(a.__dlpack__())
    np.testing.assert_array_equal(a, b)
    assert np.shares_memory(a, b)


@built
def test_consume_rejects_non_capsules_and_foreign_capsules():
    mod = _cuda_module()
    with pytest.raises(TypeError, match="DLPack capsule"):
        mod.from_dlpack_capsule(np.ones(3))
    with pytest.raises(TypeError, match="DLPack capsule"):
        mod.dlpack_info("dltensor")
    with pytest.raises(TypeError, match="dtype"):
        mod.from_dlpack_capsule(np.ones(3, np.float16).__dlpack__())


def test_from_dlpack_numpy_and_protocol_objects(rng):
    a = rng.standard_normal((2, 3))
    assert fastnn.from_dlpack(a) is a
    b = fastnn.from_dlpack(np.from_dlpack(a))
    assert np.shares_memory(a, b)

    class Wrapper:
        def __dlpack__(self, **kwargs):
            return a.__dlpack__(**kwargs)

        def __dlpack_device__(self):
            return a.__dlpack_device__()

    c = fastnn.from_dlpack(Wrapper())
    assert isinstance(c, np.ndarray) and np.shares_memory(a, c)


@built
def test_from_dlpack_raw_host_capsule():
    a = np.arange(5, dtype=np.int32)
    b = fastnn.from_dlpack(a.__dlpack__())
    assert isinstance(b, np.ndarray) and np.shares_memory(a, b)


def test_from_dlpack_rejects_other_objects():
    with pytest.raises(TypeError, match="__dlpack__"):
        fastnn.from_dlpack([1, 2, 3])

    class Odd:
        def __dlpack__(self, **kwargs):
            raise AssertionError("not called")

        def __dlpack_device__(self):
            return (4, 0)  # OpenCL

    with pytest.raises(BufferError, match="not supported"):
        fastnn.from_dlpack(Odd())


@built
@no_gpu
def test_from_dlpack_cuda_object_without_gpu_raises_runtime_error():
    class OnGpu:
        def __dlpack__(self, **kwargs):
            raise AssertionError("not called")

        def __dlpack_device__(self):
            return (2, 0)

    with pytest.raises(RuntimeError, match="no CUDA device"):
        fastnn.from_dlpack(OnGpu())


def test_from_dlpack_torch_cpu_tensor_shares_memory():
    torch = pytest.importorskip("torch")
    t = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    a = fastnn.from_dlpack(t)
    assert isinstance(a, np.ndarray)
    a[1, 2] = -1.0
    assert t[1, 2].item() == -1.0


@built
def test_torch_reads_fastnn_host_capsules():
    torch = pytest.importorskip("torch")
    mod = _cuda_module()
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = torch.from_dlpack(mod.export_host_dlpack(a, False))
    a[0, 0] = 9.0
    assert t[0, 0].item() == 9.0
    t2 = torch.utils.dlpack.from_dlpack(_Exporter(lambda v: mod.export_host_dlpack(a, v)))
    assert t2.shape == (2, 3)
