"""nn.Module features against torch: forward hooks and pre-hooks (order, prepend, with_kwargs,
always_call, replaced inputs/outputs, removable handles), non-persistent buffers, named_modules,
get_submodule, load_state_dict's result and errors, requires_grad_, half/float/double, and the
containers ModuleDict, ParameterList and ParameterDict. Each recipe runs on fastnn and on torch
and returns plain Python data, which must be equal."""

import warnings
from collections import OrderedDict

import numpy as np
import pytest

import fastnn

torch = pytest.importorskip("torch")

LIBS = [fastnn, torch]


def _same(recipe):
    """Run recipe(L) on both libraries; the results must be equal."""
    theirs = recipe(torch)
    ours = recipe(fastnn)
    assert ours == theirs
    return ours


def _vals(t):
    return np.round(t.detach().numpy().astype(np.float64), 5).tolist()


def _fixed_linear(L, n_in=3, n_out=2):
    m = L.nn.Linear(n_in, n_out)
    with L.no_grad():
        m.weight.copy_(L.tensor(np.arange(n_in * n_out, dtype=np.float32).reshape(n_out, n_in)))
        m.bias.copy_(L.tensor(np.ones(n_out, dtype=np.float32)))
    return m


# ---- hooks -------------------------------------------------------------------------------------


def test_forward_hooks_order_prepend_and_replacement():
    def recipe(L):
        log = []
        m = _fixed_linear(L)
        x = L.ones(1, 3)
        m.register_forward_hook(lambda mod, args, out: log.append(("a", _vals(out))))
        m.register_forward_hook(lambda mod, args, out: out * 2)  # replaces the output
        m.register_forward_hook(lambda mod, args, out: log.append(("c", _vals(out))))
        m.register_forward_hook(lambda mod, args, out: log.append("first"), prepend=True)
        m.register_forward_pre_hook(lambda mod, args: log.append(("pre", _vals(args[0]))))
        m.register_forward_pre_hook(lambda mod, args: args[0] + 1)  # non-tuple: wrapped
        m.register_forward_pre_hook(lambda mod, args: log.append("pre-first"), prepend=True)
        out = m(x)
        return log, _vals(out), m.forward(x).shape == out.shape

    log, out, _ = _same(recipe)
    assert log[0] == "pre-first" and log[2] == "first" and out == [[14.0, 50.0]]


def test_hooks_with_kwargs():
    class Scale:
        def __init__(self, L):
            self.m = L.nn.Module()
            self.m.forward = lambda x, scale=1.0: x * scale

    def recipe(L):
        log = []

        class M(L.nn.Module):
            def forward(self, x, scale=1.0):
                return x * scale

        m = M()
        m.register_forward_pre_hook(
            lambda mod, args, kwargs: (args, {**kwargs, "scale": 3.0}), with_kwargs=True
        )
        m.register_forward_hook(
            lambda mod, args, kwargs, out: log.append(sorted(kwargs.items())) or out + 1,
            with_kwargs=True,
        )
        out = m(L.ones(2), scale=2.0)
        return log, _vals(out)

    assert _same(recipe) == ([[("scale", 3.0)]], [4.0, 4.0])


def test_pre_hook_with_kwargs_must_return_a_pair():
    for L in LIBS:
        m = L.nn.Identity()
        m.register_forward_pre_hook(lambda mod, args, kwargs: args, with_kwargs=True)
        with pytest.raises(RuntimeError, match="must return None or a tuple"):
            m(L.ones(2))


def test_handles_remove_and_context_manager():
    def recipe(L):
        log = []
        m = L.nn.Identity()
        h1 = m.register_forward_hook(lambda *a: log.append(1), with_kwargs=False)
        h2 = m.register_forward_hook(lambda mod, a, k, o: log.append(2), with_kwargs=True)
        with m.register_forward_pre_hook(lambda *a: log.append(0)):
            m(L.ones(1))
        m(L.ones(1))
        h2.remove()
        h2.remove()  # idempotent
        m(L.ones(1))
        h1.remove()
        m(L.ones(1))
        return log, len(m._forward_hooks), len(m._forward_hooks_with_kwargs)

    assert _same(recipe) == ([0, 1, 2, 1, 2, 1], 0, 0)


