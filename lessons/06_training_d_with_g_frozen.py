GOALS = """After this lesson you can:
- write D's step by hand in three steps: (1) sample z, make G(z) with no graph into G, sample real x;
  (2) score both with D and compute its loss H(1, σ(D(x))) + H(0, σ(D(G(z)))); (3) backprop through D only
  and update D; and show that it equals GAN.d_step bit for bit;
- explain why G's weights cannot move in a D step, and show it: G's parameters are bit-identical
  after many d_steps (max |diff| = 0) while D's changed;
- read D's heatmap after the D steps as a map of G's current flaws, not of the data;
- say why Algorithm 1 trains D first and what k D steps per G step buy and cost, from a measured
  k = 1 vs k = 5 run on ring8 with the same number of G steps.
"""

# %% [markdown]
# # Lesson 06: training D while G is frozen
#
# Algorithm 1 of Goodfellow et al. (2014) alternates two updates. This lesson is the first one:
#
#     for k steps:  sample x ~ p_data and z ~ p_z;  update D by descending d_loss(D(x), D(G(z)))   (G fixed)
#     then once:    sample z ~ p_z;  update G by descending g_loss(D(G(z)))                         (D fixed)
#
# With lesson 01's binary cross-entropy H(y, p) = -(y log p + (1 - y) log(1 - p)), D's loss is
# "real is 1, fake is 0":
#
#     d_loss = mean_i H(1, σ(D(x_i))) + mean_j H(0, σ(D(G(z_j))))
#
# `GAN.d_step(real)` does exactly this. Inside, the fakes G(z) are computed under `no_grad()`:
# for D they are just data, a tensor with no graph back into G. So `loss.backward()` reaches
# D's weights and stops; G's weights get no gradient and G's optimizer is never stepped.
#
# ## Why D is trained first
#
# G never sees a real point. Everything it learns comes through D's opinion: its gradient is
# ∂ g_loss/∂θ_G = ∂ g_loss/∂D · ∇_x D(x) · ∂G(z)/∂θ_G at x = G(z). An untrained D is a random
# function of x; its slope ∇_x D carries no information about p_data, so a G step against it is a
# step in a random direction. Only after D has seen both real and fake points does ∇_x D point
# from G's points towards the data. Lesson 05 made this exact: for a fixed G the best D is
# D*(x) = p_data(x) / (p_data(x) + p_g(x)), and against D* the game's value is (Goodfellow et
# al.'s Theorem 1)
#
#     V(D*, G) = -log 4 + 2 JS(p_data ‖ p_g),
#
# so a G step (with the minimax loss) against D ≈ D* descends the Jensen-Shannon divergence.
# The non-saturating loss used here has the same fixed point; at D* its gradient is that of
# KL(p_g ‖ p_data) - 2 JS(p_data ‖ p_g) (Arjovsky & Bottou 2017), a different objective led by the
# reverse KL, which punishes implausible samples far more than missing modes. Either way the G
# step is only as good as D's approximation of D*.
#
# k is the number of D steps per G step. More D steps bring D closer to D* for the current G
# (G has moved only a little since the last round, so D mostly has to track it) and give G a
# better-informed gradient, at k times the cost of D's part of each round. Goodfellow et al.
# used k = 1, the cheapest choice, in their experiments; WGAN's critic takes 5 (lesson 13). The
# last part of this lesson measures k = 1 against k = 5.

# %%
import copy
import time

import numpy as np
from _common import check, done, lesson_setup, out_dir, pause, show
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import minigan
from minigan import data, optim
from minigan.gan import GAN, losses, models, plots
from minigan.measure import metrics

args = lesson_setup(6, "Training D while G is frozen", GOALS,
                    exercises=["sigmoid", "linear-backward", "adam", "d-step", "g-step"])
OUT = out_dir(6)
D_STEPS = 200 if args.quick else 1000
BATCH = 128 if args.quick else 256
RES = 80 if args.quick else 200
K_G_STEPS = 300 if args.quick else 3000  # G steps of each run in the k = 1 vs k = 5 comparison
rng = np.random.default_rng(args.seed)

# %% [markdown]
# ## The two players and the trainer
#
# `models.mlp((2,))` gives the pair for 2-D points: G maps z (N, z_dim) to points (N, 2), D maps
# points to one logit (N, 1). `GAN` holds both with their optimizers.

# %%
centers, _ = data.modes("ring8")


