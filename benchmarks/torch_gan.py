"""PyTorch's twin of ``python -m minigan.train --model mlp``: the same run, trained by PyTorch, for the quality table.

    python benchmarks/torch_gan.py --dataset fashion-mnist --out runs/torch/fashion-vanilla
    python benchmarks/torch_gan.py --dataset mnist --split test --loss wgan-gp --out runs/torch/mnist-wgan-gp
    python benchmarks/torch_gan.py --dataset mnist --split test --conditional --steps 50 --out /tmp/t

trains what ``python -m minigan.train --model mlp`` trains with the same flags, and writes
what ``python -m minigan.evaluate`` scores, so both libraries' samples sit in one table.
"The same" means, step for step:

* the settings: ``minigan.gan.config.resolve`` fills them in (batch 128, 20 epochs,
  Adam(2e-4, (0.5, 0.999)); WGAN-GP: Adam(1e-4, (0, 0.9)), lambda = 10, 5 critic steps);
* the data: ``minigan.data.load``, and ``--split test`` keeps ``split_test_files``'s 8,000;
  epochs become G steps as ``minigan.gan.run.Run`` computes them: ceil(epochs * (N // B) / k);
* the networks and their starting weights: minigan builds G and D with the seed, and
  ``benchmarks.bench_train.torch_twin`` copies them layer by layer, weights included;
  a conditional G reads [z, one_hot(y)] and D reads [flatten(x), one_hot(y)];
* the random numbers: every draw (each epoch's shuffle, z, the fakes' labels, the
  penalty's eps) comes from minigan's generator seeded with ``--seed``, in the order
  ``minigan.gan.GAN.train_step`` draws them. The two runs see the same batches and the
  same noise; they part only by float32 rounding (summation order in the matrix products).
  The losses agree to 6 digits for the first few dozen steps; the game amplifies the
  rounding, and by step ~100 a vanilla run has visibly drifted from minigan's (WGAN-GP's
  later), so a full run is a second draw from the same recipe: compare over seeds.

Out (``--out DIR``):

    samples.npy   10,000 samples G(z) (N, 1, 28, 28) float32 in [-1, 1], z from default_rng(0),
                  the z ``python -m minigan.evaluate --run`` draws (conditional: 1,000 per class)
    labels.npy    conditional runs: the class of each sample, (N,) int64
    samples.png   the grid minigan's run writes, from the same fixed z (one row per class if conditional)
    info.json     the settings, steps, seconds, the last step's losses and the evaluate command

Score it with the command info.json holds, e.g.
``python -m minigan.evaluate --dataset mnist --samples DIR/samples.npy --protocol test-8000/2000``.
Set ``OMP_NUM_THREADS`` (or ``--threads``) as for the minigan run you compare with.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.bench_train import torch_twin  # noqa: E402
from minigan import backend, train  # noqa: E402
from minigan.data import DataError, DataLoader, class_names, load, split_test_files  # noqa: E402
from minigan.gan import (
    config,  # noqa: E402
    plots,
)
from minigan.gan import trainer as gan
from minigan.gan.run import N_GRID, build_gan  # noqa: E402

try:
    import torch
    import torch.nn.functional as TF
except ImportError:  # the bench extra is optional: main() says how to get it
    torch = None

LOSSES = ("nonsaturating", "wgan-gp")
N_SAMPLES = 10_000


# --------------------------------------------------------------------------- the losses, as minigan writes them


def d_loss(loss: str, r: Any, f: Any) -> Any:
    """D's loss on its outputs r = D(x), f = D(G(z)) (N, 1) -> scalar.

    nonsaturating: mean softplus(-r) + mean softplus(f)  (BCE on logits, targets 1 and 0);
    wgan-gp: mean f - mean r (the critic's; the penalty is added by the caller).
    """
    if loss == "nonsaturating":
        return TF.softplus(-r).mean() + TF.softplus(f).mean()
    return f.mean() - r.mean()


def g_loss(loss: str, f: Any) -> Any:
    """G's loss on f = D(G(z)) (N, 1) -> scalar: mean softplus(-f) (= -mean log D(G(z))), or -mean f (wgan-gp)."""
    if loss == "nonsaturating":
        return TF.softplus(-f).mean()
    return -f.mean()


def gradient_penalty(D: Any, real: Any, fake: Any, eps: Any) -> Any:
    """mean_i (||grad_x D(x_hat_i)||_2 - 1)^2 with x_hat = eps x + (1 - eps) G(z), as ``minigan.gan.gradient_penalty``.

    D: x_hat (N, ...) -> (N, 1) (labels already bound for a conditional D); eps (N, 1, ..., 1)
    is given, not drawn, so a test can hand both libraries the same one.
    """
    x_hat = (eps * real.detach() + (1.0 - eps) * fake.detach()).requires_grad_(True)
    (g,) = torch.autograd.grad(D(x_hat).sum(), [x_hat], create_graph=True)
    norms = torch.sqrt((g * g).sum(dim=tuple(range(1, g.ndim))) + 1e-12)
    return ((norms - 1.0) * (norms - 1.0)).mean()


# --------------------------------------------------------------------------- the trainer


class TorchGAN:
    """``minigan.gan.GAN``'s algorithm in PyTorch, for the MLP pair.

    G: z (N, z_dim) [, y (N,)] -> (N, 1, 28, 28); D: x (N, 1, 28, 28) [, y] -> logits (N, 1).
    ``rng`` is minigan's generator: z, the fakes' labels and eps are drawn from it on the host
    (float64, then cast to float32), in the order minigan draws them.
    """

    def __init__(self, G: Any, D: Any, cfg: dict[str, Any], n_classes: int, rng: np.random.Generator,
                 device: str = "cpu") -> None:
        if cfg["loss"] not in LOSSES:
            raise ValueError(f"torch_gan trains the {' and '.join(LOSSES)} losses, not {cfg['loss']!r}.")
        self.G, self.D = G.to(device), D.to(device)
        betas = (cfg["beta1"], cfg.get("beta2", 0.999))
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=cfg["lr"], betas=betas)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=cfg["lr"], betas=betas)
        self.loss, self.d_steps, self.z_dim = cfg["loss"], int(cfg["d_steps"]), int(cfg["z_dim"])
        self.gp_weight = float(cfg.get("gp_weight") or 0.0)
        self.n_classes, self.rng, self.device = int(n_classes), rng, device

    def _tensor(self, host: np.ndarray) -> Any:
        return torch.from_numpy(np.ascontiguousarray(host)).to(self.device)

    def sample_z(self, n: int) -> Any:
        """z ~ N(0, I) (n, z_dim) float32, drawn as ``minigan.autograd.creation.randn`` draws it."""
        return self._tensor(self.rng.standard_normal((n, self.z_dim), dtype=np.float64).astype(np.float32))

    def sample_labels(self, n: int) -> Any:
        """Labels of the fakes, uniform over the classes, as ``minigan.gan.GAN.sample_labels``: (n,) int64."""
        return self._tensor(self.rng.integers(0, self.n_classes, size=n).astype(np.int64))

    def sample_eps(self, n: int) -> Any:
        """The penalty's eps ~ U(0, 1) (n, 1, 1, 1) float32, as ``minigan.autograd.creation.rand`` draws it."""
        return self._tensor(self.rng.random((n, 1, 1, 1), dtype=np.float64).astype(np.float32))

    def g(self, z: Any, y: Any = None) -> Any:
        """G(z) or G([z, one_hot(y)])."""
        if self.n_classes:
            z = torch.cat([z, TF.one_hot(y, self.n_classes).to(z.dtype)], dim=1)
        return self.G(z)

    def d(self, x: Any, y: Any = None) -> Any:
        """D(x) or D([flatten(x), one_hot(y)])."""
        if self.n_classes:
            x = torch.cat([x.reshape(len(x), -1), TF.one_hot(y, self.n_classes).to(x.dtype)], dim=1)
        return self.D(x)

    def _score(self, out: Any) -> float:
        with torch.no_grad():
            return float((torch.sigmoid(out) if self.loss == "nonsaturating" else out).mean())

    def d_step(self, real: Any, y: Any = None) -> dict[str, float]:
        """One update of D with G fixed; draws labels, z, then eps, as minigan's d_step does."""
        n = len(real)
        y_fake = self.sample_labels(n) if self.n_classes else None
        with torch.no_grad():
            fake = self.g(self.sample_z(n), y_fake)
        real_out, fake_out = self.d(real, y), self.d(fake, y_fake)
        loss = d_loss(self.loss, real_out, fake_out)
        if self.gp_weight:
            loss = loss + self.gp_weight * gradient_penalty(lambda x: self.d(x, y), real, fake, self.sample_eps(n))
        value = _finite(loss.item(), "D")
        self.opt_d.zero_grad()
        loss.backward()
        self.opt_d.step()
        return {"d_loss": value, "d_real": self._score(real_out), "d_fake": self._score(fake_out)}

    def g_step(self, n: int) -> dict[str, float]:
        """One update of G through D, D's weights left out of the graph (minigan's ``frozen(D)``)."""
        y = self.sample_labels(n) if self.n_classes else None
        self.D.requires_grad_(False)
        try:
            fake_out = self.d(self.g(self.sample_z(n), y), y)
        finally:
            self.D.requires_grad_(True)
        loss = g_loss(self.loss, fake_out)
        value = _finite(loss.item(), "G")
        self.opt_g.zero_grad()
        loss.backward()
        self.opt_g.step()
        return {"g_loss": value, "d_fake_g": self._score(fake_out)}

    def train_step(self, batches: Iterator[Any]) -> dict[str, float]:
        """k D steps on the next k batches (host arrays, or (x, y) pairs), then one G step."""
        for _ in range(self.d_steps):
            batch = next(batches)
            x, y = batch if isinstance(batch, tuple) else (batch, None)
            real = self._tensor(x)
            d = self.d_step(real, self._tensor(y) if self.n_classes else None)
        return {**d, **self.g_step(len(real))}

    def generate(self, z: np.ndarray, y: np.ndarray | None = None, chunk: int = 2_000) -> np.ndarray:
        """G(z) for host z (N, z_dim) [and labels (N,)] -> host (N, 1, 28, 28) float32, with no graph."""
        out = []
        with torch.no_grad():
            for i in range(0, len(z), chunk):
                yi = None if y is None else self._tensor(y[i:i + chunk])
                out.append(self.g(self._tensor(z[i:i + chunk]), yi).cpu().numpy())
        return np.concatenate(out)


