"""fastnn._devices.cuda: the CUDA twin of _devices.cpu behind Tensor.

Runs everywhere: the module imports and defines every _devices.OPS name without a GPU (it must
not touch the device at import), the op table below covers OPS, the basic-indexing resolver
matches numpy, and asking for 'cuda' without a GPU raises a clear RuntimeError.
With a GPU (skipped otherwise): every op CPU == CUDA on random inputs, autograd through an MLP,
the d2l softmax regression for one epoch, and the optimizers' steps.
"""

import importlib

import numpy as np
import pytest

import fastnn
from conftest import assert_close
from fastnn import _devices as backends
from fastnn import cuda, nn
from fastnn._devices import OPS
from fastnn._devices import cpu as cpu_be

needs_gpu = [
    pytest.mark.cuda,
    pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA GPU"),
]


def cuda_be():
    return backends.cuda_module()


# ---- everywhere -------------------------------------------------------------------------------


def test_module_defines_every_op_without_a_gpu():
    be = cuda_be()
    assert set(OPS) <= set(dir(be))
    for name in OPS:
        assert name == "array_type" or callable(getattr(be, name)), name
    if cuda.is_built():  # DeviceArray is registered with the Tensor and the optimizers
        assert backends._BY_TYPE[be.array_type] is be
        assert be.kernels is importlib.import_module("fastnn.cuda.kernels")


@pytest.mark.skipif(cuda.is_available(), reason="checks the error without a GPU")
def test_asking_for_cuda_without_a_gpu_raises_clearly():
    t = fastnn.tensor([1.0, 2.0])
    for make in (
        lambda: t.to("cuda"),
        lambda: t.cuda(),
        lambda: fastnn.zeros(2, device="cuda"),
        lambda: fastnn.tensor([1.0], device="cuda"),
        lambda: nn.Linear(2, 2).to("cuda"),
    ):
        with pytest.raises(RuntimeError, match="CUDA"):
            make()
    assert t.device == "cpu"  # nothing changed


SHAPE = (2, 3, 4)
INDICES = [
    0,
    -1,
    1,
    slice(None),
    slice(1, 3),
    slice(None, None, 2),
    slice(None, None, -1),
    slice(5, 0, -2),
    slice(3, 3),
    (0, 1),
    (1, slice(None), 2),
    (Ellipsis, 1),
    (None, 0),
    (0, None, slice(1, 3)),
    (slice(None), None, 1, Ellipsis),
    (Ellipsis,),
    (),
    (-2, -3, -4),
    (slice(None), slice(None, None, -1), slice(1, 4, 2)),
    (1, 2),
    (slice(0, 1), 0, slice(None)),
]


@pytest.mark.parametrize("index", INDICES, ids=repr)
def test_basic_index_resolver_matches_numpy(index):
    """(shape, strides, offset) for a basic index reproduce numpy's x[index]; the contiguous-block
    detector only claims blocks that are one."""
    be = cuda_be()
    x = np.arange(np.prod(SHAPE)).reshape(SHAPE)
    shape, strides, offset = be._basic_view(SHAPE, index)
    expect = x[index]
    assert tuple(shape) == expect.shape
    got = np.array(
        [
            x.reshape(-1)[offset + sum(i * s for i, s in zip(idx, strides))]
            for idx in np.ndindex(*shape)
        ]
    ).reshape(shape)
    np.testing.assert_array_equal(got, expect)
    block = be._block_range((shape, strides, offset))
    if block is not None:
        start, stop = block
        np.testing.assert_array_equal(x.reshape(-1)[start:stop].reshape(shape), expect)


@pytest.mark.parametrize("index", [(0, 0, 0, 0), 3, -3, (0, 5), (Ellipsis, 0, Ellipsis)], ids=repr)
def test_basic_index_resolver_rejects_what_numpy_rejects(index):
    x = np.zeros(SHAPE)
    with pytest.raises(IndexError):
        x[index]
    with pytest.raises(IndexError):
        cuda_be()._basic_view(SHAPE, index)


@pytest.mark.parametrize(
    "index", [np.array([0, 1]), (0, np.array([True, False, True])), [0, 1], True]
)
def test_basic_index_resolver_leaves_advanced_indices(index):
    assert cuda_be()._basic_view(SHAPE, index) is None


# ---- every op, CPU == CUDA (GPU) ----------------------------------------------------------------


def _data(rng):
    f = rng.standard_normal((5, 7)).astype(np.float32)
    return {
        "f": f,
        "g": rng.standard_normal((5, 7)).astype(np.float32),
        "d": rng.standard_normal((4, 6)),  # float64
        "row": rng.standard_normal((7,)).astype(np.float32),
        "pos": (np.abs(f) + 0.5).astype(np.float32),
        "i": rng.integers(-5, 6, (5, 7)),
        "b": rng.random((5, 7)) < 0.5,
        "lab": rng.integers(0, 7, (5,)),
        "t": rng.random((5, 7)).astype(np.float32),
        "x4": rng.standard_normal((2, 3, 6, 5)).astype(np.float32),
        "w4": rng.standard_normal((4, 3, 3, 3)).astype(np.float32),
        "b3": rng.standard_normal((3, 7, 4)).astype(np.float32),
        "a3": rng.standard_normal((3, 5, 7)).astype(np.float32),
        "idx": rng.integers(0, 7, (5, 2)),
        "nan": np.where(rng.random((5, 7)) < 0.3, np.nan, f).astype(np.float32),
    }


