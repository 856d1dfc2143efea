GOALS = """After this lesson you can:
- write the generator's update by hand in six steps: sample z, generate G(z), classify D(G(z)),
  G's loss, backprop through D into G, update only G;
- explain what minigan.nn.frozen(D) does: the gradient flows through D to G, D's weights collect none;
- show that D's parameters are bit-identical after the step and that the hand-written step equals GAN.g_step;
- see G's points move uphill on D's map P(real | x).
"""

# %% [markdown]
# # Lesson 07: training G through D
#
# The second half of Algorithm 1: sample z ~ p_z; update G by descending g_loss(D(G(z))), D fixed.
# G never sees a real point. Its only signal is D's opinion, and the gradient of that opinion
# with respect to G's weights has to pass *through* D: ∂L/∂θ_G = ∂L/∂f · ∂f/∂x · ∂x/∂θ_G, with
# f = D's logit and x = G(z). So D must be in the graph, but must not be updated.

# %%
import copy

import numpy as np
from _common import check, done, lesson_setup, out_dir, pause, show
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import minigan
from minigan import data, nn, optim
from minigan.gan import GAN, losses, models, plots

args = lesson_setup(7, "Training G through D", GOALS,
                    exercises=["sigmoid", "linear-backward", "adam", "d-step", "g-step"])
OUT = out_dir(7)
D_STEPS = 150 if args.quick else 600
G_STEPS = 60 if args.quick else 200
BATCH = 128 if args.quick else 256
RES = 80 if args.quick else 200
rng = np.random.default_rng(args.seed)


def snapshot(module: nn.Module) -> list[np.ndarray]:
    return [p.numpy().copy() for p in module.parameters()]


def max_diff(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    return max(float(np.abs(x - y).max()) for x, y in zip(a, b))


# %% [markdown]
# ## Set-up: a D that has already found G's flaws (lesson 06)

# %%
centers, _ = data.modes("ring8")
G, D = models.mlp((2,), z_dim=2, hidden=64)
opt_g = optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999))
opt_d = optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999))
gan = GAN(G, D, opt_g, opt_d, loss="nonsaturating")
for _ in range(D_STEPS):
    stats = gan.d_step(data.sample("ring8", BATCH, rng))
print(f"after {D_STEPS} d_steps: mean D(x) {stats['d_real']:.3f}, mean D(G(z)) {stats['d_fake']:.3f}")
pause()

# %% [markdown]
# ## The six steps, by hand
#
# 1. sample noise z ~ N(0, I), (N, z_dim)
# 2. generate x_fake = G(z), (N, 2), *with* a graph back to G's weights
# 3. classify f = D(x_fake), (N, 1) logits, inside `nn.frozen(D)`: D's parameters are treated
#    as constants (no `requires_grad`), yet the graph still runs through D's operations to x_fake
# 4. G's loss: the non-saturating -mean log σ(f) (`losses.g_loss_nonsaturating`, lesson 05)
# 5. backprop: `loss.backward()` fills `.grad` of G's parameters, through D
# 6. update only G: `opt_g.step()`; `opt_d` is not touched

# %%
state = copy.deepcopy(gan.state_dict())  # to replay the same step with GAN.g_step below
g_before, d_before = snapshot(G), snapshot(D)
minigan.manual_seed(123)
D.zero_grad()  # forget the .grad left by the d_steps, to see that the G step adds none

# BEGIN SOLUTION g-step
# STUDENT: g_loss_hand = gan.g_step(BATCH)["g_loss"]
z = gan.sample_z(BATCH)                                   # 1. sample noise
print(f"1. z: {z.shape}")
with nn.frozen(D):
    x_fake = G(z)                                         # 2. generate
    print(f"2. x_fake = G(z): {x_fake.shape}, requires_grad {x_fake.requires_grad}")
    logits = D(x_fake)                                    # 3. classify
    print(f"3. D(G(z)): {logits.shape}, mean σ = {minigan.sigmoid(logits).mean().item():.3f}")
    loss = losses.g_loss_nonsaturating(logits)            # 4. G's loss
    print(f"4. g_loss = -mean log σ(D(G(z))) = {loss.item():.4f}")
