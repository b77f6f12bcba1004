"""_C.max_last / _C.min_last, the one-pass (values, indices) along the last dim that
Tensor.max(dim) and min(dim) use on contiguous float tensors: against numpy's argmax and the
element at it, NaN and ties as torch gives them, the bad inputs, and the Tensor API;
_C.topk_last, Tensor.topk's kernel, against a stable sort; and the value-only _C.amax_last /
amin_last, the row norms _C.norm_last and the row products _C.prod_last behind Tensor.amax /
amin / norm / prod."""

import numpy as np
import pytest

import fastnn
from fastnn import _C

# (300, 257): rows split over the pool
SHAPES = [(1, 1), (1, 7), (7, 1), (33, 257), (257, 33), (4, 4), (2, 1000), (300, 257)]
KERNELS = [("max_last", np.argmax), ("min_last", np.argmin)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(("name", "arg"), KERNELS)
def test_rows_match_numpy(name, arg, shape, dtype, threads, rng):
    x = rng.standard_normal(shape).astype(dtype)
    x[:, ::3] = np.round(x[:, ::3])  # ties: the first column wins
    values, idx = getattr(_C, name)(x)
    want = arg(x, axis=1)
    assert idx.dtype == np.int64 and values.dtype == dtype
    np.testing.assert_array_equal(idx, want)
    np.testing.assert_array_equal(values, x[np.arange(shape[0]), want])


@pytest.mark.parametrize(("name", "arg"), KERNELS)
def test_nan_inf_and_signed_zeros(name, arg):
    x = np.array(
        [
            [1.0, np.nan, 5.0, np.nan],  # the first NaN wins
            [np.nan, 2.0, 3.0, -1.0],
            [-np.inf, -np.inf, -np.inf, -np.inf],
            [np.inf, 0.0, np.inf, 1.0],
            [-0.0, 0.0, -0.0, 0.0],  # equal: the first one, with its sign
            [0.0, -0.0, 0.0, -0.0],
        ],
        np.float32,
    )
    values, idx = getattr(_C, name)(x)
    np.testing.assert_array_equal(idx, arg(x, axis=1))
    np.testing.assert_array_equal(values, x[np.arange(len(x)), idx])
    assert np.signbit(values[4]) and not np.signbit(values[5])


def test_matches_torch_max_and_min_dim(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((33, 7)).astype(np.float32)
    x[3, 2] = x[3, 5] = np.nan
    x[:, 4] = x[:, 1]  # ties
    for op in ("max", "min"):
        got = getattr(fastnn.tensor(x), op)(1)
        want = getattr(torch.tensor(x), op)(1)
        np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())
        np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("requires_grad", [False, True])
def test_tensor_max_along_the_last_dim(keepdim, requires_grad, rng):
    x = rng.standard_normal((3, 5, 7))
    t = fastnn.tensor(x, requires_grad=requires_grad)
    values, idx = t.max(-1, keepdim=keepdim)
    want = np.argmax(x, axis=-1)
    shape = (3, 5, 1) if keepdim else (3, 5)
    assert values.shape == idx.shape == shape
    np.testing.assert_array_equal(idx.numpy().reshape(3, 5), want)
    np.testing.assert_array_equal(values.detach().numpy().reshape(3, 5), x.max(-1))
    if requires_grad:  # the gradient goes to the chosen element only
        values.sum().backward()
        onehot = np.zeros_like(x)
        np.put_along_axis(onehot, want[..., None], 1.0, axis=-1)
        np.testing.assert_array_equal(t.grad.numpy(), onehot)


def test_gradcheck_of_min_along_the_last_dim(rng):
    x = fastnn.tensor(rng.standard_normal((4, 6)), requires_grad=True)
    assert fastnn.autograd.gradcheck(lambda t: t.min(1)[0], (x,))


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shape", [(7,), (1,), (3, 1, 5), (2, 3, 4, 33)])
def test_any_rank_along_the_last_dim(shape, keepdim, rng):
    x = rng.standard_normal(shape)
    values, idx = _C.min_last(x, keepdim)
    want = np.argmin(x, axis=-1, keepdims=keepdim)
    assert values.shape == idx.shape == want.shape
    np.testing.assert_array_equal(idx, want)
    np.testing.assert_array_equal(values, x.min(-1, keepdims=keepdim))


def test_bad_inputs_are_clear_errors():
    with pytest.raises(ValueError, match=r"max_last.*at least one element, got shape \(3, 0\)"):
        _C.max_last(np.zeros((3, 0), np.float32))
    with pytest.raises(ValueError, match=r"min_last.*got shape \(\)"):
        _C.min_last(np.zeros((), np.float32))  # no last dimension
    with pytest.raises(TypeError, match="max_last"):
        _C.max_last(np.zeros((2, 2), np.int64))
    with pytest.raises(ValueError, match="contiguous"):
        _C.max_last(np.zeros((4, 4), np.float32)[:, ::2])
    with pytest.raises((IndexError, RuntimeError, ValueError)):
        fastnn.zeros(3, 0).max(1)  # torch: an empty reduction dim is an error


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_transposed_and_integer_tensors_take_numpy(dtype, rng):
    x = (rng.standard_normal((33, 7)) * 10).astype(dtype)
    t = fastnn.tensor(x).t()  # not contiguous (and int64: not a float kernel)
    values, idx = t.min(1)
    np.testing.assert_array_equal(idx.numpy(), np.argmin(x.T, axis=1))
    np.testing.assert_array_equal(values.numpy(), x.T.min(1))


@pytest.mark.parametrize(("name", "arg"), KERNELS)
@pytest.mark.parametrize("cols", [15, 16, 17, 33, 1000])
def test_long_rows_on_every_isa_path(name, arg, cols, isa, rng):
    """float32 rows of 16 or more take the vector passes: the same answers as the scalar loop,
    ties, NaN (also in the tail), signed zeros and infinities included."""
    x = rng.standard_normal((10, cols)).astype(np.float32)
    ext = np.float32(9.0 if name == "max_last" else -9.0)
    x[1, cols // 2], x[1, -1] = ext, ext  # a tie: the first
    x[2, 3], x[2, 9 % cols] = np.nan, np.nan  # the first NaN
    x[3, -1] = np.nan  # a NaN past the last full vector
    x[4, :], x[4, 5] = -0.0, 0.0  # all zeros: the first column, with its sign
    x[5, :], x[5, 7] = 0.0, -0.0
    x[6, :] = np.inf if name == "max_last" else -np.inf
    x[7, -1] = ext  # the extreme in the last column
    x[8, 0] = ext  # and in the first
    values, idx = getattr(_C, name)(x)
    want = arg(x, axis=1)
    np.testing.assert_array_equal(idx, want)
    picked = x[np.arange(x.shape[0]), want]
    np.testing.assert_array_equal(values.view(np.uint32), picked.view(np.uint32))


def _topk_reference(x, k, largest):
    """The first k columns of a stable sort, NaN above every number (torch's order)."""
    nan = np.isnan(x)
    value = np.where(nan, 0, -x if largest else x)
    group = ~nan if largest else nan  # NaN first when largest, last otherwise
    rows = [
        np.lexsort((v, g))[:k]
        for v, g in zip(value.reshape(-1, x.shape[-1]), group.reshape(-1, x.shape[-1]))
    ]
    return np.array(rows, np.int64).reshape(*x.shape[:-1], k)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [*SHAPES, (2, 3, 33)])
@pytest.mark.parametrize("largest", [True, False])
def test_topk_last_matches_a_stable_sort(shape, dtype, largest, threads, rng):
    x = rng.standard_normal(shape).astype(dtype)
    x[..., ::3] = np.round(x[..., ::3])  # ties: column order
    x[..., 1::7] = -0.0
    if x.size > 20:
        x.flat[[5, 17]] = np.nan
        x.flat[9] = np.inf
    cols = shape[-1]
    for k in sorted({0, 1, min(5, cols), cols}):
        got = _C.topk_last(x, k, largest)
        assert got.dtype == np.int64 and got.shape == (*shape[:-1], k)
        np.testing.assert_array_equal(got, _topk_reference(x, k, largest))


def test_topk_last_on_rows_in_order(rng):
    """An ascending row is the worst case (each element enters the list): still exact."""
    x = np.tile(np.arange(500, dtype=np.float32), (3, 1))
    np.testing.assert_array_equal(_C.topk_last(x, 64), _topk_reference(x, 64, True))
    np.testing.assert_array_equal(_C.topk_last(x[:, ::-1].copy(), 7, False), 499 - x[:, :7])


def test_topk_last_bad_inputs():
    x = np.ones((3, 4), np.float32)
    with pytest.raises(
        ValueError, match=r"topk_last: k=5 is out of range for a last dimension of 4"
    ):
        _C.topk_last(x, 5)
    with pytest.raises(ValueError, match="k=-1"):
        _C.topk_last(x, -1)
    with pytest.raises(ValueError, match="C-contiguous"):
        _C.topk_last(np.ones((4, 6), np.float32)[:, ::2], 1)
    with pytest.raises(TypeError, match="float32 or float64"):
        _C.topk_last(x.astype(np.int64), 1)
    with pytest.raises(ValueError, match="at least one dimension"):
        _C.topk_last(np.array(1.0, np.float32), 0)


@pytest.mark.parametrize("largest", [True, False])
def test_tensor_topk_matches_torch(largest, rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((256, 1000)).astype(np.float32)
    g = rng.standard_normal((256, 5)).astype(np.float32)
    fx, tx = fastnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    fv, fi = fx.topk(5, 1, largest)
    tv, ti = tx.topk(5, 1, largest)
    np.testing.assert_array_equal(fv.detach().numpy(), tv.detach().numpy())
    np.testing.assert_array_equal(fi.numpy(), ti.numpy())  # distinct values: one answer
    fv.backward(fastnn.tensor(g))
    tv.backward(torch.tensor(g))
    np.testing.assert_array_equal(fx.grad.numpy(), tx.grad.numpy())


VALUE_KERNELS = [("amax_last", np.max), ("amin_last", np.min)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cols", [1, 7, 31, 32, 33, 63, 64, 65, 257, 1000])
@pytest.mark.parametrize(("name", "ref"), VALUE_KERNELS)
def test_amax_amin_last_match_numpy(name, ref, cols, dtype, isa, threads, rng):
    """The value alone along the last dimension (four vector chains, then the tail): numpy's
    max / min; a row with a NaN anywhere (a chain, the tail, the first column) gives NaN."""
    x = rng.standard_normal((300, cols)).astype(dtype)
    x[::5, -1] = 9.0 if name == "amax_last" else -9.0  # the extreme in the tail
    x[1::5, 0] = 9.0 if name == "amax_last" else -9.0  # in the first column
    x[2, cols // 2] = np.nan
    x[3, -1] = np.nan
    x[4, 0] = np.nan
    x[5, :] = np.inf if name == "amax_last" else -np.inf
    for keepdim in (False, True):
        got = getattr(_C, name)(x, keepdim)
        want = ref(x, axis=-1, keepdims=keepdim)
        assert got.dtype == dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(
        getattr(_C, name)(x.reshape(3, 100, cols)), ref(x, -1).reshape(3, 100)
    )


@pytest.mark.parametrize("p", [1.0, 2.0, float("inf")])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1), (7, 1), (33, 257), (2, 3, 33), (300, 1000), (5,)])
def test_norm_last_matches_float64(p, dtype, shape, isa, threads, rng):
    x = rng.standard_normal(shape).astype(dtype)
    x.reshape(-1, shape[-1])[0, -1] = np.nan
    got = _C.norm_last(x, p)
    want = np.linalg.norm(x.astype(np.float64), ord=p, axis=-1)
    assert got.dtype == dtype and got.shape == want.shape
    assert np.isnan(got.reshape(-1)[0])
    rtol = 1e-7 if dtype == np.float32 else 1e-14  # accumulated in double, rounded once
    np.testing.assert_allclose(got.reshape(-1)[1:], want.reshape(-1)[1:], rtol=rtol)
    assert _C.norm_last(x, p, True).shape == (*shape[:-1], 1)


def test_norm_last_does_not_overflow_and_empty_rows_are_zero():
    x = np.full((2, 4), 3e30, np.float32)  # the squares overflow float32, not double
    np.testing.assert_allclose(_C.norm_last(x), [6e30, 6e30], rtol=1e-7)
    np.testing.assert_array_equal(_C.norm_last(np.zeros((3, 0), np.float32)), [0.0, 0.0, 0.0])


def test_value_and_norm_kernels_bad_inputs():
    with pytest.raises(ValueError, match=r"amax_last.*at least one element, got shape \(3, 0\)"):
        _C.amax_last(np.zeros((3, 0), np.float32))
    with pytest.raises(ValueError, match=r"amin_last.*got shape \(\)"):
        _C.amin_last(np.zeros((), np.float32))
    with pytest.raises(TypeError, match="amax_last"):
        _C.amax_last(np.zeros((2, 2), np.int64))
    with pytest.raises(ValueError, match="amin_last.*contiguous"):
        _C.amin_last(np.zeros((4, 4), np.float32)[:, ::2])
    with pytest.raises(ValueError, match="norm_last: p must be 1, 2 or inf, got 3"):
        _C.norm_last(np.zeros((2, 2), np.float32), 3.0)
    with pytest.raises(ValueError, match=r"norm_last.*at least one dimension"):
        _C.norm_last(np.zeros((), np.float32))
    with pytest.raises(TypeError, match="norm_last"):
        _C.norm_last(np.zeros((2, 2), np.int32))


@pytest.mark.parametrize("requires_grad", [False, True])
def test_tensor_amax_amin_norm_match_torch(requires_grad, rng):
    """Tensor.amax / amin / norm along the last dimension and over all (the kernels), along
    another (numpy), against torch with their gradients."""
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((6, 33, 65)).astype(np.float32)
    x[0, 0, :4] = 2.5  # tied maxima share the gradient
    cases = [
        lambda t: t.amax(-1),
        lambda t: t.amin(2, keepdim=True),
        lambda t: t.amax((0, 1)),
        lambda t: t.norm(dim=-1),
        lambda t: t.norm(dim=1, keepdim=True),
        lambda t: t.norm(),
        lambda t: t.amax(),
    ]
    for fn in cases:
        f = fastnn.tensor(x, requires_grad=requires_grad)
        t = torch.tensor(x, requires_grad=requires_grad)
        fy, ty = fn(f), fn(t)
        np.testing.assert_allclose(fy.detach().numpy(), ty.detach().numpy(), rtol=2e-6)
        if requires_grad:
            g = rng.standard_normal(ty.shape).astype(np.float32)
            fy.backward(fastnn.tensor(g))
            ty.backward(torch.tensor(g))
            np.testing.assert_allclose(f.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cols", [1, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 71, 257, 1000])
def test_prod_last_matches_float64(cols, dtype, threads, isa, rng):
    """Running products side by side, combined pairwise (the SIMD paths' whole vectors of the
    tail into the first, then the last few elements): within a few roundings per element of
    the exact product; zeros, infinities and NaN as numpy's one chain gives them."""
    x = rng.uniform(0.5, 1.5, (300, cols)).astype(dtype)
    x[1, -1] = 0.0
    x[2, 0] = np.inf
    x[3, cols // 2] = np.nan
    x[4, :] = -1.0
    if cols > 1:
        x[5, :2] = [0.0, np.inf]  # 0 * inf: NaN, as numpy
    got = _C.prod_last(x)
    with np.errstate(invalid="ignore"):
        want = np.prod(x.astype(np.float64), axis=-1)
    assert got.dtype == dtype and got.shape == (300,)
    eps = np.finfo(dtype).eps
    with np.errstate(invalid="ignore"):
        np.testing.assert_allclose(got, want.astype(dtype), rtol=cols * eps, atol=0)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    assert _C.prod_last(x.reshape(3, 100, cols), True).shape == (3, 100, 1)
    with pytest.raises(ValueError, match=r"prod_last.*at least one element, got shape \(3, 0\)"):
        _C.prod_last(np.zeros((3, 0), dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_prod_of_one_long_row_in_pieces(dtype, isa, rng):
    """A single row of 300k elements (x.prod() over everything) is multiplied in fixed pieces on
    the pool's threads, then in order: the same bits for 1 and 2 threads, close to the float64
    product, and a zero, an infinity or a NaN in a late piece reaches the result."""
    x = rng.uniform(0.999, 1.001, 300_001).astype(dtype)
    got = {}
    for n in (1, 2):
        with_threads = fastnn.get_num_threads()
        fastnn.set_num_threads(n)
        try:
            got[n] = _C.prod_last(x)
        finally:
            fastnn.set_num_threads(with_threads)
    assert got[1].tobytes() == got[2].tobytes()
    want = np.prod(x.astype(np.float64))
    # rounding errors that walk at random: ~sqrt(n) of them, with a margin
    np.testing.assert_allclose(got[1], want, rtol=4 * np.sqrt(x.size) * np.finfo(dtype).eps)
    for special, expect in ((0.0, 0.0), (np.inf, np.inf), (np.nan, np.nan)):
        y = x.copy()
        y[-5] = special
        np.testing.assert_array_equal(_C.prod_last(y), np.float64(expect).astype(dtype))


def test_tensor_prod_and_row_norm_outside_autograd_match_torch(rng):
    """The calls without gradients go straight to the host kernels: dtypes as torch's (integers
    and bool multiply in int64, dtype= casts first), keepdim, a 0-d tensor, and row norms with and
    without keepdim, contiguous or not."""
    torch = pytest.importorskip("torch")
    x = rng.uniform(0.5, 1.5, (5, 7)).astype(np.float32)
    ints = rng.integers(-3, 4, (5, 7)).astype(np.int32)
    cases = [
        (x, lambda t, lib: t.prod(1)),
        (x, lambda t, lib: t.prod(-1, keepdim=True)),
        (x, lambda t, lib: t.prod(0)),
        (x, lambda t, lib: t.prod()),
        (x, lambda t, lib: t.prod(1, dtype=lib.float64)),
        (ints, lambda t, lib: t.prod(1)),
        (ints > 0, lambda t, lib: t.prod(0)),
        (np.float32(2.5), lambda t, lib: t.prod(0)),
        (x, lambda t, lib: t.norm(dim=1)),
        (x, lambda t, lib: t.norm(dim=-1, keepdim=True)),
        (x, lambda t, lib: t.t().norm(dim=1)),
        (x, lambda t, lib: t.norm(dim=0)),
    ]
    for data, fn in cases:
        fy = fn(fastnn.tensor(data), fastnn)
        ty = fn(torch.tensor(data), torch)
        assert fy.shape == tuple(ty.shape)
        assert str(fy.dtype).split(".")[-1] == str(ty.dtype).split(".")[-1]
        np.testing.assert_allclose(fy.numpy(), ty.numpy(), rtol=1e-6)


@pytest.mark.parametrize("requires_grad", [False, True])
def test_tensor_prod_matches_torch(requires_grad, rng):
    torch = pytest.importorskip("torch")
    x = rng.uniform(0.5, 1.5, (6, 33, 40)).astype(np.float32)
    x[0, 0, 3] = 0.0  # the gradient is exact with a zero
    for fn in (
        lambda t: t.prod(-1),
        lambda t: t.prod(2, keepdim=True),
        lambda t: t.prod(1),
        lambda t: t[:2, :3].prod(),
    ):
        f = fastnn.tensor(x, requires_grad=requires_grad)
        t = torch.tensor(x, requires_grad=requires_grad)
        fy, ty = fn(f), fn(t)
        np.testing.assert_allclose(fy.detach().numpy(), ty.detach().numpy(), rtol=1e-5)
        if requires_grad:
            g = rng.standard_normal(ty.shape).astype(np.float32)
            fy.backward(fastnn.tensor(g))
            ty.backward(torch.tensor(g))
            np.testing.assert_allclose(f.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-6)
