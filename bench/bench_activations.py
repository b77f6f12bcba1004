"""Activations, forward + backward on 10M float32 elements: GB/s of fastnn vs NumPy vs torch.

Bytes counted per element: forward reads x and writes y (8 B), backward reads grad and x (or y)
and writes dx (12 B): 20 B per element for the pair. The roofline is a plain large copy
(_harness.limits, measured once per run); 'fastnn out=' writes into preallocated
arrays the same way, and 'fastnn/copy' is the fraction of the roofline it reaches. NumPy and torch
allocate their results (torch's aten backward ops are called directly, no autograd), so the
'vs' ratios compare them with fastnn allocating too ('fastnn alloc'): fresh 40 MB arrays cost
page faults on every call, for all three libraries alike.
"""

import math
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))
sys.path.insert(0, str(pathlib.Path(__file__).parent.parent / "tests"))

import reference as ref
from _harness import Table, check_close, limits, timeit, try_torch
from fastnn import kernels as K
from fastnn._devices import numpy_kernels as npk

N = 10_000_000
COLUMNS = [
    "op",
    "fastnn out= GB/s",
    "fastnn/copy",
    "fastnn alloc GB/s",
    "numpy GB/s",
    "torch GB/s",
    "vs numpy",
    "vs torch",
]
SQ2PI = math.sqrt(2 / math.pi)


def numpy_ops(name):
    """(forward, backward) as plain NumPy expressions on float32 arrays."""
    f = np.float32
    if name == "relu":
        return lambda x: np.maximum(x, f(0)), lambda g, x, y: np.where(x > 0, g, f(0))
    if name == "leaky_relu":
        return (
            lambda x: np.where(x > 0, x, x * f(0.01)),
            lambda g, x, y: np.where(x > 0, g, g * f(0.01)),
        )
    if name == "sigmoid":
        return lambda x: 1 / (1 + np.exp(-x)), lambda g, x, y: g * y * (1 - y)
    if name == "tanh":
        return np.tanh, lambda g, x, y: g * (1 - y * y)
    if name == "exp":
        return np.exp, lambda g, x, y: g * y
    if name == "gelu_tanh":

        def fwd(x):
            return 0.5 * x * (1 + np.tanh(f(SQ2PI) * (x + f(0.044715) * x**3)))

        def bwd(g, x, y):
            t = np.tanh(f(SQ2PI) * (x + f(0.044715) * x**3))
            du = f(SQ2PI) * (1 + f(3 * 0.044715) * x * x)
            return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)

        return fwd, bwd
    if name in ("softmax", "log_softmax"):
        fwd, bwd = _numpy_along(name, -1)
        return fwd, lambda g, x, y: bwd(g, y)
    if name == "silu":
        return lambda x: x / (1 + np.exp(-x)), lambda g, x, y: g * _silu_grad(x)
    if name == "hardtanh":
        return (
            lambda x: np.clip(x, f(-1), f(1)),
            lambda g, x, y: np.where((x > -1) & (x < 1), g, f(0)),
        )
    return None  # gelu (erf): numpy has no erf; mish, softplus, elu, logsigmoid: not written


def _sig64(x):
    return 0.5 * (1 + np.tanh(0.5 * x.astype(np.float64)))


def _silu_grad(x):
    s = _sig64(x)
    return s * (1 + x * (1 - s))


def _tsp(x):
    return np.tanh(np.logaddexp(x.astype(np.float64), 0.0))


