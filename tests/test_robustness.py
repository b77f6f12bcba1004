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
    np.lib.format.write_array_header_1_0(
        buf, {"descr": descr, "fortran_order": False, "shape": shape}
    )
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


@pytest.mark.parametrize(
    "manifest,npy,what",
    [
        ("[]", None, "the manifest is a list"),  # was AttributeError
        ('{"format": "fastnn", "arrays": Infinity, "root": 1}', None, "OverflowError"),
        (
            '{"format": "fastnn", "arrays": 0, "root": ' + "[" * 100000 + "]" * 100000 + "}",
            None,
            "RecursionError",
        ),
        # a header claiming 8 TiB: was a MemoryError after trying to allocate it
        (
            {"format": "fastnn", "arrays": 1, "root": {"__ndarray__": 0}},
            _npy((2**40,)),
            r"header says shape \(1099511627776,\)",
        ),
        (
            {"format": "fastnn", "arrays": 1, "root": {"__ndarray__": 0}},
            _npy((3,), data=b"\0" * 16),
            "24 bytes.*holds 16 bytes",
        ),
        # index -1 silently returned the last array
        (
            {"format": "fastnn", "arrays": 1, "root": {"__tensor__": -1}},
            _npy((1,), data=b"\0" * 8),
            "array index -1 out of range",
        ),
        (
            {"format": "fastnn", "arrays": 1, "root": {"__tensor__": True}},
            _npy((1,), data=b"\0" * 8),
            "array index True out of range",
        ),
        # a tensor of strings was returned as if valid
        (
            {"format": "fastnn", "arrays": 1, "root": {"__tensor__": 0}},
            _npy((1,), "<U3", b"\0" * 12),
            "a tensor of dtype <U3",
        ),
    ],
)
def test_load_crafted_manifests_raise_clear_errors(manifest, npy, what):
    with pytest.raises(RuntimeError, match="fastnn.load: .*" + what):
        fastnn.load(_zip(manifest, npy))


def test_load_round_trip_still_works():
    obj = fastnn.load(io.BytesIO(_checkpoint()))
    np.testing.assert_array_equal(obj["w"].numpy(), np.ones((3, 4), np.float32))
    np.testing.assert_array_equal(obj["b"], np.arange(5.0))
    assert obj["meta"] == {"epoch": 3}


# ---- IDX files with absurd headers --------------------------------------------------------------


def _idx_file(tmp_path, dims, payload=b""):
    path = tmp_path / "f.idx"
    path.write_bytes(bytes([0, 0, 0x08, len(dims)]) + np.asarray(dims, ">u4").tobytes() + payload)
    _idx._CACHE.clear()
    return str(path)


@pytest.mark.parametrize(
    "dims,payload,size",
    [
        ((2**31, 28, 28), b"\0" * 10, 2**31 * 28 * 28 + 16),
        ((2**32 - 1,) * 3, b"", (2**32 - 1) ** 3 + 16),
        # an int64 product wrapped to 0: a header-only file "matched" and reshape raised a bare
        # ValueError; with a payload the message claimed 20 bytes
        ((2**16,) * 4, b"", 2**64 + 20),
        ((2**16,) * 4, b"\0" * 10, 2**64 + 20),
    ],
)
def test_idx_absurd_dimensions_are_data_file_errors(tmp_path, dims, payload, size):
    with pytest.raises(_idx.DataFileError, match=f"header says shape .*\\({size} bytes in all\\)"):
        _idx.read_idx(_idx_file(tmp_path, dims, payload))


# ---- DataLoader over a failing dataset ----------------------------------------------------------


class _Failing(Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        if i == 5:
            raise KeyError("boom at 5")
        return np.float32(i)


@pytest.mark.parametrize("workers", [0, 2])
def test_dataloader_propagates_the_datasets_exception(workers):
    import threading

    before = threading.active_count()
    loader = DataLoader(_Failing(), batch_size=2, num_workers=workers)
    got = []
    with pytest.raises(KeyError, match="boom at 5"):
        for batch in loader:
            got.append(batch)  # noqa: PERF402 (keeps the batches before the error)
    assert len(got) <= 2  # the batches before the failing one, never one past it
    for _ in range(50):  # worker threads wind down
        if threading.active_count() <= before:
            break
        import time

        time.sleep(0.02)
    assert threading.active_count() <= before


# ---- Tensor ops --------------------------------------------------------------------------------


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [2, 3, -3])
def test_softmax_dim_out_of_range_is_index_error(fn, dim):
    # dim % ndim silently used axis 0 for dim=2 on a 2-D input (torch: IndexError)
    import fastnn.nn.functional as F

    x = fastnn.randn(3, 4)
    with pytest.raises(
        IndexError,
        match=r"Dimension out of range \(expected to be in range of "
        rf"\[-2, 1\], but got {dim}\)",
    ):
        getattr(F, fn)(x, dim=dim)
    with pytest.raises(IndexError, match="Dimension out of range"):
        getattr(x, fn)(dim)


def test_tensor_op_errors_name_shapes_and_dtypes():
    import fastnn.nn.functional as F

    a = fastnn.randn(3, 4)
    with pytest.raises(RuntimeError, match=r"\(3, 4\).*\(4, 3\)"):
        a + fastnn.randn(4, 3)
    with pytest.raises(RuntimeError, match="3x4 and 3x4"):
        a @ a
    with pytest.raises(RuntimeError, match="same dtype.*float32.*float64"):
        a @ fastnn.randn(4, 2, dtype=fastnn.float64)
    assert (a + fastnn.randn(3, 4, dtype=fastnn.float64)).dtype == fastnn.float64  # promotes
    with pytest.raises(RuntimeError, match="expected scalar type Long but found Float"):
        F.cross_entropy(a, fastnn.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(IndexError, match="target\\[2\\] = 9 is out of range for 4 classes"):
        F.cross_entropy(a, fastnn.tensor([0, 1, 9]))
    with pytest.raises(ValueError, match="batch_size \\(3\\).*batch_size \\(2\\)"):
        F.cross_entropy(a, fastnn.tensor([0, 1]))


def test_functional_ops_reject_non_tensors_with_type_error():
    import fastnn.nn.functional as F

    with pytest.raises(TypeError, match="must be Tensors, got \\(list\\)"):
        F.relu([1.0, 2.0])


def test_modulelist_insert_of_non_module_leaves_the_list_intact():
    from fastnn import nn

    ml = nn.ModuleList([nn.ReLU(), nn.Tanh()])
    with pytest.raises(TypeError, match="not a Module subclass"):
        ml.insert(1, "relu")
    assert [type(m).__name__ for m in ml] == ["ReLU", "Tanh"]


def test_load_refuses_compressed_entries(tmp_path):
    """save() writes stored entries; a deflated one (a possible zip bomb) is refused unread."""
    good = tmp_path / "good.fnn"
    fastnn.save({"w": fastnn.ones(3)}, good)
    bomb = tmp_path / "bomb.fnn"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
    with pytest.raises(RuntimeError, match="compressed"):
        fastnn.load(bomb)
    assert fastnn.load(good)["w"].shape == (3,)
