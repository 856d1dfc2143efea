"""The 2-D Gaussian mixtures of the PacGAN paper (Lin et al., 2018), generated, never downloaded.

Mode collapse is easy to *see* on them: a generator that covers 3 of the 8 modes of
``ring8`` draws 3 blobs where p_data has 8.

* ``ring8``: 8 Gaussians, means on the unit circle at angles 2*pi*k/8, std 0.01.
* ``grid25``: 25 Gaussians, means on the grid {-4, -2, 0, 2, 4}^2, std 0.05.

p_data(x) = (1/K) * sum_k N(x; mu_k, std^2 I): pick a mode uniformly, then add noise.
"""

from __future__ import annotations

import numpy as np

from minigan import backend

__all__ = ["TOY_DATASETS", "modes", "sample", "toy_scale"]

TOY_DATASETS = ("ring8", "grid25")


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
