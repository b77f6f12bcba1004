"""nn.utils' fusion (fuse_conv_bn_eval / _weights, fuse_linear_bn_eval / _weights) against
torch and against running the two layers, stateless.functional_call, skip_init and the
deprecated clip_grad_norm, with their errors."""

import numpy as np
import pytest

import fastnn
from fastnn.nn import utils

torch = pytest.importorskip("torch")
nn = fastnn.nn


def _twins(cls, args, kw, dtype):
    tm = getattr(torch.nn, cls)(*args, **kw).to(getattr(torch, dtype))
    fm = getattr(nn, cls)(*args, **kw).to(dtype)
    fm.load_state_dict({k: fastnn.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    return fm, tm


def _trained_bn(cls, c, dtype, rng, **kw):
    """A BatchNorm with non-trivial running statistics and affine parameters, in eval."""
    fb, tb = _twins(cls, (c,), kw, dtype)
    state = {k: v.detach().clone() for k, v in tb.state_dict().items()}
    state["running_mean"] = torch.tensor(rng.standard_normal(c)).to(getattr(torch, dtype))
    state["running_var"] = torch.tensor(rng.uniform(0.2, 3, c)).to(getattr(torch, dtype))
    if tb.weight is not None:
        state["weight"] = torch.tensor(rng.standard_normal(c)).to(getattr(torch, dtype))
        state["bias"] = torch.tensor(rng.standard_normal(c)).to(getattr(torch, dtype))
    tb.load_state_dict(state)
    fb.load_state_dict({k: fastnn.tensor(v.numpy()) for k, v in state.items()})
    return fb.eval(), tb.eval()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "conv,args,kw,bn,shape,transpose",
    [
        ("Conv2d", (3, 5, 3), {"padding": 1}, "BatchNorm2d", (2, 3, 6, 7), False),
        ("Conv1d", (2, 1, 2), {"bias": False}, "BatchNorm1d", (3, 2, 5), False),
        ("Conv3d", (2, 4, (1, 2, 2)), {}, "BatchNorm3d", (1, 2, 3, 4, 4), False),
        ("ConvTranspose2d", (3, 4, 2), {"stride": 2}, "BatchNorm2d", (2, 3, 3, 3), True),
    ],
)
def test_fuse_conv_bn_matches_torch(conv, args, kw, bn, shape, transpose, dtype):
    rng = np.random.default_rng(0)
    fc, tc = _twins(conv, args, kw, dtype)
    c = args[1]
    fb, tb = _trained_bn(bn, c, dtype, rng, affine=not kw.get("bias", True) or c != 1)
    fc.eval(), tc.eval()
    fused = utils.fuse_conv_bn_eval(fc, fb, transpose=transpose)
    tfused = torch.nn.utils.fuse_conv_bn_eval(tc, tb, transpose=transpose)
    assert type(fused) is type(fc) and fused is not fc
    tol = 1e-5 if dtype == "float32" else 1e-12
    for name in ("weight", "bias"):
        ours, theirs = getattr(fused, name), getattr(tfused, name)
        assert isinstance(ours, nn.Parameter) and ours.requires_grad == theirs.requires_grad
        np.testing.assert_allclose(
            ours.detach().numpy(), theirs.detach().numpy(), rtol=tol, atol=tol
        )
    x = fastnn.tensor(rng.standard_normal(shape).astype(dtype))
    np.testing.assert_allclose(
        fused(x).detach().numpy(), fb(fc(x)).detach().numpy(), rtol=tol * 10, atol=tol * 10
    )
    np.testing.assert_allclose(fc.weight.detach().numpy(), tc.weight.detach().numpy())  # unchanged


@pytest.mark.parametrize("bn_features,affine", [(6, True), (1, True), (6, False)])
def test_fuse_linear_bn_matches_torch(bn_features, affine):
    rng = np.random.default_rng(1)
    fl, tl = _twins("Linear", (4, 6), {}, "float64")
    fb, tb = _trained_bn("BatchNorm1d", bn_features, "float64", rng, affine=affine)
    fl.eval(), tl.eval()
    if not affine:  # torch's linear fusion needs bn.weight: compare with the two layers
        ours = utils.fuse_linear_bn_eval(fl, fb)
        x = fastnn.tensor(rng.standard_normal((5, 4)))
        np.testing.assert_allclose(
            ours(x).detach().numpy(), fb(fl(x)).detach().numpy(), rtol=1e-12, atol=1e-12
        )
        return
    ours = utils.fuse_linear_bn_eval(fl, fb)
    theirs = torch.nn.utils.fuse_linear_bn_eval(tl, tb)
    for name in ("weight", "bias"):
        np.testing.assert_allclose(
            getattr(ours, name).detach().numpy(), getattr(theirs, name).detach().numpy(), rtol=1e-12
        )
    w, b = utils.fuse_linear_bn_weights(
        fl.weight, None, fb.running_mean, fb.running_var, fb.eps, fb.weight, fb.bias
    )
    tw, tb_ = torch.nn.utils.fuse_linear_bn_weights(
        tl.weight, None, tb.running_mean, tb.running_var, tb.eps, tb.weight, tb.bias
    )
    np.testing.assert_allclose(b.detach().numpy(), tb_.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(w.detach().numpy(), tw.detach().numpy(), rtol=1e-12)
    assert b.requires_grad == tb_.requires_grad and w.requires_grad


def test_fusion_errors():
    conv, bn = nn.Conv2d(2, 3, 1), nn.BatchNorm2d(3)
    with pytest.raises(ValueError, match="Fusion only for eval"):
        utils.fuse_conv_bn_eval(conv, bn.eval())
    with pytest.raises(AssertionError, match="Fusion only for eval"):  # torch's type too
        utils.fuse_linear_bn_eval(nn.Linear(2, 3).eval(), nn.BatchNorm1d(3))
    with pytest.raises(ValueError, match="track_running_stats=False"):
        utils.fuse_conv_bn_eval(conv.eval(), nn.BatchNorm2d(3, track_running_stats=False).eval())
    with pytest.raises(ValueError, match="out_features must equal bn.num_features"):
        utils.fuse_linear_bn_eval(nn.Linear(2, 3).eval(), nn.BatchNorm1d(4).eval())


def test_stateless_functional_call():
    m = nn.Linear(3, 2)
    w = fastnn.ones(2, 3)
    x = fastnn.randn(4, 3)
    with pytest.warns(FutureWarning, match="torch.func.functional_call"):
        out = utils.stateless.functional_call(m, {"weight": w}, (x,))
    np.testing.assert_allclose(out.detach().numpy(), (x @ w.T + m.bias).detach().numpy(), rtol=1e-6)
    assert not np.allclose(m.weight.detach().numpy(), 1.0)
    with pytest.warns(FutureWarning), pytest.raises(RuntimeError, match="missing keys"):
        utils.stateless.functional_call(m, {"weight": w}, (x,), strict=True)


def test_skip_init():
    fastnn.manual_seed(3)
    m = utils.skip_init(nn.Conv2d, 3, 4, kernel_size=2, bias=False)
    after = fastnn.randn(5)
    fastnn.manual_seed(3)
    np.testing.assert_array_equal(after.numpy(), fastnn.randn(5).numpy())  # no draws seen
    assert type(m) is nn.Conv2d and tuple(m.weight.shape) == (4, 3, 2, 2) and m.bias is None
    assert isinstance(m.weight, nn.Parameter) and m.weight.requires_grad
    with pytest.raises(RuntimeError, match="Expected a Module"):
        utils.skip_init(int)
    with pytest.raises(RuntimeError, match="support a 'device' arg"):
        utils.skip_init(nn.ReLU)


def test_clip_grad_norm_deprecated_alias():
    ps = [nn.Parameter(fastnn.ones(3)) for _ in range(2)]
    for p in ps:
        p.grad = fastnn.full((3,), 2.0)
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        total = utils.clip_grad_norm(ps, 1.0)
    assert abs(float(total) - np.sqrt(24)) < 1e-5
    np.testing.assert_allclose(ps[0].grad.numpy(), 2.0 / np.sqrt(24), rtol=1e-5)
