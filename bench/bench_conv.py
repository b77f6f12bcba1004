"""conv2d forward and forward + backward, float32: fastnn vs torch, at 1 and 2 threads (pooling
is bench_pool.py's).

fastnn: F.conv2d = kernels.conv2d / conv2d_backward. On AVX-512 the 3x3 layers with at least 16
channels each side (32->64, 64->64) run by Winograd F(2x2, 3x3) (csrc/cpu/conv_winograd.cpp: 2.25x
fewer multiplies; the GFLOP/s below still count the direct algorithm's flops, so they can pass the
FMA peak), and the first layers (1 -> 32) compute the forward pass and dW as direct sums
(csrc/cpu/conv_direct.cpp). The rest, and everything on AVX2: forward and dx by packed im2col (the
patches of a block of output pixels written straight into the GEMM micro-kernel's panel order,
weights packed once per call; for stride 1 each panel row is a slice of the zero-padded plane, see
csrc/cpu/conv_gemm.cpp), dW and db likewise from packed panels of one block of pixels at a time.
torch: its CPU conv2d (oneDNN where available) and .backward(). Both compute
dx, dW and db. GFLOP/s counts the GEMMs: forward 2 * N * C_out * H_out * W_out * C_in * kh * kw,
forward + backward three times that.
"""

import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))
sys.path.insert(0, str(pathlib.Path(__file__).parent.parent / "tests"))

import fastnn
import fastnn.nn.functional as F
import reference as ref
from _harness import Table, check_close, compare, gemm_gflops, peak_gflops, try_torch

# (N, C_in, H, W), C_out, kernel, padding, groups, stride: the two conv layers of the
# Fashion-MNIST CNN, a ResNet-style 3x3 64->64 layer (batch 64: ~7 GFLOP forward; batch 8 under
# --quick), the two deepest layers of a CIFAR ResNet-18 (256->512 stride 2 on 8 x 8, 512->512 on
# 4 x 4; csrc/cpu/conv.cpp [note: batch GEMMs]), a MobileNet pointwise 1x1 layer, and three
# MobileNet-style depthwise 3x3 layers (groups = channels, one of them strided:
# csrc/cpu/conv_depthwise.cpp).
CONVS = [
    ((256, 1, 28, 28), 32, 3, 1, 1, 1),
    ((256, 32, 14, 14), 64, 3, 1, 1, 1),
    ((64, 64, 56, 56), 64, 3, 1, 1, 1),
    ((32, 256, 8, 8), 512, 3, 1, 1, 2),
    ((32, 512, 4, 4), 512, 3, 1, 1, 1),
    ((32, 16, 32, 32), 96, 1, 0, 1, 1),
    ((32, 64, 56, 56), 64, 3, 1, 64, 1),
    ((32, 512, 7, 7), 512, 3, 1, 512, 1),
    ((32, 256, 14, 14), 256, 3, 1, 256, 2),
]


