GOALS = """After this lesson you can:
- run the full alternating game (GAN.train_step: a D step, then a G step) on ring8;
- read GAN Lab's picture: D's heatmap with real and generated points, frame by frame
  (plots.field_frame, plots.save_gif);
- measure the bridges a continuous G draws between the modes (data.modes, metrics.toy_quality)
  and show that D keeps rejecting them;
- explain, with lesson 05's D* = p_data / (p_data + p_g), why D(x) stays above 1/2 and D(G(z)) below,
  and say what "converged" can and cannot mean for a GAN (plots.plot_losses, plots.plot_d_outputs).
"""

# %% [markdown]
# # Lesson 08: the alternating game on 2-D data
#
# Lessons 06 and 07 were the two halves; `GAN.train_step` plays them in turn, forever:
# D learns where G's points are, G moves them to where D says "real", D learns again. At the
# game's equilibrium p_g = p_data, D* = 1/2 everywhere (lesson 05) and neither can improve.
# This lesson plays the game on ring8 and asks whether it gets there: what the pictures show,
# what D's outputs show, and why the answer for this G is "no, and it cannot".

# %%
import copy

import numpy as np
from _common import check, done, lesson_setup, out_dir, pause, show
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Circle

import minigan
from minigan import data, optim
from minigan.gan import GAN, models, plots
from minigan.measure import metrics

args = lesson_setup(8, "The alternating game on 2-D data", GOALS,
                    exercises=["sigmoid", "linear-backward", "adam", "d-step", "g-step"])
OUT = out_dir(8)
STEPS = 2000 if args.quick else 4000
BATCH = 128 if args.quick else 256
RES = 60 if args.quick else 150
N_FRAMES = 8 if args.quick else 20
N_EVAL = 2500  # PacGAN's number of samples for metrics.toy_quality
D_ALONE_STEPS = 500  # the test at the end: D plays on alone against the final, frozen G
rng = np.random.default_rng(args.seed)

# %%
centers, std = data.modes("ring8")
G, D = models.mlp((2,), z_dim=2, hidden=64)
opt_g = optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999))
opt_d = optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999))
gan = GAN(G, D, opt_g, opt_d, loss="nonsaturating")


def real_batches():
    while True:
        yield data.sample("ring8", BATCH, rng)


def d_fn(points: np.ndarray) -> np.ndarray:
    return gan.d_probability(minigan.tensor(points)).numpy().ravel()


extent = (-1.8, 1.8, -1.8, 1.8)
z_fixed = gan.sample_z(400)
real_show = data.sample("ring8", 400, rng)
print(f"{STEPS} steps of train_step, batch {BATCH}, {N_FRAMES} frames")
pause()

# %% [markdown]
# ## Play the game, taking a picture now and then
#
# The same z for every frame, so a point's motion is G's doing. Frames are collected with
# `plots.field_frame` into a GIF; a few are also saved as PNGs.

