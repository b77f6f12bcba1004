"""Samplers and IterableDataset in the DataLoader: torch's orders where they are deterministic,
coverage and distribution where they are random, reproducibility, and torch's refusals."""

import numpy as np
import pytest

import fastnn
from fastnn.utils import data as D


class Stream(D.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter([(np.float32(i), i) for i in range(self.n)])

    def __len__(self):
        return self.n


def test_sequential_and_batch_sampler_match_torch():
    torch_data = pytest.importorskip("torch.utils.data")
    for n, bs, drop in [(10, 3, False), (10, 3, True), (1, 4, False), (8, 4, True)]:
        ours = D.BatchSampler(D.SequentialSampler(range(n)), bs, drop)
        theirs = torch_data.BatchSampler(torch_data.SequentialSampler(range(n)), bs, drop)
        assert list(ours) == list(theirs)
        assert len(ours) == len(theirs)


@pytest.mark.parametrize("num_samples", [None, 5, 23])
def test_random_sampler_covers_the_dataset_each_epoch(num_samples):
    s = D.RandomSampler(range(10), num_samples=num_samples, generator=fastnn.Generator())
    first = list(s)
    assert len(first) == len(s) == (num_samples or 10)
    for k in range(0, len(first) - len(first) % 10, 10):  # each whole round is a permutation
        assert sorted(first[k : k + 10]) == list(range(10))
    assert first != list(s)  # a new order every epoch


def test_random_sampler_is_reproducible_from_a_generator():
    def draw():
        g = fastnn.Generator()
        g.manual_seed(7)
        return list(D.RandomSampler(range(50), replacement=True, num_samples=30, generator=g))

    a = draw()
    assert a == draw() and all(0 <= i < 50 for i in a)


def test_weighted_sampler_follows_the_weights():
    fastnn.manual_seed(0)
    draws = list(D.WeightedRandomSampler([0.0, 1.0, 3.0], 8000))
    freq = np.bincount(draws, minlength=3) / 8000
    np.testing.assert_allclose(freq, [0, 0.25, 0.75], atol=0.02)
    without = list(D.WeightedRandomSampler([1.0, 1.0, 5.0, 0.0], 3, replacement=False))
    assert sorted(without) == [0, 1, 2]


def test_subset_random_sampler_in_a_loader():
    ds = D.TensorDataset(fastnn.arange(20))
    loader = D.DataLoader(ds, batch_size=3, sampler=D.SubsetRandomSampler([2, 4, 6, 8, 10]))
    seen = sorted(int(v) for (b,) in loader for v in b)
    assert seen == [2, 4, 6, 8, 10] and len(loader) == 2


@pytest.mark.parametrize(("bs", "drop"), [(2, False), (2, True), (None, False), (10, False)])
def test_iterable_dataset_batches_match_torch(bs, drop):
    torch_data = pytest.importorskip("torch.utils.data")

    class TorchStream(torch_data.IterableDataset):
        def __iter__(self):
            return iter([(np.float32(i), i) for i in range(5)])

    ours = list(D.DataLoader(Stream(5), batch_size=bs, drop_last=drop))
    theirs = list(torch_data.DataLoader(TorchStream(), batch_size=bs, drop_last=drop))
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        for x, y in zip(a, b):
            assert type(x).__name__ == type(y).__name__  # Tensor, or a plain int unbatched
            if hasattr(y, "numpy"):
                np.testing.assert_array_equal(x.numpy(), y.numpy())
                assert str(x.dtype).split(".")[-1] == str(y.dtype).split(".")[-1]
            else:
                assert x == y
    assert len(D.DataLoader(Stream(5), batch_size=bs or 1, drop_last=drop)) == (
        5 // (bs or 1) if drop else -(-5 // (bs or 1))
    )


def test_iterable_dataset_read_once_with_workers():
    loader = D.DataLoader(Stream(7), batch_size=3, num_workers=2)
    assert [int(v) for _, idx in loader for v in idx] == list(range(7))


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"shuffle": True}, "shuffle"),
        ({"sampler": [0, 1]}, "sampler"),
        ({"batch_sampler": [[0]], "batch_size": 1}, "batch_sampler"),
    ],
)
def test_iterable_dataset_refuses_orderings(kw, match):
    with pytest.raises(ValueError, match=match):
        D.DataLoader(Stream(3), **kw)


