"""Pinned host memory and asynchronous uploads (csrc/cuda/pinned.cu): Tensor.pin_memory /
is_pinned, DataLoader(pin_memory=True), Tensor.to('cuda', non_blocking=True) from pinned and
pageable memory (values equal the source on awkward sizes and dtypes; a pinned block is not
reused under a queued copy; a pageable source may be overwritten at once), and training.fit's
device-side sums and resident datasets.

Without a GPU: torch's errors and warnings for pinning without an accelerator, the batch-pinning
glue of the DataLoader (with a stand-in pin), and fit on the numpy emulation of the bindings
(tests/_fake_cuda.py): the same History as on the CPU, with two host reads per epoch instead of
two per batch, and resident datasets replaying the loader's batches exactly."""

import collections
import warnings

import numpy as np
import pytest

import fastnn
from fastnn import _devices, cuda, nn, optim, training
from fastnn.cuda import pinned
from fastnn.utils import data as data_mod
from fastnn.utils.data import DataLoader, TensorDataset

no_gpu = pytest.mark.skipif(cuda.is_available(), reason="checks the behaviour without a GPU")

SIZES = [1, 7, 33, 257, (33, 257), (5_000_003,)]  # the last one spans several staging chunks
DTYPES = [np.float32, np.float64, np.int64, np.int32, np.uint8, np.bool_]


def _rand(rng, shape, dtype):
    a = rng.standard_normal(shape) * 100
    return a.astype(dtype) if dtype != np.bool_ else a > 0


# ---- on a GPU ------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SIZES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.cuda
@pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA GPU")
def test_pin_and_non_blocking_copies_keep_the_values(shape, dtype, rng):
    a = _rand(rng, shape, dtype)
    t = fastnn.from_numpy(a)
    assert not t.is_pinned()
    p = t.pin_memory()
    assert p.is_pinned() and p.pin_memory() is p and p.dtype == t.dtype
    np.testing.assert_array_equal(p.numpy(), a)
    for src in (p, t):  # pinned: a DMA from the block; pageable: through staging
        d = src.to("cuda", non_blocking=True)
        assert d.device.type == "cuda"
        np.testing.assert_array_equal(d.cpu().numpy(), a)
    np.testing.assert_array_equal(t.cuda(non_blocking=True).cpu().numpy(), a)


@pytest.mark.cuda
@pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA GPU")
def test_views_of_pinned_memory_are_pinned_and_strided_inputs_are_copied(rng):
    a = rng.standard_normal((64, 33)).astype(np.float32)
    p = fastnn.from_numpy(a).pin_memory()
    assert p[3:9].is_pinned()
    q = fastnn.from_numpy(a).t().pin_memory()  # non-contiguous: a contiguous pinned copy
    assert q.is_pinned() and q.numpy().flags.c_contiguous
    np.testing.assert_array_equal(q.numpy(), a.T)
    d = p[3:9].to("cuda", non_blocking=True)
    np.testing.assert_array_equal(d.cpu().numpy(), a[3:9])


def _keep_the_gpu_busy():
    """Queue a few milliseconds of work, so that copies queued next wait in the stream."""
    big = cuda.from_numpy(np.full((3072, 3072), 1e-3, np.float32))
    from fastnn.cuda import kernels as ck

    for _ in range(4):
        big = ck.matmul(big, big)
    return big


@pytest.mark.cuda
@pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA GPU")
def test_a_freed_pinned_block_is_not_reused_under_a_queued_copy(rng):
    a = rng.standard_normal(1 << 20).astype(np.float32)
    busy = _keep_the_gpu_busy()
    p = fastnn.from_numpy(a).pin_memory()
    d = p.to("cuda", non_blocking=True)  # queued behind the matmuls
    del p  # the block goes back to the cache while the copy still has to read it
    q = fastnn.from_numpy(np.full_like(a, -7.0)).pin_memory()  # same size class
    np.testing.assert_array_equal(d.cpu().numpy(), a)
    np.testing.assert_array_equal(q.numpy(), np.full_like(a, -7.0))
    del busy


@pytest.mark.cuda
@pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA GPU")
def test_a_pageable_source_may_be_overwritten_right_after_a_non_blocking_copy(rng):
    a = rng.standard_normal(3_000_001).astype(np.float32)
    keep = a.copy()
    busy = _keep_the_gpu_busy()
    before = pinned.memory_stats()["staged_copies"]
    d = fastnn.from_numpy(a).to("cuda", non_blocking=True)
    a[:] = 0.0
    assert pinned.memory_stats()["staged_copies"] == before + 1
    np.testing.assert_array_equal(d.cpu().numpy(), keep)
    del busy


