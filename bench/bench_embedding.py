"""Embedding lookup and EmbeddingBag, forward + backward, float32: fastnn vs NumPy vs torch.

One training step's worth of work on the table: out = weight[idx] (forward) and the dense table
gradient (backward, zero rows included). fastnn and torch run through their autograd (module
call, then out.backward(g) with the gradient reset to None first, as zero_grad does), NumPy as
weight[idx] plus np.add.at into a fresh zero table. Each library is timed in its own warmed
stretches of calls, the libraries taking turns (bench/_harness.py compare).

fastnn's table gradient of a large table lives on fresh zero pages, of which the backward writes
only the looked-up rows; whoever reads the whole gradient next (the optimizer) pays for mapping
the rest. The '+ SGD step' rows include that step (torch.optim.SGD / fastnn.optim.SGD, lr 0.1),
so they compare a whole training step's work on the table.
"""

import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))

import fastnn
from _harness import Table, check_close, compare, try_torch

# (num_embeddings, embedding_dim, index shape, with an SGD step)
CASES = [
    (50_000, 256, (32, 35), False),
    (50_000, 256, (32, 35), True),
    (50_000, 256, (256, 140), False),
    (1_000, 64, (64, 256), False),
]


def _timed(fns, quick):
    """Median seconds of each fn of the dict, each library in its own warmed stretch of calls
    (compare); one call each in turn let torch's spinning threads slow fastnn's next call and
    fastnn's sleeping pool torch's (torch's EmbeddingBag row moved between 5 and 18 ms)."""
    stats = compare(fns, rounds=2 if quick else 5, calls=2 if quick else 5)
    return {name: med for name, (med, _) in stats.items()}


def run(quick=False):
    rng = np.random.default_rng(0)
    torch = try_torch()
    table = Table(
        "embedding, forward + backward (dense table gradient), float32 (ms, median)",
        ["table", "indices", "fastnn ms", "numpy ms", "torch ms", "vs numpy", "vs torch"],
        note="ratios: time of the other library / fastnn's (higher is better for fastnn)",
        readme={"what": "Embedding fwd+bwd", "torch": "vs torch", "numpy": "vs numpy"},
    )
    for num, dim, shape, sgd in CASES:
        w = rng.standard_normal((num, dim)).astype(np.float32)
        idx = rng.integers(0, num, shape)
        g = rng.standard_normal((*shape, dim)).astype(np.float32)
        want_out = w[idx]
        want_gw = np.zeros((num, dim))
        np.add.at(want_gw, idx.ravel(), g.reshape(-1, dim).astype(np.float64))

        emb = fastnn.nn.Embedding.from_pretrained(fastnn.tensor(w.copy()), freeze=False)
        fi, fg = fastnn.tensor(idx), fastnn.tensor(g)
        fopt = fastnn.optim.SGD(emb.parameters(), lr=0.1)

        def fastnn_step():
            emb.weight.grad = None
            out = emb(fi)
            out.backward(fg)
            if sgd:
                fopt.step()
            return out

        def numpy_step():
            out = w[idx]
            gw = np.zeros_like(w)
            np.add.at(gw, idx.ravel(), g.reshape(-1, dim))
            return out, gw

        out = fastnn_step()
        if not sgd:
            check_close("embedding", out.detach().numpy(), want_out, rtol=0, atol=0)
        check_close("embedding grad", emb.weight.grad.numpy(), want_gw, rtol=1e-5, atol=1e-5)
        check_close("embedding numpy grad", numpy_step()[1], want_gw, rtol=1e-5, atol=1e-5)
        fns = {"fastnn": fastnn_step} if sgd else {"fastnn": fastnn_step, "numpy": numpy_step}
        if torch is not None:
            te = torch.nn.Embedding.from_pretrained(torch.from_numpy(w.copy()), freeze=False)
            ti, tg = torch.from_numpy(idx), torch.from_numpy(g)
            topt = torch.optim.SGD(te.parameters(), lr=0.1)

            def torch_step():
                te.weight.grad = None
                te(ti).backward(tg)
                if sgd:
                    topt.step()

            torch_step()
            check_close(
                "embedding torch grad", te.weight.grad.numpy(), want_gw, rtol=1e-5, atol=1e-5
            )
            if sgd:  # one step each so far: the same table
                check_close(
                    "embedding sgd",
                    emb.weight.detach().numpy(),
                    te.weight.detach().numpy(),
                    rtol=1e-6,
                    atol=1e-6,
                )
            fns["torch"] = torch_step
        times = _timed(fns, quick)
        row = {
            "table": f"{num}x{dim}",
            "indices": "x".join(map(str, shape)) + (" + SGD step" if sgd else ""),
            "fastnn ms": times["fastnn"] * 1e3,
        }
        for lib in ("numpy", "torch"):
            if lib in times:
                row[f"{lib} ms"] = times[lib] * 1e3
                row[f"vs {lib}"] = times[lib] / times["fastnn"]
        table.add(**row)
    return [table, _bag_table(rng, torch, quick)]


def _bag_table(rng, torch, quick):
    """EmbeddingBag(mode='mean'), forward + backward: fixed-length bags (2-D input) and bags of
    varying length cut by offsets (1-D input)."""
    table = Table(
        "embedding_bag mode='mean', forward + backward, float32 (ms, median)",
        ["table", "bags", "fastnn ms", "torch ms", "vs torch"],
        note="ratios: time of torch / fastnn's (higher is better for fastnn)",
        readme={"what": "EmbeddingBag (mean) fwd+bwd", "torch": "vs torch"},
    )
    num, dim = 50_000, 256
    w = rng.standard_normal((num, dim)).astype(np.float32)
    for label, shape in (("256 x 35 (2-D)", (256, 35)), ("256 of 1..69 (offsets)", (256 * 35,))):
        idx = rng.integers(0, num, shape)
        offsets = None
        if len(shape) == 1:
            offsets = np.concatenate([[0], np.sort(rng.integers(0, shape[0], 255))])
        fm = fastnn.nn.EmbeddingBag.from_pretrained(fastnn.tensor(w), freeze=False)
        fi = fastnn.tensor(idx)
        fo = None if offsets is None else fastnn.tensor(offsets)

        def fastnn_step():
            fm.weight.grad = None
            out = fm(fi, fo)
            out.sum().backward()
            return out

        out = fastnn_step()
        fns = {"fastnn": fastnn_step}
        if torch is not None:
            tm = torch.nn.EmbeddingBag.from_pretrained(torch.from_numpy(w.copy()), freeze=False)
            ti = torch.from_numpy(idx)
            to = None if offsets is None else torch.from_numpy(offsets)

            def torch_step():
                tm.weight.grad = None
                tm(ti, to).sum().backward()

            torch_step()
            check_close(
                "embedding_bag",
                out.detach().numpy(),
                tm(ti, to).detach().numpy(),
                rtol=1e-5,
                atol=1e-6,
            )
            check_close(
                "embedding_bag grad",
                fm.weight.grad.numpy(),
                tm.weight.grad.numpy(),
                rtol=1e-5,
                atol=1e-6,
            )
            fns["torch"] = torch_step
        times = _timed(fns, quick)
        row = {"table": f"{num}x{dim}", "bags": label, "fastnn ms": times["fastnn"] * 1e3}
        if torch is not None:
            row["torch ms"] = times["torch"] * 1e3
            row["vs torch"] = times["torch"] / times["fastnn"]
        table.add(**row)
    return table


if __name__ == "__main__":
    for t in run(quick="--quick" in sys.argv):
        print(t.markdown())
