"""Conv1d / MaxPool1d / AvgPool1d (the 2-D kernels on the (N, C, 1, L) view): values and
gradients against torch and a float64 NumPy reference, gradcheck, reprs, errors, save/load."""

import numpy as np
import pytest

import fastnn
from conftest import assert_close
from fastnn import nn
from fastnn.autograd import gradcheck
from fastnn.nn import functional as F

TOL64 = dict(atol=1e-10, rtol=1e-10)


def ref_conv1d(x, w, b, s, p, d):
    """Direct float64 loops: out[n, o, t] = sum_c,k w[o, c, k] x[n, c, t*s - p + k*d] + b[o]."""
    n, c, length = x.shape
    o, _, k = w.shape
    lo = (length + 2 * p - d * (k - 1) - 1) // s + 1
    xp = np.zeros((n, c, length + 2 * p))
    xp[:, :, p : p + length] = x
    out = np.zeros((n, o, lo))
    for t in range(lo):
        for j in range(k):
            out[:, :, t] += np.einsum("nc,oc->no", xp[:, :, t * s + j * d], w[:, :, j])
    return out + (0 if b is None else b[None, :, None])


@pytest.mark.parametrize(
    "n,c,o,length,k,s,p,d",
    [
        (1, 1, 1, 1, 1, 1, 0, 1),
        (2, 3, 5, 7, 3, 1, 1, 1),
        (3, 4, 2, 33, 4, 2, 3, 2),
        (1, 2, 3, 257, 5, 3, 2, 1),
    ],
)
def test_conv1d_against_numpy(n, c, o, length, k, s, p, d, rng):
    x, w, b = (
        rng.standard_normal((n, c, length)),
        rng.standard_normal((o, c, k)),
        rng.standard_normal(o),
    )
    got = F.conv1d(fastnn.tensor(x), fastnn.tensor(w), fastnn.tensor(b), s, p, d)
    assert_close(got.numpy(), ref_conv1d(x, w, b, s, p, d), **TOL64)
    unbatched = F.conv1d(fastnn.tensor(x[0]), fastnn.tensor(w), None, s, p, d)
    assert_close(unbatched.numpy(), ref_conv1d(x[:1], w, None, s, p, d)[0], **TOL64)


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"stride": 2, "padding": 2, "dilation": 2},
        {"padding": "same"},
        {"padding": "same", "dilation": 3},
        {"padding": "valid", "bias": False},
    ],
)
def test_conv1d_module_matches_torch(kw, rng):
    torch = pytest.importorskip("torch")
    tm = torch.nn.Conv1d(3, 5, 4, **kw)
    fm = nn.Conv1d(3, 5, 4, **kw)
    fm.load_state_dict({k: fastnn.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    assert repr(fm) == repr(tm)
    x = rng.standard_normal((2, 3, 17)).astype(np.float32)
    tx, fx = torch.from_numpy(x).requires_grad_(True), fastnn.tensor(x, requires_grad=True)
    ty, fy = tm(tx), fm(fx)
    g = rng.standard_normal(tuple(ty.shape)).astype(np.float32)
    ty.backward(torch.from_numpy(g))
    fy.backward(fastnn.tensor(g))
    assert_close(fy.detach().numpy(), ty.detach().numpy(), atol=1e-5, rtol=1e-4)
    assert_close(fx.grad.numpy(), tx.grad.numpy(), atol=1e-5, rtol=1e-4)
    assert_close(fm.weight.grad.numpy(), tm.weight.grad.numpy(), atol=1e-4, rtol=1e-4)


def test_conv1d_init_and_state_dict_round_trip(tmp_path):
    torch = pytest.importorskip("torch")
    m = nn.Conv1d(4, 6, 3)
    assert list(m.state_dict()) == list(torch.nn.Conv1d(4, 6, 3).state_dict())
    bound = 1 / np.sqrt(4 * 3)
    assert np.abs(m.weight.detach().numpy()).max() <= bound
    fastnn.save(m.state_dict(), tmp_path / "c.pt")
    m2 = nn.Conv1d(4, 6, 3)
    m2.load_state_dict(fastnn.load(tmp_path / "c.pt"))
    np.testing.assert_array_equal(m2.weight.detach().numpy(), m.weight.detach().numpy())


def test_gradcheck(rng):
    x = fastnn.tensor(rng.standard_normal((2, 3, 9)), requires_grad=True)
    w = fastnn.tensor(rng.standard_normal((4, 3, 3)), requires_grad=True)
    b = fastnn.tensor(rng.standard_normal(4), requires_grad=True)
    gradcheck(lambda x, w, b: F.conv1d(x, w, b, 2, 1, 2), (x, w, b))
    gradcheck(lambda x, w: F.conv1d(x, w, padding="same"), (x, w))
    gradcheck(lambda x: F.max_pool1d(x, 3, 2, 1), (x,))
    gradcheck(lambda x: F.avg_pool1d(x, 3, 2, 1, count_include_pad=False), (x,))


@pytest.mark.parametrize("k,s,p,d", [(2, None, 0, 1), (3, 2, 1, 1), (3, 1, 1, 2), (5, 3, 2, 1)])
def test_pool1d_matches_torch(k, s, p, d, rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 3, 19))
    tx, fx = torch.tensor(x, requires_grad=True), fastnn.tensor(x, requires_grad=True)
    tm, fm = (
        torch.nn.MaxPool1d(k, s, p, d, return_indices=True),
        nn.MaxPool1d(k, s, p, d, return_indices=True),
    )
    assert repr(fm) == repr(tm)
    (ty, ti), (fy, fi) = tm(tx), fm(fx)
    np.testing.assert_array_equal(fi.numpy(), ti.numpy())
    assert_close(fy.detach().numpy(), ty.detach().numpy(), **TOL64)
    for cip in (True, False):
        ta, fa = (
            torch.nn.AvgPool1d(k, s, p, count_include_pad=cip),
            nn.AvgPool1d(k, s, p, count_include_pad=cip),
        )
        assert repr(fa) == repr(ta)
        tz, fz = ta(tx), fa(fx)
        assert_close(fz.detach().numpy(), tz.detach().numpy(), **TOL64)
        g = rng.standard_normal(tuple(tz.shape))
        (tz * torch.tensor(g)).sum().backward()
        (fz * fastnn.tensor(g)).sum().backward()
    assert_close(fx.grad.numpy(), tx.grad.numpy(), **TOL64)
    assert tuple(fm(fastnn.tensor(x[0]))[0].shape) == tuple(tm(torch.tensor(x[0]))[0].shape)


def test_errors():
    x = fastnn.zeros(2, 3, 8)
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        nn.Conv1d(4, 3, 3, groups=2)
    with pytest.raises(RuntimeError, match="to have 6 channels, but got 3"):
        F.conv1d(x, fastnn.zeros(4, 3, 3), groups=2)
    with pytest.raises(ValueError, match="'same' is not supported for strided"):
        nn.Conv1d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="Invalid padding string"):
        F.conv1d(x, fastnn.zeros(4, 3, 3), padding="full")
    with pytest.raises(RuntimeError, match="weight must be 3-D"):
        F.conv1d(x, fastnn.zeros(4, 3))
    with pytest.raises(RuntimeError, match="Expected 2D .* or 3D"):
        F.conv1d(fastnn.zeros(1, 2, 3, 8), fastnn.zeros(4, 3, 3))
    with pytest.raises(RuntimeError, match="to have 3 channels, but got 2"):
        F.conv1d(fastnn.zeros(2, 2, 8), fastnn.zeros(4, 3, 3))
    with pytest.raises(TypeError, match="kernel_size must be an int"):
        nn.Conv1d(3, 4, (3, 3))
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        F.max_pool1d(x, 2, padding=2)
