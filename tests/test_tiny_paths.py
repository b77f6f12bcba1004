"""The short paths that keep per-op overhead low on tiny tensors give the same results as the
general ones: integer powers as multiply chains, the operator methods' same-dtype shortcut,
matmul's 2-D shortcut and its transposes passed as views, and Function.apply's one-pass input
check (its errors included)."""

import inspect
import itertools

import numpy as np
import pytest

import fastnn
from fastnn import _C, nn
from fastnn._devices import cpu
from fastnn._tensor.ops import elementwise as E
from fastnn.autograd import gradcheck

SIZES = [(1, 1), (4, 4), (7, 3), (33, 5)]


@pytest.mark.parametrize("p", [1, 2, 3, 4, 2.0, 3.0])
@pytest.mark.parametrize("shape", SIZES)
def test_integer_power_values_and_gradients_match_torch(p, shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(len(shape) * 10 + int(p))
    a = rng.standard_normal(shape)
    a.flat[0] = 0.0  # x ** n at 0: value 0, gradient n * 0 ** (n - 1)
    x = fastnn.tensor(a, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    y, ty = x**p, t**p
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12, atol=0)
    w = rng.standard_normal(shape)
    (y * fastnn.tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-300)
    with fastnn.no_grad():
        np.testing.assert_allclose((x**p).numpy(), ty.detach().numpy(), rtol=1e-12, atol=0)


@pytest.mark.parametrize("p", [1, 2, 3, 4])
def test_integer_power_gradcheck_and_integer_tensors(p):
    rng = np.random.default_rng(p)
    x = fastnn.tensor(rng.standard_normal((3, 5)), requires_grad=True)
    assert gradcheck(lambda z: z**p, (x,))
    i = fastnn.tensor([[-3, 0, 2], [5, -1, 7]])
    out = i**p
    assert out.dtype == fastnn.int64
    np.testing.assert_array_equal(out.numpy(), np.array([[-3, 0, 2], [5, -1, 7]]) ** p)


def test_integer_power_float32_keeps_dtype_and_multiply_chain_result():
    a = np.random.default_rng(0).standard_normal((4, 4)).astype(np.float32)
    y = fastnn.tensor(a) ** 3
    assert y.dtype == fastnn.float32
    np.testing.assert_array_equal(y.numpy(), a * (a * a))


@pytest.mark.parametrize(
    "lhs, rhs",
    [
        (np.float32, np.float32),
        (np.float64, np.float64),
        (np.float32, np.float64),
        (np.int64, np.float32),
        (np.int32, np.int64),
    ],
)
@pytest.mark.parametrize("op", ["__add__", "__sub__", "__mul__"])
def test_operator_shortcut_matches_torch_values_and_dtypes(lhs, rhs, op):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    a = (rng.standard_normal((4, 7)) * 5).astype(lhs)
    b = (rng.standard_normal((4, 7)) * 5).astype(rhs)
    out = getattr(fastnn.tensor(a), op)(fastnn.tensor(b))
    ref = getattr(torch.tensor(a), op)(torch.tensor(b))
    assert str(out.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1]
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-6)


def test_operator_shortcut_with_parameters_numbers_and_other_types():
    p = nn.Parameter(fastnn.tensor([[1.0, 2.0]]))
    t = fastnn.tensor([[3.0, 4.0]])
    for out in (p + t, t + p, p * t, t - p):  # a subclass takes the general path
        assert out.requires_grad and out.grad_fn is not None
    np.testing.assert_array_equal((t - p).detach().numpy(), [[2.0, 2.0]])
    np.testing.assert_array_equal((t * 2).numpy(), [[6.0, 8.0]])
    np.testing.assert_array_equal((t - np.float64(1)).numpy(), [[2.0, 3.0]])
    assert t.__add__("x") is NotImplemented
    with pytest.raises(TypeError):
        t * "x"
    assert fastnn.Tensor.__mul__.__name__ == "__mul__"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m, k, n", [(1, 1, 1), (4, 4, 4), (7, 3, 5), (33, 17, 2)])
def test_matmul_2d_forward_and_backward_match_torch(dtype, m, k, n):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(m * 100 + k * 10 + n)
    a, b = rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)
    g = rng.standard_normal((m, n)).astype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for ra, rb in ((True, True), (True, False), (False, True)):
        x, y = fastnn.tensor(a, requires_grad=ra), fastnn.tensor(b, requires_grad=rb)
        tx, ty = torch.tensor(a, requires_grad=ra), torch.tensor(b, requires_grad=rb)
        out, tout = x @ y, tx @ ty
        np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=tol, atol=tol)
        out.backward(fastnn.tensor(g))
        tout.backward(torch.tensor(g))
        for f, t in ((x, tx), (y, ty)):
            if f.requires_grad:
                np.testing.assert_allclose(f.grad.numpy(), t.grad.numpy(), rtol=tol, atol=tol)
            else:
                assert f.grad is None
    assert gradcheck(
        lambda p, q: p @ q,
        (
            fastnn.tensor(a.astype(np.float64), requires_grad=True),
            fastnn.tensor(b, dtype=fastnn.float64, requires_grad=True),
        ),
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cpu_matmul_transposes_as_views_equal_the_kernel_flags_exactly(dtype):
    rng = np.random.default_rng(2)
    for m, k, n in ((1, 1, 1), (4, 4, 4), (7, 3, 5), (33, 17, 257)):
        a = rng.standard_normal((k, m)).astype(dtype)
        b = rng.standard_normal((n, k)).astype(dtype)
        bias = rng.standard_normal(n).astype(dtype)
        for ta, tb in ((True, False), (False, True), (True, True)):
            x = a if ta else np.ascontiguousarray(a.T)
            y = b if tb else np.ascontiguousarray(b.T)
            want = _C.matmul(x, y, trans_a=ta, trans_b=tb)
            np.testing.assert_array_equal(cpu.matmul(x, y, trans_a=ta, trans_b=tb), want)
            want = _C.matmul(x, y, trans_a=ta, trans_b=tb, bias=bias)
            got = cpu.matmul(x, y, trans_a=ta, trans_b=tb, bias=bias)
            np.testing.assert_array_equal(got, want)


def test_matmul_errors_are_unchanged():
    a = fastnn.ones(2, 3)
    with pytest.raises(
        RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x3\)"
    ):
        a @ fastnn.ones(2, 3)
    with pytest.raises(RuntimeError, match="expected m1 and m2 to have the same dtype"):
        a @ fastnn.ones(3, 2, dtype=fastnn.float64)
    np.testing.assert_array_equal((a @ [[1.0], [1.0], [1.0]]).numpy(), [[3.0], [3.0]])


