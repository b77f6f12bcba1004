"""The CUDA GEMM (csrc/cuda/matmul.cu, sgemm_kernel.cuh) against a float64 NumPy product.

Every kernel path the float32 planner can pick on this GPU (128x128, 128x64 and 64x64 tiles,
split K) is reached on purpose (shapes are found through fastnn._cuda._gemm_plan), with every
transpose combination, alpha/beta (beta=0 over a NaN-filled output), bias, ragged tails in M, N
and K, K=1, misaligned leading dimensions and base pointers (views one element in), batch >
65535 (the grid's y limit) and a guard buffer around the output that must come back untouched.
The GPU tests skip without a GPU; the planner's host-side checks run everywhere.
"""

import numpy as np
import pytest

from fastnn import cuda

_cuda = pytest.importorskip("fastnn._cuda")

_skip_without_gpu = pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA GPU")


def needs_gpu(test):
    return pytest.mark.cuda(_skip_without_gpu(test))


TRANSPOSES = [(False, False), (False, True), (True, False), (True, True)]
# Relative to sum |alpha * a * b| + |beta * c| + |bias| per element: fp32 over K <= a few
# thousand terms stays far below 1e-4; a wrong or missing term is off by O(1).
TOL = {np.float32: 1e-4, np.float64: 1e-12}


def _plan(batch, m, n, k, sms=0):
    return _cuda._gemm_plan(batch, m, n, k, sms=sms)


# ---- host side: the planner (no GPU) ----


def test_plan_rejects_bad_arguments():
    with pytest.raises(ValueError, match="batch, m, n and k must be >= 1"):
        _plan(0, 4, 4, 4, sms=132)
    with pytest.raises(ValueError, match="k must be >= 1"):
        _plan(1, 4, 4, 0, sms=132)
    with pytest.raises(ValueError, match="sms must be >= 0"):
        _plan(1, 4, 4, 4, sms=-1)


