"""dtypes as objects (``fastnn.float32``), ``fastnn.Size``, and torch's type promotion: each rule
checked against torch on a table of operand kinds (tensor, 0-d tensor, Python number)."""

import copy
import itertools
import operator
import pickle

import numpy as np
import pytest

import fastnn

torch = pytest.importorskip("torch")

NAMES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64")


@pytest.fixture
def default_float64():
    before = fastnn.get_default_dtype()
    fastnn.set_default_dtype(fastnn.float64)
    yield
    fastnn.set_default_dtype(before)


# ---- dtype objects ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(fastnn._core.dtype.PUBLIC))
def test_dtype_object_prints_compares_and_hashes(name):
    d = getattr(fastnn, name)
    t = getattr(torch, name)
    assert isinstance(d, fastnn.dtype)
    assert repr(d) == str(d) == str(t).replace("torch.", "fastnn.")
    assert operator.eq(d, d)
    if name != "bfloat16" or fastnn._core.dtype.bfloat16 is not None:
        # (numpy knows bfloat16 only through ml_dtypes; without it the object has no numpy
        # dtype to equal)
        nd = np.dtype(str(t).split(".")[1])
        assert d == nd and nd == d and d == nd.type and nd.type == d
        assert operator.ne(d, nd) is False
        assert hash(d) == hash(nd)
        assert {nd: "found"}[d] == "found" and {d: "found"}[nd] == "found"
    assert d.itemsize == t.itemsize
    assert d.is_floating_point == t.is_floating_point
    assert d.is_complex == t.is_complex
    assert d.is_signed == t.is_signed
    assert pickle.loads(pickle.dumps(d)) is d and copy.deepcopy(d) is d


def test_dtype_objects_are_singletons_and_differ_from_other_things():
    assert fastnn.float is fastnn.float32 and fastnn.long is fastnn.int64
    assert fastnn.double is fastnn.float64 and fastnn.half is fastnn.float16
    assert fastnn.float32 != fastnn.float64
    assert fastnn.float32 != np.float64
    assert fastnn.float32 != "float32"  # torch: a dtype never equals its name
    assert fastnn.int64 != int and fastnn.float64 != float
    assert fastnn.tensor([1.0]).dtype is fastnn.float32
    assert fastnn.tensor([1]).dtype is fastnn.long
    assert fastnn.tensor([True]).dtype is fastnn.bool


def test_numpy_accepts_dtype_objects():
    assert np.dtype(fastnn.float32) == np.float32
    assert np.zeros(3, dtype=fastnn.float64).dtype == np.float64
    assert np.arange(3).astype(fastnn.float32).dtype == np.float32
    assert np.asarray([1, 0], dtype=fastnn.bool).dtype == np.bool_
    assert np.arange(3).dtype == fastnn.int64


def test_dtype_objects_are_accepted_by_fastnn():
    x = fastnn.tensor([1, 2], dtype=fastnn.float64)
    assert x.dtype is fastnn.float64
    assert x.to(fastnn.int32).dtype is fastnn.int32
    assert x.to(np.float32).dtype is fastnn.float32
    assert x.to(fastnn.tensor([1])).dtype is fastnn.int64
    assert fastnn.zeros(2, dtype=fastnn.float16).dtype is fastnn.float16
    assert fastnn.arange(3, dtype=fastnn.long).dtype is fastnn.int64
    assert x.type(fastnn.float32).type() == "fastnn.FloatTensor"
    assert x.long().dtype is fastnn.int64 and x.bool().dtype is fastnn.bool


def test_tensor_repr_names_the_dtype_like_torch():
    assert repr(fastnn.tensor([1.5, 2.5], dtype=fastnn.float64)).endswith("dtype=fastnn.float64)")
    assert "dtype" not in repr(fastnn.tensor([1.5]))
    assert repr(fastnn.tensor([1], dtype=fastnn.int32)) == "tensor([1], dtype=fastnn.int32)"


def test_default_dtype_is_an_object(default_float64):
    assert fastnn.get_default_dtype() is fastnn.float64
    assert fastnn.tensor([1.5]).dtype is fastnn.float64
    fastnn.set_default_dtype(np.dtype("float32"))
    assert fastnn.get_default_dtype() is fastnn.float32
    fastnn.set_default_dtype("float64")
    assert fastnn.get_default_dtype() is fastnn.float64
    assert fastnn.tensor([1, 2]).sigmoid().dtype is fastnn.float64


