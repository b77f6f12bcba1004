"""The pre-packed GEMM of the recurrent time loops (fastnn._C.matmul_prepacked, internal): op(b)
packed once, then reused for several row blocks of op(a), against a float64 NumPy reference on
awkward shapes, transposed operands, with bias and accumulation, every SIMD path, 1 and 2
threads; then its argument checks."""

import numpy as np
import pytest

from fastnn import _C

TOL = {np.float32: dict(rtol=1e-4, atol=1e-4), np.float64: dict(rtol=1e-11, atol=1e-11)}
# (M, K, N): ones, primes, one register tile +- 1, more than one K block (KC = 256) and more
# than one panel of columns, and the recurrent step's own shape.
SHAPES = [(1, 1, 1), (7, 33, 1), (1, 257, 7), (33, 7, 257), (13, 300, 65), (32, 256, 1024)]


def _ref(a, b, bias, c, trans_a, trans_b):
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    out = (a64.T if trans_a else a64) @ (b64.T if trans_b else b64)
    if bias is not None:
        out += bias
    if c is not None:
        out += c
    return out


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
def test_against_reference(shape, dtype, trans_a, trans_b, isa, rng):
    m, k, n = shape
    a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(dtype)
    bias = rng.standard_normal(n).astype(dtype)
    c = rng.standard_normal((m, n)).astype(dtype)
    for steps in sorted({1, 3, m}):
        for bias_arg, c_arg in ((None, None), (bias, None), (None, c), (bias, c)):
            got = _C.matmul_prepacked(
                a, b, bias=bias_arg, c=c_arg, trans_a=trans_a, trans_b=trans_b, steps=steps
            )
            assert got.dtype == dtype and got.shape == (m, n)
            want = _ref(a, b, bias_arg, c_arg, trans_a, trans_b)
            np.testing.assert_allclose(got, want, err_msg=f"steps={steps}", **TOL[dtype])


@pytest.mark.parametrize("shape", [(33, 257, 1024), (64, 1024, 256)])
def test_threads_agree_with_reference(shape, threads, rng):
    m, k, n = shape
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((n, k)).astype(np.float32)
    c = rng.standard_normal((m, n)).astype(np.float32)
    got = _C.matmul_prepacked(a, b, c=c, trans_b=True, steps=2)
    np.testing.assert_allclose(got, _ref(a, b, None, c, False, True), **TOL[np.float32])


def test_same_result_as_matmul(rng):
    """Packed once or on every call, the panels and their K order are the same (at 96 rows:
    shorter outputs may take matmul's in-place dot form, which packs nothing)."""
    from fastnn import kernels

    a = rng.standard_normal((96, 256)).astype(np.float32)
    w = rng.standard_normal((1024, 256)).astype(np.float32)
    np.testing.assert_array_equal(
        _C.matmul_prepacked(a, w, trans_b=True), kernels.matmul(a, w, trans_b=True)
    )


def test_bad_arguments():
    a, b = np.ones((3, 4), np.float32), np.ones((4, 5), np.float32)
    with pytest.raises(ValueError, match="inner sizes"):
        _C.matmul_prepacked(a, b.T.copy())
    with pytest.raises(TypeError, match="dtype"):
        _C.matmul_prepacked(a, b.astype(np.float64))
    with pytest.raises(TypeError, match="'a'"):
        _C.matmul_prepacked(a.astype(np.int32), b)
    with pytest.raises(ValueError, match="'b'"):
        _C.matmul_prepacked(a, np.ones((4, 5, 1), np.float32))
    with pytest.raises(ValueError, match="'bias'"):
        _C.matmul_prepacked(a, b, bias=np.ones(4, np.float32))
    with pytest.raises(ValueError, match="'c'"):
        _C.matmul_prepacked(a, b, c=np.ones((5, 3), np.float32))
    with pytest.raises(ValueError, match="steps"):
        _C.matmul_prepacked(a, b, steps=0)
    c = np.ones((3, 5), np.float32)
    _C.matmul_prepacked(a, b, c=c)
    assert (c == 1).all()  # c is read, never written
