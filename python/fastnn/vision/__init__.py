"""The torchvision names that tutorials and example programs reach for, on fastnn.

``datasets``: MNIST, FashionMNIST, CIFAR10 / CIFAR100 (from files already on the machine),
ImageFolder / DatasetFolder and FakeData. ``transforms``: Compose, ToTensor, ToPILImage,
Normalize, Lambda, Pad, Resize, CenterCrop, RandomCrop, RandomResizedCrop, RandomHorizontalFlip,
RandomVerticalFlip and ColorJitter. ``models``: resnet*, vgg* and alexnet (randomly
initialized). ``utils``: make_grid and save_image.

A program that does ``from torchvision import datasets, transforms`` runs on fastnn with
``from fastnn.vision import datasets, transforms``. MNIST and CIFAR items are uint8 numpy arrays
(H, W[, C]) where torchvision hands out PIL images; the transforms take arrays, PIL images (Pillow
is optional) and tensors, and ``ToTensor`` turns an image into a float tensor (C, H, W) in [0, 1].
"""

from . import datasets, models, transforms, utils

__all__ = ["datasets", "models", "transforms", "utils"]
