"""fastnn.linalg and torch's top-level det / inverse / logdet / slogdet / pinverse / kron /
matrix_power (and the Tensor methods): values, dtypes, shapes and result fields against torch on
the same inputs; the exception types torch raises for bad inputs; gradients against central
finite differences in float64 (gradcheck) and against torch's; CUDA tensors on the emulated
bindings (tests/_fake_cuda.py), whose matrices round-trip through the host."""

import math
import warnings

import numpy as np
import pytest

import fastnn
from conftest import assert_close
from fastnn import linalg as LA
from fastnn.autograd import gradcheck

FLOATS = (np.float32, np.float64)
TOL = {np.float32: (1e-4, 1e-4), np.float64: (1e-10, 1e-9)}  # (atol, rtol)


# ---- inputs: well-conditioned matrices of the kinds each function needs --------------------------


def general(rng, shape, dtype=np.float64):
    """Square, invertible, well conditioned: a random matrix plus n on the diagonal."""
    n = shape[-1]
    return (rng.standard_normal(shape) + n * np.eye(n)).astype(dtype)


def spd(rng, shape, dtype=np.float64):
    """Symmetric positive-definite."""
    a = rng.standard_normal(shape)
    return (a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])).astype(dtype)


def _orthogonal(rng, batch, n):
    q, r = np.linalg.qr(rng.standard_normal((*batch, n, n)))
    return q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]


def spread_sym(rng, shape, dtype=np.float64):
    """Symmetric with eigenvalues 1.5 apart (eigenvectors defined up to sign)."""
    n = shape[-1]
    q = _orthogonal(rng, shape[:-2], n)
    w = 1.5 * np.arange(1, n + 1) - 0.75 * n + rng.uniform(0, 0.3, (*shape[:-2], n))
    return ((q * w[..., None, :]) @ np.swapaxes(q, -1, -2)).astype(dtype)


def spread(rng, shape, dtype=np.float64):
    """m x n with singular values k + 1, k, ..., 2 (k = min(m, n))."""
    m, n = shape[-2:]
    k = min(m, n)
    u = _orthogonal(rng, shape[:-2], m)[..., :k]
    v = _orthogonal(rng, shape[:-2], n)[..., :k]
    s = np.arange(k + 1, 1, -1, dtype=np.float64)
    return ((u * s) @ np.swapaxes(v, -1, -2)).astype(dtype)


def _name(dt):
    return str(dt).split(".")[-1]


def check(f, t, dtype=np.float64, name="result", tol=None):
    """A fastnn result against torch's: Tensor, dtype, shape, values."""
    assert isinstance(f, fastnn.Tensor), f"{name}: {type(f).__name__}"
    assert _name(f.dtype) == _name(t.dtype), f"{name}: dtype {f.dtype} vs torch {t.dtype}"
    assert tuple(f.shape) == tuple(t.shape), f"{name}: shape {tuple(f.shape)} vs {tuple(t.shape)}"
    a, b = f.detach().numpy(), t.detach().numpy()
    if a.dtype.kind == "f":
        atol, rtol = tol or TOL[dtype]
        with np.errstate(invalid="ignore"):  # -inf against -inf (a singular logabsdet)
            assert_close(a, b, atol=atol, rtol=rtol, name=name)
    else:
        np.testing.assert_array_equal(a, b, err_msg=name)


def pair(a):
    torch = pytest.importorskip("torch")
    return fastnn.tensor(a.copy()), torch.tensor(a.copy())


# ---- the LU family: inv, det, slogdet, logdet, solve ---------------------------------------------

SQUARE = [(1, 1), (3, 3), (7, 7), (2, 3, 3), (2, 1, 4, 4)]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", SQUARE)
def test_inv_det_slogdet_logdet_match_torch(shape, dtype, rng):
    torch = pytest.importorskip("torch")
    f, t = pair(general(rng, shape, dtype))
    check(LA.inv(f), torch.linalg.inv(t), dtype, "inv")
    fx, tx = LA.inv_ex(f), torch.linalg.inv_ex(t)
    assert fx._fields == ("inverse", "info")
    check(fx.inverse, tx.inverse, dtype, "inv_ex")
    check(fx.info, tx.info, name="info")
    g, u = pair(rng.standard_normal(shape).astype(dtype))  # determinants of both signs
    check(LA.det(g), torch.linalg.det(u), dtype, "det")
    fs, ts = LA.slogdet(g), torch.linalg.slogdet(u)
    assert fs._fields == ("sign", "logabsdet")
    check(fs.sign, ts.sign, dtype, "sign")
    check(fs.logabsdet, ts.logabsdet, dtype, "logabsdet")
    check(fastnn.logdet(g), torch.logdet(u), dtype, "logdet")  # NaN where det < 0


