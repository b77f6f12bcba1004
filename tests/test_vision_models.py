"""fastnn.vision.models: the ResNet family's layout (parameter counts, state-dict names), its
blocks against torch's functional ops, and the programs' patterns of swapping conv1 and
dropping fc."""

import numpy as np
import pytest

import fastnn
from conftest import assert_close
from fastnn.vision import models

torch = pytest.importorskip("torch")
TF = torch.nn.functional


@pytest.mark.parametrize(
    ("name", "params", "entries"), [("resnet18", 11689512, 122), ("resnet50", 25557032, 320)]
)
def test_resnet_sizes_and_state_dict_names(name, params, entries):
    m = getattr(models, name)()
    assert sum(p.numel() for p in m.parameters()) == params
    sd = m.state_dict()
    assert len(sd) == entries
    for key in ("conv1.weight", "bn1.running_mean", "layer2.0.downsample.0.weight", "fc.bias"):
        assert key in sd
    assert tuple(sd["fc.weight"].shape) == (1000, 512 * (4 if name == "resnet50" else 1))


def _t(p):
    return torch.tensor(p.detach().numpy())


def _bn(x, bn):
    return TF.batch_norm(x, _t(bn.running_mean), _t(bn.running_var), _t(bn.weight), _t(bn.bias))


def _conv(x, conv):
    return TF.conv2d(
        x, _t(conv.weight), None, conv.stride, conv.padding, conv.dilation, conv.groups
    )


def _randomize_bn(block, rng):
    for m in block.modules():
        if isinstance(m, fastnn.nn.BatchNorm2d):
            for buf in (m.weight, m.bias, m.running_mean):
                buf.data.copy_(fastnn.tensor(rng.standard_normal(buf.shape).astype(np.float32)))
            m.running_var.data.copy_(
                fastnn.tensor(rng.random(m.num_features).astype(np.float32) + 0.5)
            )


def test_blocks_match_torch_functional_composition():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 8, 9, 9)).astype(np.float32)
    down = fastnn.nn.Sequential(
        fastnn.nn.Conv2d(8, 16, 1, 2, bias=False), fastnn.nn.BatchNorm2d(16)
    )
    basic = models.BasicBlock(8, 16, stride=2, downsample=down).eval()
    _randomize_bn(basic, rng)
    tx = torch.tensor(x)
    ref = TF.relu(_bn(_conv(tx, basic.conv1), basic.bn1))
    ref = TF.relu(_bn(_conv(ref, basic.conv2), basic.bn2) + _bn(_conv(tx, down[0]), down[1]))
    assert_close(basic(fastnn.tensor(x)).detach().numpy(), ref.numpy(), atol=1e-4, rtol=1e-4)

    neck = models.Bottleneck(8, 2).eval()  # 8 -> 2 -> 2 -> 8 channels, identity shortcut
    _randomize_bn(neck, rng)
    ref = TF.relu(_bn(_conv(tx, neck.conv1), neck.bn1))
    ref = TF.relu(_bn(_conv(ref, neck.conv2), neck.bn2))
    ref = TF.relu(_bn(_conv(ref, neck.conv3), neck.bn3) + tx)
    assert_close(neck(fastnn.tensor(x)).detach().numpy(), ref.numpy(), atol=1e-4, rtol=1e-4)


def test_gray_stem_and_headless_feature_extractor_train():
    fastnn.manual_seed(0)
    net = models.resnet18(weights=None)
    net.conv1 = fastnn.nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
    features = fastnn.nn.Sequential(*list(net.children())[:-1])
    x = fastnn.randn(4, 1, 28, 28)
    out = features(x)
    assert tuple(out.shape) == (4, 512, 1, 1) and net.fc.in_features == 512
    head = fastnn.nn.Linear(512, 1)
    opt = fastnn.optim.SGD([*features.parameters(), *head.parameters()], lr=0.05)
    target = fastnn.tensor([0.0, 1.0, 0.0, 1.0])
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = fastnn.nn.functional.binary_cross_entropy_with_logits(
            head(features(x).flatten(1)).squeeze(1), target
        )
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_resnet_options_and_refused_weights():
    m = models.resnet18(num_classes=7, zero_init_residual=True)
    assert tuple(m(fastnn.randn(2, 3, 32, 32)).shape) == (2, 7)
    assert float(m.layer1[0].bn2.weight.abs().sum()) == 0.0
    with pytest.raises(ValueError, match="pretrained"):
        models.resnet18(weights="IMAGENET1K_V1")
    with pytest.raises(ValueError, match="pretrained"):
        models.resnet50(pretrained=True)
    assert models.resnet18(pretrained=False).fc.out_features == 1000
    with pytest.raises(ValueError, match="groups=1"):
        models.BasicBlock(8, 8, groups=2)