# %%
frame_steps = sorted({int(s) for s in np.linspace(0, STEPS, N_FRAMES)})
png_steps = {frame_steps[0]: "start", frame_steps[len(frame_steps) // 3]: "early",
             frame_steps[2 * len(frame_steps) // 3]: "middle", STEPS: "end"}
frames, hist = [], {"step": [], "d_loss": [], "g_loss": [], "d_real": [], "d_fake": []}
batches = real_batches()
for step in range(STEPS + 1):
    if step in frame_steps:
        fake = gan.generate(z_fixed).numpy()
        frames.append(plots.field_frame(real_show, fake, d_fn, step=step, extent=extent, resolution=RES,
                                        modes=centers))
        if step in png_steps:
            path = plots.plot_2d_field(real_show, fake, d_fn, OUT / f"field_{png_steps[step]}.png", step=step,
                                       extent=extent, resolution=RES, modes=centers)
            show(path)
    if step == STEPS:
        break
    out = gan.train_step(batches)
    for key in hist:
        hist[key].append(step if key == "step" else out[key])
    if step % (STEPS // 5) == 0:
        print(f"  step {step:5d}  d_loss {out['d_loss']:.3f}  g_loss {out['g_loss']:.3f}  "
              f"D(x) {out['d_real']:.3f}  D(G(z)) {out['d_fake']:.3f}")
path = plots.save_gif(frames, OUT / "game.gif", fps=3)
print(f"wrote {path} ({len(frames)} frames)")
pause()

# %% [markdown]
# ## The bridges between the modes
#
# Look at the last frame: G's points do not sit in 8 separate clusters, they lie on one curve
# that runs from mode to mode. That is not a failure of this run but a property of G: G is a
# continuous function and z ~ N(0, I) fills the whole (connected) plane, so G's image is
# connected too. To reach two modes it must also reach the points between them, and by
# continuity a small disc of z around any such point lands there as well: a positive share of
# the samples falls on the *bridges*. G can make the bridges thin (steep), never absent.
#
# Measure it on fresh samples, with the modes' centres and their std σ from `data.modes`:
#
# - **on a mode**: within 3σ of its nearest centre (PacGAN's "high quality", as `metrics.toy_quality`
#   counts it; the data puts 1 − e^(−4.5) ≈ 98.9% of its points there);
# - **on a bridge**: farther than 10σ from every centre (neighbouring centres are 2 sin(π/8) ≈ 0.77 apart,
#   so that is well out of any mode; the data's density there is below e^(−50) of its peak);
# - in between: the skirts of a mode.

# %%
z_eval = gan.sample_z(N_EVAL)
real_eval = data.sample("ring8", N_EVAL, rng)
fake_eval = gan.generate(z_eval).numpy()
q = metrics.toy_quality(fake_eval, "ring8")
dist = np.sqrt(((fake_eval[:, None, :] - centers[None, :, :]) ** 2).sum(-1))  # (N, K) to each centre
nearest = dist.min(1)
ON, BRIDGE = 3 * std, 10 * std
on_mode, bridge = nearest <= ON, nearest > BRIDGE
reach = dist.min(0)  # per mode: how close G's nearest sample comes
print(f"{N_EVAL} samples of the final G:")
print(f"  on a mode (<= 3σ = {ON:.2f}):   {on_mode.mean():6.1%}   (toy_quality's high-quality share "
      f"{q['high_quality']:.1%})")
print(f"  on a bridge (> 10σ = {BRIDGE:.2f}): {bridge.mean():6.1%}")
print(f"  in between:                {1 - on_mode.mean() - bridge.mean():6.1%}")
print(f"  modes covered (toy_quality, a sample within 3σ): {q['modes_covered']}/{q['n_modes']}; "
      f"the farthest a mode is from G's nearest sample: {reach.max():.3f}")
check(reach.max() <= BRIDGE, "no mode is left out: every mode has one of G's samples within 10σ of its centre",
      f"largest distance from a centre to G's nearest sample {reach.max():.3f} vs 10σ = {BRIDGE:.2f}")
check(q["modes_covered"] == q["n_modes"], "G covers all 8 modes by toy_quality's count (a sample within 3σ of each)",
      f"modes covered {q['modes_covered']}/{q['n_modes']}", full_only=True)
check(bridge.mean() > 0.05, "more than 5% of G's samples lie on the bridges, farther than 10σ from every mode",
      f"{bridge.mean():.1%} on bridges")
pause()

# %% [markdown]
# ## Why D(x) stays above 1/2 here
#
# Lesson 05: for a fixed G the best discriminator is D*(x) = p_data(x) / (p_data(x) + p_g(x)).
# Against this G:
#
# - on a bridge, p_data ≈ 0 and p_g > 0, so D* ≈ 0: the best D rejects the bridge points;
# - on the modes G has, on average, less mass than the data (part of it went to the bridges), so D* > 1/2 there.
#
# Averaged over the data it is always so when p_g ≠ p_data. By Cauchy–Schwarz,
# (∫ p_data)² ≤ ∫ p_data² / (p_data + p_g) · ∫ (p_data + p_g), that is
#
#     E_x~p_data[D*(x)] = ∫ p_data² / (p_data + p_g) ≥ 1/2,   and likewise   E_z[D*(G(z))] ≤ 1/2,
#
# with equality only when p_g = p_data. So mean D(x) = mean D(G(z)) = 1/2 is what the equilibrium gives,
# and a G that must keep some mass on the bridges does not give it: D can keep rejecting the bridge
# points, and that is enough to hold D(x) above 1/2 and D(G(z)) below. Compare the trained D on the three
# groups of G's samples and on real points.

# %%
d_real_eval, d_fake_eval = d_fn(real_eval), d_fn(fake_eval)
d_on, d_bridge = d_fake_eval[on_mode].mean(), d_fake_eval[bridge].mean()
between = ~on_mode & ~bridge
print(f"mean D on real points:               {d_real_eval.mean():.3f}")
print(f"mean D on G's samples on a mode:     {d_on:.3f}   ({on_mode.sum()} samples)")
print(f"mean D on G's samples in between:    {d_fake_eval[between].mean():.3f}   ({between.sum()} samples)")
print(f"mean D on G's samples on a bridge:   {d_bridge:.3f}   ({bridge.sum()} samples)")
data_on = 1 - np.exp(-4.5)  # a 2-D Gaussian's mass within 3σ of its centre
print(f"mass within 3σ of a mode: data {data_on:.1%}, G {on_mode.mean():.1%}: on average over the modes "
      + ("p_g < p_data, so D* > 1/2 there" if on_mode.mean() < data_on else "p_g >= p_data, so D* <= 1/2 there"))
h = {k: np.array(v) for k, v in hist.items()}
tail = slice(len(h["step"]) * 3 // 4, None)
tail_real, tail_fake = h["d_real"][tail].mean(), h["d_fake"][tail].mean()
check(tail_real > 0.5 > tail_fake, "in the last quarter of training mean D(x) stays above 1/2 and mean D(G(z)) "
      "below", f"D(x) {tail_real:.3f}, D(G(z)) {tail_fake:.3f}")
check(d_bridge < d_on - 0.1, "D scores G's bridge samples lower than G's on-mode samples (by more than 0.1)",
      f"bridge {d_bridge:.3f}, on a mode {d_on:.3f}")
check(abs(d_on - d_real_eval.mean()) < abs(d_on - d_bridge), "D scores G's on-mode samples nearer to real points "
      "than to G's bridge samples: it separates the two mostly by the bridges",
      f"G on a mode {d_on:.3f}, real {d_real_eval.mean():.3f}, G on a bridge {d_bridge:.3f}")

fig = Figure(figsize=(11, 4.6), dpi=100, layout="constrained")
FigureCanvasAgg(fig)
ax_map, ax_d = fig.subplots(1, 2, width_ratios=[1, 1.25])
order = np.argsort(-d_fake_eval)  # the most rejected points drawn last, on top
sc = ax_map.scatter(fake_eval[order, 0], fake_eval[order, 1], c=d_fake_eval[order], cmap=plots.FIELD_CMAP,
                    vmin=0, vmax=1, s=8, linewidths=0.2, edgecolors="0.3")
for c in centers:
    ax_map.add_patch(Circle(c, BRIDGE, fill=False, color="black", linewidth=0.8, linestyle="--"))
ax_map.scatter(centers[:, 0], centers[:, 1], marker="x", s=40, color="black", linewidths=1.5)
fig.colorbar(sc, ax=ax_map, label="D(G(z)) = P(real)", shrink=0.85)
ax_map.set_xlim(-1.5, 1.5)
ax_map.set_ylim(-1.5, 1.5)
ax_map.set_aspect("equal")
ax_map.set_title(f"G's samples coloured by D; dashed: 10σ around each mode\n"
                 f"{bridge.mean():.0%} on bridges, {on_mode.mean():.0%} on a mode (≤ 3σ)", fontsize=10)
ax_d.scatter(np.maximum(nearest, 1e-4), d_fake_eval, s=5, alpha=0.5, color=plots.FAKE_COLOR,
             label="G's samples")
ax_d.axhline(d_real_eval.mean(), color=plots.REAL_COLOR, linewidth=2,
             label=f"mean D on real points ({d_real_eval.mean():.2f})")
ax_d.axhline(0.5, color="0.3", linestyle=":", linewidth=1.2, label="1/2 (D* at the equilibrium)")
ax_d.axvline(ON, color="black", linestyle="--", linewidth=1)
ax_d.axvline(BRIDGE, color="black", linestyle="--", linewidth=1)
ax_d.text(ON, 1.02, " 3σ", fontsize=8, va="bottom")
ax_d.text(BRIDGE, 1.02, " 10σ", fontsize=8, va="bottom")
ax_d.set_xscale("log")
ax_d.set_ylim(0, 1.08)
ax_d.set_xlabel("distance from G's sample to the nearest mode")
ax_d.set_ylabel("D(G(z))")
ax_d.set_title(f"D against distance: on a mode {d_on:.2f}, on a bridge {d_bridge:.2f} (means)", fontsize=10)
ax_d.legend(loc="lower left", fontsize=8)
ax_d.grid(True, alpha=0.3)
show(fig, OUT / "bridges.png")
pause()

# %% [markdown]
# ## What "converged" can and cannot mean
#
# GAN convergence is hard to identify. In ordinary training the loss goes down; here each loss is
# measured against the *other* player, who keeps changing: when G improves, D's loss goes up; when D
# improves, G's loss goes up. A falling d_loss says D is winning *against the current G*, not that
# anything is converging. At the equilibrium the losses would sit at d_loss = 2 log 2 ≈ 1.386 and
# g_loss = log 2 ≈ 0.693, with D(x) = D(G(z)) = 1/2 — but losses near those values can equally mean
# "both are bad", and this G cannot reach that point at all.
#
# What can be checked instead: whether the samples *look* right (every mode reached, above), whether
# D still separates them from the data (by the bridges, above), and whether the pair is at an
# equilibrium, where neither player can gain by moving alone. Test that last one directly: freeze G,
# let D play on alone for a few hundred steps, and see whether its loss on fixed samples still falls.

# %%
print(f"last quarter: mean d_loss {h['d_loss'][tail].mean():.3f} (equilibrium 2 log 2 = {2 * np.log(2):.3f}), "
      f"mean g_loss {h['g_loss'][tail].mean():.3f} (log 2 = {np.log(2):.3f})")
start = slice(None, len(h["step"]) // 20)
print(f"first 5% of the steps: mean d_loss {h['d_loss'][start].mean():.3f}, "
      f"mean g_loss {h['g_loss'][start].mean():.3f}")
check(h["d_loss"][tail].mean() < 2 * np.log(2), "d_loss in the last quarter is below 2 log 2: D wins against the "
      "current G", f"last quarter {h['d_loss'][tail].mean():.3f}, first 5% {h['d_loss'][start].mean():.3f}, "
      f"2 log 2 = {2 * np.log(2):.3f}")


def eval_d_loss(g: GAN) -> float:
    """-mean log D(x) - mean log(1 - D(G(z))) on the fixed evaluation samples: d_loss without batch noise."""
    p_real = g.d_probability(minigan.tensor(real_eval)).numpy().ravel()
    p_fake = g.d_probability(minigan.tensor(fake_eval)).numpy().ravel()
    return float(-np.log(np.clip(p_real, 1e-7, 1)).mean() - np.log(np.clip(1 - p_fake, 1e-7, 1)).mean())


alone = copy.deepcopy(gan)  # a copy: the trained pair stays as it is
before = eval_d_loss(alone)
for _ in range(D_ALONE_STEPS):
    alone.d_step(next(batches))  # d_step never moves G
after = eval_d_loss(alone)
p_bridge_after = alone.d_probability(minigan.tensor(fake_eval[bridge])).numpy().mean()
print(f"D alone, {D_ALONE_STEPS} steps against the frozen G: d_loss on the fixed samples {before:.3f} -> {after:.3f}; "
      f"mean D on the bridge samples {d_bridge:.3f} -> {p_bridge_after:.3f}")
check(after < before - 0.01, "with G frozen, D alone still lowers its loss: the pair is not at an equilibrium",
      f"d_loss {before:.3f} -> {after:.3f}")

path = plots.plot_losses(h["step"], h["d_loss"], h["g_loss"], OUT / "losses.png")
show(path)
path = plots.plot_d_outputs(h["step"], h["d_real"], h["d_fake"], OUT / "d_outputs.png",
                            title="mean D(x) and D(G(z)) against the equilibrium's 1/2")
show(path)
pause()

# %% [markdown]
# **Question 8.1.** D's loss falls and G's rises over the run: is training going well?
#
# BEGIN ANSWER
# It cannot be read off the losses. Each is measured against a moving opponent: a falling d_loss says
# D beats the *current* G, which may be because G got worse or because D found something G cannot
# fix. Here it is the second: G reaches every mode, but a continuous G must keep some mass on the
# bridges, D learns to reject them (D* = 0 where p_data = 0), and so D(x) stays above 1/2, D(G(z))
# below, and d_loss below 2 log 2. Judge the game by the samples and by measurements on them
# (modes covered, the share off the modes), not by a loss going down.
# END ANSWER
#
# **Question 8.2.** Suppose z were drawn from 8 separate pieces (say k uniform in {1..8} and a small
# Gaussian around a point c_k in z-space, far apart). Could the bridges disappear, and what would
# D(x) and D(G(z)) do then?
#
# BEGIN ANSWER
# Yes in principle: G's image need no longer be connected, so G can send each piece of z to one mode
# and put no mass between them (up to the pieces' far tails). Then p_g = p_data is within G's reach,
# D* = 1/2 everywhere and both mean outputs could approach 1/2. (G must still learn to split z at
# the right places; with a connected z the argument above says the bridges cannot vanish, whatever
# the training.)
# END ANSWER

# %%
done("the game moves G's points onto one curve through the modes; D keeps rejecting its bridges, "
     "so with this G, D(x) and D(G(z)) do not settle at 1/2.")
