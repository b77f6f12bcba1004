"""Logical / bitwise operators, value tests and their errors (torch parity of the values is in the
API probe; here: what must be refused, and how)."""

import numpy as np
import pytest

import fastnn


def test_bitwise_refuses_float_operands():
    f = fastnn.tensor([1.0, 2.0])
    i = fastnn.tensor([1, 2])
    for expr in (lambda: f & i, lambda: i | f, lambda: f ^ f, lambda: i & 1.5):
        with pytest.raises(TypeError, match="integer and Boolean"):
            expr()


def test_bitwise_values_and_dtypes_follow_numpy(rng):
    a = rng.integers(-50, 50, (7, 33))
    b = rng.integers(-50, 50, (33,)).astype(np.int32)
    fa, fb = fastnn.tensor(a), fastnn.tensor(b)
    np.testing.assert_array_equal((fa & fb).numpy(), a & b)
    np.testing.assert_array_equal((fa | fb).numpy(), a | b)
    np.testing.assert_array_equal((fa ^ fb).numpy(), a ^ b)
    assert (fa & fb).dtype == fastnn.int64
    m = fastnn.tensor(a > 0)
    assert (m & fastnn.tensor(b > 0)).dtype == fastnn.bool
    np.testing.assert_array_equal((True ^ m).numpy(), ~(a > 0))


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(RuntimeError, match=r"\[2, 3\] and \[4\]"):
        fastnn.ones(2, 3, dtype=fastnn.int64) & fastnn.ones(4, dtype=fastnn.int64)
    with pytest.raises(RuntimeError, match=r"\[2\] and \[3\]"):
        fastnn.logical_and(fastnn.ones(2), fastnn.ones(3))


def test_isclose_refuses_mixed_dtypes_and_non_tensors():
    with pytest.raises(RuntimeError, match="float32 did not match"):
        fastnn.isclose(fastnn.ones(2), fastnn.ones(2, dtype=fastnn.float64))
    with pytest.raises(TypeError, match="'other' must be Tensor"):
        fastnn.ones(2).isclose(1.0)


def test_count_nonzero_dim_out_of_range():
    with pytest.raises(IndexError, match="dim 2 out of range"):
        fastnn.ones(2, 3).count_nonzero(dim=2)
    assert fastnn.tensor([[0, 1], [2, 0]]).count_nonzero(dim=-1).tolist() == [1, 1]


def test_nan_to_num_gradient_is_zero_where_replaced():
    x = fastnn.tensor([1.0, float("nan"), float("inf"), -2.0], requires_grad=True)
    y = x.nan_to_num(posinf=5.0)
    assert y.tolist() == [1.0, 0.0, 5.0, -2.0]
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 0.0, 1.0]


@pytest.mark.parametrize(
    "expr",
    [
        lambda t, m: t - m,
        lambda t, m: m - t,
        lambda t, m: t - True,
        lambda t, m: True - t,
        lambda t, m: m - m,
        lambda t, m: t.sub(m),
        lambda t, m: -m,
    ],
)
def test_bool_subtraction_and_negation_are_refused_like_torch(expr):
    t, m = fastnn.ones(3), fastnn.tensor([True, False, True])
    with pytest.raises(RuntimeError, match="bool tensor"):
        expr(t, m)
