"""Defects the public-API fuzz suite (tests/test_fuzz_api_*.py) found, each pinned by the input
that showed it: torch's result, or a clean error that names the argument."""

import io

import numpy as np
import pytest

import fastnn
from fastnn import nn, optim
from fastnn.utils import data

# ---- Tensor creation and shape ops ----------------------------------------------------------------


def test_sum_of_unsigned_ints_is_int64_as_torch():
    # was uint64 (numpy's rule)
    assert fastnn.tensor(np.array([200, 100], np.uint8)).sum().dtype == fastnn.int64
    assert fastnn.tensor(np.ones((2, 3), np.uint8)).sum(1).dtype == fastnn.int64


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda x: x.view(None), r"view\(\): argument 'size' must be a tuple of ints"),
        (lambda x: x.reshape([2, None]), r"reshape\(\): argument 'shape' must be a tuple of"),
        (lambda x: x.reshape(2.0, 3), r"reshape\(\): argument 'shape' .* float"),
        (lambda x: x.reshape(), r'reshape\(\) missing 1 required positional arguments: "shape"'),
        (lambda x: x.permute(), r'permute\(\) missing .* "dims"'),
        (lambda x: x.expand("a"), r"expand\(\): argument 'size'"),
        (lambda x: x.repeat(), r'repeat\(\) missing .* "repeats"'),
    ],
)
def test_shape_arguments_that_are_not_ints_raise_type_error(call, match):
    # were "int() argument must be ... not 'NoneType'", a silent truncation of 2.0, or no error
    with pytest.raises(TypeError, match=match):
        call(fastnn.ones(6))


def test_reshape_refuses_negative_sizes_other_than_minus_one():
    # numpy read -2 as -1
    with pytest.raises(RuntimeError, match="invalid shape dimension -2 at index 0"):
        fastnn.ones(1).reshape(-2)
    assert fastnn.ones(6).view(-1, 2).shape == (3, 2)


@pytest.mark.parametrize("fn", ["sum", "amax", "mean"])
def test_reductions_refuse_a_keepdim_that_is_not_a_bool(fn):
    # sum gave "'str' object cannot be interpreted as an integer", amax took "yes" as true
    with pytest.raises(TypeError, match="argument 'keepdim' must be bool, not str"):
        getattr(fastnn.ones(2, 2), fn)(0, keepdim="yes")


def test_shape_arguments_still_take_what_torch_takes():
    x = fastnn.ones(6)
    assert x.reshape(np.int64(2), fastnn.tensor(3)).shape == (2, 3)
    assert x.view([3, 2]).shape == (3, 2) and x.view((6,)).shape == (6,)
    assert x.reshape(2, 3).permute(1, 0).shape == (3, 2)


@pytest.mark.parametrize(
    "args,exc,match",
    [
        ((0, 0, "x"), TypeError, "arange\\(\\): argument 'step' must be a number"),
        (("1",), TypeError, "argument 'end' must be a number"),
        ((0, 5, None), TypeError, "argument 'step'"),
        ((float("inf"), 0, 1), RuntimeError, "unsupported range"),
        ((0, 5, -1), RuntimeError, "inconsistent with step sign"),
        ((0, 1e300, 1e-300), RuntimeError, "invalid size"),
    ],
)
def test_arange_checks_its_arguments(args, exc, match):
    # were "unsupported operand type(s) for -: 'str' and 'int'", numpy's "Maximum allowed size
    # exceeded", and an empty tensor for a step of the wrong sign
    with pytest.raises(exc, match=match):
        fastnn.arange(*args)


def test_arange_still_takes_numbers_and_tensors():
    assert fastnn.arange(fastnn.tensor(3)).tolist() == [0, 1, 2]
    assert fastnn.arange(5, 0, -2).tolist() == [5, 3, 1]
    assert fastnn.arange(0, 0).numel() == 0


@pytest.mark.parametrize("fn", [fastnn.cat, fastnn.stack])
def test_cat_and_stack_take_sequences_of_tensors_only(fn):
    # a tensor was split along dim 0; numbers were made into tensors
    with pytest.raises(TypeError, match="argument 'tensors' must be a tuple or list"):
        fn(fastnn.ones(2, 2))
    with pytest.raises(TypeError, match="expected Tensor as element 1"):
        fn([fastnn.ones(2), 2])


