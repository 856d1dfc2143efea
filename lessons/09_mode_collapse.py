GOALS = """After this lesson you can:
- show that min max ≠ max min for f(x, y) = x·y when each player picks a pure strategy x, y ∈ {-1, +1},
  and say why "G moves second" (max_D min_G) invites mode collapse;
- run simultaneous and alternating gradient play on f(x, y) = x·y (gradients by minigan.grad), measure the
  outward spiral's growth per step against √(1 + η²), and see alternating play circle the saddle (0, 0)
  instead of converging;
- train a GAN on grid25, count the modes it covers with metrics.toy_quality, and give G the second move
  (G steps against a frozen D) to watch its samples pile up where D rates highest.
"""

# %% [markdown]
# # Lesson 09: mode collapse
#
# The GAN objective is a *game*, min_G max_D V(D, G), not a loss to minimise. Games have two
# traps that plain minimisation does not: the order of min and max matters, and gradient play
# need not converge even when an equilibrium exists. Both show up as mode collapse.

# %%
import copy

import numpy as np
from _common import check, done, lesson_setup, out_dir, pause, show
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import minigan
from minigan import data, optim
from minigan.gan import GAN, models, plots
from minigan.measure import metrics

args = lesson_setup(9, "Mode collapse", GOALS,
                    exercises=["sigmoid", "linear-backward", "adam", "d-step", "g-step"])
OUT = out_dir(9)
GAME_STEPS = 150 if args.quick else 400
GAN_STEPS = 1500 if args.quick else 6000
BATCH = 128 if args.quick else 256
N_EVAL = 2500
SNAP_STEP = 375  # early in training: the pair the last section gives G the second move against
G_ALONE_STEPS = 300  # G's steps against that frozen D
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
# point D rates most real: mode collapse. (Goodfellow's NIPS 2016 tutorial makes this argument:
# with the order exchanged, G's minimisation is the inner loop, and G is asked to send every z to
# the one x that D believes most real.) Gradient training alternates small steps and never fixes
# the order, so it does not clearly favour min max over max min: it can drift towards either; the
# last section gives G the second move on purpose. With mixed strategies (play +1 with some
# probability; the expected move is then any x, y ∈ [-1, 1]) the two orders agree at the saddle
# (0, 0), f = 0, but as the next cell shows, gradient play does not find that saddle.

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
cont_min_max, cont_max_min = cont.max(axis=1).min(), cont.min(axis=0).max()
print(f"  on x, y in [-1, 1]: min max = {cont_min_max:+.3f}, max min = {cont_max_min:+.3f} "
      "(a saddle point at (0, 0))")
check(min_max > max_min, "with pure strategies the order matters: min_x max_y f > max_y min_x f (the player "
      "who moves second wins)", f"min max {min_max:+.0f}, max min {max_min:+.0f}")
check(abs(cont_min_max) < 1e-12 and abs(cont_max_min) < 1e-12, "on x, y in [-1, 1] both orders give f = 0, "
      "the value at the saddle (0, 0)", f"min max {cont_min_max:+.3g}, max min {cont_max_min:+.3g}")
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
radius = {}
for name, p in paths.items():
    r = radius[name] = np.hypot(p[:, 0], p[:, 1])
    print(f"{name:12s}: distance to (0, 0) at step 0 {r[0]:.3f}, step {GAME_STEPS // 2} {r[GAME_STEPS // 2]:.3f}, "
          f"step {GAME_STEPS} {r[-1]:.3f}  (min {r.min():.3f})")

growth = radius["simultaneous"][1:] / radius["simultaneous"][:-1]  # the factor of each step
predicted = np.sqrt(1 + ETA**2)
print(f"simultaneous: growth per step {growth.min():.6f} .. {growth.max():.6f}, predicted sqrt(1 + eta^2) = "
      f"{predicted:.6f}; over {GAME_STEPS} steps {radius['simultaneous'][-1] / radius['simultaneous'][0]:.3f}, "
      f"predicted {predicted ** GAME_STEPS:.3f}")
check(np.abs(growth / predicted - 1).max() < 1e-5, "simultaneous play spirals out: every step multiplies the "
      "distance to (0, 0) by sqrt(1 + eta^2)", f"measured {growth.min():.6f} .. {growth.max():.6f}, "
      f"predicted {predicted:.6f}")

