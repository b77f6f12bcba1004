"""torch parity of the index, reduction and top-level additions (index_more.py, reduce_more.py,
functions_api.py): values, dtypes, shapes, gradients and errors."""

import numpy as np
import pytest

import fastnn
from api_parity import check as parity_check

torch = pytest.importorskip("torch")
RNG = np.random.default_rng(1)


def check(fn, *arrays, grad=(), atol=1e-9, rtol=1e-8):
    parity_check(fn, *arrays, grad=grad, atol=atol, rtol=rtol, torch=torch)


def real(*shape):
    return RNG.standard_normal(shape)


def L_long(L, values):
    return L.tensor(np.asarray(values, dtype=np.int64))


X = real(3, 4)
X3 = real(2, 3, 4)
V = real(5)

CASES = {  # id: (recipe, inputs)
    "ravel": (lambda L, t: (t.ravel(), L.ravel(t.t())), [X]),
    "take": (lambda L, t: L.take(t, L_long(L, [[0, -1], [5, 3]])), [X]),
    "take_along_dim": (
        lambda L, t: (
            t.take_along_dim(L_long(L, [[0], [2], [1]]), 1),
            L.take_along_dim(t, L_long(L, [3, 0])),
        ),
        [X],
    ),
    "tensor_split": (
        lambda L, t: (t.tensor_split(3, 1), L.tensor_split(t, [1, 3], dim=1), t.tensor_split(2)),
        [X],
    ),
    "hsplit": (lambda L, t: (L.hsplit(t, 2), t.hsplit([1, 2])), [X]),
    "vsplit": (lambda L, t: L.vsplit(t, [1]), [X]),
    "dsplit": (lambda L, t: t.dsplit(2), [X3]),
    "rot90": (lambda L, t: [L.rot90(t, k, (0, 2)) for k in range(-1, 4)], [X3]),
    "diag_embed": (
        lambda L, t: (L.diag_embed(t), t.diag_embed(1), t.diag_embed(-1, 0, 2)),
        [X],
    ),
    "diagflat": (lambda L, t: (L.diagflat(t), t.diagflat(-2)), [X]),
    "unfold": (lambda L, t: (t.unfold(1, 2, 1), t.unfold(-1, 3, 2), t.unfold(0, 2, 1)), [X3]),
    "select": (lambda L, t: (t.select(1, -1), L.select(t, 0, 2)), [X]),
    "select_scatter": (
        lambda L, t, s: L.select_scatter(t, s, 1, 2),
        [X, real(3)],
    ),
    "slice_scatter": (
        lambda L, t, s: (
            t.slice_scatter(s, 1, 0, 4, 2),
            L.slice_scatter(t, s.reshape(1, -1)[:, :4], 0, 1, 2),
        ),
        [X, real(3, 2)],
    ),
    "diagonal_scatter": (
        lambda L, t, s: (L.diagonal_scatter(t, s), t.diagonal_scatter(s[:2], 2)),
        [X, real(3)],
    ),
    "index_copy": (
        lambda L, t, s: L.index_copy(t, 1, L_long(L, [3, 0]), s),
        [X, real(3, 2)],
    ),
    "index_fill": (lambda L, t: t.index_fill(1, L_long(L, [0, 2]), -2.0), [X]),
    "masked_scatter": (
        lambda L, t, s: L.masked_scatter(t, t > 0, s),
        [X, real(12)],
    ),
    "put": (
        lambda L, t, s: (t.put(L_long(L, [0, -2]), s), L.put(t, L_long(L, [1, 1]), s, True)),
        [X, real(2)],
    ),
    "index_put": (
        lambda L, t, s: (
            L.index_put(t, (L_long(L, [0, 2]), L_long(L, [1, 1])), s),
            t.index_put((L_long(L, [0, 0]), L_long(L, [1, 1])), s, accumulate=True),
        ),
        [X, real(2)],
    ),
    "argwhere": (lambda L, t: (L.argwhere(t > 0), t.argwhere()), [X]),
    "msort": (lambda L, t: L.msort(t), [X]),
    "nansum": (
        lambda L, t: (L.nansum(_nans(L, t)), _nans(L, t).nansum(1, keepdim=True)),
        [X],
    ),
    "nanmean": (lambda L, t: (L.nanmean(_nans(L, t)), _nans(L, t).nanmean(0)), [X]),
    "nanmedian": (
        lambda L, t: (L.nanmedian(_nans(L, t)), _nans(L, t).nanmedian(1), t.nanmedian(0, True)),
        [X],
    ),
    "aminmax": (lambda L, t: (L.aminmax(t), t.aminmax(dim=1, keepdim=True)), [X]),
    "cummax": (lambda L, t: (L.cummax(t, 1), t.cummax(0)), [X]),
    "cummin": (lambda L, t: (L.cummin(t, -1), t.cummin(0)), [X]),
    "logcumsumexp": (lambda L, t: (L.logcumsumexp(t * 30, 1), t.logcumsumexp(0)), [X]),
    "quantile": (
        lambda L, t: (
            L.quantile(t, 0.3),
            t.quantile(L.tensor([0.0, 0.25, 1.0], dtype=L.float64), dim=1, keepdim=True),
            [t.quantile(0.4, 0, interpolation=m) for m in ("lower", "higher", "midpoint")],
            t.quantile(0.5, 1, interpolation="nearest"),
        ),
        [X],
    ),
    "nanquantile": (
        lambda L, t: (L.nanquantile(_nans(L, t), 0.7, 1), _nans(L, t).nanquantile(0.2)),
        [X],
    ),
    "mode": (lambda L, t: L.mode((t * 2).round(), 1), [real(4, 9)]),
    "cov": (
        lambda L, t, w: (
            L.cov(t),
            t.cov(correction=0),
            L.cov(t, aweights=w.abs()),
            L.cov(t, fweights=L_long(L, [1, 2, 1, 3]), aweights=w.abs()),
            L.cov(t[0]),
        ),
        [X, real(4)],
    ),
    "corrcoef": (lambda L, t: (L.corrcoef(t), t.corrcoef()), [X]),
    "dist": (lambda L, t, u: (L.dist(t, u), t.dist(u, 1), t.dist(u, 3.5)), [X, real(4)]),
    "renorm": (lambda L, t: (L.renorm(t, 2, 0, 1.0), t.renorm(1, 1, 0.5)), [X]),
    "inner": (lambda L, t, u: (L.inner(t, u), t.inner(u[0])), [X, real(2, 4)]),
    "vdot": (lambda L, t, u: L.vdot(t, u), [V, real(5)]),
    "addmv": (
        lambda L, a, m, v: (L.addmv(a, m, v), a.addmv(m, v, beta=0.5, alpha=2)),
        [real(3), X, real(4)],
    ),
    "addr": (
        lambda L, a, u, v: (L.addr(a, u, v), a.addr(u, v, beta=0, alpha=-1)),
        [X, real(3), real(4)],
    ),
    "addbmm": (
        lambda L, a, b, c: (L.addbmm(a, b, c), a.addbmm(b, c, beta=2)),
        [X, real(2, 3, 5), real(2, 5, 4)],
    ),
    "column_stack": (lambda L, a, b: L.column_stack([a, b, a]), [V, real(5, 2)]),
    "dstack": (lambda L, a, b: (L.dstack([a, b]), L.dstack((a[0], b[0]))), [X, real(3, 4)]),
    "block_diag": (lambda L, a, b: L.block_diag(a, b, a[0], b[0, 0]), [X, real(2, 2)]),
    "cartesian_prod": (lambda L, a, b: (L.cartesian_prod(a, b), L.cartesian_prod(a)), [V, real(3)]),
    "combinations": (
        lambda L, a: (L.combinations(a), L.combinations(a, 3), L.combinations(a, 2, True)),
        [V],
    ),
    "trapezoid": (
        lambda L, y, x: (
            L.trapezoid(y),
            L.trapezoid(y, x[0]),
            L.trapz(y, dx=0.5, dim=0),
            L.trapezoid(y, dx=2.0),
            L.cumulative_trapezoid(y, dim=0),
        ),
        [X, real(1, 4)],
    ),
    "vander": (lambda L, x: (L.vander(x), L.vander(x, 3, True)), [V]),
    "scatter_reduce": (
        lambda L, t, s: [
            t.scatter_reduce(1, L_long(L, [[0, 1, 1], [3, 3, 0], [2, 2, 2]]), s, r, include_self=i)
            for r in ("sum", "prod", "mean", "amax", "amin")
            for i in (True, False)
        ],
        [X, real(3, 3)],
    ),
}


