"""fastnn.histogram / Tensor.histogram, Tensor.histc and Tensor.multinomial against torch."""

import numpy as np
import pytest

import fastnn


def cases(lib):
    x = lib.tensor([1.0, 2.0, 1.0, 4.0, 2.5, -3.0, 7.25])
    w = lib.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 0.5, 1.5])
    return {
        "int bins": lambda: lib.histogram(x, 3),
        "edges": lambda: lib.histogram(x, bins=lib.tensor([0.0, 1.5, 3.0, 10.0])),
        "range": lambda: lib.histogram(x, 4, range=(0.0, 4.0)),
        "range and density": lambda: lib.histogram(x, 5, range=(-4.0, 8.0), density=True),
        "weight": lambda: lib.histogram(x, 2, weight=w),
        "weight and density": lambda: lib.histogram(x, 3, weight=w, density=True),
        "one value": lambda: lib.histogram(lib.ones(3), 2),
        "empty": lambda: lib.histogram(lib.tensor([]), 2),
        "2-d input": lambda: lib.histogram(x.reshape(7, 1).expand(7, 2), 3),
        "float64": lambda: lib.histogram(x.double(), 6),
        "method": lambda: x.histogram(3, range=(1.0, 4.0)),
        "method histc": lambda: (x.histc(4), x.histc(3, min=0, max=3)),
    }


@pytest.mark.parametrize("name", list(cases(fastnn)))
def test_histogram_matches_torch(name):
    torch = pytest.importorskip("torch")
    ours, theirs = cases(fastnn)[name](), cases(torch)[name]()
    assert type(ours).__name__ == type(theirs).__name__.split(".")[-1]
    for a, b in zip(ours, theirs):
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)
    if hasattr(ours, "hist"):
        assert ours.hist is ours[0] and ours.bin_edges is ours[1]


def bad_cases(lib):
    x = lib.tensor([1.0, 2.0, 3.0])
    return {
        "integer input": (lambda: lib.histogram(lib.tensor([1, 2]), 2), NotImplementedError),
        "zero bins": (lambda: lib.histogram(x, 0), RuntimeError),
        "reversed range": (lambda: lib.histogram(x, 2, range=(3.0, 1.0)), RuntimeError),
        "weight shape": (lambda: lib.histogram(x, 2, weight=lib.ones(2)), RuntimeError),
        "weight dtype": (lambda: lib.histogram(x.double(), 2, weight=lib.ones(3)), RuntimeError),
        "nan range": (lambda: lib.histogram(lib.tensor([float("nan")]), 2), RuntimeError),
    }


@pytest.mark.parametrize("name", list(bad_cases(fastnn)))
def test_histogram_refusals_match_torch(name):
    call, error = bad_cases(fastnn)[name]
    with pytest.raises(error):
        call()
    torch = pytest.importorskip("torch")
    call, error = bad_cases(torch)[name]
    with pytest.raises(error):
        call()


def test_histogram_counts_every_value_once():
    fastnn.manual_seed(0)
    x = fastnn.randn(1000)
    hist, edges = fastnn.histogram(x, 17)
    assert hist.sum().item() == 1000
    assert edges[0].item() == x.min().item() and edges[-1].item() == x.max().item()
    density, _ = fastnn.histogram(x, 17, density=True)
    widths = edges[1:] - edges[:-1]
    assert abs((density * widths).sum().item() - 1) < 1e-5


def test_histogram_out_tensors():
    hist, edges = fastnn.empty(2), fastnn.empty(3)
    res = fastnn.histogram(fastnn.tensor([0.0, 1.0, 1.0]), 2, out=(hist, edges))
    assert res.hist is hist and hist.tolist() == [1.0, 2.0]
    assert edges.tolist() == [0.0, 0.5, 1.0]


def test_multinomial_method_draws_from_each_row():
    g = fastnn.Generator()
    g.manual_seed(0)
    probs = fastnn.tensor([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]])
    draws = probs.multinomial(400, replacement=True, generator=g)
    assert draws.shape == (2, 400) and draws.dtype is fastnn.int64
    assert set(draws[0].tolist()) == {1} and set(draws[1].tolist()) == {0, 2}
    assert sorted(probs[1].multinomial(2).tolist()) == [0, 2]