alt = paths["alternating"]
conserved = alt[:, 0] ** 2 + alt[:, 1] ** 2 - ETA * alt[:, 0] * alt[:, 1]
# On the ellipse x² + y² − η x y = c the distance r lies in [sqrt(c / (1 + η/2)), sqrt(c / (1 − η/2))]
# (the quadratic form's eigenvalues are 1 ± η/2).
r_lo, r_hi = np.sqrt(conserved[0] / (1 + ETA / 2)), np.sqrt(conserved[0] / (1 - ETA / 2))
turns = np.unwrap(np.arctan2(alt[:, 1], alt[:, 0]))
turns = abs(turns[-1] - turns[0]) / (2 * np.pi)
r_alt = radius["alternating"]
print(f"alternating: x² + y² − η x y from {conserved[0]:.6f}, largest relative change "
      f"{np.abs(conserved / conserved[0] - 1).max():.1e}; distance in [{r_alt.min():.4f}, {r_alt.max():.4f}], "
      f"the ellipse allows [{r_lo:.4f}, {r_hi:.4f}]; {turns:.2f} turns round (0, 0)")
check(np.abs(conserved / conserved[0] - 1).max() < 1e-4 and r_lo - 1e-4 <= r_alt.min()
      and r_alt.max() <= r_hi + 1e-4 and turns >= 1,
      "alternating play keeps x² + y² − η x y constant: it circles (0, 0) on an ellipse, bounded and not converging",
      f"largest relative change {np.abs(conserved / conserved[0] - 1).max():.1e}, distance "
      f"{r_alt.min():.4f} .. {r_alt.max():.4f} within [{r_lo:.4f}, {r_hi:.4f}], {turns:.2f} turns")

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
# (within 3σ of some mode). The real data covers all 25 and puts 1 − e^(−4.5) ≈ 98.9% of its points
# within 3σ. The reverse KL compares G's share of high-quality samples per mode with the data's
# uniform 1/25: 0 for even shares, log 25 ≈ 3.22 when everything sits on one mode. Count the modes at
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
    if step == SNAP_STEP:
        snapshot = copy.deepcopy(gan)  # kept for the last section: G and D as they were at this step
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
print(f"Measured: after {GAN_STEPS} steps G covers {q['modes_covered']:.0f} of 25 modes, "
      f"{missing} dropped although the real data fills all of them.")
check(q["modes_covered"] < q["n_modes"], "the GAN on grid25 misses modes: at the last checkpoint G covers fewer "
      "than 25", f"{q['modes_covered']}/{q['n_modes']} covered by G, {q_real['modes_covered']}/{q_real['n_modes']} "
      "by real samples")
check(q["reverse_kl"] > 10 * q_real["reverse_kl"] + 0.1, "G's high-quality samples spread unevenly over the "
      "modes: reverse KL well above the real samples'", f"G {q['reverse_kl']:.3f}, real {q_real['reverse_kl']:.3f}, "
      f"one mode only: log 25 = {np.log(25):.2f}")
pause()

# %% [markdown]
# ## Give G the second move
#
# The first section's argument, run for real: take G and D as they were early in training, while
# D's map is still smooth (the step is printed below), freeze D, and let G alone take steps against
# it (`g_step`, which never moves D). That is the inner "min over G for a fixed D". G's exact best
# reply would put every sample on argmax_x D(x); its gradient steps carry each sample uphill on D's
# map, so the samples pile up on the few places D rates highest. Count where they are: every sample
# belongs to the cell of its nearest mode (the 25 cells tile the plane), and a cell is *in use* when
# it holds at least 1% of the samples (the data: each of the 25 holds about 4%).

# %%
def cells_in_use(points: np.ndarray) -> int:
    """Cells of the nearest mode holding at least 1% of the points."""
    nearest = ((points[:, None, :] - centers[None, :, :]) ** 2).sum(-1).argmin(1)
    return int((np.bincount(nearest, minlength=len(centers)) >= 0.01 * len(points)).sum())


before = snapshot.generate(z_eval).numpy()
for _ in range(G_ALONE_STEPS):
    snapshot.g_step(BATCH)  # D stays as it was: G answers a fixed D
