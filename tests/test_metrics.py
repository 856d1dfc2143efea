"""The measurements: closed forms for the Fréchet distance, the class-histogram scores, PacGAN's toy scores."""

import math

import numpy as np
import pytest

from minigan.data import modes
from minigan.measure import metrics


def with_moments(rng, n, mean, cov_sqrt):
    """n points whose *sample* mean is ``mean`` and sample covariance (ddof=1) is exactly cov_sqrt cov_sqrt^T."""
    d = len(mean)
    z = rng.standard_normal((n, d))
    z -= z.mean(0)
    w, v = np.linalg.eigh(np.cov(z, rowvar=False))
    z = z @ v @ np.diag(w ** -0.5) @ v.T  # whitened: sample covariance exactly I
    return z @ np.asarray(cov_sqrt).T + mean


# ---- frechet_distance


def test_frechet_distance_of_a_set_to_itself_is_zero(rng):
    a = rng.standard_normal((500, 16)) @ rng.standard_normal((16, 16))
    assert metrics.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)


def test_frechet_distance_of_diagonal_gaussians_is_the_closed_form(rng):
    # FD(N(m1, diag s1^2), N(m2, diag s2^2)) = |m1 - m2|^2 + sum_i (s1_i - s2_i)^2
    m1, m2 = np.array([0.0, 1.0, -2.0, 0.5]), np.array([1.0, 1.0, 0.0, 0.0])
    s1, s2 = np.array([1.0, 2.0, 0.5, 3.0]), np.array([2.0, 0.5, 0.5, 1.0])
    a = with_moments(rng, 400, m1, np.diag(s1))
    b = with_moments(rng, 300, m2, np.diag(s2))
    expected = ((m1 - m2) ** 2).sum() + ((s1 - s2) ** 2).sum()  # (1 + 0 + 4 + 0.25) + (1 + 2.25 + 0 + 4)
    assert expected == pytest.approx(12.5)
    assert metrics.frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)
    assert metrics.frechet_distance(b, a) == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_of_scaled_full_covariances_is_the_closed_form(rng):
    # S_b = c^2 S_a (not diagonal): tr sqrt(S_a S_b) = c tr S_a, so FD = |dm|^2 + (1 - c)^2 tr S_a
    root = rng.standard_normal((6, 6))
    a = with_moments(rng, 200, np.zeros(6), root)
    b = with_moments(rng, 250, np.full(6, 0.5), 3.0 * root)
    expected = 6 * 0.25 + 4.0 * np.trace(root @ root.T)
    assert metrics.frechet_distance(a, b) == pytest.approx(expected, rel=1e-8)


def test_frechet_distance_rejects_bad_features():
    with pytest.raises(ValueError, match="differ in width"):
        metrics.frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="NaN"):
        metrics.frechet_distance(np.full((5, 3), np.nan), np.zeros((5, 3)))
    with pytest.raises(ValueError, match=r"\(N, d\)"):
        metrics.frechet_distance(np.zeros(5), np.zeros((5, 1)))


# ---- histogram scores


def test_kl_to_uniform_on_constructed_histograms():
    assert metrics.kl_to_uniform([100] * 10) == pytest.approx(0.0)
    assert metrics.kl_to_uniform([0, 0, 37] + [0] * 7) == pytest.approx(math.log(10))
    assert metrics.kl_to_uniform([50, 50, 0, 0, 0, 0, 0, 0, 0, 0]) == pytest.approx(math.log(5))
    q = np.array([0.4, 0.3, 0.2, 0.1])
    assert metrics.kl_to_uniform(q * 1000) == pytest.approx(float((q * np.log(4 * q)).sum()))
    with pytest.raises(ValueError, match="positive sum"):
        metrics.kl_to_uniform([0, 0, 0])


def test_classes_covered_counts_classes_with_a_tenth_of_their_uniform_share():
    # 1000 samples over 10 classes: the uniform share is 100, so a class needs >= 10 samples
    assert metrics.classes_covered([100] * 10) == 10
    assert metrics.classes_covered([910, 10, 9, 9, 9, 9, 9, 9, 9, 17]) == 3
    assert metrics.classes_covered([1000] + [0] * 9) == 1
    assert metrics.classes_covered([500, 500, 0, 0]) == 2
    assert metrics.classes_covered([0, 0]) == 0


def test_class_histogram_counts_the_argmax():
    p = np.array([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.3, 0.3, 0.4]])
    assert metrics.class_histogram(p).tolist() == [1, 2, 1]
    assert metrics.class_histogram(p, n_classes=5).tolist() == [1, 2, 1, 0, 0]


@pytest.mark.parametrize("k", [1, 2, 5, 10])
def test_classifier_score_of_confident_predictions_over_k_classes_is_k(k):
    labels = np.arange(20 * k) % k
    probs = np.eye(10)[labels]
    assert metrics.classifier_score(probs) == pytest.approx(k, rel=1e-9)


