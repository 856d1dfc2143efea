"""The trainer on NumPy and on CuPy, same seed, same first steps: are the losses the same numbers?

    python benchmarks/compare_backends.py                      # mlp on ring8 and dcgan on MNIST's test files
    python benchmarks/compare_backends.py --models mlp --steps 5 --standin   # CuPy played by tests/strict_cupy.py
    python benchmarks/compare_backends.py --out gpu_check_out/compare --tol 1e-3

Each side is one ``python -m minigan.train --quiet`` process (with ``--standin`` the CuPy side
runs under ``tests/run_on_standin.py``): ``mlp`` on ring8 (its defaults: batch 512, width 256),
``dcgan`` on the 8,000 training images of MNIST's test files (``--split test``; defaults:
batch 64, width 64; ``--dcgan-width`` / ``--dcgan-batch-size`` change them). Both sides read
the same seed, so the weights, the batches and every z are the same numbers; only the
arithmetic differs (OpenBLAS and NumPy's loops on the CPU, cuBLAS and CuPy's kernels on the GPU).

It reads both runs' ``metrics.csv`` and prints (and writes to ``OUT/compare.md``, with the
figures in ``OUT/compare.json``) the losses side by side and, per model, the largest
relative difference |a - b| / max(|a|, |b|) over d_loss and g_loss. Exit status: 0 when every
model is within ``--tol``; 1 when one is not; 2 when a run failed or its data is missing.

The tolerance, 1e-3 by default:

* the floor is 1e-5: metrics.csv holds 6 significant digits, so two losses equal to float32
  rounding can still print one unit apart in the 6th digit (1.00000 vs 1.00001);
* float32 sums on the GPU run in another order than on the CPU: each matrix product or
  reduction differs by a few units of float32's 6e-8 times ~sqrt(terms), 1e-6 to 1e-5 at
  step 1; the next steps train on those weights, Adam's first updates are ~lr * sign(grad)
  (a gradient that is ~0 may flip sign and move its weight by 2 lr differently), and the
  game amplifies what it is given (benchmarks/torch_gan.py: minigan and PyTorch on the CPU
  agree to 6 digits for a few dozen steps and drift visibly by ~100);
* a real bug moves the losses by far more from the first step on: another random draw, a
  wrong gradient term or wrong batch statistics change a loss by 1e-2 or more.

So 1e-3 over 20 steps is "equal within float32 rounding" with room to spare either way; the
figure is printed whatever it is. On the stand-in (NumPy underneath) the two sides must agree
exactly: use ``--tol 0``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
STANDIN_RUNNER = ROOT / "tests" / "run_on_standin.py"
MNIST_FILES = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
COLUMNS = ("d_loss", "g_loss")
EXTRA = ("d_real", "d_fake")  # reported, not gated
DEFAULT_WIDTH = {"mlp": 256, "dcgan": 64}  # the trainer's, when --width is not given


def mnist_candidates(explicit: str | None = None) -> list[Path]:
    """Where MNIST's test files are looked for, in order: --data-dir, $MINIGAN_DATA,
    ./shared/data/mnist in the checkout, ../shared/data/mnist beside it."""
    out = [Path(explicit)] if explicit else []
    if os.environ.get("MINIGAN_DATA"):
        out.append(Path(os.environ["MINIGAN_DATA"]))
    out += [ROOT / "shared" / "data" / "mnist", ROOT.parent / "shared" / "data" / "mnist"]
    return out


def has_mnist_test_files(folder: Path) -> bool:
    return all((folder / f).exists() or (folder / (f + ".gz")).exists() for f in MNIST_FILES)


def find_mnist(explicit: str | None = None) -> Path | None:
    """The first candidate folder that holds both MNIST test files, or None."""
    return next((p for p in mnist_candidates(explicit) if has_mnist_test_files(p)), None)


def train_flags(model: str, args: argparse.Namespace, data_dir: Path | None) -> list[str]:
    """The trainer's flags for one model, the same on both sides but for --backend and --out."""
    flags = ["--steps", str(args.steps), "--seed", str(args.seed), "--quiet"]
    if model == "mlp":
        return ["--dataset", "ring8", "--model", "mlp", *flags]
    flags = ["--dataset", "mnist", "--split", "test", "--model", "dcgan", "--data-dir", str(data_dir), *flags]
    if args.dcgan_width:
        flags += ["--width", str(args.dcgan_width)]
    if args.dcgan_batch_size:
        flags += ["--batch-size", str(args.dcgan_batch_size)]
    return flags


