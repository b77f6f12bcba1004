"""fastnn.autograd.forward_ad against torch.autograd.forward_ad in float64: the tangents of
element-wise chains, matmul, softmax, conv2d and an MLP run through functional_call, the
tangent rules (None where nothing dual is involved, gone after the level) and torch's errors."""

import numpy as np
import pytest

import fastnn
from fastnn.autograd import forward_ad as fw

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(7)


def _arrays(*shapes):
    return [RNG.standard_normal(s) for s in shapes]


def _tangents(lib, f, primals, tangents):
    """f's outputs' tangents under lib's forward AD, dual inputs made from numpy arrays."""
    fwad = lib.autograd.forward_ad
    with fwad.dual_level():
        duals = [
            fwad.make_dual(lib.tensor(p, dtype=lib.float64), lib.tensor(t, dtype=lib.float64))
            for p, t in zip(primals, tangents)
        ]
        out = f(lib, *duals)
        outs = out if isinstance(out, tuple) else (out,)
        unpacked = [fwad.unpack_dual(o) for o in outs]
        return [(u.primal.detach().numpy(), u.tangent.numpy()) for u in unpacked]


def _elementwise(L, x):
    return (x.sin() * x.exp() + x.tanh() / (1 + x * x)).sigmoid().log()


def _matmul(L, a, b):
    return (a @ b).relu() @ b.T


def _softmax(L, x):
    return x.softmax(-1) * 3 + x.log_softmax(0)


def _conv(L, x, w):
    return L.nn.functional.conv2d(x, w, padding=1, stride=2).tanh()


def _two_outputs(L, x, y):
    return (x * y).sum(0), (x - y).exp()