@pytest.mark.parametrize("bad", [fastnn.int64, fastnn.bool, "long", np.int32, "nonsense", 3])
def test_set_default_dtype_refuses_non_floating_types(bad):
    before = fastnn.get_default_dtype()
    with pytest.raises(TypeError, match="set_default_dtype"):
        fastnn.set_default_dtype(bad)
    assert fastnn.get_default_dtype() is before


def test_is_floating_point():
    assert fastnn.is_floating_point(fastnn.tensor([1.0]))
    assert not fastnn.is_floating_point(fastnn.tensor([1]))
    assert fastnn.tensor([1.0], dtype=fastnn.float16).is_floating_point()
    assert not fastnn.tensor([True]).is_floating_point()
    with pytest.raises(TypeError, match="'input' must be Tensor, not float"):
        fastnn.is_floating_point(1.0)


@pytest.mark.parametrize("name", ["float16", "float32", "float64"])
def test_finfo_matches_torch(name):
    f, t = fastnn.finfo(getattr(fastnn, name)), torch.finfo(getattr(torch, name))
    for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(f, field) == getattr(t, field), field
    assert type(f.max) is float and type(f.bits) is int
    assert repr(f) == repr(t)


def test_finfo_without_argument_is_the_default_dtype(default_float64):
    assert fastnn.finfo().dtype == "float64"
    assert fastnn.finfo().eps == torch.finfo(torch.float64).eps


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo_matches_torch(name):
    i, t = fastnn.iinfo(getattr(fastnn, name)), torch.iinfo(getattr(torch, name))
    for field in ("bits", "min", "max", "dtype"):
        assert getattr(i, field) == getattr(t, field), field
    assert type(i.max) is int
    assert repr(i) == repr(t)


def test_finfo_and_iinfo_refuse_the_wrong_kind():
    with pytest.raises(TypeError, match="finfo.*floating point.*fastnn.int32"):
        fastnn.finfo(fastnn.int32)
    with pytest.raises(TypeError, match="iinfo.*integer.*fastnn.float32"):
        fastnn.iinfo(fastnn.float32)
    with pytest.raises(TypeError, match="iinfo.*integer.*fastnn.bool"):
        fastnn.iinfo(fastnn.bool)
    with pytest.raises(TypeError, match="argument 'type' must be fastnn.dtype, not str"):
        fastnn.finfo("float32")


@pytest.mark.parametrize(("a", "b"), list(itertools.product(NAMES, NAMES)))
def test_promote_types_and_can_cast_match_torch(a, b):
    fa, fb, ta, tb = getattr(fastnn, a), getattr(fastnn, b), getattr(torch, a), getattr(torch, b)
    assert str(fastnn.promote_types(fa, fb)) == str(torch.promote_types(ta, tb)).replace(
        "torch", "fastnn"
    )
    assert fastnn.can_cast(fa, fb) == torch.can_cast(ta, tb)


def test_promote_types_and_can_cast_refuse_non_dtypes():
    with pytest.raises(TypeError, match="promote_types.*'type2' must be fastnn.dtype, not int"):
        fastnn.promote_types(fastnn.float32, 1)
    with pytest.raises(TypeError, match="can_cast.*'from_' must be fastnn.dtype, not str"):
        fastnn.can_cast("float32", fastnn.float64)


# ---- fastnn.Size --------------------------------------------------------------------------------


def test_size_behaves_like_torch_size():
    x = fastnn.zeros(2, 3)
    s, ts = x.shape, torch.zeros(2, 3).shape
    assert isinstance(s, fastnn.Size) and isinstance(s, tuple)
    assert isinstance(x.size(), fastnn.Size) and x.size() == s
    assert repr(s) == str(s) == repr(ts).replace("torch", "fastnn") == "fastnn.Size([2, 3])"
    assert s == (2, 3) and (2, 3) == s and s != [2, 3]
    assert s.numel() == ts.numel() == 6 and fastnn.Size([]).numel() == 1
    assert repr(fastnn.zeros(()).shape) == "fastnn.Size([])"
    # the operators themselves are under test here, hence operator.add over unpacking
    for part in (s[1:], operator.add(s, (4,)), operator.add((1,), s), s * 2, 2 * s):
        assert isinstance(part, fastnn.Size)
    assert operator.add((1,), s) == (1, 2, 3) and s * 2 == (2, 3, 2, 3)
    assert type(s[0]) is int and s[-1] == 3
    assert fastnn.Size([np.int64(2), 3]) == (2, 3)
    assert pickle.loads(pickle.dumps(s)) == s and type(pickle.loads(pickle.dumps(s))) is fastnn.Size


