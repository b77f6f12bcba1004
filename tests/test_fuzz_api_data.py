"""Fuzz: TensorDataset, DataLoader arguments and random_split against torch.utils.data
(fuzz_api.py's oracle): the same samples, batches and split sizes, or a clean error."""

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given
from hypothesis import strategies as st

from fuzz_api import JUNK, agree, arrays, int_args

pytestmark = pytest.mark.usefixtures("hang_guard")

NAMES = (
    "batch_size", "num_workers", "dataset", "lengths", "size", "index", "tensor", "drop_last",
    "shuffle", "sampler", "fraction", "sum", "length", "prefetch", "collate", "generator",
)  # fmt: skip


def _tensors(data):
    n = data.draw(st.integers(0, 5))
    k = data.draw(st.integers(0, 3))
    out = []
    for _ in range(k):
        first = n if data.draw(st.integers(0, 5)) else data.draw(st.integers(0, 6))
        rest = tuple(data.draw(st.lists(st.integers(0, 3), max_size=2)))
        shape = (first, *rest) if data.draw(st.integers(0, 9)) else ()
        out.append(data.draw(arrays(shape=shape, dtypes=["float32", "int64"], hostile=0.0)))
    return out


def samples(lib, tensors):
    ds = lib.utils.data.TensorDataset(*tensors)
    return len(ds), [ds[i] for i in range(len(ds))]


@given(data=st.data())
def test_fuzz_tensor_dataset(data):
    agree(samples, _tensors(data), names=(*NAMES, "TensorDataset", "mismatch"))


def batches(lib, tensors, kwargs):
    loader = lib.utils.data.DataLoader(lib.utils.data.TensorDataset(*tensors), **kwargs)
    return [list(b) for b in loader]


@given(
    data=st.data(),
    # not None: torch's batch_size=None (no batching) is not in fastnn yet; not beyond 2**62:
    # torch fails there (islice), fastnn gives the one batch
    batch_size=st.one_of(st.integers(1, 4), int_args(-1, 6), JUNK).filter(
        lambda v: v is not None and not (isinstance(v, int) and v > 2**62)
    ),
    drop_last=st.booleans(),
    shuffle=st.booleans(),
    num_workers=st.one_of(st.just(0), st.sampled_from([-1, 1.5, "x"])),
)
def test_fuzz_dataloader(data, batch_size, drop_last, shuffle, num_workers):
    n = data.draw(st.integers(1, 9))
    x = data.draw(arrays(shape=(n, 2), dtypes=["float32"], hostile=0.0))
    y = data.draw(arrays(shape=(n,), dtypes=["int64"], hostile=0.0))
    kw = {"batch_size": batch_size, "drop_last": drop_last, "shuffle": shuffle}
    if num_workers != 0:
        kw["num_workers"] = num_workers
    # shuffled batches come in another order: their count, shapes and dtypes must still agree
    agree(batches, [x, y], kw, names=(*NAMES, "DataLoader"), values=not shuffle)


def split_sizes(lib, n, lengths):
    ds = lib.utils.data.TensorDataset(lib.zeros(n, 1))
    return [len(s) for s in lib.utils.data.random_split(ds, lengths)]


@given(
    n=st.integers(0, 12),
    lengths=st.one_of(
        st.lists(st.integers(-1, 8), max_size=4),
        st.lists(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, -0.5]), max_size=4),
        st.lists(st.one_of(st.integers(0, 4), st.sampled_from([0.5, "x", None])), max_size=3),
        JUNK,
    ),
)
def test_fuzz_random_split(n, lengths):
    agree(split_sizes, n, lengths, names=(*NAMES, "random_split", "input"))