def conv_rows(table, torch, threads, quick, rng):
    fastnn.set_num_threads(threads)
    if torch is not None:
        torch.set_num_threads(threads)
    peak = peak_gflops(threads)
    gemm = gemm_gflops()
    for shape, cout, k, p, groups, s in CONVS:
        if quick and shape[2] > 28:
            shape = (8, *shape[1:])
        repeats = 3 if quick else (5 if shape[2] > 28 else 15)
        x = rng.standard_normal(shape).astype(np.float32)
        w = (rng.standard_normal((cout, shape[1] // groups, k, k)) * 0.1).astype(np.float32)
        b = rng.standard_normal(cout).astype(np.float32)
        fx, fw, fb = (fastnn.tensor(a, requires_grad=True) for a in (x, w, b))
        out = F.conv2d(fx, fw, fb, stride=s, padding=p, groups=groups)
        if groups == 1:  # (a grouped layer is checked against torch below)
            check_close(
                "conv2d",
                out.detach().numpy()[:2],
                ref.conv2d(x[:2], w, b, (s, s), (p, p), (1, 1)),
                rtol=1e-4,
                atol=1e-4,
            )
        g = fastnn.tensor(rng.standard_normal(out.shape).astype(np.float32))
        dx, dw = fx.detach(), fw.detach()
        db = fb.detach()

        def fwd():
            F.conv2d(dx, dw, db, stride=s, padding=p, groups=groups)

        def step():
            fx.grad = fw.grad = fb.grad = None
            F.conv2d(fx, fw, fb, stride=s, padding=p, groups=groups).backward(g)

        n, _, ho, wo = out.shape
        flops = 2 * n * cout * ho * wo * (shape[1] // groups) * k * k
        if torch is not None:
            tx, tw, tb = (torch.from_numpy(a).clone().requires_grad_(True) for a in (x, w, b))
            tg = torch.from_numpy(g.numpy())

            def torch_fwd():
                with torch.no_grad():
                    torch.nn.functional.conv2d(tx, tw, tb, stride=s, padding=p, groups=groups)

            def torch_step():
                tx.grad = tw.grad = tb.grad = None
                torch.nn.functional.conv2d(tx, tw, tb, stride=s, padding=p, groups=groups).backward(
                    tg
                )

            torch_step()
            step()
            check_close(
                "conv2d dW vs torch", fw.grad.numpy(), tw.grad.numpy(), rtol=1e-3, atol=1e-2
            )
            check_close(
                "conv2d dx vs torch", fx.grad.numpy(), tx.grad.numpy(), rtol=1e-3, atol=1e-3
            )
        for name, fn, mult in (("fwd", fwd, 1), ("fwd+bwd", step, 3)):
            # Each library in its own stretch, after its own untimed call, turns alternating
            # (_harness.compare): torch's OpenMP workers spin after a call, and timed right after
            # one, fastnn's two threads shared the two cores with them.
            fns = {"fastnn": fn}
            if torch is not None:
                fns["torch"] = torch_fwd if name == "fwd" else torch_step
            times = compare(fns, rounds=repeats, calls=1)
            t_f = times["fastnn"][0]
            gf = mult * flops / t_f / 1e9
            row = dict(
                op=f"conv {shape[1]}->{cout} {k}x{k} p{p}"
                + (f" s{s}" if s > 1 else "")
                + (" depthwise" if groups > 1 else "")
                + f" {name}",
                shape="x".join(map(str, shape)),
                threads=threads,
                **{
                    "fastnn ms": t_f * 1e3,
                    "GFLOP/s": gf,
                    "% FMA peak": 100 * gf / peak,
                    "% GEMM": 100 * gf / gemm,
                },
            )
            if torch is not None:
                t_t = times["torch"][0]
                row.update(
                    {"torch ms": t_t * 1e3, "fastnn/torch": t_f / t_t, "vs torch": t_t / t_f}
                )
            table.add(**row)
    return gemm


def run(quick=False):
    rng = np.random.default_rng(0)
    torch = try_torch()
    before = fastnn.get_num_threads()
    conv = Table(
        "conv2d float32, forward and forward + backward (ms, median; the libraries timed in turns)",
        [
            "op",
            "shape",
            "threads",
            "fastnn ms",
            "torch ms",
            "fastnn/torch",
            "GFLOP/s",
            "% FMA peak",
            "% GEMM",
        ],
        note="",
        readme=[
            {
                "what": "conv2d, the CNN's two layers, ResNet 3x3 layers (64->64, a ResNet-18's two"
                " deepest), a 1x1 layer and three depthwise 3x3 layers (one strided),"
                " fwd and fwd+bwd",
                "torch": "vs torch",
                "limit": "% FMA peak",
                "limit_scale": 0.01,
                "limit_name": "FMA peak",
            }
        ],
    )
    gemms = []
    try:
        for threads in (1, 2):
            gemms.append(conv_rows(conv, torch, threads, quick, rng))
    finally:
        fastnn.set_num_threads(before)
        if torch is not None:
            torch.set_num_threads(before)
    conv.note = (
        "fastnn/torch: fastnn's time / torch's (below 1: fastnn faster; target <= 0.8). "
        "% FMA peak: of the FMA loop timed in this run, times the threads. % GEMM: of fastnn's 1024^3 fp32 matmul measured in this run "
        f"({gemms[0]:.0f} GFLOP/s at 1 thread, {gemms[1]:.0f} at 2). "
        "GFLOP/s count the direct sum's flops; the 32->64 and 64->64 layers run by Winograd "
        f"F(2x2, 3x3) (winograd {'on' if fastnn.kernels.conv_winograd_enabled() else 'off'}), "
        "which does 2.25x fewer multiplies, so their figures are effective rates."
    )
    return [conv]
