"""DataLoader throughput: one shuffled epoch over in-memory MNIST-sized tensors, fastnn vs torch.

fastnn gathers each TensorDataset batch with one fancy-index per tensor; torch's DataLoader
indexes sample by sample and collates. Also: decoding the MNIST training images (.gz IDX).
"""

import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))

import fastnn
from _data_root import find_data
from _harness import Table, check_close, timeit, try_torch
from fastnn.datasets import _idx
from fastnn.utils import data


def _epoch(loader):
    n = 0
    for x, _ in loader:
        n += x.shape[0]
    return n


def run(quick=False):
    rng = np.random.default_rng(0)
    torch = try_torch()
    n = 10000
    x = rng.random((n, 784), dtype=np.float32)
    y = rng.integers(0, 10, n)
    ds = data.TensorDataset(fastnn.from_numpy(x), fastnn.from_numpy(y))
    # correctness first: an unshuffled epoch reproduces the data, a shuffled one permutes it
    got = np.concatenate([b[0].numpy() for b in data.DataLoader(ds, batch_size=256)])
    check_close("DataLoader epoch", got, x, rtol=0, atol=0)
    ys = np.concatenate([b[1].numpy() for b in data.DataLoader(ds, 256, shuffle=True, seed=0)])
    check_close("shuffled labels", np.sort(ys), np.sort(y), rtol=0, atol=0)

    repeats = 5 if quick else 20
    table = Table(
        f"DataLoader: one shuffled epoch, {n} x 784 float32 + int64 labels (ms, median)",
        ["batch", "fastnn ms", "fastnn 2 threads ms", "torch ms", "vs torch"],
        note="vs torch: torch time / fastnn (0 workers) time; higher is better",
    )
    for bs in (32, 256) if quick else (10, 32, 256):
        f0 = data.DataLoader(ds, batch_size=bs, shuffle=True, seed=0)
        f2 = data.DataLoader(ds, batch_size=bs, shuffle=True, seed=0, num_workers=2)
        t0, _ = timeit(lambda f=f0: _epoch(f), repeats=repeats, warmup=1)
        t2, _ = timeit(lambda f=f2: _epoch(f), repeats=repeats, warmup=1)
        tt = None
        if torch is not None:
            tds = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
            tl = torch.utils.data.DataLoader(tds, batch_size=bs, shuffle=True)
            tt, _ = timeit(lambda tl=tl: _epoch(tl), repeats=max(3, repeats // 4), warmup=1)
        table.add(
            **{
                "batch": bs,
                "fastnn ms": t0 * 1e3,
                "fastnn 2 threads ms": t2 * 1e3,
                "torch ms": None if tt is None else tt * 1e3,
                "vs torch": None if tt is None else tt / t0,
            }
        )
    tables = [table]

    root = find_data()
    if root is not None:
        path = f"{root}/mnist/train-images-idx3-ubyte.gz"

        def decode():
            _idx._CACHE.clear()
            return _idx.read_idx(path)

        t, _ = timeit(decode, repeats=3 if quick else 10, warmup=1)
        dec = Table(
            "MNIST train images: read + gunzip + validate (60000 x 28 x 28 uint8)",
            ["file", "ms", "MB/s (decoded)"],
        )
        dec.add(
            **{
                "file": "train-images-idx3-ubyte.gz",
                "ms": t * 1e3,
                "MB/s (decoded)": 47040016 / t / 1e6,
            }
        )
        tables.append(dec)
    return tables
