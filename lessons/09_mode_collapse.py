GOALS = """After this lesson you can:
- show that min max ≠ max min for f(x, y) = x·y when each player picks a pure strategy x, y ∈ {-1, +1},
  and say why "G moves second" (max_D min_G) invites mode collapse;
- run simultaneous and alternating gradient play on f(x, y) = x·y (gradients by minigan.grad) and see it
  spiral out or circle around the saddle (0, 0) instead of converging;
- train a GAN on grid25 and count the modes it covers with metrics.toy_quality.
"""

# %% [markdown]
# # Lesson 09: mode collapse
#
# The GAN objective is a *game*, min_G max_D V(D, G), not a loss to minimise. Games have two
# traps that plain minimisation does not: the order of min and max matters, and gradient play
# need not converge even when an equilibrium exists. Both show up as mode collapse.

# %%
import numpy as np
from _common import done, lesson_setup, out_dir, pause, show
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import minigan
from minigan import data, metrics, models, optim, plots
from minigan.gan import GAN

args = lesson_setup(9, "Mode collapse", GOALS)
OUT = out_dir(9)
GAME_STEPS = 150 if args.quick else 400
GAN_STEPS = 1500 if args.quick else 6000
BATCH = 128 if args.quick else 256
N_EVAL = 2500
rng = np.random.default_rng(args.seed)

# %% [markdown]
# ## min max ≠ max min
#
# Take f(x, y) = x·y; x wants it small, y wants it large, and each picks -1 or +1.
#
# - min_x max_y f: x commits first; whatever x picks, y answers with the same sign: f = +1.
# - max_y min_x f: y commits first; x answers with the opposite sign: f = -1.
#
# The player who moves second wins. In a GAN, min_G max_D has D answer G; the reversed order
# max_D min_G lets G answer a fixed D, and G's best answer is to put *all* its mass on the one
# point D rates most real: mode collapse. Gradient training alternates small steps and never
# fixes the order, so it can drift towards either. (With mixed strategies, x, y ∈ [-1, 1],
# the two orders agree at the saddle (0, 0), f = 0, but as the next cell shows, gradient play
# does not find that saddle.)

# %%
choices = np.array([-1.0, 1.0])
table = np.outer(choices, choices)  # table[i, j] = x_i * y_j
min_max = table.max(axis=1).min()   # x first: min over x of (max over y)
max_min = table.min(axis=0).max()   # y first: max over y of (min over x)
print("f(x, y) = x*y, x, y in {-1, +1}:")
print(f"  min_x max_y f = {min_max:+.0f}   (x moves first, y answers)")
print(f"  max_y min_x f = {max_min:+.0f}   (y moves first, x answers)")
grid = np.linspace(-1, 1, 201)
cont = np.outer(grid, grid)
print(f"  on x, y in [-1, 1]: min max = {cont.max(axis=1).min():+.3f}, max min = {cont.min(axis=0).max():+.3f} "
      "(a saddle point at (0, 0))")
pause()

# %% [markdown]
# ## Gradient play circles instead of converging
#
# x descends ∂f/∂x = y, y ascends ∂f/∂y = x, both with step η. The gradients come from
# minigan's autograd (`minigan.grad`).
#
# - **Simultaneous** steps (x, y) ← (x − η y, y + η x) multiply the distance to (0, 0) by
#   √(1 + η²) every step: an outward spiral.
# - **Alternating** steps (x first, then y using the new x, as `GAN.train_step` does) keep
#   x² + y² − η x y constant: the point goes round an ellipse forever.
#
# Neither reaches the equilibrium (0, 0).

# %%
ETA = 0.1


def grads(x: float, y: float) -> tuple[float, float]:
    tx = minigan.tensor(x, requires_grad=True)
    ty = minigan.tensor(y, requires_grad=True)
    gx, gy = minigan.grad(tx * ty, [tx, ty])
    return gx.item(), gy.item()


def play(alternating: bool) -> np.ndarray:
    x, y = 1.0, 0.0
    path = [(x, y)]
    for _ in range(GAME_STEPS):
        gx, gy = grads(x, y)
        x_new = x - ETA * gx
        if alternating:
            gy = grads(x_new, y)[1]  # y sees x's move before answering
        y = y + ETA * gy
        x = x_new
        path.append((x, y))
    return np.array(path)


