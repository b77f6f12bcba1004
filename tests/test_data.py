"""fastnn.utils.data: TensorDataset, DataLoader (batching, shuffling, threads), random_split."""

import threading
import time
import traceback

import numpy as np
import pytest

import fastnn
from fastnn.utils import data


def loader_threads():
    return [t for t in threading.enumerate() if t.name.startswith("fastnn-DataLoader")]


def make_tds(n=23, d=3):
    x = np.arange(n * d, dtype=np.float32).reshape(n, d)
    y = np.arange(n, dtype=np.int64)
    return data.TensorDataset(fastnn.from_numpy(x), fastnn.from_numpy(y)), x, y


class ListDataset(data.Dataset):
    """A generic dataset: (float array, int) samples, no get_batch."""

    def __init__(self, n, fail_at=None):
        self.n, self.fail_at = n, fail_at

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.fail_at:
            raise KeyError(f"sample {i} is broken")
        return np.full(2, i, dtype=np.float32), i


# ---- TensorDataset ----


def test_tensor_dataset():
    ds, x, y = make_tds()
    assert len(ds) == 23
    xi, yi = ds[4]
    np.testing.assert_array_equal(xi.numpy(), x[4])
    assert yi.item() == 4
    nd = data.TensorDataset(x, y)  # numpy arrays are accepted too
    np.testing.assert_array_equal(nd[2][0].numpy(), x[2])
    with pytest.raises(ValueError, match="Size mismatch"):
        data.TensorDataset(fastnn.from_numpy(x), fastnn.from_numpy(y[:5]))
    with pytest.raises(TypeError, match="argument 1"):
        data.TensorDataset(fastnn.from_numpy(x), [1, 2, 3])
    with pytest.raises(ValueError, match="at least one"):
        data.TensorDataset()


# ---- DataLoader ----


@pytest.mark.parametrize(
    ("n", "bs", "drop_last", "sizes"),
    [
        (23, 5, False, [5, 5, 5, 5, 3]),
        (23, 5, True, [5, 5, 5, 5]),
        (20, 5, False, [5, 5, 5, 5]),
        (3, 5, False, [3]),
        (3, 5, True, []),
        (0, 4, False, []),
    ],
)
def test_loader_batches_and_len(n, bs, drop_last, sizes):
    ds, x, y = make_tds(n)
    loader = data.DataLoader(ds, batch_size=bs, drop_last=drop_last)
    batches = list(loader)
    assert len(loader) == len(sizes) == len(batches)
    assert [b[0].shape[0] for b in batches] == sizes
    if sizes:
        got = np.concatenate([b[1].numpy() for b in batches])
        np.testing.assert_array_equal(got, y[: sum(sizes)])
        np.testing.assert_array_equal(batches[0][0].numpy(), x[:bs])
        assert batches[0][0].dtype == fastnn.float32 and batches[0][1].dtype == fastnn.int64


def test_loader_batches_are_copies():
    ds, x, _ = make_tds()
    xb, _ = next(iter(data.DataLoader(ds, batch_size=4)))
    xb.numpy()[:] = -1
    np.testing.assert_array_equal(ds.tensors[0].numpy(), x)


@pytest.mark.parametrize(
    ("shape", "dtype"),
    [
        ((257, 1, 28, 28), np.float32),  # images: the embedding kernel's rows
        ((33, 7, 11), np.float64),
        ((40, 64), np.float32),
        ((40, 63), np.float32),  # rows below the kernel's minimum: np.take
        ((40,), np.float32),
        ((40, 100), np.int64),
        ((40, 100), np.float16),
    ],
)
def test_batch_gather_is_np_take(rng, threads, shape, dtype):
    """get_batch's rows are np.take's along the first axis, whichever copy makes them: the
    threaded embedding kernel (float tables, rows of 64 elements and more), or np.take."""
    x = (rng.standard_normal(shape) * 100).astype(dtype)
    ds = data.TensorDataset(fastnn.from_numpy(x))
    n = shape[0]
    for idx in (rng.permutation(n)[: min(n, 256)], np.array([n - 1, 0, n - 1]), np.array([], int)):
        (got,) = ds.get_batch(idx)
        want = np.take(x, idx, axis=0)
        assert got.shape == want.shape and got.dtype == fastnn.from_numpy(want).dtype
        np.testing.assert_array_equal(got.numpy(), want)
        assert not np.shares_memory(got.numpy(), x)