# name -> fn(be, A, D): A moves a numpy array to be's device; D holds the numpy inputs.
CASES = {
    "device_of": lambda be, A, D: np.array(str(be.device_of(A(D["f"])))[:3]),
    "asarray": lambda be, A, D: (
        be.asarray([[1, 2], [3, 4]], np.float32),
        be.asarray(2.5),
        be.asarray(A(D["i"]), np.float64),
        be.asarray(True),
    ),
    "from_numpy": lambda be, A, D: be.from_numpy(D["d"][:, ::2]),
    "to_numpy": lambda be, A, D: be.to_numpy(A(D["f"])),
    "wrap": lambda be, A, D: be.wrap(A(D["f"])),
    "copy": lambda be, A, D: be.copy(A(D["f"])),
    "copyto": lambda be, A, D: _copyto(be, A, D),
    "fill": lambda be, A, D: _inplace(be.fill, A(D["f"]), 3.5),
    "iadd": lambda be, A, D: _inplace(be.iadd, A(D["f"]), A(D["row"])),
    "astype": lambda be, A, D: (
        be.astype(A(D["f"]), np.int64),
        be.astype(A(D["b"]), np.float64),
        be.astype(A(D["i"]), np.int32),
    ),
    "empty": lambda be, A, D: np.array(be.empty((2, 3), np.float64).shape),
    "zeros": lambda be, A, D: (be.zeros((2, 3), np.float32), be.zeros((), np.int64)),
    "ones": lambda be, A, D: be.ones((4,), np.bool_),
    "full": lambda be, A, D: (be.full((2, 2), 7, np.int64), be.full((3,), -1.5, np.float64)),
    "arange": lambda be, A, D: be.arange(1, 10, 2, np.int64),
    "linspace": lambda be, A, D: be.linspace(0.0, 1.0, 5, np.float32),
    "eye": lambda be, A, D: (be.eye(3, dtype=np.float32), be.eye(2, 4, dtype=np.float64)),
    "add": lambda be, A, D: (
        be.add(A(D["f"]), A(D["row"])),
        be.add(A(D["i"]), 0.5),
        be.add(2, A(D["i"])),
        be.add(A(D["b"]), A(D["b"])),
    ),
    "sub": lambda be, A, D: (be.sub(A(D["f"]), A(D["g"])), be.sub(1.0, A(D["f"]))),
    "mul": lambda be, A, D: (
        be.mul(A(D["f"]), A(D["b"])),
        be.mul(A(D["i"]), 3),
        be.mul(A(D["f"]), 0.5),
    ),
    "div": lambda be, A, D: (
        be.div(A(D["f"]), A(D["pos"])),
        be.div(A(D["i"]), 4),
        be.div(1.0, A(D["pos"])),
    ),
    "pow": lambda be, A, D: (
        be.pow(A(D["pos"]), A(D["f"])),
        be.pow(A(D["f"]), 2),
        be.pow(A(D["i"]), 2),
    ),
    "neg": lambda be, A, D: (be.neg(A(D["f"])), be.neg(A(D["i"]))),
    "exp": lambda be, A, D: (be.exp(A(D["f"])), be.exp(A(D["i"]))),
    "log": lambda be, A, D: be.log(A(D["pos"])),
    "sqrt": lambda be, A, D: be.sqrt(A(D["pos"])),
    "abs": lambda be, A, D: (be.abs(A(D["f"])), be.abs(A(D["i"]))),
    "sign": lambda be, A, D: (be.sign(A(D["f"])), be.sign(A(D["i"]))),
    "maximum": lambda be, A, D: (be.maximum(A(D["f"]), A(D["row"])), be.maximum(A(D["f"]), 0.0)),
    "minimum": lambda be, A, D: (be.minimum(A(D["f"]), A(D["g"])), be.minimum(A(D["i"]), 1)),
    "where": lambda be, A, D: (
        be.where(A(D["b"]), A(D["f"]), A(D["g"])),
        be.where(A(D["b"]), A(D["f"]), 0),
        be.where(A(D["b"]), 1, A(D["i"])),
    ),
    "clip": lambda be, A, D: (
        be.clip(A(D["f"]), -0.5, 0.5),
        be.clip(A(D["i"]), 0, None),
        _inplace(lambda a: be.clip(a, None, 0.1, out=a), A(D["f"])),
    ),
    "eq": lambda be, A, D: (be.eq(A(D["i"]), 0), be.eq(A(D["f"]), A(D["f"]))),
    "ne": lambda be, A, D: be.ne(A(D["i"]), A(D["i"][:1])),
    "lt": lambda be, A, D: be.lt(A(D["f"]), A(D["g"])),
    "le": lambda be, A, D: be.le(A(D["i"]), 0.5),
    "gt": lambda be, A, D: be.gt(A(D["f"]), 0),
    "ge": lambda be, A, D: be.ge(A(D["f"]), A(D["row"])),
    "logical_not": lambda be, A, D: (be.logical_not(A(D["b"])), be.logical_not(A(D["i"]))),
    "isnan": lambda be, A, D: (be.isnan(A(D["nan"])), be.isnan(A(D["i"]))),
    "logaddexp": lambda be, A, D: (
        be.logaddexp(A(D["f"]), A(D["g"])),
        be.logaddexp(0.0, A(D["f"])),
    ),
    "log1p": lambda be, A, D: be.log1p(A(D["pos"])),
    "expm1": lambda be, A, D: be.expm1(A(D["f"])),
    "sin": lambda be, A, D: be.sin(A(D["d"])),
    "cos": lambda be, A, D: be.cos(A(D["d"])),
    "sum": lambda be, A, D: (
        be.sum(A(D["f"])),
        be.sum(A(D["f"]), axis=0),
        be.sum(A(D["x4"]), axis=(0, 2), keepdims=True),
        be.sum(A(D["b"]), axis=1),
        be.sum(A(D["i"]), dtype=np.float64),
    ),
    "mean": lambda be, A, D: (
        be.mean(A(D["f"])),
        be.mean(A(D["x4"]), axis=(1, 3)),
        be.mean(A(D["i"]), axis=-1, keepdims=True),
    ),
    "amax": lambda be, A, D: (
        be.amax(A(D["f"])),
        be.amax(A(D["x4"]), axis=(0, 3), keepdims=True),
        be.amax(A(D["b"]), axis=0),
    ),
    "amin": lambda be, A, D: (be.amin(A(D["i"]), axis=1), be.amin(A(D["d"]))),
    "cube": lambda be, A, D: (be.cube(A(D["f"])), be.cube(A(D["i"]))),
    "norm2": lambda be, A, D: (
        be.norm2(A(D["f"])),
        be.norm2(A(D["x4"]), axis=(3,)),
        be.norm2(A(D["x4"]), axis=(0, 2)),
    ),
    "argmax": lambda be, A, D: (
        be.argmax(A(D["f"]), axis=1),
        be.argmax(A(D["f"])),
        be.argmax(A(D["i"]), axis=0, keepdims=True),
    ),
    "argmin": lambda be, A, D: (be.argmin(A(D["f"]), axis=0), be.argmin(A(D["d"]))),
    "sum_to_shape": lambda be, A, D: (
        be.sum_to_shape(A(D["f"]), (7,)),
        be.sum_to_shape(A(D["x4"]), (3, 1, 5)),
        be.sum_to_shape(A(D["f"]), (5, 1)),
    ),
    "any": lambda be, A, D: (be.any(A(D["b"])), be.any(A(D["i"]), axis=0)),
    "all": lambda be, A, D: (be.all(A(D["b"]), axis=1), be.all(A(D["pos"]))),
    "reshape": lambda be, A, D: (be.reshape(A(D["f"]), (7, 5)), be.reshape(A(D["f"]), (-1,))),
    "permute": lambda be, A, D: (
        be.permute(A(D["x4"]), (0, 2, 3, 1)),
        be.permute(A(D["f"]), (1, 0)),
    ),
    "broadcast_to": lambda be, A, D: be.broadcast_to(A(D["row"]), (3, 5, 7)),
    "getitem": lambda be, A, D: tuple(
        be.getitem(A(D["x4"]), i)
        for i in (
            1,
            (0, 2),
            (slice(None), 1),
            (Ellipsis, slice(1, 4, 2)),
            (slice(None, None, -1),),
            (np.array([1, 0, 1]),),
            (slice(None), np.array([2, 0])),
            (0, slice(None), 1),
            (D["x4"][:, 0, 0, 0] > 0,),
        )
    ),
    "setitem": lambda be, A, D: tuple(
        _inplace(lambda a, i=i, v=v: be.setitem(a, i, v), A(D["x4"]))
        for i, v in (
            (0, 0.0),
            ((1, 2), A(D["x4"][0, 0])),
            ((slice(None), 1), 5.0),
            ((Ellipsis, 0), A(D["x4"][..., 1])),
            ((np.array([1, 1]),), 2.0),
            (D["x4"] > 0, 0.0),
        )
    ),
    "getitem_backward": lambda be, A, D: tuple(
        be.getitem_backward(be.getitem(A(D["x4"]), i), D["x4"].shape, i, adv)
        for i, adv in (
            (1, False),
            ((slice(None), slice(1, 3)), False),
            ((np.array([0, 0, 1]),), True),
            (D["x4"] > 0, True),
        )
    ),
    "concatenate": lambda be, A, D: (
        be.concatenate([A(D["f"]), A(D["g"])], 0),
        be.concatenate([A(D["f"]), A(D["g"][:, :2])], 1),
        be.concatenate([A(D["f"]), A(D["i"])], -1),
    ),
    "stack": lambda be, A, D: (
        be.stack([A(D["f"]), A(D["g"])], 0),
        be.stack([A(D["f"]), A(D["g"])], 2),
    ),
    "take_along_axis": lambda be, A, D: be.take_along_axis(A(D["f"]), A(D["idx"]), 1),
    "take_along_axis_backward": lambda be, A, D: be.take_along_axis_backward(
        A(D["f"][:, :2]), (5, 7), A(D["idx"]), 1
    ),
    "ascontiguous": lambda be, A, D: be.ascontiguous(A(D["f"])),
    "matmul": lambda be, A, D: (
        be.matmul(A(D["f"]), A(D["g"]), trans_b=True),
        be.matmul(A(D["f"]), A(D["g"]), trans_a=True, bias=A(D["row"])),
        be.matmul(A(D["a3"]), A(D["b3"])),
        be.matmul(A(D["i"]), A(D["i"]), trans_b=True),
    ),
    "relu": lambda be, A, D: be.relu(A(D["f"])),
    "relu_backward": lambda be, A, D: be.relu_backward(A(D["g"]), A(D["f"])),
    "leaky_relu": lambda be, A, D: be.leaky_relu(A(D["f"]), 0.2),
    "leaky_relu_backward": lambda be, A, D: be.leaky_relu_backward(A(D["g"]), A(D["f"]), 0.2),
    "sigmoid": lambda be, A, D: be.sigmoid(A(D["d"])),
    "sigmoid_backward": lambda be, A, D: be.sigmoid_backward(A(D["g"]), A(D["t"])),
    "tanh": lambda be, A, D: be.tanh(A(D["f"])),
    "tanh_backward": lambda be, A, D: be.tanh_backward(A(D["g"]), A(D["t"])),
    "exp_backward": lambda be, A, D: be.exp_backward(A(D["g"]), A(D["t"])),
    "sqrt_backward": lambda be, A, D: be.sqrt_backward(A(D["g"]), A(D["t"])),
    "log_backward": lambda be, A, D: be.log_backward(A(D["g"]), A(D["t"])),
    "sin_backward": lambda be, A, D: be.sin_backward(A(D["g"]), A(D["f"])),
    "cos_backward": lambda be, A, D: be.cos_backward(A(D["g"]), A(D["f"])),
    "erf_backward": lambda be, A, D: be.erf_backward(A(D["g"]), A(D["f"])),
    "arctan_backward": lambda be, A, D: be.arctan_backward(A(D["g"]), A(D["f"])),
    "log1p_backward": lambda be, A, D: be.log1p_backward(A(D["g"]), A(D["t"])),
    "expm1_backward": lambda be, A, D: be.expm1_backward(A(D["g"]), A(D["f"])),
    "rsqrt": lambda be, A, D: be.rsqrt(A(D["pos"])),
    "rsqrt_backward": lambda be, A, D: be.rsqrt_backward(A(D["g"]), A(D["pos"])),
    "gelu": lambda be, A, D: (be.gelu(A(D["f"]), "none"), be.gelu(A(D["f"]), "tanh")),
    "gelu_backward": lambda be, A, D: be.gelu_backward(A(D["g"]), A(D["f"]), "tanh"),
    "silu": lambda be, A, D: be.silu(A(D["f"])),
    "silu_backward": lambda be, A, D: be.silu_backward(A(D["g"]), A(D["f"])),
    "mish": lambda be, A, D: be.mish(A(D["d"])),
    "mish_backward": lambda be, A, D: be.mish_backward(A(D["g"]), A(D["f"])),
    "softplus": lambda be, A, D: be.softplus(A(D["f"]), 2.0, 1.0),
    "softplus_backward": lambda be, A, D: be.softplus_backward(A(D["g"]), A(D["f"]), 2.0, 1.0),
    "elu": lambda be, A, D: be.elu(A(D["f"]), 0.5, 1.5, 2.0),
    "elu_backward": lambda be, A, D: be.elu_backward(A(D["g"]), A(D["f"]), 0.5, 1.5, 2.0),
    "hardtanh": lambda be, A, D: be.hardtanh(A(D["f"]), -0.5, 0.7),
    "hardtanh_backward": lambda be, A, D: be.hardtanh_backward(A(D["g"]), A(D["f"]), -0.5, 0.7),
    "logsigmoid": lambda be, A, D: be.logsigmoid(A(D["f"])),
    "logsigmoid_backward": lambda be, A, D: be.logsigmoid_backward(A(D["g"]), A(D["f"])),
    "prelu": lambda be, A, D: be.prelu(A(D["b3"]), A(D["row"])),
    "prelu_backward": lambda be, A, D: be.prelu_backward(A(D["b3"]), A(D["b3"]), A(D["row"])),
    # the last dim, then the first (the kernels' strided-axis path)
    "softmax": lambda be, A, D: (be.softmax(A(D["f"])), be.softmax(A(D["f"]), 0)),
    "softmax_backward": lambda be, A, D: (
        be.softmax_backward(A(D["g"]), be.softmax(A(D["f"]))),
        be.softmax_backward(A(D["g"]), be.softmax(A(D["f"]), 0), 0),
    ),
    "log_softmax": lambda be, A, D: (be.log_softmax(A(D["d"])), be.log_softmax(A(D["d"]), 0)),
    "log_softmax_backward": lambda be, A, D: (
        be.log_softmax_backward(A(D["g"]), be.log_softmax(A(D["f"]))),
        be.log_softmax_backward(A(D["g"]), be.log_softmax(A(D["f"]), 0), 0),
    ),
    "softmax_cross_entropy": lambda be, A, D: (
        be.softmax_cross_entropy(A(D["f"]), A(D["lab"]), "mean", 0.1, -100, None, True),
        be.softmax_cross_entropy(A(D["f"]), A(D["lab"]), "none", 0.0, 2, A(D["pos"][0]), False),
    ),
    "binary_cross_entropy_with_logits": lambda be, A, D: be.binary_cross_entropy_with_logits(
        A(D["f"]), A(D["t"]), None, A(D["pos"][0]), "sum", True
    ),
    "im2col": lambda be, A, D: be.im2col(A(D["x4"]), (3, 3), (1, 1), (1, 1), (1, 1), True),
    "col2im": lambda be, A, D: be.col2im(
        be.im2col(A(D["x4"]), (3, 3), (2, 2), (1, 1), (1, 1)),
        D["x4"].shape,
        (3, 3),
        (2, 2),
        (1, 1),
        (1, 1),
    ),
    "conv2d": lambda be, A, D: be.conv2d(
        A(D["x4"]), A(D["w4"]), A(D["w4"][:, 0, 0, 0].copy()), (1, 1), (1, 1), (1, 1)
    ),
    "conv2d_backward": lambda be, A, D: tuple(
        r
        for r in be.conv2d_backward(
            A(D["x4"]),
            A(D["x4"]),
            A(D["w4"][:3, :, :1, :1].copy()),
            (1, 1),
            (0, 0),
            (1, 1),
            (True, True, True),
        )
    ),
    "max_pool2d": lambda be, A, D: be.max_pool2d(A(D["x4"]), (2, 2), (2, 2), (0, 0), (1, 1)),
    "max_pool2d_backward": lambda be, A, D: be.max_pool2d_backward(
        *_pool_grad(be, A, D), D["x4"].shape
    ),
    "max_pool2d_2x2": lambda be, A, D: be.max_pool2d_2x2(A(D["x4"])),
    "max_pool2d_2x2_backward": lambda be, A, D: be.max_pool2d_2x2_backward(
        *_pool_code_grad(be, A, D), D["x4"].shape
    ),
    "avg_pool2d": lambda be, A, D: be.avg_pool2d(A(D["x4"]), (3, 2), (2, 1), (1, 1), False, None),
    "avg_pool2d_backward": lambda be, A, D: be.avg_pool2d_backward(
        be.avg_pool2d(A(D["x4"]), 2, 2, 0, True, None), D["x4"].shape, 2, 2, 0, True, 3
    ),
    "batch_norm": lambda be, A, D: _batch_norm_case(be, A, D),
    "batch_norm_backward": lambda be, A, D: be.batch_norm_backward(
        A(D["x4"]),
        A(D["x4"]),
        A(D["w4"][:3, 0, 0, 0].copy()),
        *be.batch_norm(A(D["x4"]), None, None, None, None, True, 0.1, 1e-5)[1:],
        True,
        (True, True, True),
    ),
    "layer_norm": lambda be, A, D: be.layer_norm(A(D["x4"]), (6, 5), None, A(D["x4"][0, 0]), 1e-5),
    "layer_norm_backward": lambda be, A, D: be.layer_norm_backward(
        A(D["x4"]),
        A(D["x4"]),
        (5,),
        A(D["x4"][0, 0, 0]),
        *be.layer_norm(A(D["x4"]), (5,), None, None, 1e-5)[1:],
        (True, True, True),
    ),
    "group_norm": lambda be, A, D: be.group_norm(
        A(D["x4"]), 3, A(D["w4"][:3, 0, 0, 0].copy()), None, 1e-5
    ),
    "group_norm_backward": lambda be, A, D: be.group_norm_backward(
        A(D["x4"]),
        A(D["x4"]),
        1,
        None,
        *be.group_norm(A(D["x4"]), 1, None, None, 1e-5)[1:],
        (True, False, True),
    ),
    "embedding": lambda be, A, D: be.embedding(A(D["f"]), A(D["idx"][:, :1] % 5)),
    "embedding_backward": lambda be, A, D: be.embedding_backward(
        A(D["b3"][:, :2].copy()), A(D["idx"][:3] % 5), 5, 1, True
    ),
    "embedding_renorm_": lambda be, A, D: be.embedding_renorm_(A(D["f"]), A(D["lab"] % 5), 1.0),
    "embedding_bag": lambda be, A, D: be.embedding_bag(
        A(D["f"]), A(D["idx"].ravel() % 5), np.array([0, 3, 3, 10])
    ),
    "embedding_bag_backward": lambda be, A, D: be.embedding_bag_backward(
        A(D["g"][:3]), A(D["idx"].ravel() % 5), np.array([0, 3, 3, 10]), 5
    ),
    "matmul_shared": lambda be, A, D: (
        be.matmul_shared(A(D["f"]), A(D["b3"])),
        be.matmul_shared(A(D["g"]), A(D["a3"]), trans_a=True),
    ),
}


