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
import time
from pathlib import Path
from typing import Any

import numpy as np

from minigan import backend
from minigan.data import DATASETS, TOY_DATASETS, DataError
from minigan.gan import checkpoint, models
from minigan.gan import trainer as gan
from minigan.gan.checkpoint import CheckpointError
from minigan.gan.run import Run

__all__ = ["main", "parse_args", "resolve_config", "DEFAULTS"]

# Defaults per kind of data. Images: DCGAN's Adam(2e-4, beta1 0.5) (Radford et al. 2016).
# Toys: see benchmarks/QUALITY.md for how these were chosen.
DEFAULTS: dict[str, dict[str, Any]] = {
    "image": {"model": "dcgan", "loss": "nonsaturating", "lr": 2e-4, "beta1": 0.5, "batch_size": 64,
              "epochs": 5, "sample_every": 500},
    "image-mlp": {"batch_size": 128, "epochs": 20},
    "toy": {"model": "mlp", "loss": "nonsaturating", "lr": 1e-3, "beta1": 0.5, "batch_size": 512,
            "steps": 5000, "sample_every": 250, "lr_decay": "linear"},
}


# The variants' published settings, applied when --loss picks them (flags given still win).
LOSS_DEFAULTS: dict[str, dict[str, Any]] = {
    # Arjovsky et al. 2017: RMSprop 5e-5, clip 0.01, 5 critic steps per G step.
    "wgan": {"optimizer": "rmsprop", "lr": 5e-5, "clip": 0.01, "d_steps": 5},
    # Gulrajani et al. 2017: Adam(1e-4, betas (0, 0.9)), lambda 10, 5 critic steps.
    "wgan-gp": {"lr": 1e-4, "beta1": 0.0, "beta2": 0.9, "gp_weight": 10.0, "d_steps": 5},
}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m minigan.train", description="Train a GAN with minigan and write a run folder.",
        epilog="Defaults depend on the data: DCGAN, Adam(2e-4, beta1=0.5), batch 64, 5 epochs for images; "
               "an MLP for the 2-D toys. --resume DIR continues a run (pass a larger --steps/--epochs to extend it).")
    a = p.add_argument

    def t(flag: str) -> Any:  # a numeric flag's type: a whole or finite number; validate checks its range
        kind, _, accepted = RANGES[flag.replace("-", "_")]
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
    v.add_argument("--ema", type=t("ema"), default=None, metavar="BETA",
                   help="also keep the running average of G's weights, G_ema <- BETA G_ema + (1 - BETA) G, and draw "
                        "the samples from it (e.g. 0.999; Yazici et al. 2019; default 0 = off)")
    v.add_argument("--beta2", type=t("beta2"), default=None, help="Adam's beta2 (default 0.999; wgan-gp: 0.9)")
    return p


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return _parser().parse_args(argv)


def resolve_config(args: argparse.Namespace) -> dict[str, Any]:
    """Fill every setting left unset with the default for its dataset."""
    given = {k: v for k, v in vars(args).items() if v is not None and k not in ("resume", "quiet")}
    dataset = given.get("dataset", "mnist")
    toy = dataset in TOY_DATASETS
    cfg: dict[str, Any] = {"dataset": dataset, "split": "train", "backend": backend.current().name, "z_dim": 64,
                           "lr_decay": "none", "beta2": 0.999, "pack": 1, "unroll": 0, "conditional": False,
                           "width": None, "standardize": False, "ema": 0.0, "d_steps": 1, "seed": 0, "data_dir": None,
                           "epochs": None, "steps": None}
    cfg.update(DEFAULTS["toy" if toy else "image"])
    if not toy and given.get("model") == "mlp":
        cfg.update(DEFAULTS["image-mlp"])
    if "steps" in given:
        cfg["epochs"] = None
    if "epochs" in given:
        cfg["steps"] = None
    cfg.update(LOSS_DEFAULTS.get(given.get("loss", cfg["loss"]), {}))
    cfg.update(given)
    if toy and cfg["model"] == "dcgan":
        raise ValueError(f"--model dcgan needs 28 x 28 images; for {dataset} use --model mlp.")
    if cfg["standardize"] and not toy:
        raise ValueError("--standardize is for the 2-D toys; images are already scaled to [-1, 1].")
    cfg["out"] = str(cfg.get("out") or Path("runs") / f"{dataset}-{cfg['model']}")
    if "steps" in given and "epochs" in given:
        raise ValueError(f"--steps ({given['steps']}) and --epochs ({given['epochs']}) both say how long to train: "
                         "give one of them.")
    validate(cfg)
    return cfg


