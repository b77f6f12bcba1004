"""Dropout on the GPU (csrc/cuda/dropout.cu): the forward's mask and output and the backward are
bit-identical to the CPU kernel's (csrc/cpu/dropout.cpp, itself checked against a NumPy Philox)
for the same (seed, offset), on awkward sizes, offsets, aligned and unaligned views, p = 0 and
p = 1, NaN and inf inputs; F.dropout / nn.Dropout on CUDA tensors use that one kernel with the
CUDA generator's stream. Without a GPU the routing of F.dropout runs on the numpy emulation of
the bindings (tests/_fake_cuda.py), whose dropout is the CPU kernel."""

import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn import _devices, cuda, nn
from fastnn import kernels as K
from fastnn._tensor import Tensor
from fastnn.cuda import random as cuda_random

DTYPES = [np.float32, np.float64]
SIZES = [1, 2, 3, 4, 5, 7, 33, 257, 1000, 10_007]


def _ck():
    from fastnn.cuda import kernels as ck

    return ck


# ---- the kernel against the CPU kernel, bit for bit ---------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("p", [0.0, 0.1, 0.5, 0.9, 1.0])
@pytest.mark.cuda
@pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA GPU")
def test_forward_and_backward_equal_the_cpu_kernel(dtype, n, p, rng):
    x = rng.standard_normal(n).astype(dtype)
    g = rng.standard_normal(n).astype(dtype)
    seed, offset = 0x0123456789ABCDEF, 12345
    y, mask = _ck().dropout(cuda.from_numpy(x), p, seed=seed, offset=offset)
    cy, cmask = K.dropout(x, p, seed, offset)
    assert mask.dtype == np.uint8 and y.dtype == dtype
    np.testing.assert_array_equal(mask.numpy(), cmask)
    np.testing.assert_array_equal(y.numpy(), cy)
    dx = _ck().dropout_backward(cuda.from_numpy(g), mask, p)
    np.testing.assert_array_equal(dx.numpy(), K.dropout_backward(g, cmask, p))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("start", [1, 2, 3])
@pytest.mark.cuda
@pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA GPU")
def test_unaligned_views_take_the_scalar_path_with_the_same_result(dtype, start, rng):
    """A view starting 1-3 elements into a block is not 16-byte aligned: same bits."""
    n = 1027
    x = rng.standard_normal(n + start).astype(dtype)
    g = rng.standard_normal(n + start).astype(dtype)
    dx_full, dg_full = cuda.from_numpy(x), cuda.from_numpy(g)
    view, gview = dx_full.narrow0(start, n + start), dg_full.narrow0(start, n + start)
    y, mask = _ck().dropout(view, 0.3, seed=7, offset=3)
    cy, cmask = K.dropout(x[start:], 0.3, 7, 3)
    np.testing.assert_array_equal(mask.numpy(), cmask)
    np.testing.assert_array_equal(y.numpy(), cy)
    # an unaligned mask too: a view of a mask one byte in
    big_mask = cuda.from_numpy(np.concatenate([[1], cmask]).astype(np.uint8))
    dx = _ck().dropout_backward(gview, big_mask.narrow0(1, n + 1), 0.3)
    np.testing.assert_array_equal(dx.numpy(), K.dropout_backward(g[start:], cmask, 0.3))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.cuda
@pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA GPU")
def test_dropped_nan_and_inf_give_nan_like_torch(dtype):
    x = np.array([np.nan, np.inf, -np.inf, 1.0] * 64, dtype)
    y, mask = _ck().dropout(cuda.from_numpy(x), 0.5, seed=1, offset=0)
    cy, cmask = K.dropout(x, 0.5, 1, 0)
    m = mask.numpy().astype(bool)
    assert m.any() and (~m).any()
    assert np.isnan(y.numpy()[~m][np.isin(x[~m], [np.inf, -np.inf]) | np.isnan(x[~m])]).all()
    np.testing.assert_array_equal(y.numpy(), cy)
    np.testing.assert_array_equal(mask.numpy(), cmask)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.cuda
@pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA GPU")
def test_mask_statistics_and_large_offsets(dtype):
    n = 1 << 20
    x = np.ones(n, dtype)
    for p in (0.2, 0.7):
        _, mask = _ck().dropout(cuda.from_numpy(x), p, seed=99, offset=(1 << 63) - 5)
        keep = mask.numpy().astype(np.float64)
        assert abs(keep.mean() - (1 - p)) < 5 * np.sqrt(p * (1 - p) / n)
        _, cmask = K.dropout(x, p, 99, (1 << 63) - 5)
        np.testing.assert_array_equal(mask.numpy(), cmask)


@pytest.mark.cuda
@pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA GPU")
def test_bad_arguments():
    x = cuda.from_numpy(np.ones(4, np.float32))
    with pytest.raises(ValueError, match="between 0 and 1"):
        _ck().dropout(x, 1.5, seed=0, offset=0)
    with pytest.raises(TypeError):
        _ck().dropout(cuda.from_numpy(np.ones(4, np.int64)), 0.5, seed=0, offset=0)
    _, mask = _ck().dropout(x, 0.5, seed=0, offset=0)
    with pytest.raises(ValueError):
        _ck().dropout_backward(cuda.from_numpy(np.ones(5, np.float32)), mask, 0.5)


