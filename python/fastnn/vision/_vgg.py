"""The VGG family: ``vgg11`` / ``13`` / ``16`` / ``19`` and their ``_bn`` variants.

Layouts and state-dict names follow torchvision's: ``features`` (3x3 convolutions, optionally
batch-normed, ReLU, and 2x2 max-pools), ``avgpool`` (adaptive, to 7 x 7) and ``classifier`` (two
4096-wide hidden layers with dropout). Models are randomly initialized.
"""

import warnings

from .. import nn

# Output channels of each 3x3 convolution, "M" for a 2x2 max-pool; the keys are the paper's names.
cfgs = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", *[256] * 3, "M", *[512] * 3, "M", *[512] * 3, "M"],
    "E": [64, 64, "M", 128, 128, "M", *[256] * 4, "M", *[512] * 4, "M", *[512] * 4, "M"],
}


def make_layers(cfg, batch_norm=False):
    """The ``features`` Sequential for a configuration list."""
    layers, channels = [], 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(nn.Conv2d(channels, v, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(v))
        layers.append(nn.ReLU(inplace=True))
        channels = v
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """``features``, adaptive average pool to 7 x 7, then a three-layer ``classifier``."""

    def __init__(self, features, num_classes=1000, init_weights=True, dropout=0.5):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.constant_(m.bias, 0)

    def forward(self, x):
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


def no_pretrained(weights, kwargs):
    """Refuse ``weights`` / ``pretrained=True``: there are no weights to download."""
    if "pretrained" in kwargs:  # the older spelling, with torchvision's deprecation warnings
        warnings.warn(
            "The parameter 'pretrained' is deprecated since 0.13 and may be removed in the "
            "future, please use 'weights' instead.",
            UserWarning,
            stacklevel=4,
        )
        if kwargs.pop("pretrained"):  # weights=<the default weights>
            weights = "pretrained=True"
        else:
            warnings.warn(
                "Arguments other than a weight enum or `None` for 'weights' are deprecated "
                "since 0.13 and may be removed in the future. The current behavior is "
                "equivalent to passing `weights=None`.",
                UserWarning,
                stacklevel=4,
            )
    if weights is not None:
        raise ValueError(
            f"fastnn has no pretrained weights to load (weights={weights!r}); pass weights=None "
            "and load a state dict with load_state_dict"
        )
    kwargs.pop("progress", None)
    return kwargs


def _vgg(cfg, batch_norm, weights, kwargs):
    kwargs = no_pretrained(weights, kwargs)
    return VGG(make_layers(cfgs[cfg], batch_norm), **kwargs)


def vgg11(*, weights=None, progress=True, **kwargs):
    return _vgg("A", False, weights, kwargs)


def vgg11_bn(*, weights=None, progress=True, **kwargs):
    return _vgg("A", True, weights, kwargs)


def vgg13(*, weights=None, progress=True, **kwargs):
    return _vgg("B", False, weights, kwargs)


def vgg13_bn(*, weights=None, progress=True, **kwargs):
    return _vgg("B", True, weights, kwargs)


def vgg16(*, weights=None, progress=True, **kwargs):
    return _vgg("D", False, weights, kwargs)


def vgg16_bn(*, weights=None, progress=True, **kwargs):
    return _vgg("D", True, weights, kwargs)


def vgg19(*, weights=None, progress=True, **kwargs):
    return _vgg("E", False, weights, kwargs)


def vgg19_bn(*, weights=None, progress=True, **kwargs):
    return _vgg("E", True, weights, kwargs)
