"""fastnn.kernels.matmul against the float64 NumPy reference (tests/reference.py).

Tolerance: float64 results are compared at 1e-12 relative to sqrt(K) * |alpha| * max|a| * max|b|
(plus the |beta * out| and |bias| terms); float32 at 2e-6 on the same scale, which bounds the
error of a K-term fp32 dot product with random-sign terms (error grows like sqrt(K) * eps).
"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import fastnn
import reference as ref
from fastnn import kernels

DTYPES = [np.float32, np.float64]
TRANS = [(False, False), (True, False), (False, True), (True, True)]


def tol(dtype, k, a, b, alpha=1.0, beta=0.0, out=None, bias=None):
    """An absolute tolerance scaled to the magnitudes involved (see the module docstring)."""
    amax = np.max(np.abs(a), initial=1.0)
    bmax = np.max(np.abs(b), initial=1.0)
    scale = abs(alpha) * np.sqrt(max(k, 1)) * amax * bmax
    if beta != 0:
        scale += abs(beta) * np.max(np.abs(out), initial=0.0)
    if bias is not None:
        scale += np.max(np.abs(bias), initial=0.0)
    return (2e-6 if dtype == np.float32 else 1e-12) * scale


def operands(rng, m, k, n, ta, tb, dtype, batch=None, batch_b=False):
    ashape = (k, m) if ta else (m, k)
    bshape = (n, k) if tb else (k, n)
    if batch is not None:
        ashape = (batch, *ashape)
        if batch_b:
            bshape = (batch, *bshape)
    a = rng.standard_normal(ashape).astype(dtype)
    b = rng.standard_normal(bshape).astype(dtype)
    return a, b


def check(
    rng,
    a,
    b,
    dtype,
    *,
    trans_a=False,
    trans_b=False,
    alpha=1.0,
    beta=0.0,
    use_out=False,
    use_bias=False,
):
    k = a.shape[-2] if trans_a else a.shape[-1]
    n = b.shape[-2] if trans_b else b.shape[-1]
    m = a.shape[-1] if trans_a else a.shape[-2]
    shape = (*a.shape[:-2], m, n)
    out = rng.standard_normal(shape).astype(dtype) if use_out else None
    bias = rng.standard_normal(n).astype(dtype) if use_bias else None
    expected = ref.matmul(
        a, b, trans_a=trans_a, trans_b=trans_b, alpha=alpha, beta=beta, out=out, bias=bias
    )
    got = kernels.matmul(
        a, b, trans_a=trans_a, trans_b=trans_b, alpha=alpha, beta=beta, out=out, bias=bias
    )
    if use_out:
        assert got is out or np.shares_memory(got, out)
    assert got.dtype == dtype and got.shape == shape and got.flags.c_contiguous
    atol = tol(dtype, k, a, b, alpha, beta, out, bias)
    np.testing.assert_allclose(got, expected, rtol=0, atol=atol)


# ---- shapes, transposes, dtypes, ISA paths, threads ----------------------------------------------

SHAPES = [(1, 1, 1), (2, 7, 1), (7, 2, 33), (33, 65, 7), (65, 33, 257), (257, 65, 2), (13, 300, 45)]


@pytest.mark.parametrize("dtype", DTYPES)
def test_shapes_transposes(rng, isa, threads, dtype):
    for m, k, n in SHAPES:
        for ta, tb in TRANS:
            a, b = operands(rng, m, k, n, ta, tb, dtype)
            check(rng, a, b, dtype, trans_a=ta, trans_b=tb)


@pytest.mark.parametrize("dtype", DTYPES)
def test_epilogue_variants(rng, isa, threads, dtype):
    """alpha, beta (reading out), bias, on full and partial register tiles and both K blocks."""
    for m, k, n in [(33, 300, 65), (5, 3, 9), (40, 600, 10)]:
        for alpha, beta, use_out, use_bias in [
            (1.0, 0.0, True, False),
            (0.5, 0.0, False, True),
            (-2.0, 1.0, True, True),
            (1.0, -0.25, True, False),
        ]:
            for ta, tb in [(False, False), (True, True), (False, True)]:
                a, b = operands(rng, m, k, n, ta, tb, dtype)
                check(
                    rng,
                    a,
                    b,
                    dtype,
                    trans_a=ta,
                    trans_b=tb,
                    alpha=alpha,
                    beta=beta,
                    use_out=use_out,
                    use_bias=use_bias,
                )


@pytest.mark.parametrize("dtype", DTYPES)
def test_training_shapes(rng, isa, dtype):
    """The MLP layer shapes: forward x @ W^T + b and both backward GEMMs."""
    for batch, fin, fout in [(256, 784, 256), (256, 256, 10), (64, 784, 10)]:
        x = rng.standard_normal((batch, fin)).astype(dtype)
        w = rng.standard_normal((fout, fin)).astype(dtype)
        dy = rng.standard_normal((batch, fout)).astype(dtype)
        bias = rng.standard_normal(fout).astype(dtype)
        y = kernels.matmul(x, w, trans_b=True, bias=bias)
        np.testing.assert_allclose(
            y,
            ref.matmul(x, w, trans_b=True, bias=bias),
            rtol=0,
            atol=tol(dtype, fin, x, w, bias=bias),
        )
        dx = kernels.matmul(dy, w)
        np.testing.assert_allclose(dx, ref.matmul(dy, w), rtol=0, atol=tol(dtype, fout, dy, w))
        dw = kernels.matmul(dy, x, trans_a=True)
        np.testing.assert_allclose(
            dw, ref.matmul(dy, x, trans_a=True), rtol=0, atol=tol(dtype, batch, dy, x)
        )


@pytest.mark.parametrize("dtype", DTYPES)
def test_large(rng, threads, dtype):
    """Several KC / MC / NC blocks in every dimension (and the threaded split). C is larger than
    an L2 of up to 2 MiB, so its K blocks are the deep ones (1024 float32 / 544 float64 deep on a
    2 MiB L2): K covers two of them and a short third."""
    m, k, n = (1000, 2100, 1000) if dtype == np.float32 else (700, 1200, 1600)
    a, b = operands(rng, m, k, n, False, False, dtype)
    check(rng, a, b, dtype, use_bias=True)
    a, b = operands(rng, 257, 1000, 300, True, True, dtype)
    check(rng, a, b, dtype, trans_a=True, trans_b=True)


# ---- batched -------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_batched_shared_b(rng, isa, threads, dtype):
    """(B, M, K) @ (K, N): folded into one GEMM when possible, else looped."""
    for ta, tb in TRANS:
        a, b = operands(rng, 9, 17, 33, ta, tb, dtype, batch=5)
        check(rng, a, b, dtype, trans_a=ta, trans_b=tb, use_bias=True)
    a, b = operands(rng, 64, 70, 40, False, False, dtype, batch=3)
    check(rng, a, b, dtype, alpha=0.5, beta=2.0, use_out=True)


@pytest.mark.parametrize("dtype", DTYPES)
def test_batched_both(rng, isa, threads, dtype):
    """(B, M, K) @ (B, K, N): small per-batch GEMMs (parallel over batch) and large ones."""
    for ta, tb in TRANS:
        a, b = operands(rng, 7, 20, 12, ta, tb, dtype, batch=6, batch_b=True)
        check(rng, a, b, dtype, trans_a=ta, trans_b=tb, use_bias=True)
    a, b = operands(rng, 96, 130, 80, False, True, dtype, batch=3, batch_b=True)
    check(rng, a, b, dtype, trans_b=True, beta=1.0, use_out=True)
    # Many mid-size GEMMs (threads take whole batch slices), then few large ones (each split).
    a, b = operands(rng, 64, 64, 64, True, False, dtype, batch=8, batch_b=True)
    check(rng, a, b, dtype, trans_a=True, use_bias=True)
    a, b = operands(rng, 210, 200, 200, False, False, dtype, batch=2, batch_b=True)
    check(rng, a, b, dtype)


def test_batched_noncontiguous_batch(rng):
    """A batch view that cannot be folded (stride jump between batches)."""
    big = rng.standard_normal((4, 20, 30)).astype(np.float32)
    a = big[:, 3:15, 1:25]  # (4, 12, 24) with batch stride 600 != 12 * 30
    b = rng.standard_normal((24, 9)).astype(np.float32)
    check(rng, a, b, np.float32)
    b3 = rng.standard_normal((4, 9, 24)).astype(np.float32)[:, ::-1, :]
    check(rng, a, b3, np.float32, trans_b=True)


# ---- skinny path: min(M, N) <= 16, the big operand read in place -----------------------------
# On avx2/avx512 the driver runs these without packing: the "dot" form when the small side is N
# and op(A)'s rows are contiguous (X @ W^T, X @ W), or the small side is M and op(B)'s columns are
# contiguous (the same on C^T); the "broadcast" form when the small side is M and op(B)'s rows
# are contiguous (dY^T @ X), or N with op(A) columns contiguous (X^T @ dY, on C^T). Small sides
# above 8 are split in two on avx2. Other layouts fall back to the packed path (generic: always).

SMALL = [1, 2, 7, 9, 10, 16]
SKINNY_K = [1, 7, 33, 257, 1000]


def skinny_dims(small, k, small_side):
    big = 1000 if k <= 257 else 300
    return (small, k, big) if small_side == "m" else (big, k, small)


@pytest.mark.parametrize("small_side", ["m", "n"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_skinny_shapes_transposes(rng, isa, threads, dtype, small_side):
    for i, small in enumerate(SMALL):
        for k in SKINNY_K:
            m, _, n = skinny_dims(small, k, small_side)
            ta, tb = TRANS[(i + k) % 4]  # every combination over the K loop, for every small size
            a, b = operands(rng, m, k, n, ta, tb, dtype)
            check(rng, a, b, dtype, trans_a=ta, trans_b=tb)
    for ta, tb in TRANS:  # and all four on the training shapes
        a, b = operands(rng, *skinny_dims(10, 257, small_side), ta, tb, dtype)
        check(rng, a, b, dtype, trans_a=ta, trans_b=tb, use_bias=True)


@pytest.mark.parametrize("dtype", DTYPES)
def test_skinny_epilogue(rng, isa, threads, dtype):
    """alpha, beta (reading out), bias: on both forms, C written directly and transposed."""
    # (300, 1000, 10): the packed W is past half of L1d, so K is summed in pieces; (300, 1000, 16)
    # likewise for each of avx2's two chunks of 8 columns.
    shapes = [(10, 300, 1000), (1000, 300, 10), (16, 33, 77), (77, 33, 16), (3, 1, 5)]
    for m, k, n in [*shapes, (300, 1000, 10), (300, 1000, 16)]:
        for alpha, beta, use_out, use_bias in [
            (1.0, 0.0, True, False),
            (0.5, 0.0, False, True),
            (-2.0, 1.0, True, True),
            (1.0, -0.25, True, False),
        ]:
            for ta, tb in TRANS:
                a, b = operands(rng, m, k, n, ta, tb, dtype)
                check(
                    rng,
                    a,
                    b,
                    dtype,
                    trans_a=ta,
                    trans_b=tb,
                    alpha=alpha,
                    beta=beta,
                    use_out=use_out,
                    use_bias=use_bias,
                )


@pytest.mark.parametrize("dtype", DTYPES)
def test_skinny_linear_layer(rng, isa, threads, dtype):
    """nn.Linear(784, 10) at batch 256: Y = X @ W^T + b, dX = dY @ W, dW = dY^T @ X."""
    x = rng.standard_normal((256, 784)).astype(dtype)
    w = rng.standard_normal((10, 784)).astype(dtype)
    dy = rng.standard_normal((256, 10)).astype(dtype)
    bias = rng.standard_normal(10).astype(dtype)
    check(rng, x, w, dtype, trans_b=True, use_bias=True)
    check(rng, dy, w, dtype)
    check(rng, dy, x, dtype, trans_a=True)
    check(rng, x, w.T.copy(), dtype, use_bias=True)  # W stored (in, out)
    check(rng, x, dy, dtype, trans_a=True)  # and its dW = X^T @ dY
    np.testing.assert_allclose(
        kernels.matmul(x, w, trans_b=True, bias=bias),
        ref.matmul(x, w, trans_b=True, bias=bias),
        rtol=0,
        atol=tol(dtype, 784, x, w, bias=bias),
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_skinny_strided_views(rng, isa, threads, dtype):
    """Views the skinny kernels take (any row stride, negative too) and views they must leave to
    the packed path (the big operand strided along its vectorised dimension)."""
    base = rng.standard_normal((600, 700)).astype(dtype)
    small = rng.standard_normal((40, 300)).astype(dtype)
    w = small[:10, ::2]  # (10, 150), column stride 2: repacked or read by scalar broadcasts
    big_views = [
        base[:300, :150],
        base[::2, :150],
        base[::-2, 3:153],
        base[:300, :300:2],
        base[:300, 149::-1],
        base[:450:3, 10:160],
    ]
    for x in big_views:
        check(rng, x, w, dtype, trans_b=True, use_bias=True)  # X @ W^T
        check(rng, x, w.T, dtype, use_bias=True)  # X @ W
        check(rng, w, x, dtype, trans_b=True)  # W @ X^T (C^T of X @ W^T)
        rows = x.shape[0]
        dy_base = rng.standard_normal((2 * rows, 30)).astype(dtype)
        for dy in (dy_base[:rows, :10], dy_base[::-2, 3:23:2]):  # in place, then repacked
            check(rng, dy, x, dtype, trans_a=True)  # dY^T @ X
            check(rng, x, dy, dtype, trans_a=True)  # X^T @ dY
        check(rng, x.T, x[:, :10], dtype)  # small N, op(A) rows strided: the packed path


@pytest.mark.parametrize("dtype", DTYPES)
def test_skinny_batched(rng, isa, threads, dtype):
    """(B, M, K) @ (K, 10) folds into one skinny GEMM; (B, 10, K) @ (B, K, N) runs one per batch."""
    for ta, tb in TRANS:
        a, b = operands(rng, 100, 65, 10, ta, tb, dtype, batch=4)
        check(rng, a, b, dtype, trans_a=ta, trans_b=tb, use_bias=True)
        a, b = operands(rng, 10, 65, 300, ta, tb, dtype, batch=3, batch_b=True)
        check(rng, a, b, dtype, trans_a=ta, trans_b=tb, beta=0.5, use_out=True)


# A short X @ W with a (K, N <= 16) weight (rows contiguous along N, as in a from-scratch softmax
# regression) takes the broadcast form, reading W in place, while M * the lanes it leaves empty
# stays small; longer X (65 x 10 and up, 7 x 2 and up) transposes W for the dot form instead.
SHORT_X_AT_W = [(1, 1000, 10), (7, 257, 10), (33, 784, 10), (50, 7, 10), (65, 257, 10)]
SHORT_X_AT_W += [(1, 33, 2), (7, 257, 2), (16, 33, 7), (64, 257, 16), (300, 33, 16), (3, 1, 5)]


@pytest.mark.parametrize("dtype", DTYPES)
def test_short_x_at_w(rng, isa, threads, dtype):
    for m, k, n in SHORT_X_AT_W:
        w = rng.standard_normal((k, n)).astype(dtype)
        x = rng.standard_normal((m, k)).astype(dtype)
        check(rng, x, w, dtype, use_bias=True)
        check(rng, x, w, dtype, alpha=-0.5, beta=2.0, use_out=True)
        check(rng, np.ascontiguousarray(x.T), w, dtype, trans_a=True)  # X's columns contiguous
        wide = rng.standard_normal((2 * m, 3 * k)).astype(dtype)
        check(rng, wide[::-2, 1::3], w, dtype, use_bias=True)  # any strides of X
    x = rng.standard_normal((40, 37)).astype(dtype)
    w = rng.standard_normal((37, 10)).astype(dtype)
    x[5, 36] = np.nan  # the last k of row 5
    w[3, 9] = np.inf  # the last column: row 3's inf * x[:, 3]
    got = kernels.matmul(x, w)
    assert np.isnan(got[5]).all()
    with np.errstate(invalid="ignore"):
        exp = ref.matmul(x, w)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(exp))
    np.testing.assert_array_equal(np.isinf(got), np.isinf(exp))


@pytest.mark.parametrize("dtype", DTYPES)
def test_short_wide_split_by_columns(rng, isa, dtype):
    """150 x 300 @ 300 x 700 fits a core's L2, but on two threads goes by columns, which packs
    less there: every layout with a bias and with beta, the same bits as on one thread."""
    before = fastnn.get_num_threads()
    try:
        for ta, tb in TRANS:
            a, b = operands(rng, 150, 300, 700, ta, tb, dtype)
            bias = rng.standard_normal(700).astype(dtype)
            out = rng.standard_normal((150, 700)).astype(dtype)
            results = []
            for t in (1, 2):
                fastnn.set_num_threads(t)
                av, bv = (a.T if ta else a), (b.T if tb else b)
                results.append(kernels.matmul(av, bv, bias=bias))
                got = out.copy()
                kernels.matmul(av, bv, out=got, alpha=0.5, beta=2.0)
                results.append(got)
            np.testing.assert_array_equal(results[0], results[2])
            np.testing.assert_array_equal(results[1], results[3])
            want = ref.matmul(av, bv) + bias
            np.testing.assert_allclose(results[0], want, rtol=0, atol=tol(dtype, 300, a, b))
            want = 0.5 * ref.matmul(av, bv) + 2.0 * out
            np.testing.assert_allclose(
                results[1], want, rtol=0, atol=tol(dtype, 300, a, b, 0.5, 2.0, out)
            )
    finally:
        fastnn.set_num_threads(before)


def test_short_x_at_w_bits_do_not_depend_on_threads(rng):
    """50 x 4000 @ 4000 x 10 is threaded (rows split in whole chunks): same bits on 1 and 2."""
    x = rng.standard_normal((50, 4000)).astype(np.float32)
    w = rng.standard_normal((4000, 10)).astype(np.float32)
    before = fastnn.get_num_threads()
    try:
        results = []
        for t in (1, 2):
            fastnn.set_num_threads(t)
            results.append(kernels.matmul(x, w))
    finally:
        fastnn.set_num_threads(before)
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_allclose(
        results[0], ref.matmul(x, w), rtol=0, atol=tol(np.float32, 4000, x, w)
    )


def test_skinny_pieces_of_k_bits_do_not_depend_on_threads(rng):
    """X @ W^T with a 1000 x 10 W is summed in pieces of K over tiles of rows; the threads split
    the rows, and each output's pieces stay the same on 1 and 2 threads."""
    x = rng.standard_normal((700, 1000)).astype(np.float32)
    w = rng.standard_normal((10, 1000)).astype(np.float32)
    one = _with_threads(1, lambda: kernels.matmul(x, w, trans_b=True))
    np.testing.assert_array_equal(_with_threads(2, lambda: kernels.matmul(x, w, trans_b=True)), one)
    np.testing.assert_allclose(
        one, ref.matmul(x, w, trans_b=True), rtol=0, atol=tol(np.float32, 1000, x, w)
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_skinny_nan_propagates(rng, isa, dtype):
    """NaN / inf in either operand reach exactly the outputs they feed, in every form, including
    the K tail (K = 37 is not a multiple of the vector width), the partial column vector, and
    products summed in pieces of K (K = 1037: the NaN in the last piece, an inf in the first)."""
    for m, k, n, ta, tb in [
        (300, 1037, 10, False, True),
        (300, 37, 10, False, True),
        (300, 37, 10, False, False),
        (10, 37, 300, True, False),
        (300, 37, 10, True, False),
        (10, 37, 300, False, True),
    ]:
        a, b = operands(rng, m, k, n, ta, tb, dtype)
        ai = (k - 1, 5) if ta else (5, k - 1)  # op(A)[5, K - 1]: the last k
        bi = (9, k - 1) if tb else (k - 1, 9)  # op(B)[K - 1, 9]
        a[ai] = np.nan
        b[bi] = np.inf
        a[(0, 2) if ta else (2, 0)] = np.inf
        got = kernels.matmul(a, b, trans_a=ta, trans_b=tb)
        with np.errstate(invalid="ignore"):  # inf - inf in the reference too
            exp = ref.matmul(a, b, trans_a=ta, trans_b=tb)
        assert np.isnan(got[5]).all()
        np.testing.assert_array_equal(np.isnan(got), np.isnan(exp))
        np.testing.assert_array_equal(np.isinf(got), np.isinf(exp))
        finite = np.isfinite(exp)
        atol = tol(dtype, k, np.nan_to_num(a, posinf=0), np.nan_to_num(b, posinf=0))
        np.testing.assert_allclose(got[finite], exp[finite], rtol=0, atol=atol)
        out = np.full((m, n), np.nan, dtype)  # beta == 0: out's NaN must not leak
        a2, b2 = operands(rng, m, k, n, ta, tb, dtype)
        kernels.matmul(a2, b2, trans_a=ta, trans_b=tb, out=out)
        assert np.isfinite(out).all()


# The edges of the packed path: the last row tiles run on the tail kernel where full tiles would
# pad more (AVX-512, 12-row tiles and 8-row tails: 16 = 2 x 8, 256 = 20 x 12 + 2 x 8, 28 = 12 +
# 2 x 8; AVX2, 6-row tiles and 4-row tails: 16 = 2 x 6 + 4, 20 = 2 x 6 + 2 x 4, 40 = 6 x 6 + 4),
# a last column panel of at most half a panel on the half-width kernel (N % 32 from 1 to 16 on
# AVX-512 float32, % 16 on float64 and AVX2). op(A) and op(B) transposed keep the products off
# the in-place forms (below).
EDGE_M = [16, 20, 25, 28, 33, 40, 256]
EDGE_N = [40, 48, 49, 63, 784]


@pytest.mark.parametrize("dtype", DTYPES)
def test_edge_tiles(rng, isa, threads, dtype):
    for m in EDGE_M:
        for n in EDGE_N:
            a, b = operands(rng, m, 37, n, True, True, dtype)
            check(rng, a, b, dtype, trans_a=True, trans_b=True, use_bias=True)
    a, b = operands(rng, 28, 300, 49, True, True, dtype)  # more than one K block
    check(rng, a, b, dtype, trans_a=True, trans_b=True, alpha=0.5, beta=-1.0, use_out=True)


@pytest.mark.parametrize("dtype", DTYPES)
def test_edge_tiles_keep_the_bits(rng, isa, dtype):
    """Each element is one kernel's sum over k in order, in whichever tile it lands: the rows and
    columns of a product that end up in edge tiles have the bits of the same rows and columns
    computed in full tiles of a bigger product."""
    a, b = operands(rng, 264, 300, 800, True, True, dtype)  # both transposed: the packed path
    whole = kernels.matmul(a, b, trans_a=True, trans_b=True)  # 22 x 12 rows, 25 x 32 columns
    for m, n in [(256, 784), (252, 776), (20, 800), (260, 785)]:
        part = kernels.matmul(a[:, :m], b[:n], trans_a=True, trans_b=True)
        np.testing.assert_array_equal(part, whole[:m, :n], err_msg=f"{m} x {n}")


# ---- short M, X @ W^T read in place ---------------------------------------------------------------

# M 17..64 rows, K >= 256, op(A) rows and op(B) columns contiguous along K: in float32 on AVX2 and
# AVX-512 neither operand is packed (blocks of 2 rows, AVX-512 4, by panels of 4 columns of B; M
# leaves 1-3 rows, N % 4 a narrow panel, K % 8 or % 16 a masked tail); the generic path and float64
# run the same shapes packed.
IN_PLACE = [(17, 256, 17), (33, 257, 45), (20, 300, 258), (64, 1023, 18), (48, 784, 256)]
IN_PLACE += [(18, 271, 19), (19, 1024, 33), (63, 520, 22)]


@pytest.mark.parametrize("dtype", DTYPES)
def test_in_place_dot(rng, isa, threads, dtype):
    for m, k, n in IN_PLACE:
        a, b = operands(rng, m, k, n, False, True, dtype)
        check(rng, a, b, dtype, trans_b=True)
        check(rng, a, b, dtype, trans_b=True, use_bias=True)
        check(rng, a, b, dtype, trans_b=True, alpha=-0.5, beta=2.0, use_out=True, use_bias=True)


@pytest.mark.parametrize("dtype", DTYPES)
def test_in_place_dot_views(rng, isa, threads, dtype):
    """Rows of X and of W any distance apart, W's rows backwards, and batches: per-batch W (each
    batch a short GEMM) and a shared W (the batch rows fold into one taller X)."""
    x_base = rng.standard_normal((80, 700)).astype(dtype)
    w_base = rng.standard_normal((120, 300)).astype(dtype)
    w = w_base[::-2, 3:283]  # (60, 280): rows 2 apart, backwards
    for x in (x_base[:40, 10:290], x_base[::2, :280], x_base[39::-1, 400:680]):
        check(rng, x, w, dtype, trans_b=True, use_bias=True)
        check(rng, x, w_base[:33, :280], dtype, trans_b=True)
    a, b = operands(rng, 21, 260, 30, False, True, dtype, batch=3, batch_b=True)
    check(rng, a, b, dtype, trans_b=True, use_bias=True)
    a, b = operands(rng, 9, 260, 30, False, True, dtype, batch=4)
    check(rng, a, b, dtype, trans_b=True, beta=0.5, use_out=True)


@pytest.mark.parametrize("dtype", DTYPES)
def test_in_place_dot_nan_propagates(rng, isa, dtype):
    """NaN / inf reach exactly the outputs they feed, from the vector body and from the K tail."""
    a, b = operands(rng, 33, 261, 46, False, True, dtype)
    a[5, 260] = np.nan  # the last k: the masked tail
    b[45, 3] = np.inf  # the narrow last panel
    a[0, 3] = -np.inf
    got = kernels.matmul(a, b, trans_b=True)
    with np.errstate(invalid="ignore"):
        exp = ref.matmul(a, b, trans_b=True)
    assert np.isnan(got[5]).all()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(exp))
    np.testing.assert_array_equal(np.isinf(got), np.isinf(exp))
    out = np.full((33, 46), np.nan, dtype)  # beta == 0: out's NaN must not leak
    a2, b2 = operands(rng, 33, 261, 46, False, True, dtype)
    kernels.matmul(a2, b2, trans_b=True, out=out)
    assert np.isfinite(out).all()


