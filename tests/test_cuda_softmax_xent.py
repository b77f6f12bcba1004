"""softmax / log_softmax and the fused cross-entropy on the GPU against the CPU backend (itself
tested against float64 NumPy), a float64 NumPy reference and torch: rows narrow enough for
registers (1, 7, 33, 1000), block rows (1025, 4097, 50000), batches of 1 and > 65535, -inf / +inf /
NaN entries, every cross-entropy option; bit-identical totals run to run; and the deferred report
of an out-of-range target ([note: deferred target check] in csrc/cuda/target_error.h).
The host side of that check runs here without a GPU; everything else skips without one."""

import time

import numpy as np
import pytest

from conftest import assert_close
from fastnn import _C, cuda


def needs_gpu(test):
    return pytest.mark.cuda(
        pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA GPU")(test)
    )


WIDTHS = [1, 7, 33, 1000, 1025, 4097, 50000]
DTYPES = [np.float32, np.float64]
TOL = {np.float32: {"atol": 1e-5, "rtol": 1e-4}, np.float64: {"atol": 1e-12, "rtol": 1e-10}}


def _cuda_module():
    try:
        from fastnn import _cuda
    except ImportError:
        pytest.skip("fastnn built without CUDA")
    return _cuda


def dev(a):
    return cuda.from_numpy(np.ascontiguousarray(a))


def gpu(name):
    from fastnn.cuda import kernels as ck

    return getattr(ck, name)


def _cpu_message(C, bad, ignore_index=-100):
    """The CPU kernel's ValueError text for target [0, bad] with C classes."""
    z = np.zeros((2, C), np.float32)
    with pytest.raises(ValueError) as info:
        _C.softmax_cross_entropy(z, np.array([0, bad]), ignore_index=ignore_index)
    return str(info.value)


# ---- the host side of the deferred check (no GPU) -----------------------------------------------


def test_deferred_record_host_side_raises_the_cpu_error_once():
    m = _cuda_module()
    assert m._check_target_record(0, 1, 10, 10, -100) == 0  # nothing reported: no error
    with pytest.raises(m._TargetIndexError) as info:
        m._check_target_record(1, 1, 10, 10, -100)
    err = info.value
    assert isinstance(err, IndexError) and isinstance(err, ValueError)
    # F.cross_entropy's words on the CPU: row, label, class count
    assert str(err).startswith("Target is out of bounds: " + _cpu_message(10, 10))
    assert "target[1] = 10 is out of range for 10 classes" in str(err)
    with pytest.raises(ValueError, match=r"target\[7\] = -3 .* ignore_index = 5\)"):
        m._check_target_record(1, 7, -3, 4, 5)


def test_functional_cross_entropy_turns_the_report_into_indexerror():
    """F.cross_entropy maps the kernel's out-of-range ValueError to torch's IndexError; the
    deferred error (raised by the next cross-entropy call) passes through as an IndexError."""
    m = _cuda_module()
    from fastnn.nn.functional import loss as L

    class Backend:
        def softmax_cross_entropy(self, *args):
            m._check_target_record(1, 3, 12, 10, -100)

    fn = L.SoftmaxCrossEntropy()
    fn.be, fn.requires_grad = Backend(), False
    with pytest.raises(IndexError, match=r"target\[3\] = 12 is out of range for 10 classes") as e:
        fn.forward(np.zeros((4, 10), np.float32), target=np.zeros(4, np.int64))
    assert str(e.value).count("Target is out of bounds") == 1


# ---- softmax / log_softmax ----------------------------------------------------------------------


def _softmax64(x, log):
    x = x.astype(np.float64)
    m = x.max(-1, keepdims=True)
    s = np.exp(x - m).sum(-1, keepdims=True)
    return (x - m) - np.log(s) if log else np.exp(x - m) / s