def _nans(L, t):
    return t.masked_fill(t > 1.0, float("nan"))


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name):
    fn, inputs = CASES[name]
    # (torch's vander backward trips over its own in-place cumprod: values only there)
    grad = () if name == "vander" else tuple(range(len(inputs)))
    check(fn, *inputs, grad=grad)


def test_scatter_reduce_prod_gradient_with_zeros():
    x = np.array([[0.0, 2.0, 3.0, 0.0], [1.5, 0.0, -2.0, 4.0]])
    s = np.array([[0.0, 5.0, 0.5], [2.0, 0.0, 3.0]])  # row 1, column 3: one zero among three
    for inc in (True, False):
        check(
            lambda L, t, u: t.scatter_reduce(
                1, L_long(L, [[0, 1, 1], [2, 3, 3]]), u, "prod", include_self=inc
            ),
            x,
            s,
            grad=(0, 1),
        )


def test_integer_and_bool_results():
    i = RNG.integers(0, 6, 12).astype(np.int64)
    w = real(12)
    recipes = [
        lambda L, t: (L.bincount(t), t.bincount(minlength=9)),
        lambda L, t: L.bincount(t, L.tensor(w)),
        lambda L, t: L.unique_consecutive(t.sort().values, return_inverse=True, return_counts=True),
        lambda L, t: L.unique_consecutive(t.reshape(3, 4) // 3, dim=1, return_counts=True),
        lambda L, t: (L.isin(t, L_long(L, [1, 3])), L.isin(t, 2, invert=True)),
        lambda L, t: L.unravel_index(t * 3, (4, 5)),
        lambda L, t: (L.tril_indices(3, 4), L.triu_indices(4, 3, -1), L.tril_indices(3, 3, 1)),
        lambda L, t: (L.gcd(t, t + 4), L.lcm(t + 1, t * 2 + 1)),
        lambda L, t: (L.mode(t), L.cummax(t, 0), L.aminmax(t)),
        lambda L, t: (t.take(L_long(L, [1, 2])), L.argwhere(t), t.msort()),
    ]
    for fn in recipes:
        check(fn, i)


def test_aliases_and_stacks_keep_dtypes():
    check(lambda L, a: (L.dstack([a, a]), L.column_stack([a, a]), L.vander(a, 4)), np.arange(3))
    check(lambda L, a: L.block_diag(a, a.double()), np.ones((2, 2), np.float32), grad=())


ERRORS = [
    (IndexError, "select", lambda L, t: t.select(0, 3)),
    (IndexError, "out of range", lambda L, t: t.take(L.tensor([12]))),
    (IndexError, "Dimension out of range", lambda L, t: t.cummax(2)),
    (RuntimeError, "not divisible", lambda L, t: t.hsplit(3)),
    (RuntimeError, "at least 3", lambda L, t: t.dsplit(2)),
    (RuntimeError, "rotation dims", lambda L, t: t.rot90(1, (1, 1))),
    (RuntimeError, "maximum size", lambda L, t: t.unfold(0, 4, 1)),
    (RuntimeError, "q must be in the range", lambda L, t: t.quantile(1.5)),
    (
        RuntimeError,
        "interpolation must be one of",
        lambda L, t: t.quantile(0.5, interpolation="cubic"),
    ),
    (RuntimeError, "reduce argument", lambda L, t: t.scatter_reduce(0, t.abs().long(), t, "foo")),
    (NotImplementedError, "bincount_cpu", lambda L, t: t.bincount()),
    (RuntimeError, "non-negative", lambda L, t: L.tensor([1, -1]).bincount()),
    (RuntimeError, "is_nonzero|more than one", lambda L, t: t.is_nonzero()),
    (RuntimeError, "two or fewer", lambda L, t: t.reshape(1, 3, 4).cov()),
    (RuntimeError, "1D", lambda L, t: t.vdot(t)),
    (
        RuntimeError,
        "only supports boolean masks, but got mask with dtype Double",
        lambda L, t: t.masked_scatter(t, t),
    ),
    (RuntimeError, "Number of elements of source", lambda L, t: t.masked_scatter(t > -10, t[0])),
    (RuntimeError, "Expect a 1D", lambda L, t: L.combinations(t)),
    (RuntimeError, "2 or fewer", lambda L, t: L.block_diag(t.reshape(1, 3, 4))),
    (TypeError, "argument 'input'", lambda L, t: L.ravel([1, 2])),
]


@pytest.mark.parametrize(("exc", "match", "fn"), ERRORS, ids=[e[1] for e in ERRORS])
def test_bad_input_raises_like_torch(exc, match, fn):
    for L in (fastnn, torch):
        with pytest.raises(exc, match=match):
            fn(L, L.tensor(X))


def test_unfold_is_a_copy_with_the_views_gradient():
    x = fastnn.tensor(X, requires_grad=True)
    w = x.unfold(1, 3, 1)
    assert tuple(w.shape) == (3, 2, 3)
    w.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 2, 2, 1]] * 3)