def test_in_place_dot_bits_do_not_depend_on_threads(rng):
    a, b = operands(rng, 40, 500, 301, False, True, np.float32)
    before = fastnn.get_num_threads()
    try:
        fastnn.set_num_threads(1)
        one = kernels.matmul(a, b, trans_b=True)
        fastnn.set_num_threads(2)
        np.testing.assert_array_equal(kernels.matmul(a, b, trans_b=True), one)
    finally:
        fastnn.set_num_threads(before)


def _with_threads(n, fn):
    before = fastnn.get_num_threads()
    try:
        fastnn.set_num_threads(n)
        return fn()
    finally:
        fastnn.set_num_threads(before)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("trans_b", [False, True])
def test_threads_share_b_in_strips(rng, isa, dtype, trans_b):
    """Split by rows, each thread packs op(B) a strip of columns at a time when it is wider than
    its buffer, and takes blocks of C's rows from a counter: the result is the reference's, on 2
    and 3 threads, and the same bits as on one."""
    cfg = fastnn._C.gemm_config()[np.dtype(dtype).name]
    # K so deep that one NR-wide panel is twice the buffer: strips one panel wide, three of them
    # (C is too narrow to split by columns), the last one partial.
    k = 2 * cfg["b_strip_bytes"] // (np.dtype(dtype).itemsize * cfg["NR"])
    m = n = 2 * cfg["NR"] + 3
    a, b = operands(rng, m, k, n, False, trans_b, dtype)
    out = rng.standard_normal((m, n)).astype(dtype)
    bias = rng.standard_normal(n).astype(dtype)
    expected = ref.matmul(a, b, trans_b=trans_b, beta=0.5, out=out, bias=bias)

    def run():
        got = out.copy()
        kernels.matmul(a, b, trans_b=trans_b, beta=0.5, out=got, bias=bias)
        return got

    one = _with_threads(1, run)
    atol = tol(dtype, k, a, b, 1.0, 0.5, out, bias)
    np.testing.assert_allclose(one, expected, rtol=0, atol=atol)
    for nt in (2, 3):
        np.testing.assert_array_equal(_with_threads(nt, run), one)


