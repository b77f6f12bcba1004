"""Activation kernels (fastnn.kernels) vs the float64 references in tests/reference.py."""

import numpy as np
import pytest

import reference as ref
from conftest import assert_close
from fastnn import kernels as K

# name -> (forward kwargs, backward takes 'x' or 'y')
ELEMENTWISE = {
    "relu": ({}, "x"),
    "leaky_relu": ({"negative_slope": 0.2}, "x"),
    "sigmoid": ({}, "y"),
    "tanh": ({}, "y"),
    "exp": ({}, "y"),
    "sqrt": ({}, "y"),
    "log": ({}, "x"),
    "sin": ({}, "x"),
    "cos": ({}, "x"),
    "erf": ({}, "x"),
    "arctan": ({}, "x"),
    "log1p": ({}, "x"),
    "expm1": ({}, "x"),
    "rsqrt": ({}, "y"),
    "gelu": ({"approximate": "none"}, "x"),
    "gelu_tanh": ({"approximate": "tanh"}, "x"),
}
ALL = [*ELEMENTWISE, "softmax", "log_softmax"]
TOL = {np.float32: dict(atol=2e-6, rtol=2e-5), np.float64: dict(atol=1e-13, rtol=1e-12)}
SIZES = [1, 2, 7, 15, 16, 17, 31, 33, 65, 257, 1000]


def fns(name):
    base = "gelu" if name == "gelu_tanh" else name
    kw = ELEMENTWISE[name][0] if name in ELEMENTWISE else {}
    return (
        getattr(K, base),
        getattr(K, base + "_backward"),
        getattr(ref, base),
        getattr(ref, base + "_backward"),
        kw,
    )


def sample(rng, shape, dtype, scale=4.0):
    return (rng.standard_normal(shape) * scale).astype(dtype)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_backward_vs_reference(name, dtype, isa, rng):
    fwd, bwd, rfwd, rbwd, kw = fns(name)
    shapes = [(n,) for n in SIZES] + [(3, 5, 7), (2, 33), (65, 17)]
    for shape in shapes:
        x = sample(rng, shape, dtype)
        g = sample(rng, shape, dtype, 1.0)
        y = fwd(x, **kw)
        assert y.dtype == dtype and y.shape == shape
        assert_close(y, rfwd(x, **kw), **TOL[dtype], name=f"{name}{shape}")
        xy = x if name in ELEMENTWISE and ELEMENTWISE[name][1] == "x" else y
        dx = bwd(g, xy, **kw)
        assert dx.dtype == dtype
        assert_close(dx, rbwd(g, xy, **kw), **TOL[dtype], name=f"{name}_backward{shape}")


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_every_start_offset_in_a_cache_line(name, isa, rng):
    """The maps do the elements before the output's vector alignment as one partial vector: views
    starting at each offset in a 64-byte line (inputs at the output's offset or another) give
    the bits of the same elements computed from an aligned start."""
    fwd, bwd, _, _, kw = fns(name)
    x_base, g_base = sample(rng, 300, np.float32), sample(rng, 300, np.float32, 1.0)
    out = np.empty(300, np.float32)
    for k in range(17):
        for n in (1, 15, 53):
            x, g = x_base[k : k + n], g_base[5 : 5 + n]
            want = fwd(x.copy(), **kw)
            np.testing.assert_array_equal(fwd(x, out=out[k : k + n], **kw), want)
            np.testing.assert_array_equal(fwd(x, out=out[3 : 3 + n], **kw), want)
            xy = x if ELEMENTWISE[name][1] == "x" else want
            dx = bwd(g, xy, out=out[k : k + n], **kw)
            np.testing.assert_array_equal(dx, bwd(g.copy(), xy.copy(), **kw))


@pytest.mark.parametrize("name", ALL)
def test_threads_large(name, threads, isa, rng):
    """Big enough to be split over the pool; results must not depend on the thread count."""
    fwd, bwd, rfwd, rbwd, kw = fns(name)
    shape = (300, 257) if name in ("softmax", "log_softmax") else (200_003,)
    x = sample(rng, shape, np.float32)
    g = sample(rng, shape, np.float32, 1.0)
    y = fwd(x, **kw)
    assert_close(y, rfwd(x, **kw), **TOL[np.float32], name=name)
    xy = x if name in ELEMENTWISE and ELEMENTWISE[name][1] == "x" else y
    assert_close(bwd(g, xy, **kw), rbwd(g, xy, **kw), **TOL[np.float32], name=name + "_backward")


