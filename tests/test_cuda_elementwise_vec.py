"""The vectorized element-wise loops, the planned broadcast indexing and the multi-tensor
optimizer launches of the CUDA backend, against NumPy (float64 where it matters) and the CPU
kernels: sizes around the 16-byte pack width (scalar tails), views that start one element into a
buffer (the scalar path), in-place calls, broadcasts of 1 to 6 dimensions, and every optimizer
over 1, 3 and 400 tensors of mixed sizes (several kernel-argument tables per call). The maps write
into views of larger buffers whose other elements are checked untouched, and parameters packed
back to back must each stay inside their own tensor, so a kernel that writes outside its output
fails. Skipped without a GPU."""

import numpy as np
import pytest

from conftest import assert_close
from fastnn import _C, cuda
from fastnn.optim._functional import nadam_mu

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA GPU"),
]

DTYPES = [np.float32, np.float64]
SIZES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 33, 257, 4097]
TOL = {np.float32: {"atol": 1e-5, "rtol": 1e-4}, np.float64: {"atol": 1e-12, "rtol": 1e-10}}
CANARY = -12345.0


def mod():
    return cuda._require()


def ck():
    from fastnn.cuda import kernels

    return kernels


def guarded(n, dtype, offset):
    """A device buffer of n + offset + 5 canaries and the view of its n elements at `offset`."""
    buf = np.full(n + offset + 5, CANARY, dtype=dtype)
    d = cuda.from_numpy(buf)
    return d, d.narrow0(offset, offset + n)


def check_canaries(buf, offset, n):
    host = buf.numpy()
    assert np.all(host[:offset] == host.dtype.type(CANARY)), "a kernel wrote before its output"
    assert np.all(host[offset + n :] == host.dtype.type(CANARY)), "a kernel wrote past its output"


def upload(x, offset):
    """x on the device, starting `offset` elements into a larger buffer (misaligned when odd)."""
    pad = np.zeros(x.size + offset + 3, dtype=x.dtype)
    pad[offset : offset + x.size] = x.ravel()
    return cuda.from_numpy(pad).narrow0(offset, offset + x.size).reshape(x.shape)


# ---- contiguous maps: sizes around the pack width, misaligned views ----


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("offset", [0, 1])
def test_unary_and_activations(n, dtype, offset, rng):
    x = (rng.standard_normal(n) * 3).astype(dtype)
    g = rng.standard_normal(n).astype(dtype)
    m = mod()
    dx = upload(x, offset)
    for op, ref in [
        ("exp", np.exp),
        ("neg", np.negative),
        ("abs", np.abs),
        ("sqrt", lambda v: np.sqrt(np.abs(v))),
    ]:
        src = upload(np.abs(x), offset) if op == "sqrt" else dx
        buf, out = guarded(n, dtype, offset)
        r = m.unary(op, src, out=out)
        assert r is out
        assert_close(out.numpy(), ref(x.astype(np.float64)).astype(dtype), **TOL[dtype], name=op)
        check_canaries(buf, offset, n)
    for fwd, bwd, kw in [
        ("relu", "relu_backward", {}),
        ("gelu", "gelu_backward", {"approximate": "tanh"}),
        ("silu", "silu_backward", {}),
        ("hardtanh", "hardtanh_backward", {"min_val": -1.0, "max_val": 2.0}),
    ]:
        buf, out = guarded(n, dtype, offset)
        getattr(ck(), fwd)(dx, **kw, out=out)
        assert_close(out.numpy(), getattr(_C, fwd)(x, **kw), **TOL[dtype], name=fwd)
        check_canaries(buf, offset, n)
        buf, out = guarded(n, dtype, offset)
        getattr(ck(), bwd)(upload(g, offset), dx, **kw, out=out)
        assert_close(out.numpy(), getattr(_C, bwd)(g, x, **kw), **TOL[dtype], name=bwd)
        check_canaries(buf, offset, n)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize(("off_a", "off_b"), [(0, 0), (1, 0), (0, 1), (1, 1)])
