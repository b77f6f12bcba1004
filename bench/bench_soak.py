"""Soak: resident memory and thread count over a long training run must stay flat.

A small MLP (784-128-10, Dropout, Adam, cross-entropy) trains for 20,000 steps (2,000 with
--quick) on random Fashion-MNIST-shaped data through DataLoader(shuffle=True), re-iterated every
epoch; one run with 0 workers and one with 2 worker threads, where every fifth epoch is abandoned
half-way (a `break` out of the loop, the way an early stop leaves a loader). A small CNN (Conv2d,
BatchNorm2d, MaxPool2d, Linear; SGD momentum) runs a fifth of the steps. After a warm-up (the
first tenth of the steps) the run samples the resident set size (/proc/self/statm) and the thread
count (/proc/self/task, and threading.active_count()) between epochs, about every 1/100 of the
steps (no loader iterator is alive then), and reports the
drift: max - min of the samples, and the slope of a least-squares line in KB per 1,000 steps.
Verdict: flat when the RSS drift is under 1 MB and the thread count does not change.

Each configuration runs in a fresh interpreter (`python bench_soak.py --worker ...`), so one
run's memory cannot hide or inflate another's. torch, when installed, runs the same MLP loop
(0 workers) as a reference for what an allocator's normal drift looks like (not with --quick).
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import threading
import time

import numpy as np

from _harness import Table

LIMIT_BYTES = 1 << 20
CONFIGS = [
    # (library, model, loader workers, fraction of the steps)
    ("fastnn", "mlp", 0, 1.0),
    ("fastnn", "mlp", 2, 1.0),
    ("fastnn", "cnn", 0, 0.2),
    ("torch", "mlp", 0, 1.0),
]


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _os_threads(expect):
    """Threads the kernel sees. A worker that Python has joined may take a moment to leave the
    task list, so a count above `expect` (the previous sample's) is read again for up to 50 ms:
    a thread on its way out goes, a leaked one stays."""
    count = len(os.listdir("/proc/self/task"))
    for _ in range(10):
        if expect is None or count <= expect:
            break
        time.sleep(0.005)
        count = len(os.listdir("/proc/self/task"))
    return count


def _model(lib, kind):
    nn = lib.nn
    if kind == "mlp":
        return nn.Sequential(
            nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10)
        )
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(8 * 14 * 14, 10),
    )


def soak(lib_name, kind, workers, steps):
    """Train for `steps` steps; return the (step, rss, os threads, python threads) samples."""
    if lib_name == "torch":
        import torch as lib
        from torch.utils import data

        lib.set_num_threads(int(os.environ.get("FASTNN_NUM_THREADS", "2")))
    else:
        import fastnn as lib
        from fastnn.utils import data
    lib.manual_seed(0)
    rng = np.random.default_rng(0)
    n, batch = 2048, 32
    shape = (n, 784) if kind == "mlp" else (n, 1, 28, 28)
    x = lib.from_numpy(rng.random(shape, dtype=np.float32))
    y = lib.from_numpy(rng.integers(0, 10, n))
    loader = data.DataLoader(
        data.TensorDataset(x, y), batch_size=batch, shuffle=True, num_workers=workers
    )
    model = _model(lib, kind)
    if kind == "mlp":
        opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    else:
        opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = lib.nn.CrossEntropyLoss()
    warmup, every = max(steps // 10, 1), max(steps // 100, 1)
    samples, step, epoch = [], 0, 0
    while step < steps:
        for i, (xb, yb) in enumerate(loader):
            if workers and epoch % 5 == 4 and i == len(loader) // 2:
                break  # an abandoned iterator must not leave its worker threads behind
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            step += 1
            if step >= steps:
                break
        epoch += 1
        # Sampled between epochs, when no loader iterator is alive: mid-epoch the worker threads
        # would count, and a step inside an epoch is not comparable with one at its start.
        if step >= warmup and (not samples or step - samples[-1][0] >= every or step >= steps):
            expect = samples[-1][2] if samples else None
            samples.append((step, _rss_bytes(), _os_threads(expect), threading.active_count()))
    return samples


def drift(samples):
    """max - min and the least-squares slope per 1,000 steps of each sampled column."""
    s = np.asarray(samples, dtype=np.float64)
    out = {}
    for col, name in ((1, "rss"), (2, "os_threads"), (3, "py_threads")):
        slope = np.polyfit(s[:, 0], s[:, col], 1)[0] * 1000 if len(s) > 1 else 0.0
        out[name] = (float(s[:, col].min()), float(s[:, col].max()), float(slope))
    return out


def _run_worker(lib_name, kind, workers, steps):
    here = pathlib.Path(__file__).resolve()
    cmd = [sys.executable, str(here), "--worker", lib_name, kind, str(workers), str(steps)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(here.parent.parent / "python"), str(here.parent), env.get("PYTHONPATH", "")]
    )
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"soak worker {lib_name} {kind} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(quick=False):
    steps = 2000 if quick else 20000
    try:
        import torch  # noqa: F401

        have_torch = True
    except ImportError:
        have_torch = False
    table = Table(
        f"Soak: RSS and threads over {steps} training steps (after a {steps // 10}-step warm-up)",
        [
            "library",
            "model",
            "workers",
            "steps",
            "RSS start MB",
            "RSS drift KB",
            "RSS slope KB/1k steps",
            "threads (OS)",
            "threads (Python)",
            "verdict",
        ],
        note="drift = max - min of the samples after warm-up; flat = RSS drift < 1024 KB and "
        "a constant thread count. Each row is a fresh interpreter.",
    )
    for lib_name, kind, workers, frac in CONFIGS:
        if lib_name == "torch" and (quick or not have_torch):
            continue
        n = max(int(steps * frac), 100)
        samples = _run_worker(lib_name, kind, workers, n)
        d = drift(samples)
        lo, hi, slope = d["rss"]
        flat = hi - lo < LIMIT_BYTES and d["os_threads"][0] == d["os_threads"][1]
        flat = flat and d["py_threads"][0] == d["py_threads"][1]
        row = table.add(
            library=lib_name,
            model=kind,
            workers=workers,
            steps=n,
            verdict="flat" if flat else "NOT FLAT",
            **{
                "RSS start MB": samples[0][1] / 2**20,
                "RSS drift KB": (hi - lo) / 1024,
                "RSS slope KB/1k steps": slope / 1024,
                "threads (OS)": _span(d["os_threads"]),
                "threads (Python)": _span(d["py_threads"]),
            },
        )
        print(f"soak: {row}", file=sys.stderr, flush=True)  # a long run's rows as they come
    return [table]


def _span(column):
    lo, hi, _ = column
    return f"{lo:.0f}" if lo == hi else f"{lo:.0f}-{hi:.0f}"


def _main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--worker", nargs=4, metavar=("LIB", "MODEL", "WORKERS", "STEPS"))
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.worker:
        lib_name, kind, workers, steps = args.worker
        print(json.dumps(soak(lib_name, kind, int(workers), int(steps))))
        return
    for table in run(quick=args.quick):
        print(table.markdown())


if __name__ == "__main__":
    _main()
