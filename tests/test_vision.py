"""fastnn.vision: torchvision's MNIST / FashionMNIST and transforms, as programs use them."""

import os

import numpy as np
import pytest

import fastnn
from fastnn.datasets import write_idx
from fastnn.utils.data import DataLoader
from fastnn.vision import datasets, transforms

MEAN, STD = (0.1307,), (0.3081,)


def _fake_idx_folder(folder, n, seed):
    rng = np.random.default_rng(seed)
    os.makedirs(folder)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n, dtype=np.uint8)
    for prefix in ("train", "t10k"):
        write_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte.gz"), images)
        write_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte.gz"), labels)
    return images, labels


def test_to_tensor_scales_uint8_and_moves_channels_first():
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 256, (5, 7), dtype=np.uint8)
    t = transforms.ToTensor()(gray)
    assert isinstance(t, fastnn.Tensor) and t.shape == (1, 5, 7) and t.dtype == np.float32
    np.testing.assert_array_equal(t.numpy()[0], gray.astype(np.float32) / 255)
    rgb = rng.integers(0, 256, (4, 6, 3), dtype=np.uint8)
    np.testing.assert_array_equal(
        transforms.ToTensor()(rgb).numpy(), rgb.transpose(2, 0, 1).astype(np.float32) / 255
    )
    floats = rng.random((4, 6, 3))  # not uint8: kept as is (as float32), channels first
    np.testing.assert_allclose(transforms.ToTensor()(floats).numpy(), floats.transpose(2, 0, 1))


def test_to_tensor_and_normalize_reject_what_torchvision_rejects():
    with pytest.raises(TypeError, match="PIL Image or ndarray"):
        transforms.ToTensor()(fastnn.zeros(1, 2, 2))
    with pytest.raises(ValueError, match="2 or 3 dimensional"):
        transforms.ToTensor()(np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match="division by zero"):
        transforms.Normalize((0.5,), (0.0,))
    with pytest.raises(TypeError, match="Tensor Image"):
        transforms.Normalize(MEAN, STD)(np.zeros((1, 2, 2), np.float32))
    with pytest.raises(TypeError, match="float tensor"):
        transforms.Normalize(MEAN, STD)(fastnn.zeros(1, 2, 2, dtype=fastnn.int64))
    with pytest.raises(ValueError, match=r"\(\.\.\., C, H, W\)"):
        transforms.Normalize(MEAN, STD)(fastnn.zeros(2, 2))
    with pytest.raises(TypeError, match="callable"):
        transforms.Lambda(3)


def test_normalize_per_channel_matches_torch():
    rng = np.random.default_rng(1)
    x = rng.random((3, 4, 5)).astype(np.float32)
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    got = transforms.Normalize(mean, std)(fastnn.tensor(x)).numpy()
    ref = (x - np.float32(mean).reshape(3, 1, 1)) / np.float32(std).reshape(3, 1, 1)
    np.testing.assert_allclose(got, ref, rtol=1e-6)
    torch = pytest.importorskip("torch")
    tx = torch.from_numpy(x)
    want = (tx - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(3, 1, 1)
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-6)
    t = fastnn.tensor(x)
    assert transforms.Normalize(mean, std, inplace=True)(t) is t
    np.testing.assert_allclose(t.numpy(), ref, rtol=1e-6)


def test_compose_runs_in_order_and_its_batched_form_equals_the_per_image_one():
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, (6, 28, 28), dtype=np.uint8)
    t = transforms.Compose([transforms.ToTensor(), transforms.Normalize(MEAN, STD)])
    batch = t.apply_batch(images)
    for i in range(6):
        np.testing.assert_array_equal(batch.numpy()[i], t(images[i]).numpy())
    with_lambda = transforms.Compose([transforms.ToTensor(), transforms.Lambda(lambda x: x * 2)])
    assert with_lambda.apply_batch(images) is None  # no batched form: per image
    np.testing.assert_allclose(with_lambda(images[0]).numpy()[0], images[0] / 255 * 2, rtol=1e-6)
    assert "Normalize(mean=(0.1307,), std=(0.3081,))" in repr(t)  # as passed


