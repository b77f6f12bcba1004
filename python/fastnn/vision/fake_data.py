"""``FakeData``: a data set of random images and labels, for trying a pipeline without data."""

import numpy as np

from .._tensor import as_tensor
from ..utils.data import Dataset


class FakeData(Dataset):
    """``size`` random uint8 images of ``image_size`` (C, H, W) with labels in [0, num_classes).

    Item ``i`` is drawn from its own generator seeded with ``i + random_offset``, so it is the same
    on every access and reading it leaves fastnn's global generator alone. Images come as arrays
    (H, W) for one channel, else (H, W, C), where torchvision hands out PIL images.
    """

    def __init__(
        self,
        size=1000,
        image_size=(3, 224, 224),
        num_classes=10,
        transform=None,
        target_transform=None,
        random_offset=0,
    ):
        if len(image_size) != 3:
            raise ValueError(f"image_size must be (C, H, W), got {image_size!r}")
        self.size, self.num_classes = int(size), int(num_classes)
        self.image_size = tuple(int(v) for v in image_size)
        self.transform, self.target_transform = transform, target_transform
        self.random_offset = random_offset

    def __len__(self):
        return self.size

    def __getitem__(self, index):
        if not -self.size <= index < self.size:
            raise IndexError(f"{type(self).__name__} index out of range")
        index %= self.size
        rng = np.random.default_rng(index + self.random_offset)
        c, h, w = self.image_size
        img = rng.integers(0, 256, (h, w, c), dtype=np.uint8)
        img = img[:, :, 0] if c == 1 else img
        target = as_tensor(rng.integers(0, self.num_classes, dtype=np.int64))
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __repr__(self):
        return f"Dataset {type(self).__name__}\n    Number of datapoints: {self.size}"
