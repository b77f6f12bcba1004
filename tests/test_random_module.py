"""fastnn.random: torch.random's names for the global random state, and fork_rng."""

import numpy as np
import pytest

import fastnn
from fastnn import random


def test_the_names_are_the_global_state_functions():
    random.manual_seed(3)
    a = fastnn.rand(4)
    fastnn.manual_seed(3)
    np.testing.assert_array_equal(fastnn.rand(4).numpy(), a.numpy())
    assert random.initial_seed() == 3
    state = random.get_rng_state()
    b = fastnn.randn(5)
    random.set_rng_state(state)
    np.testing.assert_array_equal(fastnn.randn(5).numpy(), b.numpy())
    assert random.default_generator is fastnn.default_generator
    assert isinstance(random.seed(), int)


def test_fork_rng_leaves_the_outer_stream_as_it_was():
    fastnn.manual_seed(7)
    want = fastnn.rand(3).numpy()
    fastnn.manual_seed(7)
    with random.fork_rng():
        inside = fastnn.rand(3).numpy()  # the same draws as outside would give
        fastnn.rand(100)
    np.testing.assert_array_equal(inside, want)
    np.testing.assert_array_equal(fastnn.rand(3).numpy(), want)
    fastnn.manual_seed(7)
    with random.fork_rng(enabled=False):
        fastnn.rand(3)
    assert not np.array_equal(fastnn.rand(3).numpy(), want)  # not forked: the stream moved on
    with pytest.raises(RuntimeError, match="mps"), random.fork_rng(device_type="mps"):
        pass


def test_fork_rng_restores_on_error_as_torch():
    torch = pytest.importorskip("torch")
    fastnn.manual_seed(1)
    torch.manual_seed(1)
    for lib in (fastnn, torch):
        before = lib.get_rng_state()
        with pytest.raises(ZeroDivisionError), lib.random.fork_rng():
            lib.rand(10)
            raise ZeroDivisionError
        assert lib.equal(lib.get_rng_state(), before)
