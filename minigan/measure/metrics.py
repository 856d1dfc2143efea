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

Quality and diversity apart, in any features (the classifier's for images, the raw coordinates
for the toys), between a real set R (M, d) and a generated set F (N, d):

- the k-nearest-neighbour manifold of a set: the union of balls around each of its points, the
  radius of each its distance to its k-th nearest neighbour in the same set;
- *precision* (Kynkäänniemi et al. 2019): the share of F inside R's manifold (are the samples
  realistic?); *recall*: the share of R inside F's manifold (is all of the data produced?);
- *density* (Naeem et al. 2020): how many real balls hold each sample, divided by k and averaged
  (about 1 for a sample of the data itself; above 1 where samples crowd where the data is dense);
  *coverage*: the share of real points whose ball holds at least one sample. Unlike recall,
  neither is fooled by one outlying sample whose large ball swallows the data;
- *KID* (Bińkowski et al. 2018): the unbiased squared maximum mean discrepancy with the kernel
  k(x, y) = (x.y / d + 1)^3, averaged over disjoint blocks, with its standard error. Unlike the
  Fréchet distance it has no bias that depends on the number of samples: about 0 for two
  samples of one distribution at any size, so small student runs can be compared.

For any 2-D set, the Jensen-Shannon divergence between the two sets' histograms on a grid
(``histogram_js``, GAN Lab's measure): JS(p, q) = 1/2 KL(p || m) + 1/2 KL(q || m), m = (p + q)/2, in
bits, from 0 (the same histogram) to 1 (no cell shared). It needs no modes, but it is biased: two
samples of one distribution score above 0, more so for fewer samples or finer grids, so it is read
beside the score of a second real sample.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigan.data import modes

__all__ = ["toy_quality", "frechet_distance", "class_histogram", "kl_to_uniform", "classes_covered",
           "classifier_score", "image_quality", "COVERED_SHARE", "knn_radii", "prdc", "kid", "NEAREST_K",
           "KID_BLOCKS", "histogram_js"]


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


def _features(name: str, a: Any, fn: str = "frechet_distance") -> np.ndarray:
    """``a`` as float64 (N, d) with N >= 2 and finite values, or a ValueError naming ``fn`` and ``name``."""
    f = np.asarray(a, dtype=np.float64)
    if f.ndim != 2 or len(f) < 2:
        raise ValueError(f"{fn} expects features of shape (N, d) with N >= 2, got {name} of {f.shape}.")
    if not np.isfinite(f).all():
        raise ValueError(f"{fn}: {name} holds NaN or infinite values.")
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


# --------------------------------------------------------------------------- quality and diversity apart
#
# Both papers' own code (Kynkäänniemi et al.'s and Naeem et al.'s `prdc`) use Euclidean distances in the
# features; Naeem et al. recommend k = 5 for all four measures, which is what is used here.

NEAREST_K = 5
KID_BLOCKS = 10
_CHUNK = 1024  # rows of a distance matrix at once: 1024 x 10,000 float64 is 80 MB


def _sq_dists(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a_i - b_j|^2 (len(a), len(b)), as |a|^2 + |b|^2 - 2 a.b, clipped at 0 against rounding."""
    d2 = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
    return np.maximum(d2, 0.0)


def knn_radii(x: Any, k: int = NEAREST_K) -> np.ndarray:
    """The distance of each point of x (N, d) to its k-th nearest neighbour among the others: (N,).

    A point's distance to itself (0) is the first of its sorted distances, so the k-th neighbour is
    at index k; a duplicate of the point counts as a neighbour at distance 0.
    """
    pts = _features("x", x, "knn_radii")
    if not 1 <= k < len(pts):
        raise ValueError(f"knn_radii: k must lie in 1..{len(pts) - 1} for {len(pts)} points, got {k}.")
    out = np.empty(len(pts))
    for i in range(0, len(pts), _CHUNK):
        d2 = _sq_dists(pts[i:i + _CHUNK], pts)
        out[i:i + _CHUNK] = np.sqrt(np.partition(d2, k, axis=1)[:, k])
    return out


def prdc(real: Any, fake: Any, k: int = NEAREST_K, real_radii: np.ndarray | None = None) -> dict[str, float]:
    """Precision, recall (Kynkäänniemi et al. 2019), density and coverage (Naeem et al. 2020) of ``fake``
    (N, d) against ``real`` (M, d), with k-nearest-neighbour balls (see the module's docstring).

    ``real_radii`` (knn_radii(real, k)) saves computing them again when one real set scores many.
    Returns {"precision", "recall", "density", "coverage"}: each in [0, 1] but density, which may exceed 1.
    """
    r, f = _features("real", real, "prdc"), _features("fake", fake, "prdc")
    if r.shape[1] != f.shape[1]:
        raise ValueError(f"prdc: the two sets differ in width, {r.shape} and {f.shape}.")
    r_rad = knn_radii(r, k) if real_radii is None else np.asarray(real_radii, dtype=np.float64)
    if r_rad.shape != (len(r),):
        raise ValueError(f"prdc: real_radii must have shape ({len(r)},), got {r_rad.shape}.")
    f_rad = knn_radii(f, k)
    # One pass over the real-by-sample distances gives all four: per sample, how many real balls hold it
    # (precision, density); per real point, whether a sample's ball holds it (recall) and whether a
    # sample lies in its own ball (coverage).
    in_real = np.zeros(len(f), dtype=np.int64)
    recalled = np.empty(len(r), dtype=bool)
    covered = np.empty(len(r), dtype=bool)
    f_r2 = f_rad * f_rad
    for i in range(0, len(r), _CHUNK):
        d2 = _sq_dists(r[i:i + _CHUNK], f)  # (chunk, N)
        r2 = (r_rad[i:i + _CHUNK] ** 2)[:, None]
        in_real += (d2 <= r2).sum(0)
        recalled[i:i + _CHUNK] = (d2 <= f_r2[None, :]).any(1)
        covered[i:i + _CHUNK] = d2.min(1) <= r2[:, 0]
    return {"precision": float((in_real > 0).mean()), "recall": float(recalled.mean()),
            "density": float(in_real.sum() / (k * len(f))), "coverage": float(covered.mean())}


def _mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 with k(a, b) = (a.b / d + 1)^3: the off-diagonal means of K_xx and K_yy minus 2 mean K_xy."""
    d = x.shape[1]
    kxx, kyy, kxy = (x @ x.T / d + 1.0) ** 3, (y @ y.T / d + 1.0) ** 3, (x @ y.T / d + 1.0) ** 3
    m, n = len(x), len(y)
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
                 - 2.0 * kxy.mean())


def kid(real: Any, fake: Any, blocks: int = KID_BLOCKS, rng: np.random.Generator | None = None) -> dict[str, float]:
    """KID of ``fake`` (N, d) against ``real`` (M, d): the unbiased MMD^2 with the cubic polynomial kernel,
    on ``blocks`` disjoint blocks of each set (shuffled by ``rng``, seed 0 by default), and its standard error.

    Returns {"kid": the blocks' mean, "kid_se": their standard deviation / sqrt(blocks), "blocks"}. The blocks
    are disjoint, so their estimates are independent and the standard error is honest; fewer points than
    2 per block on either side lower the number of blocks (at least 2 are needed, so 4 points each).
    """
    r, f = _features("real", real, "kid"), _features("fake", fake, "kid")
    if r.shape[1] != f.shape[1]:
        raise ValueError(f"kid: the two sets differ in width, {r.shape} and {f.shape}.")
    b = min(int(blocks), len(r) // 2, len(f) // 2)
    if b < 2:
        raise ValueError(f"kid needs at least 4 points on each side for 2 blocks, got {len(r)} real and {len(f)}.")
    rng = np.random.default_rng(0) if rng is None else rng
    rb = np.array_split(r[rng.permutation(len(r))], b)
    fb = np.array_split(f[rng.permutation(len(f))], b)
    est = np.array([_mmd2_unbiased(x, y) for x, y in zip(rb, fb)])
    return {"kid": float(est.mean()), "kid_se": float(est.std(ddof=1) / np.sqrt(b)), "blocks": int(b)}


def histogram_js(real: Any, fake: Any, lo: float, hi: float, cells: int = 30) -> float:
    """JS(p, q) in bits between the histograms p of ``real`` (M, 2) and q of ``fake`` (N, 2) on a
    ``cells`` x ``cells`` grid over the square [lo, hi]^2; points outside it count in its edge cells.

    JS = 1/2 sum_c p_c log2(p_c / m_c) + 1/2 sum_c q_c log2(q_c / m_c), m = (p + q) / 2 (0 log 0 = 0):
    finite without smoothing, in [0, 1].
    """
    r, f = _features("real", real, "histogram_js"), _features("fake", fake, "histogram_js")
    if r.shape[1] != 2 or f.shape[1] != 2:
        raise ValueError(f"histogram_js expects 2-D points (N, 2), got {r.shape} and {f.shape}.")
    if not (np.isfinite(lo) and np.isfinite(hi) and hi > lo) or int(cells) < 1:
        raise ValueError(f"histogram_js needs lo < hi and cells >= 1, got lo {lo}, hi {hi}, cells {cells}.")
    edges = np.linspace(lo, hi, int(cells) + 1)

    def shares(x: np.ndarray) -> np.ndarray:
        x = np.clip(x, lo, hi)
        h, _, _ = np.histogram2d(x[:, 0], x[:, 1], bins=[edges, edges])
        return h.ravel() / len(x)

    p, q = shares(r), shares(f)
    m = 0.5 * (p + q)

    def kl_to_m(a: np.ndarray) -> float:
        nz = a > 0
        return float((a[nz] * np.log2(a[nz] / m[nz])).sum())

    return float(min(1.0, max(0.0, 0.5 * kl_to_m(p) + 0.5 * kl_to_m(q))))
