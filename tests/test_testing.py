"""fastnn.testing: assert_close's tolerances, messages and containers, assert_allclose, and
make_tensor's bounds and layouts; with torch installed, the same verdicts and messages as
torch.testing on the same inputs."""

import math
import warnings

import numpy as np
import pytest

import fastnn
from fastnn.testing import assert_allclose, assert_close, make_tensor


def _fails(actual, expected, match=None, **kwargs):
    with pytest.raises(AssertionError, match=match) as info:
        assert_close(actual, expected, **kwargs)
    return str(info.value)


def test_default_tolerances_per_dtype():
    one = fastnn.tensor([1.0])
    assert_close(one, one + 9e-6)  # float32: atol 1e-5
    _fails(one, one + 2e-5, "not close")
    d = fastnn.tensor([1.0], dtype=fastnn.float64)
    assert_close(d, d + 1.5e-7)  # float64: 1e-7 + 1e-7 * 1
    _fails(d, d + 3e-7, "not close")
    h = fastnn.tensor([100.0], dtype=fastnn.float16)
    assert_close(h, h + 0.0625)  # float16: rtol 1e-3 covers one half-ulp step at 100
    _fails(h, h + 0.5, "not close")
    i = fastnn.tensor([5, 6])
    assert_close(i, fastnn.tensor([5, 6]))
    _fails(i, fastnn.tensor([5, 7]), "Tensor-likes are not equal!")


def test_mismatch_message_names_count_differences_and_index():
    text = _fails(fastnn.ones(2, 3), fastnn.ones(2, 3) + fastnn.tensor([[0, 0, 0], [0, 0, 1.0]]))
    assert text.startswith("Tensor-likes are not close!\n\nMismatched elements: 1 / 6 (16.7%)")
    assert "Greatest absolute difference: 1.0 at index (1, 2) (up to 1e-05 allowed)" in text
    assert "Greatest relative difference: 0.5 at index (1, 2) (up to 1.3e-06 allowed)" in text


def test_explicit_tolerances_both_or_neither():
    assert_close(fastnn.tensor([1.0]), fastnn.tensor([1.5]), rtol=0.0, atol=0.6)
    with pytest.raises(ValueError, match="atol"):
        assert_close(fastnn.tensor([1.0]), fastnn.tensor([1.0]), rtol=1e-3)
    with pytest.raises(ValueError, match="rtol"):
        assert_close(1.0, 1.0, atol=1e-3)


def test_attributes_are_checked_before_values():
    _fails(fastnn.ones(2), fastnn.ones(3), "attribute 'shape'")
    _fails(fastnn.ones(2), fastnn.ones(2, dtype=fastnn.float64), "attribute 'dtype'")
    # without the dtype check the looser tolerance of the two applies
    assert_close(fastnn.ones(2), fastnn.ones(2, dtype=fastnn.float64) + 5e-6, check_dtype=False)
    x = fastnn.ones(2, 2)
    _fails(x, x.t().contiguous().t(), "stride", check_stride=True)
    assert_close(x, x.t().contiguous().t())


def test_nan_and_inf():
    nan = fastnn.tensor([1.0, math.nan])
    _fails(nan, nan.clone(), "Mismatched elements: 1 / 2")
    assert_close(nan, nan.clone(), equal_nan=True)
    inf = fastnn.tensor([math.inf, -math.inf])
    assert_close(inf, inf.clone())
    _fails(inf, -inf)


def test_scalars_and_booleans():
    assert_close(1.0, 1.0 + 1e-8)
    text = _fails(1.0, 1.1)
    assert text.startswith("Scalars are not close!\n\nExpected 1.1 but got 1.0.")
    _fails(True, False, "Booleans mismatch: True is not False")
    _fails(1, 1.0, "types do not match")
    assert_close(1, 1.0, check_dtype=False)
    assert_close(np.float32(2.0), np.float32(2.0))


def test_containers_report_the_failing_item():
    assert_close([fastnn.ones(2), 3.0], (fastnn.ones(2), 3.0))
    text = _fails([1.0, 2.0], [1.0, 2.1])
    assert text.endswith("The failure occurred for item [1]")
    text = _fails({"a": [fastnn.ones(2)]}, {"a": [fastnn.zeros(2)]})
    assert text.endswith("The failure occurred for item ['a'][0]")
    _fails([1], [1, 2], "length of the sequences mismatch: 1 != 2")
    _fails({"a": 1}, {"b": 1}, "keys of the mappings do not match")
    with pytest.raises(TypeError, match="No comparison pair"):
        assert_close(fastnn.ones(2), [1.0, 1.0])


