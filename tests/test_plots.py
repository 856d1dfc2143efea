"""Figures: grid layout values, files that read back, d_fn's grid, clear errors on bad shapes."""

import re

import matplotlib.image as mpimg
import numpy as np
import pytest
from PIL import Image

import minigan
from minigan.gan import plots

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _png(path):
    assert path.exists()
    assert path.read_bytes()[:8] == PNG_MAGIC
    return mpimg.imread(path)


def _constants(values, c=1, h=2, w=3):
    """(N, c, h, w) images, image k filled with values[k]."""
    return np.stack([np.full((c, h, w), v, dtype=np.float32) for v in values])


def _ring(n=64, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.uniform(0, 2 * np.pi, n)
    real = np.stack([np.cos(a), np.sin(a)], 1) * 2
    return real, real * 0.8 + 0.1 * rng.standard_normal((n, 2))


def _sigmoid_of_radius(p):
    return 1 / (1 + np.exp(-(2 - 4 * np.abs(np.linalg.norm(p, axis=1) - 2))))


# --------------------------------------------------------------------------- image_grid


def test_image_grid_layout_values_exact():
    # 4 images (1, 2, 3) valued -1, 0, 1, 0.5; 2 per row; padding 2 -> (2*4+2, 2*5+2).
    grid = plots.image_grid(_constants([-1.0, 0.0, 1.0, 0.5]), nrow=2, padding=2, pad_value=0.25)
    expected = np.full((10, 12), 0.25)
    expected[2:4, 2:5] = 0.0     # (-1 + 1) / 2
    expected[2:4, 7:10] = 0.5    # (0 + 1) / 2
    expected[6:8, 2:5] = 1.0     # (1 + 1) / 2
    expected[6:8, 7:10] = 0.75   # (0.5 + 1) / 2
    np.testing.assert_array_equal(grid, expected)


def test_image_grid_default_nrow_is_ceil_sqrt_and_last_row_padded():
    grid = plots.image_grid(_constants([0.0] * 5, h=4, w=4), padding=1, pad_value=1.0)
    assert grid.shape == (2 * 5 + 1, 3 * 5 + 1)  # ceil(sqrt(5)) = 3 per row, 2 rows
    np.testing.assert_array_equal(grid[6:10, 11:15], 1.0)  # slot 6 is empty: padding colour
    np.testing.assert_array_equal(grid[6:10, 6:10], 0.5)   # image 4, second row, second column


@pytest.mark.parametrize("nrow, shape", [(1, (3 * 4 + 2, 1 * 4 + 2)), (3, (1 * 4 + 2, 3 * 4 + 2)),
                                         (10, (1 * 4 + 2, 3 * 4 + 2))])
def test_image_grid_nrow(nrow, shape):
    grid = plots.image_grid(_constants([-1.0, 0.0, 1.0], h=2, w=2), nrow=nrow)
    assert grid.shape == shape
    assert grid.dtype == np.float64


def test_image_grid_rgb_keeps_channels_and_clips():
    x = np.zeros((2, 3, 2, 2))
    x[:, 0], x[:, 1], x[:, 2] = -1.0, 0.0, 1.0
    x[1, 2] = 5.0  # out of range: clipped to 1
    x[1, 0] = -7.0  # clipped to -1
    grid = plots.image_grid(x, nrow=2, padding=0)
    assert grid.shape == (2, 4, 3)
    np.testing.assert_array_equal(grid[0, 0], [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(grid[1, 3], [0.0, 0.5, 1.0])


@pytest.mark.parametrize("shape", [(28, 28), (4, 28, 28), (4, 2, 8, 8), (0, 1, 8, 8)])
def test_image_grid_bad_shape(shape):
    with pytest.raises(ValueError, match=re.escape(f"images must be (N, C, H, W) with N >= 1 and C = 1 or 3, "
                                                   f"got shape {shape}.")):
        plots.image_grid(np.zeros(shape))


def test_image_grid_rejects_nan_and_device_tensors():
    with pytest.raises(ValueError, match="NaN or inf: G has diverged"):
        plots.image_grid(np.full((1, 1, 2, 2), np.nan))
    with pytest.raises(TypeError, match=r"plots take host NumPy arrays, convert with minigan.backend.to_numpy"):
        plots.image_grid(minigan.zeros(1, 1, 2, 2))


# --------------------------------------------------------------------------- save_grid


def test_save_grid_writes_exact_pixels_upscaled(tmp_path):
    images = _constants([1.0, -1.0], h=3, w=3)
    path = plots.save_grid(images, tmp_path / "grid.png", nrow=2)
    assert path == tmp_path / "grid.png"
    img = _png(path)
    assert img.shape == (2 * (3 + 2 + 2), 2 * (2 * 5 + 2), 4)  # grid (7, 12) at 2x, RGBA
    np.testing.assert_array_equal(img[..., 0], img[..., 2])  # gray
    np.testing.assert_array_equal(img[4:10, 4:10, 0], 1.0)  # image 0 (white) top-left, not flipped
    np.testing.assert_array_equal(img[4:10, 14:20, 0], 0.0)  # image 1 (black) to its right
    np.testing.assert_array_equal(img[0:4, :, 0], 1.0)  # white padding


def test_save_grid_with_title_and_row_labels(tmp_path):
    images = _constants(np.linspace(-1, 1, 6), h=8, w=8)
    path = plots.save_grid(images, tmp_path / "sub" / "cgan.png", nrow=3, title="step 10", row_labels=["0", "1"])
    img = _png(path)
    assert img.shape[0] > 2 * 10 + 2 and img.shape[1] > 3 * 10 + 2
    with pytest.raises(ValueError, match=re.escape("one label per grid row (2), got 3.")):
        plots.save_grid(images, tmp_path / "bad.png", nrow=3, row_labels=["0", "1", "2"])


# --------------------------------------------------------------------------- curves


def test_moving_average_values_and_nan():
    np.testing.assert_allclose(plots.moving_average(np.array([1.0, 2, 3, 4]), 2), [1.0, 1.5, 2.5, 3.5])
    np.testing.assert_allclose(plots.moving_average(np.array([1.0, np.nan, 3, 5]), 2), [1.0, 1.0, 3.0, 4.0])
    # Default window: T // 25 = 4 for T = 100; the mean of t-3..t is t - 1.5, of 0..t (t < 3) is t / 2.
    t = np.arange(100.0)
    np.testing.assert_allclose(plots.moving_average(t), np.where(t >= 3, t - 1.5, t / 2))


def test_plot_losses_and_d_outputs_write_pngs(tmp_path):
    steps = np.arange(300)
    noise = np.random.default_rng(0).standard_normal(300)
    img = _png(plots.plot_losses(steps, 1.4 + 0.1 * noise, 0.7 - 0.1 * noise, tmp_path / "loss.png", title="t"))
    assert img.shape[:2] == (400, 700)
    img = _png(plots.plot_d_outputs(steps, 0.6 + 0.01 * noise, 0.4 - 0.01 * noise, tmp_path / "d.png"))
    assert img.shape[:2] == (400, 700)
    # A WGAN critic: scores outside [0, 1], no equilibrium line.
    assert _png(plots.plot_d_outputs(steps, 3 + noise, -2 + noise, tmp_path / "critic.png", ideal=None)).size


def test_curves_bad_shapes(tmp_path):
    with pytest.raises(ValueError, match=re.escape("g_loss must have the shape of steps (5,), got shape (4,).")):
        plots.plot_losses(np.arange(5), np.zeros(5), np.zeros(4), tmp_path / "x.png")
    with pytest.raises(ValueError, match=re.escape("steps must be a non-empty 1-D array (T,), got shape (0,).")):
        plots.plot_d_outputs([], [], [], tmp_path / "x.png")


# --------------------------------------------------------------------------- 2-D


def test_plot_2d_field_calls_d_fn_on_float32_grid_over_extent(tmp_path):
    calls = []

    def d_fn(points):
        calls.append(points.copy())
        return _sigmoid_of_radius(points)

    real, fake = _ring()
    modes = np.array([[2.0, 0.0], [-2.0, 0.0]])
    path = plots.plot_2d_field(real, fake, d_fn, tmp_path / "field.png", step=7, extent=(-3, 3, -2, 4),
                               resolution=20, modes=modes)
    assert _png(path).shape[2] == 4
    (points,) = calls
    assert points.dtype == np.float32 and points.shape == (400, 2)
    np.testing.assert_allclose(points.min(axis=0), [-3, -2])
    np.testing.assert_allclose(points.max(axis=0), [3, 4])
    assert len(np.unique(points[:, 0])) == 20 and len(np.unique(points[:, 1])) == 20


def test_plot_2d_field_default_extent_is_square_with_margin(tmp_path):
    calls = []
    real = np.array([[0.0, 0.0], [2.0, 1.0]])
    fake = np.array([[1.0, 0.5]])
    plots.plot_2d_field(real, fake, lambda p: calls.append(p) or np.full(len(p), 0.5), tmp_path / "f.png",
                        resolution=5)
    lo, hi = calls[0].min(axis=0), calls[0].max(axis=0)
    np.testing.assert_allclose(lo, [1 - 1.15, 0.5 - 1.15], rtol=1e-6)  # half-width 1 (x range), +15%
    np.testing.assert_allclose(hi, [1 + 1.15, 0.5 + 1.15], rtol=1e-6)


def test_plot_2d_field_bad_inputs(tmp_path):
    real, fake = _ring(8)
    with pytest.raises(ValueError, match=re.escape("real must be points of shape (N, 2), got shape (8, 3).")):
        plots.plot_2d_field(np.zeros((8, 3)), fake, _sigmoid_of_radius, tmp_path / "x.png")
    with pytest.raises(ValueError, match=re.escape("d_fn must map points (M, 2) to probabilities (M,), "
                                                   "got shape (100, 2) for M = 100.")):
        plots.plot_2d_field(real, fake, lambda p: p, tmp_path / "x.png", resolution=10)
    with pytest.raises(ValueError, match="apply the sigmoid to D's logits"):
        plots.plot_2d_field(real, fake, lambda p: 5 * p[:, 0], tmp_path / "x.png", resolution=10)
    with pytest.raises(ValueError, match=re.escape("extent must be (xmin, xmax, ymin, ymax)")):
        plots.plot_2d_field(real, fake, _sigmoid_of_radius, tmp_path / "x.png", extent=(1, 0, 0, 1))


def test_field_frames_share_a_shape_and_make_a_gif(tmp_path):
    real, fake = _ring()
    frames = [plots.field_frame(real, fake * s, _sigmoid_of_radius, step=k, extent=(-3, 3, -3, 3), resolution=16)
              for k, s in enumerate([0.2, 0.6, 1.0])]
    assert all(f.dtype == np.uint8 and f.ndim == 3 and f.shape[2] == 3 for f in frames)
    assert frames[0].shape == frames[1].shape == frames[2].shape
    assert not np.array_equal(frames[0], frames[2])
    path = plots.save_gif(frames, tmp_path / "train.gif", fps=5)
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.n_frames == 3
        assert gif.size == (frames[0].shape[1], frames[0].shape[0])
        assert gif.info["duration"] == 200


def test_save_gif_bad_frames(tmp_path):
    f = np.zeros((4, 5, 3), np.uint8)
    with pytest.raises(ValueError, match=re.escape("frames[0] is (4, 5, 3), frames[1] is (4, 6, 3).")):
        plots.save_gif([f, np.zeros((4, 6, 3), np.uint8)], tmp_path / "x.gif")
    with pytest.raises(ValueError, match=re.escape("frames[1] must be an RGB image (H, W, 3), got shape (4, 5).")):
        plots.save_gif([f, f[..., 0]], tmp_path / "x.gif")
    with pytest.raises(ValueError, match=re.escape("frames[0] must be uint8, got float64")):
        plots.save_gif([f / 255.0], tmp_path / "x.gif")
    with pytest.raises(ValueError, match="frames is empty"):
        plots.save_gif([], tmp_path / "x.gif")


def test_plot_samples_2d(tmp_path):
    real, fake = _ring()
    img = _png(plots.plot_samples_2d(real, fake, tmp_path / "s.png", modes=real[:4], title="eval"))
    assert img.shape[:2] == (520, 520)
    with pytest.raises(ValueError, match=re.escape("fake must be points of shape (N, 2), got shape (64,).")):
        plots.plot_samples_2d(real, fake[:, 0], tmp_path / "s.png")


def test_field_is_drawn_upright():
    # D says "real" (1, green) for y > 0 and "generated" (0, purple) below: green must be on top.
    far = np.array([[50.0, 50.0]])  # outside the extent: no points drawn
    frame = plots.field_frame(far, far, lambda p: (p[:, 1] > 0).astype(np.float32), extent=(-1, 1, -1, 1),
                              resolution=8).astype(int)
    h, w, _ = frame.shape
    top, bottom = frame[int(0.25 * h), int(0.4 * w)], frame[int(0.75 * h), int(0.4 * w)]
    assert top[1] > top[0] and top[1] > top[2]          # green
    assert bottom[0] > bottom[1] and bottom[2] > bottom[1]  # purple
