"""Attention: scaled_dot_product_attention, MultiheadAttention and a Transformer encoder training
step, forward + backward, fastnn vs torch (CPU).

The shapes of a small language model: batch 32, 64 tokens, d_model 128, 4 heads (head size 32),
feed-forward 256. SDPA rows run with no mask and with the causal one; the MultiheadAttention row
is self-attention with a key padding mask; the encoder row is the training step of
tests' and the char_transformer example's model kind: a 1000-token embedding, 2 post-norm
TransformerEncoderLayers (dropout off, so both libraries compute the same numbers), a Linear head,
cross-entropy and Adam. The same weights in both libraries; results are checked against torch
before timing, then each library is timed in its own stretches, taking turns
(``_harness.compare``).
"""

import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))

import fastnn
from _harness import Table, check_close, compare, try_torch

B, T, D, H, FF, VOCAB = 32, 64, 128, 4, 256, 1000


def _sdpa_step(lib, q, k, v, g, causal):
    F = lib.nn.functional

    def step():
        for x in (q, k, v):
            x.grad = None
        out = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        out.backward(g)
        return out

    return step


def _mha_step(lib, m, x, kpm, g):
    def step():
        x.grad = None
        for p in m.parameters():
            p.grad = None
        out, _ = m(x, x, x, key_padding_mask=kpm, need_weights=False)
        out.backward(g)
        return out

    return step


class _Encoder:
    """Embedding -> TransformerEncoder (2 layers) -> Linear, in either library."""

    def __init__(self, lib):
        nn = lib.nn
        self.lib = lib
        self.emb = nn.Embedding(VOCAB, D)
        layer = nn.TransformerEncoderLayer(D, H, FF, dropout=0.0, batch_first=True)
        self.enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.head = nn.Linear(D, VOCAB)
        self.modules = (self.emb, self.enc, self.head)

    def parameters(self):
        return [p for m in self.modules for p in m.parameters()]

    def load_from(self, other):
        for mine, theirs in zip(self.modules, other.modules):
            state = {k: self.lib.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()}
            mine.load_state_dict(state)

    def step_fn(self, x, y):
        lib = self.lib
        opt = lib.optim.Adam(self.parameters(), lr=1e-3)

        def step():
            opt.zero_grad()
            logits = self.head(self.enc(self.emb(x)))
            loss = lib.nn.functional.cross_entropy(logits.reshape(-1, VOCAB), y.reshape(-1))
            loss.backward()
            opt.step()
            return loss

        return step


def run(quick=False):
    torch = try_torch()
    rounds = 3 if quick else 15
    rng = np.random.default_rng(0)
    table = Table(
        f"Attention, forward + backward, float32, batch {B}, {T} tokens, d_model {D}, {H} heads "
        "(ms, median)",
        ["case", "fastnn ms", "torch ms", "vs torch"],
        note=f"median of {rounds} turns; vs torch = torch time / fastnn time (higher is better)",
        readme={
            "what": "attention: SDPA, MultiheadAttention, a Transformer encoder step",
            "torch": "vs torch",
        },
    )
    libs = {"fastnn": fastnn} if torch is None else {"fastnn": fastnn, "torch": torch}

    def tensors(lib, *arrays, grad=False):
        return [lib.tensor(a, requires_grad=grad) for a in arrays]

    qkv = [rng.standard_normal((B, H, T, D // H)).astype(np.float32) for _ in range(3)]
    g = rng.standard_normal((B, H, T, D // H)).astype(np.float32)
    cases = {}
    for causal in (False, True):
        name = f"scaled_dot_product_attention{' causal' if causal else ''}"
        cases[name] = {
            n: _sdpa_step(lib, *tensors(lib, *qkv, grad=True), lib.tensor(g), causal)
            for n, lib in libs.items()
        }

    x = rng.standard_normal((B, T, D)).astype(np.float32)
    gx = rng.standard_normal((B, T, D)).astype(np.float32)
    kpm = np.zeros((B, T), bool)
    kpm[:, -8:] = True  # the last 8 tokens of every sequence are padding
    fm = fastnn.nn.MultiheadAttention(D, H, batch_first=True)
    mods = {"fastnn": fm}
    if torch is not None:
        tm = torch.nn.MultiheadAttention(D, H, batch_first=True)
        tm.load_state_dict({k: torch.tensor(v.numpy()) for k, v in fm.state_dict().items()})
        mods["torch"] = tm
    cases["MultiheadAttention, key padding mask"] = {
        n: _mha_step(lib, mods[n], *tensors(lib, x, grad=True), lib.tensor(kpm), lib.tensor(gx))
        for n, lib in libs.items()
    }

    tokens = rng.integers(0, VOCAB, (B, T))
    encoders = {n: _Encoder(lib) for n, lib in libs.items()}
    if torch is not None:
        encoders["fastnn"].load_from(encoders["torch"])
    cases["encoder training step (2 layers, Adam)"] = {
        n: encoders[n].step_fn(lib.tensor(tokens), lib.tensor(np.roll(tokens, -1, 1)))
        for n, lib in libs.items()
    }

    for name, steps in cases.items():
        if "torch" in steps:
            got, want = steps["fastnn"](), steps["torch"]()
            check_close(name, got.detach().numpy(), want.detach().numpy(), rtol=1e-3, atol=1e-4)
        times = compare(steps, rounds=rounds, calls=2, warmup=1, warm_s=0.05)
        f = times["fastnn"][0] * 1e3
        t = times["torch"][0] * 1e3 if "torch" in times else None
        table.add(
            case=name,
            **{"fastnn ms": f, "torch ms": t, "vs torch": None if t is None else t / f},
        )
    return [table]


if __name__ == "__main__":
    for t in run(quick="--quick" in sys.argv):
        print(t.markdown())
