"""Every loss of fastnn.nn.functional: values and gradients vs PyTorch (when installed) for each
reduction, gradcheck in float64, and the errors torch gives for bad labels and shapes."""

import numpy as np
import pytest

import fastnn
from fastnn.autograd import gradcheck
from fastnn.nn import functional as F

REDUCTIONS = ["none", "mean", "sum"]


def t64(a, requires_grad=True):
    return fastnn.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def _torch():
    return pytest.importorskip("torch")


def _parity(fn_ours, fn_torch, arrays, grad_mask, atol=1e-10):
    """Run both on float64 copies; compare the loss and the grads of the inputs in grad_mask."""
    torch = _torch()
    ours = [
        fastnn.tensor(a, requires_grad=g) if np.asarray(a).dtype.kind == "f" else fastnn.tensor(a)
        for a, g in zip(arrays, grad_mask)
    ]
    theirs = [torch.tensor(a, requires_grad=g) for a, g in zip(arrays, grad_mask)]
    lo, lt = fn_ours(*ours), fn_torch(*theirs)
    np.testing.assert_allclose(lo.detach().numpy(), lt.detach().numpy(), rtol=1e-9, atol=atol)
    if lt.requires_grad:
        seed = np.random.default_rng(0).standard_normal(tuple(lt.shape))
        lo.backward(fastnn.tensor(seed))
        lt.backward(torch.tensor(seed))
        for o, t, g in zip(ours, theirs, grad_mask):
            if g:
                np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-8, atol=atol)


# ---- regression -------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "name,kw",
    [
        ("mse_loss", {}),
        ("l1_loss", {}),
        ("huber_loss", {"delta": 0.7}),
        ("smooth_l1_loss", {"beta": 0.5}),
        ("smooth_l1_loss", {"beta": 0.0}),
    ],
)
def test_regression_losses_match_torch(name, kw, reduction, rng):
    torch = _torch()
    x, y = rng.standard_normal((6, 3)), rng.standard_normal((6, 3))
    _parity(
        lambda a, b: getattr(F, name)(a, b, reduction=reduction, **kw),
        lambda a, b: getattr(torch.nn.functional, name)(a, b, reduction=reduction, **kw),
        [x, y],
        [True, True],
    )


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss"])
def test_regression_losses_gradcheck(name, rng):
    x, y = t64(rng.standard_normal((4, 3))), t64(rng.standard_normal((4, 3)) * 2)
    assert gradcheck(lambda a, b: getattr(F, name)(a, b), (x, y))


def test_mse_broadcasts_and_values(rng):
    x = rng.standard_normal((5, 1))
    y = rng.standard_normal(5)
    out = F.mse_loss(t64(x), t64(y), reduction="none")
    np.testing.assert_allclose(out.detach().numpy(), (x - y) ** 2)


def test_rmse_loss(rng):
    x, y = rng.standard_normal(10), rng.standard_normal(10)
    np.testing.assert_allclose(F.rmse_loss(t64(x), t64(y)).item(), np.sqrt(np.mean((x - y) ** 2)))
    assert gradcheck(lambda a, b: F.rmse_loss(a, b), (t64(x), t64(y)))


# ---- classification ----------------------------------------------------------------------------