def test_binary_contiguous(n, dtype, off_a, off_b, rng):
    a = rng.standard_normal(n).astype(dtype)
    b = rng.standard_normal(n).astype(dtype)
    b[::3] = a[::3]  # ties for the comparisons
    m = mod()
    da, db = upload(a, off_a), upload(b, off_b)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    for op, ref in [("add", np.add), ("mul", np.multiply), ("div", np.divide)]:
        buf, out = guarded(n, dtype, off_a)
        m.binary(op, da, db, out=out)
        assert_close(out.numpy(), ref(a64, b64).astype(dtype), **TOL[dtype], name=op)
        check_canaries(buf, off_a, n)
    for op, ref in [("lt", np.less), ("eq", np.equal), ("ge", np.greater_equal)]:
        np.testing.assert_array_equal(m.binary(op, da, db).numpy(), ref(a, b), err_msg=op)
    np.testing.assert_array_equal(m.binary("maximum", da, db).numpy(), np.maximum(a, b))
    for s, first in [(0.5, False), (2.0, True)]:
        r = m.binary("sub", s, da) if first else m.binary("sub", da, s)
        want = s - a64 if first else a64 - s
        assert_close(r.numpy(), want.astype(dtype), **TOL[dtype], name="sub scalar")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("offset", [0, 1])
def test_in_place_clamp_fill_cast(n, dtype, offset, rng):
    x = rng.standard_normal(n).astype(dtype)
    m = mod()
    buf, view = guarded(n, dtype, offset)
    view.copy_(x)
    m.unary("neg", view, out=view)  # in place
    m.clamp(view, -0.5, 0.25, out=view)
    assert_close(view.numpy(), np.clip(-x, -0.5, 0.25), **TOL[dtype], name="in-place neg, clamp")
    check_canaries(buf, offset, n)
    view.fill_(3.5)
    np.testing.assert_array_equal(view.numpy(), np.full(n, 3.5, dtype))
    check_canaries(buf, offset, n)
    other = np.float64 if dtype == np.float32 else np.float32
    small = np.abs(x * 10).astype(dtype)  # in range for uint8
    for src, to in [(x, other), (x, np.int64), (x, np.bool_), (small, np.uint8)]:
        got = upload(src, offset).astype(to).numpy()
        np.testing.assert_array_equal(got, src.astype(to), err_msg=f"cast to {np.dtype(to).name}")
    for frm in [np.bool_, np.uint8, np.int32, np.int64]:
        src = rng.integers(0, 3, n).astype(frm)
        got = upload(src, offset).astype(dtype).numpy()
        np.testing.assert_array_equal(got, src.astype(dtype), err_msg=f"cast from {frm}")


# ---- broadcasts and strided copies: the planned index path ----


def random_broadcast_pair(rng, ndim):
    shape = [int(rng.integers(1, 6)) for _ in range(ndim)]
    a_shape = [d if rng.random() < 0.6 else 1 for d in shape]
    b_shape = [d if rng.random() < 0.6 else 1 for d in shape]
    drop = int(rng.integers(0, ndim + 1))  # b may have fewer leading dims
    return tuple(a_shape), tuple(b_shape[drop:])


@pytest.mark.parametrize("dtype", [*DTYPES, np.int64])
@pytest.mark.parametrize("ndim", [1, 2, 3, 4, 5, 6])
def test_broadcast_binary_and_where(ndim, dtype, rng):
    m = mod()
    for _ in range(12):
        sa, sb = random_broadcast_pair(rng, ndim)
        a = np.asarray((rng.standard_normal(sa) * 10).astype(dtype))  # 0-d stays an array
        b = np.asarray((rng.standard_normal(sb) * 10).astype(dtype))
        da, db = cuda.from_numpy(a), cuda.from_numpy(b)
        for op, ref in [("add", np.add), ("sub", np.subtract), ("minimum", np.minimum)]:
            got = m.binary(op, da, db).numpy()
            np.testing.assert_allclose(got, ref(a, b), rtol=1e-6, atol=0, err_msg=f"{op} {sa} {sb}")
        np.testing.assert_array_equal(m.binary("gt", da, db).numpy(), a > b)
        c = rng.random(np.broadcast_shapes(sa, sb)[-1:]) < 0.5  # a trailing-dim condition
        got = m.where(cuda.from_numpy(c), da, db).numpy()
        np.testing.assert_array_equal(got, np.where(c, a, b), err_msg=f"where {sa} {sb}")
        full = np.broadcast_shapes(sa, sb)
        np.testing.assert_array_equal(
            m.broadcast_to(da, list(full)).numpy(), np.broadcast_to(a, full)
        )