def test_size_of_a_dimension():
    x = fastnn.zeros(2, 3)
    assert x.size(0) == 2 and x.size(-1) == 3 and x.size(-2) == 2
    assert type(x.size(1)) is int


@pytest.mark.parametrize("dim", [2, 5, -3])
def test_size_of_a_dimension_out_of_range(dim):
    x, tx = fastnn.zeros(2, 3), torch.zeros(2, 3)
    with pytest.raises(IndexError) as expected:
        tx.size(dim)
    with pytest.raises(IndexError) as got:
        x.size(dim)
    assert str(got.value) == str(expected.value)


def test_size_of_a_dimension_of_a_0d_tensor():
    with pytest.raises(IndexError, match="Dimension specified as 0 but tensor has no dimensions"):
        fastnn.tensor(1.0).size(0)


def test_size_refuses_non_integers():
    with pytest.raises(TypeError, match=r"fastnn.Size\(\) takes an iterable of ints"):
        fastnn.Size([2.5])
    with pytest.raises(TypeError, match=r"fastnn.Size\(\) takes an iterable of ints"):
        fastnn.Size(3)


# ---- promotion: a table of operands against torch -----------------------------------------------

# values every dtype holds exactly, nonzero (the table divides by them)
_VALUES = [1, 2, 3]
_SCALARS = {"bool": True, "int": 3, "float": 2.5}


def _operand(lib, kind, name):
    """An operand of the table: a 1-d tensor, a 0-d tensor or a Python number."""
    if kind == "number":
        return _SCALARS[name]
    dt = getattr(lib, name)
    values = _VALUES if kind == "tensor" else _VALUES[1]
    return lib.tensor(values, dtype=dt)


_TENSOR_CASES = [(k, n) for k in ("tensor", "0-d") for n in ("bool", "uint8", "int32", "int64")]
_TENSOR_CASES += [(k, n) for k in ("tensor", "0-d") for n in ("float16", "float32", "float64")]
_NUMBER_CASES = [("number", n) for n in _SCALARS]
_PAIRS = [
    (a, b)
    for a in _TENSOR_CASES
    for b in _TENSOR_CASES + _NUMBER_CASES
    if a[0] == "tensor" or b[0] != "tensor"  # the 0-d-with-tensor cases come once, reversed too
] + [(b, a) for a in _TENSOR_CASES if a[0] == "tensor" for b in _NUMBER_CASES]


def _id(pair):
    return "-".join(f"{k}:{n}" for k, n in pair)


def _same(result, expected):
    assert str(result.dtype) == str(expected.dtype).replace("torch", "fastnn")
    np.testing.assert_allclose(
        np.asarray(result, dtype=np.float64), expected.double().numpy(), rtol=1e-3
    )


_OPS = {
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "sub": lambda a, b: a - b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "floordiv": lambda a, b: a // b,
    "eq": lambda a, b: a == b,
    "lt": lambda a, b: a < b,
}


@pytest.mark.parametrize("pair", _PAIRS, ids=_id)
@pytest.mark.parametrize("op", sorted(_OPS))
def test_binary_op_dtype_and_values_match_torch(pair, op):
    (ka, na), (kb, nb) = pair
    fa, fb = _operand(fastnn, ka, na), _operand(fastnn, kb, nb)
    ta, tb = _operand(torch, ka, na), _operand(torch, kb, nb)
    try:
        expected = _OPS[op](ta, tb)
    except (RuntimeError, TypeError):  # torch refuses (bool - bool, float16 floor division...)
        pytest.skip("torch refuses this combination")
    _same(_OPS[op](fa, fb), expected)


@pytest.mark.parametrize("pair", _PAIRS, ids=_id)
def test_result_type_matches_torch(pair):
    (ka, na), (kb, nb) = pair
    fa, fb = _operand(fastnn, ka, na), _operand(fastnn, kb, nb)
    ta, tb = _operand(torch, ka, na), _operand(torch, kb, nb)
    expected = torch.result_type(ta, tb)
    assert str(fastnn.result_type(fa, fb)) == str(expected).replace("torch", "fastnn")


def test_result_type_of_two_numbers_and_bad_arguments():
    assert fastnn.result_type(2, 2.5) is fastnn.float32
    assert fastnn.result_type(True, 3) is fastnn.int64
    with pytest.raises(TypeError, match="result_type.*'other' must be a Tensor or a number"):
        fastnn.result_type(fastnn.tensor([1]), "a")