# float64 references (default parameters) of the activations tests/reference.py does not have
EXTRA_REF = {
    "silu": (lambda x: x * _sig64(x), lambda g, x: g * _silu_grad(x)),
    "mish": (
        lambda x: x * _tsp(x),
        lambda g, x: g * (_tsp(x) + x * _sig64(x) * (1 - _tsp(x) ** 2)),
    ),
    "softplus": (
        lambda x: np.where(x > 20, x, np.logaddexp(x.astype(np.float64), 0.0)),
        lambda g, x: np.where(x > 20, g, g * _sig64(x)),
    ),
    "elu": (
        lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0).astype(np.float64))),
        lambda g, x: np.where(x > 0, g, g * np.exp(np.minimum(x, 0).astype(np.float64))),
    ),
    "hardtanh": (
        lambda x: np.clip(x, -1.0, 1.0),
        lambda g, x: np.where((x > -1) & (x < 1), g, 0.0),
    ),
    "logsigmoid": (
        lambda x: -np.logaddexp(-x.astype(np.float64), 0.0),
        lambda g, x: g * _sig64(-x),
    ),
}


def refs(name, kw):
    """(forward, backward(g, x or y)) float64 references of activation `name`."""
    if name in EXTRA_REF:
        return EXTRA_REF[name]
    f, b = getattr(ref, name), getattr(ref, name + "_backward")
    return lambda x: f(x, **kw), lambda g, xy: b(g, xy, **kw)


def torch_ops(torch, name):
    a = torch.ops.aten
    F = torch.nn.functional
    return {
        "relu": (torch.relu, lambda g, x, y: a.threshold_backward(g, x, 0)),
        "leaky_relu": (
            lambda x: F.leaky_relu(x, 0.01),
            lambda g, x, y: a.leaky_relu_backward(g, x, 0.01, False),
        ),
        "sigmoid": (torch.sigmoid, lambda g, x, y: a.sigmoid_backward(g, y)),
        "tanh": (torch.tanh, lambda g, x, y: a.tanh_backward(g, y)),
        "exp": (torch.exp, lambda g, x, y: g * y),  # (autograd's exp backward: grad * result)
        "gelu": (F.gelu, lambda g, x, y: a.gelu_backward(g, x)),
        "gelu_tanh": (
            lambda x: F.gelu(x, approximate="tanh"),
            lambda g, x, y: a.gelu_backward(g, x, approximate="tanh"),
        ),
        "softmax": (
            lambda x: torch.softmax(x, -1),
            lambda g, x, y: a._softmax_backward_data(g, y, -1, torch.float32),
        ),
        "log_softmax": (
            lambda x: torch.log_softmax(x, -1),
            lambda g, x, y: a._log_softmax_backward_data(g, y, -1, torch.float32),
        ),
        "silu": (F.silu, lambda g, x, y: a.silu_backward(g, x)),
        "mish": (F.mish, lambda g, x, y: a.mish_backward(g, x)),
        "softplus": (F.softplus, lambda g, x, y: a.softplus_backward(g, x, 1.0, 20.0)),
        "elu": (F.elu, lambda g, x, y: a.elu_backward(g, 1.0, 1.0, 1.0, False, x)),
        "hardtanh": (F.hardtanh, lambda g, x, y: a.hardtanh_backward(g, x, -1.0, 1.0)),
        # aten's log-sigmoid backward takes the buffer its forward returns beside the output
        "logsigmoid": (a.log_sigmoid_forward, lambda g, x, y: a.log_sigmoid_backward(g, x, y[1])),
    }[name]


def fastnn_ops(name):
    if name == "gelu_tanh":
        return (
            lambda x, out: K.gelu(x, approximate="tanh", out=out),
            lambda g, x, y, out: K.gelu_backward(g, x, approximate="tanh", out=out),
            "x",
        )
    uses = "y" if name in ("sigmoid", "tanh", "exp", "softmax", "log_softmax") else "x"
    fwd, bwd = getattr(K, name), getattr(K, name + "_backward")
    return (
        lambda x, out: fwd(x, out=out),
        lambda g, x, y, out: bwd(g, y if uses == "y" else x, out=out),
        uses,
    )


NAMES = [
    "relu",
    "leaky_relu",
    "sigmoid",
    "tanh",
    "exp",
    "gelu",
    "gelu_tanh",
    "softmax",
    "log_softmax",
    "silu",
    "mish",
    "softplus",
    "elu",
    "hardtanh",
    "logsigmoid",
]