def test_float32_accuracy_ulps(isa):
    """The vectorised exp/tanh/normal-CDF stay within a few ulp of float64 on a dense grid."""
    x = np.linspace(-20, 20, 400_400, dtype=np.float32)
    for name, fwd, rfwd, max_rel in [
        ("sigmoid", K.sigmoid, ref.sigmoid, 3 * 2.0**-23),
        ("tanh", K.tanh, ref.tanh, 3 * 2.0**-23),
        ("exp", K.exp, ref.exp, 2 * 2.0**-23),
        ("sqrt", K.sqrt, ref.sqrt, 2.0**-24),  # correctly rounded
        ("log", K.log, ref.log, 2 * 2.0**-23),
        ("sin", K.sin, ref.sin, 1.5 * 2.0**-23),
        ("cos", K.cos, ref.cos, 1.5 * 2.0**-23),
        ("erf", K.erf, ref.erf, 1.5 * 2.0**-23),
        ("arctan", K.arctan, ref.arctan, 1.5 * 2.0**-23),
        ("log1p", K.log1p, ref.log1p, 2.0**-23),
        ("expm1", K.expm1, ref.expm1, 2.0**-23),
        ("rsqrt", K.rsqrt, ref.rsqrt, 1.5 * 2.0**-23),  # (0.5 on AVX-512)
        (
            "softmax",
            lambda v: K.softmax(v.reshape(-1, 1001)),
            lambda v: ref.softmax(v.reshape(-1, 1001)),
            8 * 2.0**-23,
        ),
    ]:
        y, r = fwd(x).ravel(), rfwd(x).ravel()
        mask = np.abs(r) > 1e-30
        rel = np.abs(y[mask] - r[mask]) / np.abs(r[mask])
        assert rel.max() <= max_rel, f"{name}: {rel.max() / 2.0**-23:.2f} ulp"
    # gelu: relative error is amplified by the input's own rounding (~x^2 ulp in the far tail);
    # on |x| <= 3 it must stay within a few ulp.
    xs = x[np.abs(x) <= 3]
    for approx in ("none", "tanh"):
        y, r = K.gelu(xs, approximate=approx), ref.gelu(xs, approximate=approx)
        mask = np.abs(r) > 1e-30
        rel = np.abs(y[mask] - r[mask]) / np.abs(r[mask])
        assert rel.max() <= 24 * 2.0**-23, f"gelu {approx}: {rel.max() / 2.0**-23:.2f} ulp"


def test_gelu_negative_tail_keeps_relative_accuracy(isa):
    """For x << 0 gelu(x) = x Phi(x) is tiny; the SIMD normal CDF computes Phi(x) without the
    cancellation of 1 + erf(x / sqrt2), so the result and its gradient keep float32's relative
    accuracy down to x = -13 (a value near 1e-37). The generic path uses the C library's erfc of
    the rounded x / sqrt2, whose rounding alone costs ~x^2 ulp there, so it is held to that."""
    x = np.linspace(-13, -3, 100_001, dtype=np.float32)
    limit = 16 * 2.0**-23 if isa != "generic" else 2.0 * x.astype(np.float64) ** 2 * 2.0**-23
    for name, got, want in [
        ("gelu", K.gelu(x), ref.gelu(x)),
        ("gelu_backward", K.gelu_backward(np.ones_like(x), x), ref.gelu_backward(1.0, x)),
    ]:
        rel = np.abs(got - want) / np.abs(want)
        assert (rel <= limit).all(), f"{name}: {np.max(rel / 2.0**-23):.1f} ulp"


