"""CIFAR-10 training programs and the classic tutorial scripts, run with only their imports
changed: small networks built from the same constructs (residual shortcuts, separable and grouped
convolutions, channel shuffles, squeeze-excitation gates, dense concatenations), trained by the
SGD + weight decay + cosine schedule loop those programs use; the older API spellings the scripts
still call (size_average, the un-suffixed nn.init names, pretrained=, float layer widths); the
transforms they build; the node names their printed outputs show; and the exception types of
the mistakes they make."""

import importlib
import warnings

import numpy as np
import pytest

import fastnn
import fastnn.vision.transforms as T

torch = pytest.importorskip("torch")


def _F(lib):
    return importlib.import_module(lib.__name__ + ".nn.functional")


# ---- a network mixing the CIFAR model families' building blocks ------------------------------


def _cifar_net(lib):
    nn, F = lib.nn, _F(lib)

    class Residual(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.shortcut = nn.Sequential()
            if stride != 1 or cin != cout:
                self.shortcut = nn.Sequential(
                    nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
                )

        def forward(self, x):
            y = F.relu(self.bn1(self.conv1(x)))
            return F.relu(self.bn2(self.conv2(y)) + self.shortcut(x))

    class ShuffleSE(nn.Module):
        """Grouped 1x1, channel shuffle, depthwise 3x3, then a squeeze-excitation gate."""

        def __init__(self, c, groups):
            super().__init__()
            self.groups = groups
            self.pw = nn.Conv2d(c, c, 1, groups=groups, bias=False)
            self.bn = nn.BatchNorm2d(c)
            self.dw = nn.Conv2d(c, c, 3, padding=1, groups=c, bias=False)
            self.bn_dw = nn.BatchNorm2d(c)
            self.fc1 = nn.Conv2d(c, c // 2, 1)
            self.fc2 = nn.Conv2d(c // 2, c, 1)

        def forward(self, x):
            y = F.relu(self.bn(self.pw(x)))
            n, c, h, w = y.size()
            y = y.view(n, self.groups, c // self.groups, h, w).permute(0, 2, 1, 3, 4)
            y = y.reshape(n, c, h, w)
            y = self.bn_dw(self.dw(y))
            g = F.avg_pool2d(y, y.size(2))
            g = F.relu(self.fc1(g))
            return F.relu(y * self.fc2(g).sigmoid() + x)

    class Dense(nn.Module):
        def __init__(self, c, growth):
            super().__init__()
            self.bn = nn.BatchNorm2d(c)
            self.conv = nn.Conv2d(c, growth, 3, padding=1, bias=False)

        def forward(self, x):
            return lib.cat([self.conv(F.relu(self.bn(x))), x], 1)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 1, 1, bias=False), nn.BatchNorm2d(8))
            self.layer1 = nn.Sequential(Residual(8, 8, 1), Residual(8, 12, 2))
            self.mix = ShuffleSE(12, groups=2)
            self.dense = Dense(12, 4)
            self.pool = nn.MaxPool2d(2)
            self.linear = nn.Linear(16, 10)

        def forward(self, x):
            out = F.relu(self.stem(x))
            out = self.pool(self.dense(self.mix(self.layer1(out))))
            out = F.adaptive_avg_pool2d(out, (1, 1))
            out = F.dropout(out.view(out.size(0), -1), p=0.3, training=False)
            return self.linear(out)

    return Net()


def _train_cifar(lib, state, x, y, steps=3):
    lib.set_default_dtype(lib.float64)
    try:
        net = _cifar_net(lib)
        net.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
        opt = lib.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
        sched = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=200)
        crit = lib.nn.CrossEntropyLoss()
        logits, losses, correct = [], [], 0
        for _ in range(steps):
            net.train()
            opt.zero_grad()
            out = net(lib.tensor(x))
            loss = crit(out, lib.tensor(y))
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
            logits.append(out.detach().numpy())
            _, predicted = out.max(1)
            correct += predicted.eq(lib.tensor(y)).sum().item()
        grads = [p.grad.numpy() for p in net.parameters()]
        net.eval()
        with lib.no_grad():
            ev = net(lib.tensor(x)).numpy()
        sd = {k: v.numpy() for k, v in net.state_dict().items()}
        return logits, losses, correct, grads, ev, sd, opt.param_groups[0]["lr"]
    finally:
        lib.set_default_dtype(lib.float32)


def test_cifar_blocks_train_like_torch_in_float64():
    torch.manual_seed(0)
    torch.set_default_dtype(torch.float64)
    try:
        state = {k: v.numpy().copy() for k, v in _cifar_net(torch).state_dict().items()}
    finally:
        torch.set_default_dtype(torch.float32)
    assert list(state) == list(_cifar_net(fastnn).state_dict())
    rng = np.random.RandomState(0)
    x, y = rng.randn(4, 3, 16, 16), rng.randint(0, 10, 4)
    ours, ref = _train_cifar(fastnn, state, x, y), _train_cifar(torch, state, x, y)
    for a, b in zip(ours[0], ref[0]):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(ours[1], ref[1], rtol=1e-10)
    assert ours[2] == ref[2]
    for a, b in zip(ours[3], ref[3]):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(ours[4], ref[4], rtol=1e-8, atol=1e-10)
    assert list(ours[5]) == list(ref[5])
    for k in ref[5]:  # running statistics and num_batches_tracked included
        np.testing.assert_allclose(ours[5][k], ref[5][k], rtol=1e-8, atol=1e-10, err_msg=k)
    assert ours[6] == pytest.approx(ref[6], rel=1e-14)


# ---- a layer width computed with true division is refused as torch refuses it ----------------


@pytest.mark.parametrize(
    "build",
    [
        lambda lib: lib.nn.Conv2d(24, 24 / 4, 1),
        lambda lib: lib.nn.Conv2d(6.0, 4, 1),
        lambda lib: lib.nn.Conv2d(4, 4, 1, groups=2.0),
        lambda lib: lib.nn.Conv1d(2, 3.0, 1),
        lambda lib: lib.nn.ConvTranspose2d(2, 3.0, 1),
        lambda lib: lib.nn.Linear(8, 10 / 2),
        lambda lib: lib.nn.BatchNorm2d(16 / 2),
        lambda lib: lib.nn.BatchNorm1d(2.5),
        lambda lib: lib.nn.GroupNorm(2, 4.0),
        lambda lib: lib.nn.Embedding(10.0, 3),
        lambda lib: lib.nn.PReLU(2.0),
        lambda lib: lib.nn.AdaptiveAvgPool2d(1.0)(lib.zeros(1, 2, 4, 4)),
        lambda lib: lib.nn.functional.adaptive_max_pool2d(lib.zeros(1, 2, 4, 4), (2, 2.0)),
    ],
)
def test_float_layer_sizes_raise_type_error(build):
    with pytest.raises(TypeError):
        build(torch)
    with pytest.raises(TypeError):
        build(fastnn)


# ---- transforms.Pad (the residual-network tutorial pads, flips, then crops) ------------------


def test_pad_transform_on_arrays_images_and_tensors():
    img = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    out = T.Pad(2)(img)
    assert out.dtype == np.uint8 and out.shape == (6, 7, 3)
    np.testing.assert_array_equal(out, np.pad(img, ((2, 2), (2, 2), (0, 0))))
    out = T.Pad((1, 2), fill=(7, 8, 9))(img)  # left/right 1, top/bottom 2
    assert out.shape == (6, 5, 3) and out[0, 0].tolist() == [7, 8, 9]
    out = T.Pad([1, 0, 2, 1], padding_mode="reflect")(img)
    np.testing.assert_array_equal(out, np.pad(img, ((0, 1), (1, 2), (0, 0)), mode="reflect"))
    out = T.Pad(1, padding_mode="edge")(img[..., 0])
    np.testing.assert_array_equal(out, np.pad(img[..., 0], 1, mode="edge"))

    chw = np.moveaxis(img, -1, 0).astype(np.float32)
    t = T.Pad(1, padding_mode="symmetric")(fastnn.tensor(chw))
    np.testing.assert_array_equal(t.numpy(), np.pad(chw, ((0, 0), (1, 1), (1, 1)), "symmetric"))

    pil = pytest.importorskip("PIL.Image")
    im = T.Pad(3)(pil.fromarray(img))
    assert isinstance(im, pil.Image) and im.size == (9, 8)

    assert repr(T.Pad(4)) == "Pad(padding=4, fill=0, padding_mode=constant)"
    with pytest.raises(ValueError, match="1, 2, or 4 element"):
        T.Pad((1, 2, 3))
    with pytest.raises(TypeError):
        T.Pad("4")
    with pytest.raises(ValueError, match="Padding mode"):
        T.Pad(1, padding_mode="wrap")

    fastnn.manual_seed(0)
    pipe = T.Compose([T.Pad(4), T.RandomHorizontalFlip(), T.RandomCrop(32), T.ToTensor()])
    x = pipe(np.full((32, 32, 3), 255, np.uint8))
    assert x.shape == (3, 32, 32) and x.dtype == fastnn.float32
    assert 0.0 <= float(x.min()) and float(x.max()) == 1.0


def test_normalize_keeps_its_arguments():
    # programs undo the normalisation from the transform's own mean and std
    mean, std = (0.4914, 0.4822, 0.4465), [0.2023, 0.1994, 0.2010]
    n = T.Normalize(mean, std)
    assert n.mean is mean and n.std is std
    assert repr(n) == "Normalize(mean=(0.4914, 0.4822, 0.4465), std=[0.2023, 0.1994, 0.201])"
    m = fastnn.tensor(n.mean).view(3, 1, 1)
    assert m.dtype == _same_dtype(torch.tensor(mean).dtype)
    x = fastnn.rand(3, 4, 4)
    back = n(x) * fastnn.tensor(n.std).view(3, 1, 1) + m
    np.testing.assert_allclose(back.numpy(), x.numpy(), rtol=1e-5, atol=1e-6)


def _same_dtype(dt):
    """fastnn's dtype of the name of torch's ``dt``."""
    return getattr(fastnn, str(dt).split(".")[1])


# ---- size_average / reduce: the variational autoencoder's summed reconstruction loss ---------


def _legacy_losses(lib):
    F, nn = _F(lib), lib.nn
    p = lib.tensor([[0.2, 0.7, 0.9], [0.5, 0.1, 0.3]])
    t = lib.tensor([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    logits = lib.tensor([[1.0, -2.0, 0.5], [0.3, 0.2, -1.0]])
    labels = lib.tensor([2, 0])
    w = lib.tensor([1.0, 2.0, 0.5])
    return [
        F.binary_cross_entropy(p, t, size_average=False),
        F.binary_cross_entropy(p, t, reduce=False),
        F.binary_cross_entropy_with_logits(logits, t, size_average=False),
        F.mse_loss(p, t, size_average=False),
        F.l1_loss(p, t, reduce=False, size_average=True),
        F.smooth_l1_loss(p, t, size_average=False),
        F.cross_entropy(logits, labels, size_average=False),
        F.nll_loss(F.log_softmax(logits, 1), labels, reduce=False),
        F.kl_div(F.log_softmax(logits, 1), p.softmax(1), size_average=False),
        F.margin_ranking_loss(p[0], p[1], lib.tensor([1.0, -1.0, 1.0]), size_average=False),
        F.hinge_embedding_loss(p, t * 2 - 1, size_average=False),
        nn.MSELoss(size_average=False)(p, t),
        nn.L1Loss(reduce=False)(p, t),
        nn.BCELoss(w, False)(p, t),  # the old positional order: weight, size_average
        nn.BCEWithLogitsLoss(size_average=False)(logits, t),
        nn.CrossEntropyLoss(w, None, 1)(logits, labels),  # weight, size_average, ignore_index
        nn.CrossEntropyLoss(size_average=False)(logits, labels),
        nn.NLLLoss(None, False)(F.log_softmax(logits, 1), labels),
        nn.KLDivLoss(size_average=False)(F.log_softmax(logits, 1), p.softmax(1)),
        nn.SmoothL1Loss(False)(p, t),
        nn.HingeEmbeddingLoss(size_average=False)(p, t * 2 - 1),
        nn.MarginRankingLoss(reduce=False)(p[0], p[1], lib.tensor([1.0, -1.0, 1.0])),
        nn.SoftMarginLoss(size_average=False)(p, t * 2 - 1),
        nn.TripletMarginLoss(1.0, 2.0, 1e-6, False, False)(p, t, p.flip(0)),
    ]


def test_size_average_and_reduce_match_torch():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = _legacy_losses(fastnn)
    assert sum("size_average and reduce args will be deprecated" in str(w.message) for w in caught)
    assert {w.category for w in caught} == {UserWarning}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = _legacy_losses(torch)
    assert len(ours) == len(ref)
    for i, (a, b) in enumerate(zip(ours, ref)):
        assert tuple(a.shape) == tuple(b.shape), i
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, err_msg=str(i))
    for lib in (fastnn, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert lib.nn.MSELoss(size_average=False).reduction == "sum"
            assert lib.nn.NLLLoss(reduce=False, size_average=False).reduction == "none"
            assert lib.nn.CrossEntropyLoss(None, None, 3).ignore_index == 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning without the legacy arguments
        fastnn.nn.MSELoss(reduction="sum")
        _F(fastnn).mse_loss(fastnn.zeros(2), fastnn.ones(2))


# ---- the un-suffixed nn.init names of older scripts --------------------------------------------


@pytest.mark.parametrize(
    "name, args, kwargs",
    [
        ("kaiming_normal", (), {"mode": "fan_out"}),
        ("kaiming_uniform", (), {}),
        ("xavier_uniform", (), {"gain": 2.0}),
        ("xavier_normal", (), {}),
        ("normal", (), {"std": 1e-3}),
        ("uniform", (-0.1, 0.1), {}),
        ("constant", (0.25,), {}),
        ("orthogonal", (), {}),
        ("eye", (), {}),
        ("sparse", (0.25,), {}),
    ],
)
def test_deprecated_init_names_warn_and_fill(name, args, kwargs):
    results = []
    for lib in (fastnn, torch):
        w = lib.empty(64, 32)
        with pytest.warns(FutureWarning, match=f"nn.init.{name}` is now deprecated"):
            out = getattr(lib.nn.init, name)(w, *args, **kwargs)
        assert out is w
        results.append(w.numpy().copy())
    ours, ref = results
    if name == "constant":
        np.testing.assert_array_equal(ours, ref)
    elif name == "eye":
        np.testing.assert_array_equal(ours, np.eye(64, 32, dtype=np.float32))
        np.testing.assert_array_equal(ours, ref)
    elif name == "sparse":  # a quarter of each column's 64 rows zeroed
        assert ((ours == 0).sum(0) == 16).all() and ((ref == 0).sum(0) == 16).all()
        assert ours[ours != 0].std() == pytest.approx(ref[ref != 0].std(), rel=0.15)
    elif name == "orthogonal":
        np.testing.assert_allclose(ours.T @ ours, np.eye(32), atol=1e-5)
    else:  # random fills: the spread must be torch's
        assert ours.std() == pytest.approx(ref.std(), rel=0.15)
        assert abs(ours.mean()) < 4 * ref.std() / np.sqrt(ours.size)


# ---- printed outputs: a model's logits and its loss show torch's node names ------------------


def _named_results(lib):
    F, nn = _F(lib), lib.nn
    lib.manual_seed(0)
    x = lib.randn(2, 3, 4, 4, requires_grad=True)
    m = lib.randn(2, 3, requires_grad=True)
    s = lib.randn(3, 3, requires_grad=True)
    seq = lib.randn(2, 5, 3)
    logits = nn.Linear(3, 4)(m)
    loss = F.cross_entropy(logits, lib.tensor([0, 3]))
    return {
        "linear": logits,
        "linear_no_bias": nn.Linear(3, 4, bias=False)(m),
        "linear_3d": nn.Linear(3, 4)(seq),
        "cross_entropy": loss,
        "cross_entropy_probs": F.cross_entropy(m, m.detach().softmax(1)),
        "cross_entropy_sum_probs": F.cross_entropy(m, m.detach().softmax(1), reduction="sum"),
        "nll_loss": F.nll_loss(F.log_softmax(m, 1), lib.tensor([0, 1])),
        "view": x.view(2, -1),
        "flatten": x.flatten(1),
        "mean_dim": x.mean(1),
        "sum_dim": x.sum((2, 3)),
        "sum": x.sum(),
        "avg_pool": F.avg_pool2d(x, 2),
        "adaptive_1": F.adaptive_avg_pool2d(x, 1),
        "leaky_relu": F.leaky_relu(m, 0.2),
        "gelu": F.gelu(m),
        "silu": F.silu(m),
        "elu": F.elu(m),
        "prelu": nn.PReLU()(m),
        "clamp": m.clamp(0, 1),
        "t": m.t(),
        "transpose": x.transpose(1, 2),
        "permute": x.permute(0, 2, 3, 1),
        "contiguous": x.transpose(1, 2).contiguous(),
        "squeeze": x[:, :1].squeeze(1),
        "squeeze_all": x[:, :1].squeeze(),
        "unsqueeze": m.unsqueeze(1),
        "select": x[:, -1, :],
        "select_first": m[0],
        "slice": m[:, :2],
        "index": m[lib.tensor([1, 0])],
        "mm": m @ s,
        "bmm": lib.bmm(x.view(2, 3, 16), x.view(2, 16, 3)),
        "lstm_batch_first": nn.LSTM(3, 4, batch_first=True)(seq)[0],
        "dropout": nn.Dropout(0.5)(m),
        "relu": F.relu(m),
        "sigmoid": m.sigmoid(),
        "cat": lib.cat([m, m], 1),
        "std": m.std(1),
        "masked_fill": m.masked_fill(m > 0, 0.0),
        "pad": F.pad(x, (1, 1, 2, 0)),
        "smooth_l1": F.smooth_l1_loss(m, lib.ones(2, 3)),
        "smooth_l1_none": F.smooth_l1_loss(m, lib.ones(2, 3), reduction="none"),
    }


def test_grad_fn_names_match_torch():
    ours, ref = _named_results(fastnn), _named_results(torch)
    assert list(ours) == list(ref)
    for key in ref:
        assert ours[key].grad_fn.name() == ref[key].grad_fn.name(), key
    # printed as programs print them, and still so after backward has freed the graph
    for res in (ours, ref):
        res["cross_entropy"].backward()
        res["select"].sum().backward()
    for key in ("linear", "cross_entropy", "select"):
        tail = repr(ref[key]).rsplit("grad_fn=", 1)[1]
        assert repr(ours[key]).rsplit("grad_fn=", 1)[1] == tail, key
    assert repr(ours["cross_entropy"].grad_fn).startswith("<NllLossBackward0 object at ")


# ---- mistakes programs make, refused with torch's exception types ------------------------------


@pytest.mark.parametrize(
    "call, kind",
    [
        (lambda L: _F(L).cross_entropy(L.zeros(2, 3), L.tensor([0, 1], dtype=L.int32)), "Int"),
        (lambda L: _F(L).nll_loss(L.zeros(2, 3), L.tensor([0, 1], dtype=L.int16)), "Short"),
        (lambda L: L.nn.BCELoss()(L.rand(4), L.tensor([0, 1, 1, 0])), "Long"),
        (lambda L: _F(L).binary_cross_entropy(L.rand(2), L.ones(2, dtype=L.float64)), "Double"),
        (lambda L: _F(L).adaptive_avg_pool2d(L.zeros(1, 1, 4, 4), -1), "greater than or equal"),
    ],
)
def test_bad_targets_and_sizes_raise_runtime_error(call, kind):
    for lib in (torch, fastnn):
        with pytest.raises(RuntimeError, match=kind):
            call(lib)


def test_accepted_target_dtypes_match_torch():
    logits = np.random.RandomState(0).randn(3, 4).astype(np.float32)
    for dt in ("uint8", "int64"):
        got, want = (
            _F(lib).cross_entropy(lib.tensor(logits), lib.tensor(np.array([3, 0, 1], dt))).item()
            for lib in (fastnn, torch)
        )
        assert got == pytest.approx(want, rel=1e-6)
    for lib in (torch, fastnn):
        with pytest.raises(ValueError, match="non-empty list"):
            lib.cat([])


# ---- the older model-builder spelling: models.resnet152(pretrained=...) ------------------------


def test_pretrained_argument_warns_as_torchvision():
    from fastnn.vision import models

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        net = models.resnet18(pretrained=False)
    assert {w.category for w in caught} == {UserWarning}
    messages = [str(w.message) for w in caught]
    assert any("'pretrained' is deprecated" in m for m in messages)
    assert any("equivalent to passing `weights=None`" in m for m in messages)
    assert net.fc.in_features == 512
    with (
        pytest.warns(UserWarning, match="'pretrained' is deprecated"),
        pytest.raises(ValueError, match="pretrained"),  # nothing to download
    ):
        models.vgg19(pretrained=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        models.resnet18(weights=None)


@pytest.mark.parametrize("shape, groups", [((4, 2, 3, 3), 1), ((6, 3, 5), 2), ((4, 4, 3, 3, 3), 2)])
def test_dirac_matches_torch(shape, groups):
    ours = fastnn.nn.init.dirac_(fastnn.empty(*shape), groups).numpy()
    np.testing.assert_array_equal(ours, torch.nn.init.dirac_(torch.empty(*shape), groups).numpy())
    with pytest.warns(FutureWarning, match="nn.init.dirac` is now deprecated"):
        fastnn.nn.init.dirac(fastnn.empty(*shape), groups)
    for lib in (torch, fastnn):
        with pytest.raises(ValueError, match="divisible by groups"):
            lib.nn.init.dirac_(lib.empty(3, 2, 3), groups=2)
        with pytest.raises(ValueError, match="3, 4, or 5 dimensions"):
            lib.nn.init.dirac_(lib.empty(3, 3))
