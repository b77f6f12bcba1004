"""nn.Module's smaller torch methods (get_buffer, set_submodule, type, to_empty, the device
moves fastnn has no device for) and the containers' arithmetic (Sequential + * pop, ModuleList
+ pop), against torch where it is installed and by hand."""

import numpy as np
import pytest

import fastnn
from fastnn import nn


def _names(c):
    return [type(m).__name__ for m in c]


def _program(m):
    nn_ = m.nn
    out = []
    s = nn_.Sequential(nn_.ReLU(), nn_.Tanh())
    t = nn_.Sequential(nn_.Sigmoid())
    out += [_names(s + t), _names(s * 2), _names(2 * s), len((s + t)[2:]) + 1]
    u = nn_.Sequential(nn_.ReLU(), nn_.Tanh())
    u += t
    out.append((_names(u), list(dict(u.named_children()))))
    u *= 2
    out.append((_names(u), list(dict(u.named_children()))))
    out.append((type(u.pop(1)).__name__, _names(u), list(dict(u.named_children()))))
    out.append(((s * 3)[0] is s[0], (s + t)[2] is t[0]))
    for bad in (lambda: s * 0, lambda: s * 1.5, lambda: s + nn_.ModuleList()):
        try:
            bad()
            out.append("no error")
        except (TypeError, ValueError) as e:
            out.append(type(e).__name__)
    ml = nn_.ModuleList([nn_.ReLU(), nn_.Tanh()])
    out.append(_names(ml + nn_.ModuleList([nn_.ELU()])))
    out.append((type(ml.pop(0)).__name__, _names(ml)))

    net = nn_.Sequential(nn_.Linear(2, 2), nn_.BatchNorm1d(2))
    out.append(tuple(net.get_buffer("1.running_mean").shape))
    for target in ("1.weight", "1.nope", "2.x"):
        try:
            net.get_buffer(target)
            out.append("no error")
        except AttributeError as e:
            out.append(str(e))
    net.set_submodule("0", nn_.Identity())
    out.append(_names(net))
    for args in (("", nn_.ReLU()), ("0", 3), ("5", nn_.ReLU(), True), ("1.weight", nn_.ReLU())):
        try:
            net.set_submodule(*args)
            out.append("no error")
        except (AttributeError, ValueError) as e:
            out.append((type(e).__name__, str(e).split(",")[0]))
    lin = nn_.Linear(2, 2).type(m.float64)
    out.append(str(lin.weight.dtype).split(".")[-1])
    w = lin.weight
    lin.to_empty(device="cpu")
    out.append((lin.weight is w, tuple(lin.weight.shape), lin.weight.requires_grad))
    out.append((nn_.Module.dump_patches, nn_.Module.call_super_init))
    return out


def test_matches_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = _program(fastnn), _program(torch)
    assert ours == theirs


def test_by_hand():
    out = _program(fastnn)
    assert out[0] == ["ReLU", "Tanh", "Sigmoid"]
    assert out[1] == out[2] == ["ReLU", "Tanh", "ReLU", "Tanh"]
    # repeated in place: the same objects again, which named_children lists once each
    assert out[5] == (["ReLU", "Tanh", "Sigmoid", "ReLU", "Tanh", "Sigmoid"], list("012"))
    assert out[6] == ("Tanh", ["ReLU", "Sigmoid", "ReLU", "Tanh", "Sigmoid"], list("013"))
    assert out[7] == (True, True)  # the same module objects, not copies
    assert out[8:11] == ["ValueError", "TypeError", "ValueError"]
    assert out[11] == ["ReLU", "Tanh", "ELU"]
    assert out[13] == (2,)
    assert out[14] == "`weight` is not a buffer"
    assert out[17] == ["Identity", "BatchNorm1d"]
    assert out[20] == ("AttributeError", "Sequential has no attribute `5`")  # strict
    assert out[-3] == "float64"
    assert out[-2] == (True, (2, 2), True)


def test_device_moves_without_the_device():
    assert isinstance(nn.ReLU().xpu(), nn.ReLU)  # nothing to move
    with pytest.raises(RuntimeError, match="fastnn has no XPU devices"):
        nn.Linear(2, 2).xpu()
    lin = nn.Linear(2, 2)
    before = lin.weight.detach().numpy().copy()
    lin.to_empty(device="cpu", recurse=False)
    assert lin.weight.shape == (2, 2)
    np.testing.assert_array_equal(nn.Sequential(lin)[0].weight.shape, before.shape)
