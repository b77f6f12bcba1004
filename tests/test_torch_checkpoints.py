"""PyTorch checkpoints and safetensors files: fastnn.load reads torch.save's zip format without
torch and without running code from the file; save_torch and the safetensors helpers write
files torch reads. The hostile files are built by hand from pickle opcodes, never with torch."""

import collections
import io
import os
import pickle
import sys
import zipfile

import numpy as np
import pytest

import fastnn
from fastnn.serialization import load_file, save_file, save_torch

# ---- hand-built torch checkpoints --------------------------------------------------------------


def _p(value):
    """The opcodes that push a plain value (no PROTO, no STOP)."""
    return pickle.dumps(value, protocol=2)[2:-1]


def _global(module, name):
    return pickle.GLOBAL + f"{module}\n{name}\n".encode()


def _tensor_ops(key, numel, size, stride, offset=0, storage="FloatStorage", location="cpu"):
    pid = (
        pickle.MARK
        + _p("storage")
        + _global("torch", storage)
        + _p(key)
        + _p(location)
        + _p(numel)
        + pickle.TUPLE
        + pickle.BINPERSID
    )
    hooks = _global("collections", "OrderedDict") + pickle.EMPTY_TUPLE + pickle.REDUCE
    args = _p(offset) + _p(tuple(size)) + _p(tuple(stride)) + pickle.NEWFALSE + hooks
    return (
        _global("torch._utils", "_rebuild_tensor_v2")
        + pickle.MARK
        + pid
        + args
        + pickle.TUPLE
        + pickle.REDUCE
    )


def _dict_pickle(items):
    """A pickled dict of key -> opcodes of its value."""
    body = b"".join(_p(k) + v for k, v in items.items())
    return b"\x80\x02" + pickle.EMPTY_DICT + pickle.MARK + body + pickle.SETITEMS + pickle.STOP


def _torch_zip(path, data_pkl, storages=(), byteorder=b"little", version=b"3\n"):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("ckpt/data.pkl", data_pkl)
        if byteorder is not None:
            z.writestr("ckpt/byteorder", byteorder)
        for key, raw in dict(storages).items():
            z.writestr(f"ckpt/data/{key}", raw)
        z.writestr("ckpt/version", version)
    return path


def _float_storage(*values):
    return np.array(values, "<f4").tobytes()


