"""``python -m minigan.train``: train a GAN and write a run folder you can look at and resume.

    python -m minigan.train --dataset ring8                      # 2-D toy, about a minute on a CPU
    python -m minigan.train --dataset fashion-mnist --epochs 5   # DCGAN on Fashion-MNIST
    python -m minigan.train --backend cupy                       # DCGAN on MNIST, on the GPU
    python -m minigan.train --resume runs/ring8                  # continue a run where it stopped

The run folder (``--out``) holds:

    config.json         every setting, so the run can be repeated, resumed or sampled
    metrics.csv         step, epoch, d_loss, g_loss, d_real = mean D(x), d_fake = mean D(G(z)), seconds
    samples/            G(z) for one *fixed* z every --sample-every steps: progress you can see
    samples.png         the final grid (images) or points (2-D)
    losses.png          D's and G's losses against the step
    d_outputs.png       mean D(x) and mean D(G(z)); both would be 1/2 at the equilibrium p_g = p_data
    field.png           2-D data: real and generated points over D's heatmap (as in GAN Lab)
    training.gif        2-D data: that picture as training went
    checkpoint.npz      everything needed to resume exactly (see minigan.checkpoint)

Ctrl-C (or a kill signal) finishes the current step, writes the checkpoint and exits; a NaN
loss stops the run and keeps the last good checkpoint.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from typing import Any

from minigan import backend, gan, models
from minigan.checkpoint import CheckpointError
from minigan.data import DATASETS, TOY_DATASETS, DataError
from minigan.run import Run

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
    a("--dataset", choices=DATASETS + TOY_DATASETS, default=None, help="the data to learn (default: mnist)")
    a("--split", choices=("train", "test"), default=None,
      help="which split of an image dataset to train on (default: train; 'test' trains on a fixed 8,000 of the "
           "10,000 test images and leaves the other 2,000 unseen for python -m minigan.evaluate)")
    a("--model", choices=models.MODELS, default=None,
      help="the G/D architecture (default: dcgan for images, mlp for 2-D)")
    a("--loss", choices=tuple(gan.LOSSES), default=None, help="the GAN loss (default: nonsaturating)")
    a("--backend", choices=("numpy", "cupy"), default=None, help="arrays on the CPU (numpy) or a CUDA GPU (cupy)")
    a("--epochs", type=float, default=None, help="passes over the training data (images default: 5)")
    a("--steps", type=int, default=None, help="G steps in total, instead of --epochs")
    a("--batch-size", type=int, default=None, help="real samples per D step")
    a("--lr", type=float, default=None, help="Adam's learning rate for both G and D")
    a("--beta1", type=float, default=None, help="Adam's beta1 (0.5 steadies GAN training)")
    a("--z-dim", type=int, default=None, help="size of the noise vector z (default 64)")
    a("--width", type=int, default=None, help="MLP hidden size (256) or DCGAN base width (64)")
    a("--standardize", action="store_true", default=None,
      help="2-D data: G and D work in units of the data's spread (ring8 0.71, grid25 2.83), samples stay in data "
           "units (see benchmarks/QUALITY.md)")
    a("--lr-decay", choices=("none", "linear"), default=None,
      help="learning-rate schedule: constant (none) or linear decay to 0 by the last step (helps G settle)")
    a("--d-steps", type=int, default=None, help="D steps per G step, k in Goodfellow et al.'s algorithm (default 1)")
    a("--seed", type=int, default=None, help="random seed: weights, noise and shuffling (default 0)")
    a("--out", default=None, help="the run folder (default: runs/<dataset>-<model>)")
    a("--data-dir", default=None, help="folder holding the dataset's IDX files (else $MINIGAN_DATA, the cache, ...)")
    a("--resume", metavar="DIR", default=None, help="continue the run in DIR from its checkpoint")
    a("--sample-every", type=int, default=None, help="steps between sample grids, figures and checkpoints")
    a("--quiet", action="store_true", help="no progress bar")
    v = p.add_argument_group("GAN variants")
    v.add_argument("--conditional", action="store_true", default=None,
                   help="conditional GAN: G(z, y) and D(x, y) with the class label y; grids get one row per class")
    v.add_argument("--pack", type=int, default=None, help="PacGAN: D judges this many samples at once (default 1)")
    v.add_argument("--unroll", type=int, default=None, help="unrolled GAN: G plays against D this many steps ahead")
    v.add_argument("--unroll-second-order", action="store_true", default=None,
                   help="with --unroll: also backpropagate through the unrolled D steps (Metz et al.'s full method)")
    v.add_argument("--clip", type=float, default=None, help="clip D's weights to [-c, c] after each step (wgan: 0.01)")
    v.add_argument("--gp-weight", type=float, default=None, help="gradient-penalty weight lambda (wgan-gp: 10)")
    v.add_argument("--ema", type=float, default=None, metavar="BETA",
                   help="also keep the running average of G's weights, G_ema <- BETA G_ema + (1 - BETA) G, and draw "
                        "the samples from it (e.g. 0.999; Yazici et al. 2019; default 0 = off)")
    v.add_argument("--beta2", type=float, default=None, help="Adam's beta2 (default 0.999; wgan-gp: 0.9)")
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
    if cfg["batch_size"] % cfg["pack"]:
        raise ValueError(f"--batch-size ({cfg['batch_size']}) must be a multiple of --pack ({cfg['pack']}).")
    for key in ("batch_size", "z_dim", "d_steps", "sample_every", "pack"):
        if int(cfg[key]) < 1:
            raise ValueError(f"--{key.replace('_', '-')} must be at least 1, got {cfg[key]}.")
    if not 0 <= cfg["ema"] < 1:
        raise ValueError(f"--ema is the decay of G's running average, in [0, 1) (e.g. 0.999), got {cfg['ema']}.")
    if cfg["lr"] <= 0:
        raise ValueError(f"--lr must be positive, got {cfg['lr']}.")
    return cfg


class _StopRequest:
    """Turns Ctrl-C / SIGTERM into a flag the loop checks between steps, so a step is never cut in half.

    A second Ctrl-C stops at once (the checkpoint then is the last periodic one).
    """

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
        if self.signal is not None:
            raise KeyboardInterrupt
        self.signal = signal.Signals(signum).name

    def __exit__(self, *exc: Any) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)


def _progress(total: int, initial: int, quiet: bool) -> Any:
    from tqdm import tqdm  # imported here: only the CLI needs it

    return tqdm(total=total, initial=initial, disable=quiet, unit="step", dynamic_ncols=True, mininterval=0.5)


def train(cfg: dict[str, Any], resume: bool = False, quiet: bool = False) -> Run:
    """Run (or continue) the training described by ``cfg``; returns the finished Run."""
    run = Run.resume(cfg) if resume else Run.start(cfg)
    cfg = run.cfg
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, file=sys.stderr))
    say(f"minigan: {cfg['model']} GAN on {cfg['dataset']} ({cfg['split']}, {run.n_data:,} samples), "
        f"loss {cfg['loss']}, {cfg['backend']} backend, {run.total_steps:,} steps -> {run.dir}")
    bar = _progress(run.total_steps, run.step, quiet)
    batches = run.loader.batches()
    stop = None
    t0 = time.perf_counter()
    try:
        with _StopRequest() as request:
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
    except gan.NonFiniteLossError as e:
        bar.close()
        run.finish(save=False)
        raise SystemExit(f"minigan.train: stopped at step {run.step + 1}: {e} "
                         f"The last good checkpoint is in {run.dir}.") from None
    bar.close()
    run.finish(save=True)
    if stop:
        say(f"{stop}: stopped after step {run.step:,}; checkpoint saved. "
            f"Continue with: python -m minigan.train --resume {run.dir}")
        raise SystemExit(130)
    say(f"done: {run.step:,} steps in {run.seconds:.1f} s; wrote {run.dir}/ (samples.png, losses.png, ...)")
    return run


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.backend:
            backend.use(args.backend)
        if args.resume:
            cfg = Run.load_config(args.resume)
            for key in ("steps", "epochs"):  # the only settings a resumed run may change: how far it goes
                if getattr(args, key) is not None:
                    cfg[key], cfg[{"steps": "epochs", "epochs": "steps"}[key]] = getattr(args, key), None
            if args.backend:
                cfg["backend"] = args.backend
            else:
                backend.use(cfg["backend"])
        else:
            cfg = resolve_config(args)
        train(cfg, resume=bool(args.resume), quiet=args.quiet)
    except (DataError, CheckpointError, backend.BackendError, ValueError) as e:
        print(f"minigan.train: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
