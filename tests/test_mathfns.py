"""The tutorials' math surface: element-wise math, scans, sorting, einsum, indexing, out= and the
in-place variants, each against torch on awkward shapes and by float64 gradcheck."""

import numpy as np
import pytest

import fastnn
from conftest import assert_close
from fastnn.autograd import gradcheck

torch = pytest.importorskip("torch")

SHAPES = [(1,), (7,), (33,), (3, 5), (2, 7, 4)]


def both(a, requires_grad=False):
    """(fastnn tensor, torch tensor) of the same float64 array."""
    f = fastnn.tensor(a, requires_grad=requires_grad)
    t = torch.tensor(a, requires_grad=requires_grad)
    return f, t


def check(got, want, atol=1e-12, rtol=1e-10):
    if isinstance(want, (tuple, list)):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            check(g, w, atol, rtol)
        return
    w = want.detach().numpy()
    g = got.detach().numpy()
    assert g.dtype == w.dtype, (g.dtype, w.dtype)
    assert_close(g, w, atol=atol, rtol=rtol)


def noncontig(a):
    """A non-contiguous view holding a's values (every other column of a wider array)."""
    wide = np.repeat(a[..., None], 2, axis=-1)
    return np.moveaxis(wide, -1, 0)[0]


# ---- element-wise ------------------------------------------------------------------------------

UNARY = {
    "tan": lambda r, s: r.uniform(-1.2, 1.2, s),
    "sinh": lambda r, s: r.normal(0, 2, s),
    "cosh": lambda r, s: r.normal(0, 2, s),
    "asin": lambda r, s: r.uniform(-0.95, 0.95, s),
    "acos": lambda r, s: r.uniform(-0.95, 0.95, s),
    "atan": lambda r, s: r.normal(0, 3, s),
    "asinh": lambda r, s: r.normal(0, 3, s),
    "acosh": lambda r, s: r.uniform(1.1, 5, s),
    "atanh": lambda r, s: r.uniform(-0.9, 0.9, s),
    "exp2": lambda r, s: r.normal(0, 3, s),
    "log2": lambda r, s: r.uniform(0.1, 9, s),
    "log10": lambda r, s: r.uniform(0.1, 9, s),
    "erf": lambda r, s: r.normal(0, 1.5, s),
    "reciprocal": lambda r, s: r.uniform(0.5, 3, s) * r.choice([-1, 1], s),
    "frac": lambda r, s: r.normal(0, 5, s),
}
STEP = ("floor", "ceil", "trunc", "round")


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", list(UNARY))
def test_unary_matches_torch_and_gradcheck(name, shape, rng):
    a = UNARY[name](rng, shape)
    for arr in (a, noncontig(a)):
        f, t = both(arr, requires_grad=True)
        y, yt = getattr(fastnn, name)(f), getattr(torch, name)(t)
        check(y, yt)
        gv = rng.standard_normal(shape)
        y.backward(fastnn.tensor(gv))
        yt.backward(torch.tensor(gv))
        check(f.grad, t.grad, atol=1e-10)
        check(getattr(f.detach(), name)(), yt)  # the method
    assert gradcheck(getattr(fastnn, name), (fastnn.tensor(a, requires_grad=True),))


@pytest.mark.parametrize("name", list(UNARY) + list(STEP))
def test_unary_float32_and_int_dtypes_like_torch(name, rng):
    a = np.abs(UNARY.get(name, UNARY["atan"])(rng, (4, 3))).astype(np.float32) + 0.2
    if name in ("asin", "acos", "atanh"):
        a = a / (a.max() + 1)
    if name == "acosh":
        a = a + 1
    check(
        getattr(fastnn, name)(fastnn.tensor(a)), getattr(torch, name)(torch.tensor(a)), 1e-6, 1e-6
    )
    i = np.array([[1, 2], [3, 4]], dtype=np.int64)
    if name in ("asin", "acos", "atanh", "frac"):
        i = np.array([[0, 0], [0, 0]], dtype=np.int64)
    if name == "frac":  # torch refuses integers here
        with pytest.raises(RuntimeError):
            fastnn.frac(fastnn.tensor(i))
        return
    check(
        getattr(fastnn, name)(fastnn.tensor(i)), getattr(torch, name)(torch.tensor(i)), 1e-6, 1e-6
    )


@pytest.mark.parametrize("name", STEP)
def test_rounding_values_and_zero_gradient(name, rng):
    a = np.concatenate([rng.normal(0, 5, 30), [0.5, 1.5, 2.5, -0.5, -2.5, 3.0]])
    f, t = both(a, requires_grad=True)
    y, yt = getattr(fastnn, name)(f), getattr(torch, name)(t)
    check(y, yt, 0, 0)
    y.sum().backward()
    yt.sum().backward()
    check(f.grad, t.grad, 0, 0)


def test_round_decimals_like_torch(rng):
    a = rng.normal(0, 100, (5, 6))
    for d in (0, 1, 2, -1, -2):
        check(fastnn.round(fastnn.tensor(a), decimals=d), torch.round(torch.tensor(a), decimals=d))
        check(fastnn.tensor(a).round(decimals=d), torch.tensor(a).round(decimals=d))
    with pytest.raises(TypeError, match="decimals"):
        fastnn.tensor(a).round(decimals=1.5)


