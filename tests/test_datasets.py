"""fastnn.datasets: IDX reading and validation, MNIST / Fashion-MNIST, download, synthetic data."""

import gzip
import hashlib
import io
import os
import urllib.error
import urllib.request

import numpy as np
import pytest

import fastnn
from fastnn import datasets
from fastnn.datasets import MNIST, DataFileError, DownloadError, FashionMNIST, read_idx, write_idx
from fastnn.utils import data

FILES = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
]


def make_fake(root, folder="mnist", n_train=30, n_test=12, compress=True, seed=0):
    """Small valid IDX files under root/folder; returns (train images, train labels)."""
    rng = np.random.default_rng(seed)
    d = os.path.join(root, folder)
    os.makedirs(d, exist_ok=True)
    out = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        imgs = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        ext = ".gz" if compress else ""
        write_idx(os.path.join(d, f"{prefix}-images-idx3-ubyte{ext}"), imgs)
        write_idx(os.path.join(d, f"{prefix}-labels-idx1-ubyte{ext}"), labels)
        out[prefix] = (imgs, labels)
    return out


# ---- IDX files ----


@pytest.mark.parametrize("compress", [True, False])
def test_idx_round_trip(tmp_path, compress):
    a = np.arange(2 * 3 * 5, dtype=np.uint8).reshape(2, 3, 5)
    p = str(tmp_path / ("a.idx.gz" if compress else "a.idx"))
    write_idx(p, a)
    with open(p, "rb") as f:
        assert f.read(2) == (b"\x1f\x8b" if compress else b"\x00\x00")
    b = read_idx(p)
    assert b.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    assert not b.flags.writeable  # the decoded file is shared; copies must be explicit


def test_idx_big_endian_types(tmp_path):
    p = tmp_path / "f.idx"
    vals = np.array([[1.5, -2.0], [3.25, 4.0]], dtype=">f4")
    p.write_bytes(bytes([0, 0, 0x0D, 2]) + np.array([2, 2], ">u4").tobytes() + vals.tobytes())
    got = read_idx(str(p))
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, vals.astype(np.float32))


def _raw_idx(arr):
    return bytes([0, 0, 8, arr.ndim]) + np.asarray(arr.shape, ">u4").tobytes() + arr.tobytes()


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"\x00\x00", "too short"),
        (b"\x12\x34\x08\x01" + b"\x00" * 8, "bad IDX magic"),
        (b"\x00\x00\x07\x01" + b"\x00" * 8, "bad IDX magic"),
        (b"\x00\x00\x08\x03\x00\x00", "truncated IDX header"),
        (_raw_idx(np.zeros((4, 28, 28), np.uint8))[:-10], "truncated"),
        (_raw_idx(np.zeros((4, 28, 28), np.uint8)) + b"\x00", "trailing bytes"),
    ],
)
def test_idx_corrupt_files(tmp_path, payload, message):
    p = tmp_path / "bad-idx"
    p.write_bytes(payload)
    with pytest.raises(DataFileError, match=message):
        read_idx(str(p))
    # the same bytes gzip-compressed give the same error
    pz = tmp_path / "bad-idx.gz"
    pz.write_bytes(gzip.compress(payload))
    with pytest.raises(DataFileError, match=message):
        read_idx(str(pz))