@pytest.mark.parametrize("fn", [fastnn.cat, fastnn.stack])
def test_cat_and_stack_promote_when_the_first_dtype_wins(fn):
    # float16 then int16 promotes to float16, the first's dtype, and the int16 tensor was left
    # uncast: numpy then joined them in float32
    a = fastnn.tensor(np.array([0.5], np.float16))
    b = fastnn.tensor(np.array([2], np.int16))
    assert fn([a, b]).dtype == fastnn.float16 and fn([b, a]).dtype == fastnn.float16


def test_tensor_refuses_arrays_of_strings():
    # was a tensor of dtype str32
    with pytest.raises(TypeError, match="can't convert np.ndarray of type numpy.str_"):
        fastnn.tensor(np.array(["a"]))
    with pytest.raises(TypeError, match="numpy.bytes_"):
        fastnn.as_tensor(np.array([b"a"]))


def test_tensor_from_ragged_lists_says_so():
    # was numpy's "setting an array element with a sequence ... inhomogeneous shape"
    with pytest.raises(ValueError, match="nested sequences of data have different lengths"):
        fastnn.tensor([[1.0, 2.0], [3.0]])


def test_python_floats_for_an_integer_dtype_are_exact_and_range_checked():
    # 16777217.0 went through float32 (16777216); 1e300 wrapped to the most negative int64
    assert fastnn.tensor(16777217.0, dtype=fastnn.int64).item() == 16777217
    assert fastnn.tensor([2.0**62], dtype=fastnn.int64).tolist() == [2**62]
    with pytest.raises(RuntimeError, match="cannot be converted to int64 without overflow"):
        fastnn.tensor(1e300, dtype=fastnn.int64)
    with pytest.raises(RuntimeError, match="cannot be converted to int64"):
        fastnn.tensor([float("nan")], dtype=fastnn.int64)


@pytest.mark.parametrize("value", [None, "x", (1, 2)])
def test_full_refuses_a_fill_value_that_is_not_a_number(value):
    # None was NaN, (1, 2) a row, "x" numpy's "could not convert string to float"
    with pytest.raises(TypeError, match="full\\(\\): argument 'fill_value' must be a number"):
        fastnn.full((2,), value)


def test_full_refuses_a_fill_value_out_of_the_dtypes_range():
    # was inf (float32) or a wrapped integer
    with pytest.raises(RuntimeError, match="float32 without overflow"):
        fastnn.full((2,), 1e300)
    with pytest.raises(RuntimeError, match="uint8 without overflow"):
        fastnn.full((2,), 300, dtype=fastnn.uint8)
    with pytest.raises(RuntimeError, match="uint8 without overflow"):
        fastnn.full((2,), -256, dtype=fastnn.uint8)
    with pytest.raises(RuntimeError, match="uint8 without overflow"):
        fastnn.full((2,), -0.5, dtype=fastnn.uint8)
    assert fastnn.full((1,), -1, dtype=fastnn.uint8).tolist() == [255]  # torch wraps these
    assert fastnn.full((1,), float("inf")).tolist() == [float("inf")]
    assert fastnn.full((1,), 1e300, dtype=fastnn.float64).tolist() == [1e300]


# ---- arithmetic -----------------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["//", "%"])
def test_reflected_floordiv_and_mod_with_junk_are_python_type_errors(op):
    # was AttributeError: 'NoneType' object has no attribute '_data'
    with pytest.raises(TypeError, match="unsupported operand type"):
        eval(f"None {op} x", {"x": fastnn.ones(2)})