SOLVE = [
    ((3, 3), (3,), True),
    ((3, 3), (3, 2), True),
    ((1, 1), (1,), True),
    ((2, 3, 3), (2, 3), True),  # a batch of vectors: B is A's shape without the last dim
    ((2, 3, 3), (3,), True),
    ((2, 1, 3, 3), (4, 3, 2), True),  # batches broadcast
    ((7, 7), (5, 7, 1), True),
    ((3, 3), (2, 3), False),
    ((2, 4, 4), (2, 3, 4), False),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("a_shape,b_shape,left", SOLVE)
def test_solve_matches_torch(a_shape, b_shape, left, dtype, rng):
    torch = pytest.importorskip("torch")
    fa, ta = pair(general(rng, a_shape, dtype))
    fb, tb = pair(rng.standard_normal(b_shape).astype(dtype))
    check(LA.solve(fa, fb, left=left), torch.linalg.solve(ta, tb, left=left), dtype)


def test_singular_matrices_raise_linalg_error_like_torch():
    torch = pytest.importorskip("torch")
    a = np.array([[[2.0, 0.0], [0.0, 1.0]], [[1.0, 2.0], [2.0, 4.0]]], np.float32)
    calls = {
        "linalg.inv": lambda L, x: L.linalg.inv(x),
        "linalg.solve": lambda L, x: L.linalg.solve(x, x[..., 0]),
        "linalg.inv_ex": lambda L, x: L.linalg.inv_ex(x, check_errors=True),
    }
    for fn, call in calls.items():
        with pytest.raises(torch.linalg.LinAlgError):
            call(torch, torch.tensor(a))
        f = fastnn.tensor(a.copy())
        with pytest.raises(LA.LinAlgError) as e:
            call(fastnn, f)
        msg = str(e.value)
        assert isinstance(e.value, RuntimeError)
        assert msg.startswith(f"{fn}: (Batch element 1)"), msg
        assert "[2, 2, 2]" in msg and "float32" in msg, msg
        np.testing.assert_array_equal(f.numpy(), a)  # the failed call left its input alone
    with pytest.raises(LA.LinAlgError, match="column 2 depends on the columns before it"):
        LA.inv(fastnn.tensor(a[1]))
    with pytest.raises(LA.LinAlgError, match="linalg.matrix_power"):
        LA.matrix_power(fastnn.tensor(a), -2)


def test_singular_matrix_det_slogdet_and_inv_ex_like_torch():
    torch = pytest.importorskip("torch")
    a = np.array([[[2.0, 0.0], [0.0, 1.0]], [[1.0, 2.0], [2.0, 4.0]], [[0.0, 0.0], [0.0, 0.0]]])
    f, t = pair(a)
    check(LA.det(f), torch.linalg.det(t))
    check(LA.slogdet(f).sign, torch.linalg.slogdet(t).sign)
    check(LA.slogdet(f).logabsdet, torch.linalg.slogdet(t).logabsdet)
    check(fastnn.logdet(f), torch.logdet(t))
    fx, tx = LA.inv_ex(f), torch.linalg.inv_ex(t)
    check(fx.info, tx.info, name="info")  # 0, then the 1-based zero pivot: 2 and 1
    check(fx.inverse[0], tx.inverse[0])
    assert np.isnan(fx.inverse[1:].numpy()).all()  # undefined where info != 0: NaN, not garbage


# ---- Cholesky and QR -----------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:torch.cholesky is deprecated")
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (7, 7), (2, 4, 4)])
def test_cholesky_matches_torch_and_reads_one_triangle(shape, dtype, rng):
    torch = pytest.importorskip("torch")
    a = spd(rng, shape, dtype)
    lower_only, upper_only = np.tril(a) + np.triu(a, 1) * 7, np.triu(a) - np.tril(a, -1) * 3
    for arr, upper in ((a, False), (a, True), (lower_only, False), (upper_only, True)):
        f, t = pair(arr)
        check(LA.cholesky(f, upper=upper), torch.linalg.cholesky(t, upper=upper), dtype)
        fx, tx = LA.cholesky_ex(f, upper=upper), torch.linalg.cholesky_ex(t, upper=upper)
        assert fx._fields == ("L", "info")
        check(fx.L, tx.L, dtype)
        check(fx.info, tx.info, name="info")
        check(f.cholesky(upper=upper), t.cholesky(upper=upper), dtype, "Tensor.cholesky")


def test_not_positive_definite_raises_linalg_error_like_torch():
    torch = pytest.importorskip("torch")
    a = np.array([[[4.0, 2.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 1.0]], np.eye(3) * 2])
    f, t = pair(a)
    with pytest.raises(torch.linalg.LinAlgError, match="order 2"):
        torch.linalg.cholesky(t)
    with pytest.raises(LA.LinAlgError, match=r"\(Batch element 0\).*order 2.*\[2, 3, 3\]"):
        LA.cholesky(f)
    fx, tx = LA.cholesky_ex(f), torch.linalg.cholesky_ex(t)
    check(fx.info, tx.info, name="info")
    check(fx.L[1], tx.L[1])
    assert np.isnan(fx.L[0].numpy()).all()
    with pytest.raises(LA.LinAlgError, match="linalg.cholesky_ex"):
        LA.cholesky_ex(f, check_errors=True)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("mode", ["reduced", "complete", "r"])
@pytest.mark.parametrize("shape", [(1, 1), (5, 3), (3, 5), (4, 4), (2, 7, 4)])
def test_qr_matches_torch(shape, mode, dtype, rng):
    torch = pytest.importorskip("torch")
    f, t = pair(rng.standard_normal(shape).astype(dtype))
    fq, tq = LA.qr(f, mode), torch.linalg.qr(t, mode)
    assert fq._fields == ("Q", "R")
    check(fq.R, tq.R, dtype, "R")  # LAPACK's Householder signs, the same in both
    check(fq.Q, tq.Q, dtype, "Q")
    if mode != "r":
        assert_close((fq.Q @ fq.R).numpy(), f.numpy(), atol=1e-5, rtol=1e-5, name="Q R")


# ---- SVD and symmetric eigendecomposition --------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("full_matrices", [True, False])
@pytest.mark.parametrize("shape", [(1, 1), (5, 3), (3, 5), (4, 4), (2, 7, 4)])
def test_svd_matches_torch_up_to_signs(shape, full_matrices, dtype, rng):
    torch = pytest.importorskip("torch")
    f, t = pair(spread(rng, shape, dtype))
    fr, tr = LA.svd(f, full_matrices), torch.linalg.svd(t, full_matrices)
    assert fr._fields == ("U", "S", "Vh")
    check(fr.S, tr.S, dtype, "S")
    check(LA.svdvals(f), torch.linalg.svdvals(t), dtype, "svdvals")
    for name, a, b in (("U", fr.U, tr.U), ("Vh", fr.Vh, tr.Vh)):
        assert tuple(a.shape) == tuple(b.shape) and _name(a.dtype) == _name(b.dtype), name
    k = min(shape[-2:])
    u, vh = fr.U[..., :k], fr.Vh[..., :k, :]
    check(u.abs(), tr.U[..., :k].abs(), dtype, "|U|")  # each column up to its sign
    check(vh.abs(), tr.Vh[..., :k, :].abs(), dtype, "|Vh|")
    check((u * fr.S.unsqueeze(-2)) @ vh, t, dtype, "U S Vh")
    for name, q in (("U", fr.U), ("Vh", fr.Vh.mT)):
        eye = np.broadcast_to(np.eye(q.shape[-1]), (*q.shape[:-2], q.shape[-1], q.shape[-1]))
        assert_close((q.mT @ q).numpy(), eye, atol=1e-5, rtol=0, name=f"{name} orthonormal")


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("uplo", ["L", "U"])
@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (7, 7), (2, 4, 4)])
def test_eigh_matches_torch_and_reads_one_triangle(shape, uplo, dtype, rng):
    torch = pytest.importorskip("torch")
    a = spread_sym(rng, shape, dtype)
    a += (np.triu(a, 1) if uplo == "L" else np.tril(a, -1)) * 5  # the triangle not read
    f, t = pair(a)
    fr, tr = LA.eigh(f, UPLO=uplo), torch.linalg.eigh(t, UPLO=uplo)
    assert fr._fields == ("eigenvalues", "eigenvectors")
    check(fr.eigenvalues, tr.eigenvalues, dtype, "eigenvalues")
    check(fr.eigenvectors.abs(), tr.eigenvectors.abs(), dtype, "|eigenvectors|")
    check(LA.eigvalsh(f, uplo), torch.linalg.eigvalsh(t, uplo), dtype, "eigvalsh")
    v, w = fr.eigenvectors, fr.eigenvalues
    check(
        (v * w.unsqueeze(-2)) @ v.mT,
        tr.eigenvectors @ torch.diag_embed(tr.eigenvalues) @ tr.eigenvectors.mT,
        dtype,
        "V W V^T",
    )


