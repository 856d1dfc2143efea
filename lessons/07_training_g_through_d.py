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
from _common import done, lesson_setup, out_dir, pause, show
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import minigan
from minigan import data, losses, models, nn, optim, plots
from minigan.gan import GAN

args = lesson_setup(7, "Training G through D", GOALS)
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

z = gan.sample_z(BATCH)                                   # 1. sample noise
print(f"1. z: {z.shape}")
with nn.frozen(D):
    x_fake = G(z)                                         # 2. generate
    print(f"2. x_fake = G(z): {x_fake.shape}, requires_grad {x_fake.requires_grad}")
    logits = D(x_fake)                                    # 3. classify
    print(f"3. D(G(z)): {logits.shape}, mean σ = {minigan.sigmoid(logits).mean().item():.3f}")
    loss = losses.g_loss_nonsaturating(logits)            # 4. G's loss
    print(f"4. g_loss = -mean log σ(D(G(z))) = {loss.item():.4f}")
opt_g.zero_grad()
loss.backward()                                           # 5. backprop through D into G
print(f"5. has .grad: G's parameters {[p.grad is not None for p in G.parameters()]}, "
      f"D's parameters {[p.grad is not None for p in D.parameters()]}")
assert all(p.grad is None for p in D.parameters())
opt_g.step()                                              # 6. update only G
g_hand, d_hand = snapshot(G), snapshot(D)
print(f"6. after opt_g.step(): G moved by max |diff| {max_diff(g_before, g_hand):.2e}, "
      f"D by max |diff| {max_diff(d_before, d_hand)}")
assert max_diff(d_before, d_hand) == 0.0 and max_diff(g_before, g_hand) > 0.0
pause()

# %% [markdown]
# ## The same step, by the library: GAN.g_step
#
# Back to the saved state, same seed, one `gan.g_step(N)`: G must land on the very same weights.

# %%
gan.load_state_dict(state)
minigan.manual_seed(123)
out = gan.g_step(BATCH)
print(f"GAN.g_step: g_loss {out['g_loss']:.4f} (by hand {loss.item():.4f}), mean D(G(z)) {out['d_fake_g']:.3f}")
print(f"G after g_step vs after the hand-written step: max |diff| = {max_diff(snapshot(G), g_hand)}")
print(f"D after g_step vs before:                      max |diff| = {max_diff(snapshot(D), d_before)}")
assert max_diff(snapshot(G), g_hand) == 0.0 and max_diff(snapshot(D), d_before) == 0.0
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
print(f"D unchanged over all {G_STEPS} g_steps: max |diff| = {max_diff(snapshot(D), d_before)}")


def d_fn(points: np.ndarray) -> np.ndarray:
    return gan.d_probability(minigan.tensor(points)).numpy().ravel()


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
done("the G step backpropagates through a frozen D and updates only G.")
