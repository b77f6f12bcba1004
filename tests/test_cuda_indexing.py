"""The CUDA indexing and creation ops (csrc/cuda/indexing.cu, creation.cu; the Python side in
fastnn/_devices/cuda_index.py and cuda_gather.py) against numpy and the cpu backend.

Everywhere: the index plan (numpy's advanced-indexing rules turned into one strided view plus
index arrays) is walked in numpy exactly as the gather kernel walks it and must equal x[index]
for every index form; the arange / linspace parameters, fed to a numpy copy of the kernels'
arithmetic, must give numpy's values bit for bit; numpy's index errors are raised by the plan.
With a GPU (skipped otherwise): every device op against numpy / the cpu backend on awkward
shapes, duplicates, negative and out-of-range indices, empty indices, all-true / all-false masks,
float32 / float64 / int64, the gradients (bit for bit: the index-add sums in np.add.at's order),
and torch where it applies.
"""

import builtins

import numpy as np
import pytest

import fastnn
from conftest import assert_close
from fastnn import _devices as backends
from fastnn import cuda
from fastnn._devices import cpu as cpu_be
from fastnn._devices import cuda_gather as cg
from fastnn._devices import cuda_index as ci


def gpu(fn):
    """Marks a test that needs a GPU (skipped without one, like tests/test_cuda_kernels.py)."""
    fn = pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA GPU")(fn)
    return pytest.mark.cuda(fn)


RNG = np.random.default_rng(1234)
X3 = RNG.standard_normal((4, 5, 6))
M45 = RNG.random((4, 5)) > 0.5

# (name, index) for X3 of shape (4, 5, 6): every advanced-indexing form numpy distinguishes
CASES = [
    ("list", [0, 2, -1]),
    ("2d array", np.array([[0, 1], [3, -4]])),
    ("dup after slice", (slice(None), [1, 1, 0])),
    ("two arrays", ([0, 1], [2, 3])),
    ("arrays around a slice", ([0, 1], slice(1, 4), [2, 3])),
    ("int slice array", (0, slice(None), [0, 1])),
    ("None between arrays", ([0], None, [0])),
    ("broadcast arrays", ([[0], [1]], [1, 2, 3])),
    ("ellipsis first", (Ellipsis, [0, 4])),
    ("ellipsis between", ([1], Ellipsis, [2])),
    ("2d mask", M45),
    ("mask and int", (M45, 0)),
    ("mask after slice", (slice(None), M45[0])),
    ("true", True),
    ("false", False),
    ("int and true", (0, True)),
    ("all-false mask", np.zeros((4, 5, 6), bool)),
    ("all-true mask", np.ones((4, 5, 6), bool)),
    ("empty list", []),
    ("empty array and slice", (np.array([], np.int64), slice(1, 3))),
    ("reversed slice", (slice(None, None, -1), [2, 0])),
    ("None around", (None, [1, 2], None, slice(None, None, 2))),
    ("None splits arrays", ([1, 2], None, [3, 4])),
    ("last axis 2d", (slice(None), slice(None), [[5, 0], [1, 1]])),
    ("int array int", (1, [2, 3], 4)),
    ("array int slice", ([3], 2, slice(None))),
    ("array slice int", ([3], slice(None), 2)),
    ("uint8 array", np.array([1, 2], np.uint8)),
    ("bool list", [True, False, True, True]),
    ("None then arrays", (slice(None), None, [0, 1], [2, 3])),
    ("true ellipsis", (0, Ellipsis, True, [1])),
    ("true then array", (True, [0, 1])),
    ("array then true", ([0, 1], True)),
    ("negative everywhere", ([-4, -1], [-5, 4], [-6, 5])),
]


def emulate_gather(x, p):
    """x[index] from the plan, computed the way the gather kernel walks it."""
    flat = np.ascontiguousarray(x).reshape(-1)
    n = builtins.int(np.prod(p.shape, dtype=np.int64))
    if n == 0:
        return np.empty(p.out_shape, x.dtype)
    grid = np.indices(p.shape).reshape(len(p.shape), n)
    off = np.full(n, p.offset, np.int64)
    for d, s in enumerate(p.strides):
        off += grid[d] * s
    for idx, istr, size, astr in zip(p.indices, p.index_strides, p.axis_sizes, p.axis_strides):
        io = np.zeros(n, np.int64)
        for d, s in enumerate(istr):
            io += grid[d] * s
        k = np.asarray(idx).reshape(-1)[io]
        k = np.where(k < 0, k + size, k)
        assert ((k >= 0) & (k < size)).all()
        off += k * astr
    return flat[off].reshape(p.out_shape)