# ---- the shared rule (csrc/dropout_math.h) at its edges, on the CPU kernel that compiles it ----

EDGE_P = [2.0**-33, 0.25, 0.5 + 2.0**-40, 1 - 2.0**-40]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", EDGE_P)
def test_threshold_is_floor_p_times_2_32_at_the_edges(dtype, p):
    """keep iff word >= floor(p * 2^32): p just above 0 keeps every word but 0, p just below
    1 keeps only the word 2^32 - 1; the float64 layout reads words 0 and 2."""
    from test_dropout_kernel import philox_words

    n = 4099
    x = np.ones(n, dtype)
    _, mask = K.dropout(x, p, 0xDEADBEEF, 5)
    per = 4 if dtype == np.float32 else 2
    w = philox_words(0xDEADBEEF, 5, -(-n // per))
    words = (w.reshape(-1) if per == 4 else w[:, [0, 2]].reshape(-1))[:n]
    np.testing.assert_array_equal(mask.astype(bool), words >= np.uint64(int(p * 2**32)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", EDGE_P)
@pytest.mark.cuda
@pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA GPU")
def test_threshold_edges_equal_the_cpu_kernel(dtype, p):
    x = np.linspace(-3, 3, 4099).astype(dtype)
    y, mask = _ck().dropout(cuda.from_numpy(x), p, seed=0xDEADBEEF, offset=5)
    cy, cmask = K.dropout(x, p, 0xDEADBEEF, 5)
    np.testing.assert_array_equal(mask.numpy(), cmask)
    np.testing.assert_array_equal(y.numpy(), cy)


# ---- F.dropout / nn.Dropout on CUDA tensors ----------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.cuda
@pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA GPU")
def test_functional_dropout_on_the_gpu_is_the_fused_kernel(dtype, rng):
    x = rng.standard_normal((33, 257)).astype(dtype)
    g = rng.standard_normal((33, 257)).astype(dtype)
    cuda.manual_seed(1234)
    seed, offset = cuda_random.get_state()
    t = fastnn.tensor(x).cuda().requires_grad_(True)
    y = F.dropout(t, 0.4)
    cy, cmask = K.dropout(x, 0.4, seed, offset)
    np.testing.assert_array_equal(y.detach().cpu().numpy(), cy)
    assert cuda_random.get_state() == (
        seed,
        offset + cuda._require().philox_counters(dtype, x.size),
    )
    y.backward(fastnn.tensor(g).cuda())
    np.testing.assert_array_equal(t.grad.cpu().numpy(), K.dropout_backward(g, cmask, 0.4))
    layer = nn.Dropout(0.4)
    cuda.manual_seed(1234)
    np.testing.assert_array_equal(layer(t).detach().cpu().numpy(), cy)
    layer.eval()
    assert layer(t) is t


# ---- without a GPU: the routing on the emulated bindings ---------------------------------------


@pytest.fixture
def emulated(monkeypatch):
    """fastnn._devices.cuda on tests/_fake_cuda.py (numpy with the bindings' rules)."""
    import _fake_cuda

    be = _devices.cuda_module()
    monkeypatch.setattr(be, "_mod", _fake_cuda)
    monkeypatch.setattr(be, "array_type", _fake_cuda.DeviceArray)
    monkeypatch.setitem(_devices._BY_TYPE, _fake_cuda.DeviceArray, be)
    return be


@pytest.mark.parametrize("dtype", DTYPES)
def test_functional_dropout_routes_cuda_floats_to_one_kernel_call(
    dtype, rng, emulated, monkeypatch
):
    import _fake_cuda

    calls = []
    real = _fake_cuda.dropout
    monkeypatch.setattr(_fake_cuda, "dropout", lambda *a: calls.append(a[1:]) or real(*a))
    x = rng.standard_normal((7, 33)).astype(dtype)
    g = rng.standard_normal((7, 33)).astype(dtype)
    cuda.manual_seed(77)
    seed, offset = cuda_random.get_state()
    t = Tensor._make(emulated.from_numpy(x), True)
    y = F.dropout(t, 0.25)
    assert calls == [(0.25, seed, offset)]  # one fused call on the CUDA generator's stream
    cy, cmask = K.dropout(x, 0.25, seed, offset)
    np.testing.assert_array_equal(emulated.to_numpy(y._data), cy)
    assert cuda_random.get_state() == (
        seed,
        offset + -(-x.size // (4 if dtype == np.float32 else 2)),
    )
    y.backward(Tensor._make(emulated.from_numpy(g)))
    np.testing.assert_array_equal(
        emulated.to_numpy(t.grad._data), K.dropout_backward(g, cmask, 0.25)
    )


def test_functional_dropout_keeps_the_composed_path_for_integer_cuda_tensors(emulated, monkeypatch):
    import _fake_cuda

    monkeypatch.setattr(_fake_cuda, "dropout", lambda *a: pytest.fail("int tensors: no kernel"))
    t = Tensor._make(emulated.from_numpy(np.ones((4, 5), np.int64)))
    fastnn.manual_seed(0)
    out = emulated.to_numpy(F.dropout(t, 1.0)._data)
    np.testing.assert_array_equal(out, np.zeros((4, 5)))
