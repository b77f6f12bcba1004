"""Gradient buckets: parameters' gradients copied into a few contiguous buffers, so that MPI
sends a few large messages instead of one per parameter. A bucket holds parameters of one dtype
and device, in the order their gradients are expected to become final (last layer first), up to
a byte cap; it is reduced as soon as its last gradient has arrived."""

import importlib

import numpy as np


def _empty_like(arr, n):
    if isinstance(arr, np.ndarray):
        return np.empty(n, arr.dtype)
    cuda = importlib.import_module("fastnn._cuda")
    return cuda.empty(n, arr.dtype, arr.device)


def _segment(flat, off, n):
    return flat[off : off + n] if isinstance(flat, np.ndarray) else flat.narrow0(off, off + n)


class Bucket:
    __slots__ = ("flat", "index", "missing", "params", "slots", "work")

    def __init__(self, index, params):
        self.index = index
        self.params = params
        self.slots = {}  # id(param) -> (offset, numel)
        off = 0
        for p in params:
            self.slots[id(p)] = (off, p._data.size)
            off += p._data.size
        self.flat = _empty_like(params[0]._data, off)
        self.missing = set()
        self.work = None

    def reset(self):
        self.missing = {id(p) for p in self.params}
        self.work = None

    def put(self, p, g):
        """Copy gradient array ``g`` of ``p`` into its slot (``None``: zeros)."""
        off, n = self.slots[id(p)]
        seg = _segment(self.flat, off, n)
        if isinstance(seg, np.ndarray):
            if g is None:
                seg.fill(0)
            else:
                seg[...] = g.reshape(n)
        elif g is None:
            seg.fill_(0.0)
        else:
            seg.copy_(g.reshape(n))
        self.missing.discard(id(p))

    def get_into(self, p, g):
        """Copy ``p``'s reduced slot into gradient array ``g`` (same shape as ``p``)."""
        off, n = self.slots[id(p)]
        seg = _segment(self.flat, off, n)
        if isinstance(g, np.ndarray):
            g[...] = seg.reshape(g.shape)
        else:
            g.copy_(seg.reshape(g.shape))

    def slot_copy(self, p):
        off, n = self.slots[id(p)]
        seg = _segment(self.flat, off, n)
        return (
            seg.reshape(p._data.shape).copy()
            if isinstance(seg, np.ndarray)
            else seg.clone().reshape(p._data.shape)
        )


def build(params, cap_bytes):
    """Buckets over ``params`` (given in the order gradients become final), each holding one
    dtype/device and at most ``cap_bytes`` (a larger single parameter gets its own bucket)."""
    buckets, cur, cur_bytes, key = [], [], 0, None
    for p in params:
        k = (str(p._data.dtype), type(p._data).__name__, getattr(p._data, "device", None))
        nb = p._data.nbytes
        if cur and (k != key or cur_bytes + nb > cap_bytes):
            buckets.append(Bucket(len(buckets), cur))
            cur, cur_bytes = [], 0
        cur.append(p)
        cur_bytes += nb
        key = k
    if cur:
        buckets.append(Bucket(len(buckets), cur))
    return buckets