# Split by columns (op(B) larger than an L2 of up to 2 MiB; C short and wide, or square with 550
# columns a thread on two), by rows (C narrow; op(B) fits the L2 and C is tall; 261 rows: one run
# of tiles per thread, the last one padded); C past the L2 with K past one deep K block.
@pytest.mark.parametrize(
    "shape",
    [
        (1000, 600, 1000),
        (1100, 600, 1100),
        (1000, 1100, 1000),
        (337, 50, 700),
        (37, 300, 700),
        (700, 300, 37),
        (700, 300, 200),
        (261, 300, 784),
    ],
)
def test_packed_bits_do_not_depend_on_threads(rng, isa, shape):
    """Row blocks claimed in any order, column shares, any thread count: the same bits."""
    m, k, n = shape
    a, b = operands(rng, m, k, n, True, False, np.float32)
    one = _with_threads(1, lambda: kernels.matmul(a, b, trans_a=True))
    for nt in (2, 3):
        np.testing.assert_array_equal(
            _with_threads(nt, lambda: kernels.matmul(a, b, trans_a=True)), one
        )


# ---- small problems, read in place ----------------------------------------------------------------

# Operands that fit in L2 together and op(B) rows contiguous: no packing, op(A) broadcast in place.
# M cut into row chunks (17: 3 x 6 on AVX2, 3 x 6 / 2 x 9 on AVX-512; 100: many), N covering full
# column blocks, a partial last vector and a block narrower than the full one; N past one and two
# column tiles of the chunked walk (192 columns), split between threads mid-tile.
SMALL_PROBLEMS = [
    (17, 1, 17),
    (24, 7, 33),
    (33, 37, 40),
    (64, 64, 64),
    (100, 37, 77),
    (21, 300, 97),
    (33, 40, 400),
    (18, 25, 239),
]


