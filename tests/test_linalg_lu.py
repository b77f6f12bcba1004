"""The triangular and LU solvers of fastnn.linalg (solve_triangular, lu_factor / lu_factor_ex,
lu, lu_solve, solve_ex) and torch's older top-level forms (triangular_solve, lu, lu_solve,
lu_unpack, Tensor.lu / lu_solve / triangular_solve): values, pivots and info against torch on
awkward shapes in float32 and float64, gradients against finite differences in float64 and
against torch's, and torch's exceptions for bad input."""

import warnings

import numpy as np
import pytest

import fastnn
from conftest import assert_close
from fastnn import linalg as LA
from fastnn.autograd import gradcheck

torch = pytest.importorskip("torch")

FLOATS = (np.float32, np.float64)
TOL = {np.float32: (2e-4, 2e-4), np.float64: (1e-10, 1e-9)}  # (atol, rtol)


def _both(a):
    return fastnn.tensor(a), torch.tensor(a)


def _tri(rng, shape, dtype):
    """A well-conditioned matrix for either triangle: n on the diagonal."""
    n = shape[-1]
    return (rng.standard_normal(shape) + n * np.eye(n)).astype(dtype)


# ---- solve_triangular ----------------------------------------------------------------------------

TRI_SHAPES = [((1, 1), (1, 1)), ((7, 7), (7, 3)), ((2, 33, 33), (33, 1)), ((3, 1, 5, 5), (2, 5, 7))]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("a_shape,b_shape", TRI_SHAPES)
@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("left", [True, False])
def test_solve_triangular_matches_torch(dtype, a_shape, b_shape, upper, left):
    rng = np.random.default_rng(1)
    a = _tri(rng, a_shape, dtype)
    b = rng.standard_normal(b_shape).astype(dtype)
    if not left:
        b = np.swapaxes(b, -1, -2).copy()
    for unit in (False, True):
        fa, ta = _both(a)
        fb, tb = _both(b)
        x = LA.solve_triangular(fa, fb, upper=upper, left=left, unitriangular=unit)
        y = torch.linalg.solve_triangular(ta, tb, upper=upper, left=left, unitriangular=unit)
        assert x.dtype == fastnn.tensor(a).dtype
        atol, rtol = TOL[dtype]
        assert_close(x.numpy(), y.numpy(), atol=atol * 10, rtol=rtol * 10)


def test_solve_triangular_reads_one_triangle_and_blocks():
    # 150 rows cross the substitution's 64-row blocks; the other triangle holds junk
    rng = np.random.default_rng(2)
    a = _tri(rng, (150, 150), np.float64)
    b = rng.standard_normal((150, 4))
    low = np.tril(a)
    x = LA.solve_triangular(fastnn.tensor(a), fastnn.tensor(b), upper=False)
    assert_close(low @ x.numpy(), b, atol=1e-10, rtol=1e-10)


def test_solve_triangular_zero_diagonal_gives_inf_not_error():
    a, b = torch.zeros(2, 2), torch.ones(2, 1)
    x = LA.solve_triangular(fastnn.zeros(2, 2), fastnn.ones(2, 1), upper=True)
    y = torch.linalg.solve_triangular(a, b, upper=True)
    np.testing.assert_array_equal(x.numpy(), y.numpy())  # [nan, inf] in both


