"""fastnn.uint16 / uint32 / uint64: torch's limited-support unsigned types. They store, cast,
print and report iinfo like torch's, and promotion with any other integer or bool type raises
as in torch (with a float type they promote to the float)."""

import numpy as np
import pytest

import fastnn

torch = pytest.importorskip("torch")
NAMES = ["uint16", "uint32", "uint64"]


@pytest.mark.parametrize("name", NAMES)
def test_storage_casts_and_info(name):
    f, t = getattr(fastnn, name), getattr(torch, name)
    a = fastnn.tensor([1, 7, 33], dtype=f)
    b = torch.tensor([1, 7, 33], dtype=t)
    assert str(a.dtype) == f"fastnn.{name}"
    assert f.is_signed == t.is_signed
    assert f.is_floating_point == t.is_floating_point
    assert a.numpy().dtype == np.dtype(name)
    np.testing.assert_array_equal(a.float().numpy(), b.float().numpy())
    assert fastnn.iinfo(f).max == torch.iinfo(t).max
    assert fastnn.iinfo(f).bits == torch.iinfo(t).bits
    assert f.itemsize == t.itemsize
    wrapped = fastnn.tensor([70000, 5]).to(f).numpy()
    np.testing.assert_array_equal(wrapped, torch.tensor([70000, 5]).to(t).numpy())


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("other", ["int8", "uint8", "int16", "int64", "bool", "float32", "float64"])
def test_promotion_matches_torch(name, other):
    f, t = getattr(fastnn, name), getattr(torch, name)
    fo, to = getattr(fastnn, other), getattr(torch, other)
    try:
        want = str(torch.promote_types(t, to)).split(".")[-1]
    except RuntimeError:
        with pytest.raises(RuntimeError, match="uint16, uint32, uint64"):
            fastnn.promote_types(f, fo)
        with pytest.raises(RuntimeError, match="uint16, uint32, uint64"):
            fastnn.ones(2, dtype=f) + fastnn.ones(2, dtype=fo)
        return
    assert str(fastnn.promote_types(f, fo)).split(".")[-1] == want
    assert fastnn.promote_types(f, f) is f