@pytest.mark.parametrize("dtype", DTYPES)
def test_small_problems(rng, isa, threads, dtype):
    for m, k, n in SMALL_PROBLEMS:
        for ta in (False, True):
            a, b = operands(rng, m, k, n, ta, False, dtype)
            check(rng, a, b, dtype, trans_a=ta, use_bias=True)
            check(rng, a, b, dtype, trans_a=ta, alpha=-0.5, beta=2.0, use_out=True)


@pytest.mark.parametrize("dtype", DTYPES)
def test_small_problem_views(rng, isa, threads, dtype):
    """op(A) with any strides (rows apart, every other column, reversed) and op(B) rows apart."""
    base = rng.standard_normal((160, 180)).astype(dtype)
    b_base = rng.standard_normal((90, 120)).astype(dtype)
    b = b_base[::-2, 5:82]  # (45, 77), rows 2 apart backwards
    for a in (base[:50, :45], base[::3, 100:145], base[:50, :90:2], base[49::-1, 44::-1]):
        check(rng, a, b, dtype, use_bias=True)
        check(rng, a, b_base[:45, :77], dtype)


def line_offset_view(rng, shape, dtype, offset_bytes):
    """A C-contiguous array whose data starts `offset_bytes` past a 64-byte boundary."""
    itemsize = np.dtype(dtype).itemsize
    n = int(np.prod(shape))
    buf = np.empty(n + 128 // itemsize, dtype)
    start = (-buf.ctypes.data % 64 + offset_bytes) // itemsize
    view = buf[start : start + n].reshape(shape)
    view[...] = rng.standard_normal(shape)
    assert view.ctypes.data % 64 == offset_bytes
    return view


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m", [96, 128, 129, 200, 256])
@pytest.mark.parametrize("b_offset", [0, 16])
def test_small_problem_b_rows_mid_line(rng, isa, threads, dtype, m, b_offset):
    """op(B)'s rows at a line's start, or all 16 bytes past one (numpy's alignment): up to 128
    rows the broadcast kernels read B in place; above 128 they do for an aligned B where C is small
    or (op(A) not transposed) K is short, and the packed path takes the rest. Every path must be
    right, with B's rows a multiple of 64 bytes apart (every row offset alike) or not."""
    for k, n in ((96, 128), (64, 100), (10, 144), (200, 96)):
        for ta in (False, True):
            a = rng.standard_normal((k, m) if ta else (m, k)).astype(dtype)
            b = line_offset_view(rng, (k, n), dtype, b_offset)
            check(rng, a, b, dtype, trans_a=ta, use_bias=True)
            check(rng, a, b, dtype, trans_a=ta, alpha=-0.5, beta=2.0, use_out=True)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [17, 63, 64, 130])
