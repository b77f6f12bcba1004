"""torch parity of the element-wise additions (math_more.py, ops/special.py) and the in-place
variants (inplace_more.py): values, dtypes, shapes, gradients, in-place semantics, errors."""

import math

import numpy as np
import pytest

import fastnn
from api_parity import check

torch = pytest.importorskip("torch")
RNG = np.random.default_rng(0)


def real(*shape, dtype=np.float64):
    return RNG.standard_normal(shape).astype(dtype)


def inside(*shape, lo=0.05, hi=0.95):
    return RNG.uniform(lo, hi, shape)


def ints(*shape, hi=20):
    return RNG.integers(1, hi, shape).astype(np.int64)


UNARY = {  # name: input maker
    "erfc": lambda: real(3, 4) * 2,
    "erfinv": lambda: inside(3, 4, lo=-0.97, hi=0.97),
    "lgamma": lambda: RNG.uniform(-4.5, 6, (3, 4)),
    "digamma": lambda: RNG.uniform(-4.5, 6, (3, 4)),
    "i0": lambda: real(3, 4) * 3,
    "logit": lambda: inside(3, 4),
    "sinc": lambda: np.array([0.0, 0.5, -1.5, 2.25, 1e-3]),
    "deg2rad": lambda: real(5) * 90,
    "rad2deg": lambda: real(5),
    "sgn": lambda: real(2, 3),
    "absolute": lambda: real(2, 3),
    "positive": lambda: real(2, 3),
    "signbit": lambda: np.array([-0.0, 0.0, -1.0, 2.0, -np.inf]),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("form", ["method", "function"])
def test_unary_matches_torch(name, form):
    x = UNARY[name]()
    if form == "method":
        check(lambda L, t: getattr(t, name)(), x, torch=torch, atol=1e-9, rtol=1e-8)
    else:
        check(lambda L, t: getattr(L, name)(t), x, torch=torch, atol=1e-9, rtol=1e-8)


@pytest.mark.parametrize("name", ["erfc", "erfinv", "lgamma", "digamma", "i0", "sinc", "logit"])
def test_unary_float32_and_int_inputs(name):
    x = UNARY[name]().astype(np.float32)
    check(lambda L, t: getattr(t, name)(), x, torch=torch)
    if name in ("erfc", "lgamma", "i0", "sinc"):
        check(lambda L, t: getattr(t, name)(), ints(5, hi=5), grad=(), torch=torch)


def test_logit_eps_clamps_and_zeroes_the_gradient_outside():
    x = np.array([0.0, 0.01, 0.5, 0.99, 1.0])
    check(lambda L, t: t.logit(eps=0.05), x, torch=torch, atol=1e-9, rtol=1e-8)


@pytest.mark.parametrize("name", ["erfc", "erfinv", "lgamma", "digamma", "i0"])
def test_host_primitives_pass_gradcheck(name):
    x = fastnn.tensor(UNARY[name]()[0] * 0.9, requires_grad=True)
    assert fastnn.autograd.gradcheck(lambda t: getattr(t, name)(), (x,))


def test_special_edges_match_torch():
    x = np.array([-1.0, 1.0, 1.5, 0.0, -2.0, -3.0])
    for name in ("erfinv", "digamma", "lgamma"):
        check(lambda L, t, n=name: getattr(t, n)(), x, grad=(), torch=torch, atol=1e-9, rtol=1e-8)


def test_erfinv_and_erfc_keep_float64_precision_at_the_extremes():
    # erfinv near +-1 (where 1 - |x| holds the information), at the start switch |x| = 1/2,
    # tiny and subnormal x; erfc where 1 - erf(x) would lose every digit
    near_one = 1.0 - np.logspace(-16, -1, 40)
    x = np.concatenate([near_one, -near_one, [0.5, -0.5, 0.5 + 2**-52, 1e-300, 5e-324, -0.0]])
    got = fastnn.tensor(x).erfinv().numpy()
    want = torch.tensor(x).erfinv().numpy()
    np.testing.assert_allclose(got, want, rtol=4e-16, atol=0)
    assert np.signbit(got[-1])
    z = np.array([0.49, 0.5, 3.0, 10.0, 26.0, 27.5, -5.0, np.inf, -np.inf, np.nan])
    got = fastnn.tensor(z).erfc().numpy()
    np.testing.assert_allclose(got, torch.tensor(z).erfc().numpy(), rtol=4e-16, atol=0)


BINARY = {  # name: (x, y), y a tensor
    "xlogy": (real(3, 4), inside(4) * 2),
    "copysign": (real(3, 4), real(4)),
    "ldexp": (real(3, 4), real(3, 4)),
    "fmax": (real(3, 4), real(3, 4)),
    "fmin": (real(3, 4), real(1, 4)),
    "float_power": (inside(3, 4) * 2, real(3, 4)),
    "logaddexp2": (real(3, 4), real(4)),
    "greater": (real(3, 4), real(4)),
    "greater_equal": (real(3, 4), real(4)),
    "less": (real(3, 4), real(4)),
    "less_equal": (real(3, 4), real(4)),
    "not_equal": (real(3, 4), real(4)),
    "nextafter": (real(3, 4), real(4)),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("form", ["method", "function"])
def test_binary_matches_torch(name, form):
    x, y = BINARY[name]
    if form == "method":
        fn = lambda L, a, b: getattr(a, name)(b)
    else:
        fn = lambda L, a, b: getattr(L, name)(a, b)
    check(fn, x, y, grad=(0, 1), torch=torch, atol=1e-9, rtol=1e-8)


def test_binary_with_numbers_and_nans():
    x = np.array([0.0, 1.0, np.nan, 2.0, -3.0])
    y = np.array([np.nan, 0.5, 1.0, np.nan, 4.0])
    for name in ("fmax", "fmin", "xlogy", "copysign"):
        check(lambda L, a, b, n=name: getattr(L, n)(a, b), x, y, grad=(), torch=torch)
    check(lambda L, a: (a.xlogy(2.5), a.copysign(-1.0)), real(4), torch=torch)
    check(lambda L, a: L.xlogy(2.0, a), inside(4), torch=torch)
    check(lambda L, a: a.float_power(2), ints(4), grad=(), torch=torch)


def test_integer_functions():
    a, b = ints(3, 4, hi=40), ints(4, hi=40)
    for name in ("gcd", "lcm"):
        check(lambda L, x, y, n=name: getattr(L, n)(x, y), a, b, grad=(), torch=torch)
    v = np.array([-1.0, 0.0, 2.0])
    check(
        lambda L, x: L.heaviside(x, L.tensor([0.5, 0.5, 0.5], dtype=L.float64)),
        v,
        grad=(),
        torch=torch,
    )
    with pytest.raises(RuntimeError, match="gcd"):
        fastnn.gcd(fastnn.tensor([1.5]), fastnn.tensor([2.0]))
    with pytest.raises(TypeError, match="heaviside"):
        fastnn.heaviside(fastnn.tensor([1.0]), 0.5)


def test_casts_and_queries():
    x = real(2, 3) * 5
    check(lambda L, t: (t.byte(), t.char(), t.short()), np.abs(x), grad=(), torch=torch)
    for L in (fastnn, torch):
        t = L.tensor(x)
        assert t.is_cpu and t.get_device() == -1
        assert not (t.is_xpu or t.is_mps or t.is_meta or t.is_xla)
        assert (t.nbytes, t.itemsize) == (48, 8)
        assert t.is_signed() and not L.tensor([1], dtype=L.uint8).is_signed()
        assert not (t.is_complex() or t.is_conj() or t.is_neg() or t.is_inference())
        assert t.conj() is t and t.resolve_conj() is t and t.resolve_neg() is t
        assert t.is_same_size(t * 2) and not t.is_same_size(t.t())
        assert L.tensor([2.0]).is_nonzero() and not L.tensor(0.0).is_nonzero()
        assert tuple(t.H.shape) == (3, 2) and tuple(t.mH.shape) == (3, 2)
        assert t.data_ptr() != 0 and t[1].storage_offset() == 3 and t.storage_offset() == 0
        assert tuple(t.new_empty_strided((2, 2), (2, 1)).shape) == (2, 2)
        with pytest.raises(RuntimeError, match="more than one value"):
            t.is_nonzero()
        with pytest.raises(RuntimeError, match="no values"):
            L.tensor([]).is_nonzero()
    check(lambda L, t: (t.adjoint(), L.adjoint(t), t.H), x, torch=torch)
    for L in (fastnn, torch):
        with pytest.raises(RuntimeError, match="on a bool tensor is not supported"):
            L.tensor([True]).positive()


_BOOLEAN_NAMES = (
    "eq ne lt le gt ge greater less greater_equal less_equal not_equal logical_and logical_or "
    "logical_xor"
)
_BOOLEAN = set(_BOOLEAN_NAMES.split())


# ---- in place -----------------------------------------------------------------------------

_INPLACE_UNARY_NAMES = (
    "acos asin atan acosh asinh atanh arccos arcsin arctan arccosh arcsinh arctanh cos cosh sin "
    "sinh tan tanh log log10 log1p log2 exp2 expm1 erf erfc erfinv floor ceil round trunc frac "
    "fix sign sgn square rsqrt reciprocal nan_to_num deg2rad rad2deg logit lgamma digamma sinc "
    "i0 negative absolute"
)
INPLACE_UNARY = _INPLACE_UNARY_NAMES.split()
_DOMAIN = {"acosh": 1.5, "arccosh": 1.5}


@pytest.mark.parametrize("name", INPLACE_UNARY)
def test_unary_inplace_matches_torch_and_records(name):
    x = inside(2, 3) + _DOMAIN.get(name, 0.0)

    def fn(L, t):
        y = t * 1
        out = getattr(y, name + "_")()
        assert out is y and y._version == 1
        return y

    grad = () if name in _NO_TORCH_GRAD else (0,)
    check(fn, x, grad=grad, torch=torch, atol=1e-9, rtol=1e-8)


BINARY_INPLACE = {
    "fmod": 0,
    "remainder": 0,
    "floor_divide": 0,
    "hypot": 0,
    "atan2": 0,
    "arctan2": 0,
    "true_divide": 0,
    "multiply": 0,
    "subtract": 0,
    "divide": 0,
    "copysign": 0,
    "xlogy": 0,
    "float_power": 0,
    "ldexp": 0,
    "eq": 0,
    "ne": 0,
    "lt": 0,
    "le": 0,
    "gt": 0,
    "ge": 0,
    "greater": 0,
    "less": 0,
    "greater_equal": 0,
    "less_equal": 0,
    "not_equal": 0,
    "logical_and": 0,
    "logical_or": 0,
    "logical_xor": 0,
    "heaviside": 0,
    "nextafter": 0,
}
# torch refuses to differentiate these in place (fastnn records them): values only
_NO_TORCH_GRAD = {"acosh", "asinh", "atanh", "arccosh", "arcsinh", "arctanh", "floor_divide"}


@pytest.mark.parametrize("name", sorted(BINARY_INPLACE))
def test_binary_inplace_matches_torch(name):
    x, y = inside(3, 4) + 0.5, inside(3, 4) + 0.5
    y[0, 0] = x[0, 0]  # a tie for the comparisons

    def fn(L, a, b):
        z = a * 1
        assert getattr(z, name + "_")(b) is z and z._version == 1
        return z

    differentiable = name not in _NO_TORCH_GRAD and name not in ("heaviside", "nextafter")
    grad = (0, 1) if differentiable and name not in _BOOLEAN else ()
    check(fn, x, y, grad=grad, torch=torch, atol=1e-9, rtol=1e-8)


def test_inplace_on_a_leaf_that_requires_grad_raises_like_torch():
    for name, args in [("sin_", ()), ("fmod_", (2.0,)), ("t_", ()), ("clamp_min_", (0.0,))]:
        for L in (fastnn, torch):
            x = L.randn(2, 3, requires_grad=True)
            with pytest.raises(RuntimeError, match="leaf Variable"):
                getattr(x, name)(*args)
    x = fastnn.randn(2, 3, requires_grad=True)
    with fastnn.no_grad():
        assert x.sin_() is x and x._version == 1


def test_inplace_result_dtype_rules():
    for L in (fastnn, torch):
        i = L.tensor([1, 2, 3])
        with pytest.raises(RuntimeError, match="can't be cast"):
            i.sin_()
        f = L.tensor([1.0, 2.0])
        assert f.eq_(L.tensor([1.0, 3.0])).tolist() == [1.0, 0.0]
        b = L.tensor([True, False])
        assert b.logical_not_().tolist() == [False, True]
        n = L.tensor([6, 9])
        assert n.bitwise_and_(3).tolist() == [2, 1] and n.gcd_(L.tensor([4, 3])).tolist() == [2, 1]


def test_inplace_saved_tensor_is_caught_at_backward():
    x = fastnn.randn(3, requires_grad=True)
    y = x * 1
    z = y.exp()  # saves its output
    z.cos_()
    y.sin_()
    z.sum().backward()  # z's own history was taken over: fine
    w = x * 1
    v = w * w  # saves w
    w.tanh_()
    with pytest.raises(RuntimeError):
        v.sum().backward()


def test_other_inplace_ops_match_torch():
    x = real(3, 4)
    idx = np.array([2, 0])
    cases = [
        lambda L, t: t.clamp_min_(0.1),
        lambda L, t: t.clamp_max_(0.1),
        lambda L, t: t.clip_(-0.5, 0.5),
        lambda L, t: t.tril_(1),
        lambda L, t: t.triu_(-1),
        lambda L, t: t.cumsum_(1),
        lambda L, t: t.cumprod_(0),
        lambda L, t: t.renorm_(2, 0, 1.0),
        lambda L, t: t.squeeze_(),
        lambda L, t: t.unsqueeze_(1),
        lambda L, t: t.t_(),
        lambda L, t: t.transpose_(0, 1),
        lambda L, t: t.swapaxes_(0, 1),
        lambda L, t: t.swapdims_(1, 0),
        lambda L, t: t.fill_diagonal_(2.5),
        lambda L, t: t.index_fill_(1, L.tensor(idx), -1.0),
        lambda L, t: t.index_copy_(1, L.tensor(idx), L.ones(3, 2, dtype=L.float64)),
        lambda L, t: t.masked_scatter_(t > 0, L.arange(12.0, dtype=L.float64)),
        lambda L, t: t.put_(L.tensor([1, 5]), L.tensor([9.0, 8.0], dtype=L.float64)),
        lambda L, t: t.index_put_((L.tensor([0, 2]),), L.tensor(1.0, dtype=L.float64)),
        lambda L, t: t.scatter_reduce_(
            1, L.tensor([[0, 1], [1, 1], [3, 0]]), L.ones(3, 2, dtype=L.float64), "amax"
        ),
        lambda L, t: (
            t.addmv_(L.ones(3, 5, dtype=L.float64), L.ones(5, dtype=L.float64))
            if t.ndim == 1
            else t.addr_(L.ones(3, dtype=L.float64), L.ones(4, dtype=L.float64))
        ),
    ]
    for k, op in enumerate(cases):

        def fn(L, t, op=op):
            y = t * 1
            r = op(L, y)
            assert r is y and y._version >= 1
            return y

        check(fn, x, torch=torch, atol=1e-9, rtol=1e-8)
        assert k >= 0
    check(lambda L, t: t.fill_diagonal_(7.0, wrap=True), real(7, 3), grad=(), torch=torch)


@pytest.mark.parametrize(
    ("name", "args", "check_values"),
    [
        ("random_", (2, 9), lambda v: v.min() >= 2 and v.max() <= 8 and v == v.round()),
        ("random_", (5,), lambda v: v.min() >= 0 and v.max() <= 4),
        ("random_", (), lambda v: v.min() >= 0 and v.max() <= 2**24 and v.max() > 2**23),
        ("exponential_", (2.0,), lambda v: v.min() > 0 and abs(v.mean() - 0.5) < 0.05),
        ("log_normal_", (0.0, 0.5), lambda v: v.min() > 0 and abs(np.log(v).std() - 0.5) < 0.05),
        ("cauchy_", (1.0, 0.1), lambda v: abs(np.median(v) - 1.0) < 0.02),
        ("geometric_", (0.25,), lambda v: v.min() >= 1 and abs(v.mean() - 4.0) < 0.3),
    ],
)
def test_random_fillers_follow_the_seed(name, args, check_values):
    def draw():
        fastnn.manual_seed(5)
        t = fastnn.empty(4000)
        assert getattr(t, name)(*args) is t and t._version == 1
        return t.numpy()

    a, b = draw(), draw()
    np.testing.assert_array_equal(a, b)
    assert np.all(check_values(a)), name
    g = fastnn.Generator().manual_seed(3)
    c = getattr(fastnn.empty(10), name)(*args, generator=g).numpy()
    g.manual_seed(3)
    np.testing.assert_array_equal(c, getattr(fastnn.empty(10), name)(*args, generator=g).numpy())


def test_random_fillers_check_their_arguments():
    t = fastnn.empty(3)
    with pytest.raises(RuntimeError, match="from"):
        t.random_(5, 2)
    with pytest.raises(RuntimeError, match="lambd"):
        t.exponential_(0.0)
    with pytest.raises(RuntimeError, match="geometric_"):
        t.geometric_(1.5)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        fastnn.zeros(3, requires_grad=True).cauchy_()
    i = fastnn.zeros(2000, dtype=fastnn.int64).random_(-3, 3).numpy()
    assert i.min() == -3 and i.max() == 2
    assert math.isfinite(float(fastnn.zeros(5, dtype=fastnn.float64).random_().max()))