def test_always_call_hooks_run_when_forward_raises():
    def recipe(L):
        log = []

        class Boom(L.nn.Module):
            def forward(self, x):
                raise ValueError("boom")

        m = Boom()
        m.register_forward_hook(lambda mod, a, out: log.append(("plain", out)))
        m.register_forward_hook(lambda mod, a, out: log.append(("always", out)), always_call=True)
        with pytest.raises(ValueError, match="boom"):
            m(L.ones(1))
        # a failing always_call hook during the error is reported as a warning
        m.register_forward_hook(lambda *a: 1 / 0, always_call=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(ValueError, match="boom"):
                m(L.ones(1))
        return log, ["silenced" in str(w.message) for w in caught]

    assert _same(recipe) == ([("always", None), ("always", None)], [True])


def test_always_call_hook_runs_once_on_success():
    def recipe(L):
        log = []
        m = L.nn.Identity()
        m.register_forward_hook(lambda mod, a, out: log.append("always"), always_call=True)
        m(L.ones(1))
        return log

    assert _same(recipe) == ["always"]


def test_hooks_see_sequential_children_and_gradients_flow():
    def recipe(L):
        names = []
        net = L.nn.Sequential(_fixed_linear(L), L.nn.ReLU(), _fixed_linear(L, 2, 1))
        for name, mod in net.named_modules():
            mod.register_forward_hook(lambda m, a, o, name=name: names.append(name))
        net[0].register_forward_hook(lambda m, a, o: o * 0.5)
        out = net(L.ones(2, 3)).sum()
        out.backward()
        return names, _vals(out), _vals(net[0].weight.grad)

    _same(recipe)


def test_hook_must_be_callable():
    with pytest.raises(TypeError, match="callable"):
        fastnn.nn.Identity().register_forward_hook(3)


# ---- module basics -----------------------------------------------------------------------------


def _net(L):
    class Net(L.nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = L.nn.Sequential(L.nn.Linear(3, 4), L.nn.ReLU())
            self.head = L.nn.Linear(4, 2)
            self.shared = self.head
            self.register_buffer("running", L.zeros(4))
            self.register_buffer("scratch", L.ones(2), persistent=False)
            self.register_buffer("count", L.tensor(3))

    return Net()


def test_buffers_named_modules_and_get_submodule():
    def recipe(L):
        net = _net(L)
        net.double()
        return (
            list(net.state_dict()),
            [n for n, _ in net.named_buffers()],
            [n for n, _ in net.named_modules()],
            [n for n, _ in net.named_modules(remove_duplicate=False, prefix="net")],
            type(net.get_submodule("enc.0")).__name__,
            str(net.scratch.dtype).split(".")[-1],
            str(net.count.dtype).split(".")[-1],
        )

    _same(recipe)
    for L in LIBS:
        with pytest.raises(AttributeError):
            _net(L).get_submodule("enc.7")
        with pytest.raises(AttributeError):
            _net(L).get_submodule("running")  # a buffer, not a module


def test_load_state_dict_strict_and_not():
    def recipe(L):
        net = _net(L)
        sd = _net(L).state_dict()
        del sd["head.bias"]
        sd["extra.weight"] = L.zeros(1)
        keys = net.load_state_dict(sd, strict=False)
        full = net.load_state_dict(_net(L).state_dict())
        with pytest.raises(RuntimeError) as err:
            net.load_state_dict(sd)
        return (
            type(keys).__name__,
            keys.missing_keys,
            keys.unexpected_keys,
            tuple(keys),
            repr(full),
            str(err.value).replace("torch", "").split(":", 1)[1],
        )

    name, missing, unexpected, *_ = _same(recipe)
    assert name == "_IncompatibleKeys"
    assert missing == ["head.bias"] and unexpected == ["extra.weight"]


def test_requires_grad_and_dtype_moves():
    def recipe(L):
        net = _net(L)
        net.requires_grad_(False)
        frozen = [p.requires_grad for p in net.parameters()]
        net.enc.requires_grad_()
        mixed = [p.requires_grad for p in net.parameters()]
        dtypes = []
        for move in ("half", "float", "double"):
            getattr(net, move)()
            dtypes.append(sorted({str(t.dtype).split(".")[-1] for t in net.state_dict().values()}))
        return frozen, mixed, dtypes, net.scratch.dtype == net.head.weight.dtype

    dtypes = _same(recipe)[2]
    assert dtypes[0] == ["float16", "int64"]


def test_half_module_runs_where_fastnn_has_float16():
    m = fastnn.nn.Linear(3, 2).half()
    out = m(fastnn.ones(4, 3).half())
    assert out.dtype == fastnn.float16
    conv = fastnn.nn.Conv2d(1, 2, 3).half()
    with pytest.raises(TypeError, match="float16"):
        conv(fastnn.ones(1, 1, 5, 5).half())


# ---- containers --------------------------------------------------------------------------------


def test_module_dict():
    def recipe(L):
        md = L.nn.ModuleDict({"b": L.nn.Linear(2, 3), "a": L.nn.ReLU()})
        md["c"] = L.nn.Linear(3, 1)
        md.update([("d", L.nn.Tanh()), ("a", L.nn.Sigmoid())])
        md.update(OrderedDict([("z", L.nn.Identity()), ("y", L.nn.Identity())]))
        popped = type(md.pop("d")).__name__
        out = [
            list(md),
            list(md.keys()),
            [type(v).__name__ for v in md.values()],
            [k for k, _ in md.items()],
            list(md.state_dict()),
            sum(p.numel() for p in md.parameters()),
            "c" in md,
            "d" in md,
            len(md),
            popped,
            [n for n, _ in md.named_modules()],
        ]
        del md["b"]
        out.append(list(md.state_dict()))
        md.clear()
        out.append(len(md))
        return out

    _same(recipe)


@pytest.mark.parametrize(
    "bad",
    [
        lambda L: L.nn.ModuleDict(3),
        lambda L: L.nn.ModuleDict([("a", L.nn.ReLU()), 3]),
        lambda L: L.nn.ModuleDict([("a", L.nn.ReLU(), 1)]),
        lambda L: L.nn.ModuleDict({"a": 3}),
        lambda L: L.nn.ModuleDict({"a.b": L.nn.ReLU()}),
        lambda L: L.nn.ModuleDict({"keys": L.nn.ReLU()}),
        lambda L: L.nn.ModuleDict({"a": L.nn.ReLU()})["b"],
        lambda L: L.nn.ParameterList(L.ones(2)),
        lambda L: L.nn.ParameterList([L.ones(1)])[3],
        lambda L: L.nn.ParameterList([L.ones(1)])[1.5],
        lambda L: L.nn.ParameterDict({1: L.ones(1)}),
        lambda L: L.nn.ParameterDict([("a", L.ones(1), 2)]),
        lambda L: L.nn.ParameterDict(5),
        lambda L: L.nn.ParameterDict()["missing"],
        lambda L: L.nn.ParameterList()(1),
        lambda L: L.nn.ParameterDict()(1),
    ],
)
def test_container_errors_match_torch(bad):
    with pytest.raises(Exception) as theirs:
        bad(torch)
    with pytest.raises(theirs.type):
        bad(fastnn)


def test_failed_update_changes_nothing():
    md = fastnn.nn.ModuleDict({"a": fastnn.nn.ReLU()})
    with pytest.raises(TypeError):
        md.update([("b", fastnn.nn.ReLU()), ("c", 3)])
    assert list(md) == ["a"]
    pd = fastnn.nn.ParameterDict({"a": fastnn.ones(1)})
    with pytest.raises(TypeError):
        pd.update([("b", fastnn.ones(1)), (2, fastnn.ones(1))])
    assert list(pd) == ["a"]
    with pytest.raises(KeyError):
        pd["update"] = fastnn.ones(1)  # the name of a method
    assert list(pd) == ["a"]


def test_parameter_list():
    def recipe(L):
        pl = L.nn.ParameterList([L.ones(2), L.nn.Parameter(L.zeros(3)), "note"])
        pl.append(L.ones(1, requires_grad=False))
        pl.extend([L.zeros(2, 2)])
        pl += [L.ones(4)]
        pl[0] = L.zeros(5)
        pl[-1] = L.nn.Parameter(L.ones(6), requires_grad=False)
        sliced = pl[1:5:2]
        return [
            len(pl),
            [type(p).__name__ for p in pl],
            [tuple(p.shape) for p in pl if not isinstance(p, str)],
            [p.requires_grad for p in pl if not isinstance(p, str)],
            list(pl.state_dict()),
            [n for n, _ in pl.named_parameters()],
            len(sliced),
            [type(p).__name__ for p in sliced],
            list(sliced.state_dict()),
            tuple(pl[-2].shape),
            repr(pl).replace("torch.", "").replace("fastnn.", "").splitlines()[1:3],
        ]

    _same(recipe)


def test_parameter_dict():
    def recipe(L):
        pd = L.nn.ParameterDict({"b": L.ones(2), "a": L.zeros(3), "c": "text"})
        pd["d"] = L.nn.Parameter(L.ones(1), requires_grad=False)
        pd.update(OrderedDict([("z", L.ones(1)), ("y", L.ones(2))]))
        pd.update([("x", L.zeros(1)), ("b", L.zeros(4))])
        first = [list(pd), list(pd.keys()), list(pd.state_dict())]
        default = pd.setdefault("w", L.ones(7))
        got = pd.get("nothing", "fallback")
        popped = tuple(pd.pop("y").shape)
        last = pd.popitem()
        merged = pd | L.nn.ParameterDict({"m": L.ones(1)})
        copied = pd.copy()
        pd |= {"n": L.ones(2)}
        return [
            *first,
            tuple(default.shape),
            got,
            popped,
            (last[0], tuple(last[1].shape)),
            list(merged),
            list(copied),
            list(pd),
            "c" in pd,
            len(pd),
            [type(v).__name__ for v in pd.values()],
            [k for k, _ in pd.items()],
            list(reversed(pd)),
            sum(p.numel() for p in pd.parameters()),
            [p.requires_grad for p in pd.parameters()],
            repr(L.nn.ParameterDict({"k": L.ones(2, 3), "j": 1}))
            .replace(L.__name__ + ".", "")
            .splitlines()[1:],
        ]

    _same(recipe)


def test_containers_move_and_load_like_modules():
    def recipe(L):
        class Net(L.nn.Module):
            def __init__(self):
                super().__init__()
                self.blocks = L.nn.ModuleDict({"lin": L.nn.Linear(2, 2)})
                self.plist = L.nn.ParameterList([L.ones(3)])
                self.pdict = L.nn.ParameterDict({"scale": L.ones(1)})

        net = Net().double()
        sd = net.state_dict()
        other = Net()
        result = other.load_state_dict(sd)
        return list(sd), [str(p.dtype).split(".")[-1] for p in net.parameters()], tuple(result)

    _same(recipe)
