"""Scoring samples: a GAN's against the data's own, with real data, noise and a collapse as calibration.

2-D toys: modes covered, high-quality share and KL (:func:`minigan.measure.metrics.toy_quality`).
Images: through the dataset's classifier (:mod:`minigan.measure.classifier`): Fréchet distance,
classifier score and the label accuracy of a conditional GAN. Both: precision, recall, density,
coverage and KID with its standard error (:func:`~minigan.measure.metrics.prdc`,
:func:`~minigan.measure.metrics.kid`), in raw coordinates for the toys and in the classifier's
features for images, against a reference set (fresh data for the toys, the test images for images).

Every score is printed beside the same score of three calibration sets as large as the samples:
real data (the best a GAN can do), uniform noise (the worst) and a *collapse*, 10 real points or
images (one of each class) repeated: realistic and, for images, with a perfect class histogram,
yet with no diversity. What a score says of the collapse is what it can hide.
``evaluate_samples`` scores an array; ``format_table`` prints a result.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from minigan import backend
from minigan.data import DATASETS, TOY_DATASETS, sample
from minigan.measure.classifier import PROTOCOLS
from minigan.measure.metrics import (
    COVERED_SHARE,
    NEAREST_K,
    frechet_distance,
    image_quality,
    kid,
    knn_radii,
    prdc,
    toy_quality,
)

__all__ = ["EvaluateError", "N_DEFAULT", "PROTOCOLS", "evaluate_samples", "format_table", "as_points", "as_images",
           "as_labels"]

N_DEFAULT = {"toy": 2500, "images": 10000}
N_COLLAPSE = 10  # the collapse calibration: this many real points (images: one per class), repeated


class EvaluateError(ValueError):
    """Samples or a request that cannot be scored (the message says why and what to do)."""


def _dataset(name: str) -> str:
    key = str(name).lower()
    if key not in TOY_DATASETS + DATASETS:
        raise EvaluateError(f"unknown dataset {name!r}: choose one of {', '.join(TOY_DATASETS + DATASETS)}.")
    return key


def _finite(x: np.ndarray) -> np.ndarray:
    if x.dtype.kind not in "biuf":
        raise EvaluateError(f"the samples must be numbers, got an array of {x.dtype}.")
    if len(x) == 0:
        raise EvaluateError("there are no samples to score (the array is empty).")
    x = x.astype(np.float64 if x.dtype == np.float64 else np.float32, copy=False)
    bad = int((~np.isfinite(x)).reshape(len(x), -1).any(1).sum())
    if bad:
        raise EvaluateError(f"{bad} of {len(x)} samples hold NaN or infinite values: the generator diverged; "
                            "score an earlier checkpoint or train again.")
    return x


def as_points(samples: Any) -> np.ndarray:
    """2-D samples (N, 2) as a float64 host array, checked."""
    x = _finite(np.asarray(backend.to_numpy(samples)))
    if x.ndim != 2 or x.shape[1] != 2:
        raise EvaluateError(f"2-D toy samples must have shape (N, 2), got {x.shape}.")
    return x.astype(np.float64)


def as_images(samples: Any) -> np.ndarray:
    """Images (N, 28, 28), (N, 1, 28, 28) or (N, 784), in [-1, 1] or [0, 255] -> (N, 1, 28, 28) float32 in [-1, 1].

    A maximum above 1.5 means pixels in [0, 255]: x / 127.5 - 1.
    """
    x = _finite(np.asarray(backend.to_numpy(samples)))
    if x.shape[1:] not in ((28, 28), (1, 28, 28), (784,)):
        raise EvaluateError(f"image samples must have shape (N, 28, 28), (N, 1, 28, 28) or (N, 784), got {x.shape}.")
    x = x.reshape(len(x), 1, 28, 28).astype(np.float32)
    if x.max() > 1.5:
        x = x / 127.5 - 1.0
    lo, hi = float(x.min()), float(x.max())
    if lo < -1.01 or hi > 1.01:
        raise EvaluateError(f"image samples must lie in [-1, 1] or [0, 255], but they range from {lo:.3g} to "
                            f"{hi:.3g}: rescale them first.")
    return x


def as_labels(labels: Any, n: int) -> np.ndarray:
    """A conditional run's labels: (n,) integers in [0, 10), one per sample -> int64 host array, checked."""
    y = np.asarray(backend.to_numpy(labels))
    if y.dtype.kind not in "iu":
        raise EvaluateError(f"the labels must be integers (class indices), got an array of {y.dtype}.")
    if y.shape != (n,):
        raise EvaluateError(f"the labels must have shape ({n},), one per sample, got {y.shape}.")
    if n and (y.min() < 0 or y.max() > 9):
        raise EvaluateError(f"the labels must lie in 0..9, got values from {y.min()} to {y.max()}.")
    return y.astype(np.int64)