CASES = {
    "elementwise": (_elementwise, [(3, 4)]),
    "matmul": (_matmul, [(3, 5), (5, 4)]),
    "softmax": (_softmax, [(4, 6)]),
    "conv2d": (_conv, [(2, 3, 7, 7), (4, 3, 3, 3)]),
    "two_outputs": (_two_outputs, [(3, 2), (3, 2)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_tangents_match_torch(name):
    f, shapes = CASES[name]
    primals, tangents = _arrays(*shapes), _arrays(*shapes)
    got = _tangents(fastnn, f, primals, tangents)
    want = _tangents(torch, f, primals, tangents)
    assert len(got) == len(want)
    for (gp, gt), (wp, wt) in zip(got, want):
        np.testing.assert_allclose(gp, wp, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(gt, wt, rtol=1e-10, atol=1e-12)


def test_tangent_of_one_dual_among_constants():
    x, c = _arrays((3, 3), (3, 3))
    t = _arrays((3, 3))[0]

    def f(L, d):
        return d @ L.tensor(c, dtype=L.float64) + L.tensor(c, dtype=L.float64).exp()

    got, want = _tangents(fastnn, f, [x], [t]), _tangents(torch, f, [x], [t])
    np.testing.assert_allclose(got[0][1], want[0][1], rtol=1e-12)
    np.testing.assert_allclose(got[0][1], t @ c, rtol=1e-12)


def _mlp_tangent(lib):
    """A Linear-Tanh-Linear model with torch's weights, differentiated in its parameters along a
    direction: forward AD through functional_call."""
    torch.manual_seed(0)
    ref = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    ref = ref.double()
    x = np.linspace(-1, 1, 20).reshape(5, 4)
    if lib is torch:
        model, call = ref, torch.func.functional_call
    else:
        model = fastnn.nn.Sequential(
            fastnn.nn.Linear(4, 8), fastnn.nn.Tanh(), fastnn.nn.Linear(8, 3)
        )
        model = model.double()
        model.load_state_dict(
            {k: fastnn.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()}
        )
        call = fastnn.func.functional_call
    fwad = lib.autograd.forward_ad
    rng = np.random.default_rng(3)
    with fwad.dual_level():
        params = {
            k: fwad.make_dual(
                v.detach(), lib.tensor(rng.standard_normal(tuple(v.shape)), dtype=lib.float64)
            )
            for k, v in model.named_parameters()
        }
        out = call(model, params, (lib.tensor(x, dtype=lib.float64),))
        return fwad.unpack_dual(out).tangent.numpy()


def test_mlp_parameter_tangent_matches_torch():
    np.testing.assert_allclose(_mlp_tangent(fastnn), _mlp_tangent(torch), rtol=1e-10, atol=1e-12)


def test_tangent_matches_jvp_of_fastnn_func():
    x, t = (fastnn.tensor(a, dtype=fastnn.float64) for a in _arrays((4, 3), (4, 3)))
    with fw.dual_level():
        y = _elementwise(fastnn, fw.make_dual(x, t))
        tangent = fw.unpack_dual(y).tangent
    _, want = fastnn.func.jvp(lambda v: _elementwise(fastnn, v), (x,), (t,))
    np.testing.assert_allclose(tangent.numpy(), want.numpy(), rtol=1e-12)


def test_dual_keeps_its_tangent_and_reverse_mode_reaches_the_original():
    x = fastnn.tensor([1.0, -2.0, 0.5], dtype=fastnn.float64, requires_grad=True)
    t = fastnn.ones(3, dtype=fastnn.float64)
    with fw.dual_level() as level:
        assert level == 0
        d = fw.make_dual(x, t)
        primal, tangent = fw.unpack_dual(d)
        assert tangent is t
        np.testing.assert_array_equal(primal.detach().numpy(), x.detach().numpy())
        y = (d * d).sum()
        np.testing.assert_allclose(fw.unpack_dual(y).tangent.item(), 2 * x.sum().item())
        y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.detach().numpy())


def test_no_dual_no_tangent():
    x = fastnn.ones(3, dtype=fastnn.float64)
    w = fastnn.ones(3, dtype=fastnn.float64, requires_grad=True)
    assert fw.unpack_dual(x) == (x, None)  # outside a level
    with fw.dual_level():
        d = fw.make_dual(x, x * 2)
        assert fw.unpack_dual(x).tangent is None
        assert fw.unpack_dual(w * 3).tangent is None  # requires grad, but no dual behind it
        assert fw.unpack_dual((d > 0).float()).tangent is None
        e = d.exp()
    assert fw.unpack_dual(e).tangent is None  # the level is gone
    assert isinstance(fw.unpack_dual(e), fw.UnpackedDualTensor)
    assert fw.UnpackedDualTensor._fields == ("primal", "tangent")


def test_make_dual_errors():
    x = fastnn.ones(3, dtype=fastnn.float64)
    with pytest.raises(RuntimeError, match="no forward AD level is active"):
        fw.make_dual(x, x)
    with fw.dual_level():
        with pytest.raises(RuntimeError, match="different size"):
            fw.make_dual(x, fastnn.ones(4, dtype=fastnn.float64))
        with pytest.raises(ValueError, match="tangent to be floating point"):
            fw.make_dual(x, fastnn.ones(3, dtype=fastnn.int64))
        with pytest.raises(ValueError, match="primal to be floating point"):
            fw.make_dual(fastnn.ones(3, dtype=fastnn.int64), x)
        with pytest.raises(TypeError, match="tangent must be a Tensor"):
            fw.make_dual(x, 3)
        with pytest.raises(RuntimeError, match="invalid level"):
            fw.make_dual(x, x, level=3)
        d = fw.make_dual(x, x)
        with pytest.raises(RuntimeError, match="already has a forward gradient"):
            fw.make_dual(d, x)


def test_level_errors():
    with pytest.raises(RuntimeError, match="no forward AD level"):
        fw.exit_dual_level()
    with fw.dual_level():
        with pytest.raises(RuntimeError, match="Nested forward mode AD"):
            fw.enter_dual_level()
        with pytest.raises(RuntimeError, match="not the last one"):
            fw.exit_dual_level(level=5)
    assert fw.enter_dual_level() == 0
    fw.exit_dual_level(level=0)