def test_broadcast_in_place_and_bias_shapes(rng):
    m = mod()
    for shape, bshape in [((4097, 3), (3,)), ((3, 4097), (3, 1)), ((2, 33, 257), (33, 1))]:
        a = rng.standard_normal(shape).astype(np.float32)
        b = rng.standard_normal(bshape).astype(np.float32)
        da = cuda.from_numpy(a)
        m.binary("add", da, cuda.from_numpy(b), out=da)  # in place, b broadcast
        assert_close(da.numpy(), a + b, atol=1e-6, rtol=1e-6, name=f"{shape} += {bshape}")


@pytest.mark.parametrize("ndim", [1, 2, 3, 4, 5, 6])
def test_permute_and_strided_views(ndim, rng):
    m = mod()
    for dtype in [np.float32, np.float64, np.uint8]:
        shape = tuple(int(rng.integers(1, 6)) for _ in range(ndim))
        x = rng.integers(0, 200, shape).astype(dtype)
        dx = cuda.from_numpy(x)
        perm = [int(p) for p in rng.permutation(ndim)]
        np.testing.assert_array_equal(m.permute(dx, perm).numpy(), x.transpose(perm))
        # a reversed, stepped view of the flat buffer (negative strides), and a contiguous one
        flat = x.ravel()
        if flat.size >= 2:
            view = flat[::-2]
            got = m.strided_copy(dx.reshape([flat.size]), [view.size], [-2], flat.size - 1)
            np.testing.assert_array_equal(got.numpy(), view)
        got = m.strided_copy(dx, list(shape), [s // x.itemsize for s in x.strides], 0)
        np.testing.assert_array_equal(got.numpy(), x)


def test_large_strides_take_the_64_bit_plan():
    """A view whose offsets pass 2^31 elements of uint8 (2 GiB) must use 64-bit offsets."""
    m = mod()
    n = (1 << 31) + 64
    try:
        x = cuda.empty((n,), np.uint8)
    except (RuntimeError, MemoryError):
        pytest.skip("not enough device memory for a 2 GiB buffer")
    x.fill_(7)
    tail = np.arange(64, dtype=np.uint8)
    x.narrow0(n - 64, n).copy_(tail)
    got = m.strided_copy(x, [2, 64], [(1 << 31), 1], 0).numpy()
    np.testing.assert_array_equal(got[0], np.full(64, 7, np.uint8))
    np.testing.assert_array_equal(got[1], tail)


# ---- optimizers: one multi-tensor launch per table, against the CPU kernels ----

OPTIMS = [
    ("sgd_step", {"lr": 0.1}, []),
    ("sgd_step", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
     ["momentum_bufs"]),
    ("adagrad_step", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1}, ["state_sums"]),
    ("rmsprop_step", {"lr": 0.01}, ["square_avgs"]),
    ("rmsprop_step", {"lr": 0.01, "centered": True}, ["square_avgs", "grad_avgs"]),
    ("rmsprop_step", {"lr": 0.01, "momentum": 0.5}, ["square_avgs", "momentum_bufs"]),
    ("rmsprop_step", {"lr": 0.01, "momentum": 0.5, "centered": True, "weight_decay": 0.1},
     ["square_avgs", "momentum_bufs", "grad_avgs"]),
    ("adam_step", {"lr": 0.01, "weight_decay": 0.1}, ["exp_avgs", "exp_avg_sqs"]),
    ("adam_step", {"lr": 0.01, "weight_decay": 0.1, "decoupled": True, "amsgrad": True},
     ["exp_avgs", "exp_avg_sqs", "max_exp_avg_sqs"]),
    ("adadelta_step", {"lr": 1.0, "weight_decay": 0.1}, ["square_avgs", "acc_deltas"]),
    ("adamax_step", {"lr": 0.01}, ["exp_avgs", "exp_infs"]),
    ("nadam_step", {"lr": 0.01, "weight_decay": 0.1}, ["exp_avgs", "exp_avg_sqs"]),
    ("radam_step", {"lr": 0.01, "weight_decay": 0.1}, ["exp_avgs", "exp_avg_sqs"]),
]  # fmt: skip
STEP_ARG = {"adagrad_step", "adam_step", "adamax_step", "nadam_step", "radam_step"}


def tensor_sizes(count, rng):
    if count == 1:
        return [70001]
    if count == 3:
        return [16385, 0, 5]
    special = [1, 3, 4, 5, 7, 8, 9, 16383, 16384, 16385, 40000, 0]
    return special + [int(s) for s in rng.integers(1, 3000, count - len(special))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("count", [1, 3, 400])
@pytest.mark.parametrize(
    ("name", "hyper", "states"), OPTIMS, ids=[f"{o[0]}-{i}" for i, o in enumerate(OPTIMS)]
)
def test_optimizer_multi_tensor(name, hyper, states, count, dtype, rng):
    sizes = tensor_sizes(count, rng)
    offset = 1 if count == 3 else 0  # count 3: every list a view one element into its buffer
    params = [rng.standard_normal(n).astype(dtype) for n in sizes]
    state = {k: [np.zeros(n, dtype) for n in sizes] for k in states}
    d_params = [upload(p, offset) for p in params]
    d_state = {k: [upload(a, offset) for a in v] for k, v in state.items()}
    mu_product = 1.0
    for step in range(1, 8):  # RAdam rectifies from step 6 on
        grads = [rng.standard_normal(n).astype(dtype) for n in sizes]
        kw = dict(hyper)
        if name in STEP_ARG:
            kw["step"] = step
        if name == "sgd_step":
            kw["first_step"] = step == 1
            if "momentum_bufs" not in states:
                kw["momentum_bufs"] = None
        if name == "nadam_step":
            mu_product *= nadam_mu(0.9, 4e-3, step)
            kw["mu_product"] = mu_product
        getattr(_C, name)(params, grads, **kw, **state)
        getattr(ck(), name)(d_params, [upload(g, offset) for g in grads], **kw, **d_state)
    tol = {"atol": 1e-5, "rtol": 1e-4} if dtype == np.float32 else {"atol": 1e-12, "rtol": 1e-10}
    if dtype == np.float32 and hyper.get("centered"):
        # sqrt(E[g^2] - E[g]^2) cancels: the GPU's fused multiply-adds and the CPU's separate
        # roundings differ by more than float32's eps there (seen: 1.4e-5 on one of 6.5M values)
        tol["atol"] = 5e-5
    for i, (p, d) in enumerate(zip(params, d_params)):
        assert_close(d.numpy(), p, **tol, name=f"{name} param {i} of {count}")
    for k in states:
        for i, (s, d) in enumerate(zip(state[k], d_state[k])):
            assert_close(d.numpy(), s, **tol, name=f"{name} {k}[{i}] of {count}")


def test_optimizer_leaves_neighbours_alone(rng):
    """Params packed back to back in one buffer: each update stays inside its own tensor."""
    sizes = [5, 16384, 3, 16385, 1]
    total = sum(sizes) + 2
    flat_p = cuda.from_numpy(rng.standard_normal(total).astype(np.float32))
    flat_m = cuda.from_numpy(np.zeros(total, np.float32))
    flat_v = cuda.from_numpy(np.zeros(total, np.float32))
    before = flat_p.numpy()
    views, start = [], 1
    for n in sizes:
        views.append(start)
        start += n

    def cut(a):
        return [a.narrow0(s, s + n) for s, n in zip(views, sizes)]

    grads = [cuda.from_numpy(np.ones(n, np.float32)) for n in sizes]
    ck().adam_step(cut(flat_p), grads, cut(flat_m), cut(flat_v), lr=0.1, step=1)
    after = flat_p.numpy()
    assert after[0] == before[0] and after[-1] == before[-1]
    assert_close(after[1:-1], before[1:-1] - 0.1, atol=1e-6, rtol=1e-6, name="adam step")
