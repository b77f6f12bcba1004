"""max_pool*_with_indices, adaptive_max_pool1d (and the *_with_indices forms), max_unpool1d/2d
and their modules against torch: values, indices, gradients, output_size handling and errors."""

import numpy as np
import pytest

import fastnn
from conftest import assert_close

torch = pytest.importorskip("torch")
F = fastnn.nn.functional
TF = torch.nn.functional


def _pair(shape, seed=0, grad=True):
    a = np.random.default_rng(seed).standard_normal(shape)
    return fastnn.tensor(a, requires_grad=grad), torch.tensor(a, requires_grad=grad)


def _check(out, ref, x, tx, tol=1e-12):
    assert_close(out.detach().numpy(), ref.detach().numpy(), atol=tol, rtol=tol)
    w = np.random.default_rng(9).standard_normal(tuple(ref.shape))
    (out * fastnn.tensor(w)).sum().backward()
    (ref * torch.tensor(w)).sum().backward()
    assert_close(x.grad.numpy(), tx.grad.numpy(), atol=tol, rtol=tol, name="grad")


@pytest.mark.parametrize(
    "shape,args",
    [((2, 3, 7, 6), (2,)), ((1, 5, 9, 8), (3, 2, 1)), ((3, 7, 5), (2, 1))],
)
def test_max_pool2d_with_indices(shape, args):
    x, tx = _pair(shape)
    (y, i), (ty, ti) = F.max_pool2d_with_indices(x, *args), TF.max_pool2d_with_indices(tx, *args)
    np.testing.assert_array_equal(i.numpy(), ti.numpy())
    assert i.dtype == fastnn.int64
    _check(y, ty, x, tx)


def test_max_pool1d_with_indices():
    x, tx = _pair((2, 3, 11))
    (y, i), (ty, ti) = (
        F.max_pool1d_with_indices(x, 3, 2, 1),
        TF.max_pool1d_with_indices(tx, 3, 2, 1),
    )
    np.testing.assert_array_equal(i.numpy(), ti.numpy())
    _check(y, ty, x, tx)


@pytest.mark.parametrize(
    "shape,size", [((2, 3, 7), 3), ((3, 10), 4), ((1, 1, 5), 5), ((2, 4, 9), 1)]
)
def test_adaptive_max_pool1d(shape, size):
    x, tx = _pair(shape)
    y, ty = F.adaptive_max_pool1d(x, size), TF.adaptive_max_pool1d(tx, size)
    _check(y, ty, x, tx)
    (_, i), (_, ti) = F.adaptive_max_pool1d(x, size, True), TF.adaptive_max_pool1d(tx, size, True)
    np.testing.assert_array_equal(i.numpy(), ti.numpy())
    (_, i) = F.adaptive_max_pool1d_with_indices(x, size)
    np.testing.assert_array_equal(i.numpy(), ti.numpy())


def test_adaptive_max_pool2d_with_indices():
    x, tx = _pair((2, 3, 7, 5))
    (y, i), (ty, ti) = (
        F.adaptive_max_pool2d_with_indices(x, (3, 2)),
        TF.adaptive_max_pool2d_with_indices(tx, (3, 2)),
    )
    np.testing.assert_array_equal(i.numpy(), ti.numpy())
    _check(y, ty, x, tx)


def test_adaptive_max_pool1d_module():
    m, tm = fastnn.nn.AdaptiveMaxPool1d(3), torch.nn.AdaptiveMaxPool1d(3)
    assert repr(m) == repr(tm)
    x, tx = _pair((2, 3, 8))
    _check(m(x), tm(tx), x, tx)
    _, i = fastnn.nn.AdaptiveMaxPool1d(3, return_indices=True)(x)
    np.testing.assert_array_equal(i.numpy(), torch.nn.AdaptiveMaxPool1d(3, True)(tx)[1].numpy())


def test_adaptive_max_pool1d_bad_input():
    with pytest.raises(RuntimeError, match="Expected 2D or 3D tensor"):
        F.adaptive_max_pool1d(fastnn.ones(2, 3, 4, 5), 2)