# The accepted values of every numeric setting, in one place for a new run (resolve_config) and a resumed one:
# config key -> (int or float, the test, the range in words). A float must also be finite; None means unset.
RANGES: dict[str, tuple[type, Any, str]] = {
    "epochs": (float, lambda v: v > 0, "positive and finite"),
    "steps": (int, lambda v: v >= 1, "at least 1"),
    "batch_size": (int, lambda v: v >= 1, "at least 1"),
    "lr": (float, lambda v: v > 0, "positive and finite"),
    "beta1": (float, lambda v: 0 <= v < 1, "in [0, 1)"),
    "beta2": (float, lambda v: 0 <= v < 1, "in [0, 1)"),
    "z_dim": (int, lambda v: v >= 1, "at least 1"),
    "width": (int, lambda v: v >= 1, "at least 1"),
    "d_steps": (int, lambda v: v >= 1, "at least 1"),
    "sample_every": (int, lambda v: v >= 1, "at least 1"),
    "pack": (int, lambda v: v >= 1, "at least 1"),
    "unroll": (int, lambda v: v >= 0, "at least 0 (0 = off)"),
    "clip": (float, lambda v: v > 0, "positive and finite"),
    "gp_weight": (float, lambda v: v >= 0, "at least 0 and finite (0 = off)"),
    "ema": (float, lambda v: 0 <= v < 1, "in [0, 1)"),
    "seed": (int, lambda v: v >= 0, "at least 0"),
}


def number(kind: type, flag: str, accepted: str) -> Any:
    """An argparse ``type=`` for ``flag``: a whole (int) or a finite (float) number, else one sentence
    naming the value and what ``flag`` accepts. Ranges are checked by ``validate``."""
    import math

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a {'whole' if kind is int else 'finite'} number: "
                                             f"{flag} must be {accepted}.")
        return value

    parse.__name__ = kind.__name__
    return parse


def validate(cfg: dict[str, Any]) -> None:
    """Raise ValueError, one sentence naming the flag, the value and its range, for a setting out of range."""
    import math

    for key, (kind, ok, accepted) in RANGES.items():
        value = cfg.get(key)
        if value is None:
            continue
        flag = "--" + key.replace("_", "-")
        whole = isinstance(value, int) and not isinstance(value, bool)
        if not (whole or (kind is float and isinstance(value, float))):
            what = "a whole number" if kind is int else "a number"
            raise ValueError(f"{flag} must be {what}, {accepted}, got {value!r}.")
        if not (math.isfinite(value) and ok(value)):
            if key == "ema":
                raise ValueError(f"--ema is the decay of G's running average, in [0, 1) (e.g. 0.999), got {value!r}.")
            raise ValueError(f"{flag} must be {accepted}, got {value!r}.")
    if cfg.get("batch_size") and cfg.get("pack") and cfg["batch_size"] % cfg["pack"]:
        raise ValueError(f"--batch-size ({cfg['batch_size']}) must be a multiple of --pack ({cfg['pack']}).")


# Settings a resumed run may change: how far it goes, how often it saves, its learning rate, where
# its data is read from and where its arrays live. Everything else defines the run and stays.
RESUME_MAY_CHANGE = ("steps", "epochs", "lr", "sample_every", "data_dir", "backend")


