"""torch parity of the top-level functions of _tensor/functions_misc.py, copies.py and
gradient.py, and of the shift operators (logic.py): values, dtypes, memory sharing, gradients
(against torch and finite differences) and errors."""

import array
import warnings

import numpy as np
import pytest

import fastnn
from api_parity import check as _check
from fastnn.autograd import gradcheck

torch = pytest.importorskip("torch")
RNG = np.random.default_rng(3)


def check(*args, **kwargs):
    return _check(*args, torch=torch, **kwargs)


def real(*shape, dtype=np.float64):
    return RNG.standard_normal(shape).astype(dtype)


# ---- the *_copy family ------------------------------------------------------------------------

COPIES = {
    "view_copy": (lambda L, x: L.view_copy(x, (-1, 7)), (3, 7)),
    "permute_copy": (lambda L, x: L.permute_copy(x, (2, 0, 1)), (2, 7, 3)),
    "expand_copy": (lambda L, x: L.expand_copy(x, (4, 33, 7)), (33, 1)),
    "t_copy": (lambda L, x: L.t_copy(x), (7, 3)),
    "transpose_copy": (lambda L, x: L.transpose_copy(x, 0, -1), (2, 7, 3)),
    "squeeze_copy": (lambda L, x: L.squeeze_copy(x), (1, 7, 1)),
    "squeeze_copy_dim": (lambda L, x: L.squeeze_copy(x, 2), (1, 7, 1)),
    "unsqueeze_copy": (lambda L, x: L.unsqueeze_copy(x, -1), (7, 3)),
    "diagonal_copy": (lambda L, x: L.diagonal_copy(x, 1, 1, 2), (2, 7, 5)),
    "select_copy": (lambda L, x: L.select_copy(x, 1, -2), (3, 7)),
    "slice_copy": (lambda L, x: L.slice_copy(x, 1, 1, 6, 2), (3, 7)),
    "slice_copy_default": (lambda L, x: L.slice_copy(x), (3, 7)),
    "narrow_copy": (lambda L, x: L.narrow_copy(x, 0, 1, 5), (7, 2)),
    "split_copy": (lambda L, x: L.split_copy(x, 3, 1), (2, 7)),
    "split_with_sizes_copy": (lambda L, x: L.split_with_sizes_copy(x, [1, 6], 1), (2, 7)),
    "unbind_copy": (lambda L, x: L.unbind_copy(x, 1), (2, 3)),
    "unfold_copy": (lambda L, x: L.unfold_copy(x, 0, 3, 2), (7, 2)),
    "alias_copy": (lambda L, x: L.alias_copy(x), (7,)),
    "as_strided_copy": (lambda L, x: L.as_strided_copy(x, (2, 3), (1, 2), 1), (7,)),
}


