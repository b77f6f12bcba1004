"""_C.cat / _C.stack, the concatenation kernel of csrc/cpu/cat.cpp: numpy.concatenate's and
numpy.stack's bytes for every axis, dtype and layout, on one thread and two (the threads split
the result at byte offsets that fall anywhere in a row), the refused arguments, and the callers
that go through it (fastnn.cat / stack, the Cat op's backward, default_collate)."""

import numpy as np
import pytest

import fastnn
from fastnn import _C
from fastnn._devices import cpu
from fastnn.utils import data

DTYPES = [np.float32, np.float64, np.int64, np.int8, np.bool_, np.complex64]


def _arrays(rng, shapes, dtype):
    out = []
    for s in shapes:
        x = rng.standard_normal(s) * 100
        out.append(np.asarray((x + 1j * x if dtype == np.complex64 else x).astype(dtype)))
    return out


def _same(got, want):
    assert got.dtype == want.dtype and got.shape == want.shape and got.flags.c_contiguous
    assert got.tobytes() == want.tobytes()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shape", [(1,), (7,), (33, 1), (3, 257), (2, 7, 33), (5, 1, 3, 2)], ids=str
)
def test_cat_every_axis_matches_numpy(rng, threads, dtype, shape):
    for axis in range(-len(shape), len(shape)):
        # three inputs of different lengths along the axis, one of them empty
        shapes = []
        for extent in (shape[axis], 0, 2 * shape[axis] + 1):
            s = list(shape)
            s[axis] = extent
            shapes.append(tuple(s))
        xs = _arrays(rng, shapes, dtype)
        before = [x.copy() for x in xs]
        _same(_C.cat(xs, axis), np.concatenate(xs, axis))
        _same(_C.cat(tuple(xs[:1]), axis), xs[0])  # one input: a copy
        for x, b in zip(xs, before):
            assert x.tobytes() == b.tobytes()  # the inputs are read only


@pytest.mark.parametrize("dtype", [np.float32, np.uint8])
@pytest.mark.parametrize(
    "shapes",
    [
        [(257, 1031), (1, 1031), (300, 1031)],  # along the first axis: a few long copies
        [(33, 2049), (33, 7), (33, 4099)],  # rows of different lengths
        [(1021, 3, 1), (1021, 5, 1), (1021, 1, 1)],  # many short segments
    ],
    ids=["first-axis", "rows", "short-segments"],
)
def test_cat_large_on_the_pool(rng, threads, dtype, shapes):
    """Results past the 128 KiB threshold, where each thread starts mid-row and mid-part."""
    axis = 0 if shapes[0][1:] == shapes[1][1:] else 1
    xs = _arrays(rng, shapes, dtype)
    _same(_C.cat(xs, axis), np.concatenate(xs, axis))
    many = _arrays(rng, [(64, 33)] * 200, dtype)  # 200 inputs
    _same(_C.cat(many, 1), np.concatenate(many, 1))
    _same(_C.stack(many, 1), np.stack(many, 1))


def test_cat_of_other_layouts_copies_them_first(rng):
    a = rng.standard_normal((40, 30)).astype(np.float32)
    b = rng.standard_normal((30, 40)).astype(np.float32)
    for xs, axis in [
        ([a, b.T], 0),
        ([a[:, ::2], b[::2].T], 0),
        ([a[::-1], a], 1),
        ([a[:, :1], a[:, 5:6]], 1),
    ]:
        _same(_C.cat(xs, axis), np.concatenate(xs, axis))
    _same(_C.stack([a, b.T, a[::-1]], 2), np.stack([a, b.T, a[::-1]], 2))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (1,), (7, 3), (2, 33, 5)], ids=str)
def test_stack_every_axis_matches_numpy(rng, threads, dtype, shape):
    xs = _arrays(rng, [shape] * 3, dtype)
    for axis in range(-len(shape) - 1, len(shape) + 1):
        _same(_C.stack(xs, axis), np.stack(xs, axis))
    _same(_C.stack(xs[:1]), xs[0][None])


