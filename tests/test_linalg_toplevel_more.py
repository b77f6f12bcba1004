"""torch parity of _tensor/linalg/toplevel_more.py and histogramdd.py: cholesky_solve /
cholesky_inverse (values, batches, gradients), the deprecated norms, geqrf / ormqr, the randomized
low-rank SVD and PCA (reconstructions and singular values, not bits), histogramdd; errors."""

import warnings

import numpy as np
import pytest

import fastnn
from api_parity import check as _check
from fastnn.autograd import gradcheck

torch = pytest.importorskip("torch")
RNG = np.random.default_rng(11)


def check(*args, **kwargs):
    return _check(*args, torch=torch, **kwargs)


def spd_factor(*batch, n, dtype=np.float64):
    a = RNG.standard_normal((*batch, n, n))
    A = a @ np.swapaxes(a, -1, -2) + n * np.eye(n)
    return np.linalg.cholesky(A).astype(dtype)


@pytest.mark.parametrize("upper", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch, n, k", [((), 1, 1), ((), 7, 3), ((2,), 5, 33), ((3, 1), 4, 2)])
def test_cholesky_solve_and_inverse_match_torch(upper, dtype, batch, n, k):
    L = spd_factor(*batch, n=n, dtype=dtype)
    L = np.swapaxes(L, -1, -2).copy() if upper else L
    B = RNG.standard_normal((*batch, n, k)).astype(dtype)
    tol = dict(rtol=1e-3, atol=1e-4) if dtype == np.float32 else {}
    check(lambda T, b, f: T.cholesky_solve(b, f, upper), B, L, grad=(0, 1), **tol)
    check(lambda T, b, f: b.cholesky_solve(f, upper=upper), B, L, grad=(0,), **tol)
    check(lambda T, f: (T.cholesky_inverse(f, upper), f.cholesky_inverse(upper)), L, **tol)


def test_cholesky_gradcheck_and_errors():
    L = fastnn.tensor(spd_factor(n=4), requires_grad=True)
    B = fastnn.tensor(RNG.standard_normal((4, 2)), requires_grad=True)
    assert gradcheck(lambda b, f: fastnn.cholesky_solve(b, f.tril()), (B, L))
    assert gradcheck(lambda f: fastnn.cholesky_inverse(f.tril()), (L,))
    with pytest.raises(RuntimeError, match="rows must match"):
        fastnn.cholesky_solve(fastnn.ones(3, 2), fastnn.eye(4))
    with pytest.raises(RuntimeError, match="square"):
        fastnn.cholesky_inverse(fastnn.ones(3, 2))
    with pytest.raises(RuntimeError, match="same dtype"):
        fastnn.cholesky_solve(fastnn.ones(4, 2), fastnn.eye(4, dtype=fastnn.float64))
    with pytest.raises(TypeError, match="input"):
        fastnn.cholesky_inverse([[1.0]])


def test_deprecated_norms_match_torch():
    x = RNG.standard_normal((2, 7, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(lambda T, t: T.frobenius_norm(t, (1, 2)), x)
        check(lambda T, t: T.frobenius_norm(t, [0], keepdim=True), x)
        check(lambda T, t: T.frobenius_norm(t, []), x)
        check(lambda T, t: T.nuclear_norm(t, (1, 2)), x)
        check(lambda T, t: T.nuclear_norm(t[0], keepdim=True), x)
    with pytest.warns(UserWarning, match="deprecated"), pytest.raises(RuntimeError, match="2-d"):
        fastnn.nuclear_norm(fastnn.ones(2, 3, 4))
    with pytest.raises(RuntimeError, match="linalg.matrix_rank"):
        fastnn.matrix_rank(fastnn.eye(3))


@pytest.mark.parametrize("shape", [(7, 3), (3, 7), (2, 5, 5), (1, 1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_geqrf_and_ormqr_match_torch(shape, dtype):
    A = RNG.standard_normal(shape).astype(dtype)
    m = shape[-2]
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else {}
    check(lambda T, a: T.geqrf(a), A, grad=(), **tol)
    C_left = RNG.standard_normal((*shape[:-2], m, 4)).astype(dtype)
    C_right = RNG.standard_normal((*shape[:-2], 2, m)).astype(dtype)
    for left, C in ((True, C_left), (False, C_right)):
        for transpose in (False, True):
            check(
                lambda T, a, c, left=left, tr=transpose: T.ormqr(*T.geqrf(a), c, left, tr),
                A,
                C,
                grad=(1,),
                **tol,
            )
    check(lambda T, a, c: a.geqrf()[0].ormqr(a.geqrf()[1], c), A, C_left, grad=(), **tol)


def test_ormqr_errors():
    a, tau = fastnn.geqrf(fastnn.ones(4, 3))
    with pytest.raises(RuntimeError, match="4 rows"):
        fastnn.ormqr(a, tau, fastnn.ones(3, 2))
    with pytest.raises(RuntimeError, match="4 columns"):
        fastnn.ormqr(a, tau, fastnn.ones(3, 3), left=False)
    with pytest.raises(RuntimeError, match="at least 2"):
        fastnn.geqrf(fastnn.ones(3))


@pytest.mark.parametrize("shape, rank, q", [((33, 7), 3, 4), ((7, 33), 2, 5), ((2, 9, 6), 3, 3)])
def test_svd_lowrank_reconstructs_low_rank_matrices(shape, rank, q):
    *batch, m, n = shape
    A = RNG.standard_normal((*batch, m, rank)) @ RNG.standard_normal((*batch, rank, n))
    fastnn.manual_seed(0)
    U, S, V = fastnn.svd_lowrank(fastnn.tensor(A), q=q)
    Ut, St, Vt = torch.svd_lowrank(torch.tensor(A), q=q)
    assert tuple(U.shape) == tuple(Ut.shape) and tuple(V.shape) == tuple(Vt.shape)
    np.testing.assert_allclose((U * S.unsqueeze(-2) @ V.mT).numpy(), A, atol=1e-10)
    np.testing.assert_allclose(S.numpy()[..., :rank], St.numpy()[..., :rank], rtol=1e-10)
    np.testing.assert_allclose(
        U.mT.matmul(U).numpy(), np.broadcast_to(np.eye(q), (*batch, q, q)), atol=1e-10
    )


def test_svd_lowrank_with_M_and_pca():
    A = RNG.standard_normal((33, 2)) @ RNG.standard_normal((2, 7)) + 3.0
    M = fastnn.full((33, 7), 3.0, dtype=fastnn.float64)
    U, S, V = fastnn.svd_lowrank(fastnn.tensor(A), q=2, M=M)
    np.testing.assert_allclose((U * S @ V.mT).numpy(), A - 3.0, atol=1e-10)
    U, S, V = fastnn.pca_lowrank(fastnn.tensor(A))
    Ut, St, Vt = torch.pca_lowrank(torch.tensor(A))
    assert tuple(V.shape) == tuple(Vt.shape) == (7, 6)
    assert tuple(U.shape) == tuple(Ut.shape) == (33, 6)
    np.testing.assert_allclose(S.numpy()[:2], St.numpy()[:2], rtol=1e-10)
    centred = A - A.mean(0)
    np.testing.assert_allclose((U * S @ V.mT).numpy(), centred, atol=1e-10)
    with pytest.raises(ValueError, match="q must be"):
        fastnn.svd_lowrank(fastnn.ones(3, 4), q=5)
    with pytest.raises(ValueError, match="q must be"):
        fastnn.pca_lowrank(fastnn.ones(3, 4), q=0)


def test_svd_lowrank_gradcheck():
    A = fastnn.tensor(RNG.standard_normal((5, 2)) @ RNG.standard_normal((2, 4)), requires_grad=True)

    def recon(a):
        fastnn.manual_seed(1)
        U, S, V = fastnn.svd_lowrank(a, q=2, niter=1)
        return U * S @ V.mT

    assert gradcheck(recon, (A,))


HISTOGRAMS = [
    {"bins": 4},
    {"bins": [2, 3, 5]},
    {"bins": [2, 1, 5], "density": True},
    {"bins": 3, "range": [-1.0, 1.0, -2.0, 2.0, 0.0, 1.0]},
    {"bins": "edges"},
    {"bins": 3, "weight": True},
]


@pytest.mark.parametrize("kwargs", HISTOGRAMS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_histogramdd_matches_torch(kwargs, dtype):
    pts = RNG.standard_normal((2, 33, 3)).astype(dtype)
    w = RNG.random((2, 33)).astype(dtype)
    edges = [np.array(e, dtype=dtype) for e in ([-1, 0, 2], [-3, 0, 0.5, 3], [0, 1])]

    def run(T, p, wt):
        kw = dict(kwargs)
        if kw["bins"] == "edges":
            kw["bins"] = [T.tensor(e) for e in edges]
        if kw.pop("weight", False):
            kw["weight"] = wt
        hist, bin_edges = T.histogramdd(p, **kw)
        return hist, *bin_edges

    check(run, pts, w, grad=())


def test_histogramdd_one_value_and_errors():
    check(lambda T, p: tuple(T.histogramdd(p, bins=2)), np.ones((3, 2)), grad=())
    with pytest.raises(RuntimeError, match="expected 2 bin"):
        fastnn.histogramdd(fastnn.ones(3, 2), bins=[2, 2, 2])
    with pytest.raises(RuntimeError, match="range must have"):
        fastnn.histogramdd(fastnn.ones(3, 2), bins=2, range=[0.0, 1.0])
    with pytest.raises(RuntimeError, match="bins must be > 0"):
        fastnn.histogramdd(fastnn.ones(3, 2), bins=0)
    with pytest.raises(NotImplementedError, match="float"):
        fastnn.histogramdd(fastnn.ones(3, 2, dtype=fastnn.int64), bins=2)
    with pytest.raises(RuntimeError, match="weight"):
        fastnn.histogramdd(fastnn.ones(3, 2), bins=2, weight=fastnn.ones(2))
