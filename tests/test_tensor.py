"""Tensor basics: creation and dtypes, numpy interop, values of ops vs NumPy, indexing,
in-place methods, printing, and the errors torch gives for bad input."""

import math

import numpy as np
import pytest

import fastnn
from fastnn import _devices as backends

# ---- creation and dtypes -----------------------------------------------------------------------


def test_dtype_inference_like_torch():
    assert fastnn.tensor([1.0]).dtype == fastnn.float32
    assert fastnn.tensor([1]).dtype == fastnn.int64 == fastnn.long
    assert fastnn.tensor([True]).dtype == fastnn.bool
    assert fastnn.tensor([2, -3.4]).dtype == fastnn.float32
    assert fastnn.tensor(np.zeros(2)).dtype == fastnn.float64
    assert fastnn.tensor(3.5).shape == ()
    assert fastnn.float32 is np.dtype("float32") or fastnn.float32 == np.dtype("float32")
    assert fastnn.tensor([0.15], dtype=fastnn.float64).item() == 0.15
    assert fastnn.tensor([[1, 2], [3, 4]], dtype=fastnn.float32).dtype == fastnn.float32
    assert fastnn.tensor([fastnn.tensor(1.0), fastnn.tensor(2.0)]).tolist() == [1.0, 2.0]


def test_tensor_copies_from_numpy_shares():
    a = np.arange(3.0)
    t = fastnn.tensor(a)
    f = fastnn.from_numpy(a)
    a[0] = 7
    assert t[0].item() == 0 and f[0].item() == 7
    assert f.numpy() is a  # zero-copy both ways
    f.add_(1)
    assert a[0] == 8
    assert fastnn.as_tensor(a).numpy() is a
    with pytest.raises(TypeError):
        fastnn.from_numpy([1, 2])


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.uint8, np.bool_])
@pytest.mark.parametrize("order", ["C", "F"])
def test_tensor_copies_large_arrays_of_any_layout(dtype, order):
    # Arrays past the threaded copy's threshold take fastnn's copy: a C-contiguous array of its
    # own, whatever the source's layout, with the source's values and dtype (uint8 and bool
    # as torch keeps them), unchanged by later writes to the source.
    rng = np.random.default_rng(0)
    a = np.asarray(rng.integers(0, 200, size=(301, 257)), dtype=dtype, order=order)
    t = fastnn.tensor(a)
    d = t.numpy()
    assert d.dtype == a.dtype and d.flags.c_contiguous and not np.shares_memory(d, a)
    np.testing.assert_array_equal(d, a)
    before = d.copy()
    a[...] = 0
    np.testing.assert_array_equal(d, before)


def test_creation_functions():
    assert fastnn.zeros(2, 3).shape == (2, 3) and fastnn.zeros((2, 3)).sum().item() == 0
    assert fastnn.ones(4, dtype=fastnn.float64).dtype == fastnn.float64
    assert fastnn.full((2,), 7).dtype == fastnn.int64
    assert fastnn.full((2,), 7.5).tolist() == [7.5, 7.5]
    assert fastnn.arange(5).tolist() == [0, 1, 2, 3, 4]
    assert fastnn.arange(4.0).dtype == fastnn.float32
    assert fastnn.arange(1, 2, 0.5).tolist() == [1.0, 1.5]
    assert fastnn.linspace(0, 1, 5).tolist() == [0, 0.25, 0.5, 0.75, 1]
    assert fastnn.eye(3).numpy().trace() == 3
    assert fastnn.empty(2, 2).shape == (2, 2)
    x = fastnn.randn(3, 4, dtype=fastnn.float64, requires_grad=True)
    assert x.requires_grad and x.dtype == fastnn.float64
    for like in (fastnn.zeros_like, fastnn.ones_like, fastnn.rand_like, fastnn.randn_like):
        y = like(x)
        assert y.shape == x.shape and y.dtype == x.dtype and not y.requires_grad
    assert fastnn.full_like(x, 2).tolist() == [[2.0] * 4] * 3
    r = fastnn.randint(0, 10, (1000,))
    assert r.dtype == fastnn.int64 and r.min().item() >= 0 and r.max().item() < 10
    assert fastnn.randint(5, (3,)).max().item() < 5
    u = fastnn.rand(1000)
    assert 0 <= u.min().item() and u.max().item() < 1


def test_randint_keyword_size_takes_the_one_bound_as_high():
    r = fastnn.randint(3, size=(500,))
    assert r.shape == (500,) and r.dtype == fastnn.int64
    assert r.min().item() == 0 and r.max().item() == 2
    r = fastnn.randint(2, 4, size=(200,))
    assert r.min().item() == 2 and r.max().item() == 3
    assert fastnn.randint(high=4, size=(200,)).max().item() == 3