@pytest.mark.parametrize("name", ALL)
def test_backward_vs_finite_differences(name, rng):
    """float64 backward vs central differences of the kernel's own forward."""
    fwd, bwd, _, _, kw = fns(name)
    x = rng.standard_normal((3, 7)) * 2
    x[np.abs(x) < 1e-3] = 0.5  # keep relu/leaky away from the kink
    if name in ("sqrt", "log", "log1p", "rsqrt"):  # the domain (a NaN anywhere makes all NaN)
        x = np.abs(x) + 0.1
    g = rng.standard_normal(x.shape)
    y = fwd(x, **kw)
    xy = x if name in ELEMENTWISE and ELEMENTWISE[name][1] == "x" else y
    dx = bwd(g, xy, **kw)
    h = 1e-6
    num = np.empty_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        num[i] = np.sum(g * (fwd(xp, **kw) - fwd(xm, **kw))) / (2 * h)
    assert_close(dx, num, atol=1e-7, rtol=1e-6, name=name)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_in_place(name, dtype, isa, rng):
    fwd, bwd, _rfwd, _rbwd, kw = fns(name)
    x = sample(rng, (5, 33), dtype)
    g = sample(rng, (5, 33), dtype, 1.0)
    expect = fwd(x, **kw)
    xy = x.copy() if name in ELEMENTWISE and ELEMENTWISE[name][1] == "x" else expect.copy()
    expect_dx = bwd(g, xy, **kw)
    buf = x.copy()
    assert fwd(buf, **kw, out=buf) is buf
    np.testing.assert_array_equal(buf, expect)
    out = np.empty_like(x)
    assert fwd(x, **kw, out=out) is out
    np.testing.assert_array_equal(out, expect)
    gbuf = g.copy()
    assert bwd(gbuf, xy, **kw, out=gbuf) is gbuf  # overwrite the upstream gradient
    np.testing.assert_array_equal(gbuf, expect_dx)
    xybuf = xy.copy()
    bwd(g, xybuf, **kw, out=xybuf)  # or the saved tensor
    np.testing.assert_array_equal(xybuf, expect_dx)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_inputs(dtype, isa):
    x = np.array(
        [-1e4, -100, -30, -1e-30, -0.0, 0.0, 1e-30, 30, 100, 1e4, np.inf, -np.inf], dtype=dtype
    )
    with np.errstate(all="ignore"):
        for name in ELEMENTWISE:
            fwd, bwd, rfwd, rbwd, kw = fns(name)
            y = fwd(x, **kw)
            assert_close(y, rfwd(x, **kw), **TOL[dtype], name=name)
            xy = x if ELEMENTWISE[name][1] == "x" else y
            g = np.ones_like(x)
            assert_close(
                bwd(g, xy, **kw)[:-2], rbwd(g, xy, **kw)[:-2], **TOL[dtype], name=name + "_b"
            )
        assert K.sigmoid(x)[-2] == 1 and K.sigmoid(x)[-1] == 0
        assert K.tanh(x)[-2] == 1 and K.tanh(x)[-1] == -1
        assert K.gelu(x)[-2] == np.inf and K.relu(x)[-2] == np.inf
        nan = np.full(19, np.nan, dtype=dtype)
        for name in ELEMENTWISE:
            fwd, bwd, _, _, kw = fns(name)
            assert np.isnan(fwd(nan, **kw)).all(), name
        z = np.array([[1e4, -1e4, 0.0, 1e4], [-1e4, -1e4, -1e4, -1e4]] * 9, dtype=dtype)
        for name in ("softmax", "log_softmax"):
            fwd, bwd, rfwd, rbwd, _ = fns(name)
            y = fwd(z)
            assert np.isfinite(y).all(), name
            assert_close(y, rfwd(z), **TOL[dtype], name=name)
            assert np.isfinite(bwd(np.ones_like(z), y)).all()
        z[0, 2] = np.nan
        assert np.isnan(K.softmax(z)[0]).all() and np.isfinite(K.softmax(z)[1:]).all()


def test_empty_and_scalar_shapes():
    for name in ELEMENTWISE:
        fwd, bwd, rfwd, _rbwd, kw = fns(name)
        e = np.zeros((0, 3), np.float32)
        assert fwd(e, **kw).shape == (0, 3)
        assert bwd(e, e, **kw).shape == (0, 3)
        s = np.array(0.5)
        assert_close(fwd(s, **kw), rfwd(s, **kw), atol=1e-15, rtol=1e-14)
    assert K.softmax(np.zeros((2, 0), np.float32)).shape == (2, 0)
    assert K.log_softmax(np.zeros((0, 4))).shape == (0, 4)


