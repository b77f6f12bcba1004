"""Recurrent layers: an LSTM and a GRU training step (forward + backward) vs torch (CPU).

The language-model shape: seq 35, batch 32, input 256, hidden 256, 2 layers (and 1), float32;
the loss is the sum of the outputs times a fixed random tensor, so every output and every
parameter gets a gradient. fastnn and torch run the same weights; the results are checked
against torch before timing, then each library is timed in its own stretches, taking turns
(``_harness.compare``: a pause lets the other library's spinning worker threads go to sleep
first; back-to-back steps let torch's spinners slow fastnn's next step by a quarter).
"""

import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))

import fastnn
from _harness import Table, check_close, compare, try_torch
from fastnn import nn


def _step(lib, model, x, w):
    def step():
        for p in model.parameters():
            p.grad = None
        out, _ = model(x)
        loss = (out * w).sum()
        loss.backward()
        return loss

    return step


def _case(torch, kind, seq, batch, inp, hidden, layers, rounds):
    rng = np.random.default_rng(0)
    fm = getattr(nn, kind)(inp, hidden, layers)
    x = rng.standard_normal((seq, batch, inp)).astype(np.float32)
    w = rng.standard_normal((seq, batch, hidden)).astype(np.float32)
    fstep = _step(fastnn, fm, fastnn.tensor(x), fastnn.tensor(w))
    tstep = None
    if torch is not None:
        tm = getattr(torch.nn, kind)(inp, hidden, layers)
        tm.load_state_dict({k: torch.tensor(v.numpy()) for k, v in fm.state_dict().items()})
        tstep = _step(torch, tm, torch.tensor(x), torch.tensor(w))
        check_close(f"{kind} loss", fstep().item(), tstep().item(), rtol=1e-3, atol=1e-2)
        for (name, fp), tp in zip(fm.named_parameters(), tm.parameters()):
            check_close(
                f"{kind} grad {name}", fp.grad.numpy(), tp.grad.numpy(), rtol=1e-3, atol=1e-3
            )
    fns = {"fastnn": fstep} if tstep is None else {"fastnn": fstep, "torch": tstep}
    times = compare(fns, rounds=rounds, calls=2, warmup=1, warm_s=0.05)
    f = times["fastnn"][0] * 1e3
    t = times["torch"][0] * 1e3 if tstep is not None else None
    return f, t


def run(quick=False):
    torch = try_torch()
    rounds = 3 if quick else 20
    table = Table(
        "Recurrent layers: training step (forward + backward), float32 (ms, median)",
        ["layer", "seq x batch x in -> hidden, layers", "fastnn ms", "torch ms", "vs torch"],
        note=f"median of {rounds} turns of one step each; vs torch = torch time / fastnn time "
        "(higher is better for fastnn)",
        readme={"what": "LSTM / GRU / RNN training step", "torch": "vs torch"},
    )
    cases = (("LSTM", 2), ("GRU", 2)) + (() if quick else (("LSTM", 1), ("GRU", 1)))
    for kind, layers in cases:
        f, t = _case(torch, kind, 35, 32, 256, 256, layers, rounds)
        table.add(
            layer=kind,
            **{
                "seq x batch x in -> hidden, layers": f"35 x 32 x 256 -> 256, {layers}",
                "fastnn ms": f,
                "torch ms": t,
                "vs torch": None if t is None else t / f,
            },
        )
    return [table]
