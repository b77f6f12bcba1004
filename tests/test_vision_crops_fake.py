"""fastnn.vision: CenterCrop and RandomHorizontalFlip on image arrays and tensors, and the
FakeData set, as DCGAN-style pipelines use them."""

import numpy as np
import pytest

import fastnn
from fastnn.utils.data import DataLoader
from fastnn.vision import datasets, transforms


def test_center_crop_takes_the_middle_rounding_like_torchvision():
    a = np.arange(30).reshape(5, 6)
    # top = round(2 / 2) = 1, left = round(3 / 2) = 2 (round half to even)
    np.testing.assert_array_equal(transforms.CenterCrop(3)(a), a[1:4, 2:5])
    np.testing.assert_array_equal(transforms.CenterCrop((2, 4))(a), a[2:4, 1:5])
    rgb = np.arange(5 * 6 * 3).reshape(5, 6, 3)
    np.testing.assert_array_equal(transforms.CenterCrop(3)(rgb), rgb[1:4, 2:5])
    t = fastnn.tensor(np.stack([a, -a]))
    np.testing.assert_array_equal(
        transforms.CenterCrop([3])(t).numpy(), np.stack([a, -a])[:, 1:4, 2:5]
    )


def test_center_crop_pads_small_images_with_zeros():
    a = np.ones((2, 3), dtype=np.uint8)
    out = transforms.CenterCrop((5, 4))(a)
    expected = np.zeros((5, 4), np.uint8)
    expected[1:3, 0:3] = 1  # pads (left 0, right 1, top 1, bottom 2), then the crop is the whole
    np.testing.assert_array_equal(out, expected)
    t = transforms.CenterCrop((5, 4))(fastnn.tensor(a[None].astype(np.float32)))
    np.testing.assert_array_equal(t.numpy()[0], expected)
    with pytest.raises(ValueError, match="size"):
        transforms.CenterCrop((1, 2, 3))


def test_random_horizontal_flip_probability_and_kinds():
    a = np.arange(6).reshape(2, 3)
    assert np.array_equal(transforms.RandomHorizontalFlip(1.0)(a), a[:, ::-1])
    assert np.array_equal(transforms.RandomHorizontalFlip(0.0)(a), a)
    t = fastnn.tensor(a[None])
    assert transforms.RandomHorizontalFlip(1.0)(t).tolist() == [a[:, ::-1].tolist()]
    fastnn.manual_seed(0)
    flip = transforms.RandomHorizontalFlip()
    flipped = sum(int(flip(a)[0, 0] == 2) for _ in range(2000))
    assert 850 < flipped < 1150


def test_fake_data_items_are_repeatable_and_batch():
    d = datasets.FakeData(size=12, image_size=(3, 6, 5), num_classes=4)
    img, target = d[7]
    assert img.shape == (6, 5, 3) and img.dtype == np.uint8
    assert target.dtype == fastnn.int64 and 0 <= target.item() < 4
    again, target2 = d[7]
    assert np.array_equal(img, again) and target2.item() == target.item()
    assert not np.array_equal(d[8][0], img) and len(d) == 12
    assert datasets.FakeData(3, (1, 4, 4))[0][0].shape == (4, 4)
    with pytest.raises(IndexError, match="out of range"):
        d[12]
    pipeline = transforms.Compose(
        [
            transforms.CenterCrop(4),
            transforms.ToTensor(),
            transforms.Normalize((0.5,) * 3, (0.5,) * 3),
        ]
    )
    x, y = next(iter(DataLoader(datasets.FakeData(10, (3, 6, 6), 3, pipeline), batch_size=4)))
    assert tuple(x.shape) == (4, 3, 4, 4) and x.dtype == fastnn.float32 and y.dtype == fastnn.int64
    assert -1.0 <= x.min().item() and x.max().item() <= 1.0
