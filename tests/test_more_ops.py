"""The functions added for torch parity (values, dtypes and gradients against torch are in the
API probe): their refusals, finite-difference gradients in float64, and edge cases."""

import numpy as np
import pytest

import fastnn
from fastnn.autograd import gradcheck


def _f64(rng, *shape):
    return fastnn.tensor(rng.standard_normal(shape), dtype=fastnn.float64, requires_grad=True)


@pytest.mark.parametrize(
    ("fn", "shapes"),
    [
        (lambda x: x.diff(2, dim=0), [(5, 3)]),
        (lambda x, y: x.cross(y, dim=0), [(3, 4), (3, 4)]),
        (lambda x: x.diag(1), [(4,)]),
        (lambda x: x.diagonal(-1, 0, 2), [(3, 2, 4)]),
        (lambda x: x.trace(), [(3, 5)]),
        (lambda x, y: fastnn.cdist(x, y), [(4, 3), (5, 3)]),
        (lambda x, y: fastnn.cdist(x, y, p=1.5), [(4, 3), (5, 3)]),
        (lambda x: x.log1p() + x.expm1(), [(7,)]),
        (lambda x, y: x.remainder(y) + x.fmod(y), [(6,), (6,)]),
        (lambda x, y: x.index_add(0, fastnn.tensor([1, 1, 0]), y), [(2, 3), (3, 3)]),
        (lambda x: x.tile((2, 1, 2)), [(2, 3)]),
        (lambda x: x.masked_select(x > 0), [(4, 5)]),
    ],
)
def test_gradients_match_finite_differences(fn, shapes, rng):
    xs = [_f64(rng, *s) for s in shapes]
    if len(shapes) == 1 and shapes[0] == (7,):  # log1p's domain
        xs = [fastnn.tensor(rng.uniform(-0.5, 2, 7), requires_grad=True)]
    assert gradcheck(fn, xs)


def test_cdist_zero_distance_has_zero_gradient():
    x = fastnn.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    d = fastnn.cdist(x, x.detach())
    d.sum().backward()
    assert np.isfinite(x.grad.numpy()).all()
    assert d.detach().numpy()[0, 0] == 0.0


def test_remainder_and_fmod_follow_the_sign_rules():
    x = fastnn.tensor([-7, -1, 1, 7])
    assert x.remainder(3).tolist() == [2, 2, 1, 1]
    assert x.fmod(3).tolist() == [-1, -1, 1, 1]
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        x.fmod(0)


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: fastnn.ones(3).diff(-1), RuntimeError, "non-negative"),
        (lambda: fastnn.ones(()).diff(), RuntimeError, "one-dimensional"),
        (lambda: fastnn.ones(4, 2).cross(fastnn.ones(4, 2)), RuntimeError, "size 3"),
        (lambda: fastnn.ones(3, 3).diagonal(0, 1, -1), RuntimeError, "identical"),
        (lambda: fastnn.ones(2, 2, 2).diag(), RuntimeError, "1D or 2D"),
        (lambda: fastnn.ones(3).trace(), RuntimeError, "expected a matrix"),
        (lambda: fastnn.ones(3).masked_select(fastnn.ones(3)), RuntimeError, "BoolTensor"),
        (
            lambda: fastnn.ones(3, 2).index_add(0, fastnn.tensor([0]), fastnn.ones(2, 2)),
            RuntimeError,
            "one slice per index",
        ),
        (lambda: fastnn.cdist(fastnn.ones(2, 3), fastnn.ones(2, 4)), RuntimeError, "columns"),
        (lambda: fastnn.histc(fastnn.ones(3), bins=0), RuntimeError, "bins must be > 0"),
        (lambda: fastnn.histc(fastnn.tensor([1, 2])), RuntimeError, "floating point"),
        (
            lambda: fastnn.searchsorted(fastnn.ones(2, 3), fastnn.ones(3, 3)),
            RuntimeError,
            "must match",
        ),
        (lambda: fastnn.bucketize(fastnn.ones(2), fastnn.ones(2, 2)), RuntimeError, "1 dimension"),
        (
            lambda: fastnn.multinomial(fastnn.tensor([1.0, 0.0]), 2),
            RuntimeError,
            "not enough",
        ),
        (
            lambda: fastnn.multinomial(fastnn.tensor([1.0, -1.0]), 1),
            RuntimeError,
            "element < 0",
        ),
        (lambda: fastnn.ones(3).bernoulli(1.5), RuntimeError, r"\[0, 1\]"),
        (
            lambda: fastnn.broadcast_tensors(fastnn.ones(2), fastnn.ones(3)),
            RuntimeError,
            "cannot be broadcast",
        ),
    ],
)
def test_bad_input_is_refused_clearly(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_multinomial_without_replacement_draws_distinct_supported_categories():
    fastnn.manual_seed(0)
    p = fastnn.tensor([[0.0, 1.0, 3.0, 0.0, 2.0]] * 50)
    r = fastnn.multinomial(p, 3).numpy()
    assert all(sorted(row) == [1, 2, 4] for row in r)
    counts = np.bincount(fastnn.multinomial(p[0], 4000, replacement=True).numpy(), minlength=5)
    np.testing.assert_allclose(counts / 4000, [0, 1 / 6, 1 / 2, 0, 1 / 3], atol=0.03)


def test_multinomial_without_replacement_keeps_the_draw_order():
    # torch's samples come in the order drawn: the first follows p, the second p given the first
    # was removed (the top-k of the keys, sorted, not just the set of them)
    fastnn.manual_seed(1)
    p = np.array([1.0, 3.0, 2.0]) / 6
    r = fastnn.multinomial(fastnn.tensor(np.tile(p, (6000, 1))), 2).numpy()
    np.testing.assert_allclose(np.bincount(r[:, 0], minlength=3) / 6000, p, atol=0.02)
    second = [sum(p[i] * p[j] / (1 - p[i]) for i in range(3) if i != j) for j in range(3)]
    np.testing.assert_allclose(np.bincount(r[:, 1], minlength=3) / 6000, second, atol=0.02)
    one = fastnn.multinomial(fastnn.tensor(np.tile(p, (6000, 1))), 1).numpy()[:, 0]
    np.testing.assert_allclose(np.bincount(one, minlength=3) / 6000, p, atol=0.02)


def test_seed_is_reproducible_through_initial_seed():
    s = fastnn.seed()
    assert fastnn.initial_seed() == s
    a = fastnn.rand(4)
    fastnn.manual_seed(fastnn.initial_seed())
    np.testing.assert_array_equal(fastnn.rand(4).numpy(), a.numpy())


def test_in_place_sigmoid_and_relu_keep_gradients_exact(rng):
    x = _f64(rng, 5)
    y = (x * 2).sigmoid_()
    z = (x * 3).relu_()
    (y * z).sum().backward()
    s = 1 / (1 + np.exp(-2 * x.detach().numpy()))
    r = np.maximum(3 * x.detach().numpy(), 0)
    want = 2 * s * (1 - s) * r + s * 3 * (x.detach().numpy() > 0)
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-12)


def test_broadcast_tensors_of_zero_dim_tensors():
    a, b = fastnn.broadcast_tensors(fastnn.tensor(2.0), fastnn.tensor(3.0))
    assert a.shape == () and b.shape == () and (a.item(), b.item()) == (2.0, 3.0)
    a, b = fastnn.broadcast_tensors(fastnn.tensor(2.0), fastnn.ones(2))
    assert a.tolist() == [2.0, 2.0] and b.shape == (2,)