def run_side(backend: str, flags: list[str], out: Path, standin: bool, timeout: float) -> tuple[int, float, str]:
    """One ``minigan.train`` process; (exit code, seconds, log file). Its output goes to out.log."""
    if backend == "cupy" and standin:
        cmd = [sys.executable, str(STANDIN_RUNNER), "-m", "minigan.train"]
    else:
        cmd = [sys.executable, "-m", "minigan.train"]
    cmd += ["--backend", backend, *flags, "--out", str(out)]
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("MINIGAN_BACKEND", None)  # --backend says it; run_on_standin sets its own
    log = out.parent / f"{out.name}.log"
    t0 = time.perf_counter()
    with open(log, "w") as f:
        f.write("$ " + " ".join(cmd) + "\n")
        f.flush()
        try:
            code = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, env=env, cwd=ROOT,
                                  timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            f.write(f"\n[compare_backends] timed out after {timeout:.0f} s\n")
            code = 124
    return code, time.perf_counter() - t0, str(log)


def read_metrics(run: Path) -> list[dict[str, str]]:
    with open(run / "metrics.csv", newline="") as f:
        return list(csv.DictReader(f))


def rel_diff(a: str, b: str) -> float:
    """|a - b| / max(|a|, |b|) of two printed numbers (0 when both are 0; inf when one is not finite)."""
    x, y = float(a), float(b)
    if x == y:
        return 0.0
    scale = max(abs(x), abs(y))
    if not (scale < float("inf")) or x != x or y != y:
        return float("inf")
    return abs(x - y) / scale


def compare(rows_np: list[dict[str, str]], rows_cp: list[dict[str, str]]) -> dict[str, Any]:
    """Step by step, the losses of both runs and their relative differences."""
    steps = []
    worst = {c: (0.0, None) for c in COLUMNS + EXTRA}
    for a, b in zip(rows_np, rows_cp):
        if a["step"] != b["step"]:
            raise ValueError(f"the runs log different steps: {a['step']} vs {b['step']}")
        row = {"step": int(a["step"])}
        for c in COLUMNS + EXTRA:
            d = rel_diff(a[c], b[c])
            row[c] = (a[c], b[c], d)
            if worst[c][1] is None or d > worst[c][0]:
                worst[c] = (d, row["step"])
        steps.append(row)
    losses = max((worst[c] for c in COLUMNS), key=lambda t: t[0])
    return {"rows": steps, "worst": worst, "max_rel": losses[0], "max_rel_step": losses[1],
            "same_length": len(rows_np) == len(rows_cp), "n_numpy": len(rows_np), "n_cupy": len(rows_cp)}


def _fmt(d: float) -> str:
    return "0" if d == 0 else f"{d:.2e}"


