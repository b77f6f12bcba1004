"""fastnn.vision.utils: make_grid's tiling, padding and normalization against a per-cell loop,
its gradient, and save_image's PNG bytes read back."""

import io

import numpy as np
import pytest

import fastnn
from fastnn.vision.utils import make_grid, save_image


def _reference_grid(images, nrow, padding, pad_value):
    n, c, h, w = images.shape
    cols = min(nrow, n)
    rows = -(-n // cols)
    grid = np.full((c, rows * (h + padding) + padding, cols * (w + padding) + padding), pad_value)
    for k in range(n):
        y, x = divmod(k, cols)
        top, left = y * (h + padding) + padding, x * (w + padding) + padding
        grid[:, top : top + h, left : left + w] = images[k]
    return grid


@pytest.mark.parametrize(("n", "nrow", "padding"), [(5, 2, 2), (8, 8, 0), (3, 4, 1), (7, 3, 3)])
def test_grid_matches_cell_by_cell_placement(n, nrow, padding):
    x = np.random.default_rng(n).random((n, 3, 4, 5))
    got = make_grid(fastnn.tensor(x), nrow=nrow, padding=padding, pad_value=0.25)
    np.testing.assert_array_equal(got.numpy(), _reference_grid(x, nrow, padding, 0.25))


def test_grey_images_become_three_channels_and_one_image_is_unpadded():
    x = np.random.default_rng(1).random((4, 1, 3, 3)).astype(np.float32)
    g = make_grid(fastnn.tensor(x), nrow=2)
    np.testing.assert_array_equal(g.numpy(), _reference_grid(np.repeat(x, 3, 1), 2, 2, 0.0))
    one = make_grid(fastnn.tensor(x[:1]))
    assert tuple(one.shape) == (3, 3, 3)
    assert tuple(make_grid(fastnn.tensor(x[0, 0])).shape) == (3, 3, 3)
    listed = make_grid([fastnn.tensor(x[i]) for i in range(4)], nrow=2)
    np.testing.assert_array_equal(listed.numpy(), g.numpy())


def test_normalize_over_the_batch_each_image_or_a_range():
    x = np.stack([np.full((1, 2, 2), 2.0), np.full((1, 2, 2), 4.0)])
    x[0, 0, 0, 0] = 0.0
    g = make_grid(fastnn.tensor(x), padding=0, normalize=True).numpy()
    assert g.min() == 0.0 and g.max() == 1.0 and g[0, 0, 2] == 1.0 and g[0, 1, 0] == 0.5
    each = make_grid(fastnn.tensor(x), padding=0, normalize=True, scale_each=True).numpy()
    assert each[0, 1, 0] == 1.0 and each[0, 0, 2] == 0.0  # a constant image maps to 0
    ranged = make_grid(fastnn.tensor(x), padding=0, normalize=True, value_range=(0.0, 2.0)).numpy()
    assert ranged.max() == 1.0 and ranged[0, 1, 0] == 1.0
    with pytest.raises(TypeError, match="value_range"):
        make_grid(fastnn.tensor(x), normalize=True, value_range=[0, 1])
    with pytest.raises(TypeError, match="tensor or list of tensors"):
        make_grid(x)


def test_grid_keeps_the_gradient_path():
    x = fastnn.rand(3, 3, 2, 2, requires_grad=True)
    (make_grid(x, nrow=2) * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((3, 3, 2, 2), 2.0))


def _read_png(data):
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "PNG"
        return np.asarray(im)


def test_save_image_writes_a_png_of_the_grid(tmp_path):
    pytest.importorskip("PIL")
    x = np.random.default_rng(2).random((5, 3, 4, 4)).astype(np.float32)
    path = tmp_path / "grid.png"
    save_image(fastnn.tensor(x), str(path), nrow=3)
    expected = np.clip(_reference_grid(x, 3, 2, 0.0) * 255 + 0.5, 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(_read_png(path.read_bytes()), expected.transpose(1, 2, 0))
    buf = io.BytesIO()
    save_image(fastnn.tensor(x), buf, format="png", nrow=3)
    assert buf.getvalue() == path.read_bytes()