CE_CASES = [
    {},
    {"label_smoothing": 0.2},
    {"ignore_index": 1},
    {"weight": True},
    {"weight": True, "label_smoothing": 0.1, "ignore_index": 2},
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", range(len(CE_CASES)))
def test_cross_entropy_indices_match_torch(case, reduction, rng):
    torch = _torch()
    kw = dict(CE_CASES[case])
    w = rng.uniform(0.5, 2, 5) if kw.pop("weight", False) else None
    x = rng.standard_normal((7, 5)) * 3
    y = np.array([0, 1, 2, 3, 4, 1, 2])

    def ours(a, b):
        return F.cross_entropy(
            a, b, weight=None if w is None else fastnn.tensor(w), reduction=reduction, **kw
        )

    def theirs(a, b):
        return torch.nn.functional.cross_entropy(
            a, b, weight=None if w is None else torch.tensor(w), reduction=reduction, **kw
        )

    _parity(ours, theirs, [x, y], [True, False])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_probabilities_and_spatial_match_torch(reduction, rng):
    torch = _torch()
    x = rng.standard_normal((4, 3))
    p = rng.dirichlet(np.ones(3), size=4)
    _parity(
        lambda a, b: F.cross_entropy(a, b, reduction=reduction, label_smoothing=0.1),
        lambda a, b: torch.nn.functional.cross_entropy(
            a, b, reduction=reduction, label_smoothing=0.1
        ),
        [x, p],
        [True, True],
    )
    x4 = rng.standard_normal((2, 3, 4, 2))
    y4 = rng.integers(0, 3, (2, 4, 2))
    _parity(
        lambda a, b: F.cross_entropy(a, b, reduction=reduction),
        lambda a, b: torch.nn.functional.cross_entropy(a, b, reduction=reduction),
        [x4, y4],
        [True, False],
    )
    x1 = rng.standard_normal(3)
    _parity(
        lambda a, b: F.cross_entropy(a, b, reduction=reduction),
        lambda a, b: torch.nn.functional.cross_entropy(a, b, reduction=reduction),
        [x1, np.array(2)],
        [True, False],
    )


def test_cross_entropy_gradcheck(rng):
    x = t64(rng.standard_normal((5, 4)))
    y = fastnn.tensor([0, 3, 1, 1, 2])
    w = fastnn.tensor([1.0, 2.0, 0.5, 1.5], dtype=fastnn.float64)
    for kw in ({}, {"label_smoothing": 0.3, "weight": w}, {"ignore_index": 1}):
        for reduction in REDUCTIONS:
            assert gradcheck(lambda a: F.cross_entropy(a, y, reduction=reduction, **kw), (x,))
    p = t64(rng.dirichlet(np.ones(4), size=5))
    assert gradcheck(lambda a, b: F.cross_entropy(a, b, label_smoothing=0.2), (x, p))


def test_cross_entropy_large_logits_stable():
    x = fastnn.tensor([[1000.0, 0.0, -1000.0], [-1e4, 1e4, 0.0]], requires_grad=True)
    loss = F.cross_entropy(x, fastnn.tensor([2, 1]))
    loss.backward()
    assert np.isfinite(loss.item()) and abs(loss.item() - 1000.0) < 1e-3
    assert np.isfinite(x.grad.numpy()).all()


def test_cross_entropy_bad_labels():
    x = fastnn.randn(3, 4)
    with pytest.raises(RuntimeError, match="expected scalar type Long but found Float"):
        F.cross_entropy(x, fastnn.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(IndexError, match="out of bounds"):
        F.cross_entropy(x, fastnn.tensor([0, 7, 1]))
    with pytest.raises(ValueError, match="batch_size"):
        F.cross_entropy(x, fastnn.tensor([0, 1]))
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.cross_entropy(x, fastnn.tensor([0, 1, 2]), reduction="avg")
    with pytest.raises(RuntimeError, match="weight tensor should be defined"):
        F.cross_entropy(x, fastnn.tensor([0, 1, 2]), weight=fastnn.ones(3))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_matches_torch(reduction, rng):
    torch = _torch()
    x = rng.standard_normal((6, 4))
    y = np.array([0, 3, 1, 1, 2, 0])
    w = rng.uniform(0.5, 2, 4)
    _parity(
        lambda a, b: F.nll_loss(a, b, weight=fastnn.tensor(w), ignore_index=1, reduction=reduction),
        lambda a, b: torch.nn.functional.nll_loss(
            a, b, weight=torch.tensor(w), ignore_index=1, reduction=reduction
        ),
        [x, y],
        [True, False],
    )
    assert gradcheck(lambda a: F.nll_loss(a, fastnn.tensor(y), reduction=reduction), (t64(x),))


def test_nll_of_log_softmax_equals_cross_entropy(rng):
    x = t64(rng.standard_normal((5, 3)), requires_grad=False)
    y = fastnn.tensor([0, 2, 1, 1, 0])
    np.testing.assert_allclose(
        F.nll_loss(F.log_softmax(x, dim=1), y).item(), F.cross_entropy(x, y).item(), rtol=1e-12
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_matches_torch(reduction, rng):
    torch = _torch()
    x = rng.uniform(0.05, 0.95, (5, 3))
    y = rng.uniform(0, 1, (5, 3))
    w = rng.uniform(0.5, 2, 3)
    _parity(
        lambda a, b: F.binary_cross_entropy(a, b, weight=fastnn.tensor(w), reduction=reduction),
        lambda a, b: torch.nn.functional.binary_cross_entropy(
            a, b, weight=torch.tensor(w), reduction=reduction
        ),
        [x, y],
        [True, True],
    )
    assert gradcheck(
        lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction), (t64(x), t64(y))
    )


def test_binary_cross_entropy_bad_input():
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(fastnn.tensor([1.5]), fastnn.tensor([1.0]))
    with pytest.raises(ValueError, match="different to the input size"):
        F.binary_cross_entropy(fastnn.tensor([0.5, 0.5]), fastnn.tensor([1.0]))
    # log clamped at -100: a certain wrong prediction costs 100, not inf
    assert F.binary_cross_entropy(fastnn.tensor([0.0]), fastnn.tensor([1.0])).item() == 100.0


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("with_weights", [False, True])
def test_bce_with_logits_matches_torch(reduction, with_weights, rng):
    torch = _torch()
    x = rng.standard_normal((6, 3)) * 4
    y = rng.uniform(0, 1, (6, 3))
    w = rng.uniform(0.5, 2, (6, 3)) if with_weights else None
    pw = rng.uniform(0.5, 3, 3) if with_weights else None

    def ours(a, b):
        return F.binary_cross_entropy_with_logits(
            a,
            b,
            weight=None if w is None else fastnn.tensor(w),
            pos_weight=None if pw is None else fastnn.tensor(pw),
            reduction=reduction,
        )

    def theirs(a, b):
        return torch.nn.functional.binary_cross_entropy_with_logits(
            a,
            b,
            weight=None if w is None else torch.tensor(w),
            pos_weight=None if pw is None else torch.tensor(pw),
            reduction=reduction,
        )

    _parity(ours, theirs, [x, y], [True, True])
    assert gradcheck(ours, (t64(x), t64(y)))


def test_bce_with_logits_extreme_and_shape_error():
    x = fastnn.tensor([1e4, -1e4, 0.0], requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, fastnn.tensor([0.0, 1.0, 1.0]))
    loss.backward()
    assert abs(loss.item() - (2e4 + np.log(2)) / 3) < 1e-2 and np.isfinite(x.grad.numpy()).all()
    with pytest.raises(ValueError, match="must be the same as input size"):
        F.binary_cross_entropy_with_logits(fastnn.zeros(3, 1), fastnn.zeros(3))


@pytest.mark.filterwarnings("ignore:reduction. .mean. divides:UserWarning")
@pytest.mark.parametrize("reduction", [*REDUCTIONS, "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch(reduction, log_target, rng):
    torch = _torch()
    x = np.log(rng.dirichlet(np.ones(4), size=3))
    t = rng.dirichlet(np.ones(4), size=3)
    t[0, 1] = 0.0
    if log_target:
        t = np.log(rng.dirichlet(np.ones(4), size=3))
    _parity(
        lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
        lambda a, b: torch.nn.functional.kl_div(a, b, reduction=reduction, log_target=log_target),
        [x, t],
        [True, False],
    )
    assert gradcheck(
        lambda a: F.kl_div(a, t64(t, False), reduction=reduction, log_target=log_target), (t64(x),)
    )


# ---- metric learning -------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cosine_embedding_loss_matches_torch(reduction, rng):
    torch = _torch()
    a, b = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    y = np.array([1, -1, 1, -1, -1])
    _parity(
        lambda p, q, t: F.cosine_embedding_loss(p, q, t, margin=0.1, reduction=reduction),
        lambda p, q, t: torch.nn.functional.cosine_embedding_loss(
            p, q, t, margin=0.1, reduction=reduction
        ),
        [a, b, y],
        [True, True, False],
    )
    assert gradcheck(
        lambda p, q: F.cosine_embedding_loss(p, q, fastnn.tensor(y), margin=-0.5), (t64(a), t64(b))
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("swap", [False, True])
def test_triplet_margin_loss_matches_torch(reduction, swap, rng):
    torch = _torch()
    a, p, n = (rng.standard_normal((5, 3)) for _ in range(3))
    _parity(
        lambda *t: F.triplet_margin_loss(*t, margin=1.5, swap=swap, reduction=reduction),
        lambda *t: torch.nn.functional.triplet_margin_loss(
            *t, margin=1.5, swap=swap, reduction=reduction
        ),
        [a, p, n],
        [True, True, True],
    )
    assert gradcheck(
        lambda *t: F.triplet_margin_loss(*t, margin=3.0, swap=swap), (t64(a), t64(p), t64(n))
    )


def test_cosine_similarity_and_pairwise_distance_match_torch(rng):
    torch = _torch()
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    _parity(
        lambda p, q: F.cosine_similarity(p, q),
        lambda p, q: torch.nn.functional.cosine_similarity(p, q),
        [a, b],
        [True, True],
    )
    _parity(
        lambda p, q: F.pairwise_distance(p, q),
        lambda p, q: torch.nn.functional.pairwise_distance(p, q),
        [a, b],
        [True, True],
    )


def test_contrastive_loss(rng):
    a, b = rng.standard_normal((6, 3)), rng.standard_normal((6, 3))
    y = np.array([1, 0, 1, 0, 0, 1], dtype=np.float64)
    d = np.linalg.norm(a - b + 1e-6, axis=1)
    ref = 0.5 * (y * d**2 + (1 - y) * np.maximum(2.0 - d, 0) ** 2)
    out = F.contrastive_loss(t64(a), t64(b), fastnn.tensor(y), margin=2.0, reduction="none")
    np.testing.assert_allclose(out.detach().numpy(), ref, rtol=1e-12)
    np.testing.assert_allclose(
        F.contrastive_loss(t64(a), t64(b), fastnn.tensor(y), margin=2.0).item(),
        ref.mean(),
        rtol=1e-12,
    )
    assert gradcheck(
        lambda p, q: F.contrastive_loss(p, q, fastnn.tensor(y), margin=2.0), (t64(a), t64(b))
    )


# ---- CTC ---------------------------------------------------------------------------------------


def _ctc_inputs(rng, T=8, N=3, C=5, lengths=(3, 1, 2), in_lengths=(8, 6, 7)):
    logits = rng.standard_normal((T, N, C))
    targets = np.zeros((N, max(lengths)), dtype=np.int64)
    for n, s in enumerate(lengths):
        targets[n, :s] = rng.integers(1, C, s)
    targets[0, :2] = [2, 2]  # a repeated label needs a blank between
    return logits, targets, np.array(in_lengths), np.array(lengths)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("concatenated", [False, True])
def test_ctc_loss_matches_torch(reduction, concatenated, rng):
    torch = _torch()
    logits, targets, il, tl = _ctc_inputs(rng)
    if concatenated:
        targets = np.concatenate([targets[n, : tl[n]] for n in range(len(tl))])

    def ours(x, t):
        return F.ctc_loss(
            F.log_softmax(x, dim=2), t, fastnn.tensor(il), fastnn.tensor(tl), reduction=reduction
        )

    def theirs(x, t):
        return torch.nn.functional.ctc_loss(
            torch.log_softmax(x, 2), t, torch.tensor(il), torch.tensor(tl), reduction=reduction
        )

    _parity(ours, theirs, [logits, targets], [True, False], atol=1e-9)


def test_ctc_loss_gradcheck_and_brute_force(rng):
    logits, targets, il, tl = _ctc_inputs(rng, T=4, N=2, C=3, lengths=(2, 1), in_lengths=(4, 3))
    lp = t64(logits)
    assert gradcheck(
        lambda x: F.ctc_loss(x.log_softmax(2), fastnn.tensor(targets), il, tl, reduction="sum"),
        (lp,),
    )
    assert gradcheck(
        lambda x: F.ctc_loss(x, fastnn.tensor(targets), il, tl, reduction="none"),
        (t64(np.log(rng.dirichlet(np.ones(3), size=(4, 2)))),),
    )
    # brute force: sum over all alignments of sample 1 (T=3, target [l])
    import itertools

    p = np.exp(logits[:3, 1] - np.log(np.exp(logits[:3, 1]).sum(1, keepdims=True)))
    total = 0.0
    for path in itertools.product(range(3), repeat=3):
        collapsed = [k for i, k in enumerate(path) if k != 0 and (i == 0 or path[i - 1] != k)]
        if collapsed == list(targets[1, :1]):
            total += np.prod([p[t, k] for t, k in enumerate(path)])
    out = F.ctc_loss(lp.log_softmax(2), fastnn.tensor(targets), il, tl, reduction="none")
    np.testing.assert_allclose(out[1].item(), -np.log(total), rtol=1e-10)


def test_ctc_zero_infinity_and_bad_targets(rng):
    logits = rng.standard_normal((2, 1, 4))  # T=2 cannot emit 3 labels
    lp = t64(logits)
    out = F.ctc_loss(lp.log_softmax(2), fastnn.tensor([[1, 2, 3]]), [2], [3], reduction="sum")
    assert np.isinf(out.item())
    lp.grad = None
    z = F.ctc_loss(lp.log_softmax(2), fastnn.tensor([[1, 2, 3]]), [2], [3], zero_infinity=True)
    z.backward()
    assert z.item() == 0.0 and (lp.grad.numpy() == 0).all()
    with pytest.raises(RuntimeError, match="blank"):
        F.ctc_loss(lp.log_softmax(2), fastnn.tensor([[0]]), [2], [1])


# ---- GAN -------------------------------------------------------------------------------------


def test_gan_losses(rng):
    real, fake = rng.standard_normal(6), rng.standard_normal(6)
    sig = lambda v: 1 / (1 + np.exp(-v))
    g = F.gan_generator_loss(t64(fake))
    np.testing.assert_allclose(g.item(), -np.log(sig(fake)).mean(), rtol=1e-12)
    d = F.gan_discriminator_loss(t64(real), t64(fake))
    np.testing.assert_allclose(
        d.item(), -(np.log(sig(real)) + np.log(1 - sig(fake))).mean(), rtol=1e-12
    )
    assert gradcheck(lambda r, f: F.gan_discriminator_loss(r, f), (t64(real), t64(fake)))
    assert gradcheck(lambda f: F.gan_generator_loss(f), (t64(fake),))


def test_cross_entropy_accepts_uint8_labels_like_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    z = rng.standard_normal((6, 4)).astype(np.float32)
    t = rng.integers(0, 4, 6).astype(np.uint8)
    got = fastnn.nn.functional.cross_entropy(fastnn.tensor(z), fastnn.from_numpy(t)).item()
    want = torch.nn.functional.cross_entropy(torch.from_numpy(z), torch.from_numpy(t)).item()
    assert abs(got - want) < 1e-6
