"""Robustness of fastnn.kernels against bad input: hypothesis-generated arguments (dtypes, shapes,
strides, companions, hyperparameters) must give a correct result or a TypeError/ValueError naming
the function, never a crash, a vague error or a silent change of the inputs."""

import numpy as np
import pytest

from fastnn import kernels as K

# ---- regressions: inputs that once crashed a kernel ----------------------------------------------


@pytest.mark.parametrize("fn", ["im2col", "col2im"])
def test_conv_output_size_overflow_is_value_error(fn):
    # padding 2**31-1 on a 2x2 input: Ho = Wo = 2**32, Ho*Wo wrapped to 0 and the kernel overran a
    # zero-size array (segfault).
    x = np.ones((1, 1, 2, 2), np.float32)
    with pytest.raises(ValueError, match=f"{fn}: the output size .* too large"):
        if fn == "im2col":
            K.im2col(x, 1, padding=2**31 - 1)
        else:
            K.col2im(np.ones((1, 1, 0), np.float32), (1, 1, 2, 2), 1, padding=2**31 - 1)


@pytest.mark.parametrize("value", [2**63, -(2**70), 2**200])
def test_conv_int_beyond_64_bits_is_value_error(value):
    # Was pybind11's RuntimeError "Unable to cast Python instance of type int to C++ type".
    x = np.ones((1, 1, 4, 4), np.float64)
    with pytest.raises(ValueError, match="im2col: argument 'kernel_size' = .* out of range"):
        K.im2col(x, value)
    with pytest.raises(ValueError, match="max_pool2d: argument 'padding' = .* out of range"):
        K.max_pool2d(x, 2, padding=(0, value))
    with pytest.raises(ValueError, match="col2im: argument 'input_shape' = .* out of range"):
        K.col2im(np.ones((1, 1, 16)), (1, 1, 4, value), 1)


# ---- hypothesis fuzzing ----------------------------------------------------------------------------

import math
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fastnn
import reference as ref

