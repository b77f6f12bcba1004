"""Every CUDA kernel against its CPU twin (fastnn._C, itself tested against the float64 NumPy
oracles) on random inputs of awkward sizes, float32 and float64. Skipped without a GPU."""

import numpy as np
import pytest

from conftest import assert_close
from fastnn import _C, cuda
from fastnn import kernels as K

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA GPU"),
]

DTYPES = [np.float32, np.float64]
SIZES = [1, 2, 7, 33, 65, 257, 1000]
TOL = {np.float32: {"atol": 1e-5, "rtol": 1e-4}, np.float64: {"atol": 1e-12, "rtol": 1e-10}}


def cpu(name):
    fn = getattr(_C, name, None)
    if fn is None:
        pytest.skip(f"CPU kernel {name} not in this build")
    return fn


def dev(a):
    return cuda.from_numpy(a)


def host(d):
    return d.numpy()


def gpu(name):
    from fastnn.cuda import kernels as ck

    return getattr(ck, name)


# ---- activations ----

ELEMENTWISE = [
    ("relu", "relu_backward", "x", {}),
    ("leaky_relu", "leaky_relu_backward", "x", {"negative_slope": 0.2}),
    ("sigmoid", "sigmoid_backward", "y", {}),
    ("tanh", "tanh_backward", "y", {}),
    ("gelu", "gelu_backward", "x", {"approximate": "none"}),
    ("gelu", "gelu_backward", "x", {"approximate": "tanh"}),
    ("silu", "silu_backward", "x", {}),
    ("mish", "mish_backward", "x", {}),
    ("softplus", "softplus_backward", "x", {"beta": 1.5, "threshold": 7.0}),
    ("elu", "elu_backward", "x", {"alpha": 0.7, "scale": 1.3, "input_scale": 0.9}),
    ("hardtanh", "hardtanh_backward", "x", {"min_val": -1.5, "max_val": 2.5}),
    ("logsigmoid", "logsigmoid_backward", "x", {}),
]


@pytest.mark.parametrize(("fwd", "bwd", "needs", "kw"), ELEMENTWISE)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
def test_elementwise_activation(fwd, bwd, needs, kw, dtype, n, rng):
    x = (rng.standard_normal(n) * 4).astype(dtype)
    x[0] = 0.0
    g = rng.standard_normal(n).astype(dtype)
    y_ref = cpu(fwd)(x, **kw)
    y = gpu(fwd)(dev(x), **kw)
    assert_close(host(y), y_ref, **TOL[dtype], name=fwd)
    xy = x if needs == "x" else y_ref
    dx_ref = cpu(bwd)(g, xy, **kw)
    dx = gpu(bwd)(dev(g), dev(xy), **kw)
    assert_close(host(dx), dx_ref, **TOL[dtype], name=bwd)


def test_activation_out_and_in_place(rng):
    x = rng.standard_normal(100).astype(np.float32)
    d = dev(x)
    r = gpu("relu")(d, out=d)
    assert r is d
    assert_close(host(d), np.maximum(x, 0), atol=0, rtol=0)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (65, 33), (4, 1000), (2, 3000), (5, 2, 257)])