def test_batch_gather_takes_negative_indices_and_refuses_as_numpy():
    x = np.arange(10 * 64, dtype=np.float32).reshape(10, 64)
    ds = data.TensorDataset(fastnn.from_numpy(x))
    np.testing.assert_array_equal(ds.get_batch([-1, 2, -10])[0].numpy(), x[[-1, 2, -10]])
    for bad in ([10], [0, -11]):
        with pytest.raises(IndexError, match="out of bounds for axis 0 with size 10"):
            ds.get_batch(bad)


def test_tensor_dataset_uses_one_gather_per_batch():
    class Counting(data.TensorDataset):
        gathers = 0

        def __getitem__(self, i):
            raise AssertionError("per-sample path used")

        def get_batch(self, indices):
            Counting.gathers += 1
            return super().get_batch(indices)

    _, x, y = make_tds(23)
    ds = Counting(x, y)
    loader = data.DataLoader(ds, batch_size=5, shuffle=True, seed=1)
    got = np.sort(np.concatenate([b[1].numpy() for b in loader]))
    np.testing.assert_array_equal(got, y)
    assert Counting.gathers == 5


def test_shuffle_is_a_permutation_and_reproducible():
    ds, x, _y = make_tds(50)

    def epoch(loader):
        return np.concatenate([b[1].numpy() for b in loader])

    fastnn.manual_seed(3)
    loader = data.DataLoader(ds, batch_size=8, shuffle=True)
    e1, e2 = epoch(loader), epoch(loader)
    assert sorted(e1.tolist()) == list(range(50))
    assert not np.array_equal(e1, np.arange(50))
    assert not np.array_equal(e1, e2)  # a new order every epoch
    fastnn.manual_seed(3)
    np.testing.assert_array_equal(epoch(loader), e1)
    # rows stay aligned across tensors
    for xb, yb in loader:
        np.testing.assert_array_equal(xb.numpy(), x[yb.numpy()])
    # a loader-private seed or generator does not depend on the global state
    a = epoch(data.DataLoader(ds, batch_size=8, shuffle=True, seed=11))
    fastnn.manual_seed(999)
    b = epoch(data.DataLoader(ds, batch_size=8, shuffle=True, seed=11))
    c = epoch(data.DataLoader(ds, batch_size=8, shuffle=True, generator=np.random.default_rng(11)))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)


def test_generic_dataset_collates_samples():
    loader = data.DataLoader(ListDataset(7), batch_size=3)
    batches = list(loader)
    assert len(batches) == 3
    xb, yb = batches[0]
    assert xb.shape == (3, 2) and xb.dtype == fastnn.float32
    assert yb.dtype == fastnn.int64 and yb.numpy().tolist() == [0, 1, 2]
    assert batches[2][1].numpy().tolist() == [6]


def test_custom_collate_fn():
    seen = []

    def collate(samples):
        seen.append(len(samples))
        return [s[1] for s in samples]

    ds, _, _ = make_tds(7)
    out = list(data.DataLoader(ListDataset(7), batch_size=3, collate_fn=collate))
    assert out == [[0, 1, 2], [3, 4, 5], [6]] and seen == [3, 3, 1]
    out = list(data.DataLoader(ds, batch_size=4, collate_fn=lambda s: len(s)))
    assert out == [4, 3]  # collate_fn takes precedence over get_batch


def test_default_collate_types():
    c = data.default_collate
    t = c([1, 2, 3])
    assert t.dtype == fastnn.int64 and t.numpy().tolist() == [1, 2, 3]
    assert c([0.5, 1.5]).dtype == fastnn.float64
    assert c([True, False]).dtype == fastnn.bool
    assert c(["a", "b"]) == ["a", "b"]
    d = c([{"x": np.zeros(2), "y": 1}, {"x": np.ones(2), "y": 2}])
    assert d["x"].shape == (2, 2) and d["y"].numpy().tolist() == [1, 2]
    pair = c([(fastnn.tensor([1.0, 2.0]), 0), (fastnn.tensor([3.0, 4.0]), 1)])
    assert pair[0].numpy().tolist() == [[1.0, 2.0], [3.0, 4.0]]
    with pytest.raises(TypeError, match="default_collate"):
        c([object(), object()])
    with pytest.raises(RuntimeError, match="equal size"):
        c([(1, 2), (3,)])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"batch_size": 0},
        {"batch_size": -2},
        {"batch_size": 2.5},
        {"num_workers": -1},
        {"prefetch_factor": 0},
        {"seed": 1, "generator": np.random.default_rng(1)},
        {"persistent_workers": True},
    ],
)
def test_loader_bad_arguments(kwargs):
    ds, _, _ = make_tds()
    with pytest.raises(ValueError):
        data.DataLoader(ds, **kwargs)