# ---- everywhere: the plan ----------------------------------------------------------------------


@pytest.mark.parametrize(("name", "index"), CASES, ids=[c[0] for c in CASES])
def test_plan_walks_to_numpys_result(name, index):
    p = ci.plan(X3.shape, index, ci.NumpyOps)
    ref = X3[index]
    got = emulate_gather(X3, p)
    assert got.shape == ref.shape
    np.testing.assert_array_equal(got, ref)
    assert len(p.shape) <= 8


def _random_index(rng, shape):
    parts, dim = [], 0
    while dim < len(shape):
        r = rng.random()
        n = shape[dim]
        if r < 0.25:
            parts.append(slice(int(rng.integers(-n - 1, n + 1)), None, int(rng.choice([1, 2, -1]))))
            dim += 1
        elif r < 0.35 and n > 0:
            parts.append(int(rng.integers(-n, n)))
            dim += 1
        elif r < 0.45:
            parts.append(None)
        elif r < 0.75 and n > 0:
            parts.append(
                rng.integers(-n, n, size=tuple(rng.integers(1, 4, size=rng.integers(1, 3))))
            )
            dim += 1
        elif r < 0.85 and n > 0:
            parts.append(rng.integers(-n, n, size=2))
            dim += 1
        else:
            k = int(rng.integers(1, len(shape) - dim + 1))
            parts.append(rng.random(shape[dim : dim + k]) < 0.4)
            dim += k
    if rng.random() < 0.3:
        parts = parts[: int(rng.integers(0, len(parts) + 1))]
    return tuple(parts)


def test_plan_matches_numpy_on_random_indices():
    rng = np.random.default_rng(7)
    checked = 0
    for _ in range(600):
        shape = tuple(int(n) for n in rng.integers(1, 5, size=rng.integers(1, 5)))
        x = rng.standard_normal(shape)
        index = _random_index(rng, shape)
        try:
            ref = x[index]
        except IndexError:  # arrays that do not broadcast together
            with pytest.raises(IndexError):
                ci.plan(shape, index, ci.NumpyOps)
            continue
        p = ci.plan(shape, index, ci.NumpyOps)
        np.testing.assert_array_equal(emulate_gather(x, p), ref, err_msg=repr(index))
        checked += 1
    assert checked > 300


@pytest.mark.parametrize(
    "index",
    [
        (0, 0, 0, 0),
        (Ellipsis, 0, Ellipsis),
        (slice(None), np.ones((5, 7), bool)),
        ([0, 1], [0, 1, 2]),
        np.array([0.5]),
        (9,),
        (0, -6),
        "a",
    ],
)
def test_plan_raises_numpys_index_errors(index):
    with pytest.raises(IndexError) as numpy_error:
        X3[index]
    with pytest.raises(IndexError) as plan_error:
        ci.plan(X3.shape, index, ci.NumpyOps)
    if "out of bounds" in str(numpy_error.value):
        assert str(plan_error.value) == str(numpy_error.value)


def test_plan_flags_int_arrays_and_mask_coordinates():
    p = ci.plan(X3.shape, (M45, [1]), ci.NumpyOps)
    assert p.has_int_array and p.from_mask == [True, True, False]
    p = ci.plan(X3.shape, (M45,), ci.NumpyOps)
    assert not p.has_int_array and p.from_mask == [True, True]
    p = ci.plan(X3.shape, (0, slice(1, 3)), ci.NumpyOps)  # basic: no arrays, no block
    assert p.indices == [] and p.out_shape == (2, 6)
    assert ci.is_basic((0, slice(None), None, Ellipsis)) and not ci.is_basic(([0],))


def test_bad_index_error_names_axis_and_size():
    p = ci.plan(X3.shape, (slice(None), [0, 9]), ci.NumpyOps)
    err = ci.bad_index_error(p, (0, 1, 9))
    assert isinstance(err, IndexError)
    assert str(err) == "index 9 is out of bounds for axis 1 with size 5"


# ---- everywhere: arange / linspace parameters against a numpy copy of the kernels ------------


