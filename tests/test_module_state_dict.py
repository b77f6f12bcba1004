"""nn.Module's state-dict protocol: _save_to_state_dict / _load_from_state_dict overrides,
extra state, state-dict and load hooks, _metadata versions, assign, against torch; and
fastnn's own rule that a load that fails changes nothing."""

import numpy as np
import pytest

import fastnn
from fastnn import nn


def _modules(m):
    class Counter(m.nn.Module):
        """Keeps a Python counter as extra state and accepts a legacy key name."""

        _version = 3

        def __init__(self):
            super().__init__()
            self.weight = m.nn.Parameter(m.zeros(2, dtype=m.float64))
            self.calls = 0

        def get_extra_state(self):
            return {"calls": self.calls}

        def set_extra_state(self, state):
            self.calls = state["calls"]

        def _load_from_state_dict(self, state_dict, prefix, local_metadata, *args):
            legacy = prefix + "w"  # checkpoints of the old layout named the weight "w"
            if legacy in state_dict:
                state_dict[prefix + "weight"] = state_dict.pop(legacy)
            super()._load_from_state_dict(state_dict, prefix, local_metadata, *args)

    class Doubled(m.nn.Module):
        """Saves its buffer doubled, loads it halved."""

        def __init__(self):
            super().__init__()
            self.register_buffer("b", m.ones(3, dtype=m.float64))

        def _save_to_state_dict(self, destination, prefix, keep_vars):
            destination[prefix + "b"] = self.b * 2

        def _load_from_state_dict(self, state_dict, prefix, *args):
            state_dict = {k: (v / 2 if k == prefix + "b" else v) for k, v in state_dict.items()}
            super()._load_from_state_dict(state_dict, prefix, *args)

    net = m.nn.Sequential(Counter(), m.nn.Linear(2, 2).double(), Doubled())
    return net, Counter


def _program(m):
    out = []
    net, _ = _modules(m)
    net[0].calls = 7
    with m.no_grad():
        net[1].weight.copy_(m.tensor(np.arange(4.0).reshape(2, 2)))
    sd = net.state_dict()
    out.append(list(sd.keys()))
    out.append(sd["0._extra_state"])
    out.append(sd["2.b"].numpy().copy())
    out.append(dict(sd._metadata)[""]["version"] if "" in sd._metadata else None)
    out.append(sd._metadata["0"]["version"])
    with pytest.warns(FutureWarning, match="Positional args"):
        out.append(list(net.state_dict(None, "top.", True).keys())[:2])
    seen = []
    net[1].register_state_dict_pre_hook(lambda mod, prefix, keep: seen.append(("pre", prefix)))
    net[1].register_state_dict_post_hook(
        lambda mod, d, prefix, meta: seen.append(("post", prefix, max(d)))
    )
    net.state_dict()
    out.append(seen)

    fresh, _ = _modules(m)
    legacy = dict(sd.items())
    legacy["0.w"] = legacy.pop("0.weight") + 1
    keys = fresh.load_state_dict(legacy)
    out.append((list(keys.missing_keys), list(keys.unexpected_keys)))
    out += [fresh[0].calls, fresh[0].weight.detach().numpy().copy(), fresh[2].b.numpy().copy()]

    log = []

    def rename(mod, state_dict, prefix, *rest):
        if prefix + "W" in state_dict:
            state_dict[prefix + "weight"] = state_dict.pop(prefix + "W")
        log.append(("pre", prefix))

    other, _ = _modules(m)
    other[1].register_load_state_dict_pre_hook(rename)

    def forgive_missing(mod, keys):
        log.append(("post", list(keys.missing_keys)))
        keys.missing_keys.clear()

    other.register_load_state_dict_post_hook(forgive_missing)
    renamed = {("1.W" if k == "1.weight" else k): v for k, v in sd.items() if k != "1.bias"}
    keys = other.load_state_dict(renamed)  # the post-hook clears the missing bias
    out += [log, list(keys.missing_keys), other[1].weight.detach().numpy().copy()]

    target, _ = _modules(m)
    w = target[1].weight
    new_weight = m.tensor(np.full((2, 2), 5.0))
    target.load_state_dict({**sd, "1.weight": new_weight}, assign=True)
    out += [target[1].weight is w, target[1].weight.requires_grad]
    out.append(target[1].weight.detach().numpy().copy())
    return out


def _same(a, b):
    if isinstance(a, (list, tuple)):
        assert len(a) == len(b), (a, b)
        for u, v in zip(a, b):
            _same(u, v)
    elif isinstance(a, np.ndarray):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _same(a[k], b[k])
    else:
        assert a == b, (a, b)


def test_protocol_matches_torch():
    torch = pytest.importorskip("torch")
    _same(_program(fastnn), _program(torch))


def test_protocol_by_hand():
    out = _program(fastnn)
    assert out[0] == ["0.weight", "0._extra_state", "1.weight", "1.bias", "2.b"]
    assert out[1] == {"calls": 7}
    np.testing.assert_array_equal(out[2], [2.0, 2.0, 2.0])  # saved doubled
    assert out[4] == 3  # the Counter's _version in _metadata
    assert out[5] == ["top.0.weight", "top.0._extra_state"]
    assert out[6] == [("pre", "1."), ("post", "1.", "1.weight")]
    assert out[7] == ([], [])
    assert out[8] == 7  # extra state restored
    np.testing.assert_array_equal(out[9], [1.0, 1.0])  # the legacy "w", renamed
    np.testing.assert_array_equal(out[10], [1.0, 1.0, 1.0])  # loaded halved
    assert out[11] == [("pre", "1."), ("post", ["1.bias"])]
    assert out[12] == []


def test_a_failed_load_changes_nothing():
    net = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 3))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    bad = {k: v + 1 for k, v in before.items()}
    bad["1.weight"] = fastnn.zeros(4, 4)  # a size mismatch after a good key
    with pytest.raises(RuntimeError, match="size mismatch for 1.weight"):
        net.load_state_dict(bad)
    unexpected = {**{k: v + 1 for k, v in before.items()}, "extra": fastnn.ones(1)}
    with pytest.raises(RuntimeError, match='Unexpected key\\(s\\) in state_dict: "extra"'):
        net.load_state_dict(unexpected)
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k].numpy())
    keys = net.load_state_dict(unexpected, strict=False)
    assert keys.unexpected_keys == ["extra"] and keys.missing_keys == []
    np.testing.assert_array_equal(net[0].bias.detach().numpy(), before["0.bias"].numpy() + 1)


def test_hook_and_extra_state_errors():
    lin = nn.Linear(2, 2)
    with pytest.raises(RuntimeError, match="get_extra_state"):
        lin.get_extra_state()
    lin.register_state_dict_post_hook(lambda *a: {})
    with pytest.raises(RuntimeError, match="post-hook must return None"):
        lin.state_dict()
    other = nn.Linear(2, 2)
    other.register_load_state_dict_post_hook(lambda mod, keys: 1)
    with pytest.raises(RuntimeError, match="post-hook must return None"):
        other.load_state_dict(nn.Linear(2, 2).state_dict())
    with pytest.raises(TypeError, match="must be callable"):
        other.register_state_dict_pre_hook(None)
    with pytest.raises(TypeError, match="dict-like"):
        other.load_state_dict([1, 2])
