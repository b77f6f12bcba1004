"""CUDA training-step benchmarks: host-to-device bandwidth from pageable memory (the synchronous
copy), from pinned memory, and non-blocking from pageable memory (pinned staging), with the time
the host is held by each call; then the MNIST-shaped MLP epoch through ``training.fit`` on the
GPU (batches copied per step, and with the dataset resident) against the same epoch on the CPU.
Copies are checked against the source before timing. Returns [] (with a note on stderr) where
there is no GPU. Run alone: ``python bench/run.py cuda_step`` or ``python bench/bench_cuda_step.py``.
"""

import statistics
import sys
import time

import numpy as np

from _harness import Table, check_close
from fastnn import cuda


def _h2d(quick, repeats):
    table = Table(
        "CUDA host-to-device copy, float32",
        [
            "MiB",
            "pageable GB/s",
            "pinned GB/s",
            "pinned host us",
            "staged GB/s",
            "staged host us",
            "pinned / pageable",
        ],
        note="GB/s: bytes over the time to the copy's completion (synchronize); host us: how "
        "long the call holds the host (non-blocking copies return before the DMA ends); staged: "
        "non_blocking from pageable memory through pinned staging blocks",
    )
    mod = cuda._require()
    rng = np.random.default_rng(0)
    for mib in [1, 16] if quick else [1, 16, 256]:
        n = mib * (1 << 20) // 4
        host = rng.standard_normal(n, dtype=np.float32)
        pinned = mod.pin_numpy(host)
        check_close("pin", pinned, host, rtol=0, atol=0)
        for name, fn in (
            ("pageable", lambda: mod.from_numpy(host)),
            ("pinned", lambda: mod.from_numpy_async(pinned)),
            ("staged", lambda: mod.from_numpy_async(host)),
        ):
            check_close(name, fn().numpy(), host, rtol=0, atol=0)
        row = {"MiB": mib}
        for name, fn in (
            ("pageable", lambda: mod.from_numpy(host)),
            ("pinned", lambda: mod.from_numpy_async(pinned)),
            ("staged", lambda: mod.from_numpy_async(host)),
        ):
            totals, calls = [], []
            for _ in range(repeats):
                cuda.synchronize()
                t0 = time.perf_counter()
                out = fn()
                t1 = time.perf_counter()
                cuda.synchronize()
                t2 = time.perf_counter()
                calls.append(t1 - t0)
                totals.append(t2 - t0)
                del out
            row[f"{name} GB/s"] = host.nbytes / statistics.median(totals) / 1e9
            if name != "pageable":
                row[f"{name} host us"] = statistics.median(calls) * 1e6
        row["pinned / pageable"] = row["pinned GB/s"] / row["pageable GB/s"]
        table.add(**row)
    return table


def _mlp_epoch(quick):
    import fastnn
    from fastnn import models, nn, optim, training
    from fastnn.utils.data import DataLoader, TensorDataset

    table = Table(
        "MLP epoch (784-256-10, batch 256, SGD) through training.fit",
        ["where", "samples", "s / epoch", "samples/s", "vs CPU"],
        note="synthetic MNIST-shaped data; the second epoch is timed (the first warms caches)",
    )
    n = 12_800 if quick else 60_000
    rng = np.random.default_rng(0)
    X = rng.random((n, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, n).astype(np.int64)
    runs = [
        ("cpu", "cpu", {}),
        ("cuda", "cuda", {}),
        ("cuda, resident", "cuda", {"resident": True}),
    ]
    cpu_rate = None
    for label, device, extra in runs:
        fastnn.manual_seed(0)
        net = models.mlp().to(device)
        loader = DataLoader(TensorDataset(X, y), batch_size=256, shuffle=True, seed=0)
        opt = optim.SGD(net.parameters(), lr=0.1)
        hist = training.fit(
            net,
            loader,
            None,
            nn.CrossEntropyLoss(),
            2,
            opt,
            progress=False,
            log=None,
            **extra,
        )
        seconds = hist.seconds[-1]
        rate = n / seconds
        if device == "cpu":
            cpu_rate = rate
        table.add(
            **{
                "where": label,
                "samples": n,
                "s / epoch": seconds,
                "samples/s": rate,
                "vs CPU": rate / cpu_rate,
            }
        )
    return table


def run(quick: bool):
    if not cuda.is_available():
        why = "fastnn built without CUDA" if not cuda.is_built() else "no CUDA GPU on this machine"
        print(f"bench_cuda_step: skipped ({why})", file=sys.stderr)
        return []
    return [_h2d(quick, 10 if quick else 30), _mlp_epoch(quick)]


if __name__ == "__main__":
    for t in run(quick="--quick" in sys.argv):
        print(t.markdown())