def test_bad_inputs():
    x = np.ones((4, 5), np.float32)
    with pytest.raises(TypeError, match="relu.*'x'.*ndarray.*list"):
        K.relu([1.0, 2.0])
    with pytest.raises(TypeError, match="float32 or float64.*int64"):
        K.sigmoid(np.ones(3, np.int64))
    with pytest.raises(TypeError, match="same dtype"):
        K.relu_backward(x, x.astype(np.float64))
    with pytest.raises(ValueError, match="same shape.*\\(4, 5\\).*\\(5, 4\\)"):
        K.tanh_backward(x, np.ones((5, 4), np.float32))
    with pytest.raises(TypeError, match="exp.*'x'.*ndarray.*list"):
        K.exp([1.0, 2.0])
    with pytest.raises(ValueError, match="exp_backward.*same shape"):
        K.exp_backward(x, np.ones((5, 4), np.float32))
    with pytest.raises(TypeError, match="sqrt.*float32 or float64.*int64"):
        K.sqrt(np.ones(3, np.int64))
    with pytest.raises(TypeError, match="sqrt_backward.*same dtype"):
        K.sqrt_backward(x, x.astype(np.float64))
    with pytest.raises(TypeError, match="log.*'x'.*float32 or float64"):
        K.log(x.astype(np.int32))
    with pytest.raises(ValueError, match="log_backward.*same shape"):
        K.log_backward(x, np.ones((5, 4), np.float32))
    with pytest.raises(ValueError, match="same shape"):
        K.softmax_backward(x, np.ones((4, 6), np.float32))
    with pytest.raises(ValueError, match="C-contiguous"):
        K.gelu(np.ones((5, 4), np.float32).T)
    with pytest.raises(ValueError, match="C-contiguous"):
        K.softmax(np.ones((6, 4), np.float32)[::2])
    with pytest.raises(TypeError, match="'out' must have dtype float32"):
        K.relu(x, out=np.empty((4, 5)))
    with pytest.raises(ValueError, match="'out' must have shape \\(4, 5\\)"):
        K.relu(x, out=np.empty((5, 4), np.float32))
    ro = np.empty((4, 5), np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        K.sigmoid(x, out=ro)
    big = np.ones(21, np.float32)
    with pytest.raises(ValueError, match="share memory"):
        K.relu(big[:20], out=big[1:])
    with pytest.raises(TypeError, match="'out'.*ndarray"):
        K.relu(x, out=[0.0] * 20)
    with pytest.raises(ValueError, match="approximate.*'none' or 'tanh'.*'fast'"):
        K.gelu(x, approximate="fast")
    with pytest.raises(ValueError, match="approximate"):
        K.gelu_backward(x, x, approximate="erf")
    with pytest.raises(ValueError, match="at least 1 dimension"):
        K.log_softmax(np.array(1.0))
    with pytest.raises(TypeError):
        K.relu(x, x)  # out is keyword-only


def test_leaky_relu_slope_that_overflows_float32():
    """torch refuses a slope float32 cannot hold; it must not silently become an infinity."""
    x = np.array([-0.5, 2.0], np.float32)
    out = np.full(2, 7.0, np.float32)
    for fn, args in ((K.leaky_relu, (x,)), (K.leaky_relu_backward, (np.ones(2, np.float32), x))):
        with pytest.raises(ValueError, match="negative_slope.*overflows float32"):
            fn(*args, negative_slope=1e39, out=out)
        assert (out == 7.0).all()  # a failed call writes nothing
    np.testing.assert_array_equal(K.leaky_relu(x, negative_slope=np.inf), [-np.inf, 2.0])
    np.testing.assert_allclose(K.leaky_relu(x.astype(np.float64), negative_slope=1e39), [-5e38, 2])
    np.testing.assert_allclose(
        K.leaky_relu(x, negative_slope=float(np.finfo(np.float32).max)), [-1.7014117e38, 2.0]
    )
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="overflow"):
        torch.nn.functional.leaky_relu(torch.from_numpy(x), 1e39)