@pytest.mark.parametrize(
    "shape,k,s,p,size",
    [
        ((2, 3, 6, 8), 2, None, 0, None),
        ((1, 5, 7, 9), 3, 2, 1, None),
        ((2, 3, 7, 5), 2, None, 0, "input"),
        ((3, 6, 6), (2, 3), (2, 3), 0, None),
    ],
)
def test_max_unpool2d(shape, k, s, p, size):
    a = np.random.default_rng(1).standard_normal(shape)
    y, i = F.max_pool2d(fastnn.tensor(a), k, s, p, return_indices=True)
    ty, ti = TF.max_pool2d(torch.tensor(a), k, s, p, return_indices=True)
    x = fastnn.tensor(y.numpy(), requires_grad=True)
    tx = torch.tensor(ty.numpy(), requires_grad=True)
    osz = shape[-2:] if size == "input" else None
    out = F.max_unpool2d(x, i, k, s, p, output_size=osz)
    ref = TF.max_unpool2d(tx, ti, k, s, p, output_size=osz)
    _check(out, ref, x, tx)


@pytest.mark.parametrize("shape,k,s,p", [((2, 3, 9), 2, None, 0), ((3, 11), 3, 2, 1)])
def test_max_unpool1d(shape, k, s, p):
    a = np.random.default_rng(2).standard_normal(shape)
    y, i = F.max_pool1d(fastnn.tensor(a), k, s, p, return_indices=True)
    ty, ti = TF.max_pool1d(torch.tensor(a), k, s, p, return_indices=True)
    x = fastnn.tensor(y.numpy(), requires_grad=True)
    tx = torch.tensor(ty.numpy(), requires_grad=True)
    _check(F.max_unpool1d(x, i, k, s, p), TF.max_unpool1d(tx, ti, k, s, p), x, tx)
    osz = [shape[-1]]
    out = F.max_unpool1d(x.detach(), i, k, s, p, output_size=osz)
    ref = TF.max_unpool1d(tx.detach(), ti, k, s, p, output_size=osz)
    assert_close(out.numpy(), ref.numpy(), atol=0, rtol=0)


def test_max_unpool_modules_and_reprs():
    for cls, args in [
        ("MaxUnpool2d", (2,)),
        ("MaxUnpool2d", ((2, 3), 1, 1)),
        ("MaxUnpool1d", (3, 2, 1)),
    ]:
        m, tm = getattr(fastnn.nn, cls)(*args), getattr(torch.nn, cls)(*args)
        assert repr(m) == repr(tm)
        assert (m.kernel_size, m.stride, m.padding) == (tm.kernel_size, tm.stride, tm.padding)
    a = np.random.default_rng(3).standard_normal((1, 2, 5, 5))
    y, i = fastnn.nn.MaxPool2d(2, return_indices=True)(fastnn.tensor(a))
    ty, ti = torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(a))
    out = fastnn.nn.MaxUnpool2d(2)(y, i, output_size=[1, 2, 5, 5])
    ref = torch.nn.MaxUnpool2d(2)(ty, ti, output_size=[1, 2, 5, 5])
    assert_close(out.numpy(), ref.numpy(), atol=0, rtol=0)


def test_max_unpool_errors():
    y, i = F.max_pool2d(fastnn.randn(1, 2, 4, 4), 2, return_indices=True)
    with pytest.raises(
        RuntimeError, match=r"Found an invalid max index: 100 \(output volumes are of size 4x4\)"
    ):
        F.max_unpool2d(y, i * 0 + 100, 2)
    with pytest.raises(RuntimeError, match="Found an invalid max index: -1"):
        F.max_unpool2d(y, i * 0 - 1, 2)
    with pytest.raises(
        ValueError, match=r'invalid output_size "\(9, 9\)" \(dim 0 must be between 2 and 6\)'
    ):
        F.max_unpool2d(y, i, 2, output_size=(9, 9))
    with pytest.raises(
        ValueError, match="sequence containing 2 or 4 elements, but it has a length of '3'"
    ):
        F.max_unpool2d(y, i, 2, output_size=(4, 4, 4))
    with pytest.raises(RuntimeError, match="Expected shape of indices to be same"):
        F.max_unpool2d(y, i[:, :1], 2)
    with pytest.raises(RuntimeError, match="indices should be type int64"):
        F.max_unpool2d(y, i.float(), 2)
    with pytest.raises(RuntimeError, match="Expected 3D or 4D input"):
        F.max_unpool2d(fastnn.ones(5), fastnn.zeros(5, dtype=fastnn.int64), 2)
