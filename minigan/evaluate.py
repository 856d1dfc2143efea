"""``python -m minigan.evaluate``: how good are a GAN's samples, on a scale with its ends marked.

    python -m minigan.evaluate --run runs/ring8-mlp                      # 2,500 samples -> RUN/metrics.json
    python -m minigan.evaluate --run runs/ring8-mlp --keep 0.9 --out t.json  # Jacobian-truncated samples
    python -m minigan.evaluate --run runs/mnist-dcgan --n 10000
    python -m minigan.evaluate --dataset fashion-mnist --samples x.npy   # any program's samples
    python -m minigan.evaluate --dataset mnist --samples x.npy --labels y.npy --protocol test-8000/2000

2-D toys (``ring8``, ``grid25``): PacGAN's modes covered, high-quality fraction and reverse
KL (:func:`minigan.measure.metrics.toy_quality`), beside the same scores of the data's own samples.

Images: through the dataset's classifier (:mod:`minigan.measure.classifier`, trained and cached on
first use) the Fréchet distance to the reference set, the class histogram, its KL to
uniform, the classes covered and the classifier score, beside their calibration: the same
scores of as many real training images (the floor of the distance) and of uniform noise in
[-1, 1] (its ceiling).

Samples may be 2-D points (N, 2), or images (N, 28, 28), (N, 1, 28, 28) or (N, 784) in
[-1, 1] or in [0, 255] (recognised by a maximum above 1.5, then rescaled).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from minigan import backend
from minigan.data import DATASETS, TOY_DATASETS, DataError, sample
from minigan.gan.checkpoint import CheckpointError
from minigan.measure.classifier import PROTOCOLS
from minigan.measure.metrics import COVERED_SHARE, image_quality, toy_quality

__all__ = ["main", "evaluate_samples", "evaluate_run", "as_images", "as_points", "as_labels", "format_table",
           "EvaluateError"]

N_DEFAULT = {"toy": 2500, "images": 10000}


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


def _toy(x: Any, dataset: str, seed: int) -> dict[str, Any]:
    pts = as_points(x)
    real = sample(dataset, len(pts), np.random.default_rng([seed, 7]))
    return {"dataset": dataset, "kind": "toy", "n_samples": len(pts), "samples": toy_quality(pts, dataset),
            "calibration": {"real": toy_quality(real, dataset)}}


def _images(x: Any, dataset: str, seed: int, data_dir: str | os.PathLike | None, quiet: bool,
            labels: np.ndarray | None = None, protocol: str | None = None) -> dict[str, Any]:
    from minigan.measure.classifier import get_classifier, load_split

    imgs = as_images(x)
    labels = None if labels is None else as_labels(labels, len(imgs))  # checked before the classifier trains
    split = load_split(dataset, data_dir, protocol)
    clf = get_classifier(dataset, data_dir, quiet=quiet, split=split)
    ref_features = clf.features(split.x_ref)
    rng = np.random.default_rng([seed, 7])
    n_real = min(len(imgs), len(split.x_train))
    real = split.x_train[rng.choice(len(split.x_train), n_real, replace=False)]
    noise = rng.uniform(-1.0, 1.0, size=imgs.shape).astype(np.float32)
    scores = {name: image_quality(a, dataset, clf, split.x_ref, ref_features)
              for name, a in (("samples", imgs), ("real", real), ("noise", noise))}
    if labels is not None:  # a conditional run: does the classifier agree with the label G was given?
        scores["samples"]["label_accuracy"] = float((clf.probs(imgs).argmax(1) == labels).mean())
    return {"dataset": dataset, "kind": "images", "n_samples": len(imgs), "samples": scores["samples"],
            "calibration": {"real": scores["real"], "noise": scores["noise"]},
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


def evaluate_run(run_dir: str | Path, n: int | None = None, seed: int = 0, quiet: bool = True,
                 data_dir: str | os.PathLike | None = None, keep: float = 1.0, ema: bool = True) -> dict[str, Any]:
    """Draw ``n`` samples (default 2,500 for toys, 10,000 for images) from a run and score them.

    ``data_dir`` defaults to the run's own ``data_dir``. ``keep`` < 1 (2-D toys): the samples
    are Jacobian-truncated (:mod:`minigan.gan.truncation`) and the result records ``keep``. A run
    trained with ``--ema`` is sampled from its running average of G unless ``ema=False``; the
    result records which (``"ema"``).
    """
    from minigan.gan.run import Run
    from minigan.sample import draw

    cfg = Run.load_config(run_dir)
    dataset = _dataset(cfg["dataset"])
    n = n or N_DEFAULT["toy" if dataset in TOY_DATASETS else "images"]
    if keep < 1 and dataset not in TOY_DATASETS:
        raise EvaluateError(f"--keep (Jacobian truncation) is for the 2-D toys, not {dataset}.")
    x, labels = draw(run_dir, n, seed, keep=keep, ema=ema)
    # A run trained on the test files saw the classifier's 8,000: score it against the 2,000 it never saw.
    protocol = "test-8000/2000" if cfg.get("split") == "test" else None
    result = evaluate_samples(x, dataset, seed, data_dir or cfg.get("data_dir"), quiet, labels, protocol)
    result.update({"run": str(run_dir), "seed": seed, "keep": keep, "ema": bool(ema and cfg.get("ema", 0.0))})
    return result


# --------------------------------------------------------------------------- printing


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e4 else f"{v:.0f}"
    return str(v)


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
        head = (f"{result['dataset']}: {result['n_samples']} samples; classifier {c['protocol']}, test accuracy "
                f"{100 * c['accuracy']:.2f}% on {c['n_reference']} reference images (real data = floor, "
                f"noise = ceiling of the distance)")
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


def _load_npy(path: str, what: str) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise EvaluateError(f"{path} does not exist: give a .npy file of {what}.") from None
    except (OSError, ValueError) as e:
        raise EvaluateError(f"{path} is not a .npy array file ({e}).") from None


def main(argv: list[str] | None = None) -> int:
    from minigan.train import number  # a whole or finite number, else one sentence naming the flag

    p = argparse.ArgumentParser(prog="python -m minigan.evaluate",
                                description="Score a GAN's samples, with real data and noise as calibration.")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--run", help="a run folder written by python -m minigan.train (writes RUN/metrics.json)")
    src.add_argument("--samples", help="a .npy file of samples (needs --dataset)")
    p.add_argument("--dataset", help="what the --samples are samples of: " + ", ".join(TOY_DATASETS + DATASETS))
    p.add_argument("--labels", help="with --samples of a conditional GAN: a .npy file of their classes (N,), "
                                    "adds the label accuracy")
    p.add_argument("--protocol", choices=PROTOCOLS, default=None,
                   help="with --samples: the classifier's data (default: train/test when the train files exist, "
                        "else test-8000/2000; give test-8000/2000 for samples of a GAN trained with --split test)")
    p.add_argument("--n", type=number(int, "--n", "at least 2"), default=None,
                   help="samples to draw from a run (default 2500 toys, 10000 images)")
    p.add_argument("--seed", type=number(int, "--seed", "at least 0"), default=0,
                   help="seed of the noise z and of the calibration draws (default 0)")
    p.add_argument("--keep", type=number(float, "--keep", "a fraction in (0, 1]"), default=1.0,
                   help="with --run of a 2-D toy: Jacobian truncation, score the n samples of n / KEEP z where G "
                        "stretches z least (e.g. 0.9; default 1 = plain samples; see minigan.gan.truncation)")
    p.add_argument("--no-ema", action="store_true",
                   help="with --run of a run trained with --ema: score G's own weights, not their running average")
    p.add_argument("--data-dir", default=None, help="where the image files are (see minigan.data)")
    p.add_argument("--out", default=None, help="write the scores as JSON here (default RUN/metrics.json for --run)")
    p.add_argument("--quiet", action="store_true", help="no progress messages while the classifier trains")
    args = p.parse_args(argv)
    if args.samples and not args.dataset:
        p.error("--samples needs --dataset NAME")
    if args.run and (args.labels or args.protocol):
        p.error("--labels and --protocol go with --samples; a --run brings its own")
    if args.samples and args.keep != 1:
        p.error("--keep truncates a run's noise: it goes with --run, not --samples")
    if args.samples and args.no_ema:
        p.error("--no-ema chooses which G of a run draws the samples: it goes with --run, not --samples")
    if args.samples and args.n is not None:
        p.error("--n is how many samples to draw from a run: it goes with --run; --samples are all scored")
    if args.n is not None and args.n < 2:
        p.error(f"--n must be at least 2, got {args.n}")
    if args.seed < 0:
        p.error(f"--seed must be at least 0, got {args.seed}")
    if not 0 < args.keep <= 1:  # said as draw's own check says it: one line, exit code 2
        print(f"minigan.evaluate: error: --keep must be a fraction in (0, 1], e.g. 0.9 to drop the 10% of z with "
              f"the largest Jacobians; got {args.keep}.", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    try:
        if args.run:
            if not Path(args.run).is_dir():
                raise EvaluateError(f"{args.run} is not a folder: give the --out folder of a training run.")
            result = evaluate_run(args.run, args.n, args.seed, args.quiet, args.data_dir, args.keep, not args.no_ema)
            out = Path(args.out or Path(args.run) / "metrics.json")
        else:
            x = _load_npy(args.samples, "samples")
            labels = None if args.labels is None else _load_npy(args.labels, "labels")
            result = evaluate_samples(x, args.dataset, args.seed, args.data_dir, args.quiet, labels, args.protocol)
            result["samples_file"] = str(args.samples)
            if args.labels:
                result["labels_file"] = str(args.labels)
            out = Path(args.out) if args.out else None
    except (EvaluateError, CheckpointError, DataError, backend.BackendError, ValueError) as e:
        print(f"minigan.evaluate: error: {e}", file=sys.stderr)
        return 2
    result["seconds"] = round(time.perf_counter() - t0, 1)
    print(format_table(result))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