# CI runs a fixed set of examples (derandomize), so a red build always means a code change;
# local runs explore new examples each time (raise FASTNN_FUZZ_EXAMPLES for a deeper search).
FUZZ = settings(
    max_examples=int(os.environ.get("FASTNN_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=os.environ.get("CI") == "true",
    database=None if os.environ.get("CI") == "true" else settings.default.database,
)

DTYPES = [np.float32, np.float64] * 6 + [
    np.float16,
    np.int32,
    np.int64,
    np.bool_,
    np.complex64,
    object,
]
VIEWS = ["plain"] * 12 + [
    "step",
    "transpose",
    "negative",
    "broadcast",
    "readonly",
    "unaligned",
    "fortran",
]


def _view(a, kind):
    """`a` (or an array equal to it) seen through an awkward memory layout."""
    if kind == "step" and a.ndim:
        big = np.repeat(a, 2, axis=-1)
        return big[..., ::2]
    if kind == "transpose" and a.ndim >= 2:
        return np.ascontiguousarray(np.swapaxes(a, -1, -2)).swapaxes(-1, -2)
    if kind == "negative" and a.ndim:
        return np.ascontiguousarray(a[..., ::-1])[..., ::-1]
    if kind == "broadcast" and a.ndim and a.size:
        return np.broadcast_to(a[..., :1], a.shape)
    if kind == "readonly":
        b = np.array(a)
        b.flags.writeable = False
        return b
    if kind == "unaligned" and a.dtype != object:
        buf = np.zeros(a.nbytes + 1, np.uint8)
        b = buf[1:].view(a.dtype).reshape(a.shape) if a.nbytes else a.copy()
        b[...] = a
        return b
    if kind == "fortran":
        return np.asfortranarray(a)
    return a


@st.composite
def arrays(draw, shape=None, dtype=None, ndim=None):
    if shape is None:
        nd = draw(st.integers(0, 4)) if ndim is None else ndim
        shape = tuple(draw(st.lists(st.integers(0, 5), min_size=nd, max_size=nd)))
    dt = np.dtype(draw(st.sampled_from(DTYPES)) if dtype is None else dtype)
    seed = draw(st.integers(0, 2**32 - 1))
    vals = np.asarray(np.random.default_rng(seed).standard_normal(shape)) * draw(
        st.sampled_from([1, 3, 1e4])
    )
    a = np.asarray(vals.astype(dt))
    return _view(a, draw(st.sampled_from(VIEWS)))


JUNK = st.sampled_from([None, [1.0, 2.0], 3, 2.5, "x", (1, 2), {}, float("nan")])


def maybe_junk(draw, strategy, p=0.1):
    return draw(JUNK) if draw(st.integers(0, 99)) < p * 100 else draw(strategy)


def companion(draw, like, exact=0):
    """Mostly an array like `like` (same shape and dtype), sometimes a mismatch or junk; with
    `exact` > 0, that many times more often a plain fresh array like it."""
    r = draw(st.integers(0, 9 + exact))
    if r > 9 and isinstance(like, np.ndarray) and like.dtype != object:
        return np.abs(np.random.default_rng(r).standard_normal(like.shape)).astype(like.dtype)
    if r == 0:
        return draw(JUNK)
    if r == 1:
        return draw(arrays())
    if r == 2:
        return draw(arrays(shape=like.shape))
    return draw(arrays(shape=like.shape, dtype=like.dtype))


VALID_HYPER = st.sampled_from([0.0, 0.01, 0.1, 0.5, 0.9])
HYPER = st.one_of(
    VALID_HYPER,
    VALID_HYPER,
    VALID_HYPER,
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([-1.0, 1.0]),
)


def _snapshot(args, kwargs):
    out = []
    for v in (*args, *kwargs.values()):
        for a in v if isinstance(v, (list, tuple)) else [v]:
            if isinstance(a, np.ndarray) and a.dtype != object:
                out.append((a, a.copy()))
    return out


FAILED = object()  # _call's result after an accepted error


def _call(fn_name, *args, **kwargs):
    """Call fastnn.kernels.<fn_name>; returns the result, or FAILED after an accepted error.

    Any other exception fails the test; a failed call must not have changed any input array."""
    snap = _snapshot(args, kwargs)
    try:
        r = getattr(K, fn_name)(*args, **kwargs)
        return r
    except (TypeError, ValueError, NotImplementedError) as e:
        assert fn_name in str(e), f"{fn_name}: error message does not name the function: {e!r}"
        for a, before in snap:
            assert np.array_equal(a, before, equal_nan=True), (
                f"{fn_name} changed an input and failed"
            )
        return FAILED


def _valid_float(*arrs):
    return (
        all(
            isinstance(a, np.ndarray)
            and a.dtype in (np.float32, np.float64)
            and a.flags.c_contiguous
            for a in arrs
        )
        and len({a.dtype for a in arrs}) == 1
    )


def _tol(a):
    return dict(atol=1e-5, rtol=1e-4) if a.dtype == np.float32 else dict(atol=1e-11, rtol=1e-9)


def _close(actual, expected, like, scale=1.0):
    """scale: the magnitude of the terms the kernel adds (for cancellation-prone formulas)."""
    tol = _tol(like)
    tol["atol"] *= max(1.0, scale)
    with np.errstate(all="ignore"):
        from conftest import assert_close

        expected = np.asarray(expected, np.float64)
        if np.asarray(like).dtype == np.float32:  # beyond float32's range the exact result is inf
            rounded = expected.astype(np.float32).astype(np.float64)
            expected = np.where(np.isinf(rounded), rounded, expected)
        assert_close(actual, expected, **tol)


UNARY = ["relu", "leaky_relu", "sigmoid", "tanh", "gelu", "softmax", "log_softmax"]
BACKWARD = {
    "relu_backward": "x",
    "leaky_relu_backward": "x",
    "sigmoid_backward": "y",
    "tanh_backward": "y",
    "gelu_backward": "x",
    "softmax_backward": "y",
    "log_softmax_backward": "y",
}


def _act_kwargs(draw, name):
    kw = {}
    if name.startswith("leaky") and draw(st.booleans()):
        kw["negative_slope"] = maybe_junk(draw, HYPER)
    if name.startswith("gelu") and draw(st.booleans()):
        kw["approximate"] = maybe_junk(draw, st.sampled_from(["none", "tanh", "TANH", ""]), 0.3)
    return kw


def _out(draw, like, inputs):
    r = draw(st.integers(0, 5))
    if r == 0 or not isinstance(like, np.ndarray):
        return {}
    if r == 1:
        return {"out": draw(st.sampled_from(inputs))}  # in place
    if r == 2:
        return {"out": companion(draw, like)}
    if r == 3 and isinstance(like, np.ndarray) and like.ndim and like.size > 1:
        return {"out": like[..., ::-1]}  # overlapping, reversed
    return {"out": np.empty_like(like) if like.dtype != object else np.empty(like.shape)}


def _scalar_kw(kw):
    return {k: v for k, v in kw.items() if k != "out"}


@FUZZ
@given(st.data())
def test_fuzz_unary_activations(data):
    name = data.draw(st.sampled_from(UNARY))
    x = maybe_junk(data.draw, arrays())
    kw = _act_kwargs(data.draw, name)
    kw.update(_out(data.draw, x, [x]))
    x0 = x.copy() if isinstance(x, np.ndarray) else None
    y = _call(name, x, **kw)
    if y is FAILED:
        return
    assert _valid_float(x0), f"{name} accepted {x0!r}"
    slope = kw.get("negative_slope", 0.01)
    if isinstance(slope, float) and math.isnan(slope):
        pytest.fail(f"{name} accepted negative_slope=nan")
    if x0.size == 0:
        assert y.shape == x0.shape and y.dtype == x0.dtype
        return
    _close(y, getattr(ref, name)(x0, **_scalar_kw(kw)), x0)


@FUZZ
@given(st.data())
def test_fuzz_backward_activations(data):
    name = data.draw(st.sampled_from(sorted(BACKWARD)))
    g = maybe_junk(data.draw, arrays())
    other = companion(data.draw, g) if isinstance(g, np.ndarray) else data.draw(arrays())
    if name.startswith(("sigmoid", "tanh", "softmax", "log_softmax")) and _valid_float(g, other):
        fwd = {"sigmoid": K.sigmoid, "tanh": K.tanh}.get(name.split("_backward")[0])
        if name.startswith("softmax") and other.ndim:
            other = K.softmax(other)
        elif name.startswith("log_softmax") and other.ndim:
            other = K.log_softmax(other)
        elif fwd is not None:
            other = fwd(other)
    kw = _act_kwargs(data.draw, name)
    kw.update(_out(data.draw, g, [g, other]))
    g0 = g.copy() if isinstance(g, np.ndarray) else None
    o0 = other.copy() if isinstance(other, np.ndarray) else None
    dx = _call(name, g, other, **kw)
    if dx is FAILED:
        return
    assert _valid_float(g0, o0) and g0.shape == o0.shape, f"{name} accepted bad input"
    if g0.size == 0:
        assert dx.shape == g0.shape and dx.dtype == g0.dtype
        return
    # softmax backward computes y * (g - sum(g * y)): when one y is ~1 the difference cancels,
    # so float32 is only accurate to eps * max|g| in absolute terms.
    scale = float(np.nanmax(np.abs(g0))) if name.startswith(("softmax", "log_softmax")) else 1.0
    _close(dx, getattr(ref, name)(g0, o0, **_scalar_kw(kw)), g0, scale)


@FUZZ
@given(st.data())
def test_fuzz_matmul(data):
    m, k, n = (data.draw(st.integers(0, 6)) for _ in range(3))
    batch = data.draw(st.sampled_from([None, None, 0, 1, 3]))
    dt = data.draw(st.sampled_from([np.float32, np.float64, np.float32, np.int64, np.float16]))
    ta, tb = data.draw(st.booleans()), data.draw(st.booleans())
    sa = (k, m) if ta else (m, k)
    sb = (n, k) if tb else (k, n)
    if batch is not None:
        sa = (batch, *sa)
        sb = (batch, *sb) if data.draw(st.booleans()) else sb
    a = maybe_junk(data.draw, arrays(shape=sa, dtype=dt), 0.05)
    b = (
        data.draw(arrays(shape=sb, dtype=dt))
        if data.draw(st.integers(0, 5))
        else data.draw(arrays())
    )
    kw = {"trans_a": ta, "trans_b": tb}
    if data.draw(st.booleans()):
        kw["alpha"] = data.draw(st.sampled_from([1.0, 0.0, -2.5]))
    if data.draw(st.booleans()):
        kw["bias"] = data.draw(st.one_of(arrays(shape=(n,), dtype=dt), arrays(), JUNK))
    oshape = ((batch,) if batch is not None else ()) + (m, n)
    if data.draw(st.booleans()):
        kw["out"] = data.draw(st.one_of(arrays(shape=oshape, dtype=dt), arrays(), JUNK))
        if data.draw(st.booleans()):
            kw["beta"] = data.draw(st.sampled_from([0.0, 1.0, -0.5]))
    elif data.draw(st.integers(0, 5)) == 0:
        kw["beta"] = 1.0
    snap = {k_: (v.copy() if isinstance(v, np.ndarray) else v) for k_, v in kw.items()}
    a0 = a.copy() if isinstance(a, np.ndarray) else a
    b0 = b.copy() if isinstance(b, np.ndarray) else b
    c = _call("matmul", a, b, **kw)
    if c is FAILED:
        return
    assert isinstance(a0, np.ndarray) and a0.dtype in (np.float32, np.float64)
    expect = ref.matmul(a0, b0, **snap)
    _close(c, expect, a0)


@FUZZ
@given(st.data())
def test_fuzz_softmax_cross_entropy(data):
    n, c = data.draw(st.integers(0, 5)), data.draw(st.integers(0, 5))
    dt = data.draw(st.sampled_from([np.float32, np.float64, np.float16]))
    logits = maybe_junk(data.draw, st.one_of(arrays(shape=(n, c), dtype=dt), arrays()), 0.05)
    kind = data.draw(st.sampled_from(["i64", "i32", "prob", "junk"]))
    if kind == "prob":
        target = data.draw(arrays(shape=(n, c), dtype=dt))
    elif kind == "junk":
        target = data.draw(st.one_of(arrays(), JUNK))
    else:
        hi = max(c, 1) + data.draw(st.sampled_from([0, 0, 0, 1]))
        t = np.random.default_rng(n * 7 + c).integers(-1 if hi > c else 0, hi, n)
        target = _view(
            t.astype(np.int64 if kind == "i64" else np.int32), data.draw(st.sampled_from(VIEWS))
        )
    kw = {"grad": data.draw(st.booleans())}
    if data.draw(st.booleans()):
        kw["reduction"] = data.draw(st.sampled_from(["mean", "sum", "none", "avg", None]))
    if data.draw(st.booleans()):
        kw["label_smoothing"] = data.draw(st.one_of(HYPER, st.sampled_from([0.1, 1.0])))
    if data.draw(st.booleans()):
        kw["ignore_index"] = data.draw(st.sampled_from([-100, -1, 0, 2**62, 2**64, 1.5]))
    if data.draw(st.booleans()):
        kw["weight"] = data.draw(st.one_of(arrays(shape=(c,), dtype=dt), arrays(), JUNK))
    res = _call("softmax_cross_entropy", logits, target, **kw)
    if res is FAILED:
        return
    loss, dz = res if kw["grad"] else (res, None)
    rk = {k_: v for k_, v in kw.items() if k_ != "grad"}
    e_loss, e_grad = ref.softmax_cross_entropy(logits, target, **rk)
    _close(loss, e_loss, logits)
    if dz is not None:
        _close(dz, e_grad, logits)


@FUZZ
@given(st.data())
def test_fuzz_binary_cross_entropy(data):
    x = maybe_junk(data.draw, arrays(dtype=data.draw(st.sampled_from([np.float32, np.float64]))))
    t = companion(data.draw, x) if isinstance(x, np.ndarray) else data.draw(arrays())
    if _valid_float(t) and t.dtype != object:
        t = np.clip(np.abs(t), 0, 1).astype(t.dtype) if t.flags.writeable else t
    kw = {"grad": data.draw(st.booleans())}
    c = x.shape[-1] if isinstance(x, np.ndarray) and x.ndim else 1
    for name in ("weight", "pos_weight"):
        # (a (1,) weight on 0-d logits broadcasts to (1,) in numpy; fastnn keeps logits' shape)
        if data.draw(st.booleans()) and getattr(x, "ndim", 1):
            kw[name] = data.draw(
                st.one_of(arrays(shape=(c,), dtype=getattr(x, "dtype", None)), arrays(), JUNK)
            )
    if data.draw(st.booleans()):
        kw["reduction"] = data.draw(st.sampled_from(["mean", "sum", "none", "MEAN"]))
    res = _call("binary_cross_entropy_with_logits", x, t, **kw)
    if res is FAILED:
        return
    loss, dz = res if kw["grad"] else (res, None)
    rk = {k_: v for k_, v in kw.items() if k_ != "grad"}
    e_loss, e_grad = ref.binary_cross_entropy_with_logits(x, t, **rk)
    # float32 keeps the error of the terms it adds: (pos_)weight times the logits for the loss
    # (summed over every element for 'sum'), (pos_)weight for the gradient.
    weights = [
        float(np.abs(w).max())
        for w in (kw.get("weight"), kw.get("pos_weight"))
        if w is not None and np.size(w)
    ]
    grad_scale = float(np.prod([max(1.0, w) for w in weights]))
    terms = (1 + float(np.abs(x).max(initial=0))) * (x.size if rk.get("reduction") == "sum" else 1)
    _close(loss, e_loss, x, grad_scale * terms)
    if dz is not None:
        _close(dz, e_grad, x, grad_scale)


OPTIM = {
    "sgd_step": (
        ["momentum_bufs"],
        {
            "lr": HYPER,
            "momentum": HYPER,
            "dampening": HYPER,
            "weight_decay": HYPER,
            "nesterov": st.booleans(),
            "first_step": st.booleans(),
        },
    ),
    "adagrad_step": (
        ["state_sums"],
        {
            "lr": HYPER,
            "lr_decay": HYPER,
            "eps": HYPER,
            "weight_decay": HYPER,
            "step": st.integers(-2, 5),
        },
    ),
    "rmsprop_step": (
        ["square_avgs"],
        {"lr": HYPER, "alpha": HYPER, "eps": HYPER, "momentum": HYPER, "centered": st.booleans()},
    ),
    "adam_step": (
        ["exp_avgs", "exp_avg_sqs"],
        {
            "lr": HYPER,
            "beta1": HYPER,
            "beta2": HYPER,
            "eps": HYPER,
            "weight_decay": HYPER,
            "amsgrad": st.booleans(),
            "decoupled": st.booleans(),
            "step": st.integers(-2, 2**62),
        },
    ),
}


@FUZZ
@given(st.data())
def test_fuzz_optimizer_steps(data):
    name = data.draw(st.sampled_from(sorted(OPTIM)))
    state_names, hyper = OPTIM[name]
    dt = data.draw(st.sampled_from([np.float32, np.float64, np.float32, np.int64]))
    count = data.draw(st.integers(0, 3))
    params = [
        data.draw(arrays(dtype=dt) if data.draw(st.integers(0, 3)) else arrays())
        for _ in range(count)
    ]
    if count and data.draw(st.integers(0, 4)) == 0:
        params.append(params[0])  # the same parameter twice
    lists = [params, [companion(data.draw, p, 20) for p in params]]
    lists += [[companion(data.draw, p, 20) for p in params] for _ in state_names]
    if data.draw(st.integers(0, 6)) == 0:
        lists[data.draw(st.integers(0, len(lists) - 1))] = data.draw(JUNK)
    kw = {
        k_: data.draw(v)
        for k_, v in hyper.items()
        if k_ in ("lr", "step") or data.draw(st.booleans())
    }
    kw.setdefault("lr", 0.1)
    for extra, flag in (
        ("momentum_bufs", "momentum"),
        ("max_exp_avg_sqs", "amsgrad"),
        ("grad_avgs", "centered"),
    ):
        if flag in kw and name != "sgd_step" and kw[flag]:
            kw[extra] = [companion(data.draw, p, 20) for p in params]
    if name == "sgd_step" and kw.get("momentum", 0) == 0 and data.draw(st.booleans()):
        lists[2] = None
    copies = [
        [a.copy() if isinstance(a, np.ndarray) else a for a in lst]
        if isinstance(lst, list)
        else lst
        for lst in lists
    ]
    extra = {
        k_: [a.copy() if isinstance(a, np.ndarray) else a for a in v]
        for k_, v in kw.items()
        if isinstance(v, list)
    }
    if _call(name, *lists, **kw) is FAILED:
        return
    if any(isinstance(v, float) and not abs(v) <= 10 for v in kw.values()):
        return  # accepted (as torch does), but float32 overflows where the float64 oracle does not
    # Succeeded: the same step on float64 copies of the inputs must give the same arrays.
    f64 = [
        [np.asarray(a, np.float64) for a in lst] if isinstance(lst, list) else lst for lst in copies
    ]
    kw64 = dict(kw, **{k_: [np.asarray(a, np.float64) for a in v] for k_, v in extra.items()})
    with np.errstate(all="ignore"):
        getattr(ref, name)(*f64, **kw64)
    # An update p - lr * g of large terms that nearly cancel keeps float32's error of the terms.
    terms = [a for lst in copies if isinstance(lst, list) for a in lst if isinstance(a, np.ndarray)]
    hypers = [abs(v) for v in kw.values() if isinstance(v, float)]
    scale = max([float(np.abs(a).max()) for a in terms if a.size] or [1.0]) * max([1.0, *hypers])
    for lst, want in zip(lists, f64):
        for a, e in zip(lst or [], want or []):
            _close(a, e, a, scale)
    for k_ in extra:
        for a, e in zip(kw[k_], kw64[k_]):
            _close(a, e, a, scale)


@FUZZ
@given(st.data())
def test_fuzz_conv(data):
    name = data.draw(st.sampled_from(["im2col", "col2im", "max_pool2d", "max_pool2d_backward"]))
    dt = data.draw(st.sampled_from([np.float32, np.float64, np.float64, np.int32]))
    shape = tuple(data.draw(st.integers(0, 4)) for _ in range(4))
    param = st.one_of(
        st.integers(-2, 4),
        st.tuples(st.integers(-1, 4), st.integers(-1, 4)),
        st.sampled_from([2**31, 2**40, -(2**40), True, 1.0, "2", None, (1, 2, 3)]),
    )
    k = data.draw(st.one_of(st.integers(1, 3), param))
    s = data.draw(st.one_of(st.just(1), param))
    p = data.draw(st.one_of(st.just(0), param))
    d = data.draw(st.one_of(st.just(1), param))
    x = maybe_junk(
        data.draw, arrays(shape=shape, dtype=dt) if data.draw(st.integers(0, 5)) else arrays(), 0.05
    )
    if name == "im2col":
        y = _call(name, x, k, s, p, d, ones_row=data.draw(st.booleans()))
        if y is not FAILED and x.size:
            pk = [v if isinstance(v, tuple) else (v, v) for v in (k, s, p, d)]
            _close(
                y[:, : y.shape[1] - (y.shape[1] - shape[1] * pk[0][0] * pk[0][1])],
                ref.im2col(x, *pk)[:, : shape[1] * pk[0][0] * pk[0][1]],
                x,
            )
    elif name == "col2im":
        cols = data.draw(st.one_of(arrays(ndim=3, dtype=dt), JUNK))
        in_shape = data.draw(
            st.one_of(st.just(shape), st.lists(param, min_size=0, max_size=5), JUNK)
        )
        _call(name, cols, in_shape, k, s, p, d)
    elif name == "max_pool2d":
        stride = s if data.draw(st.booleans()) else None
        res = _call(name, x, k, stride, p, d)
        if res is not FAILED and x.size:
            pk = [
                v if isinstance(v, tuple) else (v, v) for v in (k, k if stride is None else s, p, d)
            ]
            e_out, e_idx = ref.max_pool2d(x, *pk)
            _close(res[0], e_out, x)
            np.testing.assert_array_equal(res[1], e_idx)
    else:
        g = x
        idx = data.draw(
            st.one_of(arrays(shape=getattr(g, "shape", (1,)), dtype=np.int64), arrays(), JUNK)
        )
        if isinstance(idx, np.ndarray) and idx.dtype == np.int64 and idx.flags.writeable:
            idx = np.abs(idx) % 20
        in_shape = data.draw(
            st.one_of(
                st.just((*getattr(g, "shape", (1, 1, 1, 1))[:2], 4, 5)),
                st.lists(param, min_size=0, max_size=5),
                JUNK,
            )
        )
        dx = _call(name, g, idx, in_shape)
        if dx is not FAILED and g.size:
            _close(dx, ref.max_pool2d_backward(g, idx, tuple(in_shape)), g)


@FUZZ
@given(st.data())
def test_fuzz_wrong_types_everywhere(data):
    """Every public kernel with junk for each positional argument: TypeError/ValueError only."""
    names = [n for n in K.__all__ if n not in ("detected_isa", "get_isa", "supported_isas")]
    name = data.draw(st.sampled_from(names))
    nargs = data.draw(st.integers(0, 5))
    args = [
        data.draw(st.one_of(JUNK, arrays(), st.builds(lambda: fastnn.ones(2, 3))))
        for _ in range(nargs)
    ]
    _call(name, *args)