def _finite(value: float, who: str) -> float:
    if not math.isfinite(value):
        raise gan.NonFiniteLossError(f"{who}'s loss became {value}: lower the learning rate or try the other loss.")
    return value


# --------------------------------------------------------------------------- the run


def resolve(args: argparse.Namespace) -> dict[str, Any]:
    """The settings ``python -m minigan.train --model mlp`` would use with the same flags."""
    argv = ["--dataset", args.dataset, "--model", "mlp", "--loss", args.loss, "--split", args.split,
            "--seed", str(args.seed), "--out", args.out, "--lr-decay", args.lr_decay,
            "--ema", "0"]  # the twin keeps no running average of G: the conditional recipe's is left out
    for flag, value in (("--epochs", args.epochs), ("--steps", args.steps), ("--batch-size", args.batch_size),
                        ("--data-dir", args.data_dir)):
        if value is not None:
            argv += [flag, str(value)]
    if args.conditional:  # the twin is of the concatenation design: D reads [flatten(x), one_hot(y)]
        argv += ["--conditional", "--condition", "concat"]
    return config.resolve(train.settings(train.parse_args(argv)))


def load_data(cfg: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The training images and labels, as ``minigan.gan.run.Run`` loads them (``--split test``: the fixed 8,000)."""
    x, y = load(cfg["dataset"], cfg["split"], cfg.get("data_dir"))
    if cfg["split"] == "test":
        x, y, _, _ = split_test_files(x, y)
    return x, y


def build(cfg: dict[str, Any], n_classes: int, device: str = "cpu") -> tuple[gan.GAN, TorchGAN]:
    """minigan's GAN for ``cfg``, seeded as a run seeds it, and its PyTorch twin: same weights, same generator.

    After this, the generator stands where minigan's run has it before its first step.
    """
    backend.use("numpy")
    rng = backend.manual_seed(cfg["seed"])
    ours = build_gan(cfg, (1, 28, 28), n_classes)
    return ours, TorchGAN(torch_twin(ours.G.body), torch_twin(ours.D.body), cfg, n_classes, rng, device)


def total_steps(cfg: dict[str, Any], per_epoch: int) -> int:
    """G steps of the run: --steps, or ceil(epochs * batches per epoch / k) as ``minigan.gan.run.Run`` counts them."""
    if cfg.get("steps"):
        return int(cfg["steps"])
    return max(1, math.ceil(float(cfg["epochs"]) * per_epoch / cfg["d_steps"]))


def fit(cfg: dict[str, Any], device: str = "cpu", quiet: bool = False) -> tuple[TorchGAN, dict[str, Any]]:
    """Train the twin of the run ``cfg`` describes; returns it and what info.json records of the training."""
    x, y = load_data(cfg)
    n_classes = 10 if cfg["conditional"] else 0
    _, twin = build(cfg, n_classes, device)
    loader = DataLoader(*((x, y) if n_classes else (x,)), batch_size=cfg["batch_size"], shuffle=True,
                        drop_last=True, generator=twin.rng)
    steps = total_steps(cfg, len(loader))
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, file=sys.stderr, flush=True))
    say(f"torch_gan: mlp GAN on {cfg['dataset']} ({cfg['split']}, {len(x):,} images), loss {cfg['loss']}, "
        f"{'conditional, ' if n_classes else ''}torch {torch.__version__} on {device} "
        f"({torch.get_num_threads()} threads), {steps:,} steps -> {cfg['out']}")
    batches = loader.batches()
    numbers: dict[str, float] = {}
    every = max(1, steps // 10)
    t0 = time.perf_counter()
    for step in range(steps):
        if cfg.get("lr_decay") == "linear":  # lr_t = lr (1 - t / T), as Run.set_learning_rate
            for opt in (twin.opt_g, twin.opt_d):
                for group in opt.param_groups:
                    group["lr"] = cfg["lr"] * (1.0 - step / steps)
        try:
            numbers = twin.train_step(batches)
        except gan.NonFiniteLossError as e:
            raise SystemExit(f"torch_gan: stopped at step {step + 1}: {e}") from None
        if (step + 1) % every == 0 or step + 1 == steps:
            say(f"  step {step + 1:,}/{steps:,} ({100 * (step + 1) // steps}%)  D {numbers['d_loss']:.3f}  "
                f"G {numbers['g_loss']:.3f}  {time.perf_counter() - t0:.0f} s")
    seconds = time.perf_counter() - t0
    info = {"steps": steps, "epochs_done": round(steps * cfg["d_steps"] / len(loader), 3), "n_data": len(x),
            "train_seconds": round(seconds, 2), "ms_per_step": round(1000 * seconds / steps, 2),
            "final": {k: round(v, 6) for k, v in numbers.items()}}
    return twin, info


def write_outputs(twin: TorchGAN, cfg: dict[str, Any], out: Path) -> dict[str, Any]:
    """samples.npy (+ labels.npy) from evaluate's z, and samples.png from the run's fixed z; returns their names."""
    out.mkdir(parents=True, exist_ok=True)
    z = np.random.default_rng(0).standard_normal((N_SAMPLES, cfg["z_dim"])).astype(np.float32)  # minigan.gan.run.draw
    labels = np.repeat(np.arange(10), N_SAMPLES // 10).astype(np.int64) if twin.n_classes else None
    np.save(out / "samples.npy", twin.generate(z, labels))
    files = {"samples": str(out / "samples.npy")}
    if labels is not None:
        np.save(out / "labels.npy", labels)
        files["labels"] = str(out / "labels.npy")
    # The grid's z as minigan.gan.run.Run draws its fixed_z: both libraries' grids show the same z.
    n = 100 if twin.n_classes else N_GRID
    fixed = np.random.default_rng([cfg["seed"], 2]).standard_normal((n, cfg["z_dim"])).astype(np.float32)
    grid_y = np.repeat(np.arange(10), n // 10).astype(np.int64) if twin.n_classes else None
    kwargs = {"nrow": 10, "row_labels": list(class_names(cfg["dataset"]))} if twin.n_classes else {}
    plots.save_grid(twin.generate(fixed, grid_y), out / "samples.png", **kwargs)
    files["grid"] = str(out / "samples.png")
    return files


def evaluate_command(cfg: dict[str, Any], files: dict[str, str]) -> str:
    """The ``python -m minigan.evaluate`` line that scores these samples as minigan's run of ``cfg`` is scored."""
    cmd = f"python -m minigan.evaluate --dataset {cfg['dataset']} --samples {files['samples']}"
    if "labels" in files:
        cmd += f" --labels {files['labels']}"
    if cfg["split"] == "test":  # as evaluate_run: the 2,000 test images the run never saw are the reference
        cmd += " --protocol test-8000/2000"
    if cfg.get("data_dir"):
        cmd += f" --data-dir {cfg['data_dir']}"
    return cmd


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python benchmarks/torch_gan.py",
                                description="Train minigan's MLP GAN run in PyTorch and write samples to score.")
    p.add_argument("--dataset", choices=("mnist", "fashion-mnist", "kmnist"), default="mnist")
    p.add_argument("--split", choices=("train", "test"), default="train",
                   help="as minigan.train: 'test' trains on the fixed 8,000 of the test files")
    p.add_argument("--conditional", action="store_true", help="G(z, y) and D(x, y) with one-hot labels")
    p.add_argument("--loss", choices=LOSSES, default="nonsaturating")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--epochs", type=float, default=None, help="passes over the data (default: minigan's, 20)")
    budget.add_argument("--steps", type=int, default=None, help="G steps in total, instead of --epochs")
    p.add_argument("--batch-size", type=int, default=None, help="default: minigan's for the MLP, 128")
    p.add_argument("--lr-decay", choices=("none", "linear"), default="none")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's own)")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--out", required=True, help="folder for samples.npy, samples.png, info.json")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if torch is None:
        print("torch_gan: error: PyTorch is not installed: pip install -e '.[bench]'.", file=sys.stderr)
        return 2
    if args.threads:
        torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    try:
        cfg = resolve(args)
        twin, info = fit(cfg, quiet=args.quiet)
        out = Path(args.out)
        files = write_outputs(twin, cfg, out)
    except (DataError, ValueError) as e:
        print(f"torch_gan: error: {e}", file=sys.stderr)
        return 2
    info = {"library": "torch", "torch": torch.__version__, "device": "cpu",
            "threads": torch.get_num_threads(), "config": cfg, **info,
            "wall_seconds": round(time.perf_counter() - t0, 2), "files": files,
            "evaluate": evaluate_command(cfg, files)}
    (out / "info.json").write_text(json.dumps(info, indent=2) + "\n")
    if not args.quiet:
        print(f"done: {info['steps']:,} steps in {info['train_seconds']:.1f} s ({info['ms_per_step']} ms/step); "
              f"wrote {out}/\nscore with: {info['evaluate']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
