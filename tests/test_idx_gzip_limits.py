"""The IDX reader inflates a gzip file only up to the size its header declares: a small file
that inflates to far more is refused without inflating the rest."""

import gzip
import tracemalloc
import zlib

import numpy as np
import pytest

from fastnn.datasets._idx import DataFileError, read_idx


def _header(shape):
    return bytes([0, 0, 0x08, len(shape)]) + np.asarray(shape, dtype=">u4").tobytes()


def _bomb(shape, inflated):
    """A gzip member holding the header of ``shape`` then ``inflated`` zero bytes (written a
    chunk at a time: the test itself never holds the inflated payload)."""
    c = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [c.compress(_header(shape))]
    zeros = bytes(1 << 20)
    for _ in range(inflated >> 20):
        parts.append(c.compress(zeros))
    parts.append(c.flush())
    return b"".join(parts)


def test_gzip_inflating_past_the_header_is_refused_early(tmp_path):
    path = tmp_path / "bomb-idx1-ubyte.gz"
    path.write_bytes(_bomb((10, 28, 28), 256 << 20))  # a ~250 KB file, 256 MiB inflated
    assert path.stat().st_size < 1 << 20
    tracemalloc.start()
    try:
        with pytest.raises(DataFileError, match="trailing bytes.*inflates to more"):
            read_idx(str(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, f"peak {peak} bytes"


def test_gzip_absurd_header_is_reported_as_truncated(tmp_path):
    path = tmp_path / "huge-header.gz"
    path.write_bytes(gzip.compress(_header((0xFFFFFFFF,) * 4) + bytes(100)))
    with pytest.raises(DataFileError, match="truncated"):
        read_idx(str(path))


@pytest.mark.parametrize("padding", [b"", b"\0" * 7])
def test_multi_member_and_padded_gzip_still_read(tmp_path, padding):
    arr = (np.arange(2 * 33 * 7) % 251).astype(np.uint8).reshape(2, 33, 7)
    payload = _header(arr.shape) + arr.tobytes()
    path = tmp_path / "multi.gz"
    path.write_bytes(gzip.compress(payload[:50]) + gzip.compress(payload[50:]) + padding)
    got = read_idx(str(path))
    np.testing.assert_array_equal(got, arr)
    assert not got.flags.writeable
    # one byte more than the header says, in a second member, is refused
    path2 = tmp_path / "multi-long.gz"
    path2.write_bytes(gzip.compress(payload) + gzip.compress(b"\1"))
    with pytest.raises(DataFileError, match="trailing bytes"):
        read_idx(str(path2))