def resume_config(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, list[Any]], list[str]]:
    """The config of the run in ``args.resume``, continued in that very folder, with the changes the
    command line asks for: (config, {setting: [old, new]}, lines to print)."""
    folder = Path(args.resume)
    notes = []
    try:
        cfg = Run.load_config(folder)
        _check_config(cfg, folder)
    except CheckpointError as damaged:
        # The checkpoint keeps a copy of the config it was saved with: nothing is lost if it is whole.
        if not (folder / "checkpoint.npz").exists():
            raise
        try:
            cfg = checkpoint.load(folder / "checkpoint.npz")["config"]
            _check_config(cfg, folder)
        except (CheckpointError, KeyError, TypeError):
            raise damaged from None
        notes.append(f"{folder / 'config.json'} was damaged ({damaged}); using the copy saved in checkpoint.npz")
    if Path(cfg["out"]).resolve() != folder.resolve():
        notes.append(f"this run was started in {cfg['out']}; it continues here, in {folder}")
    cfg["out"] = str(folder)
    given = {k: v for k, v in vars(args).items() if v is not None and k not in ("resume", "quiet")}
    if "out" in given and Path(given["out"]).resolve() != folder.resolve():
        raise ValueError(f"--out {given['out']} with --resume {folder}: a resumed run continues in its own folder; "
                         "to branch it, copy the folder and resume the copy.")
    for key, value in given.items():
        if key not in RESUME_MAY_CHANGE and key != "out" and value != cfg.get(key):
            raise ValueError(f"--{key.replace('_', '-')} cannot change when a run is resumed (this run has "
                             f"{cfg.get(key)!r}, not {value!r}): leave it out, or start a new run with another --out.")
    changes = {k: [cfg.get(k), given[k]] for k in RESUME_MAY_CHANGE if k in given and given[k] != cfg.get(k)}
    for key, (_, new) in changes.items():
        cfg[key] = new
    if "steps" in changes and cfg.get("epochs") is not None:
        changes["epochs"], cfg["epochs"] = [cfg["epochs"], None], None
    if "epochs" in changes and cfg.get("steps") is not None:
        changes["steps"], cfg["steps"] = [cfg["steps"], None], None
    validate(cfg)  # the same ranges as a new run's
    return cfg, changes, notes


def _check_config(cfg: Any, folder: Path) -> None:
    """A hand-edited config.json that is valid JSON but not a run's config: one sentence, not a KeyError."""
    where = folder / "config.json"
    if not isinstance(cfg, dict):
        raise CheckpointError(f"{where} is not a run's config (it holds a {type(cfg).__name__}, not an object): "
                              "restore it from a copy, or start a new run.")
    dataset = cfg.get("dataset")
    if dataset not in DATASETS + TOY_DATASETS:
        raise CheckpointError(f"{where} names no known dataset ({dataset!r}): restore the file from a copy, "
                              "or start a new run.")
    reference = resolve_config(parse_args(["--dataset", dataset, "--model", str(cfg.get("model", "mlp"))])
                               if cfg.get("model") in models.MODELS else parse_args(["--dataset", dataset]))
    for key, value in reference.items():
        if key in ("out", "backend", "steps", "epochs", "width", "data_dir", "optimizer", "clip"):
            continue
        if key not in cfg:
            raise CheckpointError(f"{where} has no {key!r}: restore the file from a copy, or start a new run.")
        kind = bool if isinstance(value, bool) else (int, float) if isinstance(value, (int, float)) else type(value)
        if not isinstance(cfg[key], kind) or (kind is not bool and isinstance(cfg[key], bool)):
            raise CheckpointError(f"{where}: {key!r} is {cfg[key]!r}, which is not a {_kind_name(value)}: "
                                  "restore the file from a copy, or start a new run.")
    if not (cfg.get("steps") or cfg.get("epochs")) or not isinstance(cfg.get("out"), str):
        raise CheckpointError(f"{where} gives neither steps nor epochs, or no out folder: restore the file from a "
                              "copy, or start a new run.")


def _kind_name(value: Any) -> str:
    return {bool: "true/false", str: "string"}.get(type(value), "number")


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


