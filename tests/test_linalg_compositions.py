"""fastnn.linalg's matrix_exp, cond, vander, tensorinv, tensorsolve and householder_product (and
torch.matrix_exp / orgqr, Tensor.matrix_exp / orgqr): values against torch on awkward shapes in
float32 and float64, gradients against finite differences in float64 and against torch's, and
torch's exceptions for bad input."""

import math

import numpy as np
import pytest

import fastnn
from conftest import assert_close
from fastnn import linalg as LA
from fastnn.autograd import gradcheck

torch = pytest.importorskip("torch")

FLOATS = (np.float32, np.float64)
TOL = {np.float32: (1e-5, 2e-5), np.float64: (1e-12, 1e-11)}  # (atol, rtol) relative to scale


# ---- matrix_exp ---------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize(
    "shape,scale", [((1, 1), 5.0), ((7, 7), 1.0), ((2, 33, 33), 0.3), ((2, 1, 4, 4), 20.0)]
)
def test_matrix_exp_matches_torch(dtype, shape, scale):
    # scale 20 needs several squarings; 0.3 * 33 x 33 none
    a = (scale * np.random.default_rng(1).standard_normal(shape)).astype(dtype)
    x = LA.matrix_exp(fastnn.tensor(a))
    y = torch.linalg.matrix_exp(torch.tensor(a)).numpy()
    assert x.dtype == fastnn.tensor(a).dtype
    atol, rtol = TOL[dtype]
    big = np.abs(y).max(axis=(-2, -1), keepdims=True)
    assert_close(x.numpy() / big, y / big, atol=atol * 10, rtol=rtol * 10)
    assert_close(fastnn.matrix_exp(fastnn.tensor(a)).numpy(), x.numpy(), atol=0, rtol=0)
    assert_close(fastnn.tensor(a).matrix_exp().numpy(), x.numpy(), atol=0, rtol=0)


def test_matrix_exp_known_values():
    # exp of a nilpotent matrix is a finite sum; exp of a rotation generator is the rotation
    n = np.array([[0.0, 1.0, 2.0], [0.0, 0.0, 3.0], [0.0, 0.0, 0.0]])
    expected = np.eye(3) + n + n @ n / 2
    assert_close(LA.matrix_exp(fastnn.tensor(n)).numpy(), expected, atol=1e-15, rtol=1e-15)
    t = 0.7
    r = LA.matrix_exp(fastnn.tensor([[0.0, -t], [t, 0.0]], dtype=fastnn.float64)).numpy()
    rot = [[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]]
    assert_close(r, rot, atol=1e-15, rtol=1e-15)
    assert LA.matrix_exp(fastnn.zeros(2, 0, 0)).shape == (2, 0, 0)


def test_matrix_exp_gradcheck_and_torch_grad():
    rng = np.random.default_rng(2)
    a = fastnn.tensor(rng.standard_normal((2, 4, 4)), requires_grad=True)
    assert gradcheck(LA.matrix_exp, (a,))
    big = 3 * rng.standard_normal((3, 3))  # the backward's block matrix is squared too
    fa = fastnn.tensor(big, requires_grad=True)
    assert gradcheck(LA.matrix_exp, (fa,), rtol=1e-5)
    g = rng.standard_normal((3, 3))
    ta = torch.tensor(big, requires_grad=True)
    LA.matrix_exp(fa).backward(fastnn.tensor(g))
    torch.linalg.matrix_exp(ta).backward(torch.tensor(g))
    assert_close(fa.grad.numpy(), ta.grad.numpy(), atol=1e-12, rtol=1e-11)


def test_matrix_exp_bad_input():
    with pytest.raises(RuntimeError, match=r"square matrices.*3 by 4"):
        LA.matrix_exp(fastnn.ones(3, 4))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        LA.matrix_exp(fastnn.ones(3))
    with pytest.raises(RuntimeError, match="floating point"):
        LA.matrix_exp(fastnn.ones(3, 3, dtype=fastnn.int64))
    with pytest.raises(TypeError, match="must be Tensor"):
        LA.matrix_exp([[1.0]])


# ---- cond ---------------------------------------------------------------------------------------