BROADCAST = [((3, 4), (3, 4)), ((3, 1), (1, 4)), ((7,), (2, 7)), ((1,), (33,)), ((2, 1, 5), (4, 1))]


@pytest.mark.parametrize("sa,sb", BROADCAST)
@pytest.mark.parametrize("name", ["atan2", "hypot", "logaddexp"])
def test_binary_matches_torch_and_gradcheck(name, sa, sb, rng):
    a, b = rng.normal(0, 2, sa), rng.normal(0, 2, sb)
    (fa, ta), (fb, tb) = both(a, True), both(b, True)
    y, yt = getattr(fastnn, name)(fa, fb), getattr(torch, name)(ta, tb)
    check(y, yt)
    y.sum().backward()
    yt.sum().backward()
    check(fa.grad, ta.grad, 1e-10)
    check(fb.grad, tb.grad, 1e-10)
    check(getattr(fa.detach(), name)(fb.detach()), yt)
    assert gradcheck(
        getattr(fastnn, name),
        (fastnn.tensor(a, requires_grad=True), fastnn.tensor(b, requires_grad=True)),
    )


def test_binary_refuses_a_number_like_torch():
    x = fastnn.tensor([1.0, 2.0])
    for name in ("atan2", "hypot", "logaddexp"):
        with pytest.raises(TypeError, match="other"):
            getattr(fastnn, name)(x, 1.0)


@pytest.mark.parametrize("weight", [0.3, "tensor"])
def test_lerp_matches_torch_and_gradcheck(weight, rng):
    a, b, w = rng.normal(size=(3, 5)), rng.normal(size=(3, 5)), rng.uniform(size=(1, 5))
    (fa, ta), (fb, tb) = both(a, True), both(b, True)
    fw, tw = (weight, weight) if weight != "tensor" else both(w, True)
    check(fastnn.lerp(fa, fb, fw), torch.lerp(ta, tb, tw))
    args = [fastnn.tensor(a, requires_grad=True), fastnn.tensor(b, requires_grad=True)]
    args.append(weight if weight != "tensor" else fastnn.tensor(w, requires_grad=True))
    assert gradcheck(fastnn.lerp, tuple(args))
    with pytest.raises(RuntimeError, match="dtype"):
        fastnn.lerp(fa, fastnn.tensor(b.astype(np.float32)), 0.5)


def test_clamp_with_tensor_bounds_matches_torch(rng):
    x = rng.normal(size=(4, 6))
    lo = rng.normal(size=(1, 6)) - 0.5
    hi = rng.normal(size=(4, 1)) + 0.5
    x[0, :3] = lo[0, :3]  # ties with the bounds
    (fx, tx), (fl, tl), (fh, th) = both(x, True), both(lo, True), both(hi, True)
    for args in ((fl, fh), (fl, None), (None, fh)):
        targs = tuple({id(fl): tl, id(fh): th}.get(id(v)) if v is not None else None for v in args)
        for g in (fx, fl, fh):
            g.grad = None
        for g in (tx, tl, th):
            g.grad = None
        y, yt = fastnn.clamp(fx, *args), torch.clamp(tx, *targs)
        check(y, yt)
        gv = rng.standard_normal(y.shape)
        y.backward(fastnn.tensor(gv))
        yt.backward(torch.tensor(gv))
        for f, t in ((fx, tx), (fl, tl), (fh, th)):
            if t.grad is None:
                assert f.grad is None or not f.grad.numpy().any()
            else:
                check(f.grad, t.grad)
    # min > max: max wins (torch)
    y, yt = fastnn.clamp(fx, fh + 10, fh), torch.clamp(tx, th + 10, th)
    check(y, yt)
    assert fx.clip(min=fl).shape == (4, 6)
    check(
        fastnn.clamp(fastnn.tensor([1, 5, 9]), fastnn.tensor([2.5])),
        torch.clamp(torch.tensor([1, 5, 9]), torch.tensor([2.5])),
    )


# ---- powers ------------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [1, 2, 3, 4, 2.0, 3.0, 0.5])
def test_small_powers_match_torch_and_gradcheck(p, rng):
    a = rng.uniform(0.2, 2, (7, 3)) * (1 if p == 0.5 else rng.choice([-1, 1], (7, 3)))
    f, t = both(a, True)
    y, yt = f**p, t**p
    check(y, yt, 1e-12, 1e-13)
    y.sum().backward()
    yt.sum().backward()
    check(f.grad, t.grad, 1e-12, 1e-12)
    assert gradcheck(lambda x: x**p, (fastnn.tensor(a, requires_grad=True),))
    assert type(y._ctx).__name__ in ("PowInt", "Sqrt")  # the fast forms, not pow