def test_classifier_score_of_unsure_predictions_is_one(rng):
    assert metrics.classifier_score(np.full((50, 10), 0.1)) == pytest.approx(1.0)
    p = rng.dirichlet(np.ones(10), size=1)  # the same prediction for every sample, however confident
    assert metrics.classifier_score(np.repeat(p, 30, axis=0)) == pytest.approx(1.0)


# ---- image_quality through a classifier


class StubClassifier:
    """features = the first 3 pixels, prediction = the class written in pixel 0."""

    dataset = "mnist"

    def features(self, x):
        return np.asarray(x, dtype=np.float64).reshape(len(x), -1)[:, :3]

    def probs(self, x):
        k = np.asarray(x).reshape(len(x), -1)[:, 0].astype(int)
        return np.eye(10)[k]


def test_image_quality_combines_the_scores(rng):
    x = np.zeros((40, 1, 28, 28))
    x.reshape(40, -1)[:, 0] = np.arange(40) % 4  # classes 0..3, 10 each
    x.reshape(40, -1)[:, 1:3] = rng.standard_normal((40, 2))
    ref = x.copy()
    ref.reshape(40, -1)[:, 1] += 2.0
    q = metrics.image_quality(x, "mnist", StubClassifier(), ref)
    assert q["histogram"] == [10, 10, 10, 10, 0, 0, 0, 0, 0, 0]
    assert q["classes_covered"] == 4 and q["n_classes"] == 10 and q["n_samples"] == 40
    assert q["class_kl"] == pytest.approx(math.log(10 / 4))
    assert q["classifier_score"] == pytest.approx(4.0)
    assert q["fd"] == pytest.approx(4.0)  # only the mean of feature 1 moved, by 2
    with pytest.raises(ValueError, match="trained on mnist, not on fashion-mnist"):
        metrics.image_quality(x, "fashion-mnist", StubClassifier(), ref)


# ---- toy_quality (PacGAN's protocol)


def test_toy_quality_of_the_exact_modes():
    centers, _ = modes("grid25")
    q = metrics.toy_quality(np.repeat(centers, 4, axis=0), "grid25")
    assert q == {"modes_covered": 25, "n_modes": 25, "high_quality": 1.0, "reverse_kl": 0.0, "n_samples": 100}


def test_toy_quality_of_a_collapsed_generator():
    centers, std = modes("ring8")
    x = np.concatenate([np.repeat(centers[:1], 90, axis=0), np.full((10, 2), 5.0)])  # one mode and 10% far away
    q = metrics.toy_quality(x, "ring8")
    assert q["modes_covered"] == 1 and q["high_quality"] == pytest.approx(0.9)
    assert q["reverse_kl"] == pytest.approx(math.log(8))


# ---- quality and diversity apart: precision, recall, density, coverage; KID


def test_prdc_by_hand_on_a_line():
    """Real 0, 1, 2, 3 with k = 1: every real ball has radius 1. Samples 0.5 and 10 (each other's neighbour,
    so their balls have radius 9.5). Precision: 0.5 is in a real ball, 10 is not: 1/2. Density: 0.5 lies in
    the balls of 0 and 1: (2 + 0) / (1 * 2) = 1. Coverage: only 0 and 1 have a sample within their radius:
    1/2. Recall: the outlier's huge ball swallows every real point: 1, the weakness coverage was made for."""
    real = np.array([[0.0], [1.0], [2.0], [3.0]])
    fake = np.array([[0.5], [10.0]])
    np.testing.assert_array_equal(metrics.knn_radii(real, 1), [1.0, 1.0, 1.0, 1.0])
    np.testing.assert_array_equal(metrics.knn_radii(fake, 1), [9.5, 9.5])
    assert metrics.prdc(real, fake, k=1) == {"precision": 0.5, "recall": 1.0, "density": 1.0, "coverage": 0.5}
    # the k-th neighbour, k = 2: radii 2, 1, 1, 2
    np.testing.assert_array_equal(metrics.knn_radii(real, 2), [2.0, 1.0, 1.0, 2.0])


def test_prdc_of_two_samples_of_one_distribution_is_near_one(rng):
    """Naeem et al. 2020: for two samples of one distribution E[density] = 1 and, with M = N, E[coverage] =
    1 - prod_{i<k} (N - 1 - i) / (2N - 1 - i) ~ 1 - 2^-k = 0.969 for k = 5. In 2-D, precision and recall ~ 1."""
    real, fake = rng.standard_normal((2000, 2)), rng.standard_normal((2000, 2))
    r = metrics.prdc(real, fake)
    expected_coverage = 1 - np.prod([(2000 - 1 - i) / (4000 - 1 - i) for i in range(5)])
    assert r["precision"] > 0.97 and r["recall"] > 0.97
    assert abs(r["density"] - 1) < 0.05 and abs(r["coverage"] - expected_coverage) < 0.02


def test_prdc_of_a_collapsed_sample_is_precise_but_recalls_and_covers_little(rng):
    real = rng.standard_normal((2000, 8))
    collapsed = np.resize(rng.standard_normal((10, 8)) * 0.3, (2000, 8))  # 10 points near the mean, repeated
    r = metrics.prdc(real, collapsed)
    assert r["precision"] == 1.0 and r["recall"] < 0.01 and r["coverage"] < 0.05


