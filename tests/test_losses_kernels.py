"""Fused softmax cross-entropy and BCE-with-logits kernels vs float64 references and torch."""

import numpy as np
import pytest

import reference as ref
from conftest import assert_close
from fastnn import kernels as K

TOL = {np.float32: dict(atol=2e-6, rtol=2e-5), np.float64: dict(atol=1e-12, rtol=1e-11)}
SHAPES = [(1, 1), (2, 7), (7, 15), (3, 16), (5, 17), (33, 31), (4, 65), (2, 257), (3, 1000)]


def index_targets(rng, n, c, ignore=True, dtype=np.int64):
    t = rng.integers(0, c, n).astype(dtype)
    if ignore and n > 2:
        t[1] = -100
    return t


def prob_targets(rng, n, c, dtype):
    q = rng.random((n, c))
    return (q / q.sum(axis=1, keepdims=True)).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["index32", "index64", "prob"])
def test_cross_entropy_vs_reference(dtype, kind, isa, rng):
    for n, c in SHAPES:
        z = (rng.standard_normal((n, c)) * 3).astype(dtype)
        if kind == "prob":
            t = prob_targets(rng, n, c, dtype)
        else:
            t = index_targets(rng, n, c, dtype=np.int32 if kind == "index32" else np.int64)
        for red in ("mean", "sum", "none"):
            for eps in (0.0, 0.1):
                for weight in (None, rng.random(c).astype(dtype) + 0.5):
                    kw = dict(reduction=red, label_smoothing=eps, weight=weight)
                    loss, g = K.softmax_cross_entropy(z, t, grad=True, **kw)
                    rl, rg = ref.softmax_cross_entropy(z, t, **kw)
                    assert loss.dtype == dtype and g.dtype == dtype
                    assert_close(loss, rl, **TOL[dtype], name=f"loss {n}x{c} {kw}")
                    assert_close(g, rg, **TOL[dtype], name=f"grad {n}x{c} {kw}")
                    assert_close(K.softmax_cross_entropy(z, t, **kw), rl, **TOL[dtype])


@pytest.mark.parametrize("tdtype", [np.int32, np.int64])
def test_cross_entropy_narrow_rows(tdtype, isa, threads, rng):
    """C <= twice the vector width takes four rows at a time ([note: narrow rows] in
    csrc/cpu/softmax_cross_entropy_simd.h), falling back to single rows around ignored ones and at
    the end of a chunk."""
    for n, c in [(4, 10), (5, 1), (33, 10), (258, 16), (1000, 8), (4099, 10), (37, 17), (44, 32)]:
        z = (rng.standard_normal((n, c)) * 4).astype(np.float32)
        t = rng.integers(0, c, n).astype(tdtype)
        t[rng.random(n) < 0.05] = -100
        for weight in (None, (rng.random(c) + 0.5).astype(np.float32)):
            for red in ("mean", "none"):
                loss, g = K.softmax_cross_entropy(z, t, grad=True, weight=weight, reduction=red)
                rl, rg = ref.softmax_cross_entropy(z, t, weight=weight, reduction=red)
                assert_close(loss, rl, **TOL[np.float32], name=f"loss {n}x{c}")
                assert_close(g, rg, **TOL[np.float32], name=f"grad {n}x{c}")


@pytest.mark.parametrize("c", [1, 7, 8, 9, 10, 16, 17, 31, 32])
def test_cross_entropy_four_rows_give_the_single_rows_bits(c, isa, rng):
    """A row alone takes the one-row kernel; in a batch of 8, four at a time: the same bits."""
    z = (rng.standard_normal((8, c)) * 4).astype(np.float32)
    t = rng.integers(0, c, 8)
    w = (rng.random(c) + 0.5).astype(np.float32)
    for weight in (None, w):
        loss, g = K.softmax_cross_entropy(z, t, grad=True, weight=weight, reduction="sum")
        loss = K.softmax_cross_entropy(z, t, weight=weight, reduction="none")
        for i in range(8):
            li, gi = K.softmax_cross_entropy(
                z[i : i + 1], t[i : i + 1], grad=True, weight=weight, reduction="sum"
            )
            np.testing.assert_array_equal(loss[i], li)
            np.testing.assert_array_equal(g[i], gi[0])


@pytest.mark.parametrize("kind", ["index", "prob"])
def test_cross_entropy_threads(kind, threads, isa, rng):
    for n, c in [(300, 257), (4, 20000)]:
        z = (rng.standard_normal((n, c)) * 3).astype(np.float32)
        t = prob_targets(rng, n, c, np.float32) if kind == "prob" else index_targets(rng, n, c)
        loss, g = K.softmax_cross_entropy(z, t, label_smoothing=0.05, grad=True)
        rl, rg = ref.softmax_cross_entropy(z, t, label_smoothing=0.05)
        assert_close(loss, rl, **TOL[np.float32])
        assert_close(g, rg, **TOL[np.float32])


