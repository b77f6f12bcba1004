"""F.conv3d / conv_transpose3d, nn.Conv3d / ConvTranspose3d and the lazy layers added with them
(LazyConv3d, LazyConvTranspose1d / 2d / 3d, LazyInstanceNorm1d / 2d / 3d) against torch: values
and every gradient on awkward shapes (sizes 1 and 7, non-cubic kernels, stride, padding
including 'same' with even kernels, dilation, groups, unbatched input) in float32 and float64,
gradcheck in float64, reprs, and the errors."""

import numpy as np
import pytest

import fastnn
from fastnn.autograd import gradcheck

torch = pytest.importorskip("torch")
nn, F = fastnn.nn, fastnn.nn.functional
TF = torch.nn.functional
TOL = {np.float32: 2e-4, np.float64: 1e-10}

CONV = [
    # input shape, weight shape, kwargs
    ((2, 4, 7, 6, 5), (6, 2, 3, 2, 3), {"stride": (2, 1, 3), "padding": (1, 0, 2), "groups": 2}),
    ((1, 3, 5, 5, 7), (2, 3, 2, 2, 2), {"padding": "same", "dilation": (1, 2, 3)}),
    ((3, 5, 4, 6), (2, 3, 2, 3, 2), {"padding": "valid"}),  # unbatched
    ((1, 1, 1, 1, 1), (1, 1, 1, 1, 1), {}),
    ((2, 3, 7, 1, 4), (4, 3, 3, 1, 2), {"stride": 2, "padding": (3, 0, 1), "dilation": (2, 1, 1)}),
    ((1, 6, 3, 4, 4), (6, 1, 3, 3, 3), {"padding": 1, "groups": 6, "bias": False}),
]
TRANSPOSED = [
    ((2, 4, 3, 4, 5), (4, 3, 2, 3, 2), {"stride": (2, 1, 3), "padding": (1, 0, 1),
                                        "dilation": (1, 2, 1), "output_padding": (1, 0, 2)}),
    ((2, 4, 3, 4, 5), (4, 3, 3, 1, 2), {"groups": 2, "stride": (1, 2, 1), "padding": (2, 0, 0),
                                        "dilation": (3, 1, 2), "output_padding": (2, 1, 1)}),
    ((4, 1, 1, 1), (4, 1, 1, 1, 1), {}),  # unbatched
    ((1, 3, 7, 2, 3), (3, 2, 3, 2, 2), {"stride": 2, "padding": 1, "bias": False}),
]  # fmt: skip


