"""fastnn.jit: model code written for TorchScript runs eagerly with the same results, and the
checks torch makes (an example that fails, freezing a training module) still fire."""

import numpy as np
import pytest

import fastnn
from fastnn import jit, nn


@jit.script
def _bias_gelu(x, bias):
    y = x + bias
    return y * 0.5 * (1.0 + (y * 0.7978845608).tanh() * (1.0 + 0.044715 * y * y))


class _Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 3)

    def forward(self, x):
        if jit.is_scripting() or jit.is_tracing():
            raise AssertionError("fastnn runs eagerly")
        hidden = jit.annotate(list, [])
        hidden.append(self.lin(x))
        return self.helper(hidden[0])

    @jit.ignore
    def helper(self, h):
        return h.relu()

    @jit.unused
    def unused_path(self, h):
        return h

    @jit.export
    def exported(self, h):
        return h * 2


def test_scripted_and_traced_code_gives_the_eager_results():
    fastnn.manual_seed(0)
    block = _Block()
    x = fastnn.randn(5, 4)
    want = block(x).detach()
    assert jit.script(block) is block
    traced = jit.trace(block, (x,))
    np.testing.assert_array_equal(traced(x).detach().numpy(), want.numpy())
    assert jit.trace_module(block, {"forward": x, "exported": want}) is block
    bias = fastnn.randn(4)
    y = x + bias
    ref = y * 0.5 * (1.0 + (y * 0.7978845608).tanh() * (1.0 + 0.044715 * y * y))
    np.testing.assert_allclose(_bias_gelu(x, bias).numpy(), ref.numpy(), rtol=1e-6)
    with pytest.raises(TypeError, match="dict of method name"):
        jit.trace_module(block, [x])
    # a decorator used bare and with arguments
    assert jit.ignore(drop=True)(block.helper) == block.helper


def test_trace_runs_its_example():
    calls = []

    def f(a, b):
        calls.append((a.shape, b.shape))
        return a @ b

    jit.trace(f, (fastnn.ones(2, 3), fastnn.ones(3, 1)))
    jit.trace(f, example_kwarg_inputs={"a": fastnn.ones(1, 2), "b": fastnn.ones(2, 2)})
    assert calls == [((2, 3), (3, 1)), ((1, 2), (2, 2))]
    with pytest.raises(RuntimeError):  # the example's error surfaces, as in torch's tracing
        jit.trace(f, (fastnn.ones(2, 3), fastnn.ones(2, 3)))
    with pytest.raises(TypeError, match="example_kwarg_inputs"):
        jit.trace(f, example_kwarg_inputs=[1, 2])


def test_fork_wait_and_freeze():
    fut = jit.fork(lambda a, k=1: a + k, fastnn.ones(2), k=3)
    assert fut.done()
    np.testing.assert_array_equal(jit.wait(fut).numpy(), [4.0, 4.0])
    assert fut.then(lambda f: f.value().sum().item()).wait() == 8.0
    with pytest.raises(TypeError, match="Future"):
        jit.wait(3)
    block = _Block()
    with pytest.raises(RuntimeError, match="eval mode"):
        jit.freeze(block)
    assert jit.freeze(block.eval()) is block
    assert jit.optimize_for_inference(block.train()) is block and not block.training


def test_torch_spelling():
    torch = pytest.importorskip("torch")
    assert fastnn.jit.Final is torch.jit.Final  # both typing.Final
    assert fastnn.jit.is_scripting() == torch.jit.is_scripting()
