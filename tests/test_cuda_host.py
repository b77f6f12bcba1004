"""The host side of the CUDA module: size math, byte order, overlapping copies, the Philox
offsets under threads, the optimizers' overlap check at many tensors, a reproducible BCE total.
Every check that needs no device runs everywhere (it runs before any CUDA call); the rest needs
a GPU."""

import sys
import threading

import numpy as np
import pytest

from conftest import assert_close
from fastnn import cuda
from fastnn import kernels as K
from fastnn.cuda import random as cuda_random

built = pytest.mark.skipif(not cuda.is_built(), reason="fastnn built without CUDA")
gpu = pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA GPU")


def _mod():
    mod = cuda._module()
    if mod is None:
        pytest.skip("fastnn._cuda is not built")
    return mod


# ---- DeviceArray.empty: the byte count must not wrap ----


@built
@pytest.mark.parametrize(
    ("shape", "dtype"),
    [
        ((2**60 + 1,), "float64"),
        ((2**61,), "int64"),
        ((2**62,), "float64"),
        ((2**61,), "float32"),
        ((2**31, 2**30), "float64"),
        ((3, 2**59), "int64"),
        ((2**21, 2**21, 2**21), "float64"),  # wraps to exactly 0 bytes in int64 arithmetic
    ],
)
def test_empty_refuses_shapes_whose_bytes_overflow(shape, dtype):
    mod = _mod()
    text = "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
    with pytest.raises(ValueError, match="too large") as e:
        mod._checked_nbytes(shape, dtype)
    assert text in str(e.value) and dtype in str(e.value)
    with pytest.raises(ValueError, match="too large"):  # before any device call, GPU or not
        mod.empty(shape, dtype)


@built
@pytest.mark.parametrize(
    ("shape", "dtype", "nbytes"),
    [
        ((2**60,), "float32", 2**62),
        ((2**59,), "float64", 2**62),
        ((1000, 7), "float64", 56000),
        ((0, 2**62), "float64", 0),
        ((), "int32", 4),
        ((5,), "bool", 5),
    ],
)
def test_checked_nbytes_accepts_the_largest_valid_shapes(shape, dtype, nbytes):
    assert _mod()._checked_nbytes(shape, dtype) == nbytes


@built
def test_negative_dimension_is_a_value_error():
    with pytest.raises(ValueError, match="negative dimension"):
        _mod()._checked_nbytes((3, -1), "float32")


@built
def test_size_class_past_the_limit_is_an_error_not_a_hang():
    mod = _mod()
    assert mod.size_class(2**62) == 2**62
    assert mod.size_class(2**62 - 1) == 2**62
    assert mod.size_class(3 * 2**59 + 1) == 7 * 2**58
    with pytest.raises(ValueError, match="2\\^62"):
        mod.size_class(2**62 + 1)
    with pytest.raises(ValueError, match="2\\^62"):
        mod.size_class(2**63 - 1)


# ---- from_numpy: non-native byte order is converted, not copied raw ----


@built
@pytest.mark.parametrize("typestr", [">f4", ">f8", ">i8", ">i4", "<f4", "=f8"])
@pytest.mark.parametrize("strided", [False, True])
def test_upload_staging_is_native_and_contiguous(typestr, strided, rng):
    mod = _mod()
    values = (rng.standard_normal(24) * 1000).astype(np.dtype(typestr).newbyteorder("="))
    src = values.astype(typestr).reshape(4, 6)
    if strided:
        src = src[:, ::2]
    staged = mod._host_staging(src)
    assert staged.dtype.isnative and staged.flags.c_contiguous
    assert staged.dtype == np.dtype(typestr).newbyteorder("=")
    np.testing.assert_array_equal(staged, src)
    native = np.ascontiguousarray(src.astype(src.dtype.newbyteorder("=")))
    assert staged.tobytes() == native.tobytes()


@built
def test_upload_staging_does_not_copy_a_ready_array(rng):
    a = rng.standard_normal((3, 5))
    assert np.shares_memory(_mod()._host_staging(a), a)


@built
def test_foreign_cuda_array_in_another_byte_order_is_refused():
    other = ">" if sys.byteorder == "little" else "<"

    class Swapped:
        __cuda_array_interface__ = {
            "shape": (4,),
            "typestr": other + "f4",
            "data": (1 << 20, False),
            "version": 3,
        }

    with pytest.raises(ValueError, match="byte order"):
        _mod().from_cuda_array_interface(Swapped())


@built
@gpu
@pytest.mark.cuda
@pytest.mark.parametrize("typestr", [">f4", ">f8", ">i8", ">i4"])
def test_from_numpy_big_endian_round_trips(typestr, rng):
    src = (rng.standard_normal((5, 7)) * 1000).astype(typestr)
    d = cuda.from_numpy(src)
    assert d.dtype == src.dtype.newbyteorder("=")
    np.testing.assert_array_equal(d.numpy(), src)
    e = cuda.zeros((5, 7), d.dtype)
    e.copy_(src)
    np.testing.assert_array_equal(e.numpy(), src)


# ---- copy_ between overlapping views ----


@gpu
@pytest.mark.cuda
@pytest.mark.parametrize("shift", [1, 3, 64, 1000])
@pytest.mark.parametrize("direction", ["up", "down"])
def test_copy_between_overlapping_views(shift, direction, rng):
    n = 4099
    host = rng.standard_normal(n)
    a = cuda.from_numpy(host)
    lo, hi = (shift, 0) if direction == "up" else (0, shift)
    a.narrow0(lo, lo + n - shift).copy_(a.narrow0(hi, hi + n - shift))
    want = host.copy()
    want[lo : lo + n - shift] = host[hi : hi + n - shift]
    np.testing.assert_array_equal(a.numpy(), want)