ORDERS = [None, 2, -2, "fro", "nuc", 1, -1, math.inf, -math.inf]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("p", ORDERS)
def test_cond_matches_torch(dtype, p):
    rng = np.random.default_rng(3)
    for shape in [(1, 1), (2, 7, 7)]:
        a = rng.standard_normal(shape).astype(dtype)
        x = LA.cond(fastnn.tensor(a), p).numpy()
        y = torch.linalg.cond(torch.tensor(a), p).numpy()
        atol, rtol = TOL[dtype]
        assert_close(x, y, atol=atol, rtol=rtol * 1e3)  # a condition number amplifies rounding


def test_cond_rectangular_and_singular():
    rng = np.random.default_rng(4)
    r = rng.standard_normal((3, 7, 4))
    for p in (None, -2):
        assert_close(
            LA.cond(fastnn.tensor(r), p).numpy(),
            torch.linalg.cond(torch.tensor(r), p).numpy(),
            atol=1e-12,
            rtol=1e-10,
        )
    sing = np.zeros((2, 3, 3))
    sing[1] = np.eye(3)
    for p in (None, "fro", 1, math.inf):
        x = LA.cond(fastnn.tensor(sing), p).numpy()
        y = torch.linalg.cond(torch.tensor(sing), p).numpy()
        np.testing.assert_array_equal(x, y)  # nan or inf, then 1 / 3


@pytest.mark.parametrize("p", [None, -2, "fro", "nuc", 1, math.inf])
def test_cond_gradcheck(p):
    a = fastnn.tensor(np.random.default_rng(5).standard_normal((2, 4, 4)), requires_grad=True)
    assert gradcheck(lambda a: LA.cond(a, p), (a,))


def test_cond_bad_input():
    with pytest.raises(RuntimeError, match="invalid norm type: 3"):
        LA.cond(fastnn.eye(3), 3)
    with pytest.raises(RuntimeError, match=r"ord=fro.*square matrices"):
        LA.cond(fastnn.ones(3, 4), "fro")
    with pytest.raises(RuntimeError, match="floating point"):
        LA.cond(fastnn.ones(3, 3, dtype=fastnn.int64))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        LA.cond(fastnn.ones(3))


# ---- vander -------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
def test_vander_matches_torch(dtype):
    rng = np.random.default_rng(6)
    for shape, N in [((1,), 2), ((7,), None), ((2, 5), 3), ((3, 2), 33)]:
        x = (rng.standard_normal(shape) * 2).astype(dtype)
        if N == 33 and dtype != np.float64:
            x = np.clip(x, -1, 1)  # 2 ** 32 overflows int32 / float32 precision
        ours = LA.vander(fastnn.tensor(x), N=N)
        theirs = torch.linalg.vander(torch.tensor(x), N=N)
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
        assert_close(ours.numpy(), theirs.numpy(), atol=1e-6, rtol=1e-6)


def test_vander_gradcheck_at_zero():
    x = fastnn.tensor([0.0, 1.5, -2.0], dtype=fastnn.float64, requires_grad=True)
    assert gradcheck(lambda x: LA.vander(x, N=4), (x,))
    t = torch.tensor([0.0, 1.5, -2.0], dtype=torch.float64, requires_grad=True)
    LA.vander(x, N=4).sum().backward()
    torch.linalg.vander(t, N=4).sum().backward()
    assert_close(x.grad.numpy(), t.grad.numpy(), atol=1e-15, rtol=1e-15)


def test_vander_bad_input():
    with pytest.raises(RuntimeError, match="N must be greater than 1"):
        LA.vander(fastnn.tensor([1.0, 2.0]), N=1)
    with pytest.raises(RuntimeError, match="N must be greater than 1"):
        LA.vander(fastnn.tensor([1.0]))
    with pytest.raises(RuntimeError, match="bool"):
        LA.vander(fastnn.tensor([True, False]))
    with pytest.raises(RuntimeError, match="at least one dimension"):
        LA.vander(fastnn.tensor(2.0))


# ---- tensorinv / tensorsolve ---------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS)
def test_tensorinv_and_tensorsolve_match_torch(dtype):
    rng = np.random.default_rng(7)
    atol, rtol = TOL[dtype]
    for shape, ind in [((4, 2, 2), 1), ((2, 3, 6), 2), ((1, 1), 1), ((7, 7), 1)]:
        a = rng.standard_normal(shape).astype(dtype)
        x = LA.tensorinv(fastnn.tensor(a), ind=ind).numpy()
        y = torch.linalg.tensorinv(torch.tensor(a), ind=ind).numpy()
        assert_close(x, y, atol=atol * 100, rtol=rtol * 100)
    for a_shape, b_shape, dims in [((2, 3, 6), (2, 3), None), ((6, 2, 3), (2, 3), (0,))]:
        a = rng.standard_normal(a_shape).astype(dtype)
        b = rng.standard_normal(b_shape).astype(dtype)
        x = LA.tensorsolve(fastnn.tensor(a), fastnn.tensor(b), dims=dims).numpy()
        y = torch.linalg.tensorsolve(torch.tensor(a), torch.tensor(b), dims=dims).numpy()
        assert_close(x, y, atol=atol * 100, rtol=rtol * 100)


