"""gaussian_nll / poisson_nll / soft_margin / multi_margin / multilabel_margin /
multilabel_soft_margin / triplet_margin_with_distance losses and their modules against torch:
every reduction, the options, weights, gradients (float64), shapes and errors."""

import numpy as np
import pytest

import fastnn
from conftest import assert_close

torch = pytest.importorskip("torch")
F = fastnn.nn.functional
TF = torch.nn.functional
REDS = ("none", "mean", "sum")


def _run(fn, tfn, diff, const, kw=(), tol=1e-11):
    """fn(*diff, *const, **kw) against torch: value and the gradient of every ``diff`` input."""
    kw = dict(kw)
    a = [fastnn.tensor(x, requires_grad=True) for x in diff]
    ta = [torch.tensor(x, requires_grad=True) for x in diff]
    c = [fastnn.tensor(x) if isinstance(x, np.ndarray) else x for x in const]
    tc = [torch.tensor(x) if isinstance(x, np.ndarray) else x for x in const]
    out, ref = fn(*a, *c, **kw), tfn(*ta, *tc, **kw)
    assert tuple(out.shape) == tuple(ref.shape)
    assert_close(out.detach().numpy(), ref.detach().numpy(), atol=tol, rtol=tol)
    w = np.random.default_rng(7).standard_normal(tuple(ref.shape))
    (out * fastnn.tensor(w)).sum().backward()
    (ref * torch.tensor(w)).sum().backward()
    for x, tx in zip(a, ta):
        assert_close(x.grad.numpy(), tx.grad.numpy(), atol=tol, rtol=tol, name="grad")


RNG = np.random.default_rng(0)
X, Y = RNG.standard_normal((5, 3)), RNG.standard_normal((5, 3))
V = RNG.uniform(0.2, 2.0, (5, 3))


@pytest.mark.parametrize("reduction", REDS)
@pytest.mark.parametrize("full", [False, True])
def test_gaussian_nll(reduction, full):
    kw = {"full": full, "reduction": reduction}
    _run(F.gaussian_nll_loss, TF.gaussian_nll_loss, [X, Y, V], [], kw)


@pytest.mark.parametrize("var_shape", [(5,), (5, 1), (1, 3)])
def test_gaussian_nll_var_shapes_and_eps_clamp(var_shape):
    v = RNG.uniform(0.0, 1e-3, var_shape)  # below eps: clamped in value only
    _run(F.gaussian_nll_loss, TF.gaussian_nll_loss, [X, Y, v], [], {"eps": 5e-4}, tol=1e-9)


def test_gaussian_nll_float_var_and_errors():
    x, y = fastnn.tensor(X), fastnn.tensor(Y)
    ref = TF.gaussian_nll_loss(torch.tensor(X), torch.tensor(Y), 0.5)
    assert_close(F.gaussian_nll_loss(x, y, 0.5).numpy(), ref.numpy(), atol=1e-12, rtol=1e-12)
    with pytest.raises(ValueError, match="var has negative entry"):
        F.gaussian_nll_loss(x, y, fastnn.tensor(-V))
    with pytest.raises(ValueError, match="var has negative entry"):
        F.gaussian_nll_loss(x, y, -1.0)
    with pytest.raises(ValueError, match="var is of incorrect size"):
        F.gaussian_nll_loss(x, y, fastnn.ones(4))
    with pytest.raises(ValueError, match="foo is not valid"):
        F.gaussian_nll_loss(x, y, fastnn.tensor(V), reduction="foo")


@pytest.mark.parametrize("reduction", REDS)
@pytest.mark.parametrize(
    "log_input,full", [(True, False), (False, False), (True, True), (False, True)]
)
def test_poisson_nll(reduction, log_input, full):
    x = X if log_input else np.abs(X) + 0.1
    target = np.abs(Y) * 3  # some above 1 (Stirling's term) and some below
    kw = {"log_input": log_input, "full": full, "reduction": reduction}
    _run(F.poisson_nll_loss, TF.poisson_nll_loss, [x], [target], kw)


