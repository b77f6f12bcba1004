"""conv2d and pooling on the GPU (csrc/cuda/conv.cu, pool.cu, bindings/cuda_conv.cpp) against the
CPU kernels (themselves tested against float64 NumPy references and torch): the raw kernels of
fastnn.cuda.kernels and the Tensor API (fastnn.nn.functional, nn.Conv2d in a CNN), float32 and
float64, awkward geometries, forward and backward, determinism and the bad-input errors.

Pooling, im2col and col2im do the CPU's arithmetic in the CPU's order (csrc/window_ops.h), so
they must match bit for bit; conv2d goes through a different GEMM and is compared with a
tolerance. The GPU tests skip without a GPU; the tests at the end need none (the kernel table,
the bindings' argument checks that come before any CUDA call, and the backend's glue on the
numpy emulation of the bindings, tests/_fake_cuda.py)."""

import numpy as np
import pytest

import fastnn
from conftest import assert_close
from fastnn import _devices, cuda, nn
from fastnn import kernels as K
from fastnn._core.kernel_table import KERNELS, kernel_names
from fastnn.nn import functional as F


def needs_gpu(test):
    """The marks of every GPU test (as in test_cuda_kernels.py)."""
    test = pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA GPU")(test)
    return pytest.mark.cuda(test)


DTYPES = [np.float32, np.float64]
TOL = {np.float32: {"atol": 2e-5, "rtol": 2e-4}, np.float64: {"atol": 1e-12, "rtol": 1e-10}}
CONV_NAMES = sorted(n for n, (family, _) in KERNELS.items() if family == "conv")


def gpu(name):
    from fastnn.cuda import kernels as ck

    return getattr(ck, name)


def dev(a):
    return cuda.from_numpy(np.ascontiguousarray(a))


def host(d):
    return None if d is None else d.numpy()


# (N, C, H, W), kernel, stride, padding, dilation: odd channels, batch 1, kernels 1/3/5, strides
# 1/2/3, padding, dilation, non-square everything, and the 1x1 path that skips im2col.
CONV = [
    ((2, 3, 7, 9), (3, 3), (1, 1), (1, 1), (1, 1)),
    ((1, 1, 5, 5), (1, 1), (1, 1), (0, 0), (1, 1)),
    ((3, 5, 6, 7), (1, 1), (1, 1), (0, 0), (1, 1)),
    ((2, 3, 11, 8), (5, 3), (2, 3), (2, 1), (1, 2)),
    ((1, 2, 9, 10), (3, 2), (3, 2), (0, 1), (2, 1)),
    ((3, 5, 6, 7), (2, 4), (1, 2), (1, 2), (2, 1)),
    ((1, 7, 1, 7), (1, 3), (1, 1), (0, 4), (1, 1)),
    ((2, 33, 13, 4), (5, 1), (3, 1), (0, 0), (2, 1)),
    ((4, 3, 12, 12), (1, 1), (2, 2), (1, 0), (1, 1)),
]
C_OUTS = [1, 4, 7]

# Pooling: padding at most half the kernel (the bindings' rule).
POOL = [
    ((2, 3, 7, 9), (3, 3), (1, 1), (1, 1), (1, 1)),
    ((1, 1, 4, 4), (2, 2), (2, 2), (0, 0), (1, 1)),
    ((2, 3, 7, 5), (2, 2), (2, 2), (0, 0), (1, 1)),
    ((1, 5, 11, 8), (5, 3), (2, 3), (2, 1), (1, 1)),
    ((3, 2, 9, 10), (3, 2), (3, 1), (0, 1), (1, 1)),
    ((1, 7, 1, 7), (1, 3), (1, 2), (0, 1), (1, 1)),
    ((2, 3, 40, 33), (3, 3), (2, 2), (1, 1), (1, 1)),
]
MAX_POOL = [*POOL, ((2, 3, 9, 11), (3, 2), (2, 1), (1, 1), (2, 3))]


def _pool_input(rng, shape, dtype):
    x = rng.integers(-3, 4, shape).astype(dtype)  # many ties: the first maximum must win
    x.reshape(-1)[rng.random(x.size) < 0.05] = np.nan
    return x