def test_apply_rejects_non_tensors_and_records_only_when_asked():
    x = fastnn.ones(2, 2, requires_grad=True)
    with pytest.raises(TypeError, match=r"Add: arguments must be Tensors, got \(Tensor, ndarray\)"):
        E.Add.apply(x, np.ones((2, 2)))
    y = E.Mul.apply(x, fastnn.ones(2, 2))
    assert y.grad_fn is not None and y.grad_fn.needs_input_grad == (True, False)
    with fastnn.no_grad():
        z = E.Mul.apply(x, fastnn.ones(2, 2))
    assert z.grad_fn is None and not z.requires_grad
    w = fastnn.ones(2, 2) * fastnn.ones(2, 2)
    assert w.grad_fn is None and not w.requires_grad


def _primitives(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _primitives(sub)


def test_plain_op_equals_forward_for_every_primitive_that_names_one():
    from fastnn._devices import of
    from fastnn.autograd.function import Function

    rng = np.random.default_rng(3)
    named = [c for c in _primitives(Function) if c.plain_op is not None]
    assert {c.__name__ for c in named} >= {"Add", "Sub", "Mul", "Div", "MatMul"}
    assert {c.__name__ for c in named} >= {"Tanh", "Exp", "Sinh", "Floor", "Sum", "Mean"}
    assert "Round" not in {c.__name__ for c in named}  # its forward takes decimals
    for cls in named:
        x, y = rng.uniform(0.5, 2.0, (2, 7, 5)), rng.uniform(0.5, 2.0, (2, 5, 5))
        if cls.__name__ != "MatMul":
            y = y[:, :1, :]  # broadcast
        binary = len(inspect.signature(cls.forward).parameters) == 3  # self, x, y
        inputs = (x, y) if binary else (x,)
        tensors = [fastnn.tensor(v, requires_grad=i == 0) for i, v in enumerate(inputs)]
        with np.errstate(invalid="ignore"):  # arccosh below 1, arcsin above 1: NaN both ways
            recorded = cls.apply(*tensors)
            with fastnn.no_grad():
                plain = cls.apply(*tensors)
            want = getattr(of(x), cls.plain_op)(*inputs)
        assert recorded.grad_fn is not None and plain.grad_fn is None, cls.__name__
        np.testing.assert_array_equal(plain.numpy(), recorded.detach().numpy(), cls.__name__)
        np.testing.assert_array_equal(plain.numpy(), want, cls.__name__)


def test_plain_op_errors_are_those_of_forward():
    a, b = fastnn.ones(2, 3), fastnn.ones(4, 5)
    for grad in (False, True):
        x = fastnn.ones(2, 3, requires_grad=grad)
        with pytest.raises(RuntimeError, match=r"Add: .* \(input shapes \(2, 3\) and \(4, 5\)\)"):
            E.Add.apply(x, b)
    with pytest.raises(RuntimeError, match=r"Mul: operands could not be broadcast"):
        a * b


def _operand_cases(dtype):
    """(left, right) operand pairs for the operators: tensors of one shape, broadcasting,
    0-d tensors, and Python numbers on either side."""
    rng = np.random.default_rng(4)

    def t(*shape):
        return fastnn.tensor(rng.uniform(-2.0, 2.0, shape).astype(dtype))

    return [
        (t(1, 1), t(1, 1)),
        (t(4, 4), t(4, 4)),
        (t(7, 3), t(3)),
        (t(33, 1), t(1, 5)),
        (t(), t()),
        (t(7, 3), 0.5),
        (t(7, 3), -3),
        (2.5, t(7, 3)),
        (4, t(1, 1)),
        (t(), 1.5),
    ]


def _recording(v):
    return fastnn.tensor(v.numpy(), requires_grad=True) if isinstance(v, fastnn.Tensor) else v


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", ["add", "sub", "mul"])
def test_operators_outside_autograd_equal_the_recorded_op_exactly(dtype, op):
    """Host tensors outside autograd skip Function.apply; the values, dtype and shape are those
    of the recorded op, and a 0-d result is a 0-d tensor (not a numpy scalar)."""
    import operator

    fn = getattr(operator, op)
    for left, right in _operand_cases(dtype):
        out = fn(left, right)
        recorded = fn(_recording(left), _recording(right))
        assert out.grad_fn is None and not out.requires_grad
        assert recorded.grad_fn is not None
        assert out.dtype == recorded.dtype == fastnn.tensor(np.zeros(1, dtype)).dtype
        assert out.shape == recorded.shape
        assert type(out._data) is np.ndarray
        np.testing.assert_array_equal(out.numpy(), recorded.detach().numpy())
        x = _recording(left)
        with fastnn.no_grad():  # requires_grad inside no_grad: not recorded either
            quiet = fn(x, right)
        assert quiet.grad_fn is None
        np.testing.assert_array_equal(quiet.numpy(), out.numpy())


@pytest.mark.parametrize("op", ["add", "sub", "mul"])
def test_operators_with_numbers_follow_torch_dtypes(op):
    torch = pytest.importorskip("torch")
    import operator

    fn = getattr(operator, op)
    a = np.arange(-3, 9, dtype=np.float32).reshape(3, 4)
    for data in (a, a.astype(np.float64), a.astype(np.int64), a.astype(np.int32)):
        for number in (2, 0.25, -7, 3.0):
            for args in ((data, number), (number, data)):
                f = [fastnn.tensor(v) if isinstance(v, np.ndarray) else v for v in args]
                t = [torch.tensor(v) if isinstance(v, np.ndarray) else v for v in args]
                out, ref = fn(*f), fn(*t)
                assert str(out.dtype) == str(ref.dtype).replace("torch", "fastnn"), (data, args)
                np.testing.assert_array_equal(out.numpy(), ref.numpy())


def test_operator_errors_outside_autograd_are_those_of_the_op():
    a = fastnn.ones(2, 3)
    with pytest.raises(RuntimeError, match=r"Sub: .* \(input shapes \(2, 3\) and \(4, 5\)\)"):
        a - fastnn.ones(4, 5)
    with pytest.raises(RuntimeError, match=r"Add: .* \(input shapes \(2, 3\) and \(3, 2\)\)"):
        a + fastnn.ones(3, 2)
    flags = fastnn.tensor([True, False])
    for bad in (lambda: flags - flags, lambda: a - True, lambda: True - a, lambda: flags - 1):
        with pytest.raises(RuntimeError, match="Subtraction, the `-` operator"):
            bad()
    np.testing.assert_array_equal((flags + flags).numpy(), [True, False])
    np.testing.assert_array_equal((flags * flags).numpy(), [True, False])


UNARY = [
    "exp", "log", "sqrt", "sin", "cos", "tan", "relu", "sigmoid", "tanh", "abs", "sinh",
    "cosh", "asin", "acos", "atan", "asinh", "acosh", "atanh", "exp2", "log2", "log10", "erf",
]  # fmt: skip


@pytest.mark.parametrize("name", UNARY)
def test_unary_methods_outside_autograd_equal_the_recorded_op_exactly(name):
    rng = np.random.default_rng(5)
    low = 1.0 if name == "acosh" else 0.0  # inside each function's domain
    high = 0.99 if name in ("asin", "acos", "atanh") else 3.0
    for dtype in (np.float32, np.float64):
        for shape in ((1,), (4, 4), (7, 33), ()):
            a = rng.uniform(low, high, shape).astype(dtype)
            if name in ("relu", "abs", "sin", "tanh", "erf") and a.size > 1:
                a.flat[::2] *= -1
            out = getattr(fastnn.tensor(a), name)()
            recorded = getattr(fastnn.tensor(a, requires_grad=True), name)()
            assert out.grad_fn is None and recorded.grad_fn is not None
            assert out.dtype == recorded.dtype and out.shape == recorded.shape == shape
            assert type(out._data) is np.ndarray
            np.testing.assert_array_equal(out.numpy(), recorded.detach().numpy())
            if a.ndim == 2:  # a transposed view: the same values as its contiguous copy
                view = getattr(fastnn.tensor(a).t(), name)()
                np.testing.assert_array_equal(view.numpy(), out.numpy().T)


@pytest.mark.parametrize("name", UNARY)
def test_unary_methods_on_integers_match_torch(name):
    torch = pytest.importorskip("torch")
    a = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.int64)
    if name in ("asin", "acos", "atanh"):
        a = a // 7  # zeros: inside the domain
    out = getattr(fastnn.tensor(a), name)()
    ref = getattr(torch.tensor(a), name)()
    assert str(out.dtype) == str(ref.dtype).replace("torch", "fastnn")
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cpu_sum_and_mean_equal_numpy_exactly(dtype):
    """The CPU backend reduces through the ufunc (np.sum's and np.mean's own steps, without
    their wrappers): the same values, dtype and shape, for every size, axes and keepdims. (A
    sum or mean over the leading axes is the column-sum kernel's: there, within its rounding.)"""
    rng = np.random.default_rng(6)
    for shape in ((), (1,), (7,), (4, 4), (33, 257), (3, 1, 5), (100003,), (301, 1001)):
        a = (rng.standard_normal(shape) * 100).astype(dtype)
        axes = [None] + [(i,) for i in range(a.ndim)] + [(0, a.ndim - 1)] * (a.ndim > 1)
        for axis, keepdims in itertools.product(axes, (False, True)):
            n = a.size // max(np.sum(a, axis).size, 1)  # elements per result
            for got, want, per in (
                (cpu.sum(a, axis, keepdims), np.sum(a, axis, keepdims=keepdims), 1),
                (cpu.mean(a, axis, keepdims), np.mean(a, axis, keepdims=keepdims), n),
            ):
                assert type(got) is np.ndarray
                assert got.dtype == want.dtype and got.shape == np.shape(want)
                if axis is not None and cpu._leading_axes(axis, a.ndim):
                    # two sums in different orders: each within n eps sum|a| of the exact one
                    # (a mean divides that by n, and rounds once more)
                    eps = np.finfo(dtype).eps
                    bound = 2 * n * eps * np.abs(a).sum(axis, keepdims=keepdims) / per
                    assert (np.abs(got - want) <= bound + eps * np.abs(want)).all()
                else:
                    np.testing.assert_array_equal(got, want)
    ints = np.arange(12, dtype=np.int32).reshape(3, 4)
    assert cpu.sum(ints).dtype == np.sum(ints).dtype and cpu.sum(ints) == 66
    assert cpu.mean(ints).dtype == np.float64 and cpu.mean(ints) == 5.5
    with pytest.warns(RuntimeWarning, match="Mean of empty slice"), np.errstate(invalid="ignore"):
        assert np.isnan(cpu.mean(np.zeros((0, 3), dtype)))  # numpy's answer for no elements


