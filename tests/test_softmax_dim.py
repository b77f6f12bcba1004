"""softmax / log_softmax along any axis (the kernels' ``dim``): the columns kernel against the
float64 references on awkward shapes, every dim, both dtypes and every SIMD path; specials,
in-place use, thread-count independence, the bad-input errors, and the Tensor ops that now call
the kernel directly (gradcheck, torch parity)."""

import numpy as np
import pytest

import fastnn
import reference as ref
from conftest import assert_close
from fastnn import kernels as K

NAMES = ["softmax", "log_softmax"]
TOL = {np.float32: dict(atol=3e-6, rtol=3e-5), np.float64: dict(atol=1e-13, rtol=1e-12)}
SHAPES = [(1, 1), (7, 1), (1, 7), (33, 7), (7, 33), (3, 5, 17), (2, 257, 3), (5, 1, 1, 65)]


def pair(name):
    return getattr(K, name), getattr(K, name + "_backward")


def refs(name):
    return getattr(ref, name), getattr(ref, name + "_backward")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_dim_vs_reference(name, dtype, isa, rng):
    fwd, bwd = pair(name)
    rfwd, rbwd = refs(name)
    for shape in SHAPES:
        for dim in range(-len(shape), len(shape)):
            x = (rng.standard_normal(shape) * 4).astype(dtype)
            g = rng.standard_normal(shape).astype(dtype)
            tag = f"{name}{shape} dim={dim}"
            y = fwd(x, dim=dim)
            assert y.dtype == dtype and y.shape == shape
            assert_close(y, rfwd(x, dim), **TOL[dtype], name=tag)
            dx = bwd(g, y, dim=dim)
            assert_close(dx, rbwd(g, y, dim), **TOL[dtype], name=tag + " backward")


@pytest.mark.parametrize("name", NAMES)
def test_last_dim_given_or_not_is_the_same_call(name, rng):
    x = rng.standard_normal((9, 13)).astype(np.float32)
    fwd, _ = pair(name)
    assert np.array_equal(fwd(x), fwd(x, dim=1))
    assert np.array_equal(fwd(x), fwd(x, -1))
    assert np.array_equal(fwd(x, 0), fwd(x, dim=0))