@pytest.mark.cuda
@pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA GPU")
def test_big_endian_and_fortran_sources(rng):
    a = rng.standard_normal((17, 9))
    for src in (a.astype(">f8"), np.asfortranarray(a)):
        d = cuda._require().from_numpy_async(src)
        np.testing.assert_array_equal(d.numpy(), a)


@pytest.mark.cuda
@pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA GPU")
def test_pinned_cache_reuses_blocks_and_empties(rng):
    a = rng.standard_normal(100_000).astype(np.float32)
    fastnn.cuda.synchronize()
    p = fastnn.from_numpy(a).pin_memory()
    del p
    stats = pinned.memory_stats()
    q = fastnn.from_numpy(a).pin_memory()
    after = pinned.memory_stats()
    assert after["cache_hits"] == stats["cache_hits"] + 1
    assert after["host_allocs"] == stats["host_allocs"]
    del q
    pinned.empty_cache()
    assert pinned.memory_stats()["reserved"] <= after["reserved"]


@pytest.mark.cuda
@pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA GPU")
def test_pin_memory_passes_gradients_and_rejects_gpu_tensors():
    x = fastnn.ones(3, 4, requires_grad=True)
    p = x.pin_memory()
    assert p.is_pinned() and p.requires_grad
    (p.cuda(non_blocking=True) * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((3, 4), 2.0, np.float32))
    with pytest.raises(RuntimeError, match="only dense CPU tensors can be pinned"):
        fastnn.ones(2).cuda().pin_memory()
    assert not fastnn.ones(2).cuda().is_pinned()


@pytest.mark.parametrize("workers", [0, 2])
@pytest.mark.cuda
@pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA GPU")
def test_data_loader_pins_batches(workers, rng):
    X = rng.standard_normal((70, 5)).astype(np.float32)
    y = rng.integers(0, 3, 70)
    ds = TensorDataset(X, y)
    plain = list(DataLoader(ds, batch_size=16, num_workers=workers))
    pinned_batches = list(DataLoader(ds, batch_size=16, num_workers=workers, pin_memory=True))
    assert len(plain) == len(pinned_batches) == 5
    for (a, b), (pa, pb) in zip(plain, pinned_batches):
        assert pa.is_pinned() and pb.is_pinned()
        np.testing.assert_array_equal(pa.numpy(), a.numpy())
        np.testing.assert_array_equal(pb.numpy(), b.numpy())


def _mlp_fit(device, resident, X, y, epochs=2):
    fastnn.manual_seed(0)
    net = nn.Sequential(nn.Linear(X.shape[1], 16), nn.ReLU(), nn.Linear(16, 3)).to(device)
    train = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True, seed=3)
    test = DataLoader(TensorDataset(X[:40], y[:40]), batch_size=16)
    opt = optim.SGD(net.parameters(), lr=0.1)
    h = training.fit(
        net,
        train,
        test,
        nn.CrossEntropyLoss(),
        epochs,
        opt,
        progress=False,
        log=None,
        resident=resident,
    )
    return h, [p.detach().cpu().numpy() for p in net.parameters()]


@pytest.mark.cuda
@pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA GPU")
def test_fit_on_the_gpu_matches_the_cpu_and_resident_matches_copied(rng):
    X = rng.standard_normal((100, 7)).astype(np.float32)
    y = rng.integers(0, 3, 100)
    h_cpu, w_cpu = _mlp_fit("cpu", False, X, y)
    h_gpu, w_gpu = _mlp_fit("cuda", False, X, y)
    h_res, w_res = _mlp_fit("cuda", True, X, y)
    for h in (h_gpu, h_res):
        np.testing.assert_allclose(h.train_loss, h_cpu.train_loss, rtol=1e-4)
        np.testing.assert_allclose(h.train_acc, h_cpu.train_acc, atol=0.011)
        np.testing.assert_allclose(h.test_acc, h_cpu.test_acc, atol=0.026)
    # the same batches in the same order (a kernel with atomics may still round differently)
    np.testing.assert_allclose(h_res.train_loss, h_gpu.train_loss, rtol=1e-6)
    assert h_res.train_acc == h_gpu.train_acc
    for a, b in zip(w_res, w_gpu):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    for a, b in zip(w_gpu, w_cpu):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)


# ---- without a GPU -------------------------------------------------------------------------------


