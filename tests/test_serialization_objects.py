"""fastnn.save / fastnn.load of whole objects (modules, optimizers, anything picklable holding
tensors), the weights_only rules and the safe-globals allow-list."""

import io
import pickle
import zipfile

import numpy as np
import pytest

import fastnn
from fastnn import nn
from fastnn import serialization as ser


class TiedNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(6, 4)
        self.hidden = nn.Linear(4, 4)
        self.out = nn.Linear(4, 6)
        self.out.weight = self.emb.weight  # tied, as word_language_model does
        self.register_buffer("steps", fastnn.arange(3))

    def forward(self, idx):
        return self.out(fastnn.tanh(self.hidden(self.emb(idx))))


class Holder:
    def __init__(self, **kw):
        self.__dict__.update(kw)


@pytest.fixture(autouse=True)
def _empty_allow_list():
    ser.clear_safe_globals()
    yield
    ser.clear_safe_globals()


def _round_trip(obj, **load_kw):
    buf = io.BytesIO()
    fastnn.save(obj, buf)
    buf.seek(0)
    return fastnn.load(buf, **load_kw)


def test_module_round_trip_keeps_class_values_and_tied_weight(tmp_path):
    fastnn.manual_seed(0)
    net = TiedNet()
    path = tmp_path / "model.pt"
    fastnn.save(net, path)
    back = fastnn.load(path, weights_only=False)
    assert type(back) is TiedNet and back is not net
    assert back.out.weight is back.emb.weight
    assert isinstance(back.out.weight, nn.Parameter) and back.out.weight.requires_grad
    assert back.steps.dtype == fastnn.int64 and not back.steps.requires_grad
    idx = fastnn.tensor([[0, 5, 2]])
    np.testing.assert_array_equal(back(idx).detach().numpy(), net(idx).detach().numpy())
    assert [n for n, _ in back.named_parameters()] == [n for n, _ in net.named_parameters()]


def test_dtype_shape_and_requires_grad_survive():
    values = [
        fastnn.randn(2, 3, requires_grad=True),
        fastnn.zeros(4, dtype=fastnn.float64),
        fastnn.tensor([[1, 2], [3, 4]], dtype=fastnn.int32),
        fastnn.tensor([True, False]),
        fastnn.zeros(0, 5),
        fastnn.tensor(7, dtype=fastnn.uint8),
    ]
    back = _round_trip(Holder(values=values), weights_only=False).values
    for got, want in zip(back, values):
        assert got.dtype == want.dtype and got.shape == want.shape
        assert got.requires_grad == want.requires_grad
        np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())


def test_views_of_one_storage_stay_shared():
    base = fastnn.arange(12.0).reshape(3, 4)
    row, col, flat = base[1], base[:, 2], base.view(-1)
    held = _round_trip(Holder(ts=[base, row, col, flat]), weights_only=False)
    b_base, b_row, b_col, b_flat = held.ts
    b_base.add_(100)
    assert b_row.tolist() == [104.0, 105.0, 106.0, 107.0]
    assert b_col.tolist() == [102.0, 106.0, 110.0]
    b_flat[0] = -1.0
    assert b_base[0, 0].item() == -1.0
    assert b_col.stride() == col.stride() and b_row.storage_offset() == 4


def test_separate_tensors_do_not_share_after_load():
    a, b = fastnn.ones(3), fastnn.ones(3)
    la, lb = _round_trip((a, b))
    la.add_(1)
    assert lb.tolist() == [1.0, 1.0, 1.0]


def test_one_tensor_object_loads_as_one_object():
    t = fastnn.ones(2)
    back = _round_trip({"x": [t, t], "y": Holder(t=t)}, weights_only=False)
    assert back["x"][0] is back["x"][1] is back["y"].t


def test_optimizer_round_trip_keeps_state_keyed_by_its_params():
    fastnn.manual_seed(1)
    model = nn.Linear(3, 2)
    opt = fastnn.optim.Adam(model.parameters(), lr=0.01)
    model(fastnn.randn(4, 3)).sum().backward()
    opt.step()
    m2, o2 = _round_trip((model, opt), weights_only=False)
    assert type(o2) is fastnn.optim.Adam
    params = o2.param_groups[0]["params"]
    assert params[0] is m2.weight and params[1] is m2.bias
    np.testing.assert_array_equal(
        np.asarray(o2.state[m2.weight]["exp_avg"]), np.asarray(opt.state[model.weight]["exp_avg"])
    )
    m2(fastnn.randn(4, 3)).sum().backward()
    o2.step()  # the loaded optimizer drives the loaded model


def test_state_dicts_keep_the_pickle_free_format():
    sd = nn.Linear(2, 2).state_dict()
    a, b = io.BytesIO(), io.BytesIO()
    fastnn.save(sd, a)
    ser._native.save(sd, b)  # the writer state dicts always went through
    assert a.getvalue() == b.getvalue()
    with zipfile.ZipFile(a) as z:
        assert "manifest.json" in z.namelist() and "data.pkl" not in z.namelist()
    a.seek(0)
    assert sorted(fastnn.load(a)) == ["bias", "weight"]


def test_whole_object_file_layout():
    buf = io.BytesIO()
    fastnn.save(Holder(w=fastnn.ones(2, 2)), buf)
    with zipfile.ZipFile(buf) as z:
        names = z.namelist()
    assert set(names) == {"objects.json", "data.pkl", "storages/0"}


