GOALS = """After this lesson you can:
- build a discriminator D, an MLP from minigan.nn, that maps a point x to one logit l = D(x);
- train it as a binary classifier, real (y = 1) vs generated (y = 0), with losses.bce_with_logits;
- read σ(D(x)) as D's estimate of P(real | x), and see it as a heatmap over the plane (plots.plot_2d_field);
- explain why D, trained against a fixed generator, learns exactly that generator's flaws.
"""

# %% [markdown]
# # Lesson 04: the discriminator is a binary classifier
#
# The discriminator D never sees a label beyond "real" or "fake". Given a batch of real points
# x ~ p_data (label 1) and a batch of generated points G(z), z ~ p_z (label 0), it is trained
# exactly like the logistic classifier of lesson 01, only with a neural network in place of wx + b:
#
#     L_D = - E_x[log σ(D(x))] - E_z[log(1 - σ(D(G(z))))]
#         = bce_with_logits(D(x), 1) + bce_with_logits(D(G(z)), 0)
#
# We write D(x) for the logit and σ(D(x)) for the probability "x is real". Here G is frozen and
# bad; D only has to find where G's points differ from the data's.

# %%
import numpy as np
from _common import done, lesson_setup, out_dir, pause, show

import minigan
from minigan import data, losses, models, nn, optim, plots

args = lesson_setup(4, "The discriminator is a binary classifier", GOALS)
OUT = out_dir(4)
STEPS = 300 if args.quick else 2000
BATCH = 128 if args.quick else 256
RES = 80 if args.quick else 200
rng = np.random.default_rng(args.seed)

# %% [markdown]
# ## Real data and a fixed, bad generator
#
# p_data is `ring8`: eight tight Gaussians on the unit circle. The generator is an *untrained*
# MLP from `models.mlp`; its points form one small cloud near the centre, far from all eight modes.

# %%
centers, std = data.modes("ring8")
G, _ = models.mlp(data_shape=(2,), z_dim=2, hidden=64)
real_np = data.sample("ring8", 512, rng)
with minigan.no_grad():
    fake_np = G(minigan.randn(512, 2)).numpy()
print(f"real x: {real_np.shape}, mean radius {np.linalg.norm(real_np, axis=1).mean():.3f}")
print(f"G(z):   {fake_np.shape}, mean radius {np.linalg.norm(fake_np, axis=1).mean():.3f}, "
      f"centre ({fake_np[:, 0].mean():+.3f}, {fake_np[:, 1].mean():+.3f})")
pause()

# %% [markdown]
# ## The discriminator: 2 -> 64 -> 64 -> 1, LeakyReLU, one logit out
#
# No sigmoid at the end: the loss takes logits, which is more stable (see losses.bce_with_logits).

# %%
D = nn.Sequential(nn.Linear(2, 64), nn.LeakyReLU(0.2), nn.Linear(64, 64), nn.LeakyReLU(0.2), nn.Linear(64, 1))
print(D)


def d_prob(points: np.ndarray) -> np.ndarray:
    """σ(D(x)) = D's P(real | x) for host points (N, 2) -> (N,)."""
    with minigan.no_grad():
        return minigan.sigmoid(D(minigan.tensor(points.astype(np.float32)))).numpy()[:, 0]


extent = (-2.0, 2.0, -2.0, 2.0)
path = plots.plot_2d_field(real_np, fake_np, d_prob, OUT / "d_field_before.png", step=0, extent=extent,
                           resolution=RES, modes=centers, title="untrained D: σ(D(x)) ≈ 1/2 everywhere")
print(f"before training: mean σ(D(real)) {d_prob(real_np).mean():.3f}, mean σ(D(fake)) {d_prob(fake_np).mean():.3f}")
show(path)
pause()

# %% [markdown]
# ## Training D; G stays fixed
#
# Each step: a fresh real batch (label 1) and a fresh fake batch (label 0, computed under
# `no_grad` because G is not being trained), BCE on both, one Adam step on D's weights only.

# %%
opt = optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999))
steps, d_real_hist, d_fake_hist = [], [], []
for step in range(STEPS):
    x = minigan.tensor(data.sample("ring8", BATCH, rng))
    with minigan.no_grad():
        x_fake = G(minigan.randn(BATCH, 2))
    real_logits, fake_logits = D(x), D(x_fake)
    loss = losses.bce_with_logits(real_logits, 1.0) + losses.bce_with_logits(fake_logits, 0.0)
    opt.zero_grad()
    loss.backward()
    opt.step()
    steps.append(step)
    d_real_hist.append(minigan.sigmoid(real_logits).mean().item())
    d_fake_hist.append(minigan.sigmoid(fake_logits).mean().item())
    if step % (STEPS // 5) == 0 or step == STEPS - 1:
        print(f"  step {step:5d}  L_D {loss.item():.4f}  mean σ(D(x)) {d_real_hist[-1]:.3f}  "
              f"mean σ(D(G(z))) {d_fake_hist[-1]:.3f}")
path = plots.plot_d_outputs(np.array(steps), np.array(d_real_hist), np.array(d_fake_hist),
                            OUT / "d_outputs.png", ideal=None, title="D learns to separate real from fake")
show(path)
pause()

# %% [markdown]
# ## D(x) as P(real): the heatmap
#
# Green: D says real; purple: D says generated. D is purple around G's cloud and green
# everywhere else, not only on the eight modes: it learned G's flaw (all its points sit in the
# centre), not the shape of the ring. Against this G, that is all it needs.
# This map is what G will be trained against in lesson 07: G moves its points
# uphill on σ(D(x)).

# %%
test_real = data.sample("ring8", 2000, rng)
with minigan.no_grad():
    test_fake = G(minigan.randn(2000, 2)).numpy()
p_real, p_fake = d_prob(test_real), d_prob(test_fake)
accuracy = 0.5 * (np.mean(p_real > 0.5) + np.mean(p_fake < 0.5))
print(f"held-out: mean σ(D(real)) {p_real.mean():.3f}, mean σ(D(fake)) {p_fake.mean():.3f}, accuracy {accuracy:.1%}")
path = plots.plot_2d_field(real_np, fake_np, d_prob, OUT / "d_field_after.png", step=STEPS, extent=extent,
                           resolution=RES, modes=centers, title="trained D: σ(D(x)) = P(real | x)")
show(path)
done("D is a classifier; its output is a probability map G will climb.")
