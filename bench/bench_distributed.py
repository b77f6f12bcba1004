"""Data-parallel training over MPI: fastnn.distributed's allreduce against raw mpi4py, and the
time of one DistributedDataParallel training step (MNIST MLP and CNN) at 1 and 2 processes,
with the share of communication hidden behind the backward pass and the scaling efficiency.

python bench/bench_distributed.py [--quick]   # launches its own mpiexec -n 1 and -n 2 workers

All processes run with one kernel thread each. On a machine with few cores (and other jobs)
two processes compete for cores, so the 2-process step time is a pessimistic figure; the
projection table models N machines from the measured compute and allreduce times instead."""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from _harness import Table, check_close

SIZES = (1 << 10, 16 << 10, 256 << 10, 4 << 20, 32 << 20, 100 << 20)
QUICK_SIZES = (1 << 10, 256 << 10, 4 << 20, 100 << 20)
# (model, global batch, bucket cap in MiB): the default cap puts these small models' gradients
# in one bucket, sent when backward ends; 25 KB buckets let the classifier's gradient go early
MODELS = (("mlp", 256, 25), ("cnn", 128, 25), ("cnn", 128, 0.025))
NET_BW, NET_LAT = 1.25e9, 25e-6  # a 10 Gb/s Ethernet link: bytes/s, seconds per message