@no_gpu
def test_pin_memory_without_an_accelerator_raises_like_torch():
    t = fastnn.ones(3)
    assert not t.is_pinned()
    with pytest.raises(RuntimeError) as ours:
        t.pin_memory()
    assert str(ours.value) == pinned.NO_ACCELERATOR
    assert not pinned.is_pinned(np.ones(3))
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        return
    with pytest.raises(RuntimeError) as theirs:
        torch.ones(3).pin_memory()
    assert str(theirs.value) == str(ours.value)
    assert torch.ones(3).is_pinned() is t.is_pinned()


def test_pin_rejects_non_arrays():
    with pytest.raises(TypeError, match="numpy.ndarray"):
        pinned.pin([1, 2])


@no_gpu
@pytest.mark.parametrize("workers", [0, 2])
def test_data_loader_pin_memory_without_an_accelerator_warns_like_torch(workers):
    ds = TensorDataset(np.arange(10, dtype=np.float32), np.arange(10))
    with pytest.warns(UserWarning, match="no accelerator is found") as record:
        batches = list(DataLoader(ds, batch_size=4, pin_memory=True, num_workers=workers))
    assert [str(w.message) for w in record] == [data_mod.dataloader._NO_PIN]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plain = list(DataLoader(ds, batch_size=4, num_workers=workers))
    for (a, b), (c, d) in zip(batches, plain):
        np.testing.assert_array_equal(a.numpy(), c.numpy())
        np.testing.assert_array_equal(b.numpy(), d.numpy())
        assert not a.is_pinned()
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        return
    tds = torch.utils.data.TensorDataset(torch.arange(10.0))
    with pytest.warns(UserWarning, match="no accelerator is found") as theirs:
        list(torch.utils.data.DataLoader(tds, batch_size=4, pin_memory=True))
    assert data_mod.dataloader._NO_PIN in [str(w.message) for w in theirs]


@pytest.fixture
def fake_pinning(monkeypatch):
    """Pinning that works without a GPU: copies marked by identity, so the glue is visible."""
    made = []

    def pin(a):
        out = np.array(a, copy=True)
        made.append(out)
        return out

    monkeypatch.setattr(fastnn.cuda, "is_available", lambda: True)
    monkeypatch.setattr(pinned, "pin", pin)
    monkeypatch.setattr(pinned, "is_pinned", lambda a: any(a is m for m in made))
    return made


Pair = collections.namedtuple("Pair", "x y")


@pytest.mark.parametrize("workers", [0, 2])
def test_data_loader_pins_every_tensor_of_a_batch(fake_pinning, workers):
    ds = TensorDataset(np.arange(12, dtype=np.float32).reshape(6, 2), np.arange(6))

    def collate(samples):
        xs = fastnn.stack([s[0] for s in samples])
        ys = fastnn.stack([s[1] for s in samples])
        return {"pair": Pair(xs, ys), "list": [xs, "label"], "n": len(samples)}

    loader = DataLoader(ds, batch_size=4, collate_fn=collate, pin_memory=True, num_workers=workers)
    batches = list(loader)
    assert len(batches) == 2 and len(fake_pinning) == 6
    for b in batches:
        assert isinstance(b["pair"], Pair) and b["list"][1] == "label" and b["n"] in (4, 2)
        for t in (b["pair"].x, b["pair"].y, b["list"][0]):
            assert t.is_pinned()
    np.testing.assert_array_equal(batches[1]["pair"].x.numpy(), [[8, 9], [10, 11]])


@pytest.fixture
def emulated(monkeypatch):
    """fastnn._devices.cuda on tests/_fake_cuda.py, reachable as device 'cuda'."""
    import _fake_cuda

    be = _devices.cuda_module()
    monkeypatch.setattr(be, "_mod", _fake_cuda)
    monkeypatch.setattr(be, "array_type", _fake_cuda.DeviceArray)
    monkeypatch.setitem(_devices._BY_TYPE, _fake_cuda.DeviceArray, be)
    monkeypatch.setattr(be, "kernels", _fake_cuda)  # the optimizers' fused steps
    monkeypatch.setattr(fastnn.cuda, "is_built", lambda: True)
    monkeypatch.setattr(fastnn.cuda, "is_available", lambda: True)
    return be


def test_to_cuda_non_blocking_uses_the_async_upload(emulated, monkeypatch):
    import _fake_cuda

    calls = []
    real = _fake_cuda.from_numpy_async
    monkeypatch.setattr(_fake_cuda, "from_numpy_async", lambda a, *r: calls.append(1) or real(a))
    t = fastnn.arange(6.0)
    d = t.to("cuda", non_blocking=True)
    assert calls == [1] and d.device.type == "cuda"
    np.testing.assert_array_equal(emulated.to_numpy(d._data), np.arange(6.0))
    t.cuda(non_blocking=True)
    t.to("cuda")
    assert calls == [1, 1]
    with pytest.raises(RuntimeError, match="only dense CPU tensors can be pinned"):
        d.pin_memory()
    assert not d.is_pinned()


