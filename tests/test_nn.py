"""fastnn.nn: Module machinery, containers, Linear and friends, Dropout, init, loss modules."""

import math
from collections import OrderedDict

import numpy as np
import pytest

import fastnn
from fastnn import nn
from fastnn.nn import functional as F
from fastnn.nn import init


def npy(x):
    return x.detach().numpy()


def t(a, dtype=np.float32, requires_grad=False):
    return fastnn.Tensor(np.asarray(a, dtype=dtype), requires_grad=requires_grad)


class Block(nn.Module):
    def __init__(self, shared=None):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.act = nn.ReLU()
        self.shared = shared if shared is not None else nn.Linear(4, 3, bias=False)
        self.register_buffer("count", t([0.0]))
        self.register_buffer("scratch", t([1.0, 2.0]), persistent=False)

    def forward(self, x):
        return self.shared(self.act(self.fc(x)))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        shared = nn.Linear(4, 3, bias=False)
        self.a = Block(shared)
        self.b = Block(shared)
        self.scale = nn.Parameter(t([2.0]))

    def forward(self, x):
        return self.b(self.a(x)) * self.scale


# ---- Parameter ----


def test_parameter_shares_storage():
    base = t([1.0, 2.0])
    p = nn.Parameter(base)
    assert isinstance(p, fastnn.Tensor) and p.requires_grad and p.is_leaf
    assert p._data is base._data
    assert not nn.Parameter(base, requires_grad=False).requires_grad
    assert repr(p).startswith("Parameter containing:\n")
    with pytest.raises(TypeError, match="Tensor or numpy"):
        nn.Parameter([1.0, 2.0])


# ---- registration and walks ----


def test_parameters_walk_and_names():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == [
        "scale",
        "a.fc.weight",
        "a.fc.bias",
        "a.shared.weight",
        "b.fc.weight",
        "b.fc.bias",
    ]  # the shared Linear counted once
    assert len(list(net.parameters())) == 6
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["scale"]
    assert [n for n, _ in net.named_children()] == ["a", "b"]
    assert [n for n, _ in net.named_modules()] == [
        "",
        "a",
        "a.fc",
        "a.act",
        "a.shared",
        "b",
        "b.fc",
        "b.act",
    ]
    assert [n for n, _ in net.named_buffers()] == ["a.count", "a.scratch", "b.count", "b.scratch"]
    assert net.get_submodule("a.fc") is net.a.fc
    assert net.get_parameter("a.fc.bias") is net.a.fc.bias
    with pytest.raises(AttributeError):
        net.get_submodule("a.nope")


def test_setattr_registration_rules():
    m = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="parameter 'weight'"):
        m.weight = t(np.zeros((2, 2)))
    m.bias = None
    assert m.bias is None and [n for n, _ in m.named_parameters()] == ["weight"]
    m.extra = nn.Parameter(t([1.0]))
    assert "extra" in dict(m.named_parameters())
    with pytest.raises(TypeError, match="as parameter 'extra'"):
        m.extra = nn.ReLU()  # torch: a parameter slot only takes a Parameter or None
    del m.extra
    assert not hasattr(m, "extra")
    m.extra = nn.ReLU()
    assert "extra" in m._modules and "extra" not in m.__dict__
    with pytest.raises(KeyError, match="cannot contain"):
        m.register_parameter("a.b", None)
    with pytest.raises(TypeError, match="nn.Parameter or None required"):
        m.register_parameter("w2", t([1.0]))
    with pytest.raises(TypeError, match="not a Module"):
        m.add_module("x", 3)
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("forward", t([1.0]))

    class NoInit(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(t([1.0]))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        NoInit()
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(1)


def test_apply_init_weights_as_in_the_seed():
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    visited = []

    def init_weights(m):
        visited.append(type(m).__name__)
        if type(m) == nn.Linear:
            nn.init.normal_(m.weight, std=0.01)

    fastnn.manual_seed(0)
    assert net.apply(init_weights) is net
    assert visited == ["Flatten", "Linear", "Sequential"]
    w = npy(net[1].weight)
    assert abs(w.std() - 0.01) < 5e-4 and abs(w.mean()) < 5e-4


def test_seed_data_fills():
    """The d2l initialization through .data: weight.data.normal_(0, 0.01), bias.data.fill_(0)."""
    net = nn.Sequential(nn.Linear(2, 1))
    w = net[0].weight
    net[0].weight.data.normal_(0, 0.01)
    net[0].bias.data.fill_(0)
    assert net[0].weight is w and npy(net[0].bias).tolist() == [0.0]
    assert 0 < abs(npy(w)).max() < 0.1


def test_train_eval_propagates():
    net = Net()
    assert net.training and net.a.fc.training
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.a.train()
    assert net.a.fc.training and not net.b.training and not net.training
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError, match="boolean"):
        net.train("yes")