def test_plan_known_shapes():
    big = _plan(1, 4096, 4096, 4096, sms=132)
    assert (big["tile_m"], big["tile_n"], big["splits"]) == (128, 128, 1)
    assert big["grid_x"] == 32 * 32 and big["grid_y"] == 1
    # The MLP's GEMMs (batch 256, 784 -> 256 -> 256 -> 10) would run a handful of blocks
    # unsplit; split K fills the GPU.
    for m, n, k in [(256, 256, 784), (784, 256, 256), (256, 784, 256), (256, 256, 256)]:
        p = _plan(1, m, n, k, sms=132)
        # As many blocks as SMs, unless chunks would get shallower than 32.
        enough = min(132, p["grid_x"] * (k // 32))
        assert p["splits"] > 1 and p["grid_x"] * p["splits"] >= enough, (m, n, k, p)
        assert p["k_chunk"] % 8 == 0 and (p["splits"] - 1) * p["k_chunk"] < k
    # Mostly-padding tiles are avoided: a 10-wide output never gets a 128-wide tile.
    assert _plan(5000, 64, 10, 64, sms=132)["tile_n"] == 64
    # The grid's y axis stops at 65535; the rest of the batch goes to further launches.
    assert _plan(100000, 2, 3, 4, sms=132)["grid_y"] == 65535
    assert _plan(7, 2, 3, 4, sms=132)["grid_y"] == 7


# ---- GPU ----


def _ck():
    from fastnn.cuda import kernels as ck

    return ck


def _op(x, t):
    return np.swapaxes(x, -1, -2) if t else x


def _reference(a, b, ta, tb, alpha, beta, c0, bias):
    a64, b64 = _op(a.astype(np.float64), ta), _op(b.astype(np.float64), tb)
    want = alpha * (a64 @ b64)
    mag = abs(alpha) * (np.abs(a64) @ np.abs(b64))
    if beta != 0.0:
        want = want + beta * c0.astype(np.float64)
        mag = mag + np.abs(beta * c0.astype(np.float64))
    if bias is not None:
        want = want + bias.astype(np.float64)
        mag = mag + np.abs(bias.astype(np.float64))
    return want, mag


def _assert_matches(got, want, mag, dtype, what):
    assert got.shape == want.shape, (what, got.shape, want.shape)
    err = np.abs(got.astype(np.float64) - want)
    bound = TOL[dtype] * (mag + 1.0)
    bad = ~(err <= bound)  # NaN counts as bad
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        pytest.fail(
            f"{what}: {int(bad.sum())} of {bad.size} elements off; first at {idx}: "
            f"got {got[idx]!r}, want {want[idx]!r}"
        )


def _operands(rng, batch, m, n, k, ta, tb, dtype, b_batched=True):
    lead = (batch,) if batch else ()
    a = rng.standard_normal(lead + ((k, m) if ta else (m, k))).astype(dtype)
    b_lead = lead if b_batched else ()
    b = rng.standard_normal(b_lead + ((n, k) if tb else (k, n))).astype(dtype)
    return a, b


def _run_case(rng, batch, m, n, k, ta, tb, dtype, *, alpha=1.0, beta=0.0, bias=False, what=""):
    """One GEMM on the GPU against NumPy; beta=0 runs over a NaN-filled `out`."""
    ck = _ck()
    a, b = _operands(rng, batch, m, n, k, ta, tb, dtype)
    shape = ((batch,) if batch else ()) + (m, n)
    c0 = rng.standard_normal(shape).astype(dtype) if beta != 0.0 else np.full(shape, np.nan, dtype)
    bv = rng.standard_normal(n).astype(dtype) if bias else None
    out = cuda.from_numpy(c0)
    got = ck.matmul(
        cuda.from_numpy(a),
        cuda.from_numpy(b),
        trans_a=ta,
        trans_b=tb,
        alpha=alpha,
        beta=beta,
        out=out,
        bias=None if bv is None else cuda.from_numpy(bv),
    )
    want, mag = _reference(a, b, ta, tb, alpha, beta, c0, bv)
    _assert_matches(got.numpy(), want, mag, dtype, what or f"{batch}x{m}x{n}x{k} ta={ta} tb={tb}")


# Candidate sizes for reaching a kernel path: ragged (not multiples of the tiles) on purpose.
_SIZES = [33, 65, 100, 129, 200, 257, 400, 513, 777, 1025, 1500, 2049]
PATHS = [(128, 128, False), (128, 64, False), (64, 64, False), (64, 64, True)]


def _shape_for(path, k):
    """The smallest (batch, m, n) whose float32 plan on this GPU takes `path` at depth k."""
    tile_m, tile_n, split = path
    best = None
    for batch in (1, 3, 40, 300):
        for m in _SIZES:
            for n in _SIZES:
                p = _plan(batch, m, n, k)
                hit = (p["tile_m"], p["tile_n"], p["splits"] > 1) == path
                if hit and (best is None or batch * m * n < best[0] * best[1] * best[2]):
                    best = (batch, m, n)
    if best is None:
        pytest.fail(f"no candidate shape reaches tile {tile_m}x{tile_n} split={split} at K={k}")
    return best


@needs_gpu
@pytest.mark.parametrize("k", [300, 301])
@pytest.mark.parametrize(("ta", "tb"), TRANSPOSES)
@pytest.mark.parametrize("path", PATHS, ids=lambda p: f"{p[0]}x{p[1]}{'-splitk' if p[2] else ''}")
def test_every_kernel_path(path, ta, tb, k, rng):
    # K=300 keeps 16-byte runs for K-contiguous operands; K=301 forces their scalar fallback.
    batch, m, n = _shape_for(path, k)
    _run_case(
        rng,
        batch if batch > 1 else 0,
        m,
        n,
        k,
        ta,
        tb,
        np.float32,
        alpha=1.5,
        beta=0.5,
        bias=True,
        what=f"path {path} batch={batch} {m}x{n}x{k} ta={ta} tb={tb}",
    )
    _run_case(
        rng,
        batch if batch > 1 else 0,
        m,
        n,
        k,
        ta,
        tb,
        np.float32,
        what=f"path {path} beta=0 over NaN",
    )


@needs_gpu
@pytest.mark.parametrize(("ta", "tb"), TRANSPOSES)
@pytest.mark.parametrize(
    ("m", "n", "k"),
    # 2048 x 2052 x 260: every leading dimension a multiple of 4 (16-byte runs on the big tile)
    # with a 4-wide tail column of tiles.
    [(129, 257, 300), (1000, 1000, 1000), (2049, 2050, 515), (2048, 2052, 260)],
)
def test_large_shapes(m, n, k, ta, tb, rng):
    _run_case(rng, 0, m, n, k, ta, tb, np.float32, alpha=0.75, beta=-1.25, bias=True)


RAGGED = [
    (1, 1, 1),
    (1, 7, 1),
    (7, 1, 33),
    (5, 3, 2),
    (33, 65, 7),
    (65, 33, 129),
    (127, 129, 9),
    (3, 1000, 2),
    (1000, 3, 17),
    (257, 1, 257),
    (1, 257, 300),
]


@needs_gpu
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("ta", "tb"), TRANSPOSES)
@pytest.mark.parametrize(("m", "n", "k"), RAGGED)
def test_ragged_tails_and_k1(m, n, k, ta, tb, dtype, rng):
    _run_case(rng, 0, m, n, k, ta, tb, dtype, alpha=1.0, beta=0.0, bias=True)
    _run_case(rng, 0, m, n, k, ta, tb, dtype, alpha=-2.0, beta=3.0)


@needs_gpu
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m", [1, 8, 129])
def test_k_equal_one_is_an_outer_product(m, dtype, rng):
    for ta, tb in TRANSPOSES:
        _run_case(rng, 0, m, 300, 1, ta, tb, dtype, alpha=2.0, beta=0.5, bias=True)


def _view_at(arr, offset, pad_after=0, fill=np.nan):
    """A DeviceArray view of `arr` starting `offset` elements into a NaN-filled buffer."""
    buf = np.full(offset + arr.size + pad_after, fill, arr.dtype)
    buf[offset : offset + arr.size] = arr.reshape(-1)
    whole = cuda.from_numpy(buf)
    return whole, whole.narrow0(offset, offset + arr.size).reshape(arr.shape)


@needs_gpu
@pytest.mark.parametrize("offset", [1, 2, 3])
@pytest.mark.parametrize(("ta", "tb"), TRANSPOSES)
@pytest.mark.parametrize(("batch", "m", "n", "k"), [(0, 130, 132, 300), (3, 64, 128, 256)])
def test_misaligned_pointers(batch, m, n, k, ta, tb, offset, rng):
    # Leading dimensions that are multiples of 4 but base pointers that are not 16-byte aligned:
    # the kernel must notice the pointer, not only the dimension, and take the scalar path.
    ck = _ck()
    a, b = _operands(rng, batch, m, n, k, ta, tb, np.float32)
    shape = ((batch,) if batch else ()) + (m, n)
    c0 = rng.standard_normal(shape).astype(np.float32)
    bias = rng.standard_normal(n).astype(np.float32)
    _, av = _view_at(a, offset)
    _, bv = _view_at(b, offset)
    _, cv = _view_at(c0, offset)
    _, biasv = _view_at(bias, offset)
    ck.matmul(av, bv, trans_a=ta, trans_b=tb, alpha=1.25, beta=0.5, out=cv, bias=biasv)
    want, mag = _reference(a, b, ta, tb, 1.25, 0.5, c0, bias)
    _assert_matches(cv.numpy(), want, mag, np.float32, f"offset {offset}")


@needs_gpu
@pytest.mark.parametrize("path", PATHS, ids=lambda p: f"{p[0]}x{p[1]}{'-splitk' if p[2] else ''}")
@pytest.mark.parametrize("offset", [0, 1])
def test_writes_stay_inside_the_output(path, offset, rng):
    ck = _ck()
    batch, m, n = _shape_for(path, 300)
    lead = (batch,) if batch > 1 else ()
    for ta, tb in TRANSPOSES:
        a, b = _operands(rng, batch if lead else 0, m, n, 300, ta, tb, np.float32)
        shape = (*lead, m, n)
        pad = 4096 + 3  # past a whole tile row and not a multiple of 4
        whole, out = _view_at(np.zeros(shape, np.float32), offset + 64, pad_after=pad)
        out.fill_(np.nan)
        bias = rng.standard_normal(n).astype(np.float32)
        ck.matmul(
            cuda.from_numpy(a),
            cuda.from_numpy(b),
            trans_a=ta,
            trans_b=tb,
            out=out,
            bias=cuda.from_numpy(bias),
        )
        full = whole.numpy()
        start = offset + 64
        outside = np.concatenate([full[:start], full[start + out.size :]])
        assert np.isnan(outside).all(), f"ta={ta} tb={tb}: the kernel wrote outside its output"
        want, mag = _reference(a, b, ta, tb, 1.0, 0.0, None, bias)
        _assert_matches(out.numpy(), want, mag, np.float32, f"guarded ta={ta} tb={tb}")


@needs_gpu
def test_split_k_is_deterministic(rng):
    ck = _ck()
    batch, m, n = _shape_for((64, 64, True), 1000)
    assert _plan(batch, m, n, 1000)["splits"] > 1
    a, b = _operands(rng, batch if batch > 1 else 0, m, n, 1000, False, False, np.float32)
    da, db = cuda.from_numpy(a), cuda.from_numpy(b)
    first = ck.matmul(da, db).numpy()
    for _ in range(3):
        np.testing.assert_array_equal(ck.matmul(da, db).numpy(), first)


@needs_gpu
@pytest.mark.parametrize("b_batched", [True, False])
@pytest.mark.parametrize(("ta", "tb"), TRANSPOSES)
def test_split_k_with_a_batch(ta, tb, b_batched, rng):
    # A few small items with a deep K: split, with partials per (chunk, item) in the workspace.
    ck = _ck()
    batch, m, n, k = 3, 40, 52, 700
    assert _plan(batch, m, n, k)["splits"] > 1
    a, b = _operands(rng, batch, m, n, k, ta, tb, np.float32, b_batched=b_batched)
    c0 = rng.standard_normal((batch, m, n)).astype(np.float32)
    bias = rng.standard_normal(n).astype(np.float32)
    out = cuda.from_numpy(c0)
    ck.matmul(
        cuda.from_numpy(a),
        cuda.from_numpy(b),
        trans_a=ta,
        trans_b=tb,
        alpha=-0.5,
        beta=2.0,
        out=out,
        bias=cuda.from_numpy(bias),
    )
    want, mag = _reference(a, b, ta, tb, -0.5, 2.0, c0, bias)
    _assert_matches(out.numpy(), want, mag, np.float32, f"split batched ta={ta} tb={tb}")


@needs_gpu
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("b_batched", [True, False])
def test_batch_past_the_grid_limit(dtype, b_batched, rng):
    ck = _ck()
    batch, m, n, k = 70001, 3, 5, 4
    a, b = _operands(rng, batch, m, n, k, False, True, dtype, b_batched=b_batched)
    bias = rng.standard_normal(n).astype(dtype)
    got = ck.matmul(
        cuda.from_numpy(a), cuda.from_numpy(b), trans_b=True, bias=cuda.from_numpy(bias)
    ).numpy()
    want, mag = _reference(a, b, False, True, 1.0, 0.0, None, bias)
    _assert_matches(got, want, mag, dtype, f"batch {batch}")
    # The last items are past grid.y = 65535, in a second launch: without it they would stay 0.
    assert np.abs(got[-1]).sum() > 0


@needs_gpu
@pytest.mark.parametrize(("ta", "tb"), TRANSPOSES)
def test_float64_keeps_working(ta, tb, rng):
    _run_case(rng, 0, 129, 70, 300, ta, tb, np.float64, alpha=0.5, beta=2.0, bias=True)
    _run_case(rng, 4, 33, 65, 17, ta, tb, np.float64)


@needs_gpu
def test_torch_parity_when_torch_has_cuda(rng):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch without CUDA")
    torch.backends.cuda.matmul.allow_tf32 = False
    ck = _ck()
    a = rng.standard_normal((300, 513)).astype(np.float32)
    b = rng.standard_normal((257, 513)).astype(np.float32)
    got = ck.matmul(cuda.from_numpy(a), cuda.from_numpy(b), trans_b=True).numpy()
    ref = (torch.from_numpy(a).cuda() @ torch.from_numpy(b).cuda().T).cpu().numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)
