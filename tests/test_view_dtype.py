"""Tensor.view(dtype): the same bytes read as another type, as torch's (a view that shares the
storage and is not differentiable; the last dimension rescaled between element sizes)."""

import numpy as np
import pytest

import fastnn


@pytest.mark.parametrize(
    "src, dst",
    [
        ("float32", "int32"),
        ("float32", "float16"),
        ("float32", "float64"),
        ("float32", "uint8"),
        ("int64", "float32"),
        ("float64", "float64"),
    ],
)
def test_view_dtype_matches_torch(src, dst):
    torch = pytest.importorskip("torch")
    x = np.arange(1, 13, dtype=src).reshape(3, 4) * np.array(-1.5 if src[0] == "f" else 3).astype(
        src
    )
    got = fastnn.tensor(x).view(getattr(fastnn, dst))
    want = torch.tensor(x).view(getattr(torch, dst))
    assert got.dtype == getattr(fastnn, dst) and tuple(got.shape) == tuple(want.shape)
    np.testing.assert_array_equal(got.numpy().view(np.uint8), want.numpy().view(np.uint8))
    leaf = fastnn.tensor(x.astype(np.float32), requires_grad=True)
    assert not leaf.view(getattr(fastnn, dst)).requires_grad  # torch: never differentiable


def test_view_dtype_shares_the_storage():
    x = fastnn.zeros(2, 2)
    bits = x.view(fastnn.int32)
    bits[0, 0] = 0x3F800000  # the bits of 1.0f
    assert x[0, 0].item() == 1.0
    assert x.view(dtype=fastnn.uint8).shape == (2, 8)


def test_view_dtype_errors_as_torch():
    torch = pytest.importorskip("torch")
    cases = [
        lambda m: m.tensor(1.0).view(m.int16),  # 0-d between sizes
        lambda m: m.ones(3).view(m.float64),  # 12 bytes are not whole doubles
        lambda m: m.ones(2, 2).t().view(m.int16),  # last dim not contiguous
    ]
    for case in cases:
        with pytest.raises(RuntimeError) as theirs:
            case(torch)
        with pytest.raises(RuntimeError) as mine:
            case(fastnn)
        assert str(mine.value).split(" ")[0] == str(theirs.value).split(" ")[0]