def test_zero_grad():
    m = nn.Linear(3, 2)
    for p in m.parameters():
        p.grad = fastnn.Tensor(np.ones(p.shape, np.float32))
    m.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not npy(p.grad).any() for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_requires_grad_():
    m = nn.Linear(3, 2).requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


# ---- state_dict ----


def test_state_dict_round_trip():
    fastnn.manual_seed(1)
    a, b = Net(), Net()
    sd = a.state_dict()
    assert list(sd) == [
        "scale",
        "a.count",
        "a.fc.weight",
        "a.fc.bias",
        "a.shared.weight",
        "b.count",
        "b.fc.weight",
        "b.fc.bias",
        "b.shared.weight",
    ]
    assert "a.scratch" not in sd  # non-persistent buffer
    assert sd["a.fc.weight"]._data is a.a.fc.weight._data  # shares storage, detached
    assert not sd["a.fc.weight"].requires_grad
    assert not np.array_equal(npy(b.a.fc.weight), npy(a.a.fc.weight))
    res = b.load_state_dict(sd)
    assert res.missing_keys == [] and res.unexpected_keys == []
    for (k, va), (_, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        np.testing.assert_array_equal(npy(va), npy(vb), err_msg=k)
        assert va._data is not vb._data
    w = b.a.fc.weight
    b.load_state_dict({k: npy(v) * 0 for k, v in sd.items()})  # numpy arrays work too
    assert b.a.fc.weight is w and not npy(w).any()
    x = t(np.ones((2, 3)))
    a2 = Net()
    a2.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(npy(a2(x)), npy(a(x)))


def test_load_state_dict_errors():
    m = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))
    sd = m.state_dict()
    missing = {k: v for k, v in sd.items() if k != "2.bias"}
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "2.bias"'):
        m.load_state_dict(missing)
    extra = dict(sd, **{"3.weight": t([1.0])})
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\) in state_dict: "3.weight"') as e:
        m.load_state_dict(extra)
    assert "Error(s) in loading state_dict for Sequential" in str(e.value)
    res = m.load_state_dict(dict(missing, **{"3.weight": t([1.0])}), strict=False)
    assert res.missing_keys == ["2.bias"] and res.unexpected_keys == ["3.weight"]
    bad = dict(sd, **{"0.weight": t(np.zeros((2, 4)))})
    for strict in (True, False):
        with pytest.raises(
            RuntimeError,
            match=r"size mismatch for 0.weight: copying a param "
            r"with shape \(2, 4\) from checkpoint, the shape "
            r"in current model is \(2, 3\)",
        ):
            m.load_state_dict(bad, strict=strict)
    before = npy(m[0].weight).copy()
    with pytest.raises(RuntimeError):
        m.load_state_dict(dict(bad, **{"0.bias": t([5.0, 5.0])}))
    np.testing.assert_array_equal(npy(m[0].weight), before)  # nothing copied on error
    assert npy(m[0].bias).tolist() != [5.0, 5.0]
    with pytest.raises(TypeError, match="dict-like"):
        m.load_state_dict([1, 2])