@pytest.mark.parametrize("name", sorted(COPIES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_copies_match_torch(name, dtype):
    fn, shape = COPIES[name]
    check(fn, real(*shape, dtype=dtype))


@pytest.mark.parametrize("name", sorted(COPIES))
def test_copies_own_their_memory_and_gradcheck(name):
    fn, shape = COPIES[name]
    x = fastnn.tensor(real(*shape), requires_grad=True)
    outs = fn(fastnn, x)
    for o in outs if isinstance(outs, list) else [outs]:
        assert o.is_contiguous()
        before = x.detach().numpy().copy()
        o.detach().zero_()
        np.testing.assert_array_equal(x.detach().numpy(), before)
    assert gradcheck(lambda t: fn(fastnn, t), (x,))


def test_detach_copy_has_no_history():
    x = fastnn.ones(3, requires_grad=True) * 2
    y = fastnn.detach_copy(x)
    assert y.grad_fn is None and not y.requires_grad
    np.testing.assert_array_equal(y.numpy(), x.detach().numpy())


def test_copies_errors():
    with pytest.raises(TypeError, match="input"):
        fastnn.permute_copy([1, 2], (0,))
    with pytest.raises(RuntimeError, match="step"):
        fastnn.slice_copy(fastnn.ones(3), 0, 0, 3, 0)
    with pytest.raises(RuntimeError, match="item size"):
        fastnn.view_copy(fastnn.ones(3), fastnn.float64)


@pytest.mark.parametrize("dt", ["int32", "float32"])
def test_view_copy_to_dtype_matches_torch(dt):
    check(lambda L, x: L.view_copy(x, getattr(L, dt)), real(7, 3, dtype=np.float32), grad=())


# ---- asarray, frombuffer --------------------------------------------------------------------


def test_asarray_shares_numpy_memory_when_dtype_matches():
    a = np.arange(6.0)
    t = fastnn.asarray(a)
    assert t.dtype == fastnn.float64 and np.shares_memory(t.numpy(), a)
    t = fastnn.asarray(a, copy=True)
    assert not np.shares_memory(t.numpy(), a)
    t = fastnn.asarray(a, dtype=fastnn.float32)
    assert t.dtype == fastnn.float32
    with pytest.raises(ValueError, match="float64.*float32"):
        fastnn.asarray(a, dtype=fastnn.float32, copy=False)


@pytest.mark.parametrize(
    "obj", [[1, 2], [1.0, 2], 3.0, 3, True, np.float64(2), [[1, 2], [3, 4]], np.arange(3)]
)
def test_asarray_dtypes_match_torch(obj):
    a, b = fastnn.asarray(obj), torch.asarray(obj)
    assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_asarray_of_tensors():
    x = fastnn.ones(3, requires_grad=True)
    assert fastnn.asarray(x) is x
    c = fastnn.asarray(x, copy=True)
    assert c is not x and c.requires_grad and c.grad_fn is not None
    d = fastnn.asarray(x, dtype=fastnn.float64)
    assert d.dtype == fastnn.float64 and d.grad_fn is not None
    with pytest.raises(ValueError, match="float32.*float64"):
        fastnn.asarray(x, dtype=fastnn.float64, copy=False)
    z = fastnn.zeros(2)
    assert fastnn.asarray(z, requires_grad=True).requires_grad
    h = fastnn.ones(2, requires_grad=True) * 3
    off = fastnn.asarray(h, requires_grad=False)
    assert not off.requires_grad and h.requires_grad
    np.testing.assert_array_equal(off.numpy(), [3.0, 3.0])
    with pytest.raises(ValueError, match="list"):
        fastnn.asarray([1, 2], copy=False)
    with pytest.raises(RuntimeError):
        fastnn.asarray([1, 2], requires_grad=True)


def test_frombuffer_matches_torch_and_shares():
    buf = bytearray(np.arange(8, dtype=np.int32).tobytes())
    a = fastnn.frombuffer(buf, dtype=fastnn.int32, count=3, offset=8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch: a bytearray is writable, no warning needed
        b = torch.frombuffer(bytearray(buf), dtype=torch.int32, count=3, offset=8)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    a[0] = 100
    assert np.frombuffer(buf, np.int32)[2] == 100
    f = fastnn.frombuffer(array.array("d", [1.5, 2.5]), dtype=fastnn.float64)
    np.testing.assert_array_equal(f.numpy(), [1.5, 2.5])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(dtype="int32", count=5), "need more"),
        (dict(dtype="int32", count=0), "must not be 0"),
        (dict(dtype="int32", offset=16), "offset"),
    ],
)
def test_frombuffer_errors(kwargs, match):
    kwargs["dtype"] = getattr(fastnn, kwargs["dtype"])
    with pytest.raises(ValueError, match=match):
        fastnn.frombuffer(bytearray(16), **kwargs)
    with pytest.raises(ValueError, match="multiple"):
        fastnn.frombuffer(bytearray(6), dtype=fastnn.int32)
    with pytest.raises(TypeError, match="buffer"):
        fastnn.frombuffer([1, 2], dtype=fastnn.int32)


# ---- range, rsub, fill, queries ---------------------------------------------------------------


@pytest.mark.parametrize(
    "args, kwargs",
    [((0, 3), {}), ((0, 1, 0.3), {}), ((1, 4), {"dtype": "int64"}), ((5, 1, -1.5), {})],
)
def test_range_matches_torch_and_warns(args, kwargs):
    fk = {k: getattr(fastnn, v) for k, v in kwargs.items()}
    tk = {k: getattr(torch, v) for k, v in kwargs.items()}
    with pytest.warns(UserWarning, match="deprecated"):
        a = fastnn.range(*args, **fk)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b = torch.range(*args, **tk)
    assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)