def test_softmax_family(name, dtype, shape, rng):
    x = (rng.standard_normal(shape) * 5).astype(dtype)
    x.reshape(-1)[0] = 80.0  # large logits stay finite
    g = rng.standard_normal(shape).astype(dtype)
    y_ref = cpu(name)(x)
    y = gpu(name)(dev(x))
    assert_close(host(y), y_ref, **TOL[dtype], name=name)
    dx_ref = cpu(name + "_backward")(g, y_ref)
    dx = gpu(name + "_backward")(dev(g), dev(y_ref))
    assert_close(host(dx), dx_ref, **TOL[dtype], name=name + "_backward")


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("shape", "dim"), [((7, 3), 0), ((2, 33, 5), 1), ((4, 1, 9), -2), ((3, 257, 2, 2), 1)]
)
def test_softmax_family_along_dim(name, dtype, shape, dim, rng):
    """Along an axis other than the last: the columns kernel, against the CPU's."""
    x = (rng.standard_normal(shape) * 5).astype(dtype)
    x.reshape(-1)[0] = -np.inf  # one -inf entry: its column still sums to one
    g = rng.standard_normal(shape).astype(dtype)
    y_ref = cpu(name)(x, dim=dim)
    assert_close(host(gpu(name)(dev(x), dim=dim)), y_ref, **TOL[dtype], name=name)
    dx_ref = cpu(name + "_backward")(g, y_ref, dim=dim)
    dx = gpu(name + "_backward")(dev(g), dev(y_ref), dim=dim)
    assert_close(host(dx), dx_ref, **TOL[dtype], name=name + "_backward")
    with pytest.raises(IndexError, match="dim 3 is out of range"):
        gpu(name)(dev(np.ones((2, 3), dtype)), dim=3)


