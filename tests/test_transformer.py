"""Attention and the Transformer modules against torch: the same parameters (names, shapes, init),
and with torch's weights loaded the same outputs, attention weights and gradients for every mask
form, layout and option; scaled_dot_product_attention by finite differences; the refused
arguments; and a small model that learns."""

import warnings

import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn import nn
from fastnn.autograd import gradcheck

torch = pytest.importorskip("torch")
TF = torch.nn.functional

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # torch's nested-tensor notes


def _f(x):
    return fastnn.tensor(x.detach().numpy()) if isinstance(x, torch.Tensor) else x


def _copy_weights(src, dst):
    """Load torch module ``src``'s parameters into fastnn module ``dst`` (same names)."""
    state = {k: fastnn.tensor(v.detach().numpy().copy()) for k, v in src.state_dict().items()}
    dst.load_state_dict(state)


def _close(f, t, tol=1e-10):
    np.testing.assert_allclose(f.detach().numpy(), t.detach().numpy(), rtol=tol, atol=tol)


def _pair(cls_name, *args, **kwargs):
    """The torch and the fastnn module of one class, float64, the fastnn one with torch's
    weights, both without dropout randomness (eval unless the caller trains them)."""
    torch.manual_seed(0)
    t = getattr(torch.nn, cls_name)(*args, **kwargs).double()
    f = getattr(nn, cls_name)(*args, **kwargs).double()
    _copy_weights(t, f)
    return t, f


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"bias": False},
        {"kdim": 3, "vdim": 5},
        {"add_bias_kv": True},
        {"batch_first": True, "dropout": 0.1},
    ],
    ids=str,
)
def test_mha_parameters_match_torch(kwargs):
    t = torch.nn.MultiheadAttention(8, 2, **kwargs)
    f = nn.MultiheadAttention(8, 2, **kwargs)
    assert [(k, tuple(v.shape)) for k, v in t.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in f.state_dict().items()
    ]
    assert type(f.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    if f.in_proj_weight is not None:  # xavier-uniform: within sqrt(6 / (fan_in + fan_out))
        bound = np.sqrt(6.0 / (8 + 24))
        w = f.in_proj_weight.detach().numpy()
        assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    if f.in_proj_bias is not None:
        assert not f.in_proj_bias.detach().numpy().any()
        assert not f.out_proj.bias.detach().numpy().any()


def _masks(rng, N, H, L, S, kind):
    """(attn_mask, key_padding_mask) as torch tensors of the given kind."""
    if kind == "none":
        return None, None
    am = rng.random((L, S)) < 0.3
    am[:, 0] = False  # every query keeps a key
    kpm = np.zeros((N, S), bool)
    kpm[0, -1] = True
    if kind == "bool":
        return torch.tensor(am), torch.tensor(kpm)
    if kind == "float":
        return torch.tensor(np.where(am, -1e9, rng.standard_normal((L, S)))), torch.tensor(
            np.where(kpm, float("-inf"), 0.0)
        )
    if kind == "3d":
        m3 = rng.random((N * H, L, S)) < 0.3
        m3[..., 0] = False
        return torch.tensor(m3), None
    raise ValueError(kind)


@pytest.mark.parametrize("mask", ["none", "bool", "float", "3d"])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("need_weights, average", [(True, True), (True, False), (False, True)])
def test_mha_matches_torch(rng, mask, batch_first, need_weights, average):
    N, H, E, L, S = 3, 2, 8, 5, 7
    t, f = _pair("MultiheadAttention", E, H, batch_first=batch_first)
    shape = (lambda n: (N, n, E)) if batch_first else (lambda n: (n, N, E))
    q = torch.tensor(rng.standard_normal(shape(L)), requires_grad=True)
    kv = torch.tensor(rng.standard_normal(shape(S)), requires_grad=True)
    am, kpm = _masks(rng, N, H, L, S, mask)
    fq, fkv = fastnn.tensor(q.detach().numpy(), requires_grad=True), None
    fkv = fastnn.tensor(kv.detach().numpy(), requires_grad=True)
    kw = {"need_weights": need_weights, "average_attn_weights": average}
    to, tw = t(q, kv, kv, key_padding_mask=kpm, attn_mask=am, **kw)
    fo, fw = f(fq, fkv, fkv, key_padding_mask=_f(kpm), attn_mask=_f(am), **kw)
    _close(fo, to)
    assert (fw is None) == (tw is None)
    if tw is not None:
        _close(fw, tw)
    g = rng.standard_normal(tuple(to.shape))
    to.backward(torch.tensor(g))
    fo.backward(fastnn.tensor(g))
    _close(fq.grad, q.grad)
    _close(fkv.grad, kv.grad)
    for (_, tp), (_, fp) in zip(t.named_parameters(), f.named_parameters()):
        _close(fp.grad, tp.grad)


@pytest.mark.parametrize(
    "kwargs",
    [{"kdim": 3, "vdim": 5}, {"add_bias_kv": True}, {"add_zero_attn": True}, {"bias": False}],
    ids=str,
)
def test_mha_options_match_torch(rng, kwargs):
    N, E, L, S = 2, 6, 4, 5
    t, f = _pair("MultiheadAttention", E, 3, **kwargs)
    q = rng.standard_normal((L, N, E))
    k = rng.standard_normal((S, N, kwargs.get("kdim", E)))
    v = rng.standard_normal((S, N, kwargs.get("vdim", E)))
    kpm = np.zeros((N, S), bool)
    kpm[1, 0] = True
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    fq, fk, fv = (fastnn.tensor(a, requires_grad=True) for a in (q, k, v))
    to, tw = t(tq, tk, tv, key_padding_mask=torch.tensor(kpm))
    fo, fw = f(fq, fk, fv, key_padding_mask=fastnn.tensor(kpm))
    _close(fo, to)
    _close(fw, tw)
    (to.sum() + tw.sum()).backward()
    (fo.sum() + fw.sum()).backward()
    for ta, fa in ((tq, fq), (tk, fk), (tv, fv)):
        _close(fa.grad, ta.grad)


def test_mha_unbatched_and_fully_masked_rows(rng):
    E, L, S = 4, 3, 3
    t, f = _pair("MultiheadAttention", E, 2)
    x = rng.standard_normal((L, E))
    to, tw = t(torch.tensor(x), torch.tensor(x), torch.tensor(x))
    fo, fw = f(*(fastnn.tensor(x),) * 3)
    _close(fo, to)
    _close(fw, tw)
    # every key masked for batch entry 1: NaN with the weights (a plain softmax), zeros without
    xb = rng.standard_normal((L, 2, E))
    kpm = np.zeros((2, S), bool)
    kpm[1] = True
    args_t = (torch.tensor(xb),) * 3
    args_f = (fastnn.tensor(xb),) * 3
    for need in (True, False):
        to, _ = t(*args_t, key_padding_mask=torch.tensor(kpm), need_weights=need)
        fo, _ = f(*args_f, key_padding_mask=fastnn.tensor(kpm), need_weights=need)
        np.testing.assert_array_equal(np.isnan(fo.detach().numpy()), np.isnan(to.detach().numpy()))
        _close(fo, to)


def _sdpa_inputs(rng, q_shape, k_shape, v_shape):
    return [rng.standard_normal(s) for s in (q_shape, k_shape, v_shape)]


@pytest.mark.parametrize(
    "case",
    [
        {"mask": "none"},
        {"mask": "bool"},
        {"mask": "float"},
        {"mask": "bool-broadcast"},
        {"is_causal": True},
        {"scale": 0.3},
        {"mask": "dead-row"},
        {"gqa": True},
    ],
    ids=str,
)
def test_sdpa_matches_torch(rng, case):
    L, S, E = 5, 7, 4
    q, k, v = _sdpa_inputs(rng, (2, 4, L, E), (2, 4, S, E), (2, 4, S, 3))
    if case.get("gqa"):
        k, v = k[:, :2], v[:, :2]
    mask = None
    kind = case.get("mask", "none")
    if kind == "bool":
        mask = rng.random((2, 4, L, S)) < 0.6
    elif kind == "bool-broadcast":
        mask = rng.random((L, S)) < 0.6
    elif kind == "float":
        mask = rng.standard_normal((1, 4, L, S))
    elif kind == "dead-row":
        mask = np.ones((L, S), bool)
        mask[2] = False  # query 2 sees nothing: zeros out, zero gradients
    kw = {"is_causal": case.get("is_causal", False), "scale": case.get("scale")}
    if case.get("gqa"):
        kw["enable_gqa"] = True
    tt = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    ff = [fastnn.tensor(a, requires_grad=True) for a in (q, k, v)]
    to = TF.scaled_dot_product_attention(*tt, attn_mask=_t(mask), **kw)
    fo = F.scaled_dot_product_attention(*ff, attn_mask=_f(_t(mask)), **kw)
    _close(fo, to)
    g = rng.standard_normal(tuple(to.shape))
    to.backward(torch.tensor(g))
    fo.backward(fastnn.tensor(g))
    for a, b in zip(ff, tt):
        _close(a.grad, b.grad)


def _t(mask):
    return None if mask is None else torch.tensor(mask)


def test_sdpa_gradcheck(rng):
    q, k, v = _sdpa_inputs(rng, (2, 3, 4), (2, 5, 4), (2, 5, 2))
    mask = fastnn.tensor(rng.standard_normal((3, 5)))
    args = [fastnn.tensor(a, requires_grad=True) for a in (q, k, v)]
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, mask), args)
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True), args)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"norm_first": True},
        {"activation": "gelu", "batch_first": True},
        {"activation": TF.gelu},
        {"bias": False},
    ],
    ids=str,
)
def test_encoder_layer_and_stack_match_torch(rng, kwargs):
    if kwargs.get("activation") is TF.gelu:
        kwargs = {"activation": F.gelu}  # each library's own callable
        t_kwargs = {"activation": TF.gelu}
    else:
        t_kwargs = kwargs
    torch.manual_seed(0)
    tl = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, **t_kwargs).double()
    fl = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, **kwargs).double()
    _copy_weights(tl, fl)
    t = torch.nn.TransformerEncoder(tl, 2, norm=torch.nn.LayerNorm(8).double())
    f = nn.TransformerEncoder(fl, 2, norm=nn.LayerNorm(8).double())
    _copy_weights(t, f)
    bf = kwargs.get("batch_first", False)
    x = rng.standard_normal((3, 6, 8) if bf else (6, 3, 8))
    mask = torch.nn.Transformer.generate_square_subsequent_mask(6, dtype=torch.float64)
    kpm = np.zeros((3, 6), bool)
    kpm[2, 4:] = True
    tx = torch.tensor(x, requires_grad=True)
    fx = fastnn.tensor(x, requires_grad=True)
    for layer_t, layer_f in ((tl, fl), (t, f)):
        kw_t = {"src_mask" if layer_t is tl else "mask": mask}
        kw_f = {k: _f(v) for k, v in kw_t.items()}
        to = layer_t(tx, src_key_padding_mask=torch.tensor(kpm), **kw_t)
        fo = layer_f(fx, src_key_padding_mask=fastnn.tensor(kpm), **kw_f)
        _close(fo, to, 1e-9)
        to.sum().backward()
        fo.sum().backward()
        _close(fx.grad, tx.grad, 1e-9)


