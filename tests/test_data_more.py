"""utils.data's ChainDataset and StackDataset, and default_collate's errors for a ragged or
mixed batch, against torch and by hand."""

import numpy as np
import pytest

import fastnn
from fastnn.utils import data


def _program(m, D):
    class Stream(D.IterableDataset):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n))

        def __len__(self):
            return self.n

    out = []
    chain = D.ChainDataset([Stream(3), Stream(2)])
    out += [list(chain), len(chain)]
    a = D.TensorDataset(m.arange(4))
    b = D.TensorDataset(m.arange(4) * 10)
    pair = D.StackDataset(a, b)
    named = D.StackDataset(x=a, y=b)
    out += [len(pair), [int(v[0]) for v in pair[2]], {k: int(v[0]) for k, v in named[3].items()}]
    loader = D.DataLoader(named, batch_size=2)
    out.append([{k: v[0].tolist() for k, v in batch.items()} for batch in loader])
    for bad in (
        lambda: D.StackDataset(a, y=b),
        lambda: D.StackDataset(a, D.TensorDataset(m.arange(3))),
        lambda: D.StackDataset(),
    ):
        try:
            bad()
            out.append("no error")
        except ValueError:
            out.append("ValueError")
    for batch in ([m.ones(2), m.ones(3)], [np.ones(2), np.ones(3)]):
        try:
            D.default_collate(batch)
            out.append("no error")
        except RuntimeError as e:
            out.append(str(e))
    try:
        D.default_collate([m.ones(2), 5])
    except TypeError as e:
        out.append(type(e).__name__)
    return out


def test_matches_torch():
    torch = pytest.importorskip("torch")
    from torch.utils import data as torch_data

    assert _program(fastnn, data) == _program(torch, torch_data)


def test_by_hand():
    out = _program(fastnn, data)
    assert out[:2] == [[0, 1, 2, 0, 1], 5]
    assert out[2:5] == [4, [2, 20], {"x": 3, "y": 30}]
    assert out[5] == [{"x": [0, 1], "y": [0, 10]}, {"x": [2, 3], "y": [20, 30]}]
    assert out[6:9] == ["ValueError"] * 3
    assert (
        out[9]
        == "stack expects each tensor to be equal size, but got [2] at entry 0 and [3] at entry 1"
    )
    assert out[11] == "TypeError"
    with pytest.raises(TypeError, match="only supports IterableDataset"):
        list(data.ChainDataset([data.TensorDataset(fastnn.ones(2))]))