def test_tensorinv_and_tensorsolve_gradcheck():
    rng = np.random.default_rng(8)
    a = fastnn.tensor(rng.standard_normal((4, 2, 2)), requires_grad=True)
    assert gradcheck(lambda a: LA.tensorinv(a, ind=1), (a,))
    a = fastnn.tensor(rng.standard_normal((2, 3, 6)), requires_grad=True)
    b = fastnn.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    assert gradcheck(LA.tensorsolve, (a, b))


def test_tensorinv_and_tensorsolve_bad_input():
    with pytest.raises(RuntimeError, match="strictly positive integer for 'ind', got 0"):
        LA.tensorinv(fastnn.ones(4, 2, 2), ind=0)
    with pytest.raises(RuntimeError, match="6 != 4"):
        LA.tensorinv(fastnn.ones(4, 2, 3), ind=1)
    with pytest.raises(RuntimeError, match="5 != 6"):
        LA.tensorsolve(fastnn.ones(2, 3, 5), fastnn.ones(2, 3))
    with pytest.raises(RuntimeError, match="same dtype"):
        LA.tensorsolve(fastnn.ones(2, 3, 6), fastnn.ones(2, 3, dtype=fastnn.float64))


# ---- householder_product -------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape,k", [((5, 3), 2), ((2, 7, 7), 7), ((4, 1), 1), ((3, 3), 0)])
def test_householder_product_matches_torch(dtype, shape, k):
    rng = np.random.default_rng(9)
    a = rng.standard_normal(shape).astype(dtype)
    tau = rng.standard_normal((*shape[:-2], k)).astype(dtype)
    x = LA.householder_product(fastnn.tensor(a), fastnn.tensor(tau)).numpy()
    y = torch.linalg.householder_product(torch.tensor(a), torch.tensor(tau)).numpy()
    atol, rtol = TOL[dtype]
    assert_close(x, y, atol=atol * 100, rtol=rtol * 100)
    assert_close(fastnn.orgqr(fastnn.tensor(a), fastnn.tensor(tau)).numpy(), x, atol=0, rtol=0)


def test_householder_product_of_geqrf_is_q():
    # the reflectors torch's geqrf returns rebuild Q of the QR factorization
    a = torch.tensor(np.random.default_rng(10).standard_normal((2, 6, 4)))
    qr, tau = torch.geqrf(a)
    q = LA.householder_product(fastnn.tensor(qr.numpy()), fastnn.tensor(tau.numpy())).numpy()
    assert_close(q, torch.linalg.qr(a).Q.numpy(), atol=1e-12, rtol=1e-12)


def test_householder_product_gradcheck():
    rng = np.random.default_rng(11)
    a = fastnn.tensor(rng.standard_normal((2, 5, 3)), requires_grad=True)
    tau = fastnn.tensor(rng.standard_normal((2, 2)), requires_grad=True)
    assert gradcheck(LA.householder_product, (a, tau))


def test_householder_product_bad_input():
    with pytest.raises(RuntimeError, match=r"input.shape\[-2\] must be at least input.shape\[-1\]"):
        LA.householder_product(fastnn.ones(2, 3), fastnn.ones(1))
    with pytest.raises(RuntimeError, match=r"input.shape\[-1\] must be at least tau.shape\[-1\]"):
        LA.householder_product(fastnn.ones(3, 2), fastnn.ones(3))
    with pytest.raises(RuntimeError, match="batch dimensions of tau"):
        LA.householder_product(fastnn.ones(2, 3, 2), fastnn.ones(3, 2))
    with pytest.raises(RuntimeError, match="same dtype"):
        LA.householder_product(fastnn.ones(3, 2), fastnn.ones(2, dtype=fastnn.float64))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        LA.householder_product(fastnn.ones(3), fastnn.ones(2))
