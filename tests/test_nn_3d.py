"""max_pool3d / avg_pool3d / adaptive_avg_pool3d, MaxPool3d / AvgPool3d / AdaptiveAvgPool3d,
BatchNorm3d and InstanceNorm3d against torch: values and gradients (ties included: the gradient
goes to the first maximum in (d, h, w) order, as torch's), options, reprs and errors."""

import numpy as np
import pytest

import fastnn
from conftest import assert_close

torch = pytest.importorskip("torch")
F = fastnn.nn.functional
TF = torch.nn.functional
RNG = np.random.default_rng(0)


def _check(f, tf, a, tol=1e-12):
    x, tx = fastnn.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, ref = f(x), tf(tx)
    assert tuple(out.shape) == tuple(ref.shape)
    assert_close(out.detach().numpy(), ref.detach().numpy(), atol=tol, rtol=tol)
    w = np.random.default_rng(5).standard_normal(tuple(ref.shape))
    (out * fastnn.tensor(w)).sum().backward()
    (ref * torch.tensor(w)).sum().backward()
    assert_close(x.grad.numpy(), tx.grad.numpy(), atol=tol, rtol=tol, name="grad")


MAX_ARGS = [(2,), ((3, 2, 3), (2, 1, 2), (1, 1, 0), (1, 2, 1)), (3, 1, 1), ((1, 2, 2),)]


@pytest.mark.parametrize("args", MAX_ARGS)
@pytest.mark.parametrize("shape", [(2, 3, 5, 6, 7), (3, 4, 5, 5)])
def test_max_pool3d(args, shape):
    a = RNG.standard_normal(shape)
    _check(lambda x: F.max_pool3d(x, *args), lambda x: TF.max_pool3d(x, *args), a)


def test_max_pool3d_ties_route_like_torch():
    a = np.round(RNG.standard_normal((2, 2, 5, 4, 6)))  # many equal values, zeros after relu
    _check(lambda x: F.max_pool3d(x.relu(), 3, 1, 1), lambda x: TF.max_pool3d(x.relu(), 3, 1, 1), a)
    _check(lambda x: F.max_pool3d(x, 2), lambda x: TF.max_pool3d(x, 2), a)


AVG_ARGS = [
    (2,),
    (3, 2, 1),
    (3, 2, 1, False, False),
    ((3, 1, 2), (1, 2, 1), (1, 0, 1), False, True, 5),
    (2, None, 0, False, False, 3),
]


@pytest.mark.parametrize("args", AVG_ARGS)
def test_avg_pool3d(args):
    a = RNG.standard_normal((2, 3, 5, 6, 7))
    _check(lambda x: F.avg_pool3d(x, *args), lambda x: TF.avg_pool3d(x, *args), a)
    _check(lambda x: F.avg_pool3d(x, *args), lambda x: TF.avg_pool3d(x, *args), a[0])


@pytest.mark.parametrize("size", [1, (2, None, 3), (3, 4, 5), (5, 6, 7), (4, 1, 2)])
def test_adaptive_avg_pool3d(size):
    a = RNG.standard_normal((2, 3, 5, 6, 7))
    _check(lambda x: F.adaptive_avg_pool3d(x, size), lambda x: TF.adaptive_avg_pool3d(x, size), a)


def test_pool3d_modules_and_reprs():
    for cls, args in [
        ("MaxPool3d", (2,)),
        ("MaxPool3d", ((2, 3, 1), 1, (1, 1, 0))),
        ("AvgPool3d", (2,)),
        ("AvgPool3d", (3, 2, 1)),
        ("AdaptiveAvgPool3d", ((2, None, 3),)),
    ]:
        m, tm = getattr(fastnn.nn, cls)(*args), getattr(torch.nn, cls)(*args)
        assert repr(m) == repr(tm)
        a = RNG.standard_normal((1, 2, 4, 5, 6))
        assert_close(
            m(fastnn.tensor(a)).numpy(), tm(torch.tensor(a)).numpy(), atol=1e-12, rtol=1e-12
        )


def test_pool3d_errors():
    with pytest.raises(
        RuntimeError, match=r"Expected 4D \(unbatched\) or 5D \(batched\) input to max_pool3d"
    ):
        F.max_pool3d(fastnn.ones(2, 3, 4), 2)
    with pytest.raises(RuntimeError, match="floating-point"):
        F.avg_pool3d(fastnn.ones(1, 1, 2, 2, 2, dtype=fastnn.int64), 2)
    with pytest.raises(RuntimeError, match="divisor must be not zero"):
        F.avg_pool3d(fastnn.ones(1, 1, 2, 2, 2), 2, divisor_override=0)


@pytest.mark.parametrize("affine,track", [(True, True), (False, False), (True, False)])
def test_batch_norm3d_train_and_eval(affine, track):
    m = fastnn.nn.BatchNorm3d(3, affine=affine, track_running_stats=track).double()
    tm = torch.nn.BatchNorm3d(3, affine=affine, track_running_stats=track).double()
    assert repr(m) == repr(tm)
    a = RNG.standard_normal((2, 3, 3, 4, 2))
    _check(m, tm, a, tol=1e-11)
    if track:
        assert_close(m.running_mean.numpy(), tm.running_mean.numpy(), atol=1e-12, rtol=1e-12)
        assert_close(m.running_var.numpy(), tm.running_var.numpy(), atol=1e-12, rtol=1e-12)
        m.eval(), tm.eval()
        _check(m, tm, a, tol=1e-11)
    with pytest.raises(ValueError, match=r"expected 5D input \(got 4D input\)"):
        m(fastnn.ones(2, 3, 4, 4, dtype=fastnn.float64))


@pytest.mark.parametrize("affine", [False, True])
def test_instance_norm3d(affine):
    m = fastnn.nn.InstanceNorm3d(3, affine=affine).double()
    tm = torch.nn.InstanceNorm3d(3, affine=affine).double()
    assert repr(m) == repr(tm)
    a = RNG.standard_normal((2, 3, 3, 4, 2))
    _check(m, tm, a, tol=1e-11)
    _check(m, tm, a[0], tol=1e-11)
    with pytest.raises(ValueError, match=r"expected 4D or 5D input \(got 3D input\)"):
        m(fastnn.ones(3, 4, 4, dtype=fastnn.float64))
