"""fastnn.vision.transforms: padding, RandomCrop and RandomResizedCrop on arrays and tensors,
checked against numpy's padding, plain slicing and the parameter rules they promise."""

import math

import numpy as np
import pytest

import fastnn
from fastnn.vision import transforms
from fastnn.vision._padding import pad


@pytest.mark.parametrize("mode", ["edge", "reflect", "symmetric"])
def test_copying_pad_modes_match_numpy_for_arrays_and_tensors(mode):
    a = np.arange(4 * 5 * 3).reshape(4, 5, 3)
    got = pad(a, (1, 2, 3, 0), padding_mode=mode)  # left, top, right, bottom
    np.testing.assert_array_equal(got, np.pad(a, [(2, 0), (1, 3), (0, 0)], mode=mode))
    t = fastnn.tensor(a.transpose(2, 0, 1).astype(np.float32))
    got_t = pad(t, [2, 1], padding_mode=mode).numpy()  # left/right 2, top/bottom 1
    want = np.pad(a.transpose(2, 0, 1), [(0, 0), (1, 1), (2, 2)], mode=mode)
    np.testing.assert_array_equal(got_t, want)


def test_constant_pad_fills_per_channel():
    a = np.ones((2, 2, 3), np.uint8)
    out = pad(a, 1, fill=(7, 8, 9))
    assert out.shape == (4, 4, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[0, 0], [7, 8, 9])
    np.testing.assert_array_equal(out[1:3, 1:3], a)
    t = pad(fastnn.ones(3, 2, 2), 1, fill=(7, 8, 9)).numpy()
    np.testing.assert_array_equal(t[:, 0, 0], [7, 8, 9])
    np.testing.assert_array_equal(pad(fastnn.ones(1, 1, 1), 1, fill=5).numpy()[0, 0], [5, 5, 5])
    with pytest.raises(ValueError, match="1, 2, or 4 element"):
        pad(a, (1, 2, 3))
    with pytest.raises(TypeError, match="padding"):
        pad(a, "1")
    with pytest.raises(ValueError, match="constant, edge, reflect or symmetric"):
        pad(a, 1, padding_mode="wrap")


def _locate(window, image):
    """Every (top, left) where ``window`` sits inside ``image``."""
    h, w = window.shape[:2]
    return [
        (i, j)
        for i in range(image.shape[0] - h + 1)
        for j in range(image.shape[1] - w + 1)
        if np.array_equal(image[i : i + h, j : j + w], window)
    ]


def test_random_crop_takes_windows_of_the_padded_image_and_repeats_with_the_seed():
    a = np.arange(36, dtype=np.int64).reshape(6, 6) + 1
    crop = transforms.RandomCrop(4, padding=2)
    padded = np.pad(a, 2)
    fastnn.manual_seed(3)
    first = [crop(a) for _ in range(200)]
    corners = {_locate(c, padded)[0] for c in first}
    assert len(corners) == 49  # all (10 - 4 + 1)^2 positions turn up
    fastnn.manual_seed(3)
    assert all(np.array_equal(x, crop(a)) for x in first)
    t = fastnn.tensor(a[None].astype(np.float32))
    out = transforms.RandomCrop((3, 5), padding_mode="reflect", padding=1)(t)
    assert tuple(out.shape) == (1, 3, 5)
    assert _locate(out.numpy()[0], np.pad(a, 1, mode="reflect").astype(np.float32))


def test_random_crop_pad_if_needed_and_size_errors():
    a = np.full((3, 4), 9, np.uint8)
    out = transforms.RandomCrop((5, 6), pad_if_needed=True, fill=1)(a)
    assert out.shape == (5, 6)
    assert (out == 9).sum() == 12 and (out == 1).sum() == 18
    with pytest.raises(ValueError, match="larger than input image size"):
        transforms.RandomCrop(5)(a)
    np.testing.assert_array_equal(transforms.RandomCrop((3, 4))(a), a)
    with pytest.raises(ValueError, match="padding mode|Padding mode"):
        transforms.RandomCrop(2, padding_mode="mirror")


def test_random_resized_crop_parameters_follow_scale_and_ratio():
    img = np.zeros((60, 80, 3), np.uint8)
    fastnn.manual_seed(0)
    scale, ratio = (0.2, 0.6), (0.5, 2.0)
    for _ in range(300):
        i, j, h, w = transforms.RandomResizedCrop.get_params(img, scale, ratio)
        assert 0 <= i <= 60 - h and 0 <= j <= 80 - w
        # h and w are rounded, so area and ratio hold up to that rounding
        assert scale[0] * 4800 - 80 <= h * w <= scale[1] * 4800 + 80
        assert ratio[0] * 0.9 <= w / h <= ratio[1] * 1.1
    out = transforms.RandomResizedCrop(24)(img)
    assert out.shape == (24, 24, 3) and out.dtype == np.uint8
    t = transforms.RandomResizedCrop((8, 12))(fastnn.rand(2, 3, 30, 40))
    assert tuple(t.shape) == (2, 3, 8, 12)


def test_random_resized_crop_falls_back_to_a_central_crop():
    wide = np.zeros((10, 40))
    # an area of 5 images never fits: the widest allowed crop, centred
    h, w = 10, round(10 * 4 / 3)
    got = transforms.RandomResizedCrop.get_params(wide, (5.0, 5.0), (3 / 4, 4 / 3))
    assert got == (0, (40 - w) // 2, h, w)
    tall = np.zeros((40, 10))
    got = transforms.RandomResizedCrop.get_params(tall, (5.0, 5.0), (3 / 4, 4 / 3))
    assert got == ((40 - round(10 / 0.75)) // 2, 0, round(10 / 0.75), 10)
    square = np.zeros((10, 10))
    assert transforms.RandomResizedCrop.get_params(square, (5.0, 5.0), (0.5, 2)) == (0, 0, 10, 10)
    with pytest.warns(UserWarning, match="min, max"):
        transforms.RandomResizedCrop(4, scale=(1.0, 0.5))
    with pytest.raises(TypeError, match="scale"):
        transforms.RandomResizedCrop(4, scale=0.5)


def test_random_resized_crop_with_the_whole_image_is_a_resize():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (12, 12), dtype=np.uint8)
    full = transforms.RandomResizedCrop(6, scale=(1.0, 1.0), ratio=(1.0, 1.0))
    np.testing.assert_array_equal(full(img), transforms.Resize(6)(img))
    assert math.isclose(float(np.mean(full(img))), float(np.mean(img)), abs_tol=2)


def test_vertical_flip_on_arrays_tensors_and_pil_images():
    a = np.arange(12, dtype=np.uint8).reshape(3, 4)
    np.testing.assert_array_equal(transforms.RandomVerticalFlip(1.0)(a), a[::-1])
    np.testing.assert_array_equal(transforms.RandomVerticalFlip(0.0)(a), a)
    rgb = np.stack([a, a + 1, a + 2], axis=2)
    np.testing.assert_array_equal(transforms.RandomVerticalFlip(1.0)(rgb), rgb[::-1])
    t = fastnn.tensor(np.stack([a, a * 2]))
    assert transforms.RandomVerticalFlip(1.0)(t).tolist() == np.stack([a, a * 2])[:, ::-1].tolist()
    Image = pytest.importorskip("PIL.Image")
    out = transforms.RandomVerticalFlip(p=1)(Image.fromarray(rgb))
    assert isinstance(out, Image.Image) and out.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(out), rgb[::-1])
    assert repr(transforms.RandomVerticalFlip(0.3)) == "RandomVerticalFlip(p=0.3)"
