"""fastnn.vision.datasets: ImageFolder / DatasetFolder over a tiny folder of PNG files, and
CIFAR10 / CIFAR100 over small batch files written in the distribution's pickle layout."""

import os
import pickle

import numpy as np
import pytest

import fastnn
from fastnn.utils.data import DataLoader
from fastnn.vision import datasets, transforms

Image = pytest.importorskip("PIL.Image")


def _png_tree(root):
    """Classes written out of order, a nested file, a grey image and a non-image file."""
    rng = np.random.default_rng(0)
    pixels = {}
    layout = {
        "zebra": ["b.png", "a.png"],
        "ant": ["x.PNG", os.path.join("sub", "y.png")],
        "cat": ["only.png", "notes.txt"],
    }
    for cls, names in layout.items():
        for name in names:
            path = root / cls / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if name.endswith(".txt"):
                path.write_text("not an image")
                continue
            a = rng.integers(0, 256, (5, 4, 3), dtype=np.uint8)
            Image.fromarray(a).save(path)
            pixels[str(path)] = a
    grey = rng.integers(0, 256, (5, 4), dtype=np.uint8)
    Image.fromarray(grey).save(root / "cat" / "grey.png")
    pixels[str(root / "cat" / "grey.png")] = np.repeat(grey[..., None], 3, axis=2)
    return pixels


def test_image_folder_classes_samples_and_items(tmp_path):
    pixels = _png_tree(tmp_path)
    ds = datasets.ImageFolder(str(tmp_path))
    assert ds.classes == ["ant", "cat", "zebra"]
    assert ds.class_to_idx == {"ant": 0, "cat": 1, "zebra": 2}
    rel = [(os.path.relpath(p, tmp_path), t) for p, t in ds.samples]
    assert rel == [
        (os.path.join("ant", "x.PNG"), 0),  # a folder's own files before its sub-folders'
        (os.path.join("ant", "sub", "y.png"), 0),
        (os.path.join("cat", "grey.png"), 1),
        (os.path.join("cat", "only.png"), 1),
        (os.path.join("zebra", "a.png"), 2),
        (os.path.join("zebra", "b.png"), 2),
    ]
    assert ds.targets == [0, 0, 1, 1, 2, 2] and ds.imgs is ds.samples and len(ds) == 6
    for i, (path, target) in enumerate(ds.samples):
        img, label = ds[i]
        assert isinstance(img, Image.Image) and img.mode == "RGB" and label == target
        np.testing.assert_array_equal(np.asarray(img), pixels[path])


def test_image_folder_transforms_batches_and_custom_hooks(tmp_path):
    _png_tree(tmp_path)
    t = transforms.Compose([transforms.CenterCrop(4), transforms.ToTensor()])
    ds = datasets.ImageFolder(tmp_path, transform=t, target_transform=lambda y: y * 10)
    x, y = next(iter(DataLoader(ds, batch_size=4)))
    assert tuple(x.shape) == (4, 3, 4, 4) and x.dtype == fastnn.float32
    assert y.tolist() == [0, 0, 10, 10]
    only_b = datasets.ImageFolder(
        tmp_path, is_valid_file=lambda p: os.path.basename(p) == "b.png", allow_empty=True
    )
    assert [os.path.basename(p) for p, _ in only_b.samples] == ["b.png"]
    by_name = datasets.DatasetFolder(tmp_path, loader=os.path.basename, extensions=(".txt",),
                                     allow_empty=True)  # fmt: skip
    assert by_name[0] == ("notes.txt", 1)


def test_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="class folder"):
        datasets.ImageFolder(tmp_path)
    (tmp_path / "empty").mkdir()
    (tmp_path / "full").mkdir()
    Image.fromarray(np.zeros((2, 2), np.uint8)).save(tmp_path / "full" / "a.png")
    with pytest.raises(FileNotFoundError, match="no valid file for the classes empty"):
        datasets.ImageFolder(tmp_path)
    with pytest.raises(ValueError, match="Both extensions and is_valid_file"):
        datasets.DatasetFolder(tmp_path, loader=str, extensions=(".png",), is_valid_file=bool)
    with pytest.raises(ValueError, match="Both extensions and is_valid_file"):
        datasets.DatasetFolder(tmp_path, loader=str)


