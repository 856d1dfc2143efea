"""The 2-D quality table of benchmarks/QUALITY.md: variants x seeds on ring8 / grid25, PacGAN protocol.

    python benchmarks/quality_toy.py --dataset grid25 --variants vanilla,wgan-gp,unrolled --seeds 0-4
    python benchmarks/quality_toy.py --dataset grid25 --figure docs/grid25_mode_collapse.png \\
        --panels vanilla:3,unrolled:3

Each (variant, seed) is one ``python -m minigan.train`` run in ``--root`` (default runs/toy-quality),
trained only if its folder has no finished checkpoint, then scored by ``python -m minigan.evaluate``
(2,500 samples: modes covered, high-quality share, reverse KL); with ``--keep f`` also the
Jacobian-truncated samples of the same runs (``evaluate --keep f``: the n of n / f noise vectors
where G stretches z least, see minigan.gan.truncation), in columns of their own. The training's user CPU seconds
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
    # grid25's best until the fifth session (QUALITY.md): the same with PacGAN's packing (D judges 4 samples
    # at once), batch 256, 40,000 steps.
    "standardized-z2-pack4": ["--standardize", "--z-dim", "2", "--pack", "4", "--batch-size", "256",
                              "--steps", "40000"],
    # ... with half the batch and more steps in the same CPU budget.
    "standardized-z2-pack4-b128": ["--standardize", "--z-dim", "2", "--pack", "4", "--batch-size", "128",
                                   "--steps", "55000"],
    # The fifth session's, and grid25's documented configuration (QUALITY.md): the same with an 8-D z;
    # a frame every 10,000 steps instead of every 250
    # (the frames and their GIF cost about 50 s of the 40,000 steps' CPU time, the training itself
    # is unchanged by them: the run's random stream never feeds the pictures).
    "z8-pack4": ["--standardize", "--z-dim", "8", "--pack", "4", "--batch-size", "256", "--steps", "40000",
                 "--sample-every", "10000"],
    # ... and with a 16-D z (as good over 10 seeds; QUALITY.md).
    "z16-pack4": ["--standardize", "--z-dim", "16", "--pack", "4", "--batch-size", "256", "--steps", "40000",
                  "--sample-every", "10000"],
    # z8-pack4 with the R1 penalty on D (issue 18; Mescheder et al. 2018): gamma/2 E|grad_x D(x)|^2 on the
    # real (packed) batch. Gamma was chosen on seed 0 from 0.1 and 1 (QUALITY.md).
    **{f"z8-pack4-r1-{g}": ["--standardize", "--z-dim", "8", "--pack", "4", "--batch-size", "256", "--steps", "40000",
                            "--sample-every", "10000", "--r1", g] for g in ("0.1", "1")},
    # ... with gamma = 1 in the CPU time of z8-pack4 (R1's double backprop makes a step about 3x dearer).
    "z8-pack4-r1-1-13k": ["--standardize", "--z-dim", "8", "--pack", "4", "--batch-size", "256", "--steps", "13000",
                          "--sample-every", "6500", "--r1", "1"],
    # standardized-z2-pack4 without the packing, to see what the packing itself does.
    "standardized-z2-long": ["--standardize", "--z-dim", "2", "--batch-size", "256", "--steps", "40000"],
}


def _seeds(text: str) -> list[int]:
    """ "0-4" -> [0, 1, 2, 3, 4]; "0,3" -> [0, 3]; "0-4,10-14" -> both ranges."""
    seeds: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        seeds += list(range(int(lo), int(hi or lo) + 1))
    return seeds


def _score(out: Path, keep: float) -> dict[str, Any]:
    """The run's scores (plain samples for keep = 1, else Jacobian-truncated), evaluated once and kept."""
    metrics = out / ("metrics.json" if keep == 1 else f"metrics-keep{keep:g}.json")
    if not metrics.exists():
        subprocess.run([sys.executable, "-m", "minigan.evaluate", "--run", str(out), "--keep", str(keep),
                        "--out", str(metrics)], check=True, env=harness.thread_env(1), stdout=subprocess.DEVNULL)
    return json.loads(metrics.read_text())["samples"]


def run_one(root: Path, dataset: str, variant: str, seed: int, extra: list[str],
            keep: float | None = None) -> dict[str, Any]:
    """Train (if not done yet) and score one run; returns its scores and CPU seconds."""
    out = root / f"{dataset}-{variant}-s{seed}"
    cpu_file = out / "cpu.json"
    if not cpu_file.exists():
        if out.exists():
            sys.exit(f"{out} exists but has no cpu.json (an unfinished run?): delete it and run again.")
        cmd = [sys.executable, "-m", "minigan.train", "--dataset", dataset, "--seed", str(seed), "--quiet",
               "--out", str(out), *VARIANTS[variant], *extra]
        harness.timed_training(cmd, out)
    s = _score(out, 1.0)
    row = {"variant": variant, "seed": seed, "modes": s["modes_covered"], "n_modes": s["n_modes"],
           "hq": s["high_quality"], "rkl": s["reverse_kl"],
           "cpu": json.loads(cpu_file.read_text())["train_cpu_seconds"]}
    if keep is not None:
        t = _score(out, keep)
        row.update(t_modes=t["modes_covered"], t_hq=t["high_quality"], t_rkl=t["reverse_kl"])
    return row