def _arange_kernel(n, v0, v1, compute, dt):
    """creation.cu's arange_kernel in numpy: out[i] = v0 + T(i) * (v1 - v0), T's rounding."""
    t = compute.type
    i = np.arange(n, dtype=np.int64)
    with np.errstate(over="ignore"):
        if compute.kind == "f":
            d = t(t(v1) - t(v0))
            out = (t(v0) + i.astype(compute) * d).astype(compute)
        else:
            d = np.int64(np.uint64(np.int64(v1)) - np.uint64(np.int64(v0)))
            out = (np.int64(v0) + i * d).astype(np.int64)
    if n > 0:
        out[0] = v0
    if n > 1:
        out[1] = v1
    return out.astype(dt)


ARANGES = [
    (0, 10, 1),
    (0, 1, 0.1),
    (-3.5, 7.25, 0.3),
    (1e6, 1e6 + 5000, 0.37),
    (2.5, 10, 1),
    (10, 0, -1),
    (5, 5, 1),
    (0.0, 1.0, 1 / 3),
    (-1, -100, -7),
    (0, 33, 4),
    (1, 2, 3),
    (-2.5, 3, 1),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32, np.uint8])
@pytest.mark.parametrize(("start", "end", "step"), ARANGES)
def test_arange_params_give_numpys_values(start, end, step, dtype):
    dt = np.dtype(dtype)
    if dt == np.uint8 and not 0 <= builtins.min(start, end) <= builtins.max(start, end) < 256:
        pytest.skip("numpy rejects uint8 bounds outside 0..255")
    ref = np.arange(start, end, step, dtype=dt)
    n, v0, v1, compute = cg.arange_params(start, end, step, dt)
    np.testing.assert_array_equal(_arange_kernel(n, v0, v1, compute, dt), ref)


def test_arange_params_random_float_ranges():
    rng = np.random.default_rng(3)
    for _ in range(300):
        start = float(rng.uniform(-100, 100))
        step = float(rng.choice([0.1, 0.3, 1 / 3, rng.uniform(0.001, 3)])) * rng.choice([1, -1])
        end = start + step * float(rng.uniform(0, 3000))
        for dt in (np.dtype(np.float32), np.dtype(np.float64)):
            n, v0, v1, compute = cg.arange_params(start, end, step, dt)
            ref = np.arange(start, end, step, dtype=dt)
            np.testing.assert_array_equal(_arange_kernel(n, v0, v1, compute, dt), ref)


def test_arange_params_leave_bool_and_numpy_scalars_to_the_host():
    assert cg.arange_params(0, 2, 1, np.dtype(bool)) is None
    assert cg.arange_params(np.float32(0), 2, 1, np.dtype(np.float32)) is None


def _linspace_kernel(params, dt):
    """creation.cu's linspace_kernel in numpy: float64 i * step + start (or i / div * delta +
    start), the endpoint set to stop, floored for integer dtypes, cast."""
    s, e, delta, step, div, step_zero, n = params
    i = np.arange(n, dtype=np.float64)
    y = (i / div) * delta if step_zero else i * step
    y = y + s
    if n > 1:
        y[-1] = e
    if dt.kind in "iu":
        y = np.floor(y)
    return y.astype(dt)


LINSPACES = [
    (0, 1, 5),
    (0, 1, 1),
    (0, 1, 0),
    (-3.3, 7.7, 257),
    (1, 0, 33),
    (0, 1e-320, 7),
    (5, 5, 4),
    (-10, 10, 1000),
    (0.1, 0.7, 3),
    (-2, 7, 9),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32, np.bool_])
@pytest.mark.parametrize(("start", "end", "steps"), LINSPACES)
def test_linspace_params_give_numpys_values(start, end, steps, dtype):
    dt = np.dtype(dtype)
    ref = np.linspace(start, end, steps, dtype=dt)
    got = _linspace_kernel(cg.linspace_params(start, end, steps), dt)
    np.testing.assert_array_equal(got, ref)


def test_linspace_params_reject_negative_counts_like_numpy():
    with pytest.raises(ValueError, match="must be non-negative"):
        cg.linspace_params(0, 1, -1)
    assert cg.linspace_params(np.float32(0), 1, 3) is None


# ---- the device ops: on the GPU, and on the emulated bindings everywhere against numpy / the cpu backend --------------------------------


_CURRENT = {}


