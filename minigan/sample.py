"""``python -m minigan.sample``: draw samples from a trained run.

    python -m minigan.sample --run runs/mnist-dcgan --n 64 --out grid.png
    python -m minigan.sample --run runs/ring8-mlp --n 2500 --npy samples.npy   # raw points, for evaluation
    python -m minigan.sample --run runs/ring8-mlp --n 2500 --keep 0.9          # without the bridges between modes

Images are drawn as a grid; 2-D samples as points over the data. ``--npy`` saves the raw
samples, shape (n, ...) in the data's own scale (images in [-1, 1], points as they are),
the input ``python -m minigan.evaluate --samples`` takes. G runs in eval mode (BatchNorm
with its running statistics), so a sample does not depend on the others in its batch.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from minigan import backend
from minigan.cli import number, with_flags
from minigan.gan import plots
from minigan.gan.checkpoint import CheckpointError
from minigan.gan.run import Run, draw

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m minigan.sample", description="Draw samples from a trained run.")
    p.add_argument("--run", required=True, help="the run folder written by python -m minigan.train")
    p.add_argument("--n", type=number(int, "--n", "at least 1"), default=64, help="how many samples (default 64)")
    p.add_argument("--out", default=None, help="picture to write (default: RUN/sample.png unless --npy is given)")
    p.add_argument("--npy", default=None, help="also save the raw samples, shape (n, ...), to this .npy file")
    p.add_argument("--seed", type=number(int, "--seed", "at least 0"), default=0,
                   help="seed of the noise z (default 0)")
    p.add_argument("--label", type=number(int, "--label", "a class from 0 to 9"), default=None,
                   help="conditional runs: draw only this class")
    p.add_argument("--backend", choices=("numpy", "cupy"), default=None, help="override the run's backend")
    p.add_argument("--keep", type=number(float, "--keep", "a fraction in (0, 1]"), default=1.0,
                   help="2-D toys: Jacobian truncation, draw n / KEEP z and keep the n where G stretches z least "
                        "(e.g. 0.9; default 1 = plain samples; see minigan.gan.truncation)")
    p.add_argument("--no-ema", action="store_true",
                   help="a run trained with --ema: sample G's own weights, not their running average")
    args = p.parse_args(argv)
    if args.n < 1:
        p.error(f"--n must be at least 1, got {args.n}")
    if args.seed < 0:
        p.error(f"--seed must be at least 0, got {args.seed}")
    if args.label is not None and not 0 <= args.label <= 9:
        p.error(f"--label must be a class from 0 to 9, got {args.label}")
    if not 0 < args.keep <= 1:  # said as draw's own check says it: one line, exit code 2
        print(f"minigan.sample: error: --keep must be a fraction in (0, 1], e.g. 0.9 to drop the 10% of z with the "
              f"largest Jacobians; got {args.keep}.", file=sys.stderr)
        return 2
    try:
        x, _ = draw(args.run, args.n, args.seed, args.label, args.backend, args.keep, not args.no_ema)
    except (CheckpointError, backend.BackendError, ValueError) as e:
        print(f"minigan.sample: error: {with_flags(str(e))}", file=sys.stderr)
        return 2
    if args.npy:
        np.save(args.npy, x)
        print(f"wrote {args.npy}: {x.shape} {x.dtype}")
    out = args.out or (None if args.npy else str(Path(args.run) / "sample.png"))
    if out:
        if x.ndim == 2 and x.shape[1] == 2:
            from minigan.data import modes, sample

            name = Run.load_config(args.run)["dataset"]
            real = sample(name, args.n, np.random.default_rng(args.seed + 1))
            plots.plot_samples_2d(real, x, out, modes=modes(name)[0], title=f"{args.n} samples from {args.run}")
        else:
            plots.save_grid(x, out)
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
