"""fastnn.linalg.ldl_factor / ldl_factor_ex / ldl_solve against torch's: LD, LAPACK's pivots
(1 x 1 and 2 x 2 blocks) and info on symmetric matrices of awkward sizes in float32 and float64,
solutions, the missing derivative, and torch's exceptions for bad input."""

import numpy as np
import pytest

import fastnn
from conftest import assert_close
from fastnn import linalg as LA

torch = pytest.importorskip("torch")

TOL = {np.float32: (1e-4, 1e-4), np.float64: (1e-11, 1e-10)}


def _symmetric(rng, shape, dtype, small_diagonal=False):
    a = rng.standard_normal(shape)
    a = a + np.swapaxes(a, -1, -2)
    if small_diagonal:  # Bunch-Kaufman then picks 2 x 2 blocks and interchanges
        n = shape[-1]
        a[..., range(n), range(n)] *= 0.01
    return a.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1), (7, 7), (2, 33, 33), (3, 1, 5, 5)])
@pytest.mark.parametrize("small_diagonal", [False, True])
def test_ldl_factor_and_solve_match_torch(dtype, shape, small_diagonal):
    rng = np.random.default_rng(1)
    a = _symmetric(rng, shape, dtype, small_diagonal)
    b = rng.standard_normal((*shape[:-1], 3)).astype(dtype)
    ld, piv = LA.ldl_factor(fastnn.tensor(a))
    tld, tpiv = torch.linalg.ldl_factor(torch.tensor(a))
    assert piv.dtype == fastnn.int32
    np.testing.assert_array_equal(piv.numpy(), tpiv.numpy())
    if small_diagonal and shape[-1] > 1:
        assert (piv.numpy() < 0).any()  # the 2 x 2 path ran
    atol, rtol = TOL[dtype]
    scale = max(1.0, np.abs(tld.numpy()).max())
    assert_close(ld.numpy() / scale, tld.numpy() / scale, atol=atol, rtol=rtol)
    ld2, piv2, info = LA.ldl_factor_ex(fastnn.tensor(a), hermitian=True)
    np.testing.assert_array_equal(ld2.numpy(), ld.numpy())
    np.testing.assert_array_equal(piv2.numpy(), piv.numpy())
    assert info.dtype == fastnn.int32 and tuple(info.shape) == shape[:-2] and not info.numpy().any()
    x = LA.ldl_solve(ld, piv, fastnn.tensor(b)).numpy()
    y = torch.linalg.ldl_solve(tld, tpiv, torch.tensor(b)).numpy()
    scale = max(1.0, np.abs(y).max())
    assert_close(x / scale, y / scale, atol=atol * 10, rtol=rtol * 10)


def test_ldl_solve_broadcasts_and_takes_int64_pivots():
    rng = np.random.default_rng(2)
    a = _symmetric(rng, (2, 1, 6, 6), np.float64, small_diagonal=True)
    b = rng.standard_normal((3, 6, 2))
    ld, piv = LA.ldl_factor(fastnn.tensor(a))
    x = LA.ldl_solve(ld, piv.long(), fastnn.tensor(b))
    assert x.shape == (2, 3, 6, 2)
    assert_close(a @ x.numpy(), np.broadcast_to(b, x.shape), atol=1e-10, rtol=1e-10)


def test_ldl_zero_pivot():
    a = np.zeros((2, 3, 3))
    a[1] = np.eye(3)
    ld, piv, info = LA.ldl_factor_ex(fastnn.tensor(a))
    tld, tpiv, tinfo = torch.linalg.ldl_factor_ex(torch.tensor(a))
    np.testing.assert_array_equal(info.numpy(), tinfo.numpy())
    np.testing.assert_array_equal(piv.numpy(), tpiv.numpy())
    np.testing.assert_array_equal(ld.numpy(), tld.numpy())
    with pytest.raises(LA.LinAlgError, match=r"\(Batch element 0\): D\[1,1\] is exactly zero"):
        LA.ldl_factor(fastnn.tensor(a))
    with pytest.raises(LA.LinAlgError, match="exactly zero"):
        LA.ldl_factor_ex(fastnn.tensor(a), check_errors=True)


def test_ldl_has_no_derivative():
    a = fastnn.tensor(_symmetric(np.random.default_rng(3), (3, 3), np.float64), requires_grad=True)
    with pytest.raises(RuntimeError, match="derivative is not implemented"):
        LA.ldl_factor(a).LD.sum().backward()
    ld, piv = LA.ldl_factor(a.detach())
    b = fastnn.ones(3, 2, dtype=fastnn.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="derivative is not implemented"):
        LA.ldl_solve(ld, piv, b).sum().backward()


def test_ldl_bad_input():
    with pytest.raises(RuntimeError, match="square matrices"):
        LA.ldl_factor(fastnn.ones(3, 4))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        LA.ldl_factor(fastnn.ones(3))
    with pytest.raises(RuntimeError, match="floating point"):
        LA.ldl_factor(fastnn.ones(3, 3, dtype=fastnn.int64))
    ld, piv = LA.ldl_factor(fastnn.eye(4, dtype=fastnn.float64))
    b = fastnn.ones(4, 2, dtype=fastnn.float64)
    with pytest.raises(RuntimeError, match=r"pivots must have shape LD.shape\[:-1\]"):
        LA.ldl_solve(ld, piv[:2], b)
    with pytest.raises(RuntimeError, match="pivots must be an integer tensor"):
        LA.ldl_solve(ld, piv.double(), b)
    with pytest.raises(RuntimeError, match="pivots must lie in"):
        LA.ldl_solve(ld, piv * 0, b)
    with pytest.raises(RuntimeError, match=r"incompatible shapes.*4x4 and 3x2"):
        LA.ldl_solve(ld, piv, fastnn.ones(3, 2, dtype=fastnn.float64))
    with pytest.raises(RuntimeError, match="same dtype"):
        LA.ldl_solve(ld, piv, fastnn.ones(4, 2))
    with pytest.raises(TypeError, match="'pivots' must be Tensor"):
        LA.ldl_solve(ld, [1, 2, 3, 4], b)
