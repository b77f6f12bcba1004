"""fastnn.special: known values and identities without torch; with torch, values (float64 and
float32), NaN/inf edges and gradients against torch.special on the same inputs."""

import math

import numpy as np
import pytest

import fastnn
from fastnn import special


def _t(values, dtype="float64", grad=False):
    return fastnn.tensor(values, dtype=getattr(fastnn, dtype), requires_grad=grad)


def test_known_values():
    assert special.expit(_t([0.0])).item() == 0.5
    assert special.ndtr(_t([0.0])).item() == 0.5
    assert special.ndtr(_t([-12.0])).item() == pytest.approx(1.776482112077679e-33, rel=1e-13)
    assert abs(special.ndtri(_t([0.975])).item() - 1.959963984540054) < 1e-14
    assert abs(special.log_ndtr(_t([0.0])).item() - math.log(0.5)) < 1e-15
    assert abs(special.zeta(_t([2.0]), _t([1.0])).item() - math.pi**2 / 6) < 1e-15
    assert abs(special.polygamma(1, _t([1.0])).item() - math.pi**2 / 6) < 1e-15
    assert abs(special.polygamma(1, _t([0.5])).item() - math.pi**2 / 2) < 1e-14
    assert abs(special.polygamma(2, _t([1.0])).item() + 2 * 1.2020569031595942) < 1e-14
    assert special.entr(_t([0.0, -1.0])).tolist() == [0.0, -math.inf]
    assert special.xlog1py(_t([0.0]), _t([-1.0])).item() == 0.0
    assert special.gammaln(_t([5.0])).item() == pytest.approx(math.log(24.0), abs=1e-14)
    # multigammaln with p = 1 is lgamma
    a = _t([1.5, 7.25])
    np.testing.assert_array_equal(special.multigammaln(a, 1).numpy(), special.gammaln(a).numpy())
    assert special.i0e(_t([0.0])).item() == 1.0
    # I1 is odd, I1'(0) = 1/2, and I0' = I1
    x = _t([0.0, 0.7, 3.0, 45.0], grad=True)
    i1 = special.i1(x)
    np.testing.assert_array_equal(special.i1(-x).detach().numpy(), -i1.detach().numpy())
    special.i0e(x).sum().backward()  # d/dx exp(-x) I0(x) = i1e - i0e for x > 0
    want = (special.i1e(x) - special.i0e(x)).detach().numpy()
    np.testing.assert_allclose(x.grad.numpy()[1:], want[1:], rtol=1e-13)
    x.grad = None
    i1.sum().backward()
    assert x.grad.numpy()[0] == 0.5


def test_edges():
    p = special.ndtri(_t([0.0, 1.0, -0.1, 1.5, math.nan])).numpy()
    assert p[0] == -math.inf and p[1] == math.inf and np.isnan(p[2:]).all()
    z = special.zeta(_t([1.0, 0.5, 2.0, 2.5]), _t([1.0, 1.0, -2.0, -1.5])).numpy()
    assert z[0] == math.inf and np.isnan(z[1]) and z[2] == math.inf and np.isnan(z[3])
    # deep lower tail: log Phi(x) ~ -x^2/2 - log(-x) - log(2 pi)/2
    x = -1e4
    want = -x * x / 2 - math.log(-x) - 0.5 * math.log(2 * math.pi) + math.log1p(-1 / x**2)
    assert special.log_ndtr(_t([x])).item() == pytest.approx(want, rel=1e-15)
    # ndtri inverts ndtr far into the tail
    q = _t([1e-300, 1e-50, 1e-12])
    np.testing.assert_allclose(special.ndtr(special.ndtri(q)).numpy(), q.numpy(), rtol=1e-13)


