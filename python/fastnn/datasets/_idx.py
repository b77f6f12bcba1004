"""Reading and validating IDX files (the MNIST family's format), gzip-compressed or raw.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions),
then one big-endian uint32 per dimension, then the data in C order. The MNIST files use type 0x08
(unsigned byte): images are (N, rows, cols), labels are (N,).
"""

import gzip
import math
import os
import sys
import threading
import zlib
from collections import OrderedDict

import numpy as np

_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


class DataFileError(ValueError):
    """A data file is corrupt, truncated or not what its name says it is."""


# Decompressing the 47 MB MNIST image file takes a noticeable fraction of a second; several
# datasets over the same file (train / val splits, repeated construction) share one read-only copy.
_CACHE: "OrderedDict[tuple, np.ndarray]" = OrderedDict()
_CACHE_SIZE = 8
_CACHE_LOCK = threading.Lock()


def _size_so_far(buf) -> "int | None":
    """How many bytes the file may hold, judging by the ``len(buf)`` bytes read so far: the
    magic number's 4 until it is read, then the header's, then the whole size the header
    declares. None when the magic number is bad (``_parse`` says why)."""
    if len(buf) < 4:
        return 4
    if buf[0] != 0 or buf[1] != 0 or buf[2] not in _TYPES or buf[3] == 0:
        return None
    header = 4 + 4 * buf[3]
    if len(buf) < header:
        return header
    dims = np.frombuffer(bytes(buf[4:header]), dtype=">u4")
    return header + math.prod(int(d) for d in dims) * _TYPES[buf[2]].itemsize


def _inflate(path: str, raw: bytes) -> bytearray:
    """The gzip file ``raw`` inflated, never past the size its IDX header declares: a small file
    that inflates to far more (a corrupt or hostile one) is refused at that size."""
    out = bytearray()
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)  # a gzip container
    data = raw
    while True:
        cap = _size_so_far(out)
        if cap is None:
            return out
        if len(out) > cap:
            raise DataFileError(
                f"{path}: IDX file has trailing bytes: its header says {cap} bytes in all, the "
                f"gzip data inflates to more ({len(raw)} bytes on disk). Delete it and download "
                "it again."
            )
        if d.eof:
            if not d.unused_data.strip(b"\0"):  # the end (or gzip's zero padding)
                return out
            data = d.unused_data  # a multi-member gzip file (legal, rare)
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            continue
        if not data:
            raise DataFileError(
                f"{path}: truncated gzip file (the compressed stream ends early; "
                f"{len(raw)} bytes on disk). Delete it and download it again."
            )
        # one byte past the cap tells "too long" from "exactly right"
        out += d.decompress(data, min(cap + 1 - len(out), sys.maxsize))
        data = d.unconsumed_tail


def _read_bytes(path: str):
    with open(path, "rb") as f:
        raw = f.read()
    if not raw.startswith(b"\x1f\x8b"):
        return raw
    try:
        return _inflate(path, raw)
    except zlib.error as e:
        raise DataFileError(
            f"{path}: corrupt gzip data ({e}). Delete it and download it again."
        ) from e


def read_idx(path: str) -> np.ndarray:
    """The array stored in an IDX file (``.gz`` or raw), read-only, native byte order.

    Raises DataFileError when the magic number, the header or the file size is wrong.
    """
    st = os.stat(path)
    key = (os.path.realpath(path), st.st_ino, st.st_size, st.st_mtime_ns)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    arr = _parse(path, _read_bytes(path))
    with _CACHE_LOCK:
        _CACHE[key] = arr
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return arr


def _parse(path: str, buf) -> np.ndarray:
    if len(buf) < 4:
        raise DataFileError(f"{path}: too short for an IDX file ({len(buf)} bytes)")
    if buf[0] != 0 or buf[1] != 0 or buf[2] not in _TYPES or buf[3] == 0:
        raise DataFileError(
            f"{path}: bad IDX magic number 0x{buf[:4].hex()} (expected 0x0000TTNN: type code TT "
            f"in {sorted(_TYPES)}, NN dimensions); not an IDX file"
        )
    dtype, ndim = _TYPES[buf[2]], buf[3]
    header = 4 + 4 * ndim
    if len(buf) < header:
        raise DataFileError(f"{path}: truncated IDX header ({len(buf)} of {header} bytes)")
    dims = tuple(int(d) for d in np.frombuffer(buf, dtype=">u4", count=ndim, offset=4))
    # Python ints: an int64 product of up to 255 uint32 dims wraps (2**16 x 4 gives 0).
    expected = header + math.prod(dims) * dtype.itemsize
    if len(buf) != expected:
        what = "truncated" if len(buf) < expected else "has trailing bytes"
        raise DataFileError(
            f"{path}: IDX file {what}: header says shape {dims} ({expected} bytes in all), "
            f"the file holds {len(buf)} bytes"
        )
    arr = np.frombuffer(buf, dtype=dtype, offset=header).reshape(dims)
    if dtype.byteorder == ">":
        arr = arr.astype(dtype.newbyteorder("="))
    arr.flags.writeable = False  # shared through the cache (an inflated file is a bytearray)
    return arr


def load_pair(images_path: str, labels_path: str, image_shape=(28, 28), num_classes=10):
    """(images uint8 (N, *image_shape), labels uint8 (N,)), checked against each other."""
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if (
        images.dtype != np.uint8
        or images.ndim != 1 + len(image_shape)
        or (images.shape[1:] != tuple(image_shape))
    ):
        raise DataFileError(
            f"{images_path}: expected uint8 images of shape (N, {', '.join(map(str, image_shape))})"
            f", got {images.dtype} {images.shape}"
        )
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DataFileError(
            f"{labels_path}: expected a 1-d uint8 label file, got {labels.dtype} {labels.shape}"
        )
    if images.shape[0] != labels.shape[0]:
        raise DataFileError(
            f"{images_path} holds {images.shape[0]} images but {labels_path} holds "
            f"{labels.shape[0]} labels"
        )
    if labels.size and int(labels.max()) >= num_classes:
        bad = int(np.argmax(labels >= num_classes))
        raise DataFileError(
            f"{labels_path}: label {int(labels[bad])} at index {bad} is out of range "
            f"[0, {num_classes})"
        )
    return images, labels


def write_idx(path: str, arr: np.ndarray, compress=None) -> None:
    """Write ``arr`` (uint8) as an IDX file; gzip-compressed when the name ends in .gz."""
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    head = bytes([0, 0, 0x08, arr.ndim]) + np.asarray(arr.shape, dtype=">u4").tobytes()
    payload = head + arr.tobytes()
    if compress is None:
        compress = path.endswith(".gz")
    if compress:
        payload = gzip.compress(payload, compresslevel=1)
    with open(path, "wb") as f:
        f.write(payload)