@pytest.mark.parametrize("name", ["exp", "sqrt", "log"])
def test_tensor_exp_sqrt_log_match_torch(name, threads, rng):
    """Tensor.exp / .sqrt / .log on float32 (the threaded kernels, past the pool's split size) and
    their gradients, against torch; float64 and numpy scalars keep numpy's ufuncs."""
    torch = pytest.importorskip("torch")
    import fastnn

    x = sample(rng, (200_003,), np.float32, 3.0)
    x[:5] = [0.0, -0.0, np.inf, -np.inf, np.nan]
    g = sample(rng, x.shape, np.float32, 1.0)
    f, t = fastnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    fy, ty = getattr(f, name)(), getattr(t, name)()
    assert fy.dtype == fastnn.float32
    # (log: each library within 2 ulp of the true value)
    rtol = 4e-7 if name == "log" else 2.5e-7
    assert_close(fy.detach().numpy(), ty.detach().numpy(), atol=0, rtol=rtol, name=name)
    # sqrt's and log's gradients at 0 are infinite, as torch's; numpy's division reports it (users
    # do not see that warning, fastnn ignores its own; this suite turns it into an error)
    with np.errstate(divide="ignore"):
        fy.backward(fastnn.tensor(g))
    ty.backward(torch.tensor(g))
    assert_close(f.grad.numpy(), t.grad.numpy(), atol=0, rtol=5e-7, name=name + " grad")
    x64 = x.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        np.testing.assert_array_equal(
            getattr(fastnn.tensor(x64), name)().numpy(), getattr(np, name)(x64)
        )


@pytest.mark.parametrize("name", ["atan", "log1p", "expm1", "rsqrt"])
def test_tensor_atan_log1p_expm1_rsqrt_match_torch(name, threads, rng):
    """Tensor.atan / .log1p / .expm1 / .rsqrt on float32 (the threaded kernels) and their gradients against
    torch; float64 against numpy (rsqrt: 1 / sqrt, each step correctly rounded, torch's bits)."""
    torch = pytest.importorskip("torch")
    import fastnn

    x = sample(rng, (200_003,), np.float32, 3.0)
    if name in ("log1p", "rsqrt"):
        x = np.abs(x) - (0.99 if name == "log1p" else 0.0)  # mostly in the domain
    x[:6] = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-30]
    g = sample(rng, x.shape, np.float32, 1.0)
    f, t = fastnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    fy, ty = getattr(f, name)(), getattr(t, name)()
    assert fy.dtype == fastnn.float32
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # (inf - inf in the check)
        # each library within 1.5 ulp of the true value
        assert_close(fy.detach().numpy(), ty.detach().numpy(), atol=0, rtol=4e-7, name=name)
        fy.backward(fastnn.tensor(g))
        ty.backward(torch.tensor(g))
        if name == "expm1":  # torch forms exp(x) as expm1(x) + 1, which cancels for x << 0
            want_grad = g.astype(np.float64) * np.exp(x.astype(np.float64))
            assert_close(f.grad.numpy(), want_grad, atol=0, rtol=4e-7, name=name + " grad")
        else:
            assert_close(f.grad.numpy(), t.grad.numpy(), atol=0, rtol=8e-7, name=name + " grad")
    x64 = x.astype(np.float64)
    want = {"atan": np.arctan, "log1p": np.log1p, "expm1": np.expm1}.get(name)
    want = want or (lambda v: 1 / np.sqrt(v))
    with np.errstate(invalid="ignore", divide="ignore"):
        np.testing.assert_array_equal(getattr(fastnn.tensor(x64), name)().numpy(), want(x64))
    got = getattr(fastnn.tensor([0, 1, 4]), name)()  # integers as torch: the default float dtype
    assert got.dtype == fastnn.float32
    np.testing.assert_allclose(got.numpy(), getattr(torch.tensor([0, 1, 4]), name)().numpy())


