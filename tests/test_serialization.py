"""fastnn.save / fastnn.load: round trips, no pickle, clear errors on corrupt files, atomic save."""

import collections
import io
import os
import pickle
import zipfile

import numpy as np
import pytest

import fastnn


def _state():
    return collections.OrderedDict(
        [
            ("layer.weight", fastnn.randn(3, 4)),
            ("layer.bias", fastnn.zeros(3, dtype=fastnn.float64, requires_grad=True)),
            ("steps", fastnn.tensor(7)),
        ]
    )


def test_round_trip_state_dict(tmp_path):
    sd = _state()
    path = tmp_path / "model.fnn"
    fastnn.save(sd, path)
    back = fastnn.load(path)
    assert isinstance(back, collections.OrderedDict) and list(back) == list(sd)
    for k in sd:
        assert back[k].dtype == sd[k].dtype and back[k].shape == sd[k].shape
        np.testing.assert_array_equal(back[k].detach().numpy(), sd[k].detach().numpy())
    assert back["layer.bias"].requires_grad


def test_round_trip_optimizer_like_state(tmp_path):
    state = {
        "state": {
            0: {"step": 3, "exp_avg": fastnn.ones(2), "exp_avg_sq": fastnn.zeros(2)},
            1: {"step": 3, "momentum_buffer": None},
        },
        "param_groups": [
            {
                "lr": 1e-3,
                "betas": (0.9, 0.999),
                "params": [0, 1],
                "name": "g0",
                "amsgrad": False,
                "eps": float("inf"),
            }
        ],
        "array": np.arange(3, dtype=np.int32),
        "scalar": np.float32(2.5),
    }
    path = os.fspath(tmp_path / "opt.fnn")
    fastnn.save(state, path)
    back = fastnn.load(path)
    assert set(back["state"]) == {0, 1}  # int keys survive
    assert back["state"][0]["step"] == 3 and back["state"][1]["momentum_buffer"] is None
    assert back["param_groups"][0]["betas"] == (0.9, 0.999)
    assert back["param_groups"][0]["eps"] == float("inf")
    assert back["array"].dtype == np.int32 and back["scalar"] == np.float32(2.5)
    assert back["state"][0]["exp_avg"].tolist() == [1.0, 1.0]


def test_file_objects():
    buf = io.BytesIO()
    fastnn.save({"w": fastnn.ones(2)}, buf)
    buf.seek(0)
    assert fastnn.load(buf)["w"].tolist() == [1.0, 1.0]


def test_unpicklable_objects_raise(tmp_path):
    # anything beyond tensors and containers is pickled (as torch.save does); what pickle
    # cannot store raises pickle's own error, before the file is touched
    with pytest.raises((AttributeError, pickle.PicklingError), match="pickle"):
        fastnn.save({"f": lambda: 0}, tmp_path / "x.fnn")
    assert list(tmp_path.iterdir()) == []  # no temp file left behind


def test_no_pickle_inside(tmp_path):
    path = tmp_path / "m.fnn"
    fastnn.save(_state(), path)
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
    assert "manifest.json" in names and all(n.endswith((".npy", ".json")) for n in names)
    evil = tmp_path / "evil.fnn"
    with zipfile.ZipFile(evil, "w") as z:
        z.writestr(
            "manifest.json",
            '{"format": "fastnn", "version": 1, "arrays": 1, "root": {"__ndarray__": 0}}',
        )
        b = io.BytesIO()
        np.save(b, np.array([object()], dtype=object), allow_pickle=True)
        z.writestr("arrays/0.npy", b.getvalue())
    with pytest.raises(RuntimeError, match="evil.fnn"):
        fastnn.load(evil)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "flip", "not_fastnn"])
def test_corrupt_files_raise_naming_the_file(tmp_path, damage):
    path = tmp_path / "ckpt.fnn"
    fastnn.save(_state(), path)
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(b"hello world" * 10)
    elif damage == "flip":  # corrupt array bytes: the zip CRC catches it
        i = data.index(b"\x93NUMPY") + 130  # inside the first array's data
        path.write_bytes(data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1 :])
    else:
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("manifest.json", '{"format": "other"}')
    with pytest.raises(RuntimeError, match="ckpt.fnn"):
        fastnn.load(path)


def test_crash_mid_save_keeps_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.fnn"
    fastnn.save({"v": fastnn.tensor([1.0])}, path)
    calls = {"n": 0}
    real = np.lib.format.write_array

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full (simulated)")
        return real(*args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", failing)
    with pytest.raises(OSError, match="simulated"):
        fastnn.save({"a": fastnn.tensor([2.0]), "b": fastnn.tensor([3.0])}, path)
    monkeypatch.undo()
    assert fastnn.load(path)["v"].tolist() == [1.0]
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.fnn"]


def test_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        fastnn.load(tmp_path / "nope.fnn")
