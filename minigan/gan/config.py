"""A run's settings: the defaults per kind of data and per loss, their ranges, and what a resume may change.

A config is one flat dict (what ``config.json`` holds). ``resolve(given)`` fills every setting the
caller left out with the default for its dataset and loss, then ``validate`` checks every value.
``resume_config(folder, given)`` reads a run's config back and applies the changes a resume may
make. Messages name a setting in backticks (```lr```); the command line shows its flag there
(``--lr``) instead.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from minigan import backend
from minigan.data import DATASETS, TOY_DATASETS
from minigan.gan import checkpoint, models
from minigan.gan.checkpoint import CheckpointError

__all__ = ["DEFAULTS", "RECIPES", "LOSS_DEFAULTS", "RANGES", "RESUME_MAY_CHANGE", "resolve", "validate",
           "resume_config", "load_config"]

# Defaults per kind of data. Images: DCGAN's Adam(2e-4, beta1 0.5) (Radford et al. 2016).
# Toys: see benchmarks/QUALITY.md for how these were chosen.
DEFAULTS: dict[str, dict[str, Any]] = {
    "image": {"model": "dcgan", "loss": "nonsaturating", "lr": 2e-4, "beta1": 0.5, "batch_size": 64,
              "epochs": 5, "sample_every": 500},
    "image-mlp": {"batch_size": 128, "epochs": 20},
    "toy": {"model": "mlp", "loss": "nonsaturating", "lr": 1e-3, "beta1": 0.5, "batch_size": 512,
            "steps": 5000, "sample_every": 250, "lr_decay": "linear"},
}

# The variants' recipes: the settings each needs on each kind of data, applied when the user
# gives none of them (settings given still win), printed in the run's header and recorded in
# config.json (`recipes`). A later row wins a setting over an earlier one: a loss's settings over
# the conditional GAN's, a toy's over any data's. ``data`` is
# "any", "toy", "image", "image-mlp" (the MLP on images), "image-dcgan" or a dataset's name.
# How each row was chosen is in benchmarks/QUALITY.md ("The variants' recipes").
RECIPES: list[dict[str, Any]] = [
    {"variant": "conditional", "data": "image-mlp", "settings": {"lr": 5e-4, "steps": 6200, "ema": 0.999},
     "source": "measured, see benchmarks/QUALITY.md"},
    {"variant": "conditional", "data": "image-dcgan", "settings": {"lr": 5e-4},
     "source": "measured, see benchmarks/QUALITY.md"},
    {"variant": "wgan", "data": "any", "settings": {"optimizer": "rmsprop", "lr": 5e-5, "clip": 0.01, "d_steps": 5},
     "source": "Arjovsky et al. 2017"},
    {"variant": "wgan-gp", "data": "any",
     "settings": {"lr": 1e-4, "beta1": 0.0, "beta2": 0.9, "gp_weight": 10.0, "d_steps": 5},
     "source": "Gulrajani et al. 2017"},
    {"variant": "wgan-gp", "data": "toy",
     "settings": {"lr": 1e-3, "beta1": 0.5, "gp_weight": 0.1, "standardize": True},
     "source": "the authors' toy settings (lambda 0.1, beta1 0.5, scaled data) at the toys' lr, measured"},
    {"variant": "wgan-gp", "data": "grid25",
     "settings": {"z_dim": 8, "d_steps": 1, "gp_weight": 1.0, "steps": 20000, "sample_every": 5000},
     "source": "measured: all 25 modes and 57% HQ on 3 seeds, sharper than 5 critic steps or lambda 0.1"},
]

# The variants' settings as one dict per loss (the rows for "any" data), kept for older callers.
LOSS_DEFAULTS: dict[str, dict[str, Any]] = {r["variant"]: r["settings"] for r in RECIPES if r["data"] == "any"}


def _recipe_applies(recipe: dict[str, Any], cfg: dict[str, Any], toy: bool) -> bool:
    variant, data = recipe["variant"], recipe["data"]
    if variant == "conditional":
        on = bool(cfg.get("conditional"))
    elif variant == "unroll":
        on = bool(cfg.get("unroll"))
    else:
        on = cfg.get("loss") == variant
    kind = "toy" if toy else "image"
    return on and data in ("any", kind, f"{kind}-{cfg.get('model')}", cfg["dataset"])


def _describe(recipe: dict[str, Any], applied: dict[str, Any]) -> str:
    """'wgan-gp on any data: lr 0.0001, beta1 0.0, ... - Gulrajani et al. 2017'."""
    what = ", ".join(f"{k} {v}" for k, v in applied.items())
    on = "any data" if recipe["data"] == "any" else recipe["data"]
    return f"{recipe['variant']} on {on}: {what} - {recipe['source']}"


# The accepted values of every numeric setting, in one place for a new run and a resumed one:
# key -> (int or float, the test, the range in words). A float must also be finite; None means unset.
RANGES: dict[str, tuple[type, Any, str]] = {
    "epochs": (float, lambda v: v > 0, "positive and finite"),
    "steps": (int, lambda v: v >= 1, "at least 1"),
    "batch_size": (int, lambda v: v >= 1, "at least 1"),
    "lr": (float, lambda v: v > 0, "positive and finite"),
    "d_lr": (float, lambda v: v > 0, "positive and finite"),
    "beta1": (float, lambda v: 0 <= v < 1, "in [0, 1)"),
    "beta2": (float, lambda v: 0 <= v < 1, "in [0, 1)"),
    "z_dim": (int, lambda v: v >= 1, "at least 1"),
    "width": (int, lambda v: v >= 1, "at least 1"),
    "depth": (int, lambda v: v >= 1, "at least 1"),
    "d_width": (int, lambda v: v >= 1, "at least 1"),
    "d_depth": (int, lambda v: v >= 1, "at least 1"),
    "d_steps": (int, lambda v: v >= 1, "at least 1"),
    "sample_every": (int, lambda v: v >= 1, "at least 1"),
    "pack": (int, lambda v: v >= 1, "at least 1"),
    "unroll": (int, lambda v: v >= 0, "at least 0 (0 = off)"),
    "clip": (float, lambda v: v > 0, "positive and finite"),
    "gp_weight": (float, lambda v: v >= 0, "at least 0 and finite (0 = off)"),
    "r1": (float, lambda v: v >= 0, "at least 0 and finite (0 = off)"),
    "ema": (float, lambda v: 0 <= v < 1, "in [0, 1)"),
    "seed": (int, lambda v: v >= 0, "at least 0"),
}

# Settings a resumed run may change: how far it goes, how often it saves, its learning rate, where
# its data is read from and where its arrays live. Everything else defines the run and stays.
RESUME_MAY_CHANGE = ("steps", "epochs", "lr", "sample_every", "data_dir", "backend")

# The settings that are not part of a run's definition (how this one invocation behaves).
NOT_SETTINGS = ("resume", "quiet")


def resolve(given: dict[str, Any]) -> dict[str, Any]:
    """The full config of a new run: ``given`` (settings the caller chose; None means unset) over
    the defaults for its dataset, its model and its loss. Raises ValueError for values out of range."""
    given = {k: v for k, v in given.items() if v is not None and k not in NOT_SETTINGS}
    dataset = given.get("dataset", "mnist")
    toy = dataset in TOY_DATASETS
    cfg: dict[str, Any] = {"dataset": dataset, "split": "train", "backend": backend.default_name(), "z_dim": 64,
                           "lr_decay": "none", "d_lr": None, "beta2": 0.999, "pack": 1, "unroll": 0,
                           "conditional": False, "width": None, "standardize": False, "ema": 0.0, "d_steps": 1,
                           "seed": 0, "data_dir": None, "epochs": None, "steps": None, "r1": 0.0}
    cfg.update(DEFAULTS["toy" if toy else "image"])
    if not toy and given.get("model") == "mlp":
        cfg.update(DEFAULTS["image-mlp"])
    if "steps" in given:
        cfg["epochs"] = None
    if "epochs" in given:
        cfg["steps"] = None
    # The variants' recipes, judged on what the run is (the given settings over the defaults) and
    # applied under the given settings: a setting the user chose is never replaced. A later row wins
    # a setting from an earlier one, and each row is recorded with the settings it decided.
    seen = {**cfg, **given}
    decided: dict[str, tuple[int, Any]] = {}
    for i, recipe in enumerate(RECIPES):
        if _recipe_applies(recipe, seen, toy):
            decided.update({k: (i, v) for k, v in recipe["settings"].items() if k not in given})
    if ("epochs" in given or "steps" in given) and ("epochs" in decided or "steps" in decided):
        decided.pop("epochs", None)  # the user said how long: the recipe's length does not apply
        decided.pop("steps", None)
    recipes = []
    for i, recipe in enumerate(RECIPES):
        applied = {k: v for k, (j, v) in decided.items() if j == i}
        if applied:
            cfg.update(applied)
            if "epochs" in applied:
                cfg["steps"] = None
            if "steps" in applied:
                cfg["epochs"] = None
            recipes.append(_describe(recipe, applied))
    cfg.update(given)
    cfg["recipes"] = recipes
    if toy and cfg["model"] == "dcgan":
        raise ValueError(f"`model` dcgan needs 28 x 28 images; for {dataset} use `model` mlp.")
    if cfg["standardize"] and not toy:
        raise ValueError("`standardize` is for the 2-D toys; images are already scaled to [-1, 1].")
    if cfg["conditional"] and toy:
        raise ValueError(f"`conditional` needs a labelled image dataset; {dataset} has no labels.")
    if cfg.get("condition") and not cfg["conditional"]:
        raise ValueError(f"`condition` {cfg['condition']} says how D hears the label of a conditional GAN: "
                         "add `conditional`, or leave `condition` out.")
    if cfg["conditional"]:
        cfg["condition"] = cfg.get("condition") or "projection"
        if cfg["condition"] not in models.CONDITIONS:
            raise ValueError(f"`condition` must be one of {', '.join(models.CONDITIONS)}, got {cfg['condition']!r}.")
        if cfg["condition"] == "projection" and cfg["pack"] > 1:
            raise ValueError("`pack` > 1 and `condition` projection cannot be combined: add `condition` concat, "
                             "or leave `pack` out.")
    cfg["out"] = str(cfg.get("out") or Path("runs") / f"{dataset}-{cfg['model']}")
    if "steps" in given and "epochs" in given:
        raise ValueError(f"`steps` ({given['steps']}) and `epochs` ({given['epochs']}) both say how long to train: "
                         "give one of them.")
    validate(cfg)
    return cfg


def validate(cfg: dict[str, Any]) -> None:
    """Raise ValueError, one sentence naming the setting, the value and its range, for a setting out of range."""
    for key, (kind, ok, accepted) in RANGES.items():
        value = cfg.get(key)
        if value is None:
            continue
        whole = isinstance(value, int) and not isinstance(value, bool)
        if not (whole or (kind is float and isinstance(value, float))):
            what = "a whole number" if kind is int else "a number"
            raise ValueError(f"`{key}` must be {what}, {accepted}, got {value!r}.")
        if not (math.isfinite(value) and ok(value)):
            if key == "ema":
                raise ValueError(f"`ema` is the decay of G's running average, in [0, 1) (e.g. 0.999), got {value!r}.")
            raise ValueError(f"`{key}` must be {accepted}, got {value!r}.")
    if cfg.get("batch_size") and cfg.get("pack") and cfg["batch_size"] % cfg["pack"]:
        raise ValueError(f"`batch_size` ({cfg['batch_size']}) must be a multiple of `pack` ({cfg['pack']}).")


def load_config(folder: str | Path) -> dict[str, Any]:
    """The config.json of the run in ``folder``; CheckpointError (one sentence) if it is missing or not JSON."""
    import json

    path = Path(folder) / "config.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise CheckpointError(f"{path.parent} holds no run (no config.json): "
                              "give the `out` folder of a training run.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path} is not valid JSON ({e}): restore it or start a new run.") from None


def resume_config(folder: str | Path, given: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[Any]], list[str]]:
    """The config of the run in ``folder``, continued in that very folder, with the changes ``given``
    asks for: (config, {setting: [old, new]}, lines to print). A damaged config.json is replaced by
    the copy the checkpoint keeps; a change a resume may not make is refused in one sentence."""
    folder = Path(folder)
    notes = []
    try:
        cfg = load_config(folder)
        check_config(cfg, folder)
    except CheckpointError as damaged:
        # The checkpoint keeps a copy of the config it was saved with: nothing is lost if it is whole.
        if not (folder / "checkpoint.npz").exists():
            raise
        try:
            cfg = checkpoint.load(folder / "checkpoint.npz")["config"]
            check_config(cfg, folder)
        except (CheckpointError, KeyError, TypeError):
            raise damaged from None
        notes.append(f"{folder / 'config.json'} was damaged ({damaged}); using the copy saved in checkpoint.npz")
    if Path(cfg["out"]).resolve() != folder.resolve():
        notes.append(f"this run was started in {cfg['out']}; it continues here, in {folder}")
    cfg["out"] = str(folder)
    given = {k: v for k, v in given.items() if v is not None and k not in NOT_SETTINGS}
    if "out" in given and Path(given["out"]).resolve() != folder.resolve():
        raise ValueError(f"`out` {given['out']} with `resume` {folder}: a resumed run continues in its own folder; "
                         "to branch it, copy the folder and resume the copy.")
    for key, value in given.items():
        if key not in RESUME_MAY_CHANGE and key != "out" and value != cfg.get(key):
            raise ValueError(f"`{key}` cannot change when a run is resumed (this run has "
                             f"{cfg.get(key)!r}, not {value!r}): leave it out, or start a new run with another `out`.")
    changes = {k: [cfg.get(k), given[k]] for k in RESUME_MAY_CHANGE if k in given and given[k] != cfg.get(k)}
    for key, (_, new) in changes.items():
        cfg[key] = new
    if "steps" in changes and cfg.get("epochs") is not None:
        changes["epochs"], cfg["epochs"] = [cfg["epochs"], None], None
    if "epochs" in changes and cfg.get("steps") is not None:
        changes["steps"], cfg["steps"] = [cfg["steps"], None], None
    validate(cfg)  # the same ranges as a new run's
    return cfg, changes, notes


def check_config(cfg: Any, folder: Path) -> None:
    """A hand-edited config.json that is valid JSON but not a run's config: one sentence, not a KeyError."""
    where = folder / "config.json"
    if not isinstance(cfg, dict):
        raise CheckpointError(f"{where} is not a run's config (it holds a {type(cfg).__name__}, not an object): "
                              "restore it from a copy, or start a new run.")
    dataset = cfg.get("dataset")
    if dataset not in DATASETS + TOY_DATASETS:
        raise CheckpointError(f"{where} names no known dataset ({dataset!r}): restore the file from a copy, "
                              "or start a new run.")
    model = cfg.get("model")
    reference = resolve({"dataset": dataset, "model": model if model in models.MODELS else None})
    for key, value in reference.items():
        if key in ("out", "backend", "steps", "epochs", "width", "data_dir", "optimizer", "clip", "d_lr", "r1"):
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
