"""DataLoader's argument list is torch's: positional order, batch_sampler, batch_size=None and
the keyword-only options, each against torch where it is installed."""

import inspect

import numpy as np
import pytest

import fastnn
from fastnn.utils import data


class _Squares(data.Dataset):
    def __len__(self):
        return 7

    def __getitem__(self, i):
        return {"x": np.full(2, i * i, dtype=np.float32), "i": i}


def test_positional_parameters_are_in_torchs_order():
    torch_data = pytest.importorskip("torch.utils.data")
    ours = [
        p.name
        for p in inspect.signature(data.DataLoader).parameters.values()
        if p.kind is p.POSITIONAL_OR_KEYWORD
    ]
    theirs = [
        p.name
        for p in inspect.signature(torch_data.DataLoader).parameters.values()
        if p.kind is p.POSITIONAL_OR_KEYWORD
    ]
    assert ours == theirs


def test_positional_call_means_what_it_means_in_torch():
    ds = data.TensorDataset(fastnn.arange(10))
    # (dataset, batch_size, shuffle, sampler, batch_sampler, num_workers, collate_fn,
    #  pin_memory, drop_last)
    loader = data.DataLoader(ds, 4, False, None, None, 0, None, False, True)
    assert loader.drop_last and len(loader) == 2
    assert [b[0].tolist() for b in loader] == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_batch_sampler_gives_the_batches_it_lists():
    ds = data.TensorDataset(fastnn.arange(10) * 10)
    batches = [[3, 1], [0], [9, 8, 7]]
    loader = data.DataLoader(ds, batch_sampler=batches)
    assert len(loader) == 3
    assert [b[0].tolist() for b in loader] == [[30, 10], [0], [90, 80, 70]]
    threaded = data.DataLoader(ds, batch_sampler=batches, num_workers=2)
    assert [b[0].tolist() for b in threaded] == [[30, 10], [0], [90, 80, 70]]


@pytest.mark.parametrize(
    "kw", [{"batch_size": 2}, {"shuffle": True}, {"sampler": [0, 1]}, {"drop_last": True}]
)
def test_batch_sampler_excludes_the_batching_options(kw):
    ds = data.TensorDataset(fastnn.arange(4))
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        data.DataLoader(ds, batch_sampler=[[0, 1]], **kw)
    torch_data = pytest.importorskip("torch.utils.data")
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        torch_data.DataLoader(list(range(4)), batch_sampler=[[0, 1]], **kw)


def test_batch_size_none_converts_each_sample_without_stacking():
    loader = data.DataLoader(_Squares(), batch_size=None)
    assert len(loader) == 7
    samples = list(loader)
    assert len(samples) == 7
    assert isinstance(samples[3]["x"], fastnn.Tensor)
    assert samples[3]["x"].shape == (2,) and samples[3]["x"].tolist() == [9.0, 9.0]
    assert samples[3]["i"] == 3 and isinstance(samples[3]["i"], int)
    torch = pytest.importorskip("torch")
    theirs = list(torch.utils.data.DataLoader(_Squares(), batch_size=None))
    assert [s["x"].tolist() for s in theirs] == [s["x"].tolist() for s in samples]
    assert [s["i"] for s in theirs] == [s["i"] for s in samples]


def test_batch_size_none_with_drop_last_is_refused():
    with pytest.raises(ValueError, match="mutually exclusive with drop_last"):
        data.DataLoader(_Squares(), batch_size=None, drop_last=True)


def test_prefetch_factor_needs_workers_as_in_torch():
    ds = data.TensorDataset(fastnn.arange(4))
    with pytest.raises(ValueError, match="prefetch_factor"):
        data.DataLoader(ds, prefetch_factor=2)
    assert data.DataLoader(ds, num_workers=1, prefetch_factor=3).prefetch_factor == 3
    torch_data = pytest.importorskip("torch.utils.data")
    with pytest.raises(ValueError, match="prefetch_factor"):
        torch_data.DataLoader(list(range(4)), prefetch_factor=2)


def test_torch_only_keywords_are_accepted():
    ds = data.TensorDataset(fastnn.arange(6))
    loader = data.DataLoader(ds, batch_size=4, pin_memory_device="", in_order=False)
    assert [b[0].tolist() for b in loader] == [[0, 1, 2, 3], [4, 5]]
    with pytest.raises(TypeError, match="pin_memory_device"):
        data.DataLoader(ds, pin_memory_device=0)


def test_default_convert_turns_arrays_into_tensors_and_leaves_the_rest():
    sample = (np.arange(3, dtype=np.float64), [np.float32(2.5), "a"], 4, {"k": np.ones((2, 2))})
    out = data.default_convert(sample)
    assert isinstance(out, list)
    assert isinstance(out[0], fastnn.Tensor) and out[0].dtype == fastnn.float64
    assert isinstance(out[1][0], fastnn.Tensor) and out[1][1] == "a"
    assert out[2] == 4
    assert isinstance(out[3]["k"], fastnn.Tensor) and out[3]["k"].shape == (2, 2)
    strings = np.array(["x", "y"])
    assert data.default_convert(strings) is strings