def test_prdc_of_disjoint_sets_is_zero(rng):
    real = rng.standard_normal((500, 4))
    r = metrics.prdc(real, real + 20.0)
    assert r == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


def test_prdc_and_kid_reject_bad_input(rng):
    with pytest.raises(ValueError, match="differ in width"):
        metrics.prdc(rng.standard_normal((20, 2)), rng.standard_normal((20, 3)))
    with pytest.raises(ValueError, match="NaN"):
        metrics.kid(np.full((20, 2), np.nan), rng.standard_normal((20, 2)))
    with pytest.raises(ValueError, match="k must lie in 1..3"):
        metrics.knn_radii(rng.standard_normal((4, 2)), 5)
    with pytest.raises(ValueError, match="at least 4 points"):
        metrics.kid(rng.standard_normal((3, 2)), rng.standard_normal((30, 2)))


def test_kid_is_the_unbiased_mmd_written_out_by_loops(rng):
    """One block: (1/(m(m-1))) sum_{i!=j} k(x_i, x_j) + (1/(n(n-1))) sum_{i!=j} k(y_i, y_j) - (2/(mn)) sum k(x_i, y_j),
    k(a, b) = (a.b / d + 1)^3, summed by plain loops."""
    x, y = rng.standard_normal((6, 3)), rng.standard_normal((5, 3)) + 0.5

    def k(a, b):
        return (sum(p * q for p, q in zip(a, b)) / 3 + 1) ** 3

    xx = sum(k(x[i], x[j]) for i in range(6) for j in range(6) if i != j) / 30
    yy = sum(k(y[i], y[j]) for i in range(5) for j in range(5) if i != j) / 20
    xy = sum(k(a, b) for a in x for b in y) / 30
    assert metrics._mmd2_unbiased(x, y) == pytest.approx(xx + yy - 2 * xy, rel=1e-12)
    # the blocks: kid is their mean, kid_se their standard error
    r = metrics.kid(np.vstack([x, x]), np.vstack([y, y]), blocks=2)
    assert r["blocks"] == 2 and r["kid_se"] >= 0


def test_kid_is_unbiased_where_the_frechet_distance_is_not(rng):
    """Two samples of one 16-D Gaussian, 40 points each, 200 times: KID averages to 0 (within 3 standard
    errors of the average), the Fréchet distance is positive every time: its bias grows as the sets shrink."""
    kids, fds = [], []
    for _ in range(200):
        a, b = rng.standard_normal((40, 16)), rng.standard_normal((40, 16))
        kids.append(metrics.kid(a, b, blocks=2, rng=rng)["kid"])
        fds.append(metrics.frechet_distance(a, b))
    assert abs(np.mean(kids)) < 3 * np.std(kids) / np.sqrt(len(kids))
    assert min(fds) > 0 and np.mean(fds) > 1


def test_kid_separates_a_shifted_distribution_by_many_standard_errors(rng):
    real = rng.standard_normal((2000, 8))
    same = metrics.kid(real, rng.standard_normal((2000, 8)))
    shifted = metrics.kid(real, rng.standard_normal((2000, 8)) + 0.3)
    assert abs(same["kid"]) < 3 * same["kid_se"] and same["blocks"] == metrics.KID_BLOCKS
    assert shifted["kid"] > 10 * shifted["kid_se"]


def test_histogram_js_on_cases_whose_answer_is_known():
    rng = np.random.default_rng(0)
    a = rng.uniform(-1, 1, (4000, 2))
    assert metrics.histogram_js(a, a, -1, 1) == 0.0
    outside, corner = np.array([[5.0, 5.0], [6.0, 9.0]]), np.array([[0.9, 0.9], [0.6, 0.99]])
    assert metrics.histogram_js(outside, corner, -1, 1, cells=2) == 0.0  # outside counts in the edge cell
    left, right = rng.uniform(-1, -0.5, (500, 2)), rng.uniform(0.5, 1, (500, 2))
    assert metrics.histogram_js(left, right, -1, 1) == 1.0  # no cell shared
    # half the fakes on the data, half elsewhere: p = (1, 0) and q = (1/2, 1/2) per pair of regions
    half = np.concatenate([left[:250], right[:250]])
    want = 0.5 * np.log2(1 / 0.75) + 0.5 * (0.5 * np.log2(0.5 / 0.75) + 0.5 * np.log2(0.5 / 0.25))
    assert metrics.histogram_js(left, half, -1, 1, cells=2) == pytest.approx(want, rel=1e-12)
    # biased above 0 for two samples of one distribution, and more so with fewer points
    b, c = rng.standard_normal((2000, 2)), rng.standard_normal((2000, 2))
    small = metrics.histogram_js(b[:200], c[:200], -3, 3)
    assert 0 < metrics.histogram_js(b, c, -3, 3) < small
    with pytest.raises(ValueError, match="histogram_js expects 2-D points"):
        metrics.histogram_js(np.zeros((5, 3)), np.zeros((5, 3)), -1, 1)
    with pytest.raises(ValueError, match="lo < hi"):
        metrics.histogram_js(a, a, 1, -1)
