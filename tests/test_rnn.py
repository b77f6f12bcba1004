"""nn.RNN / nn.LSTM / nn.GRU and their cells: values and gradients against torch (every
parameter, the input, h0 and c0), finite differences in float64, dropout between layers,
torch's argument errors, state_dict keys and loading a torch checkpoint."""

import numpy as np
import pytest

import fastnn
from fastnn import nn
from fastnn.autograd import gradcheck
from fastnn.nn.functional import rnn as R

torch = pytest.importorskip("torch")

KINDS = ["RNN", "LSTM", "GRU"]
CONFIGS = [
    {},
    dict(num_layers=2, bidirectional=True),
    dict(batch_first=True, bias=False),
    dict(num_layers=3, batch_first=True, bidirectional=True),
    dict(nonlinearity="relu", num_layers=2),
]


def _pair(kind, dtype, **kw):
    """A torch module and a fastnn module with the same weights (fastnn loads torch's)."""
    if kind != "RNN":
        kw.pop("nonlinearity", None)
    tdt = torch.float64 if dtype == np.float64 else torch.float32
    tm = getattr(torch.nn, kind)(5, 6, **kw).to(tdt)
    fm = getattr(nn, kind)(5, 6, **kw, dtype=dtype)
    fm.load_state_dict({k: fastnn.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    return tm, fm


def _run(lib, m, x, states):
    """Forward with (or without) initial states; a loss touching output and every final state."""
    xt = lib.tensor(x, requires_grad=True)
    st = [lib.tensor(s, requires_grad=True) for s in states]
    hx = None if not st else (tuple(st) if len(st) == 2 else st[0])
    out, hn = m(xt) if hx is None else m(xt, hx)
    finals = list(hn) if isinstance(hn, tuple) else [hn]
    w = lib.tensor(np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape)).astype(x.dtype))
    loss = (out * w).sum() + sum((f * f).sum() * (i + 2) for i, f in enumerate(finals))
    loss.backward()
    return out, finals, xt, st


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("cfg", range(len(CONFIGS)))
@pytest.mark.parametrize("unbatched", [False, True])
@pytest.mark.parametrize("with_states", [False, True])
def test_matches_torch(kind, cfg, unbatched, with_states, rng):
    kw = dict(CONFIGS[cfg])
    tm, fm = _pair(kind, np.float64, **kw)
    dirs = 2 if kw.get("bidirectional") else 1
    n_states = dirs * kw.get("num_layers", 1)
    shape = (4, 5) if unbatched else ((3, 4, 5) if kw.get("batch_first") else (4, 3, 5))
    x = rng.standard_normal(shape)
    sshape = (n_states, 6) if unbatched else (n_states, 3, 6)
    states = [rng.standard_normal(sshape) for _ in range(2 if kind == "LSTM" else 1)]
    states = states if with_states else []
    to, tf, tx, ts = _run(torch, tm, x, states)
    fo, ff, fx, fs = _run(fastnn, fm, x, states)
    tol = dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fo.detach().numpy(), to.detach().numpy(), **tol)
    assert tuple(fo.shape) == tuple(to.shape)
    for a, b in zip(ff, tf):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **tol)
    np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), **tol)
    for a, b in zip(fs, ts):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), **tol)
    fparams = dict(fm.named_parameters())
    for name, p in tm.named_parameters():
        np.testing.assert_allclose(fparams[name].grad.numpy(), p.grad.numpy(), err_msg=name, **tol)