def test_exp_lanes_do_not_depend_on_their_neighbours(isa, rng):
    """exp scales by 2^n in one integer add when a whole vector stays in [-87, 88] and in two
    multiplies otherwise (the AVX2 path): the same bits either way, so a lane's result does not
    change when a neighbour underflows, overflows or is NaN."""
    x = rng.uniform(-87, 88, 4096).astype(np.float32)
    want = K.exp(x)
    for odd in (-100.0, 100.0, np.nan, -np.inf):
        y = x.copy()
        y[::5] = odd
        got = K.exp(y)
        keep = np.arange(x.size) % 5 != 0
        np.testing.assert_array_equal(got[keep], want[keep])
    assert_close(want, ref.exp(x), **TOL[np.float32], name="exp")


def test_exp_at_the_ends_of_its_range(isa):
    """Below -104 (where exp rounds to +0) the reduction is not clamped: those lanes compute
    garbage that is then zeroed, -inf and -1e30 among them; gradual underflow above it, inf from
    88.73, NaN kept, whatever the neighbouring lanes hold; within 2 ulp of the float64 exp."""
    low = [-np.inf, -1e30, -3e4, -200, -104.5, -104, -103.9, -100, -95, -88, -87.3, -87]
    x = np.float32([*low, 0.0, -0.0, 1e-30, 88.5, 88.72, 88.73, 89, 100, 1e30, np.inf, np.nan])
    for shift in range(16):  # every lane position, the odd values next to ordinary ones
        y = np.roll(np.concatenate([x, np.float32(np.linspace(-5, 5, 41))]), shift)
        got = K.exp(y)
        with np.errstate(over="ignore", under="ignore"):
            want = np.exp(y.astype(np.float64))
            want32 = want.astype(np.float32)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_array_equal(got[y <= -104], 0.0)
        np.testing.assert_array_equal(np.isinf(got), np.isinf(want32))
        ok = np.isfinite(want32) & (want > 0)
        # 2 ulp of the result, or 2 ulp of the smallest subnormal in the underflow range
        tol = np.maximum(2 * 2.0**-23 * want[ok], 2 * 2.0**-149)
        assert np.all(np.abs(got[ok].astype(np.float64) - want[ok]) <= tol)


def test_sqrt_rsqrt_whole_float32_range(isa):
    """sqrt has numpy's bits (correctly rounded; NaN payloads and signs too) on every 251st
    float32 bit pattern of both signs, and rsqrt is within 0.5001 ulp of 1 / sqrt on the AVX-512
    path (its Newton steps; 1.5 on the others, which divide a correctly rounded root), the
    subnormals, which take the division there too, aside."""
    x = np.arange(0, 2**32 - 1, 251, dtype=np.uint64).astype(np.uint32).view(np.float32)
    x = np.concatenate([x, np.float32([2.0**-64, 2.0**-64 * (1 - 2**-24), 3.4028235e38])])
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(K.sqrt(x).view(np.uint32), np.sqrt(x).view(np.uint32))
        pos = x[x > 0]
        want = 1 / np.sqrt(pos.astype(np.float64))
        got = K.rsqrt(pos)
        ulps = np.abs(got - want) / np.spacing(want.astype(np.float32)).astype(np.float64)
        normal = pos >= np.finfo(np.float32).tiny
        limit = 0.5001 if isa == "avx512" else 1.5
        assert ulps[normal].max() <= limit, f"{ulps[normal].max():.4f} ulp"
        assert ulps.max() <= 1.5
        special = np.float32([0.0, -0.0, np.inf, -np.inf, np.nan, -1.0, 1e-45])
        np.testing.assert_array_equal(K.rsqrt(special), np.float32(1) / np.sqrt(special))


