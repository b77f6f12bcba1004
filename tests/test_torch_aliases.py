"""torch's top-level twins of nn.functional (torch.conv2d, torch.batch_norm, torch.kl_div, ...)
and the in-place top-level forms (torch.relu_): signatures, values and gradients against torch;
the argument-order and default checks also run without torch."""

import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F

RNG = np.random.default_rng(7)


def _r(*shape, low=-1.0, high=1.0):
    return RNG.uniform(low, high, shape).astype(np.float64)


class _Stat:
    """A running statistic: a tensor argument that must not require grad."""

    def __init__(self, array):
        self.array = array


# (name, args builder) each arg a numpy array (becomes a tensor requiring grad if float) or a
# plain value passed through; called positionally on both libraries.
X3 = _r(2, 4, 9)
X4 = _r(2, 4, 6, 6)
X5 = _r(2, 2, 4, 4, 4)
W1 = _r(3, 4, 3)
W2 = _r(3, 4, 3, 3)
WT1 = _r(4, 3, 3)
WT2 = _r(4, 3, 3, 3)
B3 = _r(3)
C4 = _r(4)
POS4 = _r(4, low=0.5, high=1.5)
P26 = _r(2, 6, low=0.05, high=0.95)
A26, B26 = _r(2, 6), _r(2, 6)
SIGN2 = np.array([1.0, -1.0])
SIGN26 = np.where(_r(2, 6) > 0, 1.0, -1.0)

CASES = {
    "conv1d": (X3, W1, B3, 2, 1, 1, 1),
    "conv2d": (X4, W2, B3, 1, 1),
    "conv_transpose1d": (X3, WT1, B3, 2, 1, 1),
    "conv_transpose2d": (X4, WT2, None, 2, 1, 1),
    "max_pool1d": (X3, 3, 2, 1),
    "max_pool2d": (X4, 2),
    "max_pool3d": (X5, 2, 2, 0, 1, True),
    "avg_pool1d": (X3, 3, 2, 1, False, False),
    "adaptive_avg_pool1d": (X3, 4),
    "batch_norm": (X4, C4, C4, _Stat(np.zeros(4)), _Stat(np.ones(4)), True, 0.1, 1e-5, False),
    "instance_norm": (X4, C4, C4, None, None, True, 0.1, 1e-5, False),
    "layer_norm": (X4, (6, 6), None, None, 1e-3, True),
    "group_norm": (X4, 2, C4, C4, 1e-5, True),
    "rms_norm": (X4, (6,), _r(6), 1e-6),
    "pixel_shuffle": (X4, 2),
    "pixel_unshuffle": (X4, 2),
    "channel_shuffle": (X4, 2),
    "cosine_similarity": (A26, B26, 1, 1e-8),
    "pairwise_distance": (A26, B26, 3.0, 1e-6, True),
    "pdist": (_r(5, 3), 2),
    "kl_div": (np.log(P26), P26[::-1].copy()),
    "binary_cross_entropy_with_logits": (A26, P26, None, _Stat(_r(6, low=0.5, high=2))),
    "margin_ranking_loss": (A26, B26, SIGN26, 0.3, 2),
    "hinge_embedding_loss": (A26, SIGN26, 0.5, 1),
    "triplet_margin_loss": (A26, B26, _r(2, 6), 1.0, 2.0, 1e-6, True),
    "cosine_embedding_loss": (A26, B26, SIGN2, 0.1),
    "poisson_nll_loss": (A26, P26, True, True, 1e-8, 1),
    "celu": (A26, 0.7),
    "selu": (A26,),
    "rrelu": (A26,),
    "prelu": (X4, POS4),
    "hardshrink": (A26, 0.3),
    "threshold": (A26, 0.1, -2.0),
    "bilinear": (_r(3, 4), _r(3, 5), _r(2, 4, 5), _r(2)),
    "constant_pad_nd": (X3, (1, 2, 0, 1), 0.5),
    "dropout": (A26, 0.5, False),
    "alpha_dropout": (A26, 0.5, False),
    "feature_alpha_dropout": (X4, 0.5, False),
    "feature_dropout": (X4, 0.5, False),
}


def _args(lib, args):
    out = []
    for a in args:
        if isinstance(a, _Stat):
            a = lib.tensor(a.array, dtype=lib.float64)
        elif isinstance(a, np.ndarray):
            a = lib.tensor(a, dtype=lib.float64, requires_grad=True)
        out.append(a)
    return out