@pytest.fixture(
    params=[
        "emulated",
        pytest.param(
            "cuda",
            marks=[
                pytest.mark.cuda,
                pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA GPU"),
            ],
        ),
    ]
)
def dbe(request, monkeypatch):
    """The CUDA backend on the GPU, or on tests/_fake_cuda.py (numpy with the bindings' rules
    and the kernels' walk of an IndexView) so its Python side runs without a GPU."""
    b = backends.cuda_module()
    if request.param == "emulated":
        import _fake_cuda

        monkeypatch.setattr(b, "_mod", _fake_cuda)
        monkeypatch.setattr(b, "array_type", _fake_cuda.DeviceArray)
        monkeypatch.setitem(backends._BY_TYPE, _fake_cuda.DeviceArray, b)
    monkeypatch.setitem(_CURRENT, "be", b)
    return b


def be():
    return _CURRENT["be"]


def dev(a):
    return be().from_numpy(np.ascontiguousarray(a))


def host(d):
    return d.numpy()


ALL_DTYPES = [np.float32, np.float64, np.int64, np.int32, np.uint8, np.bool_]


def _sample(shape, dtype, rng=RNG):
    x = rng.standard_normal(shape) * 5
    return (x > 0) if dtype is np.bool_ else x.astype(dtype)


def _as_arrays(index):
    """Lists in the index as int64 numpy arrays (what the Tensor layer hands the backends)."""
    parts = index if isinstance(index, tuple) else (index,)
    out = tuple(np.array(p, dtype=np.int64) if isinstance(p, list) else p for p in parts)
    return out if isinstance(index, tuple) else out[0]


def _on_device(index):
    """The index with its numpy arrays moved to the device (lists and scalars unchanged)."""
    parts = index if isinstance(index, tuple) else (index,)
    moved = tuple(dev(p) if isinstance(p, np.ndarray) else p for p in parts)
    return moved if isinstance(index, tuple) else moved[0]


@pytest.mark.parametrize("where", ["host index", "device index"])
@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize(("name", "index"), CASES, ids=[c[0] for c in CASES])
def test_getitem_matches_numpy(name, index, dtype, where, dbe):
    x = _sample((4, 5, 6), dtype)
    idx = _on_device(index) if where == "device index" else index
    got = host(be().getitem(dev(x), idx))
    np.testing.assert_array_equal(got, x[index])
    assert got.dtype == x.dtype


@pytest.mark.parametrize("shape", [(1,), (7,), (33, 1), (257, 3), (2, 65, 3)])
def test_getitem_awkward_shapes_and_duplicates(shape, dbe):
    rng = np.random.default_rng(sum(shape))
    x = rng.standard_normal(shape)
    n = shape[0]
    idx = rng.integers(-n, n, size=(3 * n + 1,))  # plenty of repeats
    np.testing.assert_array_equal(host(be().getitem(dev(x), idx)), x[idx])
    np.testing.assert_array_equal(host(be().getitem(dev(x), dev(idx))), x[idx])
    mask = rng.random(shape) < 0.5
    np.testing.assert_array_equal(host(be().getitem(dev(x), dev(mask))), x[mask])


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.uint8, np.bool_])
@pytest.mark.parametrize(
    "index",
    [
        [3, 0, 2],
        (slice(None), [4, 1]),
        ([0, 3], slice(1, 4), [5, 0]),
        (slice(None), 2),  # basic but not one block: a strided scatter
        (slice(None, None, 2), slice(1, None, 3)),
        M45,
        (M45, [1]),
        np.zeros((4, 5, 6), bool),
        np.ones((4, 5, 6), bool),
        [],
        (Ellipsis, [-1]),
    ],
    ids=repr,
)
def test_setitem_matches_numpy(index, dtype, dbe):
    x = _sample((4, 5, 6), dtype)
    shape = x[index].shape
    for value in (_sample(shape, dtype), _sample(shape[-1:], dtype), 7):
        ref = x.copy()
        ref[index] = value
        d = dev(x)
        be().setitem(d, _on_device(index), dev(value) if isinstance(value, np.ndarray) else value)
        np.testing.assert_array_equal(host(d), ref)


def test_setitem_repeated_indices_keep_one_of_the_values(dbe):
    d = dev(np.zeros(5))
    be().setitem(d, [1, 1, 3], dev(np.array([2.0, 5.0, 7.0])))
    got = host(d)
    assert got[1] in (2.0, 5.0) and got[3] == 7.0 and got[[0, 2, 4]].tolist() == [0, 0, 0]