def test_python_float_promotes_integers_to_the_default_dtype(default_float64):
    assert (fastnn.tensor([1, 2]) * 2.5).dtype is fastnn.float64
    assert (fastnn.tensor([1, 2]) / 2).dtype is fastnn.float64
    assert (fastnn.tensor([1.0], dtype=fastnn.float32) * 2.5).dtype is fastnn.float32


@pytest.mark.parametrize(
    ("a", "b"),
    [("tensor", "tensor"), ("tensor", "0-d"), ("0-d", "tensor")],
)
@pytest.mark.parametrize(("na", "nb"), [("float32", "float64"), ("int64", "float64")])
@pytest.mark.parametrize("op", ["add", "mul", "div"])
def test_promoted_gradients_keep_each_inputs_dtype(a, b, na, nb, op):
    def run(lib):
        x = _operand(lib, a, na)
        y = _operand(lib, b, nb)
        x = x.to(lib.float32) if na == "float32" else x
        x.requires_grad_(x.is_floating_point())
        y.requires_grad_(True)
        _OPS[op](x, y).sum().backward()
        return x, y

    (fx, fy), (tx, ty) = run(fastnn), run(torch)
    for f, t in ((fx, tx), (fy, ty)):
        if t.grad is None:
            assert f.grad is None
            continue
        assert str(f.grad.dtype) == str(t.grad.dtype).replace("torch", "fastnn")
        np.testing.assert_allclose(f.grad.numpy(), t.grad.numpy(), rtol=1e-6)


def test_promoted_op_gradcheck_in_float64():
    x = fastnn.tensor([0.5, -1.5, 2.0], dtype=fastnn.float64, requires_grad=True)
    n = fastnn.tensor([1, 2, 3])
    assert fastnn.autograd.gradcheck(lambda x: x * n + n / (x * x + 1), (x,))


# ---- where, maximum, cat, stack, clamp ----------------------------------------------------------


_WHERE_CASES = [("tensor", "bool"), ("tensor", "int64"), ("tensor", "float32"), ("0-d", "float64")]
_WHERE_CASES += _NUMBER_CASES


@pytest.mark.parametrize("pair", list(itertools.product(_WHERE_CASES, _WHERE_CASES)), ids=_id)
def test_where_promotes_like_torch(pair):
    (ka, na), (kb, nb) = pair
    mask = [True, False, True]
    fx, fy = _operand(fastnn, ka, na), _operand(fastnn, kb, nb)
    tx, ty = _operand(torch, ka, na), _operand(torch, kb, nb)
    _same(
        fastnn.where(fastnn.tensor(mask), fx, fy),
        torch.where(torch.tensor(mask), tx, ty),
    )


def test_where_bool_tensor_and_int_is_long():
    r = fastnn.where(fastnn.tensor([True, False]), fastnn.tensor([True, False]), 2)
    assert r.dtype is fastnn.int64 and r.tolist() == [1, 2]


def test_where_gradient_of_a_promoted_input_keeps_its_dtype():
    x = fastnn.tensor([1.0, 2.0], requires_grad=True)
    y = fastnn.tensor([3.0, 4.0], dtype=fastnn.float64, requires_grad=True)
    out = fastnn.where(fastnn.tensor([True, False]), x, y)
    assert out.dtype is fastnn.float64
    out.sum().backward()
    assert x.grad.dtype is fastnn.float32 and x.grad.tolist() == [1.0, 0.0]
    assert y.grad.dtype is fastnn.float64 and y.grad.tolist() == [0.0, 1.0]


def test_where_refuses_a_non_number():
    with pytest.raises(TypeError, match="where.*'other' must be a Tensor or a number, not str"):
        fastnn.where(fastnn.tensor([True]), fastnn.tensor([1.0]), "x")


@pytest.mark.parametrize(("na", "nb"), list(itertools.combinations(NAMES[:1] + NAMES[4:], 2)))
def test_maximum_minimum_promote_like_torch(na, nb):
    fa, fb = (
        fastnn.tensor([1, 5], dtype=getattr(fastnn, na)),
        fastnn.tensor([3, 2], dtype=getattr(fastnn, nb)),
    )
    ta, tb = (
        torch.tensor([1, 5], dtype=getattr(torch, na)),
        torch.tensor([3, 2], dtype=getattr(torch, nb)),
    )
    _same(fastnn.maximum(fa, fb), torch.maximum(ta, tb))
    _same(fastnn.minimum(fb, fa), torch.minimum(tb, ta))


