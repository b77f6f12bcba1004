"""nn.Buffer (assignment registers a buffer, persistent or not) and nn.SyncBatchNorm on one
process (BatchNorm's values, gradients and running statistics, against torch's SyncBatchNorm),
convert_sync_batchnorm, and their errors. The multi-process SyncBatchNorm runs under MPI in
test_distributed.py (tests/mpi/sync_batchnorm.py)."""

import numpy as np
import pytest

import fastnn
from fastnn.autograd import gradcheck

torch = pytest.importorskip("torch")
nn = fastnn.nn


def test_buffer_assignment_matches_torch():
    fm, tm = nn.Module(), torch.nn.Module()
    for m, lib in ((fm, fastnn), (tm, torch)):
        m.a = lib.nn.Buffer(lib.ones(2))
        m.b = lib.nn.Buffer(lib.zeros(3), persistent=False)
        m.c = lib.nn.Buffer(lib.ones(1, requires_grad=True))
        m.register_buffer("d", lib.nn.Buffer(lib.ones(1), persistent=False))
    for m in (fm, tm):
        assert list(m._buffers) == ["a", "b", "c", "d"]
        assert list(m.state_dict()) == ["a", "c", "d"]
        assert m.c.requires_grad
    assert fm._non_persistent_buffers == tm._non_persistent_buffers_set == {"b"}
    fm.b = nn.Buffer(fastnn.ones(2))  # a Buffer again: its own persistence
    fm.a = fastnn.zeros(4)  # a plain tensor on a buffer's name: keeps the persistence
    assert fm._non_persistent_buffers == set() and fm.a.shape == (4,)
    fm.a = fastnn.zeros(1)
    fm.a = nn.Buffer(fastnn.zeros(1), persistent=False)
    assert "a" not in fm.state_dict()


def test_buffer_is_a_tensor_marked():
    b = nn.Buffer(fastnn.tensor([1.0, 2.0], requires_grad=True))
    assert type(b) is fastnn.Tensor and isinstance(b, nn.Buffer) and b.persistent
    assert not isinstance(fastnn.ones(2), nn.Buffer)
    assert b.requires_grad and b.grad_fn is None
    assert nn.Buffer().shape == (0,) and torch.nn.Buffer().shape == (0,)


def test_buffer_errors():
    m = nn.Module()
    m.p = nn.Parameter(fastnn.ones(1))
    with pytest.raises(TypeError, match="as parameter 'p'"):
        m.p = nn.Buffer(fastnn.ones(1))
    m.x = 5
    with pytest.raises(KeyError, match="'x' already exists"):
        m.x = nn.Buffer(fastnn.ones(1))
    with pytest.raises(AttributeError, match="before Module.__init__"):
        nn.Module.__new__(nn.Module).b = nn.Buffer(fastnn.ones(1))
    with pytest.raises(TypeError, match="must be a Tensor, got int"):
        nn.Buffer(3)


@pytest.mark.parametrize("shape", [(7, 3), (1, 3, 33), (2, 3, 4, 1, 5)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sync_batchnorm_one_process_matches_torch(shape, dtype):
    rng = np.random.default_rng(0)
    fm = nn.SyncBatchNorm(3, momentum=None).to(np.dtype(dtype).name)
    tm = torch.nn.SyncBatchNorm(3, momentum=None).to(getattr(torch, np.dtype(dtype).name))
    assert repr(fm) == repr(tm)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for training in (True, True, False):
        fm.train(training), tm.train(training)
        x = rng.standard_normal(shape).astype(dtype) * 3 + 1
        fx, tx = fastnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        fy, ty = fm(fx), tm(tx)
        w = rng.standard_normal(shape).astype(dtype)
        (fy * fastnn.tensor(w)).sum().backward()
        (ty * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(fy.detach().numpy(), ty.detach().numpy(), rtol=tol, atol=tol)
        np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), rtol=tol * 10, atol=tol * 10)
        for k, v in tm.state_dict().items():
            np.testing.assert_allclose(fm.state_dict()[k].numpy(), v.numpy(), rtol=tol, atol=tol)
        np.testing.assert_allclose(fm.weight.grad.numpy(), tm.weight.grad.numpy(), rtol=tol * 10)


def test_sync_batchnorm_gradcheck():
    m = nn.SyncBatchNorm(2, affine=True).double()
    x = fastnn.tensor(np.random.default_rng(1).standard_normal((3, 2, 4)), requires_grad=True)
    assert gradcheck(m, (x,))


def test_convert_sync_batchnorm_keeps_the_tensors():
    model = nn.Sequential(
        nn.Conv2d(3, 4, 1),
        nn.BatchNorm2d(4),
        nn.InstanceNorm2d(4),
        nn.Sequential(nn.BatchNorm1d(2, affine=False, momentum=0.3, eps=1e-3)),
    )
    model[1].eval()
    before = dict(model.named_parameters()) | dict(model.named_buffers())
    out = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert out is model
    assert type(model[1]) is nn.SyncBatchNorm and not model[1].training
    assert type(model[2]) is nn.InstanceNorm2d
    inner = model[3][0]
    assert type(inner) is nn.SyncBatchNorm and inner.momentum == 0.3 and inner.eps == 1e-3
    assert inner.weight is None and inner.training
    after = dict(model.named_parameters()) | dict(model.named_buffers())
    assert list(after) == list(before)
    assert all(after[k] is before[k] for k in before)
    top = nn.SyncBatchNorm.convert_sync_batchnorm(nn.BatchNorm3d(5))
    assert type(top) is nn.SyncBatchNorm and top.num_features == 5


def test_sync_batchnorm_errors():
    m = nn.SyncBatchNorm(3)
    with pytest.raises(ValueError, match="expected at least 2D input"):
        m(fastnn.ones(3))
    with pytest.raises(ValueError, match="num_features"):
        nn.SyncBatchNorm(0)