def test_bad_arguments():
    # torch's exception types: RuntimeError for a bad p or n, TypeError for a non-int
    with pytest.raises(RuntimeError, match="p has to be greater than or equal to 1"):
        special.multigammaln(_t([3.0]), 0)
    with pytest.raises(TypeError, match="'p' must be int"):
        special.multigammaln(_t([3.0]), 1.5)
    with pytest.raises(RuntimeError, match="does not support negative n"):
        special.polygamma(-1, _t([1.0]))
    with pytest.raises(TypeError, match="'n' must be int"):
        special.polygamma(1.0, _t([1.0]))
    with pytest.raises(TypeError, match="input"):
        special.ndtr("x")
    with pytest.raises(TypeError, match="Tensor"):
        special.zeta(2.0, 1.0)


def test_multigammaln_below_its_domain_computes_as_torch():
    torch = pytest.importorskip("torch")
    x = np.array([0.2, 0.9, 1.7], np.float64)
    got = special.multigammaln(_t(x), 3).numpy()
    want = torch.special.multigammaln(torch.tensor(x), 3).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_float32_inputs_stay_float32():
    x = _t([0.1, 0.5], "float32")
    for fn in (special.ndtr, special.log_ndtr, special.ndtri, special.i0e, special.entr):
        assert fn(x).dtype == fastnn.float32, fn.__name__
    assert special.polygamma(2, x).dtype == fastnn.float32
    assert special.zeta(x + 2, x).dtype == fastnn.float32


X_REAL = [-35.0, -12.0, -2.5, -0.3, 0.0, 0.4, 3.0, 9.0]
X_POS = [0.05, 0.7, 1.0, 2.5, 11.0, 40.0]
X_UNIT = [1e-200, 1e-15, 1e-4, 0.02, 0.3, 0.5, 0.77, 0.999, 1 - 1e-12]
X_BESSEL = [-1e4, -800.0, -40.0, -1.0, 0.0, 0.5, 12.0, 699.0, 701.0, 5e4]

# name -> (inputs, float64 relative tolerance); each compared elementwise with torch.special
UNARY = {
    "erf": (X_REAL, 1e-15),
    "erfc": (X_REAL, 1e-14),
    "erfinv": ([-0.99, -0.2, 0.0, 0.5, 0.9999], 1e-14),
    "expit": (X_REAL, 1e-15),
    "logit": ([0.01, 0.3, 0.5, 0.97], 1e-15),
    "gammaln": (X_POS, 1e-14),
    "digamma": (X_POS, 1e-11),  # fastnn's digamma: ~1e-12 relative
    "psi": (X_POS, 1e-11),
    "i0": ([-5.0, 0.0, 0.3, 12.0], 1e-14),
    "i0e": (X_BESSEL, 1e-14),
    "i1": ([v for v in X_BESSEL if abs(v) < 700], 1e-14),
    "i1e": (X_BESSEL, 1e-14),
    "ndtr": (X_REAL, 1e-12),  # as accurate as fastnn's erfc in the tails
    "log_ndtr": ([*X_REAL, -1e3, 30.0], 1e-12),
    "ndtri": (X_UNIT, 1e-13),
    "entr": ([0.0, 1e-8, 0.3, 1.0, 7.0, -2.0], 1e-15),
    "expm1": (X_REAL, 1e-15),
    "exp2": (X_REAL, 1e-15),
    "log1p": (X_POS, 1e-15),
    "sinc": ([-2.5, -0.1, 0.0, 0.3, 4.0], 1e-14),
}
GRAD_SKIP = {"entr"}  # torch's gradient at 0 is -inf, ours is taken on the safe branch


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_matches_torch(name):
    torch = pytest.importorskip("torch")
    values, rtol = UNARY[name]
    ours_fn, theirs_fn = getattr(special, name), getattr(torch.special, name)
    # float32: torch computes in float32 and flushes deep tails (ndtr(-12)) to 0; ours are the
    # rounded float64 values, hence the tiny absolute tolerance
    # float64 too: torch's ndtr flushes ndtr(-12) = 1.8e-33 to 0 (see test_known_values)
    for dtype, tol, atol in (("float64", rtol, 1e-30), ("float32", 5e-6, 1e-30)):
        ours = ours_fn(_t(values, dtype))
        theirs = theirs_fn(torch.tensor(values, dtype=getattr(torch, dtype)))
        assert ours.dtype.name == dtype
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=tol, atol=atol, err_msg=name)
    if name in GRAD_SKIP:
        return
    inner = [v for v in values if 0 < abs(v) < 30 and v != 1 - 1e-12] or values
    ours_x = _t(inner, grad=True)
    theirs_x = torch.tensor(inner, dtype=torch.float64, requires_grad=True)
    ours_fn(ours_x).sum().backward()
    theirs_fn(theirs_x).sum().backward()
    np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-9, atol=0)