def test_normal_forms_and_manual_seed():
    fastnn.manual_seed(0)
    a = fastnn.normal(0, 1, (1000, 2))
    fastnn.manual_seed(0)
    b = fastnn.normal(0, 1, (1000, 2))
    assert a.shape == (1000, 2) and a.dtype == fastnn.float32
    assert np.array_equal(a.numpy(), b.numpy())
    assert abs(a.mean().item()) < 0.1 and abs(a.std().item() - 1) < 0.1
    c = fastnn.normal(0, 0.01, a.shape)
    assert c.std().item() < 0.02
    m = fastnn.normal(fastnn.tensor([0.0, 100.0]), fastnn.tensor([1e-3, 1e-3]))
    assert abs(m[1].item() - 100) < 0.1
    with pytest.raises(RuntimeError):
        fastnn.normal(0, -1, (2,))
    # a list is neither a float nor a Tensor: torch's TypeError, not a tensor of the list
    with pytest.raises(TypeError, match="mean must be a float or a Tensor"):
        fastnn.normal([1], 0.0, (1,))
    with pytest.raises(TypeError, match="std must be a float or a Tensor"):
        fastnn.normal(0.0, [1.0], (1,))


def test_normal_with_float_mean_and_std_wants_a_sequence_size_like_torch():
    torch = pytest.importorskip("torch")
    for lib in (fastnn, torch):
        with pytest.raises(TypeError):
            lib.normal(0.0, 1.0, 3)
        with pytest.raises(TypeError):
            lib.normal(0.0, 1.0, size=4)
        assert tuple(lib.normal(0.0, 1.0, [3]).shape) == (3,)
        assert tuple(lib.normal(0.0, 1.0, lib.Size([2, 1])).shape) == (2, 1)


def test_device_and_to():
    x = fastnn.ones(2)
    assert str(x.device) == "cpu" and x.device == "cpu" and x.device == fastnn.device("cpu")
    assert x.to("cpu") is x and x.cpu() is x
    assert x.to(fastnn.float64).dtype == fastnn.float64
    assert x.to("cpu", fastnn.int64).dtype == fastnn.int64
    assert x.to(dtype=fastnn.float16).dtype == fastnn.float16
    assert x.double().dtype == fastnn.float64 and x.long().dtype == fastnn.int64
    assert x.int().dtype == fastnn.int32 and x.float() is x
    assert x.type() == "fastnn.FloatTensor"
    assert x.type(fastnn.int64).dtype == fastnn.int64
    assert str(fastnn.device("cuda")) == "cuda:0"
    if not fastnn.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA"):
            x.to("cuda")
    with pytest.raises(RuntimeError):
        fastnn.device("tpu")


def test_attributes_and_conversions():
    x = fastnn.arange(6.0).reshape(2, 3)
    assert x.shape == (2, 3) and x.size() == (2, 3) and x.size(1) == 3
    assert x.numel() == 6 and x.dim() == 2 and x.ndim == 2 and len(x) == 2
    assert x.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert x[1, 2].item() == 5.0 and isinstance(x[1, 2].item(), float)
    assert float(x.sum()) == 15.0 and int(x[1, 1]) == 4
    assert [r.tolist() for r in x] == [[0, 1, 2], [3, 4, 5]]
    assert np.asarray(x).shape == (2, 3)
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        x.item()
    # float()/int() of a many-element tensor is torch's ValueError: plotting code probes
    # math.isfinite(row) and catches ValueError/TypeError only
    for conv in (float, int, complex, math.isfinite):
        with pytest.raises(ValueError, match="only one element tensors"):
            conv(x)
    assert float(fastnn.ones(1, 1)) == 1.0 and int(fastnn.full((1,), 3)) == 3
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(x)
    with pytest.raises(TypeError):
        len(fastnn.tensor(1.0))
    assert f"{x.sum():f}" == "15.000000"
    w = fastnn.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        w.numpy()
    assert w.detach().numpy().tolist() == [1.0, 1.0]


