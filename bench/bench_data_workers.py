"""DataLoader workers: threads vs processes vs torch's workers, one epoch each, interleaved.

Two datasets: in-memory arrays (a TensorDataset, one gather per batch, where threads win because a
process must pickle every batch back), and a dataset whose ``__getitem__`` runs Python code and
so holds the GIL (where only processes run in parallel). Worker start-up is part of each epoch,
as it is for a loader without persistent workers (one row keeps its processes instead).
"""

import pathlib
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))

import fastnn
from _harness import Table, check_close, try_torch
from fastnn.utils import data


class PythonWork:
    """Each sample costs ~``loops`` Python-level additions (the GIL is held throughout)."""

    def __init__(self, n, loops):
        self.n, self.loops = n, loops

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        s = 0
        for k in range(self.loops):
            s += k ^ i
        return np.full(4, s % 1000, dtype=np.float32), i


def _epoch(loader):
    n = 0
    for b in loader:
        n += b[0].shape[0]
    return n


def _interleaved(configs, repeats):
    """Median seconds per epoch of each loader, timed round-robin so noise hits all alike."""
    times = {name: [] for name in configs}
    for loader in configs.values():  # warm-up, and every loader sees the whole dataset
        _epoch(loader)
    for _ in range(repeats):
        for name, loader in configs.items():
            t0 = time.perf_counter()
            _epoch(loader)
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(t) for name, t in times.items()}


def _table(title, times, base):
    table = Table(
        title,
        ["loader", "ms / epoch", "vs fastnn 0 workers", "vs this row's torch"],
        note="vs fastnn 0 workers: that time / this one (higher is faster); "
        "vs this row's torch: the torch loader with the same workers / this one",
    )
    for name, t in times.items():
        torch_name = {
            "fastnn 2 threads": "torch 2 workers (processes)",
            "fastnn 2 processes (fork)": "torch 2 workers (processes)",
            "fastnn 2 processes (fork, persistent)": "torch 2 workers (processes)",
            "fastnn 0 workers": "torch 0 workers",
        }.get(name)
        tt = times.get(torch_name)
        table.add(
            **{
                "loader": name,
                "ms / epoch": t * 1e3,
                "vs fastnn 0 workers": times[base] / t,
                "vs this row's torch": None if tt is None else tt / t,
            }
        )
    return table


def _loaders(ds, tds, bs, torch):
    out = {
        "fastnn 0 workers": data.DataLoader(ds, batch_size=bs),
        "fastnn 2 threads": data.DataLoader(ds, batch_size=bs, num_workers=2),
        "fastnn 2 processes (fork)": data.DataLoader(
            ds, batch_size=bs, num_workers=2, multiprocessing_context="fork"
        ),
        "fastnn 2 processes (fork, persistent)": data.DataLoader(
            ds, batch_size=bs, num_workers=2, multiprocessing_context="fork",
            persistent_workers=True,
        ),
    }  # fmt: skip
    if torch is not None:
        out["torch 0 workers"] = torch.utils.data.DataLoader(tds, batch_size=bs)
        out["torch 2 workers (processes)"] = torch.utils.data.DataLoader(
            tds, batch_size=bs, num_workers=2
        )
    return out


def run(quick=False):
    torch = try_torch()
    repeats = 3 if quick else 7
    rng = np.random.default_rng(0)

    n = 4000 if quick else 10000
    x = rng.random((n, 784), dtype=np.float32)
    y = rng.integers(0, 10, n)
    ds = data.TensorDataset(fastnn.from_numpy(x), fastnn.from_numpy(y))
    tds = None if torch is None else torch.utils.data.TensorDataset(torch.from_numpy(x))
    # correctness first: every loader gives the dataset back, in order
    for name, loader in _loaders(ds, tds, 256, torch).items():
        got = np.concatenate([np.asarray(b[0]) for b in loader])
        check_close(name, got, x, rtol=0, atol=0)
    arrays = _table(
        f"DataLoader, in-memory {n} x 784 float32 (TensorDataset), batch 256, one epoch",
        _interleaved(_loaders(ds, tds, 256, torch), repeats),
        "fastnn 0 workers",
    )

    m, loops = (400, 2000) if quick else (1000, 4000)
    py = PythonWork(m, loops)
    for name, loader in _loaders(py, py, 32, torch).items():
        got = np.concatenate([np.asarray(b[1]) for b in loader])
        check_close(name, got, np.arange(m), rtol=0, atol=0)
    python = _table(
        f"DataLoader, {m} samples of ~{loops} Python additions each (GIL held), batch 32",
        _interleaved(_loaders(py, py, 32, torch), repeats),
        "fastnn 0 workers",
    )
    return [arrays, python]


if __name__ == "__main__":
    for t in run(quick="--quick" in sys.argv):
        print(t.markdown())