def test_loader_bad_types():
    with pytest.raises(TypeError, match="dataset"):
        data.DataLoader(5)
    with pytest.raises(TypeError, match="generator"):
        data.DataLoader(make_tds()[0], generator="seed")


# ---- threaded prefetching ----


@pytest.mark.parametrize("workers", [1, 3])
def test_workers_give_the_same_batches(workers):
    ds, _, _ = make_tds(41)
    fastnn.manual_seed(5)
    ref = [b[1].numpy() for b in data.DataLoader(ds, batch_size=4, shuffle=True)]
    fastnn.manual_seed(5)
    got = [
        b[1].numpy() for b in data.DataLoader(ds, batch_size=4, shuffle=True, num_workers=workers)
    ]
    assert len(got) == len(ref) == 11
    for a, b in zip(got, ref):
        np.testing.assert_array_equal(a, b)
    generic = [
        b[1].numpy().tolist()
        for b in data.DataLoader(ListDataset(10), batch_size=3, num_workers=workers)
    ]
    assert generic == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert loader_threads() == []


def test_accelerator_options_of_torch_programs_give_the_same_batches():
    # torch's MNIST example passes these when a GPU is present: they must not change a batch
    ds, _, _ = make_tds(23)
    plain = [b[0].numpy() for b in data.DataLoader(ds, batch_size=5, num_workers=2)]
    loader = data.DataLoader(
        ds, batch_size=5, num_workers=2, pin_memory=True, persistent_workers=True
    )
    assert loader.pin_memory and loader.persistent_workers
    for _epoch in range(2):
        got = [b[0].numpy() for b in loader]
        assert len(got) == len(plain) == 5
        for a, b in zip(got, plain):
            np.testing.assert_array_equal(a, b)
    assert len(loader_threads()) == 2  # persistent: kept between epochs
    del loader  # and stopped with the loader
    assert loader_threads() == []


def test_worker_exception_surfaces_with_traceback():
    loader = data.DataLoader(ListDataset(20, fail_at=13), batch_size=4, num_workers=2)
    seen = []
    with pytest.raises(KeyError, match="sample 13 is broken") as e:
        for _, y in loader:
            seen.append(y.numpy().tolist())
    assert seen == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    tb = "".join(traceback.format_exception(e.value))
    assert "__getitem__" in tb  # the worker's frames are kept
    assert "DataLoader worker thread" in tb
    assert loader_threads() == []


def test_break_mid_epoch_stops_threads():
    ds, _, _ = make_tds(200)
    loader = data.DataLoader(ds, batch_size=2, num_workers=3)
    for i, _ in enumerate(loader):
        if i == 0:
            assert len(loader_threads()) > 0
        if i == 5:
            break
    assert loader_threads() == []
    it = iter(loader)
    next(it)
    del it  # an abandoned iterator stops its threads too
    assert loader_threads() == []


def test_prefetch_is_bounded():
    fetched = []

    class Slow(ListDataset):
        def __getitem__(self, i):
            fetched.append(i)
            return super().__getitem__(i)

    workers, pf = 2, 2
    loader = data.DataLoader(Slow(100), batch_size=1, num_workers=workers, prefetch_factor=pf)
    it = iter(loader)
    next(it)
    time.sleep(0.3)  # the training loop is "busy": workers may only run a bounded way ahead
    assert len(fetched) <= 1 + workers * (pf + 1)
    assert len(fetched) >= 2  # but they do load ahead
    del it
    assert loader_threads() == []


# ---- random_split ----