def _label_scores(feats_probs: tuple[np.ndarray, np.ndarray], labels: np.ndarray, y_ref: np.ndarray,
                  ref_features: np.ndarray) -> dict[str, Any]:
    """How well images obey their labels: the classifier's agreement with the label, overall and per
    class, and the intra-class Fréchet distance (the images labelled k against the reference images
    of class k, in the classifier's features), per class and its mean over the classes.
    ``feats_probs``: the classifier's features and p(y|x) of the images."""
    feats, probs = feats_probs
    hit = probs.argmax(1) == labels
    per_class, fds = [], []
    for k in range(probs.shape[1]):
        mine, ref = labels == k, y_ref == k
        per_class.append(float(hit[mine].mean()) if mine.any() else None)
        # A Fréchet distance needs a few samples on each side for its covariances.
        fds.append(frechet_distance(feats[mine], ref_features[ref]) if mine.sum() > 2 and ref.sum() > 2 else None)
    known = [f for f in fds if f is not None]
    return {"label_accuracy": float(hit.mean()), "label_accuracy_per_class": per_class,
            "intra_fd": float(np.mean(known)) if known else None, "intra_fd_per_class": fds}


def _apart(feats: np.ndarray, ref: np.ndarray, ref_radii: np.ndarray, seed: int) -> dict[str, float]:
    """Quality and diversity apart: precision, recall, density, coverage and KID (with its standard error);
    nothing for sets too small for k-nearest-neighbour balls (k + 1 points are needed)."""
    if len(feats) <= NEAREST_K or len(ref) <= NEAREST_K:
        return {}
    out = prdc(ref, feats, real_radii=ref_radii)
    out.update(kid(ref, feats, rng=np.random.default_rng([seed, 9])))
    return out


def _collapse(x: np.ndarray, n: int, rng: np.random.Generator, labels: np.ndarray | None = None,
              read: Any = None) -> np.ndarray:
    """n samples that are N_COLLAPSE real ones repeated. With labels, one of each class, and with ``read``
    (images -> the classifier's classes) one the classifier reads as its class: a perfect class histogram."""
    if labels is None:
        pick = rng.choice(len(x), min(N_COLLAPSE, len(x)), replace=False)  # fewer only for a handful of samples
    else:
        pick = []
        for c in np.unique(labels)[:N_COLLAPSE]:
            mine = rng.permutation(np.flatnonzero(labels == c))[:50]
            if read is not None:  # the first of 50 that the classifier reads as c (else the first of them)
                right = mine[read(x[mine]) == c]
                mine = right if len(right) else mine
            pick.append(mine[0])
        pick = np.array(pick)
    return np.resize(x[pick], (n, *x.shape[1:]))  # cycles through the picks: each n / 10 times


def _toy(x: Any, dataset: str, seed: int) -> dict[str, Any]:
    pts = as_points(x)
    n = len(pts)
    rng = np.random.default_rng([seed, 7])
    real = sample(dataset, n, rng)
    ref = sample(dataset, n, np.random.default_rng([seed, 8]))  # the reference of precision, recall, ...
    lo, hi = ref.min(0), ref.max(0)
    sets = {"samples": pts, "real": real, "noise": rng.uniform(lo, hi, size=(n, 2)),
            "collapse": _collapse(real, n, rng)}
    radii = knn_radii(ref) if n > NEAREST_K else None
    scores = {name: {**toy_quality(a, dataset), **_apart(a, ref, radii, seed)} for name, a in sets.items()}
    return {"dataset": dataset, "kind": "toy", "n_samples": n, "samples": scores.pop("samples"),
            "calibration": scores, "n_reference": n, "noise": "uniform over the reference's bounding box"}


def _images(x: Any, dataset: str, seed: int, data_dir: str | os.PathLike | None, quiet: bool,
            labels: np.ndarray | None = None, protocol: str | None = None) -> dict[str, Any]:
    from minigan.measure.classifier import get_classifier, load_split

    imgs = as_images(x)
    labels = None if labels is None else as_labels(labels, len(imgs))  # checked before the classifier trains
    split = load_split(dataset, data_dir, protocol)
    clf = get_classifier(dataset, data_dir, quiet=quiet, split=split)
    ref_features = clf.features(split.x_ref)
    ref_radii = knn_radii(ref_features) if len(ref_features) > NEAREST_K else None
    rng = np.random.default_rng([seed, 7])
    n_real = min(len(imgs), len(split.x_train))
    idx = rng.choice(len(split.x_train), n_real, replace=False)
    real = split.x_train[idx]
    noise = rng.uniform(-1.0, 1.0, size=imgs.shape).astype(np.float32)
    collapse = _collapse(split.x_train, len(imgs), rng, split.y_train, lambda a: clf.probs(a).argmax(1))
    sets = (("samples", imgs), ("real", real), ("noise", noise), ("collapse", collapse))
    # One forward pass per set of images: its features and p(y|x) serve every score below.
    passes = {name: clf.features_and_probs(a) for name, a in sets}
    scores = {name: {**image_quality(a, dataset, clf, split.x_ref, ref_features, passes[name]),
                     **_apart(passes[name][0], ref_features, ref_radii, seed)} for name, a in sets}
    if labels is not None:  # a conditional run: does the classifier agree with the label G was given?
        scores["samples"].update(_label_scores(passes["samples"], labels, split.y_ref, ref_features))
        scores["real"].update(_label_scores(passes["real"], split.y_train[idx], split.y_ref, ref_features))
    return {"dataset": dataset, "kind": "images", "n_samples": len(imgs), "samples": scores.pop("samples"),
            "calibration": scores, "n_reference": len(split.x_ref),
            "classifier": {k: clf.info.get(k) for k in ("protocol", "accuracy", "n_train", "n_reference")},
            "covered_share": COVERED_SHARE}