@pytest.mark.parametrize("op", ["//", "%"])
def test_integer_division_by_zero_raises_as_torch(op):
    # was 0 and a numpy RuntimeWarning
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        eval(f"a {op} b", {"a": fastnn.tensor([5, 1]), "b": fastnn.tensor([1, 0])})
    assert (fastnn.tensor([5.0]) // 0).tolist() == [float("inf")]


# ---- nn -------------------------------------------------------------------------------------------


def test_cross_entropy_with_a_0d_target_for_a_batch_says_so():
    # was IndexError: tuple index out of range
    with pytest.raises(RuntimeError, match="0D or 1D target tensor expected"):
        nn.CrossEntropyLoss()(fastnn.zeros(0, 1), fastnn.tensor(0))


def test_batch_norm_checks_eps_and_momentum():
    x = fastnn.randn(4, 2)
    with pytest.raises(ValueError, match="eps must be positive during training"):
        nn.BatchNorm1d(2, eps=0.0)(x)  # torch refuses it; it was accepted
    with pytest.raises(ValueError, match="eps must be non-negative"):
        nn.BatchNorm1d(2, eps=-1.0).eval()(x)
    with pytest.raises(TypeError, match="eps must be a float"):
        nn.BatchNorm1d(2, eps=None)(x)  # was float()'s message about NoneType
    with pytest.raises(TypeError, match="momentum must be a float"):
        nn.BatchNorm1d(2, momentum="x")(x)  # was "could not convert string to float"


@pytest.mark.parametrize("inplace", [False, True])
def test_dropout_of_a_0d_tensor_in_training(inplace):
    # was TypeError: fastnn: no device for storage of type float32 (a numpy scalar mask)
    out = nn.Dropout(0.5, inplace=inplace)(fastnn.tensor(0.3))
    assert out.shape == () and out.item() in (0.0, pytest.approx(0.6))


def test_kl_div_of_a_negative_or_nan_target_is_nan_as_torch():
    # was 0: the negative target was masked out
    x = fastnn.tensor([0.1, 0.1, 0.1])
    y = fastnn.tensor([-0.5, float("nan"), 0.0])
    out = nn.KLDivLoss(reduction="none")(x, y).tolist()
    assert np.isnan(out[0]) and np.isnan(out[1]) and out[2] == 0.0


# ---- optim ----------------------------------------------------------------------------------------


def _param():
    return [fastnn.ones(2, requires_grad=True)]


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: optim.Adam(_param(), lr="x"), "Adam: lr must be a number, got str"),
        (lambda: optim.SGD(_param(), lr=None), "SGD: lr must be a number, got NoneType"),
        (lambda: optim.Adam(_param(), betas=0.9), "Adam: betas must be a tuple of 2 numbers"),
        (lambda: optim.AdamW(_param(), betas=(0.9,)), "AdamW: betas must be a tuple of 2"),
        (lambda: optim.RMSprop(_param(), weight_decay=None), "RMSprop: weight_decay must be"),
        (
            lambda: optim.Adagrad([{"params": _param(), "lr_decay": "x"}]),
            "Adagrad param group: lr_decay must be a number",
        ),
        (lambda: optim.SGD(None, lr=0.1), "params argument given to the optimizer"),
    ],
)
def test_optimizer_hyperparameters_of_the_wrong_type_raise_type_error(make, match):
    # were "'>=' not supported between instances of 'str' and 'float'", "'float' object is not
    # subscriptable", pybind11's "incompatible function arguments" at the first step, and
    # "'NoneType' object is not iterable"
    with pytest.raises(TypeError, match=match):
        make()


def test_optimizer_hyperparameters_still_take_numbers_lists_and_tensors():
    optim.Adam(_param(), lr=fastnn.tensor(0.01), betas=[0.8, 0.9], weight_decay=0)
    optim.SGD(_param(), 1, momentum=np.float32(0.5))


# ---- data -----------------------------------------------------------------------------------------


def test_random_split_lengths_as_torch():
    ds = data.TensorDataset(fastnn.zeros(3, 1))
    with pytest.raises(TypeError, match="random_split: lengths must be a sequence"):
        data.random_split(ds, None)  # was "'NoneType' object is not iterable"
    # lengths summing to 1 are fractions in torch, even as ints
    assert [len(s) for s in data.random_split(ds, [0, 1])] == [0, 3]
    empty = data.TensorDataset(fastnn.zeros(0, 1))
    assert data.random_split(empty, []) == []  # was "lengths is empty"


# ---- serialization --------------------------------------------------------------------------------


@pytest.mark.parametrize("f", [123, None, b"abc", [1], io.StringIO()])
def test_save_and_load_name_a_wrong_file_argument(f):
    # were AttributeError: 'int' object has no attribute 'write' (save) and a RuntimeError
    # quoting "AttributeError: 'int' object has no attribute 'seek'" (load)
    with pytest.raises(TypeError, match="fastnn.save: f must be a path .* or a binary file"):
        fastnn.save({"a": fastnn.ones(1)}, f)
    with pytest.raises(TypeError, match="fastnn.load: f must be a path .* or a binary file"):
        fastnn.load(f)