def test_transformer_matches_torch(rng):
    torch.manual_seed(0)
    t = torch.nn.Transformer(8, 2, 2, 2, 16, dropout=0.0).double()
    f = nn.Transformer(8, 2, 2, 2, 16, dropout=0.0).double()
    assert list(t.state_dict()) == list(f.state_dict())
    _copy_weights(t, f)
    src = rng.standard_normal((7, 2, 8))
    tgt = rng.standard_normal((5, 2, 8))
    tmask = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64)
    fmask = nn.Transformer.generate_square_subsequent_mask(5, dtype=fastnn.float64)
    _close(fmask, tmask)
    mkpm = np.zeros((2, 7), bool)
    mkpm[0, -2:] = True
    ts, tt = torch.tensor(src, requires_grad=True), torch.tensor(tgt, requires_grad=True)
    fs, ft = fastnn.tensor(src, requires_grad=True), fastnn.tensor(tgt, requires_grad=True)
    to = t(ts, tt, tgt_mask=tmask, src_key_padding_mask=torch.tensor(mkpm),
           memory_key_padding_mask=torch.tensor(mkpm))  # fmt: skip
    fo = f(fs, ft, tgt_mask=fmask, src_key_padding_mask=fastnn.tensor(mkpm),
           memory_key_padding_mask=fastnn.tensor(mkpm))  # fmt: skip
    _close(fo, to, 1e-9)
    to.pow(2).sum().backward()
    fo.pow(2).sum().backward()
    _close(fs.grad, ts.grad, 1e-9)
    _close(ft.grad, tt.grad, 1e-9)
    for (_, tp), (_, fp) in zip(t.named_parameters(), f.named_parameters()):
        _close(fp.grad, tp.grad, 1e-9)