VIEWS = [
    ("t", lambda x: x.t()),
    ("T", lambda x: x.T),
    ("transpose", lambda x: x.transpose(0, -1)),
    ("permute", lambda x: x.permute(1, 0)),
    ("view", lambda x: x.view(-1)),
    ("reshape", lambda x: x.reshape(x.shape[1], -1)),
    ("getitem row", lambda x: x[1]),
    ("getitem slice", lambda x: x[:, 1::2]),
    ("getitem element", lambda x: x[2, 0]),
    ("getitem advanced", lambda x: x[[0, 2, 0]]),
]


@pytest.mark.parametrize("name, fn", VIEWS, ids=[v[0] for v in VIEWS])
def test_views_outside_autograd_equal_the_recorded_op_and_share_storage(name, fn):
    rng = np.random.default_rng(7)
    a = rng.standard_normal((3, 5)).astype(np.float32)
    x = fastnn.tensor(a)
    out = fn(x)
    recorded = fn(fastnn.tensor(a, requires_grad=True))
    assert out.grad_fn is None and recorded.grad_fn is not None
    assert out.shape == recorded.shape and out.dtype == recorded.dtype
    assert type(out._data) is np.ndarray
    np.testing.assert_array_equal(out.numpy(), recorded.detach().numpy())
    if name == "getitem advanced":  # a copy: its own storage and version counter
        assert not np.shares_memory(out.numpy(), x.numpy()) and out._vc is not x._vc
    else:  # a view: one storage, one version counter
        assert np.shares_memory(out.numpy(), x.numpy()) and out._vc is x._vc


