"""fastnn._C.fma_probe, the benchmarks' compute-limit probe: the work it reports and its
checksum against a float64 model of the chains, on every ISA path; its argument checks."""

import numpy as np
import pytest

from fastnn import _C

# (chains, lanes per chain) of each path's loop
SHAPE = {"generic": (8, 1), "avx2": (12, 8), "avx512": (16, 16)}


def expected_checksum(chains, lanes, iterations):
    """Each chain starts at c / 64 and maps acc to acc * a + b (a, b as float32)."""
    a, b = float(np.float32(0.9999)), float(np.float32(0.0001))
    acc = np.arange(chains, dtype=np.float64) / 64.0
    for _ in range(iterations):
        acc = acc * a + b
    return lanes * acc.sum()


@pytest.mark.parametrize("iterations", [0, 1, 7, 1000])
def test_work_and_checksum(isa, iterations):
    chains, lanes = SHAPE[isa]
    flops, checksum = _C.fma_probe(iterations)
    assert flops == 2 * chains * lanes * iterations
    assert checksum == pytest.approx(expected_checksum(chains, lanes, iterations), rel=1e-4)


def test_bad_arguments():
    with pytest.raises(ValueError, match="'iterations' must be >= 0, got -1"):
        _C.fma_probe(-1)
    with pytest.raises(TypeError):
        _C.fma_probe("10")
    with pytest.raises(TypeError):
        _C.fma_probe(1.5)