def test_small_powers_keep_dtypes():
    i = fastnn.tensor([1, -2, 3])
    check(i**2, torch.tensor([1, -2, 3]) ** 2)
    check(i**2.0, torch.tensor([1, -2, 3]) ** 2.0)
    f = fastnn.tensor([1.5, 2.0], dtype=fastnn.float32)
    check(f**3, torch.tensor([1.5, 2.0]) ** 3)
    check(fastnn.tensor([-0.0, 4.0]) ** 0.5, torch.tensor([-0.0, 4.0]) ** 0.5)


# ---- scans, products, sorting ------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(1,), (7,), (33,), (3, 5), (2, 7, 4)])
@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
def test_scans_match_torch_and_gradcheck(name, shape, rng):
    a = rng.uniform(0.5, 1.5, shape) * rng.choice([-1, 1], shape)
    for dim in range(-len(shape), len(shape)):
        f, t = both(a, True)
        y, yt = getattr(fastnn, name)(f, dim), getattr(torch, name)(t, dim)
        check(y, yt)
        y.sum().backward()
        yt.sum().backward()
        check(f.grad, t.grad, 1e-10)
        assert gradcheck(
            lambda x, d=dim: getattr(x, name)(d), (fastnn.tensor(a, requires_grad=True),)
        )


@pytest.mark.parametrize("zeros", [[2], [1, 4], [0, 5], [3, 3]])
def test_cumprod_and_prod_gradients_with_zeros(zeros, rng):
    a = rng.uniform(0.5, 2, (3, 6))
    for z in zeros:
        a[1, z] = 0.0
    a[2, zeros[0]] = 0.0
    for fn, tfn in (
        (lambda x: x.cumprod(1), lambda x: x.cumprod(1)),
        (lambda x: x.prod(1), lambda x: x.prod(1)),
        (lambda x: x.prod(), lambda x: x.prod()),
        (lambda x: x.prod(0, keepdim=True), lambda x: x.prod(0, keepdim=True)),
    ):
        f, t = both(a, True)
        y, yt = fn(f), tfn(t)
        check(y, yt)
        gv = rng.standard_normal(y.shape)
        y.backward(fastnn.tensor(gv))
        yt.backward(torch.tensor(gv))
        check(f.grad, t.grad, 1e-10)


def test_scan_and_prod_dtypes_like_torch():
    for dt in (np.int32, np.int64, np.bool_):
        a = np.array([[1, 0, 1], [1, 1, 1]], dtype=dt)
        for fn in (
            lambda x: x.cumsum(1),
            lambda x: x.cumprod(0),
            lambda x: x.prod(),
            lambda x: x.prod(1),
        ):
            check(fn(fastnn.tensor(a)), fn(torch.tensor(a)))
    a = np.array([1.5, 2.0], dtype=np.float32)
    check(
        fastnn.tensor(a).cumsum(0, dtype=fastnn.float64),
        torch.tensor(a).cumsum(0, dtype=torch.float64),
    )
    with pytest.raises(IndexError, match="range"):
        fastnn.tensor(a).cumsum(1)


@pytest.mark.parametrize("shape", [(1,), (7,), (33,), (3, 5), (2, 7, 4)])
def test_prod_matches_torch_and_gradcheck(shape, rng):
    a = rng.uniform(0.5, 1.5, shape)
    check(fastnn.tensor(a).prod(), torch.tensor(a).prod())
    for d in range(len(shape)):
        check(fastnn.prod(fastnn.tensor(a), d), torch.prod(torch.tensor(a), d))
        assert gradcheck(lambda x, d=d: x.prod(d), (fastnn.tensor(a, requires_grad=True),))
    assert gradcheck(lambda x: x.prod(), (fastnn.tensor(a, requires_grad=True),))


@pytest.mark.parametrize(
    "shape,dim", [((7,), 0), ((3, 5), 1), ((3, 5), None), ((2, 7, 4), (0, 2)), ((1,), -1)]
)
def test_logsumexp_matches_torch_and_gradcheck(shape, dim, rng):
    a = rng.normal(0, 3, shape)
    for keepdim in (False, True):
        kw = {} if dim is None else {"dim": dim}
        t_dim = tuple(range(len(shape))) if dim is None else dim
        check(
            fastnn.tensor(a).logsumexp(keepdim=keepdim, **kw),
            torch.tensor(a).logsumexp(t_dim, keepdim=keepdim),
        )
    assert gradcheck(lambda x: x.logsumexp(dim), (fastnn.tensor(a, requires_grad=True),))
    big = fastnn.tensor([1000.0, 1000.0, -np.inf])
    check(big.logsumexp(0), torch.tensor([1000.0, 1000.0, -np.inf]).logsumexp(0))
    check(
        fastnn.tensor([-np.inf, -np.inf]).logsumexp(0),
        torch.tensor([-np.inf, -np.inf]).logsumexp(0),
    )


