"""Host-side index planning of the CUDA element-wise kernels (csrc/strided_index.h, compiled for
the host into fastnn._cuda): the multiply-high division against integer division over many
divisors and dividends, and the planned offsets (dimension merging, 32- and 64-bit calculators)
against NumPy's unravel_index. Runs without a GPU."""

import numpy as np
import pytest

from fastnn import cuda

pytestmark = pytest.mark.skipif(
    cuda._module() is None, reason="fastnn built without CUDA (or its module cannot load)"
)

TWO31 = 1 << 31


def mod():
    return cuda._module()


def check_divmod(divisors, dividends):
    d = np.asarray(divisors, dtype=np.uint32)
    n = np.asarray(dividends, dtype=np.uint32)
    q, r = mod().fast_divmod(d, n)
    d64, n64 = d.astype(np.int64), n.astype(np.int64)
    bad = np.flatnonzero((q != n64 // d64) | (r != n64 % d64))
    assert bad.size == 0, f"{n64[bad[:5]]} / {d64[bad[:5]]} gave q={q[bad[:5]]}, r={r[bad[:5]]}"


def test_fast_divmod_edge_divisors_and_dividends(rng):
    divisors = set(range(1, 1025))
    for k in range(32):
        divisors |= {(1 << k) - 1, 1 << k, (1 << k) + 1}
    divisors |= {3 * (1 << 29), TWO31 - 1, TWO31, 641, 6700417, 65537, 65535}
    divisors |= {int(v) for v in rng.integers(1, TWO31 + 1, 3000)}
    divisors = np.array(sorted(x for x in divisors if 1 <= x <= TWO31), dtype=np.int64)
    for d in np.array_split(divisors, 8):
        n = [np.zeros_like(d), d - 1, d, d + 1, 2 * d - 1, 2 * d, (TWO31 - 1) // d * d]
        n += [(TWO31 - 1) // d * d - 1, np.full_like(d, TWO31 - 1), np.full_like(d, TWO31 - 2)]
        n += [rng.integers(0, TWO31, d.size) for _ in range(8)]
        for dividends in n:
            keep = (dividends >= 0) & (dividends < TWO31)
            check_divmod(d[keep], dividends[keep])


def test_fast_divmod_dense_ranges(rng):
    """Every dividend of a few ranges (near 0 and just below 2^31) for a spread of divisors."""
    low = np.arange(0, 1 << 16, dtype=np.int64)
    high = np.arange(TWO31 - (1 << 16), TWO31, dtype=np.int64)
    for d in [1, 2, 3, 5, 7, 10, 12, 25, 100, 127, 1000, 4097, 65535, 1 << 20, 999999937]:
        for n in (low, high):
            check_divmod(np.full(n.size, d), n)
    for d in rng.integers(2, TWO31, 20):
        check_divmod(np.full(high.size, d), high)


def test_fast_divmod_rejects_out_of_range():
    with pytest.raises(ValueError, match="divisors"):
        mod().fast_divmod(np.array([0], np.uint32), np.array([1], np.uint32))
    with pytest.raises(ValueError, match="dividends"):
        mod().fast_divmod(np.array([3], np.uint32), np.array([TWO31], np.uint32))
    with pytest.raises(ValueError, match="one length"):
        mod().fast_divmod(np.array([3, 4], np.uint32), np.array([1], np.uint32))


def reference_offsets(shape, strides, indices):
    coords = np.unravel_index(indices, shape) if shape else ()
    out = np.zeros((len(indices), len(strides)), dtype=np.int64)
    for k, st in enumerate(strides):
        for c, s in zip(coords, st):
            out[:, k] += c.astype(np.int64) * s
    return out


def random_case(rng, ndim, k):
    shape = [int(rng.integers(1, 7)) if rng.random() < 0.8 else 1 for _ in range(ndim)]
    strides = []
    for _ in range(k):
        kind = rng.random()
        contiguous = np.cumprod([1, *shape[::-1]])[:-1][::-1]
        if kind < 0.3:  # contiguous
            st = list(contiguous)
        elif kind < 0.6:  # broadcast: some strides 0
            st = [0 if rng.random() < 0.5 else int(s) for s in contiguous]
        else:  # any view: random strides of either sign
            st = [int(rng.integers(-50, 51)) for _ in shape]
        strides.append([int(s) for s in st])
    return shape, strides


@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("ndim", [0, 1, 2, 3, 4, 5, 6, 8])
def test_plan_offsets_match_unravel(ndim, k, rng):
    for _ in range(40):
        shape, strides = random_case(rng, ndim, k)
        numel = int(np.prod(shape))
        indices = np.unique(np.concatenate([[0, numel - 1], rng.integers(0, numel, 50)]))
        want = reference_offsets(shape, strides, indices)
        for force in (False, True):
            got, info = mod().index_plan_offsets(shape, strides, indices, force)
            np.testing.assert_array_equal(got, want, err_msg=f"{shape} {strides} 64-bit={force}")
            assert info["used32"] == (not force)
            assert len(info["sizes"]) <= sum(d > 1 for d in shape)


def test_plan_merges_contiguous_and_broadcast_runs():
    m = mod()
    _, info = m.index_plan_offsets([2, 3, 4], [[12, 4, 1], [12, 4, 1]], np.arange(24))
    assert info["sizes"] == [24] and info["contiguous"]
    # a row bias (C,) over (N, C): two dims that cannot merge for the bias
    _, info = m.index_plan_offsets([5, 7], [[7, 1], [0, 1]], np.arange(35))
    assert info["sizes"] == [7, 5] and not info["contiguous"]
    assert info["strides"] == [[1, 7], [1, 0]]
    # size-1 dims vanish; a transposed operand stops the merge
    _, info = m.index_plan_offsets([1, 4, 1, 6], [[24, 6, 6, 1], [0, 1, 0, 4]], np.arange(24))
    assert info["sizes"] == [6, 4]
    _, info = m.index_plan_offsets([1, 1], [[5, 3]], np.array([0]))
    assert info["sizes"] == [] and info["contiguous"]


def test_plan_32_bit_limits():
    m = mod()
    n = TWO31 - 1  # the largest element count of the 32-bit plan
    idx = np.array([0, 1, n - 2, n - 1])
    got, info = m.index_plan_offsets([n], [[1]], idx)
    assert info["fits32"]
    np.testing.assert_array_equal(got[:, 0], idx)
    got, info = m.index_plan_offsets([n + 1], [[1]], np.array([n]))
    assert not info["fits32"] and got[0, 0] == n
    # few elements, but offsets past 2^31: 64-bit
    got, info = m.index_plan_offsets([2, 64], [[TWO31, 1]], np.array([0, 64, 127]))
    assert not info["fits32"]
    np.testing.assert_array_equal(got[:, 0], [0, TWO31, TWO31 + 63])
    # negative strides reaching exactly -(2^31 - 1) still fit
    got, info = m.index_plan_offsets([2, 2], [[-(TWO31 - 2), -1]], np.array([3]))
    assert info["fits32"] and got[0, 0] == -(TWO31 - 1)
    got, info = m.index_plan_offsets([3, 2], [[-(TWO31 - 2), -1]], np.array([5]))
    assert not info["fits32"] and got[0, 0] == -2 * (TWO31 - 2) - 1


def test_plan_rejects_bad_arguments():
    m = mod()
    with pytest.raises(ValueError, match="stride lists"):
        m.index_plan_offsets([2], [], np.array([0]))
    with pytest.raises(ValueError, match="entries"):
        m.index_plan_offsets([2, 3], [[1]], np.array([0]))
    with pytest.raises(ValueError, match="outside"):
        m.index_plan_offsets([2, 3], [[3, 1]], np.array([6]))
    with pytest.raises(ValueError, match=">= 1"):
        m.index_plan_offsets([0, 3], [[3, 1]], np.array([0]))
