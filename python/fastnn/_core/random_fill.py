"""Random fills written into an array in place, a chunk at a time.

A whole draw (``rng.uniform(a, b, shape)``) makes a float64 array the size of the parameter (twice
a float32 one) before copying it in; drawing the same values a chunk at a time keeps the extra
memory at one chunk. numpy's Generator draws ``uniform`` and ``normal`` values one after another
from its bit stream, so consecutive chunks in C order give exactly the values of one whole draw:
seeded initialisations do not change.
"""

import numpy as np

_CHUNK = 1 << 16  # values per draw: 512 KiB of float64


def fill_(out, draw):
    """Write ``draw(n)`` (n float64 values, in stream order) into the numpy array ``out``."""
    if out.size <= _CHUNK or not out.flags.c_contiguous:
        np.copyto(out, draw(out.shape), casting="unsafe")
        return out
    flat = out.reshape(-1)  # a view: out is C-contiguous
    for start in range(0, flat.size, _CHUNK):
        part = flat[start : start + _CHUNK]
        np.copyto(part, draw(part.size), casting="unsafe")
    return out
