GOALS = """After this lesson you can:
- build a GAN on ring8 from models.mlp((2,)) and two Adam optimizers with minigan.gan.GAN;
- run GAN.d_step and explain why G's weights cannot move: the fakes are made under no_grad, so
  D's backward pass stops at them;
- show it: G's parameters are bit-identical before and after (max |diff| = 0) while D's changed;
- read D's heatmap after the D steps as a map of G's current flaws, not of the data.
"""

# %% [markdown]
# # Lesson 06: training D while G is frozen
#
# Algorithm 1 of Goodfellow et al. alternates two updates. This lesson is the first one:
#
#     sample x ~ p_data and z ~ p_z;  update D by descending d_loss(D(x), D(G(z)))     (G fixed)
#
# `GAN.d_step(real)` does exactly this. Inside, the fakes G(z) are computed under `no_grad()`:
# for D they are just data, a tensor with no graph back into G. So `loss.backward()` reaches
# D's weights and stops; G's weights get no gradient and G's optimizer is never stepped.

# %%
import numpy as np
from _common import done, lesson_setup, out_dir, pause, show

import minigan
from minigan import data, models, optim, plots
from minigan.gan import GAN

args = lesson_setup(6, "Training D while G is frozen", GOALS)
OUT = out_dir(6)
D_STEPS = 200 if args.quick else 1000
BATCH = 128 if args.quick else 256
RES = 80 if args.quick else 200
rng = np.random.default_rng(args.seed)

# %% [markdown]
# ## The two players and the trainer
#
# `models.mlp((2,))` gives the pair for 2-D points: G maps z (N, z_dim) to points (N, 2), D maps
# points to one logit (N, 1). `GAN` holds both with their optimizers.

# %%
centers, _ = data.modes("ring8")
G, D = models.mlp((2,), z_dim=2, hidden=64)
opt_g = optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999))
opt_d = optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999))
gan = GAN(G, D, opt_g, opt_d, loss="nonsaturating")
print(f"G: {sum(p.numel() for p in G.parameters())} parameters, D: {sum(p.numel() for p in D.parameters())} parameters")


def snapshot(module: minigan.nn.Module) -> list[np.ndarray]:
    """Host copies of every parameter, to compare with later."""
    return [p.numpy().copy() for p in module.parameters()]


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
g_diff = max(float(np.abs(a - b).max()) for a, b in zip(g_before, g_after))
d_diff = max(float(np.abs(a - b).max()) for a, b in zip(d_before, d_after))
identical = all(np.array_equal(a, b) for a, b in zip(g_before, g_after))
print(f"G: max |after - before| over all parameters = {g_diff}   (bit-identical: {identical})")
print(f"D: max |after - before| over all parameters = {d_diff:.4f}")
print(f"G's parameters have .grad: {[p.grad is not None for p in G.parameters()]}")
assert identical and g_diff == 0.0 and d_diff > 0.0
fake_after = gan.generate(z_fixed).numpy()
print(f"G(z) for the same z before and after: max |diff| = {np.abs(fake_after - fake_before).max()}")
pause()

# %% [markdown]
# ## What D learned: G's flaws
#
# G did not move, so its points are where they were. D is now sure (purple) wherever G puts its
# points and calls everything else real (green), including empty space far from the ring. It has
# learned "not where G is", the cheapest way to beat *this* G, not the eight modes. When G gets
# its turn (lesson 07) it will follow the gradient of this map out of the purple region.

# %%
p_real, p_fake = d_fn(real_np), d_fn(fake_after)
print(f"held-out: mean D(x) {p_real.mean():.3f}, mean D(G(z)) {p_fake.mean():.3f}")
far = [[1.8, 1.8], [-1.8, 1.8], [0.0, -1.9]]
probs = d_fn(np.array(far, dtype=np.float32))
print(f"D at points far from both data and G {far}: {np.round(probs, 3).tolist()}  (called real)")
path = plots.plot_2d_field(real_np, fake_after, d_fn, OUT / "d_field_after.png", step=D_STEPS, extent=extent,
                           resolution=RES, modes=centers, title=f"after {D_STEPS} d_steps: D has found G's points")
show(path)
done("d_step trains D alone; G's weights are untouched, and D learns where G's points are.")
