"""The tiny-product fast paths: _C.matmul_ab (matmul(a, b) without keyword parsing, the CPU
backend's call) and Tensor @ Tensor going straight to it when nothing records. Same results and
the same error messages as the full paths."""

import re

import numpy as np
import pytest

import fastnn
import reference
from conftest import assert_close
from fastnn import _C


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("m", "k", "n"), [(1, 1, 1), (4, 4, 4), (7, 33, 5)])
def test_matmul_ab_equals_matmul(rng, dtype, m, k, n):
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)[:, ::-1]  # strides are read as by matmul
    got = _C.matmul_ab(a, b)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, _C.matmul(a, b))
    assert_close(got, reference.matmul(a, b), rtol=1e-5, atol=1e-5)


def test_matmul_ab_errors_match_matmul():
    a = np.ones((2, 3), np.float32)
    cases = [
        ([[1.0]], a),
        (a, np.ones((4, 2), np.float32)),
        (a, np.ones((3, 2), np.float64)),
        (np.ones((2, 3), np.int64), np.ones((3, 2), np.int64)),
        (np.ones(3, np.float32), a),
    ]
    for x, y in cases:
        with pytest.raises((TypeError, ValueError)) as full:
            _C.matmul(x, y)
        with pytest.raises(full.type, match=re.escape(str(full.value))):
            _C.matmul_ab(x, y)


@pytest.mark.parametrize("dtype", [fastnn.float32, fastnn.float64])
def test_tensor_matmul_fast_path_and_recording_agree(dtype):
    a = fastnn.randn(4, 4, dtype=dtype)
    b = fastnn.randn(4, 4, dtype=dtype)
    plain = a @ b
    assert plain.grad_fn is None and not plain.requires_grad and plain.dtype == dtype
    ar = a.detach().requires_grad_()
    rec = ar @ b
    assert rec.grad_fn is not None
    np.testing.assert_array_equal(plain.numpy(), rec.detach().numpy())
    with fastnn.no_grad():
        off = ar @ b
    assert off.grad_fn is None and not off.requires_grad
    np.testing.assert_array_equal(off.numpy(), plain.numpy())


def test_tensor_matmul_other_dtypes_take_the_general_path():
    a = fastnn.tensor(np.arange(6).reshape(2, 3))
    b = fastnn.tensor(np.arange(6).reshape(3, 2))
    np.testing.assert_array_equal(
        (a @ b).numpy(), np.arange(6).reshape(2, 3) @ np.arange(6).reshape(3, 2)
    )
