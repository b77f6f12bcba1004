"""Layer initialisation fills parameters in place: the peak extra memory stays a small fraction
of the parameter, and the values are those of one whole draw from the same stream."""

import tracemalloc

import numpy as np
import pytest

import fastnn
from fastnn import nn
from fastnn._core import random as _random


def _peak_extra(fn):
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        out = fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return out, peak - base


@pytest.mark.parametrize("dtype", [fastnn.float32, fastnn.float64])
def test_linear_init_peak_is_about_the_parameter(dtype):
    layer, peak = _peak_extra(lambda: nn.Linear(4096, 2048, dtype=dtype))
    param = layer.weight.numel() * layer.weight.element_size()
    assert peak <= 1.1 * param, f"peak {peak / param:.2f}x the weight"


@pytest.mark.parametrize("name", ["uniform_", "normal_", "kaiming_uniform_", "xavier_normal_"])
def test_init_of_an_existing_weight_allocates_little(name):
    w = fastnn.empty(2048, 2048)
    _, peak = _peak_extra(lambda: getattr(nn.init, name)(w))
    assert peak <= 0.1 * w.numel() * 4
    seeded = np.random.default_rng(0)
    _, peak = _peak_extra(lambda: getattr(nn.init, name)(w, generator=seeded))
    assert peak <= 0.1 * w.numel() * 4


@pytest.mark.parametrize("shape", [(1,), (7, 33), (257, 1031), (3, 300, 257)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_chunked_fill_draws_the_whole_draws_values(shape, dtype):
    t = fastnn.empty(*shape, dtype=fastnn.float32 if dtype == np.float32 else fastnn.float64)
    nn.init.uniform_(t, -0.5, 2.0, generator=np.random.default_rng(7))
    want = np.random.default_rng(7).uniform(-0.5, 2.0, shape).astype(dtype)
    np.testing.assert_array_equal(t.numpy(), want)
    nn.init.normal_(t, 1.0, 3.0, generator=np.random.default_rng(8))
    want = np.random.default_rng(8).normal(1.0, 3.0, shape).astype(dtype)
    np.testing.assert_array_equal(t.numpy(), want)
    # the global generator: the same stream as one whole draw, and what follows is unchanged
    fastnn.manual_seed(11)
    t.uniform_(-1.0, 1.0)
    after = fastnn.rand(5).numpy()
    fastnn.manual_seed(11)
    rng = _random.generator()
    np.testing.assert_array_equal(t.numpy(), rng.uniform(-1.0, 1.0, shape).astype(dtype))
    np.testing.assert_array_equal(after, fastnn.rand(5).numpy())


def test_non_contiguous_fill_keeps_order():
    base = fastnn.zeros(300, 400)
    view = base.t()
    view.normal_(generator=np.random.default_rng(3))
    np.testing.assert_array_equal(
        view.numpy(), np.random.default_rng(3).normal(0.0, 1.0, (400, 300)).astype(np.float32)
    )
