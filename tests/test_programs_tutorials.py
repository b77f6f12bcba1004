"""Condensed programs in the style of PyTorch's beginner and intermediate tutorials (tensor
basics, autograd walk-throughs, module hooks, small training loops), run on fastnn and, where
torch is installed, on torch from the same weights and data. The programs take the library as
an argument ``lib`` so that the same code runs on both; only the import differs."""

import importlib
import math

import numpy as np
import pytest

import fastnn


def _F(lib):
    return importlib.import_module(lib.__name__ + ".nn.functional")


def _set_weights(lib, model):
    """Deterministic weights, the same on both libraries: a ramp per parameter."""
    with lib.no_grad():
        for p in model.parameters():
            n = p.numel()
            ramp = np.linspace(-0.5, 0.5, n, dtype=np.float32).reshape(tuple(p.shape))
            p.copy_(lib.tensor(ramp))
    return model


def _both(program, *args):
    """``program`` on fastnn, and on torch when it is installed (else None)."""
    ours = program(fastnn, *args)
    try:
        import torch
    except ImportError:
        return ours, None
    return ours, program(torch, *args)


def _close(a, b, rtol=1e-5, atol=1e-6):
    if isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b)
        for x, y in zip(a, b):
            _close(x, y, rtol, atol)
    elif a is None:
        assert b is None
    else:
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol)


# ---- module hooks: printing norms on the way forward and backward ---------------------------


def hooked_convnet(lib):
    nn, F = lib.nn, _F(lib)

    class ConvNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 3, 3)
            self.conv2 = nn.Conv2d(3, 4, 3)
            self.fc = nn.Linear(4 * 2 * 2, 5)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.relu(self.conv2(x))
            return self.fc(x.view(x.size(0), -1))

    net = _set_weights(lib, ConvNet())
    seen = []

    def on_forward(module, inputs, output):
        seen.append(("fwd", type(inputs).__name__, inputs[0].shape, output.norm().item()))

    def on_grad_output(module, grad_output):
        seen.append(("pre", len(grad_output), grad_output[0].norm().item()))
        return (grad_output[0] * 2,)

    def on_grad_input(module, grad_input, grad_output):
        seen.append(
            ("bwd", len(grad_input), grad_input[0].norm().item(), grad_output[0].norm().item())
        )
        return (grad_input[0] / 4,)

    handles = [
        net.conv2.register_forward_hook(on_forward),
        net.conv2.register_full_backward_pre_hook(on_grad_output),
        net.conv2.register_full_backward_hook(on_grad_input),
    ]
    x = lib.tensor(np.linspace(-1, 1, 2 * 100, dtype=np.float32).reshape(2, 1, 10, 10))
    loss = F.cross_entropy(net(x), lib.tensor([1, 3]))
    loss.backward()
    grads = [p.grad.numpy().copy() for p in net.parameters()]
    for h in handles:
        h.remove()
    net.zero_grad()
    F.cross_entropy(net(x), lib.tensor([1, 3])).backward()
    plain = [p.grad.numpy().copy() for p in net.parameters()]

    # no input of the hooked module requires grad: the hook fires with grad_input all None
    first = []
    net.conv1.register_full_backward_hook(lambda m, gi, go: first.append((gi, go[0].shape)))
    with pytest.warns(UserWarning, match="no inputs require gradients"):
        net(x).sum().backward()
    return seen, grads, plain, first