# ---- raw kernels: im2col / col2im ----------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,k,s,p,d", CONV)
@needs_gpu
def test_im2col_col2im_match_the_cpu_bitwise(rng, dtype, shape, k, s, p, d):
    x = rng.standard_normal(shape).astype(dtype)
    for ones in (False, True):
        want = K.im2col(x, k, s, p, d, ones_row=ones)
        np.testing.assert_array_equal(host(gpu("im2col")(dev(x), k, s, p, d, ones_row=ones)), want)
    cols = rng.standard_normal((*want.shape[:1], want.shape[1] - 1, want.shape[2])).astype(dtype)
    got = host(gpu("col2im")(dev(cols), shape, k, s, p, d))
    np.testing.assert_array_equal(got, K.col2im(cols, shape, k, s, p, d))


# ---- raw kernels: conv2d ---------------------------------------------------------------------------


def _conv_data(rng, shape, c_out, k, dtype):
    x = rng.standard_normal(shape).astype(dtype)
    w = (rng.standard_normal((c_out, shape[1], *k)) / np.sqrt(shape[1] * k[0] * k[1])).astype(dtype)
    b = rng.standard_normal(c_out).astype(dtype)
    return x, w, b


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("c_out", C_OUTS)
@pytest.mark.parametrize("shape,k,s,p,d", CONV)
@needs_gpu
def test_conv2d_forward_backward_match_the_cpu(rng, dtype, c_out, shape, k, s, p, d):
    x, w, b = _conv_data(rng, shape, c_out, k, dtype)
    for bias in (b, None):
        want = K.conv2d(x, w, bias, s, p, d)
        got = gpu("conv2d")(dev(x), dev(w), None if bias is None else dev(bias), s, p, d)
        assert_close(host(got), want, **TOL[dtype])
    g = rng.standard_normal(want.shape).astype(dtype)
    want = K.conv2d_backward(g, x, w, s, p, d)
    got = gpu("conv2d_backward")(dev(g), dev(x), dev(w), s, p, d)
    for a, e in zip(got, want):
        assert_close(host(a), e, **TOL[dtype])
    for need in [(True, False, False), (False, True, False), (False, False, True)]:
        part = gpu("conv2d_backward")(
            dev(g), dev(x), dev(w), s, p, d,
            need_input=need[0], need_weight=need[1], need_bias=need[2],
        )  # fmt: skip
        for on, a, e in zip(need, part, want):
            assert (a is not None) == on
            if on:
                assert_close(host(a), e, **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,k", [((5, 3, 9, 7), (3, 3)), ((7, 4, 5, 6), (1, 1))])
@needs_gpu
def test_conv2d_in_many_chunks_matches_one_chunk(rng, monkeypatch, dtype, shape, k):
    """A tiny workspace makes every image a chunk of its own: dW then adds the chunks' partial
    sums, dx and y are written chunk by chunk; the results equal the one-chunk run's."""
    x, w, b = _conv_data(rng, shape, 5, k, dtype)
    p = (k[0] // 2, k[1] // 2)
    g = rng.standard_normal((shape[0], 5, shape[2], shape[3])).astype(dtype)
    one = [host(gpu("conv2d")(dev(x), dev(w), dev(b), 1, p, 1))]
    one += [host(a) for a in gpu("conv2d_backward")(dev(g), dev(x), dev(w), 1, p, 1)]
    monkeypatch.setenv("FASTNN_CONV_WORKSPACE_BYTES", "64")
    many = [host(gpu("conv2d")(dev(x), dev(w), dev(b), 1, p, 1))]
    many += [host(a) for a in gpu("conv2d_backward")(dev(g), dev(x), dev(w), 1, p, 1)]
    for a, e in zip(many, one):
        assert_close(a, e, **TOL[dtype])
    want = K.conv2d_backward(g, x, w, 1, p, 1)
    for a, e in zip(many[1:], want):
        assert_close(a, e, **TOL[dtype])


@needs_gpu
def test_conv2d_gradients_are_the_same_on_every_run(rng):
    x, w, _ = _conv_data(rng, (16, 8, 14, 14), 16, (3, 3), np.float32)
    g = rng.standard_normal((16, 16, 14, 14)).astype(np.float32)
    runs = [
        [host(a) for a in gpu("conv2d_backward")(dev(g), dev(x), dev(w), 1, 1, 1)] for _ in range(3)
    ]
    for r in runs[1:]:
        for a, e in zip(r, runs[0]):
            np.testing.assert_array_equal(a, e)


@pytest.mark.parametrize("dtype", DTYPES)
@needs_gpu
def test_conv2d_with_empty_batch_or_no_input_channels(rng, dtype):
    x, w, b = _conv_data(rng, (0, 3, 5, 5), 4, (3, 3), dtype)
    y = gpu("conv2d")(dev(x), dev(w), dev(b), 1, 1, 1)
    assert y.shape == (0, 4, 5, 5)
    dx, dw, db = gpu("conv2d_backward")(dev(np.zeros((0, 4, 5, 5), dtype)), dev(x), dev(w), 1, 1, 1)
    assert dx.shape == (0, 3, 5, 5)
    np.testing.assert_array_equal(host(dw), np.zeros_like(w))
    np.testing.assert_array_equal(host(db), np.zeros_like(b))
    x0, w0 = np.zeros((2, 0, 4, 4), dtype), np.zeros((3, 0, 3, 3), dtype)
    b0 = rng.standard_normal(3).astype(dtype)
    y = host(gpu("conv2d")(dev(x0), dev(w0), dev(b0), 1, 1, 1))
    np.testing.assert_array_equal(y, K.conv2d(x0, w0, b0, 1, 1, 1))


# ---- raw kernels: pooling ----------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,k,s,p,d", MAX_POOL)
@needs_gpu
def test_max_pool_matches_the_cpu_bitwise(rng, dtype, shape, k, s, p, d):
    x = _pool_input(rng, shape, dtype)
    want, want_idx = K.max_pool2d(x, k, s, p, d)
    got, idx = gpu("max_pool2d")(dev(x), k, s, p, d)
    np.testing.assert_array_equal(host(got), want)
    np.testing.assert_array_equal(host(idx), want_idx)
    g = rng.standard_normal(want.shape).astype(dtype)  # overlapping windows share maxima
    want_dx = K.max_pool2d_backward(g, want_idx, shape)
    for check in (True, False):
        dx = gpu("max_pool2d_backward")(dev(g), idx, shape, check=check)
        np.testing.assert_array_equal(host(dx), want_dx)


@pytest.mark.parametrize("dtype", DTYPES)
@needs_gpu
def test_max_pool_backward_adds_arbitrary_indices_in_output_order(rng, dtype):
    """Indices anywhere in the plane, many equal (more than a warp's worth per target): the sums
    are the CPU's, bit for bit, on every run."""
    shape, out = (2, 3, 5, 6), (2, 3, 17, 9)
    idx = rng.integers(0, 4, out).astype(np.int64) * 7 % 30
    g = rng.standard_normal(out).astype(dtype)
    want = K.max_pool2d_backward(g, idx, shape)
    for _ in range(2):
        np.testing.assert_array_equal(
            host(gpu("max_pool2d_backward")(dev(g), dev(idx), shape)), want
        )


@needs_gpu
def test_max_pool_backward_bad_index(rng):
    g = rng.standard_normal((1, 2, 3, 3)).astype(np.float32)
    idx = rng.integers(0, 25, (1, 2, 3, 3)).astype(np.int64)
    idx[0, 1, 2, 0] = 25
    idx[0, 1, 2, 2] = -1
    with pytest.raises(ValueError, match="holds 25 at flat position 15"):
        gpu("max_pool2d_backward")(dev(g), dev(idx), (1, 2, 5, 5))
    dx = host(gpu("max_pool2d_backward")(dev(g), dev(idx), (1, 2, 5, 5), check=False))
    keep = (idx >= 0) & (idx < 25)  # unchecked: the bad entries are dropped, nothing else
    want = K.max_pool2d_backward(g * keep, np.where(keep, idx, 0), (1, 2, 5, 5))
    np.testing.assert_array_equal(dx, want)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(2, 3, 7, 9), (1, 1, 2, 2), (3, 5, 8, 6), (1, 33, 28, 28)])