def test_in_place_dot_rows_mid_line(rng, isa, threads, dtype, n):
    """X @ W^T with X's rows (and W's) 16 bytes past a cache line, K a multiple of 16: the
    in-place dot kernels read X where it is below 64 columns, and from 64 each thread's aligned
    copy of it (rows padded to whole lines); also X a view whose rows are longer than K."""
    for m, k in ((32, 256), (7, 512)):
        a = line_offset_view(rng, (m, k), dtype, 16)
        for b_offset in (0, 16):
            b = line_offset_view(rng, (n, k), dtype, b_offset)
            check(rng, a, b, dtype, trans_b=True, use_bias=True)
            check(rng, a, b, dtype, trans_b=True, alpha=-0.5, beta=2.0, use_out=True)
    wide = line_offset_view(rng, (33, 320), dtype, 48)
    for k in (300, 257):
        b = rng.standard_normal((n, k)).astype(dtype)
        check(rng, wide[:, :k], b, dtype, trans_b=True, use_bias=True)


def test_small_problem_bits_do_not_depend_on_threads(rng):
    a, b = operands(rng, 100, 300, 200, False, False, np.float32)
    before = fastnn.get_num_threads()
    try:
        fastnn.set_num_threads(1)
        one = kernels.matmul(a, b)
        fastnn.set_num_threads(2)
        np.testing.assert_array_equal(kernels.matmul(a, b), one)
    finally:
        fastnn.set_num_threads(before)


