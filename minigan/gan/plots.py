"""The figures of a GAN training run: sample grids, loss curves, D's view of the plane.

Every function takes host NumPy arrays (convert with ``minigan.backend.to_numpy(a)``
or ``tensor.numpy()`` first), writes one file and returns its ``Path``.

Figures are built as ``matplotlib.figure.Figure`` drawn by ``FigureCanvasAgg``, never
through ``pyplot``: no window, no global list of open figures to leak, safe from a
thread. Such a figure is freed with its last reference, so there is nothing to close.

Images follow the lessons' convention: G ends in tanh, so x lies in [-1, 1] and is
shown as (x + 1) / 2 in [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import matplotlib.image as mpimg
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = [
    "image_grid",
    "save_grid",
    "moving_average",
    "plot_losses",
    "plot_d_outputs",
    "plot_2d_field",
    "field_frame",
    "save_gif",
    "plot_samples_2d",
]

PathLike = str | Path

# GAN Lab's colours: green for real data and for "D says real", purple for generated.
REAL_COLOR = "#1a9641"
FAKE_COLOR = "#7b3294"
FIELD_CMAP = "PRGn"  # 0 -> purple (D says generated), 1 -> green (D says real)


# --------------------------------------------------------------------------- input checks


def _host(name: str, a: Any) -> np.ndarray:
    """``a`` as a NumPy array, or one sentence saying how to bring it to the host."""
    package = type(a).__module__.split(".")[0]
    if package in ("cupy", "minigan", "torch"):
        raise TypeError(
            f"{name} is a {type(a).__module__}.{type(a).__name__}: plots take host NumPy arrays, "
            f"convert with minigan.backend.to_numpy(a) or tensor.numpy() first."
        )
    return np.asarray(a)


def _points(name: str, a: Any) -> np.ndarray:
    p = _host(name, a)
    if p.ndim != 2 or p.shape[1] != 2:
        raise ValueError(f"{name} must be points of shape (N, 2), got shape {p.shape}.")
    return p.astype(np.float64)


def _series(steps: Any, **curves: Any) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    s = _host("steps", steps).astype(np.float64)
    if s.ndim != 1 or s.size == 0:
        raise ValueError(f"steps must be a non-empty 1-D array (T,), got shape {s.shape}.")
    out = {}
    for name, c in curves.items():
        v = _host(name, c).astype(np.float64)
        if v.shape != s.shape:
            raise ValueError(f"{name} must have the shape of steps {s.shape}, got shape {v.shape}.")
        out[name] = v
    return s, out


def _out_path(path: PathLike) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    return p


# --------------------------------------------------------------------------- image grids


def image_grid(images: np.ndarray, nrow: int | None = None, padding: int = 2, pad_value: float = 1.0) -> np.ndarray:
    """Tile N images into one, laid out like torchvision's ``make_grid``.

    images: (N, C, H, W) in [-1, 1], C = 1 or 3 -> (H', W') for C = 1 or (H', W', 3) for C = 3,
    float in [0, 1], where with ncol = min(nrow, N) and nrows = ceil(N / ncol)::

        H' = nrows * (H + padding) + padding,   W' = ncol * (W + padding) + padding

    Image k sits in row k // ncol, column k % ncol. Values are clipped to [-1, 1] and
    mapped by (x + 1) / 2; ``pad_value`` is the border's value in the output's [0, 1]
    (1.0: white). Default nrow: ceil(sqrt(N)), a square-ish grid.
    """
    x = _host("images", images)
    if x.ndim != 4 or x.shape[1] not in (1, 3) or x.shape[0] == 0:
        raise ValueError(f"images must be (N, C, H, W) with N >= 1 and C = 1 or 3, got shape {x.shape}.")
    if not np.all(np.isfinite(x)):
        raise ValueError("images contain NaN or inf: G has diverged, check the losses (and lower the learning rate).")
    if padding < 0:
        raise ValueError(f"padding must be >= 0, got {padding}.")
    n, c, h, w = x.shape
    if nrow is None:
        nrow = math.ceil(math.sqrt(n))
    if nrow < 1:
        raise ValueError(f"nrow must be >= 1, got {nrow}.")
    ncol = min(nrow, n)
    nrows = math.ceil(n / ncol)
    grid = np.full((c, nrows * (h + padding) + padding, ncol * (w + padding) + padding), pad_value, dtype=np.float64)
    x = (np.clip(x, -1.0, 1.0) + 1.0) / 2.0
    for k in range(n):
        top = (k // ncol) * (h + padding) + padding
        left = (k % ncol) * (w + padding) + padding
        grid[:, top:top + h, left:left + w] = x[k]
    return grid[0] if c == 1 else grid.transpose(1, 2, 0)


def save_grid(
    images: np.ndarray,
    path: PathLike,
    nrow: int | None = None,
    title: str | None = None,
    row_labels: Sequence[str] | None = None,
    scale: int = 2,
) -> Path:
    """Write ``image_grid(images, nrow)`` as a PNG; images: (N, C, H, W) in [-1, 1].

    Without a title or row labels the grid's pixels are written as they are, each
    repeated ``scale`` x ``scale`` times (a 28x28 digit is hard to see at 1x). With them
    a figure is drawn: ``row_labels`` (one per grid row, e.g. the class of each row of a
    conditional GAN) are written left of their rows.
    """
    x = _host("images", images)
    grid = image_grid(x, nrow)
    if not isinstance(scale, int) or scale < 1:
        raise ValueError(f"scale must be an integer >= 1, got {scale!r}.")
    n, h = x.shape[0], x.shape[2]
    ncol = min(nrow or math.ceil(math.sqrt(n)), n)
    nrows = math.ceil(n / ncol)
    if row_labels is not None and len(row_labels) != nrows:
        raise ValueError(f"row_labels must give one label per grid row ({nrows}), got {len(row_labels)}.")
    path = _out_path(path)
    if title is None and row_labels is None:
        big = np.repeat(np.repeat(grid, scale, axis=0), scale, axis=1)
        mpimg.imsave(path, big, cmap="gray", vmin=0.0, vmax=1.0)  # cmap only applies to one channel
        return path

    # Each grid pixel about 3 screen pixels wide at 100 dpi; at least 3 inches so a title fits.
    dpi = 100
    gh, gw = grid.shape[:2]
    fig = Figure(figsize=(max(3.0, 3 * gw / dpi), max(3.0, 3 * gh / dpi)), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.imshow(grid, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_axis_off()
    if row_labels is not None:
        for r, label in enumerate(row_labels):
            y = r * (h + 2) + 2 + h / 2  # centre of row r, in grid pixels (padding 2)
            ax.text(-3, y, str(label), ha="right", va="center", fontsize=12)
    if title is not None:
        ax.set_title(title, fontsize=13)
    fig.savefig(path, bbox_inches="tight", pad_inches=0.1, facecolor="white")
    return path


# --------------------------------------------------------------------------- curves


def moving_average(values: np.ndarray, window: int | None = None) -> np.ndarray:
    """Trailing mean over the last ``window`` values, NaNs skipped: (T,) -> (T,).

    out[t] = mean(values[max(0, t - window + 1) : t + 1]). The first values average
    fewer points. Default window: T // 25 (at least 1, at most 500), so the curve keeps
    its shape however long the run.
    """
    v = np.asarray(values, dtype=np.float64)
    if window is None:
        window = int(np.clip(len(v) // 25, 1, 500))
    finite = np.isfinite(v)
    total = np.concatenate([[0.0], np.cumsum(np.where(finite, v, 0.0))])
    count = np.concatenate([[0], np.cumsum(finite)])
    hi = np.arange(1, len(v) + 1)
    lo = np.maximum(hi - window, 0)
    n = count[hi] - count[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (total[hi] - total[lo]) / n, np.nan)


def _curves(ax: Any, steps: np.ndarray, curves: Sequence[tuple[np.ndarray, str, str]]) -> int:
    """Draw each curve raw (faint) and smoothed (bold); returns the window used."""
    window = int(np.clip(len(steps) // 25, 1, 500))
    for values, label, color in curves:
        if window > 1:
            ax.plot(steps, values, color=color, alpha=0.25, linewidth=0.8)
            ax.plot(steps, moving_average(values, window), color=color, linewidth=2.0, label=label)
        else:
            ax.plot(steps, values, color=color, linewidth=1.5, marker="." if len(steps) < 50 else None, label=label)
    ax.set_xlabel("step")
    ax.grid(True, alpha=0.3)
    return window


def _smooth_note(window: int) -> str:
    return f"faint: every step; bold: mean of the last {window}" if window > 1 else ""


def plot_losses(
    steps: np.ndarray, d_loss: np.ndarray, g_loss: np.ndarray, path: PathLike, title: str | None = None
) -> Path:
    """D's and G's loss against the training step; steps, d_loss, g_loss: (T,).

    Each loss is drawn raw (faint) and as a moving average (bold, see ``moving_average``).
    """
    s, c = _series(steps, d_loss=d_loss, g_loss=g_loss)
    fig = Figure(figsize=(7, 4), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    window = _curves(ax, s, [(c["d_loss"], "D loss", "tab:blue"), (c["g_loss"], "G loss", "tab:orange")])
    ax.set_ylabel("loss")
    ax.legend(title=_smooth_note(window) or None, title_fontsize=8)
    ax.set_title(title or "losses")
    path = _out_path(path)
    fig.savefig(path)
    return path


def plot_d_outputs(
    steps: np.ndarray,
    d_real: np.ndarray,
    d_fake: np.ndarray,
    path: PathLike,
    ideal: float | None = 0.5,
    title: str | None = None,
) -> Path:
    """Mean D(x) on real and mean D(G(z)) on generated batches against the step; all (T,).

    At the GAN's equilibrium p_g = p_data and D(x) = 1/2 everywhere: the dashed line at
    ``ideal`` marks that value (None: no line). Training need not reach it: for any
    p_g != p_data the best D has mean D*(x) > 1/2 > mean D*(G(z)) (lesson 08).
    When every value is a probability the y-axis is [0, 1]; a WGAN critic's scores are not,
    and then the axis follows the data.
    """
    s, c = _series(steps, d_real=d_real, d_fake=d_fake)
    fig = Figure(figsize=(7, 4), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    window = _curves(ax, s, [(c["d_real"], "D(x), real", REAL_COLOR), (c["d_fake"], "D(G(z)), generated", FAKE_COLOR)])
    if ideal is not None:
        ax.axhline(ideal, color="0.3", linestyle="--", linewidth=1.2, label=f"equilibrium {ideal:g}")
    values = np.concatenate([c["d_real"], c["d_fake"]])
    values = values[np.isfinite(values)]
    probabilities = values.size > 0 and values.min() >= 0.0 and values.max() <= 1.0
    if probabilities:
        ax.set_ylim(0.0, 1.0)
    ax.set_ylabel("mean D output" if probabilities else "mean critic output")
    ax.legend(title=_smooth_note(window) or None, title_fontsize=8)
    ax.set_title(title or "discriminator outputs")
    path = _out_path(path)
    fig.savefig(path)
    return path


# --------------------------------------------------------------------------- 2-D GANs


def _extent(*clouds: np.ndarray, margin: float = 0.15) -> tuple[float, float, float, float]:
    """A square (xmin, xmax, ymin, ymax) around all points, ``margin`` of its half-width added."""
    pts = np.concatenate([p for p in clouds if p is not None and len(p)])
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    if len(pts) == 0:
        return (-1.0, 1.0, -1.0, 1.0)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    centre, half = (lo + hi) / 2, float((hi - lo).max()) / 2
    half = (half or 1.0) * (1 + margin)
    return (centre[0] - half, centre[0] + half, centre[1] - half, centre[1] + half)


def _check_extent(extent: Sequence[float]) -> tuple[float, float, float, float]:
    e = tuple(float(v) for v in extent)
    if len(e) != 4 or not (e[0] < e[1] and e[2] < e[3]):
        raise ValueError(f"extent must be (xmin, xmax, ymin, ymax) with xmin < xmax and ymin < ymax, got {extent}.")
    return e


def _scatter(ax: Any, real: np.ndarray, fake: np.ndarray, modes: np.ndarray | None) -> None:
    # Generated points first and real ones on top: the real data is the reference the eye
    # compares against, and a good G covers it exactly, which would otherwise hide it.
    style = dict(s=12, alpha=0.85, linewidths=0.4, edgecolors="black")
    ax.scatter(fake[:, 0], fake[:, 1], color=FAKE_COLOR, label="generated", zorder=2, **style)
    ax.scatter(real[:, 0], real[:, 1], color=REAL_COLOR, label="real", zorder=3, **style)
    if modes is not None:
        ax.scatter(modes[:, 0], modes[:, 1], marker="x", s=50, color="black", linewidths=1.5, label="modes")


def _field_figure(
    real: Any,
    fake: Any,
    d_fn: Callable[[np.ndarray], Any],
    step: int | None,
    extent: Sequence[float] | None,
    resolution: int,
    title: str | None,
    modes: Any,
    label: str = "D(x) = P(real)",
) -> Figure:
    real, fake = _points("real", real), _points("fake", fake)
    modes = None if modes is None else _points("modes", modes)
    if resolution < 2:
        raise ValueError(f"resolution must be >= 2, got {resolution}.")
    x0, x1, y0, y1 = _extent(real, fake, modes) if extent is None else _check_extent(extent)
    xs = np.linspace(x0, x1, resolution)
    ys = np.linspace(y0, y1, resolution)
    gx, gy = np.meshgrid(xs, ys)  # row i holds y = ys[i]: drawn with origin="lower"
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
    p = _host("d_fn's result", d_fn(grid))
    m = len(grid)
    if p.shape not in ((m,), (m, 1)):
        raise ValueError(f"d_fn must map points (M, 2) to probabilities (M,), got shape {p.shape} for M = {m}.")
    if not np.all(np.isfinite(p)) or p.min() < -1e-6 or p.max() > 1 + 1e-6:
        raise ValueError(
            f"d_fn must return probabilities in [0, 1], got values in [{np.nanmin(p):.3g}, {np.nanmax(p):.3g}]: "
            f"apply the sigmoid to D's logits."
        )

    fig = Figure(figsize=(6.2, 5.2), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    im = ax.imshow(p.reshape(resolution, resolution), origin="lower", extent=(x0, x1, y0, y1),
                   cmap=FIELD_CMAP, vmin=0.0, vmax=1.0, alpha=0.6, interpolation="bilinear", aspect="equal")
    fig.colorbar(im, ax=ax, label=label, shrink=0.9)
    _scatter(ax, real, fake, modes)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.legend(loc="upper right", fontsize=8, framealpha=0.85)
    parts = [t for t in (title, None if step is None else f"step {step}") if t]
    ax.set_title(", ".join(parts) or "discriminator")
    return fig


def plot_2d_field(
    real: np.ndarray,
    fake: np.ndarray,
    d_fn: Callable[[np.ndarray], np.ndarray],
    path: PathLike,
    step: int | None = None,
    extent: Sequence[float] | None = None,
    resolution: int = 200,
    title: str | None = None,
    modes: np.ndarray | None = None,
    label: str = "D(x) = P(real)",
) -> Path:
    """GAN Lab's picture: D(x) = P(real) as a heatmap over the plane, with real and generated points.

    real: (N, 2), fake: (M, 2), modes: (K, 2) centres drawn as crosses, or None.
    d_fn: float32 points (R*R, 2) -> probabilities (R*R,), called once on a
    ``resolution`` x ``resolution`` grid over ``extent`` = (xmin, xmax, ymin, ymax);
    default: a square around all points with a 15% margin. Pass a fixed extent when
    the figures are frames of one animation. ``label``: the colour bar's (a critic's
    score squashed by a sigmoid is not a probability: say so).
    """
    fig = _field_figure(real, fake, d_fn, step, extent, resolution, title, modes, label)
    path = _out_path(path)
    fig.savefig(path)
    return path


def field_frame(
    real: np.ndarray,
    fake: np.ndarray,
    d_fn: Callable[[np.ndarray], np.ndarray],
    step: int | None = None,
    extent: Sequence[float] | None = None,
    resolution: int = 200,
    title: str | None = None,
    modes: np.ndarray | None = None,
    label: str = "D(x) = P(real)",
) -> np.ndarray:
    """The figure of ``plot_2d_field`` as an RGB image (H, W, 3) uint8, a frame for ``save_gif``.

    Every call gives the same (H, W) (a fixed figure size), so frames stack.
    """
    fig = _field_figure(real, fake, d_fn, step, extent, resolution, title, modes, label)
    canvas = fig.canvas
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[:, :, :3].copy()


def save_gif(frames: Sequence[np.ndarray], path: PathLike, fps: float = 5) -> Path:
    """Write frames, each (H, W, 3) uint8 of one shape, as a looping animated GIF at ``fps``.

    Each frame gets its own 256-colour palette. GIF stores times in 10 ms units and
    Pillow merges identical consecutive frames into one longer frame.
    """
    from PIL import Image  # Pillow: a dependency of matplotlib

    if len(frames) == 0:
        raise ValueError("frames is empty: collect at least one (H, W, 3) uint8 frame, e.g. with field_frame.")
    if not fps > 0:
        raise ValueError(f"fps must be > 0, got {fps}.")
    arrays = [_host(f"frames[{i}]", f) for i, f in enumerate(frames)]
    first = arrays[0].shape
    for i, a in enumerate(arrays):
        if a.ndim != 3 or a.shape[2] != 3:
            raise ValueError(f"frames[{i}] must be an RGB image (H, W, 3), got shape {a.shape}.")
        if a.shape != first:
            raise ValueError(f"all frames must share one shape: frames[0] is {first}, frames[{i}] is {a.shape}.")
        if a.dtype != np.uint8:
            raise ValueError(f"frames[{i}] must be uint8, got {a.dtype}: convert with (255 * x).astype(np.uint8).")
    images = [Image.fromarray(a).convert("P", palette=Image.Palette.ADAPTIVE, colors=256) for a in arrays]
    path = _out_path(path)
    images[0].save(path, format="GIF", save_all=True, append_images=images[1:],
                   duration=round(1000 / fps), loop=0)
    return path


def plot_samples_2d(
    real: np.ndarray,
    fake: np.ndarray,
    path: PathLike,
    modes: np.ndarray | None = None,
    title: str | None = None,
    extent: Sequence[float] | None = None,
) -> Path:
    """Real (N, 2) and generated (M, 2) points on one square plot; modes: (K, 2) crosses or None."""
    real, fake = _points("real", real), _points("fake", fake)
    modes = None if modes is None else _points("modes", modes)
    x0, x1, y0, y1 = _extent(real, fake, modes) if extent is None else _check_extent(extent)
    fig = Figure(figsize=(5.2, 5.2), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    _scatter(ax, real, fake, modes)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper right", fontsize=8, framealpha=0.85)
    ax.set_title(title or "real and generated samples")
    path = _out_path(path)
    fig.savefig(path)
    return path