# the math surface's ops (host round trips on CUDA): inputs inside each function's domain
def _math_case(name, dom):
    return lambda be, A, D: getattr(be, name)(A(D[dom]))


CASES.update(
    {
        name: _math_case(name, dom)
        for name, dom in (
            ("tan", "f"),
            ("sinh", "f"),
            ("cosh", "f"),
            ("arcsin", "t"),
            ("arccos", "t"),
            ("arctan", "f"),
            ("arcsinh", "f"),
            ("arctanh", "t"),
            ("exp2", "f"),
            ("log2", "pos"),
            ("log10", "pos"),
            ("floor", "f"),
            ("ceil", "f"),
            ("trunc", "f"),
            ("erf", "d"),
        )
    }
)
CASES.update(
    {
        "arctan2": lambda be, A, D: be.arctan2(A(D["f"]), A(D["g"])),
        "hypot": lambda be, A, D: be.hypot(A(D["f"]), A(D["row"])),
        "round": lambda be, A, D: (be.round(A(D["d"]), 1), be.round(A(D["f"]))),
        "cumsum": lambda be, A, D: (be.cumsum(A(D["f"]), 1), be.cumsum(A(D["i"]), 0)),
        "cumprod": lambda be, A, D: be.cumprod(A(D["t"]), 1),
        "cumprod_backward": lambda be, A, D: be.cumprod_backward(
            A(D["g"]), A(np.where(D["b"], 0, D["d"][:1, :1] + D["f"])), 1
        ),
        "prod": lambda be, A, D: (be.prod(A(D["t"]), 1), be.prod(A(D["t"]), None, True)),
        "prod_backward": lambda be, A, D: be.prod_backward(A(D["g"][:, :1]), A(D["t"]), 1, True),
        "argsort": lambda be, A, D: (
            be.argsort(A(D["f"]), 1, False, True),
            be.argsort(A(D["i"]), 0, True, True),
        ),
        "flip": lambda be, A, D: be.flip(A(D["f"]), (0, 1)),
        "roll": lambda be, A, D: be.roll(A(D["f"]), (2, -1), (0, 1)),
        "tril": lambda be, A, D: be.tril(A(D["f"]), 1),
        "triu": lambda be, A, D: be.triu(A(D["x4"]), -1),
        "scatter": lambda be, A, D: (
            be.scatter(A(D["f"]), A(D["idx"]), A(D["g"]), 1, "add"),
            be.scatter(A(D["f"]), A(D["idx"][:, :1]), 2.5, 1, None),
        ),
        "einsum": lambda be, A, D: be.einsum("ij,kj->ik", A(D["f"]), A(D["g"])),
        "einsum_backward": lambda be, A, D: be.einsum_backward(
            A(D["b3"][0][:5]), "ij,jk->ik", [A(D["f"]), A(D["b3"][0])], 1
        ),
        "arccosh": lambda be, A, D: be.arccosh(be.add(A(D["pos"]), 1.0)),
    }
)