def test_full_backward_hooks_match_torch():
    (seen, grads, plain, first), ref = _both(hooked_convnet)
    assert [s[0] for s in seen] == ["fwd", "pre", "bwd"]
    assert seen[0][1] == "tuple" and tuple(seen[0][2]) == (2, 3, 4, 4)
    assert seen[1][1] == 1 and seen[2][1] == 1
    # the pre-hook doubled grad_output: the hook sees the doubled one
    assert seen[2][3] == pytest.approx(2 * seen[1][2], rel=1e-5)
    # conv1's gradient went through the hook's halving of a doubled gradient
    np.testing.assert_allclose(grads[0], plain[0] / 2, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(grads[2], 2 * plain[2], rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(grads[4], plain[4], rtol=1e-5)
    assert len(first) == 1 and first[0][0] == (None,) and tuple(first[0][1]) == (2, 3, 8, 8)
    if ref is not None:
        r_seen, r_grads, r_plain, r_first = ref
        assert [s[:2] for s in seen] == [s[:2] for s in r_seen]
        _close([s[-1] for s in seen], [s[-1] for s in r_seen], rtol=1e-4)
        _close(grads, r_grads, rtol=1e-4)
        _close(plain, r_plain, rtol=1e-4)
        assert r_first[0][0] == (None,) and tuple(r_first[0][1]) == tuple(first[0][1])


def test_backward_hook_bad_returns():
    lin = fastnn.nn.Linear(3, 2)
    lin.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    x = fastnn.ones(1, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="invalid number of grad_input, got 2, but expected 1"):
        lin(x).sum().backward()
    lin = fastnn.nn.Linear(3, 2)
    lin.register_full_backward_pre_hook(lambda m, go: ())
    with pytest.raises(RuntimeError, match="invalid number of grad_output, got 0"):
        lin(x).sum().backward()
    with pytest.raises(TypeError, match="hook must be callable"):
        lin.register_full_backward_hook(3)


# ---- torch.func: Jacobians, Hessians, Hessian-vector products, per-sample gradients ----------


def func_transforms(lib):
    F = _F(lib)
    func = importlib.import_module(lib.__name__ + ".func")
    d = 4
    weight = lib.tensor(np.linspace(-1, 1, d * d, dtype=np.float32).reshape(d, d))
    bias = lib.tensor(np.linspace(0.2, -0.3, d, dtype=np.float32))
    x = lib.tensor(np.linspace(-0.7, 0.9, d, dtype=np.float32))

    def predict(weight, bias, x):
        return F.linear(x, weight, bias).tanh()

    jac = func.jacrev(predict, argnums=2)(weight, bias, x)
    # the Jacobian's columns, one jvp per unit tangent
    cols = [func.jvp(lambda x: predict(weight, bias, x), (x,), (e,))[1] for e in lib.eye(d)]
    hess = func.hessian(predict, argnums=2)(weight, bias, x)
    out, jv = func.jvp(
        lambda w, b: predict(w, b, x), (weight, bias), (lib.ones_like(weight), bias * 2)
    )

    def f(x):
        return (x.sin() * x).sum()

    tangent = lib.tensor(np.linspace(0.5, 2.0, d, dtype=np.float32))
    hvp = func.jvp(func.grad(f), (x,), (tangent,))[1]
    (_, jv_aux, aux) = func.jvp(lambda x: (x * 3, x.sum()), (x,), (tangent,), has_aux=True)
    flags = (jac.requires_grad, hvp.requires_grad, out.requires_grad, jv.requires_grad)
    return (
        jac.numpy(),
        lib.stack(cols, 1).numpy(),
        hess.numpy(),
        out.numpy(),
        jv.numpy(),
        hvp.numpy(),
        jv_aux.numpy(),
        aux.item(),
        flags,
    )


def test_func_jvp_hvp_match_torch():
    ours, ref = _both(func_transforms)
    jac, cols, hess, out, jv, hvp, jv_aux, aux, flags = ours
    assert jac.shape == (4, 4) and hess.shape == (4, 4, 4)
    np.testing.assert_allclose(cols, jac, rtol=1e-5, atol=1e-6)  # jvp columns == jacrev rows
    x = np.linspace(-0.7, 0.9, 4, dtype=np.float32)
    t = np.linspace(0.5, 2.0, 4, dtype=np.float32)
    # d^2/dx^2 of x sin x is 2 cos x - x sin x, a diagonal Hessian
    np.testing.assert_allclose(hvp, (2 * np.cos(x) - x * np.sin(x)) * t, rtol=1e-5)
    np.testing.assert_allclose(jv_aux, 3 * t, rtol=1e-6)
    assert aux == pytest.approx(float(x.sum()), rel=1e-6)
    # tanh(W x + b) in the direction (ones, 2b): (1 - out^2) (sum(x) + 2b)
    b = np.linspace(0.2, -0.3, 4, dtype=np.float32)
    np.testing.assert_allclose(jv, (1 - out**2) * (x.sum() + 2 * b), rtol=1e-5, atol=1e-6)
    assert flags == (False, False, False, False)
    if ref is not None:
        _close(ours[:8], ref[:8], rtol=1e-5)
        assert flags == ref[8]


def test_func_jvp_rejects_bad_arguments():
    func = fastnn.func
    x = fastnn.ones(2)
    with pytest.raises(RuntimeError, match="Expected primals to be a tuple"):
        func.jvp(lambda x: x, [x], (x,))
    with pytest.raises(RuntimeError, match=r"Tensor is of size \[2\] while the given forward"):
        func.jvp(lambda x: x, (x,), (fastnn.ones(3),))
    with pytest.raises(RuntimeError, match="same python structure"):
        func.jvp(lambda x: x, (x,), (x, x))


# ---- tensors in depth: factories, out=, in-place forms, broadcasting, copies ------------------


def tensors_in_depth(lib):
    a = lib.tensor([[2.0, 4.0], [8.0, 16.0]])
    c = lib.zeros(2, 2)
    same = [lib.matmul(a, a, out=c) is c]
    same.append(lib.rand(2, 2, out=c) is c)
    in_unit = bool(((c >= 0) & (c < 1)).all())
    ones = lib.ones(2, 3, out=lib.empty(2, 3, dtype=lib.float64))
    full = lib.full((3,), 7, out=lib.empty(3, dtype=lib.int32))
    ar = lib.arange(4, out=lib.empty(4))
    z = lib.zeros(2, out=lib.empty(2))
    s = lib.tensor([0.0, math.pi / 4, math.pi / 2, 3 * math.pi / 4])
    lib.sin_(s)
    n = lib.tensor([-1.5, 0.25, 2.0])
    lib.abs_(n)
    lib.clamp_(n, 0.5, 1.75)
    e = lib.tensor([0.5, 1.0])
    lib.exp_(e)
    b = lib.ones(4, 3, 2) * lib.tensor([[1.0], [2.0], [3.0]])
    d = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    d2, d3 = d.clone(), d.detach().clone()
    leaf = lib.linspace(0.0, 1.0, steps=3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        lib.sin_(leaf)
    with pytest.raises(RuntimeError, match="does not match dtype of out"):
        lib.zeros(2, out=lib.empty(2), dtype=lib.int64)
    return (
        same,
        in_unit,
        (ones.numpy(), str(ones.dtype).split(".")[1]),
        (full.numpy(), str(full.dtype).split(".")[1]),
        ar.numpy(),
        z.numpy(),
        s.numpy(),
        n.numpy(),
        e.numpy(),
        b[:, :, 1].numpy(),
        (d2.requires_grad, d3.requires_grad),
    )


def test_tensors_in_depth_match_torch():
    ours, ref = _both(tensors_in_depth)
    assert ours[0] == [True, True] and ours[1]
    assert ours[2][1] == "float64" and ours[3][1] == "int32"
    np.testing.assert_array_equal(ours[3][0], [7, 7, 7])
    np.testing.assert_array_equal(ours[4], [0.0, 1.0, 2.0, 3.0])
    np.testing.assert_allclose(
        ours[6], np.sin([0, math.pi / 4, math.pi / 2, 3 * math.pi / 4]), rtol=1e-6, atol=1e-7
    )
    np.testing.assert_allclose(ours[7], [1.5, 0.5, 1.75])
    assert ours[10] == (True, False)
    if ref is not None:
        assert ours[0] == ref[0] and ours[1] == ref[1]
        assert ours[2][1] == ref[2][1] and ours[3][1] == ref[3][1]
        _close([ours[2][0], ours[3][0], *ours[4:10]], [ref[2][0], ref[3][0], *ref[4:10]])
        assert ours[10] == ref[10]


# ---- a character-level RNN classifier: one-hot lines, random_split, clipped SGD --------------


def char_rnn_classifier(lib):
    nn = lib.nn
    letters = "abcdefgh"

    def line_tensor(line):
        t = lib.zeros(len(line), 1, len(letters))
        for i, ch in enumerate(line):
            t[i][0][letters.find(ch)] = 1
        return t

    class CharRNN(nn.Module):
        def __init__(self, n_in, hidden, n_out):
            super().__init__()
            self.rnn = nn.RNN(n_in, hidden)
            self.h2o = nn.Linear(hidden, n_out)
            self.softmax = nn.LogSoftmax(dim=1)

        def forward(self, line):
            _, hidden = self.rnn(line)
            return self.softmax(self.h2o(hidden[0]))

    lines = ["abc", "hgf", "bad", "fed", "cab", "hhg"]
    labels = [lib.tensor([i % 2], dtype=lib.long) for i in range(len(lines))]
    rnn = _set_weights(lib, CharRNN(len(letters), 6, 2))
    criterion = nn.NLLLoss()
    opt = lib.optim.SGD(rnn.parameters(), lr=0.15)
    losses = []
    for _ in range(3):
        opt.zero_grad()
        total = 0.0
        for line, label in zip(lines, labels):
            loss = criterion(rnn(line_tensor(line)), label)
            loss.backward()
            total += loss.item()
        nn.utils.clip_grad_norm_(rnn.parameters(), 3)
        opt.step()
        losses.append(total)
    rnn.eval()
    confusion = lib.zeros(2, 2)
    with lib.no_grad():
        for line, label in zip(lines, labels):
            top_v, top_i = rnn(line_tensor(line)).topk(1)
            confusion[label.item()][top_i[0].item()] += 1
    for i in range(2):
        confusion[i] = confusion[i] / confusion[i].sum()
    return losses, confusion.numpy(), top_v.numpy()


def test_char_rnn_classifier_matches_torch():
    (losses, confusion, top_v), ref = _both(char_rnn_classifier)
    assert len(losses) == 3 and losses[-1] < losses[0]
    np.testing.assert_allclose(confusion.sum(1), [1.0, 1.0], rtol=1e-6)
    assert top_v.shape == (1, 1) and top_v[0, 0] <= 0  # a log-probability
    if ref is not None:
        _close(losses, ref[0], rtol=1e-4)
        _close(confusion, ref[1])
        _close(top_v, ref[2], rtol=1e-4)


def test_random_split_fractions_warn_on_an_empty_split():
    data = list(range(3))
    gen = fastnn.Generator().manual_seed(2024)
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        train, test = fastnn.utils.data.random_split(data, [0.85, 0.15], generator=gen)
    assert (len(train), len(test)) == (3, 0)
    assert sorted(train[i] for i in range(3)) == data


# ---- an attention decoder step (GRU encoder, additive attention, teacher forcing) ------------


def attention_seq2seq(lib):
    nn, F = lib.nn, _F(lib)
    hidden, vocab, steps = 6, 7, 4

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocab, hidden)
            self.gru = nn.GRU(hidden, hidden, batch_first=True)

        def forward(self, x):
            return self.gru(self.embedding(x))

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.Wa = nn.Linear(hidden, hidden)
            self.Ua = nn.Linear(hidden, hidden)
            self.Va = nn.Linear(hidden, 1)

        def forward(self, query, keys):
            scores = self.Va(lib.tanh(self.Wa(query) + self.Ua(keys)))
            weights = F.softmax(scores.squeeze(2).unsqueeze(1), dim=-1)
            return lib.bmm(weights, keys), weights

    class Decoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocab, hidden)
            self.attention = Attention()
            self.gru = nn.GRU(2 * hidden, hidden, batch_first=True)
            self.out = nn.Linear(hidden, vocab)

        def forward(self, enc_out, enc_hidden, target=None):
            batch = enc_out.size(0)
            inp = lib.empty(batch, 1, dtype=lib.long).fill_(0)
            h, outs, attns = enc_hidden, [], []
            for i in range(steps):
                emb = self.embedding(inp)
                ctx, w = self.attention(h.permute(1, 0, 2), enc_out)
                o, h = self.gru(lib.cat((emb, ctx), dim=2), h)
                o = self.out(o)
                outs.append(o)
                attns.append(w)
                if target is not None:
                    inp = target[:, i].unsqueeze(1)
                else:
                    inp = o.topk(1)[1].squeeze(-1).detach()
            return F.log_softmax(lib.cat(outs, dim=1), dim=-1), h, lib.cat(attns, dim=1)

    enc, dec = _set_weights(lib, Encoder()), _set_weights(lib, Decoder())
    src = lib.LongTensor(np.array([[1, 2, 3, 0], [4, 5, 0, 0]], dtype=np.int32))
    tgt = lib.LongTensor(np.array([[2, 3, 1, 0], [6, 1, 0, 0]], dtype=np.int32))
    opts = [lib.optim.Adam(m.parameters(), lr=0.01) for m in (enc, dec)]
    losses = []
    for _ in range(2):
        for o in opts:
            o.zero_grad()
        enc_out, enc_h = enc(src)
        out, _, _ = dec(enc_out, enc_h, tgt)
        loss = nn.NLLLoss()(out.view(-1, out.size(-1)), tgt.view(-1))
        loss.backward()
        for o in opts:
            o.step()
        losses.append(loss.item())
    with lib.no_grad():
        enc_out, enc_h = enc(src[:1])
        out, _, attn = dec(enc_out, enc_h)
        decoded = [i.item() for i in out.topk(1)[1].squeeze()]
    return losses, attn.numpy(), decoded, str(src.dtype).split(".")[1]


def test_attention_seq2seq_matches_torch():
    (losses, attn, decoded, dtype), ref = _both(attention_seq2seq)
    assert dtype == "int64" and attn.shape == (1, 4, 4) and len(decoded) == 4
    np.testing.assert_allclose(attn.sum(-1), np.ones((1, 4)), rtol=1e-5)
    if ref is not None:
        _close(losses, ref[0], rtol=1e-4)
        _close(attn, ref[1], rtol=1e-4, atol=1e-6)
        assert decoded == ref[2] and dtype == ref[3]


# ---- a fused convolution + batch norm Function whose backward calls nn.grad -----------------


def fused_conv_bn(lib, gradcheck=False):
    F = _F(lib)
    G = importlib.import_module(lib.__name__ + ".nn.grad")

    class FusedConvBN(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, weight, eps=1e-3):
            ctx.save_for_backward(x, weight)
            y = F.conv2d(x, weight)
            mean = y.mean(dim=(0, 2, 3), keepdim=True)
            var = y.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
            ctx.eps = eps
            ctx.stats = (y, mean, var)
            return (y - mean) / (var + eps).sqrt()

        @staticmethod
        def backward(ctx, grad_out):
            x, weight = ctx.saved_tensors
            y, mean, var = ctx.stats
            n = y.numel() / y.size(1)
            inv = 1 / (var + ctx.eps).sqrt()
            xhat = (y - mean) * inv
            g_y = inv * (
                grad_out
                - grad_out.sum(dim=(0, 2, 3), keepdim=True) / n
                - xhat * (grad_out * xhat).sum(dim=(0, 2, 3), keepdim=True) / n
            )
            g_x = G.conv2d_input(x.shape, weight, g_y)
            g_w = G.conv2d_weight(x, weight.shape, g_y)
            return g_x, g_w, None

    rng = np.random.RandomState(3)
    x = lib.tensor(rng.rand(2, 2, 5, 4), requires_grad=True)
    w = lib.tensor(rng.rand(3, 2, 3, 2), requires_grad=True)
    passed = lib.autograd.gradcheck(FusedConvBN.apply, (x, w)) if gradcheck else None
    out = FusedConvBN.apply(x, w)
    (out * lib.arange(out.numel(), dtype=lib.float64).view(out.shape)).sum().backward()
    # the same gradients by autograd through conv2d and batch norm
    x2, w2 = x.detach().requires_grad_(), w.detach().requires_grad_()
    ref = F.batch_norm(F.conv2d(x2, w2), None, None, training=True, eps=1e-3)
    (ref * lib.arange(ref.numel(), dtype=lib.float64).view(ref.shape)).sum().backward()
    strided = G.conv2d_input(
        (1, 4, 7, 6), lib.ones(6, 2, 3, 2, dtype=lib.float64), lib.ones(1, 6, 4, 4, dtype=lib.float64),
        stride=2, padding=1, groups=2,
    )  # fmt: skip
    return passed, x.grad.numpy(), w.grad.numpy(), x2.grad.numpy(), w2.grad.numpy(), strided.numpy()


def test_fused_conv_bn_with_nn_grad_matches_torch():
    # (gradcheck on fastnn only: torch's, of the same Function, checks nothing of fastnn's)
    passed, gx, gw, gx_ref, gw_ref, strided = fused_conv_bn(fastnn, gradcheck=True)
    assert passed is True
    np.testing.assert_allclose(gx, gx_ref, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(gw, gw_ref, rtol=1e-7, atol=1e-9)
    assert strided.shape == (1, 4, 7, 6) and strided.max() > 0
    torch = pytest.importorskip("torch")
    ref = fused_conv_bn(torch)
    _close([gx, gw, strided], [ref[1], ref[2], ref[5]], rtol=1e-9, atol=1e-12)


def test_nn_grad_names_the_mismatch():
    G = fastnn.nn.grad
    with pytest.raises(
        RuntimeError, match=r"grad_output has shape \[1, 3, 4, 4\].*has shape \[1, 3, 3, 3\]"
    ):
        G.conv2d_input((1, 2, 5, 5), fastnn.ones(3, 2, 3, 3), fastnn.ones(1, 3, 4, 4))
    with pytest.raises(RuntimeError, match=r"weight_size must have 4 entries, got \[3, 2, 3\]"):
        G.conv2d_weight(fastnn.ones(1, 2, 5, 5), (3, 2, 3), fastnn.ones(1, 3, 3, 3))
    with pytest.raises(TypeError, match="argument 'grad_output' must be Tensor"):
        G.conv1d_input((1, 2, 5), fastnn.ones(3, 2, 2), [1.0])


# ---- scaled dot-product attention under sdpa_kernel ------------------------------------------


def sdpa_under_kernels(lib):
    F = _F(lib)
    att = importlib.import_module(lib.__name__ + ".nn.attention")
    rng = np.random.RandomState(5)
    q, k, v = (lib.tensor(rng.rand(2, 3, 5, 4).astype(np.float32)) for _ in range(3))
    plain = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    with att.sdpa_kernel(att.SDPBackend.MATH):
        math_only = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    with att.sdpa_kernel([att.SDPBackend.FLASH_ATTENTION, att.SDPBackend.MATH]):
        flash = F.scaled_dot_product_attention(q, k, v)
    with (
        att.sdpa_kernel([att.SDPBackend.EFFICIENT_ATTENTION]),
        pytest.raises(RuntimeError, match="No viable backend"),
    ):
        F.scaled_dot_product_attention(q, k, v)
    # leaving the block restores every backend
    after = F.scaled_dot_product_attention(q, k, v)
    return (
        plain.numpy(),
        math_only.numpy(),
        flash.numpy(),
        after.numpy(),
        int(att.SDPBackend.CUDNN_ATTENTION),
    )


def test_sdpa_kernel_matches_torch():
    ours, ref = _both(sdpa_under_kernels)
    np.testing.assert_allclose(ours[0], ours[1])
    np.testing.assert_allclose(ours[2], ours[3])
    assert ours[4] == 3
    with (
        pytest.raises(TypeError, match="instance of SDPBackend"),
        fastnn.nn.attention.sdpa_kernel("math"),
    ):
        pass
    if ref is not None:
        _close(ours[:4], ref[:4], rtol=1e-5)
        assert ours[4] == ref[4]


# ---- parametrizations: symmetric and orthogonal weights, right_inverse, caching, removal ------


def parametrized_layers(lib):
    nn = lib.nn
    P = importlib.import_module(lib.__name__ + ".nn.utils.parametrize")

    class Symmetric(nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)

        def right_inverse(self, A):
            return A.triu()

    class Skew(nn.Module):
        def forward(self, X):
            A = X.triu(1)
            return A - A.T

    class CayleyMap(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.register_buffer("Id", lib.eye(n))

        def forward(self, X):
            return lib.linalg.solve(self.Id - X, self.Id + X)

    sym = _set_weights(lib, nn.Linear(3, 3))
    P.register_parametrization(sym, "weight", Symmetric())
    names = (type(sym).__name__, P.type_before_parametrizations(sym).__name__)
    keys = list(sym.state_dict().keys())
    target = lib.tensor([[1.0, 2.0, 3.0], [2.0, 5.0, 6.0], [3.0, 6.0, 9.0]])
    sym.weight = target  # stored through right_inverse: the upper triangle
    stored = sym.parametrizations.weight.original.detach().numpy().copy()

    orth = _set_weights(lib, nn.Linear(3, 3))
    P.register_parametrization(orth, "weight", Skew())
    P.register_parametrization(orth, "weight", CayleyMap(3))
    opt = lib.optim.SGD(orth.parameters(), lr=0.1)
    x = lib.tensor(np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3))
    losses = []
    for _ in range(3):
        opt.zero_grad()
        loss = orth(x).pow(2).sum()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    W = orth.weight.detach()
    gram = (W.T @ W).numpy()
    with P.cached():
        cached_same = orth.weight is orth.weight
    fresh_same = orth.weight is orth.weight
    P.remove_parametrizations(orth, "weight")
    after = (type(orth).__name__, list(orth.state_dict().keys()), P.is_parametrized(orth))
    return names, keys, stored, losses, W.numpy(), gram, (cached_same, fresh_same), after


def test_parametrizations_match_torch():
    ours, ref = _both(parametrized_layers)
    names, keys, stored, losses, W, gram, same, after = ours
    assert names == ("ParametrizedLinear", "Linear")
    assert keys == ["bias", "parametrizations.weight.original"]
    np.testing.assert_array_equal(stored, [[1, 2, 3], [0, 5, 6], [0, 0, 9]])
    np.testing.assert_allclose(gram, np.eye(3), atol=1e-5)  # the Cayley map is orthogonal
    assert losses[-1] < losses[0]
    assert same == (True, False)
    assert after == ("Linear", ["bias", "weight"], False)  # re-registered last, as torch
    if ref is not None:
        assert names == ref[0] and keys == ref[1] and same == ref[6] and after == ref[7]
        _close([stored, losses, W], [ref[2], ref[3], ref[4]], rtol=1e-4, atol=1e-6)


def test_parametrization_errors():
    P = fastnn.nn.utils.parametrize
    nn = fastnn.nn

    class First(nn.Module):
        def forward(self, X):
            return X[0]

    with pytest.raises(ValueError, match="may not change the shape of the tensor"):
        P.register_parametrization(nn.Linear(3, 3), "weight", First())
    with pytest.raises(ValueError, match="does not have a parameter, a buffer"):
        P.register_parametrization(nn.Linear(3, 3), "scale", First())
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        P.remove_parametrizations(nn.Linear(3, 3), "weight")
    with pytest.raises(TypeError, match="must be an nn.Module"):
        P.register_parametrization(nn.Linear(3, 3), "weight", lambda x: x)


# ---- pruning: L1 and Ln-structured masks, iterative pruning, global pruning, removal ---------


def pruned_lenet(lib):
    nn, F = lib.nn, _F(lib)
    prune = importlib.import_module(lib.__name__ + ".nn.utils.prune")

    class LeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 4, 3)
            self.conv2 = nn.Conv2d(4, 6, 3)
            self.fc = nn.Linear(6 * 2 * 2, 5)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.relu(self.conv2(x))
            return self.fc(x.view(x.shape[0], -1))

    def build():
        m = LeNet()
        with lib.no_grad():  # distinct magnitudes: no ties in the rankings
            for i, p in enumerate(m.parameters()):
                a = np.sin(np.arange(p.numel()) * 1.7 + i).astype(np.float32)
                p.copy_(lib.tensor(a.reshape(tuple(p.shape))))
        return m

    model = build()
    conv = model.conv1
    prune.l1_unstructured(conv, name="weight", amount=0.3)
    names = (sorted(n for n, _ in conv.named_parameters()), [n for n, _ in conv.named_buffers()])
    first_mask = conv.weight_mask.numpy().copy()
    prune.ln_structured(conv, name="weight", amount=0.5, n=2, dim=0)
    chain = [type(h).__name__ for h in next(iter(conv._forward_pre_hooks.values()))]
    combined = conv.weight_mask.numpy().copy()
    x = lib.tensor(np.linspace(-1, 1, 2 * 100, dtype=np.float32).reshape(2, 1, 10, 10))
    model(x).sum().backward()
    grad = conv.weight_orig.grad.numpy().copy()
    keys = list(model.state_dict().keys())
    prune.remove(conv, "weight")
    removed = (sorted(n for n, _ in conv.named_parameters()), int((conv.weight == 0).sum()))

    model = build()
    pairs = ((model.conv1, "weight"), (model.conv2, "weight"), (model.fc, "weight"))
    prune.global_unstructured(pairs, pruning_method=prune.L1Unstructured, amount=0.25)
    zeros = [int((m.weight == 0).sum()) for m, _ in pairs]

    class EveryOther(prune.BasePruningMethod):
        PRUNING_TYPE = "unstructured"

        def compute_mask(self, t, default_mask):
            mask = default_mask.clone()
            mask.view(-1)[::2] = 0
            return mask

    EveryOther.apply(model.fc, "bias")
    return (
        names,
        first_mask,
        chain,
        combined,
        grad,
        keys,
        removed,
        zeros,
        model.fc.bias_mask.numpy(),
    )


def test_pruning_matches_torch():
    ours, ref = _both(pruned_lenet)
    names, first_mask, chain, combined, grad, keys, removed, zeros, bias_mask = ours
    assert names == (["bias", "weight_orig"], ["weight_mask"])
    assert first_mask.sum() == 36 - round(0.3 * 36)
    assert chain == ["L1Unstructured", "LnStructured"]
    # two of the four output channels are gone, and the L1 zeros stay zero in the rest
    assert (combined.reshape(4, -1).sum(1) == 0).sum() == 2
    assert np.all(combined <= first_mask)
    np.testing.assert_array_equal(grad[combined == 0], 0)  # pruned entries get no gradient
    assert "conv1.weight_orig" in keys and "conv1.weight_mask" in keys
    assert removed[0] == ["bias", "weight"] and removed[1] == int((combined == 0).sum())
    assert sum(zeros) == round(0.25 * (36 + 216 + 120))
    np.testing.assert_array_equal(bias_mask, [0, 1] * 2 + [0])
    if ref is not None:
        assert names == ref[0] and chain == ref[2] and keys == ref[5]
        assert removed == ref[6] and zeros == ref[7]
        _close([first_mask, combined, grad, bias_mask], [ref[1], ref[3], ref[4], ref[8]], rtol=1e-5)


def test_pruning_errors():
    prune = fastnn.nn.utils.prune
    nn = fastnn.nn
    with pytest.raises(ValueError, match=r"amount=1.5 should either be a float in the range"):
        prune.l1_unstructured(nn.Linear(2, 2), "weight", amount=1.5)
    with pytest.raises(ValueError, match="amount=5 should be smaller than the number"):
        prune.l1_unstructured(nn.Linear(2, 2), "weight", amount=5)
    with pytest.raises(TypeError, match="Invalid type for amount"):
        prune.random_unstructured(nn.Linear(2, 2), "weight", amount="half")
    with pytest.raises(ValueError, match="has to be pruned before pruning can be removed"):
        prune.remove(nn.Linear(2, 2), "weight")
    with pytest.raises(ValueError, match="importance_scores should have the same shape"):
        prune.l1_unstructured(nn.Linear(2, 2), "weight", 1, importance_scores=fastnn.ones(3))


# ---- custom Functions differentiated twice: saved outputs, several outputs, setup_context -----


def double_backward_functions(lib):
    Fn = lib.autograd.Function
    once_differentiable = importlib.import_module(
        lib.__name__ + ".autograd.function"
    ).once_differentiable

    class Exp(Fn):
        @staticmethod
        def forward(ctx, x):
            result = x.exp()
            ctx.save_for_backward(result)  # an output: a second derivative goes through it
            return result

        @staticmethod
        def backward(ctx, grad_out):
            (result,) = ctx.saved_tensors
            return grad_out * result

    class Sinh(Fn):
        @staticmethod
        def forward(ctx, x):
            expx, expnegx = lib.exp(x), lib.exp(-x)
            ctx.save_for_backward(expx, expnegx)
            return (expx - expnegx) / 2, expx, expnegx

        @staticmethod
        def backward(ctx, grad_out, grad_exp, grad_negexp):
            expx, expnegx = ctx.saved_tensors
            grad_input = grad_out * (expx + expnegx) / 2
            grad_input += grad_exp * expx
            grad_input -= grad_negexp * expnegx
            return grad_input

    class Cube(Fn):
        @staticmethod
        def forward(x):
            return x**3, 3 * x**2

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0], output[1])

        @staticmethod
        def backward(ctx, grad_output, grad_dx):
            x, dx = ctx.saved_tensors
            return grad_output * dx + grad_dx * 6 * x

    class Square(Fn):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**2

        @staticmethod
        @once_differentiable
        def backward(ctx, grad_out):
            (x,) = ctx.saved_tensors
            return grad_out * 2 * x

    x = lib.tensor(np.linspace(-0.8, 1.1, 6).reshape(2, 3), requires_grad=True)
    checks, second = [], []
    for f in (Exp.apply, lambda t: Sinh.apply(t)[0], lambda t: Cube.apply(t)[0]):
        checks.append(lib.autograd.gradcheck(f, (x,)))
        checks.append(lib.autograd.gradgradcheck(f, (x,)))
        (g,) = lib.autograd.grad(f(x).sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad((g * g).sum(), x)
        second.append(gg.numpy())
    (g,) = lib.autograd.grad((Square.apply(x) * x).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="marked with @once_differentiable"):
        g.sum().backward()
    return checks, second, g.detach().numpy()


def test_double_backward_functions_match_torch():
    (checks, second, g), ref = _both(double_backward_functions)
    assert checks == [True] * 6
    x = np.linspace(-0.8, 1.1, 6).reshape(2, 3)
    # d/dx of (f')^2 is 2 f' f''
    np.testing.assert_allclose(second[0], 2 * np.exp(2 * x), rtol=1e-10)
    np.testing.assert_allclose(second[1], 2 * np.cosh(x) * np.sinh(x), rtol=1e-10)
    np.testing.assert_allclose(second[2], 2 * (3 * x**2) * (6 * x), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(g, 3 * x**2, rtol=1e-12)
    if ref is not None:
        assert checks == ref[0]
        _close([second, g], [ref[1], ref[2]], rtol=1e-10, atol=1e-12)


# ---- the graph as the autograd walk-throughs print it ------------------------------------------


def printed_grad_fns(lib):
    F, nn = _F(lib), lib.nn
    x = lib.ones(5)
    y = lib.zeros(3)
    w = lib.tensor(np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3), requires_grad=True)
    b = lib.tensor([0.1, -0.2, 0.3], requires_grad=True)
    z = lib.matmul(x, w) + b
    loss = F.binary_cross_entropy_with_logits(z, y)
    img = lib.tensor(np.linspace(-1, 1, 16, dtype=np.float32).reshape(1, 1, 4, 4))
    conv = nn.Conv2d(1, 2, 3)
    out = F.relu(conv(img))
    pooled = F.max_pool2d(conv(img), 2)
    mse = nn.MSELoss()(z, y)
    bce = F.binary_cross_entropy(z.sigmoid(), y)
    return [
        repr(t.grad_fn).split(" object")[0].lstrip("<")
        for t in (z, loss, out, pooled, mse, bce, w**2, z.sin())
    ]


def test_printed_grad_fn_names_match_torch():
    names, ref = _both(printed_grad_fns)
    assert names == [
        "AddBackward0",
        "BinaryCrossEntropyWithLogitsBackward0",
        "ReluBackward0",
        "MaxPool2DWithIndicesBackward0",
        "MseLossBackward0",
        "BinaryCrossEntropyBackward0",
        "PowBackward0",
        "SinBackward0",
    ]
    if ref is not None:
        assert names == ref


# ---- "what is torch.nn really": hand-written logistic regression, then a small CNN ------------


def nn_from_scratch(lib):
    F, nn = _F(lib), lib.nn
    rng = np.random.RandomState(0)
    x_np = rng.rand(40, 64).astype(np.float32)
    y_np = rng.randint(0, 10, 40)
    x_train, y_train = map(lib.tensor, (x_np, y_np))
    n = x_train.shape[0]
    weights = lib.tensor(np.linspace(-0.1, 0.1, 640, dtype=np.float32).reshape(64, 10))
    weights.requires_grad_()
    bias = lib.zeros(10, requires_grad=True)

    def log_softmax(x):
        return x - x.exp().sum(-1).log().unsqueeze(-1)

    def model(xb):
        return log_softmax(xb @ weights + bias)

    def nll(inp, target):
        return -inp[range(target.shape[0]), target].mean()

    bs, lr, losses = 16, 0.5, []
    for i in range((n - 1) // bs + 1):
        xb, yb = x_train[i * bs : i * bs + bs], y_train[i * bs : i * bs + bs]
        loss = nll(model(xb), yb)
        loss.backward()
        with lib.no_grad():
            weights -= weights.grad * lr
            bias -= bias.grad * lr
            weights.grad.zero_()
            bias.grad.zero_()
        losses.append(loss.item())
    acc = (lib.argmax(model(x_train), dim=1) == y_train).float().mean()

    class Lambda(nn.Module):
        def __init__(self, func):
            super().__init__()
            self.func = func

        def forward(self, x):
            return self.func(x)

    cnn = nn.Sequential(
        Lambda(lambda x: x.view(-1, 1, 8, 8)),
        nn.Conv2d(1, 4, kernel_size=3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(4, 10, kernel_size=3, stride=2, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), Lambda(lambda x: x.view(x.size(0), -1)),
    )  # fmt: skip
    _set_weights(lib, cnn)
    opt = lib.optim.SGD(cnn.parameters(), lr=0.1, momentum=0.9)
    train_dl = lib.utils.data.DataLoader(
        lib.utils.data.TensorDataset(x_train, y_train), batch_size=bs
    )
    for xb, yb in train_dl:
        loss = F.cross_entropy(cnn(xb), yb)
        loss.backward()
        opt.step()
        opt.zero_grad()
        losses.append(loss.item())
    return losses, acc.item(), str(acc.dtype).split(".")[1]


def test_nn_from_scratch_matches_torch():
    (losses, acc, dtype), ref = _both(nn_from_scratch)
    assert len(losses) == 6 and dtype == "float32" and 0 <= acc <= 1
    assert losses[0] == pytest.approx(math.log(10), rel=0.05)  # near-uniform start
    if ref is not None:
        _close(losses, ref[0], rtol=1e-4)
        assert acc == pytest.approx(ref[1]) and dtype == ref[2]


# ---- neural style transfer: Gram matrices and LBFGS on the image -----------------------------


def style_transfer(lib):
    F, nn = _F(lib), lib.nn

    def gram_matrix(inp):
        a, b, c, d = inp.size()
        features = inp.view(a * b, c * d)
        return lib.mm(features, features.t()).div(a * b * c * d)

    class ContentLoss(nn.Module):
        def __init__(self, target):
            super().__init__()
            self.target = target.detach()

        def forward(self, inp):
            self.loss = F.mse_loss(inp, self.target)
            return inp

    class StyleLoss(nn.Module):
        def __init__(self, target_feature):
            super().__init__()
            self.target = gram_matrix(target_feature).detach()

        def forward(self, inp):
            self.loss = F.mse_loss(gram_matrix(inp), self.target)
            return inp

    class Normalization(nn.Module):
        def __init__(self, mean, std):
            super().__init__()
            self.mean = mean.clone().detach().view(-1, 1, 1)
            self.std = std.clone().detach().view(-1, 1, 1)

        def forward(self, img):
            return (img - self.mean) / self.std

    rng = np.random.RandomState(1)
    style_img = lib.tensor(rng.rand(1, 3, 8, 8).astype(np.float32))
    content_img = lib.tensor(rng.rand(1, 3, 8, 8).astype(np.float32))
    cnn = _set_weights(lib, nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(inplace=True),
                                          nn.Conv2d(4, 4, 3, padding=1)))  # fmt: skip
    norm = Normalization(lib.tensor([0.485, 0.456, 0.406]), lib.tensor([0.229, 0.224, 0.225]))
    model = nn.Sequential(norm)
    content_losses, style_losses, i = [], [], 0
    for layer in cnn.children():
        if isinstance(layer, nn.Conv2d):
            i += 1
            name = f"conv_{i}"
        else:
            name = f"relu_{i}"
            layer = nn.ReLU(inplace=False)
        model.add_module(name, layer)
        if name == "conv_2":
            cl = ContentLoss(model(content_img).detach())
            model.add_module(f"content_loss_{i}", cl)
            content_losses.append(cl)
        if name.startswith("conv"):
            sl = StyleLoss(model(style_img).detach())
            model.add_module(f"style_loss_{i}", sl)
            style_losses.append(sl)
    model.eval()
    model.requires_grad_(False)
    input_img = content_img.clone()
    input_img.requires_grad_(True)
    optimizer = lib.optim.LBFGS([input_img], max_iter=6)  # float32 rounding drifts after more
    scores = []

    def closure():
        with lib.no_grad():
            input_img.clamp_(0, 1)
        optimizer.zero_grad()
        model(input_img)
        style_score = sum(sl.loss for sl in style_losses) * 1000
        content_score = sum(cl.loss for cl in content_losses)
        loss = style_score + content_score
        loss.backward()
        scores.append(loss.item())
        return loss

    for _ in range(2):
        optimizer.step(closure)
    with lib.no_grad():
        input_img.clamp_(0, 1)
    names = [n for n, _ in model.named_children()]
    return scores, input_img.detach().numpy(), names


def test_style_transfer_lbfgs_matches_torch():
    (scores, img, names), ref = _both(style_transfer)
    assert names[:3] == ["0", "conv_1", "style_loss_1"] and "content_loss_2" in names
    assert scores[-1] < scores[0] and img.min() >= 0 and img.max() <= 1
    if ref is not None:
        assert names == ref[2] and len(scores) == len(ref[0])
        _close(scores, ref[0], rtol=1e-4, atol=1e-6)
        _close(img, ref[1], rtol=1e-4, atol=1e-5)


# ---- DataParallel as programs use it: wrap whenever, unwrap with .module ----------------------


def data_parallel_program(lib):
    nn = lib.nn

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(5, 2)

        def forward(self, x):
            return self.fc(x)

    model = _set_weights(lib, Model())
    if lib.cuda.device_count() > 1:  # (never here: the same program as on a multi-GPU host)
        raise AssertionError("unexpected devices")
    model = nn.DataParallel(model)
    device = lib.device("cuda:0" if lib.cuda.is_available() else "cpu")
    model.to(device)
    opt = lib.optim.SGD(model.parameters(), lr=0.1)
    x = lib.tensor(np.linspace(-1, 1, 30, dtype=np.float32).reshape(6, 5)).to(device)
    out = model(x)
    out.pow(2).sum().backward()
    opt.step()
    inner = model.module
    return (
        type(inner).__name__,
        list(model.state_dict().keys()),
        model.device_ids,
        repr(model).splitlines()[:2],
        out.detach().numpy(),
        inner.fc.weight.detach().numpy(),
    )


def test_data_parallel_matches_torch():
    ours, ref = _both(data_parallel_program)
    assert ours[0] == "Model" and ours[1] == ["module.fc.weight", "module.fc.bias"]
    assert ours[3] == ["DataParallel(", "  (module): Model("]
    assert ours[2] == ([0] if fastnn.cuda.is_available() else [])
    if ref is not None and not fastnn.cuda.is_available():
        assert ours[:4] == ref[:4]
        _close(ours[4:], ref[4:], rtol=1e-5)
    with pytest.raises(TypeError, match="must be an nn.Module"):
        fastnn.nn.DataParallel(lambda x: x)


def tuple_module_hooks(lib):
    nn = lib.nn

    class Two(nn.Module):
        def forward(self, a, b, scale=1.0):
            return a * scale, b * 2

    class AddOne(nn.Module):
        def forward(self, x):
            x.add_(1)
            return x * 2

    got = []
    two = Two()
    two.register_full_backward_hook(lambda m, gi, go: got.append((gi, go)))
    a = lib.ones(2, requires_grad=True)
    o1, _ = two(a, lib.ones(2), scale=3.0)
    o1.sum().backward()
    (gi, go) = got[0]
    shown = (
        [None if g is None else g.tolist() for g in gi],
        [None if g is None else g.tolist() for g in go],
    )
    add = AddOne()
    add.register_full_backward_hook(lambda *args: None)
    with pytest.raises(RuntimeError, match="is a view and is being modified inplace"):
        add(lib.ones(2, requires_grad=True) * 1)
    return shown, a.grad.tolist()


def test_backward_hooks_on_several_inputs_and_outputs_match_torch():
    ours, ref = _both(tuple_module_hooks)
    # an argument that needs no grad shows a zero gradient, an unused output None
    assert ours == (([[3.0, 3.0], [0.0, 0.0]], [[1.0, 1.0], None]), [3.0, 3.0])
    if ref is not None:
        assert ours == ref


def legacy_backward_hook(lib):
    conv = _set_weights(lib, lib.nn.Conv2d(2, 3, 3))
    seen = []

    def printgradnorm(module, grad_input, grad_output):
        seen.append((tuple(grad_input[0].shape), tuple(grad_output[0].shape)))
        seen.append(grad_input[0].norm().item())

    conv.register_backward_hook(printgradnorm)
    x = lib.tensor(np.linspace(-1, 1, 50, dtype=np.float32).reshape(1, 2, 5, 5), requires_grad=True)
    conv(x).pow(2).sum().backward()
    return seen


def test_legacy_backward_hook_gives_the_input_gradient_first():
    with pytest.warns(UserWarning, match="runs as register_full_backward_hook"):
        ours = legacy_backward_hook(fastnn)
    assert ours[0] == ((1, 2, 5, 5), (1, 3, 3, 3)) and ours[1] > 0
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        ref = legacy_backward_hook(torch)
        assert ours[0] == ref[0] and ours[1] == pytest.approx(ref[1], rel=1e-5)
    lin = fastnn.nn.Linear(2, 2)
    lin.register_full_backward_hook(lambda *a: None)
    with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks and full"):
        lin.register_backward_hook(lambda *a: None)


# ---- a Transformer language model: positional encoding, causal mask, clipped SGD + StepLR -----


def transformer_lm(lib):
    nn = lib.nn
    ntoken, d_model = 11, 8

    class PositionalEncoding(nn.Module):
        def __init__(self, d_model, max_len=50):
            super().__init__()
            self.dropout = nn.Dropout(p=0.0)
            position = lib.arange(max_len).unsqueeze(1)
            div_term = lib.exp(lib.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
            pe = lib.zeros(max_len, 1, d_model)
            pe[:, 0, 0::2] = lib.sin(position * div_term)
            pe[:, 0, 1::2] = lib.cos(position * div_term)
            self.register_buffer("pe", pe)

        def forward(self, x):
            return self.dropout(x + self.pe[: x.size(0)])

    class TransformerModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.pos_encoder = PositionalEncoding(d_model)
            layer = nn.TransformerEncoderLayer(d_model, 2, 16, 0.0)
            self.transformer_encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
            self.embedding = nn.Embedding(ntoken, d_model)
            self.linear = nn.Linear(d_model, ntoken)

        def forward(self, src, src_mask=None):
            src = self.embedding(src) * math.sqrt(d_model)
            out = self.transformer_encoder(self.pos_encoder(src), src_mask)
            return self.linear(out)

    model = TransformerModel()
    with lib.no_grad():
        for i, p in enumerate(model.parameters()):
            a = np.sin(np.arange(p.numel()) * 0.37 + i).astype(np.float32) * 0.3
            p.copy_(lib.tensor(a.reshape(tuple(p.shape))))
    data = lib.tensor(np.arange(48) * 7 % ntoken)
    seq_len = data.size(0) // 4
    train = data[: seq_len * 4].view(4, seq_len).t().contiguous()
    criterion = nn.CrossEntropyLoss()
    optimizer = lib.optim.SGD(model.parameters(), lr=0.5)
    scheduler = lib.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.95)
    bptt, losses, lrs, masks = 5, [], [], []
    model.train()
    for i in range(0, train.size(0) - 1, bptt):
        n = min(bptt, len(train) - 1 - i)
        src, target = train[i : i + n], train[i + 1 : i + 1 + n].reshape(-1)
        mask = nn.Transformer.generate_square_subsequent_mask(src.size(0))
        masks.append(mask.numpy())
        loss = criterion(model(src, mask).view(-1, ntoken), target)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        optimizer.step()
        losses.append(loss.item())
        lrs.append(scheduler.get_last_lr()[0])
        scheduler.step()
    model.eval()
    with lib.no_grad():
        out = model(train[:4])
    return tuple(train.shape), masks[0], losses, lrs, out.numpy()


def test_transformer_lm_matches_torch():
    ours, ref = _both(transformer_lm)
    shape, mask, losses, lrs, out = ours
    assert shape == (12, 4) and out.shape == (4, 4, 11) and len(losses) == 3
    assert mask.shape == (5, 5) and mask[0, 1] == -np.inf and mask[1, 0] == 0
    np.testing.assert_allclose(lrs, [0.5, 0.475, 0.45125])
    if ref is not None:
        assert shape == ref[0]
        _close([mask, losses, lrs], [ref[1], ref[2], ref[3]], rtol=1e-4)
        _close(out, ref[4], rtol=1e-3, atol=1e-4)


def test_tensor_from_a_tensor_warns_and_copies():
    mean = fastnn.tensor([0.485, 0.456, 0.406], requires_grad=True)
    with pytest.warns(UserWarning, match=r"sourceTensor.detach\(\).clone\(\)"):
        copy = fastnn.tensor(mean).view(-1, 1, 1)
    assert copy.shape == (3, 1, 1) and not copy.requires_grad
    copy[0, 0, 0] = 1.0
    assert mean[0].item() == pytest.approx(0.485)  # a copy, not a view
