"""_C.max_last / _C.min_last, the one-pass (values, indices) along the last dim that
Tensor.max(dim) and min(dim) use on contiguous float tensors: against numpy's argmax and the
element at it, NaN and ties as torch gives them, the bad inputs, and the Tensor API."""

import numpy as np
import pytest

import fastnn
from fastnn import _C

SHAPES = [(1, 1), (1, 7), (7, 1), (33, 257), (257, 33), (4, 4), (2, 1000)]
KERNELS = [("max_last", np.argmax), ("min_last", np.argmin)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(("name", "arg"), KERNELS)
def test_rows_match_numpy(name, arg, shape, dtype, rng):
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
