"""The Python layer on bad input: fastnn.load on corrupt files, IDX files with absurd headers,
DataLoader over a failing dataset, Tensor ops with mismatched operands. Clear errors only."""

import io
import json
import random
import zipfile

import numpy as np
import pytest

import fastnn
from fastnn.datasets import _idx
from fastnn.utils.data import DataLoader, Dataset

# ---- fastnn.load ---------------------------------------------------------------------------------


def _checkpoint():
    buf = io.BytesIO()
    fastnn.save({"w": fastnn.ones(3, 4), "b": np.arange(5.0), "meta": {"epoch": 3}}, buf)
    return buf.getvalue()


def _zip(manifest, npy=None):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("manifest.json", manifest if isinstance(manifest, str) else json.dumps(manifest))
        if npy is not None:
            z.writestr("arrays/0.npy", npy)
    buf.seek(0)
    return buf


def _npy(shape, descr="<f8", data=b""):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False,
                                               "shape": shape})
    return buf.getvalue() + data


def test_load_truncated_and_bit_flipped_files_raise_clear_errors():
    raw = _checkpoint()
    rnd = random.Random(0)
    for i in range(200):
        b = bytearray(raw)
        if i % 2:
            b = b[: rnd.randrange(len(b))]
        else:
            for _ in range(rnd.randint(1, 4)):
                j = rnd.randrange(len(b))
                b[j] ^= 1 << rnd.randrange(8)
        try:
            fastnn.load(io.BytesIO(bytes(b)))
        except RuntimeError as e:
            assert "fastnn.load" in str(e) and "not a valid fastnn checkpoint" in str(e)


@pytest.mark.parametrize("manifest,npy,what", [
    ("[]", None, "the manifest is a list"),  # was AttributeError
    ('{"format": "fastnn", "arrays": Infinity, "root": 1}', None, "OverflowError"),
    ('{"format": "fastnn", "arrays": 0, "root": ' + "[" * 100000 + "]" * 100000 + "}", None,
     "RecursionError"),
    # a header claiming 8 TiB: was a MemoryError after trying to allocate it
    ({"format": "fastnn", "arrays": 1, "root": {"__ndarray__": 0}}, _npy((2**40,)),
     r"header says shape \(1099511627776,\)"),
    ({"format": "fastnn", "arrays": 1, "root": {"__ndarray__": 0}}, _npy((3,), data=b"\0" * 16),
     "24 bytes.*holds 16 bytes"),
    # index -1 silently returned the last array
    ({"format": "fastnn", "arrays": 1, "root": {"__tensor__": -1}}, _npy((1,), data=b"\0" * 8),
     "array index -1 out of range"),
    ({"format": "fastnn", "arrays": 1, "root": {"__tensor__": True}}, _npy((1,), data=b"\0" * 8),
     "array index True out of range"),
    # a tensor of strings was returned as if valid
    ({"format": "fastnn", "arrays": 1, "root": {"__tensor__": 0}}, _npy((1,), "<U3", b"\0" * 12),
     "a tensor of dtype <U3"),
])
def test_load_crafted_manifests_raise_clear_errors(manifest, npy, what):
    with pytest.raises(RuntimeError, match="fastnn.load: .*" + what):
        fastnn.load(_zip(manifest, npy))


def test_load_round_trip_still_works():
    obj = fastnn.load(io.BytesIO(_checkpoint()))
    np.testing.assert_array_equal(obj["w"].numpy(), np.ones((3, 4), np.float32))
    np.testing.assert_array_equal(obj["b"], np.arange(5.0))
    assert obj["meta"] == {"epoch": 3}