g_loss_hand = loss.item()
opt_g.zero_grad()
loss.backward()                                           # 5. backprop through D into G
opt_g.step()                                              # 6. update only G
# END SOLUTION

print(f"5. has .grad: G's parameters {[p.grad is not None for p in G.parameters()]}, "
      f"D's parameters {[p.grad is not None for p in D.parameters()]}")
check(all(p.grad is None for p in D.parameters()) and all(p.grad is not None for p in G.parameters()),
      "the gradient passes through D into G: every G tensor has a .grad, no D tensor has one",
      f"{sum(p.grad is not None for p in G.parameters())} of {len(g_before)} G tensors, "
      f"{sum(p.grad is not None for p in D.parameters())} of {len(d_before)} D tensors")
g_hand, d_hand = snapshot(G), snapshot(D)
print(f"6. after opt_g.step(): G moved by max |diff| {max_diff(g_before, g_hand):.2e}, "
      f"D by max |diff| {max_diff(d_before, d_hand)}")
check(max_diff(d_before, d_hand) == 0.0 and max_diff(g_before, g_hand) > 0.0,
      "after the G step D's parameters are bit-identical and G's moved",
      f"D: max |diff| {max_diff(d_before, d_hand)}, G: max |diff| {max_diff(g_before, g_hand):.2e}")
pause()

# %% [markdown]
# ## The same step, by the library: GAN.g_step
#
# Back to the saved state, same seed, one `gan.g_step(N)`: G must land on the very same weights.

# %%
gan.load_state_dict(state)
minigan.manual_seed(123)
out = gan.g_step(BATCH)
print(f"GAN.g_step: g_loss {out['g_loss']:.4f} (by hand {g_loss_hand:.4f}), mean D(G(z)) {out['d_fake_g']:.3f}")
print(f"G after g_step vs after the hand-written step: max |diff| = {max_diff(snapshot(G), g_hand)}")
print(f"D after g_step vs before:                      max |diff| = {max_diff(snapshot(D), d_before)}")
check(max_diff(snapshot(G), g_hand) == 0.0 and out["g_loss"] == g_loss_hand and max_diff(snapshot(D), d_before) == 0.0,
      "the hand-written six steps equal GAN.g_step bit for bit: the same loss, the same G, D untouched",
      f"G: max |library - hand| = {max_diff(snapshot(G), g_hand)}, loss {out['g_loss']:.6f} vs {g_loss_hand:.6f}, "
      f"D: max |diff| = {max_diff(snapshot(D), d_before)}")
pause()

# %% [markdown]
# ## G climbs D's map
#
# Now many G steps against the same, frozen D. Each point x = G(z) moves (through G's weights)
# along +∂ log σ(D(x))/∂x: out of the purple region where D recognises it, towards green. Note
# where it goes: wherever D says "real", not necessarily onto the ring: D only taught G what is
# *not* G. That is why D must be retrained in turn (lesson 08).