@pytest.mark.parametrize(
    "names",
    [("int64", "float32"), ("float32", "float64"), ("bool", "int32"), ("uint8", "int8", "bool")],
)
@pytest.mark.parametrize("fn", ["cat", "stack"])
def test_cat_and_stack_promote_like_torch(names, fn):
    fs = [fastnn.tensor([1, 0], dtype=getattr(fastnn, n)) for n in names]
    ts = [torch.tensor([1, 0], dtype=getattr(torch, n)) for n in names]
    _same(getattr(fastnn, fn)(fs), getattr(torch, fn)(ts))


def test_cat_gradient_of_a_promoted_input_keeps_its_dtype():
    x = fastnn.tensor([1.0, 2.0], requires_grad=True)
    y = fastnn.tensor([3.0], dtype=fastnn.float64, requires_grad=True)
    out = fastnn.cat([x, y])
    assert out.dtype is fastnn.float64
    (out * fastnn.tensor([1.0, 2.0, 3.0], dtype=fastnn.float64)).sum().backward()
    assert x.grad.dtype is fastnn.float32 and x.grad.tolist() == [1.0, 2.0]
    assert y.grad.dtype is fastnn.float64 and y.grad.tolist() == [3.0]


def test_clamp_of_integers_by_a_float_is_float():
    _same(fastnn.tensor([1, 2]).clamp(1.5), torch.tensor([1, 2]).clamp(1.5))
    _same(fastnn.tensor([1, 2]).clamp(max=1.5), torch.tensor([1, 2]).clamp(max=1.5))
    _same(fastnn.tensor([1, 5]).clamp(2, 4), torch.tensor([1, 5]).clamp(2, 4))


# ---- float-only functions on integers, and ~ ----------------------------------------------------

_FLOAT_ONLY = ["sigmoid", "tanh", "exp", "log", "sqrt", "rsqrt", "sin", "cos"]


@pytest.mark.parametrize("name", ["bool", "uint8", "int32", "int64"])
@pytest.mark.parametrize("fn", _FLOAT_ONLY)
def test_float_only_functions_compute_integers_in_the_default_dtype(fn, name):
    values = [1, 2, 3] if name != "bool" else [True, True]  # no log(0): see _devices' warning
    f = fastnn.tensor(values, dtype=getattr(fastnn, name))
    t = torch.tensor(values, dtype=getattr(torch, name))
    _same(getattr(f, fn)(), getattr(t, fn)())
    _same(getattr(fastnn, fn)(f), getattr(torch, fn)(t))


def test_float_only_functions_on_integers_follow_the_default_dtype(default_float64):
    assert fastnn.tensor([1, 2]).exp().dtype is fastnn.float64


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_of_integers_is_refused_like_torch(fn):
    with pytest.raises(NotImplementedError):
        getattr(torch.tensor([1, 2]), fn)(0)
    x = fastnn.tensor([1, 2])
    with pytest.raises(NotImplementedError, match=f"{fn}.*fastnn.int64"):
        getattr(x, fn)(0)


def test_mean_of_integers_is_refused_like_torch():
    with pytest.raises(RuntimeError, match="mean"):
        torch.tensor([1, 2]).mean()
    with pytest.raises(RuntimeError, match=r"mean\(\): could not infer output dtype"):
        fastnn.tensor([1, 2]).mean()


@pytest.mark.parametrize("name", ["bool", "uint8", "int8", "int32", "int64"])
def test_invert_is_bitwise_on_integers_and_logical_on_bools(name):
    values = [0, 1, 5] if name != "bool" else [True, False, True]
    _same(
        ~fastnn.tensor(values, dtype=getattr(fastnn, name)),
        ~torch.tensor(values, dtype=getattr(torch, name)),
    )


def test_invert_of_a_float_tensor_is_refused_like_torch():
    with pytest.raises(TypeError):
        ~torch.tensor([1.0])
    with pytest.raises(TypeError, match=r"~ \(operator.invert\).*fastnn.float32"):
        ~fastnn.tensor([1.0])


@pytest.mark.parametrize(
    ("name", "value"), [("int64", 2.5), ("bool", 2), ("float32", 3), ("float16", 1.5)]
)
def test_masked_fill_keeps_the_tensors_dtype(name, value):
    mask = [True, False]
    f = fastnn.tensor([1, 0], dtype=getattr(fastnn, name))
    t = torch.tensor([1, 0], dtype=getattr(torch, name))
    _same(f.masked_fill(fastnn.tensor(mask), value), t.masked_fill(torch.tensor(mask), value))
    v64 = fastnn.tensor(value, dtype=fastnn.float64)
    _same(
        f.masked_fill(fastnn.tensor(mask), v64),
        t.masked_fill(torch.tensor(mask), torch.tensor(value, dtype=torch.float64)),
    )
