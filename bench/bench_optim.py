"""Optimizer steps: fastnn's fused multi-tensor kernels vs NumPy vs torch.optim (foreach, fused).

Adam, RMSprop, SGD-momentum, Adadelta, Adamax, NAdam and RAdam steps on N float32 parameters, as
one tensor and as 100 tensors, and on the parameters of the MLP 784-256-10 (four tensors). The
step is memory-bound, so the napkin math is bytes moved per parameter (Adam: p, g, m, v read and
p, m, v written = 28 B, the same for every optimizer with two state buffers; RMSprop and
SGD-momentum: 20 B) against the copy bandwidth (bench/_harness.py copy_bandwidth, read + write)
measured in the same run. Every implementation is first checked against a float64 reference
(tests/reference.py; fastnn.optim._functional's NumPy path for the newer optimizers) on a small
problem; the implementations take turns in warmed stretches of steps (bench/_harness.py
compare). For the newer optimizers torch has no CPU fused kernel: its rows are foreach and its
default (foreach=False, the per-tensor loop torch runs on CPU unless told otherwise).
"""

import pathlib
import sys

import numpy as np

from _harness import Table, check_close, compare, copy_bandwidth, try_torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tests"))
import reference as ref
from fastnn import kernels
from fastnn.optim import _functional as F

HP = {
    "adam": {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8},
    "rmsprop": {"lr": 1e-3, "alpha": 0.99, "eps": 1e-8},
    "sgd": {"lr": 1e-3, "momentum": 0.9},
}
BYTES_PER_PARAM = {"adam": 28, "rmsprop": 20, "sgd": 20}
N_STATES = {"adam": 2, "rmsprop": 1, "sgd": 1}
# The optimizers with two state buffers and a kernel of their own: name -> (torch class, the
# hyperparameters as torch takes them).
NEWER = {
    "adadelta": ("Adadelta", {"lr": 1.0, "rho": 0.9, "eps": 1e-6, "weight_decay": 1e-4}),
    "adamax": ("Adamax", {"lr": 2e-3, "betas": (0.9, 0.999), "eps": 1e-8}),
    "nadam": ("NAdam", {"lr": 2e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 1e-4}),
    "radam": ("RAdam", {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8}),
}
for _name in NEWER:
    HP[_name] = NEWER[_name][1]
    BYTES_PER_PARAM[_name] = 28
    N_STATES[_name] = 2
# the MLP of fastnn's optimizers_mnist example, 784-256-10: weight and bias of both layers
MLP_SHAPES = [(256, 784), (256,), (10, 256), (10,)]


def newer_step(name, params, grads, states, t, fused):
    """One step of a newer optimizer on float32 lists, through the kernel or the NumPy path."""
    hp = dict(HP[name])
    if "betas" in hp:
        hp["beta1"], hp["beta2"] = hp.pop("betas")
    if name != "adadelta":
        hp["step"] = t
    if name == "nadam":
        mu_product = 1.0
        for k in range(1, t + 1):
            mu_product *= F.nadam_mu(hp["beta1"], 4e-3, k)
        hp["mu_product"] = mu_product
    getattr(F, name)(params, grads, *states, fused=fused, **hp)


# ---- the implementations: make(params, grads) -> step() ------------------------------------------


def fastnn_step(name, params, grads):
    states = [[np.zeros_like(p) for p in params] for _ in range(N_STATES[name])]
    count = [0]
    hp = HP[name]

    def step():
        count[0] += 1
        if name in NEWER:
            newer_step(name, params, grads, states, count[0], fused=True)
        elif name == "adam":
            kernels.adam_step(
                params,
                grads,
                *states,
                lr=hp["lr"],
                beta1=hp["betas"][0],
                beta2=hp["betas"][1],
                eps=hp["eps"],
                step=count[0],
            )
        elif name == "rmsprop":
            kernels.rmsprop_step(
                params, grads, states[0], lr=hp["lr"], alpha=hp["alpha"], eps=hp["eps"]
            )
        else:
            kernels.sgd_step(
                params,
                grads,
                states[0],
                lr=hp["lr"],
                momentum=hp["momentum"],
                first_step=count[0] == 1,
            )

    return step


def numpy_step(name, params, grads):
    """A straightforward vectorised NumPy implementation (in-place where it is natural)."""
    states = [[np.zeros_like(p) for p in params] for _ in range(N_STATES[name])]
    count = [0]
    hp = HP[name]

    def step():
        count[0] += 1
        t = count[0]
        if name in NEWER:  # fastnn's reference path: torch's per-tensor loop in NumPy
            newer_step(name, params, grads, states, t, fused=False)
            return
        for i, (p, g) in enumerate(zip(params, grads)):
            if name == "adam":
                b1, b2 = hp["betas"]
                m, v = states[0][i], states[1][i]
                m *= b1
                m += (1 - b1) * g
                v *= b2
                v += (1 - b2) * g * g
                denom = np.sqrt(v) / np.sqrt(1 - b2**t) + hp["eps"]
                p -= hp["lr"] / (1 - b1**t) * m / denom
            elif name == "rmsprop":
                sq = states[0][i]
                sq *= hp["alpha"]
                sq += (1 - hp["alpha"]) * g * g
                p -= hp["lr"] * g / (np.sqrt(sq) + hp["eps"])
            else:
                buf = states[0][i]
                if t == 1:
                    buf[...] = g
                else:
                    buf *= hp["momentum"]
                    buf += g
                p -= hp["lr"] * buf

    return step