def test_view_and_index_errors_outside_autograd_are_unchanged():
    x = fastnn.ones(3, 5)
    for grad in (False, True):
        y = fastnn.ones(3, 5, requires_grad=grad)
        with pytest.raises(RuntimeError, match=r"shape '\[4, 4\]' is invalid for input of size 15"):
            y.view(4, 4)
        with pytest.raises(IndexError):
            y[3]
        with pytest.raises(IndexError, match="Dimension out of range"):
            y.transpose(0, 2)
    with pytest.raises(TypeError, match="must be a tuple of ints"):
        x.view(15.0)
    with pytest.raises(TypeError, match="must be int, not bool"):
        x.transpose(True, 0)
    assert x.view(np.int64(15)).shape == (15,)  # numpy ints are ints
    assert x.transpose(np.int32(-1), 0).shape == (5, 3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_])
def test_whole_tensor_reductions_outside_autograd_match_torch(dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    a = (rng.standard_normal((7, 33)) * 10).astype(dtype)
    x, t = fastnn.tensor(a), torch.tensor(a)
    names = ["sum", "max", "min"] + (["mean"] if a.dtype.kind == "f" else [])
    for name in names:
        out, ref = getattr(x, name)(), getattr(t, name)()
        assert out.shape == () and str(out.dtype) == str(ref.dtype).replace("torch", "fastnn")
        np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-5)  # summation orders
    if a.dtype.kind == "f":
        a[3, 4] = np.nan
        x, t = fastnn.tensor(a), torch.tensor(a)
        for name in names:
            assert np.isnan(getattr(x, name)().item()) and np.isnan(getattr(t, name)().item())
    with pytest.raises(RuntimeError, match="zero-size array"):
        fastnn.tensor(a[:0]).max()


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("shape", [(256, 10), (7,), (3, 4, 5), (5, 0), (1, 1)])
def test_sum_along_the_last_dim_outside_autograd_equals_the_recorded_op(dtype, shape):
    """Tensor.sum(-1) / sum(ndim - 1) outside autograd goes straight to the row-sum kernel (float32
    and float64, contiguous) or numpy: the recorded op's bits, shape and dtype, any keepdim."""
    rng = np.random.default_rng(10)
    a = (rng.standard_normal(shape) * 10).astype(dtype)
    views = [a] + ([a[:, ::2]] if a.ndim == 2 and a.shape[1] > 1 else [])
    for v in views:
        for dim in (-1, v.ndim - 1):
            for keepdim in (False, True):
                got = fastnn.tensor(v).sum(dim, keepdim=keepdim)
                rec = fastnn.tensor(v, requires_grad=True).sum(dim, keepdim=keepdim)
                want = np.add.reduce(v, axis=dim, keepdims=keepdim)
                assert got.shape == rec.shape == want.shape and got.dtype == rec.dtype
                assert got.numpy().tobytes() == rec.detach().numpy().tobytes() == want.tobytes()
    x = fastnn.tensor(a)
    with pytest.raises(TypeError, match="keepdim"):
        x.sum(-1, keepdim="yes")
    with pytest.raises(IndexError):
        x.sum(a.ndim)


@pytest.mark.parametrize("lhs, rhs", [(np.float32,) * 2, (np.float64,) * 2, (np.int64,) * 2,
                                      (np.int32, np.int32), (np.bool_,) * 2, (np.int64, None),
                                      (None, np.int32), (np.float32, None), (None, np.float64)])  # fmt: skip
def test_division_outside_autograd_matches_torch(lhs, rhs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    args_f, args_t = [], []
    for dt in (lhs, rhs):
        if dt is None:  # a Python number
            args_f.append(3)
            args_t.append(3)
        else:
            a = rng.integers(1, 9, (4, 7)).astype(dt)
            args_f.append(fastnn.tensor(a))
            args_t.append(torch.tensor(a))
    out, ref = args_f[0] / args_f[1], args_t[0] / args_t[1]
    assert str(out.dtype) == str(ref.dtype).replace("torch", "fastnn")
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-6)


