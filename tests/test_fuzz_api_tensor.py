"""Fuzz: Tensor creation, indexing, arithmetic, reductions and shape ops against torch (the
oracle in fuzz_api.py): torch's result, or a clean error naming what was wrong."""

import operator

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given
from hypothesis import strategies as st

from fuzz_api import JUNK, Arr, agree, arrays, int_args, shapes

pytestmark = pytest.mark.usefixtures("hang_guard")

SIZE_ARGS = st.one_of(
    shapes(),
    shapes().map(list),
    st.lists(int_args(-2, 4), max_size=3).map(tuple),
    JUNK,
)
DTYPE_NAMES = st.sampled_from([None, "float32", "float64", "int64", "bool", "float16", "uint8"])


def _dtype(lib, name):
    return None if name is None else getattr(lib, name)


def create(lib, fn, size, dtype):
    return getattr(lib, fn)(size, dtype=_dtype(lib, dtype))


def create_full(lib, size, value, dtype):
    return lib.full(size, value, dtype=_dtype(lib, dtype))


def create_arange(lib, start, end, step):
    return lib.arange(start, end, step)


def create_tensor(lib, data, dtype):
    return lib.tensor(data, dtype=_dtype(lib, dtype))


@given(
    fn=st.sampled_from(["zeros", "ones", "empty", "rand", "randn"]),
    size=SIZE_ARGS,
    dtype=DTYPE_NAMES,
)
def test_fuzz_sized_creation(fn, size, dtype):
    random = fn in ("empty", "rand", "randn")
    agree(create, fn, size, dtype, names=("size", "dimension", fn), values=not random)


@given(
    size=SIZE_ARGS,
    value=st.one_of(st.sampled_from([0, 1.5, -2, True, float("nan"), 1e300]), JUNK),
    dtype=DTYPE_NAMES,
)
def test_fuzz_full(size, value, dtype):
    agree(
        create_full, size, value, dtype, names=("size", "fill_value", "value", "full", "dimension")
    )


@given(
    start=st.one_of(st.sampled_from([0, 1, -3, 2.5, float("inf")]), JUNK),
    # end=None is arange(start) in fastnn, an error in torch (not fuzzed; reported)
    end=st.one_of(
        st.sampled_from([0, 5, 10, -2, 7.5, float("nan")]), JUNK.filter(lambda v: v is not None)
    ),
    step=st.one_of(st.sampled_from([1, 2, -1, 0, 0.5, 1e-300]), JUNK),
)
def test_fuzz_arange(start, end, step):
    agree(create_arange, start, end, step, names=("start", "end", "step", "arange"))


NESTED = st.recursive(
    # no bytes: torch reads b"\x00" as a sequence of one number
    st.one_of(
        st.integers(-5, 5),
        st.floats(allow_nan=True),
        st.booleans(),
        # nor "": torch reads [""] as a (1, 0) tensor
        JUNK.filter(lambda v: not isinstance(v, bytes) and v != ""),
    ),
    # no empty inner lists: torch reads [[], 0] as a (2, 0) tensor
    lambda inner: st.lists(inner, min_size=1, max_size=3),
    max_leaves=8,
)


@given(data=NESTED, dtype=DTYPE_NAMES)
def test_fuzz_tensor_from_python_data(data, dtype):
    agree(create_tensor, data, dtype, names=("data", "tensor", "dtype", "sequence"))


@given(x=arrays(hostile=0.4), dtype=DTYPE_NAMES)
def test_fuzz_tensor_from_arrays(x, dtype):
    agree(create_tensor, x.a, dtype, names=("data", "tensor", "dtype", "type"), unsupported_ok=True)


# ---- indexing -----------------------------------------------------------------------------------


def index(lib, x, idx):
    return x[idx]


def _index_item(n):
    return st.one_of(
        st.integers(-n - 2, n + 2),
        st.builds(
            slice,
            st.one_of(st.none(), st.integers(-n - 1, n + 1)),
            st.one_of(st.none(), st.integers(-n - 1, n + 1)),
            st.one_of(st.none(), st.sampled_from([1, 2, 3, -1, 0])),
        ),
        st.sampled_from([None, Ellipsis, 1.5, "a", [0, 1], [True], [], [[0]]]),
        st.lists(st.integers(-n - 1, n), max_size=3).map(
            lambda v: Arr(__import__("numpy").array(v, "int64"))
        ),
    )


@given(x=arrays(dtypes=["float32", "int64"], hostile=0.0), data=st.data())
def test_fuzz_indexing(x, data):
    n = max(x.a.shape, default=1)
    k = data.draw(st.integers(1, 3))
    idx = tuple(data.draw(_index_item(n)) for _ in range(k))
    idx = idx[0] if k == 1 and data.draw(st.booleans()) else idx
    agree(index, x, idx, names=("index", "indices", "dimension", "dim", "step", "size"))


