"""``DatasetFolder`` and ``ImageFolder``: one sub-folder per class, files found by walking each.

Classes are the sub-folder names in sorted order, numbered from 0 (``class_to_idx``); ``samples``
lists (path, class index) in class order, then sorted path order. ``ImageFolder`` opens files with
Pillow and converts them to RGB, as torchvision's default loader does.
"""

import os

from ..utils.data import Dataset
from ._pil import pil_module

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def find_classes(directory):
    """(sorted class folder names, name -> index)."""
    classes = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
    if not classes:
        raise FileNotFoundError(f"Couldn't find any class folder in {directory}.")
    return classes, {name: i for i, name in enumerate(classes)}


def has_file_allowed_extension(filename, extensions):
    ends = extensions if isinstance(extensions, str) else tuple(extensions)
    return filename.lower().endswith(ends)


def make_dataset(directory, class_to_idx, extensions=None, is_valid_file=None, allow_empty=False):
    """[(path, class index)] of the valid files under each class folder."""
    if (extensions is None) == (is_valid_file is None):
        raise ValueError(
            "Both extensions and is_valid_file cannot be None or not None at the same time"
        )
    if is_valid_file is None:
        exts = extensions

        def is_valid_file(path):
            return has_file_allowed_extension(path, exts)

    samples, empty = [], []
    for name in sorted(class_to_idx, key=class_to_idx.get):
        found = 0
        for root, _, files in sorted(os.walk(os.path.join(directory, name), followlinks=True)):
            for fname in sorted(files):
                path = os.path.join(root, fname)
                if is_valid_file(path):
                    samples.append((path, class_to_idx[name]))
                    found += 1
        if not found:
            empty.append(name)
    if empty and not allow_empty:
        msg = f"Found no valid file for the classes {', '.join(sorted(empty))}. "
        if extensions is not None:
            kinds = extensions if isinstance(extensions, str) else ", ".join(extensions)
            msg += f"Supported extensions are: {kinds}"
        raise FileNotFoundError(msg)
    return samples


def pil_loader(path):
    """The image at ``path`` as an RGB PIL image, read fully so the file is closed."""
    Image = pil_module("ImageFolder")
    with open(path, "rb") as f:
        return Image.open(f).convert("RGB")


class DatasetFolder(Dataset):
    """Items ``(loader(path), class index)`` for the files under ``root/<class>/``."""

    def __init__(
        self, root, loader, extensions=None, transform=None, target_transform=None,
        is_valid_file=None, allow_empty=False,
    ):  # fmt: skip
        self.root = os.path.expanduser(os.fspath(root))
        self.transform, self.target_transform = transform, target_transform
        self.classes, self.class_to_idx = self.find_classes(self.root)
        self.samples = self.make_dataset(
            self.root, self.class_to_idx, extensions, is_valid_file, allow_empty
        )
        self.loader, self.extensions = loader, extensions
        self.targets = [target for _, target in self.samples]

    @staticmethod
    def make_dataset(directory, class_to_idx, extensions=None, is_valid_file=None,
                     allow_empty=False):  # fmt: skip
        return make_dataset(directory, class_to_idx, extensions, is_valid_file, allow_empty)

    def find_classes(self, directory):
        return find_classes(directory)

    def __getitem__(self, index):
        path, target = self.samples[index]
        sample = self.loader(path)
        if self.transform is not None:
            sample = self.transform(sample)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return sample, target

    def __len__(self):
        return len(self.samples)

    def __repr__(self):
        return (
            f"Dataset {type(self).__name__}\n    Number of datapoints: {len(self)}\n"
            f"    Root location: {self.root}"
        )


class ImageFolder(DatasetFolder):
    """``DatasetFolder`` of image files (``IMG_EXTENSIONS`` unless ``is_valid_file`` decides),
    loaded as RGB PIL images by default."""

    def __init__(
        self, root, transform=None, target_transform=None, loader=None, is_valid_file=None,
        allow_empty=False,
    ):  # fmt: skip
        super().__init__(
            root,
            loader or pil_loader,
            IMG_EXTENSIONS if is_valid_file is None else None,
            transform=transform,
            target_transform=target_transform,
            is_valid_file=is_valid_file,
            allow_empty=allow_empty,
        )
        self.imgs = self.samples
