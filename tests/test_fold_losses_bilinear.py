"""F.unfold / F.fold (nn.Unfold / nn.Fold), MarginRankingLoss, HingeEmbeddingLoss and
nn.Bilinear against torch: outputs and gradients in float64, reprs, parameters and init bounds,
the refused inputs."""

import numpy as np
import pytest

import fastnn
from fastnn import nn

torch = pytest.importorskip("torch")
F, TF = fastnn.nn.functional, torch.nn.functional


def _both(rng, fn_f, fn_t, arrays, grad_idx):
    ts = [torch.tensor(a, requires_grad=i in grad_idx) for i, a in enumerate(arrays)]
    fs = [fastnn.tensor(a, requires_grad=i in grad_idx) for i, a in enumerate(arrays)]
    to, fo = fn_t(*ts), fn_f(*fs)
    np.testing.assert_allclose(fo.detach().numpy(), to.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(tuple(to.shape))
    to.backward(torch.tensor(g))
    fo.backward(fastnn.tensor(g))
    for i in grad_idx:
        np.testing.assert_allclose(fs[i].grad.numpy(), ts[i].grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "kw",
    [
        {"kernel_size": (2, 3)},
        {"kernel_size": 3, "dilation": 2, "padding": 1, "stride": (1, 2)},
        {"kernel_size": 2, "stride": 2},
        {"kernel_size": 1},
    ],
    ids=str,
)
def test_unfold_fold_match_torch(rng, kw):
    x = rng.standard_normal((2, 3, 5, 6))
    _both(rng, lambda a: F.unfold(a, **kw), lambda a: TF.unfold(a, **kw), [x], [0])
    _both(rng, lambda a: F.unfold(a, **kw), lambda a: TF.unfold(a, **kw), [x[0]], [0])
    cols = TF.unfold(torch.tensor(x), **kw).numpy()
    c = rng.standard_normal(cols.shape)
    _both(rng, lambda a: F.fold(a, (5, 6), **kw), lambda a: TF.fold(a, (5, 6), **kw), [c], [0])
    _both(rng, lambda a: F.fold(a, (5, 6), **kw), lambda a: TF.fold(a, (5, 6), **kw), [c[1]], [0])
    assert repr(nn.Unfold(**kw)) == repr(torch.nn.Unfold(**kw))
    assert repr(nn.Fold((5, 6), **kw)) == repr(torch.nn.Fold((5, 6), **kw))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_ranking_and_hinge_losses_match_torch(rng, reduction):
    x1, x2 = rng.standard_normal(17), rng.standard_normal(17)
    y = rng.choice([-1.0, 1.0], 17)
    for margin in (0.0, 0.7):
        _both(
            rng,
            lambda a, b, t: nn.MarginRankingLoss(margin, reduction=reduction)(a, b, t),
            lambda a, b, t: torch.nn.MarginRankingLoss(margin, reduction=reduction)(a, b, t),
            [x1, x2, y],
            [0, 1],
        )
        _both(
            rng,
            lambda a, t: nn.HingeEmbeddingLoss(margin, reduction=reduction)(a, t),
            lambda a, t: torch.nn.HingeEmbeddingLoss(margin, reduction=reduction)(a, t),
            [x1, np.where(np.arange(17) % 5 == 0, 0.0, y)],  # some targets neither 1 nor -1
            [0],
        )


def test_bilinear_matches_torch(rng):
    t = torch.nn.Bilinear(4, 3, 5).double()
    f = nn.Bilinear(4, 3, 5).double()
    assert repr(f) == repr(t)
    assert [(k, tuple(v.shape)) for k, v in f.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in t.state_dict().items()
    ]
    bound = 1 / np.sqrt(4)
    for p in (f.weight, f.bias):
        a = np.abs(p.detach().numpy())
        assert a.max() <= bound and a.max() > 0.5 * bound
    f.load_state_dict({k: fastnn.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    x1, x2 = rng.standard_normal((2, 6, 4)), rng.standard_normal((2, 6, 3))
    ts = [torch.tensor(a, requires_grad=True) for a in (x1, x2)]
    fs = [fastnn.tensor(a, requires_grad=True) for a in (x1, x2)]
    to, fo = t(*ts), f(*fs)
    np.testing.assert_allclose(fo.detach().numpy(), to.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(tuple(to.shape))
    to.backward(torch.tensor(g))
    fo.backward(fastnn.tensor(g))
    for a, b in zip(fs, ts):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=1e-12)
    for (_, fp), (_, tp) in zip(f.named_parameters(), t.named_parameters()):
        np.testing.assert_allclose(fp.grad.numpy(), tp.grad.numpy(), rtol=1e-12, atol=1e-12)


BAD = [
    (RuntimeError, "Only 3D or 4D input", lambda: F.unfold(fastnn.ones(2, 3), 2)),
    (RuntimeError, "is smaller than the kernel", lambda: F.unfold(fastnn.ones(1, 1, 2, 2), 3)),
    (
        RuntimeError,
        "divisible by the product of kernel_size",
        lambda: F.fold(fastnn.ones(1, 5, 4), (3, 3), 2),
    ),
    (
        RuntimeError,
        "the calculated number of sliding blocks 2 \\* 2 = 4, but got input.size\\(2\\)=5",
        lambda: F.fold(fastnn.ones(1, 4, 5), (3, 3), 2),
    ),
    (
        RuntimeError,
        "All input tensors should have same dimension",
        lambda: F.margin_ranking_loss(fastnn.ones(3), fastnn.ones(3), fastnn.ones(3, 1)),
    ),
    (
        RuntimeError,
        "do not match the weight",
        lambda: F.bilinear(fastnn.ones(2, 3), fastnn.ones(2, 3), fastnn.ones(5, 4, 3)),
    ),
]


@pytest.mark.parametrize("error, message, call", BAD)
def test_bad_arguments(error, message, call):
    with pytest.raises(error, match=message):
        call()