def evaluate_samples(samples: Any, dataset: str, seed: int = 0, data_dir: str | os.PathLike | None = None,
                     quiet: bool = True, labels: np.ndarray | None = None,
                     protocol: str | None = None) -> dict[str, Any]:
    """Score samples of ``dataset`` with their calibration; returns the dict written to metrics.json.

    Toys: ``samples``/``calibration.real`` from toy_quality. Images: ``samples``,
    ``calibration.real`` (training images) and ``calibration.noise`` from image_quality,
    and the classifier's ``protocol`` and ``accuracy``. ``labels`` (N,) of a conditional run
    add ``label_accuracy``, how often the classifier's argmax equals the label. ``protocol``
    picks the classifier's data (default: train/test when the train files exist, else test-8000/2000).
    """
    dataset = _dataset(dataset)
    if dataset in TOY_DATASETS:
        return _toy(samples, dataset, seed)
    return _images(samples, dataset, seed, data_dir, quiet, labels, protocol)


# --------------------------------------------------------------------------- printing


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e4 else f"{v:.0f}"
    return str(v)


def _worst_class(per_class: list[float | None], _d: Any) -> str:
    known = [(v, k) for k, v in enumerate(per_class) if v is not None]
    if not known:
        return ""
    v, k = min(known)
    return f"{100 * v:.1f}% ({k})"


def _kid_cell(v: float, d: dict[str, Any]) -> str:
    return f"{v:.3g} ± {d['kid_se']:.2g}"


def format_table(result: dict[str, Any]) -> str:
    """The scores as a text table: one row per measure, one column for the samples and one per calibration."""
    cols = [("samples", result["samples"])] + [("real data" if k == "real" else k, v)
                                               for k, v in result["calibration"].items()]
    if result["kind"] == "toy":
        s = result["samples"]
        rows = [("modes covered", "modes_covered", lambda v, d: f"{v} / {d['n_modes']}"),
                ("high quality (<= 3 std)", "high_quality", lambda v, d: f"{100 * v:.1f}%"),
                ("reverse KL (0 = balanced)", "reverse_kl", lambda v, d: _fmt(v))]
        head = f"{result['dataset']}: {s['n_samples']} samples (PacGAN protocol)"
        if result.get("keep", 1) < 1:
            head += f", Jacobian-truncated: the {100 * result['keep']:g}% of z where G stretches least"
    else:
        c = result["classifier"]
        rows = [("Fréchet distance", "fd", lambda v, d: _fmt(v)),
                ("classes covered", "classes_covered", lambda v, d: f"{v} / {d['n_classes']}"),
                ("class KL to uniform", "class_kl", lambda v, d: _fmt(v)),
                ("classifier score", "classifier_score", lambda v, d: _fmt(v))]
        if "label_accuracy" in result["samples"]:
            rows.append(("label accuracy", "label_accuracy", lambda v, d: f"{100 * v:.1f}%"))
            rows.append(("  worst class", "label_accuracy_per_class", _worst_class))
            rows.append(("intra-class FD", "intra_fd", lambda v, d: _fmt(v)))
        head = (f"{result['dataset']}: {result['n_samples']} samples; classifier {c['protocol']}, test accuracy "
                f"{100 * c['accuracy']:.2f}% on {c['n_reference']} reference images (real data = floor, "
                f"noise = ceiling of the distance)")
    rows += [("precision (realistic)", "precision", lambda v, d: f"{100 * v:.1f}%"),
             ("recall (all of the data)", "recall", lambda v, d: f"{100 * v:.1f}%"),
             ("density (1 = like data)", "density", lambda v, d: f"{v:.3f}"),
             ("coverage", "coverage", lambda v, d: f"{100 * v:.1f}%"),
             ("KID (0 = like data)", "kid", _kid_cell)]
    table = [["measure"] + [name for name, _ in cols]]
    for label, key, show in rows:
        table.append([label] + [show(d[key], d) if key in d else "" for _, d in cols])
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(r, widths)))
             for r in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    if result["kind"] == "images":
        lines.append(f"class histogram: {' '.join(map(str, result['samples']['histogram']))}")
        n_real = result["calibration"]["real"]["n_samples"]
        if n_real != result["n_samples"]:
            lines.append(f"real data: all {n_real} images the classifier trained on (fewer than the samples; "
                         "the distance shrinks as the sets grow, so compare samples of the same size)")
    return "\n".join([head, *lines])


