"""The 2-D Gaussian mixtures: means, std and mode weights as specified, reproducible by seed."""

import numpy as np
import pytest

import minigan
from minigan.data import TOY_DATASETS, modes, sample

SPEC = {"ring8": (8, 0.01), "grid25": (25, 0.05)}


def test_names():
    assert TOY_DATASETS == ("ring8", "grid25")


def test_ring8_modes():
    centers, std = modes("ring8")
    assert centers.shape == (8, 2) and centers.dtype == np.float64 and std == 0.01
    np.testing.assert_allclose(np.hypot(centers[:, 0], centers[:, 1]), 1.0)
    angles = np.arctan2(centers[:, 1], centers[:, 0]) % (2 * np.pi)
    np.testing.assert_allclose(angles, 2 * np.pi * np.arange(8) / 8, atol=1e-12)
    np.testing.assert_allclose(centers[2], [0.0, 1.0], atol=1e-12)


def test_grid25_modes():
    centers, std = modes("grid25")
    assert centers.shape == (25, 2) and std == 0.05
    expected = {(float(a), float(b)) for a in (-4, -2, 0, 2, 4) for b in (-4, -2, 0, 2, 4)}
    assert {tuple(c) for c in centers.tolist()} == expected


@pytest.mark.parametrize("name", TOY_DATASETS)
def test_samples_follow_the_mixture(name):
    n = 20000
    k_modes, std = SPEC[name]
    x = sample(name, n, np.random.default_rng(0))
    assert x.shape == (n, 2) and x.dtype == np.float32
    centers, _ = modes(name)
    d = np.linalg.norm(x[:, None, :].astype(np.float64) - centers[None], axis=2)  # (n, K)
    nearest = d.argmin(axis=1)
    assert d.min(axis=1).max() < 5 * std  # every point is within 5 std of a mode
    fractions = np.bincount(nearest, minlength=k_modes) / n
    np.testing.assert_allclose(fractions, 1 / k_modes, atol=5 * np.sqrt((1 / k_modes) * (1 - 1 / k_modes) / n))
    residual = x - centers[nearest]
    assert abs(residual.mean()) < 5 * std / np.sqrt(2 * n)
    np.testing.assert_allclose(residual.std(axis=0), std, rtol=0.05)


def test_seed_reproducible():
    a = sample("ring8", 100, np.random.default_rng(7))
    b = sample("ring8", 100, np.random.default_rng(7))
    c = sample("ring8", 100, np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_default_rng_is_the_runs_generator():
    minigan.manual_seed(3)
    a = sample("grid25", 50)
    minigan.manual_seed(3)
    b = sample("grid25", 50)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, sample("grid25", 50, np.random.default_rng(3)))


def test_bad_input():
    with pytest.raises(ValueError, match="Unknown 2-D toy dataset 'ring9': choose one of ring8, grid25"):
        modes("ring9")
    with pytest.raises(ValueError, match="must be >= 0"):
        sample("ring8", -1)
    assert sample("ring8", 0).shape == (0, 2)


@pytest.mark.parametrize("name", ["moons", "spiral", "gaussian"])
def test_the_shapes_are_seeded_float32_and_inside_the_labs_square(name):
    from minigan.data import sample_shape

    a = sample_shape(name, 4000, np.random.default_rng(0))
    assert a.shape == (4000, 2) and a.dtype == np.float32
    np.testing.assert_array_equal(a, sample_shape(name, 4000, np.random.default_rng(0)))
    assert np.abs(a).max() < 1.5


def test_the_shapes_are_the_curves_they_say():
    from minigan.data import sample_shape

    rng = np.random.default_rng(1)
    g = sample_shape("gaussian", 20000, rng).astype(np.float64)
    np.testing.assert_allclose(g.mean(0), [0.5, 0.25], atol=0.01)
    np.testing.assert_allclose(g.std(0), [0.25, 0.25], rtol=0.03)
    m = sample_shape("moons", 20000, rng).astype(np.float64) / 0.6 + np.array([0.5, 0.25])
    # every point lies near one of the two unit half circles, centres (0, 0) and (1, 0.5)
    r = np.minimum(abs(np.hypot(*m.T) - 1), abs(np.hypot(m[:, 0] - 1, m[:, 1] - 0.5) - 1))
    assert np.quantile(r, 0.99) < 3 * 0.04 / 0.6 * 1.2
    s = sample_shape("spiral", 5000, rng).astype(np.float64)
    t = np.linspace(0, 1, 3000)
    curve = 1.2 * t[:, None] * np.stack([np.cos(4 * np.pi * t), np.sin(4 * np.pi * t)], 1)
    off = np.sqrt(((s[:, None] - curve[None]) ** 2).sum(-1)).min(1)  # distance to the noiseless arm
    assert np.quantile(off, 0.99) < 3.5 * 0.02 and np.median(off) > 0.005


def test_drawn_points_are_a_drawn_point_plus_noise_and_bad_points_say_so():
    from minigan.data import sample_points

    pts = np.array([[0.0, 0.0], [1.0, -1.0]])
    x = sample_points(pts, 5000, np.random.default_rng(2), std=0.05).astype(np.float64)
    nearest = np.linalg.norm(x[:, None] - pts[None], axis=-1).argmin(1)
    assert abs(nearest.mean() - 0.5) < 0.03
    np.testing.assert_allclose((x - pts[nearest]).std(0), [0.05, 0.05], rtol=0.05)
    with pytest.raises(ValueError, match="non-empty list of \\(x, y\\) pairs, got shape \\(0,\\)"):
        sample_points([], 3)
