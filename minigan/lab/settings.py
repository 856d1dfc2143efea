"""The lab's settings: what a student may set on the page, each with its label and its range, and
the one check every request's settings go through (``check_settings``).

The model is the trainer's MLP (G and D each ``depth`` hidden layers of ``width`` LeakyReLUs), small by
default so that the page plays fast on a laptop's CPU, with z in 2-D so that G's map of z can be
drawn as a grid. Losses, learning rates, k, pack, R1, the gradient penalty, weight clipping and
unrolling are the trainer's own, and a loss's recipe is the trainer's (``minigan.gan.config``).
Every range is bounded, so the memory a session can take is too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from minigan.data import TOY_DATASETS, TOY_SHAPES
from minigan.gan import config, trainer

__all__ = ["LabError", "Setting", "SETTINGS", "DATASETS", "MAX_POINTS", "DRAWN_BOX", "check_settings",
           "defaults", "loss_defaults", "recipe_base"]

DATASETS = (*TOY_DATASETS, *TOY_SHAPES, "drawn")
MAX_POINTS = 1000  # points a student may draw
DRAWN_BOX = 1.5  # drawn points lie in [-1.5, 1.5]^2, the view of every set but grid25


class LabError(ValueError):
    """A request the lab cannot carry out, in one sentence the page shows. ``status``: its HTTP code;
    ``state``: the game's state where some of the request was carried out (a NaN stopped its steps)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status
        self.state: dict[str, Any] | None = None  # the game's state, where the page should redraw it


@dataclass(frozen=True)
class Setting:
    """One setting of the page: its label, kind ("int", "float", "choice", "points"), range and default."""

    label: str
    kind: str
    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    help: str = ""

    def describe(self) -> str:
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "points":
            return f"a list of 1 to {MAX_POINTS} [x, y] pairs in [-{DRAWN_BOX}, {DRAWN_BOX}]"
        if self.kind == "int":
            return f"a whole number from {int(self.low)} to {int(self.high)}"
        return f"a number from {self.low:g} to {self.high:g}"


SETTINGS: dict[str, Setting] = {
    "dataset": Setting("data", "choice", "ring8", choices=DATASETS,
                       help="ring8 and grid25 are the PacGAN mixtures; drawn is what you click on the plot"),
    "points": Setting("drawn points", "points", [], help="the points of the drawn set"),
    "loss": Setting("loss", "choice", "nonsaturating", choices=tuple(trainer.LOSSES)),
    "z_dim": Setting("z dimension", "int", 2, 1, 16, help="2 draws G's map of z as a grid"),
    "g_width": Setting("G width", "int", 64, 1, 512),
    "g_depth": Setting("G hidden layers", "int", 2, 1, 4),
    "d_width": Setting("D width", "int", 64, 1, 512),
    "d_depth": Setting("D hidden layers", "int", 2, 1, 4),
    "g_lr": Setting("G learning rate", "float", 1e-3, 1e-6, 1.0),
    "d_lr": Setting("D learning rate", "float", 1e-3, 1e-6, 1.0),
    "d_steps": Setting("D steps per G step (k)", "int", 1, 1, 10),
    "batch_size": Setting("batch size", "int", 128, 8, 1024),
    "pack": Setting("pack (PacGAN)", "int", 1, 1, 8, help="D judges this many samples at once"),
    "r1": Setting("R1 penalty (gamma)", "float", 0.0, 0.0, 100.0, help="0 = off"),
    "gp_weight": Setting("gradient penalty (lambda)", "float", 0.0, 0.0, 100.0, help="0 = off"),
    "clip": Setting("weight clipping", "float", 0.0, 0.0, 1.0, help="0 = off; WGAN's recipe uses 0.01"),
    "unroll": Setting("unrolled D steps", "int", 0, 0, 10, help="0 = off"),
    "seed": Setting("seed", "int", 0, 0, 2**31 - 1),
}

# The settings a loss's recipe decides (the trainer's RECIPES), shown on the page when the loss changes.
_RECIPE_KEYS = {"lr": "g_lr", "d_steps": "d_steps", "gp_weight": "gp_weight", "clip": "clip"}


def recipe_base(dataset: str) -> str:
    """The mixture whose recipes a lab set takes: grid25 its own, every other set ring8's (same square)."""
    return "grid25" if dataset == "grid25" else "ring8"


def loss_defaults(loss: str, dataset: str = "ring8") -> dict[str, Any]:
    """The lab settings the trainer's recipe for ``loss`` on this data gives (its RECIPES rows)."""
    cfg = config.resolve({"dataset": recipe_base(dataset), "loss": loss})
    out = {ours: cfg.get(theirs) or 0.0 for theirs, ours in _RECIPE_KEYS.items()}
    out["d_lr"] = out["g_lr"]
    out["d_steps"] = int(cfg["d_steps"])
    return out


def defaults() -> dict[str, Any]:
    """Every setting at its default."""
    return {k: (list(s.default) if s.kind == "points" else s.default) for k, s in SETTINGS.items()}


def _check_one(key: str, value: Any) -> Any:
    s = SETTINGS[key]
    what = f"{s.label} `{key}` must be {s.describe()}, got {_show(value)}."
    if s.kind == "choice":
        if not isinstance(value, str) or value not in s.choices:
            raise LabError(what)
        return value
    if s.kind == "points":
        if not isinstance(value, list) or len(value) > MAX_POINTS:
            raise LabError(what)
        points = []
        for p in value:
            if not (isinstance(p, list) and len(p) == 2 and all(_is_number(c) for c in p)
                    and all(abs(c) <= DRAWN_BOX for c in p)):
                raise LabError(f"{s.label} `{key}` must be {s.describe()}; one of them is {_show(p)}.")
            points.append([float(p[0]), float(p[1])])
        return points
    if s.kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
        if isinstance(value, float) and value.is_integer():
            value, ok = int(value), True  # JSON has one kind of number: 2.0 is 2
    else:
        ok = _is_number(value)
    if not ok or not (s.low <= value <= s.high):
        raise LabError(what)
    return int(value) if s.kind == "int" else float(value)


def _is_number(v: Any) -> bool:
    try:
        return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    except OverflowError:  # a whole number too large for a float (JSON allows 400 digits)
        return False


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check_settings(given: Any, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """``base`` (default: the defaults) with the settings ``given`` (a dict) checked and applied.

    Raises LabError, one sentence naming the setting, its label, its range and the value, for an
    unknown setting, a value of the wrong type or out of range, a drawn set with no points, or a
    batch that is not a whole number of packs.
    """
    if not isinstance(given, dict):
        raise LabError(f"the settings must be a JSON object of name: value pairs, got {_show(given)}.")
    out = dict(defaults() if base is None else base)
    for key, value in given.items():
        if key not in SETTINGS:
            raise LabError(f"there is no setting {_show(key)}: the settings are {', '.join(SETTINGS)}.")
        out[key] = _check_one(key, value)
    if out["dataset"] == "drawn" and not out["points"]:
        raise LabError("the drawn set has no points yet: click on the plot to draw some, then train on them.")
    if out["batch_size"] % out["pack"]:
        raise LabError(f"batch size `batch_size` ({out['batch_size']}) must be a whole number of packs of "
                       f"`pack` ({out['pack']}) samples.")
    return out
