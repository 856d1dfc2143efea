"""The 2-D Gaussian mixtures of the PacGAN paper (Lin et al., 2018), generated, never downloaded.

Mode collapse is easy to *see* on them: a generator that covers 3 of the 8 modes of
``ring8`` draws 3 blobs where p_data has 8.

* ``ring8``: 8 Gaussians, means on the unit circle at angles 2*pi*k/8, std 0.01.
* ``grid25``: 25 Gaussians, means on the grid {-4, -2, 0, 2, 4}^2, std 0.05.

p_data(x) = (1/K) * sum_k N(x; mu_k, std^2 I): pick a mode uniformly, then add noise.

Three more 2-D sets without countable modes, for the lab (``TOY_SHAPES``, ``sample_shape``), all
inside the square [-1.5, 1.5]^2 like ``ring8``:

* ``moons``: two interleaved half circles of radius 0.6 (as scikit-learn's ``make_moons``), noise std 0.04;
* ``spiral``: x = 1.2 t (cos 4 pi t, sin 4 pi t) with t = sqrt(u), u ~ U(0, 1) (even density along
  the arm), noise std 0.02;
* ``gaussian``: one Gaussian N((0.5, 0.25), 0.25^2 I): not G's prior p_z, so G must move and shrink it.

And ``sample_points(points, n)``: a distribution a student draws, each sample one of the drawn points
picked uniformly plus Gaussian noise (std 0.05).
"""

from __future__ import annotations

import numpy as np

from minigan import backend

__all__ = ["TOY_DATASETS", "TOY_SHAPES", "modes", "sample", "sample_shape", "sample_points", "toy_scale"]

TOY_DATASETS = ("ring8", "grid25")
TOY_SHAPES = ("moons", "spiral", "gaussian")
DRAWN_STD = 0.05  # the noise around each drawn point


def _check(name: str) -> str:
    key = str(name).lower()
    if key not in TOY_DATASETS:
        raise ValueError(f"Unknown 2-D toy dataset {name!r}: choose one of {', '.join(TOY_DATASETS)}.")
    return key


def modes(name: str) -> tuple[np.ndarray, float]:
    """The mixture's means and common std: ``(centers (K, 2) float64, std)``.

    ``ring8``: K = 8, std 0.01. ``grid25``: K = 25, std 0.05.
    """
    key = _check(name)
    if key == "ring8":
        angles = 2 * np.pi * np.arange(8) / 8
        return np.stack([np.cos(angles), np.sin(angles)], axis=1), 0.01
    ticks = np.arange(-4.0, 5.0, 2.0)  # -4, -2, 0, 2, 4
    gx, gy = np.meshgrid(ticks, ticks, indexing="ij")
    return np.stack([gx.ravel(), gy.ravel()], axis=1), 0.05


def sample(name: str, n: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Draw ``n`` points x ~ p_data: a mode k ~ U{0..K-1}, then x = mu_k + std * eps, eps ~ N(0, I).

    Returns a host NumPy array (n, 2) float32. ``rng`` defaults to the run's generator
    (``minigan.backend.generator()``), so a seed makes the data reproducible.
    """
    centers, std = modes(name)
    n = int(n)
    if n < 0:
        raise ValueError(f"Number of samples must be >= 0, got {n}.")
    rng = backend.generator() if rng is None else rng
    k = rng.integers(0, len(centers), size=n)
    x = centers[k] + std * rng.standard_normal((n, 2))
    return x.astype(np.float32)


def toy_scale(name: str) -> float:
    """The mixture's spread: the root mean square of x - E[x] per coordinate (exact, not sampled).

    ``ring8``: sqrt(1/2 + 0.01^2) = 0.707; ``grid25``: sqrt(8 + 0.05^2) = 2.83.
    """
    centers, std = modes(name)
    return float(np.sqrt(((centers - centers.mean(0)) ** 2).mean() + std**2))


def sample_shape(name: str, n: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Draw ``n`` points (n, 2) float32 from one of ``TOY_SHAPES`` (see the module's docstring)."""
    key = str(name).lower()
    if key not in TOY_SHAPES:
        raise ValueError(f"Unknown 2-D shape {name!r}: choose one of {', '.join(TOY_SHAPES)}.")
    n = int(n)
    if n < 0:
        raise ValueError(f"Number of samples must be >= 0, got {n}.")
    rng = backend.generator() if rng is None else rng
    if key == "moons":
        t = np.pi * rng.random(n)
        upper = rng.random(n) < 0.5
        x = np.where(upper[:, None], np.stack([np.cos(t), np.sin(t)], 1),
                     np.stack([1.0 - np.cos(t), 0.5 - np.sin(t)], 1))
        x = 0.6 * (x - np.array([0.5, 0.25])) + 0.04 * rng.standard_normal((n, 2))
    elif key == "spiral":
        t = np.sqrt(rng.random(n))
        x = 1.2 * t[:, None] * np.stack([np.cos(4 * np.pi * t), np.sin(4 * np.pi * t)], 1)
        x = x + 0.02 * rng.standard_normal((n, 2))
    else:
        x = np.array([0.5, 0.25]) + 0.25 * rng.standard_normal((n, 2))
    return x.astype(np.float32)


def sample_points(points: np.ndarray, n: int, rng: np.random.Generator | None = None,
                  std: float = DRAWN_STD) -> np.ndarray:
    """``n`` samples (n, 2) float32 of a drawn distribution: a point of ``points`` (P, 2), picked
    uniformly, plus noise std * eps, eps ~ N(0, I)."""
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) == 0:
        raise ValueError(f"Drawn points must be a non-empty list of (x, y) pairs, got shape {points.shape}.")
    rng = backend.generator() if rng is None else rng
    k = rng.integers(0, len(points), size=int(n))
    return (points[k] + std * rng.standard_normal((int(n), 2))).astype(np.float32)
