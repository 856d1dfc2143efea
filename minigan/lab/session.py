"""One student's game in the lab: its GAN and the views the page draws; the bounded set of games.

A ``Session`` is a 2-D GAN built by the trainer's own ``build_gan`` from checked settings
(``minigan.lab.settings``), and
every step it takes is the trainer's: ``GAN.d_step`` (one D step), ``GAN.g_step`` (one G step) and
``GAN.train_step`` (k D steps, then one G step: an iteration). What it adds is only what a page
needs to draw the game: a fixed sample of real points and of z, D's belief on a grid, where G's
loss pushes each generated point (``GAN.g_direction``), how G bends a grid of z, the losses over
the steps, and PacGAN's modes covered and high-quality share (``minigan.measure.toy_quality``) on
the mixtures.

Each session draws its weights, noise and data from a random stream of its own
(``backend.using_generator``), so a seed repeats its game whatever other sessions do. ``Sessions``
keeps at most ``MAX_SESSIONS`` of them, and every setting has a bounded range, so the memory a lab
can take is bounded too.
"""

from __future__ import annotations

import inspect
import math
import secrets
import textwrap
import threading
import time
from collections import OrderedDict
from typing import Any

import numpy as np

from minigan import backend
from minigan.autograd import tensor
from minigan.data import TOY_DATASETS, TOY_SHAPES, modes, sample, sample_points, sample_shape
from minigan.gan import config, trainer
from minigan.gan.run import build_gan
from minigan.lab.settings import (  # noqa: F401 - the settings' names, for the session's callers too
    DATASETS,
    DRAWN_BOX,
    MAX_POINTS,
    SETTINGS,
    LabError,
    check_settings,
    defaults,
    loss_defaults,
    recipe_base,
)
from minigan.measure.metrics import histogram_js, toy_quality

__all__ = ["Session", "Sessions", "MAX_SESSIONS", "MAX_COUNT", "STEP_SECONDS"]

MAX_SESSIONS = 8  # sessions kept at once; the least recently used one is closed to make room
MAX_COUNT = 100  # steps one request may ask for
STEP_SECONDS = 1.0  # a request stops stepping after this long: a large model never holds the lab for minutes
N_REAL = 500  # real points drawn on the page (a fixed sample)
N_SHOWN = 480  # generated points drawn (and their arrows); a multiple of every pack size up to 6 and 8
N_QUALITY = 2500  # samples scored by toy_quality (PacGAN's protocol) and by histogram_js
JS_CELLS = 30  # the histograms' grid over the view, as GAN Lab's
FIELD = 48  # D's belief is drawn on a FIELD x FIELD grid
Z_LINES, Z_POINTS, Z_RANGE = 11, 41, 2.0  # G's map of z: lines over z in [-2, 2]^2
HISTORY = 1000  # rows of the loss history kept; past that every other row is dropped


def _rounded(a: Any, digits: int = 4) -> list[Any]:
    """A host array as nested lists for JSON, rounded. NaN and inf stay (a diverged G, a loss not yet
    computed); the server sends them as null, which the page leaves out of its drawing."""
    return np.round(np.asarray(a, dtype=np.float64), digits).tolist()