# %%
z_fixed = gan.sample_z(400)
fake_start = gan.generate(z_fixed).numpy()
for step in range(G_STEPS):
    out = gan.g_step(BATCH)
    if step % (G_STEPS // 3) == 0 or step == G_STEPS - 1:
        print(f"  g_step {step:4d}  g_loss {out['g_loss']:.4f}  mean D(G(z)) {out['d_fake_g']:.3f}")
fake_end = gan.generate(z_fixed).numpy()


def d_fn(points: np.ndarray) -> np.ndarray:
    """The frozen D's P(real | x) for host points (N, 2) -> (N,)."""
    return gan.d_probability(minigan.tensor(points)).numpy().ravel()


p_start, p_end = d_fn(fake_start).mean(), d_fn(fake_end).mean()
moved = np.linalg.norm(fake_end - fake_start, axis=1)
print(f"the same 400 z: mean D(G(z)) {p_start:.3f} before, {p_end:.3f} after; points moved {moved.mean():.3f} "
      f"on average")
check(max_diff(snapshot(D), d_before) == 0.0, f"D's parameters are bit-identical after all {G_STEPS} g_steps",
      f"max |diff| = {max_diff(snapshot(D), d_before)}")
check(p_end > p_start + 0.2, "G's points climb D's map: D's mean P(real) on the same z rises",
      f"mean D(G(z)) {p_start:.3f} -> {p_end:.3f}")
extent = (-2.0, 2.0, -2.0, 2.0)
real_np = data.sample("ring8", 400, rng)
gx, gy = np.meshgrid(np.linspace(-2, 2, RES), np.linspace(-2, 2, RES))
field = d_fn(np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)).reshape(RES, RES)
fig = Figure(figsize=(6.5, 5.5), dpi=100, layout="constrained")
FigureCanvasAgg(fig)
ax = fig.add_subplot()
im = ax.imshow(field, origin="lower", extent=extent, cmap="PRGn", vmin=0, vmax=1, alpha=0.6)
fig.colorbar(im, ax=ax, label="D(x) = P(real), D frozen")
ax.scatter(real_np[:, 0], real_np[:, 1], s=6, color="darkgreen", label="real")
ax.scatter(fake_start[:, 0], fake_start[:, 1], s=6, color="0.4", label="G(z) before")
ax.scatter(fake_end[:, 0], fake_end[:, 1], s=6, color="purple", label=f"G(z) after {G_STEPS} g_steps")
for i in range(0, len(fake_start), 10):
    ax.annotate("", xy=fake_end[i], xytext=fake_start[i], arrowprops={"arrowstyle": "->", "color": "0.2", "lw": 0.6})
ax.set_xlim(-2, 2)
ax.set_ylim(-2, 2)
ax.set_title("G's points climb D's map (same z, D frozen)")
ax.legend(fontsize=8, loc="upper right")
path = OUT / "g_climbs_d.png"
show(fig, path)
path = plots.plot_2d_field(real_np, fake_end, d_fn, OUT / "d_field_after_g.png", step=D_STEPS + G_STEPS,
                           extent=extent, resolution=RES, modes=centers, title="G's points after the G steps")
show(path)

# %% [markdown]
# **Question 7.1.** In step 2 the fakes are made *with* a graph, while the D step (lesson 06) makes
# them under `no_grad()`. Why must the G step keep the graph, and what would `nn.frozen(D)`
# be for if you left it out but still stepped only `opt_g`?
#
# BEGIN ANSWER
# G's loss depends on θ_G only through x_fake = G(z): without the graph from x_fake back to G's
# weights, backward would stop at x_fake and G would get no gradient at all. Without `frozen(D)`
# the same backward pass would also fill `.grad` of D's parameters, with the gradient of *G's*
# loss, which points D towards calling the fakes real: the opposite of D's objective. Stepping
# only `opt_g` leaves D's weights alone this time, and `GAN.d_step` clears D's gradients before
# its own backward pass, so here they would only be wasted work and memory; but a training loop
# that forgot `opt_d.zero_grad()` would add them to D's next update. `frozen(D)` keeps D in the
# graph (the chain rule runs through its operations) while its weights are constants.
# END ANSWER
#
# **Question 7.2.** After many G steps against one frozen D, G's mean D(G(z)) is high. Has G learned
# the data? Look at where its points went.
#
# BEGIN ANSWER
# No. G climbed the map of *this* D, which only knew "not where G was": its points went wherever D
# says real, including empty space off the ring, and they can overshoot into regions D never saw.
# A high D(G(z)) against a stale D says G beat that D, not that p_g is near p_data. D has to be
# retrained on G's new points, round after round: the alternating game of lesson 08.
# END ANSWER

# %%
done("the G step backpropagates through a frozen D and updates only G.")