def test_a_small_transformer_learns_to_copy():
    """Trained from scratch (dropout on, Adam), an encoder learns to copy its input tokens."""
    fastnn.manual_seed(0)
    rng = np.random.default_rng(0)
    emb = nn.Embedding(10, 32)
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(32, 4, 64, batch_first=True), 2)
    head = nn.Linear(32, 10)
    params = [*emb.parameters(), *enc.parameters(), *head.parameters()]
    opt = fastnn.optim.Adam(params, lr=3e-3)
    losses = []
    for _ in range(120):
        x = fastnn.tensor(rng.integers(0, 10, (16, 8)))
        loss = F.cross_entropy(head(enc(emb(x))).reshape(-1, 10), x.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert np.mean(losses[:5]) > 2.0 and np.mean(losses[-5:]) < 0.2


BAD = [
    (
        AssertionError,
        "embed_dim must be divisible by num_heads",
        lambda: nn.MultiheadAttention(6, 4),
    ),
    (
        ValueError,
        "embed_dim and num_heads must be greater than 0",
        lambda: nn.MultiheadAttention(0, 1),
    ),
    (
        RuntimeError,
        "activation should be relu/gelu, not tanh",
        lambda: nn.TransformerEncoderLayer(4, 2, activation="tanh"),
    ),
]


@pytest.mark.parametrize("error, message, call", BAD)
def test_bad_constructor_arguments(error, message, call):
    with pytest.raises(error, match=message):
        call()


def test_bad_forward_arguments(rng):
    m = nn.MultiheadAttention(4, 2)
    x = fastnn.tensor(rng.standard_normal((3, 2, 4)).astype(np.float32))
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        m(x, x, x, is_causal=True)
    with pytest.raises(AssertionError, match="only bool and floating types of attn_mask"):
        m(x, x, x, attn_mask=fastnn.zeros((3, 3), dtype=fastnn.int64))
    with pytest.raises(RuntimeError, match=r"The shape of the 2D attn_mask is \(2, 3\)"):
        m(x, x, x, attn_mask=fastnn.zeros((2, 3)))
    with pytest.raises(AssertionError, match="query should be unbatched 2D or batched 3D"):
        m(x[0, 0], x[0, 0], x[0, 0])
    with pytest.raises(AssertionError, match=r"expecting key_padding_mask shape of \(2, 3\)"):
        m(x, x, x, key_padding_mask=fastnn.zeros((2, 4), dtype=fastnn.bool))
    q = fastnn.ones(1, 2, 4)
    with pytest.raises(RuntimeError, match="Explicit attn_mask should not be set"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=fastnn.ones(2, 2), is_causal=True)
    with pytest.raises(RuntimeError, match="Expected query, key, and value to have the same dtype"):
        F.scaled_dot_product_attention(q, q.double(), q)
    t = nn.Transformer(8, 2, 1, 1, 16)
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        t(fastnn.ones(3, 2, 8), fastnn.ones(3, 1, 8))
    with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal"):
        t(fastnn.ones(3, 2, 4), fastnn.ones(3, 2, 4))


def test_mismatched_padding_and_attention_mask_types_warn_like_torch():
    def messages(lib):
        lib.manual_seed(0)
        x = lib.randn(2, 3, 4)
        pad = lib.tensor([[False, False, True], [False, True, False]])
        causal = lib.nn.Transformer.generate_square_subsequent_mask(3)  # float, -inf above
        mha = lib.nn.MultiheadAttention(4, 2, batch_first=True)
        layer = lib.nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, batch_first=True)
        enc = lib.nn.TransformerEncoder(
            lib.nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, batch_first=True), 2
        )
        runs = [
            lambda: mha(x, x, x, key_padding_mask=pad, attn_mask=causal),
            lambda: mha(x, x, x, key_padding_mask=pad.float(), attn_mask=causal),  # agreeing
            lambda: layer(x, src_mask=causal, src_key_padding_mask=pad),
            lambda: enc(x, mask=causal, src_key_padding_mask=pad),
        ]
        out = []
        for run in runs:
            with warnings.catch_warnings(record=True) as seen:
                warnings.simplefilter("always")
                run()
            out.append([(w.category, str(w.message)) for w in seen])
        return out

    ours, theirs = messages(fastnn), messages(torch)
    assert ours == theirs
    assert ours[0] and not ours[1]
