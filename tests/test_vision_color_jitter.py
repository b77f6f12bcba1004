"""fastnn.vision.transforms.ColorJitter: each adjustment against a float64 reference (hue against
the standard library's colorsys), the random order and factors, and the kinds of images."""

import colorsys

import numpy as np
import pytest

import fastnn
from fastnn.vision import transforms

LUMA = (0.2989, 0.587, 0.114)


def _img(seed=0, shape=(3, 5, 6)):
    return np.random.default_rng(seed).random(shape)


def _ref_luma(x):  # x: (3, H, W)
    return sum(w * c for w, c in zip(LUMA, x, strict=True))


def _ref(x, kind, f):
    if kind == 0:
        return np.clip(x * f, 0, 1)
    if kind == 1:
        return np.clip(f * x + (1 - f) * _ref_luma(x).mean(), 0, 1)
    if kind == 2:
        return np.clip(f * x + (1 - f) * _ref_luma(x)[None], 0, 1)
    out = np.empty_like(x)
    for i in range(x.shape[1]):
        for j in range(x.shape[2]):
            h, s, v = colorsys.rgb_to_hsv(*x[:, i, j])
            out[:, i, j] = colorsys.hsv_to_rgb((h + f) % 1.0, s, v)
    return out


@pytest.mark.parametrize(
    ("kind", "kwargs", "f"),
    [
        (0, {"brightness": (1.7, 1.7)}, 1.7),
        (1, {"contrast": (0.4, 0.4)}, 0.4),
        (1, {"contrast": (2.5, 2.5)}, 2.5),
        (2, {"saturation": (0.0, 0.0)}, 0.0),
        (2, {"saturation": (1.8, 1.8)}, 1.8),
        (3, {"hue": (0.3, 0.3)}, 0.3),
        (3, {"hue": (-0.45, -0.45)}, -0.45),
    ],
)
def test_each_adjustment_matches_the_reference(kind, kwargs, f):
    x = _img(kind)
    x[:, 0, 0] = [0.2, 0.2, 0.2]  # a grey pixel and a pure-red one: hue's special cases
    x[:, 0, 1] = [1.0, 0.0, 0.0]
    got = transforms.ColorJitter(**kwargs)(fastnn.tensor(x))
    assert isinstance(got, fastnn.Tensor) and got.dtype == fastnn.float64
    np.testing.assert_allclose(got.numpy(), _ref(x, kind, f), atol=1e-9)


def test_random_order_and_factors_repeat_with_the_seed():
    jitter = transforms.ColorJitter(brightness=0.5, contrast=0.5, saturation=0.5, hue=0.2)
    x = _img(9).astype(np.float32)
    for seed in range(4):
        fastnn.manual_seed(seed)
        order, *factors = jitter.get_params(
            jitter.brightness, jitter.contrast, jitter.saturation, jitter.hue
        )
        assert sorted(order) == [0, 1, 2, 3]
        assert 0.5 <= factors[0] <= 1.5 and -0.2 <= factors[3] <= 0.2
        want = x.astype(np.float64)
        for k in order:
            want = _ref(want, k, factors[k])
        fastnn.manual_seed(seed)
        got = jitter(fastnn.tensor(x))
        assert got.dtype == fastnn.float32
        np.testing.assert_allclose(got.numpy(), want, atol=1e-5)


def test_uint8_arrays_grey_images_and_pil_images():
    rng = np.random.default_rng(3)
    a = rng.integers(0, 256, (4, 5, 3), dtype=np.uint8)
    out = transforms.ColorJitter(brightness=(0.5, 0.5))(a)
    assert out.dtype == np.uint8 and out.shape == a.shape
    np.testing.assert_array_equal(out, np.rint(a * 0.5).astype(np.uint8))
    grey = rng.integers(0, 256, (4, 5), dtype=np.uint8)
    same = transforms.ColorJitter(saturation=(0.1, 0.1), hue=(0.2, 0.2))(grey)
    np.testing.assert_array_equal(same, grey)
    t = fastnn.tensor(a.transpose(2, 0, 1).copy())
    np.testing.assert_array_equal(
        transforms.ColorJitter(brightness=(0.5, 0.5))(t).numpy(), out.transpose(2, 0, 1)
    )
    Image = pytest.importorskip("PIL.Image")
    enhance = pytest.importorskip("PIL.ImageEnhance")
    pil = Image.fromarray(a)
    for kwargs, enhancer in (({"brightness": (1.3, 1.3)}, enhance.Brightness),
                             ({"saturation": (0.6, 0.6)}, enhance.Color)):  # fmt: skip
        got = transforms.ColorJitter(**kwargs)(pil)
        assert isinstance(got, Image.Image) and got.mode == "RGB"
        theirs = np.asarray(enhancer(pil).enhance(next(iter(kwargs.values()))[0]))
        assert np.abs(np.asarray(got).astype(int) - theirs).max() <= 2


def test_bad_arguments():
    with pytest.raises(ValueError, match="non negative"):
        transforms.ColorJitter(brightness=-0.1)
    with pytest.raises(ValueError, match="hue values should be between"):
        transforms.ColorJitter(hue=0.6)
    with pytest.raises(TypeError, match="single number or a list/tuple"):
        transforms.ColorJitter(contrast=(0.1, 0.2, 0.3))
    with pytest.raises(TypeError, match="uint8 image"):
        transforms.ColorJitter(brightness=0.2)(np.zeros((2, 2), np.float32))
    assert transforms.ColorJitter(brightness=0).brightness is None
    assert transforms.ColorJitter(brightness=2).brightness == (0.0, 3.0)
