"""kernels.max_pool2d_2x2 / max_pool2d_2x2_backward (one-byte window codes) against the float64
reference and the int64-index kernels, on every ISA path; their argument checks; and
F.max_pool2d's training path, which keeps the codes when no indices are asked for."""

import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
import reference as ref
from fastnn import kernels
from fastnn.autograd import gradcheck

# Rows shorter than a vector (7 outputs: the CNN's 14x14 maps; 4 on a plane exactly 8 wide; 3 on
# one narrower than 8), several vectors and a partial one, odd heights and widths. On AVX2 every
# row but a plane's last ends on a whole vector that spills into the next rows.
SHAPES = [
    (1, 1, 2, 2),
    (2, 3, 7, 9),
    (2, 3, 14, 14),
    (1, 2, 9, 8),
    (1, 2, 6, 7),
    (1, 2, 33, 34),
    (1, 1, 5, 257),
    (3, 2, 1 + 2 * 17, 40),
]


def codes_to_indices(code, width):
    """The flat index ih*W + iw each code stands for."""
    _, _, ho, wo = code.shape
    oh = np.arange(ho).reshape(1, 1, ho, 1)
    ow = np.arange(wo).reshape(1, 1, 1, wo)
    c = code.astype(np.int64)
    return (2 * oh + c // 2) * width + 2 * ow + c % 2


def awkward_input(rng, shape, dtype):
    """Values with ties (small integers), negative zeros and NaNs, so the tap rule matters."""
    x = rng.integers(-3, 4, size=shape).astype(dtype)
    x[rng.random(shape) < 0.05] = np.nan
    x[x == 0] = rng.choice([0.0, -0.0], size=int((x == 0).sum()))
    return x


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_matches_reference_and_index_kernel(isa, rng, shape, dtype):
    x = rng.standard_normal(shape).astype(dtype)
    y, code = kernels.max_pool2d_2x2(x)
    want_y, want_idx = ref.max_pool2d(x, (2, 2), (2, 2), (0, 0))
    assert y.dtype == dtype and code.dtype == np.uint8 and code.shape == want_y.shape
    np.testing.assert_array_equal(y, want_y.astype(dtype))
    np.testing.assert_array_equal(codes_to_indices(code, shape[3]), want_idx)

    x = awkward_input(rng, shape, dtype)
    y, code = kernels.max_pool2d_2x2(x)
    y_idx, idx = kernels.max_pool2d(x, 2, 2, 0, 1)
    np.testing.assert_array_equal(y, y_idx)  # NaNs in the same places
    np.testing.assert_array_equal(codes_to_indices(code, shape[3]), idx)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backward_matches_reference_and_index_kernel(isa, rng, shape, dtype):
    x = awkward_input(rng, shape, dtype)
    _, code = kernels.max_pool2d_2x2(x)
    _, idx = kernels.max_pool2d(x, 2, 2, 0, 1)
    g = rng.standard_normal(code.shape).astype(dtype)
    dx = kernels.max_pool2d_2x2_backward(g, code, shape)
    assert dx.dtype == dtype and dx.shape == shape
    np.testing.assert_array_equal(dx, kernels.max_pool2d_backward(g, idx, shape))
    np.testing.assert_allclose(dx, ref.max_pool2d_backward(g, idx, shape), rtol=0, atol=0)


def test_threads_do_not_change_results(rng, threads):
    x = rng.standard_normal((4, 8, 30, 30)).astype(np.float32)
    y, code = kernels.max_pool2d_2x2(x)
    g = rng.standard_normal(y.shape).astype(np.float32)
    want_y, want_idx = ref.max_pool2d(x, (2, 2), (2, 2), (0, 0))
    np.testing.assert_array_equal(y, want_y.astype(np.float32))
    np.testing.assert_array_equal(codes_to_indices(code, 30), want_idx)
    np.testing.assert_array_equal(
        kernels.max_pool2d_2x2_backward(g, code, x.shape),
        ref.max_pool2d_backward(g, want_idx, x.shape).astype(np.float32),
    )


def test_bad_arguments_raise():
    x = np.zeros((1, 1, 4, 4), np.float32)
    _, code = kernels.max_pool2d_2x2(x)
    g = np.ones((1, 1, 2, 2), np.float32)
    with pytest.raises(TypeError, match="'x' must have dtype float32 or float64"):
        kernels.max_pool2d_2x2(x.astype(np.int32))
    with pytest.raises(TypeError, match="'x' must be a numpy.ndarray"):
        kernels.max_pool2d_2x2([[1.0]])
    with pytest.raises(ValueError, match="'x' must have 4 dimensions"):
        kernels.max_pool2d_2x2(x[0])
    with pytest.raises(ValueError, match="smaller than the 2x2 window"):
        kernels.max_pool2d_2x2(np.zeros((1, 1, 1, 4), np.float32))
    with pytest.raises(ValueError, match="contiguous"):
        kernels.max_pool2d_2x2(np.zeros((1, 1, 4, 8), np.float32)[..., ::2])
    with pytest.raises(TypeError, match="'code' must have dtype uint8, got int64"):
        kernels.max_pool2d_2x2_backward(g, code.astype(np.int64), (1, 1, 4, 4))
    with pytest.raises(ValueError, match="'code' must have shape"):
        kernels.max_pool2d_2x2_backward(g, code[..., :1].copy(), (1, 1, 4, 4))
    with pytest.raises(ValueError, match="not the 2x2 pooling of input_shape"):
        kernels.max_pool2d_2x2_backward(g, code, (1, 1, 6, 4))
    with pytest.raises(ValueError, match="must have 4 entries"):
        kernels.max_pool2d_2x2_backward(g, code, (1, 4, 4))
    with pytest.raises(TypeError, match="must hold ints"):
        kernels.max_pool2d_2x2_backward(g, code, (1, 1, 4.0, 4))
    with pytest.raises(TypeError, match="'grad' must have dtype float32 or float64"):
        kernels.max_pool2d_2x2_backward(g.astype(np.int64), code, (1, 1, 4, 4))
    bad = code.copy()
    bad[0, 0, 1, 0] = 4
    with pytest.raises(ValueError, match="holds 4 at flat position 2"):
        kernels.max_pool2d_2x2_backward(g, bad, (1, 1, 4, 4))


@pytest.mark.parametrize("value", [4, 255])
def test_bad_code_in_a_full_vector_row_raises(isa, value):
    # 32 outputs a row: whole vectors on every path, then one bad code among them.
    x = np.zeros((1, 2, 2, 64), np.float32)
    _, code = kernels.max_pool2d_2x2(x)
    code[0, 1, 0, 20] = value
    g = np.ones(code.shape, np.float32)
    with pytest.raises(ValueError, match=f"holds {value} at flat position 52"):
        kernels.max_pool2d_2x2_backward(g, code, x.shape)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_autograd_path_matches_indices_path(rng, dtype):
    x = awkward_input(rng, (2, 3, 9, 8), dtype)
    g = rng.standard_normal((2, 3, 4, 4)).astype(dtype)
    a = fastnn.tensor(x, requires_grad=True)
    out = F.max_pool2d(a, 2)
    out.backward(fastnn.tensor(g))
    b = fastnn.tensor(x, requires_grad=True)
    out_b, idx = F.max_pool2d(b, 2, return_indices=True)
    out_b.backward(fastnn.tensor(g))
    np.testing.assert_array_equal(out.detach().numpy(), out_b.detach().numpy())
    np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())
    np.testing.assert_array_equal(a.grad.numpy(), ref.max_pool2d_backward(g, idx.numpy(), x.shape))


def test_gradcheck_float64(rng):
    x = fastnn.tensor(rng.standard_normal((2, 2, 5, 6)), requires_grad=True)
    assert gradcheck(lambda t: F.max_pool2d(t, 2), (x,))


def test_torch_parity_values_and_gradients(rng):
    torch = pytest.importorskip("torch")
    x = awkward_input(rng, (3, 4, 11, 10), np.float32)
    g = rng.standard_normal((3, 4, 5, 5)).astype(np.float32)
    a = fastnn.tensor(x, requires_grad=True)
    F.max_pool2d(a, 2).backward(fastnn.tensor(g))
    t = torch.tensor(x, requires_grad=True)
    out_t = torch.nn.functional.max_pool2d(t, 2)
    out_t.backward(torch.tensor(g))
    np.testing.assert_array_equal(F.max_pool2d(fastnn.tensor(x), 2).numpy(), out_t.detach())
    np.testing.assert_array_equal(a.grad.numpy(), t.grad.numpy())