@pytest.mark.parametrize("fn", ["cat", "stack"])
def test_cat_and_stack_outside_autograd_equal_the_recorded_op(fn):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(10)
    op, top = getattr(fastnn, fn), getattr(torch, fn)
    cases = [
        ([(3, 4), (3, 4)], 0),
        ([(3, 4), (3, 4), (3, 4)], -1),
        ([(2, 1, 5)] * 2, 1),
        ([(7,)] * 3, 0),
        ([()] * 4, 0),
        ([(3, 4)], 1),
    ]
    if fn == "cat":
        cases = [c for c in cases if c[0][0] != ()] + [([(2, 4), (5, 4), (1, 4)], 0)]
    for shapes, dim in cases:
        for dtypes in ([np.float32] * len(shapes), [np.float64, np.float32] + [np.int64] * 9):
            arrays = [rng.standard_normal(s).astype(d) for s, d in zip(shapes, dtypes)]
            out = op([fastnn.tensor(a) for a in arrays], dim)
            ref = top([torch.tensor(a) for a in arrays], dim)
            floats = [fastnn.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
            recorded = op(floats, dim)
            assert out.grad_fn is None and (recorded.grad_fn is not None or len(shapes) == 1)
            assert str(out.dtype) == str(ref.dtype).replace("torch", "fastnn")
            assert out.shape == tuple(ref.shape) == recorded.shape
            np.testing.assert_array_equal(out.numpy(), recorded.detach().numpy())
            np.testing.assert_array_equal(out.numpy(), ref.numpy())


def test_cat_and_stack_errors_are_unchanged():
    a, b = fastnn.ones(2, 3), fastnn.ones(2, 4)
    with pytest.raises(RuntimeError, match="Expected size 3 but got size 4 for tensor number 1"):
        fastnn.cat([a, b])
    with pytest.raises(RuntimeError, match="same number of dimensions: got 2 and 1"):
        fastnn.cat([a, fastnn.ones(3)])
    with pytest.raises(RuntimeError, match=r"equal size, but got \[2, 3\] at entry 0 and \[2, 4\]"):
        fastnn.stack([a, b])
    with pytest.raises(IndexError, match="Dimension out of range"):
        fastnn.stack([a, a], 3)
    assert fastnn.cat([a, b], 1).shape == (2, 7)


@pytest.mark.parametrize("dtype", [None, fastnn.float64, fastnn.int32, fastnn.bool])
def test_ones_and_zeros_of_every_dtype(dtype):
    for shape in ((), (1,), (4, 4), (0, 3), (2, 3, 5)):
        for fn, value in ((fastnn.ones, 1), (fastnn.zeros, 0)):
            t = fn(*shape, dtype=dtype) if shape else fn((), dtype=dtype)
            assert t.shape == shape and t.dtype == (dtype or fastnn.float32)
            np.testing.assert_array_equal(t.numpy(), np.full(shape, value))


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh"])
def test_functional_activations_equal_the_methods(name):
    F = nn.functional
    a = np.array([[-1.5, 0.0, 2.0], [0.25, -3.0, 7.0]])
    for x in (
        fastnn.tensor(a, dtype=fastnn.float32),
        fastnn.tensor(a, requires_grad=True),
        nn.Parameter(fastnn.tensor(a)),
    ):
        for fn in (getattr(F, name), getattr(fastnn, name)):
            out, want = fn(x), getattr(x, name)()
            assert (out.grad_fn is None) == (want.grad_fn is None) == (not x.requires_grad)
            assert out.dtype == want.dtype
            np.testing.assert_array_equal(out.detach().numpy(), want.detach().numpy())
    with pytest.raises(TypeError, match="arguments must be Tensors"):
        getattr(F, name)([1.0, 2.0])


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "sin", "tanh", "sigmoid", "abs", "erf"])
def test_unary_functions_take_tensors_lists_and_out(name):
    torch = pytest.importorskip("torch")
    a = np.array([[0.5, 1.0, 2.0], [0.25, 3.0, 7.0]], dtype=np.float32)
    fn, tfn = getattr(fastnn, name), getattr(torch, name)
    np.testing.assert_allclose(fn(fastnn.tensor(a)).numpy(), tfn(torch.tensor(a)).numpy(), 1e-6)
    np.testing.assert_allclose(fn(a.tolist()).numpy(), tfn(torch.tensor(a)).numpy(), 1e-6)
    ints = fn(fastnn.tensor([1, 2, 3]))
    assert ints.dtype == (fastnn.int64 if name == "abs" else fastnn.float32)
    out = fastnn.empty(2, 3)
    assert fn(fastnn.tensor(a), out=out) is out
    np.testing.assert_allclose(out.numpy(), tfn(torch.tensor(a)).numpy(), 1e-6)
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        fn(fastnn.tensor(a, requires_grad=True), out=fastnn.empty(2, 3))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_outside_autograd_equals_the_recorded_op(name, dtype):
    rng = np.random.default_rng(11)
    for shape in ((1,), (4, 4), (7, 33), (2, 3, 257)):
        a = (rng.standard_normal(shape) * 30).astype(dtype)  # large logits: the stable form
        for dim in range(-len(shape), len(shape)):
            out = getattr(fastnn.tensor(a), name)(dim)
            recorded = getattr(fastnn.tensor(a, requires_grad=True), name)(dim)
            assert out.grad_fn is None and recorded.grad_fn is not None
            assert out.dtype == recorded.dtype and out.shape == shape
            np.testing.assert_array_equal(out.numpy(), recorded.detach().numpy())
            assert np.isfinite(out.numpy()).all()