# ---- losses ----


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("N", "C"), [(1, 1), (7, 3), (33, 10), (65, 1025), (3, 5000)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("variant", ["plain", "weight_smooth_ignore", "probs"])
def test_softmax_cross_entropy(dtype, N, C, reduction, variant, rng):
    logits = (rng.standard_normal((N, C)) * 3).astype(dtype)
    kw = {"reduction": reduction}
    if variant == "probs":
        t = rng.random((N, C)).astype(dtype)
        target = (t / t.sum(1, keepdims=True)).astype(dtype)
        kw["label_smoothing"] = 0.1
        kw["weight"] = rng.random(C).astype(dtype) + 0.5
    else:
        target = rng.integers(0, C, N).astype(np.int64)
        if variant == "weight_smooth_ignore":
            kw.update(weight=rng.random(C).astype(dtype) + 0.5, label_smoothing=0.2, ignore_index=0)
    ref_loss, ref_grad = cpu("softmax_cross_entropy")(logits, target, grad=True, **kw)
    dkw = {k: (dev(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    loss, grad = gpu("softmax_cross_entropy")(dev(logits), dev(target), grad=True, **dkw)
    tol = {"atol": 1e-5, "rtol": 1e-4} if dtype == np.float32 else {"atol": 1e-11, "rtol": 1e-9}
    assert_close(host(loss), ref_loss, **tol, name="loss")
    assert_close(host(grad), ref_grad, **tol, name="dlogits")
    loss_only = gpu("softmax_cross_entropy")(dev(logits), dev(target), **dkw)
    assert_close(host(loss_only), ref_loss, **tol, name="loss without grad")


def test_softmax_cross_entropy_int32_targets_and_bad_label(rng):
    logits = rng.standard_normal((5, 4)).astype(np.float32)
    target = np.array([0, 1, 2, 3, 1], np.int32)
    ref = cpu("softmax_cross_entropy")(logits, target)
    assert_close(
        host(gpu("softmax_cross_entropy")(dev(logits), dev(target))), ref, atol=1e-6, rtol=1e-5
    )
    bad = np.array([0, 1, 4, 3, 1], np.int64)
    loss = gpu("softmax_cross_entropy")(dev(logits), dev(bad))  # no host sync: reported later
    with pytest.raises(ValueError, match=r"target\[2\] = 4 is out of range"):
        host(loss)  # [note: deferred target check]
    assert host(gpu("relu")(dev(logits))).shape == (5, 4)  # the device is still usable


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1,), (7, 3), (65, 33)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weights", ["none", "full", "per_class", "pos"])
def test_bce_with_logits(dtype, shape, reduction, weights, rng):
    x = (rng.standard_normal(shape) * 6).astype(dtype)
    t = rng.random(shape).astype(dtype)
    kw = {"reduction": reduction}
    C = shape[-1]
    if weights == "full":
        kw["weight"] = rng.random(shape).astype(dtype)
    elif weights == "per_class":
        kw["weight"] = rng.random(C).astype(dtype)
    elif weights == "pos":
        kw["pos_weight"] = rng.random(C).astype(dtype) * 3
    ref_loss, ref_grad = cpu("binary_cross_entropy_with_logits")(x, t, grad=True, **kw)
    dkw = {k: (dev(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    loss, grad = gpu("binary_cross_entropy_with_logits")(dev(x), dev(t), grad=True, **dkw)
    assert_close(host(loss), ref_loss, **TOL[dtype], name="loss")
    assert_close(host(grad), ref_grad, **TOL[dtype], name="dlogits")


# ---- matmul ----


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("M", "N", "K"), [(1, 1, 1), (7, 33, 65), (65, 1, 257), (257, 129, 33), (300, 300, 300)]
)
@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
def test_matmul(dtype, M, N, K, trans_a, trans_b, rng):
    a = rng.standard_normal((K, M) if trans_a else (M, K)).astype(dtype)
    b = rng.standard_normal((N, K) if trans_b else (K, N)).astype(dtype)
    bias = rng.standard_normal(N).astype(dtype)
    c0 = rng.standard_normal((M, N)).astype(dtype)
    kw = {"trans_a": trans_a, "trans_b": trans_b, "alpha": 0.5, "beta": 2.0}
    ref = cpu("matmul")(a, b, out=c0.copy(), bias=bias, **kw)
    out = dev(c0)
    got = gpu("matmul")(dev(a), dev(b), out=out, bias=dev(bias), **kw)
    assert got is out
    tol = {"atol": 1e-4, "rtol": 1e-4} if dtype == np.float32 else {"atol": 1e-10, "rtol": 1e-10}
    assert_close(host(out), ref, **tol, name="matmul")
    plain = gpu("matmul")(dev(a), dev(b), trans_a=trans_a, trans_b=trans_b)
    assert_close(
        host(plain), cpu("matmul")(a, b, trans_a=trans_a, trans_b=trans_b), **tol, name="plain"
    )


@pytest.mark.parametrize("b_batched", [False, True])
def test_matmul_batched(b_batched, rng):
    a = rng.standard_normal((3, 17, 9)).astype(np.float32)
    b = rng.standard_normal((3, 9, 5) if b_batched else (9, 5)).astype(np.float32)
    assert_close(host(gpu("matmul")(dev(a), dev(b))), a @ b, atol=1e-4, rtol=1e-4)


def test_matmul_k_zero_and_errors(rng):
    a = np.zeros((3, 0), np.float32)
    b = np.zeros((0, 4), np.float32)
    bias = np.arange(4, dtype=np.float32)
    assert_close(
        host(gpu("matmul")(dev(a), dev(b), bias=dev(bias))), np.tile(bias, (3, 1)), atol=0, rtol=0
    )
    with pytest.raises(ValueError, match="inner dimensions"):
        gpu("matmul")(dev(np.zeros((2, 3), np.float32)), dev(np.zeros((4, 2), np.float32)))
    with pytest.raises(TypeError, match="same dtype"):
        gpu("matmul")(dev(np.zeros((2, 3), np.float32)), dev(np.zeros((3, 2))))


# ---- optimizers: 50 steps against the CPU kernels ----


def _lists(rng, dtype, shapes):
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


OPTIMS = [
    (
        "sgd_step",
        {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01},
        ["momentum_bufs"],
    ),
    (
        "sgd_step",
        {"lr": 0.1, "momentum": 0.9, "nesterov": True, "maximize": True},
        ["momentum_bufs"],
    ),
    ("adagrad_step", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1}, ["state_sums"]),
    (
        "rmsprop_step",
        {"lr": 0.01, "momentum": 0.5, "centered": True, "weight_decay": 0.1},
        ["square_avgs", "momentum_bufs", "grad_avgs"],
    ),
    ("adam_step", {"lr": 0.01, "weight_decay": 0.1}, ["exp_avgs", "exp_avg_sqs"]),
    (
        "adam_step",
        {"lr": 0.01, "weight_decay": 0.1, "decoupled": True, "amsgrad": True},
        ["exp_avgs", "exp_avg_sqs", "max_exp_avg_sqs"],
    ),
]


@pytest.mark.parametrize(("name", "hyper", "states"), OPTIMS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_optimizer_50_steps(name, hyper, states, dtype, rng):
    shapes = [(7,), (33, 65), (1,), (257,)]
    params = _lists(rng, dtype, shapes)
    state = {k: [np.zeros(s, dtype) for s in shapes] for k in states}
    d_params = [dev(p) for p in params]
    d_state = {k: [dev(a) for a in v] for k, v in state.items()}
    positional = states[:1] if name != "rmsprop_step" else ["square_avgs"]
    if name == "adam_step":
        positional = ["exp_avgs", "exp_avg_sqs"]
    for step in range(1, 51):
        grads = _lists(rng, dtype, shapes)
        kw = dict(hyper)
        if name in ("adagrad_step", "adam_step"):
            kw["step"] = step
        if name == "sgd_step":
            kw["first_step"] = step == 1
        extra = {k: state[k] for k in states if k not in positional}
        dextra = {k: d_state[k] for k in states if k not in positional}
        cpu(name)(params, grads, *[state[k] for k in positional], **kw, **extra)
        gpu(name)(
            d_params, [dev(g) for g in grads], *[d_state[k] for k in positional], **kw, **dextra
        )
    tol = {"atol": 1e-5, "rtol": 1e-4} if dtype == np.float32 else {"atol": 1e-12, "rtol": 1e-10}
    for p, d in zip(params, d_params):
        assert_close(host(d), p, **tol, name=f"{name} params after 50 steps")


def test_optimizer_validation():
    p = [dev(np.zeros(3, np.float32))]
    with pytest.raises(ValueError, match="Invalid learning rate"):
        gpu("adam_step")(p, p, p, p, lr=-1.0, step=1)
    with pytest.raises(ValueError, match="share memory"):
        gpu("adam_step")(
            p, p, [dev(np.zeros(3, np.float32))], [dev(np.zeros(3, np.float32))], lr=0.1, step=1
        )
    with pytest.raises(ValueError, match="shape"):
        gpu("sgd_step")(p, [dev(np.zeros(4, np.float32))], None, lr=0.1)
    with pytest.raises(TypeError):
        gpu("sgd_step")([np.zeros(3, np.float32)], p, None, lr=0.1)


# ---- elementwise / reductions (the Tensor backend's ops) ----


@pytest.mark.parametrize("dtype", DTYPES)
def test_unary_binary_where_clamp(dtype, rng):
    mod = cuda._require()
    a = rng.standard_normal((33, 1, 7)).astype(dtype)
    b = rng.standard_normal((5, 1)).astype(dtype) + 3
    da, db = dev(a), dev(b)
    tol = TOL[dtype]
    for op, ref in [
        ("add", a + b),
        ("sub", a - b),
        ("mul", a * b),
        ("div", a / b),
        ("maximum", np.maximum(a, b)),
        ("minimum", np.minimum(a, b)),
        ("pow", np.abs(a) ** b),
    ]:
        x = dev(np.abs(a)) if op == "pow" else da
        assert_close(host(mod.binary(op, x, db)), ref, **tol, name=op)
    for op, ref in [("lt", a < b), ("ge", a >= b), ("eq", a == b)]:
        np.testing.assert_array_equal(host(mod.binary(op, da, db)), ref)
    assert_close(host(mod.binary("sub", 2.0, da)), 2.0 - a, **tol)
    assert_close(host(mod.binary("mul", da, 3)), a * 3, **tol)
    for op, fn in [
        ("neg", np.negative),
        ("exp", np.exp),
        ("abs", np.abs),
        ("square", np.square),
        ("sign", np.sign),
        ("sin", np.sin),
        ("floor", np.floor),
    ]:
        assert_close(host(mod.unary(op, da)), fn(a), **tol, name=op)
    assert_close(host(mod.unary("sqrt", dev(np.abs(a)))), np.sqrt(np.abs(a)), **tol)
    assert_close(host(mod.unary("log", dev(np.abs(a) + 1))), np.log(np.abs(a) + 1), **tol)
    assert_close(host(mod.clamp(da, -0.5, 0.5)), np.clip(a, -0.5, 0.5), atol=0, rtol=0)
    cond = a > 0
    assert_close(host(mod.where(dev(cond), da, db)), np.where(cond, a, b), atol=0, rtol=0)
    with pytest.raises(ValueError, match="broadcast"):
        mod.binary("add", da, dev(np.zeros((4,), dtype)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize(
    "shape", [(1,), (1000,), (100_003,), (7, 33), (65, 1, 257), (3, 40_000), (40_000, 3)]
)
def test_reductions(dtype, shape, rng):
    mod = cuda._require()
    a = (rng.standard_normal(shape) * 100).astype(dtype)
    d = dev(a)
    tol = {"atol": 1e-3, "rtol": 1e-4} if dtype == np.float32 else {"atol": 1e-9, "rtol": 1e-10}
    for dim in [None, *range(len(shape)), -1]:
        axis = dim
        assert_close(
            host(mod.reduce("sum", d, dim)),
            a.sum(axis=axis, dtype=np.float64 if dtype != np.int64 else None),
            **tol,
            name=f"sum {dim}",
        )
        assert_close(
            host(mod.reduce("max", d, dim)), a.max(axis=axis), atol=0, rtol=0, name=f"max {dim}"
        )
        assert_close(
            host(mod.reduce("min", d, dim)), a.min(axis=axis), atol=0, rtol=0, name=f"min {dim}"
        )
        flat = a.reshape(-1) if dim is None else a
        np.testing.assert_array_equal(
            host(mod.reduce("argmax", d, dim)), np.argmax(flat, axis=axis)
        )
        np.testing.assert_array_equal(
            host(mod.reduce("argmin", d, dim)), np.argmin(flat, axis=axis)
        )
        if dtype != np.int64:
            assert_close(
                host(mod.reduce("mean", d, dim)),
                a.mean(axis=axis, dtype=np.float64),
                **tol,
                name=f"mean {dim}",
            )
    assert host(mod.reduce("sum", d, 0, True)).shape == (1, *shape[1:])


def test_reductions_nan_and_ties():
    mod = cuda._require()
    a = np.array([[1.0, 3.0, 3.0, np.nan, np.nan], [2.0, 2.0, 0.0, 2.0, -1.0]], np.float32)
    np.testing.assert_array_equal(host(mod.reduce("argmax", dev(a), 1)), [3, 0])
    assert np.isnan(host(mod.reduce("max", dev(a), 1))[0])
    b = np.array([5, 5, 1], np.int64)
    assert host(mod.reduce("argmax", dev(b), 0)) == 0
    assert host(mod.reduce("sum", dev(np.array([True, False, True])))) == 2


def test_permute_and_broadcast(rng):
    mod = cuda._require()
    a = rng.standard_normal((3, 4, 5)).astype(np.float32)
    np.testing.assert_array_equal(host(mod.permute(dev(a), [2, 0, 1])), a.transpose(2, 0, 1))
    b = rng.standard_normal((4, 1)).astype(np.float64)
    np.testing.assert_array_equal(
        host(mod.broadcast_to(dev(b), [2, 4, 3])), np.broadcast_to(b, (2, 4, 3))
    )


# ---- random numbers ----


def test_uniform_normal_reproducible_and_distributed():
    cuda.manual_seed(0)
    x = cuda.empty((1_000_003,), np.float32)
    gpu("uniform_")(x, -1.0, 3.0)
    u1 = host(x)
    gpu("normal_")(x, 2.0, 0.5)
    n1 = host(x)
    cuda.manual_seed(0)
    gpu("uniform_")(x, -1.0, 3.0)
    np.testing.assert_array_equal(host(x), u1)
    assert u1.min() >= -1.0 and u1.max() <= 3.0
    assert abs(u1.mean() - 1.0) < 0.01
    assert abs(n1.mean() - 2.0) < 0.005 and abs(n1.std() - 0.5) < 0.005
    y = cuda.empty((100_001,), np.float64)
    gpu("normal_")(y)
    assert abs(host(y).std() - 1.0) < 0.02


def test_uniform_matches_host_philox():
    from test_cuda_rng_dispatch import philox_reference

    x = cuda.empty((9,), np.float32)
    mod = cuda._require()
    mod.uniform_(x, 0.0, 1.0, 42, 7)
    words = [w for b in range(3) for w in philox_reference((7 + b, 0, 0, 0), (42, 0))][:9]
    expect = np.array([(w >> 8) * 2.0**-24 for w in words], np.float32)
    np.testing.assert_array_equal(host(x), expect)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout(dtype, rng):
    x = rng.standard_normal(10_007).astype(dtype)
    y, mask = gpu("dropout")(dev(x), 0.3, seed=5, offset=0)
    m = host(mask).astype(bool)
    assert abs(m.mean() - 0.7) < 0.02
    assert_close(host(y), np.where(m, x / 0.7, 0), **TOL[dtype])
    _y2, mask2 = gpu("dropout")(dev(x), 0.3, seed=5, offset=0)
    np.testing.assert_array_equal(host(mask2), host(mask))
    g = rng.standard_normal(10_007).astype(dtype)
    assert_close(
        host(gpu("dropout_backward")(dev(g), mask, 0.3)), np.where(m, g / 0.7, 0), **TOL[dtype]
    )
    y1, m1 = gpu("dropout")(dev(x), 1.0)
    assert not host(y1).any() and not host(m1).any()


@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_mask_matches_cpu_kernel(dtype, rng):
    x = rng.standard_normal((33, 257)).astype(dtype)
    _, mask = gpu("dropout")(dev(x), 0.4, seed=123456789, offset=17)
    _, cpu_mask = K.dropout(x, 0.4, 123456789, 17)
    np.testing.assert_array_equal(host(mask), cpu_mask)


# ---- dispatch from fastnn.kernels ----


def test_fastnn_kernels_dispatches_device_arrays(rng):
    if not hasattr(K, "relu"):
        pytest.skip("CPU relu not in this build")
    x = rng.standard_normal(50).astype(np.float32)
    y = K.relu(dev(x))
    assert cuda.is_device_array(y)
    assert_close(host(y), K.relu(x), atol=0, rtol=0)


def test_mixing_host_and_device_arrays_is_an_error(rng):
    if not hasattr(K, "relu_backward"):
        pytest.skip("CPU relu_backward not in this build")
    x = rng.standard_normal(5).astype(np.float32)
    with pytest.raises(TypeError, match="DeviceArray"):
        K.relu_backward(dev(x), x)


def test_int64_index_math_past_2_31_elements():
    n = (1 << 31) + 10  # 8.6 GB of float32: indices past INT32_MAX must address correctly
    try:
        x = cuda.zeros((n,), np.float32)
    except RuntimeError:
        pytest.skip("not enough GPU memory")
    x.narrow0(n - 2, n - 1).fill_(5.0)
    mod = cuda._require()
    assert int(host(mod.reduce("argmax", x))) == n - 2
    y = gpu("relu")(x.narrow0(n - 4, n))
    np.testing.assert_array_equal(host(y), [0, 0, 5, 0])
    del x, y
    cuda.empty_cache()


# ---- normalization ----

NORM_TOL = {np.float32: {"atol": 1e-4, "rtol": 1e-4}, np.float64: {"atol": 1e-10, "rtol": 1e-10}}


def _norm_pair(name, args, dev_args, **kw):
    """The CPU and GPU results of one normalization kernel, the GPU ones copied back."""
    want = cpu(name)(*args, **kw)
    got = gpu(name)(*dev_args, **kw)
    return want, [None if g is None else host(g) for g in got]


def _close_all(want, got, dtype, name):
    for i, (w, g) in enumerate(zip(want, got)):
        assert (w is None) == (g is None), f"{name}[{i}]"
        if w is not None:
            assert_close(g, w, **NORM_TOL[dtype], name=f"{name}[{i}]")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(7, 33), (2, 7, 1), (3, 5, 33), (2, 3, 7, 9), (1100, 2)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm(shape, training, dtype, rng):
    c = shape[1]
    x = (rng.standard_normal(shape) * 2 + 5).astype(dtype)
    w, b = rng.standard_normal(c).astype(dtype), rng.standard_normal(c).astype(dtype)
    rm, rv = rng.standard_normal(c).astype(dtype), rng.uniform(0.5, 2, c).astype(dtype)
    drm, drv = dev(rm), dev(rv)
    kw = {"training": training, "momentum": 0.3, "eps": 1e-5}
    want, got = _norm_pair(
        "batch_norm", (x, w, b, rm, rv), (dev(x), dev(w), dev(b), drm, drv), **kw
    )
    _close_all(want, got, dtype, "batch_norm")
    _close_all([rm, rv], [host(drm), host(drv)], dtype, "running stats")
    g = rng.standard_normal(shape).astype(dtype)
    m, r = want[1], want[2]
    want, got = _norm_pair(
        "batch_norm_backward",
        (g, x, w, m, r),
        (dev(g), dev(x), dev(w), dev(m), dev(r)),
        training=training,
    )
    _close_all(want, got, dtype, "batch_norm_backward")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,ns", [((7, 33), (33,)), ((5, 1), (1,)), ((2, 5000), (5000,)),
                                      ((3, 4, 257), (4, 257))])  # fmt: skip
def test_layer_norm(shape, ns, dtype, rng):
    x = (rng.standard_normal(shape) - 3).astype(dtype)
    w, b = rng.standard_normal(ns).astype(dtype), rng.standard_normal(ns).astype(dtype)
    want, got = _norm_pair("layer_norm", (x, ns, w, b, 1e-5), (dev(x), ns, dev(w), dev(b), 1e-5))
    _close_all(want, got, dtype, "layer_norm")
    g = rng.standard_normal(shape).astype(dtype)
    m, r = want[1], want[2]
    want, got = _norm_pair(
        "layer_norm_backward", (g, x, ns, w, m, r), (dev(g), dev(x), ns, dev(w), dev(m), dev(r))
    )
    _close_all(want, got, dtype, "layer_norm_backward")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,groups", [((3, 6, 5, 7), 3), ((2, 4), 2), ((1, 33, 7), 11)])
def test_group_norm(shape, groups, dtype, rng):
    c = shape[1]
    x = (rng.standard_normal(shape) + 2).astype(dtype)
    w, b = rng.standard_normal(c).astype(dtype), rng.standard_normal(c).astype(dtype)
    want, got = _norm_pair(
        "group_norm", (x, groups, w, b, 1e-5), (dev(x), groups, dev(w), dev(b), 1e-5)
    )
    _close_all(want, got, dtype, "group_norm")
    g = rng.standard_normal(shape).astype(dtype)
    m, r = want[1], want[2]
    want, got = _norm_pair(
        "group_norm_backward",
        (g, x, groups, w, m, r),
        (dev(g), dev(x), groups, dev(w), dev(m), dev(r)),
    )
    _close_all(want, got, dtype, "group_norm_backward")


def test_norm_bad_arguments():
    x = dev(np.ones((4, 3), np.float32))
    with pytest.raises(ValueError, match="num_groups"):
        gpu("group_norm")(x, 2)
    with pytest.raises(ValueError, match="training=False"):
        gpu("batch_norm")(x, training=False)
    with pytest.raises(TypeError, match="float64"):
        gpu("batch_norm_backward")(x, x, None, dev(np.ones(3, np.float32)), dev(np.ones(3)))