@pytest.mark.parametrize("shape", [(1,), (7,), (33,), (3, 5), (2, 7, 4)])
def test_sort_argsort_topk_match_torch(shape, rng):
    a = rng.permutation(int(np.prod(shape))).reshape(shape).astype(np.float64)
    for dim in range(-len(shape), len(shape)):
        for desc in (False, True):
            f, t = both(a, True)
            (v, i), (vt, it) = f.sort(dim, desc), t.sort(dim, desc)
            check(v, vt)
            check(i, it)
            check(fastnn.argsort(f, dim, descending=desc), torch.argsort(t, dim, descending=desc))
            gv = rng.standard_normal(v.shape)
            v.backward(fastnn.tensor(gv))
            vt.backward(torch.tensor(gv))
            check(f.grad, t.grad)
        n = shape[dim]
        for k in sorted({0, 1, n // 2, n}):
            for largest in (True, False):
                r, rt = (
                    fastnn.topk(fastnn.tensor(a), k, dim, largest),
                    torch.topk(torch.tensor(a), k, dim, largest),
                )
                check(r.values, rt.values)
                check(r.indices, rt.indices)
        assert gradcheck(
            lambda x, d=dim: x.topk(max(n // 2, 1), d).values,
            (fastnn.tensor(a, requires_grad=True),),
        )


def test_stable_sort_keeps_order_of_ties_and_nan_last():
    a = np.array([2.0, 1.0, 2.0, np.nan, 1.0, 2.0, 0.0])
    for desc in (False, True):
        f, t = (
            fastnn.tensor(a).sort(descending=desc, stable=True),
            torch.tensor(a).sort(descending=desc, stable=True),
        )
        check(f.values, t.values)
        check(f.indices, t.indices)
    i = np.array([3, 1, 2, 1], dtype=np.int32)
    check(
        fastnn.sort(fastnn.tensor(i), stable=True).indices,
        torch.sort(torch.tensor(i), stable=True).indices,
    )


def test_topk_and_kthvalue_refuse_bad_k():
    x = fastnn.tensor([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match="out of range"):
        x.topk(4)
    with pytest.raises(RuntimeError, match="out of range"):
        x.kthvalue(0)
    with pytest.raises(IndexError, match="range"):
        x.sort(1)


@pytest.mark.parametrize("shape", [(1,), (7,), (8,), (3, 5), (2, 6, 4)])
def test_kthvalue_and_median_match_torch(shape, rng):
    a = rng.permutation(int(np.prod(shape))).reshape(shape).astype(np.float64)
    check(fastnn.tensor(a).median(), torch.tensor(a).median())
    for dim in range(len(shape)):
        for keepdim in (False, True):
            f, t = fastnn.tensor(a).median(dim, keepdim), torch.tensor(a).median(dim, keepdim)
            check(f.values, t.values)
            check(f.indices, t.indices)
            k = shape[dim]
            f, t = (
                fastnn.kthvalue(fastnn.tensor(a), k, dim, keepdim),
                torch.kthvalue(torch.tensor(a), k, dim, keepdim),
            )
            check(f.values, t.values)
            check(f.indices, t.indices)
        assert gradcheck(
            lambda x, d=dim: x.median(d).values, (fastnn.tensor(a, requires_grad=True),)
        )


# ---- linear algebra ----------------------------------------------------------------------------


def test_addmm_outer_bmm_match_torch_and_gradcheck(rng):
    m, a, b = rng.normal(size=(7, 5)), rng.normal(size=(7, 3)), rng.normal(size=(3, 5))
    for beta, alpha in ((1, 1), (0.5, 2.0), (0, 1)):
        check(
            fastnn.addmm(
                fastnn.tensor(m), fastnn.tensor(a), fastnn.tensor(b), beta=beta, alpha=alpha
            ),
            torch.addmm(torch.tensor(m), torch.tensor(a), torch.tensor(b), beta=beta, alpha=alpha),
        )
    check(
        fastnn.addmm(fastnn.tensor(m[0]), fastnn.tensor(a), fastnn.tensor(b)),
        torch.addmm(torch.tensor(m[0]), torch.tensor(a), torch.tensor(b)),
    )
    nan = np.full((7, 5), np.nan)
    check(
        fastnn.addmm(fastnn.tensor(nan), fastnn.tensor(a), fastnn.tensor(b), beta=0),
        torch.addmm(torch.tensor(nan), torch.tensor(a), torch.tensor(b), beta=0),
    )
    T = lambda x: fastnn.tensor(x, requires_grad=True)
    assert gradcheck(lambda x, y, z: fastnn.addmm(x, y, z, beta=0.5, alpha=2.0), (T(m), T(a), T(b)))
    u, v = rng.normal(size=7), rng.normal(size=33)
    check(
        fastnn.outer(fastnn.tensor(u), fastnn.tensor(v)),
        torch.outer(torch.tensor(u), torch.tensor(v)),
    )
    assert gradcheck(fastnn.outer, (T(u), T(v)))
    x, y = rng.normal(size=(2, 7, 3)), rng.normal(size=(2, 3, 1))
    check(
        fastnn.bmm(fastnn.tensor(x), fastnn.tensor(y)), torch.bmm(torch.tensor(x), torch.tensor(y))
    )


EINSUM = [
    ("ij,jk->ik", [(7, 3), (3, 5)]),
    ("bij,bjk->bik", [(2, 7, 3), (2, 3, 1)]),
    ("i,i->", [(33,), (33,)]),
    ("i,j->ij", [(7,), (5,)]),
    ("ij->ji", [(3, 7)]),
    ("ii->i", [(5, 5)]),
    ("ii", [(4, 4)]),
    ("ij", [(3, 4)]),
    ("ij->", [(3, 4)]),
    ("bhqd,bhkd->bhqk", [(2, 3, 5, 4), (2, 3, 7, 4)]),
    ("ij,kj", [(3, 4), (5, 4)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (4, 5)]),
    ("b...,b->...", [(3, 2, 4), (3,)]),
    ("iij->j", [(3, 3, 2)]),
    ("ij,ij,j->i", [(3, 4), (3, 4), (4,)]),
    ("i j , j k -> i k", [(2, 3), (3, 2)]),
    ("ij,ik->jk", [(1, 4), (3, 5)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUM)
def test_einsum_matches_torch_and_gradcheck(eq, shapes, rng):
    arrays = [rng.normal(size=s) for s in shapes]
    check(
        fastnn.einsum(eq, *[fastnn.tensor(a) for a in arrays]),
        torch.einsum(eq, *[torch.tensor(a) for a in arrays]),
    )
    check(
        fastnn.einsum(eq, [fastnn.tensor(a) for a in arrays]),
        torch.einsum(eq, [torch.tensor(a) for a in arrays]),
    )
    fs = [fastnn.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, yt = fastnn.einsum(eq, *fs), torch.einsum(eq, *ts)
    gv = rng.standard_normal(yt.shape)
    y.backward(fastnn.tensor(gv))
    yt.backward(torch.tensor(gv))
    for f, t in zip(fs, ts):
        check(f.grad, t.grad, 1e-10)
    assert gradcheck(
        lambda *xs: fastnn.einsum(eq, *xs),
        tuple(fastnn.tensor(a, requires_grad=True) for a in arrays),
    )


def test_einsum_refuses_bad_equations():
    x = fastnn.ones(2, 3)
    with pytest.raises(RuntimeError, match="operands"):
        fastnn.einsum("ij,jk->ik", x)
    with pytest.raises(RuntimeError, match="dimensions"):
        fastnn.einsum("ijk->i", x)
    with pytest.raises(RuntimeError, match="output"):
        fastnn.einsum("ij->iz", x)
    with pytest.raises(RuntimeError, match="subscript"):
        fastnn.einsum("i1->i", x)


@pytest.mark.parametrize("dims", [2, 1, 0, ([1, 0], [0, 1]), ([2], [0])])
def test_tensordot_matches_torch(dims, rng):
    a, b = rng.normal(size=(3, 4, 5)), rng.normal(size=(4, 3, 2))
    if dims in (2, 1):
        b = rng.normal(size=(4, 5, 2)) if dims == 2 else rng.normal(size=(5, 2))
    if dims == ([2], [0]):
        b = rng.normal(size=(5, 2))
    check(
        fastnn.tensordot(fastnn.tensor(a), fastnn.tensor(b), dims),
        torch.tensordot(torch.tensor(a), torch.tensor(b), dims),
    )
    assert gradcheck(
        lambda x, y: fastnn.tensordot(x, y, dims),
        (fastnn.tensor(a, requires_grad=True), fastnn.tensor(b, requires_grad=True)),
    )


# ---- shape and indexing ------------------------------------------------------------------------


@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid_matches_torch(indexing, rng):
    xs = [rng.normal(size=n) for n in (3, 1, 4)]
    for k in (1, 2, 3):
        got = fastnn.meshgrid(*[fastnn.tensor(x) for x in xs[:k]], indexing=indexing)
        want = torch.meshgrid(*[torch.tensor(x) for x in xs[:k]], indexing=indexing)
        check(got, want)
    got = fastnn.meshgrid([fastnn.tensor(x) for x in xs[:2]], indexing=indexing)
    check(got, torch.meshgrid([torch.tensor(x) for x in xs[:2]], indexing=indexing))
    with pytest.raises(RuntimeError, match="indexing"):
        fastnn.meshgrid(fastnn.tensor(xs[0]), indexing="yx")
    with pytest.raises(RuntimeError, match="1D"):
        fastnn.meshgrid(fastnn.ones(2, 2))


@pytest.mark.parametrize("shape", [(1, 1), (7, 3), (3, 7), (2, 5, 5)])
def test_tril_triu_match_torch_and_gradcheck(shape, rng):
    a = rng.normal(size=shape)
    for d in (-2, -1, 0, 1, 3):
        for name in ("tril", "triu"):
            check(
                getattr(fastnn, name)(fastnn.tensor(a), d), getattr(torch, name)(torch.tensor(a), d)
            )
            check(
                getattr(fastnn.tensor(a), name)(diagonal=d),
                getattr(torch.tensor(a), name)(diagonal=d),
            )
            assert gradcheck(
                lambda x, n=name, d=d: getattr(x, n)(d), (fastnn.tensor(a, requires_grad=True),)
            )
    with pytest.raises(RuntimeError, match="2 dimensions"):
        fastnn.tril(fastnn.ones(3))


def test_gather_scatter_scatter_add_match_torch_and_gradcheck(rng):
    x = rng.normal(size=(4, 6))
    idx = rng.integers(0, 4, (3, 5))
    src = rng.normal(size=(3, 7))
    ix = np.stack([rng.permutation(4)[:3] for _ in range(5)], 1)  # distinct rows per column
    fi, ti = fastnn.tensor(ix), torch.tensor(ix)
    check(
        fastnn.gather(fastnn.tensor(x), 0, fastnn.tensor(idx)),
        torch.gather(torch.tensor(x), 0, torch.tensor(idx)),
    )
    check(
        fastnn.scatter(fastnn.tensor(x), 0, fi, fastnn.tensor(src)),
        torch.scatter(torch.tensor(x), 0, ti, torch.tensor(src)),
    )
    check(fastnn.tensor(x).scatter(0, fi, 2.5), torch.tensor(x).scatter(0, ti, 2.5))
    check(fastnn.tensor(x).scatter(0, fi, value=2.5), torch.tensor(x).scatter(0, ti, value=2.5))
    check(
        fastnn.scatter_add(fastnn.tensor(x), 0, fastnn.tensor(idx), fastnn.tensor(src)),
        torch.scatter_add(torch.tensor(x), 0, torch.tensor(idx), torch.tensor(src)),
    )
    check(
        fastnn.tensor(x).scatter(1, fastnn.tensor(idx), fastnn.tensor(src), reduce="add"),
        torch.tensor(x).scatter(1, torch.tensor(idx), torch.tensor(src), reduce="add"),
    )
    T = lambda a: fastnn.tensor(a, requires_grad=True)
    assert gradcheck(lambda a: a.gather(1, fastnn.tensor(idx)), (T(x),))
    assert gradcheck(lambda a, s: a.scatter(0, fi, s), (T(x), T(src)))
    assert gradcheck(lambda a, s: a.scatter_add(0, fastnn.tensor(idx), s), (T(x), T(src)))
    for f, t in ((fastnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)),):
        # torch's own backward refuses a src larger than index: compare on an index-sized one
        s, st = (
            fastnn.tensor(src[:3, :5], requires_grad=True),
            torch.tensor(src[:3, :5], requires_grad=True),
        )
        f.scatter(0, fi, s).pow(2).sum().backward()
        t.scatter(0, ti, st).pow(2).sum().backward()
        check(f.grad, t.grad)
        check(s.grad, st.grad)
    y = fastnn.tensor(x)
    y.scatter_(0, fi, fastnn.tensor(src))
    check(y, torch.tensor(x).scatter_(0, ti, torch.tensor(src)))
    y = fastnn.tensor(x)
    v0 = y._version
    y.scatter_add_(0, fastnn.tensor(idx), fastnn.tensor(src))
    assert y._version == v0 + 1
    check(y, torch.tensor(x).scatter_add_(0, torch.tensor(idx), torch.tensor(src)))


def test_scatter_refuses_bad_input():
    x = fastnn.zeros(3, 4, dtype=fastnn.float64)
    before = x.numpy().copy()
    with pytest.raises(RuntimeError, match="int64"):
        x.scatter(0, fastnn.tensor([[0, 1]], dtype=fastnn.int32), 1.0)
    with pytest.raises(RuntimeError, match="out of bounds"):
        x.scatter_(0, fastnn.tensor([[3]]), 1.0)
    with pytest.raises(RuntimeError, match="dimensions"):
        x.scatter(0, fastnn.tensor([0]), 1.0)
    with pytest.raises(RuntimeError, match="dtype"):
        x.scatter(0, fastnn.tensor([[0]]), fastnn.ones(1, 1))
    np.testing.assert_array_equal(x.numpy(), before)


def test_flip_roll_narrow_movedim_match_torch_and_gradcheck(rng):
    a = rng.normal(size=(2, 7, 3))
    f, t = fastnn.tensor(a), torch.tensor(a)
    T = lambda: fastnn.tensor(a, requires_grad=True)
    for dims in ((0,), (1, 2), (-1,), (0, 1, 2)):
        check(fastnn.flip(f, dims), torch.flip(t, dims))
        assert gradcheck(lambda x, d=dims: x.flip(d), (T(),))
    check(f.flip(2, 0), t.flip(2, 0))
    check(fastnn.fliplr(f), torch.fliplr(t))
    check(fastnn.flipud(f), torch.flipud(t))
    for shifts, dims in ((1, 0), (-3, 1), ((2, 1), (1, 2)), (5, None), (40, 1)):
        check(fastnn.roll(f, shifts, dims), torch.roll(t, shifts, dims))
        assert gradcheck(lambda x, s=shifts, d=dims: x.roll(s, d), (T(),))
    for dim, start, length in ((1, 2, 3), (0, 0, 2), (-1, -2, 2), (1, 7, 0)):
        check(fastnn.narrow(f, dim, start, length), torch.narrow(t, dim, start, length))
    with pytest.raises(RuntimeError, match="exceeds"):
        f.narrow(1, 5, 3)
    for src, dst in ((0, 2), (-1, 0), ((0, 1), (2, 0)), (1, 1)):
        check(fastnn.movedim(f, src, dst), torch.movedim(t, src, dst))
        check(f.moveaxis(src, dst), t.moveaxis(src, dst))
    with pytest.raises(RuntimeError, match="movedim"):
        f.movedim((0, 1), 2)
    with pytest.raises(IndexError, match="range"):
        f.flip(3)


def test_existing_shape_ops_match_torch(rng):
    a = rng.normal(size=(5, 4))
    f, t = fastnn.tensor(a), torch.tensor(a)
    for n in (1, 2, 3, 4, 6):
        check(f.chunk(n, 0), t.chunk(n, 0))
    check(f.split([1, 4], 0), t.split([1, 4], 0))
    check(f.unbind(1), t.unbind(1))
    check(f.index_select(1, fastnn.tensor([3, 0, 3])), t.index_select(1, torch.tensor([3, 0, 3])))
    check(f.repeat(2, 1, 3), t.repeat(2, 1, 3))
    check(f[:, :1].expand(5, 3), t[:, :1].expand(5, 3))
    check(f[:1].expand_as(f), t[:1].expand_as(t))
    m = a > 0
    check(f.masked_fill(fastnn.tensor(m), -1.0), t.masked_fill(torch.tensor(m), -1.0))


def test_masked_fill_takes_bool_masks_only_like_torch():
    """A 0/1 int or float mask is torch's RuntimeError (in place or not), not a silent cast."""
    for mask in ([1, 0], [1.0, 0.0]):
        for lib in (torch, fastnn):
            x = lib.ones(2, 2)
            for call in (x.masked_fill, x.masked_fill_):
                with pytest.raises(RuntimeError, match="only supports boolean masks"):
                    call(lib.tensor(mask), 0.0)
            assert x.tolist() == [[1.0, 1.0], [1.0, 1.0]]
    x = fastnn.ones(2, 2)
    assert x.masked_fill_(fastnn.tensor([True, False]), 0.0).tolist() == [[0, 1], [0, 1]]


def test_tensor_softmax_needs_a_dim_like_torch():
    # the method has no default dim in torch; only the functional form guesses one, warning
    for lib in (torch, fastnn):
        x = lib.ones(2, 3)
        for name in ("softmax", "log_softmax"):
            with pytest.raises(TypeError, match="dim"):
                getattr(x, name)()
            with pytest.raises(TypeError, match="dim"):
                getattr(lib, name)(x)
        with pytest.warns(UserWarning, match="Implicit dimension"):
            assert lib.nn.functional.softmax(x).shape == (2, 3)


# ---- out= and in-place -------------------------------------------------------------------------


def test_out_writes_into_the_given_tensor(rng):
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
    for name, args in (
        ("exp", (a,)),
        ("sin", (a,)),
        ("atan", (a,)),
        ("floor", (a,)),
        ("sum", (a, 1)),
        ("cumsum", (a, 0)),
        ("add", (a, a)),
        ("atan2", (a, a)),
    ):
        out = fastnn.empty(
            torch.__dict__[name](
                *[torch.tensor(x) if isinstance(x, np.ndarray) else x for x in args]
            ).shape,
            dtype=fastnn.float64,
        )
        v0 = out._version
        r = getattr(fastnn, name)(
            *[fastnn.tensor(x) if isinstance(x, np.ndarray) else x for x in args], out=out
        )
        assert r is out and out._version == v0 + 1
        check(
            out,
            getattr(torch, name)(
                *[torch.tensor(x) if isinstance(x, np.ndarray) else x for x in args]
            ),
        )
    out = fastnn.empty(3, 2, dtype=fastnn.float64)
    fastnn.matmul(fastnn.tensor(a), fastnn.tensor(b), out=out)
    check(out, torch.tensor(a) @ torch.tensor(b))
    out = fastnn.empty(6, 4, dtype=fastnn.float64)
    fastnn.cat([fastnn.tensor(a), fastnn.tensor(a)], out=out)
    check(out, torch.cat([torch.tensor(a)] * 2))
    out = fastnn.empty(2, 3, 4, dtype=fastnn.float64)
    fastnn.stack([fastnn.tensor(a), fastnn.tensor(a)], out=out)
    check(out, torch.stack([torch.tensor(a)] * 2))
    x = fastnn.tensor(a)
    fastnn.exp(x, out=x)  # aliasing the input
    check(x, torch.exp(torch.tensor(a)))


def test_out_refuses_bad_out():
    x = fastnn.tensor([[0.5, 1.5]])
    out = fastnn.zeros(2, dtype=fastnn.int64)
    with pytest.raises(RuntimeError, match="shape"):
        fastnn.exp(x, out=fastnn.zeros(3))
    with pytest.raises(RuntimeError, match="can't be cast"):
        fastnn.exp(x.reshape(2), out=out)
    assert not out.numpy().any()
    with pytest.raises(RuntimeError, match="automatic differentiation"):
        fastnn.exp(fastnn.ones(2, requires_grad=True), out=fastnn.zeros(2))
    with pytest.raises(TypeError, match="out"):
        fastnn.exp(x, out=np.zeros(2))


INPLACE = [
    ("add_", lambda o: (o,), {"alpha": 2.0}),
    ("sub_", lambda o: (o,), {"alpha": 0.5}),
    ("mul_", lambda o: (o,), {}),
    ("div_", lambda o: (o,), {}),
    ("addcmul_", lambda o: (o, o), {"value": 0.5}),
    ("addcdiv_", lambda o: (o, o + 3), {"value": 2.0}),
    ("sqrt_", lambda o: (), {}),
    ("exp_", lambda o: (), {}),
    ("neg_", lambda o: (), {}),
    ("abs_", lambda o: (), {}),
    ("lerp_", lambda o: (o, 0.25), {}),
    ("clamp_", lambda o: (0.2, 0.8), {}),
    ("pow_", lambda o: (2,), {}),
    ("zero_", lambda o: (), {}),
    ("fill_", lambda o: (1.5,), {}),
    ("copy_", lambda o: (o,), {}),
]


@pytest.mark.parametrize("name,make,kw", INPLACE)
def test_inplace_variants_match_torch(name, make, kw, rng):
    a, o = rng.uniform(0.1, 1, (3, 4)), rng.uniform(0.1, 1, (1, 4))
    f, t = fastnn.tensor(a), torch.tensor(a)
    v0 = f._version
    r = getattr(f, name)(*make(fastnn.tensor(o)), **kw)
    getattr(t, name)(*make(torch.tensor(o)), **kw)
    assert r is f and f._version == v0 + 1
    check(f, t)
    # recorded in a graph: the gradient flows through the in-place op like torch
    if name in ("zero_", "fill_", "copy_"):
        return
    fx, tx = fastnn.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    fo, to = fastnn.tensor(o, requires_grad=True), torch.tensor(o, requires_grad=True)
    y, yt = fx * 1.0, tx * 1.0
    getattr(y, name)(*make(fo), **kw)
    getattr(yt, name)(*make(to), **kw)
    (y * y).sum().backward()
    (yt * yt).sum().backward()
    check(fx.grad, tx.grad, 1e-10)
    if to.grad is not None:
        check(fo.grad, to.grad, 1e-10)


def test_inplace_refuses_a_result_the_tensor_cannot_hold():
    i = fastnn.tensor([1, 4, 9])
    with pytest.raises(RuntimeError, match="can't be cast"):
        i.sqrt_()
    assert i.tolist() == [1, 4, 9] and i._version == 0
    leaf = fastnn.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        leaf.exp_()


def test_scatter_reads_a_0d_index_as_one_element_on_1d_self():
    """The PyTorch transforms tutorial one-hot encodes labels with
    zeros(10).scatter_(0, tensor(y), value=1)."""
    torch = pytest.importorskip("torch")
    ours = fastnn.zeros(10).scatter_(0, fastnn.tensor(3), value=1)
    theirs = torch.zeros(10).scatter_(0, torch.tensor(3), value=1)
    assert ours.tolist() == theirs.tolist()
    got = fastnn.zeros(5).scatter(0, fastnn.tensor(2), fastnn.tensor(7.0))
    assert got.tolist() == torch.zeros(5).scatter(0, torch.tensor(2), torch.tensor(7.0)).tolist()
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        fastnn.zeros(2, 5).scatter(0, fastnn.tensor(3), value=1)


def test_floating_point_exceptions_are_silent_like_torch():
    """log(0), sqrt(-1), x / 0, exp overflow and an out-of-range cast give torch's values
    without numpy's RuntimeWarnings; the user's own numpy calls still warn. (The suite turns
    warnings from fastnn's frames into errors, so this runs in a fresh interpreter.)"""
    import json
    import subprocess
    import sys

    code = (
        "import json, warnings, numpy as np, fastnn\n"
        "x = fastnn.tensor([-1.0, 0.0, 2.0])\n"
        "with warnings.catch_warnings(record=True) as seen:\n"
        "    r = [x.sqrt(), x.log(), 1 / x, (x * 1e30).exp(), (x * 1e6).half(), x.rsqrt()]\n"
        "    r.append(fastnn.tensor(0.0) / fastnn.tensor(0.0))\n"
        "    print(len(seen), json.dumps([v.float().numpy().tolist() for v in r]))\n"
        "    np.log(np.zeros(1))\n"
        "    print(len(seen))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    lines = out.stdout.splitlines()
    assert lines[0].startswith("0 "), out.stdout
    got = json.loads(lines[0][2:])
    want = [
        torch.tensor([-1.0, 0.0, 2.0]).sqrt(),
        torch.tensor([-1.0, 0.0, 2.0]).log(),
        1 / torch.tensor([-1.0, 0.0, 2.0]),
        (torch.tensor([-1.0, 0.0, 2.0]) * 1e30).exp(),
        (torch.tensor([-1.0, 0.0, 2.0]) * 1e6).half(),
        torch.tensor([-1.0, 0.0, 2.0]).rsqrt(),
        torch.tensor(0.0) / torch.tensor(0.0),
    ]
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w.float().numpy(), rtol=1e-6)
    assert lines[1] == "1"  # numpy's own warning, outside fastnn