@pytest.mark.parametrize("name", NAMES)
def test_threads_do_not_change_the_result(name, threads, isa, rng):
    """(8, 300, 131): 8 x 3 column blocks of 300 rows, enough to be split over the pool."""
    fwd, bwd = pair(name)
    x = (rng.standard_normal((8, 300, 131)) * 3).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    before = fastnn.get_num_threads()
    fastnn.set_num_threads(1)
    y1 = fwd(x, dim=1)
    dx1 = bwd(g, y1, dim=1)
    fastnn.set_num_threads(before)
    y, dx = fwd(x, dim=1), bwd(g, y1, dim=1)
    assert np.array_equal(y, y1) and np.array_equal(dx, dx1)
    assert_close(y, refs(name)[0](x, 1), **TOL[np.float32], name=name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_specials_down_a_column(dtype, isa):
    """Large logits stay finite; a NaN makes its own column NaN and no other; a column of -inf
    gives NaN (torch's result), a single -inf entry a zero probability."""
    x = np.array(
        [[1e4, np.nan, -np.inf, -np.inf], [-1e4, 0.0, -np.inf, 1.0], [1e4, 2.0, -np.inf, 3.0]],
        dtype,
    )
    y = K.softmax(x, dim=0)
    assert_close(y[:, 0], [0.5, 0.0, 0.5], atol=0, rtol=0)
    assert np.isnan(y[:, 1]).all() and np.isnan(y[:, 2]).all()
    assert y[0, 3] == 0 and np.isclose(y[1:, 3].sum(), 1.0)
    ly = K.log_softmax(x, dim=0)
    assert ly[0, 3] == -np.inf and np.isfinite(ly[[0, 2], 0]).all() and np.isnan(ly[:, 1]).all()


@pytest.mark.parametrize("name", NAMES)
def test_in_place_along_a_leading_dim(name, isa, rng):
    fwd, bwd = pair(name)
    x = rng.standard_normal((6, 40)).astype(np.float32)
    want = fwd(x, dim=0)
    buf = x.copy()
    assert fwd(buf, dim=0, out=buf) is buf
    assert np.array_equal(buf, want)
    g = rng.standard_normal(x.shape).astype(np.float32)
    want_dx = bwd(g, want, dim=0)
    assert np.array_equal(bwd(g, want, dim=0, out=g), want_dx)


def test_empty_shapes():
    for dim in (0, 1, 2):
        assert K.softmax(np.zeros((0, 3, 4), np.float32), dim=dim).shape == (0, 3, 4)
        assert K.log_softmax(np.zeros((2, 0, 4)), dim=dim).shape == (2, 0, 4)
        e = np.zeros((2, 3, 0))
        assert K.softmax_backward(e, e, dim=dim).shape == (2, 3, 0)


@pytest.mark.parametrize("name", NAMES)
def test_bad_dim_is_an_index_error_and_changes_nothing(name):
    fwd, bwd = pair(name)
    x = np.ones((2, 3), np.float32)
    out = np.full_like(x, 7.0)
    for dim in (2, -3, 100):
        with pytest.raises(IndexError, match=rf"{name}: dim {dim} is out of range.*\(2, 3\)"):
            fwd(x, dim=dim, out=out)
        with pytest.raises(IndexError, match=r"'grad' of shape \(2, 3\).*-2 <= dim < 2"):
            bwd(x, x, dim=dim, out=out)
    assert (out == 7.0).all()
    with pytest.raises(TypeError):
        fwd(x, dim=0.5)
    with pytest.raises(TypeError):
        fwd(x, 0, out)  # out is keyword-only
    with pytest.raises(ValueError, match="C-contiguous"):
        fwd(np.ones((6, 4), np.float32).T, dim=0)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_tensor_op_gradcheck(name, dim, rng):
    x = fastnn.tensor(rng.standard_normal((3, 4, 5)), requires_grad=True)
    assert fastnn.autograd.gradcheck(lambda t: getattr(t, name)(dim), (x,))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("grad", [False, True])
def test_tensor_op_matches_torch(name, grad, rng):
    torch = pytest.importorskip("torch")
    a = (rng.standard_normal((4, 6, 5, 3)) * 3).astype(np.float32)
    g = rng.standard_normal(a.shape).astype(np.float32)
    for dim in range(4):
        x = fastnn.tensor(a, requires_grad=grad)
        t = torch.tensor(a, requires_grad=grad)
        y = getattr(fastnn.nn.functional, name)(x, dim=dim)
        yt = getattr(torch.nn.functional, name)(t, dim=dim)
        assert y.is_contiguous()
        assert_close(y.detach().numpy(), yt.detach().numpy(), atol=2e-6, rtol=2e-5, name=name)
        if grad:
            y.backward(fastnn.tensor(g))
            yt.backward(torch.tensor(g))
            assert_close(x.grad.numpy(), t.grad.numpy(), atol=2e-6, rtol=2e-5, name=name)


@pytest.mark.parametrize("name", NAMES)
def test_tensor_op_host_shortcut_takes_any_view_and_dtype(name, rng):
    """Outside autograd the Tensor op calls the kernel directly; a strided view or a dtype the
    kernel lacks goes through the backend (a copy, or float16 computed in float32) with the same
    result as a contiguous float32 input."""
    base = rng.standard_normal((5, 6, 7)).astype(np.float32)
    fwd = getattr(ref, name)
    for dim in range(3):
        view = fastnn.tensor(base).permute(2, 0, 1)[:, ::2]  # neither contiguous nor dense
        expect = fwd(np.ascontiguousarray(base.transpose(2, 0, 1)[:, ::2]).astype(np.float64), dim)
        got = getattr(view, name)(dim)
        assert got.dtype == fastnn.float32 and got.is_contiguous()
        assert_close(got.numpy(), expect, **TOL[np.float32], name=name)
        half = getattr(fastnn.tensor(base.astype(np.float16)), name)(dim)
        assert half.dtype == fastnn.float16
        assert_close(
            half.numpy(),
            fwd(base.astype(np.float16).astype(np.float64), dim),
            atol=2e-3,
            rtol=2e-3,
            name=name,
        )