def test_setitem_casts_and_broadcasts_like_numpy(dbe):
    x = np.zeros((3, 4), np.int64)
    d = dev(x)
    be().setitem(d, ([0, 2], slice(None)), dev(np.array([1.7, -2.2, 3.9, 4.0])))
    x[[0, 2], :] = np.array([1.7, -2.2, 3.9, 4.0])
    np.testing.assert_array_equal(host(d), x)
    with pytest.raises(ValueError, match="could not be broadcast"):
        be().setitem(d, [0, 1], dev(np.ones(3)))


@pytest.mark.parametrize(
    "index",
    [[9], [-5], (slice(None), [0, 5]), ([0], [0], [6]), (0, [1, -6])],
    ids=repr,
)
def test_out_of_range_indices_raise_and_change_nothing(index, dbe):
    x = RNG.standard_normal((4, 5, 6))
    with pytest.raises(IndexError) as numpy_error:
        x[index]
    d = dev(x)
    for idx in (index, _on_device(index)):
        with pytest.raises(IndexError) as e:
            be().getitem(d, idx)
        assert str(e.value) == str(numpy_error.value)
        with pytest.raises(IndexError):
            be().setitem(d, idx, 1.0)
        np.testing.assert_array_equal(host(d), x)  # the failed setitem wrote nothing