paths = {"simultaneous": play(False), "alternating": play(True)}
for name, p in paths.items():
    r = np.hypot(p[:, 0], p[:, 1])
    print(f"{name:12s}: distance to (0, 0) at step 0 {r[0]:.3f}, step {GAME_STEPS // 2} {r[GAME_STEPS // 2]:.3f}, "
          f"step {GAME_STEPS} {r[-1]:.3f}  (min {r.min():.3f})")
print(f"simultaneous: predicted growth sqrt(1 + eta^2)^{GAME_STEPS} = {(1 + ETA**2) ** (GAME_STEPS / 2):.3f}")

fig = Figure(figsize=(9, 4.4), dpi=100, layout="constrained")
FigureCanvasAgg(fig)
for ax, (name, p) in zip(fig.subplots(1, 2), paths.items()):
    ax.plot(p[:, 0], p[:, 1], lw=1, color="tab:blue")
    ax.plot(*p[0], "o", color="tab:green", label="start")
    ax.plot(*p[-1], "s", color="tab:red", label=f"step {GAME_STEPS}")
    ax.plot(0, 0, "k*", ms=12, label="equilibrium (0, 0)")
    ax.set_title(f"{name} gradient play on f = x·y (η = {ETA})")
    ax.set_xlabel("x (minimises)")
    ax.set_ylabel("y (maximises)")
    ax.set_aspect("equal")
    ax.legend(loc="lower right", fontsize=8)
path = OUT / "xy_game_trajectories.png"
show(fig, path)
pause()

# %% [markdown]
# ## A GAN on 25 modes
#
# `grid25` is 25 small Gaussians on a 5 × 5 grid. We train the MLP pair from lesson 08 with
# `train_step` and score G's samples with PacGAN's numbers (`metrics.toy_quality`): how many of
# the 25 modes get at least one sample nearby, and which fraction of samples is "high quality"
# (close to some mode). The real data scores 25 modes and a fraction near 1. Count the modes at
# several checkpoints: the count need not rise steadily, G can cover modes and then lose them.

# %%
centers, _ = data.modes("grid25")
G, D = models.mlp((2,), z_dim=2, hidden=128)
opt_g = optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999))
opt_d = optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999))
gan = GAN(G, D, opt_g, opt_d, loss="nonsaturating")


def real_batches():
    while True:
        yield data.sample("grid25", BATCH, rng)


z_eval = gan.sample_z(N_EVAL)
real_show = data.sample("grid25", N_EVAL, rng)
checkpoints = sorted({GAN_STEPS // 4, GAN_STEPS // 2, GAN_STEPS})
scores = {}
batches = real_batches()
print(f"{GAN_STEPS} steps of train_step, batch {BATCH}; scoring {N_EVAL} samples at steps {checkpoints}")
for step in range(1, GAN_STEPS + 1):
    gan.train_step(batches)
    if step in checkpoints:
        fake = gan.generate(z_eval).numpy()
        q = metrics.toy_quality(fake, "grid25")
        scores[step] = (q, fake)
        print(f"  step {step:5d}: modes covered {q['modes_covered']:.0f}/{q['n_modes']:.0f}, "
              f"high-quality fraction {q['high_quality']:.3f}, reverse KL {q['reverse_kl']:.3f}")

q_real = metrics.toy_quality(real_show, "grid25")
print(f"real samples, for reference: modes covered {q_real['modes_covered']:.0f}/{q_real['n_modes']:.0f}, "
      f"high-quality fraction {q_real['high_quality']:.3f}")
q, fake = scores[GAN_STEPS]
path = plots.plot_samples_2d(real_show, fake, OUT / "grid25_samples.png", modes=centers,
                             title=f"grid25 after {GAN_STEPS} steps: {q['modes_covered']:.0f}/25 modes, "
                                   f"{q['high_quality']:.0%} high quality",
                             extent=(-5, 5, -5, 5))
show(path)
missing = int(q["n_modes"] - q["modes_covered"])
if missing:
    print(f"Measured: after {GAN_STEPS} steps G covers {q['modes_covered']:.0f} of 25 modes; "
          f"{missing} are dropped although the real data fills all of them.")
else:
    print(f"Measured: after {GAN_STEPS} steps G covers all 25 modes in this run; "
          "no mode was dropped at this checkpoint (look at the earlier ones and at the picture).")
done("min max and max min differ, gradient play circles, and the GAN's mode count is measured above.")
