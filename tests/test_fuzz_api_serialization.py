"""Fuzz: fastnn.save / fastnn.load on random state dicts (round trip, and torch.save's files),
corrupted and truncated bytes, wrong argument types and bad paths: the same objects back, or a
clean error naming fastnn.load / fastnn.save (fuzz_api.py's rules for messages)."""

import io
import math
import os
import pickle
import threading

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given
from hypothesis import strategies as st

import fastnn
from fuzz_api import FORBIDDEN, JUNK, assert_same, check_message, values

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.usefixtures("hang_guard")

DTYPES = ["float32", "float64", "float16", "int64", "int32", "uint8", "bool"]


@st.composite
def arrays(draw):
    shape = tuple(draw(st.lists(st.sampled_from([0, 1, 2, 3]), max_size=3)))
    return draw(values(shape, draw(st.sampled_from(DTYPES))))


LEAVES = st.one_of(
    arrays(),
    arrays(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False),
    st.sampled_from([math.inf, -math.inf, None, True, False, ""]),
    st.text(max_size=5),
)
KEYS = st.text(min_size=0, max_size=6)


def _objects(leaf):
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.dictionaries(KEYS, inner, max_size=3),
            st.lists(inner, max_size=3),
            st.lists(inner, max_size=3).map(tuple),
        ),
        max_leaves=6,
    )


def _lib(lib, obj):
    """obj with its numpy arrays made into lib's tensors."""
    if isinstance(obj, np.ndarray):
        return lib.tensor(obj)
    if isinstance(obj, dict):
        return {k: _lib(lib, v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_lib(lib, v) for v in obj)
    return obj


def _same(got, want, where):
    if isinstance(want, torch.Tensor):
        assert_same(got, want, where, (0.0, 0.0))
    elif isinstance(want, dict):
        assert isinstance(got, dict) and list(got) == list(want), f"{where}: {got!r} vs {want!r}"
        for k in want:
            _same(got[k], want[k], where)
    elif isinstance(want, (list, tuple)):
        assert type(got) is type(want) and len(got) == len(want), f"{where}: {got!r} vs {want!r}"
        for a, b in zip(got, want):
            _same(a, b, where)
    else:
        assert type(got) is type(want) and got == want, f"{where}: {got!r} vs {want!r}"


@given(obj=st.dictionaries(KEYS, _objects(LEAVES), max_size=4))
def test_fuzz_save_load_round_trip(obj):
    buf = io.BytesIO()
    fastnn.save(_lib(fastnn, obj), buf)
    buf.seek(0)
    _same(fastnn.load(buf), _lib(torch, obj), "fastnn.save -> fastnn.load")


@given(obj=st.dictionaries(KEYS, _objects(st.one_of(arrays(), st.integers(-5, 5))), max_size=4))
def test_fuzz_load_torch_checkpoints(obj):
    buf = io.BytesIO()
    torch.save(_lib(torch, obj), buf)
    buf.seek(0)
    _same(fastnn.load(buf), _lib(torch, obj), "torch.save -> fastnn.load")


# leaves pickle cannot store: fastnn.save raises pickle's (or fastnn's) error, writing nothing
UNPICKLABLE = st.sampled_from([lambda: 0, (i for i in ()), threading.Lock()])
# leaves beyond tensors and containers that pickle stores: the whole object is pickled
PICKLED = st.sampled_from([1j, {1, 2}, frozenset({3}), b"ab", len, ..., type, np.float64(1.5)])


@given(obj=st.dictionaries(KEYS, _objects(st.one_of(LEAVES, UNPICKLABLE)), max_size=3))
def test_fuzz_save_refuses_what_it_cannot_store(obj, tmp_path_factory):
    path = tmp_path_factory.mktemp("save") / "ckpt.fnn"
    try:
        fastnn.save(_lib(fastnn, obj), path)
    except (pickle.PicklingError, AttributeError) as e:
        assert "pickle" in str(e), e
        assert not os.listdir(path.parent), "a failed save left files behind"
        return
    except (TypeError, ValueError) as e:
        if "pickle" not in str(e):
            check_message(e, ("fastnn.save", "cannot save", "save"), where="fastnn.save")
        assert not os.listdir(path.parent), "a failed save left files behind"
        return
    _same(fastnn.load(path), _lib(torch, obj), "save to a path -> load")


@given(obj=st.dictionaries(KEYS, _objects(st.one_of(LEAVES, PICKLED)), max_size=3))
def test_fuzz_whole_objects_round_trip_with_weights_only_false(obj):
    buf = io.BytesIO()
    fastnn.save(_lib(fastnn, obj), buf)
    buf.seek(0)
    _same(fastnn.load(buf, weights_only=False), _lib(torch, obj), "pickled save -> load")


def _checkpoint():
    buf = io.BytesIO()
    fastnn.save({"w": fastnn.ones(3, 4), "b": fastnn.arange(5), "meta": {"epoch": 3}}, buf)
    return buf.getvalue()


CHECKPOINT = _checkpoint()


@given(
    cuts=st.lists(st.integers(0, len(CHECKPOINT) - 1), min_size=1, max_size=4),
    how=st.sampled_from(["truncate", "flip", "zero", "insert", "delete"]),
    seed=st.integers(0, 255),
)
def test_fuzz_load_corrupted_bytes(cuts, how, seed):
    b = bytearray(CHECKPOINT)
    if how == "truncate":
        b = b[: min(cuts)]
    for c in cuts if how != "truncate" else ():
        c = min(c, len(b) - 1)
        if how == "flip":
            b[c] ^= 1 << (seed % 8)
        elif how == "zero":
            b[c] = 0
        elif how == "insert":
            b[c:c] = bytes([seed])
        else:
            del b[c]
    try:
        fastnn.load(io.BytesIO(bytes(b)))
    except Exception as e:  # noqa: BLE001 (judged by check_message)
        check_message(e, ("fastnn.load",), where=f"load of {how}ed bytes at {cuts}")


@given(
    f=st.one_of(
        JUNK.filter(lambda v: not isinstance(v, str)),  # a str is a path: test_..._bad_paths
        st.sampled_from([io.StringIO("x"), 3.5, [b"PK"], bytearray(b"PK")]),
    )
)
def test_fuzz_load_and_save_wrong_file_arguments(f):
    for fn, call in (("fastnn.load", fastnn.load), ("fastnn.save", lambda f: fastnn.save({}, f))):
        with pytest.raises(Exception) as info:
            call(f)
        check_message(info.value, (fn,), where=f"{fn}({f!r})")


@pytest.mark.parametrize("where", ["missing-dir", "a-directory", "empty-file"])
def test_load_and_save_bad_paths(tmp_path, where):
    path = {
        "missing-dir": tmp_path / "no" / "such" / "file.fnn",
        "a-directory": tmp_path,
        "empty-file": tmp_path / "empty.fnn",
    }[where]
    if where == "empty-file":
        path.write_bytes(b"")
    with pytest.raises((OSError, RuntimeError)) as info:
        fastnn.load(path)
    assert not any(f in str(info.value).lower() for f in FORBIDDEN), info.value
    if where != "empty-file":
        with pytest.raises(OSError):
            fastnn.save({"a": fastnn.ones(1)}, path)
