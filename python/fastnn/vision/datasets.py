"""``MNIST`` and ``FashionMNIST`` with torchvision's constructor and item types; ``CIFAR10`` /
``CIFAR100``, ``ImageFolder`` / ``DatasetFolder`` and ``FakeData`` come from their own modules.

``root`` is searched the way torchvision lays files out (``<root>/MNIST/raw/``), then fastnn's
own layout (``<root>/mnist/``), then fastnn's data folder (``$FASTNN_DATA``), so a program's
``datasets.MNIST('../data', download=True)`` finds data that is already on the machine before it
tries to download. Items are ``(image, label)`` with the image a uint8 array (28, 28) where
torchvision gives a PIL image; ``transform`` and ``target_transform`` apply to each item, and a
DataLoader batch runs a ``Compose`` of ``ToTensor`` / ``Normalize`` over the whole batch at once.
"""

import os

import numpy as np

from .. import datasets as _fastnn_datasets
from .._tensor import Tensor
from ..utils.data import default_collate
from .cifar import CIFAR10, CIFAR100
from .fake_data import FakeData
from .folder import IMG_EXTENSIONS, DatasetFolder, ImageFolder


class _TorchvisionLayout:
    """The torchvision-style constructor over a fastnn IDX dataset class."""

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        self._raw = self._find(root)
        if self._raw is None:  # not on this machine: a download goes where torchvision puts it
            self._raw = os.path.join(
                os.path.expanduser(os.fspath(root)), type(self).__name__, "raw"
            )
        super().__init__(
            root=os.path.dirname(self._raw),
            train=train,
            transform=transform,
            target_transform=target_transform,
            download=download,
        )

    @property
    def raw_folder(self):
        return self._raw

    def _find(self, root):
        """The first folder holding this data set's IDX files, or None."""
        name = type(self).__name__
        root = os.path.expanduser(os.fspath(root))
        candidates = [
            os.path.join(root, name, "raw"),
            os.path.join(root, name),
            os.path.join(root, self.folder),
        ]
        candidates.append(os.path.join(_fastnn_datasets.default_root(), self.folder))
        first = self.resources[0][0]
        for folder in candidates:
            if any(os.path.isfile(os.path.join(folder, f)) for f in (first, first[:-3])):
                return folder
        return None

    def _image(self, i):
        """The raw uint8 image, where torchvision hands a PIL image to the transform."""
        return self._images[i]

    def get_batch(self, indices):
        """One DataLoader batch: the transform runs over the whole batch when it can."""
        idx = np.asarray(indices, dtype=np.int64)
        batched = getattr(self.transform, "apply_batch", None)
        images = batched(np.take(self._images, idx, axis=0)) if batched else None
        if images is None or self.target_transform is not None:
            return default_collate([self[i] for i in idx])
        return images, Tensor(np.take(self._labels, idx).astype(np.int64))


class MNIST(_TorchvisionLayout, _fastnn_datasets.MNIST):
    """torchvision.datasets.MNIST: handwritten digits, 60000 train / 10000 test, 28 x 28."""


class FashionMNIST(_TorchvisionLayout, _fastnn_datasets.FashionMNIST):
    """torchvision.datasets.FashionMNIST: Zalando's clothing images, 10 classes, 28 x 28."""


__all__ = [
    "CIFAR10",
    "CIFAR100",
    "IMG_EXTENSIONS",
    "MNIST",
    "DatasetFolder",
    "FakeData",
    "FashionMNIST",
    "ImageFolder",
]