def test_range_errors():
    with pytest.warns(UserWarning, match="deprecated"), pytest.raises(RuntimeError, match="step"):
        fastnn.range(0, 3, 0)
    with pytest.warns(UserWarning, match="deprecated"), pytest.raises(RuntimeError, match="sign"):
        fastnn.range(0, 3, -1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rsub_and_fill_match_torch(dtype):
    check(lambda L, x: L.rsub(x, 3), real(7, 3, dtype=dtype))
    check(
        lambda L, x, y: L.rsub(x, y, alpha=2),
        real(7, 1, dtype=dtype),
        real(33, dtype=dtype)[:3],
        grad=(0, 1),
    )
    check(lambda L, x, v: L.fill(x, v), real(7, 3, dtype=dtype), real(dtype=dtype), grad=(1,))
    check(lambda L, x: L.fill(x, 3.7), np.arange(4))
    x = fastnn.tensor(real(7), requires_grad=True)
    v = fastnn.tensor(real(), requires_grad=True)
    assert gradcheck(lambda a, b: fastnn.rsub(a, b, alpha=3), (x, v))
    assert gradcheck(lambda a, b: fastnn.fill(a, b) * a, (x, v))
    with pytest.raises(RuntimeError, match="0-dimensional"):
        fastnn.fill(fastnn.ones(2), fastnn.ones(2))


@pytest.mark.parametrize("data", [[-1.5, 0.0, 2.0], [-3, 0, 4]])
def test_real_views_and_queries(data):
    check(lambda L, x: (L.real(x), L.angle(x), L.isreal(x)), np.array(data), grad=())
    a = fastnn.tensor(data)
    assert fastnn.is_signed(a) and not fastnn.is_distributed(a)
    assert not fastnn.is_signed(fastnn.tensor([1], dtype=fastnn.uint8))
    with pytest.raises(RuntimeError, match="non-complex"):
        fastnn.imag(a)
    with pytest.raises(TypeError, match="input"):
        fastnn.real([1.0])


def test_frexp_and_nonzero_static_functions():
    check(lambda L, x: L.frexp(x), np.array([8.0, 0.3, -5.0, 0.0]), grad=())
    check(lambda L, x: L.nonzero_static(x, size=4), np.array([0, 1, 1]), grad=())
    check(lambda L, x: L.nonzero_static(x, size=1, fill_value=9), np.eye(3), grad=())


# ---- shifts -----------------------------------------------------------------------------------


@pytest.mark.parametrize("dt", [np.int8, np.uint8, np.int32, np.int64])
def test_shifts_match_torch(dt):
    info = np.iinfo(dt)
    x = RNG.integers(max(info.min, -100), min(info.max, 100), (33, 1)).astype(dt)
    s = RNG.integers(0, 2 * info.bits, (7,)).astype(dt)
    check(lambda L, a, b: (a << b, a >> b), x, s, grad=())
    check(lambda L, a, b: L.bitwise_left_shift(a, b), x, s, grad=())
    check(lambda L, a: (a << 3, a >> 1, 5 << a.abs() % 4, 100 >> a.abs() % 4), x, grad=())
    check(
        lambda L, a: (L.bitwise_right_shift(a, 2), L.bitwise_left_shift(3, a.abs() % 5)), x, grad=()
    )


def test_shift_negative_amounts_and_in_place():
    check(lambda L, a, b: (a << b, a >> b), np.array([8, -8]), np.array([-1, -1]), grad=())

    def inplace(L, a):
        a.bitwise_left_shift_(2)
        a >>= 1
        a <<= 1
        b = a.clone()
        b.bitwise_right_shift_(3)
        return a, b

    check(inplace, np.arange(-5, 6), grad=())


def test_shift_errors():
    with pytest.raises(NotImplementedError, match="float32"):
        fastnn.ones(2) << 1
    with pytest.raises(NotImplementedError, match="float"):
        fastnn.tensor([1]) << 1.5
    with pytest.raises(TypeError, match="Tensor"):
        fastnn.bitwise_left_shift(1, 2)
    with pytest.raises(RuntimeError, match="broadcast"):
        fastnn.tensor([1, 2]) << fastnn.tensor([1, 2, 3])


# ---- gradient ---------------------------------------------------------------------------------

GRADIENTS = [
    ((7,), {}),
    ((7,), {"edge_order": 2}),
    ((33, 7), {"spacing": 2.0}),
    ((3, 7), {"spacing": [0.5, 3.0], "edge_order": 2}),
    ((2, 7, 3), {"dim": 1, "edge_order": 2}),
    ((2, 7, 3), {"dim": [-1, 0], "spacing": [2.0, 0.25]}),
    ((3, 4), {"coords": [(0, [0.0, 1.0, 3.0]), (1, [0.0, 0.5, 2.0, 2.1])]}),
    ((3, 4), {"coords": [(0, [0.0, 1.0, 3.0]), (1, [0.0, 0.5, 2.0, 2.1])], "edge_order": 2}),
    ((7, 2), {"coords": [(0, [0.0, 1, 1.5, 4, 4.5, 6, 9])], "dim": 0, "edge_order": 2}),
]


def _gradient_call(L, x, kwargs):
    kw = dict(kwargs)
    coords = kw.pop("coords", None)
    if coords is not None:
        kw["spacing"] = [L.tensor(c, dtype=x.dtype) for _, c in coords]
    return L.gradient(x, **kw)


@pytest.mark.parametrize("shape, kwargs", GRADIENTS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradient_matches_torch(shape, kwargs, dtype):
    check(lambda L, x: _gradient_call(L, x, kwargs), real(*shape, dtype=dtype))


@pytest.mark.parametrize("shape, kwargs", GRADIENTS)
def test_gradient_gradcheck(shape, kwargs):
    x = fastnn.tensor(real(*shape), requires_grad=True)
    assert gradcheck(lambda t: _gradient_call(fastnn, t, kwargs), (x,))


def test_gradient_of_ints_and_errors():
    check(lambda L, x: L.gradient(x), np.array([1, 2, 4, 7]), grad=())
    x = fastnn.ones(3, 4)
    with pytest.raises(RuntimeError, match="edge_order"):
        fastnn.gradient(x, edge_order=3)
    with pytest.raises(RuntimeError, match="length 3"):
        fastnn.gradient(x, spacing=[1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match="multiple times"):
        fastnn.gradient(x, dim=[0, 0])
    with pytest.raises(RuntimeError, match="at least edge_order"):
        fastnn.gradient(fastnn.ones(2), edge_order=2)
    with pytest.raises(RuntimeError, match="coordinates"):
        fastnn.gradient(x, spacing=[fastnn.arange(3.0), fastnn.arange(5.0)])
    with pytest.raises(TypeError, match="input"):
        fastnn.gradient([1.0, 2.0])


def test_vmap_is_func_vmap():
    assert fastnn.vmap is fastnn.func.vmap