@pytest.mark.parametrize("reduction", REDS)
def test_soft_margin(reduction):
    _run(F.soft_margin_loss, TF.soft_margin_loss, [X], [np.sign(Y)], {"reduction": reduction})


@pytest.mark.parametrize("reduction", REDS)
@pytest.mark.parametrize("p,margin,weighted", [(1, 1.0, False), (2, 0.7, False), (1, 1.5, True)])
def test_multi_margin(reduction, p, margin, weighted):
    x = RNG.standard_normal((6, 7))
    t = RNG.integers(0, 7, 6)
    kw = {"p": p, "margin": margin, "reduction": reduction}
    if weighted:
        kw["weight"] = RNG.uniform(0.5, 2.0, 7)
        fw, tw = fastnn.tensor(kw["weight"]), torch.tensor(kw["weight"])
        _run(lambda *a, **k: F.multi_margin_loss(*a, **{**k, "weight": fw}),
             lambda *a, **k: TF.multi_margin_loss(*a, **{**k, "weight": tw}),
             [x], [t], {k: v for k, v in kw.items() if k != "weight"})  # fmt: skip
    else:
        _run(F.multi_margin_loss, TF.multi_margin_loss, [x], [t], kw)


@pytest.mark.parametrize("reduction", REDS)
def test_multi_margin_unbatched(reduction):
    x = RNG.standard_normal(5)
    _run(F.multi_margin_loss, TF.multi_margin_loss, [x], [np.array(3)], {"reduction": reduction})


def test_multi_margin_errors():
    x = fastnn.zeros(2, 3)
    with pytest.raises(ValueError, match="only p == 1 and p == 2 supported"):
        F.multi_margin_loss(x, fastnn.tensor([0, 1]), p=3)
    with pytest.raises(ValueError, match="weight must be one-dimensional"):
        F.multi_margin_loss(x, fastnn.tensor([0, 1]), weight=fastnn.ones(3, 1))
    with pytest.raises(RuntimeError, match="target out of range"):
        F.multi_margin_loss(x, fastnn.tensor([0, 3]))
    with pytest.raises(ValueError, match="inconsistent target size"):
        F.multi_margin_loss(x, fastnn.tensor([0, 1, 2]))


@pytest.mark.parametrize("reduction", REDS)
def test_multilabel_margin(reduction):
    x = RNG.standard_normal((4, 5))
    t = np.array([[1, 3, -1, 0, 0], [0, 1, 2, 3, 4], [-1, 0, 0, 0, 0], [2, 2, -1, 1, 1]])
    _run(F.multilabel_margin_loss, TF.multilabel_margin_loss, [x], [t], {"reduction": reduction})
    x1, t1 = RNG.standard_normal(4), np.array([3, 0, -1, 1])
    _run(F.multilabel_margin_loss, TF.multilabel_margin_loss, [x1], [t1], {"reduction": reduction})


def test_multilabel_margin_errors():
    with pytest.raises(RuntimeError, match=r"target values must lie in \[-1, 3\), got 5"):
        F.multilabel_margin_loss(fastnn.zeros(1, 3), fastnn.tensor([[0, 5, -1]]))
    with pytest.raises(ValueError, match="same shape"):
        F.multilabel_margin_loss(fastnn.zeros(2, 3), fastnn.tensor([[0, 1, -1]]))


@pytest.mark.parametrize("reduction", REDS)
@pytest.mark.parametrize("weighted", [False, True])
def test_multilabel_soft_margin(reduction, weighted):
    target = (Y > 0).astype(np.float64)
    if weighted:
        w = RNG.uniform(0.5, 2.0, 3)
        _run(lambda x, t, **k: F.multilabel_soft_margin_loss(x, t, fastnn.tensor(w), **k),
             lambda x, t, **k: TF.multilabel_soft_margin_loss(x, t, torch.tensor(w), **k),
             [X], [target], {"reduction": reduction})  # fmt: skip
    else:
        _run(F.multilabel_soft_margin_loss, TF.multilabel_soft_margin_loss, [X], [target],
             {"reduction": reduction})  # fmt: skip