@given(x=arrays(dtypes=["float32"], hostile=0.0), data=st.data())
def test_fuzz_boolean_mask(x, data):
    shape = data.draw(st.sampled_from([x.a.shape, x.a.shape[:1], (3,), ()]))
    mask = data.draw(arrays(shape=shape, dtypes=["bool"], hostile=0.0))
    agree(index, x, mask, names=("mask", "index", "shape", "dimension"))


# ---- arithmetic ---------------------------------------------------------------------------------

BINARY = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "truediv": operator.truediv,
    "floordiv": operator.floordiv,
    "mod": operator.mod,
    "pow": operator.pow,
    "lt": operator.lt,
    "eq": operator.eq,
    "and": operator.and_,
    "or": operator.or_,
    "xor": operator.xor,
    "matmul": operator.matmul,
}


def binary(lib, name, a, b):
    return BINARY[name](a, b)


def broadcast_pair():
    @st.composite
    def build(draw):
        shape = draw(shapes(max_dims=3))
        other = list(shape[-draw(st.integers(0, len(shape))) :] if shape else [])
        other = [d if draw(st.integers(0, 4)) else draw(st.sampled_from([1, 2, 0])) for d in other]
        return shape, tuple(other)

    return build()


@given(
    name=st.sampled_from(sorted(BINARY)),
    shapes_=broadcast_pair(),
    data=st.data(),
)
def test_fuzz_binary_ops(name, shapes_, data):
    a = data.draw(arrays(shape=shapes_[0], hostile=0.05))
    r = data.draw(st.integers(0, 9))
    if r < 6:
        b = data.draw(arrays(shape=shapes_[1], hostile=0.05))
    elif r < 8:
        b = data.draw(st.sampled_from([0, 2, -1, 2.5, True, float("nan"), 1e300]))
    else:
        b = data.draw(JUNK)
    if data.draw(st.booleans()):
        a, b = b, a
    agree(
        binary,
        name,
        a,
        b,
        names=("size", "shape", "type", "operand", "dtype", name, "tensor", "zero"),
        unsupported_ok=True,
        tol=(1e-4, 1e-5),
    )


# ---- reductions ---------------------------------------------------------------------------------

REDUCTIONS = ["sum", "mean", "prod", "amax", "argmax", "std", "var", "max", "min", "all", "any"]


def reduce(lib, name, x, dim, keepdim):
    kw = {} if keepdim is None else {"keepdim": keepdim}
    if dim is None:
        return getattr(x, name)(**kw) if kw and name in ("argmax", "amax") else getattr(x, name)()
    return getattr(x, name)(dim, **kw)


@given(
    name=st.sampled_from(REDUCTIONS),
    x=arrays(hostile=0.05),
    dim=st.one_of(st.none(), int_args(-5, 4), st.tuples(st.integers(-3, 3), st.integers(-3, 3))),
    keepdim=st.one_of(st.none(), st.booleans(), st.just("yes")),
)
def test_fuzz_reductions(name, x, dim, keepdim):
    agree(
        reduce,
        name,
        x,
        dim,
        keepdim,
        names=("dim", "dimension", name, "keepdim", "dtype", "empty"),
        unsupported_ok=True,
        tol=(1e-3, 1e-4),
    )


# ---- shape ops ----------------------------------------------------------------------------------

SHAPE_OPS = ["reshape", "view", "transpose", "permute", "squeeze", "unsqueeze", "flatten", "expand"]


def shape_op(lib, name, x, args):
    return getattr(x, name)(*args)


@given(
    name=st.sampled_from(SHAPE_OPS),
    x=arrays(dtypes=["float32", "int64"], hostile=0.0),
    args=st.lists(st.one_of(int_args(-5, 8), shapes(max_dims=3)), max_size=3),
)
def test_fuzz_shape_ops(name, x, args):
    agree(
        shape_op,
        name,
        x,
        args,
        names=("dim", "dimension", "shape", "size", name, "view", "expand", "permute"),
    )


def join(lib, fn, tensors, dim):
    return getattr(lib, fn)(tensors, dim) if dim is not None else getattr(lib, fn)(tensors)


@given(
    fn=st.sampled_from(["cat", "stack"]),
    tensors=st.one_of(
        st.lists(arrays(hostile=0.05, shape=None), max_size=3),
        st.lists(arrays(dtypes=["float32", "float64"], hostile=0.0, shape=(2, 3)), max_size=3),
        arrays(),
        JUNK,
    ),
    dim=st.one_of(st.none(), int_args(-4, 3)),
)
def test_fuzz_cat_stack(fn, tensors, dim):
    agree(
        join,
        fn,
        tensors,
        dim,
        names=("tensor", "dim", "dimension", "size", "shape", fn),
        unsupported_ok=True,
    )
