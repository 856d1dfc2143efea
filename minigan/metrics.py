"""How good is a GAN? Measurements on its samples.

2-D mixtures (``ring8``, ``grid25``), the protocol of PacGAN (Lin et al. 2018): draw
2,500 samples; a sample is *high quality* when it lies within 3 standard deviations
of its nearest mode; a mode is *covered* when at least one high-quality sample is
nearest to it; the *reverse KL* compares the share of high-quality samples per mode,
q_k, with the data's uniform 1/K:  KL(q || p) = sum_k q_k log(q_k K).  A GAN that
drops modes has few modes covered and a large reverse KL; one that smears between
modes has a low high-quality fraction.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigan.data import modes

__all__ = ["toy_quality"]


def toy_quality(samples: Any, dataset: str) -> dict[str, float]:
    """PacGAN's 2-D scores of samples (N, 2) against the mixture ``dataset``.

    Returns {"modes_covered", "n_modes", "high_quality" (a fraction in [0, 1]), "reverse_kl", "n_samples"}.
    """
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"toy_quality expects 2-D points of shape (N, 2), got {x.shape}.")
    centers, std = modes(dataset)
    d2 = ((x[:, None, :] - centers[None, :, :]) ** 2).sum(-1)  # (N, K) squared distances
    nearest = d2.argmin(1)
    good = np.sqrt(d2[np.arange(len(x)), nearest]) <= 3.0 * std
    counts = np.bincount(nearest[good], minlength=len(centers))
    k = len(centers)
    q = counts / max(counts.sum(), 1)
    nz = q > 0
    reverse_kl = float((q[nz] * np.log(q[nz] * k)).sum()) if counts.sum() else float("inf")
    return {"modes_covered": int((counts > 0).sum()), "n_modes": k, "high_quality": float(good.mean()),
            "reverse_kl": reverse_kl, "n_samples": int(len(x))}