# Random ops: CPU and CUDA draw from different generators; checked for shape, dtype and range.
RANDOM = ("rand", "randn", "randint", "normal_", "uniform_", "bernoulli")
# Philox dropout: its mask is compared with the CPU kernel's in test_cuda_kernels.py (on a GPU).
RANDOM += ("dropout", "dropout_backward")
# Properties rather than values.
STORAGE = ("array_type", "is_fresh", "is_transposed")


def _copyto(be, A, D):
    dst = A(D["f"])
    be.copyto(dst, A(D["row"]))
    dst2 = A(D["i"])
    be.copyto(dst2, A(D["f"]))  # casts (unsafe) into int64
    return dst, dst2


def _inplace(fn, a, *args):
    fn(a, *args)
    return a


# The recurrent ops on S=3, B=2, H=4 (sequence forwards overwrite their first argument, so each
# call gets a fresh copy).
_RNN_OPS = (
    "lstm_cell",
    "lstm_cell_backward",
    "gru_cell",
    "gru_cell_backward",
    "lstm_sequence",
    "lstm_sequence_backward",
    "gru_sequence",
    "gru_sequence_backward",
    "rnn_sequence",
    "rnn_sequence_backward",
)


def _rnn_case(be, A, name):
    rng = np.random.default_rng(7)

    def r(*shape):
        return A(rng.standard_normal(shape).astype(np.float32))

    s, b, h = 3, 2, 4
    dh, c_prev, c = r(b, h), r(b, h), r(b, h)
    if name == "lstm_cell":
        return be.lstm_cell(r(b, 4 * h), c_prev)
    if name == "lstm_cell_backward":
        return be.lstm_cell_backward(dh, r(b, h), be.lstm_cell(r(b, 4 * h), c_prev)[2], c_prev, c)
    if name == "gru_cell":
        return be.gru_cell(r(b, 3 * h), r(b, 3 * h), c_prev)
    if name == "gru_cell_backward":
        return be.gru_cell_backward(dh, be.gru_cell(r(b, 3 * h), r(b, 3 * h), c_prev)[1], c_prev)
    if name.startswith("lstm_sequence"):
        w = r(4 * h, h)
        hs, cs, act = be.lstm_sequence(r(s, b, 4 * h), w, dh, c_prev, True)
        if name == "lstm_sequence":
            return hs, cs, act
        return be.lstm_sequence_backward(r(s, b, h), r(b, h), act, cs, c_prev, w, True)
    if name.startswith("gru_sequence"):
        w = r(3 * h, h)
        hs, act = be.gru_sequence(r(s, b, 3 * h), w, r(3 * h), dh)
        if name == "gru_sequence":
            return hs, act
        return be.gru_sequence_backward(r(s, b, h), act, hs, dh, w)
    w = r(h, h)
    hs = be.rnn_sequence(r(s, b, h), w, dh, "relu")
    if name == "rnn_sequence":
        return hs
    return be.rnn_sequence_backward(r(s, b, h), hs, w, "relu")


