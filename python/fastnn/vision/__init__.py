"""The torchvision names the tutorials reach for, on fastnn: ``datasets.MNIST`` /
``datasets.FashionMNIST``, ``transforms.Compose`` / ``ToTensor`` / ``Normalize`` / ``Lambda``
the ``models.resnet*`` architectures (randomly initialized) and ``utils.make_grid`` /
``save_image``.

A program that does ``from torchvision import datasets, transforms`` runs on fastnn with
``from fastnn.vision import datasets, transforms``. Images are uint8 numpy arrays (H, W) where
torchvision hands out PIL images; ``transforms.ToTensor`` turns either into a float tensor
(C, H, W) in [0, 1].
"""

from . import datasets, models, transforms, utils

__all__ = ["datasets", "models", "transforms", "utils"]