def _run(fn, tfn, xs, ws, kw, dtype, out_ch):
    rng = np.random.default_rng(0)
    kw = dict(kw)
    use_bias = kw.pop("bias", True)
    arrays = [rng.standard_normal(xs), rng.standard_normal(ws)]
    if use_bias:
        arrays.append(rng.standard_normal(out_ch(ws, kw)))
    arrays = [a.astype(dtype) for a in arrays]
    fa = [fastnn.tensor(a, requires_grad=True) for a in arrays]
    ta = [torch.tensor(a, requires_grad=True) for a in arrays]
    fo, to = fn(*fa, **kw), tfn(*ta, **kw)
    tol = TOL[dtype]
    assert tuple(fo.shape) == tuple(to.shape)
    np.testing.assert_allclose(fo.detach().numpy(), to.detach().numpy(), rtol=tol, atol=tol)
    g = rng.standard_normal(tuple(to.shape)).astype(dtype)
    (fo * fastnn.tensor(g)).sum().backward()
    (to * torch.tensor(g)).sum().backward()
    for name, f, t in zip(("input", "weight", "bias"), fa, ta):
        np.testing.assert_allclose(
            f.grad.numpy(), t.grad.numpy(), rtol=tol, atol=tol * 10, err_msg=name
        )


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # torch's, about its own copy
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CONV)
def test_conv3d_matches_torch(case, dtype):
    xs, ws, kw = case
    _run(F.conv3d, TF.conv3d, xs, ws, kw, dtype, lambda ws, kw: ws[0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", TRANSPOSED)
def test_conv_transpose3d_matches_torch(case, dtype):
    xs, ws, kw = case
    _run(
        F.conv_transpose3d, TF.conv_transpose3d, xs, ws, kw, dtype,
        lambda ws, kw: ws[1] * kw.get("groups", 1),
    )  # fmt: skip


def test_conv_transpose3d_output_size():
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((1, 2, 3, 3, 2)), rng.standard_normal((2, 3, 3, 2, 2))
    for size in ((7, 6, 4), (8, 7, 5), (1, 2, 8, 6, 4)):
        kw = {"stride": (2, 2, 2), "padding": (0, 0, 0), "output_size": size}
        ours = nn.ConvTranspose3d(2, 3, (3, 2, 2), stride=2).double()
        theirs = torch.nn.ConvTranspose3d(2, 3, (3, 2, 2), stride=2).double()
        ours.load_state_dict(
            {k: fastnn.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()}
        )
        fo = ours(fastnn.tensor(x), output_size=size)
        to = theirs(torch.tensor(x), output_size=size)
        np.testing.assert_allclose(fo.detach().numpy(), to.detach().numpy(), atol=1e-12)
        assert F.conv_transpose3d(fastnn.tensor(x), fastnn.tensor(w), **kw).shape[-3:] == size[-3:]
    with pytest.raises(ValueError, match="requested an output size"):
        F.conv_transpose3d(fastnn.tensor(x), fastnn.tensor(w), stride=2, output_size=(9, 6, 4))


def test_gradcheck():
    rng = np.random.default_rng(2)
    x = fastnn.tensor(rng.standard_normal((1, 2, 4, 3, 3)), requires_grad=True)
    w = fastnn.tensor(rng.standard_normal((2, 1, 2, 2, 1)), requires_grad=True)
    b = fastnn.tensor(rng.standard_normal(2), requires_grad=True)
    assert gradcheck(
        lambda x, w, b: F.conv3d(x, w, b, (2, 1, 1), (1, 0, 1), (1, 2, 1), 2), (x, w, b)
    )
    wt = fastnn.tensor(rng.standard_normal((2, 2, 2, 1, 2)), requires_grad=True)
    assert gradcheck(
        lambda x, w, b: F.conv_transpose3d(x, w, b, (2, 1, 2), (1, 0, 0), (1, 0, 1), 1, (1, 1, 2)),
        (x, wt, b),
    )


@pytest.mark.parametrize(
    "cls,args,kw,shape",
    [
        ("Conv3d", (4, 6, (3, 1, 2)), {"stride": (1, 2, 1), "padding": "same", "groups": 2}, (2, 4, 5, 7, 3)),
        ("Conv3d", (3, 2, 2), {"dilation": 2, "bias": False}, (3, 5, 5, 6)),
        ("ConvTranspose3d", (4, 6, 3), {"stride": 2, "output_padding": 1, "groups": 2}, (1, 4, 2, 3, 2)),
    ],
)  # fmt: skip
def test_modules_match_torch(cls, args, kw, shape):
    if kw.get("padding") == "same":
        kw = dict(kw, stride=1)
    tm = getattr(torch.nn, cls)(*args, **kw).double()
    fm = getattr(nn, cls)(*args, **kw).double()
    assert repr(fm) == repr(tm)
    assert [tuple(p.shape) for p in fm.parameters()] == [tuple(p.shape) for p in tm.parameters()]
    fm.load_state_dict({k: fastnn.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    x = np.random.default_rng(3).standard_normal(shape)
    np.testing.assert_allclose(
        fm(fastnn.tensor(x)).detach().numpy(), tm(torch.tensor(x)).detach().numpy(), atol=1e-12
    )


def test_default_init_scale():
    # kaiming_uniform(a=sqrt(5)): U(+-1/sqrt(fan_in)), fan_in from the weight's dim 1 on
    for m, fan_in in (
        (nn.Conv3d(4, 8, (3, 2, 2), groups=2), 2 * 12),
        (nn.ConvTranspose3d(4, 6, 2), 6 * 8),
    ):
        bound = 1 / np.sqrt(fan_in)
        w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
        assert np.abs(w).max() <= bound and np.abs(w).max() > bound / 2
        assert np.abs(b).max() <= bound


@pytest.mark.parametrize(
    "lazy,shape,kw",
    [
        ("LazyConv3d", (2, 3, 4, 5, 4), {"kernel_size": (2, 3, 1), "stride": 2}),
        ("LazyConvTranspose1d", (5, 6), {"kernel_size": 3, "stride": 2, "output_padding": 1}),
        ("LazyConvTranspose2d", (2, 3, 4, 5), {"kernel_size": (2, 3), "dilation": 2}),
        ("LazyConvTranspose3d", (2, 6, 2, 3, 2), {"kernel_size": 2, "groups": 2}),
    ],
)
def test_lazy_convs(lazy, shape, kw):
    m, tm = getattr(nn, lazy)(4, **kw), getattr(torch.nn, lazy)(4, **kw)
    assert repr(m) == repr(tm)
    assert isinstance(m.weight, nn.UninitializedParameter)
    x = fastnn.randn(*shape)
    fastnn.manual_seed(5)
    out = m(x)
    tm(torch.tensor(x.numpy()))
    eager = lazy[4:]
    assert type(m) is getattr(nn, eager) and repr(m) == repr(tm)
    assert tuple(m.weight.shape) == tuple(tm.weight.shape)
    fastnn.manual_seed(5)
    ref = getattr(nn, eager)(m.in_channels, 4, **kw)
    np.testing.assert_array_equal(m.weight.detach().numpy(), ref.weight.detach().numpy())
    np.testing.assert_array_equal(out.detach().numpy(), ref(x).detach().numpy())


@pytest.mark.parametrize(
    "lazy,shape", [("LazyInstanceNorm1d", (2, 3, 7)), ("LazyInstanceNorm1d", (3, 7)),
                   ("LazyInstanceNorm2d", (2, 3, 4, 5)), ("LazyInstanceNorm3d", (1, 2, 3, 1, 4))],
)  # fmt: skip
def test_lazy_instance_norm(lazy, shape):
    m, tm = getattr(nn, lazy)(), getattr(torch.nn, lazy)()
    assert repr(m) == repr(tm)
    x = np.random.default_rng(4).standard_normal(shape).astype(np.float32)
    out = m(fastnn.tensor(x))
    assert type(m) is getattr(nn, lazy[4:])
    c = shape[0] if len(shape) == int(lazy[-2]) + 1 else shape[1]
    assert (
        m.num_features == c
        and tuple(m.weight.shape) == (c,)
        and tuple(m.running_mean.shape) == (c,)
    )
    if len(shape) == int(lazy[-2]) + 2:  # torch's lazy form misreads unbatched input
        ref = tm(torch.tensor(x))
        assert repr(m) == repr(tm)
        np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), atol=1e-5)
        np.testing.assert_allclose(m.running_var.numpy(), tm.running_var.numpy(), rtol=1e-5)


def test_errors():
    x = fastnn.randn(2, 4, 5, 6, 7)
    with pytest.raises(RuntimeError, match="expected input\\[2, 4, 5, 6, 7\\] to have 2 channels"):
        F.conv3d(x, fastnn.randn(3, 2, 2, 2, 2))
    with pytest.raises(RuntimeError, match="Kernel size can't be greater"):
        F.conv3d(x, fastnn.randn(3, 4, 6, 1, 1))
    with pytest.raises(RuntimeError, match="weight must be 5-D"):
        F.conv3d(x, fastnn.randn(3, 4, 2, 2))
    with pytest.raises(RuntimeError, match="Expected 4D \\(unbatched\\) or 5D"):
        F.conv3d(fastnn.randn(4, 5, 6), fastnn.randn(3, 4, 1, 1, 1))
    with pytest.raises(RuntimeError, match="non-positive stride"):
        F.conv3d(x, fastnn.randn(3, 4, 1, 1, 1), stride=0)
    with pytest.raises(RuntimeError, match="negative padding"):
        F.conv3d(x, fastnn.randn(3, 4, 1, 1, 1), padding=-1)
    with pytest.raises(RuntimeError, match="list of 3 values"):
        F.conv3d(x, fastnn.randn(3, 4, 1, 1, 1), stride=(1, 2))
    with pytest.raises(RuntimeError, match="expected bias to be 1-dimensional with 3 elements"):
        F.conv3d(x, fastnn.randn(3, 4, 1, 1, 1), fastnn.randn(2))
    with pytest.raises(ValueError, match="strided convolutions"):
        F.conv3d(x, fastnn.randn(3, 4, 2, 1, 1), padding="same", stride=2)
    with pytest.raises(ValueError, match="Invalid padding string 'foo'"):
        F.conv3d(x, fastnn.randn(3, 4, 2, 1, 1), padding="foo")
    with pytest.raises(RuntimeError, match="same dtype, got .*float64, .*float32"):
        F.conv3d(x.double(), fastnn.randn(3, 4, 2, 1, 1))
    with pytest.raises(RuntimeError, match="floating-point"):
        F.conv3d(x.int(), fastnn.randn(3, 4, 2, 1, 1).int())
    with pytest.raises(RuntimeError, match="non-positive groups"):
        F.conv3d(x, fastnn.randn(3, 4, 1, 1, 1), groups=0)
    with pytest.raises(RuntimeError, match="to have 3 channels, but got 4"):
        F.conv_transpose3d(x, fastnn.randn(3, 3, 2, 2, 2))
    with pytest.raises(RuntimeError, match="output padding must be smaller"):
        F.conv_transpose3d(x, fastnn.randn(4, 3, 2, 2, 2), output_padding=2)
    with pytest.raises(ValueError, match="kernel_size must be >= 1"):
        nn.Conv3d(2, 3, (1, 0, 1))
    with pytest.raises(TypeError, match="triple of ints"):
        nn.ConvTranspose3d(2, 3, (1, 2))
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        nn.ConvTranspose3d(2, 3, 1, groups=2)