class Session:
    """One game: the trainer's GAN for ``settings``, its data, and the state the page draws."""

    def __init__(self, settings: dict[str, Any], sid: str | None = None) -> None:
        self.id = sid or secrets.token_hex(8)
        self.settings = settings
        s = settings
        seed = s["seed"]
        cfg = config.resolve({
            "dataset": recipe_base(s["dataset"]), "loss": s["loss"], "z_dim": s["z_dim"], "width": s["g_width"],
            "depth": s["g_depth"], "d_width": s["d_width"], "d_depth": s["d_depth"], "lr": s["g_lr"],
            "d_lr": s["d_lr"], "d_steps": s["d_steps"], "batch_size": s["batch_size"], "pack": s["pack"],
            "r1": s["r1"], "gp_weight": s["gp_weight"], "clip": s["clip"] or None, "unroll": s["unroll"],
            "seed": seed, "backend": backend.current().name,
        })
        self.config = cfg
        self.rng = np.random.default_rng(seed)  # this session's stream: weights, z and batches
        with backend.using_generator(self.rng):
            self.gan = build_gan(cfg, (2,))
        fixed = np.random.default_rng([seed, 2])  # the fixed z of the views, a stream of its own
        self.z_shown = self.gan.sample_z(N_SHOWN, generator=fixed)
        self.z_quality = self.gan.sample_z(N_QUALITY, generator=fixed)
        self.points = np.asarray(s["points"], dtype=np.float64).reshape(-1, 2)  # the drawn set, once
        self.real = self.data(N_REAL, np.random.default_rng([seed, 3]))
        self.mixture = s["dataset"] in TOY_DATASETS
        if s["dataset"] == "grid25":
            r = float(np.abs(modes("grid25")[0]).max()) + 1.0
        else:
            r = DRAWN_BOX
        self.box = (-r, r)
        # JS between histograms is biased above 0: a second real sample gives the score to read it beside.
        self.real_scored = self.data(N_QUALITY, np.random.default_rng([seed, 4]))
        self.js_real = histogram_js(self.real_scored, self.data(N_QUALITY, np.random.default_rng([seed, 5])),
                                    *self.box, JS_CELLS)
        self.iterations = self.d_steps = self.g_steps = 0
        self.history: dict[str, list[float]] = {k: [] for k in ("d_loss", "g_loss", "d_real", "d_fake")}
        self.stride, self.seen = 1, 0  # keep every stride-th row of the history
        self.last: dict[str, float] = {k: math.nan for k in self.history}

    def data(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n fresh samples of p_data (n, 2) float32 on the host: the lab's data never runs out."""
        name = self.settings["dataset"]
        if name in TOY_DATASETS:
            return sample(name, n, rng)
        if name in TOY_SHAPES:
            return sample_shape(name, n, rng)
        return sample_points(self.points, n, rng)

    def _batches(self):
        while True:
            yield self.data(self.settings["batch_size"], self.rng)

    # ---- the steps: the trainer's, nothing else

    def step(self, kind: str, count: int) -> int:
        """Up to ``count`` times: "iteration" (``GAN.train_step``: k D steps then a G step), "d" (``d_step``)
        or "g" (``g_step``); fewer when they take more than ``STEP_SECONDS`` (at least one is taken).
        Returns how many were taken. A NaN or infinite loss stops at that step, with the weights as before it."""
        n = self.settings["batch_size"]
        start = time.monotonic()
        done = 0
        with backend.using_generator(self.rng):
            while done < count and (done == 0 or time.monotonic() - start < STEP_SECONDS):
                try:
                    if kind == "iteration":
                        numbers = self.gan.train_step(self._batches())
                        self.iterations += 1
                        self.d_steps += self.gan.d_steps
                        self.g_steps += 1
                    elif kind == "d":
                        numbers = self.gan.d_step(self.data(n, self.rng))
                        self.d_steps += 1
                    else:
                        numbers = self.gan.g_step(n)
                        numbers["d_fake"] = numbers.pop("d_fake_g")
                        self.g_steps += 1
                except trainer.NonFiniteLossError as e:
                    said = str(e).replace("the learning rate `lr`", "the learning rates")
                    raise LabError(said.replace("`loss`", "loss").rstrip(".") + ", then press reset.") from None
                self._record(numbers)
                done += 1
        return done

    def _record(self, numbers: dict[str, float]) -> None:
        # 5 significant digits, once per step: a clipped critic's scores differ in the fifth decimal
        self.last.update({k: float(f"{v:.5g}") for k, v in numbers.items() if k in self.last})
        self.seen += 1
        if (self.seen - 1) % self.stride:
            return
        for k, rows in self.history.items():
            rows.append(self.last[k])
        if len(self.history["d_loss"]) >= HISTORY:  # keep the whole game in HISTORY rows: halve it
            for k in self.history:
                self.history[k] = self.history[k][::2]
            self.stride *= 2

    # ---- what the page shows

    def code(self) -> dict[str, dict[str, str]]:
        """The source of what the buttons run, read from the library that runs them: this GAN's
        ``d_step``, ``g_step`` and ``train_step`` (an unrolled GAN's own where it has them) and the
        chosen loss's D and G functions. {name: {"where": "module.qualname", "source": text}}."""
        out = {}
        parts = {"train_step": type(self.gan).train_step, "d_step": type(self.gan).d_step,
                 "g_step": type(self.gan).g_step, "d_loss": self.gan.loss.d, "g_loss": self.gan.loss.g}
        for name, fn in parts.items():
            try:
                source = inspect.getsource(fn)
            except (OSError, TypeError):  # no source file (a frozen install): say so rather than fail
                source = "(the source of this function is not available in this installation)"
            out[name] = {"where": f"{fn.__module__}.{fn.__qualname__}",
                         "source": textwrap.dedent(source).rstrip() + "\n"}
        return out

    def _generate(self, z: Any) -> np.ndarray:
        return backend.to_numpy(self.gan.generate(z).data)

    def z_map(self) -> dict[str, Any]:
        """How G bends z: for z of 2 or more dimensions, the lines of a grid over z in [-2, 2]^2 (the
        first two coordinates; the others 0: a slice) mapped by G; for 1-D z, the curve G(z), z in [-3, 3]."""
        zd = self.gan.z_dim
        if zd == 1:
            z = np.linspace(-3.0, 3.0, 4 * Z_POINTS)[:, None]
            lines = [z]
        else:
            t = np.linspace(-Z_RANGE, Z_RANGE, Z_POINTS)
            lines = []
            for c in np.linspace(-Z_RANGE, Z_RANGE, Z_LINES):
                for axis in (0, 1):
                    z = np.zeros((Z_POINTS, zd))
                    z[:, axis], z[:, 1 - axis] = t, c
                    lines.append(z)
        flat = np.concatenate(lines).astype(self.gan.dtype)
        x = self._generate(tensor(backend.current().asarray(flat)))
        per = len(lines[0])
        kind = "curve" if zd == 1 else ("grid" if zd == 2 else "slice")
        return {"kind": kind, "lines": [_rounded(x[i * per:(i + 1) * per], 3) for i in range(len(lines))]}

    def field(self) -> dict[str, Any]:
        """D's belief on a FIELD x FIELD grid over the view (row 0 at the bottom)."""
        lo, hi = self.box
        t = np.linspace(lo, hi, FIELD)
        gx, gy = np.meshgrid(t, t)  # gy varies along rows: row i is y = t[i]
        values = self.gan.d_at_points(np.stack([gx.ravel(), gy.ravel()], 1))
        probability = self.gan.loss.probability
        finite = values[np.isfinite(values)]  # a diverged D has none: the page then shows no range
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (math.nan, math.nan)
        return {"n": FIELD, "values": _rounded(values, 3), "probability": probability, "min": lo, "max": hi,
                "label": "D(x) = P(real)" if probability else f"{self.settings['loss']} critic's score D(x)"}

    def state(self) -> dict[str, Any]:
        """Everything the page draws, as JSON-ready values."""
        # Nothing here draws a random number: reading the state never moves the game's stream.
        fake = self._generate(self.z_shown)
        scored = self._generate(self.z_quality)
        finite = np.isfinite(scored).all()
        quality = {"js": histogram_js(self.real_scored, scored, *self.box, JS_CELLS) if finite else None,
                   "js_real": self.js_real, "cells": JS_CELLS, "modes": None}
        if self.mixture and finite:
            q = toy_quality(scored, self.settings["dataset"])
            quality["modes"] = {k: q[k] for k in ("modes_covered", "n_modes", "high_quality", "reverse_kl")}
        return {
            "session": self.id, "settings": self.settings, "box": list(self.box),
            "iterations": self.iterations, "d_steps": self.d_steps, "g_steps": self.g_steps,
            "real": _rounded(self.real, 3), "fake": _rounded(fake, 3),
            "arrows": _rounded(self.gan.g_direction(fake), 4),
            "field": self.field(), "z_map": self.z_map(), "quality": quality,
            "history": {**{k: list(v) for k, v in self.history.items()}, "stride": self.stride},
            "backend": backend.current().name,
        }


class Sessions:
    """The lab's sessions by id: at most ``limit``; a new one past that closes the least recently used.

    One lock guards them all: the steps of two tabs take turns (the machine's cores are shared
    anyway), and ``backend.using_generator`` is never entered by two threads at once.
    """

    def __init__(self, limit: int = MAX_SESSIONS) -> None:
        self.limit = int(limit)
        self.lock = threading.Lock()
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def __len__(self) -> int:
        return len(self._sessions)

    @staticmethod
    def _new(settings: dict[str, Any], sid: str | None = None) -> Session:
        try:
            return Session(settings, sid)
        except ValueError as e:  # a combination the trainer refuses, in its own sentence
            raise LabError(str(e)) from None

    def create(self, settings: dict[str, Any]) -> Session:
        session = self._new(settings)
        self._sessions[session.id] = session
        while len(self._sessions) > self.limit:
            self._sessions.popitem(last=False)
        return session

    def replace(self, sid: str, settings: dict[str, Any]) -> Session:
        """A new game under the same id (new settings, or the same ones for a reset)."""
        self.get(sid)
        session = self._new(settings, sid)
        self._sessions[sid] = session
        return session

    def get(self, sid: str) -> Session:
        session = self._sessions.get(sid)
        if session is None:
            raise LabError("this session has ended (the lab keeps the "
                           f"{self.limit} most recently used, and forgets all when it restarts): "
                           "reload the page to start a new one.", status=404)
        self._sessions.move_to_end(sid)  # the least recently used is the first to go
        return session

    def close(self, sid: str) -> None:
        self._sessions.pop(sid, None)