def _timed(fn, comm, repeats):
    times = []
    for _ in range(repeats):
        comm.Barrier()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _allreduce_rows(dist, MPI, comm, quick):
    n, r = comm.Get_size(), comm.Get_rank()
    rows = []
    for nbytes in QUICK_SIZES if quick else SIZES:
        a = np.full(nbytes // 4, r + 1, np.float32)
        b = a.copy()
        dist.all_reduce(a)
        comm.Allreduce(MPI.IN_PLACE, b, op=MPI.SUM)
        check_close(f"all_reduce {nbytes} B", a[:8], np.full(8, n * (n + 1) / 2), rtol=0, atol=0)
        check_close(f"mpi4py {nbytes} B", b[:8], a[:8], rtol=0, atol=0)
        reps = 5 if nbytes >= 32 << 20 else (20 if quick else 50)
        ours, raw = [], []
        for _ in range(3):  # interleaved, so both see the same machine load
            ours.append(_timed(lambda a=a: dist.all_reduce(a), comm, reps // 3 + 1))
            raw.append(_timed(lambda b=b: comm.Allreduce(MPI.IN_PLACE, b), comm, reps // 3 + 1))
        rows.append({"bytes": nbytes, "fastnn_s": min(ours), "mpi4py_s": min(raw)})
    return rows


def _step_rows(fastnn, dist, comm, quick):
    from fastnn import models, nn
    from fastnn.nn import functional as F

    n, r = comm.Get_size(), comm.Get_rank()
    reps = 4 if quick else 10
    rows = []
    rng = np.random.default_rng(r)
    for name, batch, cap in MODELS:
        local = batch // n
        x = fastnn.tensor(rng.standard_normal((local, 1, 28, 28)).astype(np.float32))
        if name == "mlp":
            x = x.reshape(local, 784)
        y = fastnn.tensor(rng.integers(0, 10, local))
        fastnn.manual_seed(0)
        plain = models.MODELS[name]()
        fastnn.manual_seed(0)
        ddp = nn.parallel.DistributedDataParallel(models.MODELS[name](), bucket_cap_mb=cap)
        o_plain = fastnn.optim.SGD(plain.parameters(), lr=0.01, momentum=0.9)
        o_ddp = fastnn.optim.SGD(ddp.parameters(), lr=0.01, momentum=0.9)
        flat = np.zeros(sum(p.numel() for p in plain.parameters()), np.float32)

        def step(net, opt):
            opt.zero_grad()
            F.cross_entropy(net(x), y).backward()
            opt.step()

        def reduce_all(flat=flat):
            dist.all_reduce(flat, op=dist.ReduceOp.AVG)

        for _ in range(2):
            step(plain, o_plain), step(ddp, o_ddp), reduce_all()
        compute, synced, comm_t, waited = [], [], [], []
        for _ in range(3):
            compute.append(_timed(lambda p=plain, o=o_plain: step(p, o), comm, reps))
            w0 = ddp.comm_wait_seconds
            synced.append(_timed(lambda d=ddp, o=o_ddp: step(d, o), comm, reps))
            waited.append((ddp.comm_wait_seconds - w0) / reps)
            comm_t.append(_timed(reduce_all, comm, reps))
        rows.append(
            {
                "model": name if cap >= 1 else f"{name}, {cap * 1024:g} KiB buckets",
                "batch": batch,
                "params": int(flat.size),
                "compute_s": min(compute),
                "step_s": min(synced),
                "allreduce_s": min(comm_t),
                "wait_s": statistics.median(waited),
                "buckets": len(ddp._buckets),
            }
        )
    return rows


def worker(out, quick):
    """Runs under mpiexec: every measurement of this process count, written by rank 0."""
    import fastnn
    from fastnn import distributed as dist

    dist.init_process_group("mpi")
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    result = {"n": comm.Get_size(), "steps": _step_rows(fastnn, dist, comm, quick)}
    if comm.Get_size() > 1:
        result["allreduce"] = _allreduce_rows(dist, MPI, comm, quick)
    if comm.Get_rank() == 0:
        Path(out).write_text(json.dumps(result))


def _launch(n, quick):
    exe = shutil.which(
        "mpiexec", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    )
    if exe is None:
        raise RuntimeError("bench_distributed needs mpiexec: pip install 'fastnn[mpi]'")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r.json"
        cmd = [exe, "-n", str(n), sys.executable, __file__, "--worker", str(out)]
        env = dict(os.environ, FASTNN_NUM_THREADS="1")
        subprocess.run(cmd + (["--quick"] if quick else []), check=True, env=env, timeout=600)
        return json.loads(out.read_text())


def _ring(nbytes, n, bw, lat):
    """Ring allreduce: 2(N-1) messages of S/N bytes each, one after another."""
    return 0.0 if n == 1 else 2 * (n - 1) * (lat + nbytes / n / bw)


def run(quick=False):
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        print("bench_distributed: mpi4py is missing (pip install 'fastnn[mpi]'); skipped")
        return []
    one, two = _launch(1, quick), _launch(2, quick)
    bw_table = Table(
        "allreduce (SUM, float32, in place), 2 processes: fastnn.distributed vs raw mpi4py",
        ["bytes", "fastnn us", "mpi4py us", "fastnn GB/s", "mpi4py GB/s", "fastnn / mpi4py"],
        note="GB/s = bytes / time (each process sends and receives its whole buffer once with "
        "2 processes). 'fastnn / mpi4py' above 1: fastnn's wrapper costs that much more.",
    )
    for row in two["allreduce"]:
        s = row["bytes"]
        bw_table.add(
            bytes=s,
            **{
                "fastnn us": row["fastnn_s"] * 1e6,
                "mpi4py us": row["mpi4py_s"] * 1e6,
                "fastnn GB/s": s / row["fastnn_s"] / 1e9,
                "mpi4py GB/s": s / row["mpi4py_s"] / 1e9,
                "fastnn / mpi4py": row["fastnn_s"] / row["mpi4py_s"],
            },
        )
    step_table = Table(
        "DistributedDataParallel training step (SGD momentum), global batch split over processes",
        [
            "model",
            "batch",
            "procs",
            "compute ms",
            "allreduce ms",
            "step ms",
            "wait ms",
            "hidden",
            "samples/s",
            "efficiency",
        ],
        note="compute: the same step without DDP on the local batch; allreduce: one blocking "
        "allreduce of all gradients; step: the DDP step; wait: the part of the DDP step spent "
        "waiting for reductions after backward. hidden = 1 - wait / allreduce, clamped to "
        "[0, 1]: the share of communication overlapped with backward (the wait also holds any "
        "time lost to the slower rank, so this errs low). efficiency = 1-process step / "
        "(procs x this step) at the same global batch.",
    )
    base = {row["model"]: row for row in one["steps"]}
    hidden = {}
    for res in (one, two):
        for row in res["steps"]:
            n = res["n"]
            if n > 1:
                h = 1.0 - row["wait_s"] / row["allreduce_s"]
                hidden[row["model"]] = min(max(h, 0.0), 1.0)
            step = row["step_s"] if n > 1 else row["compute_s"]
            step_table.add(
                model=row["model"],
                batch=row["batch"],
                procs=n,
                **{
                    "compute ms": row["compute_s"] * 1e3,
                    "allreduce ms": row["allreduce_s"] * 1e3 if n > 1 else None,
                    "step ms": step * 1e3,
                    "wait ms": row["wait_s"] * 1e3 if n > 1 else None,
                    "hidden": hidden.get(row["model"]) if n > 1 else None,
                    "samples/s": row["batch"] / step,
                    "efficiency": base[row["model"]]["compute_s"] / (n * step),
                },
            )
    # a latency + bandwidth fit of this machine's allreduce (2 processes: one S-byte exchange)
    small, large = two["allreduce"][0], two["allreduce"][-1]
    lat_here = small["fastnn_s"] / 2
    bw_here = large["bytes"] / max(large["fastnn_s"] - 2 * lat_here, 1e-9)
    proj = Table(
        "Projected step time on N machines (model, from the measurements above)",
        ["model", "link", "N", "step ms", "samples/s", "efficiency"],
        note=f"step(N) = compute(1 process) / N + (1 - hidden) x ring_allreduce(N), with "
        f"ring_allreduce(N) = 2(N-1) x (latency + gradient bytes / N / bandwidth) and 'hidden' "
        f"the overlap measured at 2 processes. Links: 'measured' = this machine's shared-memory "
        f"MPI ({bw_here / 1e9:.2f} GB/s, {lat_here * 1e6:.0f} us fitted from the allreduce "
        f"table); '10GbE' = {NET_BW / 1e9:.2f} GB/s, {NET_LAT * 1e6:.0f} us. Compute is assumed "
        f"to scale linearly with the local batch (one core per process).",
    )
    for row in one["steps"]:
        nbytes = 4 * row["params"]
        h = hidden.get(row["model"], 0.0)
        for link, bw, lat in (("measured", bw_here, lat_here), ("10GbE", NET_BW, NET_LAT)):
            for n in (1, 2, 4, 8, 16):
                t = row["compute_s"] / n + (1 - h) * _ring(nbytes, n, bw, lat)
                proj.add(
                    model=row["model"],
                    link=link,
                    N=n,
                    **{
                        "step ms": t * 1e3,
                        "samples/s": row["batch"] / t,
                        "efficiency": row["compute_s"] / (n * t),
                    },
                )
    return [bw_table, step_table, proj]


if __name__ == "__main__":
    if "--worker" in sys.argv:
        worker(sys.argv[sys.argv.index("--worker") + 1], "--quick" in sys.argv)
    else:
        from _harness import cpu_summary

        print(cpu_summary() + "\n")
        for t in run(quick="--quick" in sys.argv):
            print(t.markdown())