@pytest.mark.parametrize(
    ("make", "exc"),
    [
        (lambda: D.BatchSampler(range(3), 0, False), ValueError),
        (lambda: D.BatchSampler(range(3), 2, "no"), ValueError),
        (lambda: D.RandomSampler(range(3), replacement=1), TypeError),
        (lambda: D.RandomSampler(range(3), num_samples=0), ValueError),
        (lambda: D.WeightedRandomSampler([[1.0]], 2), ValueError),
        (lambda: D.WeightedRandomSampler([1.0, -1.0], 2), RuntimeError),
        (lambda: D.WeightedRandomSampler([1.0, 0.0], 2, replacement=False), RuntimeError),
    ],
)
def test_bad_sampler_arguments(make, exc):
    with pytest.raises(exc):
        make()


class Rows(D.Dataset):
    """A map-style dataset of (index, index * 2) rows, no get_batch."""

    def __len__(self):
        return 7

    def __getitem__(self, i):
        return fastnn.tensor(i), fastnn.tensor(2 * i)


@pytest.mark.parametrize("num_workers", [0, 2])
def test_an_endless_random_sampler_is_read_lazily(num_workers):
    # a training loop draws batches from a sampler far longer than it will ever read; the
    # loader must not draw (or allocate) the whole sampler when an epoch starts
    sampler = D.RandomSampler(Rows(), replacement=True, num_samples=10**12)
    loader = D.DataLoader(Rows(), sampler=sampler, batch_size=4, num_workers=num_workers)
    assert len(loader) == 10**12 // 4
    it = iter(loader)
    if num_workers:
        assert len(it) == len(loader)
    for _ in range(5):
        x, y = next(it)
        assert x.shape == (4,) and all(0 <= i < 7 for i in x.tolist())
        assert y.tolist() == [2 * i for i in x.tolist()]
    del it


def test_lazy_sampler_epochs_end_where_the_sampler_ends():
    class Short(D.Sampler):  # claims 10 indices, yields 5: the epoch ends at the fifth
        def __iter__(self):
            return iter([6, 5, 4, 3, 2])

        def __len__(self):
            return 10

    for workers in (0, 2):
        for drop_last, sizes in [(False, [2, 2, 1]), (True, [2, 2])]:
            loader = D.DataLoader(
                Rows(), sampler=Short(), batch_size=2, drop_last=drop_last, num_workers=workers
            )
            assert [len(x) for x, _ in loader] == sizes
    flat = D.DataLoader(Rows(), sampler=Short(), batch_size=None)
    assert [int(x) for x, _ in flat] == [6, 5, 4, 3, 2]


def test_random_sampler_with_replacement_draws_uniformly_in_long_runs():
    g = fastnn.Generator()
    g.manual_seed(3)
    draws = list(D.RandomSampler(range(5), replacement=True, num_samples=20000, generator=g))
    assert len(draws) == 20000
    np.testing.assert_allclose(np.bincount(draws, minlength=5) / 20000, [0.2] * 5, atol=0.02)


def test_samplers_import_from_torchs_submodule_paths():
    import importlib

    sampler = importlib.import_module("fastnn.utils.data.sampler")
    distributed = importlib.import_module("fastnn.utils.data.distributed")
    assert sampler.Sampler is D.Sampler and sampler.RandomSampler is D.RandomSampler
    assert sampler.BatchSampler is D.BatchSampler
    assert distributed.DistributedSampler is D.DistributedSampler
    # reachable as attributes after a plain "import fastnn", as torch.utils.data.distributed is
    assert fastnn.utils.data.distributed is distributed and fastnn.utils.data.sampler is sampler
    s = distributed.DistributedSampler(range(10), num_replicas=2, rank=1, shuffle=False)
    assert list(s) == [1, 3, 5, 7, 9]
