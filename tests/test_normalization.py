"""nn.BatchNorm1d / BatchNorm2d / LayerNorm / GroupNorm and F.batch_norm / layer_norm /
group_norm: torch parity of values and gradients (input, weight, bias) in train and eval mode,
running statistics over several steps in every momentum mode, finite differences in float64,
bad input, and state_dicts (fastnn.save / fastnn.load round trip, a torch BatchNorm's)."""

import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from conftest import assert_close
from fastnn import nn
from fastnn.autograd import gradcheck

TOL = {np.float32: dict(atol=2e-5, rtol=1e-4), np.float64: dict(atol=1e-10, rtol=1e-10)}
GRAD_TOL = {np.float32: dict(atol=2e-4, rtol=2e-4), np.float64: dict(atol=1e-9, rtol=1e-9)}


def _torch():
    return pytest.importorskip("torch")


def _pair(torch, x, requires_grad=True):
    return (
        fastnn.tensor(x, requires_grad=requires_grad),
        torch.tensor(x, requires_grad=requires_grad),
    )


def _copy_params(ours, theirs, rng, torch):
    """Random weights and biases (not the 1 / 0 defaults) in both modules."""
    for name, p in theirs.named_parameters():
        v = rng.standard_normal(tuple(p.shape)).astype(np.dtype(str(p.dtype).split(".")[-1]))
        with torch.no_grad():
            p.copy_(torch.tensor(v))
        getattr(ours, name).data = fastnn.tensor(v)


def _check_grads(ours, theirs, fx, tx, dtype):
    assert_close(fx.grad.numpy(), tx.grad.numpy(), **GRAD_TOL[dtype], name="input grad")
    for name, p in theirs.named_parameters():
        mine = getattr(ours, name).grad
        assert_close(mine.numpy(), p.grad.numpy(), **GRAD_TOL[dtype], name=f"{name} grad")


def _step(ours, theirs, x, rng, dtype, torch):
    fx, tx = _pair(torch, x)
    y, ty = ours(fx), theirs(tx)
    assert y.dtype == fx.dtype
    assert_close(y.detach().numpy(), ty.detach().numpy(), **TOL[dtype], name="output")
    g = rng.standard_normal(x.shape).astype(dtype)
    y.backward(fastnn.tensor(g))
    ty.backward(torch.tensor(g))
    _check_grads(ours, theirs, fx, tx, dtype)
    ours.zero_grad()
    theirs.zero_grad()


BN_CASES = [("BatchNorm1d", (7, 33)), ("BatchNorm1d", (5, 7, 9)), ("BatchNorm2d", (3, 5, 7, 9)),
            ("BatchNorm2d", (2, 1, 33, 1))]  # fmt: skip


@pytest.mark.parametrize("cls,shape", BN_CASES)
@pytest.mark.parametrize("momentum", [0.1, None, 0.0, 1.0])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_norm_matches_torch_over_steps(cls, shape, momentum, dtype, rng):
    torch = _torch()
    c = shape[1]
    ours = getattr(nn, cls)(c, momentum=momentum, eps=1e-3, dtype=dtype)
    theirs = getattr(torch.nn, cls)(
        c, momentum=momentum, eps=1e-3, dtype=getattr(torch, dtype.__name__)
    )
    _copy_params(ours, theirs, rng, torch)
    for _ in range(3):
        x = (rng.standard_normal(shape) * 2 + 3).astype(dtype)
        _step(ours, theirs, x, rng, dtype, torch)
        for name in ("running_mean", "running_var"):
            assert_close(
                getattr(ours, name).numpy(), getattr(theirs, name).numpy(), **TOL[dtype], name=name
            )
        assert ours.num_batches_tracked.item() == theirs.num_batches_tracked.item()
    ours.eval()
    theirs.eval()
    _step(ours, theirs, rng.standard_normal(shape).astype(dtype), rng, dtype, torch)
    assert ours.num_batches_tracked.item() == 3  # eval does not count batches