@needs_gpu
def test_max_pool_2x2_code_matches_the_cpu_bitwise(rng, dtype, shape):
    x = _pool_input(rng, shape, dtype)
    want, want_code = K.max_pool2d_2x2(x)
    got, code = gpu("max_pool2d_2x2")(dev(x))
    np.testing.assert_array_equal(host(got), want)
    np.testing.assert_array_equal(host(code), want_code)
    g = rng.standard_normal(want.shape).astype(dtype)
    dx = gpu("max_pool2d_2x2_backward")(dev(g), code, shape)
    np.testing.assert_array_equal(host(dx), K.max_pool2d_2x2_backward(g, want_code, shape))
    bad = want_code.copy()
    bad.reshape(-1)[-1] = 7
    with pytest.raises(ValueError, match=f"holds 7 at flat position {bad.size - 1}"):
        gpu("max_pool2d_2x2_backward")(dev(g), dev(bad), shape)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,k,s,p,d", POOL)
@pytest.mark.parametrize(
    "include_pad,divisor", [(True, None), (False, None), (True, 3), (False, -2)]
)
@needs_gpu
def test_avg_pool_matches_the_cpu_bitwise(rng, dtype, shape, k, s, p, d, include_pad, divisor):
    x = rng.standard_normal(shape).astype(dtype)
    want = K.avg_pool2d(x, k, s, p, include_pad, divisor)
    got = gpu("avg_pool2d")(dev(x), k, s, p, include_pad, divisor)
    np.testing.assert_array_equal(host(got), want)
    g = rng.standard_normal(want.shape).astype(dtype)
    want_dx = K.avg_pool2d_backward(g, shape, k, s, p, include_pad, divisor)
    got_dx = gpu("avg_pool2d_backward")(dev(g), shape, k, s, p, include_pad, divisor)
    np.testing.assert_array_equal(host(got_dx), want_dx)


