"""No CUDA kernel writes outside its output: each kernel gets an output inside a larger
sentinel-filled buffer (tests/cuda_guard.py) and the sentinels around it must survive, and every
output element must be written. The guard's own tests run on numpy everywhere; the kernel tests
need a GPU."""

import numpy as np
import pytest

from conftest import assert_close
from cuda_guard import guarded_output, in_sentinel_block, sentinel_array
from fastnn import cuda

gpu = pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA GPU")

DTYPES = [np.float32, np.float64]


# ---- the guard itself (numpy buffers, no GPU) ----


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32, np.uint8, np.bool_])
def test_guard_passes_a_kernel_that_writes_exactly_its_output(dtype):
    out, check = guarded_output((3, 5), dtype, pad=7, device=False)
    out[...] = np.arange(15).reshape(3, 5).astype(dtype)
    np.testing.assert_array_equal(check("exact"), np.arange(15).reshape(3, 5).astype(dtype))


@pytest.mark.parametrize("where", ["before", "after"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.uint8])
def test_guard_catches_a_write_outside_the_output(where, dtype):
    out, check = guarded_output((4, 3), dtype, pad=5, device=False)
    out[...] = 1
    base = out
    while base.base is not None:  # the whole sentinel buffer behind the view
        base = base.base
    base[4 if where == "before" else 5 + 12] = 0  # one element beside the output
    with pytest.raises(pytest.fail.Exception, match="outside its output"):
        check("stray")


def test_guard_catches_an_unwritten_element():
    out, check = guarded_output((2, 2), np.float32, device=False)
    out[0, :] = 1.0
    out[1, 0] = 2.0
    with pytest.raises(pytest.fail.Exception, match=r"1 of 4 output element\(s\) unwritten"):
        check("partial")
    check("partial", written=False)  # a kernel that may skip elements opts out


def test_guard_sentinel_is_not_an_arithmetic_nan():
    s = sentinel_array(1, np.float32)
    assert np.isnan(s[0])
    computed = np.array([np.inf - np.inf, s[0] * 0, np.nan], np.float32)
    assert not (computed.view(np.uint32) == s.view(np.uint32)[0]).all()
    assert (s.view(np.uint32) != np.float32(np.nan).view(np.uint32)).all()


# ---- kernels (GPU) ----


def _dev(a):
    return cuda.from_numpy(a)


def _mod():
    return cuda._require()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [1, 7, 33, 257, 4099])
@pytest.mark.parametrize("pad", [64, 33])  # 33: an output that is not 16-byte aligned
@pytest.mark.parametrize(
    "op",
    ["relu", "sigmoid", "gelu", "exp", "neg", "clamp", "add", "mul_scalar", "relu_backward"],
)
@pytest.mark.cuda
@gpu
def test_elementwise_stays_inside_its_output(op, dtype, n, pad, rng):
    x = rng.standard_normal(n).astype(dtype)
    g = rng.standard_normal(n).astype(dtype)
    mod = _mod()
    out, check = guarded_output((n,), dtype, pad=pad)
    ref = {
        "relu": lambda: np.maximum(x, 0),
        "sigmoid": lambda: 1 / (1 + np.exp(-x.astype(np.float64))),
        "gelu": None,
        "exp": lambda: np.exp(x.astype(np.float64)),
        "neg": lambda: -x,
        "clamp": lambda: np.clip(x, -0.5, 0.25),
        "add": lambda: x + g,
        "mul_scalar": lambda: x * 3.0,
        "relu_backward": lambda: np.where(x > 0, g, 0),
    }[op]
    if op == "relu":
        mod.relu(_dev(x), out=out)
    elif op == "sigmoid":
        mod.sigmoid(_dev(x), out=out)
    elif op == "gelu":
        mod.gelu(_dev(x), "tanh", out=out)
    elif op in ("exp", "neg"):
        mod.unary(op, _dev(x), out=out)
    elif op == "clamp":
        mod.clamp(_dev(x), -0.5, 0.25, out=out)
    elif op == "add":
        mod.binary("add", _dev(x), _dev(g), out=out)
    elif op == "mul_scalar":
        mod.binary("mul", _dev(x), 3.0, out=out)
    else:
        mod.relu_backward(_dev(g), _dev(x), out=out)
    got = check(op)
    if ref is not None:
        tol = {"atol": 1e-6, "rtol": 1e-5} if dtype == np.float32 else {"atol": 0, "rtol": 1e-12}
        assert_close(got, ref(), **tol, name=op)


@pytest.mark.parametrize("shape", [(1, 7), (3, 5), (33, 17)])
@pytest.mark.cuda
@gpu
def test_broadcast_binary_and_comparison_stay_inside(shape, rng):
    a = rng.standard_normal(shape).astype(np.float32)
    b = rng.standard_normal(shape[-1:]).astype(np.float32)
    out, check = guarded_output(shape, np.float32, pad=17)
    _mod().binary("sub", _dev(a), _dev(b), out=out)
    assert_close(check("sub"), a - b, atol=1e-6, rtol=1e-6)
    out, check = guarded_output(shape, np.bool_, pad=3)
    _mod().binary("lt", _dev(a), _dev(b), out=out)
    np.testing.assert_array_equal(check("lt"), a < b)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (5, 33), (2, 1025), (2, 3000)])