@pytest.mark.parametrize("reduction", REDS)
@pytest.mark.parametrize("swap", [False, True])
def test_triplet_margin_with_distance(reduction, swap):
    a, p, n = (RNG.standard_normal((6, 4)) for _ in range(3))
    kw = {"margin": 1.5, "swap": swap, "reduction": reduction}
    _run(
        F.triplet_margin_with_distance_loss, TF.triplet_margin_with_distance_loss, [a, p, n], [], kw
    )

    def cos_f(x, y):
        return 1 - F.cosine_similarity(x, y)

    def cos_t(x, y):
        return 1 - TF.cosine_similarity(x, y)

    _run(lambda *z, **k: F.triplet_margin_with_distance_loss(*z, distance_function=cos_f, **k),
         lambda *z, **k: TF.triplet_margin_with_distance_loss(*z, distance_function=cos_t, **k),
         [a, p, n], [], kw)  # fmt: skip


def test_triplet_margin_with_distance_errors():
    x = fastnn.zeros(2, 3)
    with pytest.raises(ValueError, match="expected margin to be greater than 0, got 0"):
        F.triplet_margin_with_distance_loss(x, x, x, margin=0)
    with pytest.raises(RuntimeError, match="anchor 2D, positive 1D, and negative 2D inputs"):
        F.triplet_margin_with_distance_loss(x, x[0], x)
    with pytest.raises(TypeError):
        F.triplet_margin_with_distance_loss(x, x, x, None)  # distance_function is keyword-only


MODULES = [
    ("GaussianNLLLoss", {"full": True, "eps": 1e-3, "reduction": "sum"}, ("full", "eps"), 3),
    ("PoissonNLLLoss", {"log_input": False, "full": True}, ("log_input", "full", "eps"), 2),
    ("SoftMarginLoss", {"reduction": "none"}, (), 2),
    ("MultiMarginLoss", {"p": 2, "margin": 0.5}, ("p", "margin"), 2),
    ("MultiLabelMarginLoss", {}, (), 2),
    ("MultiLabelSoftMarginLoss", {"reduction": "sum"}, (), 2),
    ("TripletMarginWithDistanceLoss", {"margin": 2.0, "swap": True}, ("margin", "swap"), 3),
]


@pytest.mark.parametrize("name,kw,attrs,nargs", MODULES, ids=[m[0] for m in MODULES])
def test_modules(name, kw, attrs, nargs):
    m, tm = getattr(fastnn.nn, name)(**kw), getattr(torch.nn, name)(**kw)
    # (fastnn's loss reprs add a non-default reduction, which torch's leave out)
    assert repr(getattr(fastnn.nn, name)()) == repr(getattr(torch.nn, name)())
    for a in ("reduction", *attrs):
        assert getattr(m, a) == getattr(tm, a), a
    x = np.abs(RNG.standard_normal((4, 5))) + 0.1
    second = {
        "MultiMarginLoss": RNG.integers(0, 5, 4),
        "MultiLabelMarginLoss": np.array([[1, -1, 0, 0, 0]] * 4),
        "SoftMarginLoss": np.sign(RNG.standard_normal((4, 5))),
    }.get(name, np.abs(RNG.standard_normal((4, 5))))
    args = [x, second, np.abs(RNG.standard_normal((4, 5))) + 0.1][:nargs]
    out = m(*[fastnn.tensor(v) for v in args])
    ref = tm(*[torch.tensor(v) for v in args])
    assert_close(out.numpy(), ref.numpy(), atol=1e-12, rtol=1e-12)


def test_legacy_size_average_reduce():
    x, t = fastnn.tensor(X), fastnn.tensor(np.sign(Y))
    with pytest.warns(UserWarning, match="reduction='sum'"):
        m = fastnn.nn.SoftMarginLoss(size_average=False)
    assert m.reduction == "sum"
    with pytest.warns(UserWarning, match="reduction='none'"):
        out = F.soft_margin_loss(x, t, reduce=False)
    assert tuple(out.shape) == (5, 3)


def test_module_argument_errors():
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        fastnn.nn.MultiMarginLoss(p=3)
    with pytest.raises(ValueError, match="expected margin to be greater than 0"):
        fastnn.nn.TripletMarginWithDistanceLoss(margin=-1.0)