def _first(result):
    return result[0] if isinstance(result, tuple) else result


def test_every_name_is_exported_and_callable():
    for name in CASES:
        assert name in fastnn.__all__ and callable(getattr(fastnn, name)), name


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name):
    torch = pytest.importorskip("torch")
    ours_args, theirs_args = _args(fastnn, CASES[name]), _args(torch, CASES[name])
    ours = _first(getattr(fastnn, name)(*ours_args))
    theirs = _first(getattr(torch, name)(*theirs_args))
    assert tuple(ours.shape) == tuple(theirs.shape), name
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), 1e-9, 1e-10)
    # gradients of every float input, through a weighting that is not all ones
    g = np.asarray(RNG.uniform(0.5, 1.5, tuple(theirs.shape)))
    (ours * fastnn.tensor(g)).sum().backward()
    (theirs * torch.tensor(g)).sum().backward()
    for a, b in zip(ours_args, theirs_args):
        if isinstance(b, torch.Tensor) and b.grad is not None:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), 1e-8, 1e-10)


def test_embedding_takes_the_weight_first():
    w = fastnn.tensor(_r(5, 3))
    idx = fastnn.tensor([[0, 4], [2, 2]])
    np.testing.assert_array_equal(fastnn.embedding(w, idx).numpy(), F.embedding(idx, w).numpy())
    torch = pytest.importorskip("torch")
    w2 = torch.tensor(w.numpy(), requires_grad=True)
    w1 = fastnn.tensor(w.numpy(), requires_grad=True)
    fastnn.embedding(w1, idx, 2).sum().backward()
    torch.embedding(w2, torch.tensor(idx.numpy()), 2).sum().backward()
    np.testing.assert_array_equal(w1.grad.numpy(), w2.grad.numpy())
    assert w1.grad.numpy()[2].sum() == 0  # the padding row gets no gradient


def test_adaptive_max_pool1d_returns_values_and_indices():
    x = fastnn.tensor([[[1.0, 5.0, 2.0, 3.0]]])
    values, indices = fastnn.adaptive_max_pool1d(x, 2)
    assert values.tolist() == [[[5.0, 3.0]]] and indices.tolist() == [[[1, 3]]]


def test_batch_norm_order_is_weight_bias_then_running_stats():
    x = fastnn.tensor(X4)
    w, b = fastnn.tensor(POS4), fastnn.tensor(C4)
    mean, var = fastnn.tensor(_r(4)), fastnn.tensor(POS4)
    got = fastnn.batch_norm(x, w, b, mean, var, False, 0.1, 1e-5, True)
    want = F.batch_norm(x, mean, var, w, b, False, 0.1, 1e-5)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_losses_are_unreduced_by_default_and_take_int_reductions():
    a, b = fastnn.tensor(A26), fastnn.tensor(B26)
    t = fastnn.tensor(SIGN26)
    assert fastnn.margin_ranking_loss(a, b, t).shape == (2, 6)
    mean = fastnn.margin_ranking_loss(a, b, t, 0.0, 1)
    total = fastnn.margin_ranking_loss(a, b, t, 0.0, 2)
    assert mean.ndim == 0 and abs(total.item() - 12 * mean.item()) < 1e-12
    with pytest.raises(ValueError, match="reduction"):
        fastnn.margin_ranking_loss(a, b, t, 0.0, 3)


def test_dropout_needs_train_and_feature_dropout_drops_whole_channels():
    x = fastnn.ones(4, 8, 5)
    with pytest.raises(TypeError):
        fastnn.dropout(x, 0.5)  # train is required, as in torch
    assert fastnn.dropout(x, 0.5, False) is x or fastnn.equal(fastnn.dropout(x, 0.5, False), x)
    fastnn.manual_seed(0)
    y = fastnn.feature_dropout(x, 0.5, True).numpy()
    per_channel = y.reshape(32, 5)
    assert set(np.unique(per_channel)) <= {0.0, 2.0}
    assert (per_channel.min(1) == per_channel.max(1)).all()  # a channel is kept or dropped whole
    assert 0 < (per_channel[:, 0] == 0).sum() < 32
    with pytest.raises(ValueError, match="shape"):
        fastnn.feature_dropout(fastnn.ones(5), 0.5, True)


def test_max_pool_empty_stride_means_kernel_size():
    x = fastnn.tensor(X3)
    np.testing.assert_array_equal(fastnn.max_pool1d(x, 3, []).numpy(), F.max_pool1d(x, 3).numpy())


