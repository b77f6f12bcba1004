"""Memory formats (``fastnn.channels_last``...): accepted wherever torch takes them, checked as
torch checks them, and changing no values (fastnn's storage stays row-major)."""

import pickle

import numpy as np
import pytest

import fastnn

CALLS = {
    "contiguous": lambda m, x, f: x.contiguous(memory_format=f),
    "clone": lambda m, x, f: x.clone(memory_format=f),
    "to": lambda m, x, f: x.to(memory_format=f),
    "zeros_like": lambda m, x, f: m.zeros_like(x, memory_format=f),
    "ones_like": lambda m, x, f: m.ones_like(x, memory_format=f),
    "full_like": lambda m, x, f: m.full_like(x, 2.5, memory_format=f),
    "empty": lambda m, x, f: m.empty(*x.shape, memory_format=f).fill_(1.0),
}
FORMATS = ["contiguous_format", "channels_last", "preserve_format"]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3, 4)])
def test_values_and_refusals_match_torch(call, fmt, shape):
    torch = pytest.importorskip("torch")
    a = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    results = []
    for m in (fastnn, torch):
        try:
            out = CALLS[call](m, m.tensor(a), getattr(m, fmt))
            results.append(("ok", out.shape, out.numpy().tolist()))
        except (RuntimeError, TypeError) as e:
            results.append((type(e).__name__, str(e)))
    ours, theirs = results
    if ours[0] == "ok":
        assert ours[0] == theirs[0] and tuple(ours[1]) == tuple(theirs[1]) and ours[2] == theirs[2]
    else:
        assert ours == theirs


def test_format_objects():
    assert repr(fastnn.channels_last) == "fastnn.channels_last"
    assert isinstance(fastnn.channels_last, fastnn.memory_format)
    assert pickle.loads(pickle.dumps(fastnn.channels_last)) is fastnn.channels_last
    with pytest.raises(TypeError, match="must be torch.memory_format, not str"):
        fastnn.ones(2, 3).contiguous(memory_format="channels_last")
    x = fastnn.ones(2, 3, 4, 5)
    assert x.is_contiguous() and not x.is_contiguous(memory_format=fastnn.channels_last)
    nhwc = fastnn.from_numpy(np.ones((2, 4, 5, 3), np.float32)).permute(0, 3, 1, 2)
    assert nhwc.is_contiguous(memory_format=fastnn.channels_last)


def test_module_to_takes_a_memory_format():
    conv = fastnn.nn.Conv2d(3, 4, 3)
    before = conv.weight.detach().numpy().copy()
    assert conv.to(memory_format=fastnn.channels_last) is conv
    np.testing.assert_array_equal(conv.weight.detach().numpy(), before)
    with pytest.raises(TypeError, match="memory_format"):
        conv.to(memory_format=1)
