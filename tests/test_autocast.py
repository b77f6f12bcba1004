"""fastnn.autocast: host regions where matrix products run in bfloat16 (or float16) and the
float32-policy losses in float32, held to torch.autocast("cpu") on the same model and data."""

import numpy as np
import pytest

import fastnn


def _bits(a):
    return np.asarray(a).view(np.int16)


def _models(torch):
    rng = np.random.default_rng(0)
    w = (rng.standard_normal((5, 8)) * 0.3).astype(np.float32)
    b = (rng.standard_normal(5) * 0.3).astype(np.float32)
    tm, fm = torch.nn.Linear(8, 5), fastnn.nn.Linear(8, 5)
    with torch.no_grad():
        tm.weight.copy_(torch.from_numpy(w))
        tm.bias.copy_(torch.from_numpy(b))
    fm.weight.data = fastnn.tensor(w)
    fm.bias.data = fastnn.tensor(b)
    x = rng.standard_normal((6, 8)).astype(np.float32)
    return tm, fm, x, w


def test_a_training_step_under_bfloat16_autocast_matches_torch():
    torch = pytest.importorskip("torch")
    pytest.importorskip("ml_dtypes")
    tm, fm, x, w = _models(torch)
    target = np.array([0, 1, 2, 3, 4, 0])
    with torch.autocast("cpu", dtype=torch.bfloat16):
        ty = tm(torch.from_numpy(x))
        tl = torch.nn.functional.cross_entropy(ty, torch.from_numpy(target))
        tp = torch.from_numpy(x) @ torch.from_numpy(w).T
    with fastnn.autocast("cpu", dtype=fastnn.bfloat16):
        assert fastnn.is_autocast_enabled("cpu")
        assert fastnn.get_autocast_dtype("cpu") == fastnn.bfloat16
        fy = fm(fastnn.tensor(x))
        fl = fastnn.nn.functional.cross_entropy(fy, fastnn.tensor(target))
        fp = fastnn.tensor(x) @ fastnn.tensor(w).T
    assert not fastnn.is_autocast_enabled("cpu")
    # the products: inputs rounded to bfloat16, one float32 GEMM, the result rounded once
    assert fy.dtype == fp.dtype == fastnn.bfloat16
    np.testing.assert_array_equal(
        fy.detach()._data.view(np.int16), ty.detach().view(torch.int16).numpy()
    )
    np.testing.assert_array_equal(fp._data.view(np.int16), tp.view(torch.int16).numpy())
    # the loss in float32, as torch's float32 policy computes it
    assert fl.dtype == fastnn.float32 and str(tl.dtype) == "torch.float32"
    np.testing.assert_allclose(fl.item(), tl.item(), rtol=1e-6)
    fl.backward()
    tl.backward()
    # float32 parameters get float32 gradients through the recorded casts
    assert fm.weight.grad.dtype == fastnn.float32
    np.testing.assert_allclose(fm.weight.grad.numpy(), tm.weight.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fm.bias.grad.numpy(), tm.bias.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_regions_nest_disable_restore_and_decorate():
    pytest.importorskip("ml_dtypes")
    x = fastnn.ones(2, 3)
    with fastnn.autocast("cpu"):  # torch's host default: bfloat16
        assert (x @ x.T).dtype == fastnn.bfloat16
        with fastnn.autocast("cpu", enabled=False):
            assert (x @ x.T).dtype == fastnn.float32
        with fastnn.amp.autocast("cpu", dtype=fastnn.float16):
            assert (x @ x.T).dtype == fastnn.float16
        assert (x @ x.T).dtype == fastnn.bfloat16
        # elementwise ops and float64 are left alone, as torch leaves them
        assert (x + x).dtype == fastnn.float32
        assert (x.double() @ x.double().T).dtype == fastnn.float64
    assert (x @ x.T).dtype == fastnn.float32
    with pytest.raises(ValueError), fastnn.autocast("cpu"):
        raise ValueError  # an exception leaves the region closed
    assert not fastnn.is_autocast_enabled("cpu")

    @fastnn.autocast("cpu")
    def product(a):
        return a @ a.T

    assert product(x).dtype == fastnn.bfloat16
    assert (x @ x.T).dtype == fastnn.float32


def test_conv_under_autocast_and_arguments_checked():
    pytest.importorskip("ml_dtypes")
    conv = fastnn.nn.Conv2d(2, 3, 3)
    with fastnn.autocast("cpu"):
        assert conv(fastnn.randn(1, 2, 5, 5)).dtype == fastnn.bfloat16
    with pytest.raises(RuntimeError, match="bfloat16 and float16"):
        fastnn.autocast("cpu", dtype=fastnn.float32)
    with pytest.raises(RuntimeError, match="device_type"):
        fastnn.autocast("tpu")
    # a GPU region is accepted and reported, and casts nothing on the host
    with fastnn.autocast("cuda"):
        assert fastnn.is_autocast_enabled("cuda") and not fastnn.is_autocast_enabled("cpu")
        assert (fastnn.ones(2, 2) @ fastnn.ones(2, 2)).dtype == fastnn.float32