def test_idx_truncated_and_corrupt_gzip(tmp_path):
    good = gzip.compress(_raw_idx(np.arange(3000, dtype=np.uint8).reshape(3, 1000) % 7))
    p = tmp_path / "t.gz"
    p.write_bytes(good[: len(good) // 2])
    with pytest.raises(DataFileError, match="truncated gzip"):
        read_idx(str(p))
    p.write_bytes(good[:10] + b"\xff" * 40 + good[50:])
    with pytest.raises(DataFileError, match="corrupt gzip|truncated"):
        read_idx(str(p))


def _fake_with(tmp_path, **override):
    """A fake mnist folder where some file is replaced by ``override[name] = array``."""
    make_fake(str(tmp_path))
    for name, arr in override.items():
        write_idx(str(tmp_path / "mnist" / name), arr)
    return str(tmp_path)


def test_mnist_rejects_wrong_image_dims(tmp_path):
    root = _fake_with(tmp_path, **{"train-images-idx3-ubyte.gz": np.zeros((30, 27, 28), np.uint8)})
    with pytest.raises(DataFileError, match=r"shape \(N, 28, 28\).*\(30, 27, 28\)"):
        MNIST(root)


def test_mnist_rejects_count_mismatch(tmp_path):
    root = _fake_with(tmp_path, **{"train-labels-idx1-ubyte.gz": np.zeros(29, np.uint8)})
    with pytest.raises(DataFileError, match="30 images but .* 29 labels"):
        MNIST(root)


def test_mnist_rejects_label_out_of_range(tmp_path):
    labels = np.zeros(30, np.uint8)
    labels[17] = 10
    root = _fake_with(tmp_path, **{"train-labels-idx1-ubyte.gz": labels})
    with pytest.raises(DataFileError, match="label 10 at index 17 is out of range"):
        MNIST(root)


def test_mnist_rejects_labels_file_with_images(tmp_path):
    root = _fake_with(tmp_path, **{"t10k-labels-idx1-ubyte.gz": np.zeros((12, 28, 28), np.uint8)})
    with pytest.raises(DataFileError, match="1-d uint8 label file"):
        MNIST(root, train=False)


# ---- MNIST on small fake files ----


@pytest.mark.parametrize("compress", [True, False])
def test_mnist_fake_files(tmp_path, compress):
    ref = make_fake(str(tmp_path), compress=compress)
    ds = MNIST(str(tmp_path))
    imgs, labels = ref["train"]
    assert len(ds) == 30
    assert ds.data.shape == (30, 28, 28) and ds.data.dtype == fastnn.uint8
    assert ds.targets.shape == (30,) and ds.targets.dtype == fastnn.int64
    np.testing.assert_array_equal(ds.data.numpy(), imgs)
    np.testing.assert_array_equal(ds.targets.numpy(), labels)
    x, y = ds[3]
    assert isinstance(y, int) and y == labels[3]
    assert x.shape == (1, 28, 28) and x.dtype == fastnn.float32
    np.testing.assert_array_equal(x.numpy()[0], imgs[3].astype(np.float32) / 255)
    test = MNIST(str(tmp_path), train=False)
    assert len(test) == 12
    np.testing.assert_array_equal(test.targets.numpy(), ref["t10k"][1])


def test_mnist_get_batch_matches_items(tmp_path):
    make_fake(str(tmp_path))
    ds = MNIST(str(tmp_path))
    idx = np.array([5, 0, 29, 5])
    xb, yb = ds.get_batch(idx)
    assert xb.shape == (4, 1, 28, 28) and xb.dtype == fastnn.float32
    assert yb.dtype == fastnn.int64
    for k, i in enumerate(idx):
        x, y = ds[i]
        np.testing.assert_array_equal(xb.numpy()[k], x.numpy())
        assert yb.numpy()[k] == y
    assert 0.0 <= xb.numpy().min() and xb.numpy().max() <= 1.0


def test_mnist_transforms(tmp_path):
    ref = make_fake(str(tmp_path))
    ds = MNIST(
        str(tmp_path),
        transform=lambda x: x.reshape((784,)) * 2.0,
        target_transform=lambda y: y + 100,
    )
    x, y = ds[2]
    assert x.shape == (784,)
    np.testing.assert_allclose(x.numpy(), ref["train"][0][2].reshape(-1) / 255 * 2.0, rtol=1e-6)
    assert y == ref["train"][1][2] + 100
    xb, yb = ds.get_batch([2, 3])  # transforms force the per-sample path
    assert xb.shape == (2, 784)
    np.testing.assert_array_equal(yb.numpy(), ref["train"][1][[2, 3]] + 100)


def test_mnist_splits(tmp_path):
    ref = make_fake(str(tmp_path), n_train=30)
    tr = MNIST(str(tmp_path), split="train", val_size=8)
    va = MNIST(str(tmp_path), split="val", val_size=8)
    te = MNIST(str(tmp_path), split="test")
    assert (len(tr), len(va), len(te)) == (22, 8, 12)
    np.testing.assert_array_equal(tr.targets.numpy(), ref["train"][1][:22])
    np.testing.assert_array_equal(va.targets.numpy(), ref["train"][1][22:])
    np.testing.assert_array_equal(te.targets.numpy(), ref["t10k"][1])
    assert "Split: Val" in repr(va)
    with pytest.raises(ValueError, match="split must be one of"):
        MNIST(str(tmp_path), split="validation")
    for bad in (0, 30, -1, 2.5):
        with pytest.raises(ValueError, match="val_size"):
            MNIST(str(tmp_path), split="val", val_size=bad)


def test_fashion_mnist_layout_and_classes(tmp_path):
    make_fake(str(tmp_path), folder="fashion-mnist")
    ds = FashionMNIST(str(tmp_path))
    assert len(ds) == 30
    assert ds.classes[0] == "T-shirt/top" and ds.classes[9] == "Ankle boot"
    assert ds.class_to_idx["Bag"] == 8
    with pytest.raises(FileNotFoundError, match="nowhere/fashion-mnist"):
        FashionMNIST(str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match=r"in \S+/mnist\."):
        MNIST(str(tmp_path))  # only fashion-mnist/ there


def test_missing_files_message(tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        MNIST(str(tmp_path))
    msg = str(e.value)
    assert str(tmp_path / "mnist") in msg
    assert "FASTNN_DATA" in msg and "download=True" in msg


def test_root_from_environment(tmp_path, monkeypatch):
    make_fake(str(tmp_path / "env"))
    monkeypatch.setenv("FASTNN_DATA", str(tmp_path / "env"))
    assert MNIST().root == str(tmp_path / "env")
    assert len(MNIST()) == 30
    monkeypatch.delenv("FASTNN_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert datasets.default_root() == str(tmp_path / "cache" / "fastnn" / "data")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert datasets.default_root() == str(tmp_path / "home" / ".cache" / "fastnn" / "data")


# ---- download (no network here: urlopen is replaced) ----


def test_download_without_network(tmp_path, monkeypatch):
    calls = []

    def offline(url, timeout=None):
        calls.append(url)
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(DownloadError) as e:
        MNIST(str(tmp_path), download=True)
    msg = str(e.value)
    assert "train-images-idx3-ubyte.gz" in msg
    assert str(tmp_path / "mnist" / "train-images-idx3-ubyte.gz") in msg
    assert "name resolution" in msg
    assert calls == [m + "train-images-idx3-ubyte.gz" for m in MNIST.mirrors]
    assert os.listdir(tmp_path / "mnist") == []  # no partial files left behind


class _Served:
    """urlopen replacement serving files from a dict url -> bytes (others: HTTP 404)."""

    def __init__(self, files):
        self.files, self.calls = files, []

    def __call__(self, url, timeout=None):
        self.calls.append(url)
        if url not in self.files:
            raise urllib.error.HTTPError(url, 404, "Not Found", {}, None)
        return io.BytesIO(self.files[url])


def _tiny_class(src, mirrors):
    """An MNIST subclass whose checksums are those of the files in ``src``."""
    resources = []
    for name in FILES:
        with open(os.path.join(src, name), "rb") as f:
            resources.append((name, hashlib.sha256(f.read()).hexdigest()))
    return type("TinyMNIST", (MNIST,), {"resources": resources, "mirrors": mirrors})


def test_download_from_second_mirror(tmp_path, monkeypatch):
    ref = make_fake(str(tmp_path / "src"))
    mirrors = ["https://dead.example/", "https://ok.example/"]
    files = {}
    for name in FILES:
        with open(tmp_path / "src" / "mnist" / name, "rb") as f:
            files["https://ok.example/" + name] = f.read()
    served = _Served(files)
    monkeypatch.setattr(urllib.request, "urlopen", served)
    cls = _tiny_class(str(tmp_path / "src" / "mnist"), mirrors)
    ds = cls(str(tmp_path / "dst"), download=True)
    np.testing.assert_array_equal(ds.targets.numpy(), ref["train"][1])
    assert sorted(os.listdir(tmp_path / "dst" / "mnist")) == sorted(FILES[:2])
    assert served.calls[0] == "https://dead.example/train-images-idx3-ubyte.gz"
    # present files are not downloaded again
    served.calls.clear()
    cls(str(tmp_path / "dst"), download=True)
    assert served.calls == []


def test_download_checksum_mismatch(tmp_path, monkeypatch):
    make_fake(str(tmp_path / "src"))
    mirrors = ["https://a.example/", "https://b.example/"]
    cls = _tiny_class(str(tmp_path / "src" / "mnist"), mirrors)
    bad = {m + name: b"\x1f\x8b not the right bytes" for m in mirrors for name in FILES}
    monkeypatch.setattr(urllib.request, "urlopen", _Served(bad))
    with pytest.raises(DownloadError, match="checksum mismatch") as e:
        cls(str(tmp_path / "dst"), download=True)
    assert "https://a.example/" in str(e.value) and "https://b.example/" in str(e.value)
    assert os.listdir(tmp_path / "dst" / "mnist") == []


def test_download_tables_are_sha256():
    for cls in (MNIST, FashionMNIST):
        assert [r[0] for r in cls.resources] == FILES
        for _, sha in cls.resources:
            assert len(sha) == 64 and int(sha, 16) >= 0
        assert all(m.endswith("/") for m in cls.mirrors)


# ---- real data ----


@pytest.mark.data
def test_real_mnist(data_dir):
    tr = MNIST(data_dir)
    te = MNIST(data_dir, train=False)
    assert tr.data.shape == (60000, 28, 28) and te.data.shape == (10000, 28, 28)
    assert tr.data.dtype == fastnn.uint8 and tr.targets.dtype == fastnn.int64
    assert tr.targets.numpy()[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    t = tr.targets.numpy()
    assert t.min() == 0 and t.max() == 9
    x, y = tr[0]
    assert y == 5 and x.shape == (1, 28, 28)
    assert 0.0 == x.numpy().min() and x.numpy().max() == 1.0


@pytest.mark.data
def test_real_mnist_50k_10k_10k(data_dir):
    full = MNIST(data_dir)
    tr, va, te = (MNIST(data_dir, split=s) for s in ("train", "val", "test"))
    assert (len(tr), len(va), len(te)) == (50000, 10000, 10000)
    np.testing.assert_array_equal(va.data.numpy(), full.data.numpy()[50000:])
    np.testing.assert_array_equal(tr.targets.numpy(), full.targets.numpy()[:50000])


@pytest.mark.data
def test_real_fashion_mnist(data_dir):
    tr = FashionMNIST(data_dir)
    te = FashionMNIST(data_dir, train=False)
    assert len(tr) == 60000 and len(te) == 10000
    assert np.bincount(tr.targets.numpy()).tolist() == [6000] * 10
    assert np.bincount(te.targets.numpy()).tolist() == [1000] * 10
    mean = tr.data.numpy().mean(dtype=np.float64) / 255
    assert abs(mean - 0.2861) < 1e-4
    loader = data.DataLoader(tr, batch_size=256, shuffle=True, seed=0)
    x, y = next(iter(loader))
    assert x.shape == (256, 1, 28, 28) and x.dtype == fastnn.float32 and y.shape == (256,)


# ---- synthetic regression ----


def test_synthetic_regression():
    fastnn.manual_seed(7)
    X, y = datasets.synthetic_regression([2, -3.4], 4.2, 1000)
    assert X.shape == (1000, 2) and y.shape == (1000, 1)
    assert X.dtype == fastnn.float32 and y.dtype == fastnn.float32
    A = np.hstack([X.numpy(), np.ones((1000, 1), np.float32)]).astype(np.float64)
    coef, *_ = np.linalg.lstsq(A, y.numpy()[:, 0].astype(np.float64), rcond=None)
    np.testing.assert_allclose(coef, [2, -3.4, 4.2], atol=3e-3)
    resid = y.numpy()[:, 0] - A @ coef
    assert 0.008 < resid.std() < 0.012  # noise=0.01
    fastnn.manual_seed(7)
    X2, _ = datasets.synthetic_regression(fastnn.tensor([2.0, -3.4]), 4.2, 1000)
    np.testing.assert_array_equal(X.numpy(), X2.numpy())
    with pytest.raises(ValueError, match="n must be"):
        datasets.synthetic_regression([1.0], 0.0, -1)
    with pytest.raises(ValueError, match="noise"):
        datasets.synthetic_regression([1.0], 0.0, 5, noise=-1)