def test_cross_entropy_refuses_a_non_tensor_input():
    with pytest.raises(TypeError, match="cross_entropy\\(\\): argument 'input' must be Tensor"):
        nn.functional.cross_entropy(np.zeros((2, 3), np.float32), fastnn.tensor([0, 1]))


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_max_min_along_a_dim_outside_autograd_match_the_recorded_op_and_torch(name, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(12)
    a = rng.integers(-3, 4, (7, 5, 3)).astype(dtype)  # small integers: ties in every row
    if a.dtype.kind == "f":
        a[2, 1, 0] = a[4, 3, 2] = np.nan
    for dim in (0, 1, -1):
        for keepdim in (False, True):
            values, indices = getattr(fastnn.tensor(a), name)(dim, keepdim)
            ref = getattr(torch.tensor(a), name)(dim, keepdim)
            assert values.grad_fn is None and indices.dtype == fastnn.int64
            np.testing.assert_array_equal(values.numpy(), ref.values.numpy())
            np.testing.assert_array_equal(indices.numpy(), ref.indices.numpy())
            if a.dtype.kind == "f":
                rec = getattr(fastnn.tensor(a, requires_grad=True), name)(dim, keepdim)
                assert rec.values.grad_fn is not None
                np.testing.assert_array_equal(values.numpy(), rec.values.detach().numpy())
                np.testing.assert_array_equal(indices.numpy(), rec.indices.numpy())


def test_casts_to_the_same_dtype_and_flatten_of_one_dim_return_the_tensor_itself():
    torch = pytest.importorskip("torch")
    for name, np_dtype in (("float", np.float32), ("double", np.float64), ("long", np.int64),
                           ("int", np.int32), ("bool", np.bool_)):  # fmt: skip
        same = fastnn.tensor(np.ones((2, 3), np_dtype))
        assert getattr(same, name)() is same
        tsame = torch.tensor(np.ones((2, 3), np_dtype))
        assert getattr(tsame, name)() is tsame  # what torch does
        other = fastnn.tensor(np.full((2, 3), 2.5, np.float16))
        cast = getattr(other, name)()
        ref = getattr(torch.tensor(np.full((2, 3), 2.5, np.float16)), name)()
        assert cast is not other and str(cast.dtype) == str(ref.dtype).replace("torch", "fastnn")
        np.testing.assert_array_equal(cast.numpy(), ref.numpy())
    x, t = fastnn.ones(4, 5), torch.ones(4, 5)
    for args in ((1,), (0, 0), (-1,), (1, -1)):
        assert (x.flatten(*args) is x) == (t.flatten(*args) is t)
        assert tuple(x.flatten(*args).shape) == tuple(t.flatten(*args).shape)
    for dim in (0, 1, 2, -1, -3):
        assert tuple(x.unsqueeze(dim).shape) == tuple(t.unsqueeze(dim).shape)
    with pytest.raises(RuntimeError, match=r"invalid shape dimension -3 at index 1 of shape"):
        x.view(4, -3)


def test_item_of_every_size_one_shape_and_dtype():
    for value, dtype in ((2.5, np.float32), (-7, np.int64), (True, np.bool_), (0.1, np.float64)):
        for shape in ((), (1,), (1, 1, 1)):
            got = fastnn.tensor(np.full(shape, value, dtype)).item()
            assert type(got) is type(np.full((), value, dtype).item()) and got == dtype(value)
    with pytest.raises(RuntimeError, match="a Tensor with 2 elements cannot be converted"):
        fastnn.ones(2).item()


@pytest.mark.parametrize("name", ["zeros_like", "ones_like", "empty_like"])
def test_like_functions_keep_shape_dtype_and_take_overrides(name):
    torch = pytest.importorskip("torch")
    fn, tfn = getattr(fastnn, name), getattr(torch, name)
    for a in (np.ones((2, 3), np.float64), np.arange(4, dtype=np.int32), np.array(True)):
        x, t = fastnn.tensor(a), torch.tensor(a)
        for kwargs in ({}, {"dtype": "float32"}):
            out = fn(x, **{k: getattr(fastnn, v) for k, v in kwargs.items()})
            ref = tfn(t, **{k: getattr(torch, v) for k, v in kwargs.items()})
            assert str(out.dtype) == str(ref.dtype).replace("torch", "fastnn")
            assert out.shape == tuple(ref.shape) and not out.requires_grad
            assert not np.shares_memory(out.numpy(), x.numpy())
            if name != "empty_like":
                np.testing.assert_array_equal(out.numpy(), ref.numpy())
    grad = fn(fastnn.ones(2, 2), requires_grad=True)
    assert grad.requires_grad and grad.is_leaf


@pytest.mark.parametrize(
    "args", [(10,), (0,), (3, 9), (2, 11, 3), (5, 5), (2.5,), (0, 1, 0.25), (10, 0, -2)]
)
def test_arange_matches_torch(args):
    torch = pytest.importorskip("torch")
    out, ref = fastnn.arange(*args), torch.arange(*args)
    assert str(out.dtype) == str(ref.dtype).replace("torch", "fastnn")
    np.testing.assert_array_equal(out.numpy(), ref.numpy())


@pytest.mark.parametrize("args", [(5, 2), (0, 10, 0), (0, 2**63), (0, 5, -1)])
def test_arange_refuses_what_torch_refuses(args):
    with pytest.raises(RuntimeError, match="arange"):
        fastnn.arange(*args)


@pytest.mark.parametrize("dtype", [np.bool_, np.uint8, np.int8, np.int32, np.int64])
def test_integer_and_bool_sums_accumulate_in_int64_like_torch(dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(13)
    a = rng.integers(0, 2 if dtype is np.bool_ else 120, (7, 33, 5)).astype(dtype)
    x, t = fastnn.tensor(a), torch.tensor(a)
    for dim in (None, 0, 1, -1, (0, 2)):
        for keepdim in (False, True):
            args = () if dim is None else (dim, keepdim)
            out, ref = x.sum(*args), t.sum(*args)
            assert out.dtype == fastnn.int64 and ref.dtype == torch.int64
            np.testing.assert_array_equal(out.numpy(), ref.numpy())
    counts = (x == x.flip(0)).sum()  # the accuracy idiom: (predicted == labels).sum().item()
    assert counts.item() == (t == t.flip(0)).sum().item()
    assert x.shape[1:] == (33, 5) and type(x.shape[1:]) is type(x.shape) and x.shape[-1] == 5


@pytest.mark.parametrize("grad", [False, True])
def test_cat_of_one_tensor_is_a_new_tensor_like_torch(grad):
    x = fastnn.ones(2, 3, requires_grad=grad)
    y = fastnn.cat([x])
    assert y is not x and y.shape == (2, 3)
    assert not np.shares_memory(y.detach().numpy(), x.detach().numpy())
    if grad:
        assert y.grad_fn is not None
        (y * 2).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 3), 2.0))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_])