def table(rows: list[dict[str, Any]], keep: float | None = None) -> str:
    t_head = f" truncated ({100 * keep:g}% kept): modes | HQ | reverse KL |" if keep else ""
    lines = ["| variant | seed | modes covered | high quality | reverse KL | training CPU |" + t_head,
             "|---|---|---|---|---|---|" + ("---|---|---|" if keep else "")]

    def cells(r: dict[str, Any], n: int, bold: str = "") -> str:
        out = (f" {bold}{r['modes']:g} / {n}{bold} | {bold}{100 * r['hq']:.1f}%{bold} | {bold}{r['rkl']:.3f}{bold} |"
               f" {r['cpu']:.0f} s |")
        if keep:
            out += (f" {bold}{r['t_modes']:g} / {n}{bold} | {bold}{100 * r['t_hq']:.1f}%{bold} |"
                    f" {bold}{r['t_rkl']:.3f}{bold} |")
        return out

    for variant in dict.fromkeys(r["variant"] for r in rows):
        mine = [r for r in rows if r["variant"] == variant]
        n = mine[0]["n_modes"]
        for r in mine:
            lines.append(f"| {variant} | {r['seed']} |" + cells(r, n))
        keys = ("modes", "hq", "rkl", "cpu") + (("t_modes", "t_hq", "t_rkl") if keep else ())
        med = {k: statistics.median(r[k] for r in mine) for k in keys}
        lines.append(f"| **{variant} median** | |" + cells(med, n, "**"))
    return "\n".join(lines)


def figure(root: Path, dataset: str, panels: list[str], path: Path) -> None:
    """Side by side: each panel one run's 2,500 samples over the data, titled with its scores."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from minigan.data import modes, sample
    from minigan.gan.run import draw
    from minigan.measure.metrics import toy_quality

    centers, _ = modes(dataset)
    real = sample(dataset, 2500, np.random.default_rng(7))
    fig = Figure(figsize=(4.6 * len(panels), 4.9), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    for i, spec in enumerate(panels):
        variant, seed, keep = (spec.split(":") + ["1"])[:3]
        x, _ = draw(root / f"{dataset}-{variant}-s{seed}", 2500, 0, keep=float(keep))
        q = toy_quality(x, dataset)
        ax = fig.add_subplot(1, len(panels), i + 1)
        ax.scatter(real[:, 0], real[:, 1], s=3, c="tab:blue", alpha=0.35, label="real")
        ax.scatter(x[:, 0], x[:, 1], s=3, c="tab:orange", alpha=0.5, label="generated")
        ax.scatter(centers[:, 0], centers[:, 1], marker="+", s=60, c="k", linewidths=1, label="modes")
        ax.set_aspect("equal")
        lim = np.abs(centers).max() * 1.35
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        cut = f", truncated to {100 * float(keep):g}%" if float(keep) < 1 else ""
        ax.set_title(f"{variant}, seed {seed}{cut}\n{q['modes_covered']} / {q['n_modes']} modes, "
                     f"{100 * q['high_quality']:.0f}% HQ", fontsize=11)
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=3, fontsize=10, markerscale=2)
    fig.savefig(path, bbox_inches="tight", pad_inches=0.15)
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", choices=("ring8", "grid25"), default="grid25")
    p.add_argument("--variants", default="vanilla,wgan-gp,unrolled",
                   help=f"comma-separated, from {', '.join(VARIANTS)}; name@0-2 gives one variant its own seeds")
    p.add_argument("--seeds", default="0-4", help="e.g. 0-4, 0,3 or 0-4,10-14")
    p.add_argument("--root", type=Path, default=Path("runs/toy-quality"), help="where the run folders go")
    p.add_argument("--figure", type=Path, default=None, help="draw the panels into this PNG instead of a table")
    p.add_argument("--panels", default="vanilla:3,unrolled:3",
                   help="variant:seed[:keep],... for --figure (keep < 1: Jacobian-truncated samples)")
    p.add_argument("--keep", type=float, default=None,
                   help="also score the Jacobian-truncated samples (evaluate --keep), e.g. 0.9")
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
        rows += [run_one(args.root, args.dataset, variant, s, args.extra, args.keep)
                 for s in _seeds(seeds or args.seeds)]
    print(table(rows, args.keep))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
