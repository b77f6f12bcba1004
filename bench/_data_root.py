"""Where the benchmarks find MNIST: $FASTNN_DATA, else ../shared/data next to the project."""

import os
import pathlib


def find_data():
    root = os.environ.get("FASTNN_DATA")
    if root and os.path.isdir(os.path.join(root, "mnist")):
        return root
    here = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"
    return str(here) if (here / "mnist").is_dir() else None