@pytest.mark.cuda
@gpu
def test_softmax_stays_inside_its_output(name, dtype, shape, rng):
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    x64 = x.astype(np.float64)
    ls = x64 - x64.max(-1, keepdims=True)
    ls -= np.log(np.exp(ls).sum(-1, keepdims=True))
    y_ref = ls if name == "log_softmax" else np.exp(ls)
    tol = {"atol": 1e-5, "rtol": 1e-4} if dtype == np.float32 else {"atol": 1e-12, "rtol": 1e-10}
    out, check = guarded_output(shape, dtype)
    getattr(_mod(), name)(_dev(x), out=out)
    assert_close(check(name), y_ref, **tol, name=name)
    y = y_ref.astype(dtype)
    out, check = guarded_output(shape, dtype, pad=65)
    getattr(_mod(), name + "_backward")(_dev(g), _dev(y), out=out)
    check(name + "_backward")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("M", "N", "K"), [(1, 1, 1), (7, 33, 65), (65, 1, 257), (129, 131, 33), (257, 260, 64)]
)
@pytest.mark.parametrize(("trans_a", "trans_b"), [(False, False), (True, False), (False, True)])
@pytest.mark.cuda
@gpu
def test_matmul_stays_inside_its_output(dtype, M, N, K, trans_a, trans_b, rng):
    a = rng.standard_normal((K, M) if trans_a else (M, K)).astype(dtype)
    b = rng.standard_normal((N, K) if trans_b else (K, N)).astype(dtype)
    bias = rng.standard_normal(N).astype(dtype)
    ref = (a.T if trans_a else a).astype(np.float64) @ (b.T if trans_b else b) + bias
    out, check = guarded_output((M, N), dtype)  # NaN-filled: beta = 0 must not read it
    _mod().matmul(_dev(a), _dev(b), trans_a=trans_a, trans_b=trans_b, out=out, bias=_dev(bias))
    tol = {"atol": 1e-4, "rtol": 1e-4} if dtype == np.float32 else {"atol": 1e-10, "rtol": 1e-10}
    assert_close(check("matmul"), ref, **tol, name="matmul")


@pytest.mark.parametrize("op", ["sum", "mean", "max", "argmax"])
@pytest.mark.parametrize(
    ("shape", "dim"), [((7,), None), ((33, 5), 0), ((5, 257), 1), ((3, 4, 9), 1)]
)
@pytest.mark.cuda
@gpu
def test_reductions_stay_inside_their_result(op, shape, dim, rng):
    x = rng.standard_normal(shape)
    ref = getattr(np, op)(x, axis=dim)
    out_dtype = np.int64 if op == "argmax" else np.float64
    nbytes = int(np.prod(np.shape(ref), dtype=np.int64)) * 8
    xd = _dev(x)
    got = in_sentinel_block(
        lambda: _mod().reduce(op, xd, dim), nbytes, out_dtype, name=f"reduce {op}"
    )
    assert_close(got.numpy(), ref, atol=1e-12, rtol=1e-12, name=op)


# ---- optimizer steps: parameters and state written in place ----


def _guarded_lists(host_lists, pad):
    """Device copies of each array of each list, every one a view inside its own sentinel
    buffer; returns (device lists, checks)."""
    dev_lists, checks = [], []
    for arrays in host_lists:
        views = []
        for a in arrays:
            view, check = guarded_output(a.shape, a.dtype, pad=pad)
            view.copy_(a)
            views.append(view)
            checks.append(check)
        dev_lists.append(views)
    return dev_lists, checks


@pytest.mark.cuda
@gpu
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pad", [64, 33])
@pytest.mark.parametrize("name", ["sgd_step", "adam_step"])
def test_optimizer_steps_stay_inside_their_arrays(name, dtype, pad, rng):
    from fastnn import kernels as K
    from fastnn.cuda import kernels as ck

    sizes = [1, 7, 33, 257, 4099]
    params = [rng.standard_normal(n).astype(dtype) for n in sizes]
    states = [[np.zeros(n, dtype) for n in sizes] for _ in range(1 if name == "sgd_step" else 2)]
    (d_params, *d_states), checks = _guarded_lists([params, *states], pad)
    for step in range(1, 4):
        grads = [rng.standard_normal(n).astype(dtype) for n in sizes]
        d_grads = [cuda.from_numpy(g) for g in grads]
        if name == "sgd_step":
            kw = {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01, "first_step": step == 1}
        else:
            kw = {"lr": 0.01, "step": step, "weight_decay": 0.01}
        getattr(K, name)(params, grads, *states, **kw)
        getattr(ck, name)(d_params, d_grads, *d_states, **kw)
    tol = {"atol": 1e-5, "rtol": 1e-4} if dtype == np.float32 else {"atol": 1e-12, "rtol": 1e-10}
    got = [check(f"{name} array {i}") for i, check in enumerate(checks)]
    for i, p in enumerate(params):
        assert_close(got[i], p, **tol, name=f"{name} params[{i}]")


@pytest.mark.cuda
@gpu
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1,), (7, 3), (33, 257), (4099,)])
def test_bce_per_element_loss_stays_inside_its_result(dtype, shape, rng):
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    t = rng.random(shape).astype(dtype)
    dx, dt = _dev(x), _dev(t)
    nbytes = x.size * x.itemsize
    got = in_sentinel_block(
        lambda: _mod().binary_cross_entropy_with_logits(dx, dt, reduction="none"),
        nbytes,
        dtype,
        name="bce none",
    )
    x64, t64 = x.astype(np.float64), t.astype(np.float64)
    want = np.maximum(x64, 0) - x64 * t64 + np.log1p(np.exp(-np.abs(x64)))
    tol = {"atol": 1e-6, "rtol": 1e-5} if dtype == np.float32 else {"atol": 1e-12, "rtol": 1e-12}
    assert_close(got.numpy(), want, **tol, name="bce none")