@pytest.mark.parametrize("dtype", DTYPES)
@needs_gpu
def test_int64_index_path_matches_the_cpu(rng, monkeypatch, dtype):
    """The kernels' int64 index path (taken for tensors past 2^30 elements), forced on small
    inputs: the same bits as the CPU."""
    monkeypatch.setenv("FASTNN_WINDOW_INDEX64", "1")
    shape, k, s, p, d = CONV[3]
    x = rng.standard_normal(shape).astype(dtype)
    cols = K.im2col(x, k, s, p, d)
    np.testing.assert_array_equal(host(gpu("im2col")(dev(x), k, s, p, d)), cols)
    np.testing.assert_array_equal(
        host(gpu("col2im")(dev(cols), shape, k, s, p, d)), K.col2im(cols, shape, k, s, p, d)
    )
    x = _pool_input(rng, (2, 3, 9, 11), dtype)
    got, idx = gpu("max_pool2d")(dev(x), (3, 2), (2, 1), (1, 1), (2, 3))
    want, want_idx = K.max_pool2d(x, (3, 2), (2, 1), (1, 1), (2, 3))
    np.testing.assert_array_equal(host(got), want)
    np.testing.assert_array_equal(host(idx), want_idx)
    got, code = gpu("max_pool2d_2x2")(dev(x))
    want, want_code = K.max_pool2d_2x2(x)
    np.testing.assert_array_equal(host(got), want)
    g = rng.standard_normal(want.shape).astype(dtype)
    np.testing.assert_array_equal(
        host(gpu("max_pool2d_2x2_backward")(dev(g), code, x.shape)),
        K.max_pool2d_2x2_backward(g, want_code, x.shape),
    )
    x = rng.standard_normal((2, 3, 9, 11)).astype(dtype)
    want = K.avg_pool2d(x, 3, 2, 1, False, None)
    np.testing.assert_array_equal(host(gpu("avg_pool2d")(dev(x), 3, 2, 1, False, None)), want)
    np.testing.assert_array_equal(
        host(gpu("avg_pool2d_backward")(dev(want), x.shape, 3, 2, 1, False, None)),
        K.avg_pool2d_backward(want, x.shape, 3, 2, 1, False, None),
    )


