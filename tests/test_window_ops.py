"""The per-element bodies of the CUDA window kernels (csrc/window_ops.h: im2col, col2im, max and
average pooling, the 2x2 code path) compiled on the host (tests/window_ops_harness.cpp calls them
once per element, as the kernels' threads do) and compared bit for bit with the CPU kernels: the
gathers add the same values in the same order as the CPU's scatters. The conv2d drivers
(csrc/conv_driver.h: chunking, GEMM shapes and strides) run on a host executor and are compared
with the CPU's conv2d. This is what tests the device arithmetic on a machine without a GPU;
tests/test_cuda_conv_pool.py runs the kernels themselves. Needs a C++ compiler; skipped where
there is none."""

import ctypes
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from fastnn import kernels as K

HERE = Path(__file__).resolve().parent
CSRC = HERE.parent / "csrc"
CXX = os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++")
pytestmark = pytest.mark.skipif(
    CXX is None or not (CSRC / "window_ops.h").exists(), reason="needs a C++ compiler and csrc/"
)

_P = ctypes.c_void_p
_I = ctypes.c_int64


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    out = tmp_path_factory.mktemp("window_ops") / "libwindow_ops.so"
    cmd = [CXX, "-O1", "-std=c++17", "-shared", "-fPIC", f"-I{CSRC}"]
    subprocess.run([*cmd, str(HERE / "window_ops_harness.cpp"), "-o", str(out)], check=True)
    so = ctypes.CDLL(str(out))
    for s in ("f32", "f64", "f32_i32", "f64_i32"):
        getattr(so, f"im2col_{s}").argtypes = [_P, _P, _P, _I]
        getattr(so, f"col2im_{s}").argtypes = [_P, _P, _P]
        getattr(so, f"max_pool_{s}").argtypes = [_P, _P, _P, _P]
        getattr(so, f"max_pool_2x2_{s}").argtypes = [_P, _P, _P, _P]
        getattr(so, f"max_pool_2x2_grad_{s}").argtypes = [_P, _P, _P, _P]
        getattr(so, f"max_pool_2x2_grad_{s}").restype = _I
        getattr(so, f"avg_pool_{s}").argtypes = [_P, _P, _P, ctypes.c_int, _I]
        getattr(so, f"avg_pool_grad_{s}").argtypes = [_P, _P, _P, ctypes.c_int, _I]
    for s in ("f32", "f64"):
        getattr(so, f"conv_forward_{s}").argtypes = [_P, _P, _P, _P, _P, _I, _I]
        getattr(so, f"conv_backward_{s}").argtypes = [_P, _P, _P, _P, _P, _P, _P, _I, _I]
    so.fits_int32.argtypes = [_P, _I]
    so.out_size.argtypes = [_I] * 5
    so.out_size.restype = _I
    return so


def _p(a):
    return None if a is None else a.ctypes.data_as(ctypes.c_void_p)


# The bodies run with the kernels' two index types: int64, and int32 (the fast path; every
# geometry here passes fits_int32).
INDEX = ["", "_i32"]


def _sfx(dtype, index=""):
    return ("f32" if np.dtype(dtype) == np.float32 else "f64") + index


def _geom(lib, shape, k, s, p, d):
    n, c, h, w = shape
    ho, wo = (lib.out_size(*a) for a in ((h, k[0], s[0], p[0], d[0]), (w, k[1], s[1], p[1], d[1])))
    g = np.array([n, c, h, w, *k, *s, *p, *d, ho, wo], np.int64)
    assert lib.fits_int32(_p(g), n * c * max(h * w, k[0] * k[1] * ho * wo))
    return g, (ho, wo)