def model_table(model: str, result: dict[str, Any], cupy_label: str) -> str:
    head = ["step", "d_loss numpy", f"d_loss {cupy_label}", "g_loss numpy", f"g_loss {cupy_label}", "rel diff"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for r in result["rows"]:
        (dn, dc, dd), (gn, gc, gd) = r["d_loss"], r["g_loss"]
        lines.append(f"| {r['step']} | {dn} | {dc} | {gn} | {gc} | {_fmt(max(dd, gd))} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", nargs="+", default=["mlp", "dcgan"], choices=["mlp", "dcgan"])
    p.add_argument("--steps", type=int, default=20, help="G steps on each side (default 20)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tol", type=float, default=1e-3,
                   help="largest relative difference of d_loss/g_loss allowed (default 1e-3; see the docstring)")
    p.add_argument("--out", default="runs/compare_backends", help="where both runs and compare.md go")
    p.add_argument("--data-dir", help="MNIST's test files (else $MINIGAN_DATA, ./shared/data/mnist, "
                                      "../shared/data/mnist)")
    p.add_argument("--dcgan-width", type=int, help="DCGAN base width (default: the trainer's, 64)")
    p.add_argument("--dcgan-batch-size", type=int, help="DCGAN batch (default: the trainer's, 64)")
    p.add_argument("--standin", action="store_true",
                   help="the CuPy side on the strict stand-in (tests/run_on_standin.py): no GPU needed")
    p.add_argument("--keep-checkpoints", action="store_true", help="keep the runs' checkpoint.npz (deleted by default)")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds per training run (default 300)")
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cupy_label = "cupy-standin" if args.standin else "cupy"
    status, report, figures = 0, [], {}
    summary = []
    for model in args.models:
        data_dir = None
        if model == "dcgan":
            data_dir = find_mnist(args.data_dir)
            if data_dir is None:
                where = ", ".join(str(c) for c in mnist_candidates(args.data_dir))
                msg = (f"dcgan: NOT RUN: no MNIST test files ({' and '.join(f + '[.gz]' for f in MNIST_FILES)}) "
                       f"found in any of: {where}. Set MINIGAN_DATA or --data-dir.")
                print(msg, flush=True)
                report.append(f"### dcgan\n\n{msg}\n")
                summary.append([model, "-", "-", "-", "-", "no data"])
                status = max(status, 2)
                continue
            print(f"dcgan: MNIST test files from {data_dir}", flush=True)
        flags = train_flags(model, args, data_dir)
        runs, failed = {}, False
        for side in ("numpy", "cupy"):
            run = out / f"{model}-{side}"
            code, secs, log = run_side(side, flags, run, args.standin, args.timeout)
            print(f"{model} on {side if side == 'numpy' else cupy_label}: exit {code} in {secs:.1f} s (log {log})",
                  flush=True)
            runs[side] = run
            if code != 0 or not (run / "metrics.csv").exists():
                failed = True
                tail = Path(log).read_text()[-1500:]
                print(f"--- last lines of {log}:\n{tail}", flush=True)
        if failed:
            report.append(f"### {model}\n\nA run failed: see {out}/{model}-*.log\n")
            summary.append([model, "-", "-", "-", "-", "run failed"])
            status = max(status, 2)
            continue
        result = compare(read_metrics(runs["numpy"]), read_metrics(runs["cupy"]))
        if not args.keep_checkpoints:  # 3-8 MB each, not needed for the comparison
            for run in runs.values():
                (run / "checkpoint.npz").unlink(missing_ok=True)
        ok = result["same_length"] and result["max_rel"] <= args.tol
        if not ok:
            status = max(status, 1)
        w = result["worst"]
        what = "ring8" if model == "mlp" else f"MNIST test files ({data_dir})"
        cfg = json.loads((runs["numpy"] / "config.json").read_text()) if (runs["numpy"] / "config.json").exists() \
            else {}
        width = cfg.get("width") or f"{DEFAULT_WIDTH[model]} (default)"
        setting = f"batch {cfg.get('batch_size', '?')}, width {width}"
        report.append(
            f"### {model} on {what}: {result['n_numpy']} steps, seed {args.seed}" + (f", {setting}" if setting else "")
            + f"\n\n{model_table(model, result, cupy_label)}\n\n"
            f"Largest relative difference: d_loss {_fmt(w['d_loss'][0])} (step {w['d_loss'][1]}), "
            f"g_loss {_fmt(w['g_loss'][0])} (step {w['g_loss'][1]}); also d_real {_fmt(w['d_real'][0])}, "
            f"d_fake {_fmt(w['d_fake'][0])} (not gated). Tolerance {args.tol:g}: **{'ok' if ok else 'EXCEEDED'}**"
            + ("" if result["same_length"] else f" (the runs logged {result['n_numpy']} and {result['n_cupy']} steps)")
            + "\n")
        figures[model] = {"max_rel": result["max_rel"], "max_rel_step": result["max_rel_step"],
                          "worst": {c: list(v) for c, v in w.items()}, "steps": result["n_numpy"],
                          "steps_cupy": result["n_cupy"], "ok": ok,
                          "losses": [{"step": r["step"], **{c: list(r[c][:2]) for c in COLUMNS}}
                                     for r in result["rows"]]}
        summary.append([model, result["n_numpy"], _fmt(w["d_loss"][0]), _fmt(w["g_loss"][0]),
                        _fmt(result["max_rel"]), "ok" if ok else "EXCEEDED"])
    head = ["model", "steps", "max rel d_loss", "max rel g_loss", "max rel (losses)", f"tol {args.tol:g}"]
    table = "\n".join(["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
                      + ["| " + " | ".join(str(c) for c in row) + " |" for row in summary])
    text = (f"## Losses on NumPy and on {cupy_label}, same seed, first {args.steps} steps\n\n"
            + "\n".join(report) + f"\n### Summary\n\n{table}\n\n"
            "- rel diff: |numpy - cupy| / max(|numpy|, |cupy|) of the values metrics.csv holds (6 significant "
            "digits, so 1e-5 is the floor); tolerance and why: benchmarks/compare_backends.py's docstring.\n")
    print("\n" + text)
    (out / "compare.md").write_text(text)
    (out / "compare.json").write_text(json.dumps({"tol": args.tol, "standin": args.standin, "steps": args.steps,
                                                  "seed": args.seed, "status": status, "models": figures}, indent=1))
    return status


if __name__ == "__main__":
    sys.exit(main())