def torch_step(torch, variant):
    def make(name, params, grads):
        tparams = [torch.from_numpy(p) for p in params]  # shares memory: results checkable
        for tp, g in zip(tparams, grads):
            tp.grad = torch.from_numpy(g)
        classes = {"adam": "Adam", "rmsprop": "RMSprop", "sgd": "SGD"}
        classes.update({k: v[0] for k, v in NEWER.items()})
        cls = getattr(torch.optim, classes[name])
        opt = cls(tparams, **variant, **HP[name])
        return opt.step

    return make


def torch_variants(torch, name):
    out = [("torch foreach", torch_step(torch, {"foreach": True}))]
    if name in ("adam", "sgd"):  # torch has CPU fused kernels for these (not for RMSprop)
        out.append(("torch fused", torch_step(torch, {"fused": True})))
    if name in NEWER:
        out.append(("torch default", torch_step(torch, {"foreach": False})))
    return out


# ---- correctness gate --------------------------------------------------------------------------


def check(name, label, make):
    rng = np.random.default_rng(0)
    shapes = [(1000,), (7,), (4097,)]
    params = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    grads = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    oracle = [p.astype(np.float64) for p in params]
    g64 = [g.astype(np.float64) for g in grads]
    states = [[np.zeros_like(p) for p in oracle] for _ in range(N_STATES[name])]
    step = make(name, params, grads)
    hp = HP[name]
    for t in range(1, 4):
        step()
        if name in NEWER:
            newer_step(name, oracle, g64, states, t, fused=False)
        elif name == "adam":
            ref.adam_step(
                oracle,
                g64,
                *states,
                lr=hp["lr"],
                beta1=hp["betas"][0],
                beta2=hp["betas"][1],
                eps=hp["eps"],
                step=t,
            )
        elif name == "rmsprop":
            ref.rmsprop_step(oracle, g64, states[0], lr=hp["lr"], alpha=hp["alpha"], eps=hp["eps"])
        else:
            ref.sgd_step(
                oracle, g64, states[0], lr=hp["lr"], momentum=hp["momentum"], first_step=t == 1
            )
    for p, o in zip(params, oracle):
        check_close(f"{name} {label}", p, o, rtol=1e-4, atol=1e-6)


# ---- the benchmark -----------------------------------------------------------------------------


def run(quick=False):
    torch = try_torch()
    total = 1_000_000 if quick else 10_000_000
    repeats = 3 if quick else 20
    layouts = [
        ("MLP 784-256-10", MLP_SHAPES),
        (f"1 x {total:,}", [(total,)]),
        (f"100 x {total // 100:,}", [(total // 100,)] * 100),
    ]
    copy_gbs = copy_bandwidth(nbytes=total * 40, repeats=repeats)
    tables = []
    for name in ("adam", "rmsprop", "sgd", *NEWER):
        impls = [("fastnn", fastnn_step), ("numpy", numpy_step)]
        if torch is not None:
            impls += torch_variants(torch, name)
        for label, make in impls:
            check(name, label, make)
        title = "SGD momentum" if name == "sgd" else NEWER.get(name, (name,))[0]
        table = Table(
            f"optimizer step: {name} ({title}), float32",
            ["layout", "impl", "ms", "min ms", "GB/s", "of copy BW", "fastnn speedup"],
            note=f"{BYTES_PER_PARAM[name]} bytes/param; copy bandwidth {copy_gbs:.1f} GB/s "
            "(read + write, same run); 'fastnn speedup' = this row's ms / fastnn's ms.",
        )
        for layout, shapes in layouts:
            n_params = sum(int(np.prod(s)) for s in shapes)
            steps = []
            for _label, make in impls:
                rng = np.random.default_rng(1)
                params = [rng.standard_normal(s, dtype=np.float32) for s in shapes]
                grads = [rng.standard_normal(s, dtype=np.float32) * 1e-2 for s in shapes]
                steps.append(make(name, params, grads))
            # Each implementation in its own warmed stretch, in turns (compare): one step right
            # after another library's left fastnn's pool asleep next to torch's spinning OpenMP
            # threads (the MLP's Adam step: median 0.67 ms, min 0.16).
            small = n_params < total // 10  # cheap, noisier: more calls per stretch
            timed = compare(
                {label: step for (label, _), step in zip(impls, steps)},
                rounds=repeats if small else max(3, repeats // 4),
                calls=10 if small else 2,
            )
            times = [timed[label] for label, _ in impls]
            rows = []
            for (label, _), (med, fastest) in zip(impls, times):
                gbs = BYTES_PER_PARAM[name] * n_params / med / 1e9
                rows.append(
                    {
                        "layout": layout,
                        "impl": label,
                        "ms": med * 1e3,
                        "min ms": fastest * 1e3,
                        "GB/s": gbs,
                        "of copy BW": gbs / copy_gbs,
                    }
                )
            del steps
            fast = rows[0]["ms"]
            for row in rows:
                row["fastnn speedup"] = row["ms"] / fast
                table.add(**row)
        tables.append(table)
    return tables


if __name__ == "__main__":
    for t in run(quick="--quick" in sys.argv):
        print(t.markdown())