def test_solve_triangular_promotes_mixed_floats():
    rng = np.random.default_rng(3)
    a = _tri(rng, (3, 3), np.float64)
    b = rng.standard_normal((3, 2)).astype(np.float32)
    x = LA.solve_triangular(fastnn.tensor(a), fastnn.tensor(b), upper=True)
    y = torch.linalg.solve_triangular(torch.tensor(a), torch.tensor(b), upper=True)
    assert x.dtype == fastnn.float64
    assert_close(x.numpy(), y.numpy(), atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("unit", [True, False])
def test_solve_triangular_gradcheck(upper, left, unit):
    rng = np.random.default_rng(4)
    a = fastnn.tensor(_tri(rng, (2, 4, 4), np.float64), requires_grad=True)
    b = fastnn.tensor(rng.standard_normal((4, 3)), requires_grad=True)

    def f(a, b):
        return LA.solve_triangular(
            a, b if left else b.mT, upper=upper, left=left, unitriangular=unit
        )

    assert gradcheck(f, (a, b))


def test_solve_triangular_grad_matches_torch():
    rng = np.random.default_rng(5)
    a, b = _tri(rng, (3, 5, 5), np.float64), rng.standard_normal((5, 2))
    g = rng.standard_normal((3, 5, 2))
    fa, fb = (fastnn.tensor(v, requires_grad=True) for v in (a, b))
    ta, tb = (torch.tensor(v, requires_grad=True) for v in (a, b))
    LA.solve_triangular(fa, fb, upper=False).backward(fastnn.tensor(g))
    torch.linalg.solve_triangular(ta, tb, upper=False).backward(torch.tensor(g))
    assert_close(fa.grad.numpy(), ta.grad.numpy(), atol=1e-12, rtol=1e-10)
    assert_close(fb.grad.numpy(), tb.grad.numpy(), atol=1e-12, rtol=1e-10)


def test_solve_triangular_bad_input():
    a, b = fastnn.eye(3), fastnn.ones(3, 2)
    with pytest.raises(RuntimeError, match=r"square matrices.*3 by 4"):
        LA.solve_triangular(fastnn.ones(3, 4), b, upper=True)
    with pytest.raises(RuntimeError, match=r"incompatible shapes.*3x3 and 4x2"):
        LA.solve_triangular(a, fastnn.ones(4, 2), upper=True)
    with pytest.raises(RuntimeError, match=r"B must have at least 2 dimensions"):
        LA.solve_triangular(a, fastnn.ones(3), upper=True)
    with pytest.raises(NotImplementedError, match="int64"):
        LA.solve_triangular(fastnn.eye(3, dtype=fastnn.int64), b.long(), upper=True)
    with pytest.raises(TypeError, match="upper"):
        LA.solve_triangular(a, b)
    with pytest.raises(TypeError, match="'B' must be Tensor"):
        LA.solve_triangular(a, [[1.0]], upper=True)
    with pytest.raises(RuntimeError, match="cannot be broadcast"):
        LA.solve_triangular(fastnn.ones(2, 3, 3), fastnn.ones(3, 3, 2), upper=True)


# ---- lu_factor / lu -----------------------------------------------------------------------------

LU_SHAPES = [(1, 1), (7, 7), (4, 6), (6, 4), (2, 1, 33, 33), (3, 5, 1), (2, 1, 7)]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", LU_SHAPES)
def test_lu_factor_and_lu_match_torch(dtype, shape):
    rng = np.random.default_rng(6)
    a = rng.standard_normal(shape).astype(dtype)
    fa, ta = _both(a)
    lu, piv = LA.lu_factor(fa)
    tlu, tpiv = torch.linalg.lu_factor(ta)
    assert piv.dtype == fastnn.int32 and tuple(piv.shape) == tuple(tpiv.shape)
    np.testing.assert_array_equal(piv.numpy(), tpiv.numpy())
    atol, rtol = TOL[dtype]
    assert_close(lu.numpy(), tlu.numpy(), atol=atol, rtol=rtol)
    lu2, piv2, info = LA.lu_factor_ex(fa)
    np.testing.assert_array_equal(lu2.numpy(), lu.numpy())
    np.testing.assert_array_equal(piv2.numpy(), piv.numpy())
    assert info.dtype == fastnn.int32 and tuple(info.shape) == shape[:-2]
    assert not info.numpy().any()
    for mine, theirs in zip(LA.lu(fa), torch.linalg.lu(ta), strict=True):
        assert_close(mine.numpy(), theirs.numpy(), atol=atol, rtol=rtol)
    P, L, U = LA.lu(fa)
    assert_close((P @ L @ U).numpy(), a, atol=atol, rtol=rtol)
    for mine, theirs in zip(fastnn.lu_unpack(lu, piv), torch.lu_unpack(tlu, tpiv), strict=True):
        assert_close(mine.numpy(), theirs.numpy(), atol=atol, rtol=rtol)


def test_lu_factor_singular():
    a = np.zeros((2, 3, 3))
    a[1] = np.eye(3)
    a[0, :, 0] = [0, 2, 1]  # the second column is zero: U[2, 2] = 0
    fa, ta = _both(a)
    lu, piv, info = LA.lu_factor_ex(fa)
    tlu, tpiv, tinfo = torch.linalg.lu_factor_ex(ta)
    np.testing.assert_array_equal(info.numpy(), tinfo.numpy())
    np.testing.assert_array_equal(info.numpy(), [2, 0])
    np.testing.assert_array_equal(piv.numpy(), tpiv.numpy())
    assert_close(lu.numpy(), tlu.numpy(), atol=1e-15, rtol=0)
    with pytest.raises(LA.LinAlgError, match=r"\(Batch element 0\): U\[2,2\] is zero"):
        LA.lu_factor(fa)
    with pytest.raises(RuntimeError, match=r"U\[2,2\] is zero"):
        LA.lu_factor_ex(fa, check_errors=True)
    P, L, U = LA.lu(fa)  # no error, as in torch
    assert_close((P @ L @ U).numpy(), a, atol=1e-15, rtol=0)


@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 3), (3, 5), (5, 3), (1, 1)])
def test_lu_gradcheck(shape):
    rng = np.random.default_rng(7)
    a = fastnn.tensor(rng.standard_normal(shape), requires_grad=True)
    assert gradcheck(lambda a: LA.lu_factor(a)[0], (a,))
    assert gradcheck(lambda a: LA.lu(a)[1:], (a,))