# (N, C, H, W), kernel, stride, padding, dilation: odd channels, batch 1, kernels 1/3/5, strides
# 1/2/3, padding, dilation and non-square everything.
CONV = [
    ((2, 3, 7, 9), (3, 3), (1, 1), (1, 1), (1, 1)),
    ((1, 1, 5, 5), (1, 1), (1, 1), (0, 0), (1, 1)),
    ((2, 3, 11, 8), (5, 3), (2, 3), (2, 1), (1, 2)),
    ((1, 2, 9, 10), (3, 2), (3, 2), (0, 1), (2, 1)),
    ((3, 5, 6, 7), (2, 4), (1, 2), (1, 2), (2, 1)),
    ((1, 7, 1, 7), (1, 3), (1, 1), (0, 4), (1, 1)),
    ((2, 1, 13, 4), (5, 1), (3, 1), (0, 0), (2, 1)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,k,s,p,d", CONV)
@pytest.mark.parametrize("index", INDEX)
def test_im2col_and_col2im_match_the_cpu(lib, rng, index, dtype, shape, k, s, p, d):
    g, (ho, wo) = _geom(lib, shape, k, s, p, d)
    x = rng.standard_normal(shape).astype(dtype)
    for ones in (False, True):
        want = K.im2col(x, k, s, p, d, ones_row=ones)
        assert want.shape[2] == ho * wo
        got = np.full_like(want, np.nan)
        getattr(lib, f"im2col_{_sfx(dtype, index)}")(_p(got), _p(x), _p(g), want.shape[1])
        np.testing.assert_array_equal(got, want)
    cols = rng.standard_normal((shape[0], shape[1] * k[0] * k[1], ho * wo)).astype(dtype)
    want = K.col2im(cols, shape, k, s, p, d)
    got = np.full_like(want, np.nan)
    getattr(lib, f"col2im_{_sfx(dtype, index)}")(_p(got), _p(cols), _p(g))
    np.testing.assert_array_equal(got, want)


def test_out_size_is_the_kernels_rule(lib):
    for n, k, s, p, d in [(7, 3, 1, 1, 1), (5, 5, 2, 0, 1), (4, 3, 3, 0, 2), (9, 2, 1, 1, 10)]:
        assert lib.out_size(n, k, s, p, d) == (n + 2 * p - d * (k - 1) - 1) // s + 1
    assert lib.out_size(2, 3, 1, 0, 2) <= 0 and lib.out_size(2, 3, 2, 0, 2) <= 0


# Pooling: padding at most half the kernel (the bindings' rule); average pooling has no dilation.
POOL = [
    ((2, 3, 7, 9), (3, 3), (1, 1), (1, 1), (1, 1)),
    ((1, 1, 4, 4), (2, 2), (2, 2), (0, 0), (1, 1)),
    ((2, 3, 7, 5), (2, 2), (2, 2), (0, 0), (1, 1)),
    ((1, 5, 11, 8), (5, 3), (2, 3), (2, 1), (1, 1)),
    ((3, 2, 9, 10), (3, 2), (3, 1), (0, 1), (1, 1)),
    ((1, 7, 1, 7), (1, 3), (1, 2), (0, 1), (1, 1)),
]


def _pool_input(rng, shape, dtype):
    x = rng.integers(-3, 4, shape).astype(dtype)  # many ties: the first maximum must win
    x.reshape(-1)[rng.random(x.size) < 0.05] = np.nan
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,k,s,p,d", [*POOL, ((2, 3, 9, 11), (3, 2), (2, 1), (1, 1), (2, 3))])
@pytest.mark.parametrize("index", INDEX)
def test_max_pool_matches_the_cpu(lib, rng, index, dtype, shape, k, s, p, d):
    g, (_ho, _wo) = _geom(lib, shape, k, s, p, d)
    x = _pool_input(rng, shape, dtype)
    want, want_idx = K.max_pool2d(x, k, s, p, d)
    got, idx = np.full_like(want, 7.0), np.full(want.shape, -5, np.int64)
    getattr(lib, f"max_pool_{_sfx(dtype, index)}")(_p(got), _p(idx), _p(x), _p(g))
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(idx, want_idx)


def test_max_pool_window_outside_the_input_is_minus_inf(lib):
    """Only a large dilation makes a window whose every tap misses the input: -inf, and the index
    of its first tap past the padding (torch's rule); nothing outside the plane is read."""
    x = np.arange(9 * 9, dtype=np.float64).reshape(1, 1, 9, 9)
    g, (ho, wo) = _geom(lib, x.shape, (2, 2), (1, 1), (1, 1), (10, 10))
    assert (ho, wo) == (1, 1)
    y, idx = np.zeros((1, 1, 1, 1)), np.zeros((1, 1, 1, 1), np.int64)
    lib.max_pool_f64(_p(y), _p(idx), _p(x), _p(g))
    assert y[0, 0, 0, 0] == -np.inf and idx[0, 0, 0, 0] == 9 * 9 + 9
    y, idx = K.max_pool2d(x, 2, 1, 1, 10)  # the CPU kernel shares the rule
    assert y[0, 0, 0, 0] == -np.inf and idx[0, 0, 0, 0] == 9 * 9 + 9


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(2, 3, 7, 9), (1, 1, 2, 2), (3, 5, 8, 6), (1, 2, 5, 3)])
@pytest.mark.parametrize("index", INDEX)
def test_max_pool_2x2_code_matches_the_cpu(lib, rng, index, dtype, shape):
    g, _ = _geom(lib, shape, (2, 2), (2, 2), (0, 0), (1, 1))
    x = _pool_input(rng, shape, dtype)
    want, want_code = K.max_pool2d_2x2(x)
    got, code = np.full_like(want, 7.0), np.full(want.shape, 9, np.uint8)
    getattr(lib, f"max_pool_2x2_{_sfx(dtype, index)}")(_p(got), _p(code), _p(x), _p(g))
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(code, want_code)
    dy = rng.standard_normal(want.shape).astype(dtype)
    want_dx = K.max_pool2d_2x2_backward(dy, code, shape)
    dx = np.full(shape, np.nan, dtype)
    assert (
        getattr(lib, f"max_pool_2x2_grad_{_sfx(dtype, index)}")(_p(dx), _p(dy), _p(code), _p(g))
        == 0
    )
    np.testing.assert_array_equal(dx, want_dx)
    code.reshape(-1)[-1] = 4  # a bad code is reported (once per element of its window)
    assert (
        getattr(lib, f"max_pool_2x2_grad_{_sfx(dtype, index)}")(_p(dx), _p(dy), _p(code), _p(g))
        == 4
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,k,s,p,d", POOL)
@pytest.mark.parametrize(
    "include_pad,divisor", [(True, None), (False, None), (True, 3), (False, -2)]
)
@pytest.mark.parametrize("index", INDEX)
def test_avg_pool_matches_the_cpu(lib, rng, index, dtype, shape, k, s, p, d, include_pad, divisor):
    g, _ = _geom(lib, shape, k, s, p, d)
    x = rng.standard_normal(shape).astype(dtype)
    want = K.avg_pool2d(x, k, s, p, include_pad, divisor)
    got = np.full_like(want, np.nan)
    div = divisor or 0
    getattr(lib, f"avg_pool_{_sfx(dtype, index)}")(_p(got), _p(x), _p(g), include_pad, div)
    np.testing.assert_array_equal(got, want)
    dy = rng.standard_normal(want.shape).astype(dtype)
    want_dx = K.avg_pool2d_backward(dy, shape, k, s, p, include_pad, divisor)
    dx = np.full(shape, np.nan, dtype)
    getattr(lib, f"avg_pool_grad_{_sfx(dtype, index)}")(_p(dx), _p(dy), _p(g), include_pad, div)
    np.testing.assert_array_equal(dx, want_dx)


# Driver budgets: everything in one chunk, and one image per chunk (dW then adds the chunks).
BUDGETS = [1 << 40, 1]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("budget", BUDGETS)
@pytest.mark.parametrize("c_out", [1, 4])
@pytest.mark.parametrize("shape,k,s,p,d", [*CONV, ((3, 5, 6, 7), (1, 1), (1, 1), (0, 0), (1, 1))])
def test_conv_driver_matches_the_cpu(lib, rng, dtype, budget, c_out, shape, k, s, p, d):
    g, (ho, wo) = _geom(lib, shape, k, s, p, d)
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((c_out, shape[1], *k)).astype(dtype)
    b = rng.standard_normal(c_out).astype(dtype)
    tol = {"atol": 1e-4, "rtol": 1e-4} if dtype == np.float32 else {"atol": 1e-12, "rtol": 1e-12}
    sfx = _sfx(dtype)
    for bias in (b, None):
        y = np.full((shape[0], c_out, ho, wo), np.nan, dtype)
        getattr(lib, f"conv_forward_{sfx}")(_p(y), _p(x), _p(w), _p(bias), _p(g), c_out, budget)
        np.testing.assert_allclose(y, K.conv2d(x, w, bias, s, p, d), **tol)
    dy = rng.standard_normal((shape[0], c_out, ho, wo)).astype(dtype)
    want = K.conv2d_backward(dy, x, w, s, p, d)
    for need in [(True, True, True), (True, False, False), (False, True, False)]:
        outs = [np.full(a.shape, np.nan, dtype) if on else None for on, a in zip(need, want)]
        fn = getattr(lib, f"conv_backward_{sfx}")
        fn(*map(_p, outs), _p(dy), _p(x), _p(w), _p(g), c_out, budget)
        for got, ref in zip(outs, want):
            if got is not None:
                np.testing.assert_allclose(got, ref, **tol)


@pytest.mark.parametrize("budget", BUDGETS)
def test_conv_driver_empty_batch_and_no_channels(lib, rng, budget):
    """N = 0: zero dW and db; C = 0: y is the bias."""
    g, _ = _geom(lib, (0, 3, 5, 5), (3, 3), (1, 1), (1, 1), (1, 1))
    x, w = np.zeros((0, 3, 5, 5)), rng.standard_normal((4, 3, 3, 3))
    dx, dw, db = np.zeros((0, 3, 5, 5)), np.full(w.shape, np.nan), np.full(4, np.nan)
    lib.conv_backward_f64(
        _p(dx), _p(dw), _p(db), _p(np.zeros((0, 4, 5, 5))), _p(x), _p(w), _p(g), 4, budget
    )
    assert not dw.any() and not db.any()
    g, _ = _geom(lib, (2, 0, 4, 4), (3, 3), (1, 1), (1, 1), (1, 1))
    x, w, b = np.zeros((2, 0, 4, 4)), np.zeros((3, 0, 3, 3)), rng.standard_normal(3)
    y = np.full((2, 3, 4, 4), np.nan)
    lib.conv_forward_f64(_p(y), _p(x), _p(w), _p(b), _p(g), 3, budget)
    np.testing.assert_array_equal(y, K.conv2d(x, w, b, 1, 1, 1))


def test_fits_int32_refuses_what_would_overflow(lib):
    """The int32 fast path is taken only when every index and coordinate stays below 2^30."""

    def fits(shape, k, s, p, d, elems):
        n, c, h, w = shape
        ho = (h + 2 * p - d * (k - 1) - 1) // s + 1
        wo = (w + 2 * p - d * (k - 1) - 1) // s + 1
        g = np.array([n, c, h, w, k, k, s, s, p, p, d, d, ho, wo], np.int64)
        return bool(lib.fits_int32(_p(g), elems))

    assert fits((256, 32, 28, 28), 3, 1, 1, 1, 256 * 288 * 784)
    assert not fits((256, 32, 28, 28), 3, 1, 1, 1, 1 << 30)  # the patch matrix is too big
    assert not fits((2048, 512, 32, 32), 1, 1, 0, 1, 0)  # the input itself is 2^30 elements
    assert not fits((1, 1, 8, 8), 3, 1, (1 << 30) - 8, 1, 64)  # a huge padding
    # a tall plane: its output coordinates (o*s, up to about 2H) must stay below 2^30 too
    assert fits((1, 1, 1 << 28, 1), 3, 1, 1, 1, 64)
    assert not fits((1, 1, (1 << 29) + 10, 1), 3, 1, 1, 1, 64)