@pytest.mark.parametrize("dtype", DTYPES)
def test_small_problem_nan_propagates(rng, dtype):
    a, b = operands(rng, 40, 30, 50, False, False, dtype)
    a[3, 29] = np.nan
    b[0, 47] = np.inf
    got = kernels.matmul(a, b)
    with np.errstate(invalid="ignore"):
        exp = ref.matmul(a, b)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(exp))
    np.testing.assert_array_equal(np.isinf(got), np.isinf(exp))
    assert np.isnan(got[3]).all() and np.isnan(exp[:, 47]).sum() == 1


# ---- strides -------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_strided_and_negative(rng, isa, dtype):
    base_a = rng.standard_normal((70, 90)).astype(dtype)
    base_b = rng.standard_normal((100, 80)).astype(dtype)
    views_a = [base_a[:, ::2], base_a[::-1], base_a[::3, ::-2], base_a.T, base_a[5:40, 10:80].T]
    views_b = [base_b[::2, :], base_b[:, ::-1], base_b[::-3, 1::3], base_b.T]
    for a in views_a:
        for b in views_b:
            for ta in (False, True):
                k = a.shape[0] if ta else a.shape[1]
                for tb in (False, True):
                    kb = b.shape[1] if tb else b.shape[0]
                    bb = b[:k] if not tb else b[:, :k]
                    if (bb.shape[1] if tb else bb.shape[0]) != k or kb < k:
                        continue
                    check(rng, a, bb, dtype, trans_a=ta, trans_b=tb, use_bias=True)


