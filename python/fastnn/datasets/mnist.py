"""MNIST and Fashion-MNIST from the standard IDX files, with an optional validation split.

Files live in ``<root>/mnist/`` and ``<root>/fashion-mnist/`` (``.gz`` or gunzipped), where root
is the ``root=`` argument, else ``$FASTNN_DATA``, else ``~/.cache/fastnn/data``.
"""

import os
from typing import ClassVar

import numpy as np

from ..utils.data import Dataset, default_collate
from ._download import download_file
from ._idx import load_pair

_SPLITS = ("train", "val", "test")


def default_root() -> str:
    """``$FASTNN_DATA`` if set, else the per-user cache folder ``~/.cache/fastnn/data``."""
    env = os.environ.get("FASTNN_DATA")
    if env:
        return os.path.expanduser(env)
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "fastnn", "data")


def _tensor(arr):
    from .._tensor.core import Tensor

    return Tensor(arr)


class MNIST(Dataset):
    """The MNIST handwritten digits: 60000 training and 10000 test images, 28 x 28, labels 0-9.

    Args:
        root: the folder holding ``mnist/`` (default: ``$FASTNN_DATA``, else
            ``~/.cache/fastnn/data``).
        train: the training file (True) or the test file (False); ignored when ``split`` is given.
        transform: applied to each image, a float32 tensor (1, 28, 28) scaled to [0, 1].
        target_transform: applied to each label (an int).
        download: fetch missing files from the canonical mirrors, verified by SHA-256.
        split: ``'train'`` (the first ``60000 - val_size`` training images), ``'val'`` (the last
            ``val_size``) or ``'test'``; deterministic, e.g. 50000 / 10000 / 10000.
        val_size: size of the validation split (default 10000).

    ``data`` is the uint8 tensor (N, 28, 28) and ``targets`` the int64 labels (N,).
    """

    folder = "mnist"
    mirrors = (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    )
    # (file, sha256 of the canonical .gz download)
    resources = (
        (
            "train-images-idx3-ubyte.gz",
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        ),
        (
            "train-labels-idx1-ubyte.gz",
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        ),
        (
            "t10k-images-idx3-ubyte.gz",
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        ),
        (
            "t10k-labels-idx1-ubyte.gz",
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        ),
    )
    classes: ClassVar[list[str]] = [
        "0 - zero",
        "1 - one",
        "2 - two",
        "3 - three",
        "4 - four",
        "5 - five",
        "6 - six",
        "7 - seven",
        "8 - eight",
        "9 - nine",
    ]

    def __init__(
        self,
        root=None,
        train=True,
        transform=None,
        target_transform=None,
        download=False,
        split=None,
        val_size=10000,
    ):
        if split is not None and split not in _SPLITS:
            raise ValueError(
                f"{type(self).__name__}: split must be one of {_SPLITS}, got {split!r}"
            )
        if split is not None:
            train = split != "test"
        self.root = os.path.expanduser(os.fspath(root)) if root is not None else default_root()
        self.train = bool(train)
        self.split = split
        self.transform = transform
        self.target_transform = target_transform
        prefix = "train" if self.train else "t10k"
        images_path = self._locate(f"{prefix}-images-idx3-ubyte.gz", download)
        labels_path = self._locate(f"{prefix}-labels-idx1-ubyte.gz", download)
        images, labels = load_pair(images_path, labels_path, (28, 28), len(self.classes))
        if split in ("train", "val"):
            n = images.shape[0]
            if (
                isinstance(val_size, bool)
                or not isinstance(val_size, (int, np.integer))
                or not 0 < val_size < n
            ):
                raise ValueError(
                    f"{type(self).__name__}: val_size must be an int in (0, {n}), got {val_size!r}"
                )
            cut = slice(0, n - val_size) if split == "train" else slice(n - val_size, n)
            images, labels = images[cut], labels[cut]
        # Read-only views of the shared decoded file; the float conversion is per batch.
        self._images = images
        self._labels = labels
        self.data = _tensor(images)
        self.targets = _tensor(labels.astype(np.int64))

    @property
    def class_to_idx(self):
        return {c: i for i, c in enumerate(self.classes)}

    @property
    def raw_folder(self) -> str:
        return os.path.join(self.root, self.folder)

    def _locate(self, filename: str, download: bool) -> str:
        folder = self.raw_folder
        for name in (filename, filename[:-3]):
            path = os.path.join(folder, name)
            if os.path.isfile(path):
                return path
        if download:
            sha = dict(self.resources)[filename]
            return download_file(filename, self.mirrors, sha, folder)
        raise FileNotFoundError(
            f"{type(self).__name__}: {filename} not found in {folder}. Put the four IDX files "
            f"({', '.join(r[0] for r in self.resources)}; .gz or gunzipped) in that folder, pass "
            f"root= (or set FASTNN_DATA) to the folder that holds '{self.folder}/', or use "
            f"download=True."
        )

    def __len__(self):
        return self._labels.shape[0]

    def _image(self, i):
        return _tensor(np.divide(self._images[i][None], 255, dtype=np.float32))

    def __getitem__(self, index):
        index = int(index)
        img = self._image(index)
        target = int(self._labels[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def get_batch(self, indices):
        """(images float32 (B, 1, 28, 28) in [0, 1], labels int64 (B,)) for ``indices``."""
        idx = np.asarray(indices, dtype=np.int64)
        if self.transform is not None or self.target_transform is not None:
            return default_collate([self[i] for i in idx])
        imgs = np.take(self._images, idx, axis=0)[:, None]
        x = np.divide(imgs, 255, dtype=np.float32)
        y = np.take(self._labels, idx).astype(np.int64)
        return _tensor(x), _tensor(y)

    def __repr__(self):
        split = self.split or ("train" if self.train else "test")
        lines = [
            f"Dataset {type(self).__name__}",
            f"    Number of datapoints: {len(self)}",
            f"    Root location: {self.root}",
            f"    Split: {split.capitalize()}",
        ]
        if self.transform is not None:
            lines.append(f"    Transform: {self.transform!r}")
        return "\n".join(lines)


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: same format and sizes as MNIST, 10 clothing classes.

    Files live in ``<root>/fashion-mnist/``. See :class:`MNIST` for the arguments.
    """

    folder = "fashion-mnist"
    mirrors = (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    )
    resources = (
        (
            "train-images-idx3-ubyte.gz",
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        ),
        (
            "train-labels-idx1-ubyte.gz",
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        ),
        (
            "t10k-images-idx3-ubyte.gz",
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        ),
        (
            "t10k-labels-idx1-ubyte.gz",
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        ),
    )
    classes: ClassVar[list[str]] = [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ]