def test_inplace_forms_modify_and_return_their_input():
    x = fastnn.tensor([-1.5, 0.25, 2.0])
    assert fastnn.relu_(x) is x and x.tolist() == [0.0, 0.25, 2.0]
    assert fastnn.clamp_(x, 0.5, 1.0) is x and x.tolist() == [0.5, 0.5, 1.0]
    assert fastnn.fill_(x, 3.0) is x and x.tolist() == [3.0] * 3
    assert fastnn.zero_(x) is x and x.tolist() == [0.0] * 3
    y = fastnn.tensor([-1.0, 1.0])
    assert fastnn.threshold_(y, 0.0, 9.0) is y and y.tolist() == [9.0, 1.0]
    assert fastnn.selu_(y) is y
    with pytest.raises(TypeError, match="input"):
        fastnn.exp_([1.0])


MAT34, VEC4 = _r(3, 4), _r(4)


def test_inplace_forms_match_torch():
    torch = pytest.importorskip("torch")
    names = [n for n in fastnn._functional_aliases.__all__ if n.endswith("_")]
    args = {
        "addmv_": lambda lib: (lib.tensor(MAT34), lib.tensor(VEC4)),
        "clamp_": lambda lib: (-0.2, 0.3),
        "clamp_max_": lambda lib: (0.1,),
        "clamp_min_": lambda lib: (0.1,),
        "clip_": lambda lib: (-0.2, 0.3),
        "fill_": lambda lib: (2.5,),
        "ldexp_": lambda lib: (lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64),),
        "xlogy_": lambda lib: (lib.tensor([1.5, 2.0, 3.0], dtype=lib.float64),),
        "threshold_": lambda lib: (0.1, 7.0),
        "index_put_": lambda lib: (
            (lib.tensor([0, 2]),),
            lib.tensor([5.0, 6.0], dtype=lib.float64),
        ),
        "dropout_": lambda lib: (0.5, False),
        "alpha_dropout_": lambda lib: (0.5, False),
        "feature_alpha_dropout_": lambda lib: (0.5, False),
        "feature_dropout_": lambda lib: (0.5, False),
    }
    skipped = {"rrelu_"}  # random in training; its eval form is leaky_relu, checked via rrelu
    base = np.array([0.2, 0.45, 0.7])
    for name in sorted(set(names) - skipped):
        if not hasattr(torch, name):
            continue
        integer = name in ("gcd_", "lcm_")
        vals = np.array([4, 6, 9]) if integer else base
        extra = (fastnn.tensor([6, 4, 3]),) if integer else args.get(name, lambda lib: ())(fastnn)
        extra_t = (torch.tensor([6, 4, 3]),) if integer else args.get(name, lambda lib: ())(torch)
        if name in ("addmv_", "feature_dropout_", "feature_alpha_dropout_"):
            vals = np.ones((3, 2)) * 0.5 if name != "addmv_" else base
        if name in ("acosh_", "arccosh_"):
            vals = base + 1.0
        a, b = fastnn.tensor(vals), torch.tensor(vals)
        assert getattr(fastnn, name)(a, *extra) is a, name
        getattr(torch, name)(b, *extra_t)
        np.testing.assert_allclose(a.numpy(), b.numpy(), 1e-12, 1e-12, err_msg=name)


def test_bad_arguments_raise_clear_errors():
    x = fastnn.tensor(X3)
    with pytest.raises(ValueError, match="reduction"):
        fastnn.kl_div(x, x, "batchmean")
    with pytest.raises(TypeError):
        fastnn.batch_norm(x, None, None, None, None)  # torch's form takes all nine


def test_ctc_loss_matches_torch_unreduced_by_default():
    torch = pytest.importorskip("torch")
    logits = _r(6, 2, 4)
    targets = np.array([[1, 2, 1], [3, 1, 0]])
    lengths_in, lengths_target = (6, 5), (3, 2)
    results = []
    for lib in (fastnn, torch):
        x = lib.tensor(logits, dtype=lib.float64, requires_grad=True)
        log_probs = x.log_softmax(2)
        loss = lib.ctc_loss(log_probs, lib.tensor(targets), lengths_in, lengths_target)
        assert tuple(loss.shape) == (2,)
        (loss * lib.tensor([1.0, 2.0], dtype=lib.float64)).sum().backward()
        results.append((loss.detach().numpy(), x.grad.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-9, atol=1e-12)