def test_cross_entropy_grad_vs_finite_differences(rng):
    z = rng.standard_normal((4, 6))
    w = rng.random(6) + 0.5
    for t in (np.array([0, -100, 5, 2]), prob_targets(rng, 4, 6, np.float64)):
        kw = dict(label_smoothing=0.2, weight=w)
        _, g = K.softmax_cross_entropy(z, t, grad=True, **kw)
        num = np.empty_like(z)
        h = 1e-6
        for i in np.ndindex(z.shape):
            zp, zm = z.copy(), z.copy()
            zp[i] += h
            zm[i] -= h
            num[i] = (
                K.softmax_cross_entropy(zp, t, **kw) - K.softmax_cross_entropy(zm, t, **kw)
            ) / (2 * h)
        assert_close(g, num, atol=1e-8, rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_extreme_logits(dtype, isa):
    z = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, -1e4]] * 6, dtype=dtype)
    t = np.array([1, 0, 2] * 6)
    for eps in (0.0, 0.3):
        for tt in (t, prob_targets(np.random.default_rng(0), 18, 3, dtype)):
            loss, g = K.softmax_cross_entropy(
                z, tt, label_smoothing=eps, reduction="none", grad=True
            )
            assert np.isfinite(loss).all() and np.isfinite(g).all()
            rl, rg = ref.softmax_cross_entropy(z, tt, label_smoothing=eps, reduction="none")
            assert_close(loss, rl, atol=1e-6, rtol=1e-6)
            assert_close(g, rg, **TOL[dtype])
    zn = z.copy()
    zn[0, 1] = np.nan
    loss = K.softmax_cross_entropy(zn, t, reduction="none")
    assert np.isnan(loss[0]) and np.isfinite(loss[1:]).all()


def test_cross_entropy_all_ignored_and_empty():
    z = np.zeros((3, 4), np.float32)
    t = np.full(3, -100)
    loss, g = K.softmax_cross_entropy(z, t, grad=True)
    assert np.isnan(loss) and (g == 0).all()
    e_loss, e_grad = ref.softmax_cross_entropy(z, t)  # the oracle agrees (torch: NaN, zero grad)
    assert np.isnan(e_loss) and (e_grad == 0).all()
    assert K.softmax_cross_entropy(z, t, reduction="sum") == 0
    assert (K.softmax_cross_entropy(z, t, reduction="none") == 0).all()
    t = np.array([3, -1, 0])
    assert np.isfinite(K.softmax_cross_entropy(z, t, ignore_index=-1))
    e = np.zeros((0, 4))
    assert np.isnan(K.softmax_cross_entropy(e, np.zeros(0, np.int64)))
    assert np.isnan(K.softmax_cross_entropy(e, np.zeros((0, 4))))
    assert K.softmax_cross_entropy(e, np.zeros(0, np.int64), reduction="none").shape == (0,)


