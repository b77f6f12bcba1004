"""Window functions: the defining formulas and edge lengths without torch, and torch's values
(float64 to 1e-12, float32 to 1e-6) for every window, length and periodicity."""

import math

import numpy as np
import pytest

import fastnn

NAMES = ["bartlett_window", "blackman_window", "hamming_window", "hann_window", "kaiser_window"]


def test_hann_formula_and_periodic_is_one_longer_symmetric_window_truncated():
    n = np.arange(8)
    want = 0.5 - 0.5 * np.cos(2 * math.pi * n / 7)
    got = fastnn.hann_window(8, periodic=False, dtype=fastnn.float64).numpy()
    np.testing.assert_allclose(got, want, atol=1e-15)
    longer = fastnn.hann_window(9, periodic=False, dtype=fastnn.float64).numpy()
    np.testing.assert_array_equal(fastnn.hann_window(8, dtype=fastnn.float64).numpy(), longer[:-1])


def test_the_other_formulas():
    t = np.arange(5) / 4
    f64 = {"periodic": False, "dtype": fastnn.float64}
    cases = {
        "hamming_window": 0.54 - 0.46 * np.cos(2 * math.pi * t),
        "blackman_window": 0.42 - 0.5 * np.cos(2 * math.pi * t) + 0.08 * np.cos(4 * math.pi * t),
        "bartlett_window": np.array([0.0, 0.5, 1.0, 0.5, 0.0]),
        "kaiser_window": np.i0(12.0 * np.sqrt(1 - (2 * t - 1) ** 2)) / np.i0(12.0),
    }
    for name, want in cases.items():
        np.testing.assert_allclose(getattr(fastnn, name)(5, **f64).numpy(), want, atol=1e-15)
    np.testing.assert_allclose(
        fastnn.hamming_window(5, False, 0.5, 0.5, dtype=fastnn.float64).numpy(),
        fastnn.hann_window(5, False, dtype=fastnn.float64).numpy(),
        atol=1e-15,
    )


@pytest.mark.parametrize("name", NAMES)
def test_edge_lengths_dtype_and_errors(name):
    fn = getattr(fastnn, name)
    assert fn(0).shape == (0,) and fn(1).tolist() == [1.0]
    assert fn(4).dtype == fastnn.get_default_dtype()
    assert fn(4, requires_grad=True).requires_grad
    with pytest.raises(ValueError, match="window_length"):
        fn(-1)
    with pytest.raises(TypeError, match="window_length"):
        fn(2.5)
    with pytest.raises(TypeError, match="floating"):
        fn(4, dtype=fastnn.int64)


@pytest.mark.parametrize("name", NAMES)
def test_matches_torch(name):
    torch = pytest.importorskip("torch")
    extra = {"hamming_window": (0.6, 0.35), "kaiser_window": (4.5,)}.get(name, ())
    for length in (0, 1, 2, 3, 10, 33):
        for periodic in (True, False):
            for dtype, tol in (("float64", 1e-12), ("float32", 1e-6)):
                ours = getattr(fastnn, name)(length, periodic, *extra, dtype=getattr(fastnn, dtype))
                theirs = getattr(torch, name)(length, periodic, *extra, dtype=getattr(torch, dtype))
                assert ours.dtype.name == dtype and tuple(ours.shape) == tuple(theirs.shape)
                np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=0, atol=tol)