def test_copy_pickle_and_save_load(tmp_path):
    import copy
    import pickle

    net = nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.ReLU(), nn.Dropout(0.2), nn.Linear(3, 2))
    net.eval()
    x = t(np.random.default_rng(0).standard_normal((5, 4)))
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        assert isinstance(clone[1].weight, nn.Parameter)
        assert clone[1].weight._data is not net[1].weight._data
        assert repr(clone) == repr(net) and not clone.training
        np.testing.assert_array_equal(npy(clone(x)), npy(net(x)))
    fastnn.save(net.state_dict(), str(tmp_path / "sd.fnn"))
    other = nn.Sequential(
        nn.Flatten(), nn.Linear(4, 3), nn.ReLU(), nn.Dropout(0.2), nn.Linear(3, 2)
    ).eval()
    other.load_state_dict(fastnn.load(str(tmp_path / "sd.fnn")))
    np.testing.assert_array_equal(npy(other(x)), npy(net(x)))


# ---- dtype / device ----


def test_module_to_dtype():
    net = Net()
    p = net.a.fc.weight
    p.grad = fastnn.Tensor(np.ones(p.shape, np.float32))
    before = npy(p).copy()
    assert net.to(fastnn.float64) is net
    assert net.a.fc.weight is p  # same Parameter object (optimizers keep their references)
    assert all(q.dtype == fastnn.float64 for q in net.parameters())
    assert all(b.dtype == fastnn.float64 for b in net.buffers())
    assert p.grad.dtype == fastnn.float64
    np.testing.assert_array_equal(npy(p), before)
    net.float()
    assert all(q.dtype == fastnn.float32 for q in net.parameters())
    net.double()
    assert all(q.dtype == fastnn.float64 for q in net.parameters())
    net.to(dtype=fastnn.float32)
    assert p.dtype == fastnn.float32
    net.to("cpu")
    net.to(fastnn.device("cpu"), fastnn.float64)
    assert p.dtype == fastnn.float64 and str(p.device) == "cpu"
    with pytest.raises(TypeError, match="floating point"):
        net.to(fastnn.int64)
    if not fastnn.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA"):
            net.to("cuda")
        assert str(p.device) == "cpu"
    x = t(np.ones((2, 3)), np.float64)
    assert net(x).dtype == fastnn.float64


# ---- repr and containers ----


def test_repr_like_torch():
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    assert repr(net) == (
        "Sequential(\n"
        "  (0): Flatten(start_dim=1, end_dim=-1)\n"
        "  (1): Linear(in_features=784, out_features=10, bias=True)\n"
        ")"
    )
    nested = nn.Sequential(nn.Linear(2, 3, bias=False), nn.Sequential(nn.ReLU(), nn.Dropout(0.8)))
    assert repr(nested) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=False)\n"
        "  (1): Sequential(\n"
        "    (0): ReLU()\n"
        "    (1): Dropout(p=0.8, inplace=False)\n"
        "  )\n"
        ")"
    )
    assert repr(nn.CrossEntropyLoss(reduction="none")) == "CrossEntropyLoss(reduction='none')"
    assert repr(nn.MSELoss()) == "MSELoss()"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"


def test_repr_matches_torch():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 256),
        nn.ReLU(),
        nn.Dropout(0.2),
        nn.Linear(256, 10),
        nn.LogSoftmax(dim=1),
    )
    theirs = torch.nn.Sequential(
        torch.nn.Flatten(),
        torch.nn.Linear(784, 256),
        torch.nn.ReLU(),
        torch.nn.Dropout(0.2),
        torch.nn.Linear(256, 10),
        torch.nn.LogSoftmax(dim=1),
    )
    assert repr(ours) == repr(theirs)