def train(cfg: dict[str, Any], resume: bool = False, quiet: bool = False,
          changes: dict[str, list[Any]] | None = None, notes: list[str] | None = None) -> Run:
    """Run (or continue) the training described by ``cfg``; returns the finished Run.

    ``changes``: what a resume changes ({setting: [old, new]}, see ``resume_config``)."""
    run = Run.resume(cfg, changes) if resume else Run.start(cfg)
    cfg = run.cfg
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, file=sys.stderr))
    say(f"minigan: {cfg['model']} GAN on {cfg['dataset']} ({cfg['split']}, {run.n_data:,} samples), "
        f"loss {cfg['loss']}, {cfg['backend']} backend, {run.total_steps:,} steps -> {run.dir}")
    if run.data_source is not None:
        folder, source = run.data_source
        say(f"minigan: data from {folder} ({'--data-dir' if source == 'the data_dir argument' else source})")
    for line in [*(notes or []), *(getattr(run, "notes", None) or [])]:  # said even with --quiet
        print(f"minigan: {line}", file=sys.stderr)
    if resume:
        say(f"minigan: resuming at step {run.step:,} of {run.total_steps:,}"
            + ("".join(f"; {k.replace('_', '-')} {old} -> {new}" for k, (old, new) in (changes or {}).items())))
    bar = _progress(run.total_steps, run.step, quiet)
    batches = run.loader.batches()
    stop = None
    t0 = time.perf_counter()
    resume_cmd = f"python -m minigan.train --resume {run.dir}"
    try:
        # A diverging step overflows on the way to its NaN: the sentence below says so, without NumPy's warnings.
        with _StopRequest() as request, np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            while run.step < run.total_steps:
                run.set_learning_rate()
                numbers = run.gan.train_step(batches)
                run.step += 1
                run.log(numbers, time.perf_counter() - t0 + run.seconds_before)
                bar.update(1)
                if run.step % 10 == 0 or run.step == run.total_steps:
                    bar.set_postfix_str(f"D {numbers['d_loss']:.3f}  G {numbers['g_loss']:.3f}  "
                                        f"D(x) {numbers['d_real']:.2f}  D(G(z)) {numbers['d_fake']:.2f}")
                if run.step % cfg["sample_every"] == 0:
                    run.snapshot()
                if request.signal:
                    stop = request.signal
                    break
        bar.close()
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            run.finish(save=True)
    except gan.NonFiniteLossError as e:
        bar.close()
        run.finish(save=False)
        lr = float(cfg['lr'])  # the rate asked for; a tenth of it is the first thing to try
        if run.saved_step is None:
            where = (f"No checkpoint was written yet, so start again with a lower learning rate, e.g. --lr {lr / 10:g} "
                     f"(the same command; {run.dir} holds no run yet).")
        else:
            where = (f"The checkpoint in {run.dir} holds step {run.saved_step:,}, before it went wrong: continue "
                     f"from there with a lower learning rate: {resume_cmd} --lr {lr / 10:g}")
        raise Stopped(f"minigan.train: stopped at step {run.step + 1:,}: {e} {where}") from None
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
    if stop:
        say(f"{stop}: stopped after step {run.step:,}; checkpoint saved. Continue with: {resume_cmd}")
        raise SystemExit(_StopRequest.EXIT.get(stop, 130))
    say(f"done: {run.step:,} steps in {run.seconds:.1f} s; wrote {run.dir}/ (samples.png, losses.png, ...)")
    return run


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.backend:
            backend.use(args.backend)
        changes, notes = {}, []
        if args.resume:
            cfg, changes, notes = resume_config(args)
            if not args.backend:
                backend.use(cfg["backend"])
        else:
            cfg = resolve_config(args)
            _check_out(Path(cfg["out"]))
        train(cfg, resume=bool(args.resume), quiet=args.quiet, changes=changes, notes=notes)
    except (DataError, CheckpointError, backend.BackendError, ValueError) as e:
        print(f"minigan.train: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # the run folder could not be made or written before training began
        print(f"minigan.train: error: cannot write the run folder {cfg.get('out') if 'cfg' in locals() else ''} "
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
