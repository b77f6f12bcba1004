"""max_pool2d / avg_pool2d 2x2 stride 2 on the CNN's shapes, float32, through the Tensor API:
fastnn vs torch, and each against the memory roofline measured in the same run.

Rows: forward with requires_grad (what training runs) and forward + backward. "of copy" is the
bytes the op moves (inputs read, outputs written) per second over the bandwidth of a plain copy
of x into a preallocated array (read + write), timed in the same rounds: the roofline for a
working set of this size (a 13 MB input half fits in a 32 MB L3, so the copy of an array larger
than the L3 in _harness.limits would flatter it), so 1.0 would be the memory bound. The bytes are x,
out, dy and dx, and for max pooling the record of each window's argmax, written in forward and
read in backward: torch keeps int64 indices (8 bytes per output), fastnn a one-byte window code
(kernels.max_pool2d_2x2) when no indices are asked for, so each library is charged what it
moves. fastnn and torch are timed in turns (_harness.compare), medians reported.
"""

import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))

import fastnn
import fastnn.nn.functional as F
from _harness import Table, check_close, compare, try_torch

SHAPES = [(256, 32, 28, 28), (256, 64, 14, 14)]


def run(quick=False):
    rng = np.random.default_rng(0)
    torch = try_torch()
    rounds = 3 if quick else 8
    table = Table(
        "max_pool2d / avg_pool2d 2x2 stride 2, float32 (ms, median)",
        ["op", "shape", "fastnn ms", "torch ms", "vs torch", "fastnn of copy", "torch of copy"],
        note="vs torch: torch's time / fastnn's; of copy: bytes moved per second / copy GB/s",
        readme={
            "what": "max / avg pooling 2x2, fwd and fwd+bwd, 28x28 and 14x14 planes",
            "torch": "vs torch",
            "limit": "fastnn of copy",
            "limit_name": "a copy of x",
        },
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
            is_max = name == "max_pool2d"

            def moved(record_bytes):
                fwd = x.nbytes + 4 * out_n + record_bytes * out_n
                return fwd, fwd + g.nbytes + record_bytes * out_n + x.nbytes

            f_bytes = moved(1 if is_max else 0)  # the window code
            t_bytes = moved(8 if is_max else 0)  # int64 indices

            def f_fwd(f_op=f_op):
                f_op(fx, 2)

            def f_both(f_op=f_op):
                fx.grad = None
                f_op(fx, 2).backward(fg)

            fns = {"copy": lambda: np.copyto(dst, x), "fwd": f_fwd, "both": f_both}
            if torch is not None:

                def t_fwd(t_op=t_op):
                    t_op(tx, 2)

                def t_both(t_op=t_op):
                    tx.grad = None
                    t_op(tx, 2).backward(tg)

                fns.update(t_fwd=t_fwd, t_both=t_both)
            times = {k: v[0] for k, v in compare(fns, rounds=rounds).items()}
            copy_bw = 2 * x.nbytes / times["copy"]
            for i, label, tf, tt in (
                (0, "fwd", times["fwd"], times.get("t_fwd")),
                (1, "fwd+bwd", times["both"], times.get("t_both")),
            ):
                row = {
                    "op": f"{name} {label}",
                    "shape": "x".join(map(str, shape)),
                    "fastnn ms": tf * 1e3,
                    "fastnn of copy": f_bytes[i] / tf / copy_bw,
                }
                if tt is not None:
                    row.update(
                        {
                            "torch ms": tt * 1e3,
                            "vs torch": tt / tf,
                            "torch of copy": t_bytes[i] / tt / copy_bw,
                        }
                    )
                table.add(**row)
    return [table]
