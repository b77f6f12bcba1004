"""Host-side pieces of the CUDA backend that run without a GPU: the Philox 4x32-10 block
function (known-answer vectors and a NumPy reimplementation), the CUDA generator's seed/offset
bookkeeping, and the fastnn.kernels -> fastnn.cuda.kernels dispatch logic."""

import inspect
import pickle
import pydoc

import numpy as np
import pytest

import fastnn
from fastnn import _devices, cuda
from fastnn import kernels as fastnn_kernels
from fastnn._core.kernel_table import KERNELS
from fastnn.cuda import random as cuda_random

built = pytest.mark.skipif(not cuda.is_built(), reason="fastnn built without CUDA")


def philox_reference(counter, key):
    """Philox 4x32-10 in plain Python integers (Salmon et al. 2011)."""
    c = list(counter)
    k0, k1 = key
    mask = 0xFFFFFFFF
    for _ in range(10):
        p0 = 0xD2511F53 * c[0]
        p1 = 0xCD9E8D57 * c[2]
        c = [((p1 >> 32) ^ c[1] ^ k0) & mask, p1 & mask, ((p0 >> 32) ^ c[3] ^ k1) & mask, p0 & mask]
        k0 = (k0 + 0x9E3779B9) & mask
        k1 = (k1 + 0xBB67AE85) & mask
    return tuple(c)