def test_cross_entropy_bad_inputs():
    z = np.zeros((3, 4), np.float32)
    t = np.array([0, 1, 2])
    f = K.softmax_cross_entropy
    with pytest.raises(ValueError, match=r"target\[1\] = 4 is out of range for 4 classes"):
        f(z, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match=r"target\[2\] = -3 is out of range"):
        f(z, np.array([0, 1, -3], np.int32), grad=True)
    with pytest.raises(ValueError, match=r"target\[0\] = -100 is out of range"):
        f(z, np.array([-100, 1, 1]), ignore_index=-1)
    with pytest.raises(TypeError, match="'logits' must be a numpy.ndarray, got list"):
        f([[0.0] * 4] * 3, t)
    with pytest.raises(TypeError, match="'target' must be a numpy.ndarray"):
        f(z, [0, 1, 2])
    with pytest.raises(TypeError, match="float32 or float64"):
        f(z.astype(np.int32), t)
    with pytest.raises(TypeError, match="class indices.*int32 or int64.*got int16"):
        f(z, t.astype(np.int16))
    with pytest.raises(ValueError, match=r"'target' must have shape \(3,\)"):
        f(z, np.zeros(4, np.int64))
    with pytest.raises(ValueError, match=r"'target' must have shape \(3, 4\)"):
        f(z, np.zeros(3, np.float32))  # float target = probabilities: must be (N, C)
    with pytest.raises(TypeError, match="same dtype"):
        f(z, np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"shape \(N, C\)"):
        f(np.zeros(4, np.float32), t)
    with pytest.raises(ValueError, match="reduction.*'mean', 'sum' or 'none'.*'avg'"):
        f(z, t, reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing.*between 0.0 and 1.0"):
        f(z, t, label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"'weight' must have shape \(4,\), got \(3,\)"):
        f(z, t, weight=np.ones(3, np.float32))
    with pytest.raises(TypeError, match="'weight' and 'logits' must have the same dtype"):
        f(z, t, weight=np.ones(4))
    with pytest.raises(ValueError, match="C-contiguous"):
        f(np.zeros((4, 3), np.float32).T, t)
    with pytest.raises(ValueError, match="at least one class"):
        f(np.zeros((3, 0), np.float32), t)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_vs_reference(dtype, isa, rng):
    for shape in [(1,), (7,), (15,), (16,), (17,), (33, 5), (4, 65), (2, 3, 257), (5000,)]:
        x = (rng.standard_normal(shape) * 6).astype(dtype)
        t = rng.random(shape).astype(dtype)
        c = shape[-1]
        for weight in (None, rng.random(shape).astype(dtype), rng.random(c).astype(dtype)):
            for pos_weight in (None, (rng.random(c) * 3).astype(dtype)):
                for red in ("mean", "sum", "none"):
                    kw = dict(weight=weight, pos_weight=pos_weight, reduction=red)
                    loss, g = K.binary_cross_entropy_with_logits(x, t, grad=True, **kw)
                    rl, rg = ref.binary_cross_entropy_with_logits(x, t, **kw)
                    assert_close(loss, rl, **TOL[dtype], name=f"bce {shape}")
                    assert_close(g, rg, **TOL[dtype], name=f"bce grad {shape}")


def test_bce_threads_and_extremes(threads, isa, rng):
    x = (rng.standard_normal(300_001) * 5).astype(np.float32)
    t = (rng.random(x.shape) > 0.5).astype(np.float32)
    loss, g = K.binary_cross_entropy_with_logits(x, t, grad=True)
    rl, rg = ref.binary_cross_entropy_with_logits(x, t)
    assert_close(loss, rl, **TOL[np.float32])
    assert_close(g, rg, **TOL[np.float32])
    xe = np.array([1e4, -1e4, 1e4, -1e4, 30, -30, 0, 1e-30], np.float32)
    te = np.array([1, 0, 0, 1, 1, 0, 0.5, 1], np.float32)
    loss, g = K.binary_cross_entropy_with_logits(xe, te, reduction="none", grad=True)
    rl, rg = ref.binary_cross_entropy_with_logits(xe, te, reduction="none")
    assert np.isfinite(loss).all() and np.isfinite(g).all()
    assert_close(loss, rl, atol=1e-6, rtol=1e-6)
    assert_close(g, rg, atol=1e-7, rtol=1e-6)


def test_bce_grad_vs_finite_differences(rng):
    x = rng.standard_normal((3, 5)) * 3
    t = rng.random((3, 5))
    kw = dict(weight=rng.random(5), pos_weight=rng.random(5) * 2)
    _, g = K.binary_cross_entropy_with_logits(x, t, grad=True, **kw)
    num = np.empty_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += 1e-6
        xm[i] -= 1e-6
        num[i] = (
            K.binary_cross_entropy_with_logits(xp, t, **kw)
            - K.binary_cross_entropy_with_logits(xm, t, **kw)
        ) / 2e-6
    assert_close(g, num, atol=1e-8, rtol=1e-6)


def test_bce_bad_inputs():
    x = np.zeros((3, 4), np.float32)
    f = K.binary_cross_entropy_with_logits
    with pytest.raises(TypeError, match="'target' must be a numpy.ndarray"):
        f(x, [0.0])
    with pytest.raises(ValueError, match=r"'target' must have shape \(3, 4\)"):
        f(x, np.zeros((4, 3), np.float32))
    with pytest.raises(TypeError, match="same dtype"):
        f(x, np.zeros((3, 4)))
    with pytest.raises(TypeError, match="float32 or float64"):
        f(x, np.zeros((3, 4), np.int64))
    with pytest.raises(
        ValueError, match=r"'weight' must have the shape of 'logits' \(3, 4\) or \(4,\)"
    ):
        f(x, x, weight=np.ones(3, np.float32))
    with pytest.raises(ValueError, match=r"'pos_weight' must have shape \(4,\)"):
        f(x, x, pos_weight=np.ones((3, 4), np.float32))
    with pytest.raises(ValueError, match="reduction"):
        f(x, x, reduction="max")
    assert np.isnan(f(np.zeros(0), np.zeros(0)))


# ---- PyTorch parity (optional oracle) -------------------------------------------------------


def test_cross_entropy_torch_parity(rng):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    for n, c in [(5, 3), (33, 17), (64, 1000)]:
        z = rng.standard_normal((n, c)) * 4
        idx = index_targets(rng, n, c)
        idx[0] = 7 % c if n > 3 else idx[0]
        for t in (idx, prob_targets(rng, n, c, np.float64)):
            for red in ("mean", "sum", "none"):
                for eps in (0.0, 0.25):
                    for w in (None, rng.random(c) + 0.1):
                        for ig in (-100, int(idx[0])):
                            if t.dtype.kind == "f" and ig != -100:
                                continue
                            tt = np.where(t == -100, ig, t) if ig != -100 else t
                            zt = torch.tensor(z, requires_grad=True)
                            lt = F.cross_entropy(
                                zt,
                                torch.tensor(tt),
                                reduction=red,
                                label_smoothing=eps,
                                ignore_index=ig,
                                weight=None if w is None else torch.tensor(w),
                            )
                            lt.sum().backward()
                            loss, g = K.softmax_cross_entropy(
                                z,
                                tt,
                                reduction=red,
                                label_smoothing=eps,
                                ignore_index=ig,
                                weight=w,
                                grad=True,
                            )
                            assert_close(loss, lt.detach().numpy(), atol=1e-12, rtol=1e-11)
                            assert_close(g, zt.grad.numpy(), atol=1e-12, rtol=1e-11)
    # float32 against torch's float32
    z = (rng.standard_normal((256, 10)) * 3).astype(np.float32)
    t = index_targets(rng, 256, 10)
    zt = torch.tensor(z, requires_grad=True)
    F.cross_entropy(zt, torch.tensor(t), label_smoothing=0.1).backward()
    loss, g = K.softmax_cross_entropy(z, t, label_smoothing=0.1, grad=True)
    assert_close(g, zt.grad.numpy(), atol=1e-7, rtol=1e-5)
    # all rows ignored: NaN loss and zero gradient, like torch
    zt = torch.zeros((2, 3), requires_grad=True)
    lt = F.cross_entropy(zt, torch.tensor([-100, -100]))
    lt.backward()
    loss, g = K.softmax_cross_entropy(
        np.zeros((2, 3), np.float32), np.array([-100, -100]), grad=True
    )
    assert np.isnan(loss) and np.isnan(lt.item())
    np.testing.assert_array_equal(g, zt.grad.numpy())


def test_bce_torch_parity(rng):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x = rng.standard_normal((6, 9)) * 8
    x[0, :3] = [1e4, -1e4, 50]
    t = rng.random((6, 9))
    for w in (None, rng.random((6, 9)), rng.random(9)):
        for pw in (None, rng.random(9) * 4):
            for red in ("mean", "sum", "none"):
                xt = torch.tensor(x, requires_grad=True)
                lt = F.binary_cross_entropy_with_logits(
                    xt,
                    torch.tensor(t),
                    reduction=red,
                    weight=None if w is None else torch.tensor(w),
                    pos_weight=None if pw is None else torch.tensor(pw),
                )
                lt.sum().backward()
                loss, g = K.binary_cross_entropy_with_logits(
                    x, t, weight=w, pos_weight=pw, reduction=red, grad=True
                )
                assert_close(loss, lt.detach().numpy(), atol=1e-12, rtol=1e-11)
                assert_close(g, xt.grad.numpy(), atol=1e-12, rtol=1e-11)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["index32", "index64", "prob"])
def test_positional_mean_binding_equals_the_keyword_call(dtype, kind, rng):
    """_C.softmax_cross_entropy_mean (the CPU backend's call for F.cross_entropy's defaults)
    gives the bits of the full call with reduction='mean', and its errors."""
    from fastnn import _C

    for n, c in ((1, 1), (7, 15), (33, 31)):
        z = (rng.standard_normal((n, c)) * 3).astype(dtype)
        if kind == "prob":
            t = prob_targets(rng, n, c, dtype)
        else:
            t = index_targets(
                rng, n, c, ignore=False, dtype=np.int32 if kind == "index32" else np.int64
            )
        for grad in (False, True):
            got = _C.softmax_cross_entropy_mean(z, t, grad)
            want = K.softmax_cross_entropy(z, t, grad=grad)
            for g, w in zip(got if grad else (got,), want if grad else (want,), strict=True):
                assert g.dtype == w.dtype and g.tobytes() == w.tobytes()
    with pytest.raises(ValueError, match="out of range"):
        _C.softmax_cross_entropy_mean(np.zeros((2, 3), np.float32), np.array([0, 3]))
    with pytest.raises(ValueError, match="logits"):
        _C.softmax_cross_entropy_mean(np.zeros(3, np.float32), np.array([0]))
