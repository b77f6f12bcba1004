"""CUDA softmax and fused softmax cross-entropy, forward + backward, float32, at (256, 10),
(4096, 1000) and (64, 50000): milliseconds, GB/s of the bytes each op must move at least, the
fraction of the device's copy bandwidth measured in the same run, and torch on the same GPU when
torch has CUDA. Results are checked against the CPU kernels before timing; medians of >= 20
repeats timed with CUDA events (torch's) or synchronize + clock. Returns [] (with a note on
stderr) where there is no GPU."""

import statistics
import sys
import time

import numpy as np

from _harness import Table, check_close
from fastnn import _C, cuda

SHAPES = [(256, 10), (4096, 1000), (64, 50000)]


def _torch_cuda():
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


def _time(fn, repeats, torch):
    """Median milliseconds of fn() on the GPU."""
    for _ in range(3):
        fn()
    cuda.synchronize()
    times = []
    for _ in range(repeats):
        if torch is not None:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end))
        else:
            t0 = time.perf_counter()
            fn()
            cuda.synchronize()
            times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def _copy_gbps(repeats, torch):
    """Device-to-device copy bandwidth (bytes read + written per second), 256 MiB buffers."""
    n = 64 << 20
    src, dst = cuda.zeros((n,)).fill_(1.0), cuda.zeros((n,))
    ms = _time(lambda: dst.copy_(src), repeats, torch)
    return 2 * 4 * n / ms / 1e6


def _softmax(torch, ck, repeats, copy):
    table = Table(
        "CUDA softmax forward + backward, float32",
        ["N x C", "fastnn ms", "GB/s", "of copy", "torch ms", "fastnn / torch"],
        note="bytes: forward reads x and writes y, backward reads dy, y and writes dx (5 N C x 4); "
        f"copy bandwidth measured now: {copy:.0f} GB/s",
    )
    rng = np.random.default_rng(0)
    for N, C in SHAPES:
        x = rng.standard_normal((N, C), dtype=np.float32)
        g = rng.standard_normal((N, C), dtype=np.float32)
        dx_, dg = cuda.from_numpy(x), cuda.from_numpy(g)
        y, dx = cuda.empty((N, C)), cuda.empty((N, C))
        y_cpu = _C.softmax(x)
        check_close("softmax", ck.softmax(dx_).numpy(), y_cpu, rtol=1e-4, atol=1e-6)
        check_close(
            "softmax_backward",
            ck.softmax_backward(dg, cuda.from_numpy(y_cpu)).numpy(),
            _C.softmax_backward(g, y_cpu),
            rtol=1e-4,
            atol=1e-6,
        )

        def step():
            ck.softmax(dx_, out=y)
            ck.softmax_backward(dg, y, out=dx)

        ms = _time(step, repeats, torch)
        gbps = 5 * x.nbytes / ms / 1e6
        row = {"N x C": f"{N} x {C}", "fastnn ms": ms, "GB/s": gbps, "of copy": gbps / copy}
        if torch is not None:
            tx, tg = torch.from_dlpack(dx_), torch.from_dlpack(dg)

            def tstep():
                ty = torch.softmax(tx, -1)
                torch._softmax_backward_data(tg, ty, -1, tx.dtype)

            tms = _time(tstep, repeats, torch)
            row.update({"torch ms": tms, "fastnn / torch": tms / ms})
        table.add(**row)
    return table


def _xent(torch, ck, repeats, copy):
    table = Table(
        "CUDA softmax cross-entropy forward + backward (fused), float32, 'mean'",
        ["N x C", "fastnn ms", "GB/s", "of copy", "torch ms", "fastnn / torch"],
        note="bytes: logits read once and dlogits written once (2 N C x 4); rows wider than 1024 "
        "read the logits a second time (from L2 when it holds them)",
    )
    rng = np.random.default_rng(1)
    for N, C in SHAPES:
        z = rng.standard_normal((N, C), dtype=np.float32)
        y = rng.integers(0, C, N)
        dz, dy = cuda.from_numpy(z), cuda.from_numpy(y)
        loss, grad = ck.softmax_cross_entropy(dz, dy, grad=True)
        ref_loss, ref_grad = _C.softmax_cross_entropy(z, y, grad=True)
        check_close("xent", loss.numpy(), ref_loss, rtol=1e-4, atol=1e-5)
        check_close("xent grad", grad.numpy(), ref_grad, rtol=1e-4, atol=1e-7)
        ms = _time(lambda: ck.softmax_cross_entropy(dz, dy, grad=True), repeats, torch)
        gbps = 2 * z.nbytes / ms / 1e6
        row = {"N x C": f"{N} x {C}", "fastnn ms": ms, "GB/s": gbps, "of copy": gbps / copy}
        if torch is not None:
            tz = torch.from_dlpack(dz).clone().requires_grad_(True)
            ty = torch.from_dlpack(dy)

            def tstep():
                tz.grad = None
                torch.nn.functional.cross_entropy(tz, ty).backward()

            tms = _time(tstep, repeats, torch)
            row.update({"torch ms": tms, "fastnn / torch": tms / ms})
        table.add(**row)
    return table


def run(quick: bool):
    if not cuda.is_available():
        why = "fastnn built without CUDA" if not cuda.is_built() else "no CUDA GPU on this machine"
        print(f"bench_cuda_xent: skipped ({why})", file=sys.stderr)
        return []
    from fastnn.cuda import kernels as ck

    torch = _torch_cuda()
    repeats = 20 if quick else 50
    copy = _copy_gbps(repeats, torch)
    return [_softmax(torch, ck, repeats, copy), _xent(torch, ck, repeats, copy)]


if __name__ == "__main__":
    for t in run(quick="--quick" in sys.argv):
        print(t.markdown())