@pytest.mark.parametrize("kind", KINDS)
def test_float32_matches_torch(kind, rng):
    tm, fm = _pair(kind, np.float32, num_layers=2, bidirectional=True)
    x = rng.standard_normal((7, 33, 5)).astype(np.float32)
    to, _, tx, _ = _run(torch, tm, x, [])
    fo, _, fx, _ = _run(fastnn, fm, x, [])
    assert fo.dtype == fastnn.float32
    np.testing.assert_allclose(fo.detach().numpy(), to.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), rtol=1e-3, atol=1e-4)
    fparams = dict(fm.named_parameters())
    for name, p in tm.named_parameters():
        np.testing.assert_allclose(
            fparams[name].grad.numpy(), p.grad.numpy(), rtol=1e-3, atol=1e-4, err_msg=name
        )


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("unbatched", [False, True])
def test_cells_match_torch(kind, bias, unbatched, rng):
    kw = dict(nonlinearity="relu") if kind == "RNNCell" and not bias else {}
    tm = getattr(torch.nn, kind)(5, 6, bias=bias, **kw).double()
    fm = getattr(nn, kind)(5, 6, bias=bias, **kw, dtype=np.float64)
    fm.load_state_dict({k: fastnn.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    x = rng.standard_normal((5,) if unbatched else (3, 5))
    sshape = (6,) if unbatched else (3, 6)
    states = [rng.standard_normal(sshape) for _ in range(2 if kind == "LSTMCell" else 1)]
    for hx_given in (False, True):
        res = []
        for lib, m in ((torch, tm), (fastnn, fm)):
            xt = lib.tensor(x, requires_grad=True)
            st = [lib.tensor(s, requires_grad=True) for s in states]
            hx = (tuple(st) if len(st) == 2 else st[0]) if hx_given else None
            out = m(xt, hx)
            outs = list(out) if isinstance(out, tuple) else [out]
            sum(((o * o).sum() * (i + 1) for i, o in enumerate(outs))).backward()
            grads = [xt.grad] + ([s.grad for s in st] if hx_given else [])
            grads += [p.grad for p in m.parameters()]
            res.append([o.detach().numpy() for o in outs] + [g.numpy() for g in grads])
        for a, b in zip(res[1], res[0]):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
        for p in list(tm.parameters()) + list(fm.parameters()):
            p.grad = None


def _weights(rng, kind, layers, dirs, inp, hid, bias):
    gates = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}[kind]
    out = []
    for k in range(layers):
        width = inp if k == 0 else hid * dirs
        for _ in range(dirs):
            shapes = [(gates * hid, width), (gates * hid, hid)]
            shapes += [(gates * hid,), (gates * hid,)] if bias else []
            out.append(
                [fastnn.tensor(rng.standard_normal(s) * 0.5, requires_grad=True) for s in shapes]
            )
    return out


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN_TANH", "RNN_RELU"])
def test_gradcheck_two_layer_bidirectional(kind, rng):
    layers, dirs, inp, hid = 2, 2, 3, 2
    weights = _weights(rng, kind, layers, dirs, inp, hid, True)
    flat = [w for ws in weights for w in ws]
    x = fastnn.tensor(rng.standard_normal((3, 2, inp)), requires_grad=True)
    h0 = fastnn.tensor(rng.standard_normal((layers * dirs, 2, hid)), requires_grad=True)
    c0 = fastnn.tensor(rng.standard_normal((layers * dirs, 2, hid)), requires_grad=True)
    lstm = kind == "LSTM"

    def fn(x, h0, c0, *flat):
        ws = [list(flat[i : i + 4]) for i in range(0, len(flat), 4)]
        out, h, c = R.run(kind, x, h0, c0 if lstm else None, ws, layers, True, 0.0, False)
        parts = [out.reshape(-1), h.reshape(-1)] + ([c.reshape(-1)] if lstm else [])
        return fastnn.cat(parts)

    gradcheck(fn, (x, h0, c0, *flat))


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_gradcheck_cells(kind, rng):
    m = getattr(nn, kind)(3, 4, dtype=np.float64)
    x = fastnn.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    states = [
        fastnn.tensor(rng.standard_normal((2, 4)), requires_grad=True)
        for _ in range(2 if kind == "LSTMCell" else 1)
    ]
    params = list(m.parameters())

    def fn(x, *rest):
        st, ps = rest[: len(states)], rest[len(states) :]
        for p, v in zip(params, ps):
            m._parameters[next(n for n, q in m.named_parameters() if q is p)] = v
        out = m(x, tuple(st) if len(st) == 2 else st[0])
        outs = out if isinstance(out, tuple) else (out,)
        return fastnn.cat([o.reshape(-1) for o in outs])

    gradcheck(fn, (x, *states, *params))


def test_dropout_between_layers():
    fastnn.manual_seed(0)
    m = nn.LSTM(4, 8, num_layers=3, dropout=0.5)
    x = fastnn.randn(5, 2, 4)
    m.eval()
    a, b = m(x)[0], m(x)[0]
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())  # eval: none
    ref = nn.LSTM(4, 8, num_layers=3)
    ref.load_state_dict(m.state_dict())
    np.testing.assert_allclose(ref(x)[0].detach().numpy(), a.detach().numpy(), rtol=1e-6)
    m.train()
    c, d = m(x)[0], m(x)[0]
    assert not np.allclose(c.detach().numpy(), a.detach().numpy())
    assert not np.allclose(c.detach().numpy(), d.detach().numpy())
    one = nn.GRU(4, 8, num_layers=2, dropout=1.0)  # everything between the layers dropped
    out = one(x)[0]  # the second layer sees zeros: its output is independent of x
    np.testing.assert_allclose(out.detach().numpy(), one(x * 3)[0].detach().numpy(), atol=1e-7)