@pytest.mark.parametrize("name", ["arctan", "log1p", "expm1"])
def test_arctan_log1p_expm1_whole_float32_range(name, isa):
    """arctan, log1p and expm1 on every 997th float32 of both signs (subnormals included): within
    1.5 ulp of float64 (log1p and expm1 keep a tiny x's relative accuracy, arctan switches to
    -1/|x| past 1, expm1 overflows to inf past 88.72 and is -1 below -17.3), and the C library's
    special values."""
    x = np.arange(1, 0x7F800000, 997, dtype=np.uint32).view(np.float32)
    x = np.concatenate([x, -x, np.float32(1.0) + np.arange(-300, 300, dtype=np.float32) * 2.0**-23])
    if name == "log1p":
        x = x[x > -1]
    got, want = getattr(K, name)(x), getattr(ref, name)(x)
    with np.errstate(over="ignore", invalid="ignore"):  # (expm1's inf - inf where both overflow)
        spacing = np.spacing(np.abs(want).astype(np.float32)).astype(np.float64)
        ulps = np.where(got == want, 0.0, np.abs(got - want) / spacing)
    assert ulps.max() <= 1.5, f"{ulps.max():.2f} ulp at {x[ulps.argmax()]!r}"
    special = [0.0, -0.0, np.inf, -np.inf, np.nan] + ([-1.0, -2.0] if name == "log1p" else [])
    special += [88.72, 88.73, -17.0, -18.0, 1e-45] if name == "expm1" else []
    special = np.array(special, np.float32)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        np.testing.assert_array_equal(getattr(K, name)(special), getattr(np, name)(special))
    assert np.signbit(getattr(K, name)(special[:2])).tolist() == [False, True]


def test_log_whole_float32_range(isa):
    """log on every binade (subnormals included), next to 1 where log x ~ x - 1 is tiny, and at the
    special values, which keep numpy's bits (-inf at +-0, its NaN below 0, inf, NaN)."""
    tiny = np.float32(1.4e-45)
    x = np.geomspace(tiny, np.finfo(np.float32).max, 300_007).astype(np.float32)
    steps = np.arange(-5000, 5001, dtype=np.int32)
    near_one = (np.float32(1.0).view(np.int32) + steps).view(np.float32)
    x = np.concatenate([x, near_one])
    want = ref.log(x)
    rel = np.abs(K.log(x) - want) / np.maximum(np.abs(want), 1e-300)
    assert rel[want != 0].max() <= 2 * 2.0**-23, f"{rel.max() / 2.0**-23:.2f} ulp"
    assert K.log(np.ones(33, np.float32))[32] == 0.0
    special = np.array([0.0, -0.0, -1.0, -np.inf, np.inf, np.nan, -tiny, 1.0] * 5, np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        want_bits = np.log(special).view(np.uint32)
    np.testing.assert_array_equal(K.log(special).view(np.uint32), want_bits)


def test_log_lanes_do_not_depend_on_their_neighbours(isa, rng):
    """A vector holding a special lane (0, negative, inf, NaN, subnormal) takes another path than
    one of positive normal numbers; its normal lanes must still get the same bits, wherever an
    element falls (other offsets, the partial last vector)."""
    x = np.exp(rng.uniform(-80, 80, 1001)).astype(np.float32)
    want = K.log(x)
    mixed = x.copy()
    mixed[::7] = np.array([0.0, -1.0, np.inf, np.nan, 1e-41, -0.0, -np.inf], np.float32)[
        np.arange(mixed[::7].size) % 7
    ]
    got = K.log(mixed)
    keep = np.ones(x.size, bool)
    keep[::7] = False
    np.testing.assert_array_equal(got[keep].view(np.uint32), want[keep].view(np.uint32))
    for shift in (1, 5, 13):
        np.testing.assert_array_equal(
            K.log(x[shift:]).view(np.uint32), want[shift:].view(np.uint32)
        )


def test_sin_cos_range_reduction_and_special_values(isa, rng):
    """sin / cos reduce |x| by multiples of pi/2 in float32 up to 65536 and go through the C
    library in double beyond (and for inf / NaN); each lane's result is the same whatever its
    neighbours, so a large lane does not move the others to the other path."""
    edge = np.float32(65536.0).view(np.int32) + np.arange(-300, 300, dtype=np.int32)
    x = np.concatenate(
        [
            edge.view(np.float32),
            rng.uniform(-1e5, 1e5, 3001).astype(np.float32),
            np.float32(2.0) ** rng.uniform(-30, 40, 3001).astype(np.float32),
            # floats nearest to multiples of pi/2 (where r nearly cancels)
            (np.round(np.arange(1, 40000, 37) * (np.pi / 2) * 256) / 256).astype(np.float32),
            np.array([0.0, -0.0, 1e-45, -1e-45, 3.4e38, -3.4e38], np.float32),
        ]
    )
    x = np.concatenate([x, -x])
    for name in ("sin", "cos"):
        got = getattr(K, name)(x)
        want = getattr(ref, name)(x)
        spacing = np.spacing(np.abs(want).astype(np.float32)).astype(np.float64)
        ulps = np.abs(got - want) / spacing
        assert ulps.max() <= 1.6, f"{name}: {ulps.max():.2f} ulp at {x[ulps.argmax()]}"
        # lanes alone give the same bits as in company (other offsets, the partial last vector)
        for shift in (1, 5, 13):
            np.testing.assert_array_equal(
                getattr(K, name)(x[shift:]).view(np.uint32), got[shift:].view(np.uint32)
            )
    special = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0] * 4, np.float32)
    with np.errstate(invalid="ignore"):
        for name in ("sin", "cos"):
            np.testing.assert_array_equal(
                getattr(K, name)(special).view(np.uint32) & 0x7FFFFFFF,  # (NaN's sign aside)
                getattr(np, name)(special).view(np.uint32) & 0x7FFFFFFF,
            )
    np.testing.assert_array_equal(np.signbit(K.sin(special[3:5])), [False, True])


