"""max_pool2d / avg_pool2d 2x2 stride 2 on the CNN's shapes, float32, through the Tensor API:
fastnn vs torch, and each against the memory roofline measured in the same run.

Rows: forward with requires_grad (what training runs; max_pool2d then keeps int64 indices),
and forward + backward. "of copy" is the bytes the op must move (inputs read, outputs
written: x, out, indices for max, dy, dx) per second over the bandwidth of a plain copy of x
into a preallocated array (read + write), so 1.0 would be the memory bound. fastnn, torch and
the copy are timed in alternating rounds and the medians reported, since the machine is shared.
"""

import pathlib
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))

import fastnn
import fastnn.nn.functional as F
from _harness import Table, check_close, try_torch

SHAPES = [(256, 32, 28, 28), (256, 64, 14, 14)]


def interleaved(fns, rounds, warmup=2):
    """Median seconds of each fn, timed once per round in turn."""
    for fn in fns:
        for _ in range(warmup):
            fn()
    times = [[] for _ in fns]
    for _ in range(rounds):
        for t, fn in zip(times, fns):
            t0 = time.perf_counter()
            fn()
            t.append(time.perf_counter() - t0)
    return [statistics.median(t) for t in times]


def run(quick=False):
    rng = np.random.default_rng(0)
    torch = try_torch()
    rounds = 5 if quick else 20
    table = Table(
        "max_pool2d / avg_pool2d 2x2 stride 2, float32 (ms, median)",
        ["op", "shape", "fastnn ms", "torch ms", "vs torch", "fastnn of copy", "torch of copy"],
        note="vs torch: torch's time / fastnn's; of copy: bytes moved per second / copy GB/s",
    )
    for shape in SHAPES:
        x = rng.standard_normal(shape).astype(np.float32)
        dst = np.empty_like(x)
        n, c, h, w = shape
        out_n = n * c * (h // 2) * (w // 2)
        g = rng.standard_normal((n, c, h // 2, w // 2)).astype(np.float32)
        fx, fg = fastnn.tensor(x, requires_grad=True), fastnn.tensor(g)
        tx = tg = None
        if torch is not None:
            tx, tg = torch.from_numpy(x).clone().requires_grad_(True), torch.from_numpy(g)
        for name in ("max_pool2d", "avg_pool2d"):
            f_op = getattr(F, name)
            out = f_op(fx, 2)
            if torch is not None:
                t_op = getattr(torch.nn.functional, name)
                check_close(
                    name, out.detach().numpy(), t_op(tx, 2).detach().numpy(), rtol=1e-6, atol=1e-6
                )
            idx_bytes = 8 * out_n if name == "max_pool2d" else 0
            fwd_bytes = x.nbytes + 4 * out_n + idx_bytes
            both_bytes = fwd_bytes + g.nbytes + idx_bytes + x.nbytes

            def f_fwd(f_op=f_op):
                f_op(fx, 2)

            def f_both(f_op=f_op):
                fx.grad = None
                f_op(fx, 2).backward(fg)

            fns = [lambda: np.copyto(dst, x), f_fwd, f_both]
            if torch is not None:

                def t_fwd(t_op=t_op):
                    t_op(tx, 2)

                def t_both(t_op=t_op):
                    tx.grad = None
                    t_op(tx, 2).backward(tg)

                fns += [t_fwd, t_both]
            times = interleaved(fns, rounds)
            copy_bw = 2 * x.nbytes / times[0]
            for label, nbytes, tf, tt in (
                ("fwd", fwd_bytes, times[1], times[3] if torch else None),
                ("fwd+bwd", both_bytes, times[2], times[4] if torch else None),
            ):
                row = {
                    "op": f"{name} {label}",
                    "shape": "x".join(map(str, shape)),
                    "fastnn ms": tf * 1e3,
                    "fastnn of copy": nbytes / tf / copy_bw,
                }
                if tt is not None:
                    row.update(
                        {
                            "torch ms": tt * 1e3,
                            "vs torch": tt / tf,
                            "torch of copy": nbytes / tt / copy_bw,
                        }
                    )
                table.add(**row)
    return [table]