def test_random_split_ints_and_fractions():
    ds, _, _y = make_tds(10)
    fastnn.manual_seed(0)
    a, b = data.random_split(ds, [7, 3])
    assert (len(a), len(b)) == (7, 3)
    ids = [a[i][1].item() for i in range(7)] + [b[i][1].item() for i in range(3)]
    assert sorted(ids) == list(range(10))
    parts = data.random_split(ds, [0.33, 0.33, 0.34], generator=np.random.default_rng(0))
    assert [len(p) for p in parts] == [4, 3, 3]  # torch: remainder handed out round-robin
    parts = data.random_split(range(7), [0.5, 0.5], generator=1)
    assert [len(p) for p in parts] == [4, 3]
    assert sorted(list(parts[0]) + list(parts[1])) == list(range(7))
    s1 = data.random_split(ds, [5, 5], generator=np.random.default_rng(4))[0].indices
    s2 = data.random_split(ds, [5, 5], generator=np.random.default_rng(4))[0].indices
    np.testing.assert_array_equal(s1, s2)


def test_random_split_subsets_keep_the_fast_path():
    ds, x, _ = make_tds(30)
    tr, _ = data.random_split(ds, [20, 10], generator=0)
    xb, yb = next(iter(data.DataLoader(tr, batch_size=20)))
    np.testing.assert_array_equal(yb.numpy(), tr.indices)
    np.testing.assert_array_equal(xb.numpy(), x[tr.indices])
    assert getattr(data.Subset(ListDataset(3), [0]), "get_batch", None) is None


def test_random_split_errors():
    ds, _, _ = make_tds(10)
    with pytest.raises(ValueError, match="Sum of input lengths"):
        data.random_split(ds, [5, 6])
    with pytest.raises(ValueError, match="negative"):
        data.random_split(ds, [11, -1])
    with pytest.raises(ValueError, match="sum to 1"):
        data.random_split(ds, [0.5, 0.2])


def test_random_split_matches_torch_lengths():
    torch = pytest.importorskip("torch")
    for n, fr in [(10, [0.33, 0.33, 0.34]), (101, [0.8, 0.1, 0.1]), (7, [0.5, 0.5])]:
        ours = [len(s) for s in data.random_split(range(n), fr, generator=0)]
        theirs = [len(s) for s in torch.utils.data.random_split(range(n), fr)]
        assert ours == theirs


def test_concat_dataset():
    cat = ListDataset(3) + ListDataset(2)
    assert len(cat) == 5
    assert [cat[i][1] for i in range(5)] == [0, 1, 2, 0, 1]
    assert cat[-1][1] == 1
    with pytest.raises(IndexError):
        cat[5]


@pytest.mark.parametrize(
    "module, names",
    [
        ("dataloader", ["DataLoader", "default_collate", "default_convert", "get_worker_info"]),
        ("dataset", ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset"]),
        ("dataset", ["random_split"]),
        ("sampler", ["Sampler", "SequentialSampler", "RandomSampler", "BatchSampler"]),
        ("sampler", ["SubsetRandomSampler", "WeightedRandomSampler"]),
        ("distributed", ["DistributedSampler"]),
    ],
)
def test_submodules_hold_torchs_names(module, names):
    # programs import from the submodules (``from torch.utils.data.dataloader import
    # DataLoader``); each name there is the one the package exports, and torch has it there too
    import importlib

    ours = importlib.import_module(f"fastnn.utils.data.{module}")
    for name in names:
        assert getattr(ours, name) is getattr(data, name), name
    torch_data = pytest.importorskip(f"torch.utils.data.{module}")
    assert all(hasattr(torch_data, name) for name in names)


def test_loader_from_the_dataloader_submodule_batches_a_dataset():
    from fastnn.utils.data.dataloader import DataLoader
    from fastnn.utils.data.dataset import TensorDataset

    x = fastnn.arange(10.0).reshape(5, 2)
    batches = list(DataLoader(TensorDataset(x), batch_size=2))
    assert [b[0].shape[0] for b in batches] == [2, 2, 1]
    np.testing.assert_array_equal(batches[2][0].numpy(), [[8.0, 9.0]])


def test_an_epoch_iterator_has_the_loaders_length_like_torch():
    torch = pytest.importorskip("torch")
    for lib in (fastnn, torch):
        data = lib.utils.data
        for kw in ({"batch_size": 3}, {"batch_size": 3, "drop_last": True}, {"batch_size": None}):
            loader = data.DataLoader(data.TensorDataset(lib.arange(10.0)), **kw)
            it = iter(loader)
            assert len(it) == len(loader)
            assert len(list(it)) == len(loader)
    assert len(iter(fastnn.utils.data.DataLoader(list(range(7)), batch_size=2))) == 4