def test_strided_bias(rng):
    a, b = operands(rng, 20, 30, 40, False, False, np.float64)
    bias = rng.standard_normal(80)[::2]
    np.testing.assert_allclose(
        kernels.matmul(a, b, bias=bias), ref.matmul(a, b, bias=bias), rtol=1e-12, atol=1e-12
    )


def test_zero_stride_broadcast_operand(rng):
    """A broadcast (stride 0) view is read, never written: it is valid input."""
    row = rng.standard_normal(30).astype(np.float32)
    a = np.broadcast_to(row, (17, 30))
    b = rng.standard_normal((30, 11)).astype(np.float32)
    check(rng, a, b, np.float32)


def test_large_offsets_int64(rng):
    """Offsets past 2**31 elements: a (3, 5) view with row stride 2**30 + 7 floats inside an
    8 GiB zeroed buffer (calloc'd: only the few touched pages are ever backed by memory)."""
    row_stride = 2**30 + 7
    try:
        buf = np.zeros(2 * row_stride + 5, dtype=np.float32)
    except MemoryError:
        pytest.skip("cannot reserve 8 GiB of address space")
    a = np.lib.stride_tricks.as_strided(buf, shape=(3, 5), strides=(row_stride * 4, 4))
    a[...] = rng.standard_normal((3, 5)).astype(np.float32)
    b = rng.standard_normal((5, 4)).astype(np.float32)
    c = rng.standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_allclose(kernels.matmul(a, b), ref.matmul(a, b), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        kernels.matmul(a, c, trans_a=True), ref.matmul(a, c, trans_a=True), rtol=1e-5, atol=1e-5
    )
    np.testing.assert_allclose(
        kernels.matmul(b.T, a, trans_b=True), ref.matmul(b.T, a, trans_b=True), rtol=1e-5, atol=1e-5
    )
    a3 = a[None]  # batched, batch stride 0 on a length-1 batch
    np.testing.assert_allclose(kernels.matmul(a3, b), ref.matmul(a3, b), rtol=1e-5, atol=1e-5)


# ---- special values and empty ------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_nan_propagates(rng, isa, dtype):
    a, b = operands(rng, 13, 40, 35, False, False, dtype)
    a[3, 7] = np.nan
    b[5, 20] = np.inf
    got = kernels.matmul(a, b)
    exp = ref.matmul(a, b)
    assert np.isnan(got[3]).all()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(exp))
    np.testing.assert_array_equal(np.isinf(got), np.isinf(exp))


def test_beta_zero_ignores_out_contents(rng, isa):
    """beta == 0 (the default) treats out as write-only: NaN in it must not leak (BLAS rule)."""
    a, b = operands(rng, 13, 40, 35, False, False, np.float32)
    out = np.full((13, 35), np.nan, dtype=np.float32)
    kernels.matmul(a, b, out=out)
    np.testing.assert_allclose(out, ref.matmul(a, b), rtol=0, atol=tol(np.float32, 40, a, b))


@pytest.mark.parametrize("dtype", DTYPES)
def test_empty(rng, dtype):
    a = np.zeros((0, 5), dtype)
    b = rng.standard_normal((5, 3)).astype(dtype)
    assert kernels.matmul(a, b).shape == (0, 3)
    assert kernels.matmul(b.T, np.zeros((5, 0), dtype)).shape == (3, 0)
    # K == 0: the product is empty, so the result is beta * out + bias.
    a0, b0 = np.zeros((4, 0), dtype), np.zeros((0, 3), dtype)
    np.testing.assert_array_equal(kernels.matmul(a0, b0), np.zeros((4, 3), dtype))
    bias = rng.standard_normal(3).astype(dtype)
    out = rng.standard_normal((4, 3)).astype(dtype)
    expected = 0.5 * out + bias
    got = kernels.matmul(a0, b0, beta=0.5, out=out, bias=bias)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    np.testing.assert_array_equal(kernels.matmul(a0, b0, bias=bias), np.broadcast_to(bias, (4, 3)))
    assert kernels.matmul(np.zeros((0, 2, 3), dtype), np.zeros((3, 4), dtype)).shape == (0, 2, 4)


# ---- concurrency ---------------------------------------------------------------------------------


def test_concurrent_callers(rng, threads):
    """Several Python threads in matmul at once (GIL released, per-thread packing buffers)."""
    cases = []
    for i in range(12):
        m, k, n = 40 + 13 * i, 150 + 7 * i, 30 + 11 * i
        dtype = DTYPES[i % 2]
        a, b = operands(rng, m, k, n, bool(i % 3 == 0), bool(i % 4 == 0), dtype)
        cases.append((a, b, i % 3 == 0, i % 4 == 0))

    def work(case):
        a, b, ta, tb = case
        return [kernels.matmul(a, b, trans_a=ta, trans_b=tb) for _ in range(5)]

    with ThreadPoolExecutor(max_workers=4) as ex:
        results = list(ex.map(work, cases))
    for (a, b, ta, tb), outs in zip(cases, results):
        expected = ref.matmul(a, b, trans_a=ta, trans_b=tb)
        k = a.shape[0] if ta else a.shape[1]
        for got in outs:
            np.testing.assert_allclose(got, expected, rtol=0, atol=tol(a.dtype, k, a, b))


