"""The GEMM's blocking derived from the caches read at start-up (gemm_config, show_config), the
FMA-peak probe the benchmarks use, and products with K <= 34 (the classifier layer's K = 10
among them: one K block, many partial tiles) against the float64 reference on every SIMD path,
thread count, operand layout and epilogue."""

import numpy as np
import pytest

import fastnn
import reference
from conftest import assert_close
from fastnn import _C
from fastnn import kernels as K

TOL = {np.float32: dict(rtol=2e-5, atol=2e-5), np.float64: dict(rtol=1e-12, atol=1e-12)}


def _operands(rng, m, k, n, dtype, trans_a, trans_b):
    a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(dtype)
    return a, b


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    ("m", "k", "n"), [(17, 1, 33), (257, 10, 256), (33, 7, 300), (300, 32, 17)]
)
@pytest.mark.parametrize(("trans_a", "trans_b"), [(False, False), (True, False), (False, True)])
def test_small_k_matches_reference(isa, threads, rng, dtype, m, k, n, trans_a, trans_b):
    a, b = _operands(rng, m, k, n, dtype, trans_a, trans_b)
    bias = rng.standard_normal(n).astype(dtype)
    got = K.matmul(a, b, trans_a=trans_a, trans_b=trans_b, bias=bias)
    want = reference.matmul(a, b, trans_a=trans_a, trans_b=trans_b, bias=bias)
    assert_close(got, want, **TOL[dtype], name=f"{isa} {m}x{k}x{n}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_small_k_alpha_beta_and_nan_out(isa, rng, dtype):
    a, b = _operands(rng, 40, 10, 70, dtype, False, False)
    out = rng.standard_normal((40, 70)).astype(dtype)
    want = reference.matmul(a, b, alpha=0.5, beta=-2.0, out=out)
    K.matmul(a, b, alpha=0.5, beta=-2.0, out=out)
    assert_close(out, want, **TOL[dtype])
    out[:] = np.nan  # beta == 0 never reads out
    K.matmul(a, b, out=out)
    assert_close(out, reference.matmul(a, b), **TOL[dtype])


@pytest.mark.parametrize("k", [31, 32, 33, 34])
def test_k_boundary_and_strided_views(isa, rng, k):
    # non-contiguous operands read through their strides
    a = rng.standard_normal((50, 2 * k)).astype(np.float32)[:, ::2]
    b = rng.standard_normal((k, 3 * 40)).astype(np.float32)[:, ::3]
    assert_close(K.matmul(a, b), reference.matmul(a, b), **TOL[np.float32])


def test_batched_small_k(rng):
    a = rng.standard_normal((3, 20, 5))
    b = rng.standard_normal((3, 5, 40))
    assert_close(K.matmul(a, b), reference.matmul(a, b), **TOL[np.float64])


def test_blocking_is_derived_from_the_caches():
    cfg = _C.gemm_config()
    assert cfg["cache_source"] in ("cpuid", "sysfs", "none")
    for name in ("float32", "float64"):
        k = cfg[name]
        size = 4 if name == "float32" else 8
        assert k["MC"] % k["MR"] == 0 and k["NC"] % k["NR"] == 0
        assert 128 <= k["KC"] <= 512 or cfg["l1d"] == 0
        if cfg["l1d"]:
            # the B micro-panel fits L1d, the A block a quarter of L2, the B block of L3's share
            assert k["KC"] * k["NR"] * size <= cfg["l1d"] or k["KC"] == 128
            assert k["MC"] * k["KC"] * size <= cfg["l2"] // 4 or k["MC"] == 4 * k["MR"]
            if cfg["l3_per_core"]:
                assert (
                    k["KC"] * k["NC"] * size <= cfg["l3_per_core"] // 4 or k["NC"] == 16 * k["NR"]
                )
        # deeper K blocks for a C past the L2: an A block of ten register tiles in a quarter of it
        assert k["deep_KC"] >= k["KC"] and k["deep_MC"] % k["MR"] == 0
        if cfg["l2"] and k["deep_KC"] > k["KC"]:
            assert k["deep_KC"] <= 1024 and k["deep_KC"] % 16 == 0
            assert 10 * k["MR"] * k["deep_KC"] * size <= cfg["l2"] // 4
            assert k["deep_MC"] * k["deep_KC"] * size <= cfg["l2"] // 4
    text = fastnn._devices.config.config()
    assert "gemm_blocking" in text and "caches" in text


def test_fma_peak_is_measured_and_validates():
    assert _C.fma_peak_gflops("float32", 0.01) > 0
    assert _C.fma_peak_gflops("float64", 0.01) > 0
    with pytest.raises(ValueError, match="dtype must be 'float32' or 'float64', got 'int8'"):
        _C.fma_peak_gflops("int8")
    with pytest.raises(ValueError, match="seconds must be in"):
        _C.fma_peak_gflops("float32", 0.0)
