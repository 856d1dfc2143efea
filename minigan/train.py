"""``python -m minigan.train``: train a GAN and write a run folder you can look at and resume.

    python -m minigan.train --dataset ring8                      # 2-D toy, about a minute on a CPU
    python -m minigan.train --dataset fashion-mnist --epochs 5   # DCGAN on Fashion-MNIST
    python -m minigan.train --backend cupy                       # DCGAN on MNIST, on the GPU
    python -m minigan.train --resume runs/ring8-mlp              # continue a run where it stopped

The run folder (``--out``) holds:

    config.json         every setting, so the run can be repeated, resumed or sampled
    metrics.csv         step, epoch, d_loss, g_loss, d_real = mean D(x), d_fake = mean D(G(z)), seconds
    samples/            images: G(z) for one *fixed* z every --sample-every steps: progress you can see
    frames/             2-D data: D's heatmap with the points every --sample-every steps
    samples.png         images: the final grid
    losses.png          D's and G's losses against the step
    d_outputs.png       mean D(x) and mean D(G(z)); for the BCE losses both would be 1/2 at p_g = p_data
    field.png           2-D data: real and generated points over D's heatmap (as in GAN Lab)
    training.gif        2-D data: the frames as an animation (once there is one)
    checkpoint.npz      everything needed to resume exactly (see minigan.gan.checkpoint)
    metrics.json        written by python -m minigan.evaluate, not by training

--resume DIR continues the run in DIR (wherever it was moved or copied). It may change how far
the run goes (--steps, --epochs), how often it saves (--sample-every), the learning rate (--lr),
--data-dir and --backend, each recorded in config.json with its step; anything else is refused.
An interrupted run resumed as it was is bit-identical to an uninterrupted one. Extending a run
(or a new --lr) re-plans the learning rate from the current step: constant, or with --lr-decay
linear a linear decay from the current rate (or --lr) to 0 at the new last step.

Ctrl-C or SIGTERM finishes the current step, writes the checkpoint and exits (130, 143); a second
one stops at once. A NaN or inf stops the run with one sentence; no checkpoint ever holds one.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from typing import Any

from minigan import backend
from minigan.cli import number, with_flags
from minigan.data import DATASETS, TOY_DATASETS, DataError
from minigan.gan import config, models
from minigan.gan import trainer as gan
from minigan.gan.checkpoint import CheckpointError
from minigan.gan.run import Run

__all__ = ["main", "parse_args", "settings"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m minigan.train", description="Train a GAN with minigan and write a run folder.",
        epilog="Defaults depend on the data: DCGAN, Adam(2e-4, beta1=0.5), batch 64, 5 epochs for images; "
               "an MLP for the 2-D toys. --resume DIR continues a run (pass a larger --steps/--epochs to extend it).")
    a = p.add_argument

    def t(flag: str) -> Any:  # a numeric flag's type: a whole or finite number; validate checks its range
        kind, _, accepted = config.RANGES[flag.replace("-", "_")]
        return number(kind, "--" + flag, accepted)

    a("--dataset", choices=DATASETS + TOY_DATASETS, default=None, help="the data to learn (default: mnist)")
    a("--split", choices=("train", "test"), default=None,
      help="which split of an image dataset to train on (default: train; 'test' trains on a fixed 8,000 of the "
           "10,000 test images and leaves the other 2,000 unseen for python -m minigan.evaluate)")
    a("--model", choices=models.MODELS, default=None,
      help="the G/D architecture (default: dcgan for images, mlp for 2-D)")
    a("--loss", choices=tuple(gan.LOSSES), default=None, help="the GAN loss (default: nonsaturating)")
    a("--backend", choices=("numpy", "cupy"), default=None, help="arrays on the CPU (numpy) or a CUDA GPU (cupy)")
    a("--epochs", type=t("epochs"), default=None, help="passes over the training data (images default: 5)")
    a("--steps", type=t("steps"), default=None, help="G steps in total, instead of --epochs")
    a("--batch-size", type=t("batch-size"), default=None, help="real samples per D step")
    a("--lr", type=t("lr"), default=None, help="Adam's learning rate for both G and D")
    a("--d-lr", type=t("d-lr"), default=None,
      help="D's own learning rate, where it should differ from G's (default: --lr); a decay, or a resume's new "
           "--lr, scales it by the same factor")
    a("--beta1", type=t("beta1"), default=None, help="Adam's beta1 (0.5 steadies GAN training)")
    a("--z-dim", type=t("z-dim"), default=None, help="size of the noise vector z (default 64)")
    a("--width", type=t("width"), default=None, help="MLP hidden size (256) or DCGAN base width (64)")
    a("--standardize", action="store_true", default=None,
      help="2-D data: G and D work in units of the data's spread (ring8 0.71, grid25 2.83), samples stay in data "
           "units (see benchmarks/QUALITY.md)")
    a("--lr-decay", choices=("none", "linear"), default=None,
      help="learning-rate schedule: constant (none) or linear decay to 0 by the last step (helps G settle)")
    a("--d-steps", type=t("d-steps"), default=None,
      help="D steps per G step, k in Goodfellow et al.'s algorithm (default 1)")
    a("--seed", type=t("seed"), default=None, help="random seed: weights, noise and shuffling (default 0)")
    a("--out", default=None, help="the run folder (default: runs/<dataset>-<model>)")
    a("--data-dir", default=None, help="folder holding the dataset's IDX files (else $MINIGAN_DATA, the cache, ...)")
    a("--resume", metavar="DIR", default=None, help="continue the run in DIR from its checkpoint")
    a("--sample-every", type=t("sample-every"), default=None,
      help="steps between sample grids, figures and checkpoints")
    a("--quiet", action="store_true", help="no progress bar")
    v = p.add_argument_group("GAN variants")
    v.add_argument("--conditional", action="store_true", default=None,
                   help="conditional GAN: G(z, y) and D(x, y) with the class label y; grids get one row per class")
    v.add_argument("--condition", choices=models.CONDITIONS, default=None,
                   help="with --conditional: how D hears y, by projection (the default; Miyato & Koyama 2018) or by "
                        "concat (x with one-hot y for the mlp, a label channel for the dcgan)")
    v.add_argument("--pack", type=t("pack"), default=None,
                   help="PacGAN: D judges this many samples at once (default 1)")
    v.add_argument("--unroll", type=t("unroll"), default=None,
                   help="unrolled GAN: G plays against D this many steps ahead")
    v.add_argument("--unroll-second-order", action="store_true", default=None,
                   help="with --unroll: also backpropagate through the unrolled D steps (Metz et al.'s full method)")
    v.add_argument("--clip", type=t("clip"), default=None,
                   help="clip D's weights to [-c, c] after each step (wgan: 0.01)")
    v.add_argument("--gp-weight", type=t("gp-weight"), default=None,
                   help="gradient-penalty weight lambda (wgan-gp: 10)")
    v.add_argument("--r1", type=t("r1"), default=None, metavar="GAMMA",
                   help="add the R1 penalty GAMMA/2 E|grad_x D(x)|^2 on real data to D's loss (Mescheder et al. "
                        "2018; default 0 = off)")
    v.add_argument("--ema", type=t("ema"), default=None, metavar="BETA",
                   help="also keep the running average of G's weights, G_ema <- BETA G_ema + (1 - BETA) G, and draw "
                        "the samples from it (e.g. 0.999; Yazici et al. 2019; default 0 = off)")
    v.add_argument("--beta2", type=t("beta2"), default=None, help="Adam's beta2 (default 0.999; wgan-gp: 0.9)")
    return p


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return _parser().parse_args(argv)


def settings(args: argparse.Namespace) -> dict[str, Any]:
    """The settings the command line gives (flags left out are None: the defaults fill them in)."""
    return {k: v for k, v in vars(args).items() if k not in config.NOT_SETTINGS}


class Stopped(SystemExit):
    """A run stopped by a fault the user can fix (a NaN, a full disk): its one sentence goes to stderr
    at once, ``.message`` keeps it, and the exit status is 2."""

    def __init__(self, message: str) -> None:
        print(message, file=sys.stderr)
        super().__init__(2)
        self.message = message


class _StopNow(KeyboardInterrupt):
    """A second Ctrl-C (or SIGTERM): stop at once, mid-step."""


class _StopRequest:
    """Turns Ctrl-C / SIGTERM into a flag the loop checks between steps, so a step is never cut in half.

    A second one stops at once (the checkpoint then is the last periodic one).
    """

    EXIT = {"SIGINT": 130, "SIGTERM": 143}  # 128 + the signal's number, as shells report it

    def __init__(self) -> None:
        self.signal: str | None = None
        self._old: dict[int, Any] = {}

    def __enter__(self) -> _StopRequest:
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self._old[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread (e.g. under a test runner): no handler
                pass
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        name = signal.Signals(signum).name
        if self.signal is not None:
            raise _StopNow(name)
        self.signal = name

    def __exit__(self, *exc: Any) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)


def _progress(total: int, initial: int, quiet: bool) -> Any:
    from tqdm import tqdm  # imported here: only the CLI needs it

    return tqdm(total=total, initial=initial, disable=quiet, unit="step", dynamic_ncols=True, mininterval=0.5)


def _progress(total: int, initial: int, quiet: bool) -> Any:
    from tqdm import tqdm  # imported here: only the CLI needs it

    return tqdm(total=total, initial=initial, disable=quiet, unit="step", dynamic_ncols=True, mininterval=0.5)


def train(cfg: dict[str, Any], resume: bool = False, quiet: bool = False,
          changes: dict[str, list[Any]] | None = None, notes: list[str] | None = None) -> Run:
    """Open (or reopen) the run ``cfg`` describes, say what it is, and train it (``Run.train``) with a
    progress bar, Ctrl-C / SIGTERM handling and one sentence for a fault; returns the finished Run."""
    run = Run.resume(cfg, changes) if resume else Run.start(cfg)
    cfg = run.cfg
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, file=sys.stderr))
    say(f"minigan: {cfg['model']} GAN on {cfg['dataset']} ({cfg['split']}, {run.n_data:,} samples), "
        f"loss {cfg['loss']}, {cfg['backend']} backend, {run.total_steps:,} steps -> {run.dir}")
    if cfg.get("conditional"):
        say(f"minigan: conditional: G reads z with the label; D hears it by {cfg.get('condition') or 'concat'}")
    if not resume:
        for recipe in cfg.get("recipes") or []:
            say(f"minigan: recipe: {recipe}")
    if run.data_source is not None:
        folder, source = run.data_source
        say(f"minigan: data from {folder} ({'--data-dir' if source == 'the data_dir argument' else source})")
    for line in [*(notes or []), *(getattr(run, "notes", None) or [])]:  # said even with --quiet
        print(f"minigan: {with_flags(line)}", file=sys.stderr)
    if resume:
        say(f"minigan: resuming at step {run.step:,} of {run.total_steps:,}"
            + ("".join(f"; {k.replace('_', '-')} {old} -> {new}" for k, (old, new) in (changes or {}).items())))
    bar = _progress(run.total_steps, run.step, quiet)

    def on_step(step: int, numbers: dict[str, float]) -> None:
        bar.update(1)
        if step % 10 == 0 or step == run.total_steps:
            bar.set_postfix_str(f"D {numbers['d_loss']:.3f}  G {numbers['g_loss']:.3f}  "
                                f"D(x) {numbers['d_real']:.2f}  D(G(z)) {numbers['d_fake']:.2f}")

    resume_cmd = f"python -m minigan.train --resume {run.dir}"
    try:
        with _StopRequest() as request:
            finished = run.train(on_step, should_stop=lambda: request.signal is not None)
        bar.close()
    except gan.NonFiniteLossError as e:
        bar.close()
        lr = float(cfg['lr'])  # the rate asked for; a tenth of it is the first thing to try
        if run.saved_step is None:
            where = (f"No checkpoint was written yet, so start again with a lower learning rate, e.g. --lr {lr / 10:g} "
                     f"(the same command; {run.dir} holds no run yet).")
        else:
            where = (f"The checkpoint in {run.dir} holds step {run.saved_step:,}, before it went wrong: continue "
                     f"from there with a lower learning rate: {resume_cmd} --lr {lr / 10:g}")
        raise Stopped(f"minigan.train: stopped at step {run.step + 1:,}: {with_flags(str(e))} {where}") from None
    except _StopNow as e:
        bar.close()
        kept = (f"the checkpoint holds step {run.saved_step:,}; continue with: {resume_cmd}"
                if run.saved_step is not None else "no checkpoint was written yet")
        print(f"minigan.train: {e.args[0]} again: stopped at once, in the middle of step {run.step + 1:,}; {kept}",
              file=sys.stderr)
        raise SystemExit(_StopRequest.EXIT.get(e.args[0], 130)) from None
    except OSError as e:  # a full disk (ENOSPC) or a folder taken away mid-run
        bar.close()
        what = f"minigan.train: could not write {e.filename or run.dir} at step {run.step:,} ({e.strerror or e})"
        if run.saved_step is None:
            raise Stopped(f"{what}; no checkpoint was written yet. Free some space (or fix the folder) and run "
                          "the same command again.") from None
        raise Stopped(f"{what}; the checkpoint holds step {run.saved_step:,}, intact. Free some space (or fix "
                      f"the folder) and continue with: {resume_cmd}") from None
    if not finished:
        say(f"{request.signal}: stopped after step {run.step:,}; checkpoint saved. Continue with: {resume_cmd}")
        raise SystemExit(_StopRequest.EXIT.get(request.signal, 130))
    say(f"done: {run.step:,} steps in {run.seconds:.1f} s; wrote {run.dir}/ (samples.png, losses.png, ...)")
    return run


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cfg: dict[str, Any] = {}
    try:
        changes, notes = {}, []
        if args.resume:
            cfg, changes, notes = config.resume_config(args.resume, settings(args))
        else:
            cfg = config.resolve(settings(args))
            _check_out(Path(cfg["out"]))
        train(cfg, resume=bool(args.resume), quiet=args.quiet, changes=changes, notes=notes)
    except (DataError, CheckpointError, backend.BackendError, ValueError) as e:
        print(f"minigan.train: error: {with_flags(str(e))}", file=sys.stderr)
        return 2
    except OSError as e:  # the run folder could not be made or written before training began
        print(f"minigan.train: error: cannot write the run folder {cfg.get('out', '')} "
              f"({e.strerror or e}): choose another --out.", file=sys.stderr)
        return 2
    return 0


def _check_out(out: Path) -> None:
    """--out must be a folder this user can create and write: one sentence before any work is done."""
    for parent in [out, *out.parents]:
        if parent.exists():
            if not parent.is_dir():
                raise ValueError(f"--out {out}: {parent} is a file, not a folder: choose another --out.")
            break
    top = next(p for p in [out, *out.parents] if p.exists())
    if str(top.resolve()).startswith(("/proc", "/sys")) or not os.access(top, os.W_OK | os.X_OK):
        raise ValueError(f"--out {out}: {top} cannot be written by this user: choose another --out.")


if __name__ == "__main__":
    sys.exit(main())