def test_erf_tails_and_special_values(isa):
    """erf switches from its series near 0 to the normal tail at |x| = 0.9: within 2 ulp on
    both sides, odd, exactly +-1 from |x| ~ 3.92 on, the sign of zero kept, NaN kept."""
    x = np.linspace(0.85, 0.95, 100_001, dtype=np.float32)
    x = np.concatenate([x, np.float32(2.0) ** np.arange(-149, 5, 0.25, dtype=np.float32)])
    x = np.concatenate([x, -x])
    got, want = K.erf(x), ref.erf(x)
    spacing = np.spacing(np.abs(want).astype(np.float32)).astype(np.float64)
    ulps = np.abs(got - want) / spacing
    assert ulps.max() <= 2.0, f"{ulps.max():.2f} ulp at {x[ulps.argmax()]}"
    np.testing.assert_array_equal(K.erf(-x), -got)
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 3.92, 10.0, -10.0], np.float32)
    out = K.erf(special)
    np.testing.assert_array_equal(out[:4], [0.0, -0.0, 1.0, -1.0])
    assert np.signbit(out[1]) and np.isnan(out[4])
    np.testing.assert_array_equal(out[5:], [1.0, 1.0, -1.0])


@pytest.mark.parametrize("name", ["sin", "cos", "erf"])
def test_tensor_sin_cos_erf_match_torch(name, threads, rng):
    """Tensor.sin / .cos / .erf on float32 (the threaded kernels) and their gradients against
    torch; float64 keeps numpy's sin and cos, erf is the C library's through the kernel."""
    torch = pytest.importorskip("torch")
    import fastnn

    x = sample(rng, (200_003,), np.float32, 3.0)
    x[:5] = [0.0, -0.0, 1e4, -7e4, 1e-30]
    g = sample(rng, x.shape, np.float32, 1.0)
    f, t = fastnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    fy, ty = getattr(f, name)(), getattr(t, name)()
    assert fy.dtype == fastnn.float32
    # each library within 1.5 ulp of the true value (atol: the zero crossings of sin and cos)
    assert_close(fy.detach().numpy(), ty.detach().numpy(), atol=1e-7, rtol=4e-7, name=name)
    fy.backward(fastnn.tensor(g))
    ty.backward(torch.tensor(g))
    assert_close(f.grad.numpy(), t.grad.numpy(), atol=1e-7, rtol=8e-7, name=name + " grad")
    x64 = x.astype(np.float64)
    want = ref.erf(x64) if name == "erf" else getattr(np, name)(x64)
    np.testing.assert_allclose(getattr(fastnn.tensor(x64), name)().numpy(), want, rtol=1e-15)
    if name == "erf":  # integers as torch: the default float dtype
        got = fastnn.tensor([-2, 0, 1]).erf()
        assert got.dtype == fastnn.float32
        np.testing.assert_allclose(got.numpy(), torch.tensor([-2, 0, 1]).erf().numpy())