def test_module_list_repr_folds_repeated_neighbours_like_torch():
    torch = pytest.importorskip("torch")

    def build(lib):
        n = lib.nn
        block = n.Sequential(n.Linear(4, 4), n.ReLU())
        stack = n.ModuleList([n.ReLU(), n.ReLU(), n.Linear(2, 2), n.ReLU(), block, block, block])
        return n.ModuleDict({"empty": n.ModuleList(), "stack": stack})

    assert repr(build(fastnn)) == repr(build(torch))


def test_sequential_indexing():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 4), nn.Tanh()]
    s = nn.Sequential(*layers)
    assert len(s) == 4 and list(s) == layers
    assert s[0] is layers[0] and s[-1] is layers[3] and s[-4] is layers[0]
    sub = s[1:3]
    assert isinstance(sub, nn.Sequential) and list(sub) == layers[1:3]
    assert list(sub._modules) == ["1", "2"]  # torch keeps the names
    assert list(s[::-1]) == layers[::-1]
    for bad in (4, -5):
        with pytest.raises(IndexError):
            s[bad]
    s.append(nn.Sigmoid())
    assert len(s) == 5 and isinstance(s[4], nn.Sigmoid)
    s[1] = nn.GELU()
    assert isinstance(s[1], nn.GELU)
    del s[0]
    assert len(s) == 4 and list(s._modules) == ["0", "1", "2", "3"]
    assert isinstance(s[0], nn.GELU)
    with pytest.raises(TypeError):
        s[0] = 3
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert named.fc is named[0] and [n for n, _ in named.named_parameters()] == [
        "fc.weight",
        "fc.bias",
    ]
    x = t(np.ones((5, 2)))
    np.testing.assert_allclose(npy(named(x)), np.maximum(npy(named.fc(x)), 0))


def test_sequential_delete_and_insert_renumber():
    a, b, c, d = nn.ReLU(), nn.Tanh(), nn.Sigmoid(), nn.GELU()
    s = nn.Sequential(OrderedDict([("a", a), ("b", b), ("c", c)]))
    del s[0]  # named keys become 0..n-1, as in torch
    assert list(s._modules) == ["0", "1"] and s[0] is b and s[1] is c
    s.insert(-1, d)
    assert list(s._modules) == ["0", "1", "2"] and list(s) == [b, d, c]
    del s[:2]
    assert list(s._modules) == ["0"] and s[0] is c
    with pytest.raises(IndexError):
        s.insert(3, a)


def test_module_list():
    ml = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])
    ml.append(nn.Linear(2, 1))
    assert len(ml) == 3 and len(list(ml.parameters())) == 6
    assert ml[-1].out_features == 1 and isinstance(ml[:2], nn.ModuleList) and len(ml[:2]) == 2

    class Holder(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(3, 3) for _ in range(2)])

    assert [n for n, _ in Holder().named_parameters()] == [
        "layers.0.weight",
        "layers.0.bias",
        "layers.1.weight",
        "layers.1.bias",
    ]
    del ml[0]
    assert len(ml) == 2 and list(ml._modules) == ["0", "1"]
    last = ml[1]
    del ml[:1]
    assert list(ml._modules) == ["0"] and ml[0] is last
    with pytest.raises(IndexError):
        ml[2]


# ---- Linear ----