# ---- bad input -----------------------------------------------------------------------------------


def test_error_types_and_dtypes():
    a = np.ones((3, 4), np.float32)
    b = np.ones((4, 5), np.float32)
    with pytest.raises(TypeError, match="'a' must be a numpy.ndarray"):
        kernels.matmul([[1.0, 2.0]], b)
    with pytest.raises(TypeError, match="'b' must be a numpy.ndarray"):
        kernels.matmul(a, [[1.0]] * 4)
    with pytest.raises(TypeError, match="float32 or float64, got int64"):
        kernels.matmul(np.ones((3, 4), np.int64), b)
    with pytest.raises(TypeError, match="float32 or float64, got float16"):
        kernels.matmul(a, b.astype(np.float16))
    with pytest.raises(TypeError, match="same dtype, got float32 and float64"):
        kernels.matmul(a, b.astype(np.float64))


def test_error_shapes():
    a = np.ones((3, 4), np.float32)
    b = np.ones((4, 5), np.float32)
    with pytest.raises(ValueError, match=r"'a' must have 2 or 3 dimensions, got shape \(12,\)"):
        kernels.matmul(a.ravel(), b)
    with pytest.raises(ValueError, match="'b' must have 2 or 3 dimensions"):
        kernels.matmul(a, np.ones((1, 1, 4, 5), np.float32))
    with pytest.raises(
        ValueError,
        match=r"'a' \(3, 4\) with trans_a=True gives K=3, 'b' \(4, 5\) "
        r"with trans_b=False gives K=4",
    ):
        kernels.matmul(a, b, trans_a=True)
    with pytest.raises(ValueError, match="inner dimensions differ"):
        kernels.matmul(a, b, trans_b=True)
    with pytest.raises(ValueError, match="batch sizes differ"):
        kernels.matmul(np.ones((2, 3, 4), np.float32), np.ones((3, 4, 5), np.float32))
    with pytest.raises(ValueError, match="needs a 3-D 'a'"):
        kernels.matmul(a, np.ones((2, 4, 5), np.float32))


def test_error_byte_strides():
    raw = np.zeros(3 * 4 * 4 + 1, np.uint8)[1:].view(np.float32).reshape(3, 4)  # aligned view
    ok = kernels.matmul(raw, np.ones((4, 2), np.float32))
    assert ok.shape == (3, 2)
    buf = np.zeros(50, np.float32)
    odd = np.lib.stride_tricks.as_strided(buf, shape=(3, 4), strides=(18, 4))
    with pytest.raises(ValueError, match="not a multiple of its item size"):
        kernels.matmul(odd, np.ones((4, 2), np.float32))


def test_error_bias():
    a = np.ones((3, 4), np.float32)
    b = np.ones((4, 5), np.float32)
    with pytest.raises(ValueError, match=r"'bias' must have shape \(5,\), got \(4,\)"):
        kernels.matmul(a, b, bias=np.ones(4, np.float32))
    with pytest.raises(ValueError, match=r"'bias' must have shape \(5,\), got \(1, 5\)"):
        kernels.matmul(a, b, bias=np.ones((1, 5), np.float32))
    with pytest.raises(TypeError, match="'bias' and 'a' must have the same dtype"):
        kernels.matmul(a, b, bias=np.ones(5, np.float64))
    with pytest.raises(TypeError, match="'bias' must be a numpy.ndarray"):
        kernels.matmul(a, b, bias=[0.0] * 5)


def test_error_out():
    a = np.ones((3, 4), np.float32)
    b = np.ones((4, 5), np.float32)
    with pytest.raises(ValueError, match=r"'out' must have shape \(3, 5\), got \(5, 3\)"):
        kernels.matmul(a, b, out=np.zeros((5, 3), np.float32))
    with pytest.raises(TypeError, match="'out' and 'a' must have the same dtype"):
        kernels.matmul(a, b, out=np.zeros((3, 5), np.float64))
    ro = np.zeros((3, 5), np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        kernels.matmul(a, b, out=ro)
    with pytest.raises(ValueError, match="C-contiguous"):
        kernels.matmul(a, b, out=np.zeros((5, 3), np.float32).T)
    with pytest.raises(ValueError, match="beta=0.5 needs 'out'"):
        kernels.matmul(a, b, beta=0.5)
    with pytest.raises(TypeError, match="'out' must be a numpy.ndarray"):
        kernels.matmul(a, b, out=[[0.0] * 5] * 3)


def test_error_out_aliasing():
    buf = np.ones((6, 6), np.float32)
    a = buf[:3, :4]
    b = np.ones((4, 3), np.float32)
    with pytest.raises(ValueError, match="'out' must not share memory with 'a'"):
        kernels.matmul(a, b, out=buf.reshape(-1)[:9].reshape(3, 3))
    sq = np.ones((4, 4), np.float32)
    with pytest.raises(ValueError, match="'out' must not share memory with 'b'"):
        kernels.matmul(np.ones((4, 4), np.float32), sq, out=sq)
    vec = np.ones(16, np.float32)
    with pytest.raises(ValueError, match="'out' must not share memory with 'bias'"):
        kernels.matmul(
            np.ones((4, 4), np.float32),
            np.ones((4, 4), np.float32),
            out=vec.reshape(4, 4),
            bias=vec[:4],
        )
    # Errors leave the process and the out array intact.
    out = np.full((3, 3), 7.0, np.float32)
    with pytest.raises(ValueError):
        kernels.matmul(np.ones((3, 4), np.float32), np.ones((5, 3), np.float32), out=out)
    assert (out == 7.0).all()
