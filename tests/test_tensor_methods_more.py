"""torch parity of the Tensor methods added beside their relatives: hardshrink and prelu
(math_more.py), index_reduce / index_reduce_ (index_more.py), and the storage-level methods of
storage.py (storage, untyped_storage, set_, as_strided_, resize, dim_order, as_subclass,
output_nr, name): values, memory sharing, gradients and errors."""

import warnings

import numpy as np
import pytest

import fastnn
from api_parity import check as _check
from fastnn.autograd import gradcheck

torch = pytest.importorskip("torch")
RNG = np.random.default_rng(17)


def check(*args, **kwargs):
    return _check(*args, torch=torch, **kwargs)


def real(*shape, dtype=np.float64):
    return RNG.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_hardshrink_and_prelu_match_torch(dtype):
    check(lambda L, x: (x.hardshrink(), x.hardshrink(0.8)), real(7, 33, dtype=dtype))
    check(lambda L, x, w: x.prelu(w), real(2, 7, 5, dtype=dtype), real(7, dtype=dtype), grad=(0, 1))
    check(lambda L, x, w: x.prelu(w), real(33, dtype=dtype), real(1, dtype=dtype), grad=(0, 1))
    check(lambda L, x, w: x.prelu(w), real(3, 1, dtype=dtype), real(1, dtype=dtype), grad=(0, 1))
    x = fastnn.tensor(real(3, 7), requires_grad=True)
    w = fastnn.tensor(real(7), requires_grad=True)
    assert gradcheck(lambda a, b: a.prelu(b), (x, w))
    with pytest.raises(RuntimeError, match="one per channel"):
        fastnn.ones(2, 3).prelu(fastnn.ones(2))
    with pytest.raises(TypeError, match="weight"):
        fastnn.ones(2, 3).prelu(0.25)


@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_index_reduce_matches_torch(reduce, include_self, dtype):
    x = real(3, 7, dtype=dtype)
    src = real(3, 5, dtype=dtype)
    idx = np.array([0, 6, 0, 3, 6])

    def run(L, a, s):
        i = L.tensor(idx)
        out = L.index_reduce(a, 1, i, s, reduce, include_self=include_self)
        b = a.detach().clone()
        b.index_reduce_(1, i, s.detach(), reduce, include_self=include_self)
        return out, b

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch calls index_reduce beta
        check(run, x, src, grad=(0, 1))


def test_index_reduce_ints_gradcheck_and_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(
            lambda L, a, s: a.index_reduce(0, L.tensor([0, 0]), s, "mean"),
            np.array([1, 2, 3]),
            np.array([5, 6]),
            grad=(),
        )
    x = fastnn.tensor(real(4, 3), requires_grad=True)
    s = fastnn.tensor(real(2, 3), requires_grad=True)
    i = fastnn.tensor([1, 3])
    for reduce in ("prod", "mean", "amax"):
        assert gradcheck(lambda a, b, r=reduce: a.index_reduce(0, i, b, r), (x, s))
    with pytest.raises(RuntimeError, match="one of prod"):
        x.index_reduce(0, i, s, "sum")
    with pytest.raises(IndexError, match="one slice per index"):
        x.index_reduce(0, i, fastnn.ones(3, 3, dtype=fastnn.float64), "prod")
    with pytest.raises(IndexError, match="long tensor"):
        x.index_reduce(0, fastnn.tensor([1.0]), s, "prod")
    with pytest.raises(RuntimeError, match="same dtype"):
        x.index_reduce(0, i, fastnn.ones(2, 3), "prod")


def test_storages_match_torch():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    for L in (fastnn, torch):
        x = L.tensor(a)
        y = x[:, 1]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch: TypedStorage is deprecated
            s = y.storage()
        u = y.untyped_storage()
        got = (s.size(), s.element_size(), s.tolist(), u.size(), u.nbytes(), u.element_size())
        assert s.data_ptr() == u.data_ptr() == x.data_ptr()
        if L is fastnn:
            mine = got
        else:
            assert mine == got
    assert fastnn.ones(2, dtype=fastnn.float64).storage().dtype == fastnn.float64


def test_metadata_matches_torch():
    for shape, perm in (((2, 3), (0, 1)), ((2, 3), (1, 0)), ((2, 3, 4), (2, 0, 1)), ((7,), (0,))):
        a = fastnn.ones(*shape).permute(*perm)
        b = torch.ones(*shape).permute(*perm)
        assert a.dim_order() == b.dim_order()
    x = fastnn.ones(2)
    assert x.output_nr == 0 and x.name is None


def test_set_and_as_strided_in_place():
    for L in (fastnn, torch):
        base = L.arange(6.0)
        w = L.zeros(3)
        w.set_(base)
        w[0] = 10.0
        assert base[0].item() == 10.0
        v = L.zeros(1)
        v.set_(base.untyped_storage(), 1, (2, 2), (1, 2))
        z = L.arange(6.0)
        L.as_strided_(z, (2, 2), (1, 2), 1)
        e = L.ones(3)
        e.set_()
        if L is fastnn:
            mine = (v.tolist(), z.tolist(), tuple(z.stride()), tuple(e.shape))
        else:
            assert mine == (v.tolist(), z.tolist(), tuple(z.stride()), tuple(e.shape))
    with pytest.raises(RuntimeError, match="dtype"):
        fastnn.zeros(3).set_(fastnn.zeros(3, dtype=fastnn.float64))
    with pytest.raises(RuntimeError, match="requires grad"):
        fastnn.zeros(3, requires_grad=True).set_(fastnn.zeros(3))
    with pytest.raises(RuntimeError, match="out of bounds"):
        fastnn.zeros(3).as_strided_((4,), (1,))


def test_resize_and_as_subclass():
    x = fastnn.arange(6.0).view(2, 3)
    with pytest.warns(UserWarning, match="deprecated"):
        r = x.resize(3, 2)
    assert r.data_ptr() == x.data_ptr() and tuple(r.shape) == (3, 2)
    with pytest.warns(UserWarning, match="deprecated"):
        g = x.resize(4, 2)
    np.testing.assert_array_equal(g.numpy().ravel(), [0, 1, 2, 3, 4, 5, 0, 0])
    with pytest.warns(UserWarning, match="deprecated"):
        assert tuple(x.resize_as(fastnn.ones(6)).shape) == (6,)

    class Marked(fastnn.Tensor):
        pass

    y = fastnn.ones(3, requires_grad=True) * 2
    m = y.as_subclass(Marked)
    assert type(m) is Marked and m.data_ptr() == y.data_ptr() and m.grad_fn is y.grad_fn
    with pytest.raises(TypeError, match="subclass of Tensor"):
        y.as_subclass(int)