def test_stack_along_every_dim_equals_numpy(dtype):
    rng = np.random.default_rng(11)
    arrays = [(rng.standard_normal((3, 4, 5)) * 3).astype(dtype) for _ in range(3)]
    for dim in range(-4, 4):
        for seq in (list, tuple):
            out = fastnn.stack(seq(fastnn.tensor(a) for a in arrays), dim).numpy()
            want = np.stack(arrays, dim)
            assert out.dtype == dtype and out.shape == want.shape and out.flags.c_contiguous
            np.testing.assert_array_equal(out, want)
    params = [nn.Parameter(fastnn.tensor(a.astype(np.float32))) for a in arrays]
    with fastnn.no_grad():  # Parameters (a Tensor subclass) outside autograd
        want = np.stack([a.astype(np.float32) for a in arrays], 1)
        np.testing.assert_array_equal(fastnn.stack(params, 1).numpy(), want)


def test_stack_of_a_batch_of_images_equals_numpy():
    rng = np.random.default_rng(12)
    images = [rng.standard_normal((1, 28, 28)).astype(np.float32) for _ in range(64)]
    out = fastnn.stack([fastnn.tensor(a) for a in images])
    np.testing.assert_array_equal(out.numpy(), np.stack(images))


CLAMPS = [
    (0.0, None),
    (None, 0.0),
    (-0.5, 0.5),
    (0.5, -0.5),
    (-0.0, None),
    (None, -0.0),
    (2, None),
    (-1, 1),  # int bounds (checked against float32's range as ints)
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("lo, hi", CLAMPS)
def test_clamp_outside_autograd_gives_torch_bits(dtype, lo, hi):
    """The same bits as torch, the sign of a zero at a zero bound included (numpy's maximum
    gives +0.0 for (-0.0, 0.0), torch keeps the input's -0.0), with and without recording."""
    torch = pytest.importorskip("torch")
    a = np.array([[-1.0, -0.0, 0.0, 0.25], [np.nan, 3.0, -np.inf, np.inf]], dtype)
    out = fastnn.tensor(a).clamp(lo, hi)
    assert out.dtype == fastnn.tensor(a).dtype and out.grad_fn is None
    assert out.numpy().tobytes() == torch.tensor(a).clamp(lo, hi).numpy().tobytes()
    recorded = fastnn.tensor(a, requires_grad=True).clamp(lo, hi)
    assert recorded.grad_fn is not None
    np.testing.assert_array_equal(recorded.detach().numpy(), out.numpy())
    strided = fastnn.tensor(a).t().clamp(lo, hi)  # not contiguous: numpy's ufuncs
    np.testing.assert_array_equal(strided.numpy(), torch.tensor(a).t().clamp(lo, hi).numpy())
    scalar = fastnn.tensor(a[0, 3]).clamp(lo, hi)
    assert scalar.shape == () and scalar.numpy().__class__ is np.ndarray


def test_clamp_of_integers_keeps_np_clip_handling():
    x = fastnn.tensor([1, -3, 5, 0], dtype=fastnn.int8)
    np.testing.assert_array_equal(x.clamp(-2, 3).numpy(), [1, -2, 3, 0])
    assert x.clamp(min=1.5).dtype == fastnn.float32  # an int tensor clamped by a float
    with pytest.raises(RuntimeError, match="At least one of 'min' or 'max'"):
        x.clamp()


def test_full_of_plain_numbers_checks_what_torch_checks():
    torch = pytest.importorskip("torch")
    for value in (2.0, -0.0, float("inf"), float("nan"), 7, 2**63 - 1, -(2**63), True):
        out, ref = fastnn.full((2, 3), value), torch.full((2, 3), value)
        assert str(out.dtype) == str(ref.dtype).replace("torch", "fastnn")
        np.testing.assert_array_equal(out.numpy(), ref.numpy())
    with pytest.raises(RuntimeError, match="1e\\+39 cannot be converted to float32"):
        fastnn.full((2,), 1e39)
    with pytest.raises(RuntimeError, match="cannot be converted to int64"):
        fastnn.full((2,), 2**63)
    before = fastnn.get_default_dtype()
    try:
        fastnn.set_default_dtype(fastnn.float64)
        assert fastnn.full((2,), 1e300).dtype == fastnn.float64
    finally:
        fastnn.set_default_dtype(before)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int32])
def test_new_tensors_take_the_source_dtype_unless_given(dtype):
    torch = pytest.importorskip("torch")
    src = fastnn.tensor(np.ones((2, 2), dtype))
    tsrc = torch.tensor(np.ones((2, 2), dtype))
    for name, args in (
        ("new_zeros", (3,)),
        ("new_ones", ((2, 3),)),
        ("new_empty", (2, 1)),
        ("new_full", ((2, 3), 2.5)),
        ("new_full", ([3], 7)),
    ):
        out, ref = getattr(src, name)(*args), getattr(tsrc, name)(*args)
        assert out.shape == tuple(ref.shape)
        assert str(out.dtype) == str(ref.dtype).replace("torch", "fastnn")
        if name != "new_empty":
            np.testing.assert_array_equal(out.numpy(), ref.numpy())
        given = getattr(src, name)(*args, dtype=fastnn.float64, requires_grad=True)
        assert given.dtype == fastnn.float64 and given.requires_grad