def test_state_dict_keys_shapes_and_torch_checkpoint(tmp_path):
    tm = torch.nn.LSTM(3, 5, num_layers=2, bidirectional=True, batch_first=True)
    fm = nn.LSTM(3, 5, num_layers=2, bidirectional=True, batch_first=True)
    tsd, fsd = tm.state_dict(), fm.state_dict()
    assert list(fsd) == list(tsd)
    assert all(tuple(fsd[k].shape) == tuple(tsd[k].shape) for k in tsd)
    torch.save(tsd, tmp_path / "lstm.pt")
    fm.load_state_dict(fastnn.load(str(tmp_path / "lstm.pt")))
    x = np.random.default_rng(1).standard_normal((2, 4, 3)).astype(np.float32)
    with torch.no_grad():
        to, (_, tc) = tm(torch.tensor(x))
    fo, (_, fc) = fm(fastnn.tensor(x))
    np.testing.assert_allclose(fo.detach().numpy(), to.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fc.detach().numpy(), tc.numpy(), rtol=1e-5, atol=1e-6)
    for kind in ("GRU", "RNN"):
        assert list(getattr(nn, kind)(3, 4, bias=False).state_dict()) == list(
            getattr(torch.nn, kind)(3, 4, bias=False).state_dict()
        )
    assert list(nn.GRUCell(3, 4).state_dict()) == list(torch.nn.GRUCell(3, 4).state_dict())


def test_init_and_repr():
    fastnn.manual_seed(3)
    m = nn.GRU(7, 16, num_layers=2)
    bound = 1 / 4
    for name, p in m.named_parameters():
        a = p.detach().numpy()
        assert a.dtype == np.float32 and np.abs(a).max() <= bound, name
        assert a.std() > bound / 3, name  # spread over the range, not a constant
    cases = [
        ("LSTM", (10, 20, 2), dict(batch_first=True, bidirectional=True, dropout=0.5, bias=False)),
        ("RNN", (3, 4), dict(nonlinearity="relu")),
        ("GRU", (3, 4), {}),
        ("RNNCell", (3, 4), dict(nonlinearity="relu")),
        ("LSTMCell", (3, 4), dict(bias=False)),
    ]
    for kind, args, kw in cases:
        assert repr(getattr(nn, kind)(*args, **kw)) == repr(getattr(torch.nn, kind)(*args, **kw))
    assert m.all_weights[1][0] is m.weight_ih_l1
    assert m.flatten_parameters() is None  # torch programs call it; a no-op here


def test_double_backward_graph_and_no_grad():
    m = nn.LSTM(3, 4)
    x = fastnn.randn(2, 1, 3)
    with fastnn.no_grad():
        out, (h, c) = m(x)
    assert not out.requires_grad and out.grad_fn is None
    out, (h, c) = m(x)
    assert out.requires_grad and h.requires_grad and c.requires_grad


# ---- torch's errors --------------------------------------------------------------------------------