@pytest.mark.parametrize("shape", [(2, 5, 5), (4, 6), (6, 4)])
def test_lu_grad_matches_torch(shape):
    rng = np.random.default_rng(8)
    a = rng.standard_normal(shape)
    m, n = shape[-2:]
    k = min(m, n)
    gl = rng.standard_normal((*shape[:-2], m, k))
    gu = rng.standard_normal((*shape[:-2], k, n))
    fa = fastnn.tensor(a, requires_grad=True)
    ta = torch.tensor(a, requires_grad=True)
    _, L, U = LA.lu(fa)
    ((L * fastnn.tensor(gl)).sum() + (U * fastnn.tensor(gu)).sum()).backward()
    _, tL, tU = torch.linalg.lu(ta)
    ((tL * torch.tensor(gl)).sum() + (tU * torch.tensor(gu)).sum()).backward()
    assert_close(fa.grad.numpy(), ta.grad.numpy(), atol=1e-10, rtol=1e-9)


def test_lu_bad_input():
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        LA.lu_factor(fastnn.ones(3))
    with pytest.raises(NotImplementedError, match="int64"):
        LA.lu_factor(fastnn.ones(3, 3, dtype=fastnn.int64))
    with pytest.raises(RuntimeError, match="LU without pivoting is not implemented on the CPU"):
        LA.lu_factor(fastnn.eye(3), pivot=False)
    with pytest.raises(RuntimeError, match="LU without pivoting is not implemented on the CPU"):
        LA.lu(fastnn.eye(3), pivot=False)
    with pytest.raises(TypeError, match="'A' must be Tensor"):
        LA.lu([[1.0]])


# ---- lu_solve / solve_ex ------------------------------------------------------------------------

