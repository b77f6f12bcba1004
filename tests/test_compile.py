"""fastnn.compile / Module.compile / fastnn.compiler: torch's entry points, eager results."""

import numpy as np
import pytest

import fastnn
from fastnn import nn


def test_compiled_module_is_the_module_and_trains():
    fastnn.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.Linear(8, 1))
    compiled = fastnn.compile(model)
    assert compiled is model
    x = fastnn.randn(5, 4)
    np.testing.assert_array_equal(compiled(x).detach().numpy(), model(x).detach().numpy())
    opt = fastnn.optim.SGD(compiled.parameters(), lr=0.1)
    before = compiled(x).pow(2).mean().item()
    for _ in range(5):
        opt.zero_grad()
        compiled(x).pow(2).mean().backward()
        opt.step()
    assert compiled(x).pow(2).mean().item() < before
    assert list(compiled.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_compile_as_a_decorator_with_and_without_arguments():
    @fastnn.compile
    def double(t):
        return t * 2

    @fastnn.compile(mode="reduce-overhead", fullgraph=True, dynamic=False)
    def add_one(t):
        return t + 1

    assert double(fastnn.tensor([1.0, 2.0])).tolist() == [2.0, 4.0]
    assert add_one(fastnn.tensor([1.0])).tolist() == [2.0]
    assert fastnn.compile(backend=lambda gm, inputs: gm)(abs) is abs


def test_module_compile_works_in_place():
    model = nn.Linear(3, 2)
    assert model.compile(mode="max-autotune") is None
    assert model(fastnn.ones(1, 3)).shape == (1, 2)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda lib: lib.compile(abs, mode="fastest"), RuntimeError, "Unrecognized mode"),
        (
            lambda lib: lib.compile(abs, mode="default", options={}),
            RuntimeError,
            "Either mode or options",
        ),
        (lambda lib: lib.compile(3), AssertionError, "callable"),
        (lambda lib: lib.compiler.disable(3), AssertionError, "callable"),
        (lambda lib: lib.compile(abs, unknown=True), TypeError, "unknown"),
        (lambda lib: lib.nn.Linear(1, 1).compile(mode="fastest"), RuntimeError, "mode"),
    ],
)
def test_bad_arguments_raise_torchs_errors(call, error, match):
    with pytest.raises(error, match=match):
        call(fastnn)
    torch = pytest.importorskip("torch")
    with pytest.raises(error, match=match):
        call(torch)


def test_compiler_helpers():
    assert fastnn.compiler.is_compiling() is False
    assert fastnn.compiler.disable(abs) is abs
    assert fastnn.compiler.disable()(abs) is abs