@needs_gpu
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cols", WIDTHS)
@pytest.mark.parametrize("rows", [1, 5])
def test_softmax_family_widths(name, dtype, cols, rows, rng):
    x = (rng.standard_normal((rows, cols)) * 4).astype(dtype)
    x[0, 0] = 60.0
    g = rng.standard_normal((rows, cols)).astype(dtype)
    y = gpu(name)(dev(x)).numpy()
    y_cpu = getattr(_C, name)(x)
    assert_close(y, y_cpu, **TOL[dtype], name=name)
    tol64 = {"atol": 1e-5, "rtol": 1e-4} if dtype == np.float32 else TOL[dtype]
    assert_close(y, _softmax64(x, name == "log_softmax"), **tol64, name=name + " vs float64")
    dx = gpu(name + "_backward")(dev(g), dev(y_cpu)).numpy()
    assert_close(dx, getattr(_C, name + "_backward")(g, y_cpu), **TOL[dtype], name=name + " bwd")


@needs_gpu
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("cols", [7, 1025])
def test_softmax_family_many_rows(name, cols, rng):
    """More rows than a grid dimension holds (65535): the grid-stride loops."""
    x = rng.standard_normal((65537, cols)).astype(np.float32)
    g = rng.standard_normal((65537, cols)).astype(np.float32)
    y_cpu = getattr(_C, name)(x)
    assert_close(gpu(name)(dev(x)).numpy(), y_cpu, **TOL[np.float32], name=name)
    dx = gpu(name + "_backward")(dev(g), dev(y_cpu)).numpy()
    assert_close(dx, getattr(_C, name + "_backward")(g, y_cpu), **TOL[np.float32], name="bwd")