def test_binary_and_parameterized_match_torch():
    torch = pytest.importorskip("torch")
    x = [0.0, 0.0, 1.5, -2.0, 3.0]
    y = [-1.0, math.nan, 0.5, 4.0, 1e-3]
    for name in ("xlogy", "xlog1py"):
        ours = getattr(special, name)(_t(x), _t(y))
        theirs = getattr(torch.special, name)(
            torch.tensor(x, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
        )
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-15, err_msg=name)
    s, q = [2.0, 3.5, 1.5, 10.0, 2.0, 4.0], [1.0, 0.5, 3.0, 2.0, -1.5, -3.25]
    ours = special.zeta(_t(s), _t(q)).numpy()
    theirs = torch.special.zeta(torch.tensor(s), torch.tensor(q, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-13)
    a = [2.0, 3.7, 10.0]
    for p in (1, 2, 4):
        ours = special.multigammaln(_t(a), p).numpy()
        theirs = torch.special.multigammaln(torch.tensor(a, dtype=torch.float64), p).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-14)
    xs = [0.3, 1.0, 2.5, 10.0, -0.5, -2.5]
    for n in (0, 1, 2, 3, 6):
        ours = special.polygamma(n, _t(xs)).numpy()
        theirs = torch.special.polygamma(n, torch.tensor(xs, dtype=torch.float64)).numpy()
        # torch's own trigamma (n = 1) is good to ~1e-9; ours agrees with the exact values above
        # n = 0 is fastnn's digamma, good to ~1e-11 relative
        rtol = {0: 1e-10, 1: 1e-8}.get(n, 1e-13)
        np.testing.assert_allclose(ours, theirs, rtol=rtol, err_msg=str(n))


def test_polygamma_gradient_is_the_next_order():
    torch = pytest.importorskip("torch")
    xs = [0.3, 1.0, 2.5, 10.0]
    # n = 0 is fastnn's digamma, whose gradient is good to ~1e-9, as torch's trigamma is
    for n, rtol in ((0, 1e-8), (2, 1e-12), (3, 1e-12)):
        x = _t(xs, grad=True)
        special.polygamma(n, x).sum().backward()
        want = torch.special.polygamma(n + 1, torch.tensor(xs, dtype=torch.float64)).numpy()
        np.testing.assert_allclose(x.grad.numpy(), want, rtol=rtol, err_msg=str(n))


def test_softmax_family_matches_torch():
    torch = pytest.importorskip("torch")
    v = np.random.default_rng(3).normal(size=(3, 5)).astype(np.float32)
    for name in ("softmax", "log_softmax"):
        ours = getattr(special, name)(fastnn.tensor(v), 1, dtype=fastnn.float64)
        theirs = getattr(torch.special, name)(torch.tensor(v), 1, dtype=torch.float64)
        assert ours.dtype == fastnn.float64
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-14)
    ours = special.logsumexp(fastnn.tensor(v), 1, keepdim=True)
    theirs = torch.special.logsumexp(torch.tensor(v), 1, keepdim=True)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    ours = special.round(fastnn.tensor(v), decimals=2)
    np.testing.assert_allclose(ours.numpy(), torch.special.round(torch.tensor(v), decimals=2))