# ---- the Tensor API on the GPU -----------------------------------------------------------------


def _cuda_backend():
    return _devices.cuda_module()


def _no_host_round_trips(monkeypatch):
    be = _cuda_backend()

    def refuse(fn, *args, **kwargs):
        raise AssertionError(f"host round trip: {getattr(fn, '__name__', fn)}")

    monkeypatch.setattr(be, "_host", refuse)


@pytest.mark.parametrize("dtype", DTYPES)
@needs_gpu
def test_functional_conv_and_pools_match_the_cpu(rng, monkeypatch, dtype):
    x = rng.standard_normal((3, 5, 13, 11)).astype(dtype)
    w = rng.standard_normal((7, 5, 3, 2)).astype(dtype) * 0.2
    b = rng.standard_normal(7).astype(dtype)
    # (op, whether it must not leave the device): the adaptive pools also run ops of other
    # families (a matmul, a host loop for uneven max windows), checked only for their results.
    ops = [
        (lambda t, W, B: F.conv2d(t, W, B, stride=(2, 1), padding=1, dilation=(1, 2)), True),
        (lambda t, W, B: F.max_pool2d(F.conv2d(t, W, B, padding=1), 2), True),
        (lambda t, W, B: F.max_pool2d(F.conv2d(t, W, None, padding=1), 3, 2, 1), True),
        (lambda t, W, B: F.avg_pool2d(F.conv2d(t, W, B), 3, 2, 1, count_include_pad=False), True),
        (lambda t, W, B: F.avg_pool2d(F.conv2d(t, W, B), 2), True),
        (lambda t, W, B: F.adaptive_max_pool2d(F.conv2d(t, W, B), (5, 5)), False),
        (lambda t, W, B: F.adaptive_avg_pool2d(F.conv2d(t, W, B), (4, 3)), False),
    ]
    for op, on_device in ops:
        res = {}
        for device in ("cpu", "cuda"):
            if device == "cuda" and on_device:
                _no_host_round_trips(monkeypatch)
            leaves = [fastnn.tensor(a, device=device, requires_grad=True) for a in (x, w, b)]
            out = op(*leaves)
            (out * out).sum().backward()
            monkeypatch.undo()
            grads = [None if t.grad is None else t.grad.cpu().numpy() for t in leaves]
            res[device] = [out.detach().cpu().numpy(), *grads]
        for got, want in zip(res["cuda"], res["cpu"]):
            if want is None:  # the bias an op does not use gets no gradient on either device
                assert got is None
                continue
            assert_close(got, want, **TOL[dtype])


@needs_gpu
def test_cnn_training_step_matches_the_cpu(rng):
    def cnn():
        fastnn.manual_seed(0)
        return nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(16 * 7 * 7, 10),
        )  # fmt: skip

    x = rng.standard_normal((9, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 9)
    res = {}
    for device in ("cpu", "cuda"):
        model = cnn().to(device)
        opt = fastnn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        for _ in range(3):
            opt.zero_grad()
            loss = F.cross_entropy(
                model(fastnn.tensor(x, device=device)), fastnn.tensor(y, device=device)
            )
            loss.backward()
            opt.step()
        res[device] = [loss.item()] + [p.detach().cpu().numpy() for p in model.parameters()]
    for got, want in zip(res["cuda"], res["cpu"]):
        assert_close(np.asarray(got), np.asarray(want), atol=1e-4, rtol=1e-3)


@needs_gpu
def test_functional_matches_torch(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 3, 10, 9))
    w = rng.standard_normal((4, 3, 3, 3)) * 0.3
    b = rng.standard_normal(4)
    tx, tw, tb = (fastnn.tensor(a, device="cuda", requires_grad=True) for a in (x, w, b))
    rx, rw, rb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out = F.avg_pool2d(F.max_pool2d(F.conv2d(tx, tw, tb, 2, 1, 1), 2, 1), 2, ceil_mode=False)
    ref = torch.nn.functional.avg_pool2d(
        torch.nn.functional.max_pool2d(torch.nn.functional.conv2d(rx, rw, rb, 2, 1, 1), 2, 1), 2
    )
    out.sum().backward()
    ref.sum().backward()
    assert_close(out.detach().cpu().numpy(), ref.detach().numpy(), atol=1e-10, rtol=1e-10)
    for t, r in ((tx, rx), (tw, rw), (tb, rb)):
        assert_close(t.grad.cpu().numpy(), r.grad.numpy(), atol=1e-10, rtol=1e-10)