def test_bad_index_types_raise(dbe):
    d = dev(X3)
    with pytest.raises(IndexError):
        be().getitem(d, dev(np.array([0.5])))
    with pytest.raises(IndexError, match="boolean index did not match"):
        be().getitem(d, dev(np.ones((4, 4), bool)))
    with pytest.raises(IndexError, match="shape mismatch"):
        be().getitem(d, ([0, 1], [0, 1, 2]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize(
    "index",
    [
        [0, 0, 3, 0, -1, 3],
        (slice(None), [1, 1, 1, 4]),
        ([0, 0], slice(1, 4), [2, 2]),
        (np.array([[1, 1], [1, 2]]), 0),
        (M45, [2]),
        (slice(None), [], slice(None)),
        np.zeros(0, np.int64),
        (Ellipsis, [5, 5, -1]),
    ],
    ids=repr,
)
def test_getitem_backward_accumulates_in_numpys_order(index, dtype, dbe):
    rng = np.random.default_rng(5)
    shape = (4, 5, 6)
    index = _as_arrays(index)
    g = _sample(X3[index].shape, dtype, rng)
    ref = cpu_be.getitem_backward(g, shape, index, True)
    got = host(be().getitem_backward(dev(g), shape, _on_device(index), True))
    np.testing.assert_array_equal(got, ref)  # same order of additions: bit for bit


def test_getitem_backward_many_repeats_of_one_index(dbe):
    rng = np.random.default_rng(11)
    idx = np.where(rng.random(200_003) < 0.9, 3, rng.integers(0, 7, 200_003))
    g = rng.standard_normal(idx.shape).astype(np.float32)
    ref = cpu_be.getitem_backward(g, (7,), idx, True)
    got = host(be().getitem_backward(dev(g), (7,), dev(idx), True))
    np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize(
    ("shape", "idx_shape", "axis"),
    [((7,), (12,), 0), ((33, 5), (33, 9), 1), ((4, 257), (2, 257), 0), ((3, 4, 5), (3, 4, 1), -1),
     ((1, 6), (5, 2), 1), ((6, 1), (6, 3), 0), ((5, 3), (0, 3), 0)],
)  # fmt: skip
def test_take_along_axis_and_backward(shape, idx_shape, axis, dtype, dbe):
    rng = np.random.default_rng(len(shape) * 31 + idx_shape[0])
    a = _sample(shape, dtype, rng)
    n = shape[axis]
    idx = rng.integers(-n, n, size=idx_shape)
    ref = np.take_along_axis(a, idx, axis)
    got = host(be().take_along_axis(dev(a), dev(idx), axis))
    np.testing.assert_array_equal(got, ref)
    g = _sample(ref.shape, dtype, rng)
    bgot = host(be().take_along_axis_backward(dev(g), shape, dev(idx), axis))
    np.testing.assert_array_equal(bgot, _take_backward_ref(g, shape, idx, axis))
    if (
        ref.shape == idx_shape
        and shape[:axis] + shape[axis + 1 :]
        == (  # no broadcast
            idx_shape[:axis] + idx_shape[axis + 1 :] if axis >= 0 else shape[:-1]
        )
    ):
        bref = cpu_be.take_along_axis_backward(g, shape, idx, axis)
        np.testing.assert_array_equal(bgot, bref)


def _take_backward_ref(g, shape, idx, axis):
    """np.add.at over take_along_axis's mesh, a broadcast dimension of the input summing."""
    out = np.zeros(shape, g.dtype)
    mesh = list(
        np.ix_(
            *[
                np.arange(n) if shape[d] == n else np.zeros(n, np.int64)
                for d, n in enumerate(g.shape)
            ]
        )
    )
    mesh[axis] = np.broadcast_to(idx, g.shape)
    np.add.at(out, tuple(mesh), g)
    return out


def test_take_along_axis_errors(dbe):
    a = dev(RNG.standard_normal((3, 4)))
    with pytest.raises(IndexError, match="out of bounds for axis 1 with size 4"):
        be().take_along_axis(a, dev(np.array([[0], [4], [1]])), 1)
    with pytest.raises(ValueError, match="same number of dimensions"):
        be().take_along_axis(a, dev(np.array([0, 1])), 1)
    with pytest.raises(IndexError, match="integer"):
        be().take_along_axis(a, dev(np.zeros((3, 1))), 1)


@pytest.mark.parametrize("reduce", [None, "add"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_scatter_matches_cpu(reduce, dtype, dbe):
    rng = np.random.default_rng(17)
    a = _sample((5, 7), dtype, rng)
    if reduce == "add":
        idx = rng.integers(-5, 5, size=(9, 6))  # repeats accumulate
    else:
        idx = np.stack([rng.permutation(5)[:4] for _ in range(6)], 1)  # distinct per column
    src = _sample((10, 7), dtype, rng)
    for s in (src, 2):
        ref = cpu_be.scatter(a, idx, s, 0, reduce)
        got = host(
            be().scatter(dev(a), dev(idx), dev(s) if isinstance(s, np.ndarray) else s, 0, reduce)
        )
        np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("idx_dtype", [np.int64, np.int32])
def test_embedding_forward_backward_renorm(dtype, idx_dtype, dbe):
    rng = np.random.default_rng(23)
    w = rng.standard_normal((33, 7)).astype(dtype)
    idx = rng.integers(0, 33, size=(5, 13)).astype(idx_dtype)
    idx[0, :4] = 2  # repeats
    np.testing.assert_array_equal(host(be().embedding(dev(w), dev(idx))), cpu_be.embedding(w, idx))
    g = rng.standard_normal((5, 13, 7)).astype(dtype)
    tol = {"atol": 1e-5, "rtol": 1e-5} if dtype == np.float32 else {"atol": 1e-12, "rtol": 1e-12}
    for pad, freq in ((None, False), (2, False), (None, True), (-1, True)):
        ref = cpu_be.embedding_backward(g, idx, 33, pad, freq)
        got = host(be().embedding_backward(dev(g), dev(idx), 33, pad, freq))
        assert_close(got, ref, **tol, name=f"padding_idx={pad} scale_grad_by_freq={freq}")
    for p in (2.0, 1.0, 3.0, float("inf")):
        ref = w.copy()
        cpu_be.embedding_renorm_(ref, idx, 1.5, p)
        d = dev(w)
        be().embedding_renorm_(d, dev(idx), 1.5, p)
        assert_close(host(d), ref, **tol, name=f"renorm p={p}")


def test_embedding_rejects_out_of_range_and_negative_rows(dbe):
    w = dev(RNG.standard_normal((4, 3)))
    for bad, pos in (([0, 4], 1), ([-1, 0], 0)):
        with pytest.raises(IndexError, match=f"index {bad[pos]} at position {pos}"):
            be().embedding(w, dev(np.array(bad)))
    with pytest.raises(IndexError):
        be().embedding_backward(dev(np.ones((2, 3))), dev(np.array([0, 9])), 4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32, np.uint8])
@pytest.mark.parametrize(("start", "end", "step"), ARANGES)
def test_arange_on_device_equals_numpy(start, end, step, dtype, dbe):
    if dtype is np.uint8 and not 0 <= builtins.min(start, end) <= builtins.max(start, end) < 256:
        pytest.skip("numpy rejects uint8 bounds outside 0..255")
    ref = np.arange(start, end, step, dtype=dtype)
    got = host(be().arange(start, end, step, np.dtype(dtype)))
    assert got.dtype == ref.dtype
    np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32, np.bool_])
@pytest.mark.parametrize(("start", "end", "steps"), LINSPACES)
def test_linspace_on_device_equals_numpy(start, end, steps, dtype, dbe):
    ref = np.linspace(start, end, steps, dtype=dtype)
    got = host(be().linspace(start, end, steps, np.dtype(dtype)))
    np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize(("n", "m"), [(1, None), (7, None), (3, 5), (5, 3), (0, 4), (33, 1)])
@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.bool_])
def test_eye_on_device_equals_numpy(n, m, dtype, dbe):
    np.testing.assert_array_equal(host(be().eye(n, m, dtype=dtype)), np.eye(n, m, dtype=dtype))


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8])
def test_integer_pow_wraps_like_numpy(dtype, dbe):
    rng = np.random.default_rng(29)
    a = rng.integers(-9 if dtype is not np.uint8 else 0, 10, size=(7, 33)).astype(dtype)
    b = rng.integers(0, 70, size=(33,)).astype(dtype)
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(host(be().pow(dev(a), dev(b))), a**b)
        np.testing.assert_array_equal(host(be().pow(dev(a), 3)), a**3)
        np.testing.assert_array_equal(host(be().pow(2, dev(b))), np.power(2, b))
    if dtype is not np.uint8:
        with pytest.raises(ValueError, match="negative integer powers"):
            be().pow(dev(a), dev(-b - 1))
        with pytest.raises(ValueError, match="negative integer powers"):
            be().pow(dev(a), -2)