CASES.update({name: (lambda be, A, D, name=name: _rnn_case(be, A, name)) for name in _RNN_OPS})


def _pool_grad(be, A, D):
    out, idx = be.max_pool2d(A(D["x4"]), (2, 2), (2, 2), (0, 0), (1, 1))
    return be.mul(out, 2.0), idx


def _pool_code_grad(be, A, D):
    out, code = be.max_pool2d_2x2(A(D["x4"]))
    return be.mul(out, 2.0), code


def _batch_norm_case(be, A, D):
    """The output, the statistics and the running buffers the kernel moved in place."""
    rm, rv = A(np.full(3, 0.5, np.float32)), A(np.full(3, 2.0, np.float32))
    out = be.batch_norm(A(D["x4"]), None, A(D["x4"][0, :, 0, 0].copy()), rm, rv, True, 0.3, 1e-5)
    return (*out, rm, rv)


def test_case_table_covers_every_op():
    assert set(CASES) | set(RANDOM) | set(STORAGE) == set(OPS)


def _host(be, r):
    if isinstance(r, tuple):
        return tuple(_host(be, v) for v in r)
    if isinstance(r, np.ndarray) or not backends.is_array(r):
        return np.asarray(r)
    return backends.of(r).to_numpy(r)


# Their float64 statistics (mean, 1/std) of float32 data: the CPU kernels sum float32 data in
# float32 (as torch's CPU kernels do), the GPU's in double, so the two agree to float32 rounding.
_FLOAT64_OF_FLOAT32 = {"batch_norm", "layer_norm", "group_norm"}