SOLVE_SHAPES = [
    ((1, 1), (1, 1)),
    ((7, 7), (7, 3)),
    ((2, 33, 33), (33, 2)),
    ((2, 1, 5, 5), (3, 5, 4)),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("a_shape,b_shape", SOLVE_SHAPES)
def test_lu_solve_and_solve_ex_match_torch(dtype, a_shape, b_shape):
    rng = np.random.default_rng(9)
    a = rng.standard_normal(a_shape).astype(dtype)
    b = rng.standard_normal(b_shape).astype(dtype)
    fa, ta = _both(a)
    lu, piv = LA.lu_factor(fa)
    tlu, tpiv = torch.linalg.lu_factor(ta)
    scale = np.abs(np.linalg.solve(a.astype(np.float64), b.astype(np.float64))).max()
    atol, rtol = TOL[dtype]
    for left in (True, False):
        for adjoint in (True, False):
            bb = b if left else np.swapaxes(b, -1, -2).copy()
            x = LA.lu_solve(lu, piv, fastnn.tensor(bb), left=left, adjoint=adjoint)
            y = torch.linalg.lu_solve(tlu, tpiv, torch.tensor(bb), left=left, adjoint=adjoint)
            assert_close(x.numpy(), y.numpy(), atol=atol * scale * 10, rtol=rtol * 10)
    x, info = LA.solve_ex(fa, fastnn.tensor(b))
    y, tinfo = torch.linalg.solve_ex(ta, torch.tensor(b))
    assert_close(x.numpy(), y.numpy(), atol=atol * scale * 10, rtol=rtol * 10)
    np.testing.assert_array_equal(info.numpy(), tinfo.numpy())
    assert info.dtype == fastnn.int32


def test_solve_ex_vector_rhs_and_singular():
    rng = np.random.default_rng(10)
    a = rng.standard_normal((3, 3)) + 3 * np.eye(3)
    b = rng.standard_normal(3)
    x, _ = LA.solve_ex(fastnn.tensor(a), fastnn.tensor(b))
    assert_close(
        x.numpy(),
        torch.linalg.solve_ex(torch.tensor(a), torch.tensor(b))[0],
        atol=1e-12,
        rtol=1e-12,
    )
    sing = np.zeros((2, 3, 3))
    sing[1] = np.eye(3)
    rhs = np.ones((2, 3, 1))
    x, info = LA.solve_ex(fastnn.tensor(sing), fastnn.tensor(rhs))
    np.testing.assert_array_equal(info.numpy(), [1, 0])
    assert not np.isfinite(x.numpy()[0]).all()
    assert_close(x.numpy()[1], rhs[1], atol=0, rtol=0)
    with pytest.raises(LA.LinAlgError, match=r"\(Batch element 0\).*singular"):
        LA.solve_ex(fastnn.tensor(sing), fastnn.tensor(rhs), check_errors=True)


def test_lu_solve_and_solve_ex_gradcheck():
    rng = np.random.default_rng(11)
    a = fastnn.tensor(rng.standard_normal((2, 4, 4)), requires_grad=True)
    b = fastnn.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    assert gradcheck(lambda a, b: LA.solve_ex(a, b)[0], (a, b))
    assert gradcheck(lambda a, b: LA.solve_ex(a, b.mT, left=False)[0], (a, b))
    lu, piv = LA.lu_factor(a.detach())
    lu.requires_grad_()
    for adjoint in (True, False):
        assert gradcheck(lambda lu, b: LA.lu_solve(lu, piv, b, adjoint=adjoint), (lu, b))
        assert gradcheck(
            lambda lu, b: LA.lu_solve(lu, piv, b.mT, left=False, adjoint=adjoint), (lu, b)
        )


def test_lu_solve_grad_matches_torch():
    rng = np.random.default_rng(12)
    a, b = rng.standard_normal((2, 5, 5)), rng.standard_normal((2, 5, 3))
    flu, fpiv = LA.lu_factor(fastnn.tensor(a))
    tlu, tpiv = torch.linalg.lu_factor(torch.tensor(a))
    flu.requires_grad_()
    tlu.requires_grad_()
    fb, tb = fastnn.tensor(b, requires_grad=True), torch.tensor(b, requires_grad=True)
    LA.lu_solve(flu, fpiv, fb, adjoint=True).sum().backward()
    torch.linalg.lu_solve(tlu, tpiv, tb, adjoint=True).sum().backward()
    assert_close(flu.grad.numpy(), tlu.grad.numpy(), atol=1e-10, rtol=1e-9)
    assert_close(fb.grad.numpy(), tb.grad.numpy(), atol=1e-10, rtol=1e-9)


def test_lu_solve_bad_input():
    lu, piv = LA.lu_factor(fastnn.eye(3, dtype=fastnn.float64))
    b = fastnn.ones(3, 2, dtype=fastnn.float64)
    with pytest.raises(RuntimeError, match="square matrices"):
        LA.lu_solve(fastnn.ones(3, 4, dtype=fastnn.float64), piv, b)
    with pytest.raises(RuntimeError, match="pivots should be a Tensor of scalar type int32"):
        LA.lu_solve(lu, piv.long(), b)
    with pytest.raises(RuntimeError, match=r"pivots should have shape \[3\]"):
        LA.lu_solve(lu, piv[:2], b)
    with pytest.raises(RuntimeError, match=r"pivots must lie in \[1, 3\]"):
        LA.lu_solve(lu, piv * 0, b)
    with pytest.raises(RuntimeError, match=r"incompatible shapes.*3x3 and 4x2"):
        LA.lu_solve(lu, piv, fastnn.ones(4, 2, dtype=fastnn.float64))
    with pytest.raises(RuntimeError, match="B must have at least 2 dimensions"):
        LA.lu_solve(lu, piv, fastnn.ones(3, dtype=fastnn.float64))
    with pytest.raises(RuntimeError, match="same dtype"):
        LA.lu_solve(lu, piv, fastnn.ones(3, 2))
    with pytest.raises(RuntimeError, match="same dtype"):
        LA.solve_ex(fastnn.eye(3, dtype=fastnn.float64), fastnn.ones(3, 2))
    with pytest.raises(RuntimeError, match="square matrices"):
        LA.solve_ex(fastnn.ones(3, 4), fastnn.ones(3, 2))


# ---- torch's top-level forms ---------------------------------------------------------------------


@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("transpose", [True, False])
def test_triangular_solve_matches_torch(upper, transpose):
    rng = np.random.default_rng(13)
    a, b = _tri(rng, (2, 4, 4), np.float64), rng.standard_normal((4, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = fastnn.triangular_solve(fastnn.tensor(b), fastnn.tensor(a), upper, transpose)
        theirs = torch.triangular_solve(torch.tensor(b), torch.tensor(a), upper, transpose)
    assert type(ours).__name__ == "triangular_solve"
    assert_close(ours.solution.numpy(), theirs.solution.numpy(), atol=1e-12, rtol=1e-12)
    assert_close(ours.cloned_coefficient.numpy(), theirs.cloned_coefficient.numpy(), atol=0, rtol=0)
    method = fastnn.tensor(b).triangular_solve(fastnn.tensor(a), upper, transpose)
    assert_close(method[0].numpy(), theirs.solution.numpy(), atol=1e-12, rtol=1e-12)


def test_torch_lu_and_lu_solve():
    rng = np.random.default_rng(14)
    a, b = rng.standard_normal((2, 4, 4)), rng.standard_normal((2, 4, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lu, piv = fastnn.lu(fastnn.tensor(a))
        tlu, tpiv = torch.lu(torch.tensor(a))
        _, _, info = fastnn.lu(fastnn.tensor(a), get_infos=True)
        x = fastnn.lu_solve(fastnn.tensor(b), lu, piv)
        y = torch.lu_solve(torch.tensor(b), tlu, tpiv)
    assert_close(lu.numpy(), tlu.numpy(), atol=1e-12, rtol=1e-12)
    np.testing.assert_array_equal(piv.numpy(), tpiv.numpy())
    np.testing.assert_array_equal(info.numpy(), [0, 0])
    assert_close(x.numpy(), y.numpy(), atol=1e-12, rtol=1e-10)
    mlu, mpiv = fastnn.tensor(a).lu()
    np.testing.assert_array_equal(mpiv.numpy(), tpiv.numpy())
    assert_close(fastnn.tensor(b).lu_solve(mlu, mpiv).numpy(), y.numpy(), atol=1e-12, rtol=1e-10)
    with pytest.warns(UserWarning, match="deprecated"):
        fastnn.lu(fastnn.tensor(a))
    P, L, U = fastnn.lu_unpack(lu, piv, unpack_data=False)
    assert L.numel() == 0 and U.numel() == 0
    assert_close(P.numpy(), torch.lu_unpack(tlu, tpiv)[0].numpy(), atol=0, rtol=0)


@pytest.mark.parametrize("shape", [(0, 0), (2, 0, 0), (3, 0), (0, 3), (0, 4, 4)])
def test_empty_matrices_factor_and_solve(shape):
    a, t = fastnn.zeros(*shape), torch.zeros(shape)
    for mine, theirs in zip(LA.lu(a), torch.linalg.lu(t), strict=True):
        assert mine.shape == theirs.shape
    lu, piv = LA.lu_factor(a)
    assert piv.shape == torch.linalg.lu_factor(t).pivots.shape
    if shape[-1] == shape[-2]:
        assert LA.lu_solve(lu, piv, a).shape == shape
        assert LA.solve_ex(a, a).result.shape == shape
        assert LA.solve_triangular(a, a, upper=True).shape == shape


@pytest.fixture
def emulated(monkeypatch):
    """_devices.cuda running on tests/_fake_cuda.py (numpy with the bindings' rules)."""
    import _fake_cuda
    from fastnn import _devices

    be = _devices.cuda_module()
    monkeypatch.setattr(be, "_mod", _fake_cuda)
    monkeypatch.setattr(be, "array_type", _fake_cuda.DeviceArray)
    monkeypatch.setitem(_devices._BY_TYPE, _fake_cuda.DeviceArray, be)
    return be


def test_cuda_tensors_round_trip_through_the_host(emulated):
    rng = np.random.default_rng(15)
    a, b = _tri(rng, (2, 4, 4), np.float64), rng.standard_normal((2, 4, 3))
    calls = [
        lambda a, b: LA.solve_triangular(a, b, upper=True),
        lambda a, b: LA.solve_ex(a, b).result,
        lambda a, b: LA.lu_solve(*LA.lu_factor(a), b),
        lambda a, b: LA.lu(a).U @ b,
        lambda a, b: LA.matrix_exp(a * 0.1) @ b,
    ]
    for call in calls:
        results = []
        for put in (np.asarray, emulated.from_numpy):
            xs = [fastnn.Tensor._make(put(v.copy()), True) for v in (a, b)]
            out = call(*xs)
            assert type(out._data) is type(xs[0]._data), "the result left the device"
            (out * out).sum().backward()
            assert all(type(x.grad._data) is type(x._data) for x in xs)
            results.append([out.cpu().detach().numpy()] + [x.grad.cpu().numpy() for x in xs])
        for mine, host in zip(*results):
            assert_close(mine, host, atol=1e-12, rtol=1e-10)
    x = fastnn.Tensor._make(emulated.from_numpy(np.eye(3)))
    for res in (LA.lu_factor_ex(x).info, LA.lu_factor(x).pivots, LA.ldl_factor(x).pivots):
        assert type(res._data) is type(x._data)
