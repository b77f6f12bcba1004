"""ceil_mode for the 2-D pools, on top of the floor-mode kernels.

With ceil_mode=True the output size along a dim rounds up, ceil((n + 2p - d(k-1) - 1) / s) + 1,
less one when that last window would start past the input and its left padding (it must start
inside). The last window then runs past the right padding; ``extra`` is by how much, so padding
the input by that many cells on the bottom / right (-inf for max, zeros for a sum) lets the
floor-mode kernel produce exactly the ceil-mode windows. An average divides by the window's
size clipped to the padded input (count_include_pad=True) or to the input itself (False), the
counts torch uses; they factor into one vector per dim.
"""

import numbers

import numpy as np

from ..._tensor.creation import full
from ..._tensor.functions import cat


def valid(kernel_size, stride, padding, dilation):
    """Whether the window is two ints each, positive (padding non-negative)."""
    pairs = (kernel_size, stride, padding, dilation)
    if not all(isinstance(v, tuple) and len(v) == 2 for v in pairs):
        return False
    if not all(isinstance(i, numbers.Integral) for v in pairs for i in v):
        return False
    return min(*kernel_size, *stride, *dilation) >= 1 and min(padding) >= 0


def extra(n, k, s, p, d=1):
    """Cells past the padded input that ceil_mode's last window reaches (0 when none)."""
    out = (n + 2 * p - d * (k - 1) - 1 + s - 1) // s + 1  # floor division, as torch rounds
    if (out - 1) * s >= n + p:
        out -= 1
    if out <= 0:
        return 0  # no window at all: the floor-mode kernel reports it
    return max(0, (out - 1) * s + d * (k - 1) + 1 - (n + 2 * p))


def window_counts(n, k, s, p, count_include_pad):
    """Per output position along one dim, how many cells its average divides by."""
    out = (n + 2 * p - k + extra(n, k, s, p)) // s + 1
    start = np.arange(out) * s - p
    end = np.minimum(start + k, n + p)
    if count_include_pad:
        return end - start
    return np.minimum(end, n) - np.maximum(start, 0)


def flat_index_in(idx, width, extra_w):
    """Max-pool indices taken on an input widened by ``extra_w`` columns, as flat indices
    ih * width + iw into the original plane."""
    if not extra_w:
        return idx
    wide = width + extra_w
    return idx // wide * width + idx % wide


def pad_end(x, rows, cols, value):
    """x (..., H, W) with ``rows`` rows and ``cols`` columns of ``value`` appended (a cat, so
    the gradient of the filler is dropped and x's passes through)."""
    if rows:
        x = cat(
            [x, full((*x.shape[:-2], rows, x.shape[-1]), value, dtype=x.dtype, device=x.device)], -2
        )
    if cols:
        x = cat([x, full((*x.shape[:-1], cols), value, dtype=x.dtype, device=x.device)], -1)
    return x
