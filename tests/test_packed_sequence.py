"""PackedSequence (pack_padded_sequence, pad_packed_sequence, pack_sequence) and RNN / LSTM / GRU
on packed input against torch: the packed layout, the padded round trip, and with torch's weights
the outputs, final states and every gradient, for sorted and unsorted batches, several layers,
both directions, given initial states."""

import numpy as np
import pytest

import fastnn
from fastnn import nn
from fastnn.nn.utils import rnn as frnn

torch = pytest.importorskip("torch")
trnn = torch.nn.utils.rnn


def _same(a, b, tol=1e-12):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths", [[5, 2, 4], [3, 3, 1, 1], [1], [4, 4]], ids=str)
def test_pack_and_pad_match_torch(rng, batch_first, lengths):
    b, t = len(lengths), max(lengths)
    x = rng.standard_normal((b, t, 2) if batch_first else (t, b, 2))
    tx, fx = torch.tensor(x, requires_grad=True), fastnn.tensor(x, requires_grad=True)
    tp = trnn.pack_padded_sequence(tx, lengths, batch_first=batch_first, enforce_sorted=False)
    fp = frnn.pack_padded_sequence(fx, lengths, batch_first=batch_first, enforce_sorted=False)
    _same(fp.data, tp.data)
    assert fp.batch_sizes.tolist() == tp.batch_sizes.tolist()
    assert fp.sorted_indices.tolist() == tp.sorted_indices.tolist()
    assert fp.unsorted_indices.tolist() == tp.unsorted_indices.tolist()
    tu, tl = trnn.pad_packed_sequence(tp, batch_first, -1.0, total_length=t + 2)
    fu, fl = frnn.pad_packed_sequence(fp, batch_first, -1.0, total_length=t + 2)
    _same(fu, tu)
    assert fl.tolist() == tl.tolist()
    g = rng.standard_normal(tuple(tu.shape))
    tu.backward(torch.tensor(g))
    fu.backward(fastnn.tensor(g))
    _same(fx.grad, tx.grad)
    seqs = [rng.standard_normal((n, 3)) for n in sorted(lengths, reverse=True)]
    tp = trnn.pack_sequence([torch.tensor(s) for s in seqs])
    fp = frnn.pack_sequence([fastnn.tensor(s) for s in seqs])
    _same(fp.data, tp.data)
    assert fp.sorted_indices is None and tp.sorted_indices is None


CASES = [
    ("LSTM", {}, [6, 4, 4, 1], True),
    ("LSTM", {"num_layers": 2, "bidirectional": True}, [3, 6, 1, 4], False),
    ("GRU", {"num_layers": 2}, [2, 5, 5], False),
    ("GRU", {"bidirectional": True, "batch_first": True}, [4, 1, 3], False),
    ("RNN", {"nonlinearity": "relu", "bidirectional": True}, [5, 2], True),
]


@pytest.mark.parametrize("kind, kwargs, lengths, sorted_", CASES, ids=str)
@pytest.mark.parametrize("with_hx", [False, True])
def test_rnn_on_packed_input_matches_torch(rng, kind, kwargs, lengths, sorted_, with_hx):
    torch.manual_seed(0)
    t = getattr(torch.nn, kind)(3, 4, **kwargs).double()
    f = getattr(nn, kind)(3, 4, **kwargs).double()
    f.load_state_dict({k: fastnn.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    b, steps = len(lengths), max(lengths)
    bf = kwargs.get("batch_first", False)
    x = rng.standard_normal((b, steps, 3) if bf else (steps, b, 3))
    tx, fx = torch.tensor(x, requires_grad=True), fastnn.tensor(x, requires_grad=True)
    kw = {"batch_first": bf, "enforce_sorted": sorted_}
    tp = trnn.pack_padded_sequence(tx, lengths, **kw)
    fp = frnn.pack_padded_sequence(fx, lengths, **kw)
    layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    hx_t = hx_f = None
    if with_hx:
        states = [rng.standard_normal((layers, b, 4)) for _ in range(2 if kind == "LSTM" else 1)]
        ts = [torch.tensor(s, requires_grad=True) for s in states]
        fs = [fastnn.tensor(s, requires_grad=True) for s in states]
        hx_t, hx_f = (tuple(ts), tuple(fs)) if kind == "LSTM" else (ts[0], fs[0])
    to, th = t(tp, hx_t)
    fo, fh = f(fp, hx_f)
    assert isinstance(fo, frnn.PackedSequence)
    _same(fo.data, to.data)
    th, fh = (list(th), list(fh)) if kind == "LSTM" else ([th], [fh])
    for a, bb in zip(fh, th):
        _same(a, bb)
    # a loss on every output row and final state
    g = rng.standard_normal(tuple(to.data.shape))
    gs = [rng.standard_normal(tuple(s.shape)) for s in th]
    tl = (to.data * torch.tensor(g)).sum() + sum(
        (s * torch.tensor(w)).sum() for s, w in zip(th, gs)
    )
    fl = (fo.data * fastnn.tensor(g)).sum() + sum(
        (s * fastnn.tensor(w)).sum() for s, w in zip(fh, gs)
    )
    tl.backward()
    fl.backward()
    _same(fx.grad, tx.grad)
    for (_, fp_), (_, tp_) in zip(f.named_parameters(), t.named_parameters()):
        _same(fp_.grad, tp_.grad)
    if with_hx:
        for a, bb in zip(fs, ts):
            _same(a.grad, bb.grad)
    tu, _ = trnn.pad_packed_sequence(to, batch_first=bf)
    fu, _ = frnn.pad_packed_sequence(fo, batch_first=bf)
    _same(fu, tu)


def test_refused_packing():
    x = fastnn.ones(4, 3, 2)
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        frnn.pack_padded_sequence(x, [2, 4, 1])
    with pytest.raises(RuntimeError, match="Length of all samples has to be greater than 0"):
        frnn.pack_padded_sequence(x, [4, 0, 0])
    with pytest.raises(ValueError, match="Expected `len\\(lengths\\)` to be equal to batch_size"):
        frnn.pack_padded_sequence(x, [4, 2])
    p = frnn.pack_padded_sequence(x, [4, 2, 1])
    with pytest.raises(ValueError, match="Expected total_length to be at least"):
        frnn.pad_packed_sequence(p, total_length=3)