def test_repr_like_torch():
    assert repr(fastnn.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(fastnn.tensor([0.5, 2.0])) == "tensor([0.5000, 2.0000])"
    assert repr(fastnn.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(fastnn.tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    assert repr(fastnn.tensor([1.0], dtype=fastnn.float64)) == "tensor([1.], dtype=fastnn.float64)"
    assert repr(fastnn.tensor(3.0)) == "tensor(3.)"


def test_data_attribute():
    w = fastnn.zeros(3, requires_grad=True)
    d = w.data
    assert not d.requires_grad
    assert np.shares_memory(d.numpy(), w.detach().numpy())
    w.data.normal_(0, 0.01)
    w.data = fastnn.ones(3)
    assert w.tolist() == [1.0, 1.0, 1.0] and w.requires_grad


def test_backend_implements_every_op():
    missing = [name for name in backends.OPS if not hasattr(backends.cpu, name)]
    assert missing == []


# ---- values vs numpy ---------------------------------------------------------------------------

UNARY = [
    ("exp", np.exp),
    ("log", lambda a: np.log(np.abs(a) + 1)),
    ("sqrt", np.sqrt),
    ("abs", np.abs),
    ("neg", np.negative),
    ("relu", lambda a: np.maximum(a, 0)),
    ("sigmoid", lambda a: 1 / (1 + np.exp(-a))),
    ("tanh", np.tanh),
    ("sin", np.sin),
]


@pytest.mark.parametrize("name,ref", UNARY)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_unary_values(name, ref, dtype, rng):
    a = rng.standard_normal((7, 33)).astype(dtype)
    if name == "sqrt":
        a = np.abs(a)
    t = fastnn.tensor(a)
    out = getattr(t.abs().add(1) if name == "log" else t, name)()
    assert out.dtype == np.dtype(dtype)
    tol = 1e-6 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(out.numpy(), ref(a.astype(np.float64)), rtol=tol, atol=tol)


def test_binary_values_and_broadcasting(rng):
    a = rng.standard_normal((4, 1, 3)).astype(np.float32)
    b = rng.standard_normal((5, 1)).astype(np.float32)
    ta, tb = fastnn.tensor(a), fastnn.tensor(b)
    for op in ("__add__", "__sub__", "__mul__", "__truediv__"):
        np.testing.assert_allclose(getattr(ta, op)(tb).numpy(), getattr(a, op)(b), rtol=1e-6)
    assert (ta + tb).shape == (4, 5, 3)
    np.testing.assert_allclose((2 - ta).numpy(), 2 - a)
    np.testing.assert_allclose((2 / (ta * ta + 1)).numpy(), 2 / (a * a + 1), rtol=1e-6)
    np.testing.assert_allclose((ta**2).numpy(), a**2, rtol=1e-6)
    np.testing.assert_allclose(fastnn.maximum(ta, tb).numpy(), np.maximum(a, b))
    np.testing.assert_allclose(ta.clamp(-0.5, 0.5).numpy(), np.clip(a, -0.5, 0.5))
    np.testing.assert_allclose(fastnn.where(ta > 0, ta, tb).numpy(), np.where(a > 0, a, b))


def test_scalar_promotion_like_torch():
    i = fastnn.tensor([1, 2])
    assert (i * 0.5).dtype == fastnn.float32
    assert (i * 2).dtype == fastnn.int64
    assert (i / i).dtype == fastnn.float32 and (i / 2).tolist() == [0.5, 1.0]
    f = fastnn.tensor([1.0])
    assert (f * 2.5).dtype == fastnn.float32 and (f + np.float64(1)).dtype == fastnn.float32
    assert (fastnn.tensor([True]) + 1).dtype == fastnn.int64


def test_comparisons_return_bool():
    x = fastnn.tensor([1.0, 2.0, 3.0])
    for r in (x > 2, x >= 2, x < 2, x <= 2, x == 2, x != 2):
        assert r.dtype == fastnn.bool and not r.requires_grad
    assert (x == fastnn.tensor([1.0, 0.0, 3.0])).tolist() == [True, False, True]
    y_hat = fastnn.tensor([[0.1, 0.9], [0.8, 0.2]])
    y = fastnn.tensor([1, 1])
    cmp = y_hat.argmax(axis=1).type(y.dtype) == y
    assert float(cmp.type(y.dtype).sum()) == 1.0


def test_reductions(rng):
    a = rng.standard_normal((3, 4, 5))
    t = fastnn.tensor(a)
    np.testing.assert_allclose(t.sum().item(), a.sum())
    np.testing.assert_allclose(t.sum(1).numpy(), a.sum(1))
    np.testing.assert_allclose(
        t.sum(dim=(0, 2), keepdim=True).numpy(), a.sum((0, 2), keepdims=True)
    )
    np.testing.assert_allclose(t.mean(axis=2).numpy(), a.mean(2))
    np.testing.assert_allclose(t.max().item(), a.max())
    v, i = t.max(1)
    np.testing.assert_allclose(v.numpy(), a.max(1))
    assert i.tolist() == a.argmax(1).tolist() and i.dtype == fastnn.int64
    r = t.min(dim=-1, keepdim=True)
    assert r.values.shape == (3, 4, 1) and r.indices.shape == (3, 4, 1)
    assert t.argmax().item() == a.argmax() and t.argmin(0).tolist() == a.argmin(0).tolist()
    np.testing.assert_allclose(t.var(1).numpy(), a.var(1, ddof=1))
    assert fastnn.tensor([True, False, True]).sum().item() == 2
    with pytest.raises(RuntimeError, match="mean"):
        fastnn.tensor([1, 2]).mean()


def test_matmul_values(rng):
    for sa, sb in [
        ((3, 4), (4, 5)),
        ((4,), (4,)),
        ((2, 3, 4), (2, 4, 5)),
        ((2, 3, 4), (4,)),
        ((5, 2, 3, 4), (4, 6)),
        ((3, 4), (2, 4, 5)),
    ]:
        a = rng.standard_normal(sa).astype(np.float32)
        b = rng.standard_normal(sb).astype(np.float32)
        out = fastnn.tensor(a) @ fastnn.tensor(b)
        np.testing.assert_allclose(out.numpy(), a @ b, rtol=1e-5, atol=1e-5)
    x = fastnn.tensor(rng.standard_normal((4, 3)).astype(np.float32))
    np.testing.assert_allclose((x.T @ x).numpy(), x.numpy().T @ x.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        fastnn.matmul(x, fastnn.tensor([2, -3.4, 1])).numpy(),
        x.numpy() @ np.array([2, -3.4, 1], np.float32),
        rtol=1e-5,
    )


def test_shape_ops():
    x = fastnn.arange(24.0).reshape(2, 3, 4)
    assert x.view(6, 4).shape == (6, 4) and x.reshape(-1).shape == (24,)
    assert x.flatten(1).shape == (2, 12) and x.flatten().shape == (24,)
    assert x.permute(2, 0, 1).shape == (4, 2, 3) and x.transpose(0, 2).shape == (4, 3, 2)
    assert x.unsqueeze(0).shape == (1, 2, 3, 4) and x.unsqueeze(-1).shape == (2, 3, 4, 1)
    assert x[:, :1].squeeze().shape == (2, 4) and x[:, :1].squeeze(1).shape == (2, 4)
    assert x.T.shape == (4, 3, 2)
    assert fastnn.cat([x, x], dim=1).shape == (2, 6, 4)
    assert fastnn.stack([x, x]).shape == (2, 2, 3, 4)
    assert x.reshape(6, 4).t().shape == (4, 6)
    assert x[0].expand(5, 3, 4).shape == (5, 3, 4)
    assert [c.shape for c in x.chunk(2, dim=2)] == [(2, 3, 2), (2, 3, 2)]
    assert x.repeat(2, 1, 1).shape == (4, 3, 4)
    with pytest.raises(RuntimeError, match="invalid for input of size 24"):
        x.view(5, 5)


def test_indexing(rng):
    a = rng.standard_normal((4, 5))
    t = fastnn.tensor(a)
    np.testing.assert_array_equal(t[1].numpy(), a[1])
    np.testing.assert_array_equal(t[1:3, ::2].numpy(), a[1:3, ::2])
    np.testing.assert_array_equal(t[None, ..., 2].numpy(), a[None, ..., 2])
    np.testing.assert_array_equal(t[[0, 2]].numpy(), a[[0, 2]])
    np.testing.assert_array_equal(t[fastnn.tensor([3, 0])].numpy(), a[[3, 0]])
    np.testing.assert_array_equal(t[t > 0].numpy(), a[a > 0])
    np.testing.assert_array_equal(
        t[fastnn.arange(4), fastnn.tensor([0, 1, 2, 3])].numpy(), a[np.arange(4), [0, 1, 2, 3]]
    )
    np.testing.assert_array_equal(t[fastnn.tensor(1)].numpy(), a[1])


def test_setitem_and_views_share_storage():
    x = fastnn.zeros(3, 4)
    x[0] = 1
    x[1, 1:3] = fastnn.tensor([5.0, 6.0])
    x[x > 5] = -1
    assert x[0].tolist() == [1, 1, 1, 1] and x[1].tolist() == [0, 5, -1, 0]
    v = x.view(12)
    v[0] = 9
    assert x[0, 0].item() == 9
    assert x._version == v._version > 0


def test_setitem_takes_what_torch_takes_and_refuses_the_rest():
    """Python numbers, numpy's integer scalars (and its float64/complex128, which are Python
    floats and complexes) and tensors; numpy's other scalars, numpy arrays and lists are refused
    with a TypeError naming the value's type and the tensor's."""
    torch = pytest.importorskip("torch")
    taken = [1, 2.5, True, np.int32(3), np.uint8(4), np.int64(5), np.float64(6.5)]
    refused = [np.float32(1), np.float16(1), np.bool_(True), np.array(2.0), np.array([1.0, 2.0])]
    refused += [[1.0, 2.0], (1.0,), None, "1"]
    for lib in (fastnn, torch):
        for dtype in (lib.float32, lib.float64, lib.int64):
            for value in taken:
                a = lib.zeros(2, dtype=dtype)
                a[0] = value
                assert a[0].item() == (int(value) if dtype == lib.int64 else float(value))
            for value in refused:
                a = lib.zeros(2, dtype=dtype)
                with pytest.raises(TypeError) as info:
                    a[:] = value
                name = type(value).__name__
                assert str(info.value) == (
                    f"can't assign a {'numpy.' + name if type(value).__module__ == 'numpy' else name}"
                    f" to a {a.type()}"
                )
                assert a.tolist() == [0, 0]


def test_setitem_value_with_leading_size_one_dims():
    # a model's (1, 1) output written into one element of a 1-D buffer, a (1, n) row into a row
    x = fastnn.zeros(5)
    x[2] = fastnn.full((1, 1), 3.0)
    assert x.tolist() == [0, 0, 3, 0, 0]
    m = fastnn.zeros(2, 3)
    m[1] = fastnn.arange(3.0).reshape(1, 1, 3)
    m[0, :2] = fastnn.ones(1, 2)
    assert m.tolist() == [[1, 1, 0], [0, 1, 2]]
    v = fastnn.full((1, 1), 2.0, requires_grad=True)
    y = fastnn.zeros(4)
    y[1] = v
    (y * fastnn.arange(4.0)).sum().backward()
    assert v.grad.shape == (1, 1) and v.grad.item() == 1.0
    with pytest.raises(RuntimeError):
        x[2] = fastnn.ones(2, 1)  # a non-one leading dim is still a shape error


def test_reversed_is_a_flip_along_dim_0():
    # a bidirectional RNN written by hand walks reversed(inputs) and reads .shape of it
    x = fastnn.arange(6.0).reshape(3, 2).requires_grad_()
    r = reversed(x)
    assert isinstance(r, fastnn.Tensor) and r.shape == (3, 2)
    assert r.tolist() == [[4, 5], [2, 3], [0, 1]]
    (r * fastnn.tensor([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]])).sum().backward()
    assert x.grad.tolist() == [[0, 0], [0, 0], [1, 0]]
    s = fastnn.tensor(2.0)
    assert reversed(s) is s


def test_inplace_methods():
    x = fastnn.ones(3)
    assert x.add_(1) is x and x.tolist() == [2, 2, 2]
    x.sub_(fastnn.tensor([1.0, 0.0, 0.0]), alpha=2)
    assert x.tolist() == [0, 2, 2]
    x.mul_(3)
    x += 1
    x -= fastnn.ones(3)
    x *= 2
    x /= 4
    assert x.tolist() == [0.0, 3.0, 3.0]
    x.zero_()
    assert x.tolist() == [0, 0, 0]
    x.fill_(2.5).copy_(fastnn.tensor([1.0, 2.0, 3.0]))
    assert x.tolist() == [1, 2, 3]
    fastnn.manual_seed(1)
    x.normal_(0, 1)
    y = fastnn.ones(3)
    fastnn.manual_seed(1)
    y.normal_(0, 1)
    assert x.tolist() == y.tolist()
    y.uniform_(2, 3)
    assert 2 <= y.min().item() and y.max().item() <= 3
    i = fastnn.tensor([1, 2])
    with pytest.raises(RuntimeError):
        i.add_(0.5)
    y = fastnn.zeros(10, 1)
    y += fastnn.normal(0, 0.01, y.shape)
    assert y.shape == (10, 1)


# ---- bad input ------------------------------------------------------------------------------


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(RuntimeError, match=r"\(2, 3\).*\(4,\)"):
        fastnn.ones(2, 3) + fastnn.ones(4)
    with pytest.raises(
        RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"
    ):
        fastnn.ones(2, 3) @ fastnn.ones(4, 5)
    with pytest.raises(RuntimeError, match="inconsistent tensor size"):
        fastnn.dot(fastnn.ones(3), fastnn.ones(4))
    with pytest.raises(RuntimeError, match="1D tensors expected"):
        fastnn.dot(fastnn.ones(3, 1), fastnn.ones(3))
    with pytest.raises(RuntimeError, match="same dtype"):
        fastnn.ones(2, 2) @ fastnn.ones(2, 2, dtype=fastnn.float64)
    with pytest.raises(RuntimeError, match="Sizes of tensors must match"):
        fastnn.cat([fastnn.ones(2, 3), fastnn.ones(3, 3)], dim=1)
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        fastnn.stack([fastnn.ones(2), fastnn.ones(3)])
    x = fastnn.ones(3)
    with pytest.raises(RuntimeError, match=r"\(3,\)"):
        x.add_(fastnn.ones(2, 3))


def test_mixing_devices_raises():
    class FakeDeviceArray(np.ndarray):
        pass

    import fastnn._core.device as dev_mod

    class FakeBackend:
        device_of = staticmethod(lambda a: dev_mod.device("cuda:0"))

    backends.register(FakeDeviceArray, FakeBackend)
    try:
        g = fastnn.Tensor(np.ones(2).view(FakeDeviceArray))
        with pytest.raises(RuntimeError, match="same device.*cpu and cuda:0"):
            fastnn.ones(2, dtype=fastnn.float64) + g
        with pytest.raises(RuntimeError, match="same device"):
            fastnn.ones(2, dtype=fastnn.float64) == g  # noqa: B015 (evaluated for its error)
    finally:
        del backends._BY_TYPE[FakeDeviceArray]


@pytest.mark.parametrize(
    "name",
    [
        "sum",
        "mean",
        "var",
        "std",
        "amax",
        "amin",
        "max",
        "min",
        "argmax",
        "argmin",
        "prod",
        "logsumexp",
        "median",
    ],
)
def test_reductions_take_numpys_keepdims_spelling(name):
    """torch accepts keepdims= beside keepdim= (the d2l book writes reduce_sum(X, 0, keepdims=True))."""
    x = fastnn.tensor([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])
    got = getattr(x, name)(1, keepdims=True)
    want = getattr(x, name)(1, keepdim=True)
    got, want = (got[0], want[0]) if isinstance(got, tuple) else (got, want)
    assert got.shape == (2, 1)
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    torch = pytest.importorskip("torch")
    t = getattr(torch.tensor(x.numpy()), name)(1, keepdims=True)
    t = t[0] if isinstance(t, tuple) else t
    np.testing.assert_allclose(got.numpy(), t.numpy(), rtol=1e-6)


def test_range_indexes_like_a_list_of_ints():
    """The d2l softmax regression picks y_hat[range(len(y_hat)), y]."""
    y_hat = fastnn.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]], requires_grad=True)
    y = fastnn.tensor([0, 2])
    picked = y_hat[range(len(y_hat)), y]
    np.testing.assert_allclose(picked.detach().numpy(), [0.1, 0.5])
    picked.sum().backward()
    np.testing.assert_array_equal(y_hat.grad.numpy(), [[1, 0, 0], [0, 0, 1]])
    np.testing.assert_array_equal(fastnn.arange(10)[range(8, 1, -3)].numpy(), [8, 5, 2])
    torch = pytest.importorskip("torch")
    t = torch.arange(10)[range(8, 1, -3)]
    assert t.tolist() == fastnn.arange(10)[range(8, 1, -3)].tolist()