def test_hand_built_checkpoint_loads(tmp_path):
    data = _dict_pickle(
        {
            "w": _tensor_ops("0", 6, (2, 3), (3, 1)),
            "w_t": _tensor_ops("0", 6, (3, 2), (1, 3)),
            "tail": _tensor_ops("0", 6, (2,), (2,), offset=3),
            "epoch": _p(3),
        }
    )
    path = _torch_zip(tmp_path / "ok.pt", data, {"0": _float_storage(0, 1, 2, 3, 4, 5)})
    d = fastnn.load(path)
    assert d["epoch"] == 3
    assert d["w"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert d["w_t"].tolist() == [[0, 3], [1, 4], [2, 5]]
    assert d["tail"].tolist() == [3, 5]
    d["w"][1, 0] = 30.0  # one storage, several views: they stay one memory
    assert d["w_t"][0, 1].item() == 30.0 and d["tail"][0].item() == 30.0


# ---- real torch files --------------------------------------------------------------------------


def _mlp(lib):
    return lib.nn.Sequential(
        lib.nn.Flatten(), lib.nn.Linear(784, 64), lib.nn.ReLU(), lib.nn.Linear(64, 10)
    )


def _cnn(lib):
    return lib.nn.Sequential(
        lib.nn.Conv2d(1, 4, 3, padding=1),
        lib.nn.ReLU(),
        lib.nn.MaxPool2d(2),
        lib.nn.Conv2d(4, 6, 3, stride=2),
        lib.nn.ReLU(),
        lib.nn.Flatten(),
        lib.nn.Linear(6 * 6 * 6, 10),
    )


def _trained(torch, make):
    torch.manual_seed(0)
    model = make(torch)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    x, y = torch.randn(16, 1, 28, 28), torch.randint(0, 10, (16,))
    for _ in range(3):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return model, opt


@pytest.mark.parametrize("make", [_mlp, _cnn], ids=["mlp", "cnn"])
def test_torch_state_dict_loads_into_the_same_fastnn_model(tmp_path, make):
    torch = pytest.importorskip("torch")
    model, _ = _trained(torch, make)
    path = tmp_path / "model.pt"
    torch.save(model.state_dict(), path)

    ours = make(fastnn)
    ours.load_state_dict(fastnn.load(path))
    x = np.random.default_rng(1).standard_normal((5, 1, 28, 28)).astype(np.float32)
    with torch.no_grad():
        want = model(torch.from_numpy(x)).numpy()
    got = ours(fastnn.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("make", [_mlp, _cnn], ids=["mlp", "cnn"])
@pytest.mark.parametrize("via", ["save_torch", "safetensors"])
def test_fastnn_weights_load_back_into_torch(tmp_path, make, via):
    torch = pytest.importorskip("torch")
    if via == "safetensors":
        st = pytest.importorskip("safetensors.torch")
    fastnn.manual_seed(3)
    ours = make(fastnn)
    theirs = make(torch)
    if via == "save_torch":
        save_torch(ours.state_dict(), tmp_path / "m.pt")
        sd = torch.load(tmp_path / "m.pt", weights_only=True)
    else:
        save_file(ours.state_dict(), tmp_path / "m.safetensors")
        sd = st.load_file(tmp_path / "m.safetensors")
    theirs.load_state_dict(sd)
    x = np.random.default_rng(2).standard_normal((4, 1, 28, 28)).astype(np.float32)
    with torch.no_grad():
        want = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(
        ours(fastnn.from_numpy(x)).detach().numpy(), want, rtol=1e-5, atol=1e-5
    )


def test_torch_safetensors_file_loads_into_fastnn(tmp_path):
    torch = pytest.importorskip("torch")
    st = pytest.importorskip("safetensors.torch")
    model, _ = _trained(torch, _mlp)
    st.save_file(model.state_dict(), tmp_path / "m.safetensors")
    ours = _mlp(fastnn)
    ours.load_state_dict(load_file(tmp_path / "m.safetensors"))
    x = np.ones((2, 1, 28, 28), np.float32)
    with torch.no_grad():
        want = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(
        ours(fastnn.from_numpy(x)).detach().numpy(), want, rtol=1e-5, atol=1e-5
    )


def test_training_checkpoint_with_optimizer_state(tmp_path):
    torch = pytest.importorskip("torch")
    model, opt = _trained(torch, _mlp)
    path = tmp_path / "ckpt.pt"
    torch.save({"epoch": 3, "model": model.state_dict(), "optimizer": opt.state_dict()}, path)
    d = fastnn.load(path, map_location="cpu")
    assert d["epoch"] == 3
    assert isinstance(d["model"], collections.OrderedDict)
    assert list(d["model"]) == list(model.state_dict())
    group = d["optimizer"]["param_groups"][0]
    want_group = opt.state_dict()["param_groups"][0]
    assert group == want_group and group["betas"] == (0.9, 0.999)
    state = d["optimizer"]["state"]
    assert sorted(state) == [0, 1, 2, 3]
    for i, p_state in opt.state_dict()["state"].items():
        for k, v in p_state.items():
            np.testing.assert_array_equal(state[i][k].numpy(), v.numpy())


_DTYPES = [
    ("float32", "float32"),
    ("float64", "float64"),
    ("float16", "float16"),
    ("int64", "int64"),
    ("int32", "int32"),
    ("int16", "int16"),
    ("int8", "int8"),
    ("uint8", "uint8"),
    ("bool", "bool"),
]


@pytest.mark.parametrize(("torch_dtype", "np_dtype"), _DTYPES)
def test_dtypes_round_trip_with_torch(tmp_path, torch_dtype, np_dtype):
    torch = pytest.importorskip("torch")
    t = (torch.arange(-6, 6).reshape(3, 4) % 7).to(getattr(torch, torch_dtype))
    torch.save({"t": t, "col": t[:, 1]}, tmp_path / "d.pt")
    d = fastnn.load(tmp_path / "d.pt")
    assert d["t"].dtype == np.dtype(np_dtype)
    np.testing.assert_array_equal(d["t"].numpy(), t.numpy())
    np.testing.assert_array_equal(d["col"].numpy(), t[:, 1].numpy())
    save_torch(d, tmp_path / "back.pt")
    back = torch.load(tmp_path / "back.pt", weights_only=True)
    assert back["t"].dtype == t.dtype and torch.equal(back["t"], t)
    assert torch.equal(back["col"], t[:, 1])


def test_bfloat16_loads_as_float32_with_a_warning_without_ml_dtypes(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    from fastnn._core import dtype as fdtype

    monkeypatch.setattr(fdtype, "bfloat16", None)  # what the module holds without ml_dtypes
    t = torch.tensor([1.5, -2.0, 3.140625, 1e30], dtype=torch.bfloat16)
    torch.save({"b": t}, tmp_path / "b.pt")
    with pytest.warns(UserWarning, match="ml_dtypes"):
        d = fastnn.load(tmp_path / "b.pt")
    assert d["b"].dtype == np.float32
    np.testing.assert_array_equal(d["b"].numpy(), t.float().numpy())


def test_bfloat16_round_trips_through_torch_checkpoints(tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("ml_dtypes")
    t = torch.tensor([1.5, -2.0, 3.140625, 1e30, float("inf")], dtype=torch.bfloat16)
    torch.save({"b": t}, tmp_path / "b.pt")
    d = fastnn.load(tmp_path / "b.pt")
    assert d["b"].dtype == fastnn.bfloat16
    assert d["b"].float().tolist() == t.float().tolist()
    fastnn.serialization.save_torch(d, tmp_path / "back.pt")
    back = torch.load(tmp_path / "back.pt", weights_only=True)["b"]
    assert back.dtype == torch.bfloat16 and torch.equal(back, t)


def test_shared_storage_and_parameters_from_torch(tmp_path):
    torch = pytest.importorskip("torch")
    base = torch.arange(20.0).reshape(4, 5)
    p = torch.nn.Parameter(torch.ones(3))
    torch.save(
        [base, base.t(), base[1:, 2:], base[2], (p, "x", None, 2.5, True)], tmp_path / "v.pt"
    )
    a, at, sub, row, (q, s, none, f, b) = fastnn.load(tmp_path / "v.pt")
    np.testing.assert_array_equal(at.numpy(), base.t().numpy())
    np.testing.assert_array_equal(sub.numpy(), base[1:, 2:].numpy())
    a[2, 3] = -1.0
    assert at[3, 2].item() == -1.0 and sub[1, 1].item() == -1.0 and row[3].item() == -1.0
    assert q.requires_grad and not a.requires_grad
    assert (s, none, f, b) == ("x", None, 2.5, True)


def test_empty_and_scalar_tensors(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"e": torch.empty(0, 3), "s": torch.tensor(7)}, tmp_path / "e.pt")
    d = fastnn.load(tmp_path / "e.pt")
    assert d["e"].shape == (0, 3) and d["s"].shape == () and d["s"].item() == 7


def test_file_objects_and_any_top_folder(tmp_path):
    torch = pytest.importorskip("torch")
    buf = io.BytesIO()
    torch.save({"w": torch.ones(2)}, buf)
    buf.seek(0)
    assert fastnn.load(buf)["w"].tolist() == [1.0, 1.0]
    out = io.BytesIO()
    save_torch({"w": fastnn.full((2,), 3.0)}, out)
    out.seek(0)
    assert torch.load(out, weights_only=True)["w"].tolist() == [3.0, 3.0]


def test_fastnn_format_still_loads(tmp_path):
    fastnn.save({"w": fastnn.ones(2)}, tmp_path / "m.fnn")
    assert fastnn.load(tmp_path / "m.fnn")["w"].tolist() == [1.0, 1.0]


# ---- refused files -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "name", "make_args"),
    [
        ("os", "system", lambda marker: (f"touch {marker}",)),
        ("posix", "system", lambda marker: (f"touch {marker}",)),
        ("builtins", "eval", lambda marker: (f"open({str(marker)!r}, 'w')",)),
        ("subprocess", "Popen", lambda marker: (["touch", str(marker)],)),
        ("builtins", "getattr", lambda marker: (os, "system")),
    ],
)
def test_code_in_the_pickle_is_refused_not_run(tmp_path, module, name, make_args):
    marker = tmp_path / "pwned"
    args = make_args(marker)
    if module == "builtins" and name == "getattr":
        call = _global(module, name) + _global("os", "path") + _p("sep") + pickle.TUPLE2
    else:
        call = _global(module, name) + _p(args)
    data = _dict_pickle({"w": call + pickle.REDUCE})
    path = _torch_zip(tmp_path / "evil.pt", data)
    with pytest.raises(pickle.UnpicklingError, match=rf"{module}\.{name}.*") as info:
        fastnn.load(path)
    assert "evil.pt" in str(info.value)
    assert not marker.exists()


def test_a_torch_class_outside_the_allowlist_is_refused(tmp_path):
    data = _dict_pickle({"w": _global("torch.nn.modules.linear", "Linear") + pickle.EMPTY_TUPLE})
    with pytest.raises(pickle.UnpicklingError, match="torch.nn.modules.linear.Linear"):
        fastnn.load(_torch_zip(tmp_path / "m.pt", data))


def _load_error(path):
    with pytest.raises(RuntimeError) as info:
        fastnn.load(path)
    assert path.name in str(info.value)
    return str(info.value)


def test_storage_shorter_than_claimed(tmp_path):
    data = _dict_pickle({"w": _tensor_ops("0", 6, (2, 3), (3, 1))})
    path = _torch_zip(tmp_path / "short.pt", data, {"0": _float_storage(1, 2, 3)})
    assert "12 bytes" in _load_error(path)


def test_huge_claimed_storage_is_refused_before_reading(tmp_path):
    data = _dict_pickle({"w": _tensor_ops("0", 2**60, (2**60,), (1,))})
    path = _torch_zip(tmp_path / "huge.pt", data, {"0": _float_storage(1)})
    assert "storage 0" in _load_error(path)


@pytest.mark.parametrize(
    ("size", "stride", "offset", "expect"),
    [
        ((2, 3), (3, -1), 0, "stride"),  # negative stride
        ((2, 3), (3, 1), -1, "storage_offset"),  # negative offset
        ((2, 3), (3, 1), 1, "reaches element 6 of a storage of 6"),  # one past the end
        ((2, 3), (2**70, 1), 0, "reaches element"),  # stride overflowing int64
        ((2, 3), (3, 1), 2**64, "reaches element"),  # offset overflowing
        ((2**40, 2**40), (1, 1), 0, "reaches element"),  # a size far beyond the storage
        ((2, -3), (3, 1), 0, "size"),  # negative size
        ((2, 3), (3,), 0, "do not match"),  # stride of the wrong length
    ],
)
def test_bad_size_stride_or_offset(tmp_path, size, stride, offset, expect):
    data = _dict_pickle({"w": _tensor_ops("0", 6, size, stride, offset=offset)})
    path = _torch_zip(tmp_path / "bad.pt", data, {"0": _float_storage(*range(6))})
    assert expect in _load_error(path)


def test_missing_storage_record(tmp_path):
    data = _dict_pickle({"w": _tensor_ops("7", 2, (2,), (1,))})
    path = _torch_zip(tmp_path / "missing.pt", data, {"0": _float_storage(1, 2)})
    assert "data/7" in _load_error(path)


def test_truncated_torch_zip(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "trunc.pt"
    torch.save({"w": torch.ones(100)}, path)
    path.write_bytes(path.read_bytes()[:300])
    _load_error(path)


def test_truncated_pickle(tmp_path):
    data = _dict_pickle({"w": _tensor_ops("0", 2, (2,), (1,))})
    path = _torch_zip(tmp_path / "cut.pt", data[:40], {"0": _float_storage(1, 2)})
    with pytest.raises((RuntimeError, pickle.UnpicklingError), match="cut.pt"):
        fastnn.load(path)


def test_big_endian_and_unknown_versions(tmp_path):
    data = _dict_pickle({"w": _tensor_ops("0", 2, (2,), (1,))})
    storages = {"0": _float_storage(1, 2)}
    path = _torch_zip(tmp_path / "be.pt", data, storages, byteorder=b"big")
    assert "little-endian" in _load_error(path)
    path = _torch_zip(tmp_path / "v9.pt", data, storages, version=b"9\n")
    assert "version" in _load_error(path)
    path = _torch_zip(tmp_path / "noorder.pt", data, storages, byteorder=None)
    assert fastnn.load(path)["w"].tolist() == [1.0, 2.0]  # older files have no byteorder


def test_legacy_torch_format_is_named(tmp_path):
    path = tmp_path / "legacy.pt"
    path.write_bytes(b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19.")  # a pickled magic number
    assert "legacy" in _load_error(path)


def test_safetensors_given_to_load_is_named(tmp_path):
    pytest.importorskip("safetensors")
    save_file({"w": fastnn.ones(2)}, tmp_path / "w.safetensors")
    assert "load_file" in _load_error(tmp_path / "w.safetensors")


def test_unsupported_dtype_is_named(tmp_path):
    data = _dict_pickle({"w": _tensor_ops("0", 2, (2,), (1,), storage="QInt8Storage")})
    path = _torch_zip(tmp_path / "q.pt", data, {"0": b"\0" * 2})
    assert "qint8" in _load_error(path)


def test_cuda_tensor_without_cuda_needs_map_location(tmp_path):
    if fastnn.cuda.is_available():
        pytest.skip("CUDA is available here")
    data = _dict_pickle({"w": _tensor_ops("0", 2, (2,), (1,), location="cuda:0")})
    path = _torch_zip(tmp_path / "gpu.pt", data, {"0": _float_storage(1, 2)})
    assert "map_location" in _load_error(path)
    assert fastnn.load(path, map_location="cpu")["w"].tolist() == [1.0, 2.0]


def test_pickle_tricks_are_refused(tmp_path):
    storages = {"0": _float_storage(1, 2)}
    tensor = _tensor_ops("0", 2, (2,), (1,))
    # BUILD on a tensor (setting its attributes)
    build = tensor + pickle.EMPTY_DICT + _p("_data") + _p("x") + pickle.SETITEM + pickle.BUILD
    with pytest.raises(pickle.UnpicklingError, match="b1.pt"):
        fastnn.load(_torch_zip(tmp_path / "b1.pt", _dict_pickle({"w": build}), storages))
    # a set and a bytearray are no part of a state dict
    a_set = pickle.EMPTY_SET + pickle.MARK + _p(1) + pickle.ADDITEMS
    _load_error(_torch_zip(tmp_path / "s.pt", b"\x80\x04" + a_set + pickle.STOP))
    # a persistent id that is not a storage
    pid = _p(("storage", "x", "0", "cpu", 2)) + pickle.BINPERSID
    with pytest.raises(pickle.UnpicklingError, match="pid.pt"):
        fastnn.load(_torch_zip(tmp_path / "pid.pt", _dict_pickle({"w": pid}), storages))
    # backward hooks that are not empty
    hooks = tensor.replace(
        pickle.EMPTY_TUPLE + pickle.REDUCE + pickle.TUPLE,
        pickle.EMPTY_TUPLE + pickle.REDUCE + _p(1) + _p(2) + pickle.SETITEM + pickle.TUPLE,
    )
    assert "hooks" in _load_error(
        _torch_zip(tmp_path / "h.pt", _dict_pickle({"w": hooks}), storages)
    )
    # a list holding itself
    cycle = (
        b"\x80\x02" + pickle.EMPTY_LIST + pickle.BINPUT + b"\x00" + pickle.BINGET + b"\x00"
        + pickle.APPEND + pickle.STOP
    )  # fmt: skip
    assert "itself" in _load_error(_torch_zip(tmp_path / "cyc.pt", cycle))


def test_compressed_entries_are_refused(tmp_path):
    data = _dict_pickle({"w": _tensor_ops("0", 1000, (1000,), (1,))})
    path = tmp_path / "zipped.pt"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("ckpt/data.pkl", data)
        z.writestr("ckpt/data/0", b"\0" * 4000)
    assert "compressed" in _load_error(path)


def test_torchscript_archive_is_named(tmp_path):
    path = tmp_path / "script.pt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("script/constants.pkl", b"\x80\x02).")
        z.writestr("script/code/__torch__.py", "")
    assert "TorchScript" in _load_error(path)


# ---- writing -----------------------------------------------------------------------------------


def test_save_torch_refuses_what_torch_cannot_load_safely(tmp_path):
    path = tmp_path / "x.pt"
    with pytest.raises(TypeError, match="ndarray"):
        save_torch({"a": np.zeros(2)}, path)
    with pytest.raises(TypeError, match="function"):
        save_torch([lambda: 0], path)
    with pytest.raises(TypeError, match="uint16"):
        save_torch([fastnn.from_numpy(np.zeros(2, np.uint16))], path)
    assert not path.exists()


def test_save_torch_plain_values_match_torch(tmp_path):
    torch = pytest.importorskip("torch")
    obj = {
        "ints": [0, 255, 256, 65535, -1, 2**31, -(2**31) - 1, 2**100],
        "floats": (0.5, float("inf"), -0.0),
        "text": "größe ✓",
        "flags": [True, False, None],
        "nested": collections.OrderedDict([(1, {"a": ()}), ((2, "b"), [[]])]),
    }
    save_torch(obj, tmp_path / "plain.pt")
    back = torch.load(tmp_path / "plain.pt", weights_only=True)
    assert back == obj and isinstance(back["nested"], collections.OrderedDict)
    assert fastnn.load(tmp_path / "plain.pt") == obj


def test_save_torch_keeps_requires_grad_and_copies_views(tmp_path):
    torch = pytest.importorskip("torch")
    w = fastnn.arange(6.0).reshape(2, 3).requires_grad_(True)
    save_torch({"w": w, "wt": w.detach().t()}, tmp_path / "g.pt")
    back = torch.load(tmp_path / "g.pt", weights_only=True)
    assert back["w"].requires_grad and not back["wt"].requires_grad
    assert back["wt"].tolist() == [[0, 3], [1, 4], [2, 5]]


# ---- safetensors -------------------------------------------------------------------------------


def test_safetensors_round_trip(tmp_path):
    pytest.importorskip("safetensors")
    sd = {
        "w": fastnn.randn(3, 4),
        "wt": fastnn.randn(4, 3).t(),  # not contiguous
        "i": fastnn.arange(5),
        "m": fastnn.tensor([True, False]),
        "h": fastnn.ones(2, dtype=fastnn.float16),
    }
    save_file(sd, tmp_path / "m.safetensors", metadata={"epoch": "3"})
    back = load_file(tmp_path / "m.safetensors")
    assert sorted(back) == sorted(sd)
    for k, v in sd.items():
        assert back[k].dtype == v.dtype
        np.testing.assert_array_equal(back[k].numpy(), v.detach().numpy())
    back["w"].add_(1.0)  # writable, like torch's


def test_safetensors_bad_input(tmp_path):
    pytest.importorskip("safetensors")
    with pytest.raises(TypeError, match="dict"):
        save_file([fastnn.ones(1)], tmp_path / "a.safetensors")
    with pytest.raises(TypeError, match="str"):
        save_file({1: fastnn.ones(1)}, tmp_path / "a.safetensors")
    with pytest.raises(TypeError, match="ndarray"):
        save_file({"a": np.ones(1)}, tmp_path / "a.safetensors")
    assert not (tmp_path / "a.safetensors").exists()


def test_safetensors_bfloat16(tmp_path):
    torch = pytest.importorskip("torch")
    st = pytest.importorskip("safetensors.torch")
    t = torch.tensor([1.5, -2.25, 3e30], dtype=torch.bfloat16)
    st.save_file({"b": t}, tmp_path / "b.safetensors")
    try:
        import ml_dtypes  # noqa: F401 (safetensors.numpy reads BF16 through it)
    except ImportError:
        with pytest.raises(TypeError, match="bfloat16"):
            load_file(tmp_path / "b.safetensors")
        return
    b = load_file(tmp_path / "b.safetensors")["b"]
    assert b.dtype == fastnn.bfloat16 and b.float().tolist() == t.float().tolist()
    save_file({"b": b}, tmp_path / "back.safetensors")
    assert torch.equal(st.load_file(tmp_path / "back.safetensors")["b"], t)


def test_safetensors_missing_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ImportError, match=r"fastnn\[safetensors\]"):
        save_file({"w": fastnn.ones(1)}, tmp_path / "w.safetensors")
    with pytest.raises(ImportError, match="load_file"):
        load_file(tmp_path / "w.safetensors")
