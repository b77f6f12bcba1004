"""Out-of-bounds write guards for kernel tests.

A kernel that writes past the end (or before the start) of its output corrupts whatever the
allocator placed next to it, and a plain comparison of the output never sees that. These helpers
give the kernel an output that lives inside a larger buffer filled with a sentinel, and check
after the call that every sentinel outside the output is bit-for-bit intact and that every
element of the output was written.

    out, check = guarded_output((33, 7), np.float32)
    kernel(x, out=out)
    y = check("kernel")  # fails on a stray write or an unwritten element; y is out as numpy

For kernels that take no ``out=`` (they allocate their result), ``in_sentinel_block`` plants the
sentinel in the allocator block the result will get and checks the block's tail past the result.

The helpers work on numpy arrays too (``device=False``), which is how their own tests prove they
catch a stray write without a GPU.
"""

import numpy as np
import pytest

# NaN with a payload no arithmetic produces (operations on NaN give the canonical quiet NaN or
# keep an input's payload), so a written NaN is never mistaken for the sentinel.
_SENTINEL_BITS = {
    np.dtype(np.float32): np.uint32(0x7FC0BEEF),
    np.dtype(np.float64): np.uint64(0x7FF8DEADBEEF5A5A),
    np.dtype(np.int64): np.uint64(0xA5A5A5A5A5A5A5A5),
    np.dtype(np.int32): np.uint32(0xA5A5A5A5),
    np.dtype(np.uint8): np.uint8(0xA5),
    np.dtype(np.bool_): np.uint8(0xA5),  # not 0 or 1: no bool store writes it
}
_UINT = {1: np.uint8, 4: np.uint32, 8: np.uint64}


def _bits(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    return a.view(_UINT[a.dtype.itemsize])


def sentinel_array(n: int, dtype) -> np.ndarray:
    """n elements of `dtype` holding the sentinel bit pattern."""
    dtype = np.dtype(dtype)
    return np.full(n, _SENTINEL_BITS[dtype], _UINT[dtype.itemsize]).view(dtype)


def _upload(host: np.ndarray, device: bool):
    if not device:
        return host.copy()
    from fastnn import cuda

    return cuda.from_numpy(host)


def _download(a, device: bool) -> np.ndarray:
    return a.numpy() if device else np.asarray(a)


def _flat_view(buf, lo: int, hi: int, shape, device: bool):
    if device:
        return buf.narrow0(lo, hi).reshape(tuple(shape))
    return buf[lo:hi].reshape(shape)


def guarded_output(shape, dtype, *, pad: int = 64, device: bool = True):
    """(out, check): `out` is a C-contiguous array of `shape` and `dtype` at element offset
    `pad` inside a buffer of pad + size + pad elements, all holding the sentinel. Use an odd
    `pad` to give the kernel an output that is not 16-byte aligned.

    check(name, written=True) fails the test when any element outside `out` changed, or (with
    written=True) when an element of `out` still holds the sentinel; it returns out as numpy."""
    shape = tuple(int(d) for d in shape)
    dtype = np.dtype(dtype)
    size = int(np.prod(shape, dtype=np.int64))
    total = pad + size + pad
    buf = _upload(sentinel_array(total, dtype), device)
    out = _flat_view(buf, pad, pad + size, shape, device)
    expect = _bits(sentinel_array(1, dtype))[0]

    def check(name: str = "kernel", *, written: bool = True) -> np.ndarray:
        bits = _bits(_download(buf, device))
        outside = np.concatenate([bits[:pad], bits[pad + size :]])
        bad = np.flatnonzero(outside != expect)
        if bad.size:
            where = [int(i) - pad if i < pad else int(i) - pad + size for i in bad[:5]]
            pytest.fail(
                f"{name}: wrote {bad.size} element(s) outside its output of shape {shape} "
                f"({dtype}); element offsets relative to the output: {where} "
                f"(negative: before it; >= {size}: past its end)"
            )
        inside = bits[pad : pad + size]
        if written:
            missed = np.flatnonzero(inside == expect)
            if missed.size:
                idx = [np.unravel_index(int(i), shape) for i in missed[:5]]
                pytest.fail(
                    f"{name}: left {missed.size} of {size} output element(s) unwritten "
                    f"(still the sentinel), first at {idx}"
                )
        return inside.view(dtype).reshape(shape).copy()

    return out, check


def in_sentinel_block(make, nbytes: int, dtype, *, name: str = "kernel"):
    """Runs make() -> a new DeviceArray of `nbytes` bytes, with the allocator block it will get
    filled with the sentinel first, and fails when make() wrote into the block past its result.

    The caching allocator hands out the most recently freed block of a size class first, so a
    sentinel buffer of the result's size class, freed just before the call, is the block the
    result lands in; the test fails (rather than silently checking nothing) when it does not."""
    from fastnn import cuda

    dtype = np.dtype(dtype)
    block = cuda._require().size_class(nbytes)
    count = block // dtype.itemsize
    probe = cuda.from_numpy(sentinel_array(count, dtype))
    ptr = probe.data_ptr
    view = _RawView(ptr, count, dtype)  # reads the block after `probe` is gone
    del probe
    result = make()
    assert result.data_ptr == ptr, (
        f"{name}: the result did not reuse the sentinel block (the allocator's reuse order "
        f"changed, or {name} allocated scratch memory of the same size class first)"
    )
    used = result.nbytes // dtype.itemsize
    bits = _bits(cuda.as_device_array(view).numpy())
    expect = _bits(sentinel_array(1, dtype))[0]
    bad = np.flatnonzero(bits[used:] != expect)
    if bad.size:
        pytest.fail(
            f"{name}: wrote {bad.size} element(s) past the end of its {used}-element result "
            f"(offsets {[int(i) + used for i in bad[:5]]})"
        )
    return result


class _RawView:
    """A non-owning __cuda_array_interface__ over device memory the allocator keeps alive."""

    def __init__(self, ptr: int, count: int, dtype):
        self.__cuda_array_interface__ = {
            "shape": (count,),
            "typestr": np.dtype(dtype).str,
            "data": (ptr, False),
            "version": 3,
            "strides": None,
        }
