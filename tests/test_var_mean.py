"""The var_mean kernel (fastnn._C.var_mean, behind Tensor.var / std / var_mean on CPU float
tensors): against float64 numpy on awkward shapes, every dim and all, keepdim and corrections;
thread-count independence; the specials (no degrees of freedom, empty, infinities, float32 data
whose squares overflow); the bad-input errors; and the Tensor ops on it (gradcheck, torch parity,
the host shortcut against the recorded path)."""

import numpy as np
import pytest

import fastnn
from conftest import assert_close
from fastnn import _C

SHAPES = [(1,), (7,), (257,), (4, 4), (7, 33), (33, 7), (3, 5, 17), (2, 257, 3), (1, 300, 1)]
TOL = {np.float32: dict(atol=1e-6, rtol=1e-6), np.float64: dict(atol=1e-14, rtol=1e-13)}


def reference(x, dim, correction, keepdim):
    x = x.astype(np.float64)
    n = x.size if dim is None else x.shape[dim]
    mean = x.mean(axis=dim, keepdims=True)
    ss = ((x - mean) ** 2).sum(axis=dim, keepdims=keepdim)
    with np.errstate(divide="ignore", invalid="ignore"):
        return ss / max(n - correction, 0), mean if keepdim else mean.squeeze(axis=dim)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_dim_vs_float64(dtype, rng):
    for shape in SHAPES:
        x = (rng.standard_normal(shape) * 3 + 5).astype(dtype)
        for dim in [None, *range(-len(shape), len(shape))]:
            for correction in (0, 1, 2.5):
                for keepdim in (False, True):
                    v, m = _C.var_mean(x, dim, correction, keepdim)
                    rv, rm = reference(x, dim, correction, keepdim)
                    tag = f"{shape} dim={dim} correction={correction} keepdim={keepdim}"
                    assert v.dtype == dtype and m.dtype == dtype
                    with np.errstate(invalid="ignore"):  # inf == inf where no dof is left
                        assert_close(v, rv, **TOL[dtype], name="var " + tag)
                        assert_close(m, rm, **TOL[dtype], name="mean " + tag)


def test_float32_data_far_from_zero_keeps_its_variance(rng):
    """1e4 + unit noise: the deviations are accumulated in double from the mean, so nothing of
    the variance cancels."""
    x = (1e4 + rng.standard_normal((64, 500))).astype(np.float32)
    for dim in (None, 0, 1):
        v, _ = _C.var_mean(x, dim)
        assert_close(v, reference(x, dim, 1, False)[0], atol=0, rtol=2e-6, name=f"dim={dim}")


@pytest.mark.parametrize("shape", [(8, 3000), (3000, 8), (5, 400, 300)])
def test_threads_do_not_change_the_result(shape, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    before = fastnn.get_num_threads()
    try:
        for dim in (None, 0, -1):
            fastnn.set_num_threads(1)
            one = _C.var_mean(x, dim)
            fastnn.set_num_threads(2)
            two = _C.var_mean(x, dim)
            assert all(np.array_equal(a, b) for a, b in zip(one, two)), dim
    finally:
        fastnn.set_num_threads(before)


def test_specials():
    f = np.float32
    v, m = _C.var_mean(np.array([3.0], f))  # one element, correction 1: 0 / 0
    assert np.isnan(v) and m == 3.0
    v, m = _C.var_mean(np.array([1.0, 2.0], f), correction=2)  # no degree of freedom left
    assert v == np.inf and m == 1.5
    v, m = _C.var_mean(np.zeros((0, 3), f), 0)
    assert v.shape == (3,) and np.isnan(v).all() and np.isnan(m).all()
    v, m = _C.var_mean(np.zeros((3, 0), f), 0)
    assert v.shape == (0,) and m.shape == (0,)
    v, m = _C.var_mean(np.array([np.inf, 1.0], f))
    assert np.isnan(v) and m == np.inf
    # squares past float32's range: the float64 sum still gives the float32 variance
    x = np.array([1.5e19, -1.5e19, 0.0], f)
    v, _ = _C.var_mean(x)
    with np.errstate(over="ignore"):
        assert np.isinf(np.var(x, ddof=1))  # float32 numpy overflows on the way
    assert v == np.float32(reference(x, None, 1, False)[0])


def test_bad_inputs_are_clear_errors():
    x = np.ones((2, 3), np.float32)
    with pytest.raises(IndexError, match=r"var_mean: dim 2 is out of range.*\(2, 3\)"):
        _C.var_mean(x, 2)
    with pytest.raises(TypeError, match="float32 or float64"):
        _C.var_mean(np.ones(3, np.int64))
    with pytest.raises(ValueError, match="C-contiguous"):
        _C.var_mean(np.ones((4, 6), np.float32)[:, ::2])
    with pytest.raises(TypeError, match="'dim' must be None or an int, got float"):
        _C.var_mean(x, 0.5)


@pytest.mark.parametrize("dim", [None, 0, 1, -1])
def test_tensor_var_and_std_gradcheck(dim, rng):
    x = fastnn.tensor(rng.standard_normal((3, 5)), requires_grad=True)
    assert fastnn.autograd.gradcheck(lambda t: t.var(dim), (x,))
    assert fastnn.autograd.gradcheck(lambda t: t.std(dim, correction=0), (x,))


def test_host_shortcut_equals_the_recorded_path(rng):
    a = rng.standard_normal((6, 7)).astype(np.float32)
    for dim in (None, 0, 1):
        plain = fastnn.tensor(a).var(dim)
        recorded = fastnn.tensor(a, requires_grad=True).var(dim)
        assert np.array_equal(plain.numpy(), recorded.detach().numpy())


@pytest.mark.parametrize("grad", [False, True])
def test_tensor_ops_match_torch(grad, rng):
    torch = pytest.importorskip("torch")
    a = (rng.standard_normal((4, 6, 5)) * 2 + 3).astype(np.float32)
    for dim in (None, 0, 1, 2, (0, 2)):
        for correction in (0, 1):
            for keepdim in (False, True):
                x = fastnn.tensor(a, requires_grad=grad)
                t = torch.tensor(a, requires_grad=grad)
                kw = dict(correction=correction, keepdim=keepdim)
                y, yt = (
                    (x.var(**kw), t.var(**kw))
                    if dim is None
                    else (x.var(dim, **kw), t.var(dim, **kw))
                )
                assert_close(y.detach().numpy(), yt.detach().numpy(), atol=1e-6, rtol=1e-5)
                vm, vmt = fastnn.var_mean(x, dim, **kw), torch.var_mean(t, dim, **kw)
                for mine, theirs in zip(vm, vmt):
                    assert_close(
                        mine.detach().numpy(), theirs.detach().numpy(), atol=1e-6, rtol=1e-5
                    )
                if grad:
                    y.sum().backward()
                    yt.sum().backward()
                    assert_close(x.grad.numpy(), t.grad.numpy(), atol=1e-6, rtol=1e-5)
