"""The image quality table of benchmarks/QUALITY.md: vanilla, conditional and WGAN-GP, minigan beside PyTorch.

    python benchmarks/quality_images.py                      # both datasets, 20 epochs, seed 0
    python benchmarks/quality_images.py --datasets mnist-test --epochs 100 --root runs/quality-100

For each dataset ("fashion-mnist": its 60,000 training images; "mnist-test": the fixed 8,000
of MNIST's test files that ``--split test`` trains on) and each variant, one
``python -m minigan.train --model mlp`` run and its PyTorch twin (``benchmarks/torch_gan.py``:
the same architecture, starting weights, batches, noise and step count). Both are scored by
``python -m minigan.evaluate`` with the same classifier. Runs whose folders already hold
their scores are not repeated. Prints a Markdown table and writes one picture per dataset,
``<root>/<dataset>-grids.png``: a row per variant, minigan's grid left, PyTorch's right.
Training CPU seconds (one BLAS thread) are measured per child process, see quality_toy.py.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks import harness  # noqa: E402

MNIST = HERE.parent.parent / "shared" / "data" / "mnist"
VARIANTS = {"vanilla": [], "conditional": ["--conditional"], "wgan-gp": ["--loss", "wgan-gp"]}


def _data_flags(dataset: str) -> list[str]:
    if dataset == "mnist-test":
        return ["--dataset", "mnist", "--split", "test", "--data-dir", str(os.environ.get("MINIGAN_DATA", MNIST))]
    return ["--dataset", dataset]


def run_pair(root: Path, dataset: str, variant: str, epochs: float, seed: int) -> list[dict[str, Any]]:
    """Train and score the minigan run and its PyTorch twin; returns their rows."""
    common = [*_data_flags(dataset), *VARIANTS[variant], "--epochs", str(epochs), "--seed", str(seed), "--quiet"]
    rows = []
    for lib in ("minigan", "torch"):
        out = root / f"{dataset}-{variant}-{lib}"
        if not (out / "cpu.json").exists():
            if lib == "minigan":
                cmd = [sys.executable, "-m", "minigan.train", "--model", "mlp", *common, "--out", str(out)]
            else:
                cmd = [sys.executable, str(HERE / "torch_gan.py"), *common, "--threads", "1", "--out", str(out)]
            harness.timed_training(cmd, out)
        scores = out / "metrics.json"
        if not scores.exists():
            if lib == "minigan":
                cmd = [sys.executable, "-m", "minigan.evaluate", "--run", str(out), "--quiet"]
            else:  # the command the twin wrote: same classifier protocol, labels for the conditional GAN
                cmd = [sys.executable, *json.loads((out / "info.json").read_text())["evaluate"].split()[1:],
                       "--out", str(scores), "--quiet"]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        s = json.loads(scores.read_text())
        rows.append({"dataset": dataset, "variant": variant, "lib": lib, **s["samples"],
                     "calibration": s["calibration"],
                     "cpu": json.loads((out / "cpu.json").read_text())["train_cpu_seconds"],
                     "grid": out / "samples.png"})
    return rows


CALIBRATION = {"real": "real training images (calibration)", "noise": "uniform noise (calibration)",
               "collapse": "10 real images, one per class, repeated (calibration)"}


def _apart(r: dict[str, Any]) -> str:
    """Precision, recall, density, coverage and KID (with its standard error) as table cells."""
    return (f"{100 * r['precision']:.1f}% | {100 * r['recall']:.1f}% | {r['density']:.3f} | "
            f"{100 * r['coverage']:.1f}% | {r['kid']:.3g} ± {r['kid_se']:.2g} |")


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| data | variant | library | Fréchet distance | classes covered | class KL | classifier score | "
             "label accuracy | precision | recall | density | coverage | KID | training CPU |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        acc = f"{100 * r['label_accuracy']:.1f}%" if "label_accuracy" in r else ""
        lines.append(f"| {r['dataset']} | {r['variant']} | {r['lib']} | {r['fd']:.1f} | "
                     f"{r['classes_covered']} / {r['n_classes']} | {r['class_kl']:.3f} | "
                     f"{r['classifier_score']:.2f} | {acc} | {_apart(r)} {r['cpu']:.0f} s |")
    for dataset in dict.fromkeys(r["dataset"] for r in rows):  # the calibration rows, from the dataset's first run
        r = next(r for r in rows if r["dataset"] == dataset)
        for name, c in r["calibration"].items():
            lines.append(f"| {dataset} | {CALIBRATION[name]} | | {c['fd']:.1f} | {c['classes_covered']} / "
                         f"{c['n_classes']} | {c['class_kl']:.3f} | {c['classifier_score']:.2f} | | {_apart(c)} |")
    return "\n".join(lines)


def grids(rows: list[dict[str, Any]], path: Path) -> None:
    """A row per variant: minigan's final grid, then PyTorch's."""
    import matplotlib.image
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    variants = list(dict.fromkeys(r["variant"] for r in rows))
    fig = Figure(figsize=(9, 4.6 * len(variants)), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    for i, variant in enumerate(variants):
        for j, lib in enumerate(("minigan", "torch")):
            r = next(r for r in rows if r["variant"] == variant and r["lib"] == lib)
            ax = fig.add_subplot(len(variants), 2, 2 * i + j + 1)
            ax.imshow(matplotlib.image.imread(r["grid"]))
            ax.set_axis_off()
            ax.set_title(f"{variant}, {'minigan' if lib == 'minigan' else 'PyTorch'}: FD {r['fd']:.0f}, "
                         f"{r['classes_covered']}/10 classes", fontsize=11)
    fig.savefig(path, dpi=64)  # about the grids' own resolution: every pixel visible, a small file
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", default="mnist-test,fashion-mnist", help="comma-separated: mnist-test, fashion-mnist")
    p.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated, from {', '.join(VARIANTS)}")
    p.add_argument("--epochs", type=float, default=20, help="the fixed budget: passes over the training images")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--root", type=Path, default=Path("runs/quality"))
    args = p.parse_args(argv)
    args.root.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    for dataset in args.datasets.split(","):
        mine = [row for v in args.variants.split(",")
                for row in run_pair(args.root, dataset, v, args.epochs, args.seed)]
        grids(mine, args.root / f"{dataset}-grids.png")
        rows += mine
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
