"""Large kernel outputs come from a bounded cache of recently freed buffers
(csrc/bindings/host_cache.h): a recycled buffer is handed out only after its array died, every
output is fully written (no stale values), and such arrays behave as owning their memory."""

import numpy as np

from fastnn import kernels
from fastnn._devices import cpu

BIG = (4, 64, 32, 33)  # 1.08 MB in float32, 2.16 MB in float64: above the 1 MiB threshold


def test_live_outputs_are_never_shared(rng):
    x = rng.standard_normal(BIG).astype(np.float32)
    ys = [kernels.relu(x * s) for s in (1.0, -1.0, 2.0)]
    for s, y in zip((1.0, -1.0, 2.0), ys):
        np.testing.assert_array_equal(y, np.maximum(x * s, 0))
    addrs = {y.ctypes.data for y in ys}
    assert len(addrs) == 3


def test_a_freed_buffer_is_reused_and_fully_rewritten(rng):
    x = rng.standard_normal(BIG)
    y = kernels.relu(x)
    addr = y.ctypes.data
    y[...] = np.nan  # stale contents must not leak into the next output
    del y
    z = kernels.relu(-x)
    assert z.ctypes.data == addr
    np.testing.assert_array_equal(z, np.maximum(-x, 0))


def test_recycled_arrays_own_their_memory(rng):
    x = rng.standard_normal((2, 8, 40, 40)).astype(np.float32)
    w = rng.standard_normal((96, 8, 3, 3)).astype(np.float32)
    y = kernels.conv2d(x, w, None, (1, 1), (1, 1), (1, 1))
    assert y.nbytes >= 1 << 20
    assert y.flags.c_contiguous and y.flags.writeable and y.dtype == np.float32
    assert cpu.is_fresh(y)
    assert not cpu.is_fresh(y[:1])
    y += 1  # writeable in place
    small = kernels.relu(x[:1, :1])
    assert cpu.is_fresh(small)


def test_a_whole_view_of_an_array_only_it_holds_counts_as_fresh(rng):
    """The engine adopts such a view as a .grad without a copy (a gradient reshaped or transposed
    back in a backward pass); a view of an array someone else holds, of part of one, or a
    read-only one is copied."""
    view = rng.standard_normal((6, 4)).T  # the product's only holder is the view
    assert not view.flags.c_contiguous and not cpu.is_fresh(view)
    whole = rng.standard_normal((6, 4)).reshape(24)
    assert cpu.is_fresh(whole)
    held = rng.standard_normal((6, 4))
    assert not cpu.is_fresh(held.reshape(24))  # `held` reaches the same memory
    assert not cpu.is_fresh(rng.standard_normal(10)[2:])
    ro = rng.standard_normal((6, 4))
    ro.flags.writeable = False
    assert not cpu.is_fresh(ro.reshape(24))
    assert not cpu.is_fresh(np.broadcast_to(np.zeros(4), (3, 4)))
    assert not cpu.is_fresh(np.frombuffer(bytearray(16), np.float32))
