"""``CIFAR10`` and ``CIFAR100`` from the python-pickle batch files of their distribution.

The files are looked for in ``<root>/cifar-10-batches-py`` (``cifar-100-python``), then in the
same folder under fastnn's data folder (``$FASTNN_DATA``). Nothing is downloaded here: a missing
folder is a RuntimeError that names where to put the files. Items are ``(image, label)`` with the
image a uint8 array (32, 32, 3) where torchvision gives a PIL image.
"""

import os
import pickle

import numpy as np

from .. import datasets as _fastnn_datasets
from .._tensor import Tensor
from ..utils.data import Dataset, default_collate


class CIFAR10(Dataset):
    """The 60000 32 x 32 colour images of 10 classes: 50000 train (five batches), 10000 test."""

    base_folder = "cifar-10-batches-py"
    train_list = tuple(f"data_batch_{i}" for i in range(1, 6))
    test_list = ("test_batch",)
    meta_file, meta_key = "batches.meta", "label_names"
    label_key = "labels"

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        self.root = os.path.expanduser(os.fspath(root))
        self.train, self.transform, self.target_transform = train, transform, target_transform
        folder = self._find()
        if folder is None:
            where = os.path.join(self.root, self.base_folder)
            why = "fastnn cannot download it" if download else "Dataset not found"
            raise RuntimeError(
                f"{why}: put the extracted python-pickle files of {type(self).__name__} "
                f"({', '.join(self.train_list + self.test_list)}, {self.meta_file}) in "
                f"{where}"
            )
        data, targets = [], []
        for name in self.train_list if train else self.test_list:
            entry = _unpickle(os.path.join(folder, name))
            data.append(np.asarray(entry["data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
            targets.extend(int(v) for v in entry[self.label_key])
        self.data = np.ascontiguousarray(np.concatenate(data).transpose(0, 2, 3, 1))
        self.targets = targets
        self.classes = list(_unpickle(os.path.join(folder, self.meta_file))[self.meta_key])
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}

    def _find(self):
        names = (*self.train_list, *self.test_list, self.meta_file)
        for top in (self.root, _fastnn_datasets.default_root()):
            folder = os.path.join(top, self.base_folder)
            if all(os.path.isfile(os.path.join(folder, n)) for n in names):
                return folder
        return None

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        img, target = self.data[index], self.targets[index]
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def get_batch(self, indices):
        """One DataLoader batch: the transform runs over the whole batch when it can."""
        idx = np.asarray(indices, dtype=np.int64)
        batched = getattr(self.transform, "apply_batch", None)
        images = batched(self.data[idx]) if batched else None
        if images is None or self.target_transform is not None:
            return default_collate([self[int(i)] for i in idx])
        return images, Tensor(np.asarray(self.targets, dtype=np.int64)[idx])

    def extra_repr(self):
        return f"Split: {'Train' if self.train else 'Test'}"

    def __repr__(self):
        return (
            f"Dataset {type(self).__name__}\n    Number of datapoints: {len(self)}\n"
            f"    Root location: {self.root}\n    {self.extra_repr()}"
        )


class CIFAR100(CIFAR10):
    """The same images in 100 fine classes (``fine_labels``): 50000 train, 10000 test."""

    base_folder = "cifar-100-python"
    train_list = ("train",)
    test_list = ("test",)
    meta_file, meta_key = "meta", "fine_label_names"
    label_key = "fine_labels"


def _unpickle(path):
    with open(path, "rb") as f:
        return pickle.load(f, encoding="latin1")
