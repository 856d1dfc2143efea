"""The 2-D quality table of benchmarks/QUALITY.md: variants x seeds on ring8 / grid25, PacGAN protocol.

    python benchmarks/quality_toy.py --dataset grid25 --variants vanilla,wgan-gp,unrolled --seeds 0-4
    python benchmarks/quality_toy.py --dataset grid25 --figure docs/grid25_mode_collapse.png \\
        --panels vanilla:3,unrolled:3

Each (variant, seed) is one ``python -m minigan.train`` run in ``--root`` (default runs/toy-quality),
trained only if its folder has no finished checkpoint, then scored by ``python -m minigan.evaluate``
(2,500 samples: modes covered, high-quality share, reverse KL). The training's user CPU seconds
(of the child process, one BLAS thread) are kept in ``cpu.json`` beside the run:
CPU time, unlike wall time, barely moves when other jobs share the machine.
Prints a Markdown table, one row per run and a median row per variant.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import harness  # noqa: E402

# The variants: the flags given to python -m minigan.train on top of its toy defaults.
VARIANTS: dict[str, list[str]] = {
    "vanilla": [],
    "wgan-gp": ["--loss", "wgan-gp"],
    "unrolled": ["--unroll", "5"],
    "pacgan": ["--pack", "4"],
    # The best found so far (QUALITY.md): standardised networks, a 2-D z, twice the steps.
    "standardized-z2": ["--standardize", "--z-dim", "2", "--steps", "10000"],
}


def _seeds(text: str) -> list[int]:
    if "-" in text:
        lo, hi = text.split("-")
        return list(range(int(lo), int(hi) + 1))
    return [int(s) for s in text.split(",")]


def run_one(root: Path, dataset: str, variant: str, seed: int, extra: list[str]) -> dict[str, Any]:
    """Train (if not done yet) and score one run; returns its scores and CPU seconds."""
    out = root / f"{dataset}-{variant}-s{seed}"
    cpu_file = out / "cpu.json"
    if not cpu_file.exists():
        if out.exists():
            sys.exit(f"{out} exists but has no cpu.json (an unfinished run?): delete it and run again.")
        cmd = [sys.executable, "-m", "minigan.train", "--dataset", dataset, "--seed", str(seed), "--quiet",
               "--out", str(out), *VARIANTS[variant], *extra]
        harness.timed_training(cmd, out)
    metrics = out / "metrics.json"
    if not metrics.exists():
        subprocess.run([sys.executable, "-m", "minigan.evaluate", "--run", str(out)], check=True,
                       env=harness.thread_env(1), stdout=subprocess.DEVNULL)
    s = json.loads(metrics.read_text())["samples"]
    return {"variant": variant, "seed": seed, "modes": s["modes_covered"], "n_modes": s["n_modes"],
            "hq": s["high_quality"], "rkl": s["reverse_kl"],
            "cpu": json.loads(cpu_file.read_text())["train_cpu_seconds"]}


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| variant | seed | modes covered | high quality | reverse KL | training CPU |",
             "|---|---|---|---|---|---|"]
    for variant in dict.fromkeys(r["variant"] for r in rows):
        mine = [r for r in rows if r["variant"] == variant]
        for r in mine:
            lines.append(f"| {variant} | {r['seed']} | {r['modes']} / {r['n_modes']} | {100 * r['hq']:.1f}% | "
                         f"{r['rkl']:.3f} | {r['cpu']:.0f} s |")
        med = {k: statistics.median(r[k] for r in mine) for k in ("modes", "hq", "rkl", "cpu")}
        lines.append(f"| **{variant} median** | | **{med['modes']:g} / {mine[0]['n_modes']}** | "
                     f"**{100 * med['hq']:.1f}%** | **{med['rkl']:.3f}** | {med['cpu']:.0f} s |")
    return "\n".join(lines)


def figure(root: Path, dataset: str, panels: list[str], path: Path) -> None:
    """Side by side: each panel one run's 2,500 samples over the data, titled with its scores."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from minigan.data import modes, sample
    from minigan.metrics import toy_quality
    from minigan.sample import draw

    centers, _ = modes(dataset)
    real = sample(dataset, 2500, np.random.default_rng(7))
    fig = Figure(figsize=(4.6 * len(panels), 4.9), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    for i, spec in enumerate(panels):
        variant, seed = spec.split(":")
        x, _ = draw(root / f"{dataset}-{variant}-s{seed}", 2500, 0)
        q = toy_quality(x, dataset)
        ax = fig.add_subplot(1, len(panels), i + 1)
        ax.scatter(real[:, 0], real[:, 1], s=3, c="tab:blue", alpha=0.35, label="real")
        ax.scatter(x[:, 0], x[:, 1], s=3, c="tab:orange", alpha=0.5, label="generated")
        ax.scatter(centers[:, 0], centers[:, 1], marker="+", s=60, c="k", linewidths=1, label="modes")
        ax.set_aspect("equal")
        lim = np.abs(centers).max() * 1.35
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_title(f"{variant}, seed {seed}: {q['modes_covered']} / {q['n_modes']} modes, "
                     f"{100 * q['high_quality']:.0f}% HQ", fontsize=11)
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=3, fontsize=10, markerscale=2)
    fig.savefig(path, bbox_inches="tight", pad_inches=0.15)
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", choices=("ring8", "grid25"), default="grid25")
    p.add_argument("--variants", default="vanilla,wgan-gp,unrolled",
                   help=f"comma-separated, from {', '.join(VARIANTS)}; name@0-2 gives one variant its own seeds")
    p.add_argument("--seeds", default="0-4", help="e.g. 0-4 or 0,3")
    p.add_argument("--root", type=Path, default=Path("runs/toy-quality"), help="where the run folders go")
    p.add_argument("--figure", type=Path, default=None, help="draw the panels into this PNG instead of a table")
    p.add_argument("--panels", default="vanilla:3,unrolled:3", help="variant:seed,... for --figure")
    p.add_argument("extra", nargs="*", help="more flags for every training run (after --)")
    args = p.parse_args(argv)
    unknown = [v.partition("@")[0] for v in args.variants.split(",") if v.partition("@")[0] not in VARIANTS]
    if unknown:
        p.error(f"unknown variant {unknown[0]!r}: choose from {', '.join(VARIANTS)}.")
    args.root.mkdir(parents=True, exist_ok=True)
    if args.figure:
        figure(args.root, args.dataset, args.panels.split(","), args.figure)
        return 0
    rows = []
    for spec in args.variants.split(","):  # "name" (the --seeds) or "name@seeds", e.g. wgan-gp@0-2
        variant, _, seeds = spec.partition("@")
        rows += [run_one(args.root, args.dataset, variant, s, args.extra) for s in _seeds(seeds or args.seeds)]
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