def test_weights_only_default_refuses_arbitrary_classes():
    buf = io.BytesIO()
    fastnn.save(TiedNet(), buf)
    for kw in ({}, {"weights_only": True}, {"weights_only": None}):
        buf.seek(0)
        with pytest.raises(pickle.UnpicklingError, match="weights_only=False") as info:
            fastnn.load(buf, **kw)
        assert "TiedNet" in str(info.value) and "add_safe_globals" in str(info.value)


def test_weights_only_loads_tensors_sizes_and_devices_without_allow_list():
    t = fastnn.arange(4.0)
    obj = {"views": (t, t[1:]), "size": t.shape, "dev": t.device, "dt": t.dtype, "s": {1, 2}}
    back = _round_trip(obj)  # a set makes it a pickled file
    assert back["size"] == t.shape and back["dev"] == t.device and back["dt"] == fastnn.float32
    assert back["s"] == {1, 2} and back["views"][1].tolist() == [1.0, 2.0, 3.0]


def test_add_get_clear_safe_globals():
    assert ser.get_safe_globals() == []
    ser.add_safe_globals([Holder])
    assert ser.get_safe_globals() == [Holder]
    got = ser.get_safe_globals()
    got.append(TiedNet)  # a copy: the allow-list itself is unchanged
    assert ser.get_safe_globals() == [Holder]
    back = _round_trip(Holder(w=fastnn.ones(2)))
    assert type(back) is Holder and back.w.tolist() == [1.0, 1.0]
    ser.clear_safe_globals()
    assert ser.get_safe_globals() == []
    with pytest.raises(pickle.UnpicklingError, match="Holder"):
        _round_trip(Holder(w=fastnn.ones(2)))


def test_safe_globals_by_name_tuple():
    ser.add_safe_globals([(Holder, f"{__name__}.Holder")])
    assert type(_round_trip(Holder(a=1))) is Holder


def test_safe_globals_context_manager_restores_the_list():
    ser.add_safe_globals([Holder])
    with ser.safe_globals([TiedNet, nn.Linear, nn.Embedding]):
        assert ser.get_safe_globals() == [Holder, TiedNet, nn.Linear, nn.Embedding]
        net = _round_trip(TiedNet())
        assert net.out.weight is net.emb.weight
    assert ser.get_safe_globals() == [Holder]
    with pytest.raises(pickle.UnpicklingError, match="TiedNet"):
        _round_trip(TiedNet())


def test_safe_globals_bad_input():
    with pytest.raises(TypeError, match="list"):
        ser.add_safe_globals(Holder)
    with pytest.raises(TypeError, match="not a class or function"):
        ser.add_safe_globals([3])
    with pytest.raises(TypeError, match="module.name"):
        ser.safe_globals([(Holder,)])
    assert ser.get_safe_globals() == []
    assert fastnn.serialization.safe_globals is ser.safe_globals


def test_weights_only_must_be_a_bool():
    buf = io.BytesIO()
    fastnn.save({"a": fastnn.ones(1)}, buf)
    buf.seek(0)
    with pytest.raises(TypeError, match="weights_only"):
        fastnn.load(buf, weights_only="no")


def test_unpicklable_objects_raise_before_writing(tmp_path):
    def local():
        return 0

    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        fastnn.save(Holder(f=local), tmp_path / "x.pt")
    assert list(tmp_path.iterdir()) == []


def _rewritten(obj, change):
    buf = io.BytesIO()
    fastnn.save(obj, buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for n in src.namelist():
            z.writestr(n, change(n, src.read(n)))
    out.seek(0)
    return out


def test_missing_class_raises_attribute_error_with_weights_only_false():
    out = _rewritten(
        Holder(w=fastnn.ones(1)),
        lambda n, data: data.replace(b"Holder", b"Hxlder") if n == "data.pkl" else data,
    )
    with pytest.raises(AttributeError, match="Hxlder"):
        fastnn.load(out, weights_only=False)


def test_corrupt_storage_is_reported():
    out = _rewritten(
        Holder(w=fastnn.ones(4)),
        lambda n, data: data[:-4] if n.startswith("storages/") else data,
    )
    with pytest.raises(RuntimeError, match="storage 0 holds 12 bytes"):
        fastnn.load(out, weights_only=False)


def test_map_location_cpu_and_device_strings():
    back = _round_trip(Holder(w=fastnn.ones(2)), weights_only=False, map_location="cpu")
    assert back.w.device.type == "cpu"


def test_torch_saved_whole_fastnn_model_loads_with_weights_only_false():
    torch = pytest.importorskip("torch")
    fastnn.manual_seed(3)
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    buf = io.BytesIO()
    torch.save({"model": model, "step": torch.tensor([4, 5])}, buf)
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="weights_only=False"):
        fastnn.load(buf)
    buf.seek(0)
    back = fastnn.load(buf, weights_only=False)
    x = fastnn.randn(4, 2)
    np.testing.assert_array_equal(back["model"](x).detach().numpy(), model(x).detach().numpy())
    assert back["step"].tolist() == [4, 5] and back["step"].dtype == fastnn.int64


def test_torch_saved_torch_model_is_refused_with_a_hint():
    torch = pytest.importorskip("torch")
    buf = io.BytesIO()
    torch.save(torch.nn.Linear(2, 2), buf)
    for wo in (True, False):
        buf.seek(0)
        with pytest.raises(pickle.UnpicklingError, match="torch.nn.modules.linear.Linear"):
            fastnn.load(buf, weights_only=wo)


def test_torch_tensors_inside_other_objects_are_refused():
    torch = pytest.importorskip("torch")
    buf = io.BytesIO()
    torch.save(Holder(t=torch.ones(2)), buf)
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="inside objects of other classes"):
        fastnn.load(buf, weights_only=False)
