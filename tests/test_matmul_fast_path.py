"""The tiny-product fast paths: _C.matmul_ab (matmul(a, b, bias=...) without keyword parsing,
the CPU backend's call) and Tensor @ Tensor going straight to it when nothing records. Same
results and the same error messages as the full paths."""

import re

import numpy as np
import pytest

import fastnn
import reference
from conftest import assert_close
from fastnn import _C, _devices


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("m", "k", "n"), [(1, 1, 1), (4, 4, 4), (7, 33, 5)])
def test_matmul_ab_equals_matmul(rng, dtype, m, k, n):
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)[:, ::-1]  # strides are read as by matmul
    got = _C.matmul_ab(a, b)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, _C.matmul(a, b))
    assert_close(got, reference.matmul(a, b), rtol=1e-5, atol=1e-5)
    bias = rng.standard_normal(n).astype(dtype)
    with_bias = _C.matmul_ab(a, b, bias)
    np.testing.assert_array_equal(with_bias, _C.matmul(a, b, bias=bias))
    assert_close(with_bias, reference.matmul(a, b) + bias, rtol=1e-5, atol=1e-5)


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
    bad_bias = [np.ones(3, np.float32), np.ones(2, np.float64), np.ones((1, 2), np.float32)]
    for bias in bad_bias:
        with pytest.raises((TypeError, ValueError)) as full:
            _C.matmul(a, np.ones((3, 2), np.float32), bias=bias)
        with pytest.raises(full.type, match=re.escape(str(full.value))):
            _C.matmul_ab(a, np.ones((3, 2), np.float32), bias)


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


@pytest.mark.parametrize("dtype", [fastnn.float32, fastnn.float64])
def test_recorded_tensor_matmul_gradients_and_version_check(dtype):
    a = fastnn.randn(3, 5, dtype=dtype, requires_grad=True)
    b = fastnn.randn(5, 4, dtype=dtype, requires_grad=True)
    y = a @ b
    assert y.grad_fn.name() == "MmBackward0"
    g = np.random.default_rng(0).standard_normal((3, 4))
    y.backward(fastnn.tensor(g, dtype=dtype))
    an, bn = a.detach().numpy().astype(np.float64), b.detach().numpy().astype(np.float64)
    assert_close(a.grad.numpy(), g @ bn.T, rtol=1e-5, atol=1e-5)
    assert_close(b.grad.numpy(), an.T @ g, rtol=1e-5, atol=1e-5)
    # an input changed in place after recording: backward refuses, as for every saved input
    w = fastnn.randn(5, 4, dtype=dtype)
    z = a @ w
    with fastnn.no_grad():
        w.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()
    x64 = fastnn.randn(4, 3, dtype=fastnn.float64, requires_grad=True)
    w64 = fastnn.randn(3, 2, dtype=fastnn.float64, requires_grad=True)
    assert fastnn.autograd.gradcheck(lambda s, t: s @ t, (x64, w64))


@pytest.mark.parametrize("dtype", [fastnn.float32, fastnn.float64])
@pytest.mark.parametrize("batch", [(), (3,), (2, 3)])
def test_gradient_of_a_transposed_operand_needs_no_copy(dtype, batch, rng, monkeypatch):
    """x @ w.T and q @ k.transpose(-2, -1): the gradients of w and k are made transposed and
    swapped back, so the transpose's backward hands the leaf a whole view of a product no one
    else holds, which becomes its .grad without a copy; the values are those of the gradient
    of a contiguous copy of the transposed operand, and torch's."""
    torch = pytest.importorskip("torch")
    np_dt = np.float32 if dtype == fastnn.float32 else np.float64
    x = rng.standard_normal((*batch, 7, 33)).astype(np_dt)
    w = rng.standard_normal((*batch, 5, 33)).astype(np_dt)
    g = rng.standard_normal((*batch, 7, 5)).astype(np_dt)
    fx, fw = (fastnn.tensor(a, requires_grad=True) for a in (x, w))
    fg = fastnn.tensor(g)
    copies = []
    plain_copy = _devices.cpu.copy
    monkeypatch.setattr(_devices.cpu, "copy", lambda a: copies.append(a.shape) or plain_copy(a))
    (fx @ fw.transpose(-2, -1)).backward(fg)
    assert copies == []
    monkeypatch.undo()
    wt = fastnn.tensor(np.ascontiguousarray(w.swapaxes(-1, -2)), requires_grad=True)
    x2 = fastnn.tensor(x, requires_grad=True)
    (x2 @ wt).backward(fastnn.tensor(g))
    assert fw.grad._data.flags.c_contiguous and fx.grad._data.flags.c_contiguous
    tol = 1e-5 if dtype == fastnn.float32 else 1e-12
    assert_close(fw.grad.numpy(), wt.grad.numpy().swapaxes(-1, -2), rtol=tol, atol=tol)
    assert_close(fx.grad.numpy(), x2.grad.numpy(), rtol=tol, atol=tol)
    # the transposed view on the left: a.T @ b
    fa = fastnn.tensor(x, requires_grad=True)
    fb = fastnn.tensor(rng.standard_normal((*batch, 7, 4)).astype(np_dt), requires_grad=True)
    gb = rng.standard_normal((*batch, 33, 4)).astype(np_dt)
    (fa.transpose(-2, -1) @ fb).backward(fastnn.tensor(gb))
    assert fa.grad._data.flags.c_contiguous
    ta = torch.tensor(x, requires_grad=True)
    tb = torch.tensor(fb.detach().numpy(), requires_grad=True)
    (ta.transpose(-2, -1) @ tb).backward(torch.tensor(gb))
    assert_close(fa.grad.numpy(), ta.grad.numpy(), rtol=tol, atol=tol)
    assert_close(fb.grad.numpy(), tb.grad.numpy(), rtol=tol, atol=tol)