def _compare(name, got, want):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want), name
        for i, (g, w) in enumerate(zip(got, want)):
            _compare(f"{name}[{i}]", g, w)
        return
    assert got.shape == want.shape, (name, got.shape, want.shape)
    assert got.dtype == want.dtype, (name, got.dtype, want.dtype)
    if want.dtype.kind == "f":
        single = want.dtype == np.float32 or name.split("[")[0] in _FLOAT64_OF_FLOAT32
        tol = 1e-5 if single else 1e-11
        assert_close(got, want, atol=tol, rtol=10 * tol)
    else:
        np.testing.assert_array_equal(got, want, err_msg=name)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.cuda
@pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA GPU")
def test_op_matches_cpu(name, rng):
    D = _data(rng)
    be = cuda_be()
    want = _host(cpu_be, CASES[name](cpu_be, lambda a: np.array(a), D))
    got = _host(be, CASES[name](be, be.from_numpy, D))
    if name == "device_of":
        assert str(got) == "cud" and str(want) == "cpu"
        return
    _compare(name, got, want)


@pytest.fixture
def emulated(monkeypatch):
    """_devices.cuda running on tests/_fake_cuda.py (numpy with the bindings' rules)."""
    import _fake_cuda

    be = cuda_be()
    monkeypatch.setattr(be, "_mod", _fake_cuda)
    monkeypatch.setattr(be, "array_type", _fake_cuda.DeviceArray)
    monkeypatch.setitem(backends._BY_TYPE, _fake_cuda.DeviceArray, be)
    return be


