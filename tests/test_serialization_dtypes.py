"""fastnn.save never writes what fastnn.load refuses: every numpy dtype, as a tensor, an array
and a scalar, either round-trips or is refused before the previous checkpoint is touched."""

import io

import numpy as np
import pytest

import fastnn

_DTYPES = [
    *np.typecodes["All"].replace("O", ""),
    "U3",
    "S3",
    "V4",
    "M8[s]",
    "m8[ms]",
    [("a", "<i4"), ("b", "<f8")],
]


def _sample(dtype):
    a = np.zeros(3, dtype=dtype)
    if a.dtype.kind in "biufc":
        a = (np.arange(3) % 2 + 1).astype(a.dtype)
    return a


def _wrap(kind, a):
    if kind == "array":
        return a
    if kind == "scalar":
        return a[1]
    try:
        return fastnn.tensor(a)
    except (TypeError, ValueError):
        pytest.skip(f"fastnn.tensor does not build a tensor of dtype {a.dtype}")


def _same(back, obj):
    want = np.asarray(obj.numpy() if isinstance(obj, fastnn.Tensor) else obj)
    got = np.asarray(back.numpy() if isinstance(back, fastnn.Tensor) else back)
    for cls in (fastnn.Tensor, np.ndarray, np.generic):
        assert isinstance(back, cls) == isinstance(obj, cls)
    assert got.dtype == want.dtype and got.shape == want.shape
    if want.dtype.char in "gG":  # x87 extended precision: 6 of its 16 bytes are padding
        np.testing.assert_array_equal(got, want)
    else:
        assert got.tobytes() == want.tobytes()


@pytest.mark.parametrize("kind", ["tensor", "array", "scalar"])
@pytest.mark.parametrize("dtype", _DTYPES, ids=str)
def test_every_dtype_round_trips_or_is_refused_before_writing(tmp_path, kind, dtype):
    obj = _wrap(kind, _sample(dtype))
    path = tmp_path / "ckpt.fnn"
    good = {"w": fastnn.arange(4)}
    fastnn.save(good, path)
    before = path.read_bytes()
    try:
        fastnn.save({"x": obj, "w": fastnn.arange(4)}, path)
    except TypeError as e:
        assert "fastnn.save" in str(e)
        assert path.read_bytes() == before  # the last good checkpoint is untouched
        assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.fnn"]
        buf = io.BytesIO()
        with pytest.raises(TypeError):
            fastnn.save({"x": obj}, buf)
        assert buf.getvalue() == b""  # nothing written to a file object either
        return
    _same(fastnn.load(path)["x"], obj)


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_complex_tensors_round_trip(tmp_path, dtype):
    """Complex tensors save as torch's do (they were refused before fastnn had complex
    dtypes): plain checkpoints, pickled objects and views of their storage alike."""
    z = (np.arange(6).reshape(2, 3) * (1 - 0.5j)).astype(dtype)
    t = fastnn.tensor(z)
    fastnn.save({"t": t, "parts": fastnn.view_as_real(t)}, tmp_path / "c.fnn")
    back = fastnn.load(tmp_path / "c.fnn")
    assert back["t"].dtype == t.dtype and np.array_equal(back["t"].numpy(), z)
    assert np.array_equal(back["parts"].numpy(), np.stack([z.real, z.imag], -1))
    model = fastnn.nn.Module()  # an object, not a state dict: the pickled layout
    model.w = fastnn.nn.Parameter(t.clone())
    fastnn.save(model, tmp_path / "m.fnn")
    again = fastnn.load(tmp_path / "m.fnn", weights_only=False)
    assert again.w.dtype == t.dtype and np.array_equal(again.w.detach().numpy(), z)
