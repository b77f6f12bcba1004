"""batch_norm / layer_norm / group_norm kernels (and their _backward) vs the float64 NumPy
references in reference_norm.py on awkward sizes, float32 and float64, 1 and 2 threads, every ISA
path; accuracy on inputs with a large mean; results independent of the thread count; every bad
argument."""

import numpy as np
import pytest

import fastnn
import reference_norm as ref
from conftest import assert_close
from fastnn import kernels

TOL = {np.float32: dict(atol=2e-5, rtol=2e-5), np.float64: dict(atol=1e-11, rtol=1e-11)}
# Gradients of weight and bias are sums over up to ~1000 float32 products.
SUM_TOL = {np.float32: dict(atol=2e-4, rtol=1e-4), np.float64: dict(atol=1e-10, rtol=1e-10)}
EPS = 1e-5

# (N, C, *spatial): S = 1 (2-D input), a single sample, a single channel, 257-long rows, and
# channels of more than one in-cache block (1028 and 1100 elements).
BN_SHAPES = [(7, 33), (2, 7, 1), (3, 5, 33), (1, 257, 2), (2, 3, 7, 9), (33, 1, 4, 4),
             (4, 3, 257), (1100, 2)]  # fmt: skip
# (shape, normalized_shape): one element per row, many short rows (several dweight slices),
# a row of 5000 (two in-cache blocks), a normalized shape of two dims.
LN_CASES = [((7, 33), (33,)), ((5, 1), (1,)), ((257, 7), (7,)), ((2, 5000), (5000,)),
            ((3, 4, 257), (4, 257)), ((1, 2, 3, 7), (2, 3, 7))]  # fmt: skip
# (shape, num_groups): S = 1, one group, one channel per group, odd sizes.
GN_CASES = [((3, 6, 5, 7), 3), ((2, 4), 2), ((1, 33, 7), 11), ((7, 8, 9), 1), ((2, 5, 257), 5)]


