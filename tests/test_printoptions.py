"""set_printoptions and the repr it drives: torch's layout under every option, compared with
torch itself on random tensors; a few fixed strings for machines without torch."""

import numpy as np
import pytest

import fastnn


@pytest.fixture(autouse=True)
def default_options():
    yield
    fastnn.set_printoptions(profile="default")
    try:
        import torch

        torch.set_printoptions(profile="default")
    except ImportError:
        pass


def test_fixed_strings():
    fastnn.set_printoptions(precision=2)
    assert repr(fastnn.tensor([1.23456, 2.0])) == "tensor([1.23, 2.00])"
    fastnn.set_printoptions(sci_mode=True)  # precision stays 2; sci_mode is set by each call
    assert repr(fastnn.tensor([1.0, 2.0])) == "tensor([1.00e+00, 2.00e+00])"
    fastnn.set_printoptions(precision=3)  # sci_mode back to automatic
    assert repr(fastnn.tensor([1e-6, 1.0])) == "tensor([1.000e-06, 1.000e+00])"
    fastnn.set_printoptions(profile="default", threshold=5, edgeitems=2)
    assert repr(fastnn.arange(10)) == "tensor([0, 1,  ..., 8, 9])"
    fastnn.set_printoptions(edgeitems=0)
    assert repr(fastnn.arange(10.0)) == "tensor([...], size=(10,))"
    fastnn.set_printoptions(profile="default", linewidth=20)
    assert repr(fastnn.arange(8)) == "tensor([0, 1, 2, 3,\n        4, 5, 6, 7])"


def test_empty_tensors_as_torch_prints_them():
    assert repr(fastnn.tensor([])) == "tensor([])"
    assert repr(fastnn.zeros(0, 3)) == "tensor([], size=(0, 3))"
    assert repr(fastnn.zeros(0, dtype=fastnn.int64)) == "tensor([], dtype=fastnn.int64)"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"profile": "long"}, ValueError),
        ({"precision": -1}, TypeError),
        ({"linewidth": "80"}, TypeError),
        ({"sci_mode": 1}, TypeError),
    ],
)
def test_bad_options_raise_and_change_nothing(kwargs, error):
    before = repr(fastnn.tensor([1.5, 2.25]))
    with pytest.raises(error, match="set_printoptions"):
        fastnn.set_printoptions(**kwargs)
    assert repr(fastnn.tensor([1.5, 2.25])) == before


SETTINGS = [
    {},
    {"precision": 2},
    {"precision": 7, "linewidth": 60},
    {"sci_mode": False},
    {"sci_mode": True},
    {"profile": "short"},
    {"linewidth": 50, "threshold": 20, "edgeitems": 2},
    {"edgeitems": 0, "threshold": 5},
]


def _random_array(rng):
    nd = int(rng.integers(0, 4))
    shape = tuple(int(rng.integers(1, 9 if nd > 1 else 40)) for _ in range(nd))
    if rng.random() < 0.1 and nd == 1:
        shape = (int(rng.integers(900, 1300)),)
    kind = rng.choice(
        ["f32", "f64", "i64", "i32", "bool", "f16"], p=[0.4, 0.2, 0.15, 0.1, 0.1, 0.05]
    )
    a = rng.standard_normal(shape) * 10.0 ** int(rng.integers(-10, 12))
    r = rng.random()
    if r < 0.15:
        a = np.round(a)
    elif r < 0.2:
        a = np.zeros(shape)
    if rng.random() < 0.1 and a.size:
        a.reshape(-1)[rng.integers(0, a.size)] = rng.choice([np.nan, np.inf, -np.inf])
    if kind == "bool":
        return a > 0
    with np.errstate(all="ignore"):
        if kind in ("i64", "i32"):
            return np.clip(np.nan_to_num(a), -1e9, 1e9).astype(
                np.int64 if kind == "i64" else np.int32
            )
        return a.astype({"f32": np.float32, "f64": np.float64, "f16": np.float16}[kind])


@pytest.mark.parametrize("setting", range(len(SETTINGS)))
def test_repr_matches_torch_under_each_setting(setting):
    torch = pytest.importorskip("torch")
    fastnn.set_printoptions(**SETTINGS[setting])
    torch.set_printoptions(**SETTINGS[setting])
    rng = np.random.default_rng(setting)
    for _ in range(120):
        a = _random_array(rng)
        ours, theirs = fastnn.tensor(a), torch.tensor(a)
        if a.dtype.kind == "f" and rng.random() < 0.2:
            ours.requires_grad_()
            theirs.requires_grad_()
        assert repr(ours) == repr(theirs).replace("torch.", "fastnn."), (a.dtype, a.shape)