@pytest.mark.parametrize("affine,bias", [(True, True), (True, False), (False, False)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_without_running_stats(affine, bias, training, rng):
    torch = _torch()
    ours = nn.BatchNorm1d(4, affine=affine, track_running_stats=False, bias=bias)
    theirs = torch.nn.BatchNorm1d(4, affine=affine, track_running_stats=False, bias=bias)
    assert ours.running_mean is None and ours.num_batches_tracked is None
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _copy_params(ours, theirs, rng, torch)
    ours.train(training)
    theirs.train(training)
    _step(ours, theirs, rng.standard_normal((6, 4, 3)).astype(np.float32), rng, np.float32, torch)


def test_functional_batch_norm_matches_torch(rng):
    torch = _torch()
    x = rng.standard_normal((4, 3, 5)).astype(np.float32)
    rm, rv = rng.standard_normal(3).astype(np.float32), rng.uniform(1, 2, 3).astype(np.float32)
    w = rng.standard_normal(3).astype(np.float32)
    for training in (True, False):
        frm, frv, trm, trv = (
            fastnn.tensor(rm),
            fastnn.tensor(rv),
            torch.tensor(rm),
            torch.tensor(rv),
        )
        y = F.batch_norm(fastnn.tensor(x), frm, frv, fastnn.tensor(w), None, training, 0.2, 1e-4)
        ty = torch.nn.functional.batch_norm(
            torch.tensor(x), trm, trv, torch.tensor(w), None, training, 0.2, 1e-4
        )
        assert_close(y.numpy(), ty.numpy(), **TOL[np.float32])
        assert_close(frv.numpy(), trv.numpy(), **TOL[np.float32], name="running_var")
    y = F.batch_norm(fastnn.tensor(x), None, None, training=True)
    ty = torch.nn.functional.batch_norm(torch.tensor(x), None, None, training=True)
    assert_close(y.numpy(), ty.numpy(), **TOL[np.float32])


LN_CASES = [((7, 33), 33), ((3, 5, 7), (5, 7)), ((257, 1), [1]), ((2, 3, 4, 9), (9,))]


@pytest.mark.parametrize("shape,ns", LN_CASES)
@pytest.mark.parametrize("affine,bias", [(True, True), (True, False), (False, True)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layer_norm_matches_torch(shape, ns, affine, bias, dtype, rng):
    torch = _torch()
    tdt = getattr(torch, dtype.__name__)
    ours = nn.LayerNorm(ns, eps=1e-4, elementwise_affine=affine, bias=bias, dtype=dtype)
    theirs = torch.nn.LayerNorm(ns, eps=1e-4, elementwise_affine=affine, bias=bias, dtype=tdt)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _copy_params(ours, theirs, rng, torch)
    _step(ours, theirs, (rng.standard_normal(shape) - 2).astype(dtype), rng, dtype, torch)


GN_CASES = [(3, 6, (2, 6, 5, 7)), (1, 4, (3, 4)), (5, 5, (2, 5, 33)), (2, 8, (1, 8, 3, 3, 2))]


@pytest.mark.parametrize("groups,channels,shape", GN_CASES)
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_group_norm_matches_torch(groups, channels, shape, affine, dtype, rng):
    torch = _torch()
    tdt = getattr(torch, dtype.__name__)
    ours = nn.GroupNorm(groups, channels, eps=1e-4, affine=affine, dtype=dtype)
    theirs = torch.nn.GroupNorm(groups, channels, eps=1e-4, affine=affine, dtype=tdt)
    assert repr(ours) == repr(theirs)
    _copy_params(ours, theirs, rng, torch)
    _step(ours, theirs, (rng.standard_normal(shape) * 3).astype(dtype), rng, dtype, torch)


def test_reprs_and_state_dict_keys_match_torch():
    torch = _torch()
    for args, kw in [
        ((3,), {}),
        ((3,), dict(momentum=None, bias=False)),
        ((5,), dict(affine=False)),
    ]:
        for cls in ("BatchNorm1d", "BatchNorm2d"):
            ours, theirs = getattr(nn, cls)(*args, **kw), getattr(torch.nn, cls)(*args, **kw)
            assert repr(ours) == repr(theirs)
            assert list(ours.state_dict()) == list(theirs.state_dict())
    assert nn.BatchNorm2d(3).num_batches_tracked.dtype == fastnn.int64
    assert repr(nn.GroupNorm(2, 4, bias=False)) == repr(torch.nn.GroupNorm(2, 4, bias=False))


# ---- finite differences (float64) ------------------------------------------------------------------


def _params(rng, *shapes):
    return [fastnn.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradcheck(training, rng):
    x, w, b = _params(rng, (4, 3, 5), (3,), (3,))
    rm, rv = fastnn.tensor(rng.standard_normal(3)), fastnn.tensor(rng.uniform(1, 2, 3))
    # momentum 0 keeps the running buffers fixed across the many evaluations gradcheck makes
    assert gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training, 0.0), (x, w, b))
    assert gradcheck(lambda x: F.batch_norm(x, None, None, training=True), (x,))


def test_layer_norm_gradcheck(rng):
    x, w, b = _params(rng, (3, 4, 5), (4, 5), (4, 5))
    assert gradcheck(lambda x, w, b: F.layer_norm(x, (4, 5), w, b), (x, w, b))
    assert gradcheck(lambda x, b: F.layer_norm(x, (5,), None, b[0]), (x, b))


def test_group_norm_gradcheck(rng):
    x, w, b = _params(rng, (2, 6, 3), (6,), (6,))
    assert gradcheck(lambda x, w, b: F.group_norm(x, 3, w, b), (x, w, b))
    assert gradcheck(lambda x: F.group_norm(x, 2), (x,))


# ---- bad input -------------------------------------------------------------------------------------


def test_batch_norm_bad_input_raises_and_changes_nothing():
    bn = nn.BatchNorm1d(3)
    before = {k: v.numpy().copy() for k, v in bn.state_dict().items()}
    cases = [
        (fastnn.ones(4, 3, 2, 2), ValueError, r"expected 2D or 3D input \(got 4D input\)"),
        (fastnn.ones(3), ValueError, r"expected 2D or 3D input \(got 1D input\)"),
        (fastnn.ones(4, 5), RuntimeError, "running_mean should contain 5 elements not 3"),
        (fastnn.ones(1, 3), ValueError, "Expected more than 1 value per channel when training"),
        (fastnn.ones(1, 3, 1), ValueError, "Expected more than 1 value per channel"),
        (fastnn.ones(4, 3, dtype=fastnn.int64), TypeError, "floating-point"),
        (fastnn.ones(4, 3, dtype=fastnn.float64), RuntimeError, "mixed dtypes"),
    ]
    for x, exc, match in cases:
        with pytest.raises(exc, match=match):
            bn(x)
    for k, v in bn.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k], err_msg=k)
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
        nn.BatchNorm2d(3)(fastnn.ones(2, 3, 4))
    bn.eval()
    assert bn(fastnn.ones(1, 3)).shape == (1, 3)  # a batch of one is fine in eval
    with pytest.raises(RuntimeError, match="running_mean must be defined in evaluation mode"):
        F.batch_norm(fastnn.ones(2, 3), None, None)
    with pytest.raises(RuntimeError, match="weight should contain 3 elements not 4"):
        F.batch_norm(fastnn.ones(2, 3), None, None, fastnn.ones(4), training=True)


def test_layer_and_group_norm_bad_input():
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[4\]"):
        F.layer_norm(fastnn.ones(2, 3), (4,))
    with pytest.raises(RuntimeError, match="Expected weight to be of same shape"):
        F.layer_norm(fastnn.ones(2, 3), (3,), fastnn.ones(2))
    with pytest.raises(TypeError, match="tuple of ints"):
        F.layer_norm(fastnn.ones(2, 3), "3")
    with pytest.raises(
        ValueError, match=r"num_channels \(3\) must be divisible by num_groups \(2\)"
    ):
        nn.GroupNorm(2, 3)
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        F.group_norm(fastnn.ones(2, 3, 4), 2)
    with pytest.raises(RuntimeError, match="Expected at least 2 dimensions"):
        F.group_norm(fastnn.ones(3), 1)
    with pytest.raises(RuntimeError, match="Expected weight to be a vector"):
        F.group_norm(fastnn.ones(2, 4), 2, fastnn.ones(3))
    with pytest.raises(TypeError, match="floating-point"):
        nn.LayerNorm(3)(fastnn.ones(2, 3, dtype=fastnn.int32))


# ---- state_dict --------------------------------------------------------------------------------------


def test_state_dict_round_trip_through_save_and_load(tmp_path, rng):
    bn = nn.BatchNorm2d(4, momentum=None)
    for _ in range(3):
        bn(fastnn.tensor(rng.standard_normal((5, 4, 3, 3)).astype(np.float32)))
    path = tmp_path / "bn.pt"
    fastnn.save(bn.state_dict(), path)
    loaded = nn.BatchNorm2d(4, momentum=None)
    loaded.load_state_dict(fastnn.load(path))
    assert loaded.num_batches_tracked.item() == 3
    assert loaded.num_batches_tracked.dtype == fastnn.int64
    for k, v in bn.state_dict().items():
        np.testing.assert_array_equal(loaded.state_dict()[k].numpy(), v.numpy(), err_msg=k)
    x = fastnn.tensor(rng.standard_normal((2, 4, 3, 3)).astype(np.float32))
    bn.eval()
    loaded.eval()
    np.testing.assert_array_equal(loaded(x).detach().numpy(), bn(x).detach().numpy())


def test_loads_a_torch_batch_norm_state_dict(tmp_path, rng):
    torch = _torch()
    theirs = torch.nn.BatchNorm1d(5)
    for _ in range(4):
        theirs(torch.randn(8, 5) * 3 + 1)
    path = tmp_path / "torch_bn.pt"
    torch.save(theirs.state_dict(), path)
    ours = nn.BatchNorm1d(5)
    ours.load_state_dict(fastnn.load(path))
    assert ours.num_batches_tracked.item() == 4
    theirs.eval()
    ours.eval()
    x = rng.standard_normal((3, 5)).astype(np.float32)
    with torch.no_grad():
        want = theirs(torch.tensor(x)).numpy()
    assert_close(ours(fastnn.tensor(x)).detach().numpy(), want, **TOL[np.float32])