@gpu
@pytest.mark.cuda
def test_copy_onto_itself_and_casting_overlap(rng):
    host = rng.standard_normal(64)
    a = cuda.from_numpy(host)
    a.copy_(a)
    np.testing.assert_array_equal(a.numpy(), host)
    # an int32 view over the first 128 bytes of a float64 array, cast into the float64 array
    buf = cuda.zeros((32,), np.float64)

    class Int32View:
        __cuda_array_interface__ = {
            "shape": (32,),
            "typestr": "<i4",
            "data": (buf.data_ptr, False),
            "version": 3,
        }

    ints = cuda.as_device_array(Int32View())
    ints.copy_(np.arange(32, dtype=np.int32) * 7)
    buf.copy_(ints)  # reads bytes 0..127 while writing bytes 0..255
    np.testing.assert_array_equal(buf.numpy(), np.arange(32) * 7.0)


# ---- the Philox offsets under threads ----


def test_philox_offsets_are_disjoint_across_threads():
    cuda_random.manual_seed(1234)
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: a race shows at once
    got = [[] for _ in range(8)]
    start = threading.Barrier(8)

    def draw(out, seed):
        r = np.random.default_rng(seed)
        start.wait()
        for _ in range(3000):
            n = int(r.integers(1, 50))
            out.append((cuda_random.next_stream(n)[1], n))

    try:
        threads = [threading.Thread(target=draw, args=(got[i], i)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(before)
    ranges = sorted(r for out in got for r in out)
    end = 0
    for offset, n in ranges:
        assert offset == end, f"offset {offset} handed out twice or skipped (expected {end})"
        end = offset + n
    assert cuda_random.get_state() == (1234, end)


def test_philox_offsets_ignore_worker_thread_streams():
    from fastnn._core import random as core_random

    cuda_random.manual_seed(99)
    seen = []

    def worker():
        core_random.set_thread_stream(5)  # as a DataLoader worker thread does
        try:
            seen.extend(cuda_random.next_stream(10) for _ in range(3))
        finally:
            core_random.set_thread_stream(None)

    first = cuda_random.next_stream(10)
    t = threading.Thread(target=worker)
    t.start()
    t.join()
    last = cuda_random.next_stream(10)
    assert [first, *seen, last] == [(99, 0), (99, 10), (99, 20), (99, 30), (99, 40)]


# ---- the optimizers' overlap check at many tensors ----


def _many(rng, count, dtype=np.float32):
    sizes = rng.integers(1, 20, count)
    return [rng.standard_normal(int(s)).astype(dtype) for s in sizes]


def test_cpu_optimizer_overlap_check_at_1000_tensors(rng):
    params = _many(rng, 1000)
    grads = [rng.standard_normal(p.shape).astype(np.float32) for p in params]
    bufs = [np.zeros_like(p) for p in params]
    want = [p - 0.1 * g for p, g in zip(params, grads)]
    K.sgd_step(params, grads, bufs, lr=0.1, momentum=0.9, first_step=True)
    for p, w in zip(params, want):
        assert_close(p, w, atol=1e-6, rtol=1e-6)
    block = np.zeros(40, np.float32)  # params[10] and bufs[990] share its middle
    params[10], bufs[990] = block[0:20], block[10:30]
    grads[10], grads[990] = np.zeros(20, np.float32), np.zeros(20, np.float32)
    bufs[10], params[990] = np.zeros(20, np.float32), np.zeros(20, np.float32)
    with pytest.raises(ValueError, match="share memory") as e:
        K.sgd_step(params, grads, bufs, lr=0.1, momentum=0.9)
    assert "params[10]" in str(e.value) and "momentum_bufs[990]" in str(e.value)


@gpu
@pytest.mark.cuda
def test_cuda_optimizer_overlap_check_at_1000_tensors(rng):
    from fastnn.cuda import kernels as ck

    host = _many(rng, 1000)
    grads = [rng.standard_normal(p.shape).astype(np.float32) for p in host]
    params = [cuda.from_numpy(p) for p in host]
    ck.sgd_step(params, [cuda.from_numpy(g) for g in grads], None, lr=0.1)
    for d, p, g in zip(params, host, grads):
        assert_close(d.numpy(), p - 0.1 * g, atol=1e-6, rtol=1e-6)
    block = cuda.zeros((40,), np.float32)
    params[3], params[997] = block.narrow0(0, 20), block.narrow0(19, 39)
    dgrads = [cuda.zeros(tuple(p.shape), np.float32) for p in params]
    with pytest.raises(ValueError, match="share memory") as e:
        ck.sgd_step(params, dgrads, None, lr=0.1)
    assert "params[3]" in str(e.value) and "params[997]" in str(e.value)


# ---- binary cross-entropy: the same total bits on every run ----


@gpu
@pytest.mark.cuda
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize("n", [1, 257, 3_000_017])
def test_bce_total_is_reproducible(dtype, reduction, n, rng):
    x = (rng.standard_normal(n) * 4).astype(dtype)
    t = rng.random(n).astype(dtype)
    dx, dt = cuda.from_numpy(x), cuda.from_numpy(t)
    mod = cuda._require()
    runs = [mod.binary_cross_entropy_with_logits(dx, dt, reduction=reduction) for _ in range(5)]
    bits = {r.numpy().tobytes() for r in runs}
    assert len(bits) == 1, "the total differs from run to run"
    x64, t64 = x.astype(np.float64), t.astype(np.float64)
    per = np.maximum(x64, 0) - x64 * t64 + np.log1p(np.exp(-np.abs(x64)))
    want = per.sum() / (n if reduction == "mean" else 1)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert_close(runs[0].numpy(), np.array(want), atol=tol, rtol=tol)