def test_linear_init_bounds_and_statistics():
    fastnn.manual_seed(0)
    m = nn.Linear(400, 300)
    assert m.weight.shape == (300, 400) and m.bias.shape == (300,)
    assert m.weight.dtype == fastnn.float32 and m.weight.requires_grad
    bound = 1 / math.sqrt(400)  # kaiming_uniform(a=sqrt(5)) == U(+-1/sqrt(fan_in))
    w, b = npy(m.weight), npy(m.bias)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound
    assert abs(w.mean()) < 0.01 * bound
    fastnn.manual_seed(0)
    np.testing.assert_array_equal(npy(nn.Linear(400, 300).weight), w)
    m64 = nn.Linear(3, 2, bias=False, dtype=fastnn.float64)
    assert m64.bias is None and m64.weight.dtype == fastnn.float64
    assert len(list(m64.parameters())) == 1
    with pytest.raises(ValueError, match="in_features"):
        nn.Linear(-1, 3)
    for bad in (2.5, True):  # a size of the wrong type is a TypeError, as torch's
        with pytest.raises(TypeError, match="in_features"):
            nn.Linear(bad, 3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_forward_backward(rng, dtype):
    m = nn.Linear(7, 5, dtype=dtype)
    x = t(rng.standard_normal((33, 7)), dtype, requires_grad=True)
    y = m(x)
    W, bias = npy(m.weight).astype(np.float64), npy(m.bias).astype(np.float64)
    xs = npy(x).astype(np.float64)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(npy(y), xs @ W.T + bias, rtol=tol, atol=tol)
    g = rng.standard_normal((33, 5))
    y.backward(t(g, dtype))
    np.testing.assert_allclose(npy(m.weight.grad), g.T @ xs, rtol=tol * 10, atol=tol * 10)
    np.testing.assert_allclose(npy(m.bias.grad), g.sum(0), rtol=tol * 10, atol=tol * 10)
    np.testing.assert_allclose(npy(x.grad), g @ W, rtol=tol * 10, atol=tol * 10)


def test_linear_torch_parity(rng):
    torch = pytest.importorskip("torch")
    ours = nn.Linear(13, 6)
    theirs = torch.nn.Linear(13, 6)
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(npy(ours.weight).copy()))
        theirs.bias.copy_(torch.from_numpy(npy(ours.bias).copy()))
    xn = rng.standard_normal((9, 13)).astype(np.float32)
    gn = rng.standard_normal((9, 6)).astype(np.float32)
    y = ours(t(xn))
    yt = theirs(torch.from_numpy(xn))
    np.testing.assert_allclose(npy(y), npy(yt), rtol=1e-5, atol=1e-6)
    y.backward(t(gn))
    yt.backward(torch.from_numpy(gn))
    np.testing.assert_allclose(npy(ours.weight.grad), npy(theirs.weight.grad), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(npy(ours.bias.grad), npy(theirs.bias.grad), rtol=1e-5, atol=1e-5)
    # the state_dict has torch's keys and shapes
    sd_t = theirs.state_dict()
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == {
        k: tuple(v.shape) for k, v in sd_t.items()
    }


# ---- Flatten, Identity, activations ----


def test_flatten_and_identity():
    x = t(np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5))
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, -1)(x).shape == (120,)
    assert nn.Flatten(1, 2)(x).shape == (2, 12, 5)
    assert nn.Flatten(-2)(x).shape == (2, 3, 20)
    np.testing.assert_array_equal(npy(nn.Flatten()(x)), npy(x).reshape(2, 60))
    with pytest.raises(IndexError):
        nn.Flatten(5)(x)
    with pytest.raises(RuntimeError, match="start_dim cannot come after end_dim"):
        nn.Flatten(2, 1)(x)
    assert nn.Identity(54, unused="x")(x) is x


@pytest.mark.parametrize(
    ("module", "ref"),
    [
        (nn.ReLU(), lambda a: np.maximum(a, 0)),
        (nn.LeakyReLU(0.1), lambda a: np.where(a > 0, a, 0.1 * a)),
        (nn.Sigmoid(), lambda a: 1 / (1 + np.exp(-a))),
        (nn.Tanh(), np.tanh),
        (nn.GELU(), lambda a: 0.5 * a * (1 + np.vectorize(math.erf)(a / math.sqrt(2)))),
        (nn.Softmax(dim=1), lambda a: np.exp(a) / np.exp(a).sum(1, keepdims=True)),
        (nn.LogSoftmax(dim=1), lambda a: a - np.log(np.exp(a).sum(1, keepdims=True))),
    ],
)
def test_activation_modules(rng, module, ref):
    a = rng.standard_normal((7, 9))
    y = module(t(a, np.float64))
    np.testing.assert_allclose(npy(y), ref(a), rtol=1e-7, atol=1e-9)


# ---- Dropout ----