def test_bad_inputs():
    m = nn.LSTM(3, 4, num_layers=2)
    with pytest.raises(
        RuntimeError, match="input.size\\(-1\\) must be equal to input_size. Expected 3, got 5"
    ):
        m(fastnn.zeros(2, 1, 5))
    with pytest.raises(ValueError, match="Expected input to be 2D or 3D, got 4D"):
        m(fastnn.zeros(2, 1, 3, 1))
    with pytest.raises(
        RuntimeError, match="Expected hidden\\[0\\] size \\(2, 1, 4\\), got \\[1, 1, 4\\]"
    ):
        m(fastnn.zeros(2, 1, 3), (fastnn.zeros(1, 1, 4), fastnn.zeros(2, 1, 4)))
    with pytest.raises(RuntimeError, match="Expected hidden\\[1\\] size"):
        m(fastnn.zeros(2, 1, 3), (fastnn.zeros(2, 1, 4), fastnn.zeros(2, 2, 4)))
    with pytest.raises(RuntimeError, match="should also be 3-D"):
        m(fastnn.zeros(2, 1, 3), (fastnn.zeros(2, 4), fastnn.zeros(2, 4)))
    with pytest.raises(RuntimeError, match="should also be 2-D"):
        m(fastnn.zeros(2, 3), (fastnn.zeros(2, 1, 4), fastnn.zeros(2, 1, 4)))
    with pytest.raises(ValueError, match="input dtype .*float64.* does not match weight dtype"):
        m(fastnn.zeros(2, 1, 3, dtype=fastnn.float64))
    with pytest.raises(RuntimeError, match="not the same dtype"):
        m(fastnn.zeros(2, 1, 3), (fastnn.zeros(2, 1, 4, dtype=fastnn.float64),) * 2)
    with pytest.raises(TypeError, match="hx must be a tuple"):
        m(fastnn.zeros(2, 1, 3), fastnn.zeros(2, 1, 4))
    with pytest.raises(RuntimeError, match="sequence length to be larger than 0"):
        m(fastnn.zeros(0, 1, 3))
    g = nn.GRU(3, 4)
    with pytest.raises(RuntimeError, match="Expected hidden size \\(1, 2, 4\\), got \\[1, 3, 4\\]"):
        g(fastnn.zeros(5, 2, 3), fastnn.zeros(1, 3, 4))
    c = nn.GRUCell(3, 4)
    with pytest.raises(RuntimeError, match="input has inconsistent input_size: got 5 expected 3"):
        c(fastnn.zeros(2, 5))
    with pytest.raises(RuntimeError, match="Input batch size 2 doesn't match hidden0 batch size 3"):
        c(fastnn.zeros(2, 3), fastnn.zeros(3, 4))
    with pytest.raises(
        RuntimeError, match="hidden0 has inconsistent hidden_size: got 1, expected 4"
    ):
        c(fastnn.zeros(3), fastnn.zeros(1))
    with pytest.raises(ValueError, match="Expected input to be 1D or 2D, got 3D"):
        c(fastnn.zeros(2, 3, 1))
    with pytest.raises(ValueError, match="does not match weight dtype"):
        c(fastnn.zeros(2, 3, dtype=fastnn.int64))
    # nothing was changed by the failed calls
    assert m.weight_ih_l0.grad is None and c.weight_ih.grad is None


def test_bad_constructor_arguments():
    with pytest.raises(NotImplementedError, match="proj_size=2 is not supported"):
        nn.LSTM(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="Unknown nonlinearity 'sigmoid'"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="Unknown nonlinearity"):
        nn.RNNCell(3, 4, nonlinearity="gelu")
    with pytest.raises(ValueError, match="dropout should be a number in range"):
        nn.GRU(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="hidden_size must be greater than zero"):
        nn.LSTM(3, 0)
    with pytest.raises(ValueError, match="num_layers must be greater than zero"):
        nn.GRU(3, 4, num_layers=0)
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        nn.LSTM(3, 4, dtype=fastnn.int32)
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.LSTM(3, 4, dropout=0.2)