# ---- pseudoinverse, least squares, rank ----------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(1, 1), (5, 3), (3, 5), (2, 4, 6)])
def test_pinv_matches_torch(shape, dtype, rng):
    torch = pytest.importorskip("torch")
    f, t = pair(spread(rng, shape, dtype))
    check(LA.pinv(f), torch.linalg.pinv(t), dtype)
    check(fastnn.pinverse(f), torch.pinverse(t), dtype, "pinverse")
    # the singular values are 2, 3, ...: the cutoffs stay clear of them
    check(f.pinverse(0.45), t.pinverse(0.45), dtype, "Tensor.pinverse(rcond)")
    for kw in ({"atol": 2.5}, {"rtol": 0.55}, {"atol": 0.5, "rtol": 0.9}, {"atol": 0.0}):
        check(LA.pinv(f, **kw), torch.linalg.pinv(t, **kw), dtype, f"pinv {kw}")
        check(LA.matrix_rank(f, **kw), torch.linalg.matrix_rank(t, **kw), name=f"rank {kw}")
    s, u = pair(spread_sym(rng, (2, 4, 4), dtype))
    for kw in ({}, {"atol": 2.0}):
        check(LA.pinv(s, hermitian=True, **kw), torch.linalg.pinv(u, hermitian=True, **kw), dtype)
        check(
            LA.matrix_rank(s, hermitian=True, **kw),
            torch.linalg.matrix_rank(u, hermitian=True, **kw),
        )


def test_rank_deficient_pinv_rank_and_tensor_tolerances_match_torch(rng):
    torch = pytest.importorskip("torch")
    a = rng.standard_normal((3, 5, 4))
    a[0, :, 3] = a[0, :, 0] - a[0, :, 1]  # rank 3
    a[1] = np.outer(a[1, :, 0], a[1, 0])  # rank 1
    f, t = pair(a)
    check(LA.matrix_rank(f), torch.linalg.matrix_rank(t))
    check(LA.pinv(f), torch.linalg.pinv(t))
    tol = np.array([0.1, 100.0, 0.0])
    check(
        LA.matrix_rank(f, atol=fastnn.tensor(tol)),
        torch.linalg.matrix_rank(t, atol=torch.tensor(tol)),
    )
    check(LA.pinv(f, rtol=fastnn.tensor(tol)), torch.linalg.pinv(t, rtol=torch.tensor(tol)))