def test_dropout_scaling_and_eval():
    fastnn.manual_seed(0)
    d = nn.Dropout(p=0.8)
    x = t(np.full((200, 500), 3.0))
    y = npy(d(x))
    kept = y != 0
    assert abs(kept.mean() - 0.2) < 0.005
    np.testing.assert_allclose(y[kept], 3.0 / (1 - 0.8), rtol=1e-6)
    assert abs(y.mean() - 3.0) < 0.05
    fastnn.manual_seed(0)
    np.testing.assert_array_equal(npy(d(x)), y)  # reproducible
    assert not np.array_equal(npy(d(x)), y)  # a new mask each call
    d.eval()
    assert d(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert not npy(nn.Dropout(1.0)(x)).any()


def test_dropout_gradient_uses_the_mask():
    fastnn.manual_seed(2)
    x = t(np.ones((50, 40)), requires_grad=True)
    y = nn.Dropout(0.5)(x)
    y.sum().backward()
    np.testing.assert_array_equal(npy(x.grad), npy(y))  # d(x*m)/dx = m = y for x = 1


@pytest.mark.parametrize("p", [-0.1, 1.5, "0.5", None])
def test_dropout_validates_p(p):
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(p)


# ---- init ----


def test_calculate_gain_and_fans_match_torch():
    torch = pytest.importorskip("torch")
    for nl, param in [
        ("linear", None),
        ("sigmoid", None),
        ("tanh", None),
        ("relu", None),
        ("leaky_relu", None),
        ("leaky_relu", 0.2),
        ("leaky_relu", math.sqrt(5)),
        ("selu", None),
        ("conv2d", None),
    ]:
        assert init.calculate_gain(nl, param) == pytest.approx(
            torch.nn.init.calculate_gain(nl, param)
        )
    for shape in [(3, 4), (8, 3, 5, 5), (2, 6, 7), (1, 1)]:
        ours = init._calculate_fan_in_and_fan_out(t(np.zeros(shape)))
        theirs = torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))
        assert ours == theirs


def test_init_errors():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(t(np.zeros(5)))
    with pytest.raises(ValueError, match="Mode"):
        init.kaiming_uniform_(t(np.zeros((3, 3))), mode="fan_avg")
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.kaiming_normal_(t(np.zeros((3, 3))), nonlinearity="swish")
    with pytest.raises(TypeError, match="expected a Tensor"):
        init.normal_(np.zeros(3))


@pytest.mark.parametrize(
    ("fn", "kwargs", "fan_in", "fan_out", "kind", "scale"),
    [
        # scale: the bound (uniform) or std (normal) the function must produce
        (init.xavier_uniform_, {}, 300, 200, "uniform", math.sqrt(6 / 500)),
        (init.xavier_uniform_, {"gain": 2.0}, 300, 200, "uniform", 2 * math.sqrt(6 / 500)),
        (init.xavier_normal_, {}, 300, 200, "normal", math.sqrt(2 / 500)),
        (init.kaiming_uniform_, {"nonlinearity": "relu"}, 300, 200, "uniform", math.sqrt(6 / 300)),
        (
            init.kaiming_uniform_,
            {"mode": "fan_out", "nonlinearity": "relu"},
            300,
            200,
            "uniform",
            math.sqrt(6 / 200),
        ),
        (init.kaiming_normal_, {"nonlinearity": "relu"}, 300, 200, "normal", math.sqrt(2 / 300)),
        (init.kaiming_normal_, {"a": 0.1}, 300, 200, "normal", math.sqrt(2 / 1.01 / 300)),
        (init.uniform_, {"a": -0.5, "b": 0.5}, 300, 200, "uniform", 0.5),
        (init.normal_, {"mean": 0.0, "std": 0.02}, 300, 200, "normal", 0.02),
    ],
)
def test_init_statistics(fn, kwargs, fan_in, fan_out, kind, scale):
    fastnn.manual_seed(3)
    w = nn.Parameter(t(np.zeros((fan_out, fan_in))))
    assert fn(w, **kwargs) is w
    a = npy(w).astype(np.float64)
    assert w.grad is None and w.is_leaf  # filled under no_grad: no graph
    if kind == "uniform":
        assert np.abs(a).max() <= scale * (1 + 1e-6) and np.abs(a).max() > 0.99 * scale
        std = scale / math.sqrt(3)
    else:
        std = scale
    assert abs(a.std() - std) < 0.02 * std
    assert abs(a.mean()) < 0.02 * std