def test_float16_tensors_print_without_warnings():
    text = repr(fastnn.tensor([1.0, 2.0], dtype=fastnn.float16))
    assert text == "tensor([1., 2.], dtype=fastnn.float16)"
    assert "1.5000" in repr(fastnn.tensor([1.5, 65504.0], dtype=fastnn.float16))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "kw",
    [{}, {"dim": 0}, {"dim": 1, "keepdim": True}, {"dim": (0, 2)}, {"correction": 0}, {"dim": -1}],
)
def test_var_and_std_outside_autograd_equal_the_recorded_ops(dtype, kw):
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(13).standard_normal((3, 4, 5)).astype(dtype)
    for name in ("var", "std"):
        out = getattr(fastnn.tensor(a), name)(**kw)
        recorded = getattr(fastnn.tensor(a, requires_grad=True), name)(**kw)
        assert out.grad_fn is None and recorded.grad_fn is not None
        assert out.dtype == recorded.dtype and out.shape == recorded.shape
        assert out.numpy().tobytes() == recorded.detach().numpy().tobytes()
        ref = getattr(torch.tensor(a), name)(**kw).numpy()
        np.testing.assert_allclose(out.numpy(), ref, rtol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_where_outside_autograd_equals_the_recorded_op_and_torch(dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(14)
    for xs, ys, cs in (((4, 4), (4, 4), (4, 4)), ((3, 1), (1, 5), (3, 5)), ((), (2,), (2,))):
        xa, ya = (rng.standard_normal(s).astype(dtype) for s in (xs, ys))
        ca = rng.standard_normal(cs) > 0
        out = fastnn.where(fastnn.tensor(ca), fastnn.tensor(xa), fastnn.tensor(ya))
        ref = torch.where(torch.tensor(ca), torch.tensor(xa), torch.tensor(ya))
        assert out.grad_fn is None and out.shape == tuple(ref.shape)
        np.testing.assert_array_equal(out.numpy(), ref.numpy())
        if dtype != np.int64:
            rx = fastnn.tensor(xa, requires_grad=True)
            recorded = fastnn.where(fastnn.tensor(ca), rx, fastnn.tensor(ya))
            assert recorded.grad_fn is not None
            np.testing.assert_array_equal(recorded.detach().numpy(), out.numpy())
    with pytest.raises(RuntimeError, match="input shapes"):
        fastnn.where(fastnn.ones(2) > 0, fastnn.ones(3), fastnn.ones(4))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kw", [{}, {"dim": 1}, {"dim": (0, 2), "keepdim": True}, {"p": "fro"}])
def test_norm_outside_autograd_equals_the_recorded_op(dtype, kw):
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(15).standard_normal((3, 4, 5)).astype(dtype)
    out = fastnn.tensor(a).norm(**kw)
    recorded = fastnn.tensor(a, requires_grad=True).norm(**kw)
    assert out.grad_fn is None and recorded.grad_fn is not None
    assert out.shape == recorded.shape and out.dtype == recorded.dtype
    assert out.numpy().tobytes() == recorded.detach().numpy().tobytes()
    ref = torch.tensor(a).norm(**kw).numpy()
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_along_a_dim_gradients_go_to_the_chosen_element_like_torch(name, keepdim):
    torch = pytest.importorskip("torch")
    a = np.array([[1.0, 3.0, 3.0, -2.0], [0.5, 0.5, -1.0, 7.0], [2.0, -4.0, 2.0, -4.0]])
    w = np.random.default_rng(16).standard_normal((3, 1) if keepdim else (3,))
    for dim in (1, -1, 0):
        if dim == 0:
            w = np.random.default_rng(17).standard_normal((1, 4) if keepdim else (4,))
        x, t = fastnn.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        got, want = getattr(x, name)(dim, keepdim=keepdim), getattr(t, name)(dim, keepdim=keepdim)
        np.testing.assert_array_equal(got[0].detach().numpy(), want[0].detach().numpy())
        np.testing.assert_array_equal(got[1].numpy(), want[1].numpy())
        (got[0] * fastnn.tensor(w)).sum().backward()
        (want[0] * torch.tensor(w)).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
    x = fastnn.tensor(np.random.default_rng(18).standard_normal((3, 5)), requires_grad=True)
    assert gradcheck(lambda z: getattr(z, name)(1, keepdim=keepdim)[0], (x,))


@pytest.mark.parametrize(
    "kw", [{}, {"dim": 0}, {"dim": 1, "keepdim": True}, {"dim": (0, 2)}, {"correction": 0}]
)
def test_var_and_std_gradients_match_torch_and_gradcheck(kw):
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(19).standard_normal((3, 4, 5))
    for name in ("var", "std"):
        x, t = fastnn.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        y, ty = getattr(x, name)(**kw), getattr(t, name)(**kw)
        w = np.random.default_rng(20).standard_normal(tuple(ty.shape))
        (y * fastnn.tensor(w)).sum().backward()
        (ty * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)
        z = fastnn.tensor(a, requires_grad=True)
        assert gradcheck(lambda v, name=name: getattr(v, name)(**kw), (z,))
    with pytest.raises(RuntimeError, match="only support floating point"):
        fastnn.ones(3, dtype=fastnn.int64).var()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", ["__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"])
def test_comparisons_match_torch(dtype, op):
    torch = pytest.importorskip("torch")
    a = np.array([[0.1, -0.0, np.nan, 16777216.0], [np.inf, -2.5, 3.0, 1e38]], dtype)
    b = np.array([[0.1, 0.0, 1.0, 16777217.0], [np.inf, 2.5, np.nan, -1e38]], dtype)
    x, t = fastnn.tensor(a), torch.tensor(a)
    others = [0.1, 0, -2.5, 2**24, 2**24 + 1, 3e38, True, np.float32(0.1)]
    others += [(fastnn.tensor(b), torch.tensor(b)), (fastnn.tensor(b[0]), torch.tensor(b[0]))]
    h = np.array([[0.1, 0.0, 1.0, 2048.0], [np.inf, 2.5, np.nan, -6e4]], np.float16)
    others += [(fastnn.tensor(h), torch.tensor(h))]  # mixed dtypes: the general path
    for v in others:
        fv, tv = v if isinstance(v, tuple) else (v, v)
        got, want = getattr(x, op)(fv), getattr(t, op)(tv)
        assert got.dtype == fastnn.bool and got.shape == tuple(want.shape)
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    with pytest.raises(RuntimeError, match="shapes"):
        getattr(x, op)(fastnn.tensor(np.ones(3, dtype)))