# ---- bad inputs (GPU: the arrays must be device arrays to get past the first check) -----------


@needs_gpu
def test_bad_inputs_raise_before_anything_runs(rng):
    x = dev(rng.standard_normal((2, 3, 6, 6)).astype(np.float32))
    w = dev(rng.standard_normal((4, 3, 3, 3)).astype(np.float32))
    with pytest.raises(TypeError, match="float32 or float64"):
        gpu("conv2d")(dev(np.zeros((2, 3, 6, 6), np.int64)), w)
    with pytest.raises(TypeError, match="same dtype"):
        gpu("conv2d")(x, dev(np.zeros((4, 3, 3, 3))))
    with pytest.raises(ValueError, match="expects 2 input channels"):
        gpu("conv2d")(x, dev(np.zeros((4, 2, 3, 3), np.float32)))
    with pytest.raises(ValueError, match="'bias' must have shape"):
        gpu("conv2d")(x, w, dev(np.zeros(3, np.float32)))
    with pytest.raises(ValueError, match="output size"):
        gpu("conv2d")(x, w, None, 1, 0, 4)
    with pytest.raises(ValueError, match="must have 4 dimensions"):
        gpu("conv2d")(dev(np.zeros((3, 6, 6), np.float32)), w)
    with pytest.raises(ValueError, match="'grad' must have shape"):
        gpu("conv2d_backward")(dev(np.zeros((2, 4, 5, 5), np.float32)), x, w)
    with pytest.raises(TypeError, match="kernel_size"):
        gpu("max_pool2d")(x, 2.5)
    with pytest.raises(ValueError, match="at most half"):
        gpu("max_pool2d")(x, 2, 1, 2)
    with pytest.raises(ValueError, match="at most half"):
        gpu("avg_pool2d")(x, 3, 1, 2)
    with pytest.raises(ValueError, match="divisor must be not zero"):
        gpu("avg_pool2d")(x, 3, 1, 1, True, 0)
    with pytest.raises(TypeError, match="count_include_pad"):
        gpu("avg_pool2d")(x, 3, 1, 1, 1)
    _, idx = gpu("max_pool2d")(x, 2)
    g = dev(np.zeros((2, 3, 3, 3), np.float32))
    with pytest.raises(TypeError, match="int64"):
        gpu("max_pool2d_backward")(g, g, (2, 3, 6, 6))
    with pytest.raises(ValueError, match="in N and C"):
        gpu("max_pool2d_backward")(g, idx, (2, 4, 6, 6))
    with pytest.raises(ValueError, match="smaller than the 2x2 window"):
        gpu("max_pool2d_2x2")(dev(np.zeros((1, 1, 1, 5), np.float32)))
    with pytest.raises(ValueError, match="not the 2x2 pooling"):
        gpu("max_pool2d_2x2_backward")(g, dev(np.zeros((2, 3, 3, 3), np.uint8)), (2, 3, 8, 6))
    with pytest.raises(ValueError, match="'cols' must have shape"):
        gpu("col2im")(dev(np.zeros((2, 27, 35), np.float32)), (2, 3, 6, 6), 3, 1, 1)


@needs_gpu
def test_mixed_devices_are_refused_by_the_tensor_api(rng):
    x = fastnn.tensor(rng.standard_normal((1, 2, 5, 5)), device="cuda")
    w = fastnn.tensor(rng.standard_normal((3, 2, 3, 3)))
    with pytest.raises(RuntimeError, match="same device"):
        F.conv2d(x, w)