_A = np.ones((4, 4), np.float32)
BAD = [
    (ValueError, "cat: argument 'arrays' must hold at least one array", lambda: _C.cat([])),
    (TypeError, "must be a list or tuple of numpy.ndarray, got numpy.ndarray", lambda: _C.cat(_A)),
    (TypeError, r"cat: arrays\[1\] must be a numpy.ndarray, got list", lambda: _C.cat([_A, [1]])),
    (
        TypeError,
        r"cat: arrays\[1\] has dtype float64 where arrays\[0\] has float32",
        lambda: _C.cat([_A, _A.astype(np.float64)]),
    ),
    (
        TypeError,
        "cat: arrays must hold numbers or bools, got dtype object",
        lambda: _C.cat([_A.astype(object)]),
    ),
    (
        ValueError,
        r"arrays\[1\] has shape \(2, 3\) where arrays\[0\] has \(4, 4\) \(cat needs .* axis 0\)",
        lambda: _C.cat([_A, _A[:2, :3]], 0),
    ),
    (ValueError, r"cat: arrays\[1\] has shape \(4,\)", lambda: _C.cat([_A, _A[0]], 0)),
    (
        ValueError,
        "cat: zero-dimensional arrays cannot be concatenated",
        lambda: _C.cat([np.array(1.0)]),
    ),
    (
        IndexError,
        r"cat: axis 2 is out of range .* \(expected -2 <= axis < 2\)",
        lambda: _C.cat([_A], 2),
    ),
    (IndexError, "cat: axis -3 is out of range", lambda: _C.cat([_A, _A], -3)),
    (
        IndexError,
        r"stack: axis 3 is out of range .* \(expected -3 <= axis < 3\)",
        lambda: _C.stack([_A], 3),
    ),
    (
        ValueError,
        r"stack: arrays\[1\] has shape \(4, 3\) where arrays\[0\] has \(4, 4\) \(stack needs",
        lambda: _C.stack([_A, _A[:, :3]]),
    ),
]


@pytest.mark.parametrize("error, message, call", BAD)
def test_cat_and_stack_bad_arguments(error, message, call):
    with pytest.raises(error, match=message):
        call()


def test_backend_falls_back_to_numpy_for_mixed_dtypes():
    a, b = np.ones(3, np.float32), np.arange(2)
    _same(cpu.concatenate([a, b], 0), np.concatenate([a, b]))
    _same(cpu.stack([a[:2], b], 0), np.stack([a[:2], b]))


def test_tensor_cat_and_stack_go_through_it(rng, threads):
    x = rng.standard_normal((300, 257)).astype(np.float32)
    y = rng.standard_normal((300, 3)).astype(np.float32)
    got = fastnn.cat([fastnn.tensor(x), fastnn.tensor(y)], dim=-1).numpy()
    _same(got, np.concatenate([x, y], 1))
    got = fastnn.stack([fastnn.tensor(x), fastnn.tensor(x)], dim=1).numpy()
    _same(got, np.stack([x, x], 1))
    # recorded: the forward through the backend, the gradient split back to its inputs
    tx = fastnn.tensor(x, requires_grad=True)
    ty = fastnn.tensor(y, requires_grad=True)
    g = rng.standard_normal((300, 260)).astype(np.float32)
    out = fastnn.cat([tx, ty], 1)
    _same(out.detach().numpy(), np.concatenate([x, y], 1))
    out.backward(fastnn.tensor(g))
    _same(tx.grad.numpy(), g[:, :257].copy())
    _same(ty.grad.numpy(), g[:, 257:].copy())


def test_tensor_cat_errors_keep_torch_wording():
    a, b = fastnn.ones(2, 3), fastnn.ones(2, 4)
    with pytest.raises(RuntimeError, match="Sizes of tensors must match except in dimension 0"):
        fastnn.cat([a, b], 0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        fastnn.cat([a, a], 2)


def test_default_collate_stacks_with_the_kernel(rng):
    batch = _arrays(rng, [(1, 28, 28)] * 33, np.float32)
    _same(data.default_collate(batch).numpy(), np.stack(batch))
    tensors = [fastnn.tensor(b) for b in batch]
    _same(data.default_collate(tensors).numpy(), np.stack(batch))
    # mixed dtypes promote as numpy does
    mixed = data.default_collate([np.array([1, 2]), np.array([1.5, 2.0])])
    _same(mixed.numpy(), np.array([[1.0, 2.0], [1.5, 2.0]]))