def _cifar_files(folder, names, label_key, meta_name, meta_key, classes, rng):
    folder.mkdir(parents=True)
    written = {}
    for name in names:
        data = rng.integers(0, 256, (3, 3072), dtype=np.uint8)
        labels = rng.integers(0, len(classes), 3).tolist()
        with open(folder / name, "wb") as f:
            pickle.dump({"data": data, label_key: labels, "batch_label": name}, f)
        written[name] = (data, labels)
    with open(folder / meta_name, "wb") as f:
        pickle.dump({meta_key: classes}, f)
    return written


def test_cifar10_reads_the_pickled_batches(tmp_path):
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    classes = ["plane", "car", "bird"]
    rng = np.random.default_rng(1)
    folder = tmp_path / "cifar-10-batches-py"
    written = _cifar_files(folder, names, "labels", "batches.meta", "label_names", classes, rng)
    train = datasets.CIFAR10(str(tmp_path), train=True, download=True)
    assert len(train) == 15 and train.classes == classes and train.class_to_idx["car"] == 1
    data, labels = written["data_batch_2"]
    img, label = train[4]  # the second image of the second batch
    assert img.shape == (32, 32, 3) and img.dtype == np.uint8 and label == labels[1]
    # each row holds the red plane, then green, then blue, each row-major
    np.testing.assert_array_equal(img[:, :, 1], data[1, 1024:2048].reshape(32, 32))
    np.testing.assert_array_equal(img[0, 5], data[1, [5, 1024 + 5, 2048 + 5]])
    test = datasets.CIFAR10(tmp_path, train=False, transform=transforms.ToTensor())
    assert len(test) == 3 and test.targets == written["test_batch"][1]
    pipeline = transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize((0.5,) * 3, (0.5,) * 3)]
    )
    batched = datasets.CIFAR10(tmp_path, transform=pipeline)
    x, y = next(iter(DataLoader(batched, batch_size=5)))
    assert tuple(x.shape) == (5, 3, 32, 32) and y.tolist() == batched.targets[:5]
    np.testing.assert_allclose(x.numpy()[4], pipeline(batched.data[4]).numpy())


def test_cifar100_and_the_missing_data_messages(tmp_path):
    rng = np.random.default_rng(2)
    folder = tmp_path / "cifar-100-python"
    written = _cifar_files(folder, ["train", "test"], "fine_labels", "meta", "fine_label_names",
                           [f"c{i}" for i in range(100)], rng)  # fmt: skip
    ds = datasets.CIFAR100(tmp_path, train=False)
    assert len(ds) == 3 and ds.targets == written["test"][1] and len(ds.classes) == 100
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FASTNN_DATA", str(tmp_path / "nowhere"))
        with pytest.raises(RuntimeError, match="cannot download.*cifar-10-batches-py"):
            datasets.CIFAR10(tmp_path / "none", download=True)
        with pytest.raises(RuntimeError, match="Dataset not found"):
            datasets.CIFAR10(tmp_path / "none")
        mp.setenv("FASTNN_DATA", str(tmp_path))  # found in fastnn's data folder instead
        assert len(datasets.CIFAR100(tmp_path / "none")) == 3


def test_imagenet_style_pipelines_over_an_image_folder_with_workers(tmp_path):
    _png_tree(tmp_path)
    normalize = transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
    train = transforms.Compose([transforms.RandomResizedCrop(8), transforms.RandomHorizontalFlip(),
                                transforms.ToTensor(), normalize])  # fmt: skip
    val = transforms.Compose(
        [transforms.Resize(6), transforms.CenterCrop(4), transforms.ToTensor(), normalize]
    )
    for pipeline, side in ((train, 8), (val, 4)):
        ds = datasets.ImageFolder(tmp_path, pipeline)
        seen = []
        for x, y in DataLoader(ds, batch_size=4, shuffle=True, num_workers=2):
            assert tuple(x.shape[1:]) == (3, side, side) and x.dtype == fastnn.float32
            seen += y.tolist()
        assert sorted(seen) == ds.targets
