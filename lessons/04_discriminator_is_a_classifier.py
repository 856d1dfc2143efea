GOALS = """After this lesson you can:
- build a discriminator D, an MLP from minigan.nn, that maps a point x to one logit l = D(x);
- train it as a binary classifier, real (y = 1) vs generated (y = 0), on lesson 01's binary cross-entropy
  H(y, p) with losses.bce_with_logits;
- read σ(D(x)) as D's estimate of P(real | x), and see it as a heatmap over the plane (plots.plot_2d_field);
- explain why D, trained against a fixed generator, learns exactly that generator's flaws.
"""

# %% [markdown]
# # Lesson 04: the discriminator is a binary classifier
#
# The discriminator D never sees a label beyond "real" or "fake". Given a batch of real points
# x ~ p_data (label 1) and a batch of generated points G(z), z ~ p_z (label 0), it is trained
# exactly like the logistic classifier of lesson 01, only with a neural network in place of wx + b.
# Its loss is lesson 01's binary cross-entropy H(y, p) = -(y log p + (1 - y) log(1 - p)), with
# p = σ(D(x)), label 1 on the real batch and label 0 on the fake batch, averaged over each:
#
#     L_D = E_x[H(1, σ(D(x)))] + E_z[H(0, σ(D(G(z))))]
#         = - E_x[log σ(D(x))] - E_z[log(1 - σ(D(G(z))))]
#         = bce_with_logits(D(x), 1) + bce_with_logits(D(G(z)), 0)
#
# We write D(x) for the logit and σ(D(x)) for the probability "x is real". Here G is frozen and
# bad; D only has to find where G's points differ from the data's.

# %%
import numpy as np
from _common import check, done, lesson_setup, out_dir, pause, show

import minigan
from minigan import data, losses, nn, optim
from minigan.gan import models, plots

args = lesson_setup(4, "The discriminator is a binary classifier", GOALS,
                    exercises=["sigmoid", "bce", "linear-backward", "adam"])
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
to_mode = np.linalg.norm(fake_np[:, None, :] - centers[None], axis=2).min(1)  # each fake's nearest mode
check(np.linalg.norm(fake_np, axis=1).mean() < 0.5 and to_mode.min() > 10 * std,
      "the untrained G's points form a cloud near the centre, far from every mode",
      f"mean radius {np.linalg.norm(fake_np, axis=1).mean():.3f} (the ring's is 1); closest fake to a mode "
      f"{to_mode.min():.3f} = {to_mode.min() / std:.0f} mode stds")
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
p_real_before, p_fake_before = d_prob(real_np).mean(), d_prob(fake_np).mean()
print(f"before training: mean σ(D(real)) {p_real_before:.3f}, mean σ(D(fake)) {p_fake_before:.3f}")
ticks = np.linspace(-2.0, 2.0, 41)
plane = np.stack(np.meshgrid(ticks, ticks), axis=-1).reshape(-1, 2)  # the heatmap's square, coarsely
off_half = np.abs(d_prob(plane) - 0.5).max()
check(off_half < 0.2 and abs(p_real_before - p_fake_before) < 0.05,
      "an untrained D says about 1/2 everywhere (within 0.2) and about the same on real and fake (within 0.05)",
      f"max |σ(D(x)) - 1/2| over [-2, 2]² is {off_half:.3f}; mean σ(D), real minus fake, "
      f"{p_real_before - p_fake_before:+.3f}")
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
    if step == 0:
        first_loss = loss.item()
    d_real_hist.append(minigan.sigmoid(real_logits).mean().item())
    d_fake_hist.append(minigan.sigmoid(fake_logits).mean().item())
    if step % (STEPS // 5) == 0 or step == STEPS - 1:
        print(f"  step {step:5d}  L_D {loss.item():.4f}  mean σ(D(x)) {d_real_hist[-1]:.3f}  "
              f"mean σ(D(G(z))) {d_fake_hist[-1]:.3f}")
# Saying 1/2 to everything costs H(1, 1/2) + H(0, 1/2) = log 2 + log 2: where the first step's loss starts.
check(abs(first_loss - 2 * np.log(2)) < 0.1, "D's loss starts at 2 log 2, the price of guessing 1/2",
      f"L_D at step 0 {first_loss:.4f}, 2 log 2 = {2 * np.log(2):.4f}")
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
check(accuracy > 0.95 and p_real.mean() > 0.9 and p_fake.mean() < 0.1,
      "trained, D separates held-out real points from G's: σ(D) near 1 on real, near 0 on fake",
      f"accuracy {accuracy:.1%}; mean σ(D(real)) {p_real_before:.3f} -> {p_real.mean():.3f}, "
      f"mean σ(D(fake)) {p_fake_before:.3f} -> {p_fake.mean():.3f}")
# Points where there is no data at all: between the modes on the circle, and far outside the ring.
between = np.stack([np.cos(np.pi / 8 + np.pi / 4 * np.arange(8)), np.sin(np.pi / 8 + np.pi / 4 * np.arange(8))], 1)
outside = 1.8 * np.stack([np.cos(np.pi / 8 * np.arange(16)), np.sin(np.pi / 8 * np.arange(16))], 1)
p_nowhere = d_prob(np.concatenate([between, outside]))
check(p_nowhere.min() > 0.8, "D learned G's flaw, not the ring: it calls 'real' points where no real point "
      "ever was (between the modes, far outside the ring)",
      f"σ(D(x)) at those 24 points: min {p_nowhere.min():.3f}, mean {p_nowhere.mean():.3f}")
path = plots.plot_2d_field(real_np, fake_np, d_prob, OUT / "d_field_after.png", step=STEPS, extent=extent,
                           resolution=RES, modes=centers, title="trained D: σ(D(x)) = P(real | x)")
show(path)

# %% [markdown]
# **Question 4.1.** D calls points at radius 1.8 "real", though no real point was ever
# there. Is D wrong? What will G do when it is trained against this D (lesson 07), and what happens next?
#
# BEGIN ANSWER
# D is doing its job: its loss only asks it to tell the real batch from *this* G's batch, and "far from the
# centre" does that perfectly. Off the data and off the fakes, nothing in L_D constrains D, so its answer there
# is whatever was easiest to learn. G, climbing σ(D(x)), moves its points out of the purple disc in any
# direction, not necessarily onto the modes (radius 1.8 scores as well as a mode). Then D, trained again
# against the new fakes, turns purple where they now are. The game only forces G onto the data because every
# region G moves to gets re-judged by a D trained on it; one D against one frozen G says little about p_data.
# END ANSWER
#
# **Question 4.2.** L_D started at 2 log 2 and fell towards 0. How low can it go against this G, and what
# would its minimum be if G were perfect, p_g = p_data?
#
# BEGIN ANSWER
# Here the real and fake points do not overlap, so D can push σ(D) → 1 on real and → 0 on fake: the infimum
# of L_D is 0, approached as the logits grow without bound (never reached; the weights keep growing). If
# p_g = p_data, no x tells them apart and the best D is σ(D(x)) = 1/2 everywhere (lesson 05 derives
# D* = p_data / (p_data + p_g)), so min L_D = 2 log 2 ≈ 1.386: where this run started. A D loss that stays near
# 2 log 2 in a GAN means either that G is very good or that D is too weak to tell.
# END ANSWER

# %%
done("D is a classifier; its output is a probability map G will climb.")