def make_gan(d_steps: int = 1) -> GAN:
    """A fresh MLP pair for ring8 with its two Adam optimizers."""
    G, D = models.mlp((2,), z_dim=2, hidden=64)
    opt_g = optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999))
    opt_d = optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999))
    return GAN(G, D, opt_g, opt_d, loss="nonsaturating", d_steps=d_steps)


gan = make_gan()
G, D, opt_d = gan.G, gan.D, gan.opt_d
print(f"G: {sum(p.numel() for p in G.parameters())} parameters, D: {sum(p.numel() for p in D.parameters())} parameters")


def snapshot(module: minigan.nn.Module) -> list[np.ndarray]:
    """Host copies of every parameter, to compare with later."""
    return [p.numpy().copy() for p in module.parameters()]


def max_diff(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    return max(float(np.abs(x - y).max()) for x, y in zip(a, b))


def d_fn(points: np.ndarray) -> np.ndarray:
    """D's P(real | x) for host points (N, 2) -> (N,)."""
    return gan.d_probability(minigan.tensor(points)).numpy().ravel()


extent = (-2.0, 2.0, -2.0, 2.0)
z_fixed = gan.sample_z(512)  # the same noise for every picture: the fakes only move if G does
real_np = data.sample("ring8", 512, rng)
fake_before = gan.generate(z_fixed).numpy()
path = plots.plot_2d_field(real_np, fake_before, d_fn, OUT / "d_field_before.png", step=0, extent=extent,
                           resolution=RES, modes=centers, title="before: untrained D, untrained G")
show(path)
pause()

# %% [markdown]
# ## One D step by hand, in three steps
#
# 1. sample z ~ N(0, I), (N, z_dim), and make x_fake = G(z), (N, 2), under `no_grad()`: no graph
#    into G; take a batch of real points x ~ p_data, (N, 2)
# 2. score both with D, (N, 1) logits each, and compute D's loss
#    mean H(1, σ(D(x))) + mean H(0, σ(D(x_fake))) (`losses.d_loss`)
# 3. backprop: `loss.backward()` fills `.grad` of D's parameters and stops at x_fake; update D
#    only: `opt_d.step()`; G's optimizer is not touched
#
# Then the same step by the library, from the same state and seed: `GAN.d_step` must land on
# the very same weights.

# %%
state = copy.deepcopy(gan.state_dict())  # to replay the same step with GAN.d_step below
g_before, d_before = snapshot(G), snapshot(D)
real = minigan.tensor(data.sample("ring8", BATCH, rng))  # the real batch, shared by both versions
minigan.manual_seed(123)  # the same z for the hand-written step and GAN.d_step

# BEGIN SOLUTION d-step
# STUDENT: gan.d_step(real)
with minigan.no_grad():                                   # 1. sample z, make G(z): no graph into G
    x_fake = G(gan.sample_z(BATCH))
print(f"1. x_fake = G(z): {x_fake.shape}, requires_grad {x_fake.requires_grad}; real x: {real.shape}")
real_logits, fake_logits = D(real), D(x_fake)              # 2. score both with D ...
loss = losses.d_loss(real_logits, fake_logits)            #    ... and D's loss
print(f"2. d_loss = mean H(1, σ(D(x))) + mean H(0, σ(D(G(z)))) = {loss.item():.4f}  "
      f"(mean D(x) {minigan.sigmoid(real_logits).mean().item():.3f}, "
      f"mean D(G(z)) {minigan.sigmoid(fake_logits).mean().item():.3f})")
opt_d.zero_grad()
loss.backward()                                           # 3. backprop through D only ...
opt_d.step()                                              #    ... and update D
# END SOLUTION

d_hand, g_hand = snapshot(D), snapshot(G)
print(f"3. has .grad: D's parameters {[p.grad is not None for p in D.parameters()]}, "
      f"G's parameters {[p.grad is not None for p in G.parameters()]}")
print(f"   D moved by max |diff| {max_diff(d_before, d_hand):.2e}, G by max |diff| {max_diff(g_before, g_hand)}")
check(all(p.grad is None for p in G.parameters()) and all(p.grad is not None for p in D.parameters()),
      "the backward pass of D's loss fills .grad of D's parameters and of none of G's",
      f"{sum(p.grad is not None for p in D.parameters())} of {len(d_hand)} D tensors, "
      f"{sum(p.grad is not None for p in G.parameters())} of {len(g_hand)} G tensors")

gan.load_state_dict(state)
minigan.manual_seed(123)
gan.d_step(real)
d_lib, g_lib = snapshot(D), snapshot(G)
print(f"D after GAN.d_step vs after the hand-written step: max |diff| = {max_diff(d_lib, d_hand)}")
check(max_diff(d_lib, d_hand) == 0.0 and max_diff(g_lib, g_before) == 0.0 and max_diff(d_hand, d_before) > 0.0,
      "the hand-written three steps equal GAN.d_step bit for bit (D moved, G did not)",
      f"D: max |hand - library| = {max_diff(d_lib, d_hand)}, G: max |after - before| = {max_diff(g_lib, g_before)}")
pause()

# %% [markdown]
# ## d_step, many times: D moves, G does not
#
# Snapshot both networks' parameters, run `d_step` on fresh real batches, compare.

# %%
g_before, d_before = snapshot(G), snapshot(D)
for step in range(D_STEPS):
    stats = gan.d_step(data.sample("ring8", BATCH, rng))
    if step % (D_STEPS // 4) == 0 or step == D_STEPS - 1:
        print(f"  d_step {step:4d}  d_loss {stats['d_loss']:.4f}  mean D(x) {stats['d_real']:.3f}  "
              f"mean D(G(z)) {stats['d_fake']:.3f}")
g_after, d_after = snapshot(G), snapshot(D)
g_diff, d_diff = max_diff(g_before, g_after), max_diff(d_before, d_after)
identical = all(np.array_equal(a, b) for a, b in zip(g_before, g_after))
print(f"G: max |after - before| over all parameters = {g_diff}   (bit-identical: {identical})")
print(f"D: max |after - before| over all parameters = {d_diff:.4f}")
print(f"G's parameters have .grad: {[p.grad is not None for p in G.parameters()]}")
fake_after = gan.generate(z_fixed).numpy()
fake_moved = float(np.abs(fake_after - fake_before).max())
print(f"G(z) for the same z before and after: max |diff| = {fake_moved}")
check(identical and g_diff == 0.0 and d_diff > 0.0 and fake_moved == 0.0,
      f"after {D_STEPS} d_steps G's parameters and its points G(z) are bit-identical, D's moved",
      f"G: max |diff| {g_diff}, G(z): max |diff| {fake_moved}, D: max |diff| {d_diff:.3f}")
pause()

# %% [markdown]
# ## What D learned: G's flaws
#
# G did not move, so its points are where they were. D has learned to be sure (purple) where
# G puts its points and to call the rest of the plane real (green), including empty space far
# from the ring: "not where G is", the cheapest way to beat *this* G, not the eight modes. When
# G gets its turn (lesson 07) it will follow the gradient of this map out of the purple region.

# %%
p_real, p_fake = d_fn(real_np), d_fn(fake_after)
print(f"held-out: mean D(x) {p_real.mean():.3f}, mean D(G(z)) {p_fake.mean():.3f}")
far = [[1.8, 1.8], [-1.8, 1.8], [0.0, -1.9]]
probs = d_fn(np.array(far, dtype=np.float32))
print(f"D at points far from both data and G {far}: {np.round(probs, 3).tolist()}")
check(p_real.mean() > 0.5 > p_fake.mean(), "D tells held-out real points from G's: mean D(x) > 1/2 > mean D(G(z))",
      f"{p_real.mean():.3f} vs {p_fake.mean():.3f}")
check(bool((probs > 0.5).all()), "D calls empty space far from the data and from G real (P(real) > 1/2)",
      f"{np.round(probs, 3).tolist()}")
path = plots.plot_2d_field(real_np, fake_after, d_fn, OUT / "d_field_after.png", step=D_STEPS, extent=extent,
                           resolution=RES, modes=centers, title=f"after {D_STEPS} d_steps: D has found G's points")
show(path)
pause()

# %% [markdown]
# ## k D steps per G step: k = 1 against k = 5
#
# Two fresh GANs, the same seed, the same number of G steps; one takes one D step per G step, the
# other five (`GAN(..., d_steps=k)`; the loop below is `train_step` written out, so that we can
# look at D between its steps and G's). How far is D from its best response D* to the current G,
# just before G's step? Two measurements, on fresh held-out batches (2 × 2,048 points):
#
# - D's loss itself (lower: D separates better; 2 log 2 = H(1, 1/2) + H(0, 1/2) is D = 1/2 everywhere);
# - the gap to a stand-in for D*: at five points in training, a copy of D takes 300 more D steps
#   against the same frozen G; its loss minus the current D's loss is how much D still had to learn.
#   (The copy is discarded: the game goes on from the saved state.)
#
# At the end, `metrics.toy_quality` scores 2,500 samples of each G: modes covered, and the
# high-quality (HQ) share, points within 3 standard deviations of a mode.

# %%
PROBE_EVERY = 10
N_GAP = 5
REFINE = 300


def d_loss_acc(g: GAN, real: minigan.Tensor, fake: minigan.Tensor) -> tuple[float, float]:
    """D's loss H(1, D(x)) + H(0, D(G(z))) and its accuracy (threshold 1/2) on held-out points."""
    pr = g.d_probability(real).numpy().ravel().astype(np.float64)
    pf = g.d_probability(fake).numpy().ravel().astype(np.float64)
    eps = 1e-12
    loss = float(-np.log(pr + eps).mean() - np.log(1.0 - pf + eps).mean())
    return loss, float(0.5 * ((pr > 0.5).mean() + (pf < 0.5).mean()))


def play(k: int) -> dict:
    """K_G_STEPS rounds of k D steps and one G step; D probed before G's step."""
    minigan.manual_seed(args.seed)
    g = make_gan(d_steps=k)
    data_rng = np.random.default_rng(args.seed + 1)
    gap_at = set(np.linspace(0, K_G_STEPS - 1, N_GAP + 1).astype(int)[1:].tolist())
    rec = {"step": [], "loss": [], "acc": [], "gap_step": [], "gap": []}
    busy = 0.0  # seconds spent training (the probes are not counted)
    for step in range(K_G_STEPS):
        t0 = time.perf_counter()
        for _ in range(g.d_steps):
            g.d_step(data.sample("ring8", BATCH, data_rng))
        busy += time.perf_counter() - t0
        if step % PROBE_EVERY == 0 or step in gap_at:  # D as G is about to see it
            real_t = minigan.tensor(data.sample("ring8", 2048, data_rng))
            fake_t = g.generate(g.sample_z(2048))
            loss, acc = d_loss_acc(g, real_t, fake_t)
            rec["step"].append(step)
            rec["loss"].append(loss)
            rec["acc"].append(acc)
            if step in gap_at:
                saved = copy.deepcopy(g.state_dict())
                for _ in range(REFINE):
                    g.d_step(data.sample("ring8", BATCH, data_rng))
                best, _ = d_loss_acc(g, real_t, fake_t)
                g.load_state_dict(saved)
                rec["gap_step"].append(step)
                rec["gap"].append(loss - best)
        t0 = time.perf_counter()
        g.g_step(BATCH)
        busy += time.perf_counter() - t0
    rec["seconds"] = busy
    rec["d_steps"] = k * K_G_STEPS
    rec["samples"] = g.generate(g.sample_z(2500)).numpy()
    rec["quality"] = metrics.toy_quality(rec["samples"], "ring8")
    return {key: np.asarray(v) if isinstance(v, list) else v for key, v in rec.items()}


runs = {k: play(k) for k in (1, 5)}
for k, r in runs.items():
    q = r["quality"]
    print(f"k = {k}: {K_G_STEPS} G steps, {r['d_steps']} D steps, {r['seconds']:.1f} s of training "
          f"({1000 * r['seconds'] / K_G_STEPS:.2f} ms per G step)")
    print(f"   D before G's step (mean over {len(r['loss'])} probes): loss {r['loss'].mean():.3f}, "
          f"accuracy {r['acc'].mean():.3f}")
    print(f"   gap to D + {REFINE} more D steps at G steps {r['gap_step'].tolist()}: "
          f"{np.round(r['gap'], 3).tolist()}")
    print(f"   after training: {q['modes_covered']}/{q['n_modes']} modes covered, "
          f"{100 * q['high_quality']:.1f}% high quality")
r1, r5 = runs[1], runs[5]
check(r5["loss"].mean() < r1["loss"].mean() - 0.1 and r5["acc"].mean() > r1["acc"].mean(),
      "with k = 5 D is a better classifier just before each G step: lower held-out loss, higher accuracy",
      f"loss {r5['loss'].mean():.3f} vs {r1['loss'].mean():.3f}, accuracy {r5['acc'].mean():.3f} vs "
      f"{r1['acc'].mean():.3f} (k = 5 vs k = 1)")
check(r5["gap"].mean() < 0.75 * r1["gap"].mean(),
      f"with k = 5 D is closer to its best response: {REFINE} more D steps on the frozen G gain it less",
      f"mean gap {r5['gap'].mean():.3f} vs {r1['gap'].mean():.3f}")
check(r5["seconds"] > r1["seconds"],
      "the price: five D steps per G step take longer for the same number of G steps",
      f"{r5['seconds']:.1f} s vs {r1['seconds']:.1f} s, {r5['d_steps']} vs {r1['d_steps']} D steps")

fig = Figure(figsize=(11, 8.5), dpi=100, layout="constrained")
FigureCanvasAgg(fig)
axes = fig.subplots(2, 2)
colors = {1: "tab:orange", 5: "tab:blue"}
ax = axes[0, 0]
for k, r in runs.items():
    ax.plot(r["step"], r["loss"], color=colors[k], lw=1, label=f"k = {k}")
ax.axhline(2 * np.log(2), color="0.4", ls="--", lw=1, label="2 log 2 (D = 1/2 everywhere)")
ax.set_xlabel("G step")
ax.set_ylabel("D's held-out loss before G's step")
ax.set_title("D's loss just before each G step")
ax.legend(fontsize=8)
ax = axes[0, 1]
width = 0.35 * (K_G_STEPS / N_GAP)
for i, (k, r) in enumerate(runs.items()):
    ax.bar(r["gap_step"] + (i - 0.5) * width, r["gap"], width=width, color=colors[k], label=f"k = {k}")
ax.set_xlabel("G step")
ax.set_ylabel(f"loss(D) - loss(D + {REFINE} more D steps)")
ax.set_title("how far D is from its best response")
ax.legend(fontsize=8)
for ax, k in zip(axes[1], (1, 5)):
    r, q = runs[k], runs[k]["quality"]
    s = r["samples"][:1000]
    ax.scatter(s[:, 0], s[:, 1], s=4, color=plots.FAKE_COLOR, alpha=0.5, label="generated")
    ax.scatter(centers[:, 0], centers[:, 1], marker="x", s=50, color="black", label="modes")
    ax.set_xlim(-2, 2)
    ax.set_ylim(-2, 2)
    ax.set_aspect("equal")
    ax.set_title(f"k = {k} after {K_G_STEPS} G steps: {q['modes_covered']}/8 modes, "
                 f"{100 * q['high_quality']:.0f}% HQ")
    ax.legend(fontsize=8, loc="upper right")
show(fig, OUT / "k1_vs_k5.png")

# %% [markdown]
# What the run shows (the numbers are printed above): with five D steps, D reaches each G step
# much nearer its best response, so G's gradient comes from a D closer to D*, the regime where
# the G step follows the divergence. What that does to the samples after a fixed number of G
# steps is read off the mode counts and HQ shares printed above and in the bottom panels. They
# are not checked here: on a toy this small one run's mode count and HQ share are noisy
# measurements (compare `--seed 1` and `--seed 2`), and this lesson checks only D's side. The cost
# is certain: five D steps per round take longer (the times are printed above).
#
# **Question 6.1.** A student swaps the order in Algorithm 1: one G step first, against the freshly
# initialised D, then the D steps. What does that first G step do to G, and why?
#
# BEGIN ANSWER
# It moves G in a direction that has nothing to do with the data. G's gradient is ∇_x D at G's
# points pushed back through G; an untrained D is a random function of x, so its slope is a
# random direction (here, whatever tilt the initial weights give D's map). G drifts along it. No
# harm is permanent, since D then trains and later G steps follow a useful D, but that first
# step, and any G step taken against a D far from D*, is wasted or misleading work. D must first
# have compared real and fake points before its slope says where the data lies.
# END ANSWER
#
# **Question 6.2.** If you let k grow very large (D trained to convergence before every G step),
# what do you gain, what does it cost, and what can go wrong with the *minimax* G loss log(1 - D(G(z)))?
#
# BEGIN ANSWER
# Gain: D ≈ D* before every G step, so the G step descends the JS divergence (for the minimax
# loss) rather than following a half-trained classifier. Cost: k times D's compute per G step.
# What goes wrong: when p_g and p_data barely overlap (early training, or the thin ring8 modes), a
# near-optimal D is near 0 on every fake, where log(1 - σ(f)) is flat (lesson 05): G's gradient
# vanishes, and JS itself is stuck at log 2 for disjoint supports (lesson 13). That is why the
# non-saturating loss is used, why k = 1 is common for it, and why WGAN, whose critic stays
# informative at optimum, can afford k = 5.
# END ANSWER

# %%
done("d_step trains D alone; G's weights are untouched, D learns where G's points are, and more D steps "
     "per G step bring D nearer D* at a price.")