def run(quick=False):
    n = N // 10 if quick else N
    repeats = 5 if quick else 20
    rng = np.random.default_rng(0)
    torch = try_torch()
    copy = limits()["copy_gbs"]
    table = Table(
        f"activations: forward + backward, {n / 1e6:g}M float32 elements (20 B/element)",
        COLUMNS,
        note=f"copy bandwidth (read + write) {copy:.1f} GB/s; softmax rows of 1000",
        readme={
            "what": f"activations fwd+bwd, {n / 1e6:g}M floats",
            "torch": "vs torch",
            "numpy": "vs numpy",
            "limit": "fastnn/copy",
            "limit_name": "the >L3 copy",
        },
    )
    for name in NAMES:
        shape = (n // 1000, 1000) if "softmax" in name else (n,)
        x = (rng.standard_normal(shape) * 3).astype(np.float32)
        g = rng.standard_normal(shape).astype(np.float32)
        y, dx = np.empty_like(x), np.empty_like(x)
        ffwd, fbwd, uses = fastnn_ops(name)
        rname = "gelu" if name == "gelu_tanh" else name
        kw = {"approximate": "tanh"} if name == "gelu_tanh" else {}
        m = slice(0, 200_000) if len(shape) == 1 else slice(0, 200)
        rf, rb = refs(rname, kw)
        check_close(name, ffwd(x, y)[m], rf(x[m]), rtol=1e-4, atol=1e-5)
        xy = y if uses == "y" else x
        check_close(name + "_backward", fbwd(g, x, y, dx)[m], rb(g[m], xy[m]), rtol=1e-4, atol=1e-5)

        def step_fastnn():
            ffwd(x, y)
            fbwd(g, x, y, dx)

        def step_alloc():
            yy = ffwd(x, None)
            fbwd(g, x, yy, None)

        gbs = 20 * x.size / 1e9
        t_o, _ = timeit(step_fastnn, repeats=repeats)
        t_f, _ = timeit(step_alloc, repeats=repeats)
        row = dict(
            op=name,
            **{
                "fastnn out= GB/s": gbs / t_o,
                "fastnn/copy": gbs / t_o / copy,
                "fastnn alloc GB/s": gbs / t_f,
            },
        )
        ops = numpy_ops(name)
        if ops is not None:
            nf, nb = ops
            with np.errstate(over="ignore"):
                check_close(name + " numpy", nf(x[m]), rf(x[m]), rtol=1e-4, atol=1e-5)
                t_n, _ = timeit(lambda: nb(g, x, nf(x)), repeats=max(5, repeats // 4))
            row["numpy GB/s"] = gbs / t_n
            row["vs numpy"] = t_n / t_f
        if torch is not None:
            tf, tb = torch_ops(torch, name)
            xt, gt = torch.from_numpy(x), torch.from_numpy(g)
            t_t, _ = timeit(lambda: tb(gt, xt, tf(xt)), repeats=repeats)
            row["torch GB/s"] = gbs / t_t
            row["vs torch"] = t_t / t_f
        table.add(**row)
    return [table, _softmax_dim_table(quick, torch, copy), _dropout_table(quick, torch)]


def _softmax_dim_table(quick, torch, copy):
    """softmax / log_softmax over the channels of an NCHW batch (dim=1, 32 channels of 28 x 28):
    the kernels walk the strided axis in place; numpy and torch as their users write it."""
    shape = (4 if quick else 64, 32, 28, 28)
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(shape) * 3).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    y, dx = np.empty_like(x), np.empty_like(x)
    table = Table(
        f"softmax along dim 1 of {'x'.join(map(str, shape))}, float32: forward + backward",
        COLUMNS,
        note="20 B per element as above; the libraries timed one after another, op by op",
    )
    gbs = 20 * x.size / 1e9
    repeats = 5 if quick else 20
    for name in ("softmax", "log_softmax"):
        fwd, bwd = getattr(K, name), getattr(K, name + "_backward")
        rf, rb = getattr(ref, name), getattr(ref, name + "_backward")
        check_close(name + " dim=1", fwd(x, 1, out=y), rf(x, 1), rtol=1e-4, atol=1e-5)
        check_close(
            name + "_backward dim=1", bwd(g, y, 1, out=dx), rb(g, y, 1), rtol=1e-4, atol=1e-5
        )
        t_o, _ = timeit(lambda: bwd(g, fwd(x, 1, out=y), 1, out=dx), repeats=repeats)
        t_f, _ = timeit(lambda: bwd(g, fwd(x, 1), 1), repeats=repeats)
        row = {
            "op": name,
            "fastnn out= GB/s": gbs / t_o,
            "fastnn/copy": gbs / t_o / copy,
            "fastnn alloc GB/s": gbs / t_f,
        }
        nf, nb = _numpy_along(name, 1)
        t_n, _ = timeit(lambda: nb(g, nf(x)), repeats=max(3, repeats // 4))
        row.update({"numpy GB/s": gbs / t_n, "vs numpy": t_n / t_f})
        if torch is not None:
            a = torch.ops.aten
            tfwd = getattr(torch, name)
            tbwd = a._softmax_backward_data if name == "softmax" else a._log_softmax_backward_data
            xt, gt = torch.from_numpy(x), torch.from_numpy(g)
            t_t, _ = timeit(lambda: tbwd(gt, tfwd(xt, 1), 1, torch.float32), repeats=repeats)
            row.update({"torch GB/s": gbs / t_t, "vs torch": t_t / t_f})
        table.add(**row)
    return table


def _numpy_along(name, dim):
    """(forward, backward(g, y)) of the softmax family along ``dim`` in plain numpy: the CPU
    backend's own numpy versions (the ones it runs for dtypes the kernels lack)."""
    fwd, bwd = getattr(npk, name), getattr(npk, name + "_backward")
    return (lambda x: fwd(x, dim)), (lambda g, y: bwd(g, y, dim))


def _dropout_table(quick, torch):
    """F.dropout forward + backward through each library's Tensor API: the MLP's hidden layer at
    batch 256 and 32 (bench_train.py's Dropout 0.2) and a large tensor."""
    import fastnn
    import fastnn.nn.functional as FF

    p = 0.2
    table = Table(
        f"dropout p={p}: forward + backward (Tensor API, float32), us per call",
        ["shape", "fastnn", "torch", "vs torch"],
        note="fastnn: mask, scale and product in one kernel pass, the uint8 mask reused by "
        "backward; median of repeats, the libraries interleaved shape by shape",
    )
    shapes = [(256, 256), (32, 256)] + ([] if quick else [(1000, 1000)])
    for shape in shapes:
        x0 = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
        x = fastnn.tensor(x0, requires_grad=True)
        g = fastnn.ones(*shape)
        y = FF.dropout(x, p).detach().numpy()
        kept = y != 0
        check_close("dropout", y[kept], x0[kept] / (1 - p), rtol=1e-6, atol=0)
        if not 0.7 < kept.mean() < 0.9:
            raise AssertionError(f"dropout kept {kept.mean():.3f} of the elements, not ~{1 - p}")

        def step_fastnn():
            FF.dropout(x, p).backward(g)

        repeats = 20 if quick else 100
        t_f, _ = timeit(step_fastnn, repeats=repeats)
        row = {"shape": "x".join(map(str, shape)), "fastnn": t_f * 1e6}
        if torch is not None:
            xt = torch.tensor(x0, requires_grad=True)
            gt = torch.ones(*shape)

            def step_torch():
                torch.nn.functional.dropout(xt, p).backward(gt)

            t_t, _ = timeit(step_torch, repeats=repeats)
            t_f, _ = timeit(step_fastnn, repeats=repeats)  # again, after torch: interleaved
            row["fastnn"] = min(row["fastnn"], t_f * 1e6)
            row["torch"] = t_t * 1e6
            row["vs torch"] = t_t * 1e6 / row["fastnn"]
        table.add(**row)
    return table
