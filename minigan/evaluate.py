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

Both: precision and recall (Kynkäänniemi et al. 2019), density and coverage (Naeem et al. 2020)
and KID with its standard error (:func:`minigan.measure.metrics.prdc`, :func:`~minigan.measure.metrics.kid`),
in raw coordinates for the toys and in the classifier's features for images; and a third
calibration column, a *collapse*: 10 real points or images (one per class) repeated, realistic
(and for images with a perfect class histogram) but with no diversity.

Samples may be 2-D points (N, 2), or images (N, 28, 28), (N, 1, 28, 28) or (N, 784) in
[-1, 1] or in [0, 255] (recognised by a maximum above 1.5, then rescaled).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from minigan import backend
from minigan.cli import number, with_flags
from minigan.data import DATASETS, TOY_DATASETS, DataError
from minigan.gan.checkpoint import CheckpointError
from minigan.gan.run import evaluate_run
from minigan.measure.classifier import PROTOCOLS
from minigan.measure.evaluation import EvaluateError, evaluate_samples, format_table

__all__ = ["main"]

def _load_npy(path: str, what: str) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise EvaluateError(f"{path} does not exist: give a .npy file of {what}.") from None
    except (OSError, ValueError) as e:
        raise EvaluateError(f"{path} is not a .npy array file ({e}).") from None


def _report_classifier(dataset: str, data_dir: str | None) -> int:
    """--classifier DATASET: train it (a few minutes, once) or load it from the cache, and say how good it is."""
    from minigan.measure.classifier import cache_path, get_classifier

    try:
        clf = get_classifier(dataset, data_dir)
    except (DataError, ValueError) as e:
        print(f"minigan.evaluate: error: {with_flags(str(e))}", file=sys.stderr)
        return 2
    print(f"{clf.dataset}: {clf.protocol}, test accuracy {100 * clf.accuracy:.2f}% on {clf.info['n_reference']} "
          f"images, trained on {clf.info['n_train']} in {clf.info['train_seconds']} s; "
          f"{cache_path(clf.dataset, clf.protocol)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m minigan.evaluate",
                                description="Score a GAN's samples, with real data and noise as calibration.")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--run", help="a run folder written by python -m minigan.train (writes RUN/metrics.json)")
    src.add_argument("--samples", help="a .npy file of samples (needs --dataset)")
    src.add_argument("--classifier", metavar="DATASET", choices=DATASETS,
                     help="only train (or load from the cache) the evaluation classifier of DATASET and report its "
                          "test accuracy: " + ", ".join(DATASETS))
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
    p.add_argument("--backend", choices=("numpy", "cupy"), default=None,
                   help="with --run: draw the samples on this backend instead of the run's own (e.g. numpy for a "
                        "run trained on a GPU)")
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
    if args.samples and args.backend:
        p.error("--backend chooses where a run draws its samples: it goes with --run, not --samples")
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
    if args.classifier:
        return _report_classifier(args.classifier, args.data_dir)
    t0 = time.perf_counter()
    try:
        if args.run:
            if not Path(args.run).is_dir():
                raise EvaluateError(f"{args.run} is not a folder: give the --out folder of a training run.")
            result = evaluate_run(args.run, args.n, args.seed, args.quiet, args.data_dir, args.keep, not args.no_ema,
                                  args.backend)
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
        print(f"minigan.evaluate: error: {with_flags(str(e))}", file=sys.stderr)
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