# Random123's published known-answer vectors for philox4x32_10.
KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    (
        (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
        (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
    ),
]


@pytest.mark.parametrize(("counter", "key", "expected"), KAT)
def test_reference_philox_matches_published_vectors(counter, key, expected):
    assert philox_reference(counter, key) == expected


@built
@pytest.mark.parametrize(("counter", "key", "expected"), KAT)
def test_host_philox_matches_published_vectors(counter, key, expected):
    assert cuda._module().philox4x32_10(counter, key) == expected


@built
def test_host_philox_matches_reference_on_random_inputs(rng):
    mod = cuda._module()
    for _ in range(200):
        counter = tuple(int(v) for v in rng.integers(0, 2**32, 4))
        key = tuple(int(v) for v in rng.integers(0, 2**32, 2))
        assert mod.philox4x32_10(counter, key) == philox_reference(counter, key)


@built
def test_philox_counter_consumption():
    mod = cuda._module()
    assert mod.philox_counters("float32", 0) == 0
    assert mod.philox_counters("float32", 1) == 1
    assert mod.philox_counters("float32", 9) == 3
    assert mod.philox_counters("float64", 9) == 5


@pytest.fixture
def fresh_generator():
    saved = dict(cuda_random._state)
    yield
    cuda_random._state.update(saved)


def test_generator_offsets_advance_and_replay(fresh_generator):
    cuda.manual_seed(1234)
    assert cuda_random.get_state() == (1234, 0)
    assert cuda_random.next_stream(3) == (1234, 0)
    assert cuda_random.next_stream(5) == (1234, 3)
    assert cuda_random.get_state() == (1234, 8)
    cuda_random.set_state((1234, 3))
    assert cuda_random.next_stream(1) == (1234, 3)


def test_generator_follows_fastnn_manual_seed(fresh_generator):
    cuda.manual_seed(5)
    cuda_random.next_stream(10)
    fastnn._core.random.manual_seed(77)
    assert cuda_random.get_state() == (77, 0)
    cuda.manual_seed(9)  # an explicit CUDA seed wins until fastnn.manual_seed is called again
    assert cuda_random.initial_seed() == 9
    fastnn._core.random.manual_seed(78)
    assert cuda_random.initial_seed() == 78


def test_generator_rejects_bad_seeds(fresh_generator):
    with pytest.raises(TypeError, match="int"):
        cuda.manual_seed(1.5)
    with pytest.raises(TypeError, match="int"):
        cuda.manual_seed(True)


# ---- dispatch ----


class FakeCudaArray:
    """Looks like a CUDA array to is_cuda_array (never touches a GPU)."""

    __cuda_array_interface__ = {"shape": (1,), "typestr": "<f4", "data": (0, False), "version": 3}


def test_dispatch_keeps_the_numpy_path_and_reraises_type_errors(monkeypatch):
    relu = fastnn_kernels._with_device_dispatch("relu", fastnn._C.relu)
    assert relu.__name__ == "relu" and relu.__doc__ == fastnn._C.relu.__doc__
    assert _devices.kernels_for((np.array([-1.0, 2.0]),)) is fastnn._C
    np.testing.assert_array_equal(relu(np.array([-1.0, 2.0])), [0.0, 2.0])
    with pytest.raises(TypeError, match="numpy.ndarray"):
        relu([1.0, 2.0])  # a list is not a CUDA array: the CPU TypeError stands
    assert _devices.kernels_for(([np.zeros(2)], [np.zeros(2)], 0.1)) is fastnn._C


def test_dispatch_sends_cuda_arrays_to_the_cuda_kernel(monkeypatch):
    from fastnn.cuda import kernels as cuda_kernels

    calls = []
    monkeypatch.setattr(cuda_kernels, "relu", lambda *a, **k: calls.append((a, k)) or "gpu")
    monkeypatch.setattr(cuda_kernels, "adam_step", lambda *a, **k: "gpu-step")
    relu = fastnn_kernels._with_device_dispatch("relu", fastnn._C.relu)
    adam_step = fastnn_kernels._with_device_dispatch("adam_step", fastnn._C.adam_step)
    x = FakeCudaArray()
    assert relu(x, out=None) == "gpu"
    assert calls[0][0] == (x,) and calls[0][1] == {"out": None}
    assert adam_step([FakeCudaArray()], [FakeCudaArray()], lr=0.1) == "gpu-step"
    assert adam_step(params=[FakeCudaArray()], grads=[FakeCudaArray()], lr=0.1) == "gpu-step"


def test_device_dispatch_object():
    """The C dispatcher itself: host calls reach cpu with their arguments as given, any other
    class (positional or keyword) reaches device; it reads as a routine, pickles by name."""
    calls = []

    def cpu(*args, **kwargs):
        calls.append(("cpu", args, kwargs))
        return "cpu"

    def device(*args, **kwargs):
        calls.append(("device", args, kwargs))
        return "device"

    d = fastnn._C.DeviceDispatch(cpu, device, (np.ndarray, float, type(None)))
    x = np.zeros(2)
    assert d(x, 1.5, out=None) == "cpu" and calls[-1] == ("cpu", (x, 1.5), {"out": None})
    assert d() == "cpu"
    assert d(x, out=[x]) == "device" and calls[-1] == ("device", (x,), {"out": [x]})
    assert d(1, x) == "device"  # int is not among these host types
    assert d(np.float32(1.0)) == "device"  # nor a numpy scalar: classes match exactly
    with pytest.raises(TypeError, match="callable"):
        fastnn._C.DeviceDispatch(cpu, 3, ())
    with pytest.raises(TypeError, match="classes"):
        fastnn._C.DeviceDispatch(cpu, device, (np.ndarray, 1))
    with pytest.raises(ValueError, match="at most 8"):
        fastnn._C.DeviceDispatch(cpu, device, (int,) * 9)
    with pytest.raises(TypeError):
        type("Sub", (fastnn._C.DeviceDispatch,), {})

    relu = fastnn_kernels._with_device_dispatch("relu", fastnn._C.relu)
    assert inspect.isroutine(relu) and relu.__wrapped__ is fastnn._C.relu
    assert "relu(" in pydoc.render_doc(relu)
    if cuda.is_built():  # exported: pickled by reference, like a function
        assert pickle.loads(pickle.dumps(fastnn_kernels.relu)) is fastnn_kernels.relu


def test_dispatch_is_installed_only_in_cuda_builds():
    for name in ("relu", "adam_step", "matmul"):
        fn = getattr(fastnn_kernels, name)
        if cuda.is_built():
            assert fn is not getattr(fastnn._C, name) and fn.__name__ == name
        else:
            assert fn is getattr(fastnn._C, name)
    cpu_only = [n for n, (_, devices) in KERNELS.items() if devices == ("cpu",)]
    for name in cpu_only:  # no CUDA twin: the CPU kernel itself
        assert getattr(fastnn_kernels, name) is getattr(fastnn._C, name)


@built
@pytest.mark.skipif(cuda.is_available(), reason="a GPU is present")
def test_cuda_kernels_raise_runtime_error_without_a_gpu():
    from fastnn.cuda import kernels as cuda_kernels

    with pytest.raises(RuntimeError, match="no CUDA device"):
        cuda_kernels.relu(FakeCudaArray())
    with pytest.raises(RuntimeError, match="no CUDA device"):
        cuda_kernels.uniform_(FakeCudaArray())