@pytest.mark.parametrize("name", sorted(CASES))
def test_op_matches_cpu_on_emulated_bindings(name, rng, emulated):
    """The backend's Python logic (promotion, indexing, composition, host paths) on a numpy
    emulation of the bindings; the kernels themselves need the GPU test above."""
    D = _data(rng)
    want = _host(cpu_be, CASES[name](cpu_be, lambda a: np.array(a), D))
    got = _host(emulated, CASES[name](emulated, emulated.from_numpy, D))
    if name == "device_of":
        assert str(got) == "cud" and str(want) == "cpu"
        return
    _compare(name, got, want)


def test_autograd_on_emulated_bindings(rng, emulated):
    """An MLP with a broadcast bias add, a dropout-free softmax cross-entropy and a reused node,
    forward and backward through Tensor on the emulated device: grads equal the CPU's."""
    from fastnn._tensor import Tensor

    x = rng.standard_normal((6, 5)).astype(np.float32)
    w1 = rng.standard_normal((5, 8)).astype(np.float32)
    b1 = rng.standard_normal((8,)).astype(np.float32)
    w2 = rng.standard_normal((4, 8)).astype(np.float32)
    y = rng.integers(0, 4, 6)
    grads = {}
    for name, put in (("cpu", np.array), ("dev", emulated.from_numpy)):
        leaves = [Tensor._make(put(a), True) for a in (x, w1, b1, w2)]
        tx, tw1, tb1, tw2 = leaves
        h = (tx @ tw1 + tb1).relu()
        h = h + h.sigmoid() * 0.5  # node reuse: grads meet in the engine
        out = nn.functional.linear(h, tw2)
        loss = nn.functional.cross_entropy(out, Tensor._make(put(y))) + out.amax(1).mean()
        loss.backward()
        grads[name] = [_host(None, t.grad._data) for t in leaves] + [loss.item()]
        assert all(
            backends.of(t.grad._data) is (cpu_be if name == "cpu" else emulated) for t in leaves
        )
    for g, c in zip(grads["dev"], grads["cpu"]):
        assert_close(np.asarray(g), np.asarray(c), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.cuda
@pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA GPU")
def test_random_ops_on_the_device(dtype):
    be = cuda_be()
    fastnn.manual_seed(0)
    n = 20000
    u = be.to_numpy(be.rand((n,), dtype))
    assert u.dtype == dtype and u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.02
    z = be.to_numpy(be.randn((n,), dtype))
    assert z.dtype == dtype and abs(z.mean()) < 0.05 and abs(z.std() - 1) < 0.05
    k = be.to_numpy(be.randint(3, 9, (n,), np.int64))
    assert k.dtype == np.int64 and k.min() == 3 and k.max() == 8
    a = be.empty((n,), dtype)
    be.normal_(a, 2.0, 0.5)
    assert abs(be.to_numpy(a).mean() - 2.0) < 0.05
    be.uniform_(a, -3.0, -1.0)
    h = be.to_numpy(a)
    assert h.min() >= -3 and h.max() <= -1
    m = be.to_numpy(be.bernoulli(0.3, (n,), dtype))
    assert set(np.unique(m)) <= {0, 1} and abs(m.mean() - 0.3) < 0.02


@pytest.mark.cuda
@pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA GPU")
def test_is_fresh_and_array_type():
    be = cuda_be()
    a = be.zeros((4, 3), np.float32)
    assert isinstance(a, be.array_type) and backends.of(a) is be
    assert be.is_fresh(a)
    v = be.reshape(a, (12,))
    assert not be.is_fresh(a) and not be.is_fresh(v)
    del v
    assert be.is_fresh(a)
    assert not be.is_fresh(be.getitem(a, 1))  # a view of a's block
    # a device transpose is a contiguous copy: no gradient needs making transposed
    assert not be.is_transposed(be.permute(a, (1, 0))) and not be.is_transposed(a)


# ---- Tensor, autograd, training and optimizers on the GPU ---------------------------------------


@pytest.mark.cuda
@pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA GPU")
def test_tensor_moves_and_creation_on_cuda(rng):
    a = rng.standard_normal((3, 4)).astype(np.float32)
    t = fastnn.tensor(a)
    c = t.to("cuda")
    assert c.device == "cuda:0" and c.is_cuda and t.cuda().device == "cuda:0"
    np.testing.assert_array_equal(c.cpu().numpy(), a)
    assert c.to("cuda") is c
    z = fastnn.zeros(2, 3, device="cuda")
    assert z.device == "cuda:0" and z.sum().item() == 0
    assert fastnn.tensor([1, 2], device="cuda").dtype == np.int64
    assert fastnn.randn(5, device="cuda").device == "cuda:0"
    assert fastnn.arange(4, device="cuda").tolist() == [0, 1, 2, 3]
    with pytest.raises(RuntimeError, match="same device"):
        t + c
    with pytest.raises(TypeError, match="cuda"):
        c.numpy()
    assert_close(
        (c * 2 + 1).relu().sum(1).cpu().numpy(),
        np.maximum(a * 2 + 1, 0).sum(1),
        atol=1e-5,
        rtol=1e-5,
    )
    c[0] = 5.0
    c[:, 1] = 0.0
    a[0], a[:, 1] = 5.0, 0.0
    np.testing.assert_array_equal(c.cpu().numpy(), a)


def _mlp():
    return nn.Sequential(
        nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 5)
    )


