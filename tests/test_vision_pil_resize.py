"""fastnn.vision.transforms with PIL images (ToTensor, Resize, crops, flips, ToPILImage) and
Resize on tensors against torch's interpolate."""

import numpy as np
import pytest

import fastnn
from fastnn.vision import transforms

Image = pytest.importorskip("PIL.Image")
torch = pytest.importorskip("torch")


def _rgb(h, w, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


@pytest.mark.parametrize("size", [(7, 5), (20, 31), (12, 12)])
def test_tensor_resize_matches_torch_interpolate(size):
    x = np.random.default_rng(1).random((2, 3, 12, 16)).astype(np.float32)
    got = transforms.Resize(size)(fastnn.tensor(x)).numpy()
    tx = torch.from_numpy(x)
    want = torch.nn.functional.interpolate(
        tx, size=size, mode="bilinear", align_corners=False, antialias=True
    ).numpy()
    np.testing.assert_allclose(got, want, atol=1e-5)
    plain = transforms.Resize(size, antialias=False)(fastnn.tensor(x)).numpy()
    want = torch.nn.functional.interpolate(tx, size=size, mode="bilinear", align_corners=False)
    np.testing.assert_allclose(plain, want.numpy(), atol=1e-5)


def test_tensor_resize_keeps_integer_dtype_and_the_short_edge_rule():
    img = fastnn.tensor(np.full((1, 9, 6), 200, np.uint8))
    out = transforms.Resize(4, interpolation=transforms.InterpolationMode.BILINEAR)(img)
    assert tuple(out.shape) == (1, 6, 4) and out.dtype == fastnn.uint8
    assert out.numpy().min() == 200 == out.numpy().max()
    with pytest.raises(ValueError, match="bilinear"):
        transforms.Resize(4, interpolation=transforms.InterpolationMode.NEAREST)


def test_to_tensor_and_resize_take_pil_images():
    a = _rgb(10, 14)
    pil = Image.fromarray(a)
    np.testing.assert_array_equal(
        transforms.ToTensor()(pil).numpy(), transforms.ToTensor()(a).numpy()
    )
    small = transforms.Resize(5)(pil)
    assert isinstance(small, Image.Image) and small.size == (7, 5)  # PIL sizes are (w, h)
    np.testing.assert_array_equal(np.asarray(small), np.asarray(pil.resize((7, 5), 2)))
    grey = transforms.ToTensor()(pil.convert("L"))
    assert tuple(grey.shape) == (1, 10, 14)


def test_crops_and_flip_hand_back_pil_images_of_the_same_mode():
    a = _rgb(9, 11, seed=2)
    pil = Image.fromarray(a)
    out = transforms.CenterCrop(5)(pil)
    assert isinstance(out, Image.Image) and out.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(out), transforms.CenterCrop(5)(a))
    flipped = transforms.RandomHorizontalFlip(1.0)(pil.convert("L"))
    assert flipped.mode == "L"
    np.testing.assert_array_equal(np.asarray(flipped), np.asarray(pil.convert("L"))[:, ::-1])
    fastnn.manual_seed(5)
    c = transforms.RandomCrop(4, padding=1, fill=(1, 2, 3))(pil)
    assert isinstance(c, Image.Image) and c.size == (4, 4)
    r = transforms.RandomResizedCrop(6)(pil)
    assert isinstance(r, Image.Image) and r.size == (6, 6)
    palette = pil.convert("P")
    cropped = transforms.CenterCrop(3)(palette)
    assert cropped.mode == "P" and cropped.getpalette() == palette.getpalette()
    np.testing.assert_array_equal(
        np.asarray(cropped.convert("RGB")), np.asarray(palette.convert("RGB"))[3:6, 4:7]
    )


def test_to_pil_image_modes_and_round_trip():
    a = _rgb(4, 6, seed=3)
    t = fastnn.tensor(a.transpose(2, 0, 1).copy())
    img = transforms.ToPILImage()(t)
    assert img.mode == "RGB" and img.size == (6, 4)
    np.testing.assert_array_equal(np.asarray(img), a)
    back = transforms.ToTensor()(transforms.ToPILImage()(transforms.ToTensor()(a)))
    np.testing.assert_allclose(back.numpy(), a.transpose(2, 0, 1) / 255, atol=1 / 255 + 1e-6)
    # floats are scaled by 255 and truncated
    grey = transforms.ToPILImage()(fastnn.tensor([[0.5, 1.0], [0.999, 0.0]]))
    assert grey.mode == "L" and np.asarray(grey).tolist() == [[127, 255], [254, 0]]
    f = transforms.ToPILImage(mode="F")(np.full((2, 3), 0.25, np.float32))
    assert f.mode == "F" and np.asarray(f)[0, 0] == np.float32(0.25)
    rgba = transforms.ToPILImage()(np.zeros((2, 2, 4), np.uint8))
    assert rgba.mode == "RGBA"
    assert transforms.ToPILImage()(np.zeros((2, 2), np.int32)).mode == "I"


def test_to_pil_image_rejects_what_torchvision_rejects():
    with pytest.raises(TypeError, match="Tensor or ndarray"):
        transforms.ToPILImage()([[0, 1]])
    with pytest.raises(ValueError, match="2/3 dimensional"):
        transforms.ToPILImage()(np.zeros(3, np.uint8))
    with pytest.raises(ValueError, match="> 4 channels"):
        transforms.ToPILImage()(fastnn.zeros(5, 2, 2))
    with pytest.raises(ValueError, match="Incorrect mode"):
        transforms.ToPILImage(mode="I")(np.zeros((2, 2), np.uint8))
    with pytest.raises(ValueError, match="modes"):
        transforms.ToPILImage(mode="RGBA")(np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(TypeError, match="not supported"):
        transforms.ToPILImage()(np.zeros((2, 2, 3), np.int32))


def test_to_pil_image_without_pillow_says_so(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "PIL", None)
    with pytest.raises(ImportError, match="ToPILImage needs Pillow"):
        transforms.ToPILImage()(np.zeros((2, 2), np.uint8))
