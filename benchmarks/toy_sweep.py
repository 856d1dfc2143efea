"""One 2-D GAN run with knobs the trainer does not expose, for the "settings tried" rows of QUALITY.md.

    python benchmarks/toy_sweep.py --dataset grid25 --steps 5000 --scale 2.83 --z-dim 2
    python benchmarks/toy_sweep.py --dataset grid25 --steps 15000 --scale 2.83 --drs 3000 --drs-quantile 99

The run is the trainer's toy recipe (MLP G and D, LeakyReLU 0.2, non-saturating loss,
Adam(1e-3, beta1 0.5), batch 512, learning rate decayed linearly to 0), built from
minigan's public pieces so that one knob at a time can move:

* ``--g-depth/--d-depth`` hidden layers, ``--width`` their size, ``--z-dim``;
* ``--scale s``: train on x / s and multiply G's samples by s (the data standardised:
  grid25's per-coordinate std is 2.83, ring8's 0.71);
* ``--d-lr``: D's learning rate when it should differ from G's (two time scales);
* ``--pack m``: PacGAN;
* ``--drs N``: discriminator rejection sampling (Azadi et al. 2019) after training: D is
  trained N more steps against the frozen G, so that D ~ p_data / (p_data + p_g), then a
  sample x is kept with probability min(1, exp(logit D(x) - M)), M the ``--drs-quantile``
  percentile of the logits of 20,000 samples (100 = their maximum, exact rejection sampling
  when D is optimal). Not used by the trainer: reported as a direction, not a result.

Prints one JSON line: the settings, toy_quality of 2,500 samples (modes, HQ %, reverse KL),
training wall and CPU seconds, and with --drs the same scores of the accepted samples.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import minigan
from minigan import data, nn, optim
from minigan.autograd import no_grad
from minigan.gan.models import Discriminator, Generator
from minigan.gan.trainer import GAN
from minigan.measure import metrics


def _mlp(n_in: int, width: int, n_out: int, depth: int) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.Linear(n_in, width), nn.LeakyReLU(0.2)]
    for _ in range(depth - 1):
        layers += [nn.Linear(width, width), nn.LeakyReLU(0.2)]
    return layers + [nn.Linear(width, n_out)]


def _scores(x: np.ndarray, dataset: str) -> dict[str, float]:
    q = metrics.toy_quality(x, dataset)
    return {"modes": q["modes_covered"], "hq": round(100 * q["high_quality"], 1), "rkl": round(q["reverse_kl"], 3)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    a = p.add_argument
    a("--dataset", choices=("ring8", "grid25"), default="grid25")
    a("--steps", type=int, default=5000)
    a("--batch-size", type=int, default=512)
    a("--lr", type=float, default=1e-3)
    a("--d-lr", type=float, default=None)
    a("--beta1", type=float, default=0.5)
    a("--width", type=int, default=256)
    a("--g-depth", type=int, default=2)
    a("--d-depth", type=int, default=2)
    a("--z-dim", type=int, default=64)
    a("--scale", type=float, default=1.0)
    a("--pack", type=int, default=1)
    a("--seed", type=int, default=0)
    a("--drs", type=int, default=0, help="extra D steps before rejection sampling (0: no DRS)")
    a("--drs-quantile", type=float, default=100.0)
    a("--save", default=None, help="write the samples to SAVE_raw.npy (and SAVE_drs.npy)")
    args = p.parse_args(argv)

    minigan.manual_seed(args.seed)
    G = Generator(nn.Sequential(*_mlp(args.z_dim, args.width, 2, args.g_depth)), args.z_dim, (2,))
    D = Discriminator(nn.Sequential(nn.Flatten(), *_mlp(2 * args.pack, args.width, 1, args.d_depth)), (2,), 0,
                      args.pack)
    d_lr = args.d_lr or args.lr
    opt_g = optim.Adam(G.parameters(), lr=args.lr, betas=(args.beta1, 0.999))
    opt_d = optim.Adam(D.parameters(), lr=d_lr, betas=(args.beta1, 0.999))
    gan = GAN(G, D, opt_g, opt_d)
    rng = np.random.default_rng(args.seed)
    train = data.sample(args.dataset, 100_000, rng) / args.scale

    def batches():
        while True:
            yield train[rng.integers(0, len(train), args.batch_size)]

    it = batches()
    t0, c0 = time.time(), time.process_time()
    for step in range(args.steps):
        left = 1 - step / args.steps  # linear decay to 0, as the trainer's --lr-decay linear
        opt_g.lr, opt_d.lr = args.lr * left, d_lr * left
        gan.train_step(it)
    out: dict = {**vars(args), "wall_s": round(time.time() - t0), "cpu_s": round(time.process_time() - c0)}
    x = np.asarray(gan.generate(gan.sample_z(2500)).data) * args.scale
    out.update(_scores(x, args.dataset))
    if args.save:
        np.save(f"{args.save}_raw.npy", x)
    if args.drs and args.pack == 1:
        opt_d.lr = 1e-4
        for _ in range(args.drs):
            gan.d_step(next(it))
        with no_grad():
            xc = gan.generate(gan.sample_z(20_000))
            D.eval()
            logits = np.asarray(D(xc).data).ravel()
        m = np.percentile(logits, args.drs_quantile)
        keep = rng.random(len(logits)) < np.exp(np.minimum(logits - m, 0.0))
        xs = np.asarray(xc.data)[keep][:2500] * args.scale
        out.update({f"drs_{k}": v for k, v in _scores(xs, args.dataset).items()},
                   drs_kept=int(keep.sum()), drs_scored=len(xs))
        if args.save:
            np.save(f"{args.save}_drs.npy", xs)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