def test_creation_takes_the_size_keyword():
    """torch.rand(size=(2, 4)) in the d2l book; torch.zeros(size=...) likewise."""
    for fn in (fastnn.zeros, fastnn.ones, fastnn.empty, fastnn.rand, fastnn.randn):
        assert fn(size=(2, 4)).shape == (2, 4)
        assert fn(size=[3]).shape == (3,)
        assert fn(size=5).shape == (5,)
        assert fn(2, 4).shape == fn((2, 4)).shape == (2, 4)
        with pytest.raises(TypeError, match="multiple values for argument 'size'"):
            fn(2, size=(2,))
    torch = pytest.importorskip("torch")
    assert tuple(torch.zeros(size=(2, 4)).shape) == tuple(fastnn.zeros(size=(2, 4)).shape)


def test_legacy_typed_constructors():
    t = fastnn.FloatTensor([1, 2, 3])
    assert t.dtype == fastnn.float32 and t.tolist() == [1.0, 2.0, 3.0]
    assert fastnn.LongTensor([1.7, 2]).tolist() == [1, 2]
    z = fastnn.DoubleTensor(2, 3)
    assert z.dtype == fastnn.float64 and z.shape == (2, 3)
    assert isinstance(t, fastnn.FloatTensor) and not isinstance(t, fastnn.LongTensor)
    assert isinstance(fastnn.tensor([True]), fastnn.BoolTensor)
    assert not isinstance(np.zeros(2, np.float32), fastnn.FloatTensor)
    assert fastnn.ByteTensor([255]).dtype == fastnn.uint8
    torch = pytest.importorskip("torch")
    for name in ("FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "ByteTensor"):
        ours, theirs = getattr(fastnn, name)([1, 2]), getattr(torch, name)([1, 2])
        assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
        assert ours.tolist() == theirs.tolist()


def test_nonzero_and_repeat_interleave_match_torch():
    """Both are referenced by the d2l book's library."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    a = rng.integers(-1, 2, (4, 3, 2)).astype(np.float32)
    x, t = fastnn.tensor(a), torch.tensor(a)
    assert fastnn.nonzero(x).tolist() == torch.nonzero(t).tolist()
    assert fastnn.nonzero(x).dtype == fastnn.int64
    for ours, theirs in zip(x.nonzero(as_tuple=True), t.nonzero(as_tuple=True)):
        assert ours.tolist() == theirs.tolist()
    assert fastnn.tensor(2.0).nonzero().shape == tuple(torch.tensor(2.0).nonzero().shape)
    assert fastnn.tensor(0.0).nonzero().shape == tuple(torch.tensor(0.0).nonzero().shape)
    for args, kw in [((2,), {}), ((3,), {"dim": 1}), ((torch.tensor([0, 2, 1, 1]),), {"dim": 0})]:
        ours_args = tuple(fastnn.tensor(v.numpy()) if hasattr(v, "numpy") else v for v in args)
        assert (
            x.repeat_interleave(*ours_args, **kw).tolist()
            == t.repeat_interleave(*args, **kw).tolist()
        )
    w = fastnn.tensor(a, requires_grad=True)
    w.repeat_interleave(fastnn.tensor([0, 2, 1, 1]), dim=0).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy()[:, 0, 0], [0, 2, 1, 1])
    with pytest.raises(RuntimeError, match="same size as input"):
        x.repeat_interleave(fastnn.tensor([1, 2]), dim=0)
    with pytest.raises(RuntimeError, match="negative"):
        x.repeat_interleave(-1)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.repeat_interleave(2, dim=3)


def test_repeat_interleave_function_forms_match_torch():
    """torch.repeat_interleave(x, repeats, dim) and the one-tensor form (counts -> the index
    of each count, repeated), which ragged-batch code uses to build row ids."""
    torch = pytest.importorskip("torch")
    counts = [2, 0, 3, 1]
    ours = fastnn.repeat_interleave(fastnn.tensor(counts))
    theirs = torch.repeat_interleave(torch.tensor(counts))
    assert ours.tolist() == theirs.tolist() and ours.dtype == fastnn.int64
    assert fastnn.repeat_interleave(fastnn.tensor(counts), output_size=6).tolist() == [
        0,
        0,
        2,
        2,
        2,
        3,
    ]
    x = np.arange(6).reshape(3, 2)
    assert (
        fastnn.repeat_interleave(fastnn.tensor(x), fastnn.tensor([1, 0, 2]), dim=0).tolist()
        == torch.repeat_interleave(torch.tensor(x), torch.tensor([1, 0, 2]), dim=0).tolist()
    )
    assert fastnn.repeat_interleave(fastnn.tensor(x), 2).tolist() == (
        torch.repeat_interleave(torch.tensor(x), 2).tolist()
    )
    for bad in ([[2, 1]], 3):
        with pytest.raises(RuntimeError, match="1D"):
            torch.repeat_interleave(torch.tensor(bad))
        with pytest.raises(RuntimeError, match="1D"):
            fastnn.repeat_interleave(fastnn.tensor(bad))
    with pytest.raises(RuntimeError, match="negative"):
        fastnn.repeat_interleave(fastnn.tensor([1, -1]))


def test_repeat_interleave_refuses_non_integer_repeats_like_torch():
    torch = pytest.importorskip("torch")
    for lib in (fastnn, torch):
        x = lib.arange(3.0)
        for bad in ([1.5], [True], [1.0, 2.0, 1.0]):
            with pytest.raises(NotImplementedError):
                x.repeat_interleave(lib.tensor(bad))
        for bad in (1.5, [1, 2, 1], True):
            with pytest.raises(TypeError):
                x.repeat_interleave(bad)
        assert x.repeat_interleave(lib.tensor([2], dtype=lib.int32)).tolist() == [0, 0, 1, 1, 2, 2]


def test_shape_methods_take_their_argument_by_keyword_like_torch():
    """x.flip(dims=[1]), x.permute(dims=...), x.reshape(shape=...): torch's keyword names."""
    torch = pytest.importorskip("torch")
    a = np.arange(6.0).reshape(2, 3)
    calls = [
        lambda x: x.flip(dims=[1]),
        lambda x: x.permute(dims=(1, 0)),
        lambda x: x.reshape(shape=(3, 2)),
        lambda x: x.view(size=(3, 2)),
        lambda x: x.expand(size=(2, 2, 3)),
        lambda x: x.repeat(repeats=(1, 2)),
    ]
    for call in calls:
        assert call(fastnn.tensor(a)).tolist() == call(torch.tensor(a)).tolist()
    assert fastnn.flip(fastnn.tensor(a), dims=[0]).tolist() == a[::-1].tolist()
    for lib in (torch, fastnn):
        x = lib.tensor(a)
        with pytest.raises(TypeError):
            x.permute(1, 0, dims=(1, 0))
        with pytest.raises(TypeError):
            x.reshape(size=(3, 2))


def test_functions_take_torchs_argument_names_by_keyword():
    """torch.sum(input=x), torch.matmul(input=a, other=b), torch.where(condition=..., input=...,
    other=...): the parameter names are torch's, so keyword calls carry over."""
    torch = pytest.importorskip("torch")
    a = np.arange(4.0).reshape(2, 2)
    v = np.array([1.0, -1.0])
    calls = [
        lambda L, x, u: L.sum(input=x, dim=0),
        lambda L, x, u: L.exp(input=x),
        lambda L, x, u: L.matmul(input=x, other=x),
        lambda L, x, u: L.mm(input=x, mat2=x),
        lambda L, x, u: L.bmm(input=x[None], mat2=x[None]),
        lambda L, x, u: L.mv(input=x, vec=u),
        lambda L, x, u: L.dot(input=u, tensor=u),
        lambda L, x, u: L.where(condition=x > 1, input=x, other=-x),
    ]
    for call in calls:
        ours = call(fastnn, fastnn.tensor(a), fastnn.tensor(v))
        theirs = call(torch, torch.tensor(a), torch.tensor(v))
        assert ours.tolist() == theirs.tolist()


def test_tensor_constructor_shape_forms_like_torch():
    torch = pytest.importorskip("torch")
    for args in [(), (3, 4), (3,), (0, 2)]:
        ours, theirs = fastnn.Tensor(*args), torch.Tensor(*args)
        assert tuple(ours.shape) == tuple(theirs.shape) and ours.dtype == fastnn.float32
    assert tuple(fastnn.Tensor(fastnn.Size([2, 5])).shape) == (2, 5)
    w = fastnn.nn.Parameter(fastnn.Tensor(4, 6))  # the legacy "allocate, then init" pattern
    fastnn.nn.init.xavier_normal_(w)
    assert w.requires_grad and tuple(w.shape) == (4, 6) and w.abs().sum().item() > 0
    for lib in (fastnn, torch):
        with pytest.raises(RuntimeError, match="negative dimension"):
            lib.Tensor(2, -1)
    for data in ([1, 2], [[True, False]], (3, 4), [fastnn.tensor(1), fastnn.tensor(2)]):
        theirs = [torch.tensor(1), torch.tensor(2)] if isinstance(data[0], fastnn.Tensor) else data
        ours, ref = fastnn.Tensor(data), torch.Tensor(theirs)
        assert ours.dtype == fastnn.float32 and ours.tolist() == ref.tolist()
    a = np.arange(3, dtype=np.int32)  # data keeps its dtype and storage
    t = fastnn.Tensor(a)
    assert t.dtype == fastnn.int32 and np.shares_memory(t.numpy(), a)


def test_keyword_argument_names_follow_torch():
    torch = pytest.importorskip("torch")
    data = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    calls = [
        lambda m, x: x.tile(dims=(2, 1)),
        lambda m, x: m.tile(x, dims=(1, 2)),
        lambda m, x: x.new_zeros(size=(2,)),
        lambda m, x: x.new_ones(size=(3, 1)),
        lambda m, x: x.new_empty(size=(4,)).fill_(5.0),
        lambda m, x: x.new_full(size=(2,), fill_value=7.0),
        lambda m, x: x.pow(exponent=2),
        lambda m, x: m.pow(x, exponent=3),
        lambda m, x: x.clone().pow_(exponent=2),
        lambda m, x: x.swapaxes(axis0=0, axis1=1),
        lambda m, x: x.swapdims(dim0=1, dim1=0),
        lambda m, x: x.transpose(dim0=0, dim1=1),
        lambda m, x: x.mm(mat2=x.t()),
        lambda m, x: x[None].bmm(mat2=x.t()[None]),
        lambda m, x: x[0].dot(tensor=x[1]),
        lambda m, x: m.zeros(2, 3).copy_(x, non_blocking=True),
        lambda m, x: m.clamp(input=x, min=1.0, max=4.0),
        lambda m, x: m.maximum(input=x, other=x.flip(0)),
        lambda m, x: m.minimum(input=x, other=x.flip(1)),
        lambda m, x: m.zeros_like(input=x),
        lambda m, x: m.ones_like(input=x),
        lambda m, x: m.full_like(input=x, fill_value=2.0),
        lambda m, x: m.rand_like(input=x) * 0,
        lambda m, x: m.randn_like(input=x) * 0,
        lambda m, x: m.empty_like(input=x).fill_(1.0),
    ]
    for call in calls:
        got = call(fastnn, fastnn.tensor(data))
        want = call(torch, torch.tensor(data))
        assert tuple(got.shape) == tuple(want.shape)
        np.testing.assert_allclose(got.numpy(), want.numpy())
    nan = np.array([np.nan], dtype=np.float32)
    assert fastnn.tensor(nan).allclose(fastnn.tensor(nan), equal_nan=True)
    assert torch.tensor(nan).allclose(torch.tensor(nan), equal_nan=True)
    for lib in (fastnn, torch):
        x = lib.tensor(data)
        assert lib.numel(input=x) == 6
        assert lib.allclose(input=x, other=x + 1e-9)
