"""How good is a GAN? Measurements on its samples.

2-D mixtures (``ring8``, ``grid25``), the protocol of PacGAN (Lin et al. 2018): draw
2,500 samples; a sample is *high quality* when it lies within 3 standard deviations
of its nearest mode; a mode is *covered* when at least one high-quality sample is
nearest to it; the *reverse KL* compares the share of high-quality samples per mode,
q_k, with the data's uniform 1/K:  KL(q || p) = sum_k q_k log(q_k K).  A GAN that
drops modes has few modes covered and a large reverse KL; one that smears between
modes has a low high-quality fraction.

Images (MNIST, Fashion-MNIST, ...), through a classifier of the dataset
(:mod:`minigan.measure.classifier`): the Fréchet distance between Gaussians fitted to its
penultimate features of the samples and of the reference (test) images (FID with a
small CNN in place of Inception: comparable across runs scored by the same classifier,
not with published FIDs); the histogram of predicted classes, its KL to uniform and the
classes covered (mode dropping); and the classifier score exp(E_x KL(p(y|x) || p(y)))
(the Inception score's analogue: 1 to 10, high when samples are recognisable and varied).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigan.data import modes

__all__ = ["toy_quality", "frechet_distance", "class_histogram", "kl_to_uniform", "classes_covered",
           "classifier_score", "image_quality", "COVERED_SHARE"]


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


# --------------------------------------------------------------------------- images
#
# Images are scored through a classifier trained on the dataset (minigan.measure.classifier): its
# class probabilities p(y|x) and its 128-d penultimate features phi(x).

COVERED_SHARE = 0.1  # a class is covered when it gets >= 10% of its uniform share (1% of samples for 10 classes)


def _features(name: str, a: Any) -> np.ndarray:
    f = np.asarray(a, dtype=np.float64)
    if f.ndim != 2 or len(f) < 2:
        raise ValueError(f"frechet_distance expects features of shape (N, d) with N >= 2, got {name} of {f.shape}.")
    if not np.isfinite(f).all():
        raise ValueError(f"frechet_distance: {name} holds NaN or infinite values.")
    return f


def _trace_sqrt_product(s1: np.ndarray, s2: np.ndarray) -> float:
    """tr sqrt(S1 S2) = tr sqrt(sqrt(S1) S2 sqrt(S1)), with symmetric eigendecompositions only.

    sqrt(S1) S2 sqrt(S1) is symmetric positive semi-definite and similar to S1 S2, so both
    have the same eigenvalues; tiny negative ones from rounding are clipped to 0.
    """
    w1, v1 = np.linalg.eigh(s1)
    r1 = (v1 * np.sqrt(np.clip(w1, 0.0, None))) @ v1.T  # sqrt(S1)
    m = r1 @ s2 @ r1
    w = np.linalg.eigvalsh((m + m.T) / 2)
    return float(np.sqrt(np.clip(w, 0.0, None)).sum())


def frechet_distance(feat_a: Any, feat_b: Any) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets, a (N, d) and b (M, d):

        FD = |mu_a - mu_b|^2 + tr(S_a) + tr(S_b) - 2 tr sqrt(S_a S_b)

    with means mu and covariances S (ddof = 1), in float64. FID when the features are Inception's.
    """
    a, b = _features("feat_a", feat_a), _features("feat_b", feat_b)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"frechet_distance: the two feature sets differ in width, {a.shape} and {b.shape}.")
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    fd = ((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2.0 * _trace_sqrt_product(s_a, s_b)
    return float(max(fd, 0.0))


def class_histogram(probs: Any, n_classes: int | None = None) -> np.ndarray:
    """Counts of argmax_y p(y|x) over the samples: probs (N, K) -> (K,) int64."""
    p = np.asarray(probs)
    if p.ndim != 2:
        raise ValueError(f"class_histogram expects probabilities of shape (N, K), got {p.shape}.")
    return np.bincount(p.argmax(1), minlength=n_classes or p.shape[1]).astype(np.int64)


def kl_to_uniform(counts: Any) -> float:
    """KL(q || uniform) = sum_k q_k log(q_k K), q = counts / sum(counts): 0 for balanced classes,
    log K when every sample falls in one class."""
    c = np.asarray(counts, dtype=np.float64)
    if c.ndim != 1 or (c < 0).any() or c.sum() <= 0:
        raise ValueError(f"kl_to_uniform expects non-negative counts (K,) with a positive sum, got {c}.")
    q = c / c.sum()
    nz = q > 0
    return float((q[nz] * np.log(q[nz] * len(c))).sum())


def classes_covered(counts: Any, share: float = COVERED_SHARE) -> int:
    """Classes holding at least ``share`` of their uniform share of the samples: counts_k >= share * N / K."""
    c = np.asarray(counts, dtype=np.float64)
    return int((c >= share * c.sum() / len(c)).sum()) if c.sum() > 0 else 0


def classifier_score(probs: Any, eps: float = 1e-12) -> float:
    """The Inception-score analogue: exp(E_x KL(p(y|x) || p(y))), p(y) = E_x p(y|x).  probs: (N, K).

    Between 1 (every sample gets the same prediction) and K (confident predictions spread
    evenly over the K classes).
    """
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or len(p) == 0:
        raise ValueError(f"classifier_score expects probabilities of shape (N, K), got {p.shape}.")
    py = p.mean(0, keepdims=True)
    kl = (p * (np.log(p + eps) - np.log(py + eps))).sum(1)
    return float(np.exp(kl.mean()))


def image_quality(samples: Any, dataset: str, classifier: Any, reference: Any,
                  reference_features: np.ndarray | None = None,
                  features_and_probs: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, Any]:
    """Scores of images (N, 1, 28, 28) in [-1, 1] through ``classifier`` (see minigan.measure.classifier):

    - ``fd``: frechet_distance of phi(samples) to phi(reference), the reference set's images;
    - ``histogram``: the K class counts of argmax p(y|x); ``class_kl``: its kl_to_uniform;
    - ``classes_covered`` (of ``n_classes``): classes with >= 10% of their uniform share;
    - ``classifier_score``: exp(E KL(p(y|x) || p(y))).

    ``reference_features`` (phi of ``reference``, (M, 128)) and ``features_and_probs`` (phi and
    p(y|x) of ``samples``) save computing them again.
    """
    if getattr(classifier, "dataset", dataset) != dataset:
        raise ValueError(f"the classifier was trained on {classifier.dataset}, not on {dataset}.")
    ref = classifier.features(reference) if reference_features is None else reference_features
    if features_and_probs is not None:
        feats, probs = features_and_probs
    elif hasattr(classifier, "features_and_probs"):  # one forward pass for both
        feats, probs = classifier.features_and_probs(samples)
    else:
        feats, probs = classifier.features(samples), classifier.probs(samples)
    counts = class_histogram(probs)
    return {"fd": frechet_distance(feats, ref), "histogram": counts.tolist(),
            "class_kl": kl_to_uniform(counts), "classes_covered": classes_covered(counts), "n_classes": len(counts),
            "classifier_score": classifier_score(probs), "n_samples": int(len(probs))}
