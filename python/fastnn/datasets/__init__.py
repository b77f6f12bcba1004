"""Data sets: MNIST, Fashion-MNIST (IDX files, optional download) and synthetic regression."""

from ._download import DownloadError
from ._idx import DataFileError, read_idx, write_idx
from .mnist import MNIST, FashionMNIST, default_root
from .synthetic import synthetic_regression

__all__ = [
    "MNIST",
    "DataFileError",
    "DownloadError",
    "FashionMNIST",
    "default_root",
    "read_idx",
    "synthetic_regression",
    "write_idx",
]