def _count_host_reads(monkeypatch):
    import _fake_cuda

    reads = []
    real = _fake_cuda.DeviceArray.numpy
    monkeypatch.setattr(_fake_cuda.DeviceArray, "numpy", lambda self: reads.append(1) or real(self))
    return reads


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_fit_on_the_emulated_gpu_gives_the_cpu_figures_with_one_read_per_sum(
    emulated, monkeypatch, reduction, rng
):
    X = rng.standard_normal((70, 5)).astype(np.float32)
    y = rng.integers(0, 3, 70)
    runs = {}
    for device in ("cpu", "cuda"):
        fastnn.manual_seed(0)
        net = nn.Linear(5, 3).to(device)
        train = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True, seed=1)
        test = DataLoader(TensorDataset(X[:33], y[:33]), batch_size=8)
        opt = optim.SGD(net.parameters(), lr=0.5)
        reads = _count_host_reads(monkeypatch)
        h = training.fit(
            net,
            train,
            test,
            nn.CrossEntropyLoss(reduction=reduction),
            3,
            opt,
            progress=False,
            log=None,
        )
        runs[device] = (h, len(reads))
    h_cpu, h_dev = runs["cpu"][0], runs["cuda"][0]
    assert h_dev.train_loss == h_cpu.train_loss
    assert h_dev.train_acc == h_cpu.train_acc and h_dev.test_acc == h_cpu.test_acc
    # per epoch: the loss sum and the correct count of training, the count of evaluation
    assert runs["cuda"][1] == 3 * 3


@pytest.mark.parametrize("shuffle", [False, True])
def test_resident_fit_replays_the_loaders_batches(emulated, monkeypatch, shuffle, rng):
    X = rng.standard_normal((75, 4)).astype(np.float32)
    y = rng.integers(0, 3, 75)
    results = []
    for resident in (False, True):
        fastnn.manual_seed(0)
        net = nn.Linear(4, 3).to("cuda")
        train = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=shuffle, seed=5)
        test = DataLoader(TensorDataset(X[:20], y[:20]), batch_size=7)
        opt = optim.SGD(net.parameters(), lr=0.3)
        h = training.fit(
            net,
            train,
            test,
            nn.CrossEntropyLoss(),
            3,
            opt,
            progress=False,
            log=None,
            resident=resident,
        )
        after = train._plan_epoch()  # the loader's generator advanced the same way
        results.append((h, [emulated.to_numpy(p._data) for p in net.parameters()], after))
    (h0, w0, a0), (h1, w1, a1) = results
    assert h1.train_loss == h0.train_loss and h1.train_acc == h0.train_acc
    assert h1.test_acc == h0.test_acc
    for a, b in zip(w0, w1):
        np.testing.assert_array_equal(a, b)
    assert a0[1] == a1[1]
    for b0, b1 in zip(a0[0], a1[0]):
        np.testing.assert_array_equal(b0, b1)


def test_resident_wrap_declines_loaders_it_cannot_replay(emulated):
    ds = TensorDataset(np.zeros((4, 2), np.float32), np.zeros(4, np.int64))
    assert training._ResidentLoader.wrap(DataLoader(ds, collate_fn=list), "cuda") is None
    assert training._ResidentLoader.wrap(DataLoader(ds, batch_size=None), "cuda") is None
    assert training._ResidentLoader.wrap([(1, 2)], "cuda") is None
    three = TensorDataset(np.zeros((4, 2)), np.zeros(4), np.zeros(4))
    assert training._ResidentLoader.wrap(DataLoader(three), "cuda") is None


def test_fit_on_the_cpu_ignores_resident(rng):
    X = rng.standard_normal((40, 3)).astype(np.float32)
    y = rng.integers(0, 2, 40)
    hs = []
    for resident in (False, True):
        fastnn.manual_seed(0)
        net = nn.Linear(3, 2)
        train = DataLoader(TensorDataset(X, y), batch_size=8, shuffle=True, seed=2)
        opt = optim.SGD(net.parameters(), lr=0.1)
        hs.append(
            training.fit(
                net,
                train,
                None,
                nn.CrossEntropyLoss(),
                2,
                opt,
                progress=False,
                log=None,
                resident=resident,
            )
        )
    assert hs[0].train_loss == hs[1].train_loss and hs[0].train_acc == hs[1].train_acc