LSTSQ = [
    ((5, 3), (5, 2)),
    ((5, 3), (5,)),  # B one dimension short of A: a vector
    ((3, 5), (3, 2)),
    ((4, 4), (4, 1)),
    ((2, 6, 3), (2, 6)),
    ((2, 6, 3), (1, 6, 4)),  # batches broadcast
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("driver", [None, "gels", "gelsy", "gelsd", "gelss"])
@pytest.mark.parametrize("a_shape,b_shape", LSTSQ)
def test_lstsq_matches_torch(a_shape, b_shape, driver, dtype, rng):
    torch = pytest.importorskip("torch")
    fa, ta = pair(spread(rng, a_shape, dtype))
    fb, tb = pair(rng.standard_normal(b_shape).astype(dtype))
    fr, tr = LA.lstsq(fa, fb, driver=driver), torch.linalg.lstsq(ta, tb, driver=driver)
    assert fr._fields == ("solution", "residuals", "rank", "singular_values")
    for name in fr._fields:
        check(getattr(fr, name), getattr(tr, name), dtype, name)


def test_lstsq_of_rank_deficient_matrices_matches_torch(rng):
    torch = pytest.importorskip("torch")
    a = rng.standard_normal((2, 6, 3))
    a[0, :, 2] = a[0, :, 0] + a[0, :, 1]
    fa, ta = pair(a)
    fb, tb = pair(rng.standard_normal((2, 6, 2)))
    for driver in ("gelsy", "gelsd", "gelss"):  # the minimum-norm solution, no residuals
        fr, tr = LA.lstsq(fa, fb, driver=driver), torch.linalg.lstsq(ta, tb, driver=driver)
        for name in fr._fields:
            check(getattr(fr, name), getattr(tr, name), name=f"{driver} {name}")
    # a cutoff that drops a singular value (gelsy ranks by a condition estimate of its
    # pivoted QR instead, so only the SVD drivers promise the same rank there)
    for driver in ("gelsd", "gelss"):
        fr = LA.lstsq(fa, fb, rcond=0.5, driver=driver)
        tr = torch.linalg.lstsq(ta, tb, rcond=0.5, driver=driver)
        check(fr.solution, tr.solution, name=f"{driver} rcond=0.5")
        check(fr.rank, tr.rank, name=f"{driver} rcond=0.5 rank")


# ---- norms ---------------------------------------------------------------------------------------

INF = math.inf
VECTOR_ORDS = [2, 1, 3, 0.5, -1, -2.5, INF, -INF, 0]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("ord", VECTOR_ORDS)
def test_vector_norm_matches_torch(ord, dtype, rng):
    torch = pytest.importorskip("torch")
    a = rng.standard_normal((2, 3, 7)).astype(dtype)
    a[0, 1, 2] = 0.0
    f, t = pair(a)
    for kw in (
        {},
        {"dim": 1},
        {"dim": (0, 2), "keepdim": True},
        {"dim": -1},
        {"dim": ()},
        {"keepdim": True},
        {"dim": [2, 0]},
    ):
        check(LA.vector_norm(f, ord, **kw), torch.linalg.vector_norm(t, ord, **kw), dtype, f"{kw}")
    if dtype == np.float32:
        kw = {"dtype": fastnn.float64}
        check(LA.vector_norm(f, ord, **kw), torch.linalg.vector_norm(t, ord, dtype=torch.float64))
    check(LA.vector_norm(f[0, 0, 0], ord), torch.linalg.vector_norm(t[0, 0, 0], ord), dtype, "0-d")


MATRIX_ORDS = ["fro", "nuc", 2, -2, 1, -1, INF, -INF]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("ord", MATRIX_ORDS)
def test_matrix_norm_matches_torch(ord, dtype, rng):
    torch = pytest.importorskip("torch")
    f, t = pair(rng.standard_normal((2, 5, 3)).astype(dtype))
    for kw in (
        {},
        {"dim": (0, 2)},
        {"dim": (2, 0), "keepdim": True},
        {"keepdim": True},
        {"dim": (-1, 1)},
    ):
        check(LA.matrix_norm(f, ord, **kw), torch.linalg.matrix_norm(t, ord, **kw), dtype, f"{kw}")
        check(
            LA.norm(f, ord, **{"dim": (-2, -1), **kw}),
            torch.linalg.norm(t, ord, **{"dim": (-2, -1), **kw}),
            dtype,
            f"norm {kw}",
        )
    for shape in ((2, 0, 3), (3, 0), (0, 0)):
        empty, tempty = pair(np.zeros(shape, dtype))
        want, got = (
            _outcome(lambda: torch.linalg.matrix_norm(tempty, ord)),
            _outcome(lambda: LA.matrix_norm(empty, ord)),
        )
        assert got[0] == want[0], (shape, got, want)
        if got[0] == "ok":
            check(LA.matrix_norm(empty, ord), torch.linalg.matrix_norm(tempty, ord), dtype, "empty")


NORM_CALLS = [
    ((2, 3, 4), {}),
    ((2, 3, 4), {"keepdim": True}),
    ((7,), {"ord": 3}),
    ((3, 4), {"ord": 2}),
    ((3, 4), {"ord": "nuc"}),
    ((3, 4), {"ord": -INF}),
    ((3, 4), {"ord": 0.5, "dim": 1}),
    ((2, 3, 4), {"dim": 0, "keepdim": True}),
    ((2, 3, 4), {"dim": (2, 1), "ord": 1}),
    ((2, 3, 4), {"ord": "fro", "dim": (0, 2)}),
]


@pytest.mark.parametrize("shape,kw", NORM_CALLS)
def test_norm_dispatches_like_torch(shape, kw, rng):
    torch = pytest.importorskip("torch")
    f, t = pair(rng.standard_normal(shape))
    check(LA.norm(f, **kw), torch.linalg.norm(t, **kw), name=str(kw))


NORM_ERRORS = [
    (lambda L, x: L.linalg.vector_norm(x, "fro"), TypeError),
    (lambda L, x: L.linalg.vector_norm(x.to(L.int64)), RuntimeError),
    (lambda L, x: L.linalg.vector_norm(x.double(), dtype=L.float32), RuntimeError),
    (lambda L, x: L.linalg.vector_norm(x[:, :0], INF), RuntimeError),
    (lambda L, x: L.linalg.matrix_norm(x, 3), RuntimeError),
    (lambda L, x: L.linalg.matrix_norm(x, dim=(1, 1)), RuntimeError),
    (lambda L, x: L.linalg.matrix_norm(x, dim=(0,)), RuntimeError),
    (lambda L, x: L.linalg.matrix_norm(x[0, 0]), RuntimeError),
    (lambda L, x: L.linalg.norm(x, 2), RuntimeError),  # ord without dim on a 3-D input
    (lambda L, x: L.linalg.norm(x, dim=(0, 1, 2)), RuntimeError),
    (lambda L, x: L.linalg.norm(x[0, 0], "fro"), RuntimeError),
]


@pytest.mark.parametrize("k", range(len(NORM_ERRORS)))
def test_norm_errors_match_torch(k, rng):
    torch = pytest.importorskip("torch")
    call, error = NORM_ERRORS[k]
    f, t = pair(rng.standard_normal((2, 3, 4)).astype(np.float32))
    with pytest.raises(error):
        call(torch, t)
    with pytest.raises(error) as e:
        call(fastnn, f)
    assert type(e.value) is error
    assert "linalg." in str(e.value) or "ord" in str(e.value)


@pytest.mark.parametrize("ord", VECTOR_ORDS)
def test_norm_gradient_at_zero_is_zero_like_torch(ord):
    torch = pytest.importorskip("torch")
    for a in (np.zeros(4), np.array([1.5, 0.0, -2.0, 0.5])):
        f, t = fastnn.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        fy, ty = LA.vector_norm(f, ord), torch.linalg.vector_norm(t, ord)
        check(fy, ty, name="norm")
        assert fy.requires_grad
        fy.backward()
        ty.backward()
        if t.grad is None:  # ord 0: no gradient reaches x
            assert f.grad is None
            continue
        check(f.grad, t.grad, name=f"gradient of ord {ord} at {a}")
        assert np.isfinite(f.grad.numpy()).all()


# ---- products and powers -------------------------------------------------------------------------


def test_multi_dot_matches_torch_and_multiplies_in_the_cheap_order(rng):
    torch = pytest.importorskip("torch")
    from fastnn._tensor.linalg.products import _chain_order

    shapes = [(4,), (4, 30), (30, 2), (2, 9), (9,)]
    arrays = [rng.standard_normal(s) for s in shapes]
    for lo, hi in ((0, 5), (1, 4), (0, 3), (1, 5), (2, 4)):
        fs = [fastnn.tensor(a) for a in arrays[lo:hi]]
        ts = [torch.tensor(a) for a in arrays[lo:hi]]
        check(LA.multi_dot(fs), torch.linalg.multi_dot(ts), name=f"tensors {lo}..{hi}")
    # (10 x 100)(100 x 5)(5 x 50): (AB)C costs 7500 multiplications, A(BC) 75000
    assert _chain_order([10, 100, 5, 50])[0][2] == 1
    assert _chain_order([50, 5, 100, 10])[0][2] == 0


MULTI_DOT_ERRORS = [
    lambda L, a: L.linalg.multi_dot([a]),
    lambda L, a: L.linalg.multi_dot([a.reshape(2, 3, 2), a]),
    lambda L, a: L.linalg.multi_dot([a[0], a.reshape(1, 2, 6), a[0]]),
    lambda L, a: L.linalg.multi_dot([a, a]),
    lambda L, a: L.linalg.multi_dot([a, a.double().T]),
    lambda L, a: L.linalg.matrix_power(a, 2),
    lambda L, a: L.linalg.matrix_power(a[:3, :3], 2.0),
    lambda L, a: L.linalg.matrix_power(a[0], 2),
]


@pytest.mark.parametrize("k", range(len(MULTI_DOT_ERRORS)))
def test_product_errors_match_torch(k):
    torch = pytest.importorskip("torch")
    a = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    call = MULTI_DOT_ERRORS[k]
    with pytest.raises((RuntimeError, TypeError)) as te:
        call(torch, torch.tensor(a))
    with pytest.raises(type(te.value)):
        call(fastnn, fastnn.tensor(a))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("n", [0, 1, 2, 5, -1, -3])
def test_matrix_power_matches_torch(n, dtype, rng):
    torch = pytest.importorskip("torch")
    if dtype == np.int64:
        a = rng.integers(-2, 3, (2, 3, 3))
    else:
        a = (general(rng, (2, 3, 3)) / 3).astype(dtype)
    f, t = pair(a)
    if n < 0 and dtype == np.int64:
        with pytest.raises(RuntimeError):
            torch.linalg.matrix_power(t, n)
        with pytest.raises(RuntimeError, match="floating point"):
            LA.matrix_power(f, n)
        return
    want = torch.linalg.matrix_power(t, n)
    check(LA.matrix_power(f, n), want, dtype if dtype != np.int64 else np.float64)
    check(fastnn.matrix_power(f, n), want, dtype if dtype != np.int64 else np.float64)
    check(f.matrix_power(n), want, dtype if dtype != np.int64 else np.float64)
    assert LA.matrix_power(f, 1) is not f  # a new tensor, as torch's clone


@pytest.mark.parametrize(
    "sa,sb", [((2, 3), (4, 5)), ((2,), (3, 4)), ((2, 1, 3), (2, 2)), ((), (3,)), ((3,), ())]
)
def test_kron_matches_torch(sa, sb, rng):
    torch = pytest.importorskip("torch")
    fa, ta = pair(rng.standard_normal(sa))
    fb, tb = pair(rng.standard_normal(sb).astype(np.float32))
    check(fastnn.kron(fa, fb), torch.kron(ta, tb))
    check(fa.kron(fb), ta.kron(tb))
    ia, ta_int = pair(rng.integers(0, 5, sa))
    ib, tb_int = pair(rng.integers(0, 5, sb))
    check(fastnn.kron(ia, ib), torch.kron(ta_int, tb_int))


def test_cross_diagonal_vecdot_matmul_match_torch(rng):
    torch = pytest.importorskip("torch")
    f, t = pair(rng.standard_normal((2, 4, 3)))
    g, u = pair(rng.standard_normal((1, 4, 3)))
    check(LA.cross(f, g), torch.linalg.cross(t, u))
    check(LA.cross(f[:, :3], g[:, :3].mT, dim=1), torch.linalg.cross(t[:, :3], u[:, :3].mT, dim=1))
    check(LA.diagonal(f), torch.linalg.diagonal(t))
    check(
        LA.diagonal(f, offset=-1, dim1=0, dim2=2),
        torch.linalg.diagonal(t, offset=-1, dim1=0, dim2=2),
    )
    check(LA.vecdot(f, g), torch.linalg.vecdot(t, u))
    check(LA.vecdot(f, g[0, :, :1], dim=1), torch.linalg.vecdot(t, u[0, :, :1], dim=1))
    check(LA.matmul(f, g.mT), torch.linalg.matmul(t, u.mT))
    with pytest.raises(RuntimeError):
        torch.linalg.vecdot(t, u.float())
    with pytest.raises(RuntimeError, match="same dtype"):
        LA.vecdot(f, g.float())
    with pytest.raises(RuntimeError, match="length 3"):
        LA.cross(f[..., :2], g[..., :2])


def test_out_arguments(rng):
    a = general(rng, (3, 3))
    f = fastnn.tensor(a)
    out = fastnn.empty(3, 3, dtype=fastnn.float64)
    assert LA.inv(f, out=out) is out
    assert_close(out.numpy(), np.linalg.inv(a), atol=1e-12, rtol=1e-12)
    norm = fastnn.empty((), dtype=fastnn.float64)
    assert LA.matrix_norm(f, "nuc", out=norm) is norm
    assert norm.item() == pytest.approx(np.linalg.norm(a, "nuc"))
    with pytest.raises(RuntimeError, match="out has shape"):
        LA.det(f, out=out)
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        LA.inv(fastnn.tensor(a, requires_grad=True), out=out)


# ---- bad inputs: the exception torch raises ------------------------------------------------------

BAD = {
    "int64": np.eye(3, dtype=np.int64) * 2,
    "bool": np.eye(3, dtype=bool),
    "float16": np.eye(3, dtype=np.float16) * 2,
    "non-square": np.arange(6.0, dtype=np.float32).reshape(2, 3) + 1,
    "1-D": np.ones(3, np.float32),
}
CALLS = {
    "inv": lambda L, a: L.linalg.inv(a),
    "inv_ex": lambda L, a: L.linalg.inv_ex(a),
    "det": lambda L, a: L.linalg.det(a),
    "slogdet": lambda L, a: L.linalg.slogdet(a),
    "solve": lambda L, a: L.linalg.solve(a, a),
    "cholesky": lambda L, a: L.linalg.cholesky(a),
    "cholesky_ex": lambda L, a: L.linalg.cholesky_ex(a),
    "qr": lambda L, a: L.linalg.qr(a),
    "svd": lambda L, a: L.linalg.svd(a),
    "svdvals": lambda L, a: L.linalg.svdvals(a),
    "eigh": lambda L, a: L.linalg.eigh(a),
    "eigvalsh": lambda L, a: L.linalg.eigvalsh(a),
    "pinv": lambda L, a: L.linalg.pinv(a),
    "lstsq": lambda L, a: L.linalg.lstsq(a, a),
    "matrix_rank": lambda L, a: L.linalg.matrix_rank(a),
    "vector_norm": lambda L, a: L.linalg.vector_norm(a),
    "matrix_norm": lambda L, a: L.linalg.matrix_norm(a),
    "matrix_norm nuc": lambda L, a: L.linalg.matrix_norm(a, "nuc"),
    "norm": lambda L, a: L.linalg.norm(a),
    "vecdot": lambda L, a: L.linalg.vecdot(a, a),
    "matrix_power -1": lambda L, a: L.linalg.matrix_power(a, -1),
    "det (torch)": lambda L, a: L.det(a),
    "inverse": lambda L, a: L.inverse(a),
    "logdet": lambda L, a: L.logdet(a),
    "slogdet (torch)": lambda L, a: L.slogdet(a),
    "pinverse": lambda L, a: L.pinverse(a),
    "Tensor.cholesky": lambda L, a: a.cholesky(),
    "Tensor.det": lambda L, a: a.det(),
}


def _outcome(call):
    try:
        call()
    except (RuntimeError, TypeError, ValueError, IndexError) as e:  # LinAlgError is a RuntimeError
        name = type(e).__name__.lstrip("_")
        return name, str(e)
    return "ok", ""


@pytest.mark.parametrize("bad", sorted(BAD))
@pytest.mark.parametrize("name", sorted(CALLS))
def test_bad_input_raises_what_torch_raises(name, bad):
    torch = pytest.importorskip("torch")
    a = BAD[bad]
    want, _ = _outcome(lambda: CALLS[name](torch, torch.tensor(a)))
    got, msg = _outcome(lambda: CALLS[name](fastnn, fastnn.tensor(a)))
    assert got == want, f"{name} on {bad}: fastnn {got} ({msg}), torch {want}"
    if got != "ok":  # the message says what was wrong with which argument
        assert str(list(a.shape)) in msg and ("fastnn." in msg or "dimensions" in msg), msg


KEYWORDS = [  # torch's keyword names (its documentation writes A where the binding takes input)
    ("vector_norm", {"x": "spd", "ord": 3}),
    ("matrix_norm", {"input": "spd", "ord": "nuc"}),
    ("norm", {"input": "spd"}),
    ("inv", {"A": "spd"}),
    ("inv_ex", {"A": "spd"}),
    ("det", {"A": "spd"}),
    ("slogdet", {"A": "spd"}),
    ("solve", {"A": "spd", "B": "spd"}),
    ("cholesky", {"input": "spd"}),
    ("cholesky_ex", {"input": "spd"}),
    ("qr", {"A": "spd"}),
    ("svd", {"A": "spd"}),
    ("svdvals", {"A": "spd"}),
    ("eigh", {"input": "spd"}),
    ("eigvalsh", {"input": "spd"}),
    ("pinv", {"input": "spd"}),
    ("lstsq", {"input": "spd", "b": "spd"}),
    ("matrix_rank", {"input": "spd"}),
    ("cross", {"input": "spd", "other": "spd"}),
    ("diagonal", {"A": "spd"}),
    ("vecdot", {"x": "spd", "y": "spd"}),
    ("matmul", {"input": "spd", "other": "spd"}),
    ("matrix_power", {"input": "spd", "n": 2}),
]


@pytest.mark.parametrize("name,kw", KEYWORDS)
def test_keyword_arguments_have_torchs_names(name, kw, rng):
    torch = pytest.importorskip("torch")
    f, t = pair(spd(rng, (3, 3)))
    fr = getattr(LA, name)(**{k: f if v == "spd" else v for k, v in kw.items()})
    tr = getattr(torch.linalg, name)(**{k: t if v == "spd" else v for k, v in kw.items()})
    for a, b in zip(*(r if isinstance(r, tuple) else (r,) for r in (fr, tr))):
        assert tuple(a.shape) == tuple(b.shape)


NON_FINITE = [
    "inv", "det", "slogdet", "solve", "cholesky", "cholesky_ex", "qr", "svd", "svdvals", "eigh",
    "eigvalsh", "pinv", "matrix_rank", "matrix_norm nuc",
]  # fmt: skip


@pytest.mark.parametrize("name", NON_FINITE)
def test_non_finite_inputs_give_torchs_outcome_silently(name):
    torch = pytest.importorskip("torch")
    a = np.array([[[1.0, 0.5], [0.5, 2.0]], [[np.nan, 1.0], [1.0, 2.0]]], np.float32)
    want, _ = _outcome(lambda: CALLS[name](torch, torch.tensor(a)))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        got, msg = _outcome(lambda: CALLS[name](fastnn, fastnn.tensor(a)))
    assert got == want, f"{name}: fastnn {got} ({msg}), torch {want}"
    assert not seen, [str(w.message) for w in seen]
    if got == "LinAlgError":
        assert msg.startswith("linalg.") and "[2, 2, 2]" in msg, msg
    with pytest.raises(LA.LinAlgError, match="non-finite"):  # LAPACK's gelsd would print
        LA.lstsq(fastnn.tensor(a), fastnn.tensor(a))


def test_non_tensor_arguments_are_type_errors():
    with pytest.raises(TypeError, match="linalg.inv.*must be Tensor, not list"):
        LA.inv([[1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(TypeError, match="argument 'n' must be int"):
        LA.matrix_power(fastnn.eye(2), 1.5)
    with pytest.raises(RuntimeError, match="UPLO"):
        LA.eigh(fastnn.eye(2), UPLO="X")
    with pytest.raises(RuntimeError, match="unrecognized mode 'full'"):
        LA.qr(fastnn.eye(2), mode="full")
    with pytest.raises(RuntimeError, match="driver"):
        LA.lstsq(fastnn.eye(2), fastnn.eye(2), driver="gelsx")
    with pytest.raises(RuntimeError, match="driver"):
        LA.svd(fastnn.eye(2), driver="gesvd")


# ---- gradients: finite differences and torch -----------------------------------------------------


def _svd_gauge_free(r):
    """Functions of U and Vh that do not depend on the sign of a singular pair."""
    return (r.U * r.S.unsqueeze(-2)) @ r.Vh, (r.U * r.U).sum(-1), r.Vh.abs().sum(-2), r.S


def _svd_full(r):
    """full_matrices=True: the columns of U past min(m, n) are not determined by A."""
    return r.U[..., : r.S.shape[-1]].abs(), r.S, r.Vh.abs()


def _eigh_gauge_free(r):
    return r.eigenvalues.unsqueeze(-1) * r.eigenvectors**2, r.eigenvectors.abs()


def _sym(x):
    return (x + x.mT) / 2


GRADS = {
    # name: (fn(L, *xs), inputs(rng)); inputs are float64 arrays
    "inv": (lambda L, a: L.linalg.inv(a), lambda r: [general(r, (2, 3, 3))]),
    "inv_ex": (lambda L, a: L.linalg.inv_ex(a).inverse, lambda r: [general(r, (3, 3))]),
    "det": (lambda L, a: L.linalg.det(a), lambda r: [r.standard_normal((2, 3, 3))]),
    "slogdet": (lambda L, a: L.linalg.slogdet(a), lambda r: [r.standard_normal((2, 3, 3))]),
    "logdet": (lambda L, a: L.logdet(a), lambda r: [spd(r, (3, 3))]),
    "solve": (
        lambda L, a, b: L.linalg.solve(a, b),
        lambda r: [general(r, (2, 3, 3)), r.standard_normal((3, 2))],
    ),
    "solve-vector": (
        lambda L, a, b: L.linalg.solve(a, b),
        lambda r: [general(r, (2, 3, 3)), r.standard_normal((2, 3))],
    ),
    "solve-left=False": (
        lambda L, a, b: L.linalg.solve(a, b, left=False),
        lambda r: [general(r, (3, 3)), r.standard_normal((2, 2, 3))],
    ),
    "cholesky": (lambda L, a: L.linalg.cholesky(_sym(a)), lambda r: [spd(r, (2, 4, 4))]),
    "cholesky-upper": (
        lambda L, a: L.linalg.cholesky(_sym(a), upper=True),
        lambda r: [spd(r, (3, 3))],
    ),
    "cholesky_ex": (lambda L, a: L.linalg.cholesky_ex(_sym(a)).L, lambda r: [spd(r, (3, 3))]),
    "qr-tall": (lambda L, a: L.linalg.qr(a), lambda r: [r.standard_normal((2, 5, 3))]),
    "qr-wide": (lambda L, a: L.linalg.qr(a), lambda r: [r.standard_normal((3, 5))]),
    "qr-complete-square": (
        lambda L, a: L.linalg.qr(a, mode="complete"),
        lambda r: [r.standard_normal((4, 4))],
    ),
    "svd-tall": (
        lambda L, a: _svd_gauge_free(L.linalg.svd(a, full_matrices=False)),
        lambda r: [spread(r, (2, 5, 3))],
    ),
    "svd-wide": (
        lambda L, a: _svd_gauge_free(L.linalg.svd(a, full_matrices=False)),
        lambda r: [spread(r, (3, 5))],
    ),
    "svd-full_matrices": (
        lambda L, a: _svd_full(L.linalg.svd(a)),
        lambda r: [spread(r, (5, 3))],
    ),
    "svd-S-only": (lambda L, a: L.linalg.svd(a).S, lambda r: [spread(r, (4, 6))]),
    "svdvals": (lambda L, a: L.linalg.svdvals(a), lambda r: [spread(r, (2, 4, 3))]),
    "eigh": (
        lambda L, a: _eigh_gauge_free(L.linalg.eigh(_sym(a))),
        lambda r: [spread_sym(r, (2, 4, 4))],
    ),
    "eigh-U": (
        lambda L, a: _eigh_gauge_free(L.linalg.eigh(_sym(a), UPLO="U")),
        lambda r: [spread_sym(r, (3, 3))],
    ),
    "eigvalsh": (lambda L, a: L.linalg.eigvalsh(_sym(a)), lambda r: [spread_sym(r, (4, 4))]),
    "pinv-tall": (lambda L, a: L.linalg.pinv(a), lambda r: [spread(r, (2, 5, 3))]),
    "pinv-wide": (lambda L, a: L.linalg.pinv(a), lambda r: [spread(r, (3, 5))]),
    "pinv-hermitian": (
        lambda L, a: L.linalg.pinv(_sym(a), hermitian=True),
        lambda r: [spread_sym(r, (3, 3))],
    ),
    "lstsq": (
        lambda L, a, b: L.linalg.lstsq(a, b, driver="gelsd")[:2],
        lambda r: [spread(r, (2, 5, 3)), r.standard_normal((2, 5, 2))],
    ),
    "lstsq-wide-vector": (
        lambda L, a, b: L.linalg.lstsq(a, b).solution,
        lambda r: [spread(r, (3, 5)), r.standard_normal(3)],
    ),
    "vector_norm-2": (
        lambda L, a: L.linalg.vector_norm(a, dim=1),
        lambda r: [r.standard_normal((3, 4))],
    ),
    "vector_norm-3": (
        lambda L, a: L.linalg.vector_norm(a, 3, dim=(0, 1)),
        lambda r: [r.standard_normal((3, 4))],
    ),
    "vector_norm-0.5": (
        lambda L, a: L.linalg.vector_norm(a, 0.5, dim=-1, keepdim=True),
        lambda r: [r.standard_normal((3, 4))],
    ),
    "vector_norm--1.5": (
        lambda L, a: L.linalg.vector_norm(a, -1.5),
        lambda r: [r.standard_normal((3, 4))],
    ),
    "vector_norm-inf": (
        lambda L, a: L.linalg.vector_norm(a, INF, dim=0),
        lambda r: [r.standard_normal((3, 4))],
    ),
    "matrix_norm-fro": (
        lambda L, a: L.linalg.matrix_norm(a),
        lambda r: [r.standard_normal((2, 4, 3))],
    ),
    "matrix_norm-nuc": (
        lambda L, a: L.linalg.matrix_norm(a, "nuc"),
        lambda r: [spread(r, (2, 4, 3))],
    ),
    "matrix_norm-2": (
        lambda L, a: L.linalg.matrix_norm(a, 2, dim=(0, 2)),
        lambda r: [np.moveaxis(spread(r, (2, 4, 3)), 0, 1)],
    ),
    "matrix_norm--2": (lambda L, a: L.linalg.matrix_norm(a, -2), lambda r: [spread(r, (4, 3))]),
    "matrix_norm-1": (
        lambda L, a: L.linalg.matrix_norm(a, 1),
        lambda r: [r.standard_normal((2, 4, 3))],
    ),
    "matrix_norm--inf": (
        lambda L, a: L.linalg.matrix_norm(a, -INF, keepdim=True),
        lambda r: [r.standard_normal((2, 4, 3))],
    ),
    "norm": (lambda L, a: L.linalg.norm(a, 2), lambda r: [spread(r, (3, 4))]),
    "multi_dot": (
        lambda L, a, b, c: L.linalg.multi_dot([a, b, c]),
        lambda r: [r.standard_normal(4), r.standard_normal((4, 6)), r.standard_normal((6, 2))],
    ),
    "matrix_power-5": (
        lambda L, a: L.linalg.matrix_power(a, 5),
        lambda r: [r.standard_normal((2, 3, 3)) * 0.5],
    ),
    "matrix_power--3": (lambda L, a: L.linalg.matrix_power(a, -3), lambda r: [general(r, (3, 3))]),
    "kron": (
        lambda L, a, b: L.kron(a, b),
        lambda r: [r.standard_normal((2, 3)), r.standard_normal((3, 2, 2))],
    ),
    "vecdot": (
        lambda L, a, b: L.linalg.vecdot(a, b, dim=0),
        lambda r: [r.standard_normal((3, 4)), r.standard_normal((3, 1))],
    ),
    "cross": (
        lambda L, a, b: L.linalg.cross(a, b),
        lambda r: [r.standard_normal((2, 3)), r.standard_normal((1, 3))],
    ),
    "det (torch)": (lambda L, a: L.det(a), lambda r: [r.standard_normal((3, 3))]),
    "inverse (torch)": (lambda L, a: L.inverse(a), lambda r: [general(r, (3, 3))]),
    "slogdet (torch)": (lambda L, a: L.slogdet(a).logabsdet, lambda r: [spd(r, (3, 3))]),
    "pinverse (torch)": (lambda L, a: L.pinverse(a), lambda r: [spread(r, (4, 3))]),
    "Tensor.cholesky": (lambda L, a: _sym(a).cholesky(), lambda r: [spd(r, (3, 3))]),
    "Tensor.logdet": (lambda L, a: a.logdet(), lambda r: [spd(r, (3, 3))]),
}


def _outputs(r):
    return list(r) if isinstance(r, (tuple, list)) else [r]


@pytest.mark.parametrize("name", sorted(GRADS))
def test_gradcheck(name, rng):
    fn, inputs = GRADS[name]
    xs = tuple(fastnn.tensor(a.copy(), requires_grad=True) for a in inputs(rng))
    assert gradcheck(lambda *x: tuple(_outputs(fn(fastnn, *x))), xs)


@pytest.mark.parametrize("name", sorted(GRADS))
def test_gradients_match_torch(name, rng):
    torch = pytest.importorskip("torch")
    fn, inputs = GRADS[name]
    arrays = inputs(rng)
    fx = [fastnn.tensor(a.copy(), requires_grad=True) for a in arrays]
    tx = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    fo, to = _outputs(fn(fastnn, *fx)), _outputs(fn(torch, *tx))
    weights = [rng.standard_normal(tuple(o.shape)) for o in to]
    sum((o * fastnn.tensor(w)).sum() for o, w in zip(fo, weights)).backward()
    sum((o * torch.tensor(w)).sum() for o, w in zip(to, weights)).backward()
    for k, (a, b) in enumerate(zip(fo, to)):
        check(a, b, name=f"output {k}", tol=(1e-9, 1e-8))
    for k, (a, b) in enumerate(zip(fx, tx)):
        check(a.grad, b.grad, name=f"gradient of input {k}", tol=(1e-9, 1e-8))


RAW_SYMMETRIC = {  # used on the leaf itself: only one triangle is read
    "eigh": lambda L, a: _eigh_gauge_free(L.linalg.eigh(a)),
    "eigh-U": lambda L, a: _eigh_gauge_free(L.linalg.eigh(a, UPLO="U")),
    "eigvalsh": lambda L, a: L.linalg.eigvalsh(a),
    "cholesky": lambda L, a: L.linalg.cholesky(a + 8 * L.eye(4, dtype=a.dtype)),
    "cholesky-upper": lambda L, a: L.linalg.cholesky(a + 8 * L.eye(4, dtype=a.dtype), upper=True),
}


@pytest.mark.parametrize("name", sorted(RAW_SYMMETRIC))
def test_gradient_of_a_symmetric_input_is_torchs_symmetric_matrix(name, rng):
    torch = pytest.importorskip("torch")
    a = spread_sym(rng, (2, 4, 4))
    f, t = (L.tensor(a, requires_grad=True) for L in (fastnn, torch))
    fo, to = _outputs(RAW_SYMMETRIC[name](fastnn, f)), _outputs(RAW_SYMMETRIC[name](torch, t))
    weights = [rng.standard_normal(tuple(o.shape)) for o in to]
    sum((o * fastnn.tensor(w)).sum() for o, w in zip(fo, weights)).backward()
    sum((o * torch.tensor(w)).sum() for o, w in zip(to, weights)).backward()
    check(f.grad, t.grad, tol=(1e-9, 1e-8))
    assert_close(f.grad.numpy(), np.swapaxes(f.grad.numpy(), -1, -2), atol=1e-12, rtol=0)


def test_det_gradient_of_a_singular_matrix_is_its_cofactor_matrix():
    # torch returns zeros here; the cofactors are the true derivative of the polynomial det
    a = fastnn.tensor([[1.0, 2.0], [2.0, 4.0]], dtype=fastnn.float64, requires_grad=True)
    LA.det(a).backward()
    np.testing.assert_allclose(a.grad.numpy(), [[4.0, -2.0], [-2.0, 1.0]], atol=1e-12)
    b = fastnn.tensor(np.zeros((2, 3, 3)), requires_grad=True)  # rank 0: all cofactors vanish
    LA.det(b).sum().backward()
    assert not b.grad.numpy().any()
    c = np.array([[[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]], np.eye(3) * 2])
    assert gradcheck(lambda x: LA.det(x), (fastnn.tensor(c, requires_grad=True),))


def test_backward_refuses_what_torch_refuses():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).standard_normal((4, 3))
    for mode, what in (("r", "mode='r'"), ("complete", "mode='complete'")):
        t = torch.tensor(a, requires_grad=True)
        with pytest.raises(RuntimeError):
            torch.linalg.qr(t, mode=mode).R.sum().backward()
        f = fastnn.tensor(a, requires_grad=True)
        with pytest.raises(RuntimeError, match=what):
            LA.qr(f, mode=mode).R.sum().backward()
    s = fastnn.tensor([[1.0, 2.0], [2.0, 4.0]], dtype=fastnn.float64, requires_grad=True)
    logabs = LA.slogdet(s).logabsdet
    assert logabs.item() == -math.inf
    with pytest.raises(LA.LinAlgError, match="gradient of log|det A| is infinite"):
        logabs.backward()


def test_sign_and_count_outputs_have_no_gradient_like_torch(rng):
    a = fastnn.tensor(rng.standard_normal((3, 3)), requires_grad=True)
    sign, _ = LA.slogdet(a)
    (sign * 3).sum().backward()
    assert not a.grad.numpy().any()
    a.grad = None
    count = LA.vector_norm(a, 0)
    assert count.requires_grad and count.item() == 9
    count.backward()
    assert a.grad is None
    rank = LA.matrix_rank(a)
    assert not rank.requires_grad and rank.dtype == fastnn.int64


def test_an_input_changed_in_place_before_backward_is_caught(rng):
    a = fastnn.tensor(general(rng, (3, 3)), requires_grad=True)
    b = a * 1
    d = LA.det(b)
    b.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        d.backward()


# ---- CUDA tensors: computed on the host, results and gradients back on the device ----------------


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


@pytest.mark.parametrize(
    "name",
    [
        "inv",
        "slogdet",
        "solve",
        "cholesky",
        "qr-tall",
        "svd-tall",
        "eigh",
        "pinv-wide",
        "lstsq",
        "matrix_norm-nuc",
        "vector_norm-0.5",
        "det",
    ],
)
def test_cuda_tensors_round_trip_through_the_host(name, rng, emulated):
    fn, inputs = GRADS[name]
    arrays = inputs(rng)
    results = []
    for put in (np.asarray, emulated.from_numpy):
        xs = [fastnn.Tensor._make(put(a.copy()), True) for a in arrays]
        outs = _outputs(fn(fastnn, *xs))
        for o in outs:
            assert type(o._data) is type(xs[0]._data), "the result left the device"
        sum((o * o).sum() for o in outs).backward()
        for x in xs:
            assert type(x.grad._data) is type(x._data), "the gradient left the device"
        results.append(
            [o.cpu().detach().numpy() for o in outs] + [x.grad.cpu().numpy() for x in xs]
        )
    for k, (a, b) in enumerate(zip(*results)):
        assert_close(a, b, atol=1e-12, rtol=1e-10, name=f"array {k}")


def test_cuda_rank_and_info_results_are_on_the_device(emulated):
    x = fastnn.Tensor._make(emulated.from_numpy(np.eye(3)))
    for res in (LA.matrix_rank(x), LA.inv_ex(x).info, LA.cholesky_ex(x).info):
        assert type(res._data) is type(x._data)
    assert LA.matrix_rank(x).item() == 3


# ---- the top-level names and Tensor methods ------------------------------------------------------


def test_top_level_names_and_methods_match_torch(rng):
    torch = pytest.importorskip("torch")
    f, t = pair(general(rng, (2, 3, 3)))
    for name in ("det", "inverse", "logdet"):
        check(getattr(fastnn, name)(f), getattr(torch, name)(t), name=name)
        check(getattr(f, name)(), getattr(t, name)(), name=f"Tensor.{name}")
    for fs, ts in ((fastnn.slogdet(f), torch.slogdet(t)), (f.slogdet(), t.slogdet())):
        assert type(fs).__name__ == "slogdet" and fs._fields == ("sign", "logabsdet")
        check(fs.sign, ts.sign)
        check(fs.logabsdet, ts.logabsdet)
    check(fastnn.pinverse(f, 1e-3), torch.pinverse(t, 1e-3))
    check(fastnn.kron(f, f[0]), torch.kron(t, t[0]))
    check(fastnn.matrix_power(f, 3), torch.matrix_power(t, 3))
    out = fastnn.empty(2, 3, 3, dtype=fastnn.float64)
    assert fastnn.inverse(f, out=out) is out
    check(out, torch.inverse(t))