after = snapshot.generate(z_eval).numpy()
in_use = {"data": cells_in_use(real_show), "before": cells_in_use(before), "after": cells_in_use(after)}
d_mean = {name: snapshot.d_probability(minigan.tensor(pts)).numpy().mean()
          for name, pts in (("before", before), ("after", after))}
q_before, q_after = metrics.toy_quality(before, "grid25"), metrics.toy_quality(after, "grid25")
print(f"G and D from step {SNAP_STEP}; G alone for {G_ALONE_STEPS} steps against the frozen D:")
print(f"  cells in use (>= 1% of samples): data {in_use['data']}, G before {in_use['before']}, "
      f"G after {in_use['after']}")
print(f"  modes covered {q_before['modes_covered']} -> {q_after['modes_covered']}; "
      f"mean D(G(z)) {d_mean['before']:.3f} -> {d_mean['after']:.3f} (G climbs D's map)")
check(in_use["after"] <= in_use["before"] / 3, "given the second move against a frozen D, G piles its samples up: "
      "at most a third as many cells in use as before", f"cells in use {in_use['before']} -> {in_use['after']}")

lim = max(5.5, 1.1 * float(np.percentile(np.abs(np.concatenate([before, after])), 99)))
ticks = np.linspace(-lim, lim, 120)
gx, gy = np.meshgrid(ticks, ticks)
field = snapshot.d_probability(minigan.tensor(np.stack([gx.ravel(), gy.ravel()], 1).astype(np.float32)))
field = field.numpy().reshape(gx.shape)
fig = Figure(figsize=(10, 4.8), dpi=100, layout="constrained")
FigureCanvasAgg(fig)
for ax, (name, pts) in zip(fig.subplots(1, 2), (("before", before), ("after", after))):
    im = ax.imshow(field, origin="lower", extent=(-lim, lim, -lim, lim), cmap=plots.FIELD_CMAP, vmin=0, vmax=1,
                   alpha=0.6, interpolation="bilinear")
    ax.scatter(pts[:, 0], pts[:, 1], s=4, color=plots.FAKE_COLOR, alpha=0.6, label="G's samples")
    ax.scatter(centers[:, 0], centers[:, 1], marker="x", s=30, color="black", linewidths=1.2, label="modes")
    steps_note = "" if name == "before" else f" + {G_ALONE_STEPS} G steps alone"
    cells = "1 cell" if in_use[name] == 1 else f"{in_use[name]} cells"
    ax.set_title(f"step {SNAP_STEP}{steps_note}: {cells} in use", fontsize=10)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.legend(loc="upper right", fontsize=8, framealpha=0.85)
fig.colorbar(im, ax=fig.axes, label="frozen D(x) = P(real)", shrink=0.85)
show(fig, OUT / "g_moves_second.png")
pause()

# %% [markdown]
# **Question 9.1.** Simultaneous play grows the distance by √(1 + η²) per step. Does a smaller step η
# make it converge?
#
# BEGIN ANSWER
# No. √(1 + η²) ≈ 1 + η²/2 per step, but going once round takes about 2π/η steps, so one turn multiplies
# the distance by about e^(πη): smaller η spirals out more slowly, never in. In the limit η → 0 (gradient
# flow, dx/dt = −y, dy/dt = x) the point circles at a constant distance. Neither reaches (0, 0): the
# gradient field of x·y rotates around the saddle instead of pointing at it.
# END ANSWER
#
# **Question 9.2.** With D frozen, G's exact best reply is a single point, argmax_x D(x). Why need G's
# gradient steps not end in one point, and what would the next D steps do to the pile?
#
# BEGIN ANSWER
# Gradient steps are local: each sample climbs D's map from where it starts, so samples that start on
# different slopes end on different hills (and a smooth G moves nearby z together). Once D trains again
# it sees many fakes on the pile and lowers D there; the highest place moves, G's mass follows it to
# another mode, and so on: the modes hop instead of settling (lesson 14 watches this and a fix).
# END ANSWER

# %%
done("min max and max min differ, gradient play spirals out or circles, and G drops modes on grid25 and piles "
     "up when it moves second.")