def test_numpy_arrays_are_tensor_likes():
    a = np.array([1.0, 2.0])
    assert_close(a, a + 1e-8)
    _fails(a, a + 1e-3, "Tensor-likes are not close!")


def test_msg_replaces_or_maps_the_message():
    _fails(fastnn.ones(2), fastnn.zeros(2), "^custom$", msg="custom")
    text = _fails(fastnn.ones(2), fastnn.zeros(2), msg=lambda m: "prefix: " + m)
    assert text.startswith("prefix: Tensor-likes are not close!")


def test_assert_allclose_is_deprecated_and_lenient():
    with pytest.warns(FutureWarning, match="assert_close"):
        assert_allclose(fastnn.tensor([1.0, math.nan]), [1.0, math.nan])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        with pytest.raises(AssertionError):
            assert_allclose(fastnn.tensor([1.0]), [2.0])


@pytest.mark.parametrize(
    "dtype,low,high",
    [("float32", -9, 9), ("float64", -9, 9), ("int64", -9, 9), ("uint8", 0, 9), ("int8", -9, 9)],
)
def test_make_tensor_default_bounds(dtype, low, high):
    dt = getattr(fastnn, dtype)
    fastnn.manual_seed(0)
    t = make_tensor(4000, dtype=dt, device="cpu")
    assert t.dtype == dt and t.shape == (4000,) and not t.requires_grad
    v = t.numpy()
    assert v.min() >= low and v.max() <= high
    if dt.is_floating_point:
        assert v.min() < low + 0.1 and v.max() > high - 0.1 and v.max() < high
    else:
        assert v.min() == low and v.max() == high  # [low, high) of ints reaches high - 1 + 1


def test_make_tensor_options():
    t = make_tensor((2, 3), dtype=fastnn.float32, device="cpu", low=2.0, high=3.0)
    assert t.shape == (2, 3) and 2.0 <= t.min().item() and t.max().item() < 3.0
    b = make_tensor(200, dtype=fastnn.bool, device="cpu").numpy()
    assert b.dtype == np.bool_ and b.any() and not b.all()
    z = make_tensor(500, dtype=fastnn.int64, device="cpu", low=-1, high=2, exclude_zero=True)
    assert (z.numpy() != 0).all()
    f = make_tensor(3, 4, dtype=fastnn.float64, device="cpu", noncontiguous=True)
    assert not f.is_contiguous() and f.shape == (3, 4)
    g = make_tensor(3, dtype=fastnn.float32, device="cpu", requires_grad=True)
    assert g.requires_grad and g.is_leaf
    u = make_tensor(100, dtype=fastnn.uint8, device="cpu", low=-50, high=3)
    assert u.numpy().min() >= 0  # bounds clamp to the dtype's range
    with pytest.raises(ValueError, match="floating dtype"):
        make_tensor(3, dtype=fastnn.int64, device="cpu", requires_grad=True)
    with pytest.raises(ValueError, match="low must be less than high"):
        make_tensor(3, dtype=fastnn.int64, device="cpu", low=5, high=5)
    with pytest.raises(ValueError, match="NaN"):
        make_tensor(3, dtype=fastnn.float32, device="cpu", low=math.nan)
    with pytest.raises(TypeError, match="dtype"):
        make_tensor(3, device="cpu")  # dtype is required, as in torch


PAIRS = [
    ([1.0, 2.0, 3.0], [1.0, 2.5, 3.0], "float32"),
    ([1.0, 2.0], [1.0, 2.0 + 5e-6], "float32"),
    ([1.0, 2.0], [1.0, 2.0 + 5e-7], "float64"),
    ([1, 2], [1, 3], "int64"),
    ([[1.0, 0.0], [2.0, 3.0]], [[1.0, 1e-4], [2.0, 3.0]], "float32"),
    ([1.0, 0.0], [1.0, 0.0], "float16"),
]


@pytest.mark.parametrize("a,e,dtype", PAIRS)
def test_same_verdict_and_message_as_torch(a, e, dtype):
    torch = pytest.importorskip("torch")

    def outcome(lib, lib_assert):
        dt = getattr(lib, dtype)
        try:
            lib_assert(lib.tensor(a, dtype=dt), lib.tensor(e, dtype=dt))
        except AssertionError as err:
            return str(err).splitlines()[:3]
        return None

    ours = outcome(fastnn, assert_close)
    theirs = outcome(torch, torch.testing.assert_close)
    assert ours == theirs


def test_scalar_message_matches_torch():
    torch = pytest.importorskip("torch")
    with pytest.raises(AssertionError) as theirs:
        torch.testing.assert_close(1.0, 1.1)
    assert _fails(1.0, 1.1) == str(theirs.value)