def _affine(rng, shape, dtype, which):
    w = rng.standard_normal(shape).astype(dtype) if which in ("w", "wb") else None
    b = rng.standard_normal(shape).astype(dtype) if which in ("b", "wb") else None
    return w, b


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", BN_SHAPES)
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_matches_reference(shape, training, dtype, threads, isa, rng):
    c = shape[1]
    x = (rng.standard_normal(shape) * 2 + 0.5).astype(dtype)
    w, b = _affine(rng, (c,), dtype, "wb" if training else "w")
    rm = rng.standard_normal(c).astype(dtype)
    rv = rng.uniform(0.5, 2, c).astype(dtype)
    want = ref.batch_norm(x, w, b, rm, rv, training, 0.3, EPS)
    y, mean, rstd = kernels.batch_norm(x, w, b, rm, rv, training=training, momentum=0.3, eps=EPS)
    assert y.dtype == dtype and mean.dtype == rstd.dtype == np.float64
    assert_close(y, want[0], **TOL[dtype], name="y")
    assert_close(mean, want[1], **TOL[dtype], name="mean")
    assert_close(rstd, want[2], **TOL[dtype], name="rstd")
    assert_close(rm, want[3], **TOL[dtype], name="running_mean")
    assert_close(rv, want[4], **TOL[dtype], name="running_var")
    dy = rng.standard_normal(shape).astype(dtype)
    dx, dw, db = kernels.batch_norm_backward(dy, x, w, mean, rstd, training=training)
    want = ref.batch_norm_backward(dy, x, w, mean, rstd, training)
    assert_close(dx, want[0], **TOL[dtype], name="dx")
    assert_close(dw, want[1], **SUM_TOL[dtype], name="dweight")
    assert_close(db, want[2], **SUM_TOL[dtype], name="dbias")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_norm_without_running_stats_or_affine(dtype, rng):
    x = rng.standard_normal((5, 3, 7)).astype(dtype)
    y, mean, rstd = kernels.batch_norm(x)
    want = ref.batch_norm(x, None, None, None, None, True, 0.1, EPS)
    assert_close(y, want[0], **TOL[dtype])
    dy = rng.standard_normal(x.shape).astype(dtype)
    dx, dw, db = kernels.batch_norm_backward(dy, x, None, mean, rstd, need_weight=False)
    assert dw is None and db is not None
    assert_close(dx, ref.batch_norm_backward(dy, x, None, mean, rstd, True)[0], **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,ns", LN_CASES)
@pytest.mark.parametrize("affine", ["wb", "w", "b", ""])
def test_layer_norm_matches_reference(shape, ns, affine, dtype, threads, isa, rng):
    x = (rng.standard_normal(shape) * 3 - 1).astype(dtype)
    w, b = _affine(rng, ns, dtype, affine)
    y, mean, rstd = kernels.layer_norm(x, ns, w, b, EPS)
    want = ref.layer_norm(x, ns, w, b, EPS)
    assert_close(y, want[0], **TOL[dtype], name="y")
    assert_close(mean, want[1], **TOL[dtype], name="mean")
    assert_close(rstd, want[2], **TOL[dtype], name="rstd")
    dy = rng.standard_normal(shape).astype(dtype)
    dx, dw, db = kernels.layer_norm_backward(
        dy, x, ns, w, mean, rstd, need_weight=w is not None, need_bias=b is not None
    )
    want = ref.layer_norm_backward(dy, x, ns, w, EPS)
    assert_close(dx, want[0], **TOL[dtype], name="dx")
    assert (dw is None) == (w is None) and (db is None) == (b is None)
    if dw is not None:
        assert_close(dw, want[1], **SUM_TOL[dtype], name="dweight")
    if db is not None:
        assert_close(db, want[2], **SUM_TOL[dtype], name="dbias")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,groups", GN_CASES)
def test_group_norm_matches_reference(shape, groups, dtype, threads, isa, rng):
    c = shape[1]
    x = (rng.standard_normal(shape) + 2).astype(dtype)
    w, b = _affine(rng, (c,), dtype, "wb")
    y, mean, rstd = kernels.group_norm(x, groups, w, b, EPS)
    want = ref.group_norm(x, groups, w, b, EPS)
    assert mean.shape == rstd.shape == (shape[0], groups)
    assert_close(y, want[0], **TOL[dtype], name="y")
    assert_close(mean, want[1], **TOL[dtype], name="mean")
    assert_close(rstd, want[2], **TOL[dtype], name="rstd")
    dy = rng.standard_normal(shape).astype(dtype)
    dx, dw, db = kernels.group_norm_backward(dy, x, groups, w, mean, rstd)
    want = ref.group_norm_backward(dy, x, groups, w, EPS)
    assert_close(dx, want[0], **TOL[dtype], name="dx")
    assert_close(dw, want[1], **SUM_TOL[dtype], name="dweight")
    assert_close(db, want[2], **SUM_TOL[dtype], name="dbias")
    dx2, dw2, _ = kernels.group_norm_backward(dy, x, groups, None, mean, rstd, need_input=False)
    assert dx2 is None
    assert_close(dw2, want[1], **SUM_TOL[dtype])


@pytest.mark.parametrize("dtype,offset", [(np.float32, 1e4), (np.float64, 1e8)])
@pytest.mark.parametrize("shape", [(64, 3, 40), (300, 3, 2)])  # per-channel and column paths
def test_large_mean_does_not_cancel_the_variance(dtype, offset, shape, isa, rng):
    # With a mean of 1e4 (float32) or 1e8 (float64) against a spread of 1, E[x^2] - E[x]^2 loses
    # every digit of the variance; the blocked two-pass statistics keep it.
    x = (offset + rng.standard_normal(shape)).astype(dtype)
    rv = np.ones(3, dtype)
    rm = np.zeros(3, dtype)
    y, _, rstd = kernels.batch_norm(x, None, None, rm, rv, momentum=1.0)
    want = ref.batch_norm(x, None, None, rm * 0, rv * 0 + 1, True, 1.0, EPS)
    tol = dict(atol=2e-3, rtol=1e-4) if dtype == np.float32 else dict(atol=1e-6, rtol=1e-8)
    assert_close(rstd, want[2], **tol, name="rstd")
    assert_close(rv, want[4], **tol, name="running_var")
    assert_close(y, want[0], **tol, name="y")
    y, _, rstd = kernels.layer_norm(x, shape[1:], None, None, EPS)
    assert_close(y, ref.layer_norm(x, shape[1:], None, None, EPS)[0], **tol, name="layer_norm y")
    y, _, rstd = kernels.group_norm(x, 3, None, None, EPS)
    assert_close(y, ref.group_norm(x, 3, None, None, EPS)[0], **tol, name="group_norm y")


def test_results_do_not_depend_on_the_thread_count(rng):
    x = rng.standard_normal((300, 64)).astype(np.float32)
    x4 = rng.standard_normal((9, 8, 30, 30)).astype(np.float32)
    w64, w8 = rng.standard_normal(64).astype(np.float32), rng.standard_normal(8).astype(np.float32)

    def run():
        out = []
        y, m, r = kernels.layer_norm(x, (64,), w64, w64, EPS)
        out += [y, *kernels.layer_norm_backward(x, x, (64,), w64, m, r)]
        y, m, r = kernels.batch_norm(x4, w8, w8)
        out += [y, *kernels.batch_norm_backward(x4, x4, w8, m, r)]
        y, m, r = kernels.group_norm(x4, 4, w8, w8, EPS)
        out += [y, *kernels.group_norm_backward(x4, x4, 4, w8, m, r)]
        return out

    before = fastnn.get_num_threads()
    try:
        fastnn.set_num_threads(1)
        one = run()
        fastnn.set_num_threads(2)
        two = run()
    finally:
        fastnn.set_num_threads(before)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


# ---- bad input -----------------------------------------------------------------------------------


def _bn_args(dtype=np.float32):
    return np.ones((4, 3, 2), dtype), np.ones(3, dtype), np.zeros(3, dtype)


@pytest.mark.parametrize(
    "call,exc,match",
    [
        (lambda x, w, r: kernels.batch_norm([[1.0, 2.0]]), TypeError, "numpy.ndarray"),
        (lambda x, w, r: kernels.batch_norm(x.astype(np.int32)), TypeError, "float32 or float64"),
        (lambda x, w, r: kernels.batch_norm(x[0, 0]), ValueError, "at least 2 dimensions"),
        (lambda x, w, r: kernels.batch_norm(x[:, :, ::2]), ValueError, "C-contiguous"),
        (lambda x, w, r: kernels.batch_norm(x, w.astype(np.float64)), TypeError, "same dtype"),
        (lambda x, w, r: kernels.batch_norm(x, np.ones(4, np.float32)), ValueError, r"\(3,\)"),
        (lambda x, w, r: kernels.batch_norm(x, None, None, w), ValueError, "both"),
        (lambda x, w, r: kernels.batch_norm(x, training=False), ValueError, "training=False"),
        (
            lambda x, w, r: kernels.batch_norm_backward(x, x, w, r, r.astype(np.float32)),
            TypeError,
            "float64",
        ),
        (lambda x, w, r: kernels.batch_norm_backward(x[:2], x, w, r, r), ValueError, "grad"),
        (lambda x, w, r: kernels.layer_norm(x, (3,)), ValueError, "does not end with"),
        (lambda x, w, r: kernels.layer_norm(x, 2), TypeError, "tuple of ints"),
        (lambda x, w, r: kernels.layer_norm(x, (2,), w), ValueError, "weight"),
        (lambda x, w, r: kernels.layer_norm_backward(x, x, (2,), None, r, r), ValueError, "mean"),
        (lambda x, w, r: kernels.group_norm(x, 2), ValueError, "num_groups"),
        (lambda x, w, r: kernels.group_norm(x, 0), ValueError, "num_groups"),
        (lambda x, w, r: kernels.group_norm(x, 3, np.ones(2, np.float32)), ValueError, "weight"),
        (lambda x, w, r: kernels.group_norm_backward(x, x, 3, w, r, r), ValueError, "mean"),
    ],
)
def test_bad_arguments_raise(call, exc, match):
    x, w, _ = _bn_args()
    with pytest.raises(exc, match=match):
        call(x, w, np.zeros(3))


def test_failed_batch_norm_leaves_the_running_buffers_alone():
    x, w, b = _bn_args()
    x[0] = 5.0
    rm, rv = np.full(3, 0.25, np.float32), np.full(3, 4.0, np.float32)
    with pytest.raises(ValueError, match="running_var"):
        kernels.batch_norm(x, w, b, rm, np.ones(4, np.float32))
    ro = rv.copy()
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        kernels.batch_norm(x, w, b, rm, ro)
    with pytest.raises(ValueError, match="share memory"):
        kernels.batch_norm(x, w, b, rm, rm)
    np.testing.assert_array_equal(rm, np.full(3, 0.25, np.float32))
    np.testing.assert_array_equal(rv, np.full(3, 4.0, np.float32))