def test_init_constant_and_generator():
    w = t(np.ones((3, 4)))
    init.zeros_(w)
    assert not npy(w).any()
    init.ones_(w)
    assert (npy(w) == 1).all()
    init.constant_(w, 0.25)
    assert (npy(w) == 0.25).all()
    a = init.normal_(t(np.zeros((3, 4))), generator=np.random.default_rng(5)).detach().numpy()
    b = init.normal_(t(np.zeros((3, 4))), generator=np.random.default_rng(5)).detach().numpy()
    np.testing.assert_array_equal(a, b)
    c = (
        init.kaiming_uniform_(t(np.zeros((3, 4)), np.float64), generator=np.random.default_rng(5))
        .detach()
        .numpy()
    )
    assert c.dtype == np.float64 and c.any()
    init.kaiming_uniform_(t(np.zeros((0, 4))))  # zero elements: a no-op, like torch


# ---- loss modules ----


def test_loss_reduction_validated():
    for cls in (nn.MSELoss, nn.L1Loss, nn.CrossEntropyLoss, nn.BCELoss, nn.NLLLoss):
        with pytest.raises(ValueError, match="not a valid value for reduction"):
            cls(reduction="avg")
    nn.KLDivLoss(reduction="batchmean")
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="batchmean")
    with pytest.raises(ValueError, match="label_smoothing"):
        nn.CrossEntropyLoss(label_smoothing=1.5)
    with pytest.raises(ValueError, match="margin"):
        nn.TripletMarginLoss(margin=0)
    with pytest.raises(ValueError, match="delta"):
        nn.HuberLoss(delta=0)


def _loss_cases(rng):
    a = rng.standard_normal((6, 4))
    b = rng.standard_normal((6, 4))
    prob = 1 / (1 + np.exp(-a))
    tgt01 = (rng.random((6, 4)) > 0.5).astype(np.float64)
    labels = rng.integers(0, 4, 6)
    logp = a - np.log(np.exp(a).sum(1, keepdims=True))
    q = np.exp(b) / np.exp(b).sum(1, keepdims=True)
    y_pm = np.where(rng.random(6) > 0.5, 1.0, -1.0)
    return [
        ("MSELoss", {}, (a, b)),
        ("L1Loss", {}, (a, b)),
        ("HuberLoss", {"delta": 0.7}, (a, b)),
        ("SmoothL1Loss", {"beta": 0.5}, (a, b)),
        ("CrossEntropyLoss", {}, (a, labels)),
        ("CrossEntropyLoss", {"label_smoothing": 0.1}, (a, labels)),
        ("NLLLoss", {}, (logp, labels)),
        ("BCELoss", {}, (prob, tgt01)),
        ("BCEWithLogitsLoss", {}, (a, tgt01)),
        ("KLDivLoss", {}, (logp, q)),
        ("CosineEmbeddingLoss", {"margin": 0.1}, (a, b, y_pm)),
        ("TripletMarginLoss", {"margin": 0.5}, (a, b, b[::-1].copy())),
    ]


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning")
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_loss_modules_match_torch(rng, reduction):
    torch = pytest.importorskip("torch")
    for name, kwargs, args in _loss_cases(rng):
        ours_args = [t(x, np.int64 if x.dtype.kind == "i" else np.float64) for x in args]
        theirs_args = [torch.from_numpy(np.ascontiguousarray(x)) for x in args]
        ours = getattr(nn, name)(reduction=reduction, **kwargs)(*ours_args)
        theirs = getattr(torch.nn, name)(reduction=reduction, **kwargs)(*theirs_args)
        np.testing.assert_allclose(
            npy(ours),
            npy(theirs),
            rtol=1e-9,
            atol=1e-12,
            err_msg=f"{name}({kwargs}, reduction={reduction})",
        )