@pytest.mark.cuda
@pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA GPU")
def test_mlp_autograd_matches_cpu(rng):
    fastnn.manual_seed(0)
    net_cpu = _mlp()
    fastnn.manual_seed(0)
    net_gpu = _mlp().to("cuda")
    assert all(p.device == "cuda:0" for p in net_gpu.parameters())
    x = rng.standard_normal((9, 12)).astype(np.float32)
    y = rng.integers(0, 5, 9)
    res = {}
    for net, dev in ((net_cpu, "cpu"), (net_gpu, "cuda")):
        xt = fastnn.tensor(x, device=dev, requires_grad=True)
        out = net(xt)
        loss = nn.functional.cross_entropy(out, fastnn.tensor(y, device=dev)) + (out**2).mean()
        loss.backward()
        res[dev] = (loss.item(), xt.grad.cpu().numpy())
    assert abs(res["cpu"][0] - res["cuda"][0]) < 1e-5
    assert_close(res["cuda"][1], res["cpu"][1], atol=1e-5, rtol=1e-4)
    for pc, pg in zip(net_cpu.parameters(), net_gpu.parameters()):
        assert pg.grad.device == "cuda:0"
        assert_close(pg.grad.cpu().numpy(), pc.grad.numpy(), atol=1e-5, rtol=1e-4)


OPTIMIZERS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1}),
    ("AdamW", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01}),
]


@pytest.mark.parametrize("name,kw", OPTIMIZERS, ids=lambda v: str(v))
@pytest.mark.cuda
@pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA GPU")
def test_optimizer_steps_on_cuda_match_cpu(name, kw, rng):
    shapes = [(7, 5), (5,), (33,)]
    values = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    grads = [[rng.standard_normal(s).astype(np.float32) for s in shapes] for _ in range(6)]
    results = {}
    for dev in ("cpu", "cuda"):
        params = [nn.Parameter(fastnn.tensor(v, device=dev)) for v in values]
        opt = getattr(fastnn.optim, name)(params, **kw)
        for step in grads:
            for p, g in zip(params, step):
                p.grad = fastnn.tensor(g, device=dev)
            opt.step()
        results[dev] = [p.detach().cpu().numpy() for p in params]
        if dev == "cuda":
            state = opt.state_dict()
            opt2 = getattr(fastnn.optim, name)(params, **kw)
            opt2.load_state_dict(state)
            for s in opt2.state.values():
                for k, v in s.items():
                    assert k == "step" or backends.device_of(v) == "cuda:0"
    for c, g in zip(results["cpu"], results["cuda"]):
        assert_close(g, c, atol=1e-5, rtol=1e-4)


@pytest.mark.cuda
@pytest.mark.skipif(not cuda.is_available(), reason="needs a CUDA GPU")
def test_seed_000_softmax_regression_one_epoch_on_cuda_matches_cpu(data_dir):
    """The d2l softmax regression, one epoch of SGD(lr=0.1) on Fashion-MNIST, trained on the
    CPU and on the GPU from the same initial weights and batches: test accuracies within 1%."""
    from fastnn.__main__ import load_data
    from fastnn.models import softmax_regression
    from fastnn.training import accuracy

    acc = {}
    for dev in ("cpu", "cuda"):
        fastnn.manual_seed(0)
        train_iter, test_iter = load_data("fashion-mnist", 256, root=data_dir)
        net = softmax_regression().to(dev)
        opt = fastnn.optim.SGD(net.parameters(), lr=0.1)
        loss = nn.CrossEntropyLoss(reduction="none")
        for X, y in train_iter:
            X, y = X.to(dev), y.to(dev)
            lval = loss(net(X), y)
            opt.zero_grad()
            lval.mean().backward()
            opt.step()
        hits = n = 0
        with fastnn.no_grad():
            for X, y in test_iter:
                hits += accuracy(net(X.to(dev)), y.to(dev))
                n += y.numel()
        acc[dev] = hits / n
    assert acc["cpu"] > 0.7
    assert abs(acc["cuda"] - acc["cpu"]) <= 0.01, acc
