"""``python -m minigan.demo``: train a small classifier with minigan, end to end.

Before a GAN there is a discriminator, and a discriminator is a binary
classifier. This demo trains one on a 2-D two-class dataset (two interleaved
half moons) with the library's own layers, loss and optimizer, prints its
accuracy and draws its decision boundary: P(class 1 | x) over the plane.

    python -m minigan.demo                   # NumPy, a few seconds on a laptop
    python -m minigan.demo --backend cupy    # the same numbers on a GPU
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import minigan
from minigan import losses, nn, optim
from minigan.backend import BackendError


def make_moons(n: int, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles: x (n, 2) float32, y (n,) int64 in {0, 1}.

    Class 0: (cos t, sin t); class 1: (1 - cos t, 0.5 - sin t), t in [0, pi], plus N(0, noise^2).
    """
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % 2).astype(np.int64)
    t = rng.uniform(0.0, np.pi, size=n)
    x = np.where(y[:, None] == 0,
                 np.stack([np.cos(t), np.sin(t)], axis=1),
                 np.stack([1.0 - np.cos(t), 0.5 - np.sin(t)], axis=1))
    x = x + rng.normal(0.0, noise, size=x.shape)
    return x.astype(np.float32), y


def build_classifier(hidden: int = 32) -> nn.Module:
    """x (N, 2) -> logit (N, 1): two hidden ReLU layers. P(y=1 | x) = sigmoid(logit)."""
    return nn.Sequential(
        nn.Linear(2, hidden), nn.ReLU(),
        nn.Linear(hidden, hidden), nn.ReLU(),
        nn.Linear(hidden, 1),
    )


def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    """Fraction of points whose predicted class (logit > 0) equals the label."""
    with minigan.no_grad():
        logits = model(minigan.tensor(x)).numpy().reshape(-1)
    return float(((logits > 0).astype(np.int64) == y).mean())


def train_classifier(
    x: np.ndarray, y: np.ndarray, steps: int = 500, batch_size: int = 64, lr: float = 1e-2,
    seed: int = 0, progress: bool = False,
) -> tuple[nn.Module, list[float]]:
    """Minibatch Adam on the binary cross-entropy of the logits; returns the model and its losses."""
    minigan.manual_seed(seed)
    model = build_classifier()
    opt = optim.Adam(model.parameters(), lr=lr)
    rng = minigan.backend.generator()
    history: list[float] = []
    steps_iter = range(steps)
    if progress:
        from tqdm import tqdm

        steps_iter = tqdm(steps_iter, desc="training", unit="step", leave=False)
    for _ in steps_iter:
        idx = rng.integers(0, len(x), size=batch_size)
        xb = minigan.tensor(x[idx])
        yb = minigan.tensor(y[idx].astype(np.float32).reshape(-1, 1))
        loss = losses.bce_with_logits(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(loss.item())
    return model, history


def plot_decision_boundary(model: nn.Module, x: np.ndarray, y: np.ndarray, history: list[float], path: Path) -> None:
    """P(class 1 | x) as a heatmap under the data points, and the loss curve beside it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lo, hi = x.min(axis=0) - 0.5, x.max(axis=0) + 0.5
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
    with minigan.no_grad():
        p = minigan.sigmoid(model(minigan.tensor(grid))).numpy().reshape(gx.shape)

    fig, (ax, ax_loss) = plt.subplots(1, 2, figsize=(11, 4.5), gridspec_kw={"width_ratios": [1.2, 1]})
    im = ax.contourf(gx, gy, p, levels=np.linspace(0, 1, 21), cmap="RdBu_r", alpha=0.8)
    ax.contour(gx, gy, p, levels=[0.5], colors="k", linewidths=1.5)
    ax.scatter(x[y == 0, 0], x[y == 0, 1], s=8, c="tab:blue", edgecolors="k", linewidths=0.3, label="class 0")
    ax.scatter(x[y == 1, 0], x[y == 1, 1], s=8, c="tab:red", edgecolors="k", linewidths=0.3, label="class 1")
    fig.colorbar(im, ax=ax, label="P(class 1 | x)")
    ax.set(title="Decision boundary (black: P = 1/2)", xlabel="x1", ylabel="x2")
    ax.legend(loc="lower left", fontsize=8)
    ax_loss.plot(history, lw=0.8, color="0.6", label="per step")
    window = min(25, len(history))
    if window:
        smooth = np.convolve(history, np.ones(window) / window, mode="valid")
        ax_loss.plot(np.arange(window - 1, len(history)), smooth, color="k", label=f"mean of {window}")
    ax_loss.set(title="Binary cross-entropy", xlabel="step", ylabel="loss")
    ax_loss.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m minigan.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["numpy", "cupy"], default="numpy", help="array library to run on")
    parser.add_argument("--steps", type=int, default=500, help="training steps (minibatches of 64)")
    parser.add_argument("--seed", type=int, default=0, help="seed for data, weights and batches")
    parser.add_argument("--out", type=Path, default=Path("runs/demo"), help="folder for the picture")
    args = parser.parse_args(argv)
    try:
        minigan.use(args.backend)
    except BackendError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    x_train, y_train = make_moons(1000, seed=args.seed)
    x_test, y_test = make_moons(1000, seed=args.seed + 1)
    start = time.perf_counter()
    model, history = train_classifier(x_train, y_train, steps=args.steps, seed=args.seed, progress=True)
    seconds = time.perf_counter() - start
    print(model)
    print(f"trained {args.steps} steps on {args.backend} in {seconds:.1f} s; final loss {np.mean(history[-25:]):.4f}")
    print(f"accuracy: train {accuracy(model, x_train, y_train):.1%}, held-out {accuracy(model, x_test, y_test):.1%}")
    path = args.out / "decision_boundary.png"
    plot_decision_boundary(model, x_test, y_test, history, path)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
