"""The weight enums of torchvision's model builders (``VGG16_Weights.IMAGENET1K_V1``,
``ResNet50_Weights.DEFAULT``...), so that programs naming them import and reach the builder.

fastnn downloads nothing, so a builder handed one of these raises its clear ValueError (see
``_vgg.no_pretrained``) instead of the program stopping on a missing name. Each enum has the
members torchvision has for that model; ``DEFAULT`` is an alias of the newest one, as there.
"""

import enum


class WeightsEnum(enum.Enum):
    """One model's pretrained weights; the value is the member's own name (there is no file)."""

    def __repr__(self):
        return f"{type(self).__name__}.{self.name}"

    @classmethod
    def verify(cls, obj):
        """``obj`` as a member of this enum: None, a member, or its name ("IMAGENET1K_V1")."""
        if obj is None or isinstance(obj, cls):
            return obj
        if isinstance(obj, str) and obj in cls.__members__:
            return cls[obj]
        raise TypeError(f"weights: expected None, a {cls.__name__} or a member's name, got {obj!r}")


def _weights(name, members):
    entries = {m: m for m in members}
    entries["DEFAULT"] = members[-1]  # an alias: the same value makes it the same member
    return WeightsEnum(name, entries, module=__name__)


_V1 = ("IMAGENET1K_V1",)
_V2 = ("IMAGENET1K_V1", "IMAGENET1K_V2")

AlexNet_Weights = _weights("AlexNet_Weights", _V1)
ResNet18_Weights = _weights("ResNet18_Weights", _V1)
ResNet34_Weights = _weights("ResNet34_Weights", _V1)
ResNet50_Weights = _weights("ResNet50_Weights", _V2)
ResNet101_Weights = _weights("ResNet101_Weights", _V2)
ResNet152_Weights = _weights("ResNet152_Weights", _V2)
VGG11_Weights = _weights("VGG11_Weights", _V1)
VGG11_BN_Weights = _weights("VGG11_BN_Weights", _V1)
VGG13_Weights = _weights("VGG13_Weights", _V1)
VGG13_BN_Weights = _weights("VGG13_BN_Weights", _V1)
# torchvision also keeps VGG16's feature-extractor weights (the features only) under their own name
VGG16_Weights = _weights("VGG16_Weights", ("IMAGENET1K_FEATURES", "IMAGENET1K_V1"))
VGG16_BN_Weights = _weights("VGG16_BN_Weights", _V1)
VGG19_Weights = _weights("VGG19_Weights", _V1)
VGG19_BN_Weights = _weights("VGG19_BN_Weights", _V1)