def _special_rows(cols, dtype, rng):
    """Rows with -inf entries, all -inf, +inf, NaN, and a normal row: the CPU's results for each."""
    x = rng.standard_normal((6, cols)).astype(dtype)
    x[0, ::3] = -np.inf  # some -inf (the rest finite): 0 / -inf outputs there
    x[1, :] = -np.inf  # all -inf: NaN row
    x[2, cols // 2] = np.inf  # +inf: NaN row
    x[3, cols - 1] = np.nan  # NaN: NaN row
    x[4, 0] = -np.inf  # one -inf at the front (the running max starts at -inf)
    return x


@needs_gpu
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cols", [1, 7, 1000, 4097, 50000])
def test_softmax_family_non_finite_like_cpu(name, dtype, cols, rng):
    x = _special_rows(cols, dtype, rng)
    y, y_cpu = gpu(name)(dev(x)).numpy(), getattr(_C, name)(x)
    np.testing.assert_array_equal(np.isnan(y), np.isnan(y_cpu))
    np.testing.assert_array_equal(np.isinf(y), np.isinf(y_cpu))
    ok = np.isfinite(y_cpu)
    assert_close(y[ok], y_cpu[ok], **TOL[dtype], name=name)


@needs_gpu
def test_softmax_matches_torch(rng):
    torch = pytest.importorskip("torch")
    for cols in [7, 1000, 4097]:
        x = rng.standard_normal((9, cols)).astype(np.float32)
        x[2, ::5] = -np.inf
        t = torch.from_numpy(x)
        assert_close(
            gpu("softmax")(dev(x)).numpy(), torch.softmax(t, -1).numpy(), atol=1e-6, rtol=1e-5
        )
        assert_close(
            gpu("log_softmax")(dev(x)).numpy(),
            torch.log_softmax(t, -1).numpy(),
            atol=1e-5,
            rtol=1e-5,
        )


# ---- cross-entropy ------------------------------------------------------------------------------

VARIANTS = ["plain", "weight", "smooth", "ignore", "all", "probs", "probs_weight_smooth"]
# batch 1 with the plain and all-options cases only: keeps the GPU suite short
CASES = [(37, v) for v in VARIANTS] + [(1, v) for v in ("plain", "all", "probs_weight_smooth")]


def _case(variant, N, C, dtype, rng):
    logits = (rng.standard_normal((N, C)) * 3).astype(dtype)
    kw = {}
    if variant.startswith("probs"):
        t = rng.random((N, C)).astype(dtype)
        target = (t / t.sum(1, keepdims=True)).astype(dtype)
        if variant == "probs_weight_smooth":
            kw.update(weight=(rng.random(C) + 0.5).astype(dtype), label_smoothing=0.15)
        return logits, target, kw
    target = rng.integers(0, C, N).astype(np.int64)
    if variant in ("weight", "all"):
        kw["weight"] = (rng.random(C) + 0.5).astype(dtype)
    if variant in ("smooth", "all"):
        kw["label_smoothing"] = 0.2
    if variant in ("ignore", "all"):
        kw["ignore_index"] = 0 if C > 1 else -100
        target[::3] = kw["ignore_index"] if C > 1 else 0
    return logits, target, kw


def _run_gpu(logits, target, grad=True, **kw):
    dkw = {k: (dev(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    out = gpu("softmax_cross_entropy")(dev(logits), dev(target), grad=grad, **dkw)
    return (out[0].numpy(), out[1].numpy()) if grad else out.numpy()


def _xent64(logits, target, weight=None, label_smoothing=0.0, ignore_index=-100, reduction="mean"):
    """torch's cross_entropy in float64 NumPy (loss only)."""
    z = logits.astype(np.float64)
    N, C = z.shape
    nlp = -(z - z.max(1, keepdims=True))
    nlp += np.log(np.exp(-nlp).sum(1, keepdims=True))
    w = np.ones(C) if weight is None else weight.astype(np.float64)
    eps = label_smoothing
    if target.dtype.kind == "f":
        q = (1 - eps) * target.astype(np.float64) + eps / C
        rows = (w * q * nlp).sum(1)
        denom = N
    else:
        keep = target != ignore_index
        t = np.where(keep, target, 0)
        wy = w[t] * keep
        rows = (1 - eps) * wy * nlp[np.arange(N), t] + keep * eps / C * (w * nlp).sum(1)
        denom = wy.sum()
    if reduction == "none":
        return rows
    with np.errstate(invalid="ignore", divide="ignore"):  # 0/0 = NaN when every row is ignored
        return rows.sum() / denom if reduction == "mean" else rows.sum()


@needs_gpu
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("C", WIDTHS)
@pytest.mark.parametrize(("N", "variant"), CASES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_widths_and_options(dtype, C, N, variant, reduction, rng):
    logits, target, kw = _case(variant, N, C, dtype, rng)
    kw["reduction"] = reduction
    ref_loss, ref_grad = _C.softmax_cross_entropy(logits, target, grad=True, **kw)
    loss, grad = _run_gpu(logits, target, **kw)
    tol = {"atol": 2e-5, "rtol": 1e-4} if dtype == np.float32 else {"atol": 1e-11, "rtol": 1e-9}
    assert_close(loss, ref_loss, **tol, name="loss")
    assert_close(grad, ref_grad, **tol, name="dlogits")
    assert_close(_run_gpu(logits, target, grad=False, **kw), ref_loss, **tol, name="loss only")
    tol64 = {"atol": 1e-4, "rtol": 1e-4} if dtype == np.float32 else tol
    assert_close(loss, _xent64(logits, target, **kw), **tol64, name="loss vs float64")


@needs_gpu
@pytest.mark.parametrize("C", [7, 1000, 1025])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_cross_entropy_many_rows_int32(C, reduction, rng):
    N = 65537 if C < 1000 else 66000
    logits = rng.standard_normal((N, C)).astype(np.float32)
    target = rng.integers(0, C, N).astype(np.int32)
    target[::7] = -100
    kw = {"reduction": reduction, "weight": (rng.random(C) + 0.5).astype(np.float32)}
    ref_loss, ref_grad = _C.softmax_cross_entropy(logits, target, grad=True, **kw)
    loss, grad = _run_gpu(logits, target, **kw)
    assert_close(loss, ref_loss, atol=1e-5, rtol=1e-4, name="loss")
    assert_close(grad, ref_grad, atol=1e-6, rtol=1e-4, name="dlogits")


@needs_gpu
@pytest.mark.parametrize("C", [7, 1000, 4097])
@pytest.mark.parametrize("smooth", [0.0, 0.1])
def test_cross_entropy_non_finite_logits_like_cpu(C, smooth, rng):
    """-inf logits away from the label (masked classes), a +inf / NaN row, a row of -inf."""
    logits = rng.standard_normal((6, C)).astype(np.float64)
    target = np.arange(6) % C
    logits[0, (target[0] + 1) % C :: 2] = -np.inf if C > 1 else 0.0
    logits[1, :] = -np.inf
    logits[2, C // 2] = np.inf
    logits[3, C - 1] = np.nan
    kw = {"reduction": "none", "label_smoothing": smooth}
    ref_loss, ref_grad = _C.softmax_cross_entropy(logits, target, grad=True, **kw)
    loss, grad = _run_gpu(logits, target, **kw)
    for a, b in [(loss, ref_loss), (grad, ref_grad)]:
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        np.testing.assert_array_equal(np.isinf(a), np.isinf(b))
        ok = np.isfinite(b)
        assert_close(a[ok], b[ok], atol=1e-11, rtol=1e-9)


@needs_gpu
def test_cross_entropy_empty_batch():
    z = np.zeros((0, 5), np.float32)
    t = np.zeros(0, np.int64)
    assert np.isnan(_run_gpu(z, t, grad=False, reduction="mean"))
    assert _run_gpu(z, t, grad=False, reduction="sum") == 0.0
    assert _run_gpu(z, t, grad=False, reduction="none").shape == (0,)


@needs_gpu
@pytest.mark.parametrize("C", [10, 1000, 50000])
def test_cross_entropy_matches_torch(C, rng):
    torch = pytest.importorskip("torch")
    N = 64
    logits = rng.standard_normal((N, C)).astype(np.float32)
    target = rng.integers(0, C, N)
    target[5] = 3
    w = (rng.random(C) + 0.5).astype(np.float32)
    for kw in [{}, {"weight": w, "label_smoothing": 0.1, "ignore_index": 3}]:
        tz = torch.from_numpy(logits).requires_grad_(True)
        tw = {k: (torch.from_numpy(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
        ref = torch.nn.functional.cross_entropy(tz, torch.from_numpy(target), **tw)
        ref.backward()
        loss, grad = _run_gpu(logits, target, **kw)
        assert_close(loss, ref.detach().numpy(), atol=1e-5, rtol=1e-5, name="loss")
        assert_close(grad, tz.grad.numpy(), atol=1e-7, rtol=1e-4, name="dlogits")


@needs_gpu
@pytest.mark.parametrize(("N", "C"), [(200_000, 10), (3000, 1000), (64, 50000)])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_total_is_bit_identical_run_to_run(N, C, reduction, rng):
    logits = rng.standard_normal((N, C)).astype(np.float32)
    target = rng.integers(0, C, N)
    kw = {"reduction": reduction, "weight": (rng.random(C) + 0.5).astype(np.float32)}
    runs = [_run_gpu(logits, target, **kw) for _ in range(3)]
    for loss, grad in runs[1:]:
        assert loss.tobytes() == runs[0][0].tobytes()
        assert grad.tobytes() == runs[0][1].tobytes()
    ref = _C.softmax_cross_entropy(logits, target, **kw)
    assert_close(runs[0][0], ref, atol=1e-5, rtol=1e-4)


# ---- the deferred target check on the device ----------------------------------------------------


@needs_gpu
@pytest.mark.parametrize("C", [4, 2000])
def test_bad_target_is_reported_at_the_next_sync(C, rng):
    logits = rng.standard_normal((3000, C)).astype(np.float32)
    target = rng.integers(0, C, 3000)
    target[2500] = C + 7
    target[40] = -2  # the lowest bad row is the one reported, as on the CPU
    loss, grad = gpu("softmax_cross_entropy")(dev(logits), dev(target), grad=True)  # no raise
    with pytest.raises(IndexError, match=rf"target\[40\] = -2 is out of range for {C} classes"):
        loss.numpy()
    # reported once: the device and the arrays are usable afterwards
    assert np.isfinite(loss.numpy())
    assert np.all(grad.numpy()[40] == 0)
    good = rng.integers(0, C, 3000)
    ref = _C.softmax_cross_entropy(logits, good)
    assert_close(_run_gpu(logits, good, grad=False), ref, atol=1e-5, rtol=1e-4)


@needs_gpu
def test_bad_target_is_reported_by_synchronize_or_the_next_call(rng):
    logits = rng.standard_normal((8, 5)).astype(np.float32)
    bad = np.array([0, 1, 5, 2, 0, 0, 0, 0])
    good = np.zeros(8, np.int64)
    gpu("softmax_cross_entropy")(dev(logits), dev(bad))
    with pytest.raises(ValueError, match=r"target\[2\] = 5 is out of range for 5 classes"):
        cuda.synchronize()
    cuda.synchronize()  # reported once
    gpu("softmax_cross_entropy")(dev(logits), dev(bad))
    time.sleep(0.05)  # the first call has long finished: its report is in the host record
    with pytest.raises(IndexError, match=r"target\[2\] = 5"):
        gpu("softmax_cross_entropy")(dev(logits), dev(good))
    assert np.isfinite(_run_gpu(logits, good, grad=False))


@needs_gpu
def test_training_step_reports_bad_target_at_item(rng):
    import fastnn
    from fastnn import nn

    x = fastnn.tensor(rng.standard_normal((16, 10)).astype(np.float32), device="cuda")
    y = fastnn.tensor(np.array([1] * 15 + [10]), device="cuda")
    model = nn.Linear(10, 10).to("cuda")
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()  # no host synchronization so far: nothing raised
    with pytest.raises(IndexError, match=r"out of bounds: .*target\[15\] = 10 is out of range"):
        loss.item()


@needs_gpu
@pytest.mark.parametrize(("rows", "cols"), [(3, 5000), (300, 20000), (2, 20000), (1, 300_000)])
def test_wide_row_paths(rows, cols, rng):
    """A block per row with 256 and 512/1024 threads, and rows cut over several blocks (few
    rows): softmax forward and backward and cross-entropy against the CPU."""
    x = (rng.standard_normal((rows, cols)) * 3).astype(np.float32)
    x[0, 1::4] = -np.inf
    g = rng.standard_normal((rows, cols)).astype(np.float32)
    for name in ["softmax", "log_softmax"]:
        y_cpu = getattr(_C, name)(x)
        y = gpu(name)(dev(x)).numpy()
        np.testing.assert_array_equal(np.isinf(y), np.isinf(y_cpu))
        ok = np.isfinite(y_cpu)
        assert_close(y[ok], y_cpu[ok], **TOL[np.float32], name=name)
        dx = gpu(name + "_backward")(dev(g), dev(y_cpu)).numpy()
        assert_close(dx, getattr(_C, name + "_backward")(g, y_cpu), **TOL[np.float32], name="bwd")
    target = rng.integers(0, cols, rows)
    target[0] = 0  # a finite logit in the row holding -inf entries
    for kw in [{}, {"label_smoothing": 0.1, "weight": (rng.random(cols) + 0.5).astype(np.float32)}]:
        for reduction in ["mean", "none"]:
            ref_loss, ref_grad = _C.softmax_cross_entropy(
                x, target, grad=True, reduction=reduction, **kw
            )
            loss, grad = _run_gpu(x, target, reduction=reduction, **kw)
            assert_close(loss, ref_loss, atol=1e-5, rtol=1e-4, name="loss")
            assert_close(grad, ref_grad, atol=1e-7, rtol=1e-4, name="dlogits")
