"""The multi-tensor kernels behind clip_grad_norm_ (fastnn.kernels.grad_norm / grad_scale_)
against a float64 NumPy reference on awkward sizes, NaN/inf propagation, independence of the
thread count, and every refused argument (refused before anything is read or written)."""

import math

import numpy as np
import pytest

import fastnn
from fastnn import kernels
from fastnn.nn import utils

SIZES = [1, 7, 33, 257, (5, 3), 0, 65537]


def _arrays(rng, dtype, sizes=SIZES):
    return [rng.standard_normal(s).astype(dtype) for s in sizes]


def _ref_norm(arrays, p):
    flat = np.concatenate([a.astype(np.float64).ravel() for a in arrays] or [np.zeros(0)])
    if p == math.inf:
        return float(np.max(np.abs(flat), initial=0.0))
    return float(np.sum(np.abs(flat) ** p) ** (1.0 / p))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("p", [1.0, 2.0, math.inf])
def test_grad_norm_matches_reference(dtype, p, rng, threads, isa):
    arrays = _arrays(rng, dtype)
    got = kernels.grad_norm(arrays, p)
    # Accumulated in double: close to the float64 reference even for float32 inputs.
    assert got == pytest.approx(_ref_norm(arrays, p), rel=1e-12)
    assert kernels.grad_norm(arrays[:1], p) == pytest.approx(_ref_norm(arrays[:1], p), rel=1e-12)
    assert kernels.grad_norm([], p) == 0.0
    assert kernels.grad_norm((arrays[3],), p) == pytest.approx(_ref_norm(arrays[3:4], p))


def test_grad_norm_independent_of_threads(rng, isa):
    arrays = _arrays(rng, np.float32, [300_001, 7, 200_000])
    before = fastnn.get_num_threads()
    try:
        results = []
        for n in (1, 2, 3):
            fastnn.set_num_threads(n)
            results.append([kernels.grad_norm(arrays, p) for p in (1.0, 2.0, math.inf)])
    finally:
        fastnn.set_num_threads(before)
    assert results[0] == results[1] == results[2]  # bit for bit


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("where", [0, 32, 65536])
def test_grad_norm_nonfinite(bad, where, rng, isa):
    arrays = _arrays(rng, np.float32, [70_000, 9])
    arrays[0][where] = bad
    for p in (1.0, 2.0, math.inf):
        got = kernels.grad_norm(arrays, p)
        if math.isnan(bad):
            assert math.isnan(got), p
        else:
            assert got == math.inf, p


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_grad_scale_matches_reference(dtype, rng, threads, isa):
    arrays = _arrays(rng, dtype)
    expected = [a * dtype(0.37) for a in arrays]  # the factor is rounded to the dtype first
    kernels.grad_scale_(arrays, 0.37)
    for a, e in zip(arrays, expected):
        np.testing.assert_array_equal(a, e)
    special = [np.array([np.inf, -1.0, np.nan, 0.0], dtype=dtype)]
    kernels.grad_scale_(special, 0.0)
    np.testing.assert_array_equal(special[0], np.array([np.nan, -0.0, np.nan, 0.0], dtype=dtype))


def test_grad_kernels_refuse_bad_arguments(rng):
    good = rng.standard_normal(4).astype(np.float32)
    keep = good.copy()
    cases = [
        (TypeError, "list or tuple", lambda f: f(good)),
        (TypeError, "numpy.ndarray", lambda f: f([good, [1.0, 2.0]])),
        (TypeError, "float32 or float64", lambda f: f([good, np.ones(3, dtype=np.int64)])),
        (TypeError, "share a dtype", lambda f: f([good, np.ones(3)])),
        (ValueError, "C-contiguous", lambda f: f([good, np.ones((4, 4), np.float32)[:, 1]])),
    ]
    for fn in (kernels.grad_norm, lambda a: kernels.grad_scale_(a, 0.5)):
        for exc, match, call in cases:
            with pytest.raises(exc, match=match):
                call(fn)
            np.testing.assert_array_equal(good, keep)  # nothing written before the refusal
    with pytest.raises(ValueError, match="norm_type must be 1, 2 or inf"):
        kernels.grad_norm([good], 3.0)
    ro = np.ones(3, np.float32)
    ro.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        kernels.grad_scale_([good, ro], 0.5)
    base = np.ones(10, np.float32)
    with pytest.raises(ValueError, match="share memory"):
        kernels.grad_scale_([base[:6], base[4:]], 0.5)
    np.testing.assert_array_equal(good, keep)
    np.testing.assert_array_equal(base, 1.0)


def test_clip_grad_norm_fallback_paths_agree(rng):
    """Non-contiguous and float16 gradients take the per-tensor numpy path; the answer is the
    kernel path's."""
    values = [rng.standard_normal((6, 4)).astype(np.float32) for _ in range(3)]

    def run(make_grad):
        params = [fastnn.nn.Parameter(fastnn.zeros(4, 6)) for _ in values]
        for p, v in zip(params, values):
            p.grad = make_grad(v)
        total = utils.clip_grad_norm_(params, 0.5)
        return total.item(), [p.grad.numpy().astype(np.float64) for p in params]

    kernel = run(lambda v: fastnn.tensor(np.ascontiguousarray(v.T)))
    strided = run(lambda v: fastnn.tensor(v).t())
    assert not fastnn.tensor(values[0]).t()._data.flags.c_contiguous  # the kernel refuses it
    assert strided[0] == pytest.approx(kernel[0], rel=1e-6)
    for a, b in zip(strided[1], kernel[1]):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    half = run(lambda v: fastnn.tensor(np.ascontiguousarray(v.T)).half())
    assert half[0] == pytest.approx(kernel[0], rel=2e-3)


def test_grad_kernels_from_many_threads(rng):
    """Called from 8 Python threads at once (the GIL released, the pool shared), each call gives
    the serial result."""
    from concurrent.futures import ThreadPoolExecutor

    lists = [_arrays(rng, np.float32, [70_001, 33, 7]) for _ in range(8)]
    serial = [[kernels.grad_norm(a, p) for p in (1.0, 2.0, math.inf)] for a in lists]

    def work(arrays):
        out = [kernels.grad_norm(arrays, p) for p in (1.0, 2.0, math.inf)]
        copies = [a.copy() for a in arrays]
        kernels.grad_scale_(copies, 0.5)
        return out, all(np.array_equal(c, a * np.float32(0.5)) for c, a in zip(copies, arrays))

    with ThreadPoolExecutor(8) as pool:
        for _ in range(3):
            results = list(pool.map(work, lists))
            assert [r[0] for r in results] == serial
            assert all(r[1] for r in results)