def test_a_0d_non_leaf_used_twice_sums_its_gradients():
    # s * s hands numpy scalars back for a 0-d s; the engine must still add them (cov's weights)
    a = fastnn.tensor(np.ones(4), requires_grad=True)
    s = a.sum()
    (s * s).backward()
    np.testing.assert_array_equal(a.grad.numpy(), [8.0] * 4)


@pytest.mark.parametrize(
    "index",
    [
        lambda L: (L.arange(3), L.arange(2)),
        lambda L: (L.tensor([[0, 1]]), L.tensor([0, 1, 2])),
        lambda L: (L.zeros(2, 2, dtype=L.long), L.zeros(3, 1, 4, dtype=L.long)),
    ],
)
def test_unbroadcastable_index_tensors_raise_torchs_message(index):
    # x[rows, cols] with index tensors of mismatched shapes: torch's IndexError and its words,
    # reading and writing
    torch = pytest.importorskip("torch")
    messages = []
    for lib in (fastnn, torch):
        x = lib.zeros(4, 5)
        with pytest.raises(IndexError) as read:
            x[index(lib)]
        with pytest.raises(IndexError) as write:
            x[index(lib)] = 1.0
        assert str(read.value) == str(write.value)
        messages.append(str(read.value))
    assert messages[0] == messages[1]
