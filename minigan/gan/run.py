"""A training run's folder: what goes in, what comes out, and how it is picked up again.

``Run.start(cfg)`` builds everything a config describes (data, G and D, optimizers, the
trainer) and opens the folder; ``Run.resume(cfg)`` does the same and then restores the
checkpoint; ``Run.open(dir)`` rebuilds a finished run for sampling and evaluation.
``run.train()`` is the training loop; ``draw(dir, n)`` samples a finished run.
"""

from __future__ import annotations

import csv
import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from minigan import backend, optim
from minigan.autograd import Tensor
from minigan.data import TOY_DATASETS, DataLoader, class_names, load, modes, sample, split_test_files, toy_scale
from minigan.gan import checkpoint, config, models, plots, truncation
from minigan.gan import trainer as gan
from minigan.gan.unrolled import UnrolledGAN

__all__ = ["Run", "build_gan", "draw", "METRICS", "N_TOY"]

METRICS = ("step", "epoch", "d_loss", "g_loss", "d_real", "d_fake", "seconds")
N_TOY = 100_000  # size of the generated training set of a 2-D toy (PacGAN's protocol uses 100k)
N_GRID = 64  # samples in a grid


def _save_rgb(frame: np.ndarray, path: Path) -> None:
    """Keep a GIF frame on disk (not in memory), so a resumed run still gets the whole animation."""
    import matplotlib.image

    matplotlib.image.imsave(path, frame)


def _load_rgb(path: Path) -> np.ndarray | None:
    """A frame kept on disk, or None where it was damaged (the animation then leaves it out)."""
    import matplotlib.image

    try:
        return (matplotlib.image.imread(path)[..., :3] * 255).round().astype(np.uint8)
    except (OSError, ValueError, SyntaxError):  # PIL reports a file that is not a PNG as a SyntaxError
        return None


def build_gan(cfg: dict[str, Any], data_shape: tuple[int, ...], n_classes: int = 0) -> gan.GAN:
    """G, D, their optimizers and the trainer for a config (weights from the run's generator)."""
    scale = toy_scale(cfg["dataset"]) if cfg.get("standardize") else 1.0
    # A conditional run recorded before `condition` existed was trained with concatenation.
    G, D = models.build(cfg["model"], data_shape, z_dim=cfg["z_dim"], width=cfg.get("width"), n_classes=n_classes,
                        pack=cfg.get("pack", 1), scale=scale, condition=cfg.get("condition") or "concat",
                        depth=cfg.get("depth", 2), d_width=cfg.get("d_width"), d_depth=cfg.get("d_depth"))
    betas = (cfg["beta1"], cfg.get("beta2", 0.999))
    opt = cfg.get("optimizer", "adam")
    lr_d = cfg.get("d_lr") or cfg["lr"]  # D's own rate where the run gives one (`d_lr`)
    if opt == "rmsprop":
        opt_g, opt_d = optim.RMSprop(G.parameters(), lr=cfg["lr"]), optim.RMSprop(D.parameters(), lr=lr_d)
    else:
        opt_g, opt_d = (optim.Adam(G.parameters(), lr=cfg["lr"], betas=betas),
                        optim.Adam(D.parameters(), lr=lr_d, betas=betas))
    kwargs = dict(loss=cfg["loss"], d_steps=cfg["d_steps"], z_dim=cfg["z_dim"], clip=cfg.get("clip"),
                  gp_weight=cfg.get("gp_weight", 0.0), n_classes=n_classes, ema=cfg.get("ema", 0.0),
                  r1=cfg.get("r1", 0.0))
    if cfg.get("unroll"):
        return UnrolledGAN(G, D, opt_g, opt_d, unroll=cfg["unroll"], second_order=cfg.get("unroll_second_order", False),
                           **kwargs)
    return gan.GAN(G, D, opt_g, opt_d, **kwargs)


