"""_C.addcmul / addcdiv / lerp, one pass over three (two) operands on the thread pool, and the
Tensor methods that take them (the hand-written optimizer's exp_avg_sq.addcmul_, param.addcdiv_,
an EMA's lerp_): torch's bits, in place, the composed forms under autograd, the bad inputs."""

import numpy as np
import pytest

import fastnn
from fastnn import _C

SHAPES = [(1,), (7,), (33, 257), (3, 5, 7), (200_003,)]


def _ref(op, x, a, b, s):
    """The kernels' operations in their order, each rounded as the dtype rounds it; the fused
    multiply-adds of addcmul and lerp exactly for float32 (their products are exact in float64),
    within a rounding of them for float64."""
    t = x.dtype.type
    if op == "addcmul":  # (s a) b + x, one rounding
        return (np.float64(1) * (t(s) * a) * b.astype(np.float64) + x).astype(x.dtype)
    if op == "addcdiv":
        return x + (t(s) * a) / b
    base, c = (x, t(s)) if abs(s) < 0.5 else (a, t(s) - t(1))
    d = a - x
    return (np.float64(c) * d.astype(np.float64) + base.astype(np.float64)).astype(x.dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    ("op", "s"),
    [
        ("addcmul", 0.3),
        ("addcmul", -2.0),
        ("addcdiv", 0.1),
        ("lerp", 0.2),
        ("lerp", 0.75),
        ("lerp", 1.0),
        ("lerp", -0.6),
    ],
)
def test_kernels_match_their_definition(op, s, shape, dtype, isa, threads, rng):
    x, a, b = (rng.standard_normal(shape).astype(dtype) for _ in range(3))
    b += np.where(b >= 0, 1, -1).astype(dtype)  # (no division by ~0)
    args = (x, a, b, s) if op != "lerp" else (x, a, s)
    got = getattr(_C, op)(*args)
    assert got.dtype == dtype and got.shape == shape
    if op != "addcdiv" and dtype == np.float64:
        np.testing.assert_allclose(got, _ref(op, x, a, b, s), rtol=1e-15, atol=1e-15)
    else:
        np.testing.assert_array_equal(got, _ref(op, x, a, b, s))
    inplace = x.copy()
    args = (inplace, *args[1:])
    assert getattr(_C, op)(*args, out=inplace) is not None
    np.testing.assert_array_equal(inplace, got)
    if op == "lerp" and s == 1.0:
        np.testing.assert_array_equal(got, a)  # exact at the end point


@pytest.mark.parametrize("op", ["addcmul", "addcdiv", "lerp"])
def test_kernels_give_torchs_bits(op, rng):
    torch = pytest.importorskip("torch")
    x, a, b = (rng.standard_normal(100_003).astype(np.float32) for _ in range(3))
    tx, ta, tb = map(torch.from_numpy, (x, a, b))
    for s in (0.1, 0.49, 0.5, 0.9, -3.0):
        if op == "lerp":
            got, want = _C.lerp(x, a, s), torch.lerp(tx, ta, s)
        else:
            got = getattr(_C, op)(x, a, b, s)
            want = getattr(torch, op)(tx, ta, tb, value=s)
        np.testing.assert_array_equal(got, want.numpy())


def test_kernel_bad_inputs_are_clear_errors():
    x = np.zeros((3, 4), np.float32)
    with pytest.raises(ValueError, match=r"addcmul.*'tensor2'.*\(3, 5\)"):
        _C.addcmul(x, x, np.zeros((3, 5), np.float32))
    with pytest.raises(TypeError, match="addcdiv.*same dtype"):
        _C.addcdiv(x, x, x.astype(np.float64))
    with pytest.raises(TypeError, match="lerp.*float32 or float64"):
        _C.lerp(x.astype(np.int32), x.astype(np.int32), 0.5)
    with pytest.raises(ValueError, match="lerp.*contiguous"):
        _C.lerp(np.zeros((4, 4), np.float32)[:, ::2], np.zeros((4, 2), np.float32), 0.5)
    a = np.ones((3, 4), np.float32)
    with pytest.raises(
        ValueError, match="addcmul: 'out' may be x itself, not 'tensor1' or 'tensor2'"
    ):
        _C.addcmul(x, a, a, 1.0, out=a)
    np.testing.assert_array_equal(a, 1.0)  # a failed call changes nothing
    with pytest.raises(ValueError, match="lerp.*share memory"):
        big = np.zeros(13, np.float32)
        _C.lerp(big[:12].reshape(3, 4), a, 0.5, out=big[1:].reshape(3, 4))


@pytest.mark.parametrize("requires_grad", [False, True])
def test_tensor_methods_match_torch(requires_grad, rng):
    """Out of place and in place, kernels (no grad) or composed (grad), against torch's values
    and gradients; lerp with a tensor weight too (both of torch's forms)."""
    torch = pytest.importorskip("torch")
    x, a, b = (rng.standard_normal((33, 65)).astype(np.float32) for _ in range(3))
    b += np.where(b >= 0, 1, -1).astype(np.float32)
    w = rng.uniform(-1, 2, (33, 65)).astype(np.float32)
    cases = [
        lambda m, x, a, b, w: x.addcmul(a, b, value=0.25),
        lambda m, x, a, b, w: x.addcmul(a, b),
        lambda m, x, a, b, w: x.addcdiv(a, b, value=-0.5),
        lambda m, x, a, b, w: x.lerp(a, 0.3),
        lambda m, x, a, b, w: x.lerp(a, 0.8),
        lambda m, x, a, b, w: x.lerp(a, w),
        lambda m, x, a, b, w: m.lerp(x, a, 1.0),
    ]
    for fn in cases:
        f = [fastnn.tensor(v, requires_grad=requires_grad) for v in (x, a, b)]
        t = [torch.tensor(v, requires_grad=requires_grad) for v in (x, a, b)]
        fy = fn(fastnn, *f, fastnn.tensor(w))
        ty = fn(torch, *t, torch.tensor(w))
        np.testing.assert_allclose(fy.detach().numpy(), ty.detach().numpy(), rtol=1e-6, atol=1e-6)
        if requires_grad:
            g = rng.standard_normal(x.shape).astype(np.float32)
            fy.backward(fastnn.tensor(g))
            ty.backward(torch.tensor(g))
            for fv, tv in zip(f, t):
                if tv.grad is not None:
                    np.testing.assert_allclose(
                        fv.grad.numpy(), tv.grad.numpy(), rtol=1e-5, atol=1e-6
                    )


def test_inplace_forms_write_through_and_count_versions(rng):
    torch = pytest.importorskip("torch")
    x, a, b = (rng.standard_normal((257, 33)).astype(np.float32) for _ in range(3))
    for name, args in [("addcmul_", (a, b)), ("addcdiv_", (a, b)), ("lerp_", (a,))]:
        f, t = fastnn.tensor(x), torch.tensor(x)
        view = f[3:]  # shares f's storage
        version = f._version
        kw = {"value": 0.5} if name != "lerp_" else {}
        extra = () if name != "lerp_" else (0.7,)
        out = getattr(f, name)(*(fastnn.tensor(v) for v in args), *extra, **kw)
        assert out is f and f._version == version + 1
        getattr(t, name)(*(torch.tensor(v) for v in args), *extra, **kw)
        np.testing.assert_array_equal(f.numpy(), t.numpy())
        np.testing.assert_array_equal(view.numpy(), t.numpy()[3:])
    leaf = fastnn.tensor(x, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        leaf.addcmul_(fastnn.tensor(a), fastnn.tensor(b))