def test_integer_relu_stays_on_device(dbe):
    x = np.arange(-5, 6, dtype=np.int64)
    got = be().relu(dev(x))
    np.testing.assert_array_equal(host(got), np.maximum(x, 0))
    assert got.dtype == np.int64


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scatters_into_a_view_stay_inside_it(dtype, dbe):
    """setitem / index-add / scatter on rows 3..6 of a NaN-guarded array: the guard rows must
    come back untouched (a kernel writing outside its view fails here)."""
    rng = np.random.default_rng(41)
    base = np.full((10, 5, 6), np.nan, dtype)
    x = _sample((4, 5, 6), dtype, rng)
    base[3:7] = x
    d = dev(base)
    view = d.narrow0(3, 7)
    be().setitem(view, ([0, 3, -1], slice(None), [5, 0, 2]), 1.5)
    masked = _sample((int(M45.sum()), 6), dtype, rng)
    be().setitem(view, M45, dev(masked))
    be().setitem(view, (slice(None, None, -1), 4), 2.5)
    ref = base.copy()
    ref[3:7][[0, 3, -1], :, [5, 0, 2]] = 1.5
    ref[3:7][M45] = masked
    ref[3:7][::-1, 4] = 2.5
    got = host(d)
    np.testing.assert_array_equal(got, ref)
    idx = np.array([0, 3, 3, 1])
    g = _sample((4, 5, 6), dtype, rng)
    np.add.at(ref[3:7].reshape(4, 30), idx, g.reshape(4, 30))
    be()._mod.index_add(
        view, dev(g.reshape(4, 30)), [4, 30], [0, 1], 0, [dev(idx)], [[1, 0]], [4], [30], False
    )  # fmt: skip
    np.testing.assert_array_equal(host(d), ref)  # the guard rows stay NaN


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_])
def test_flip_triangles_and_rounding_match_numpy(dtype, dbe):
    rng = np.random.default_rng(37)
    x = _sample((3, 7, 33), dtype, rng)
    if dtype is np.float32:
        x[0, 0, :4] = [-0.5, 0.5, -0.0, np.nan]
    d = dev(x)
    for axes in (None, 0, -1, (0, 2), ()):
        np.testing.assert_array_equal(host(be().flip(d, axes)), np.flip(x, axes))
    for shifts, axes in ((3, None), (-5, 2), ((1, 2), (0, 1)), ((2, 3), (1, 1)), (40, -1), (0, 0)):
        np.testing.assert_array_equal(host(be().roll(d, shifts, axes)), np.roll(x, shifts, axes))
    for k in (-40, -2, 0, 1, 5, 40):
        np.testing.assert_array_equal(host(be().tril(d, k)), np.tril(x, k))
        np.testing.assert_array_equal(host(be().triu(d, k)), np.triu(x, k))
    np.testing.assert_array_equal(host(be().flip(dev(np.zeros((0, 3))), 0)), np.zeros((0, 3)))
    for name in ("floor", "ceil", "trunc"):
        got = host(getattr(be(), name)(d))
        ref = getattr(np, name)(x)
        assert got.dtype == ref.dtype
        np.testing.assert_array_equal(got, ref)
        assert (np.signbit(got) == np.signbit(ref)).all()  # -0.0 kept