def test_ctc_loss_module_matches_torch(rng):
    torch = pytest.importorskip("torch")
    T, N, C, S = 12, 3, 5, 4
    logits = rng.standard_normal((T, N, C))
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    targets = rng.integers(1, C, (N, S))
    in_len, tg_len = np.array([12, 10, 11]), np.array([4, 3, 2])
    for reduction in ("none", "mean", "sum"):
        ours = nn.CTCLoss(reduction=reduction)(
            t(logp, np.float64), t(targets, np.int64), t(in_len, np.int64), t(tg_len, np.int64)
        )
        theirs = torch.nn.CTCLoss(reduction=reduction)(
            torch.from_numpy(logp),
            torch.from_numpy(targets),
            torch.from_numpy(in_len),
            torch.from_numpy(tg_len),
        )
        np.testing.assert_allclose(npy(ours), npy(theirs), rtol=1e-7, atol=1e-9)


def test_loss_module_is_the_functional(rng):
    a = t(rng.standard_normal((5, 3)), np.float64)
    b = t(rng.standard_normal((5, 3)), np.float64)
    np.testing.assert_array_equal(
        nn.MSELoss(reduction="sum")(a, b).detach().numpy(),
        F.mse_loss(a, b, reduction="sum").detach().numpy(),
    )
    logits = t(rng.standard_normal((5, 3)), np.float64, requires_grad=True)
    labels = t([0, 2, 1, 1, 0], np.int64)
    loss = nn.CrossEntropyLoss(reduction="none")(logits, labels)
    assert loss.shape == (5,)
    loss.mean().backward()
    assert logits.grad.shape == (5, 3)


def test_lazy_linear_materializes_in_place_for_an_earlier_optimizer():
    fastnn.manual_seed(0)
    lazy = nn.LazyLinear(3)
    assert isinstance(lazy.weight, nn.UninitializedParameter) and lazy.in_features == 0
    opt = fastnn.optim.SGD(lazy.parameters(), lr=0.1)  # built before the shapes are known
    weight = lazy.weight
    x = fastnn.randn(4, 5)
    y = lazy(x)
    assert type(lazy) is nn.Linear and lazy.in_features == 5 and y.shape == (4, 3)
    assert lazy.weight is weight and type(weight) is nn.Parameter and weight.shape == (3, 5)
    bound = 1 / 5**0.5  # initialised like Linear(5, 3)
    assert float(weight.abs().max()) <= bound and float(lazy.bias.abs().max()) <= bound
    before = weight.detach().clone()
    y.sum().backward()
    opt.step()
    np.testing.assert_allclose(weight.numpy(force=True), (before - 0.1 * weight.grad).numpy())
    np.testing.assert_allclose(
        lazy(x).numpy(force=True), (x @ weight.T + lazy.bias).numpy(force=True)
    )
    assert nn.LazyLinear(2, bias=False)(fastnn.ones(1, 4)).shape == (1, 2)
    with pytest.raises(RuntimeError, match="at least one dimension"):
        nn.LazyLinear(2)(fastnn.tensor(1.0))
    with pytest.raises(TypeError, match="floating"):
        nn.LazyLinear(2, dtype=fastnn.int64)


def test_lazy_linear_matches_torch_shapes_and_repr():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.LazyLinear(7), torch.nn.LazyLinear(7)
    assert repr(ours) == repr(theirs).replace("torch.", "")
    ours(fastnn.zeros(2, 11))
    theirs(torch.zeros(2, 11))
    assert repr(ours) == repr(theirs) and tuple(ours.weight.shape) == tuple(theirs.weight.shape)