class Run:
    """The state of one training run and the files of its folder."""

    def __init__(self, cfg: dict[str, Any], with_data: bool = True) -> None:
        self.cfg = cfg
        self.dir = Path(cfg["out"])
        self.toy = cfg["dataset"] in TOY_DATASETS
        backend.use(cfg["backend"])
        backend.manual_seed(cfg["seed"])
        self.data_source = None  # where an image dataset's files were found (folder, source)
        if self.toy:
            self.data = sample(cfg["dataset"], N_TOY, np.random.default_rng([cfg["seed"], 1]))
            self.labels = None
            self.data_shape: tuple[int, ...] = (2,)
        elif with_data:
            self.data, self.labels, self.data_source = load(cfg["dataset"], cfg["split"], cfg.get("data_dir"),
                                                            with_source=True)
            if cfg["split"] == "test":  # train on the fixed 8,000; the 2,000 others are the evaluation's reference
                self.data, self.labels, _, _ = split_test_files(self.data, self.labels)
            self.data_shape = tuple(self.data.shape[1:])
        else:  # sampling from a finished run needs no data
            self.data, self.labels, self.data_shape = None, None, (1, 28, 28)
        if cfg.get("conditional") and self.toy:
            raise ValueError(f"`conditional` needs a labelled image dataset; {cfg['dataset']} has no labels.")
        self.n_classes = 10 if cfg.get("conditional") else 0
        self.gan = build_gan(cfg, self.data_shape, self.n_classes)
        self.n_data = 0 if self.data is None else len(self.data)
        if self.data is not None:
            arrays = (self.data, self.labels) if self.n_classes else (self.data,)
            self.loader = DataLoader(*arrays, batch_size=cfg["batch_size"], shuffle=True, drop_last=True)
            self.total_steps = self._total_steps(cfg)
            # The learning rate as segments [from step, lr there, to step]: one for a fresh run; a resume
            # that extends the run or changes the rate adds one (see resume). The toys' linear decay goes
            # from each segment's lr to 0 at its last step.
            cfg.setdefault("lr_schedule", [[0, cfg["lr"], self.total_steps]])
        self.step, self.seconds_before, self.seconds = 0, 0.0, 0.0
        self.saved_step: int | None = None  # the step the checkpoint on disk holds (None: none written yet)
        # One fixed z (and labels) for every sample grid: its own generator, so drawing it
        # never shifts the run's random stream.
        fixed = np.random.default_rng([cfg["seed"], 2])
        n = 2_500 if self.toy else (100 if self.n_classes else N_GRID)  # conditional: 10 per class
        self.fixed_z = self.gan.sample_z(n, generator=fixed)
        self.fixed_y = None
        if self.n_classes:  # one row per class
            self.fixed_y = backend.current().asarray(np.repeat(np.arange(10), n // 10).astype(np.int64))
        self._rows: list[list[Any]] = []

    def _total_steps(self, cfg: dict[str, Any]) -> int:
        """G steps in all: ``steps``, or ``epochs`` over the loader (k D steps, each a batch, per G step)."""
        if cfg.get("steps"):
            return int(cfg["steps"])
        return max(1, math.ceil(float(cfg["epochs"]) * len(self.loader) / cfg["d_steps"]))

    # ---- the three ways in

    @classmethod
    def start(cls, cfg: dict[str, Any]) -> Run:
        out = Path(cfg["out"])
        if (out / "checkpoint.npz").exists():
            raise ValueError(f"{out} already holds a run: continue it with `resume` {out}, or choose another `out`.")
        run = cls(cfg)
        run.dir.mkdir(parents=True, exist_ok=True)
        if not run.toy:
            (run.dir / "samples").mkdir(exist_ok=True)
        (run.dir / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
        with open(run.dir / "metrics.csv", "w", newline="") as f:
            csv.writer(f).writerow(METRICS)
        return run

    @classmethod
    def resume(cls, cfg: dict[str, Any], changes: dict[str, list[Any]] | None = None) -> Run:
        """Continue the run in ``cfg["out"]`` from its checkpoint. ``changes``: setting -> [old, new]
        for what the resume changes (only how far it goes, how often it saves, the learning rate, where
        the data is read from, the backend), already applied to ``cfg`` and recorded in config.json
        with the step it took effect. ``run.notes`` says in words what changed."""
        changes = dict(changes or {})
        if "lr_schedule" not in cfg:  # a run made before schedules were recorded: rebuild its plan
            before = {**cfg, **{k: old for k, (old, _) in changes.items()}}
            cfg["lr_schedule"] = None  # filled in below, once the loader can count the first run's steps
        run = cls(cfg)
        state = checkpoint.load(run.dir / "checkpoint.npz")
        run.restore(state)
        run.saved_step = run.step
        if cfg["lr_schedule"] is None:
            cfg["lr_schedule"] = [[0, before["lr"], run._total_steps(before)]]
        if run.step > run.total_steps:
            raise ValueError(f"this run has already done {run.step:,} steps, more than the {run.total_steps:,} "
                             "asked for: give a larger number to extend it, or none to continue as planned.")
        run.notes = run._replan(changes)
        if changes:
            cfg.setdefault("resumed", []).append({"step": run.step, "changed": changes})
        (run.dir / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
        run._repair_metrics()
        return run

    def _replan(self, changes: dict[str, list[Any]]) -> list[str]:
        """A new learning-rate segment from this step where the total or the rate changed; what it says."""
        plan = self.cfg["lr_schedule"]
        linear = self.cfg.get("lr_decay", "none") == "linear"
        if "lr" not in changes and (plan[-1][2] == self.total_steps or not linear):
            return []  # the same plan: an interrupted run goes on exactly as it would have
        lr = float(changes["lr"][1]) if "lr" in changes else self.lr_at(self.step)
        if linear and lr == 0.0 and self.step < self.total_steps:
            raise ValueError(f"this run's learning rate decayed to 0 at step {self.step:,}, so extending it would "
                             "train at a rate of 0: give a learning rate to decay from with `lr` (for example the "
                             f"first run's {plan[0][1]:g}).")
        plan.append([self.step, lr, self.total_steps])
        if linear:
            return [f"learning rate: from {lr:.3g} at step {self.step:,}, decaying linearly to 0 at step "
                    f"{self.total_steps:,} (the schedule is re-planned from here)"]
        return [f"learning rate: {lr:.3g} from step {self.step:,} on"]

    def _repair_metrics(self) -> None:
        """metrics.csv keeps exactly the whole rows up to the checkpoint: a killed run may have logged
        more, or cut its last row short."""
        path = self.dir / "metrics.csv"
        rows = []
        if path.exists():  # a damaged file keeps what can still be read of it
            with open(path, newline="", encoding="utf-8", errors="replace") as f:
                rows = list(csv.reader(line.replace("\0", "") for line in f))

        def whole(row: list[str]) -> bool:
            try:
                return len(row) == len(METRICS) and all(isinstance(float(v), float) for v in row)
            except ValueError:
                return False

        kept = [r for r in rows[1:] if whole(r) and int(float(r[0])) <= self.step]
        with open(path, "w", newline="") as f:
            csv.writer(f).writerows([list(METRICS), *kept])

    @classmethod
    def open(cls, run_dir: str | Path, backend_name: str | None = None) -> Run:
        """A finished (or checkpointed) run, rebuilt for sampling (no training data loaded), on its
        own backend or on ``backend_name``."""
        cfg = cls.load_config(run_dir)
        cfg["out"] = str(run_dir)
        if backend_name:
            cfg["backend"] = backend_name
        run = cls(cfg, with_data=False)
        run.restore(checkpoint.load(Path(run_dir) / "checkpoint.npz"))
        return run

    @staticmethod
    def load_config(run_dir: str | Path) -> dict[str, Any]:
        return config.load_config(run_dir)

    # ---- state

    def state(self) -> dict[str, Any]:
        return {"gan": self.gan.state_dict(), "rng": json.dumps(backend.generator().bit_generator.state),
                "loader": self.loader.state_dict(), "step": self.step, "seconds": self.seconds, "config": self.cfg}

    def restore(self, state: dict[str, Any]) -> None:
        self.gan.load_state_dict(state["gan"])
        backend.generator().bit_generator.state = json.loads(state["rng"])
        if self.data is not None:
            self.loader.load_state_dict(state["loader"])
        self.step = int(state["step"])
        self.seconds_before = self.seconds = float(state["seconds"])

    # ---- training

    def train(self, on_step: Callable[[int, dict[str, float]], None] | None = None,
              should_stop: Callable[[], bool] | None = None) -> bool:
        """Train from ``self.step`` to ``self.total_steps``; True when it got there.

        Each step is the lecture's loop: the step's learning rate, one ``GAN.train_step`` (k D steps
        then one G step), a row of metrics, then ``on_step(step, numbers)``. Every ``sample_every``
        steps a snapshot: a grid (or a frame), the metrics and a checkpoint. ``should_stop()`` is asked
        after every step (a Ctrl-C, say): the run then saves, as at the end, and returns False.
        A NaN or inf raises ``NonFiniteLossError`` with the last good checkpoint left on disk.
        """
        batches = self.loader.batches()
        t0 = time.perf_counter()
        finished = True
        try:
            # A diverging step overflows on its way to the NaN: the error says so, without NumPy's warnings.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                while self.step < self.total_steps:
                    self.set_learning_rate()
                    numbers = self.gan.train_step(batches)
                    self.step += 1
                    self.log(numbers, time.perf_counter() - t0 + self.seconds_before)
                    if on_step is not None:
                        on_step(self.step, numbers)
                    if self.step % self.cfg["sample_every"] == 0:
                        self.snapshot()
                    if should_stop is not None and should_stop():
                        finished = False
                        break
                self.finish(save=True)
        except gan.NonFiniteLossError:
            self.finish(save=False)
            raise
        return finished

    def lr_at(self, step: int) -> float:
        """The planned learning rate at ``step``: in the segment [s, lr, T] that holds it, lr for a constant
        rate, lr (1 - (step - s) / (T - s)) for the linear decay."""
        s, lr, last = next(seg for seg in reversed(self.cfg["lr_schedule"]) if seg[0] <= step)
        if self.cfg.get("lr_decay", "none") != "linear":
            return lr
        return lr * (1.0 - (step - s) / (last - s)) if last > s else 0.0

    def set_learning_rate(self) -> None:
        """G's rate, a function of the step and the recorded plan alone, so an interrupted run resumes
        on exactly the same schedule. D's is the same, or, where the run gives D its own (`d_lr`), that
        many times G's first rate: a decay or a resume's new rate scales both alike."""
        if self.cfg.get("lr_decay", "none") == "linear" or len(self.cfg["lr_schedule"]) > 1:
            lr = self.lr_at(self.step)
            d_ratio = self.cfg["d_lr"] / self.cfg["lr_schedule"][0][1] if self.cfg.get("d_lr") else 1.0
            self.gan.opt_g.lr, self.gan.opt_d.lr = lr, lr * d_ratio

    def log(self, numbers: dict[str, float], seconds: float) -> None:
        self.seconds = seconds
        self._rows.append([self.step, self.loader.epoch, *(f"{numbers[k]:.6g}" for k in METRICS[2:6]),
                           f"{seconds:.3f}"])

    def flush(self) -> None:
        with open(self.dir / "metrics.csv", "a", newline="") as f:
            csv.writer(f).writerows(self._rows)
        self._rows = []

    def samples(self, z: Tensor | None = None, y: Any = None) -> np.ndarray:
        """G(z) for the fixed z (or the given one) as a host array in the data's scale."""
        z = self.fixed_z if z is None else z
        y = self.fixed_y if z is self.fixed_z else y
        return backend.to_numpy(self.gan.generate(z, y).data)

    def d_field(self, points: np.ndarray) -> np.ndarray:
        """D's P(real) at 2-D points (M, 2) (a critic's raw score squashed to (0, 1) by a sigmoid)."""
        p = self.gan.d_at_points(points)
        return p if self.gan.loss.probability else 1.0 / (1.0 + np.exp(-p))

    def _field_args(self) -> dict[str, Any]:
        centers, _ = modes(self.cfg["dataset"])
        r = float(np.abs(centers).max()) * 1.5 + 0.5  # a fixed square: the GIF's frames must not jump
        label = "D(x) = P(real)" if self.gan.loss.probability else "sigmoid(critic score): higher = more real"
        return {"extent": (-r, r, -r, r), "label": label}

    def snapshot(self) -> None:
        """Every ``sample_every`` steps: a grid (or a frame) from the fixed z, the metrics, a checkpoint."""
        fake = self.samples()
        if self.toy:
            real = self.data[:2_500]
            frame = plots.field_frame(real, fake, self.d_field, step=self.step, **self._field_args())
            (self.dir / "frames").mkdir(exist_ok=True)
            _save_rgb(frame, self.dir / "frames" / f"step_{self.step:07d}.png")
        else:
            plots.save_grid(fake, self.dir / "samples" / f"step_{self.step:07d}.png", **self._grid_kwargs())
        self.flush()
        self.save()

    def save(self) -> None:
        """Write the checkpoint, unless G's or D's weights or optimizer state hold inf or NaN: a
        checkpoint on disk is always one that training can go on from."""
        state = self.state()
        bad = [k for k, a in checkpoint.flatten(state["gan"])[0].items()
               if a.dtype.kind == "f" and not np.isfinite(a).all()]
        if bad:
            raise gan.NonFiniteLossError(f"at step {self.step:,} {len(bad)} arrays of the model hold inf or NaN "
                                         f"({', '.join(bad[:3])}{', ...' if len(bad) > 3 else ''}).")
        checkpoint.save(self.dir / "checkpoint.npz", state)
        self.saved_step = self.step

    def _grid_kwargs(self) -> dict[str, Any]:
        if not self.n_classes:
            return {}
        return {"nrow": 10, "row_labels": list(class_names(self.cfg["dataset"]))}

    def finish(self, save: bool = True) -> None:
        """Write the final figures (and, unless the last step went wrong, the checkpoint)."""
        if not save:  # a NaN step: keep the last good checkpoint, drop the rows logged after it
            self._rows = []
            return
        self.flush()
        self.save()
        fake = self.samples()
        title = f"{self.cfg['dataset']}, {self.cfg['model']} GAN, {self.cfg['loss']} loss"
        if self.toy:
            plots.plot_2d_field(self.data[:2_500], fake, self.d_field, self.dir / "field.png", step=self.step,
                                title=title, **self._field_args())
            frames = sorted((self.dir / "frames").glob("step_*.png")) if (self.dir / "frames").exists() else []
            images = [img for img in map(_load_rgb, frames) if img is not None]
            if images:
                plots.save_gif(images, self.dir / "training.gif", fps=4)
        else:
            plots.save_grid(fake, self.dir / "samples.png", **self._grid_kwargs())
        m = self.metrics()
        if len(m["step"]):
            plots.plot_losses(m["step"], m["d_loss"], m["g_loss"], self.dir / "losses.png", title=title)
            ideal = 0.5 if self.gan.loss.probability else None
            plots.plot_d_outputs(m["step"], m["d_real"], m["d_fake"], self.dir / "d_outputs.png", ideal=ideal)

    def metrics(self) -> dict[str, np.ndarray]:
        """metrics.csv as columns."""
        with open(self.dir / "metrics.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        return {k: np.array([float(r[k]) for r in rows]) for k in METRICS}


def draw(run_dir: str | Path, n: int, seed: int = 0, label: int | None = None,
         backend_name: str | None = None, keep: float = 1.0, ema: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """n samples (host array in the data's scale) from the run in ``run_dir``, and their labels if conditional.

    z comes from a generator of its own seeded with ``seed``. A conditional run draws ``label``'s
    class, or the ten classes in turn. ``keep`` < 1: Jacobian truncation (:mod:`minigan.gan.truncation`):
    n / keep noise vectors are drawn and the n where G stretches z least are kept (2-D toys; it drops
    the bridges between modes). ``ema=False`` draws from G itself rather than its running average.
    """
    m = truncation.n_to_draw(n, keep)
    run = Run.open(run_dir, backend_name)
    if not ema:
        if run.gan.G_ema is None:
            raise ValueError(f"the run in {run_dir} keeps no running average of G (it was trained without `ema`): "
                             "leave out `no_ema`.")
        run.gan.sample_from_ema = False
    z = run.gan.sample_z(m, generator=np.random.default_rng(seed))
    y = None
    if run.n_classes:
        if keep < 1:
            raise ValueError("Jacobian truncation (`keep` < 1) is for the unconditional 2-D toys.")
        host = np.full(n, label) if label is not None else np.repeat(np.arange(10), -(-n // 10))[:n]
        y = backend.current().asarray(host.astype(np.int64))
    elif label is not None:
        raise ValueError(f"the run in {run_dir} is not conditional: it takes no `label`.")
    if m > n:
        z = Tensor(z.data[truncation.truncate(run.gan.sampler, z, n)])
    return run.samples(z, y), (None if y is None else backend.to_numpy(y))


def evaluate_run(run_dir: str | Path, n: int | None = None, seed: int = 0, quiet: bool = True,
                 data_dir: str | os.PathLike | None = None, keep: float = 1.0, ema: bool = True,
                 backend_name: str | None = None) -> dict[str, Any]:
    """Draw ``n`` samples (default 2,500 for toys, 10,000 for images) from a run and score them.

    ``data_dir`` defaults to the run's own ``data_dir``. ``keep`` < 1 (2-D toys): the samples
    are Jacobian-truncated (:mod:`minigan.gan.truncation`) and the result records ``keep``. A run
    trained with ``ema`` is sampled from its running average of G unless ``ema=False``; the
    result records which (``"ema"``). ``backend_name`` draws on another backend than the run's own
    (a run trained on a GPU, scored on a laptop's NumPy).
    """
    from minigan.measure.evaluation import N_DEFAULT, EvaluateError, _dataset, evaluate_samples

    cfg = Run.load_config(run_dir)
    dataset = _dataset(cfg["dataset"])
    n = n or N_DEFAULT["toy" if dataset in TOY_DATASETS else "images"]
    if keep < 1 and dataset not in TOY_DATASETS:
        raise EvaluateError(f"`keep` < 1 (Jacobian truncation) is for the 2-D toys, not {dataset}.")
    x, labels = draw(run_dir, n, seed, backend_name=backend_name, keep=keep, ema=ema)
    # A run trained on the test files saw the classifier's 8,000: score it against the 2,000 it never saw.
    protocol = "test-8000/2000" if cfg.get("split") == "test" else None
    result = evaluate_samples(x, dataset, seed, data_dir or cfg.get("data_dir"), quiet, labels, protocol)
    result.update({"run": str(run_dir), "seed": seed, "keep": keep, "ema": bool(ema and cfg.get("ema", 0.0))})
    return result