@pytest.mark.parametrize(
    ("da", "db"),
    [(np.int64, np.int64), (np.int32, np.int32), (np.uint8, np.uint8), (np.bool_, np.bool_),
     (np.int64, np.float32), (np.float32, np.float64), (np.int32, np.int64)],
)  # fmt: skip
@pytest.mark.parametrize(
    ("sa", "sb", "ta", "tb"),
    [((7, 33), (33, 5), False, False), ((33, 7), (5, 33), True, True), ((3, 4, 9), (9, 2), False, False),
     ((9, 4), (3, 2, 9), True, True), ((1, 1), (1, 1), False, False), ((2, 0, 3), (2, 3, 4), False, False)],
)  # fmt: skip
def test_matmul_outside_the_float_kernel_matches_numpy(sa, sb, ta, tb, da, db, dbe):
    rng = np.random.default_rng(43)
    a = (rng.integers(-(2**40), 2**40, sa) if da is np.int64 else rng.integers(0, 200, sa)).astype(
        da
    )
    b = (rng.integers(-(2**40), 2**40, sb) if db is np.int64 else rng.integers(0, 200, sb)).astype(
        db
    )
    ref = cpu_be.matmul(a, b, trans_a=ta, trans_b=tb)
    got = host(be().matmul(dev(a), dev(b), trans_a=ta, trans_b=tb))
    assert got.dtype == ref.dtype
    if ref.dtype.kind == "f":
        assert_close(got, ref, atol=1e-3, rtol=1e-5)
    else:
        np.testing.assert_array_equal(got, ref)  # exact, wrapped modulo 2^64 like numpy
    if ref.ndim == 2 and ref.dtype.kind in "iu":
        bias = rng.integers(0, 9, ref.shape[-1:]).astype(ref.dtype)
        ref_b = cpu_be.matmul(a, b, trans_a=ta, trans_b=tb, bias=bias)
        got_b = host(be().matmul(dev(a), dev(b), trans_a=ta, trans_b=tb, bias=dev(bias)))
        np.testing.assert_array_equal(got_b, ref_b)


# ---- with a GPU: through the Tensor API (autograd), torch where installed ---------------------


@gpu
def test_tensor_advanced_index_grad_matches_cpu():
    x = RNG.standard_normal((6, 5)).astype(np.float32)
    idx = np.array([0, 5, 5, 2, 0, 0])
    grads = []
    for device in ("cpu", "cuda"):
        t = fastnn.tensor(x, device=device, requires_grad=True)
        i = fastnn.tensor(idx, device=device)
        y = t[i, 1:4] * fastnn.tensor(np.arange(18, dtype=np.float32).reshape(6, 3), device=device)
        y.sum().backward()
        grads.append(t.grad.cpu().numpy())
    np.testing.assert_array_equal(grads[1], grads[0])


@gpu
def test_tensor_gather_and_index_put_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(31)
    x = rng.standard_normal((5, 7))
    idx = rng.integers(0, 7, size=(5, 9))
    tt = torch.tensor(x, requires_grad=True)
    torch.gather(tt, 1, torch.tensor(idx)).pow(2).sum().backward()
    ft = fastnn.tensor(x, device="cuda", requires_grad=True)
    fastnn.gather(ft, 1, fastnn.tensor(idx, device="cuda")).pow(2).sum().backward()
    assert_close(ft.grad.cpu().numpy(), tt.grad.numpy(), atol=1e-12, rtol=1e-12)
    mask = x > 0
    ref = torch.tensor(x)[torch.tensor(mask)]
    got = fastnn.tensor(x, device="cuda")[fastnn.tensor(mask, device="cuda")]
    np.testing.assert_array_equal(got.cpu().numpy(), ref.numpy())


@gpu
def test_tensor_creation_on_device_matches_torch():
    torch = pytest.importorskip("torch")
    np.testing.assert_array_equal(
        fastnn.arange(0, 5, 0.5, device="cuda").cpu().numpy(),
        torch.arange(0, 5, 0.5).numpy(),
    )
    np.testing.assert_array_equal(
        fastnn.eye(3, 4, device="cuda").cpu().numpy(), torch.eye(3, 4).numpy()
    )
    assert_close(
        fastnn.linspace(-1, 1, 11, device="cuda").cpu().numpy(),
        torch.linspace(-1, 1, 11).numpy(),
        atol=1e-7,
        rtol=0,
    )
