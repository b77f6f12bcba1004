"""fastnn.vision.models: VGG and AlexNet layouts (parameter counts and state-dict names of
torchvision's models), forward shapes, and AlexNet's features against torch's functional ops.
vgg16 is built once: it holds 138 million float32 parameters."""

import numpy as np
import pytest

import fastnn
from fastnn.vision import models
from fastnn.vision._vgg import cfgs, make_layers

# torchvision's published totals for each builder (1000 classes)
TOTALS = {
    ("A", False): 132_863_336,
    ("A", True): 132_868_840,
    ("B", False): 133_047_848,
    ("B", True): 133_053_736,
    ("D", False): 138_357_544,
    ("D", True): 138_365_992,
    ("E", False): 143_667_240,
    ("E", True): 143_678_248,
}


def _count(module):
    return sum(p.numel() for p in module.parameters())


@pytest.fixture(scope="module")
def vgg16():
    fastnn.manual_seed(0)
    return models.vgg16().eval()


def test_vgg16_size_names_and_forward(vgg16):
    assert _count(vgg16) == 138_357_544
    sd = vgg16.state_dict()
    assert len(sd) == 32  # 13 convolutions and 3 linear layers, weight and bias each
    assert tuple(sd["features.28.weight"].shape) == (512, 512, 3, 3)
    assert tuple(sd["classifier.0.weight"].shape) == (4096, 512 * 7 * 7)
    assert tuple(sd["classifier.6.bias"].shape) == (1000,)
    # linear weights start as N(0, 0.01), biases at zero
    w = vgg16.classifier[3].weight.detach().numpy()
    assert abs(w.std() - 0.01) < 1e-4 and not vgg16.classifier[3].bias.detach().numpy().any()
    out = vgg16(fastnn.randn(2, 3, 32, 32))  # 32 -> 1 after five pools; avgpool widens to 7
    assert tuple(out.shape) == (2, 1000)


@pytest.mark.parametrize(("cfg", "bn"), sorted(TOTALS))
def test_every_vgg_configuration_has_torchvisions_count(vgg16, cfg, bn):
    head = _count(vgg16.classifier)
    assert _count(make_layers(cfgs[cfg], batch_norm=bn)) + head == TOTALS[(cfg, bn)]


def test_batch_norm_layout_and_refused_weights():
    features = make_layers(cfgs["A"], batch_norm=True)
    names = features.state_dict().keys()
    assert {"0.weight", "1.running_mean", "1.num_batches_tracked", "4.weight"} <= set(names)
    assert isinstance(features[3], fastnn.nn.MaxPool2d)
    for builder in (models.vgg11, models.vgg19_bn, models.alexnet):
        with pytest.raises(ValueError, match="pretrained"):
            builder(weights="IMAGENET1K_V1")
        with pytest.raises(ValueError, match="pretrained"):
            builder(pretrained=True)


def test_alexnet_size_and_options():
    fastnn.manual_seed(0)
    net = models.alexnet()
    assert _count(net) == 61_100_840
    assert set(dict(net.named_children())) == {"features", "avgpool", "classifier"}
    assert "classifier.6.weight" in net.state_dict()
    small = models.alexnet(num_classes=10, dropout=0.25)
    assert small.classifier[6].out_features == 10 and small.classifier[0].p == 0.25
    assert tuple(small(fastnn.randn(2, 3, 64, 64)).shape) == (2, 10)


def test_alexnet_features_match_torch_functional():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    fastnn.manual_seed(1)
    net = models.alexnet(num_classes=3).eval()
    x = np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32)
    got = net.features(fastnn.tensor(x)).detach().numpy()
    assert got.shape == (1, 256, 6, 6)
    ref = torch.from_numpy(x)
    for layer in net.features:
        if isinstance(layer, fastnn.nn.Conv2d):
            w, b = (torch.from_numpy(p.detach().numpy()) for p in (layer.weight, layer.bias))
            ref = tf.conv2d(ref, w, b, layer.stride, layer.padding)
        elif isinstance(layer, fastnn.nn.MaxPool2d):
            ref = tf.max_pool2d(ref, 3, 2)
        else:
            ref = tf.relu(ref)
    np.testing.assert_allclose(got, ref.numpy(), rtol=1e-4, atol=1e-4)