# ---- without a GPU ---------------------------------------------------------------------------------


def test_every_conv_kernel_has_a_cuda_twin():
    from fastnn.cuda import kernels as ck

    assert CONV_NAMES == sorted(
        [
            "im2col",
            "col2im",
            "conv2d",
            "conv2d_backward",
            "max_pool2d",
            "max_pool2d_backward",
            "max_pool2d_2x2",
            "max_pool2d_2x2_backward",
            "avg_pool2d",
            "avg_pool2d_backward",
        ]
    )
    for name in CONV_NAMES:
        assert name in kernel_names("cuda") and callable(getattr(ck, name))
        assert callable(getattr(_cuda_backend(), name))


def test_bindings_refuse_host_arrays_before_any_cuda_call():
    mod = cuda._module()
    if mod is None or not hasattr(mod, "conv2d"):
        pytest.skip("fastnn._cuda with the conv kernels is not built")
    x = np.zeros((1, 1, 4, 4), np.float32)
    for name, args in [
        ("im2col", (x, 3)),
        ("col2im", (np.zeros((1, 9, 4), np.float32), (1, 1, 4, 4), 3)),
        ("conv2d", (x, x)),
        ("conv2d_backward", (x, x, x)),
        ("max_pool2d", (x, 2)),
        ("max_pool2d_backward", (x, x, (1, 1, 8, 8))),
        ("max_pool2d_2x2", (x,)),
        ("max_pool2d_2x2_backward", (x, x, (1, 1, 8, 8))),
        ("avg_pool2d", (x, 2)),
        ("avg_pool2d_backward", (x, (1, 1, 8, 8), 2)),
    ]:
        with pytest.raises(
            TypeError, match=f"{name}: argument .* must be a fastnn CUDA DeviceArray"
        ):
            getattr(mod, name)(*args)


@pytest.fixture
def emulated(monkeypatch):
    """_devices.cuda running on tests/_fake_cuda.py (numpy with the bindings' rules)."""
    import _fake_cuda

    be = _cuda_backend()
    monkeypatch.setattr(be, "_mod", _fake_cuda)
    monkeypatch.setattr(be, "array_type", _fake_cuda.DeviceArray)
    monkeypatch.setitem(_devices._BY_TYPE, _fake_cuda.DeviceArray, be)
    return be


@pytest.mark.parametrize("dtype", DTYPES)
def test_backend_glue_on_emulated_bindings(rng, emulated, monkeypatch, dtype):
    """The Tensor API's conv / pooling primitives through _devices.cuda (argument forms, need
    flags, the 2x2 code path, check=False) on the numpy emulation: same results as the CPU, and
    no host round trip."""
    from fastnn._tensor import Tensor

    x = rng.standard_normal((2, 3, 9, 8)).astype(dtype)
    w = rng.standard_normal((5, 3, 3, 3)).astype(dtype) * 0.3
    b = rng.standard_normal(5).astype(dtype)
    res = {}
    for name, put in (("cpu", np.array), ("dev", emulated.from_numpy)):
        if name == "dev":
            _no_host_round_trips(monkeypatch)
        tx, tw, tb = (Tensor._make(put(a), True) for a in (x, w, b))
        h = F.conv2d(tx, tw, tb, padding=1)
        out = F.max_pool2d(h, 2).sum() + F.max_pool2d(h, 3, 2, 1).sum()
        out = out + (F.avg_pool2d(h, 3, 2, 1, count_include_pad=False) ** 2).sum()
        out = out + F.conv2d(tx, tw[:, :, :1, :1], None, stride=2).sum()
        out.backward()
        grads = [t.grad._data for t in (tx, tw, tb)]
        res[name] = [out.item()] + [g if name == "cpu" else emulated.to_numpy(g) for g in grads]
    for got, want in zip(res["dev"], res["cpu"]):
        assert_close(np.asarray(got), np.asarray(want), **TOL[dtype])