@pytest.mark.parametrize("cls", [datasets.MNIST, datasets.FashionMNIST])
def test_torchvision_layout_items_and_batches(tmp_path, cls):
    images, labels = _fake_idx_folder(str(tmp_path / cls.__name__ / "raw"), 10, seed=3)
    plain = cls(str(tmp_path), train=False)
    img, label = plain[4]
    assert isinstance(img, np.ndarray) and img.dtype == np.uint8 and img.shape == (28, 28)
    np.testing.assert_array_equal(img, images[4])
    assert label == int(labels[4]) and isinstance(label, int)
    assert len(plain) == 10 and plain.raw_folder == str(tmp_path / cls.__name__ / "raw")

    t = transforms.Compose([transforms.ToTensor(), transforms.Normalize(MEAN, STD)])
    ds = cls(str(tmp_path), train=True, transform=t, target_transform=lambda y: y + 100)
    x, y = ds[2]
    np.testing.assert_allclose(x.numpy()[0], (images[2] / 255 - MEAN[0]) / STD[0], rtol=1e-5)
    assert y == int(labels[2]) + 100
    xb, yb = next(iter(DataLoader(ds, batch_size=4)))
    assert xb.shape == (4, 1, 28, 28) and yb.tolist() == [int(v) + 100 for v in labels[:4]]
    fast = cls(str(tmp_path), train=True, transform=t)
    xf, yf = next(iter(DataLoader(fast, batch_size=4)))  # the batched transform
    np.testing.assert_array_equal(xf.numpy(), xb.numpy())
    assert yf.dtype == np.int64 and yf.tolist() == labels[:4].tolist()


def test_fastnn_layout_and_missing_data(tmp_path):
    _fake_idx_folder(str(tmp_path / "fashion-mnist"), 5, seed=4)
    assert len(datasets.FashionMNIST(str(tmp_path))) == 5
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FASTNN_DATA", str(tmp_path / "nowhere"))
        with pytest.raises(FileNotFoundError, match="MNIST/raw"):
            datasets.MNIST(str(empty))


def test_resize_shapes_and_pil_agreement():
    rng = np.random.default_rng(5)
    img = rng.integers(0, 256, (28, 20), dtype=np.uint8)
    assert transforms.Resize((28, 20))(img) is not None
    np.testing.assert_array_equal(transforms.Resize((28, 20))(img), img)  # same size: unchanged
    assert transforms.Resize(10)(img).shape == (14, 10)  # the smaller edge to 10, aspect kept
    assert transforms.Resize(10, max_size=12)(img).shape == (12, 8)
    assert transforms.Resize((32, 16))(img[..., None].repeat(3, axis=2)).shape == (32, 16, 3)
    flat = np.full((6, 6), 7, np.uint8)
    np.testing.assert_array_equal(transforms.Resize((3, 9))(flat), np.full((3, 9), 7))
    with pytest.raises(ValueError, match="bilinear"):
        transforms.Resize(8, interpolation="nearest")
    with pytest.raises(TypeError, match="Size should be int"):
        transforms.Resize("8")
    pil = pytest.importorskip("PIL.Image")
    for size in [(32, 32), (14, 10), (20, 36)]:
        mine = transforms.Resize(size)(img).astype(int)
        theirs = np.asarray(pil.fromarray(img).resize(size[::-1], pil.BILINEAR)).astype(int)
        assert np.abs(mine - theirs).max() <= 1, size  # PIL rounds in fixed point


def test_compose_with_resize_has_a_batched_form():
    rng = np.random.default_rng(6)
    images = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    t = transforms.Compose([transforms.Resize((32, 32)), transforms.ToTensor()])
    batch = t.apply_batch(images)
    assert batch.shape == (5, 1, 32, 32)
    for i in range(5):
        np.testing.assert_array_equal(batch.numpy()[i], t(images[i]).numpy())
    after = transforms.Compose([transforms.ToTensor(), transforms.Resize((32, 32))])
    assert after.apply_batch(images) is None  # Resize after ToTensor: per image
